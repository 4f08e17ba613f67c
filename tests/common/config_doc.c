/*
 * config_doc.c — the configuration reference in docs/configuration.md.
 *
 * Usage:
 *   config-doc               print the generated reference (Markdown)
 *   config-doc --check FILE  exit 1 when a key of any table is not named in
 *                            FILE as `section.key`, or when the text between
 *                            the markers below differs from the generated one
 *   config-doc --write FILE  replace the text between the markers
 *
 * Markers: "<!-- config-doc:begin -->" and "<!-- config-doc:end -->", each on
 * its own line. The tables documented are listed in tables[]; the daemon's
 * table joins them when it exists.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "daemon.h"

/* The daemon's table includes [engine] (config_engine_table) as a sub-table. */
static const struct config_table *const tables[] = {&daemon_config_table};
#define NTABLES (sizeof(tables) / sizeof(tables[0]))

static const char begin_mark[] = "<!-- config-doc:begin -->\n";
static const char end_mark[] = "<!-- config-doc:end -->\n";

/* generate: the reference of every table, in a new string (caller frees). */
static char *generate(void)
{
	char *out = NULL;
	size_t len = 0, i;
	FILE *mem = open_memstream(&out, &len);

	if (mem == NULL)
		return NULL;
	for (i = 0; i < NTABLES; i++)
		config_doc(tables[i], mem);
	if (fclose(mem) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* block: find the generated block of DOC; *START and *END bound its text. */
static int block(const char *doc, const char **start, const char **end)
{
	const char *b = strstr(doc, begin_mark), *e;

	if (b == NULL)
		return -1;
	b += strlen(begin_mark);
	if ((e = strstr(b, end_mark)) == NULL)
		return -1;
	*start = b;
	*end = e;
	return 0;
}

int main(int argc, char **argv)
{
	char *gen = NULL, *doc = NULL, missing[2048];
	const char *s, *e;
	size_t len, i;
	int rc = 2, n;

	if ((gen = generate()) == NULL) {
		fprintf(stderr, "config-doc: out of memory\n");
		return 2;
	}
	if (argc == 1) {
		fputs(gen, stdout);
		rc = 0;
		goto done;
	}
	if (argc != 3 || (strcmp(argv[1], "--check") != 0 && strcmp(argv[1], "--write") != 0)) {
		fprintf(stderr, "usage: config-doc [--check FILE | --write FILE]\n");
		goto done;
	}
	if (secmx_file_read(argv[2], 1u << 20, &doc, &len) < 0) {
		fprintf(stderr, "config-doc: %s: cannot read\n", argv[2]);
		goto done;
	}
	if (block(doc, &s, &e) < 0) {
		fprintf(stderr, "config-doc: %s: no %.*s ... %.*s block\n", argv[2],
		        (int)strlen(begin_mark) - 1, begin_mark, (int)strlen(end_mark) - 1,
		        end_mark);
		goto done;
	}
	if (strcmp(argv[1], "--write") == 0) {
		FILE *fp = fopen(argv[2], "w");

		if (fp == NULL || fwrite(doc, 1, (size_t)(s - doc), fp) != (size_t)(s - doc) ||
		    fputs(gen, fp) < 0 || fputs(e, fp) < 0 || fclose(fp) != 0) {
			fprintf(stderr, "config-doc: %s: cannot write\n", argv[2]);
			goto done;
		}
		rc = 0;
		goto done;
	}
	rc = 0;
	for (i = 0; i < NTABLES; i++) {
		n = config_doc_missing(tables[i], doc, missing, sizeof(missing));
		if (n != 0) {
			fprintf(stderr, "config-doc: %s does not document %d key(s) of [%s]: %s\n",
			        argv[2], n, tables[i]->name, missing);
			rc = 1;
		}
	}
	if ((size_t)(e - s) != strlen(gen) || strncmp(s, gen, strlen(gen)) != 0) {
		fprintf(stderr,
		        "config-doc: the reference in %s is stale; run: build/tests/config-doc "
		        "--write %s\n",
		        argv[2], argv[2]);
		rc = 1;
	}
	if (rc == 0)
		printf("config-doc: %s documents every key and is current\n", argv[2]);
done:
	free(doc);
	free(gen);
	return rc;
}
