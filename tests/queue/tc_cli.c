/*
 * tc_cli.c — `secmx queue` (cli/cmd_queue.c), called in-process with its
 * standard output captured: list and show (text and JSON), hold, retry,
 * remove with its required reason (audited with --by), and the exit
 * statuses for missing entries, bad usage and a missing store.
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

/* run: cmd_queue with the NULL-terminated arguments after "queue --db DB";
 * its standard output lands in captured[]. Returns the exit status. */
static int run(const char *first, ...)
{
	char *argv[16];
	char path[400];
	int argc = 0, fd, saved, rc;
	ssize_t n;
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
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	dup2(fd, STDOUT_FILENO);
	close(fd);
	rc = cmd_queue(argc, argv);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	fd = open(path, O_RDONLY);
	n = read(fd, captured, sizeof(captured) - 1);
	close(fd);
	captured[n > 0 ? n : 0] = '\0';
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
	tcase_add_test(tc, cli_missing_store);
	return tc;
}
