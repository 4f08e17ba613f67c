/*
 * cmd_verify.c — `secmx verify`: strict XML-DSig verification of documents.
 *
 *   secmx verify --trust CA_FILE_OR_DIR [--crl CRL] [--json] [--at TIME]
 *                [--allow-sha1] FILE...
 *
 * Each FILE is verified under the strict profile (docs/signatures.md).
 * Text output: "FILE: verified (SUBJECT)" or the findings then
 * "FILE: refused". With --json, one JSON object per line per file:
 * {"file", "verified", "signer": {subject, issuer, serial, sig_alg} or null,
 *  "findings": [{rule, severity, message, line, path}]}.
 * TIME is "YYYY-MM-DD", "YYYY-MM-DDTHH:MM:SS[Z]" (UTC) or "@SECONDS".
 *
 * Exit status: 0 every file verified, 1 at least one refused, 2 usage, trust
 * store or I/O error (the worst status wins).
 */
#define _GNU_SOURCE /* strptime, timegm */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

/* usage: the synopsis and options, to FP. */
static void usage(FILE *fp)
{
	fprintf(fp,
	        "usage: %s verify --trust CA_FILE_OR_DIR [--crl CRL] [--json] [--at TIME]\n"
	        "                    [--allow-sha1] FILE...\n"
	        "  Verify the one enveloped XML-DSig of each FILE under the strict profile:\n"
	        "  the whole document (Reference URI=\"\"), in the UBL place, only the\n"
	        "  enveloped and C14N transforms, RSA/ECDSA with SHA-2, the signer's X.509\n"
	        "  certificate chaining to the trust anchors.\n"
	        "  --trust PATH   trust anchors: a PEM/DER file or a directory of them\n"
	        "  --crl CRL      check every certificate of the chain against these CRLs\n"
	        "  --json         one JSON object per file and line\n"
	        "  --at TIME      verify as of TIME (YYYY-MM-DD[THH:MM:SS[Z]] UTC, or @SECONDS)\n"
	        "  --allow-sha1   accept SHA-1 digests and signature methods (legacy)\n"
	        "Exit status: 0 all verified, 1 a signature was refused, 2 usage or I/O error.\n",
	        cli_prog);
}

/* parse_time: TIME as described in the file comment; -1 when malformed. */
static time_t parse_time(const char *s)
{
	static const char *const formats[] = {
	    "%Y-%m-%dT%H:%M:%SZ",
	    "%Y-%m-%dT%H:%M:%S",
	    "%Y-%m-%d %H:%M:%S",
	    "%Y-%m-%d",
	};
	struct tm tm;
	size_t i;
	char *end;

	if (s[0] == '@') {
		long long v;
		errno = 0;
		v = strtoll(s + 1, &end, 10);
		if (errno != 0 || end == s + 1 || *end != '\0' || v <= 0)
			return -1;
		return (time_t)v;
	}
	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, formats[i], &tm);
		if (end != NULL && *end == '\0')
			return timegm(&tm);
	}
	return -1;
}

/* print_json: one line for FILE. */
static void print_json(const char *file, int verified, const struct engine_signer *s,
                       const struct engine_report *rep)
{
	json_t *o = json_object(), *f = engine_report_json(rep), *sg;
	char *line;

	if (o == NULL || f == NULL) {
		json_decref(o);
		json_decref(f);
		fprintf(stderr, "%s verify: out of memory\n", cli_prog);
		return;
	}
	sg = verified ? json_pack("{s:s, s:s, s:s, s:s}", "subject", s->subject, "issuer",
	                          s->issuer, "serial", s->serial, "sig_alg", s->sig_alg)
	              : json_null();
	json_object_set_new(o, "file", json_string(file));
	json_object_set_new(o, "verified", json_boolean(verified));
	json_object_set_new(o, "signer", sg ? sg : json_null());
	json_object_set_new(o, "findings", f);
	if ((line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER)) != NULL) {
		puts(line);
		free(line);
	}
	json_decref(o);
}

/* verify_one: one file; returns its exit status. */
static int verify_one(const struct engine *eng, const struct engine_trust *trust,
                      const struct engine_verify_opts *vo, const char *file, int json)
{
	struct engine_report *rep = engine_report_new();
	struct engine_doc *doc = NULL;
	struct engine_signer signer;
	char *buf = NULL;
	size_t len = 0;
	int rc, status;

	memset(&signer, 0, sizeof(signer));
	if (rep == NULL) {
		fprintf(stderr, "%s verify: out of memory\n", cli_prog);
		return EXIT_USAGE;
	}
	if (cli_read(eng, file, &buf, &len) < 0) {
		engine_report_add(rep, "IO", ENGINE_FATAL, 0, "", "cannot read the file");
		status = EXIT_USAGE;
		goto out;
	}
	status = EXIT_REFUSED;
	if ((rc = engine_doc_parse(eng, buf, len, file, &doc, rep)) < 0)
		goto out;
	rc = engine_doc_verify(eng, doc, trust, vo, rep, &signer);
	if (rc == SECMX_OK)
		status = 0;
	else if (rc != SECMX_ESIG)
		engine_report_add(rep, "DSIG-ERROR", ENGINE_FATAL, 0, "", "verification failed: %s",
		                  secmx_strerror(rc));
out:
	if (json) {
		print_json(file, status == 0, &signer, rep);
	} else if (status == 0) {
		printf("%s: verified (%s)\n", file, signer.subject);
	} else {
		engine_report_print(rep, file, stdout);
		printf("%s: refused\n", file);
	}
	engine_doc_free(doc);
	engine_report_free(rep);
	free(buf);
	return status;
}

/* cmd_verify: see the file comment. */
int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"trust", required_argument, NULL, 't'},
	    {"crl", required_argument, NULL, 'c'},
	    {"json", no_argument, NULL, 'j'},
	    {"at", required_argument, NULL, 'a'},
	    {"allow-sha1", no_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *trust_path = NULL, *crl_path = NULL;
	struct engine_verify_opts vo = {0, 0};
	struct engine_trust *trust = NULL;
	struct engine *eng = NULL;
	char err[512] = "";
	int c, i, json = 0, status = EXIT_USAGE, s, rc;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+t:c:ja:sh", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			trust_path = optarg;
			break;
		case 'c':
			crl_path = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 's':
			vo.flags |= ENGINE_CFG_ALLOW_SHA1;
			break;
		case 'a':
			if ((vo.at = parse_time(optarg)) == (time_t)-1) {
				fprintf(stderr, "%s verify: --at %s: not a time\n", cli_prog,
				        optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (trust_path == NULL || optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if ((rc = engine_trust_load(trust_path, crl_path, &trust, err, sizeof(err))) < 0) {
		fprintf(stderr, "%s verify: %s\n", cli_prog, err[0] ? err : secmx_strerror(rc));
		return EXIT_USAGE;
	}
	if ((eng = cli_engine(NULL, ENGINE_CFG_NO_SCHEMAS)) == NULL)
		goto done;
	status = 0;
	for (i = optind; i < argc; i++) {
		cli_progress((size_t)(i - optind + 1), (size_t)(argc - optind), argv[i]);
		s = verify_one(eng, trust, &vo, argv[i], json);
		if (s > status)
			status = s;
	}
	cli_progress_done();
	if (fflush(stdout) != 0)
		status = EXIT_USAGE;
done:
	engine_free(eng);
	engine_trust_free(trust);
	return status;
}
