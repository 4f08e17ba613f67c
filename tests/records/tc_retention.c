/*
 * tc_retention.c — retention classes and disposal, on a fake clock
 * (records_set_now): classes parsed and refused; no approval before expiry;
 * one approval, recorded with who and why; execution removes the content
 * objects, keeps the envelope, metadata and hashes, leaves a tombstone and
 * the chain still verifies; content shared with a live record is kept.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "common.h"
#include "helpers.h"

/* at: set the fake clock to DAY. */
static void at(struct records *r, const char *day)
{
	time_t t;

	ck_assert_int_eq(records_parse_time(day, &t), 0);
	records_set_now(r, t);
}

START_TEST(classes)
{
	struct records *r;
	const char *dir = rt_store(&r);
	const char *bad[] = {"Invoice=7",    "Invoice=0y",  "=7y",
	                     "Invoice=201y", "In voice=7y", "Invoice"};
	const char *only_inv[] = {"Invoice=10y"};
	char err[256], id[32], out[4096];
	size_t i;
	FILE *fp;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_int_eq(records_set_retention(r, &bad[i], 1, err, sizeof(err)),
		                 SECMX_ECONFIG);
	ck_assert_int_eq(records_set_retention(r, only_inv, 1, err, sizeof(err)), 0);
	/* 29 February + 10 years: 1 March */
	ck_assert_int_eq(rt_deliver(r, "a", "Invoice", "t", "2028-02-29T23:00:00Z", 1,
	                            rt_invoice(1), id, sizeof(id)),
	                 1);
	ck_assert_int_eq(rt_deliver(r, "b", "Order", "t", "2028-02-29T23:00:00Z", 1, rt_invoice(2),
	                            id, sizeof(id)),
	                 1);
	fp = fmemopen(out, sizeof(out), "w");
	records_list(r, fp, 0);
	fclose(fp);
	ck_assert_ptr_nonnull(strstr(out, "REC-00000001  kept      2028-02-29T23:00:00Z  Invoice"
	                                  "             keep-until 2038-03-01"));
	ck_assert_ptr_nonnull(strstr(out, "keep-until 9999-12-31")); /* no class: permanent */
	records_close(r);
	rt_rm(dir);
}
END_TEST

START_TEST(dispose_after_expiry_with_approval)
{
	struct records *r;
	const char *dir = rt_store(&r);
	char id[32], rej[32], err[256], p_orig[512], p_rep[512], p_env[512], out[8192];
	json_t *o, *acts;
	FILE *fp;

	ck_assert_int_eq(rt_deliver(r, "i1", "Invoice", "t", "2026-11-29T01:02:03Z", 1,
	                            rt_invoice(1), id, sizeof(id)),
	                 1);
	ck_assert_int_eq(rt_deliver(r, "r1", "reject:Invoice", "t", "2026-11-29T01:02:03Z", 0,
	                            "<Invoice>bad", rej, sizeof(rej)),
	                 1);
	ck_assert_int_eq(rt_object(r, dir, rej, "original", p_orig, sizeof(p_orig)), 0);
	ck_assert_int_eq(rt_object(r, dir, rej, "report", p_rep, sizeof(p_rep)), 0);
	ck_assert_int_eq(rt_object(r, dir, rej, "envelope", p_env, sizeof(p_env)), 0);

	/* one day before the reject's year is up: refused, nothing recorded */
	at(r, "2027-11-28");
	ck_assert_int_eq(
	    records_dispose_approve(r, rej, "records.manager", "routine", err, sizeof(err)),
	    SECMX_ESTATE);
	ck_assert_ptr_nonnull(strstr(err, "must be kept until 2027-11-29"));
	ck_assert_int_eq(records_dispose_approve(r, "REC-00000099", "m", "x", err, sizeof(err)),
	                 SECMX_ENOTFOUND);
	ck_assert_int_eq(records_dispose_approve(r, rej, "", "routine", err, sizeof(err)),
	                 SECMX_EINVAL);
	/* executing without approval disposes of nothing */
	at(r, "2030-01-01");
	ck_assert_int_eq(records_dispose_execute(r, "ops", NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(access(p_orig, F_OK), 0);
	/* the invoice (7 years) is not due; the reject is */
	fp = fmemopen(out, sizeof(out), "w");
	ck_assert_int_eq(records_dispose_due(r, fp), 1);
	fclose(fp);
	ck_assert_ptr_nonnull(strstr(out, rej));
	ck_assert_int_eq(
	    records_dispose_approve(r, id, "records.manager", "early", err, sizeof(err)),
	    SECMX_ESTATE);
	ck_assert_int_eq(
	    records_dispose_approve(r, rej, "records.manager", "GDA 7.2 expired", err, sizeof(err)),
	    0);
	ck_assert_int_eq(
	    records_dispose_approve(r, rej, "records.manager", "again", err, sizeof(err)),
	    SECMX_ESTATE);
	ck_assert_int_eq(rt_verify(r, out, sizeof(out)), 0);
	ck_assert_int_eq(records_dispose_execute(r, "ops", NULL, err, sizeof(err)), 1);
	ck_assert_int_eq(access(p_orig, F_OK), -1);
	ck_assert_int_eq(access(p_rep, F_OK), -1);
	ck_assert_int_eq(access(p_env, F_OK), 0); /* metadata kept */
	/* the chain still verifies; the tombstone names who */
	ck_assert_int_eq(rt_verify(r, out, sizeof(out)), 0);
	ck_assert_ptr_nonnull(strstr(out, "OK: 4 entries, 2 records"));
	{
		static char sbuf[65536];

		fp = fmemopen(sbuf, sizeof(sbuf), "w");
		ck_assert_int_eq(records_show(r, rej, fp, 1), 0);
		fclose(fp);
		o = json_loads(sbuf, 0, NULL);
	}
	ck_assert_str_eq(json_string_value(json_object_get(o, "state")), "disposed");
	acts = json_object_get(o, "actions");
	ck_assert_uint_eq(json_array_size(acts), 3);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(acts, 1), "action")),
	                 "disposal-approved");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(acts, 1), "actor")),
	                 "records.manager");
	ck_assert_str_eq(json_string_value(json_object_get(
	                     json_object_get(json_array_get(acts, 1), "detail"), "reason")),
	                 "GDA 7.2 expired");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(acts, 2), "action")),
	                 "disposed");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(acts, 2), "at")),
	                 "2030-01-01T00:00:00Z");
	/* the hashes stay in the metadata */
	ck_assert_ptr_nonnull(
	    json_object_get(json_object_get(json_object_get(o, "objects"), "original"), "sha256"));
	json_decref(o);
	ck_assert_int_eq(records_dispose_approve(r, rej, "m", "x", err, sizeof(err)), SECMX_ESTATE);
	ck_assert_int_eq(records_dispose_execute(r, "ops", NULL, err, sizeof(err)), 0);
	/* tampering after disposal is still detected */
	ck_assert_int_eq(rt_sql(dir, "UPDATE records SET state = 'kept' WHERE id = 'REC-00000002'"),
	                 0);
	ck_assert_int_gt(rt_verify(r, out, sizeof(out)), 0);
	ck_assert_ptr_nonnull(strstr(out, "index state is \"kept\", the chain says \"disposed\""));
	records_close(r);
	rt_rm(dir);
}
END_TEST

/* The two-person rule: the approver's own --execute leaves the record
 * approved and says why (SECMX_ESTATE, a "refused" line), while another
 * approved record is still disposed of; another person's execute disposes
 * of it; with the rule off one person may do both. */
START_TEST(two_person_rule)
{
	struct records *r;
	const char *dir = rt_store(&r);
	char a[32], b[32], c[32], e[32], err[512] = "", *buf = NULL;
	size_t len = 0;
	FILE *out;

	ck_assert_int_eq(rt_deliver(r, "p1", "reject:Order", "t", "2026-01-01T00:00:00Z", 0,
	                            "<Order>1", a, sizeof(a)),
	                 1);
	ck_assert_int_eq(rt_deliver(r, "p2", "reject:Order", "t", "2026-01-01T00:00:00Z", 0,
	                            "<Order>2", b, sizeof(b)),
	                 1);
	ck_assert_int_eq(rt_deliver(r, "p3", "reject:Order", "t", "2026-01-01T00:00:00Z", 0,
	                            "<Order>3", c, sizeof(c)),
	                 1);
	ck_assert_int_eq(rt_deliver(r, "p4", "reject:Order", "t", "2026-01-01T00:00:00Z", 0,
	                            "<Order>4", e, sizeof(e)),
	                 1);
	at(r, "2027-02-01");
	ck_assert_int_eq(records_dispose_approve(r, a, "j.smith", "expired", err, sizeof(err)), 0);
	ck_assert_int_eq(records_dispose_approve(r, b, "k.jones", "expired", err, sizeof(err)), 0);
	out = open_memstream(&buf, &len);
	ck_assert_int_eq(records_dispose_execute(r, "j.smith", out, err, sizeof(err)), SECMX_ESTATE);
	fclose(out);
	{
		char want_a[96], want_b[96];

		snprintf(want_a, sizeof(want_a), "refused %s: approved by j.smith", a);
		snprintf(want_b, sizeof(want_b), "disposed %s\n", b); /* approved by another */
		ck_assert_msg(strstr(buf, want_a) && strstr(buf, want_b), "%s", buf);
	}
	ck_assert_msg(strstr(err, "two_person") != NULL, "%s", err);
	free(buf);
	/* the same name retyped is the same person */
	ck_assert_int_eq(records_dispose_execute(r, " J.SMITH ", NULL, err, sizeof(err)),
	                 SECMX_ESTATE);
	ck_assert_int_eq(records_dispose_execute(r, "J.Smith", NULL, err, sizeof(err)),
	                 SECMX_ESTATE);
	/* a is still approved (and only a): another person disposes of it */
	ck_assert_int_eq(records_dispose_execute(r, "ops", NULL, err, sizeof(err)), 1);
	/* names: case and spacing do not make another person; another name does */
	ck_assert_int_eq(records_dispose_approve(r, e, "Jane  Smith", "expired", err, sizeof(err)),
	                 0);
	ck_assert_int_eq(records_dispose_execute(r, " jane smith", NULL, err, sizeof(err)),
	                 SECMX_ESTATE);
	ck_assert_int_eq(records_dispose_execute(r, "Jane Smithers", NULL, err, sizeof(err)), 1);
	/* the rule off: the approver may execute */
	ck_assert_int_eq(records_dispose_approve(r, c, "j.smith", "expired", err, sizeof(err)), 0);
	records_set_two_person(r, 0);
	ck_assert_int_eq(records_dispose_execute(r, "j.smith", NULL, err, sizeof(err)), 1);
	ck_assert_int_eq(records_dispose_execute(r, "ops", NULL, err, sizeof(err)), 0);
	records_close(r);
	rt_rm(dir);
}
END_TEST

/* Two records with the same bytes: disposing of one keeps the object. */
START_TEST(shared_content_kept)
{
	struct records *r;
	const char *dir = rt_store(&r);
	char a[32], b[32], err[256], p[512], out[4096];

	ck_assert_int_eq(rt_deliver(r, "r1", "reject:Order", "t", "2026-01-01T00:00:00Z", 0,
	                            "<Order>same", a, sizeof(a)),
	                 1);
	ck_assert_int_eq(rt_deliver(r, "r2", "reject:Order", "t", "2026-06-01T00:00:00Z", 0,
	                            "<Order>same", b, sizeof(b)),
	                 1);
	ck_assert_int_eq(rt_object(r, dir, a, "original", p, sizeof(p)), 0);
	at(r, "2027-02-01");
	ck_assert_int_eq(records_dispose_approve(r, a, "m", "expired", err, sizeof(err)), 0);
	ck_assert_int_eq(records_dispose_approve(r, b, "m", "expired", err, sizeof(err)),
	                 SECMX_ESTATE);
	ck_assert_int_eq(records_dispose_execute(r, "ops", NULL, err, sizeof(err)), 1);
	ck_assert_int_eq(access(p, F_OK), 0);
	ck_assert_int_eq(rt_verify(r, out, sizeof(out)), 0);
	at(r, "2027-06-01");
	ck_assert_int_eq(records_dispose_approve(r, b, "m", "expired", err, sizeof(err)), 0);
	ck_assert_int_eq(records_dispose_execute(r, "ops", NULL, err, sizeof(err)), 1);
	ck_assert_int_eq(access(p, F_OK), -1);
	ck_assert_int_eq(rt_verify(r, out, sizeof(out)), 0);
	records_close(r);
	rt_rm(dir);
}
END_TEST

/* tc_retention: this file's test case. */
TCase *tc_retention(void)
{
	TCase *tc = tcase_create("retention");

	tcase_add_test(tc, classes);
	tcase_add_test(tc, dispose_after_expiry_with_approval);
	tcase_add_test(tc, shared_content_kept);
	tcase_add_test(tc, two_person_rule);
	return tc;
}
