/*
 * cmd_verify.c — `secmx verify`. PLACEHOLDER until the XML-DSig work lands.
 */
#include <stdio.h>

#include "cli.h"

int cmd_verify(int argc, char **argv)
{
	(void)argc, (void)argv;
	fprintf(stderr, "%s verify: not available in this build\n", cli_prog);
	return EXIT_USAGE;
}
