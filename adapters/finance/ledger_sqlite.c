/*
 * ledger_sqlite.c — the SQLite backend of the finance ledger (ledger_int.h).
 *
 * Interface: ledger__sqlite (open, exec, query, begin, in_txn, close).
 * The file is opened in WAL mode with synchronous=FULL (a recorded invoice
 * survives a crash that loses the ACK) and a 5 s busy timeout, so the
 * running adapter and the command line (list, approve, pay) share it.
 * Parameters written $1..$N in the SQL are bound by name.
 * Errors: SECMX_EINVALID (the data refused: SQLITE_CONSTRAINT, TOOBIG,
 * MISMATCH), SECMX_EIO (anything else) with SQLite's message in ERR;
 * SECMX_ENOMEM.
 * Limits: LEDGER_MAX_PARAMS parameters; one handle per thread.
 */
#include "ledger_int.h"

#include <stdio.h>
#include <stdlib.h>

#include <sqlite3.h>

/* sq_open: open or create the file at p->sqlite_path. */
static int sq_open(const struct ledger_params *p, void **out, char *err, size_t errlen)
{
	sqlite3 *db = NULL;

	*out = NULL;
	if (!p->sqlite_path || !*p->sqlite_path) {
		secmx_errf(err, errlen, "no sqlite path configured");
		return SECMX_ECONFIG;
	}
	if (sqlite3_open_v2(p->sqlite_path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
	                    NULL) != SQLITE_OK ||
	    sqlite3_busy_timeout(db, 5000) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", NULL, NULL,
	                 NULL) != SQLITE_OK) {
		secmx_errf(err, errlen, "%s: %s", p->sqlite_path,
		           db ? sqlite3_errmsg(db) : "cannot open");
		sqlite3_close(db);
		return SECMX_EIO;
	}
	*out = db;
	return 0;
}

/* prepare: compile SQL and bind $1..$N from PARAMS. *ST: sqlite3_finalize. */
static int prepare(sqlite3 *db, const char *sql, const char *const *params, int nparams,
                   sqlite3_stmt **st, char *err, size_t errlen)
{
	char name[8];
	int i, idx;

	*st = NULL;
	if (nparams > LEDGER_MAX_PARAMS)
		return SECMX_EINVAL;
	if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK)
		goto fail;
	for (i = 0; i < nparams; i++) {
		snprintf(name, sizeof(name), "$%d", i + 1);
		idx = sqlite3_bind_parameter_index(*st, name);
		if (idx == 0)
			continue; /* not used by this statement */
		if ((params[i] ? sqlite3_bind_text(*st, idx, params[i], -1, SQLITE_TRANSIENT)
		               : sqlite3_bind_null(*st, idx)) != SQLITE_OK)
			goto fail;
	}
	return 0;
fail:
	secmx_errf(err, errlen, "sqlite: %s", sqlite3_errmsg(db));
	sqlite3_finalize(*st);
	*st = NULL;
	return SECMX_EIO;
}

/* step_error: the code for a failed step (RC, SQLite's primary or
 * extended result): refused for its data, or an I/O-like failure. */
static int step_error(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_CONSTRAINT:
	case SQLITE_TOOBIG:
	case SQLITE_MISMATCH:
		return SECMX_EINVALID;
	default:
		return SECMX_EIO;
	}
}

/* sq_exec: run one statement to completion. */
static int sq_exec(void *h, const char *sql, const char *const *params, int nparams, long *changes,
                   char *err, size_t errlen)
{
	sqlite3 *db = h;
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = prepare(db, sql, params, nparams, &st, err, errlen)) < 0)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	if (rc != SQLITE_DONE) {
		secmx_errf(err, errlen, "sqlite: %s", sqlite3_errmsg(db));
		sqlite3_finalize(st);
		return step_error(rc);
	}
	if (changes)
		*changes = sqlite3_changes(db);
	sqlite3_finalize(st);
	return 0;
}

/* sq_query: run one statement, every row as text to FN. */
static int sq_query(void *h, const char *sql, const char *const *params, int nparams,
                    ledger_row_fn fn, void *arg, char *err, size_t errlen)
{
	sqlite3 *db = h;
	sqlite3_stmt *st = NULL;
	const char *vals[64];
	int rc, i, n;

	if ((rc = prepare(db, sql, params, nparams, &st, err, errlen)) < 0)
		return rc;
	n = sqlite3_column_count(st);
	if (n > 64)
		n = 64;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (i = 0; i < n; i++)
			vals[i] = (const char *)sqlite3_column_text(st, i);
		if (fn(arg, n, vals))
			break;
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		secmx_errf(err, errlen, "sqlite: %s", sqlite3_errmsg(db));
		sqlite3_finalize(st);
		return step_error(rc);
	}
	sqlite3_finalize(st);
	return 0;
}

/* sq_begin: a write transaction, taking the write lock at once (no
 * deadlock between two readers that both want to write). */
static int sq_begin(void *h, char *err, size_t errlen)
{
	return sq_exec(h, "BEGIN IMMEDIATE", NULL, 0, NULL, err, errlen);
}

/* sq_in_txn: is a transaction open? (SQLite rolls a transaction back by
 * itself after some errors, e.g. SQLITE_FULL or an I/O error.) */
static int sq_in_txn(void *h)
{
	return !sqlite3_get_autocommit(h);
}

/* sq_close: close the file. */
static void sq_close(void *h)
{
	sqlite3_close(h);
}

const struct ledger_backend ledger__sqlite = {"sqlite", sq_open,   sq_exec, sq_query,
                                              sq_begin, sq_in_txn, sq_close};
