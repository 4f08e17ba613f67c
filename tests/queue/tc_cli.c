/*
 * tc_cli.c — `secmx queue` (cli/cmd_queue.c), called in-process with its
 * standard output captured: list and show (text and JSON), hold, retry,
 * remove with its required reason (audited with --by), retry refused in a
 * state where it would change nothing, list --state refusing an unknown
 * state, and the exit statuses for missing entries, bad usage and a
 * missing store.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests.h"

const char *cli_prog = "secmx";
int cmd_queue(int argc, char **argv);

static char captured[65536];
static char captured_err[4096];

/* slurp: the file PATH into BUF (SIZE bytes, terminated). */
static void slurp(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	ck_assert_int_ge(fd, 0);
	n = read(fd, buf, size - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
}

/* run: cmd_queue with the NULL-terminated arguments after "queue --db DB";
 * its standard output lands in captured[], its standard error in
 * captured_err[]. Returns the exit status. */
static int run(const char *first, ...)
{
	char *argv[16];
	char path[400], epath[400];
	int argc = 0, fd, saved, esaved, rc;
	va_list ap;
	const char *a;

	argv[argc++] = (char *)"queue";
	argv[argc++] = (char *)"--db";
	argv[argc++] = (char *)test_db();
	va_start(ap, first);
	for (a = first; a != NULL && argc < 15; a = va_arg(ap, const char *))
		argv[argc++] = (char *)a;
	va_end(ap);
	argv[argc] = NULL;

	snprintf(path, sizeof(path), "%s/out.txt", test_dir());
	snprintf(epath, sizeof(epath), "%s/err.txt", test_dir());
	fflush(stdout);
	fflush(stderr);
	saved = dup(STDOUT_FILENO);
	esaved = dup(STDERR_FILENO);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	dup2(fd, STDOUT_FILENO);
	close(fd);
	fd = open(epath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	dup2(fd, STDERR_FILENO);
	close(fd);
	rc = cmd_queue(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	dup2(esaved, STDERR_FILENO);
	close(esaved);
	slurp(path, captured, sizeof(captured));
	slurp(epath, captured_err, sizeof(captured_err));
	return rc;
}

START_TEST(cli_list_show_manage)
{
	struct queue_config cfg;
	struct queue *q;
	struct queue_lease l;
	json_t *j;
	json_error_t jerr;
	int64_t a, b;
	char ida[32], idb[32];

	test_config(&cfg, 0);
	cfg.clock = NULL;
	q = test_open(&cfg);
	a = test_put(q, "<Invoice/>", "0088:111", "Invoice", "INV-9", "PO-9");
	b = test_put(q, "<Order/>", "0088:222", "Order", "PO-9", "PO-9");
	ck_assert_int_eq(queue_claim(q, "new", 0, &l, NULL), 1);
	ck_assert_int_eq(queue_msg_defer(q, &l, "adapter down", 1), 1);
	ck_assert_int_eq(queue_txn_open(q, "PO-9", QUEUE_TXN_ORDERED, b, NULL), 1);
	queue_close(q);
	snprintf(ida, sizeof(ida), "%lld", (long long)a);
	snprintf(idb, sizeof(idb), "%lld", (long long)b);

	ck_assert_int_eq(run("list", "--json", NULL), 0);
	j = json_loads(captured, 0, &jerr);
	ck_assert_msg(j != NULL, "not JSON: %s", captured);
	ck_assert_uint_eq(json_array_size(j), 2);
	json_decref(j);
	ck_assert_int_eq(run("list", "--state", "dead", "--json", NULL), 0);
	j = json_loads(captured, 0, &jerr);
	ck_assert_uint_eq(json_array_size(j), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(j, 0), "last_error")),
	                 "permanent failure: adapter down");
	json_decref(j);
	ck_assert_int_eq(run("list", NULL), 0);
	ck_assert(strstr(captured, "STATE") != NULL);
	ck_assert(strstr(captured, "INV-9") != NULL);
	ck_assert(strstr(captured, "2 entries") != NULL);

	ck_assert_int_eq(run("show", ida, "--json", NULL), 0);
	j = json_loads(captured, 0, &jerr);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "id")), a);
	ck_assert_str_eq(json_string_value(json_object_get(j, "state")), "dead");
	ck_assert(json_is_array(json_object_get(j, "audit")));
	json_decref(j);
	ck_assert_int_eq(run("show", idb, NULL), 0);
	ck_assert(strstr(captured, "doc_type") != NULL);
	ck_assert(strstr(captured, "Order") != NULL);
	ck_assert_int_eq(run("txn", "PO-9", "--json", NULL), 0);
	ck_assert(strstr(captured, "\"ordered\"") != NULL);

	ck_assert_int_eq(run("retry", ida, "--by", "tester", NULL), 0);
	ck_assert_int_eq(run("hold", idb, "--by", "tester", NULL), 0);
	ck_assert_int_eq(run("release", idb, "--by", "tester", NULL), 0);
	ck_assert_int_eq(run("remove", idb, NULL), 2);
	ck_assert_int_eq(run("remove", idb, "--reason", "test entry", "--by", "tester", NULL), 0);
	ck_assert_int_eq(run("show", idb, NULL), 1);
	ck_assert_int_eq(run("hold", "99999", NULL), 1);
	ck_assert_int_eq(run("hold", "abc", NULL), 2);
	ck_assert_int_eq(run("frobnicate", NULL), 2);
	ck_assert_int_eq(run("list", "--bogus", NULL), 2);
	ck_assert_int_eq(test_sql_int("SELECT count(*) FROM audit WHERE who = 'tester'"), 4);
	ck_assert_int_eq(test_sql_int("SELECT count(*) FROM audit WHERE action = 'remove' AND "
	                              "reason LIKE 'test entry%'"),
	                 1);
	ck_assert_int_eq(test_sql_int("SELECT count(*) FROM msg WHERE state = 'new'"), 1);
}
END_TEST

/* audits: how many audit records message ID has with ACTION. */
static int64_t audits(int64_t id, const char *action)
{
	char sql[200];

	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM audit WHERE msg_id = %lld AND action = '%s'", (long long)id,
	         action);
	return test_sql_int(sql);
}

START_TEST(cli_retry_by_state)
{
	struct queue_config cfg;
	struct queue *q;
	struct queue_lease l;
	int64_t fin, dlv, waiting, quar, did;
	char idf[32], idd[32], idw[32], idq[32], sql[200];

	test_config(&cfg, 0);
	cfg.clock = NULL;
	q = test_open(&cfg);
	fin = test_put(q, "<Invoice/>", "0088:111", "Invoice", "INV-1", "PO-1");
	dlv = test_put(q, "<Invoice/>", "0088:111", "Invoice", "INV-2", "PO-2");
	waiting = test_put(q, "<Invoice/>", "0088:111", "Invoice", "INV-3", "PO-3");
	quar = test_put(q, "<Invoice/>", "0088:111", "Invoice", "INV-4", "PO-4");
	/* fin and dlv are done; dlv has a delivery that died. */
	ck_assert_int_eq(queue_claim(q, "new", 0, &l, NULL), 1);
	ck_assert_int_eq(l.msg_id, fin);
	ck_assert_int_eq(queue_step_record(q, &l, "route", "ok", NULL, "done"), 0);
	ck_assert_int_eq(queue_claim(q, "new", 0, &l, NULL), 1);
	ck_assert_int_eq(l.msg_id, dlv);
	ck_assert_int_eq(queue_delivery_add(q, dlv, "erp", NULL, &did), 0);
	ck_assert_int_eq(queue_step_record(q, &l, "route", "ok", NULL, "done"), 0);
	queue_close(q);
	snprintf(sql, sizeof(sql), "UPDATE delivery SET state = 'dead' WHERE id = %lld",
	         (long long)did);
	test_sql_exec(sql);
	snprintf(sql, sizeof(sql), "UPDATE msg SET state = 'quarantined' WHERE id = %lld",
	         (long long)quar);
	test_sql_exec(sql);
	snprintf(idf, sizeof(idf), "%lld", (long long)fin);
	snprintf(idd, sizeof(idd), "m%lld", (long long)dlv);
	snprintf(idw, sizeof(idw), "%lld", (long long)waiting);
	snprintf(idq, sizeof(idq), "%lld", (long long)quar);

	/* Done, nothing dead: refused with the state and why, not audited. */
	ck_assert_int_eq(run("retry", idf, "--by", "tester", NULL), 1);
	ck_assert_str_eq(captured, "");
	ck_assert_msg(strstr(captured_err, "not retried: message in state done: it is finished "
	                                   "and has no dead deliveries") != NULL,
	              "%s", captured_err);
	ck_assert_int_eq(audits(fin, "retry"), 0);
	/* Quarantined: refused too, saying so. */
	ck_assert_int_eq(run("retry", idq, NULL), 1);
	ck_assert_msg(strstr(captured_err, "state quarantined: ") != NULL, "%s", captured_err);
	ck_assert_int_eq(audits(quar, "retry"), 0);
	/* Done with a dead delivery: the delivery is offered again. */
	ck_assert_int_eq(run("retry", idd, "--by", "tester", NULL), 0);
	ck_assert(strstr(captured, "retrying") != NULL);
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM delivery WHERE id = %lld AND state = "
	         "'pending'",
	         (long long)did);
	ck_assert_int_eq(test_sql_int(sql), 1);
	ck_assert_int_eq(audits(dlv, "retry"), 1);
	/* Waiting in a workflow state: made due now. */
	ck_assert_int_eq(run("retry", idw, NULL), 0);
	ck_assert_int_eq(audits(waiting, "retry"), 1);

	/* list --state: a known state lists, an unknown one is a usage error. */
	ck_assert_int_eq(run("list", "--state", "done", "--json", NULL), 0);
	ck_assert(strstr(captured, "INV-1") != NULL && strstr(captured, "INV-2") != NULL);
	ck_assert_int_eq(run("list", "--state", "attested", NULL), 0);
	ck_assert(strstr(captured, "0 entries") != NULL);
	/* secmxd's delivery bundles have a state of their own */
	ck_assert_int_eq(run("list", "--state", "bundle", NULL), 0);
	ck_assert(strstr(captured, "0 entries") != NULL);
	ck_assert_int_eq(run("list", "--state", "bogus", NULL), 2);
	ck_assert_str_eq(captured, "");
	ck_assert_msg(strstr(captured_err, "unknown state 'bogus' (new, validated, correlated, "
	                                   "attested, bundle, done, dead, quarantined, "
	                                   "dropped)") != NULL,
	              "%s", captured_err);
}
END_TEST

START_TEST(cli_missing_store)
{
	char *argv[] = {(char *)"queue", (char *)"--db", (char *)"/nonexistent/queue.db",
	                (char *)"list", NULL};

	ck_assert_int_eq(cmd_queue(4, argv), 2);
}
END_TEST

TCase *tc_cli(void)
{
	TCase *tc = tcase_create("cli");

	tcase_add_checked_fixture(tc, NULL, test_cleanup);
	tcase_add_test(tc, cli_list_show_manage);
	tcase_add_test(tc, cli_retry_by_state);
	tcase_add_test(tc, cli_missing_store);
	return tc;
}
