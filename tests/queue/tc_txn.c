/*
 * tc_txn.c — transactions as stored: open-or-find by key, state changes
 * with history, findings, and the JSON view with deliveries.
 */
#include <string.h>

#include "tests.h"

START_TEST(txn_lifecycle)
{
	struct queue_config cfg;
	struct queue *q;
	enum queue_txn_state st;
	int64_t id, id2, po, inv;
	json_t *j = NULL, *hist;

	test_config(&cfg, 0);
	q = test_open(&cfg);
	po = test_put(q, "<Order/>", NULL, "Order", "PO-1", "PO-1");
	inv = test_put(q, "<Invoice/>", NULL, "Invoice", "INV-1", "PO-1");
	ck_assert_int_eq(queue_txn_find(q, "PO-1", &id, &st), SECMX_ENOTFOUND);
	ck_assert_int_eq(queue_txn_open(q, "PO-1", QUEUE_TXN_ORDERED, po, &id), 1);
	ck_assert_int_eq(queue_txn_open(q, "PO-1", QUEUE_TXN_INVOICED, inv, &id2), 0);
	ck_assert_int_eq(id2, id);
	ck_assert_int_eq(queue_txn_find(q, "PO-1", &id2, &st), 0);
	ck_assert_int_eq(st, QUEUE_TXN_ORDERED);
	ck_assert_int_eq(queue_txn_set_state(q, id, QUEUE_TXN_INVOICED, inv, "invoice arrived"), 0);
	ck_assert_int_eq(queue_txn_set_state(q, id, QUEUE_TXN_DISPUTED, inv, NULL), 0);
	ck_assert_int_eq(
	    queue_txn_finding_add(q, id, inv, "MATCH-QTY", "error", "invoiced 12, ordered 10"), 0);
	ck_assert_int_eq(queue_txn_set_state(q, 4242, QUEUE_TXN_PAID, 0, NULL), SECMX_ENOTFOUND);
	ck_assert_int_lt(queue_txn_finding_add(q, 4242, 0, "R", "error", "no such txn"), 0);
	ck_assert_int_eq(queue_delivery_add(q, inv, "finance", NULL, NULL), 0);

	ck_assert_int_eq(queue_txn_json(q, "PO-1", &j), 0);
	ck_assert_str_eq(json_string_value(json_object_get(j, "state")), "disputed");
	hist = json_object_get(j, "history");
	ck_assert_uint_eq(json_array_size(hist), 3);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(hist, 1), "from_state")),
	                 "ordered");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(hist, 1), "to_state")),
	                 "invoiced");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(hist, 1), "note")),
	                 "invoice arrived");
	ck_assert_str_eq(json_string_value(json_object_get(
	                     json_array_get(json_object_get(j, "findings"), 0), "rule")),
	                 "MATCH-QTY");
	ck_assert_uint_eq(json_array_size(json_object_get(j, "deliveries")), 1);
	json_decref(j);
	ck_assert_int_eq(queue_txn_json(q, "nope", &j), SECMX_ENOTFOUND);
	ck_assert_ptr_null(j);
	queue_close(q);
}
END_TEST

START_TEST(txn_state_names)
{
	enum queue_txn_state st, back;
	const char *names[] = {"ordered", "invoiced",  "matched", "disputed",
	                       "paid",    "receipted", "closed"};
	unsigned i;

	for (i = 0; i < 7; i++) {
		st = (enum queue_txn_state)i;
		ck_assert_str_eq(queue_txn_state_name(st), names[i]);
		ck_assert_int_eq(queue_txn_state_parse(names[i], &back), 0);
		ck_assert_int_eq(back, st);
	}
	ck_assert_int_eq(queue_txn_state_parse("shipped", &back), SECMX_EINVAL);
	ck_assert_str_eq(queue_txn_state_name((enum queue_txn_state)99), "unknown");
}
END_TEST

TCase *tc_txn(void)
{
	TCase *tc = tcase_create("txn");

	tcase_add_checked_fixture(tc, NULL, test_cleanup);
	tcase_add_test(tc, txn_lifecycle);
	tcase_add_test(tc, txn_state_names);
	return tc;
}
