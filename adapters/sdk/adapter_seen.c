/*
 * adapter_seen.c — the SDK's idempotency helper: a local SQLite table of the
 * idempotency keys an adapter has finished processing.
 *
 * Interface: adapter_seen_open/check/mark/prune/close, and begin/commit/
 * rollback for batches (secmx_adapter.h).
 * The database is opened in WAL mode with synchronous=FULL, so a key marked
 * before the ACK survives a crash that loses the ACK; the redelivery then
 * finds the key and can be ACKed without doing the work again. Outside a
 * batch each mark is its own transaction (one WAL fsync per key); inside a
 * batch (begin ... commit) the marks of a burst share one commit, and the
 * caller sends the burst's ACKs only after the commit returned.
 * Errors: SECMX_EIO (with SQLite's message in ERR for open), SECMX_EINVAL.
 * Limits: keys up to BUS_MAX_KEY bytes. One handle per thread.
 */
#include "secmx_adapter.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "common.h"

struct adapter_seen {
	sqlite3 *db;
	sqlite3_stmt *check, *mark, *prune;
	sqlite3_stmt *begin, *commit, *rollback; /* batches: prepared once */
};

/* adapter_seen_open: open or create the table. */
int adapter_seen_open(const char *path, struct adapter_seen **out, char *err, size_t errlen)
{
	struct adapter_seen *s = NULL;
	int rc = SECMX_EIO;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return SECMX_ENOMEM;
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
		    SQLITE_OK ||
	    sqlite3_busy_timeout(s->db, 5000) != SQLITE_OK ||
	    sqlite3_exec(s->db,
			 "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
			 "CREATE TABLE IF NOT EXISTS seen(key TEXT PRIMARY KEY NOT NULL,"
			 " at INTEGER NOT NULL)",
			 NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, "SELECT 1 FROM seen WHERE key = ?1", -1, &s->check,
			       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, "INSERT OR IGNORE INTO seen(key, at) VALUES (?1, ?2)", -1,
			       &s->mark, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, "DELETE FROM seen WHERE at < ?1", -1, &s->prune, NULL) !=
		    SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, "BEGIN IMMEDIATE", -1, &s->begin, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, "COMMIT", -1, &s->commit, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, "ROLLBACK", -1, &s->rollback, NULL) != SQLITE_OK) {
		secmx_errf(err, errlen, "%s: %s", path,
			   s->db ? sqlite3_errmsg(s->db) : "cannot open");
		goto fail;
	}
	*out = s;
	return 0;
fail:
	adapter_seen_close(s);
	return rc;
}

/* adapter_seen_check: has KEY been marked? */
int adapter_seen_check(struct adapter_seen *s, const char *key)
{
	int rc;

	if (!s || !bus_key_ok(key))
		return SECMX_EINVAL;
	sqlite3_reset(s->check);
	sqlite3_bind_text(s->check, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(s->check);
	sqlite3_reset(s->check);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : SECMX_EIO;
}

/* adapter_seen_mark: record KEY (a committed transaction on return, unless
 * a batch is open: then at adapter_seen_commit). */
int adapter_seen_mark(struct adapter_seen *s, const char *key)
{
	int rc;

	if (!s || !bus_key_ok(key))
		return SECMX_EINVAL;
	sqlite3_reset(s->mark);
	sqlite3_bind_text(s->mark, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s->mark, 2, (sqlite3_int64)time(NULL));
	rc = sqlite3_step(s->mark);
	sqlite3_reset(s->mark);
	return rc == SQLITE_DONE ? 0 : SECMX_EIO;
}

/* run_once: step a prepared statement that returns no rows. */
static int run_once(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : SECMX_EIO;
}

/* adapter_seen_begin: open a batch (BEGIN IMMEDIATE) unless one is open. */
int adapter_seen_begin(struct adapter_seen *s)
{
	if (!s)
		return SECMX_EINVAL;
	if (!sqlite3_get_autocommit(s->db))
		return 0;
	return run_once(s->begin);
}

/* adapter_seen_commit: commit the open batch; roll it back if that fails. */
int adapter_seen_commit(struct adapter_seen *s)
{
	if (!s)
		return SECMX_EINVAL;
	if (sqlite3_get_autocommit(s->db))
		return 0;
	if (run_once(s->commit) == 0)
		return 0;
	adapter_seen_rollback(s);
	return SECMX_EIO;
}

/* adapter_seen_rollback: drop the open batch, if any. */
void adapter_seen_rollback(struct adapter_seen *s)
{
	if (s && s->db && s->rollback && !sqlite3_get_autocommit(s->db))
		(void)run_once(s->rollback);
}

/* adapter_seen_prune: forget old keys. */
int adapter_seen_prune(struct adapter_seen *s, long max_age_s)
{
	int rc;

	if (!s || max_age_s < 0)
		return SECMX_EINVAL;
	sqlite3_reset(s->prune);
	sqlite3_bind_int64(s->prune, 1, (sqlite3_int64)time(NULL) - max_age_s);
	rc = sqlite3_step(s->prune);
	sqlite3_reset(s->prune);
	return rc == SQLITE_DONE ? sqlite3_changes(s->db) : SECMX_EIO;
}

/* adapter_seen_close: finalize and close. */
void adapter_seen_close(struct adapter_seen *s)
{
	if (!s)
		return;
	adapter_seen_rollback(s); /* an uncommitted batch was never ACKed */
	sqlite3_finalize(s->check);
	sqlite3_finalize(s->mark);
	sqlite3_finalize(s->prune);
	sqlite3_finalize(s->begin);
	sqlite3_finalize(s->commit);
	sqlite3_finalize(s->rollback);
	sqlite3_close(s->db);
	free(s);
}
