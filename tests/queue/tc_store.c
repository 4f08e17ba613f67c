/*
 * tc_store.c — the store itself: a new file gets the schema and the
 * durability settings (WAL, synchronous=FULL), data survives a reopen,
 * bytes come back exactly (binary, empty), limits and bad arguments are
 * refused, and a file with a newer schema is refused rather than damaged.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "queue_int.h"
#include "tests.h"

START_TEST(open_schema_wal)
{
	struct queue_config cfg;
	struct queue *q;

	test_config(&cfg, 0);
	q = test_open(&cfg);
	/* Seen from outside: WAL journal, schema version 3 recorded. */
	ck_assert_int_eq(test_sql_int("SELECT count(*) FROM pragma_journal_mode WHERE "
	                              "journal_mode = 'wal'"),
	                 1);
	ck_assert_int_eq(test_sql_int("SELECT v FROM queue_meta WHERE k = 'schema_version'"), 3);
	ck_assert_int_eq(test_sql_int("SELECT count(*) FROM sqlite_master WHERE type = 'table' "
	                              "AND name IN ('msg','step','delivery','txn','txn_history',"
	                              "'txn_finding','audit','seen','txn_doc','txn_ref')"),
	                 10);
	queue_close(q);
	/* Reopening does not migrate again. */
	q = test_open(&cfg);
	ck_assert_int_eq(test_sql_int("SELECT count(*) FROM queue_meta"), 1);
	queue_close(q);
	queue_close(NULL);
}
END_TEST

START_TEST(put_get_roundtrip)
{
	struct queue_config cfg;
	struct queue *q;
	struct queue_msg_in in = {0};
	struct queue_put_result r;
	struct queue_msg_info info;
	unsigned char bin[4096];
	void *data = NULL;
	size_t len = 0, i;
	int64_t id, id0;

	for (i = 0; i < sizeof(bin); i++)
		bin[i] = (unsigned char)(i * 7 + 3);
	bin[10] = 0;
	test_config(&cfg, 0);
	q = test_open(&cfg);
	in.data = bin;
	in.len = sizeof(bin);
	in.source = "smtp";
	in.sender = "ap@example.co.nz";
	in.doc_type = "Invoice";
	in.doc_id = "INV-1";
	in.txn_key = "PO-7";
	ck_assert_int_eq(queue_msg_put(q, &in, &r), 0);
	id = r.id;
	ck_assert_int_eq(r.dup_of, 0);
	ck_assert_int_eq(r.dropped, 0);
	/* Empty message. */
	in.data = NULL;
	in.len = 0;
	in.sender = NULL;
	ck_assert_int_eq(queue_msg_put(q, &in, &r), 0);
	id0 = r.id;
	ck_assert_int_ne(id0, id);
	queue_close(q);

	q = test_open(&cfg);
	ck_assert_int_eq(queue_msg_get(q, id, &data, &len), 0);
	ck_assert_uint_eq(len, sizeof(bin));
	ck_assert(memcmp(data, bin, len) == 0);
	free(data);
	ck_assert_int_eq(queue_msg_get(q, id0, &data, &len), 0);
	ck_assert_uint_eq(len, 0);
	free(data);
	ck_assert_int_eq(queue_msg_info(q, id, &info), 0);
	ck_assert_str_eq(info.state, "new");
	ck_assert_str_eq(info.sender, "ap@example.co.nz");
	ck_assert_str_eq(info.doc_type, "Invoice");
	ck_assert_str_eq(info.doc_id, "INV-1");
	ck_assert_str_eq(info.txn_key, "PO-7");
	ck_assert_str_eq(info.source, "smtp");
	ck_assert_int_eq(info.size, sizeof(bin));
	ck_assert_int_eq(info.created_at, test_now);
	ck_assert_uint_eq(strlen(info.sha256), 64);
	ck_assert_int_eq(queue_msg_get(q, 999999, &data, &len), SECMX_ENOTFOUND);
	ck_assert_ptr_null(data);
	ck_assert_int_eq(queue_msg_info(q, 999999, &info), SECMX_ENOTFOUND);
	queue_close(q);
}
END_TEST

START_TEST(put_refusals)
{
	struct queue_config cfg;
	struct queue *q;
	struct queue_msg_in in = {0};
	struct queue_put_result r;
	struct queue_stats st;

	test_config(&cfg, 1);
	cfg.max_msg_bytes = 10;
	q = test_open(&cfg);
	in.data = "0123456789A";
	in.len = 11;
	ck_assert_int_eq(queue_msg_put(q, &in, &r), SECMX_ELIMIT);
	in.len = 10;
	in.state = "dead"; /* reserved: only the queue dead-letters */
	ck_assert_int_eq(queue_msg_put(q, &in, &r), SECMX_EINVAL);
	in.state = "Bad State";
	ck_assert_int_eq(queue_msg_put(q, &in, &r), SECMX_EINVAL);
	in.state = "received";
	ck_assert_int_eq(queue_msg_put(q, &in, &r), 0);
	ck_assert_int_eq(queue_msg_put(q, NULL, &r), SECMX_EINVAL);
	queue_stats(q, &st);
	ck_assert_uint_eq(st.puts, 1);
	queue_close(q);
	ck_assert_int_eq(test_sql_int("SELECT count(*) FROM msg WHERE state = 'received'"), 1);
	ck_assert_int_eq(test_sql_int("SELECT count(*) FROM msg"), 1);
}
END_TEST

START_TEST(newer_schema_refused)
{
	struct queue_config cfg;
	struct queue *q = NULL;
	char err[256] = "";

	test_config(&cfg, 0);
	q = test_open(&cfg);
	queue_close(q);
	test_sql_exec("UPDATE queue_meta SET v = '99' WHERE k = 'schema_version'");
	q = NULL;
	ck_assert_int_eq(queue_open(test_db(), &cfg, &q, err, sizeof(err)), SECMX_ECONFIG);
	ck_assert_ptr_null(q);
	ck_assert(strstr(err, "99") != NULL);
	/* Not a database at all. */
	ck_assert_int_eq(queue_open("/nonexistent-dir/q.db", &cfg, &q, err, sizeof(err)),
	                 SECMX_EIO);
}
END_TEST

/* A store written by a build of schema version 2 (bytes in msg.body) is
 * migrated at open: its bytes move to msg_body, read back verified, and
 * the message carries on through the pipeline API. */
START_TEST(migrate_v2_bodies)
{
	struct queue_config cfg;
	struct queue *q;
	struct queue_lease l;
	void *data = NULL;
	size_t len = 0;
	char sql[1024];
	const char *text = "<Invoice>from version 2</Invoice>";
	char hex[65];

	sqlite3 *h = NULL;

	ck_assert_uint_ge(queue__store_sqlite.n_migrations, 3);
	ck_assert_int_eq(sqlite3_open(test_db(), &h), SQLITE_OK); /* creates it */
	sqlite3_close(h);
	test_sql_exec("CREATE TABLE queue_meta (k TEXT PRIMARY KEY, v TEXT NOT NULL)");
	test_sql_exec(queue__store_sqlite.migrations[0]);
	test_sql_exec(queue__store_sqlite.migrations[1]);
	test_sql_exec("INSERT INTO queue_meta VALUES ('schema_version', '2')");
	ck_assert_int_eq(queue__sha256_hex(text, strlen(text), hex), 0);
	snprintf(sql, sizeof(sql),
	         "INSERT INTO msg (created_at, updated_at, size, sha256, body, state,"
	         " next_attempt_at) VALUES (1, 1, %zu, '%s', CAST('%s' AS BLOB), 'new', 0)",
	         strlen(text), hex, text);
	test_sql_exec(sql);

	test_config(&cfg, 1);
	q = test_open(&cfg);
	ck_assert_int_eq(test_sql_int("SELECT v FROM queue_meta WHERE k = 'schema_version'"), 3);
	ck_assert_int_eq(test_sql_int("SELECT length(body) FROM msg WHERE id = 1"), 0);
	ck_assert_int_eq(queue_msg_get(q, 1, &data, &len), 0);
	ck_assert_uint_eq(len, strlen(text));
	ck_assert(memcmp(data, text, len) == 0);
	free(data);
	ck_assert_int_eq(queue_claim(q, "new", 0, &l, NULL), 1);
	ck_assert_int_eq(queue_step_record(q, &l, "check", "ok", NULL, "checked"), 0);
	/* A message whose bytes row is missing is damaged, never processed. */
	test_sql_exec("DELETE FROM msg_body WHERE msg_id = 1");
	ck_assert_int_eq(queue_msg_get(q, 1, &data, &len), SECMX_ECORRUPT);
	queue_close(q);
}
END_TEST

TCase *tc_store(void)
{
	TCase *tc = tcase_create("store");

	tcase_add_checked_fixture(tc, NULL, test_cleanup);
	tcase_add_test(tc, open_schema_wal);
	tcase_add_test(tc, put_get_roundtrip);
	tcase_add_test(tc, put_refusals);
	tcase_add_test(tc, newer_schema_refused);
	tcase_add_test(tc, migrate_v2_bodies);
	return tc;
}
