/*
 * tc_faults.c — fault injection through seams (STYLE.md §9).
 *
 * fault_sweep: a fixed scenario of queue operations is run again and again,
 * the Nth commit failing each time (N = 1, 2, ... until a run sees no
 * failure). Whatever fails must leave no trace, whatever succeeded must be
 * there, and the store must stay consistent (every state change has its
 * step, integrity and foreign keys check out).
 *
 * disk_full: the store's connection is limited to a few pages
 * (max_page_count), so inserts fail with SQLITE_FULL as on a full disk; under
 * group commit from several threads every put that returned 0 is stored and
 * readable, and no refused put left a row.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue_int.h"
#include "tests.h"

/* scenario: the operations; returns how many failed. Counts successful
 * puts and delivery adds into *PUTS / *DLVS. */
static int scenario(struct queue *q, int *puts, int *dlvs)
{
	struct queue_msg_in in = {0};
	struct queue_put_result ra = {0, 0, 0}, rb = {0, 0, 0};
	struct queue_lease l;
	struct queue_delivery d;
	int64_t txn = 0;
	int failed = 0, rc;

	*puts = *dlvs = 0;
	in.data = "<Order/>";
	in.len = 8;
	in.txn_key = "T";
	if (queue_msg_put(q, &in, &ra) == 0)
		(*puts)++;
	else
		failed++;
	in.data = "<Invoice/>";
	in.len = 10;
	if (queue_msg_put(q, &in, &rb) == 0)
		(*puts)++;
	else
		failed++;
	if ((rc = queue_claim(q, "new", 0, &l, NULL)) < 0)
		failed++;
	if (rc == 1 && queue_step_record(q, &l, "s1", "ok", "{}", "one") < 0)
		failed++;
	if ((rc = queue_claim(q, "new", 0, &l, NULL)) < 0)
		failed++;
	if (rc == 1 && queue_msg_defer(q, &l, "later", 0) < 0)
		failed++;
	if (ra.id && (rc = queue_delivery_add(q, ra.id, "erp", NULL, NULL)) < 0)
		failed++;
	else if (ra.id && rc == 0)
		(*dlvs)++;
	if ((rc = queue_delivery_next(q, "erp", 0, &d)) < 0)
		failed++;
	if (rc == 1 && queue_delivery_ack(q, d.id) < 0)
		failed++;
	if ((rc = queue_txn_open(q, "T", QUEUE_TXN_ORDERED, ra.id, &txn)) < 0)
		failed++;
	if (rc >= 0 && queue_txn_set_state(q, txn, QUEUE_TXN_INVOICED, rb.id, NULL) < 0)
		failed++;
	if (rb.id && queue_msg_hold(q, rb.id, "t") < 0)
		failed++;
	return failed;
}

START_TEST(fault_sweep)
{
	unsigned n;
	int failed = 1, puts, dlvs, runs_with_failure = 0;

	for (n = 1; failed > 0 && n < 100; n++) {
		struct queue_config cfg;
		struct queue *q;

		test_cleanup();
		test_config(&cfg, n % 2); /* alternate: single puts, group commit */
		q = test_open(&cfg);
		queue__fault_commit(q, n, 1);
		failed = scenario(q, &puts, &dlvs);
		queue_close(q);
		if (failed > 0)
			runs_with_failure++;
		ck_assert_msg(failed <= 1, "commit %u: %d operations failed, expected 1", n,
		              failed);
		ck_assert_int_eq(test_sql_int("SELECT count(*) FROM msg"), puts);
		ck_assert_int_eq(test_sql_int("SELECT count(*) FROM delivery"), dlvs);
		ck_assert_int_eq(
		    test_sql_int("SELECT count(*) FROM msg m WHERE m.state = 'one' AND "
		                 "NOT EXISTS (SELECT 1 FROM step s WHERE s.msg_id = m.id)"),
		    0);
		ck_assert_int_eq(test_sql_int("SELECT count(*) FROM step s JOIN msg m ON m.id = "
		                              "s.msg_id WHERE m.state <> s.next_state"),
		                 0);
		ck_assert_int_eq(
		    test_sql_int("SELECT count(*) FROM txn t WHERE NOT EXISTS (SELECT 1 "
		                 "FROM txn_history h WHERE h.txn_id = t.id)"),
		    0);
		ck_assert_int_eq(test_sql_int("SELECT count(*) FROM pragma_foreign_key_check"), 0);
		ck_assert_int_eq(test_sql_int("SELECT count(*) FROM pragma_integrity_check WHERE "
		                              "integrity_check = 'ok'"),
		                 1);
	}
	/* Every commit of the scenario was failed once, then a clean run. */
	ck_assert_int_eq(failed, 0);
	ck_assert_int_ge(runs_with_failure, 10);
	printf("fault sweep: %d runs each failed one commit, then a clean run\n",
	       runs_with_failure);
}
END_TEST

#define FULL_THREADS 8

struct filler {
	struct queue *q;
	int ok_ids_n;
	int64_t ok_ids[200];
	int refused;
};

static void *fill(void *arg)
{
	struct filler *f = arg;
	static char big[8192];
	int i;

	memset(big, 'x', sizeof(big));
	for (i = 0; i < 200; i++) {
		struct queue_msg_in in = {0};
		struct queue_put_result r;
		int rc;

		in.data = big;
		in.len = sizeof(big);
		rc = queue_msg_put(f->q, &in, &r);
		if (rc == 0)
			f->ok_ids[f->ok_ids_n++] = r.id;
		else if (rc == SECMX_EIO)
			f->refused++;
		else
			ck_abort_msg("unexpected %s", secmx_strerror(rc));
	}
	return NULL;
}

START_TEST(disk_full)
{
	struct queue_config cfg;
	struct queue *q;
	struct filler f[FULL_THREADS];
	pthread_t t[FULL_THREADS];
	int i, j, ok = 0, refused = 0;

	test_config(&cfg, 1);
	q = test_open(&cfg);
	/* About 1 MB of pages: room for some 8 KB messages, not 1600. */
	pthread_mutex_lock(&q->lock);
	ck_assert_int_eq(q->ops->exec(q->st, "PRAGMA max_page_count = 256"), 0);
	pthread_mutex_unlock(&q->lock);
	memset(f, 0, sizeof(f));
	for (i = 0; i < FULL_THREADS; i++) {
		f[i].q = q;
		ck_assert_int_eq(pthread_create(&t[i], NULL, fill, &f[i]), 0);
	}
	for (i = 0; i < FULL_THREADS; i++) {
		pthread_join(t[i], NULL);
		ok += f[i].ok_ids_n;
		refused += f[i].refused;
	}
	ck_assert_int_gt(ok, 0);
	ck_assert_int_gt(refused, 0);
	ck_assert_int_eq(ok + refused, FULL_THREADS * 200);
	/* Everything accepted is there and intact; nothing refused is. */
	for (i = 0; i < FULL_THREADS; i++)
		for (j = 0; j < f[i].ok_ids_n; j++) {
			void *data = NULL;
			size_t len = 0;

			ck_assert_int_eq(queue_msg_get(q, f[i].ok_ids[j], &data, &len), 0);
			ck_assert_uint_eq(len, 8192);
			free(data);
		}
	queue_close(q);
	ck_assert_int_eq(test_sql_int("SELECT count(*) FROM msg"), ok);
	printf("disk full: %d puts accepted, %d refused, store consistent\n", ok, refused);
}
END_TEST

TCase *tc_faults(void)
{
	TCase *tc = tcase_create("faults");

	tcase_add_checked_fixture(tc, NULL, test_cleanup);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, fault_sweep);
	tcase_add_test(tc, disk_full);
	return tc;
}
