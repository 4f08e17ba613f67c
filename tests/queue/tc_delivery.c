/*
 * tc_delivery.c — per-adapter deliveries: idempotency keys, order per
 * transaction for each adapter (never N+1 while N is unacknowledged),
 * adapters independent of each other, ack / transient and permanent NACK,
 * re-sending after an ack timeout or a reconnect, the age limit (NACK and
 * ack timeout), and held messages.
 */
#include <string.h>

#include <sqlite3.h>

#include "queue_int.h"
#include "tests.h"

/* Asking for a delivery when none is due is a read: it does not need the
 * store's write lock, so it answers at once while another process (here a
 * second connection, as secmx queue would be) holds that lock, with and
 * without group commit; a due delivery still needs it, and goes out once
 * the lock is free. */
START_TEST(empty_next_needs_no_write_lock)
{
	struct queue_config cfg;
	struct queue *q;
	struct queue_delivery d;
	sqlite3 *h = NULL;
	int64_t id, did = 0;
	int group;

	for (group = 0; group < 2; group++) {
		test_config(&cfg, group);
		cfg.busy_timeout_ms = 100;
		q = test_open(&cfg);
		id = test_put(q, "doc", NULL, NULL, NULL, NULL);
		ck_assert_int_eq(queue_delivery_add(q, id, "fin", "k1", &did), 0);
		ck_assert_int_eq(sqlite3_open_v2(test_db(), &h, SQLITE_OPEN_READWRITE, NULL),
		                 SQLITE_OK);
		ck_assert_int_eq(sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
		ck_assert_int_eq(queue_delivery_next(q, "records", 0, &d), 0);
		ck_assert_int_eq(d.id, 0);
		/* A due one must be marked sent: that waits for the lock. */
		ck_assert_int_lt(queue_delivery_next(q, "fin", 0, &d), 0);
		ck_assert_int_eq(sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(h);
		ck_assert_int_eq(queue_delivery_next(q, "fin", 0, &d), 1);
		ck_assert_int_eq(d.id, did);
		queue_close(q);
		test_cleanup();
	}
}
END_TEST

START_TEST(order_per_transaction)
{
	struct queue_config cfg;
	struct queue *q;
	struct queue_delivery d, e;
	int64_t order, invoice, other, d1, d2, d3, again;

	test_config(&cfg, 0);
	q = test_open(&cfg);
	order = test_put(q, "<Order/>", NULL, NULL, NULL, "T1");
	invoice = test_put(q, "<Invoice/>", NULL, NULL, NULL, "T1");
	other = test_put(q, "<Invoice/>", NULL, NULL, NULL, "T2");
	ck_assert_int_eq(queue_delivery_add(q, order, "finance", NULL, &d1), 0);
	ck_assert_int_eq(queue_delivery_add(q, invoice, "finance", NULL, &d2), 0);
	ck_assert_int_eq(queue_delivery_add(q, other, "finance", "env-other", &d3), 0);
	/* Same idempotency key: the same delivery, not a second one. */
	ck_assert_int_eq(queue_delivery_add(q, order, "finance", NULL, &again), 1);
	ck_assert_int_eq(again, d1);
	ck_assert_int_eq(queue_delivery_add(q, order, "records", NULL, NULL), 0);

	ck_assert_int_eq(queue_delivery_next(q, "finance", 1000, &d), 1);
	ck_assert_int_eq(d.id, d1);
	ck_assert_int_eq(d.seq, 1);
	ck_assert_str_eq(d.txn_key, "T1");
	ck_assert_str_eq(d.idem_key, "1.finance");
	ck_assert_uint_eq(d.attempts, 1);
	/* T1's invoice waits for the order's ack; T2 does not wait. */
	ck_assert_int_eq(queue_delivery_next(q, "finance", 1000, &e), 1);
	ck_assert_int_eq(e.id, d3);
	ck_assert_str_eq(e.idem_key, "env-other");
	ck_assert_int_eq(queue_delivery_next(q, "finance", 1000, &e), 0);
	/* Another adapter has its own order. */
	ck_assert_int_eq(queue_delivery_next(q, "records", 1000, &e), 1);
	ck_assert_int_eq(e.msg_id, order);

	ck_assert_int_eq(queue_delivery_ack(q, d1), 0);
	ck_assert_int_eq(queue_delivery_ack(q, d1), 1);
	ck_assert_int_eq(queue_delivery_next(q, "finance", 1000, &e), 1);
	ck_assert_int_eq(e.id, d2);
	ck_assert_int_eq(e.seq, 2);
	ck_assert_int_eq(queue_delivery_ack(q, 9999), SECMX_ENOTFOUND);
	ck_assert_int_eq(queue_delivery_add(q, 9999, "finance", NULL, NULL), SECMX_ENOTFOUND);
	queue_close(q);
}
END_TEST

START_TEST(nack_and_requeue)
{
	struct queue_config cfg;
	struct queue *q;
	struct queue_delivery d;
	int64_t m1, m2, id1, id2;
	json_t *list;
	char sql[200];

	test_config(&cfg, 0);
	cfg.backoff_base_ms = 1000;
	cfg.delivery_max_attempts = 3;
	q = test_open(&cfg);
	m1 = test_put(q, "a", NULL, NULL, NULL, "T");
	m2 = test_put(q, "b", NULL, NULL, NULL, "T");
	ck_assert_int_eq(queue_delivery_add(q, m1, "erp", NULL, &id1), 0);
	ck_assert_int_eq(queue_delivery_add(q, m2, "erp", NULL, &id2), 0);

	/* Transient NACK: backs off, and still blocks its successor. */
	ck_assert_int_eq(queue_delivery_next(q, "erp", 1000, &d), 1);
	ck_assert_int_eq(queue_delivery_nack(q, id1, 0, "busy"), 0);
	ck_assert_int_eq(queue_delivery_nack(q, id1, 0, "busy"), SECMX_ESTATE);
	ck_assert_int_eq(queue_delivery_next(q, "erp", 1000, &d), 0);
	test_now += 1000;
	ck_assert_int_eq(queue_delivery_next(q, "erp", 1000, &d), 1);
	ck_assert_int_eq(d.id, id1);
	ck_assert_uint_eq(d.attempts, 2);

	/* No ack within the timeout: re-sent after requeue. */
	ck_assert_int_eq(queue_delivery_requeue(q, "erp", 0), 0);
	test_now += 1000;
	ck_assert_int_eq(queue_delivery_requeue(q, "erp", 0), 1);
	ck_assert_int_eq(queue_delivery_next(q, "erp", 1000, &d), 1);
	ck_assert_int_eq(d.id, id1);
	ck_assert_uint_eq(d.attempts, 3);
	/* Third attempt refused transiently: the limit is reached, dead. */
	ck_assert_int_eq(queue_delivery_nack(q, id1, 0, "busy"), 1);
	/* A dead delivery no longer blocks the transaction. */
	ck_assert_int_eq(queue_delivery_next(q, "erp", 1000, &d), 1);
	ck_assert_int_eq(d.id, id2);
	/* Reconnect: everything sent and unacknowledged goes again. */
	ck_assert_int_eq(queue_delivery_requeue(q, "erp", 1), 1);
	ck_assert_int_eq(queue_delivery_next(q, "erp", 1000, &d), 1);
	ck_assert_int_eq(d.id, id2);
	ck_assert_int_eq(queue_delivery_nack(q, id2, 1, "schema rejected"), 1);
	ck_assert_int_eq(queue_delivery_ack(q, id2), SECMX_ESTATE);
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM delivery WHERE id = %lld AND state = 'dead' AND "
	         "last_error = 'permanent NACK: schema rejected'",
	         (long long)id2);
	ck_assert_int_eq(test_sql_int(sql), 1);
	/* The operator finds both under "dead", though the messages are not. */
	ck_assert_int_eq(queue_list_json(q, "dead", 0, &list), 0);
	ck_assert_uint_eq(json_array_size(list), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(list, 1), "id")), m2);
	json_decref(list);
	/* The operator's retry of the message brings its dead delivery back. */
	ck_assert_int_eq(queue_msg_retry(q, m2, "ops"), 0);
	ck_assert_int_eq(queue_delivery_next(q, "erp", 1000, &d), 1);
	ck_assert_int_eq(d.id, id2);
	ck_assert_int_eq(queue_delivery_ack(q, id2), 0);
	ck_assert_int_eq(queue_list_json(q, "dead", 0, &list), 0);
	ck_assert_uint_eq(json_array_size(list), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(list, 0), "id")), m1);
	json_decref(list);
	queue_close(q);
}
END_TEST

/* delivery_max_age: a delivery still failing an hour after it was made
 * dies at its next failure, a transient NACK or an ack timeout alike, with
 * a reason that names the age limit; before that it is retried; the
 * operator's retry counts its age afresh. */
START_TEST(age_limit)
{
	struct queue_config cfg;
	struct queue *q;
	struct queue_delivery d;
	int64_t m1, m2, id1, id2;
	char sql[300];
	int i;

	test_config(&cfg, 0);
	cfg.backoff_base_ms = 1000;
	cfg.backoff_max_ms = 60000;
	cfg.delivery_max_attempts = 0; /* only the age limit */
	cfg.delivery_max_age_ms = 3600 * 1000;
	q = test_open(&cfg);
	m1 = test_put(q, "a", NULL, NULL, NULL, NULL);
	m2 = test_put(q, "b", NULL, NULL, NULL, NULL);
	ck_assert_int_eq(queue_delivery_add(q, m1, "erp", NULL, &id1), 0);
	ck_assert_int_eq(queue_delivery_add(q, m2, "erp", NULL, &id2), 0);

	/* Both sent; the adapter reconnects: sent again, which is not a
	 * failure of either. */
	ck_assert_int_eq(queue_delivery_next(q, "erp", 1000, &d), 1);
	ck_assert_int_eq(d.id, id1);
	ck_assert_int_eq(queue_delivery_next(q, "erp", 1000, &d), 1);
	ck_assert_int_eq(d.id, id2);
	ck_assert_int_eq(queue_delivery_requeue(q, "erp", 1), 2);
	ck_assert_int_eq(queue_delivery_next(q, "erp", 1000, &d), 1);
	ck_assert_int_eq(queue_delivery_next(q, "erp", 1000, &d), 1);
	/* Every 10 minutes the first is refused transiently and the second
	 * not answered in time: both go on until the hour is up. */
	for (i = 0; i < 6; i++) {
		if (i > 0) {
			ck_assert_int_eq(queue_delivery_next(q, "erp", 1000, &d), 1);
			ck_assert_int_eq(d.id, id1);
		}
		ck_assert_int_eq(queue_delivery_nack(q, id1, 0, "ledger locked"), 0);
		ck_assert_int_eq(queue_delivery_timeout(q, id2, 1000, "no ACK within 100 ms"), 0);
		ck_assert_int_eq(queue_delivery_next(q, "erp", 1000, &d), 0);
		test_now += 600 * 1000; /* the last round ends 60 minutes on */
	}
	snprintf(sql, sizeof(sql),
	         "SELECT attempts FROM delivery WHERE id = %lld AND state = 'sent'"
	         " AND last_error = 'no ACK within 100 ms'",
	         (long long)id2);
	ck_assert_int_eq(test_sql_int(sql), 8);
	ck_assert_int_eq(queue_delivery_next(q, "erp", 1000, &d), 1);
	ck_assert_int_eq(d.id, id1);
	ck_assert_int_eq(queue_delivery_nack(q, id1, 0, "ledger locked"), 1);
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM delivery WHERE id = %lld AND state = 'dead' AND last_error ="
	         " 'delivery age limit exceeded (3600s old, limit 3600s); last error: ledger locked'",
	         (long long)id1);
	ck_assert_int_eq(test_sql_int(sql), 1);
	ck_assert_int_eq(queue_delivery_timeout(q, id2, 1000, "no ACK within 100 ms"), 1);
	ck_assert_int_eq(queue_delivery_timeout(q, id2, 1000, "no ACK"), SECMX_ESTATE);
	ck_assert_int_eq(queue_delivery_ack(q, id2), SECMX_ESTATE);
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM delivery WHERE id = %lld AND state = 'dead' AND last_error ="
	         " 'delivery age limit exceeded (3600s old, limit 3600s); last error: no ACK within"
	         " 100 ms'",
	         (long long)id2);
	ck_assert_int_eq(test_sql_int(sql), 1);
	ck_assert_int_eq(queue_delivery_next(q, "erp", 1000, &d), 0);

	/* Retried by the operator: a new hour, so a NACK backs off again. */
	ck_assert_int_eq(queue_msg_retry(q, m1, "ops"), 0);
	ck_assert_int_eq(queue_delivery_next(q, "erp", 1000, &d), 1);
	ck_assert_int_eq(d.id, id1);
	ck_assert_int_eq(queue_delivery_nack(q, id1, 0, "ledger locked"), 0);
	queue_close(q);
}
END_TEST

/* The attempts limit applies to ack timeouts too: the bus sends the
 * delivery again on each one, so each is an attempt. */
START_TEST(timeout_attempts_limit)
{
	struct queue_config cfg;
	struct queue *q;
	struct queue_delivery d;
	int64_t m1, id1;
	char sql[200];

	test_config(&cfg, 0);
	cfg.delivery_max_attempts = 3;
	q = test_open(&cfg);
	m1 = test_put(q, "a", NULL, NULL, NULL, NULL);
	ck_assert_int_eq(queue_delivery_add(q, m1, "erp", NULL, &id1), 0);
	ck_assert_int_eq(queue_delivery_next(q, "erp", 1000, &d), 1);
	ck_assert_int_eq(queue_delivery_timeout(q, id1, 1000, "no ACK"), 0);
	ck_assert_int_eq(queue_delivery_timeout(q, id1, 1000, "no ACK"), 0);
	ck_assert_int_eq(queue_delivery_timeout(q, id1, 1000, "no ACK"), 1);
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM delivery WHERE id = %lld AND state = 'dead' AND "
	         "last_error = 'no ACK; gave up after 3 attempts'",
	         (long long)id1);
	ck_assert_int_eq(test_sql_int(sql), 1);
	queue_close(q);
}
END_TEST

START_TEST(held_message_not_delivered)
{
	struct queue_config cfg;
	struct queue *q;
	struct queue_delivery d;
	int64_t m;

	test_config(&cfg, 0);
	q = test_open(&cfg);
	m = test_put(q, "x", NULL, NULL, NULL, NULL);
	ck_assert_int_eq(queue_delivery_add(q, m, "erp", "k1", NULL), 0);
	ck_assert_int_eq(queue_msg_hold(q, m, "ops"), 0);
	ck_assert_int_eq(queue_delivery_next(q, "erp", 0, &d), 0);
	ck_assert_int_eq(queue_msg_release(q, m, "ops"), 0);
	ck_assert_int_eq(queue_delivery_next(q, "erp", 0, &d), 1);
	ck_assert_int_eq(d.msg_id, m);
	ck_assert_str_eq(d.txn_key, "");
	queue_close(q);
}
END_TEST

/* queue_step_deliver: a step and its deliveries in one commit. A refused
 * COMMIT stores neither (and keeps the lease for the retry); a repeat
 * reports the deliveries that were already there. */
START_TEST(step_with_deliveries)
{
	struct queue_config cfg;
	struct queue *q;
	struct queue_lease l;
	struct queue_delivery d;
	const char *ads[] = {"fin", "records"};
	int existed[2] = {-1, -1};
	struct queue_deliveries dl = {0, ads, 2, "k-1", existed};
	int64_t doc;

	test_config(&cfg, 0);
	q = test_open(&cfg);
	doc = test_put(q, "doc", NULL, NULL, NULL, "T1");
	dl.msg_id = doc;
	ck_assert_int_eq(queue_claim(q, "new", 0, &l, NULL), 1);
	queue__fault_commit(q, 1, 1);
	ck_assert_int_eq(queue_step_deliver(q, &l, "route", "ok", "{}", "done", &dl), SECMX_EIO);
	ck_assert_int_eq(test_sql_int("SELECT count(*) FROM delivery"), 0);
	ck_assert_int_eq(test_sql_int("SELECT count(*) FROM step"), 0);
	ck_assert_int_eq(queue_step_deliver(q, &l, "route", "ok", "{}", "done", &dl), 0);
	ck_assert_int_eq(existed[0], 0);
	ck_assert_int_eq(existed[1], 0);
	ck_assert_int_eq(test_sql_int("SELECT count(*) FROM step WHERE step = 'route'"), 1);
	ck_assert_int_eq(test_sql_int("SELECT count(*) FROM delivery WHERE idem_key = 'k-1'"), 2);
	ck_assert_int_eq(queue_delivery_next(q, "records", 0, &d), 1);
	ck_assert_int_eq(d.msg_id, doc);
	ck_assert_str_eq(d.idem_key, "k-1");
	/* The same deliveries from another message's step are not added twice. */
	test_put(q, "copy", NULL, NULL, NULL, "T1");
	ck_assert_int_eq(queue_claim(q, "new", 0, &l, NULL), 1);
	ck_assert_int_eq(queue_step_deliver(q, &l, "route", "ok", NULL, "done", &dl), 0);
	ck_assert_int_eq(existed[0], 1);
	ck_assert_int_eq(existed[1], 1);
	ck_assert_int_eq(test_sql_int("SELECT count(*) FROM delivery"), 2);
	/* A bad adapter name refuses the whole step. */
	{
		const char *bad[] = {""};
		struct queue_deliveries b = {doc, bad, 1, NULL, NULL};

		ck_assert_int_eq(queue_step_deliver(q, &l, "x", "ok", NULL, "done", &b),
		                 SECMX_EINVAL);
	}
	queue_close(q);
}
END_TEST

TCase *tc_delivery(void)
{
	TCase *tc = tcase_create("delivery");

	tcase_add_checked_fixture(tc, NULL, test_cleanup);
	tcase_add_test(tc, empty_next_needs_no_write_lock);
	tcase_add_test(tc, order_per_transaction);
	tcase_add_test(tc, nack_and_requeue);
	tcase_add_test(tc, age_limit);
	tcase_add_test(tc, timeout_attempts_limit);
	tcase_add_test(tc, held_message_not_delivered);
	tcase_add_test(tc, step_with_deliveries);
	return tc;
}
