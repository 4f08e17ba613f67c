/*
 * bench_queue.c — the queue's commits per second: durable puts/s for 1 KB
 * and 10 KB messages, with and without group commit, from 1, 4 and 16
 * concurrent producers. Prints a table; never passes or fails on time.
 *
 *   bench_queue [--dir DIR] [--seconds S]
 *
 * Each cell runs S seconds (default 1.5) against a fresh store in DIR
 * (default: the current directory; put it on the disk you want measured,
 * since a tmpfs makes fsync free). Every put is durable on return
 * (WAL, synchronous=FULL), so without group commit puts/s is bounded by the
 * disk's fsyncs/s; with it, producers share commits.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "queue.h"

struct producer {
	struct queue *q;
	const char *data;
	size_t len;
	volatile int *stop;
	unsigned long puts, failures;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *produce(void *arg)
{
	struct producer *p = arg;
	struct queue_msg_in in;

	memset(&in, 0, sizeof(in));
	in.data = p->data;
	in.len = p->len;
	in.source = "bench";
	while (!*p->stop) {
		if (queue_msg_put(p->q, &in, NULL) == 0)
			p->puts++;
		else
			p->failures++;
	}
	return NULL;
}

/* remove_store: the store file and its WAL / shared-memory companions. */
static void remove_store(const char *path)
{
	char side[1100];

	unlink(path);
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
}

/* cell: one measurement; returns puts/s, fills commits/s and failures. */
static double cell(const char *dir, size_t size, int group, int producers, double seconds,
                   double *commits, unsigned long long *failures)
{
	struct queue_config cfg;
	struct queue *q = NULL;
	struct queue_stats st;
	struct producer p[16];
	pthread_t t[16];
	volatile int stop = 0;
	char path[1024], err[256];
	char *data;
	double t0, t1;
	unsigned long puts = 0;
	int i, rc;

	snprintf(path, sizeof(path), "%s/bench-queue-%d.db", dir, (int)getpid());
	remove_store(path);
	queue_config_default(&cfg);
	cfg.group_commit = group;
	if ((rc = queue_open(path, &cfg, &q, err, sizeof(err))) < 0) {
		fprintf(stderr, "bench_queue: %s: %s (%s)\n", path, secmx_strerror(rc), err);
		exit(2);
	}
	if ((data = malloc(size)) == NULL)
		exit(2);
	for (size_t k = 0; k < size; k++)
		data[k] = (char)('a' + k % 26);
	*failures = 0;
	t0 = now_s();
	for (i = 0; i < producers; i++) {
		memset(&p[i], 0, sizeof(p[i]));
		p[i].q = q;
		p[i].data = data;
		p[i].len = size;
		p[i].stop = &stop;
		if (pthread_create(&t[i], NULL, produce, &p[i]) != 0)
			exit(2);
	}
	usleep((useconds_t)(seconds * 1e6));
	stop = 1;
	for (i = 0; i < producers; i++) {
		pthread_join(t[i], NULL);
		puts += p[i].puts;
		*failures += p[i].failures;
	}
	t1 = now_s();
	queue_stats(q, &st);
	*commits = (double)st.commits / (t1 - t0);
	queue_close(q);
	remove_store(path);
	free(data);
	return (double)puts / (t1 - t0);
}

int main(int argc, char **argv)
{
	const char *dir = ".";
	double seconds = 1.5;
	static const size_t sizes[] = {1024, 10240};
	static const int producers[] = {1, 4, 16};
	size_t s;
	int i, j;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
			dir = argv[++i];
		} else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
			char *end;

			seconds = strtod(argv[++i], &end);
			if (*end != '\0' || seconds <= 0 || seconds > 600) {
				fprintf(stderr, "bench_queue: bad --seconds\n");
				return 2;
			}
		} else {
			fprintf(stderr, "usage: bench_queue [--dir DIR] [--seconds S]\n");
			return 2;
		}
	}
	printf("queue commits: durable puts/s (WAL, synchronous=FULL), %.1f s per cell, store in "
	       "%s\n\n",
	       seconds, dir);
	printf("%-6s %-9s | %12s %10s | %12s %10s %11s\n", "size", "producers", "single put/s",
	       "commits/s", "group put/s", "commits/s", "puts/commit");
	printf("-----------------+-------------------------+---------------------------------\n");
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
		for (j = 0; j < 3; j++) {
			unsigned long long f0, f1;
			double c0, c1;
			double r0 = cell(dir, sizes[s], 0, producers[j], seconds, &c0, &f0);
			double r1 = cell(dir, sizes[s], 1, producers[j], seconds, &c1, &f1);

			printf("%-6s %-9d | %12.0f %10.0f | %12.0f %10.0f %11.1f%s\n",
			       sizes[s] == 1024 ? "1 KB" : "10 KB", producers[j], r0, c0, r1, c1,
			       c1 > 0 ? r1 / c1 : 0.0, f0 + f1 ? "  (some puts failed)" : "");
			fflush(stdout);
		}
	return 0;
}
