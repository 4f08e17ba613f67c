/*
 * secmx.c — MINIMAL stand-in dispatcher for the wip-dsig branch, written
 * only so that `secmx sign` and `secmx verify` can be built and tested here.
 * The lead's cli/secmx.c (dispatcher, cli_engine, cli_read, cli_progress,
 * cmd_validate, cmd_inspect) replaces this file at merge; keep his.
 *
 * Implements cli.h's helpers: cli_engine, cli_read, cli_progress(_done).
 * Exit status as cli.h: 0, 1 refused, 2 usage or I/O error.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

const char *cli_prog = "secmx";

/* cli_engine: an engine with the default configuration and FLAGS. */
struct engine *cli_engine(const char *schema_dir, unsigned flags)
{
	struct engine_config cfg;
	struct engine *eng = NULL;
	char err[512] = "";
	int rc;

	engine_config_default(&cfg);
	cfg.schema_dir = schema_dir;
	cfg.flags = flags;
	if ((rc = engine_new(&cfg, &eng, err, sizeof(err))) < 0) {
		fprintf(stderr, "%s: %s\n", cli_prog, err[0] ? err : secmx_strerror(rc));
		return NULL;
	}
	return eng;
}

/* cli_read: FILE ("-" = stdin) within the engine's size limit. */
int cli_read(const struct engine *eng, const char *file, char **buf, size_t *len)
{
	struct engine_config cfg;
	int rc;

	(void)eng;
	engine_config_default(&cfg);
	rc = secmx_file_read(file, cfg.limits.max_doc_bytes, buf, len);
	if (rc < 0)
		fprintf(stderr, "%s: %s: %s\n", cli_prog, file, secmx_strerror(rc));
	return rc;
}

/* cli_progress: quiet in this stand-in. */
void cli_progress(size_t n, size_t total, const char *name)
{
	(void)n, (void)total, (void)name;
}

/* cli_progress_done: nothing to clear in this stand-in. */
void cli_progress_done(void)
{
}

/* main: start the engine, run the subcommand named by argv[1]. */
int main(int argc, char **argv)
{
	int rc;

	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		fprintf(argc < 2 ? stderr : stdout, "usage: %s sign|verify [--help] ...\n",
		        cli_prog);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	if (engine_global_init() < 0) {
		fprintf(stderr, "%s: engine start-up failed (xmlsec/OpenSSL)\n", cli_prog);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "sign") == 0)
		rc = cmd_sign(argc - 1, argv + 1);
	else if (strcmp(argv[1], "verify") == 0)
		rc = cmd_verify(argc - 1, argv + 1);
	else {
		fprintf(stderr, "%s: unknown command %s\n", cli_prog, argv[1]);
		rc = EXIT_USAGE;
	}
	engine_global_cleanup();
	return rc;
}
