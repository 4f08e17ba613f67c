/*
 * bus_testserver.c — a bus with in-memory ops (memops.c) for the
 * cross-language test: offers N deliveries to whichever adapter says HELLO
 * and exits 0 once all N are ACKed (1 on timeout, 2 on usage errors).
 *
 *   bus_testserver ENDPOINT N TIMEOUT_MS [ACK_TIMEOUT_MS [SECRET_KEY_FILE ALLOW_LIST]]
 *
 * For tcp:// the last two arguments are required (CURVE). Prints
 * "endpoint=..." (the bound endpoint, port resolved) first and one summary
 * line at the end on stdout; bus log lines (info and up) on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "memops.h"

/* num: a bounded decimal argument, or -1. */
static long num(const char *s, long max)
{
	char *end;
	long v = strtol(s, &end, 10);

	return (*s && !*end && v >= 0 && v <= max) ? v : -1;
}

int main(int argc, char **argv)
{
	static struct memops mo;
	struct bus_config cfg;
	struct bus_ops ops;
	struct bus_stats st;
	struct bus *b = NULL;
	struct timespec t0, t1;
	char err[256] = "";
	long n, timeout, ack = 60000, elapsed = 0;
	int rc;

	if ((argc != 4 && argc != 5 && argc != 7) || (n = num(argv[2], MEMOPS_MAX)) < 0 ||
	    (timeout = num(argv[3], 600000)) < 0 || (argc >= 5 && (ack = num(argv[4], 600000)) < 10)) {
		fprintf(stderr, "usage: bus_testserver ENDPOINT N TIMEOUT_MS [ACK_TIMEOUT_MS "
				"[SECRET_KEY_FILE ALLOW_LIST]]\n");
		return 2;
	}
	memops_init(&mo, (int)n, 300);
	ops = memops_ops(&mo);
	bus_config_default(&cfg);
	cfg.endpoint = argv[1];
	cfg.heartbeat_ms = 200;
	cfg.dead_ms = 1000;
	cfg.ack_timeout_ms = (int)ack;
	if (argc == 7) {
		cfg.curve_secret_file = argv[5];
		cfg.allow_list_file = argv[6];
	}
	if ((rc = bus_new(&cfg, &ops, &b, err, sizeof(err))) < 0) {
		fprintf(stderr, "bus_testserver: %s: %s\n", secmx_strerror(rc), err);
		return 2;
	}
	printf("endpoint=%s\n", bus_endpoint(b));
	fflush(stdout);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (memops_acked(&mo) < mo.n && elapsed < timeout) {
		bus_run_once(b, 50);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		elapsed = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	}
	/* a moment for the last replies (SUBMIT_RESULT, BYE) */
	for (rc = 0; rc < 4; rc++)
		bus_run_once(b, 50);
	bus_stats_get(b, &st);
	printf("acked=%d of=%d delivered=%lu redelivered=%lu max_inflight=%u submitted=%d "
	       "refused=%lu ms=%ld\n",
	       memops_acked(&mo), mo.n, st.delivered, st.redelivered, st.max_inflight,
	       mo.nsubmit, st.refused, elapsed);
	bus_free(b);
	return memops_acked(&mo) == mo.n ? 0 : 1;
}
