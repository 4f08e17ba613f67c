/*
 * cmd_inspect.c — `secmx inspect`: what a document is and what it refers to.
 * Text for people, --json for programs. Exit 0, 1 when a document cannot be
 * parsed or classified, 2 on usage or I/O error.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void help(FILE *fp)
{
	fprintf(fp, "usage: secmx inspect [--json] FILE...\n\n"
		    "Summarise documents: type, profile, ids, issue date, parties and their\n"
		    "identifiers, currency, totals, and references to other documents.\n"
		    "FILE '-' reads standard input.\n\n"
		    "  --json   one JSON object per line per file\n");
}

/* print_text: the JSON summary, flattened to "key: value" lines. */
static void print_text(const char *prefix, json_t *v)
{
	const char *k;
	json_t *item;
	size_t i;
	char sub[512];

	if (json_is_object(v)) {
		json_object_foreach(v, k, item)
		{
			snprintf(sub, sizeof(sub), "%s%s%s", prefix, *prefix ? "." : "", k);
			print_text(sub, item);
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, item)
		{
			snprintf(sub, sizeof(sub), "%s[%zu]", prefix, i);
			print_text(sub, item);
		}
	} else if (json_is_string(v)) {
		printf("%-40s %s\n", prefix, json_string_value(v));
	} else if (json_is_integer(v)) {
		printf("%-40s %lld\n", prefix, (long long)json_integer_value(v));
	} else if (json_is_boolean(v)) {
		printf("%-40s %s\n", prefix, json_is_true(v) ? "true" : "false");
	}
}

static int inspect_one(const struct engine *eng, const char *file, int json)
{
	struct engine_report *rep = engine_report_new();
	struct engine_doc *doc = NULL;
	json_t *sum = NULL;
	char *buf = NULL;
	size_t len = 0;
	int rc, status = EXIT_REFUSED;

	rc = cli_read(eng, file, &buf, &len);
	if (rc < 0 && rc != SECMX_ELIMIT) {
		status = EXIT_USAGE;
		goto done;
	}
	if (rc == SECMX_ELIMIT)
		engine_report_add(rep, "XML-LIMIT-SIZE", ENGINE_FATAL, 0, "",
				  "document is larger than the limit max_doc_bytes");
	else if ((rc = engine_doc_parse(eng, buf, len, file, &doc, rep)) == 0 &&
		 (rc = engine_doc_classify(eng, doc, rep)) >= 0)
		sum = engine_doc_inspect(doc);
	if (sum == NULL && rc == 0)
		rc = SECMX_ENOMEM;
	if (sum != NULL) {
		json_object_set_new(sum, "file", json_string(file));
		status = 0;
	} else {
		sum = json_pack("{s:s, s:o}", "file", file, "findings", engine_report_json(rep));
	}
	if (json) {
		char *line = json_dumps(sum, JSON_COMPACT | JSON_ENSURE_ASCII);
		if (line)
			puts(line);
		free(line);
	} else if (status == 0) {
		print_text("", sum);
		putchar('\n');
	} else {
		engine_report_print(rep, file, stdout);
	}
done:
	json_decref(sum);
	engine_doc_free(doc);
	engine_report_free(rep);
	free(buf);
	return status;
}

int cmd_inspect(int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct engine *eng;
	int json = 0, c, i, worst = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'h': help(stdout); return 0;
		default: help(stderr); return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		help(stderr);
		return EXIT_USAGE;
	}
	if ((eng = cli_engine(NULL, ENGINE_CFG_NO_SCHEMAS)) == NULL)
		return EXIT_USAGE;
	for (i = optind; i < argc; i++) {
		int st;

		cli_progress((size_t)(i - optind + 1), (size_t)(argc - optind), argv[i]);
		st = inspect_one(eng, argv[i], json);
		if (st > worst)
			worst = st;
	}
	cli_progress_done();
	engine_free(eng);
	return worst;
}
