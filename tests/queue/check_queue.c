/*
 * check_queue.c — the queue's Check suite: one TCase per concern, each in
 * its own tc_*.c file, plus the helpers they share (a throwaway directory,
 * a fake clock, direct SQL for an outside view of the store).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "tests.h"

static char dir[256];
static char db[300];
int64_t test_now = 1767225600000; /* 2026-01-01T00:00:00Z */

int64_t test_clock(void *arg)
{
	(void)arg;
	return test_now;
}

const char *test_dir(void)
{
	if (*dir == '\0') {
		snprintf(dir, sizeof(dir), "/tmp/secmx-queue-XXXXXX");
		ck_assert_ptr_nonnull(mkdtemp(dir));
	}
	return dir;
}

const char *test_db(void)
{
	snprintf(db, sizeof(db), "%s/queue.db", test_dir());
	return db;
}

void test_cleanup(void)
{
	DIR *d;
	struct dirent *e;
	char path[600];

	if (*dir == '\0')
		return;
	if ((d = opendir(dir)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(dir);
	*dir = '\0';
}

void test_config(struct queue_config *cfg, int group)
{
	queue_config_default(cfg);
	cfg->group_commit = group;
	cfg->clock = test_clock;
	test_now = 1767225600000;
}

struct queue *test_open(const struct queue_config *cfg)
{
	struct queue *q = NULL;
	char err[512] = "";
	int rc = queue_open(test_db(), cfg, &q, err, sizeof(err));

	ck_assert_msg(rc == 0, "queue_open: %s (%s)", secmx_strerror(rc), err);
	return q;
}

int64_t test_put(struct queue *q, const char *text, const char *sender, const char *doc_type,
                 const char *doc_id, const char *txn_key)
{
	struct queue_msg_in in = {0};
	struct queue_put_result r;
	int rc;

	in.data = text;
	in.len = strlen(text);
	in.source = "test";
	in.sender = sender;
	in.doc_type = doc_type;
	in.doc_id = doc_id;
	in.txn_key = txn_key;
	rc = queue_msg_put(q, &in, &r);
	ck_assert_msg(rc == 0, "queue_msg_put: %s", secmx_strerror(rc));
	ck_assert_int_gt(r.id, 0);
	return r.id;
}

int64_t test_sql_int(const char *sql)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *s = NULL;
	int64_t v = 0;

	ck_assert_int_eq(sqlite3_open_v2(test_db(), &h, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	sqlite3_busy_timeout(h, 5000);
	ck_assert_msg(sqlite3_prepare_v2(h, sql, -1, &s, NULL) == SQLITE_OK, "%s: %s", sql,
	              sqlite3_errmsg(h));
	ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
	v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(h);
	return v;
}

void test_sql_exec(const char *sql)
{
	sqlite3 *h = NULL;
	char *msg = NULL;

	ck_assert_int_eq(sqlite3_open_v2(test_db(), &h, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	sqlite3_busy_timeout(h, 5000);
	ck_assert_msg(sqlite3_exec(h, sql, NULL, NULL, &msg) == SQLITE_OK, "%s: %s", sql,
	              msg ? msg : "");
	sqlite3_free(msg);
	sqlite3_close(h);
}

int main(void)
{
	Suite *s = suite_create("queue");
	SRunner *sr;
	int failed;

	suite_add_tcase(s, tc_sched());
	suite_add_tcase(s, tc_store());
	suite_add_tcase(s, tc_group());
	suite_add_tcase(s, tc_defer());
	suite_add_tcase(s, tc_claim());
	suite_add_tcase(s, tc_integrity());
	suite_add_tcase(s, tc_dup());
	suite_add_tcase(s, tc_delivery());
	suite_add_tcase(s, tc_txn());
	suite_add_tcase(s, tc_recovery());
	suite_add_tcase(s, tc_faults());
	suite_add_tcase(s, tc_cli());
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
