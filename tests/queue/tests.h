/*
 * tests.h — the queue suite's shared helpers and the TCase list.
 * Each concern lives in its own tc_<concern>.c and offers one tc_<concern>()
 * returning its TCase; check_queue.c puts them in the suite.
 */
#ifndef SECMX_TESTS_QUEUE_H
#define SECMX_TESTS_QUEUE_H

#include <stdint.h>

#include <check.h>

#include "queue.h"

TCase *tc_sched(void);
TCase *tc_store(void);
TCase *tc_group(void);
TCase *tc_claim(void);
TCase *tc_integrity(void);
TCase *tc_dup(void);
TCase *tc_delivery(void);
TCase *tc_txn(void);
TCase *tc_recovery(void);
TCase *tc_faults(void);
TCase *tc_cli(void);
TCase *tc_defer(void);

/* A fresh directory for this test (static buffer) and a database path in
 * it; both are removed by test_cleanup(). */
const char *test_dir(void);
const char *test_db(void);
void test_cleanup(void);

/* The fake clock: ms since the epoch, set and advanced by tests. */
extern int64_t test_now;
int64_t test_clock(void *arg);

/* test_config: defaults with the fake clock and group commit GROUP. */
void test_config(struct queue_config *cfg, int group);
/* test_open: open test_db() with CFG; fails the test on error. */
struct queue *test_open(const struct queue_config *cfg);
/* test_put: store TEXT with the given metadata (NULLs allowed); fails the
 * test on error; returns the id. */
int64_t test_put(struct queue *q, const char *text, const char *sender, const char *doc_type,
                 const char *doc_id, const char *txn_key);
/* test_sql_int: the integer result of SQL run directly against test_db()
 * (a second connection, as an outside observer); fails on error. */
int64_t test_sql_int(const char *sql);
/* test_sql_exec: run SQL directly against test_db(). */
void test_sql_exec(const char *sql);

#endif
