/*
 * cli.h — private to cli/: the subcommands of `secmx` and the helpers they
 * share. Each subcommand lives in cmd_<name>.c and returns the process exit
 * status (0 success, 1 document refused/invalid, 2 usage or I/O error).
 */
#ifndef SECMX_CLI_H
#define SECMX_CLI_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine.h"

#define EXIT_REFUSED 1
#define EXIT_USAGE 2

int cmd_validate(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_queue(int argc, char **argv);
int cmd_bus(int argc, char **argv);
int cmd_txn(int argc, char **argv);

/* cli_engine: build the engine for a command (schema_dir may be NULL; flags
 * as struct engine_config.flags). Prints the reason and returns NULL on
 * failure. Free with engine_free(). */
struct engine *cli_engine(const char *schema_dir, unsigned flags);

/* cli_read: read FILE ("-" = stdin) up to the engine's size limit. On an I/O
 * error prints the reason and returns SECMX_EIO; a file over the limit
 * returns SECMX_ELIMIT quietly (the caller reports it as a finding).
 * Caller frees *BUF. */
int cli_read(const struct engine *eng, const char *file, char **buf, size_t *len);

/* cli_count: TEXT as a decimal count (strtoul) into *OUT; 0, or -1
 * (nothing set) when it is not a whole number. It must start with a digit:
 * strtoul would take "-1" as ULONG_MAX, and a sign or blank is not a count.
 * Inline: the commands are also linked on their own into tests. */
static inline int cli_count(const char *text, unsigned long *out)
{
	unsigned long v;
	char *end;

	if (text == NULL || *text < '0' || *text > '9')
		return -1;
	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno || *end != '\0' || end == text)
		return -1;
	*out = v;
	return 0;
}

/* cli_progress: on a terminal (stderr), show "N/TOTAL name"; quiet otherwise.
 * cli_progress_done clears the line. */
void cli_progress(size_t n, size_t total, const char *name);
void cli_progress_done(void);

/* The program name for messages ("secmx"). */
extern const char *cli_prog;

#endif
