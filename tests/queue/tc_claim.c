/*
 * tc_claim.c — work claims and steps, with the fake clock: leases and their
 * expiry, a step's result recorded with the next state (idempotent; a lost
 * lease cannot record), deferral with back-off, dead-letter by attempts and
 * by age, and the operator's hold / release / retry / remove (audited).
 */
#include <stdlib.h>
#include <string.h>

#include "tests.h"

START_TEST(claim_step_lease)
{
	struct queue_config cfg;
	struct queue *q;
	struct queue_lease a, b, c;
	struct queue_msg_info info;
	int64_t id1, id2;

	test_config(&cfg, 0);
	q = test_open(&cfg);
	id1 = test_put(q, "first", NULL, NULL, NULL, NULL);
	test_now += 1;
	id2 = test_put(q, "second", NULL, NULL, NULL, NULL);

	/* Oldest first; a leased message is not handed out twice. */
	ck_assert_int_eq(queue_claim(q, "new", 1000, &a, &info), 1);
	ck_assert_int_eq(a.msg_id, id1);
	ck_assert_int_eq(info.id, id1);
	ck_assert_int_eq(a.until, test_now + 1000);
	ck_assert_int_eq(queue_claim(q, "new", 1000, &b, NULL), 1);
	ck_assert_int_eq(b.msg_id, id2);
	ck_assert_int_eq(queue_claim(q, "new", 1000, &c, NULL), 0);
	ck_assert_int_eq(c.msg_id, 0);
	ck_assert_int_eq(queue_claim(q, "dead", 1000, &c, NULL), SECMX_EINVAL);

	/* The first worker records its step: state moves on, lease ends. */
	ck_assert_int_eq(queue_step_record(q, &a, "unlock", "ok", "{\"signer\":\"x\"}", "unlocked"),
	                 0);
	ck_assert_int_eq(queue_msg_info(q, id1, &info), 0);
	ck_assert_str_eq(info.state, "unlocked");
	/* Recording the same step again is harmless and changes nothing. */
	ck_assert_int_eq(queue_step_record(q, &a, "unlock", "ok", NULL, "elsewhere"), 1);
	ck_assert_int_eq(queue_msg_info(q, id1, &info), 0);
	ck_assert_str_eq(info.state, "unlocked");
	/* A different step with the old (spent) lease is refused. */
	ck_assert_int_eq(queue_step_record(q, &a, "verify", "ok", NULL, "verified"), SECMX_ESTATE);

	/* A long step renews its lease and keeps the message. */
	test_now += 900;
	ck_assert_int_eq(queue_lease_renew(q, &b, 1000), 0);
	ck_assert_int_eq(b.until, test_now + 1000);
	test_now += 900;
	ck_assert_int_eq(queue_claim(q, "new", 1000, &c, NULL), 0);

	/* The second worker "crashes": its lease expires and another takes it. */
	test_now += 101;
	ck_assert_int_eq(queue_claim(q, "new", 1000, &a, NULL), 1);
	ck_assert_int_eq(a.msg_id, id2);
	ck_assert_str_ne(a.token, b.token);
	/* The crashed worker's late record or renewal is refused: its lease
	 * was lost. */
	ck_assert_int_eq(queue_lease_renew(q, &b, 1000), SECMX_ESTATE);
	ck_assert_int_eq(queue_step_record(q, &b, "unlock", "ok", NULL, "unlocked"), SECMX_ESTATE);
	ck_assert_int_eq(queue_step_record(q, &a, "unlock", "ok", NULL, "unlocked"), 0);
	/* Reserved next states are refused. */
	ck_assert_int_eq(queue_claim(q, "unlocked", 0, &a, NULL), 1);
	ck_assert_int_eq(queue_step_record(q, &a, "x", "ok", NULL, "quarantined"), SECMX_EINVAL);
	ck_assert_int_eq(queue_step_record(q, &a, "x", "ok", "{not json", "verified"),
	                 SECMX_EINVAL);
	ck_assert_int_eq(queue_lease_release(q, &a), 0);
	ck_assert_int_eq(queue_lease_release(q, &a), SECMX_ESTATE);

	/* The step and its detail are in the message's JSON view. */
	{
		json_t *j = NULL, *st;

		ck_assert_int_eq(queue_show_json(q, id1, &j), 0);
		st = json_array_get(json_object_get(j, "steps"), 0);
		ck_assert_str_eq(json_string_value(json_object_get(st, "step")), "unlock");
		ck_assert_str_eq(json_string_value(json_object_get(st, "detail")),
		                 "{\"signer\":\"x\"}");
		ck_assert_str_eq(json_string_value(json_object_get(st, "next_state")), "unlocked");
		ck_assert_str_eq(json_string_value(json_object_get(j, "state")), "unlocked");
		json_decref(j);
		ck_assert_int_eq(queue_show_json(q, 4242, &j), SECMX_ENOTFOUND);
		ck_assert_ptr_null(j);
	}
	queue_close(q);
	ck_assert_int_eq(test_sql_int("SELECT count(*) FROM step"), 2);
}
END_TEST

/* queue_step_advance: the holder goes on from step to step under one
 * lease; nobody else can claim the message meanwhile; expiry still frees it. */
START_TEST(advance_keeps_lease)
{
	struct queue_config cfg;
	struct queue *q;
	struct queue_lease a, b;
	struct queue_msg_info info;
	int64_t id;

	test_config(&cfg, 0);
	cfg.lease_ms = 1000;
	q = test_open(&cfg);
	id = test_put(q, "doc", NULL, NULL, NULL, NULL);
	ck_assert_int_eq(queue_claim(q, "new", 0, &a, NULL), 1);
	test_now += 700;
	ck_assert_int_eq(queue_step_advance(q, &a, "check", "ok", "{}", "checked"), 0);
	ck_assert_int_eq(a.until, test_now + 1000); /* renewed */
	ck_assert_int_eq(queue_msg_info(q, id, &info), 0);
	ck_assert_str_eq(info.state, "checked");
	/* Still ours: no claim in the new state while the lease runs. */
	ck_assert_int_eq(queue_claim(q, "checked", 0, &b, NULL), 0);
	/* Recording again is harmless; the next step goes on at once. */
	ck_assert_int_eq(queue_step_advance(q, &a, "check", "ok", NULL, "elsewhere"), 1);
	ck_assert_int_eq(queue_step_advance(q, &a, "sign", "ok", NULL, "signed"), 0);
	/* The holder "crashes": after expiry another worker takes over from
	 * the last recorded step, and the old lease can record nothing. */
	test_now += 1001;
	ck_assert_int_eq(queue_claim(q, "signed", 0, &b, &info), 1);
	ck_assert_int_eq(b.msg_id, id);
	ck_assert_int_eq(queue_step_advance(q, &a, "route", "ok", NULL, "routed"),
	                 SECMX_ESTATE);
	ck_assert_int_eq(queue_step_record(q, &b, "route", "ok", NULL, "routed"), 0);
	ck_assert_int_eq(queue_msg_info(q, id, &info), 0);
	ck_assert_str_eq(info.state, "routed");
	queue_close(q);
	ck_assert_int_eq(test_sql_int("SELECT count(*) FROM step"), 3);
	ck_assert_int_eq(test_sql_int("SELECT count(*) FROM msg WHERE lease_token IS NULL"), 1);
}
END_TEST

START_TEST(defer_backoff_dead)
{
	struct queue_config cfg;
	struct queue *q;
	struct queue_lease l;
	struct queue_msg_info info;
	int64_t id, t;
	unsigned n;

	test_config(&cfg, 0);
	cfg.backoff_base_ms = 1000;
	cfg.backoff_max_ms = 8000;
	cfg.max_attempts = 5;
	cfg.max_age_ms = 0;
	q = test_open(&cfg);
	id = test_put(q, "peer is down", NULL, NULL, NULL, NULL);
	for (n = 1; n < 5; n++) {
		int64_t d = 1000LL << (n - 1);

		if (d > 8000)
			d = 8000;
		ck_assert_int_eq(queue_claim(q, "new", 0, &l, NULL), 1);
		t = test_now;
		ck_assert_int_eq(queue_msg_defer(q, &l, "connection refused", 0), 0);
		ck_assert_int_eq(queue_msg_info(q, id, &info), 0);
		ck_assert_uint_eq(info.attempts, n);
		ck_assert_str_eq(info.last_error, "connection refused");
		ck_assert_int_ge(info.next_attempt_at, t + d - d / 2);
		ck_assert_int_le(info.next_attempt_at, t + d);
		/* Not due before its time. */
		test_now = info.next_attempt_at - 1;
		ck_assert_int_eq(queue_claim(q, "new", 0, &l, NULL), 0);
		test_now = info.next_attempt_at;
	}
	ck_assert_int_eq(queue_claim(q, "new", 0, &l, NULL), 1);
	ck_assert_int_eq(queue_msg_defer(q, &l, "connection refused", 0), 1);
	ck_assert_int_eq(queue_msg_info(q, id, &info), 0);
	ck_assert_str_eq(info.state, "dead");
	ck_assert(strstr(info.last_error, "5 attempts") != NULL);
	ck_assert(strstr(info.last_error, "connection refused") != NULL);
	test_now += 100000000;
	ck_assert_int_eq(queue_claim(q, "new", 0, &l, NULL), 0);

	/* The operator retries: back in "new", attempts reset, due now. */
	ck_assert_int_eq(queue_msg_retry(q, id, "ops"), 0);
	ck_assert_int_eq(queue_msg_info(q, id, &info), 0);
	ck_assert_str_eq(info.state, "new");
	ck_assert_uint_eq(info.attempts, 0);
	ck_assert_int_eq(queue_claim(q, "new", 0, &l, NULL), 1);
	/* A permanent failure dead-letters at once. */
	ck_assert_int_eq(queue_msg_defer(q, &l, "550 no such user", 1), 1);
	ck_assert_int_eq(queue_msg_info(q, id, &info), 0);
	ck_assert_str_eq(info.state, "dead");
	queue_close(q);
	ck_assert_int_eq(test_sql_int("SELECT count(*) FROM audit WHERE action = 'dead'"), 2);
	ck_assert_int_eq(test_sql_int("SELECT count(*) FROM audit WHERE action = 'retry' AND "
	                              "who = 'ops'"),
	                 1);
}
END_TEST

START_TEST(dead_by_age)
{
	struct queue_config cfg;
	struct queue *q;
	struct queue_lease l;
	int64_t id;

	test_config(&cfg, 0);
	cfg.max_attempts = 0;
	cfg.max_age_ms = 3600 * 1000;
	q = test_open(&cfg);
	id = test_put(q, "old", NULL, NULL, NULL, NULL);
	ck_assert_int_eq(queue_claim(q, "new", 0, &l, NULL), 1);
	ck_assert_int_eq(queue_msg_defer(q, &l, "timeout", 0), 0);
	test_now += 3600 * 1000;
	ck_assert_int_eq(queue_claim(q, "new", 0, &l, NULL), 1);
	ck_assert_int_eq(l.msg_id, id);
	ck_assert_int_eq(queue_msg_defer(q, &l, "timeout", 0), 1);
	queue_close(q);
	ck_assert_int_eq(test_sql_int("SELECT count(*) FROM msg WHERE state = 'dead' AND "
	                              "last_error LIKE '%3600 s%'"),
	                 1);
}
END_TEST

START_TEST(hold_release_remove)
{
	struct queue_config cfg;
	struct queue *q;
	struct queue_lease l;
	int64_t id;
	void *data = NULL;
	size_t len;

	test_config(&cfg, 0);
	q = test_open(&cfg);
	id = test_put(q, "hold me", NULL, NULL, NULL, NULL);
	ck_assert_int_eq(queue_msg_hold(q, id, "alice"), 0);
	ck_assert_int_eq(queue_claim(q, "new", 0, &l, NULL), 0);
	ck_assert_int_eq(queue_msg_release(q, id, "alice"), 0);
	ck_assert_int_eq(queue_claim(q, "new", 0, &l, NULL), 1);
	ck_assert_int_eq(queue_step_record(q, &l, "deliver", "ok", NULL, "done"), 0);
	ck_assert_int_eq(queue_delivery_add(q, id, "finance", NULL, NULL), 0);
	ck_assert_int_eq(queue_msg_hold(q, 4242, "alice"), SECMX_ENOTFOUND);
	/* Removal needs a reason, and is audited with who and why. */
	ck_assert_int_eq(queue_msg_remove(q, id, "bob", NULL), SECMX_EINVAL);
	ck_assert_int_eq(queue_msg_remove(q, id, "bob", "sent in error"), 0);
	ck_assert_int_eq(queue_msg_get(q, id, &data, &len), SECMX_ENOTFOUND);
	ck_assert_int_eq(queue_msg_remove(q, id, "bob", "again"), SECMX_ENOTFOUND);
	queue_close(q);
	ck_assert_int_eq(test_sql_int("SELECT count(*) FROM audit WHERE action = 'remove' AND who "
	                              "= 'bob' AND reason LIKE 'sent in error%'"),
	                 1);
	ck_assert_int_eq(test_sql_int("SELECT count(*) FROM audit WHERE action IN "
	                              "('hold','release') AND who = 'alice'"),
	                 2);
	ck_assert_int_eq(test_sql_int("SELECT count(*) FROM step"), 0);
	ck_assert_int_eq(test_sql_int("SELECT count(*) FROM delivery"), 0);
}
END_TEST

TCase *tc_claim(void)
{
	TCase *tc = tcase_create("claim");

	tcase_add_checked_fixture(tc, NULL, test_cleanup);
	tcase_add_test(tc, claim_step_lease);
	tcase_add_test(tc, advance_keeps_lease);
	tcase_add_test(tc, defer_backoff_dead);
	tcase_add_test(tc, dead_by_age);
	tcase_add_test(tc, hold_release_remove);
	return tc;
}
