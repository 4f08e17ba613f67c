/*
 * tc_group.c — group commit under concurrency, and failed commits.
 *
 * Many threads put at once: every put that returned 0 is in the store with
 * its own bytes, ids are distinct, and commits were shared. Through the
 * commit seam (queue__fault_commit, a real SQLite commit-hook refusal that
 * turns COMMIT into ROLLBACK) a failing commit fails EVERY put of its batch
 * and leaves none of them stored; puts after it succeed again.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue_int.h"
#include "tests.h"

#define THREADS 16
#define PER_THREAD 40

struct worker {
	struct queue *q;
	int n;
	int tid;
	int64_t ids[PER_THREAD];
	int rcs[PER_THREAD];
};

static void *put_many(void *arg)
{
	struct worker *w = arg;
	char text[128];
	int i;

	for (i = 0; i < w->n; i++) {
		struct queue_msg_in in = {0};
		struct queue_put_result r = {0, 0, 0};

		snprintf(text, sizeof(text), "message %d of thread %d", i, w->tid);
		in.data = text;
		in.len = strlen(text);
		w->rcs[i] = queue_msg_put(w->q, &in, &r);
		w->ids[i] = r.id;
	}
	return NULL;
}

/* run: THREADS workers of N puts each; returns them (static). */
static struct worker *run(struct queue *q, int threads, int n)
{
	static struct worker w[THREADS];
	pthread_t t[THREADS];
	int i;

	memset(w, 0, sizeof(w));
	for (i = 0; i < threads; i++) {
		w[i].q = q;
		w[i].n = n;
		w[i].tid = i;
		ck_assert_int_eq(pthread_create(&t[i], NULL, put_many, &w[i]), 0);
	}
	for (i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	return w;
}

START_TEST(many_threads_all_durable)
{
	struct queue_config cfg;
	struct queue *q;
	struct queue_stats st;
	struct worker *w;
	char expect[128];
	int i, j;

	test_config(&cfg, 1);
	q = test_open(&cfg);
	w = run(q, THREADS, PER_THREAD);
	queue_stats(q, &st);
	queue_close(q);

	ck_assert_uint_eq(st.puts, THREADS * PER_THREAD);
	ck_assert_uint_eq(st.put_failures, 0);
	ck_assert_uint_le(st.commits, st.puts);
	ck_assert_int_eq(test_sql_int("SELECT count(DISTINCT id) FROM msg"), THREADS * PER_THREAD);
	/* Reopen and read every message back: each id holds its own bytes. */
	q = test_open(&cfg);
	for (i = 0; i < THREADS; i++)
		for (j = 0; j < PER_THREAD; j++) {
			void *data = NULL;
			size_t len = 0;

			ck_assert_int_eq(w[i].rcs[j], 0);
			ck_assert_int_eq(queue_msg_get(q, w[i].ids[j], &data, &len), 0);
			snprintf(expect, sizeof(expect), "message %d of thread %d", j, i);
			ck_assert_uint_eq(len, strlen(expect));
			ck_assert(memcmp(data, expect, len) == 0);
			free(data);
		}
	queue_close(q);
	printf("group commit: %llu puts in %llu commits (largest batch %llu)\n",
	       (unsigned long long)st.puts, (unsigned long long)st.commits,
	       (unsigned long long)st.max_batch);
}
END_TEST

START_TEST(window_batches)
{
	/* With a window the committer waits for the batch to fill: 8 threads
	 * of 1 put share one commit. */
	struct queue_config cfg;
	struct queue *q;
	struct queue_stats st;

	test_config(&cfg, 1);
	cfg.group_max_batch = 8;
	cfg.group_window_us = 5 * 1000 * 1000;
	q = test_open(&cfg);
	run(q, 8, 1);
	queue_stats(q, &st);
	queue_close(q);
	ck_assert_uint_eq(st.puts, 8);
	ck_assert_uint_eq(st.commits, 1);
	ck_assert_uint_eq(st.max_batch, 8);
}
END_TEST

START_TEST(failed_commit_fails_whole_batch)
{
	struct queue_config cfg;
	struct queue *q;
	struct queue_stats st;
	struct worker *w;
	int i;

	test_config(&cfg, 1);
	cfg.group_max_batch = 8;
	cfg.group_window_us = 5 * 1000 * 1000;
	q = test_open(&cfg);
	queue__fault_commit(q, 1, 1);
	w = run(q, 8, 1);
	for (i = 0; i < 8; i++)
		ck_assert_msg(w[i].rcs[0] == SECMX_EIO, "put %d: %s", i,
		              secmx_strerror(w[i].rcs[0]));
	queue_stats(q, &st);
	ck_assert_uint_eq(st.puts, 0);
	ck_assert_uint_eq(st.put_failures, 8);
	ck_assert_int_eq(test_sql_int("SELECT count(*) FROM msg"), 0);
	/* The next batch commits normally. */
	w = run(q, 8, 1);
	for (i = 0; i < 8; i++)
		ck_assert_int_eq(w[i].rcs[0], 0);
	queue_close(q);
	ck_assert_int_eq(test_sql_int("SELECT count(*) FROM msg"), 8);
}
END_TEST

/* The shared transaction: every write operation (not only puts) of
 * concurrent threads joins one COMMIT. With a fixed window and a batch of
 * 8, eight threads recording one step each share exactly one COMMIT; with
 * that COMMIT refused, all eight fail and none of their steps is stored,
 * and the same records succeed afterwards. */
struct stepper {
	struct queue *q;
	struct queue_lease lease;
	int rc;
};

static void *record_one(void *arg)
{
	struct stepper *s = arg;

	s->rc = queue_step_advance(s->q, &s->lease, "check", "ok", "{}", "checked");
	return NULL;
}

/* eight_steps: 8 threads record a step of their own leased message. */
static void eight_steps(struct queue *q, struct stepper *sp)
{
	pthread_t t[8];
	int i;

	for (i = 0; i < 8; i++) {
		sp[i].q = q;
		ck_assert_int_eq(pthread_create(&t[i], NULL, record_one, &sp[i]), 0);
	}
	for (i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
}

START_TEST(shared_transaction_all_operations)
{
	struct queue_config cfg;
	struct queue *q;
	struct queue_stats st;
	struct stepper sp[8];
	int i;

	test_config(&cfg, 1);
	q = test_open(&cfg);
	memset(sp, 0, sizeof(sp));
	for (i = 0; i < 8; i++)
		test_put(q, "doc", NULL, NULL, NULL, NULL);
	for (i = 0; i < 8; i++)
		ck_assert_int_eq(queue_claim(q, "new", 60000, &sp[i].lease, NULL), 1);
	queue_close(q);

	/* Reopen (the leases stay) with a fixed window and batches of 8. */
	cfg.group_max_batch = 8;
	cfg.group_window_us = 5 * 1000 * 1000;
	q = test_open(&cfg);
	queue_stats(q, &st);
	{
		uint64_t batches0 = st.batches, ops0 = st.batched_ops;

		queue__fault_commit(q, 1, 1);
		eight_steps(q, sp);
		for (i = 0; i < 8; i++)
			ck_assert_msg(sp[i].rc == SECMX_EIO, "step %d: %s", i,
			              secmx_strerror(sp[i].rc));
		ck_assert_int_eq(test_sql_int("SELECT count(*) FROM step"), 0);
		ck_assert_int_eq(test_sql_int("SELECT count(*) FROM msg WHERE state = 'new'"), 8);
		eight_steps(q, sp);
		for (i = 0; i < 8; i++)
			ck_assert_int_eq(sp[i].rc, 0);
		queue_stats(q, &st);
		ck_assert_uint_eq(st.batches - batches0, 1); /* the refused one is not counted */
		ck_assert_uint_eq(st.batched_ops - ops0, 8);
		ck_assert_uint_eq(st.max_batch_ops, 8);
	}
	queue_close(q);
	ck_assert_int_eq(test_sql_int("SELECT count(*) FROM step"), 8);
	ck_assert_int_eq(test_sql_int("SELECT count(*) FROM msg WHERE state = 'checked'"), 8);
}
END_TEST

START_TEST(failed_commit_single)
{
	/* Without group commit: the second commit fails, the first and third
	 * messages are stored, the second is not (and its caller was told). */
	struct queue_config cfg;
	struct queue *q;
	struct queue_msg_in in = {0};
	struct queue_put_result r;

	test_config(&cfg, 0);
	q = test_open(&cfg);
	queue__fault_commit(q, 2, 1);
	in.data = "one";
	in.len = 3;
	ck_assert_int_eq(queue_msg_put(q, &in, &r), 0);
	in.data = "two";
	ck_assert_int_eq(queue_msg_put(q, &in, &r), SECMX_EIO);
	ck_assert_int_eq(r.id, 0);
	in.data = "six";
	ck_assert_int_eq(queue_msg_put(q, &in, &r), 0);
	queue_close(q);
	ck_assert_int_eq(test_sql_int("SELECT count(*) FROM msg"), 2);
	ck_assert_int_eq(test_sql_int("SELECT count(*) FROM msg_body WHERE body = CAST('two' AS BLOB)"),
	                 0);
}
END_TEST

START_TEST(duplicate_reject_inside_batch)
{
	/* One put of a batch refused (duplicate under "reject") does not harm
	 * the others: its savepoint is rolled back, theirs commit. */
	struct queue_config cfg;
	struct queue *q;
	struct queue_msg_in in = {0};
	struct queue_put_result r;

	test_config(&cfg, 1);
	cfg.dup_policy = QUEUE_DUP_REJECT;
	q = test_open(&cfg);
	in.data = "x";
	in.len = 1;
	in.sender = "s";
	in.doc_type = "Invoice";
	in.doc_id = "1";
	ck_assert_int_eq(queue_msg_put(q, &in, &r), 0);
	ck_assert_int_eq(queue_msg_put(q, &in, &r), SECMX_EDUPLICATE);
	in.doc_id = "2";
	ck_assert_int_eq(queue_msg_put(q, &in, &r), 0);
	queue_close(q);
	ck_assert_int_eq(test_sql_int("SELECT count(*) FROM msg"), 2);
}
END_TEST

struct tally {
	pthread_mutex_t lock;
	pthread_cond_t cv;
	int calls, ok, eio, bad_id;
};

static void on_put(void *arg, int rc, const struct queue_put_result *res)
{
	struct tally *t = arg;

	pthread_mutex_lock(&t->lock);
	t->calls++;
	if (rc == 0 && res != NULL && res->id > 0)
		t->ok++;
	else if (rc == SECMX_EIO && res == NULL)
		t->eio++;
	else
		t->bad_id++;
	pthread_cond_signal(&t->cv);
	pthread_mutex_unlock(&t->lock);
}

START_TEST(submit_without_blocking)
{
	/* 100 submitted puts, one thread, no waiting: each callback says
	 * accepted; with the 1st commit failing, the puts of that batch are
	 * reported not accepted, and close waits for every callback. */
	struct queue_config cfg;
	struct queue *q;
	struct queue_msg_in in = {0};
	struct tally t;
	int i, group;

	for (group = 0; group <= 1; group++) {
		test_cleanup();
		memset(&t, 0, sizeof(t));
		pthread_mutex_init(&t.lock, NULL);
		pthread_cond_init(&t.cv, NULL);
		test_config(&cfg, group);
		q = test_open(&cfg);
		in.data = "submitted";
		in.len = 9;
		queue__fault_commit(q, 1, 1);
		for (i = 0; i < 100; i++)
			ck_assert_int_eq(queue_msg_submit(q, &in, on_put, &t), 0);
		ck_assert_int_eq(queue_msg_submit(q, &in, NULL, &t), SECMX_EINVAL);
		queue_close(q);
		ck_assert_int_eq(t.calls, 100);
		ck_assert_int_eq(t.bad_id, 0);
		ck_assert_int_ge(t.eio, 1);
		ck_assert_int_eq(t.ok + t.eio, 100);
		ck_assert_int_eq(test_sql_int("SELECT count(*) FROM msg"), t.ok);
		pthread_cond_destroy(&t.cv);
		pthread_mutex_destroy(&t.lock);
	}
}
END_TEST

TCase *tc_group(void)
{
	TCase *tc = tcase_create("group");

	tcase_add_checked_fixture(tc, NULL, test_cleanup);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, many_threads_all_durable);
	tcase_add_test(tc, window_batches);
	tcase_add_test(tc, failed_commit_fails_whole_batch);
	tcase_add_test(tc, failed_commit_single);
	tcase_add_test(tc, shared_transaction_all_operations);
	tcase_add_test(tc, duplicate_reject_inside_batch);
	tcase_add_test(tc, submit_without_blocking);
	return tc;
}
