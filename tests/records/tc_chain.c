/*
 * tc_chain.c — the hash chain and verify: an intact store verifies (and
 * records the verification); each kind of tampering is detected and named:
 * a flipped byte in an object, a deleted object, an index row edited with
 * SQL, an entry's contents edited, an entry deleted from the middle, the
 * last entry cut off with the index head rewritten to match, entries
 * reordered.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "helpers.h"

/* The fixture: an open store with four records, and verify's output. */
static struct records *r;
static const char *dir;
static char out[16384];

/* setup: a store with four records (entries 1..4). */
static void setup(void)
{
	char id[32];
	int i;

	dir = rt_store(&r);
	for (i = 1; i <= 4; i++) {
		char key[16];

		snprintf(key, sizeof(key), "k%d", i);
		ck_assert_int_eq(rt_deliver(r, key, "Invoice", "t1", "2026-11-29T01:02:03Z", 1,
		                            rt_invoice(i), id, sizeof(id)),
		                 1);
	}
	ck_assert_int_eq(rt_verify(r, out, sizeof(out)), 0);
}

/* teardown: close and remove the store. */
static void teardown(void)
{
	records_close(r);
	r = NULL;
	rt_rm(dir);
}

/* has: OUT contains S (printed on failure). */
static void has(const char *s)
{
	if (!strstr(out, s))
		fprintf(stderr, "verify output lacks \"%s\":\n%s", s, out);
	ck_assert_ptr_nonnull(strstr(out, s));
}

START_TEST(intact_and_recorded)
{
	char head[128], path[256], *buf = NULL;
	size_t len;
	FILE *fp;

	ck_assert_int_eq(records_verify(r, NULL, 1, "auditor"), 0);
	ck_assert_int_eq(rt_verify(r, out, sizeof(out)), 0);
	has("OK: 5 entries, 4 records, 16 objects checked; head 5 ");
	snprintf(path, sizeof(path), "%s/chain.head", dir);
	ck_assert_int_eq(secmx_file_read(path, 200, &buf, &len), 0);
	snprintf(head, sizeof(head), "head %.66s", buf);
	head[strlen(head) - 1] = '\0'; /* newline */
	has(head);
	free(buf);
	/* a record shows the archive verification that covered it */
	fp = fmemopen(out, sizeof(out), "w");
	ck_assert_int_eq(records_show(r, "REC-00000001", fp, 0), 0);
	fclose(fp);
	has("archive verified #5 ");
	has(" by auditor (whole chain)");
}
END_TEST

START_TEST(flipped_object_byte)
{
	char path[512], *buf = NULL;
	size_t len;
	FILE *fp;

	ck_assert_int_eq(rt_object(r, dir, "REC-00000002", "original", path, sizeof(path)), 0);
	ck_assert_int_eq(secmx_file_read(path, 1 << 20, &buf, &len), 0);
	buf[len / 2] ^= 0x01;
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	ck_assert_uint_eq(fwrite(buf, 1, len, fp), len);
	fclose(fp);
	free(buf);
	ck_assert_int_gt(rt_verify(r, out, sizeof(out)), 0);
	has("entry 2 (REC-00000002): object original ");
	has("changed on disk");
	has("FAILED");
	ck_assert_ptr_null(strstr(out, "REC-00000001"));
	/* nothing is recorded when verify fails */
	ck_assert_int_gt(records_verify(r, NULL, 1, "auditor"), 0);
	ck_assert_int_gt(rt_verify(r, out, sizeof(out)), 0);
	has("FAILED: 4 entries");
}
END_TEST

START_TEST(deleted_object)
{
	char path[512];

	ck_assert_int_eq(rt_object(r, dir, "REC-00000003", "envelope", path, sizeof(path)), 0);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_gt(rt_verify(r, out, sizeof(out)), 0);
	has("entry 3 (REC-00000003): object envelope ");
	has("is missing");
}
END_TEST

START_TEST(edited_metadata_row)
{
	ck_assert_int_eq(rt_sql(dir, "UPDATE records SET sender = 'evil@attacker.example'"
	                             " WHERE id = 'REC-00000003'"),
	                 0);
	ck_assert_int_eq(rt_verify(r, out, sizeof(out)), 1);
	has("entry 3 (REC-00000003): index metadata creator is \"evil@attacker.example\", the "
	    "chain says \"ap@supplier.example\"");
}
END_TEST

START_TEST(edited_retention_and_state)
{
	ck_assert_int_eq(rt_sql(dir, "UPDATE records SET retain_until = '2000-01-01',"
	                             " state = 'approved' WHERE id = 'REC-00000001'"),
	                 0);
	ck_assert_int_eq(rt_verify(r, out, sizeof(out)), 2);
	has("entry 1 (REC-00000001): index metadata retain_until is \"2000-01-01\"");
	has("entry 1 (REC-00000001): index state is \"approved\", the chain says \"kept\"");
}
END_TEST

START_TEST(edited_entry)
{
	ck_assert_int_eq(rt_sql(dir, "UPDATE entries SET detail = replace(detail, 'INV-2', 'INV-9')"
	                             " WHERE seq = 2"),
	                 0);
	ck_assert_int_gt(rt_verify(r, out, sizeof(out)), 0);
	has("entry 2 (REC-00000002, received): contents changed");
	ck_assert_int_eq(rt_sql(dir, "UPDATE entries SET detail = replace(detail, 'INV-9', 'INV-2')"
	                             " WHERE seq = 2; UPDATE entries SET actor = 'mallory'"
	                             " WHERE seq = 4"),
	                 0);
	ck_assert_int_eq(rt_verify(r, out, sizeof(out)), 1);
	has("entry 4 (REC-00000004, received): contents changed");
}
END_TEST

START_TEST(deleted_entry)
{
	ck_assert_int_eq(rt_sql(dir, "DELETE FROM entries WHERE seq = 2"), 0);
	ck_assert_int_gt(rt_verify(r, out, sizeof(out)), 0);
	has("entry 3 (REC-00000003): expected entry 2 here: entries 2..2 deleted or renumbered");
	has("entry 3 (REC-00000003): prev_hash does not match");
	has("index: record REC-00000002 has no \"received\" entry");
}
END_TEST

/* The last entry cut off and the index made consistent: only chain.head
 * (outside the database) tells. */
START_TEST(truncated_end)
{
	ck_assert_int_eq(rt_sql(dir, "DELETE FROM entries WHERE seq = 4;"
	                             " DELETE FROM records WHERE id = 'REC-00000004';"
	                             " UPDATE head SET seq = 3, hash = (SELECT hash FROM entries"
	                             " WHERE seq = 3)"),
	                 0);
	ck_assert_int_eq(rt_verify(r, out, sizeof(out)), 1);
	has("head: chain.head names entry 4 but the chain ends at 3");
}
END_TEST

START_TEST(reordered_entries)
{
	ck_assert_int_eq(rt_sql(dir, "UPDATE entries SET seq = -1 WHERE seq = 2;"
	                             " UPDATE entries SET seq = 2 WHERE seq = 3;"
	                             " UPDATE entries SET seq = 3 WHERE seq = -1"),
	                 0);
	ck_assert_int_gt(rt_verify(r, out, sizeof(out)), 0);
	has("entry 2 (REC-00000003): prev_hash does not match");
	has("entry 2 (REC-00000003, received): contents changed");
	has("entry 3 (REC-00000002, received): contents changed");
}
END_TEST

START_TEST(missing_head_file)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/chain.head", dir);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rt_verify(r, out, sizeof(out)), 1);
	has("head: chain.head is missing");
}
END_TEST

/* verify in one process while another appends: never a false problem (the
 * chain.head file is read before the snapshot). */
START_TEST(verify_while_ingesting)
{
	pid_t pid;
	int status = 0, runs = 0, done = 0;

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct records *w = NULL;
		char err[256], id[32], key[16];
		int i, bad = 0;

		if (records_open(dir, 0, &w, err, sizeof(err)) < 0)
			_exit(2);
		for (i = 0; i < 30; i++) {
			snprintf(key, sizeof(key), "w%d", i);
			bad |= rt_deliver(w, key, "Invoice", "t2", "2026-11-29T01:02:03Z", 1,
			                  rt_invoice(100 + i), id, sizeof(id)) != 1;
		}
		records_close(w);
		_exit(bad);
	}
	while (!done) {
		done = waitpid(pid, &status, WNOHANG) == pid;
		if (rt_verify(r, out, sizeof(out)) != 0)
			fprintf(stderr, "verify during appends:\n%s", out);
		has("OK: ");
		runs++;
	}
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_gt(runs, 1);
	ck_assert_int_eq(rt_verify(r, out, sizeof(out)), 0);
	has("OK: 34 entries, 34 records");
}
END_TEST

/* tc_chain: this file's test case. */
TCase *tc_chain(void)
{
	TCase *tc = tcase_create("chain");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, intact_and_recorded);
	tcase_add_test(tc, flipped_object_byte);
	tcase_add_test(tc, deleted_object);
	tcase_add_test(tc, edited_metadata_row);
	tcase_add_test(tc, edited_retention_and_state);
	tcase_add_test(tc, edited_entry);
	tcase_add_test(tc, deleted_entry);
	tcase_add_test(tc, truncated_end);
	tcase_add_test(tc, reordered_entries);
	tcase_add_test(tc, missing_head_file);
	tcase_add_test(tc, verify_while_ingesting);
	return tc;
}
