/*
 * ledger_pg.c — the PostgreSQL backend of the finance ledger (ledger_int.h),
 * on libpq.
 *
 * Interface: ledger__pg (open, exec, query, begin, in_txn, close).
 * The connection string is the operator's libpq conninfo; the password, a
 * secret, is passed separately (PQconnectdbParams "password") so it never
 * appears in a string that could be logged, and it is refused inside the
 * conninfo (ledger.c checks). Every parameter is sent as text with its type
 * left to the server; every column comes back as text.
 * A lost connection (server restarted) is re-established before the next
 * query or transaction, never in the middle of one: a statement that fails
 * inside a transaction fails the transaction.
 * Errors: SECMX_EINVALID when the server refused the statement for its data
 * (SQLSTATE class 22, data exception, or 23, integrity constraint
 * violation, which a trigger may raise too), SECMX_EIO for anything else,
 * with the server's message in ERR (first line only); SECMX_ENOMEM.
 * Limits: LEDGER_MAX_PARAMS parameters; one connection per thread.
 */
#include "ledger_int.h"

#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

/* pgerr: the first line of libpq's message into ERR. */
static void pgerr(PGconn *c, const char *what, char *err, size_t errlen)
{
	const char *m = c ? PQerrorMessage(c) : "no connection";
	size_t n = strcspn(m, "\n");

	secmx_errf(err, errlen, "postgresql: %s: %.*s", what, (int)n, m);
}

/* quiet: a notice processor that drops the server's notices and warnings
 * (libpq would print them on stderr; a library does not print). */
static void quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* pg_open: connect with the conninfo and, if any, the password. */
static int pg_open(const struct ledger_params *p, void **out, char *err, size_t errlen)
{
	const char *keys[4], *vals[4];
	PGconn *c;
	PGresult *r;
	int n = 0;

	*out = NULL;
	if (!p->pg_conninfo || !*p->pg_conninfo) {
		secmx_errf(err, errlen, "no pg_conninfo configured");
		return SECMX_ECONFIG;
	}
	keys[n] = "dbname";
	vals[n++] = p->pg_conninfo; /* expand_dbname: a conninfo string */
	if (p->pg_password) {
		keys[n] = "password";
		vals[n++] = p->pg_password;
	}
	keys[n] = "connect_timeout";
	vals[n++] = "10";
	keys[n] = NULL;
	vals[n] = NULL;
	c = PQconnectdbParams(keys, vals, 1);
	if (!c)
		return SECMX_ENOMEM;
	if (PQstatus(c) != CONNECTION_OK) {
		pgerr(c, "connect", err, errlen);
		PQfinish(c);
		return SECMX_EIO;
	}
	/* Quiet NOTICEs ("relation already exists, skipping") on stderr, and
	 * keep any other notice (e.g. "no transaction in progress" after a
	 * reconnect) off stderr: the processor survives PQreset. */
	PQsetNoticeProcessor(c, quiet, NULL);
	r = PQexec(c, "SET client_min_messages = warning");
	PQclear(r);
	*out = c;
	return 0;
}

/* run: execute SQL with text parameters; *RES: PQclear. */
static int run(PGconn *c, const char *sql, const char *const *params, int nparams, PGresult **res,
               char *err, size_t errlen)
{
	ExecStatusType st;

	*res = NULL;
	if (nparams > LEDGER_MAX_PARAMS)
		return SECMX_EINVAL;
	*res = PQexecParams(c, sql, nparams, NULL, params, NULL, NULL, 0);
	if (!*res)
		return SECMX_ENOMEM;
	st = PQresultStatus(*res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		const char *m = PQresultErrorMessage(*res);
		const char *code = PQresultErrorField(*res, PG_DIAG_SQLSTATE);
		size_t n = strcspn(m, "\n");
		int rc = SECMX_EIO;

		if (code && (strncmp(code, "22", 2) == 0 || strncmp(code, "23", 2) == 0))
			rc = SECMX_EINVALID;
		secmx_errf(err, errlen, "postgresql: %.*s", (int)n, m);
		PQclear(*res);
		*res = NULL;
		return rc;
	}
	return 0;
}

/* revive: reconnect a broken connection (outside transactions only).
 * libpq notices a lost connection only when a statement fails, so callers
 * also try once more after revive() when a statement failed that way.
 * Returns 1 if it reconnected. */
static int revive(PGconn *c)
{
	if (PQstatus(c) == CONNECTION_OK)
		return 0;
	PQreset(c);
	return PQstatus(c) == CONNECTION_OK;
}

/* pg_exec: one statement; rows changed into *CHANGES. */
static int pg_exec(void *h, const char *sql, const char *const *params, int nparams, long *changes,
                   char *err, size_t errlen)
{
	PGresult *r;
	const char *t;
	int rc;

	if ((rc = run(h, sql, params, nparams, &r, err, errlen)) < 0)
		return rc;
	if (changes) {
		t = PQcmdTuples(r);
		*changes = (t && *t) ? strtol(t, NULL, 10) : 0;
	}
	PQclear(r);
	return 0;
}

/* pg_query: one statement, every row to FN. */
static int pg_query(void *h, const char *sql, const char *const *params, int nparams,
                    ledger_row_fn fn, void *arg, char *err, size_t errlen)
{
	PGresult *r;
	const char *vals[64];
	int rc, i, j, n, rows;

	revive(h);
	rc = run(h, sql, params, nparams, &r, err, errlen);
	if (rc == SECMX_EIO && revive(h))
		rc = run(h, sql, params, nparams, &r, err, errlen);
	if (rc < 0)
		return rc;
	n = PQnfields(r);
	if (n > 64)
		n = 64;
	rows = PQntuples(r);
	for (i = 0; i < rows; i++) {
		for (j = 0; j < n; j++)
			vals[j] = PQgetisnull(r, i, j) ? NULL : PQgetvalue(r, i, j);
		if (fn(arg, n, vals))
			break;
	}
	PQclear(r);
	return 0;
}

/* pg_begin: start a transaction. */
static int pg_begin(void *h, char *err, size_t errlen)
{
	int rc;

	revive(h);
	rc = pg_exec(h, "BEGIN", NULL, 0, NULL, err, errlen);
	if (rc == SECMX_EIO && revive(h))
		rc = pg_exec(h, "BEGIN", NULL, 0, NULL, err, errlen);
	return rc;
}

/* pg_in_txn: a transaction open and not aborted on a live connection. */
static int pg_in_txn(void *h)
{
	return PQstatus(h) == CONNECTION_OK && PQtransactionStatus(h) == PQTRANS_INTRANS;
}

/* pg_close: disconnect. */
static void pg_close(void *h)
{
	if (h)
		PQfinish(h);
}

const struct ledger_backend ledger__pg = {"postgresql", pg_open,   pg_exec, pg_query,
                                          pg_begin,     pg_in_txn, pg_close};
