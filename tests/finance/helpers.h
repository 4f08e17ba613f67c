/*
 * helpers.h — shared by the secmx-finance Check suite (tests/finance):
 * the TCases, a throwaway PostgreSQL server, and small helpers.
 *
 * pgserver_start(): a real PostgreSQL server (initdb + pg_ctl from
 * /usr/lib/postgresql/<N>/bin, or $SECMX_PG_BINDIR) in a new temp dir,
 * listening only on a unix socket in that dir, with scram-sha-256
 * password authentication for a superuser "secmx_test" whose password is
 * random. As root, the server runs as the "postgres" system user (runuser);
 * otherwise as the current user. fsync is off (a test server). Returns 0,
 * or -1 with the reason (and the tail of the server's log) in ERR.
 * pgserver_stop(): immediate shutdown and removal of the temp dir.
 * pgserver_restart(): pg_ctl restart (the ledger must reconnect).
 * pgserver_newdb(): a fresh database for one test, its name in DB.
 */
#ifndef SECMX_TEST_FINANCE_HELPERS_H
#define SECMX_TEST_FINANCE_HELPERS_H

#include <check.h>
#include <stddef.h>

#include "finance.h"

struct pgserver {
	char dir[256];
	char bindir[256];
	char password[40];
	char conninfo[512]; /* host=DIR port=P user=secmx_test (no dbname, no password) */
	int port;
	int started;
	int as_postgres; /* running as root: commands via runuser -u postgres */
};

int pgserver_start(struct pgserver *s, char *err, size_t errlen);
void pgserver_stop(struct pgserver *s);
int pgserver_restart(struct pgserver *s);
int pgserver_newdb(struct pgserver *s, char *db, size_t dblen, char *err, size_t errlen);

/* The server the ledger TCase's fixture started (NULL if it failed; then
 * pg_error says why). */
extern struct pgserver *test_pg;
extern char test_pg_error[2048];

/* run_cmd: run ARGV (argv[0] a path or a name on PATH), stdout and stderr
 * to LOG (NULL: inherited); the exit status, or -1. */
int run_cmd(char *const argv[], const char *log);

/* read_doc: a test data file into a fin_doc with ENVELOPE applied; aborts
 * the test on failure. */
void read_doc(const char *path, const char *envelope, struct fin_doc *d);

TCase *tc_ubl(void);
TCase *tc_ledger(void);
TCase *tc_csv(void);
TCase *tc_remit(void);
TCase *tc_config(void);

#endif
