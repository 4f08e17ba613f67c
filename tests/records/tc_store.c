/*
 * tc_store.c — the object store and the record it makes: content-addressed
 * layout, atomic writes (no temp file left, a crash between objects and
 * index leaves no record and a retry stores it once), metadata, the
 * original/signed/report/envelope objects.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "common.h"
#include "helpers.h"

/* The document lands at objects/ab/cdef... named by its SHA-256. */
START_TEST(object_layout)
{
	struct records *r;
	const char *dir = rt_store(&r);
	const char *doc = rt_invoice(1);
	char id[32], hex[65], want[512], got[512], *buf = NULL;
	size_t len = 0;
	struct stat st;

	ck_assert_int_eq(
	    rt_deliver(r, "k1", "Invoice", "t1", "2026-11-29T01:02:03Z", 1, doc, id, sizeof(id)),
	    1);
	ck_assert_str_eq(id, "REC-00000001");
	records__sha256_hex(doc, strlen(doc), hex);
	snprintf(want, sizeof(want), "%s/objects/%.2s/%s", dir, hex, hex + 2);
	ck_assert_int_eq(rt_object(r, dir, id, "original", got, sizeof(got)), 0);
	ck_assert_str_eq(got, want);
	ck_assert_int_eq(secmx_file_read(want, 1 << 20, &buf, &len), 0);
	ck_assert_uint_eq(len, strlen(doc));
	ck_assert_mem_eq(buf, doc, len);
	free(buf);
	ck_assert_int_eq(stat(want, &st), 0);
	ck_assert_int_eq(st.st_mode & 077, 040 & 077); /* 0640: no world access */
	ck_assert_int_eq(rt_count_tmp(dir), 0);
	snprintf(want, sizeof(want), "%s/chain.head", dir);
	ck_assert_int_eq(access(want, R_OK), 0);
	records_close(r);
	rt_rm(dir);
}
END_TEST

/* records__write_atomic replaces a file whole and leaves no temp file. */
START_TEST(write_atomic)
{
	struct records *r;
	const char *dir = rt_store(&r);
	char path[256], *buf = NULL;
	size_t len;

	snprintf(path, sizeof(path), "%s/f", dir);
	ck_assert_int_eq(records__write_atomic(path, "first version", 13), 0);
	ck_assert_int_eq(records__write_atomic(path, "second", 6), 0);
	ck_assert_int_eq(secmx_file_read(path, 100, &buf, &len), 0);
	ck_assert_str_eq(buf, "second");
	free(buf);
	ck_assert_int_eq(rt_count_tmp(dir), 0);
	/* a directory that does not exist: an error, nothing created */
	snprintf(path, sizeof(path), "%s/nodir/f", dir);
	ck_assert_int_lt(records__write_atomic(path, "x", 1), 0);
	records_close(r);
	rt_rm(dir);
}
END_TEST

/* A crash after the objects and before the index commit: no record, the
 * chain is intact, and the redelivery stores exactly one record. A stray
 * temp file from a crash mid-write is ignored by verify. */
START_TEST(crash_between_objects_and_index)
{
	struct records *r;
	const char *dir = rt_store(&r);
	char id[32], out[4096], path[256];
	FILE *fp;

	records_set_fail(r, RECORDS_FAIL_AFTER_OBJECTS);
	ck_assert_int_eq(rt_deliver(r, "k1", "Invoice", "t1", "2026-11-29T01:02:03Z", 1,
	                            rt_invoice(1), id, sizeof(id)),
	                 SECMX_EIO);
	ck_assert_int_eq(rt_verify(r, out, sizeof(out)), 0);
	ck_assert_ptr_nonnull(strstr(out, "OK: 0 entries, 0 records"));
	records_set_fail(r, RECORDS_FAIL_NONE);
	snprintf(path, sizeof(path), "%s/objects/.tmp-crash1", dir);
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fputs("half an obj", fp);
	fclose(fp);
	ck_assert_int_eq(rt_deliver(r, "k1", "Invoice", "t1", "2026-11-29T01:02:03Z", 1,
	                            rt_invoice(1), id, sizeof(id)),
	                 1);
	ck_assert_int_eq(rt_deliver(r, "k1", "Invoice", "t1", "2026-11-29T01:02:03Z", 1,
	                            rt_invoice(1), id, sizeof(id)),
	                 0);
	ck_assert_int_eq(rt_verify(r, out, sizeof(out)), 0);
	ck_assert_ptr_nonnull(strstr(out, "OK: 1 entries, 1 records, 4 objects"));
	records_close(r);
	rt_rm(dir);
}
END_TEST

/* show_json: record ID as parsed JSON (new reference). */
static json_t *show_json(struct records *r, const char *id)
{
	static char buf[65536];
	FILE *fp = fmemopen(buf, sizeof(buf), "w");
	json_t *o;

	ck_assert_int_eq(records_show(r, id, fp, 1), 0);
	fclose(fp);
	buf[sizeof(buf) - 1] = '\0';
	o = json_loads(buf, 0, NULL);
	ck_assert_ptr_nonnull(o);
	return o;
}

/* The recordkeeping metadata: identifier, title from the document, dates,
 * creator, business activity, software, retention. */
START_TEST(metadata)
{
	struct records *r;
	const char *dir = rt_store(&r);
	char id[32];
	json_t *o, *m;

	ck_assert_int_eq(rt_deliver(r, "k7", "Invoice", "t-9", "2026-11-29T01:02:03Z", 1,
	                            rt_invoice(7), id, sizeof(id)),
	                 1);
	o = show_json(r, id);
	m = json_object_get(o, "metadata");
	ck_assert_str_eq(json_string_value(json_object_get(m, "id")), id);
	ck_assert_str_eq(json_string_value(json_object_get(m, "title")),
	                 "Invoice INV-7 from ap@supplier.example");
	ck_assert_str_eq(json_string_value(json_object_get(m, "date_created")), "2026-11-08");
	ck_assert_str_eq(json_string_value(json_object_get(m, "received_at")),
	                 "2026-11-29T01:02:03Z");
	ck_assert_str_eq(json_string_value(json_object_get(m, "creator")), "ap@supplier.example");
	ck_assert_str_eq(json_string_value(json_object_get(m, "business_activity")),
	                 "Accounts payable: supplier invoice received");
	ck_assert_str_eq(json_string_value(json_object_get(m, "transaction_id")), "t-9");
	ck_assert_str_eq(json_string_value(json_object_get(m, "retention_class")), "Invoice=7y");
	ck_assert_str_eq(json_string_value(json_object_get(m, "retain_until")), "2033-11-29");
	ck_assert_ptr_nonnull(
	    strstr(json_string_value(json_object_get(json_object_get(m, "software"), "archive")),
	           "secmx-records"));
	ck_assert_str_eq(json_string_value(json_object_get(
	                     json_array_get(json_object_get(o, "actions"), 0), "action")),
	                 "received");
	ck_assert_str_eq(json_string_value(json_object_get(
	                     json_array_get(json_object_get(o, "actions"), 0), "actor")),
	                 "records-test");
	/* valid: original and signed are the delivered bytes (no original sent) */
	ck_assert_str_eq(json_string_value(json_object_get(
	                     json_object_get(json_object_get(o, "objects"), "original"), "sha256")),
	                 json_string_value(json_object_get(
	                     json_object_get(json_object_get(o, "objects"), "signed"), "sha256")));
	json_decref(o);
	ck_assert_int_eq(records_show(r, "REC-99999999", stdout, 0), SECMX_ENOTFOUND);
	records_close(r);
	rt_rm(dir);
}
END_TEST

/* meta.original_b64 gives the original beside the delivered signed document;
 * a reject has an original and no signed document; meta.report is kept. */
START_TEST(original_signed_reject)
{
	struct records *r;
	const char *dir = rt_store(&r);
	const char *env = "{\"idempotency_key\":\"k-s\",\"message_id\":\"<m@x>\","
	                  "\"document_type\":\"Invoice\",\"received_at\":\"2026-11-29T01:02:03Z\","
	                  "\"validation\":{\"valid\":true},\"meta\":{\"original_b64\":"
	                  "\"PE9yaWdpbmFsLz4=\",\"report\":{\"findings\":[]}}}";
	const char *signed_doc = "<Original/><!-- signed -->";
	char id[32], id2[32], p1[512], p2[512], *buf = NULL, err[256];
	size_t len;
	json_t *o;

	ck_assert_int_eq(records_ingest(r, env, signed_doc, strlen(signed_doc), "t", id, sizeof(id),
	                                err, sizeof(err)),
	                 1);
	ck_assert_int_eq(rt_object(r, dir, id, "original", p1, sizeof(p1)), 0);
	ck_assert_int_eq(rt_object(r, dir, id, "signed", p2, sizeof(p2)), 0);
	ck_assert_int_eq(secmx_file_read(p1, 1000, &buf, &len), 0);
	ck_assert_str_eq(buf, "<Original/>");
	free(buf);
	ck_assert_int_eq(secmx_file_read(p2, 1000, &buf, &len), 0);
	ck_assert_str_eq(buf, signed_doc);
	free(buf);
	ck_assert_int_eq(rt_object(r, dir, id, "report", p1, sizeof(p1)), 0);
	ck_assert_int_eq(secmx_file_read(p1, 1000, &buf, &len), 0);
	ck_assert_ptr_nonnull(strstr(buf, "findings"));
	free(buf);

	ck_assert_int_eq(rt_deliver(r, "k-r", "reject:Invoice", "t1", "2026-11-29T01:02:03Z", 0,
	                            "<Invoice>broken", id2, sizeof(id2)),
	                 1);
	ck_assert_int_eq(rt_object(r, dir, id2, "original", p1, sizeof(p1)), 0);
	ck_assert_int_eq(rt_object(r, dir, id2, "signed", p2, sizeof(p2)), -1);
	{
		static char sbuf[65536];
		FILE *fp = fmemopen(sbuf, sizeof(sbuf), "w");

		ck_assert_int_eq(records_show(r, id2, fp, 1), 0);
		fclose(fp);
		o = json_loads(sbuf, 0, NULL);
	}
	ck_assert(json_is_true(json_object_get(json_object_get(o, "metadata"), "reject")));
	ck_assert_str_eq(
	    json_string_value(json_object_get(json_object_get(o, "metadata"), "retain_until")),
	    "2027-11-29");
	json_decref(o);
	/* an envelope without the required fields is refused, nothing stored */
	ck_assert_int_eq(records_ingest(r, "{\"document_type\":\"Invoice\"}", "x", 1, "t", id,
	                                sizeof(id), err, sizeof(err)),
	                 SECMX_EPARSE);
	ck_assert_int_eq(
	    records_ingest(r, "not json", "x", 1, "t", id, sizeof(id), err, sizeof(err)),
	    SECMX_EPARSE);
	records_close(r);
	rt_rm(dir);
}
END_TEST

/* SIGKILL a writer at random points, 8 times: whatever it was doing (an
 * object half written, a transaction open), the store verifies afterwards
 * and holds only whole records; a restarted writer carries on. */
START_TEST(killed_writer)
{
	struct records *r;
	const char *dir = rt_store(&r);
	char out[4096];
	int round, n = 0;

	srand(1234);
	for (round = 0; round < 8; round++) {
		struct pollfd pfd;
		int status, fds[2];
		char c;
		pid_t pid;

		ck_assert_int_eq(pipe(fds), 0);
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			struct records *w = NULL;
			char err[256], id[32], key[32];
			size_t len = 512 * 1024;
			char *doc = malloc(len + 1);
			int i;

			close(fds[0]);
			if (!doc || records_open(dir, 0, &w, err, sizeof(err)) < 0)
				_exit(2);
			for (i = 0;; i++) {
				snprintf(key, sizeof(key), "kill-%d-%d", round, i);
				memset(doc, 'a' + (i + round) % 26, len);
				snprintf(doc, len, "<Invoice><ID>%s</ID>", key);
				doc[strlen(doc)] = ' ';
				doc[len] = '\0';
				if (rt_deliver(w, key, "Invoice", "t", "2026-11-29T01:02:03Z", 1,
				               doc, id, sizeof(id)) != 1)
					_exit(3);
				if (write(fds[1], "+", 1) != 1)
					_exit(4);
			}
		}
		close(fds[1]);
		/* the first record of the round is committed; then kill at a random
		 * point of the following ones (however loaded the machine is) */
		pfd.fd = fds[0];
		pfd.events = POLLIN;
		ck_assert_int_eq(poll(&pfd, 1, 30000), 1);
		ck_assert_int_eq(read(fds[0], &c, 1), 1);
		usleep((useconds_t)(rand() % 60) * 1000);
		ck_assert_int_eq(kill(pid, SIGKILL), 0);
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert(WIFSIGNALED(status)); /* killed, not failed */
		close(fds[0]);
	}
	if (rt_verify(r, out, sizeof(out)) != 0)
		fprintf(stderr, "%s", out);
	ck_assert_int_eq(rt_verify(r, out, sizeof(out)), 0);
	/* a kill between the commit and the chain.head rewrite is legal and
	 * verify says so in a "note:" line before the "OK:" line */
	ck_assert_msg(strstr(out, "OK: ") &&
	                  sscanf(strstr(out, "OK: "), "OK: %d entries", &n) == 1 && n >= 8,
	              "%s", out);
	fprintf(stderr, "killed_writer: %d records survived 8 SIGKILLs; stray temp files: %s\n", n,
	        rt_count_tmp(dir) ? "yes" : "none");
	/* the next writer appends after what survived */
	ck_assert_int_eq(rt_deliver(r, "after", "Invoice", "t", "2026-11-29T01:02:03Z", 1,
	                            rt_invoice(1), out, sizeof(out)),
	                 1);
	ck_assert_int_eq(rt_verify(r, out, sizeof(out)), 0);
	records_close(r);
	rt_rm(dir);
}
END_TEST

/* tc_store: this file's test case. */
TCase *tc_store(void)
{
	TCase *tc = tcase_create("store");

	tcase_add_test(tc, object_layout);
	tcase_add_test(tc, write_atomic);
	tcase_add_test(tc, crash_between_objects_and_index);
	tcase_add_test(tc, metadata);
	tcase_add_test(tc, original_signed_reject);
	tcase_add_test(tc, killed_writer);
	tcase_set_timeout(tc, 60);
	return tc;
}
