/*
 * cmd_sign.c — `secmx sign`. PLACEHOLDER until the XML-DSig work lands.
 */
#include <stdio.h>

#include "cli.h"

int cmd_sign(int argc, char **argv)
{
	(void)argc, (void)argv;
	fprintf(stderr, "%s sign: not available in this build\n", cli_prog);
	return EXIT_USAGE;
}
