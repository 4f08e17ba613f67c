/*
 * tc_batch.c — secmx-records' bursts (records_batch_begin/commit/rollback):
 * a burst is invisible to other processes until its one commit and then
 * whole, in delivery order on the one chain; a failed delivery in the
 * middle leaves the others; a failed flush leaves nothing; death inside
 * the flush (SIGKILL after the objects are durable, and after the index
 * commit) leaves a store that verifies and a redelivery that stores each
 * record exactly once. Every test runs twice, once per records.sync mode
 * (the loop index is the enum records_sync): the modes differ only in how
 * the files are made durable, so every assertion holds for both. Also: the
 * kernel version check that guards `sync = filesystem`.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "common.h"
#include "helpers.h"

/* cb_first: sqlite3_exec callback keeping the first column as a number. */
static int cb_first(void *arg, int n, char **v, char **names)
{
	(void)names;
	*(long *)arg = n > 0 && v[0] ? strtol(v[0], NULL, 10) : -1;
	return 0;
}

/* other_count: SQL (one number) on DIR/index.db from another connection. */
static long other_count(const char *dir, const char *sql)
{
	char path[256];
	sqlite3 *db = NULL;
	long n = -1;

	snprintf(path, sizeof(path), "%s/index.db", dir);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, sql, cb_first, &n, NULL), SQLITE_OK);
	sqlite3_close(db);
	return n;
}

/* sync_mode: the records.sync mode of loop test run I. */
static enum records_sync sync_mode(int i)
{
	return i == 0 ? RECORDS_SYNC_FILES : RECORDS_SYNC_FILESYSTEM;
}

/* open_mode: records_open DIR into *R with sync mode I; records_open's value. */
static int open_mode(const char *dir, int create, struct records **r, int i)
{
	char err[256];
	int rc = records_open(dir, create, r, err, sizeof(err));

	if (rc < 0)
		return rc;
	return records_set_sync(*r, sync_mode(i), err, sizeof(err));
}

/* store_mode: rt_store with sync mode I. */
static const char *store_mode(struct records **r, int i)
{
	const char *dir = rt_store(r);
	char err[256] = "";

	ck_assert_msg(records_set_sync(*r, sync_mode(i), err, sizeof(err)) == 0, "%s", err);
	return dir;
}

/* deliver_n: invoices FROM..TO-1 under keys b<N>, each returning WANT. */
static void deliver_n(struct records *r, int from, int to, int want)
{
	char key[32], id[32];
	int j;

	for (j = from; j < to; j++) {
		snprintf(key, sizeof(key), "b%d", j);
		ck_assert_int_eq(rt_deliver(r, key, "Invoice", "t-b", "2026-11-29T01:02:03Z", 1,
		                            rt_invoice(j), id, sizeof(id)),
		                 want);
	}
}

/* A burst: nothing visible before the commit (no record row, no object
 * under its name), everything after; a key delivered twice in the burst is
 * stored once; the chain's entries follow the delivery order. */
START_TEST(burst_once_in_order)
{
	struct records *r;
	const char *dir = store_mode(&r, _i);
	char err[256] = "", out[4096], id[32];

	ck_assert_int_eq(records_batch_begin(r, err, sizeof(err)), 0);
	deliver_n(r, 0, 8, 1);
	deliver_n(r, 2, 3, 0); /* redelivered inside the burst */
	ck_assert_int_eq(other_count(dir, "SELECT COUNT(*) FROM records"), 0);
	ck_assert_int_eq(rt_count_objects(dir), 0);
	ck_assert_int_eq(rt_count_tmp(dir), 1);
	ck_assert_int_eq(records_batch_commit(r, err, sizeof(err)), 0);
	ck_assert_int_eq(rt_count_tmp(dir), 0);
	ck_assert_int_eq(other_count(dir, "SELECT COUNT(*) FROM records"), 8);
	/* 8 documents and 8 envelopes differ; the 8 reports are the same bytes */
	ck_assert_int_eq(rt_count_objects(dir), 17);
	/* b5 is the 6th delivery: entry 6, record REC-00000006 */
	ck_assert_int_eq(other_count(dir, "SELECT seq FROM records WHERE idem_key = 'b5'"), 6);
	ck_assert_int_eq(rt_deliver(r, "b5", "Invoice", "t-b", "2026-11-29T01:02:03Z", 1,
	                            rt_invoice(5), id, sizeof(id)),
	                 0);
	ck_assert_str_eq(id, "REC-00000006");
	ck_assert_int_eq(rt_verify(r, out, sizeof(out)), 0);
	ck_assert_msg(strstr(out, "OK: 8 entries, 8 records") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "lags") == NULL, "%s", out); /* chain.head rewritten */
	/* the next burst continues the same chain */
	ck_assert_int_eq(records_batch_begin(r, err, sizeof(err)), 0);
	deliver_n(r, 8, 10, 1);
	ck_assert_int_eq(records_batch_commit(r, err, sizeof(err)), 0);
	ck_assert_int_eq(rt_verify(r, out, sizeof(out)), 0);
	ck_assert_msg(strstr(out, "OK: 10 entries, 10 records") != NULL, "%s", out);
	records_close(r);
	rt_rm(dir);
}
END_TEST

/* Failures in the middle of a burst: a bad envelope (permanent) and a
 * store failure after the objects (transient) fail alone; the others of
 * the burst are committed and the chain has no gap. */
START_TEST(failure_in_middle)
{
	struct records *r;
	const char *dir = store_mode(&r, _i);
	char err[256] = "", out[4096], id[32];

	ck_assert_int_eq(records_batch_begin(r, err, sizeof(err)), 0);
	deliver_n(r, 0, 3, 1);
	ck_assert_int_eq(records_ingest(r, "{\"idempotency_key\":", "<x/>", 4, "t", id, sizeof(id),
	                                err, sizeof(err)),
	                 SECMX_EPARSE);
	records_set_fail(r, RECORDS_FAIL_AFTER_OBJECTS);
	deliver_n(r, 3, 4, SECMX_EIO);
	records_set_fail(r, RECORDS_FAIL_NONE);
	deliver_n(r, 4, 7, 1);
	ck_assert_int_eq(records_batch_commit(r, err, sizeof(err)), 0);
	ck_assert_int_eq(other_count(dir, "SELECT COUNT(*) FROM records"), 6);
	ck_assert_int_eq(other_count(dir, "SELECT COUNT(*) FROM records WHERE idem_key='b3'"), 0);
	ck_assert_int_eq(rt_verify(r, out, sizeof(out)), 0);
	ck_assert_msg(strstr(out, "OK: 6 entries, 6 records") != NULL, "%s", out);
	deliver_n(r, 3, 4, 1); /* the transient one, redelivered */
	ck_assert_int_eq(rt_verify(r, out, sizeof(out)), 0);
	ck_assert_msg(strstr(out, "OK: 7 entries, 7 records") != NULL, "%s", out);
	records_close(r);
	rt_rm(dir);
}
END_TEST

/* fail_files: a flush hook failing after the objects are durable. */
static int fail_files(void *arg, enum records_flush_stage stage)
{
	(void)arg;
	return stage == RECORDS_FLUSH_FILES_DURABLE;
}

/* A flush that fails before the index commit: SECMX_EIO, no record, no
 * temp file left; the store verifies and the next burst works. */
START_TEST(flush_fails)
{
	struct records *r;
	const char *dir = store_mode(&r, _i);
	char err[256] = "", out[4096];

	ck_assert_int_eq(records_batch_begin(r, err, sizeof(err)), 0);
	deliver_n(r, 0, 4, 1);
	records_set_flush_hook(r, fail_files, NULL);
	ck_assert_int_eq(records_batch_commit(r, err, sizeof(err)), SECMX_EIO);
	records_set_flush_hook(r, NULL, NULL);
	ck_assert_int_eq(other_count(dir, "SELECT COUNT(*) FROM entries"), 0);
	ck_assert_int_eq(rt_count_tmp(dir), 0);
	ck_assert_int_eq(rt_verify(r, out, sizeof(out)), 0);
	ck_assert_int_eq(records_batch_begin(r, err, sizeof(err)), 0);
	deliver_n(r, 0, 4, 1);
	ck_assert_int_eq(records_batch_commit(r, err, sizeof(err)), 0);
	ck_assert_int_eq(rt_verify(r, out, sizeof(out)), 0);
	ck_assert_msg(strstr(out, "OK: 4 entries, 4 records") != NULL, "%s", out);
	records_close(r);
	rt_rm(dir);
}
END_TEST

/* die_at: a flush hook that kills the process at the stage in ARG. */
static int die_at(void *arg, enum records_flush_stage stage)
{
	if (stage == *(enum records_flush_stage *)arg)
		raise(SIGKILL);
	return 0;
}

/* killed_burst: in a child, open DIR, store invoices 0..5 in one batch and
 * die by SIGKILL in the flush at STAGE. */
static void killed_burst(const char *dir, enum records_flush_stage stage, int i)
{
	pid_t pid = fork();
	int st;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct records *c = NULL;
		char err[256];

		if (open_mode(dir, 0, &c, i) < 0 ||
		    records_batch_begin(c, err, sizeof(err)) < 0)
			_exit(10);
		deliver_n(c, 0, 6, 1);
		records_set_flush_hook(c, die_at, &stage);
		records_batch_commit(c, err, sizeof(err));
		_exit(11);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "child status %d", st);
}

/* Death inside the flush. After the objects are durable but before the
 * index commit: no record, the store verifies, the objects are whole
 * (unreferenced), and the redelivered burst stores each record once.
 * After the index commit, before chain.head: the records are there,
 * verify passes (noting that chain.head lags), and the redelivery stores
 * nothing twice. */
START_TEST(killed_in_flush)
{
	struct records *r;
	const char *dir = store_mode(&r, _i);
	char err[256] = "", out[4096];

	records_close(r);
	killed_burst(dir, RECORDS_FLUSH_FILES_DURABLE, _i);
	ck_assert_int_eq(open_mode(dir, 0, &r, _i), 0);
	ck_assert_int_eq(rt_verify(r, out, sizeof(out)), 0);
	ck_assert_msg(strstr(out, "OK: 0 entries, 0 records") != NULL, "%s", out);
	ck_assert_int_eq(rt_count_objects(dir), 13); /* durable, unreferenced */
	ck_assert_int_eq(records_batch_begin(r, err, sizeof(err)), 0);
	deliver_n(r, 0, 6, 1);
	ck_assert_int_eq(records_batch_commit(r, err, sizeof(err)), 0);
	ck_assert_int_eq(rt_verify(r, out, sizeof(out)), 0);
	ck_assert_msg(strstr(out, "OK: 6 entries, 6 records, 24 objects") != NULL, "%s", out);
	records_close(r);

	rt_rm(dir);
	ck_assert_int_eq(open_mode(dir, 1, &r, _i), 0);
	records_close(r);
	killed_burst(dir, RECORDS_FLUSH_COMMITTED, _i);
	ck_assert_int_eq(open_mode(dir, 0, &r, _i), 0);
	ck_assert_msg(rt_verify(r, out, sizeof(out)) == 0, "%s", out);
	ck_assert_msg(strstr(out, "OK: 6 entries, 6 records") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "chain.head lags") != NULL, "%s", out);
	ck_assert_int_eq(records_batch_begin(r, err, sizeof(err)), 0);
	deliver_n(r, 0, 6, 0);
	ck_assert_int_eq(records_batch_commit(r, err, sizeof(err)), 0);
	ck_assert_int_eq(other_count(dir, "SELECT COUNT(*) FROM records"), 6);
	ck_assert_int_eq(rt_verify(r, out, sizeof(out)), 0);
	ck_assert_msg(strstr(out, "OK: 6 entries, 6 records") != NULL, "%s", out);
	records_close(r);
	rt_rm(dir);
}
END_TEST

/* The kernel check of sync = filesystem: syncfs reports write-back errors
 * from Linux 5.8 on; release strings as uname -r gives them. */
START_TEST(kernel_version)
{
	ck_assert(records_kernel_at_least("6.1.0-18-amd64", 5, 8));
	ck_assert(records_kernel_at_least("5.8.0", 5, 8));
	ck_assert(records_kernel_at_least("5.10.0-28-cloud-amd64", 5, 8));
	ck_assert(!records_kernel_at_least("5.7.19", 5, 8));
	ck_assert(!records_kernel_at_least("4.19.0-26-amd64", 5, 8));
	ck_assert(!records_kernel_at_least("3", 5, 8));
	ck_assert(!records_kernel_at_least("", 5, 8));
	ck_assert(!records_kernel_at_least("linux", 5, 8));
	/* the running kernel's release (uname) is read and compared */
	ck_assert(records_kernel_at_least(NULL, 2, 6));
	ck_assert(!records_kernel_at_least(NULL, 999, 0));
}
END_TEST

/* tc_batch: secmx-records' bursts. */
TCase *tc_batch(void)
{
	TCase *tc = tcase_create("batch");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, burst_once_in_order, 0, 2);
	tcase_add_loop_test(tc, failure_in_middle, 0, 2);
	tcase_add_loop_test(tc, flush_fails, 0, 2);
	tcase_add_loop_test(tc, killed_in_flush, 0, 2);
	tcase_add_test(tc, kernel_version);
	return tc;
}
