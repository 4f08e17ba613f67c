/*
 * tc_dup.c — duplicate policy for a (sender, document id, type) seen before:
 * reject, accept-and-drop, accept-and-flag, and off. A different sender,
 * type or id is not a duplicate; messages without all three are never
 * duplicates.
 */
#include <string.h>

#include "tests.h"

/* put_doc: put with a key; returns the rc and fills *R. */
static int put_doc(struct queue *q, const char *sender, const char *type, const char *id,
                   struct queue_put_result *r)
{
	struct queue_msg_in in = {0};

	in.data = "<Invoice/>";
	in.len = 10;
	in.sender = sender;
	in.doc_type = type;
	in.doc_id = id;
	return queue_msg_put(q, &in, r);
}

START_TEST(policy_reject)
{
	struct queue_config cfg;
	struct queue *q;
	struct queue_put_result r;

	test_config(&cfg, 1);
	cfg.dup_policy = QUEUE_DUP_REJECT;
	q = test_open(&cfg);
	ck_assert_int_eq(put_doc(q, "0088:123", "Invoice", "INV-1", &r), 0);
	ck_assert_int_eq(put_doc(q, "0088:123", "Invoice", "INV-1", &r), SECMX_EDUPLICATE);
	ck_assert_int_eq(r.id, 0);
	/* Not duplicates: another sender, type, id; or no key at all. */
	ck_assert_int_eq(put_doc(q, "0088:999", "Invoice", "INV-1", &r), 0);
	ck_assert_int_eq(put_doc(q, "0088:123", "CreditNote", "INV-1", &r), 0);
	ck_assert_int_eq(put_doc(q, "0088:123", "Invoice", "INV-2", &r), 0);
	ck_assert_int_eq(put_doc(q, NULL, "Invoice", "INV-1", &r), 0);
	ck_assert_int_eq(put_doc(q, NULL, "Invoice", "INV-1", &r), 0);
	queue_close(q);
	ck_assert_int_eq(test_sql_int("SELECT count(*) FROM msg"), 6);
}
END_TEST

START_TEST(policy_drop)
{
	struct queue_config cfg;
	struct queue *q;
	struct queue_put_result r;
	struct queue_lease l;
	int64_t first;

	test_config(&cfg, 0);
	cfg.dup_policy = QUEUE_DUP_DROP;
	q = test_open(&cfg);
	ck_assert_int_eq(put_doc(q, "s", "Order", "PO-1", &r), 0);
	first = r.id;
	ck_assert_int_eq(put_doc(q, "s", "Order", "PO-1", &r), 0);
	ck_assert_int_gt(r.id, first);
	ck_assert_int_eq(r.dup_of, first);
	ck_assert_int_eq(r.dropped, 1);
	/* Only the first is ever processed. */
	ck_assert_int_eq(queue_claim(q, "new", 0, &l, NULL), 1);
	ck_assert_int_eq(l.msg_id, first);
	ck_assert_int_eq(queue_claim(q, "new", 0, &l, NULL), 0);
	ck_assert_int_eq(queue_claim(q, "dropped", 0, &l, NULL), SECMX_EINVAL);
	queue_close(q);
	ck_assert_int_eq(test_sql_int("SELECT count(*) FROM msg WHERE state = 'dropped'"), 1);
}
END_TEST

START_TEST(policy_flag_and_off)
{
	struct queue_config cfg;
	struct queue *q;
	struct queue_put_result r;
	struct queue_msg_info info;
	int64_t first;

	test_config(&cfg, 0);
	q = test_open(&cfg); /* the default policy is "flag" */
	ck_assert_int_eq(put_doc(q, "s", "Invoice", "A", &r), 0);
	first = r.id;
	ck_assert_int_eq(put_doc(q, "s", "Invoice", "A", &r), 0);
	ck_assert_int_eq(r.dup_of, first);
	ck_assert_int_eq(r.dropped, 0);
	ck_assert_int_eq(queue_msg_info(q, r.id, &info), 0);
	ck_assert_int_eq(info.dup_of, first);
	ck_assert_str_eq(info.state, "new");
	queue_close(q);
	/* Policy off: the same file, same key, no mark. */
	cfg.dup_policy = QUEUE_DUP_ACCEPT;
	q = test_open(&cfg);
	ck_assert_int_eq(put_doc(q, "s", "Invoice", "A", &r), 0);
	ck_assert_int_eq(r.dup_of, 0);
	queue_close(q);
}
END_TEST

TCase *tc_dup(void)
{
	TCase *tc = tcase_create("dup");

	tcase_add_checked_fixture(tc, NULL, test_cleanup);
	tcase_add_test(tc, policy_reject);
	tcase_add_test(tc, policy_drop);
	tcase_add_test(tc, policy_flag_and_off);
	return tc;
}
