/*
 * tc_integrity.c — stored bytes are checked against their SHA-256 when read
 * back. The test damages a stored body with the sqlite3 API directly (as a
 * failing disk or a stray tool would); the read is refused, the entry is
 * quarantined and audited, never claimed or delivered, and only removal
 * gets rid of it.
 */
#include <stdlib.h>
#include <string.h>

#include "tests.h"

START_TEST(damaged_body_quarantined)
{
	struct queue_config cfg;
	struct queue *q;
	struct queue_msg_info info;
	struct queue_delivery d;
	struct queue_lease l;
	void *data = NULL;
	size_t len = 0;
	int64_t bad, good;
	char sql[200];

	test_config(&cfg, 0);
	q = test_open(&cfg);
	bad = test_put(q, "<Invoice>total 100.00</Invoice>", NULL, NULL, NULL, NULL);
	good = test_put(q, "<Invoice>total 200.00</Invoice>", NULL, NULL, NULL, NULL);
	ck_assert_int_eq(queue_delivery_add(q, bad, "finance", NULL, NULL), 0);
	/* One byte changed behind the queue's back: 100.00 becomes 900.00. */
	snprintf(sql, sizeof(sql),
	         "UPDATE msg_body SET body = CAST('<Invoice>total 900.00</Invoice>' AS BLOB) "
	         "WHERE msg_id = %lld",
	         (long long)bad);
	test_sql_exec(sql);

	ck_assert_int_eq(queue_msg_get(q, bad, &data, &len), SECMX_ECORRUPT);
	ck_assert_ptr_null(data);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(queue_msg_info(q, bad, &info), 0);
	ck_assert_str_eq(info.state, "quarantined");
	ck_assert(strstr(info.last_error, "sha256 mismatch") != NULL);
	/* Reported once, then refused as quarantined; never processed. */
	ck_assert_int_eq(queue_msg_get(q, bad, &data, &len), SECMX_ESTATE);
	ck_assert_int_eq(queue_claim(q, "quarantined", 0, &l, NULL), SECMX_EINVAL);
	ck_assert_int_eq(queue_delivery_next(q, "finance", 0, &d), 0);
	ck_assert_int_eq(queue_msg_retry(q, bad, "ops"), SECMX_ESTATE);
	/* The neighbour is untouched. */
	ck_assert_int_eq(queue_msg_get(q, good, &data, &len), 0);
	ck_assert(memcmp(data, "<Invoice>total 200.00</Invoice>", len) == 0);
	free(data);
	ck_assert_int_eq(queue_claim(q, "new", 0, &l, NULL), 1);
	ck_assert_int_eq(l.msg_id, good);
	ck_assert_int_eq(queue_msg_remove(q, bad, "ops", "damaged on disk"), 0);
	queue_close(q);
	ck_assert_int_eq(test_sql_int("SELECT count(*) FROM audit WHERE action = 'quarantine' AND "
	                              "who = 'queue' AND reason LIKE 'sha256 mismatch%'"),
	                 1);
}
END_TEST

START_TEST(truncated_body_quarantined)
{
	struct queue_config cfg;
	struct queue *q;
	void *data = NULL;
	size_t len = 0;
	int64_t id;

	test_config(&cfg, 0);
	q = test_open(&cfg);
	id = test_put(q, "abcdefgh", NULL, NULL, NULL, NULL);
	test_sql_exec("UPDATE msg_body SET body = substr(body, 1, 4)");
	ck_assert_int_eq(queue_msg_get(q, id, &data, &len), SECMX_ECORRUPT);
	queue_close(q);
	ck_assert_int_eq(test_sql_int("SELECT count(*) FROM msg WHERE state = 'quarantined'"), 1);
}
END_TEST

TCase *tc_integrity(void)
{
	TCase *tc = tcase_create("integrity");

	tcase_add_checked_fixture(tc, NULL, test_cleanup);
	tcase_add_test(tc, damaged_body_quarantined);
	tcase_add_test(tc, truncated_body_quarantined);
	return tc;
}
