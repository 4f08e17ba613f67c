/*
 * tc_idem.c — idempotency on the envelope's idempotency key (a redelivery,
 * also after reopening the store, stores nothing twice; the same bytes under
 * another key are one object), and export bookkeeping (selection, an
 * "exported" action per record, the chain still verifies, an existing
 * directory is refused).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "common.h"
#include "helpers.h"

START_TEST(redelivery_stores_once)
{
	struct records *r;
	const char *dir = rt_store(&r);
	char id1[32], id2[32], out[4096], err[256];
	int objs;

	ck_assert_int_eq(rt_deliver(r, "k1", "Invoice", "t", "2026-11-29T01:02:03Z", 1,
	                            rt_invoice(1), id1, sizeof(id1)),
	                 1);
	objs = rt_count_objects(dir);
	ck_assert_int_eq(objs, 3); /* document (original = signed), report, envelope */
	ck_assert_int_eq(rt_deliver(r, "k1", "Invoice", "t", "2026-11-29T01:02:03Z", 1,
	                            rt_invoice(1), id2, sizeof(id2)),
	                 0);
	ck_assert_str_eq(id1, id2);
	records_close(r);
	ck_assert_int_eq(records_open(dir, 0, &r, err, sizeof(err)), 0);
	ck_assert_int_eq(rt_deliver(r, "k1", "Invoice", "t", "2026-11-29T01:02:03Z", 1,
	                            rt_invoice(1), id2, sizeof(id2)),
	                 0);
	ck_assert_int_eq(rt_count_objects(dir), objs);
	ck_assert_int_eq(rt_verify(r, out, sizeof(out)), 0);
	ck_assert_ptr_nonnull(strstr(out, "OK: 1 entries, 1 records"));
	/* same bytes, another key: a second record, the document object shared */
	ck_assert_int_eq(rt_deliver(r, "k2", "Invoice", "t", "2026-11-29T01:02:03Z", 1,
	                            rt_invoice(1), id2, sizeof(id2)),
	                 1);
	ck_assert_str_eq(id2, "REC-00000002");
	ck_assert_int_eq(rt_count_objects(dir), objs + 1); /* only the new envelope */
	records_close(r);
	rt_rm(dir);
}
END_TEST

START_TEST(export_bookkeeping)
{
	struct records *r;
	const char *dir = rt_store(&r);
	char id[32], out[8192], bag[256], err[256], path[512];
	struct records_select by_txn = {NULL, NULL, "t-A"};
	struct records_select by_date = {"2026-11-01", "2026-11-30", NULL};
	struct records_select bad = {"2026-11", "2026-11-30", NULL};
	struct records_select none = {"2020-01-01", "2020-01-02", NULL};
	/* Not a calendar day (was read as 2026-03-02), and a range backwards
	 * (was "no records selected", as if the archive were empty). */
	struct records_select feb30 = {"2026-02-30", "2026-11-30", NULL};
	struct records_select backwards = {"2026-11-30", "2026-11-01", NULL};
	char *buf = NULL;
	size_t len;

	ck_assert_int_eq(rt_deliver(r, "k1", "Order", "t-A", "2026-10-31T23:59:59Z", 1,
	                            rt_invoice(1), id, sizeof(id)),
	                 1);
	ck_assert_int_eq(rt_deliver(r, "k2", "Invoice", "t-A", "2026-11-01T00:00:00Z", 1,
	                            rt_invoice(2), id, sizeof(id)),
	                 1);
	ck_assert_int_eq(rt_deliver(r, "k3", "Invoice", "t-B", "2026-11-30T23:59:59Z", 1,
	                            rt_invoice(3), id, sizeof(id)),
	                 1);
	ck_assert_int_eq(rt_deliver(r, "k4", "Invoice", "t-B", "2026-12-01T00:00:00Z", 1,
	                            rt_invoice(4), id, sizeof(id)),
	                 1);
	snprintf(bag, sizeof(bag), "%s-bag1", dir);
	ck_assert_int_eq(records_export(r, &by_txn, bag, "Test Org", "archivist", err, sizeof(err)),
	                 2);
	snprintf(path, sizeof(path), "%s/data/REC-00000001/original.xml", bag);
	ck_assert_int_eq(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/data/REC-00000003", bag);
	ck_assert_int_eq(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/bag-info.txt", bag);
	ck_assert_int_eq(secmx_file_read(path, 1 << 16, &buf, &len), 0);
	ck_assert_ptr_nonnull(strstr(buf, "Source-Organization: Test Org\n"));
	ck_assert_ptr_nonnull(strstr(buf, "Bag-Count: 1 of 1\n"));
	free(buf);
	/* the same directory again: refused, nothing recorded */
	ck_assert_int_lt(records_export(r, &by_txn, bag, "Test Org", "archivist", err, sizeof(err)),
	                 0);
	rt_rm(bag);
	snprintf(bag, sizeof(bag), "%s-bag2", dir);
	ck_assert_int_eq(
	    records_export(r, &by_date, bag, "Test Org", "archivist", err, sizeof(err)), 2);
	snprintf(path, sizeof(path), "%s/data/REC-00000002/metadata.json", bag);
	ck_assert_int_eq(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/data/REC-00000003/metadata.json", bag);
	ck_assert_int_eq(access(path, F_OK), 0);
	rt_rm(bag);
	ck_assert_int_eq(records_export(r, &bad, bag, "O", "a", err, sizeof(err)), SECMX_EINVAL);
	ck_assert_int_eq(records_export(r, &feb30, bag, "O", "a", err, sizeof(err)), SECMX_EINVAL);
	ck_assert_int_eq(records_export(r, &backwards, bag, "O", "a", err, sizeof(err)),
	                 SECMX_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "is after --to"));
	ck_assert_int_eq(records_export(r, &none, bag, "O", "a", err, sizeof(err)),
	                 SECMX_ENOTFOUND);
	ck_assert_int_eq(access(bag, F_OK), -1);
	/* 4 received + 2 + 2 exported */
	ck_assert_int_eq(rt_verify(r, out, sizeof(out)), 0);
	ck_assert_ptr_nonnull(strstr(out, "OK: 8 entries"));
	{
		static char sbuf[65536];
		FILE *fp = fmemopen(sbuf, sizeof(sbuf), "w");
		json_t *o, *acts;

		ck_assert_int_eq(records_show(r, "REC-00000002", fp, 1), 0);
		fclose(fp);
		o = json_loads(sbuf, 0, NULL);
		acts = json_object_get(o, "actions");
		ck_assert_uint_eq(json_array_size(acts), 3);
		ck_assert_str_eq(
		    json_string_value(json_object_get(json_array_get(acts, 2), "action")),
		    "exported");
		ck_assert_str_eq(
		    json_string_value(json_object_get(json_array_get(acts, 2), "actor")),
		    "archivist");
		json_decref(o);
	}
	records_close(r);
	rt_rm(dir);
}
END_TEST

/* tc_idem: this file's test case. */
TCase *tc_idem(void)
{
	TCase *tc = tcase_create("idempotency_export");

	tcase_add_test(tc, redelivery_stores_once);
	tcase_add_test(tc, export_bookkeeping);
	return tc;
}
