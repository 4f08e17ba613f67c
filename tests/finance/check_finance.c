/*
 * check_finance.c — the secmx-finance suite: the UBL reader and envelope
 * decision, the ledger on SQLite and on a real PostgreSQL server, the CSV
 * layout, the remittance advice (validated by the secmx command), and the
 * configuration table's documentation. One TCase per concern (tc_*.c).
 */
#include <stdlib.h>

#include "helpers.h"

int main(void)
{
	Suite *s = suite_create("finance");
	SRunner *sr;
	int failed;

	suite_add_tcase(s, tc_ubl());
	suite_add_tcase(s, tc_ledger());
	suite_add_tcase(s, tc_csv());
	suite_add_tcase(s, tc_remit());
	suite_add_tcase(s, tc_config());
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
