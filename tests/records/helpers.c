/*
 * helpers.c — the records suite's helpers (helpers.h).
 */
#define _GNU_SOURCE
#include "helpers.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

/* The retention classes of the tests (as the configuration default). */
static const char *const default_ret[] = {"Invoice=7y", "CreditNote=7y", "Order*=7y", "reject:*=1y",
                                          "*=7y"};

/* rt_store: see helpers.h. */
const char *rt_store(struct records **r)
{
	static char dir[64];
	char err[256] = "";

	snprintf(dir, sizeof(dir), "/tmp/secmx-records-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(records_open(dir, 1, r, err, sizeof(err)), 0);
	ck_assert_int_eq(records_set_retention(*r, default_ret, 5, err, sizeof(err)), 0);
	return dir;
}

/* rm_one: nftw callback removing one entry. */
static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

/* rt_rm: rm -r DIR. */
void rt_rm(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* tmp_one: nftw callback stopping at the first temp file. */
static int tmp_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	return strncmp(path + f->base, ".tmp-", 5) == 0;
}

/* rt_count_tmp: 1 if any temp file exists under DIR (nftw stops at the first). */
int rt_count_tmp(const char *dir)
{
	return nftw(dir, tmp_one, 16, FTW_PHYS);
}

/* Object files counted by obj_one. */
static int nobjects;

/* obj_one: nftw callback counting object files (not temp files). */
static int obj_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	nobjects += flag == FTW_F && strncmp(path + f->base, ".tmp-", 5) != 0;
	return 0;
}

/* rt_count_objects: see helpers.h. */
int rt_count_objects(const char *dir)
{
	char path[256];

	nobjects = 0;
	snprintf(path, sizeof(path), "%s/objects", dir);
	ck_assert_int_eq(nftw(path, obj_one, 16, FTW_PHYS), 0);
	return nobjects;
}

/* rt_invoice: a small UBL-like invoice numbered NUM. */
const char *rt_invoice(int num)
{
	static char buf[512];

	snprintf(buf, sizeof(buf),
	         "<?xml version=\"1.0\"?>\n<Invoice xmlns=\"urn:oasis:names:specification:ubl:"
	         "schema:xsd:Invoice-2\" xmlns:cbc=\"urn:oasis:names:specification:ubl:schema:"
	         "xsd:CommonBasicComponents-2\"><cbc:ID>INV-%d</cbc:ID><cbc:IssueDate>2026-11-0%d"
	         "</cbc:IssueDate></Invoice>\n",
	         num, 1 + num % 9);
	return buf;
}

/* rt_deliver: see helpers.h. */
int rt_deliver(struct records *r, const char *key, const char *type, const char *txn,
               const char *received_at, int valid, const char *doc, char *id, size_t idlen)
{
	json_t *env =
	    json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:i,s:s,s:{s:b,s:i,s:i}}", "delivery_id", "d1",
	              "idempotency_key", key, "message_id", key, "transaction_id", txn,
	              "document_type", type, "sender", "ap@supplier.example", "received_at",
	              received_at, "attempt", 1, "profile", "peppol-bis-billing-3", "validation",
	              "valid", valid, "errors", valid ? 0 : 3, "warnings", 0);
	char *text = json_dumps(env, JSON_COMPACT), err[256] = "";
	int rc =
	    records_ingest(r, text, doc, strlen(doc), "records-test", id, idlen, err, sizeof(err));

	if (rc < 0)
		fprintf(stderr, "ingest: %s\n", err);
	free(text);
	json_decref(env);
	return rc;
}

/* rt_verify: see helpers.h. */
int rt_verify(struct records *r, char *buf, size_t len)
{
	FILE *fp = fmemopen(buf, len, "w");
	int n;

	ck_assert_ptr_nonnull(fp);
	n = records_verify(r, fp, 0, "test");
	fclose(fp);
	buf[len - 1] = '\0';
	return n;
}

/* rt_sql: see helpers.h. */
int rt_sql(const char *dir, const char *sql)
{
	char path[256];
	sqlite3 *db = NULL;
	int rc;

	snprintf(path, sizeof(path), "%s/index.db", dir);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		return -1;
	rc = sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
	if (rc)
		fprintf(stderr, "sql: %s\n", sqlite3_errmsg(db));
	sqlite3_close(db);
	return rc;
}

/* rt_object: see helpers.h. */
int rt_object(struct records *r, const char *dir, const char *id, const char *role, char *buf,
              size_t len)
{
	char tmp[65536];
	FILE *fp = fmemopen(tmp, sizeof(tmp), "w");
	json_t *o;
	const char *hex;

	(void)dir;
	if (!fp || records_show(r, id, fp, 1) < 0) {
		if (fp)
			fclose(fp);
		return -1;
	}
	fclose(fp);
	tmp[sizeof(tmp) - 1] = '\0';
	o = json_loads(tmp, 0, NULL);
	hex = json_string_value(
	    json_object_get(json_object_get(json_object_get(o, "objects"), role), "sha256"));
	if (!hex) {
		json_decref(o);
		return -1;
	}
	records__object_path(r, hex, buf, len);
	json_decref(o);
	return 0;
}
