/*
 * ledger_int.h — the storage interface under ledger.c: what a backend
 * (ledger_sqlite.c, ledger_pg.c) provides. Private to adapters/finance.
 *
 * ledger.c writes all its SQL once, portably: parameters are written $1, $2
 * ... (PostgreSQL's syntax; SQLite accepts them as named parameters and the
 * SQLite backend binds them by name), every value travels as text (NULL as
 * NULL), and every column comes back as text. Upserts use
 * "INSERT ... ON CONFLICT DO NOTHING", which both engines implement.
 *
 * Functions (all return 0 or a negative SECMX_E*, reason in ERR):
 *   open    connect / open the file; *DB is the backend's handle.
 *   exec    run one statement; *CHANGES (may be NULL) gets the rows changed.
 *   query   run one statement and call FN for each row (nonzero stops).
 *   begin   start a write transaction (SQLite: BEGIN IMMEDIATE).
 *   in_txn  1 when a transaction is open and usable (PostgreSQL: not in
 *           the aborted state), 0 otherwise (none, aborted, connection lost).
 *   close   disconnect (NULL fine).
 * A failed statement inside a transaction is the caller's to roll back.
 * exec and query return SECMX_EINVALID when the database refused the
 * statement for its data (a constraint, a CHECK or trigger, a value out of
 * range: the same values fail the same way again) and SECMX_EIO for every
 * other failure (connection, disk, lock: may work later).
 */
#ifndef SECMX_LEDGER_INT_H
#define SECMX_LEDGER_INT_H

#include "finance.h"

#define LEDGER_MAX_PARAMS 32

typedef int (*ledger_row_fn)(void *arg, int ncols, const char *const *vals);

struct ledger_backend {
	const char *name;
	int (*open)(const struct ledger_params *p, void **db, char *err, size_t errlen);
	int (*exec)(void *db, const char *sql, const char *const *params, int nparams,
	            long *changes, char *err, size_t errlen);
	int (*query)(void *db, const char *sql, const char *const *params, int nparams,
	             ledger_row_fn fn, void *arg, char *err, size_t errlen);
	int (*begin)(void *db, char *err, size_t errlen);
	int (*in_txn)(void *db);
	void (*close)(void *db);
};

extern const struct ledger_backend ledger__sqlite;
extern const struct ledger_backend ledger__pg;

#endif
