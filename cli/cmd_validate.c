/*
 * cmd_validate.c — `secmx validate`: parse, classify, XSD-validate and run
 * the business rules on each file; report as text or JSON lines.
 *
 * A regular file within the size limit is parsed straight from its descriptor
 * (engine_doc_parse_fd, ENGINE_PARSE_VALIDATE_ONLY: ignorable whitespace is
 * not kept), so the input is never held whole beside the tree and the tree is
 * a third smaller; standard input and anything else are read into memory
 * first and parsed as before. The engine loads rule sets on demand
 * (ENGINE_CFG_RULES_ON_DEMAND): only the profiles of the files given. With
 * a single file, the engine with the compiled schema set is freed after the
 * XSD stage and a rules-only engine runs the rule stage (validate()), so the
 * schema set's memory serves the rule stage (docs/memory.md).
 * A regular file of --large-over bytes or more (default 4 MiB) is validated
 * in the large-document mode (validate_large(): XSD streaming, then the rules
 * a batch of lines at a time over a projection), which prints exactly what
 * the whole-tree stages print or hands the file back to them.
 *
 * Exit: 0 every file valid (warnings allowed), 1 any invalid, 2 usage or
 * I/O error (the highest applies).
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* Files this size or larger are validated in the large-document mode
 * (docs/memory.md), which gives the whole-tree stages' output or, when it
 * cannot, hands the file to them. */
#define LARGE_OVER_DEFAULT (4 * 1024 * 1024)

static void help(FILE *fp)
{
	fprintf(fp,
		"usage: secmx validate [--json] [--skip-schema] [--schemas DIR] [--profile NAME] "
		"FILE...\n"
		"       secmx validate --list-profiles\n"
		"       secmx validate --list-rules PROFILE [--json]\n\n"
		"Validate UBL 2.1 documents: well-formedness under strict limits, the document\n"
		"type, XSD validation against the e-GIF profile (or --schemas DIR), then the\n"
		"business rules of the document's profile. FILE '-' reads standard input.\n\n"
		"  --json            one JSON object per line per file\n"
		"  --skip-schema     business rules only, no XSD stage (for fragments)\n"
		"  --schemas DIR     another schema set (e.g. the official UBL 2.1/2.3 xsdrt)\n"
		"  --profile NAME    rule set to apply when the document does not name one\n"
		"  --list-profiles   list the profiles\n"
		"  --list-rules P    list the rules of profile P, implemented or not\n"
		"  -q, --quiet       text mode: print nothing for valid files\n"
		"  --large-over N    large-document mode for files of N bytes or more\n"
		"                    (default %d; 0: every file; 'never')\n\n"
		"Exit status: 0 all valid (warnings allowed), 1 any invalid, 2 usage or I/O error.\n",
		LARGE_OVER_DEFAULT);
}

static int list_profiles(void)
{
	size_t i;

	for (i = 0; i < engine_profile_count(); i++)
		printf("%-24s %s\n", engine_profile_at(i)->name, engine_profile_at(i)->title);
	return 0;
}

/* list_rules: every rule PROFILE applies, implemented or not. */
static int list_rules(const char *profile, int json)
{
	struct engine *eng = cli_engine(NULL, ENGINE_CFG_NO_SCHEMAS);
	size_t i, n, done = 0;

	if (eng == NULL)
		return EXIT_USAGE;
	n = engine_rules_count(eng, profile);
	for (i = 0; i < n; i++) {
		const struct engine_rule_info *r = engine_rules_at(eng, profile, i);

		if (r->implemented)
			done++;
		if (json) {
			json_t *o = json_pack("{s:s, s:s, s:s, s:b, s:s, s:s, s:s, s:I}", "rule",
					      r->id, "severity",
					      r->severity == ENGINE_FATAL ? "fatal" : "warning",
					      "kind", r->kind, "implemented", r->implemented,
					      "message", r->message ? r->message : "", "context",
					      r->context ? r->context : "", "file",
					      r->file ? r->file : "", "line", (json_int_t)r->line);
			char *line;

			if (o && r->reason)
				json_object_set_new(o, "reason", json_string(r->reason));
			line = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
			if (line)
				puts(line);
			free(line);
			json_decref(o);
		} else {
			printf("%-28s %-7s %-15s %s:%ld  %s%s%s\n", r->id,
			       r->severity == ENGINE_FATAL ? "fatal" : "warning",
			       r->implemented ? "implemented" : "NOT-IMPLEMENTED",
			       r->file ? r->file : "", r->line, r->message ? r->message : "",
			       r->reason ? " -- " : "", r->reason ? r->reason : "");
		}
	}
	if (!json)
		printf("# profile %s: %zu rules, %zu implemented, %zu not implemented\n", profile,
		       n, done, n - done);
	engine_free(eng);
	return 0;
}

/* emit_json: one line for one file. */
static void emit_json(const char *file, const struct engine_doc *doc, int valid,
		      const struct engine_report *rep, const char *io_error)
{
	const struct engine_doctype *t = doc ? engine_doc_type(doc) : NULL;
	json_t *o = json_object();
	char *line;

	json_object_set_new(o, "file", json_string(file));
	json_object_set_new(o, "type", t ? json_string(t->name) : json_null());
	json_object_set_new(o, "profile",
			    t ? json_string(engine_doc_profile(doc)) : json_null());
	json_object_set_new(o, "valid", json_boolean(valid));
	if (io_error)
		json_object_set_new(o, "error", json_string(io_error));
	json_object_set_new(o, "findings", engine_report_json(rep));
	line = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (line) {
		puts(line);
		free(line);
	}
	json_decref(o);
}

static void emit_text(const char *file, const struct engine_doc *doc, int valid,
		      const struct engine_report *rep, int quiet)
{
	const struct engine_doctype *t = doc ? engine_doc_type(doc) : NULL;

	engine_report_print(rep, file, stdout);
	if (valid && quiet)
		return;
	printf("%s: %s", file, valid ? "valid" : "INVALID");
	if (t)
		printf(" (%s, profile %s)", t->name, engine_doc_profile(doc));
	printf(", %zu fatal, %zu warning\n", engine_report_fatal_count(rep),
	       engine_report_count(rep) - engine_report_fatal_count(rep));
}

/* open_streamable: FILE opened for engine_doc_parse_fd, or -1 when it is not a
 * regular file of 1 byte up to the size limit (cli_read handles those). */
static int open_streamable(const char *file)
{
	struct engine_config def;
	struct stat sb;
	int fd;

	if (strcmp(file, "-") == 0 || (fd = open(file, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	engine_config_default(&def);
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || sb.st_size <= 0 ||
	    (unsigned long long)sb.st_size > def.limits.max_doc_bytes) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The run's engine. With one file to validate, the compiled schema set is
 * not needed after its XSD stage: a rules-only engine takes over for the
 * rule stage, so the schema set's heap (6 MiB) is free for the rule stage
 * to use (docs/memory.md). */
struct run_engine {
	struct engine *eng;     /* schemas unless --skip-schema; rule sets on demand */
	unsigned eflags;        /* what ENG was built with */
	int drop_schemas;       /* one file only: swap ENG after the XSD stage */
	const char *schemas;    /* --schemas (to build ENG again) */
	long long large_over;   /* large-document mode from this size on; -1 never */
};

/* validate: engine_doc_validate() of DOC with RE's engine; with
 * RE->drop_schemas the same two stages, the rules by a rules-only engine
 * that replaces RE->eng once the XSD stage is done. Same findings and
 * result either way. */
static int validate(struct run_engine *re, struct engine_doc *doc, unsigned vflags,
		    const char *profile, struct engine_report *rep)
{
	size_t fatal_before = engine_report_fatal_count(rep);
	struct engine *rules;
	int rc;

	if (!re->drop_schemas || (vflags & (ENGINE_VAL_SKIP_SCHEMA | ENGINE_VAL_SKIP_RULES)))
		return engine_doc_validate(re->eng, doc, vflags, profile, rep);
	/* As engine_doc_validate: classify, XSD; a failure other than an
	 * invalid document ends it there. */
	rc = engine_doc_validate(re->eng, doc, vflags | ENGINE_VAL_SKIP_RULES, profile, rep);
	if (rc < 0 && rc != SECMX_EINVALID)
		return rc;
	re->drop_schemas = 0;
	if ((rules = cli_engine(NULL, re->eflags | ENGINE_CFG_NO_SCHEMAS)) != NULL) {
		engine_free(re->eng);
		re->eng = rules;
	}
	rc = engine_doc_validate(re->eng, doc, vflags | ENGINE_VAL_SKIP_SCHEMA, profile, rep);
	if (rc < 0 && rc != SECMX_EINVALID)
		return rc;
	return engine_report_fatal_count(rep) > fatal_before ? SECMX_EINVALID : SECMX_OK;
}

/* validate_large: the large-document mode (docs/memory.md) on FD: the
 * schema check streaming, then the rule stage a batch of lines at a time
 * over a projection. ENGINE_LARGE_FALLBACK when it cannot answer for this
 * document; RE->eng then has its schema set again and FD must be read anew. */
static int validate_large(struct run_engine *re, int fd, const char *file, unsigned vflags,
			  const char *profile, struct engine_doc **doc, struct engine_report *rep)
{
	struct engine *rules;
	char why[512];
	int rc, swapped = 0;

	if (!(vflags & ENGINE_VAL_SKIP_SCHEMA)) {
		rc = engine_doc_schema_stream_fd(re->eng, fd, file);
		if (rc != 1 && getenv("SECMX_LARGE_WHY") != NULL)
			fprintf(stderr, "%s: large-document mode not used: not schema-valid "
				"(streaming)\n", file);
		if (lseek(fd, 0, SEEK_SET) != 0 || rc != 1)
			return ENGINE_LARGE_FALLBACK;
		if (re->drop_schemas &&
		    (rules = cli_engine(NULL, re->eflags | ENGINE_CFG_NO_SCHEMAS)) != NULL) {
			engine_free(re->eng);
			re->eng = rules;
			swapped = 1;
		}
	}
	rc = engine_doc_validate_large_fd(re->eng, fd, file, profile, doc, rep, why, sizeof(why));
	if (rc == ENGINE_LARGE_FALLBACK && getenv("SECMX_LARGE_WHY") != NULL)
		fprintf(stderr, "%s: large-document mode not used: %s\n", file, why);
	if (rc != ENGINE_LARGE_FALLBACK) {
		re->drop_schemas = 0;
		return rc;
	}
	if (lseek(fd, 0, SEEK_SET) != 0)
		return SECMX_EIO;
	if (swapped) {
		/* The whole-tree stages need the schema set again. */
		engine_free(re->eng);
		if ((re->eng = cli_engine(re->schemas, re->eflags)) == NULL)
			return SECMX_ENOMEM;
	}
	return ENGINE_LARGE_FALLBACK;
}

/* validate_one: returns 0 valid, 1 invalid, 2 I/O error. */
static int validate_one(struct run_engine *re, const char *file, unsigned vflags,
			const char *profile, int json, int quiet)
{
	struct engine_report *rep = engine_report_new();
	struct engine_doc *doc = NULL;
	char *buf = NULL;
	size_t len = 0;
	int rc, status, fd;

	if (rep == NULL)
		return EXIT_USAGE;
	if ((fd = open_streamable(file)) >= 0) {
		struct stat sb;

		if (re->large_over >= 0 && fstat(fd, &sb) == 0 && sb.st_size >= re->large_over) {
			rc = validate_large(re, fd, file, vflags, profile, &doc, rep);
			if (rc != ENGINE_LARGE_FALLBACK) {
				close(fd);
				goto validated;
			}
		}
		rc = engine_doc_parse_fd(re->eng, fd, file, ENGINE_PARSE_VALIDATE_ONLY, &doc, rep);
		close(fd);
		goto parsed;
	}
	rc = cli_read(re->eng, file, &buf, &len);
	if (rc == SECMX_ELIMIT) {
		struct engine_config def;
		engine_config_default(&def);
		engine_report_add(rep, "XML-LIMIT-SIZE", ENGINE_FATAL, 0, "",
				  "document is larger than %zu bytes (limit max_doc_bytes)",
				  def.limits.max_doc_bytes);
		status = EXIT_REFUSED;
		goto out;
	}
	if (rc < 0) {
		if (json)
			emit_json(file, NULL, 0, rep, secmx_strerror(rc));
		status = EXIT_USAGE;
		goto done;
	}
	rc = engine_doc_parse(re->eng, buf, len, file, &doc, rep);
parsed:
	if (rc == 0)
		rc = validate(re, doc, vflags, profile, rep);
validated:
	status = rc == 0 ? 0 : rc == SECMX_EIO ? EXIT_USAGE : EXIT_REFUSED;
	if (rc < 0 && engine_report_fatal_count(rep) == 0)
		engine_report_add(rep, "SECMX-ERROR", ENGINE_FATAL, 0, "", "%s",
				  secmx_strerror(rc));
out:
	if (json)
		emit_json(file, doc, status == 0, rep, NULL);
	else
		emit_text(file, doc, status == 0, rep, quiet);
done:
	engine_doc_free(doc);
	engine_report_free(rep);
	free(buf);
	return status;
}

int cmd_validate(int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"skip-schema", no_argument, NULL, 'S'},
		{"schemas", required_argument, NULL, 's'},
		{"profile", required_argument, NULL, 'p'},
		{"list-profiles", no_argument, NULL, 'P'},
		{"list-rules", required_argument, NULL, 'R'},
		{"quiet", no_argument, NULL, 'q'},
		{"large-over", required_argument, NULL, 'L'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *schemas = NULL, *profile = NULL, *list = NULL;
	int json = 0, quiet = 0, c, i, worst = 0;
	unsigned vflags = 0, eflags = 0;
	struct run_engine re;

	optind = 1;
	re.large_over = LARGE_OVER_DEFAULT;
	while ((c = getopt_long(argc, argv, "jSs:p:PR:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'S': vflags |= ENGINE_VAL_SKIP_SCHEMA; break;
		case 's': schemas = optarg; break;
		case 'p': profile = optarg; break;
		case 'P': return list_profiles();
		case 'R': list = optarg; break;
		case 'q': quiet = 1; break;
		case 'L':
			if (strcmp(optarg, "never") == 0) {
				re.large_over = -1;
			} else {
				char *end;
				long long v = strtoll(optarg, &end, 10);

				if (end == optarg || *end != '\0' || v < 0) {
					fprintf(stderr, "%s validate: --large-over takes a size in "
						"bytes or 'never'\n", cli_prog);
					return EXIT_USAGE;
				}
				re.large_over = v;
			}
			break;
		case 'h': help(stdout); return 0;
		default: help(stderr); return EXIT_USAGE;
		}
	}
	if (profile && !engine_profile_find(profile)) {
		fprintf(stderr, "%s validate: unknown profile '%s' (see --list-profiles)\n",
			cli_prog, profile);
		return EXIT_USAGE;
	}
	if (list) {
		if (!engine_profile_find(list)) {
			fprintf(stderr, "%s validate: unknown profile '%s' (see --list-profiles)\n",
				cli_prog, list);
			return EXIT_USAGE;
		}
		return list_rules(list, json);
	}
	if (optind >= argc) {
		help(stderr);
		return EXIT_USAGE;
	}
	if (vflags & ENGINE_VAL_SKIP_SCHEMA)
		eflags |= ENGINE_CFG_NO_SCHEMAS; /* nothing to compile */
	/* Only the profiles the files need: a one-shot run does not hold every
	 * profile's rules (docs/memory.md). */
	eflags |= ENGINE_CFG_RULES_ON_DEMAND;
	if ((re.eng = cli_engine(schemas, eflags)) == NULL)
		return EXIT_USAGE;
	re.eflags = eflags;
	re.schemas = schemas;
	re.drop_schemas = argc - optind == 1;
	for (i = optind; i < argc; i++) {
		int st;

		cli_progress((size_t)(i - optind + 1), (size_t)(argc - optind), argv[i]);
		st = validate_one(&re, argv[i], vflags, profile, json, quiet);
		if (st != 0)
			cli_progress_done();
		if (st > worst)
			worst = st;
	}
	cli_progress_done();
	engine_free(re.eng);
	return worst;
}
