/*
 * secmx.c — the `secmx` command: dispatch to a subcommand, and the helpers
 * the subcommands share (engine set-up, bounded reads, progress on a
 * terminal). Each subcommand lives in cmd_<name>.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

const char *cli_prog = "secmx";

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *summary;
} COMMANDS[] = {
	{"validate", cmd_validate, "validate documents: XSD (e-GIF profile) and business rules"},
	{"inspect", cmd_inspect, "summarise a document: type, ids, parties, totals, references"},
	{"sign", cmd_sign, "add an enveloped XML-DSig signature (UBL signature extension)"},
	{"verify", cmd_verify, "verify a document's signature strictly against a trust store"},
	{"queue", cmd_queue, "list, show, retry, hold, release and remove queue entries"},
	{"txn", cmd_txn, "business transactions: list, show, add documents by hand"},
	{"bus", cmd_bus, "bus administration: keygen makes CURVE key pairs"},
};

static void usage(FILE *fp)
{
	size_t i;

	fprintf(fp, "usage: secmx COMMAND [OPTIONS] [FILE...]\n\ncommands:\n");
	for (i = 0; i < sizeof(COMMANDS) / sizeof(COMMANDS[0]); i++)
		fprintf(fp, "  %-10s %s\n", COMMANDS[i].name, COMMANDS[i].summary);
	fprintf(fp, "\n`secmx COMMAND --help` describes a command; man secmx-COMMAND has more.\n"
		    "Exit status: 0 success, 1 a document was invalid or refused, 2 usage or I/O "
		    "error.\n");
}

struct engine *cli_engine(const char *schema_dir, unsigned flags)
{
	struct engine_config cfg;
	struct engine *eng = NULL;
	char err[1024] = "";
	int rc;

	engine_config_default(&cfg);
	cfg.schema_dir = schema_dir;
	cfg.flags = flags;
	if ((rc = engine_new(&cfg, &eng, err, sizeof(err))) < 0) {
		fprintf(stderr, "%s: cannot start the engine: %s%s%s\n", cli_prog,
			secmx_strerror(rc), *err ? ": " : "", err);
		return NULL;
	}
	return eng;
}

int cli_read(const struct engine *eng, const char *file, char **buf, size_t *len)
{
	struct engine_config def;
	int rc;

	(void)eng;
	engine_config_default(&def);
	rc = secmx_file_read(file, def.limits.max_doc_bytes, buf, len);
	if (rc == SECMX_EIO)
		fprintf(stderr, "%s: %s: %m\n", cli_prog, file);
	else if (rc < 0 && rc != SECMX_ELIMIT)
		fprintf(stderr, "%s: %s: %s\n", cli_prog, file, secmx_strerror(rc));
	return rc;
}

static int progress_shown;

void cli_progress(size_t n, size_t total, const char *name)
{
	if (total < 2 || !isatty(STDERR_FILENO))
		return;
	fprintf(stderr, "\r\033[K[%zu/%zu] %.60s", n, total, name);
	fflush(stderr);
	progress_shown = 1;
}

void cli_progress_done(void)
{
	if (progress_shown) {
		fprintf(stderr, "\r\033[K");
		fflush(stderr);
		progress_shown = 0;
	}
}

int main(int argc, char **argv)
{
	size_t i;
	int rc;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("secmx %s\n", SECMX_VERSION);
		return 0;
	}
	for (i = 0; i < sizeof(COMMANDS) / sizeof(COMMANDS[0]); i++) {
		if (strcmp(argv[1], COMMANDS[i].name) == 0) {
			if (engine_global_init() < 0) {
				fprintf(stderr, "%s: cannot initialise XML/crypto libraries\n",
					cli_prog);
				return EXIT_USAGE;
			}
			rc = COMMANDS[i].fn(argc - 1, argv + 1);
			engine_global_cleanup();
			return rc;
		}
	}
	fprintf(stderr, "%s: unknown command '%s'\n", cli_prog, argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
