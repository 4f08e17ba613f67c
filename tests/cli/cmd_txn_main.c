/*
 * cmd_txn_main.c — runs cli/cmd_txn.c on its own (argv as `secmx txn ...`
 * would pass it, with the library set-up the dispatcher does), so its test
 * does not depend on the dispatcher table.
 */
#include <stdio.h>

#include "cli.h"

int cmd_txn(int argc, char **argv); /* cli.h gets it when the dispatcher does */

const char *cli_prog = "secmx";

int main(int argc, char **argv)
{
	int rc;

	if (engine_global_init() < 0) {
		fprintf(stderr, "%s: cannot initialise XML/crypto libraries\n", cli_prog);
		return EXIT_USAGE;
	}
	rc = cmd_txn(argc, argv); /* argv[0] stands for "txn" */
	engine_global_cleanup();
	return rc;
}
