/*
 * cmd_sign.c — `secmx sign`: add an enveloped XML-DSig to a UBL document.
 *
 *   secmx sign --key KEY [--cert CERT] [--pass-env VAR] [-o OUT] FILE
 *
 * KEY is PEM (private key, optionally followed by its certificate chain) or
 * PKCS#12; CERT adds the signing certificate and chain (PEM). The password,
 * if any, comes from the environment variable VAR, never from the command
 * line (argv is visible to every user of the machine). The signed document
 * goes to standard output, or to OUT, written atomically (a temporary file
 * in the same directory, fsync, rename) with mode 0644.
 *
 * Exit status: 0 signed, 1 the document was refused (not well-formed, not
 * UBL, already signed), 2 usage, key or I/O error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* usage: the synopsis and options, to FP. */
static void usage(FILE *fp)
{
	fprintf(fp,
	        "usage: %s sign --key KEY [--cert CERT] [--pass-env VAR] [-o OUT] FILE\n"
	        "  Add an enveloped XML-DSig (exclusive C14N, SHA-256, RSA or ECDSA) in the\n"
	        "  UBL place (ext:UBLExtensions) of FILE (\"-\" for standard input).\n"
	        "  --key KEY       private key: PEM (key, then optional certificates) or PKCS#12\n"
	        "  --cert CERT     signing certificate and chain (PEM), if not in KEY\n"
	        "  --pass-env VAR  read the key's password from environment variable VAR\n"
	        "  -o OUT          write the signed document to OUT (atomically, mode 0644);\n"
	        "                  default standard output\n",
	        cli_prog);
}

/* write_all: the whole buffer to FD. */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* write_atomic: BUF to PATH through a temporary file and rename(2). */
static int write_atomic(const char *path, const char *buf, size_t len)
{
	char *tmp = NULL;
	size_t plen = strlen(path);
	int fd = -1, rc = -1;

	if ((tmp = malloc(plen + 16)) == NULL)
		return -1;
	snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", path);
	if ((fd = mkstemp(tmp)) < 0)
		goto done;
	if (fchmod(fd, 0644) < 0 || write_all(fd, buf, len) < 0 || fsync(fd) < 0)
		goto done;
	if (close(fd) < 0) {
		fd = -1;
		goto done;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		goto done;
	rc = 0;
done:
	if (rc < 0 && fd >= 0)
		close(fd);
	if (rc < 0 && tmp[0] != '\0')
		unlink(tmp);
	free(tmp);
	return rc;
}

/* cmd_sign: see the file comment. */
int cmd_sign(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"key", required_argument, NULL, 'k'},      {"cert", required_argument, NULL, 'c'},
	    {"pass-env", required_argument, NULL, 'p'}, {"output", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
	};
	const char *key_path = NULL, *cert_path = NULL, *pass_env = NULL, *out = NULL;
	const char *password = NULL, *file;
	struct engine *eng = NULL;
	struct engine_key *key = NULL;
	struct engine_doc *doc = NULL;
	struct engine_report *rep = NULL;
	char *buf = NULL, *signed_buf = NULL;
	size_t len = 0, signed_len = 0;
	char err[512] = "";
	int c, rc, status = EXIT_USAGE;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+k:c:p:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			key_path = optarg;
			break;
		case 'c':
			cert_path = optarg;
			break;
		case 'p':
			pass_env = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (key_path == NULL || optind != argc - 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	file = argv[optind];
	if (pass_env != NULL && (password = getenv(pass_env)) == NULL) {
		fprintf(stderr, "%s sign: environment variable %s is not set\n", cli_prog,
		        pass_env);
		return EXIT_USAGE;
	}
	if ((eng = cli_engine(NULL, ENGINE_CFG_NO_SCHEMAS)) == NULL)
		goto done;
	if ((rc = engine_key_load(key_path, cert_path, password, &key, err, sizeof(err))) < 0) {
		fprintf(stderr, "%s sign: %s\n", cli_prog, err[0] ? err : secmx_strerror(rc));
		goto done;
	}
	if (cli_read(eng, file, &buf, &len) < 0)
		goto done;
	if ((rep = engine_report_new()) == NULL)
		goto done;
	status = EXIT_REFUSED;
	if (engine_doc_parse(eng, buf, len, file, &doc, rep) < 0 ||
	    engine_doc_sign(eng, doc, key, rep) < 0) {
		engine_report_print(rep, file, stderr);
		fprintf(stderr, "%s: not signed\n", file);
		goto done;
	}
	status = EXIT_USAGE;
	if (engine_doc_serialize(doc, &signed_buf, &signed_len) < 0) {
		fprintf(stderr, "%s sign: out of memory\n", cli_prog);
		goto done;
	}
	if (out == NULL) {
		if (fwrite(signed_buf, 1, signed_len, stdout) != signed_len ||
		    fflush(stdout) != 0) {
			fprintf(stderr, "%s sign: writing standard output: %s\n", cli_prog,
			        strerror(errno));
			goto done;
		}
	} else if (write_atomic(out, signed_buf, signed_len) < 0) {
		fprintf(stderr, "%s sign: %s: %s\n", cli_prog, out, strerror(errno));
		goto done;
	}
	status = 0;
done:
	free(signed_buf);
	free(buf);
	engine_doc_free(doc);
	engine_report_free(rep);
	engine_key_free(key);
	engine_free(eng);
	return status;
}
