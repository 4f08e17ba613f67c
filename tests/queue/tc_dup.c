/*
 * tc_dup.c — duplicate policy for a (sender, document id, type) seen before:
 * reject, accept-and-drop, accept-and-flag, and off. A different sender,
 * type or id is not a duplicate; messages without all three are never
 * duplicates. A key that promises the content (same_bytes) refuses other
 * bytes under it, whatever the policy.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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

/* The outcome of a submitted put, set by the committer thread. */
static _Atomic int submit_rc;
static struct queue_put_result submit_res;

/* submit_cb: keep a submitted put's outcome (the result before the rc). */
static void submit_cb(void *arg, int rc, const struct queue_put_result *res)
{
	(void)arg;
	memset(&submit_res, 0, sizeof(submit_res));
	if (res != NULL)
		submit_res = *res;
	atomic_store(&submit_rc, rc);
}

/* same_put: put TEXT under key ("erp", "bus-submit", KEY) with same_bytes,
 * by queue_msg_submit when SUBMIT (the callback's result into *R). */
static int same_put(struct queue *q, const char *text, const char *key, int submit,
                    struct queue_put_result *r)
{
	struct queue_msg_in in = {0};
	int rc;

	in.data = text;
	in.len = strlen(text);
	in.sender = "erp";
	in.doc_type = "bus-submit";
	in.doc_id = key;
	in.same_bytes = 1;
	if (!submit)
		return queue_msg_put(q, &in, r);
	atomic_store(&submit_rc, 1);
	if ((rc = queue_msg_submit(q, &in, submit_cb, NULL)) < 0)
		return rc;
	while (atomic_load(&submit_rc) == 1)
		usleep(1000);
	*r = submit_res;
	return atomic_load(&submit_rc);
}

/* A key that promises the content (a bus SUBMIT's idempotency key): other
 * bytes under it are refused and not stored, naming the first message,
 * under the flag and the accept policy alike, by put and by submit; the
 * same bytes again are accepted as before. */
START_TEST(same_bytes_promised)
{
	static const enum queue_dup_policy POLICY[] = {QUEUE_DUP_FLAG, QUEUE_DUP_ACCEPT};
	struct queue_config cfg;
	struct queue *q;
	struct queue_put_result r;
	char k1[8], k2[8];
	int64_t first;
	int i;

	for (i = 0; i < 2; i++) {
		snprintf(k1, sizeof(k1), "k1-%d", i);
		snprintf(k2, sizeof(k2), "k2-%d", i);
		test_config(&cfg, i);
		cfg.dup_policy = POLICY[i];
		q = test_open(&cfg);
		ck_assert_int_eq(same_put(q, "<Order>1</Order>", k1, i, &r), 0);
		first = r.id;
		ck_assert_int_eq(same_put(q, "<Order>2</Order>", k1, i, &r), SECMX_ECONFLICT);
		ck_assert_int_eq(r.id, 0);
		ck_assert_int_eq(r.dup_of, first);
		ck_assert_int_eq(same_put(q, "<Order>1</Order>", k1, i, &r), 0);
		ck_assert_int_eq(r.dup_of, i == 0 ? first : 0);
		ck_assert_int_eq(same_put(q, "<Order>2</Order>", k2, i, &r), 0);
		queue_close(q);
	}
	/* Per round: the first, its retry, and the other key's. */
	ck_assert_int_eq(test_sql_int("SELECT count(*) FROM msg"), 6);
	ck_assert_int_eq(test_sql_int("SELECT count(*) FROM msg WHERE doc_id LIKE 'k1-%'"), 4);
	ck_assert_int_eq(
	    test_sql_int("SELECT count(*) FROM msg m JOIN msg_body b ON b.msg_id = m.id"
	                 " WHERE m.doc_id LIKE 'k1-%'"
	                 " AND CAST(b.body AS TEXT) = '<Order>2</Order>'"),
	    0);
}
END_TEST

TCase *tc_dup(void)
{
	TCase *tc = tcase_create("dup");

	tcase_add_checked_fixture(tc, NULL, test_cleanup);
	tcase_add_test(tc, policy_reject);
	tcase_add_test(tc, policy_drop);
	tcase_add_test(tc, policy_flag_and_off);
	tcase_add_test(tc, same_bytes_promised);
	return tc;
}
