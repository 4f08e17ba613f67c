/*
 * tc_config.c — the [records] configuration: every key documented in
 * docs/records.md, the defaults (patterns "*" and "reject:*", retention
 * classes that records_set_retention accepts), a file loaded, and unknown
 * keys refused with file and line.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "helpers.h"
#include "records_config.h"

START_TEST(documented)
{
	char *doc = NULL, missing[512] = "";
	size_t len;

	ck_assert_int_eq(secmx_file_read(SECMX_SOURCE_DIR "/docs/records.md", 1 << 20, &doc, &len),
	                 0);
	if (config_doc_missing(&records_config_table, doc, missing, sizeof(missing)) != 0)
		ck_abort_msg("docs/records.md lacks: %s", missing);
	free(doc);
}
END_TEST

START_TEST(defaults_and_load)
{
	struct records_cfg cfg;
	struct records *r;
	const char *dir = rt_store(&r);
	char path[256], err[512] = "", id[32], out[4096];
	FILE *fp, *list;

	snprintf(path, sizeof(path), "%s/r.ini", dir);
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fprintf(fp, "[records]\nstore_dir = %s/store\norganisation = Example Ltd\n", dir);
	fclose(fp);
	ck_assert_int_eq(config_load(&records_config_table, path, &cfg, err, sizeof(err)), 0);
	ck_assert_uint_eq(cfg.patterns.n, 2);
	ck_assert_str_eq(cfg.patterns.v[0], "*");
	ck_assert_str_eq(cfg.patterns.v[1], "reject:*");
	ck_assert_int_eq(cfg.credit, 1);
	ck_assert_str_eq(cfg.organisation, "Example Ltd");
	ck_assert_int_eq(records_set_retention(r, (const char *const *)cfg.retention.v,
	                                       cfg.retention.n, err, sizeof(err)),
	                 0);
	config_free(&records_config_table, &cfg);
	/* the default classes: a refused ReceiptAdvice is a reject (1 year),
	 * not an Advice (7 years); an Order 7 years */
	ck_assert_int_eq(rt_deliver(r, "k1", "reject:ReceiptAdvice", "t", "2026-03-01T00:00:00Z", 0,
	                            "<x", id, sizeof(id)),
	                 1);
	ck_assert_int_eq(rt_deliver(r, "k2", "ReceiptAdvice", "t", "2026-03-01T00:00:00Z", 1,
	                            rt_invoice(2), id, sizeof(id)),
	                 1);
	list = fmemopen(out, sizeof(out), "w");
	ck_assert_int_eq(records_list(r, list, 0), 0);
	fclose(list);
	ck_assert_ptr_nonnull(strstr(out, "REC-00000001  kept      2026-03-01T00:00:00Z  "
	                                  "reject:ReceiptAdvice  keep-until 2027-03-01"));
	ck_assert_ptr_nonnull(strstr(out, "REC-00000002  kept      2026-03-01T00:00:00Z  "
	                                  "ReceiptAdvice       keep-until 2033-03-01"));

	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fprintf(fp, "[records]\nstore_dir = %s/store\norganisation = X\nretension = 1\n", dir);
	fclose(fp);
	ck_assert_int_eq(config_load(&records_config_table, path, &cfg, err, sizeof(err)),
	                 SECMX_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err, "r.ini:4"));
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fprintf(fp, "[records]\norganisation = X\n");
	fclose(fp);
	ck_assert_int_eq(config_load(&records_config_table, path, &cfg, err, sizeof(err)),
	                 SECMX_ECONFIG); /* store_dir is required */
	records_close(r);
	rt_rm(dir);
}
END_TEST

/* tc_config: this file's test case. */
TCase *tc_config(void)
{
	TCase *tc = tcase_create("config");

	tcase_add_test(tc, documented);
	tcase_add_test(tc, defaults_and_load);
	return tc;
}
