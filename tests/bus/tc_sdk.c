/*
 * tc_sdk.c — the adapter SDK end to end against a real bus running in a
 * server thread: deliveries with ACK / NACK transient / NACK permanent,
 * SUBMIT, redelivery after a crash answered through the idempotency helper,
 * and reconnection after the server restarts; batches (adapter_run_batch
 * with adapter_seen_begin/commit): one flush per burst, ACKs only after the
 * flush, a crash between receive and commit gives redelivery (not loss),
 * a failed flush gives transient NACKs.
 */
#include <poll.h>
#include <sys/wait.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "secmx_adapter.h"

/* The server thread: runs one bus, or restarts it once when asked. */
struct server {
	char endpoint[256];
	struct memops mo, mo2;
	int restart_after_ms; /* > 0: replace the bus (and memops) after this */
	volatile int stop;
	int restarted;
	struct bus_stats st;
	pthread_t thread;
};

static void *server_main(void *arg)
{
	struct server *sv = arg;
	struct bus *b = t_bus(&sv->mo, sv->endpoint, 100, 2000, 60000);
	int ms = 0;

	while (!sv->stop) {
		bus_run_once(b, 10);
		ms += 10;
		if (sv->restart_after_ms > 0 && !sv->restarted && ms >= sv->restart_after_ms) {
			bus_free(b); /* says BYE to the adapter */
			b = t_bus(&sv->mo2, sv->endpoint, 100, 2000, 60000);
			sv->restarted = 1;
		}
	}
	bus_stats_get(b, &sv->st);
	bus_free(b);
	return NULL;
}

static void server_start(struct server *sv, char *dir, size_t dirlen, int n)
{
	memset(sv, 0, sizeof(*sv));
	t_tmpdir(dir, dirlen);
	snprintf(sv->endpoint, sizeof(sv->endpoint), "ipc://%s/bus.sock", dir);
	memops_init(&sv->mo, n, 300);
	sv->mo.quiet = 1;
	ck_assert_int_eq(pthread_create(&sv->thread, NULL, server_main, sv), 0);
}

static void server_stop(struct server *sv)
{
	sv->stop = 1;
	pthread_join(sv->thread, NULL);
}

/* What the callback saw. */
struct seen_log {
	struct adapter *a;
	struct adapter_seen *db;
	int calls, processed[64], target;
	int nack_once_index, permanent_index, nacked_once;
	char submit_id[BUS_MAX_KEY + 1];
};

/* index: "k-N" → N-1. */
static int key_index(const char *key)
{
	return (int)strtol(key + 2, NULL, 10) - 1; /* test data only: k-1 .. k-64 */
}

static int deliver(void *arg, const struct adapter_delivery *d, char *reason, size_t len)
{
	struct seen_log *lg = arg;
	int i = key_index(d->idempotency_key);
	char expect[64];

	lg->calls++;
	ck_assert_int_ge(i, 0);
	ck_assert_int_lt(i, 64);
	snprintf(expect, sizeof(expect), "<Invoice><ID>INV-%d</ID></Invoice>", i + 1);
	ck_assert_uint_eq(d->doc_len, 300);
	ck_assert_int_eq(memcmp(d->doc, expect, strlen(expect)), 0);
	ck_assert_str_eq(d->document_type, "Invoice");
	ck_assert_ptr_nonnull(strstr(d->envelope_json, "\"received_at\":\"2026-11-29T01:02:03Z\""));
	if (lg->db && adapter_seen_check(lg->db, d->idempotency_key) == 1)
		return ADAPTER_ACK; /* done before a crash: do not do it twice */
	if (i == lg->nack_once_index && !lg->nacked_once) {
		lg->nacked_once = 1;
		snprintf(reason, len, "ledger locked");
		return ADAPTER_NACK_TRANSIENT;
	}
	if (i == lg->permanent_index) {
		snprintf(reason, len, "unknown cost centre");
		return ADAPTER_NACK_PERMANENT;
	}
	lg->processed[i]++;
	if (lg->db)
		ck_assert_int_eq(adapter_seen_mark(lg->db, d->idempotency_key), 0);
	if (i == 9 && lg->a) {
		/* SUBMIT from inside the callback: deliveries keep queueing. */
		char rsn[256] = "";

		ck_assert_int_eq(adapter_submit(lg->a, "<Order/>", 8, "po-77", "Order", NULL, 5000,
						lg->submit_id, sizeof(lg->submit_id), rsn,
						sizeof(rsn)), 1);
	}
	if (--lg->target == 0)
		adapter_stop(lg->a);
	return ADAPTER_ACK;
}

static struct adapter *connect_adapter(const char *endpoint, const char *name, int credit)
{
	const char *pats[] = {"Invoice"};
	struct adapter_config cfg;
	struct adapter *a = NULL;
	char err[256] = "";

	adapter_config_default(&cfg);
	cfg.endpoint = endpoint;
	cfg.name = name;
	cfg.patterns = pats;
	cfg.npatterns = 1;
	cfg.credit = credit;
	cfg.reconnect_min_ms = 20;
	cfg.reconnect_max_ms = 200;
	ck_assert_msg(adapter_new(&cfg, &a, err, sizeof(err)) == 0, "%s", err);
	return a;
}

START_TEST(sdk_end_to_end)
{
	struct server sv;
	struct seen_log lg;
	char dir[128], msgid[BUS_MAX_KEY + 1], reason[256] = "";
	int i;

	server_start(&sv, dir, sizeof(dir), 20);
	memset(&lg, 0, sizeof(lg));
	lg.nack_once_index = 4;  /* k-5: transient once, then ACK */
	lg.permanent_index = 6;  /* k-7: dead letter */
	lg.target = 19;
	lg.a = connect_adapter(sv.endpoint, "finance", 4);
	ck_assert_int_eq(adapter_run(lg.a, deliver, &lg, 10000), 0);
	ck_assert_int_eq(lg.target, 0);
	ck_assert_int_eq(adapter_submit(lg.a, "<Order>2</Order>", 16, "po-78", NULL,
					"{\"to\":\"buyer@example.org\"}", 5000, msgid, sizeof(msgid),
					reason, sizeof(reason)), 1);
	ck_assert_str_eq(msgid, "<out-2@secmx.test>");
	ck_assert_int_eq(adapter_submit(lg.a, "", 0, "po-79", NULL, NULL, 5000, msgid,
					sizeof(msgid), reason, sizeof(reason)), 0);
	ck_assert_str_eq(reason, "empty document");
	adapter_run(lg.a, deliver, &lg, 200); /* let the last ACK leave */
	adapter_free(lg.a);
	server_stop(&sv);
	ck_assert_str_eq(lg.submit_id, "<out-1@secmx.test>");
	ck_assert_int_eq(sv.mo.nsubmit, 2);
	ck_assert_int_eq(memops_acked(&sv.mo), 19);
	ck_assert_int_eq(sv.mo.dead[6], 1);
	ck_assert_str_eq(sv.mo.dead_reason, "unknown cost centre");
	ck_assert_int_eq(sv.mo.nacks_transient, 1);
	for (i = 0; i < 20; i++)
		ck_assert_int_eq(lg.processed[i], i == 6 ? 0 : 1);
	ck_assert_uint_le(sv.st.max_inflight, 4);
	rmdir(dir);
}
END_TEST

START_TEST(sdk_idempotency_after_crash)
{
	struct server sv;
	struct seen_log lg;
	struct adapter_seen *db = NULL;
	char dir[128], dbpath[200], err[256] = "";
	void *ctx, *raw;
	int i;

	server_start(&sv, dir, sizeof(dir), 6);
	snprintf(dbpath, sizeof(dbpath), "%s/seen.db", dir);
	ck_assert_msg(adapter_seen_open(dbpath, &db, err, sizeof(err)) == 0, "%s", err);
	/* A first process takes d1 and d2, processes k-1, marks it, crashes. */
	ctx = zmq_ctx_new();
	raw = t_dealer(ctx, sv.endpoint, NULL, NULL, NULL);
	t_hello(NULL, raw, "records", 2);
	t_expect_deliver(NULL, raw, "d1", 1);
	t_expect_deliver(NULL, raw, "d2", 1);
	ck_assert_int_eq(adapter_seen_mark(db, "k-1"), 0);
	zmq_close(raw);
	zmq_ctx_term(ctx);
	/* The restarted adapter gets both again and does k-1 no second time. */
	memset(&lg, 0, sizeof(lg));
	lg.db = db;
	lg.nack_once_index = lg.permanent_index = -1;
	lg.target = 5; /* k-2 .. k-6 processed */
	lg.a = connect_adapter(sv.endpoint, "records", 2);
	ck_assert_int_eq(adapter_run(lg.a, deliver, &lg, 10000), 0);
	adapter_run(lg.a, deliver, &lg, 200);
	adapter_free(lg.a);
	server_stop(&sv);
	ck_assert_int_eq(lg.processed[0], 0);
	for (i = 1; i < 6; i++)
		ck_assert_int_eq(lg.processed[i], 1);
	ck_assert_int_eq(memops_acked(&sv.mo), 6);
	ck_assert_int_eq(sv.mo.attempts[0], 1);      /* the bus, not the queue, resent it */
	ck_assert_uint_ge(sv.st.redelivered, 2);
	ck_assert_int_eq(adapter_seen_check(db, "k-6"), 1);
	ck_assert_int_eq(adapter_seen_check(db, "k-7"), 0);
	ck_assert_int_eq(adapter_seen_prune(db, 3600), 0);
	ck_assert_int_eq(adapter_seen_prune(db, -5), SECMX_EINVAL);
	adapter_seen_close(db);
	/* the table survives a reopen */
	ck_assert_int_eq(adapter_seen_open(dbpath, &db, err, sizeof(err)), 0);
	ck_assert_int_eq(adapter_seen_check(db, "k-1"), 1);
	adapter_seen_close(db);
}
END_TEST

START_TEST(sdk_reconnects_after_server_restart)
{
	struct server sv;
	struct seen_log lg;
	char dir[128];

	server_start(&sv, dir, sizeof(dir), 0);
	memops_init(&sv.mo2, 3, 300);
	sv.mo2.quiet = 1;
	sv.restart_after_ms = 300;
	memset(&lg, 0, sizeof(lg));
	lg.nack_once_index = lg.permanent_index = -1;
	lg.target = 3;
	lg.a = connect_adapter(sv.endpoint, "finance", 2);
	ck_assert_int_eq(adapter_run(lg.a, deliver, &lg, 10000), 0);
	ck_assert_int_eq(lg.target, 0);
	ck_assert_uint_ge(adapter_reconnects(lg.a), 1);
	adapter_run(lg.a, deliver, &lg, 200);
	adapter_free(lg.a);
	server_stop(&sv);
	ck_assert_int_eq(sv.restarted, 1);
	ck_assert_int_eq(memops_acked(&sv.mo2), 3);
}
END_TEST

/* The adapter side of fd_driven_loop: runs in its own thread. */
struct fd_client {
	char endpoint[256];
	int target;
	struct adapter *a;
};

static int count_ack(void *arg, const struct adapter_delivery *d, char *reason, size_t len)
{
	struct fd_client *c = arg;

	(void)d;
	(void)reason;
	(void)len;
	if (--c->target == 0)
		adapter_stop(c->a);
	return ADAPTER_ACK;
}

static void *fd_client_main(void *arg)
{
	struct fd_client *c = arg;

	c->a = connect_adapter(c->endpoint, "finance", 8);
	adapter_run(c->a, count_ack, c, 20000);
	adapter_run(c->a, count_ack, c, 100);
	adapter_free(c->a);
	return NULL;
}

START_TEST(fd_driven_loop)
{
	/* The daemon's way: poll(2) on bus_fd() (edge-triggered ZMQ_FD) and call
	 * bus_process() on readiness or when its timeout expires. A lost edge
	 * would stall the flow until the next timer (5 s here), so 500
	 * deliveries in well under 5 s show the edge handling is right. */
	char dir[128], endpoint[256];
	struct memops mo;
	struct fd_client c;
	struct bus *b;
	struct timespec t0, t1;
	pthread_t th;
	long ms;
	int fd, next;

	t_tmpdir(dir, sizeof(dir));
	snprintf(endpoint, sizeof(endpoint), "ipc://%s/bus.sock", dir);
	memops_init(&mo, 500, 1000);
	mo.quiet = 1;
	b = t_bus(&mo, endpoint, 5000, 15000, 60000);
	fd = bus_fd(b);
	ck_assert_int_ge(fd, 0);
	memset(&c, 0, sizeof(c));
	snprintf(c.endpoint, sizeof(c.endpoint), "%s", endpoint);
	c.target = 500;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(pthread_create(&th, NULL, fd_client_main, &c), 0);
	next = bus_process(b);
	while (memops_acked(&mo) < 500) {
		struct pollfd p = {fd, POLLIN, 0};

		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
		ck_assert_msg(ms < 20000, "stalled at %d ACKs", memops_acked(&mo));
		(void)poll(&p, 1, next);
		next = bus_process(b);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	pthread_join(th, NULL);
	bus_free(b);
	printf("fd loop: 500 deliveries of 1000 bytes, credit 8, ACKed in %ld ms\n", ms);
	ck_assert_msg(ms < 4000, "took %ld ms: an edge of ZMQ_FD was lost", ms);
	rmdir(dir);
}
END_TEST

START_TEST(sdk_config_refused)
{
	const char *pats[] = {"Inv oice"};
	struct adapter_config cfg;
	struct adapter *a = NULL;
	char err[256] = "";

	adapter_config_default(&cfg);
	cfg.endpoint = "ipc:///nonexistent/bus.sock";
	cfg.name = "finance";
	cfg.patterns = pats;
	cfg.npatterns = 1;
	ck_assert_int_eq(adapter_new(&cfg, &a, err, sizeof(err)), SECMX_ECONFIG);
	ck_assert_ptr_null(a);
	cfg.name = "bad name";
	ck_assert_int_eq(adapter_new(&cfg, &a, err, sizeof(err)), SECMX_ECONFIG);
}
END_TEST

/* The batch tests' state: the seen table, bursts and what was done. */
struct batch_log {
	struct adapter *a;
	struct adapter_seen *db;
	int in_burst, bursts, max_burst, processed[64], dup_acks, target, fail_flushes;
	int crash_in_flush; /* _exit(3) in the flush: the process dies mid-batch */
	struct server *sv;  /* to look at the ACKs the server has seen */
};

/* batch_deliver: the work of a batch adapter (mark inside the open batch). */
static int batch_deliver(void *arg, const struct adapter_delivery *d, char *reason, size_t len)
{
	struct batch_log *lg = arg;
	int i = key_index(d->idempotency_key), rc;

	(void)reason, (void)len;
	if (i < 0 || i >= 64 || strcmp(d->document_type, "Invoice") != 0 ||
	    !adapter_delivery_string(d, NULL, "received_at") ||
	    strcmp(adapter_delivery_string(d, NULL, "received_at"), "2026-11-29T01:02:03Z") != 0 ||
	    adapter_delivery_string(d, "validation", "valid") != NULL || /* a boolean */
	    adapter_delivery_string(d, "nothing", "x") != NULL ||
	    !strstr(d->envelope_json, "\"delivery_id\":\""))
		_exit(90); /* also in a forked child: make the failure visible */
	lg->in_burst++;
	rc = adapter_seen_check(lg->db, d->idempotency_key);
	if (rc == 1) {
		lg->dup_acks++;
		return ADAPTER_ACK;
	}
	if (rc < 0 || adapter_seen_begin(lg->db) < 0 ||
	    adapter_seen_mark(lg->db, d->idempotency_key) < 0)
		_exit(91);
	lg->processed[i]++;
	if (lg->target > 0 && --lg->target == 0)
		adapter_stop(lg->a);
	return ADAPTER_ACK;
}

/* batch_flush: commit the burst (or crash, or fail, as the test asks). */
static int batch_flush(void *arg)
{
	struct batch_log *lg = arg;

	if (lg->in_burst > lg->max_burst)
		lg->max_burst = lg->in_burst;
	lg->in_burst = 0;
	lg->bursts++;
	if (lg->crash_in_flush) {
		/* Marked, not committed, not ACKed. The pause would let an ACK
		 * sent before the flush (a bug) reach the server first. */
		usleep(300 * 1000);
		_exit(3);
	}
	if (lg->fail_flushes > 0) {
		lg->fail_flushes--;
		adapter_seen_rollback(lg->db);
		return -1;
	}
	return adapter_seen_commit(lg->db);
}

START_TEST(sdk_seen_batch_api)
{
	struct adapter_seen *db = NULL, *other = NULL;
	char dir[128], path[200], err[256] = "";

	t_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/seen.db", dir);
	ck_assert_msg(adapter_seen_open(path, &db, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(adapter_seen_commit(db), 0); /* nothing open: no-op */
	ck_assert_int_eq(adapter_seen_begin(db), 0);
	ck_assert_int_eq(adapter_seen_begin(db), 0); /* already open: no-op */
	ck_assert_int_eq(adapter_seen_mark(db, "k-1"), 0);
	ck_assert_int_eq(adapter_seen_mark(db, "k-2"), 0);
	ck_assert_int_eq(adapter_seen_check(db, "k-1"), 1); /* the batch sees its marks */
	/* another connection does not, before the commit */
	ck_assert_int_eq(adapter_seen_open(path, &other, err, sizeof(err)), 0);
	ck_assert_int_eq(adapter_seen_check(other, "k-1"), 0);
	adapter_seen_rollback(db);
	ck_assert_int_eq(adapter_seen_check(db, "k-1"), 0);
	ck_assert_int_eq(adapter_seen_begin(db), 0);
	ck_assert_int_eq(adapter_seen_mark(db, "k-3"), 0);
	ck_assert_int_eq(adapter_seen_commit(db), 0);
	ck_assert_int_eq(adapter_seen_check(other, "k-3"), 1);
	/* an open batch is dropped by close: never committed, never ACKed */
	ck_assert_int_eq(adapter_seen_begin(db), 0);
	ck_assert_int_eq(adapter_seen_mark(db, "k-4"), 0);
	adapter_seen_close(db);
	ck_assert_int_eq(adapter_seen_check(other, "k-4"), 0);
	ck_assert_int_eq(adapter_seen_check(other, "k-3"), 1);
	adapter_seen_close(other);
	unlink(path);
	rmdir(dir);
}
END_TEST

START_TEST(sdk_batch_acks_after_flush)
{
	struct server sv;
	struct batch_log lg;
	struct adapter_seen *db = NULL;
	char dir[128], path[200], err[256] = "";
	int i;

	server_start(&sv, dir, sizeof(dir), 40);
	snprintf(path, sizeof(path), "%s/seen.db", dir);
	ck_assert_msg(adapter_seen_open(path, &db, err, sizeof(err)) == 0, "%s", err);
	memset(&lg, 0, sizeof(lg));
	lg.db = db;
	lg.target = 40;
	lg.a = connect_adapter(sv.endpoint, "records", 8);
	ck_assert_int_eq(adapter_run_batch(lg.a, batch_deliver, batch_flush, &lg, 10000), 0);
	ck_assert_int_eq(lg.target, 0);
	adapter_run_batch(lg.a, batch_deliver, batch_flush, &lg, 200); /* last ACKs leave */
	adapter_free(lg.a);
	server_stop(&sv);
	for (i = 0; i < 40; i++) {
		char key[16];

		ck_assert_int_eq(lg.processed[i], 1);
		snprintf(key, sizeof(key), "k-%d", i + 1);
		ck_assert_int_eq(adapter_seen_check(db, key), 1);
	}
	ck_assert_int_eq(memops_acked(&sv.mo), 40);
	ck_assert_int_eq(sv.mo.nacks_transient, 0);
	/* bursts: fewer flushes (commits) than deliveries, never over the credit */
	ck_assert_int_lt(lg.bursts, 40);
	ck_assert_int_gt(lg.max_burst, 1);
	ck_assert_int_le(lg.max_burst, 8);
	adapter_seen_close(db);
	unlink(path);
	rmdir(dir);
}
END_TEST

START_TEST(sdk_batch_crash_before_commit)
{
	struct server sv;
	struct batch_log lg;
	struct adapter_seen *db = NULL;
	char dir[128], path[200], err[256] = "";
	int i, status = 0;
	pid_t pid;

	t_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/seen.db", dir);
	/* The child (forked before any thread exists) is the first adapter
	 * process: it takes a burst, marks every key in the open batch and dies
	 * in the flush, before the commit and before any ACK. */
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char ep[256];

		snprintf(ep, sizeof(ep), "ipc://%s/bus.sock", dir);
		memset(&lg, 0, sizeof(lg));
		if (adapter_seen_open(path, &lg.db, err, sizeof(err)) < 0)
			_exit(92);
		lg.crash_in_flush = 1;
		lg.a = connect_adapter(ep, "records", 8);
		adapter_run_batch(lg.a, batch_deliver, batch_flush, &lg, 10000);
		_exit(93); /* never here: the flush exits */
	}
	memset(&sv, 0, sizeof(sv));
	snprintf(sv.endpoint, sizeof(sv.endpoint), "ipc://%s/bus.sock", dir);
	memops_init(&sv.mo, 12, 300);
	sv.mo.quiet = 1;
	ck_assert_int_eq(pthread_create(&sv.thread, NULL, server_main, &sv), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 3, "child status %d", status);
	/* No ACK left before the flush (a racy read of a counter the server
	 * thread writes; it only grows, and it must still be 0). */
	usleep(200 * 1000);
	ck_assert_int_eq(memops_acked(&sv.mo), 0);
	/* Nothing of the burst is recorded: no mark survived the crash. */
	ck_assert_msg(adapter_seen_open(path, &db, err, sizeof(err)) == 0, "%s", err);
	for (i = 0; i < 12; i++) {
		char key[16];

		snprintf(key, sizeof(key), "k-%d", i + 1);
		ck_assert_int_eq(adapter_seen_check(db, key), 0);
	}
	/* The restarted adapter gets every delivery (the unACKed ones again)
	 * and processes each exactly once. */
	memset(&lg, 0, sizeof(lg));
	lg.db = db;
	lg.target = 12;
	lg.a = connect_adapter(sv.endpoint, "records", 8);
	ck_assert_int_eq(adapter_run_batch(lg.a, batch_deliver, batch_flush, &lg, 10000), 0);
	ck_assert_int_eq(lg.target, 0);
	adapter_run_batch(lg.a, batch_deliver, batch_flush, &lg, 200);
	adapter_free(lg.a);
	server_stop(&sv);
	for (i = 0; i < 12; i++)
		ck_assert_int_eq(lg.processed[i], 1);
	ck_assert_int_eq(memops_acked(&sv.mo), 12);
	ck_assert_uint_ge(sv.st.redelivered, 1); /* the crashed burst came again */
	adapter_seen_close(db);
	unlink(path);
	rmdir(dir);
}
END_TEST

START_TEST(sdk_batch_flush_failure_nacks)
{
	struct server sv;
	struct batch_log lg;
	struct adapter_seen *db = NULL;
	char dir[128], path[200], err[256] = "";
	int i;

	server_start(&sv, dir, sizeof(dir), 6);
	snprintf(path, sizeof(path), "%s/seen.db", dir);
	ck_assert_msg(adapter_seen_open(path, &db, err, sizeof(err)) == 0, "%s", err);
	memset(&lg, 0, sizeof(lg));
	lg.db = db;
	lg.fail_flushes = 1; /* the first burst cannot commit */
	lg.target = -1;
	lg.a = connect_adapter(sv.endpoint, "records", 8);
	for (i = 0; i < 100 && memops_acked(&sv.mo) < 6; i++)
		adapter_run_batch(lg.a, batch_deliver, batch_flush, &lg, 100);
	adapter_free(lg.a);
	server_stop(&sv);
	ck_assert_int_eq(memops_acked(&sv.mo), 6);
	ck_assert_int_ge(sv.mo.nacks_transient, 1); /* the failed burst, NACKed */
	/* every key once in the table; a redone key was processed again, as
	 * its first processing was never recorded */
	for (i = 0; i < 6; i++) {
		char key[16];

		snprintf(key, sizeof(key), "k-%d", i + 1);
		ck_assert_int_eq(adapter_seen_check(db, key), 1);
		ck_assert_int_ge(lg.processed[i], 1);
	}
	adapter_seen_close(db);
	unlink(path);
	rmdir(dir);
}
END_TEST

/* The odd-envelope test: what adapter_delivery_string returned. */
struct odd_log {
	struct adapter *a;
	int n, bad;
};

static int odd_deliver(void *arg, const struct adapter_delivery *d, char *reason, size_t len)
{
	struct odd_log *lg = arg;
	const char *id = adapter_delivery_string(d, "meta", "document_id");
	char want[32];

	(void)reason, (void)len;
	snprintf(want, sizeof(want), "INV\n%d", key_index(d->idempotency_key) + 1);
	if (!id || strcmp(id, want) != 0 || adapter_delivery_string(d, "meta", "odd") ||
	    strcmp(adapter_delivery_string(d, NULL, "document_type"), "Invoice") != 0 ||
	    strcmp(d->document_type, "Invoice") != 0 || d->attempt != 1)
		lg->bad++;
	if (++lg->n == 3)
		adapter_stop(lg->a);
	return ADAPTER_ACK;
}

START_TEST(sdk_envelope_fields_with_escapes)
{
	/* odd_meta 1: the SDK's scanner reads the DELIVER, the escaped value is
	 * found by parsing on demand; 2: an escaped key makes the strict reader
	 * decode it. Either way the callback sees the same fields. */
	int mode;

	for (mode = 1; mode <= 2; mode++) {
		struct server sv;
		struct odd_log lg;
		char dir[128];

		server_start(&sv, dir, sizeof(dir), 3);
		sv.mo.odd_meta = mode;
		memset(&lg, 0, sizeof(lg));
		lg.a = connect_adapter(sv.endpoint, "records", 4);
		ck_assert_int_eq(adapter_run_batch(lg.a, odd_deliver, NULL, &lg, 10000), 0);
		adapter_run_batch(lg.a, odd_deliver, NULL, &lg, 200);
		adapter_free(lg.a);
		server_stop(&sv);
		ck_assert_int_eq(lg.n, 3);
		ck_assert_int_eq(lg.bad, 0);
		ck_assert_int_eq(memops_acked(&sv.mo), 3);
		rmdir(dir);
	}
}
END_TEST

TCase *tc_sdk(void)
{
	TCase *tc = tcase_create("sdk");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, sdk_end_to_end);
	tcase_add_test(tc, sdk_idempotency_after_crash);
	tcase_add_test(tc, sdk_reconnects_after_server_restart);
	tcase_add_test(tc, sdk_config_refused);
	tcase_add_test(tc, fd_driven_loop);
	tcase_add_test(tc, sdk_seen_batch_api);
	tcase_add_test(tc, sdk_batch_acks_after_flush);
	tcase_add_test(tc, sdk_batch_crash_before_commit);
	tcase_add_test(tc, sdk_batch_flush_failure_nacks);
	tcase_add_test(tc, sdk_envelope_fields_with_escapes);
	return tc;
}
