/*
 * check_bus.c — the bus suite: codec, server, CURVE and SDK, one TCase per
 * concern (tc_*.c), real ZeroMQ sockets over ipc:// and tcp://127.0.0.1.
 */
#include <stdlib.h>

#include "helpers.h"

int main(void)
{
	Suite *s = suite_create("bus");
	SRunner *sr;
	int failed;

	suite_add_tcase(s, tc_codec());
	suite_add_tcase(s, tc_splice());
	suite_add_tcase(s, tc_server());
	suite_add_tcase(s, tc_server_more());
	suite_add_tcase(s, tc_curve());
	suite_add_tcase(s, tc_sdk());
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
