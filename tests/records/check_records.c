/*
 * check_records.c — the records archive suite (adapters/records): store
 * atomicity and layout (tc_store.c), the hash chain and verify against each
 * kind of tampering (tc_chain.c), retention and disposal with a fake clock
 * (tc_retention.c), idempotency and export bookkeeping (tc_idem.c), the
 * [records] configuration and its documentation (tc_config.c), bursts in
 * one commit and death inside their flush (tc_batch.c).
 */
#include <stdlib.h>

#include <check.h>

#include "helpers.h"

/* main: run the records suite. */
int main(void)
{
	Suite *s = suite_create("records");
	SRunner *sr;
	int failed;

	suite_add_tcase(s, tc_store());
	suite_add_tcase(s, tc_chain());
	suite_add_tcase(s, tc_retention());
	suite_add_tcase(s, tc_idem());
	suite_add_tcase(s, tc_config());
	suite_add_tcase(s, tc_batch());
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
