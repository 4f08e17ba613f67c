/*
 * cmd_bus.c — `secmx bus`: bus administration.
 *
 *   secmx bus keygen [--out BASENAME]
 *       Make a CURVE key pair for the bus (the server's, or an adapter's):
 *       BASENAME.pub (Z85 public key, mode 0644) and BASENAME.key (Z85
 *       secret key, mode 0600, never overwritten). BASENAME defaults to
 *       "secmx-bus". Prints the public key (the line to add to the server's
 *       allow-list, for an adapter key) and the file names; never the secret.
 *
 * Exit status: 0 success, 2 usage or I/O error (cli.h).
 */
#include <stdio.h>
#include <string.h>

#include "bus.h"
#include "cli.h"

/* usage: the synopsis. */
static void usage(FILE *fp)
{
	fprintf(fp, "usage: secmx bus keygen [--out BASENAME]\n"
		    "  keygen  make a CURVE key pair: BASENAME.pub and BASENAME.key (mode 0600)\n"
		    "          (default BASENAME: secmx-bus); prints the public key\n");
}

/* keygen: `secmx bus keygen`. */
static int keygen(int argc, char **argv)
{
	const char *base = "secmx-bus";
	char pub[41], err[512] = "";
	int i, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
			base = argv[++i];
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "secmx bus keygen: unexpected argument '%s'\n", argv[i]);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (!*base) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if ((rc = bus_keygen(base, pub, err, sizeof(err))) < 0) {
		fprintf(stderr, "secmx bus keygen: %s: %s\n", secmx_strerror(rc), err);
		return EXIT_USAGE;
	}
	printf("public key: %s\nwrote %s.pub (public) and %s.key (secret, mode 0600)\n", pub, base,
	       base);
	return 0;
}

/* cmd_bus: dispatch `secmx bus SUBCOMMAND`. */
int cmd_bus(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	if (strcmp(argv[1], "keygen") == 0)
		return keygen(argc - 1, argv + 1);
	fprintf(stderr, "secmx bus: unknown subcommand '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
