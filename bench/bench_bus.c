/*
 * bench_bus.c — bus throughput: a bus (driven the daemon's way, poll(2) on
 * bus_fd() + bus_process()) delivering N documents to one SDK adapter in a
 * thread, which ACKs each. Prints deliveries per second and MB/s for a few
 * document sizes and credits over ipc://. Prints figures; never fails on time.
 *
 *   bench_bus [N]     (default 20000)
 */
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bus.h"
#include "secmx_adapter.h"

struct run {
	long n, offered, acked;
	size_t size;
	int credit;
	char endpoint[256];
	struct adapter *a;
	long seen;
};

static int next_delivery(void *arg, const char *adapter, struct bus_delivery *d)
{
	struct run *r = arg;
	long i;

	(void)adapter;
	if (r->offered >= r->n)
		return 0;
	i = ++r->offered;
	d->delivery_id = malloc(24);
	d->envelope = malloc(256);
	d->doc = malloc(r->size);
	if (!d->delivery_id || !d->envelope || !d->doc)
		abort();
	snprintf(d->delivery_id, 24, "d%ld", i);
	snprintf(d->envelope, 256,
		 "{\"idempotency_key\":\"k-%ld\",\"message_id\":\"<m%ld@bench>\","
		 "\"document_type\":\"Invoice\",\"received_at\":\"2026-11-29T00:00:00Z\"}",
		 i, i);
	memset(d->doc, 'x', r->size);
	d->doc_len = r->size;
	d->attempt = 1;
	return 1;
}

static void on_ack(void *arg, const char *adapter, const char *id)
{
	(void)adapter;
	(void)id;
	((struct run *)arg)->acked++;
}

static int deliver(void *arg, const struct adapter_delivery *d, char *reason, size_t len)
{
	struct run *r = arg;

	(void)d;
	(void)reason;
	(void)len;
	if (++r->seen == r->n)
		adapter_stop(r->a);
	return ADAPTER_ACK;
}

static void *client(void *arg)
{
	struct run *r = arg;
	const char *pats[] = {"*"};
	struct adapter_config cfg;
	char err[256];

	adapter_config_default(&cfg);
	cfg.endpoint = r->endpoint;
	cfg.name = "bench";
	cfg.patterns = pats;
	cfg.npatterns = 1;
	cfg.credit = r->credit;
	if (adapter_new(&cfg, &r->a, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_bus: %s\n", err);
		exit(1);
	}
	adapter_run(r->a, deliver, r, 120000);
	adapter_run(r->a, deliver, r, 50);
	adapter_free(r->a);
	return NULL;
}

static double elapsed(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void one(const char *dir, long n, size_t size, int credit)
{
	struct run r;
	struct bus_config cfg;
	struct bus_ops ops;
	struct bus *b = NULL;
	struct timespec t0;
	pthread_t th;
	char err[256];
	double s;
	int fd, next;

	memset(&r, 0, sizeof(r));
	memset(&ops, 0, sizeof(ops));
	r.n = n;
	r.size = size;
	r.credit = credit;
	snprintf(r.endpoint, sizeof(r.endpoint), "ipc://%s/bench.sock", dir);
	ops.arg = &r;
	ops.next_delivery = next_delivery;
	ops.on_ack = on_ack;
	bus_config_default(&cfg);
	cfg.endpoint = r.endpoint;
	cfg.max_credit = 1024;
	if (bus_new(&cfg, &ops, &b, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_bus: %s\n", err);
		exit(1);
	}
	fd = bus_fd(b);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_create(&th, NULL, client, &r);
	next = bus_process(b);
	while (r.acked < n && elapsed(&t0) < 120) {
		struct pollfd p = {fd, POLLIN, 0};

		(void)poll(&p, 1, next);
		next = bus_process(b);
	}
	s = elapsed(&t0);
	pthread_join(th, NULL);
	bus_free(b);
	printf("bus ipc: %6ld docs x %7zu B, credit %4d: %8.0f deliveries/s, %7.1f MB/s "
	       "(%.2f s, %ld acked)\n",
	       n, size, credit, (double)r.acked / s, (double)r.acked * (double)size / s / 1e6, s,
	       r.acked);
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/secmx-bench-XXXXXX";
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 20000;

	if (n < 1 || n > 10000000 || !mkdtemp(dir)) {
		fprintf(stderr, "usage: bench_bus [N]\n");
		return 2;
	}
	one(dir, n, 2000, 1);
	one(dir, n, 2000, 8);
	one(dir, n, 2000, 64);
	one(dir, n / 10 > 0 ? n / 10 : 1, 200000, 8);
	rmdir(dir);
	return 0;
}
