/*
 * secmxd.c — the secmxd daemon's entry point (thin; the daemon is
 * daemon/daemon.h).
 *
 *   secmxd -c FILE [--check-config] [--foreground]
 *
 * --check-config loads FILE against the daemon's configuration table and
 * prints the effective configuration (secret values hidden) on standard
 * output, exit 0; or the refusal "FILE:LINE: section.key: reason" on
 * standard error, exit 1. Without it the daemon runs in the foreground
 * (it is meant to run under a service manager; --foreground is accepted
 * for clarity) until SIGTERM/SIGINT, and exits 0 after a clean drain.
 * The daemon sets umask 027 before it creates anything: its files are
 * never readable by other users.
 * Exit status: 0 ok, 1 configuration refused, 2 usage, 3 start-up failed.
 * docs/operations.md is the manual.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon.h"
#include "engine.h"

/* usage: print the synopsis to FP. */
static void usage(FILE *fp)
{
	fprintf(fp, "usage: secmxd -c FILE [--check-config] [--foreground]\n");
}

int main(int argc, char **argv)
{
	struct daemon_config cfg;
	struct daemon *d = NULL;
	const char *file = NULL;
	char err[1024] = "";
	int check = 0, i, rc, status = 3;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			file = argv[++i];
		} else if (strcmp(argv[i], "--check-config") == 0) {
			check = 1;
		} else if (strcmp(argv[i], "--foreground") == 0) {
			continue;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (file == NULL) {
		usage(stderr);
		return 2;
	}
	memset(&cfg, 0, sizeof(cfg));
	rc = config_load(&daemon_config_table, file, &cfg, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "%s\n", err[0] ? err : secmx_strerror(rc));
		return 1;
	}
	if (check) {
		config_dump(&daemon_config_table, &cfg, stdout);
		config_free(&daemon_config_table, &cfg);
		return 0;
	}
	/* The queue holds every document (IN-CONFIDENCE ones too): whatever
	 * umask the service manager gave us, the files secmxd creates (the
	 * queue database and its -wal and -shm files) are not for other users.
	 * The group may read, for `secmx queue` run by an operator in it. */
	umask(027);
	log_open("secmxd", cfg.log_dest == 1 ? LOG_DEST_SYSLOG : LOG_DEST_STDERR,
	         (enum log_level)cfg.log_level);
	signal(SIGPIPE, SIG_IGN);
	if (engine_global_init() < 0) {
		log_event(LOGL_ERR, "-", "daemon.failed", "error=%s", "engine initialisation");
		goto out;
	}
	if ((rc = daemon_new(file, &cfg, &d, err, sizeof(err))) < 0) {
		log_event(LOGL_ERR, "-", "daemon.failed", "error=%s",
		          err[0] ? err : secmx_strerror(rc));
		goto out;
	}
	rc = daemon_run(d);
	daemon_free(d);
	log_event(LOGL_NOTICE, "-", "daemon.stopped", "status=%d", rc < 0 ? 3 : 0);
	status = rc < 0 ? 3 : 0;
out:
	config_free(&daemon_config_table, &cfg);
	engine_global_cleanup();
	log_close();
	return status;
}
