/*
 * tc_defer.c — deferred scopes (queue_defer_begin/end), the sync thread,
 * and deliveries that go out only once durable.
 *
 * With group commit a COMMIT no longer waits for the disk; the sync thread
 * fsyncs the WAL and only then are operations done and deliveries handed
 * out. Checked here with the real store and its two seams: a refused
 * COMMIT (queue__fault_commit) and a refused sync (queue__fault_sync).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "queue_int.h"
#include "tests.h"

/* A long adapt window: a batch nobody waits in stays open for 2 s, so a
 * test sees it open before the sync thread commits it. */
static struct queue *open_slow(void)
{
	struct queue_config cfg;

	test_config(&cfg, 1);
	cfg.group_adapt_us = 2 * 1000 * 1000;
	return test_open(&cfg);
}

/* claim_and_route: claim message ID and record its step with one
 * delivery to "fin"; returns queue_step_deliver's result. */
static int claim_and_route(struct queue *q, int64_t id)
{
	struct queue_lease l;
	struct queue_msg_info info;
	const char *adapters[] = {"fin"};
	struct queue_deliveries dl = {id, adapters, 1, NULL, NULL};
	int rc;

	if ((rc = queue_claim(q, "new", 60000, &l, &info)) != 1)
		return rc < 0 ? rc : SECMX_ENOTFOUND;
	ck_assert_int_eq(info.id, id);
	return queue_step_deliver(q, &l, "route", "ok", NULL, QUEUE_STATE_DONE, &dl);
}

START_TEST(scope_returns_before_commit)
{
	struct queue *q = open_slow();
	struct queue_delivery d;
	int64_t id = test_put(q, "doc", NULL, NULL, NULL, NULL);

	ck_assert_int_eq(queue_defer_begin(q), 0);
	ck_assert_int_eq(queue_defer_begin(q), SECMX_ESTATE); /* no nesting */
	ck_assert_int_eq(claim_and_route(q, id), 0);
	/* Not committed yet: an outside connection does not see it ... */
	ck_assert_int_eq(test_sql_int("SELECT count(*) FROM msg WHERE state = 'done'"), 0);
	/* ... and the delivery is not handed out while it is not durable. */
	ck_assert_int_eq(queue_delivery_next(q, "fin", 0, &d), 0);
	/* Ending the scope with WAIT commits and syncs it. */
	ck_assert_int_eq(queue_defer_end(q, 1), 0);
	ck_assert_int_eq(test_sql_int("SELECT count(*) FROM msg WHERE state = 'done'"), 1);
	ck_assert_int_eq(queue_delivery_next(q, "fin", 0, &d), 1);
	ck_assert_int_eq(d.msg_id, id);
	ck_assert_int_eq(queue_defer_end(q, 1), SECMX_EINVAL); /* no scope open */
	queue_close(q);
}
END_TEST

START_TEST(scope_without_wait_is_committed_by_the_queue)
{
	struct queue_config cfg;
	struct queue *q;
	struct queue_delivery d;
	struct queue_stats st;
	int64_t id, i;

	test_config(&cfg, 1);
	cfg.group_adapt_us = 1000;
	q = test_open(&cfg);
	id = test_put(q, "doc", NULL, NULL, NULL, NULL);
	ck_assert_int_eq(queue_defer_begin(q), 0);
	ck_assert_int_eq(claim_and_route(q, id), 0);
	ck_assert_int_eq(queue_defer_end(q, 0), 0);
	/* Nobody waits: the sync thread commits and syncs it in time. */
	for (i = 0; i < 500 && queue_delivery_next(q, "fin", 0, &d) == 0; i++)
		usleep(10 * 1000);
	ck_assert_int_eq(d.msg_id, id);
	queue_stats(q, &st);
	ck_assert_uint_ge(st.syncs, 1);
	ck_assert_uint_ge(st.lazy_ops, 2);
	queue_close(q);
	ck_assert_int_eq(test_sql_int("SELECT count(*) FROM msg WHERE state = 'done'"), 1);
}
END_TEST

/* leased_outside: messages with a lease, seen by an outside connection
 * (only what was committed). */
static int64_t leased_outside(void)
{
	return test_sql_int("SELECT count(*) FROM msg WHERE lease_token IS NOT NULL");
}

/* wait_leased_outside: poll leased_outside() for up to MS; its last value. */
static int64_t wait_leased_outside(int ms)
{
	int64_t n;
	int i;

	for (i = 0; (n = leased_outside()) == 0 && i < ms / 10; i++)
		usleep(10 * 1000);
	return n;
}

START_TEST(a_running_scope_holds_its_lazy_batch)
{
	struct queue_config cfg;
	struct queue_stats st0, st;
	struct queue_lease l;
	struct queue *q;

	test_config(&cfg, 1);
	cfg.group_adapt_us = 1000;
	cfg.group_lazy_us = 3 * 1000 * 1000;
	q = test_open(&cfg);
	test_put(q, "doc", NULL, NULL, NULL, NULL);
	queue_stats(q, &st0);
	ck_assert_int_eq(queue_defer_begin(q), 0);
	ck_assert_int_eq(queue_claim(q, "new", 60000, &l, NULL), 1);
	/* The scope runs on (a worker in the middle of a document): its batch,
	 * which nobody waits in, is not committed after group_adapt_us ... */
	usleep(200 * 1000);
	queue_stats(q, &st);
	ck_assert_uint_eq(st.batches, st0.batches);
	ck_assert_int_eq(leased_outside(), 0);
	/* ... but as soon as the last running scope ends (within a second,
	 * far below group_lazy_us). */
	ck_assert_int_eq(queue_defer_end(q, 0), 0);
	ck_assert_int_eq(wait_leased_outside(1000), 1);
	queue_stats(q, &st);
	ck_assert_uint_eq(st.batches, st0.batches + 1);
	queue_close(q);

	/* group_lazy_us below group_adapt_us: the batch of a running scope is
	 * committed after group_adapt_us, as it was without the hold. */
	test_config(&cfg, 1);
	cfg.group_adapt_us = 1000;
	cfg.group_lazy_us = 0;
	q = test_open(&cfg);
	ck_assert_int_eq(queue_lease_release(q, &l), 0);
	ck_assert_int_eq(leased_outside(), 0);
	ck_assert_int_eq(queue_defer_begin(q), 0);
	ck_assert_int_eq(queue_claim(q, "new", 60000, &l, NULL), 1);
	ck_assert_int_eq(wait_leased_outside(1000), 1);
	ck_assert_int_eq(queue_defer_end(q, 0), 0);
	queue_close(q);
}
END_TEST

/* queue_delivery_next's mark and queue_delivery_ack are one-statement
 * operations without a savepoint (queue__begin_one): one that rolls back
 * inside a shared batch must leave the batch's other operations alone, and
 * one alone in a fresh transaction must not keep it open. */
START_TEST(one_statement_operations_share_a_batch)
{
	struct queue *q = open_slow();
	struct queue_delivery d, none;
	int64_t id;

	/* Alone: an ACK of nothing rolls back the transaction it opened. */
	ck_assert_int_eq(queue_delivery_ack(q, 999999), SECMX_ENOTFOUND);
	id = test_put(q, "doc", NULL, NULL, NULL, NULL);
	ck_assert_int_eq(queue_defer_begin(q), 0);
	ck_assert_int_eq(claim_and_route(q, id), 0);
	/* In the open batch with the scope's writes: refused, theirs intact. */
	ck_assert_int_eq(queue_delivery_ack(q, 999999), SECMX_ENOTFOUND);
	ck_assert_int_eq(queue_defer_end(q, 1), 0);
	ck_assert_int_eq(test_sql_int("SELECT count(*) FROM msg WHERE state = 'done'"), 1);
	ck_assert_int_eq(test_sql_int("SELECT count(*) FROM delivery WHERE state = 'pending'"), 1);
	ck_assert_int_eq(queue_delivery_next(q, "fin", 0, &d), 1);
	ck_assert_int_eq(queue_delivery_next(q, "fin", 0, &none), 0); /* nothing else */
	ck_assert_int_eq(queue_delivery_ack(q, d.id), 0);
	ck_assert_int_eq(queue_delivery_ack(q, d.id), 1); /* again: harmless */
	queue_close(q);
	ck_assert_int_eq(test_sql_int("SELECT count(*) FROM delivery WHERE state = 'acked'"
	                              " AND attempts = 1"),
	                 1);
}
END_TEST

struct holder {
	struct queue *q;
	int64_t id;
	int rc;
};

static void *hold_one(void *arg)
{
	struct holder *h = arg;

	h->rc = queue_msg_hold(h->q, h->id, "test");
	return NULL;
}

/* hold_elsewhere: queue_msg_hold of ID from another thread (outside this
 * thread's scope); its result. */
static int hold_elsewhere(struct queue *q, int64_t id)
{
	struct holder h = {q, id, 0};
	pthread_t t;

	ck_assert_int_eq(pthread_create(&t, NULL, hold_one, &h), 0);
	pthread_join(t, NULL);
	return h.rc;
}

START_TEST(scope_stops_at_its_first_lost_batch)
{
	struct queue *q = open_slow();
	struct queue_lease l;
	int64_t id = test_put(q, "doc", NULL, NULL, NULL, NULL);

	ck_assert_int_eq(queue_defer_begin(q), 0);
	ck_assert_int_eq(queue_claim(q, "new", 60000, &l, NULL), 1);
	ck_assert_int_eq(queue_step_advance(q, &l, "check", "ok", NULL, "checked"), 0);
	/* The batch holding both is refused at COMMIT (a normal operation of
	 * another thread commits it: it waits, and is told). */
	queue__fault_commit(q, 1, 1);
	ck_assert_int_eq(hold_elsewhere(q, id), SECMX_EIO);
	/* Every later operation of the scope fails: nothing after a loss. */
	ck_assert_int_eq(queue_step_advance(q, &l, "route", "ok", NULL, "routed"), SECMX_EIO);
	ck_assert_int_eq(queue_defer_end(q, 1), SECMX_EIO);
	ck_assert_int_eq(test_sql_int("SELECT count(*) FROM step"), 0);
	ck_assert_int_eq(test_sql_int("SELECT count(*) FROM msg WHERE state = 'new'"
	                              " AND lease_token IS NULL"),
	                 1);
	/* Outside the scope the queue goes on. */
	ck_assert_int_eq(queue_claim(q, "new", 60000, &l, NULL), 1);
	ck_assert_int_eq(queue_step_record(q, &l, "check", "ok", NULL, "checked"), 0);
	ck_assert_int_eq(test_sql_int("SELECT count(*) FROM step"), 1);
	queue_close(q);
}
END_TEST

START_TEST(failed_sync_breaks_the_queue)
{
	struct queue_config cfg;
	struct queue *q;
	struct queue_msg_in in = {0};
	struct queue_put_result r;

	test_config(&cfg, 1);
	q = test_open(&cfg);
	test_put(q, "before", NULL, NULL, NULL, NULL);
	queue__fault_sync(q, 1);
	in.data = "lost?";
	in.len = 5;
	/* Committed but not known durable: not accepted ... */
	ck_assert_int_eq(queue_msg_put(q, &in, &r), SECMX_EIO);
	/* ... and nothing is accepted any more: what reached the disk is
	 * unknown until the store is opened again. */
	in.data = "after";
	ck_assert_int_eq(queue_msg_put(q, &in, &r), SECMX_EIO);
	ck_assert_int_eq(queue_defer_begin(q), 0);
	ck_assert_int_eq(queue_msg_put(q, &in, &r), SECMX_EIO);
	ck_assert_int_eq(queue_defer_end(q, 1), 0); /* nothing of it was stored */
	queue_close(q);
	q = test_open(&cfg);
	ck_assert_int_eq(queue_msg_put(q, &in, &r), 0);
	queue_close(q);
	ck_assert_int_eq(test_sql_int("SELECT count(*) FROM msg_body"
	                              " WHERE body = CAST('after' AS BLOB)"),
	                 1);
}
END_TEST

static atomic_uint durable_calls;

static void count_durable(void *arg)
{
	(void)arg;
	atomic_fetch_add(&durable_calls, 1);
}

START_TEST(on_durable_is_called)
{
	struct queue_config cfg;
	struct queue *q;

	test_config(&cfg, 1);
	cfg.on_durable = count_durable;
	atomic_store(&durable_calls, 0);
	q = test_open(&cfg);
	test_put(q, "one", NULL, NULL, NULL, NULL);
	/* The put returned: its batch is durable, the call came before. */
	ck_assert_uint_ge(atomic_load(&durable_calls), 1);
	queue_close(q);
}
END_TEST

/* What on_committed saw: calls, new messages, and calls made while the
 * batch was committed but not yet durable. */
static struct {
	struct queue *q;
	unsigned calls, fresh, before_sync;
} committed;

/* note_committed: config.on_committed (the queue's lock is held). */
static void note_committed(void *arg, unsigned n)
{
	(void)arg;
	committed.calls++;
	committed.fresh += n;
	if (committed.q != NULL && committed.q->durable_seq < committed.q->commit_seq)
		committed.before_sync++;
}

START_TEST(on_committed_counts_new_messages_before_the_sync)
{
	struct queue_config cfg;
	struct queue_msg_in in = {0};
	struct queue_put_result r;
	struct queue_lease l;
	struct queue_msg_info info;
	struct queue *q;

	test_config(&cfg, 1);
	cfg.dup_policy = QUEUE_DUP_DROP;
	cfg.on_committed = note_committed;
	memset(&committed, 0, sizeof(committed));
	q = test_open(&cfg);
	committed.q = q;
	test_put(q, "one", "s", "Invoice", "INV-1", NULL);
	ck_assert_uint_eq(committed.calls, 1);
	ck_assert_uint_eq(committed.fresh, 1);
	/* Made while the batch was committed and not yet synced: the worker it
	 * wakes runs during the sync. */
	ck_assert_uint_eq(committed.before_sync, 1);
	/* A dropped duplicate and a message in another state are no new work. */
	in.data = "one";
	in.len = 3;
	in.sender = "s";
	in.doc_type = "Invoice";
	in.doc_id = "INV-1";
	ck_assert_int_eq(queue_msg_put(q, &in, &r), 0);
	ck_assert_int_eq(r.dropped, 1);
	in.doc_id = "bundle-1";
	in.state = "bundle";
	ck_assert_int_eq(queue_msg_put(q, &in, &r), 0);
	ck_assert_uint_eq(committed.fresh, 1);
	/* Other writes do not call it. */
	ck_assert_int_eq(queue_claim(q, QUEUE_STATE_NEW, 0, &l, &info), 1);
	ck_assert_int_eq(queue_step_record(q, &l, "validate", "ok", NULL, "validated"), 0);
	ck_assert_uint_eq(committed.fresh, 1);
	test_put(q, "two", NULL, NULL, NULL, NULL);
	ck_assert_uint_eq(committed.fresh, 2);
	ck_assert_uint_eq(committed.before_sync, committed.calls);
	queue_close(q);
	/* Without group commit there is no shared batch: never called. */
	test_config(&cfg, 0);
	cfg.on_committed = note_committed;
	memset(&committed, 0, sizeof(committed));
	q = test_open(&cfg);
	test_put(q, "three", NULL, NULL, NULL, NULL);
	ck_assert_uint_eq(committed.calls, 0);
	queue_close(q);
}
END_TEST

/* file_size: the size of PATH in bytes (0 when absent). */
static off_t file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? sb.st_size : 0;
}

/* Under group commit the sync thread checkpoints (SQLite's automatic
 * checkpoint, which ran inside a COMMIT with the lock held, is off): the
 * stored bytes reach the database file, and the WAL stays under its bound
 * (store_sqlite.c CKPT_HARD_PAGES 4,000 pages, plus a batch, in 4 KiB pages
 * and 24-byte frame headers) instead of growing with what is stored. */
#define WAL_BOUND ((4000 + 1000) * (4096 + 24))
START_TEST(the_sync_thread_checkpoints)
{
	struct queue_config cfg;
	struct queue_stats st;
	struct queue *q;
	char *text = malloc(8192 + 1), wal[4200];
	int i;

	ck_assert_ptr_nonnull(text);
	memset(text, 'x', 8192);
	text[8192] = '\0';
	test_config(&cfg, 1);
	q = test_open(&cfg);
	for (i = 0; i < 2500; i++) { /* 20 MB: far more WAL pages than the bound */
		text[i % 8192] = (char)('a' + i % 26);
		test_put(q, text, NULL, NULL, NULL, NULL);
	}
	queue_stats(q, &st);
	ck_assert_uint_ge(st.checkpoints, 1);
	ck_assert_int_ge(file_size(test_db()), 2500 * 8192);
	snprintf(wal, sizeof(wal), "%s-wal", test_db());
	ck_assert_int_lt(file_size(wal), WAL_BOUND);
	queue_close(q);
	/* Without group commit, SQLite's own checkpoint as before. */
	test_config(&cfg, 0);
	q = test_open(&cfg);
	test_put(q, text, NULL, NULL, NULL, NULL);
	queue_stats(q, &st);
	ck_assert_uint_eq(st.checkpoints, 0);
	queue_close(q);
	free(text);
}
END_TEST

START_TEST(deliveries_stored_before_reopen_go_out)
{
	/* After a restart every delivery already stored is durable, and a
	 * later batch must not hide it. */
	struct queue_config cfg;
	struct queue *q;
	struct queue_delivery d;
	int64_t id, did = 0;

	test_config(&cfg, 1);
	q = test_open(&cfg);
	id = test_put(q, "doc", NULL, NULL, NULL, NULL);
	ck_assert_int_eq(queue_delivery_add(q, id, "fin", "k1", &did), 0);
	queue_close(q);
	q = test_open(&cfg);
	test_put(q, "another", NULL, NULL, NULL, NULL); /* a batch, synced */
	ck_assert_int_eq(queue_delivery_next(q, "fin", 0, &d), 1);
	ck_assert_int_eq(d.id, did);
	queue_close(q);
}
END_TEST

START_TEST(without_group_commit_scopes_change_nothing)
{
	struct queue_config cfg;
	struct queue *q;
	struct queue_delivery d;
	int64_t id;

	test_config(&cfg, 0);
	q = test_open(&cfg);
	id = test_put(q, "doc", NULL, NULL, NULL, NULL);
	ck_assert_int_eq(queue_defer_begin(q), 0);
	ck_assert_int_eq(claim_and_route(q, id), 0);
	/* Each operation committed (and synced) on its own. */
	ck_assert_int_eq(test_sql_int("SELECT count(*) FROM msg WHERE state = 'done'"), 1);
	ck_assert_int_eq(queue_delivery_next(q, "fin", 0, &d), 1);
	ck_assert_int_eq(queue_defer_end(q, 1), 0);
	queue_close(q);
}
END_TEST

TCase *tc_defer(void)
{
	TCase *tc = tcase_create("defer");

	tcase_add_checked_fixture(tc, NULL, test_cleanup);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, scope_returns_before_commit);
	tcase_add_test(tc, scope_without_wait_is_committed_by_the_queue);
	tcase_add_test(tc, a_running_scope_holds_its_lazy_batch);
	tcase_add_test(tc, one_statement_operations_share_a_batch);
	tcase_add_test(tc, scope_stops_at_its_first_lost_batch);
	tcase_add_test(tc, failed_sync_breaks_the_queue);
	tcase_add_test(tc, on_durable_is_called);
	tcase_add_test(tc, on_committed_counts_new_messages_before_the_sync);
	tcase_add_test(tc, deliveries_stored_before_reopen_go_out);
	tcase_add_test(tc, the_sync_thread_checkpoints);
	tcase_add_test(tc, without_group_commit_scopes_change_nothing);
	return tc;
}
