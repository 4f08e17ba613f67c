/*
 * store_sqlite.c — the queue's SQLite store: one connection in WAL mode with
 * synchronous=FULL (statement journals in memory), prepared statements
 * cached per slot, and the SQLite dialect (schema migrations, the claim
 * statement).
 *
 * Functions: the struct queue__store_ops entries (see queue_int.h), exported
 * as queue__store_sqlite.
 *
 * Durability: journal_mode=WAL with synchronous=FULL makes every COMMIT
 * fsync the WAL before it returns, so a commit that returned SQLITE_OK
 * survives a power cut. Under group commit (sync_apart) the queue syncs
 * apart from COMMIT: synchronous=NORMAL (SQLite still syncs around every
 * checkpoint) and s_sync fdatasyncs the WAL file itself, which makes every
 * COMMIT that returned before it durable; the queue reports an operation
 * done only after that. The WAL keeps transactions in order and recovery
 * replays only complete ones, so a crash leaves a prefix of them; busy_timeout waits for another
 * process's lock instead of failing at once; foreign_keys=ON enforces the schema's references.
 * Errors are SECMX_EIO with sqlite3_errmsg() kept for errmsg.
 *
 * Parameters are written $1, $2, ... in the portable SQL; SQLite takes "$1"
 * as a named parameter, so bind looks the name up rather than trusting the
 * order of first appearance.
 *
 * Limits: one connection for the queue's statements; the caller (struct
 * queue's lock) serialises use. Under group commit the sync thread also has
 * a connection of its own, used only for checkpoints (CKPT_PAGES).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "queue_int.h"

/* The statements without parameters that every operation runs (the shared
 * batch's savepoints, BEGIN, COMMIT): s_exec keeps them prepared instead
 * of compiling them again on every call (sqlite3_exec). */
static const char *const EXEC_CACHED[] = {
    "SAVEPOINT op",  "RELEASE SAVEPOINT op",  "ROLLBACK TO SAVEPOINT op",
    "SAVEPOINT put", "RELEASE SAVEPOINT put", "ROLLBACK TO SAVEPOINT put",
    "BEGIN",         "BEGIN IMMEDIATE",       "COMMIT",
    "ROLLBACK",
};
#define N_EXEC_CACHED (sizeof(EXEC_CACHED) / sizeof(EXEC_CACHED[0]))

/* Checkpoints under group commit: SQLite's own automatic checkpoint runs
 * inside the COMMIT that passes 1,000 WAL pages, with the queue's lock
 * held, and every worker waits for it (4.6-13.6 ms, some 37 times per
 * 1,000 documents in bench_e2e). Instead the sync thread checkpoints
 * (PASSIVE, from a second connection, without the lock) each time the WAL
 * has grown by CKPT_PAGES since its last one. Those cannot restart the WAL
 * while the workers keep writing (SQLite starts it again from the top only
 * once every page is back in the database), so a COMMIT that finds the WAL
 * past CKPT_HARD_PAGES checkpoints in place, with the lock held as before:
 * that one copies only what came since the sync thread's last, and the next
 * write restarts the WAL. The WAL stays under about CKPT_HARD_PAGES pages. */
#define CKPT_PAGES 1000
#define CKPT_HARD_PAGES 4000

struct qstore {
	sqlite3 *db;
	sqlite3 *ck;             /* the sync thread's checkpoint connection, or NULL */
	atomic_int wal_pages;    /* WAL pages after the last COMMIT */
	int ck_mark;             /* WAL pages at the sync thread's last checkpoint */
	sqlite3_stmt *cache[QS__COUNT];
	sqlite3_stmt *exec_cache[N_EXEC_CACHED];
	unsigned fault_nth, fault_count, commits_seen;
	int wal_fd;              /* the WAL, for s_sync; -1 until sync_apart */
	atomic_uint fault_syncs; /* syncs still to fail (test seam) */
	char err[160];           /* our own last error, before sqlite's */
};

struct qstmt; /* a struct qstmt * is a sqlite3_stmt * in this store */

#define STMT(s) ((sqlite3_stmt *)(void *)(s))

/* Version 1 of the schema. Integer times are milliseconds since the epoch. */
/* clang-format off */
static const char MIGRATION_1[] =
	"CREATE TABLE msg ("
	" id INTEGER PRIMARY KEY,"
	" created_at INTEGER NOT NULL,"
	" updated_at INTEGER NOT NULL,"
	" source TEXT, sender TEXT, doc_type TEXT, doc_id TEXT, txn_key TEXT,"
	" size INTEGER NOT NULL,"
	" sha256 TEXT NOT NULL,"
	" body BLOB NOT NULL,"
	" state TEXT NOT NULL,"
	" resume_state TEXT,"
	" held INTEGER NOT NULL DEFAULT 0,"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" next_attempt_at INTEGER NOT NULL,"
	" last_error TEXT,"
	" lease_token TEXT,"
	" lease_until INTEGER,"
	" dup_of INTEGER);"
	"CREATE INDEX msg_due ON msg(state, next_attempt_at, id);"
	"CREATE TABLE seen ("
	" sender TEXT NOT NULL, doc_type TEXT NOT NULL, doc_id TEXT NOT NULL,"
	" first_msg_id INTEGER NOT NULL, at INTEGER NOT NULL,"
	" PRIMARY KEY (sender, doc_type, doc_id));"
	"CREATE TABLE step ("
	" msg_id INTEGER NOT NULL REFERENCES msg(id),"
	" step TEXT NOT NULL, result TEXT NOT NULL, detail TEXT,"
	" next_state TEXT NOT NULL, at INTEGER NOT NULL,"
	" PRIMARY KEY (msg_id, step));"
	"CREATE TABLE delivery ("
	" id INTEGER PRIMARY KEY,"
	" msg_id INTEGER NOT NULL REFERENCES msg(id),"
	" adapter TEXT NOT NULL, idem_key TEXT NOT NULL, txn_key TEXT NOT NULL,"
	" seq INTEGER NOT NULL, state TEXT NOT NULL,"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" next_attempt_at INTEGER NOT NULL,"
	" sent_at INTEGER, ack_deadline INTEGER, acked_at INTEGER,"
	" last_error TEXT, created_at INTEGER NOT NULL,"
	" UNIQUE (adapter, idem_key));"
	"CREATE INDEX delivery_due ON delivery(adapter, state, next_attempt_at, id);"
	"CREATE INDEX delivery_txn ON delivery(adapter, txn_key, seq);"
	"CREATE INDEX delivery_msg ON delivery(msg_id);"
	"CREATE TABLE txn ("
	" id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, state TEXT NOT NULL,"
	" created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
	"CREATE TABLE txn_history ("
	" id INTEGER PRIMARY KEY, txn_id INTEGER NOT NULL REFERENCES txn(id),"
	" at INTEGER NOT NULL, from_state TEXT, to_state TEXT NOT NULL,"
	" msg_id INTEGER, note TEXT);"
	"CREATE TABLE txn_finding ("
	" id INTEGER PRIMARY KEY, txn_id INTEGER NOT NULL REFERENCES txn(id),"
	" at INTEGER NOT NULL, msg_id INTEGER, rule TEXT NOT NULL,"
	" severity TEXT NOT NULL, text TEXT NOT NULL);"
	"CREATE TABLE audit ("
	" id INTEGER PRIMARY KEY, at INTEGER NOT NULL, msg_id INTEGER,"
	" action TEXT NOT NULL, who TEXT NOT NULL, reason TEXT);"
	"CREATE INDEX audit_msg ON audit(msg_id);";
/* clang-format on */

/* Version 2: the documents of each transaction (txn_doc: one row per
 * document per transaction, with the summary the three-way match reads) and
 * the reference index (txn_ref: (document type, party, document id) -> the
 * transaction, for a document's own id and for every id it refers to), so
 * that correlation looks references up instead of scanning. */
/* clang-format off */
static const char MIGRATION_2[] =
	"CREATE TABLE txn_doc ("
	" id INTEGER PRIMARY KEY, txn_id INTEGER NOT NULL REFERENCES txn(id),"
	" msg_id INTEGER NOT NULL, doc_type TEXT NOT NULL, party TEXT NOT NULL,"
	" doc_id TEXT NOT NULL, at INTEGER NOT NULL, summary TEXT,"
	" UNIQUE (txn_id, msg_id));"
	"CREATE INDEX txn_doc_msg ON txn_doc(msg_id);"
	"CREATE TABLE txn_ref ("
	" txn_id INTEGER NOT NULL REFERENCES txn(id), msg_id INTEGER NOT NULL,"
	" doc_type TEXT NOT NULL, party TEXT NOT NULL, doc_id TEXT NOT NULL,"
	" own INTEGER NOT NULL,"
	" UNIQUE (txn_id, msg_id, doc_type, party, doc_id));"
	"CREATE INDEX txn_ref_lookup ON txn_ref(doc_id, doc_type, party);"
	"CREATE INDEX txn_state ON txn(state, id);";
/* clang-format on */

/* Version 3: a message's bytes in a table of their own (msg_body), so that
 * the many small updates of a message's row (state, lease, attempts) do not
 * rewrite its bytes every time: SQLite writes a whole record, overflow pages
 * included, when its size changes. msg.body stays, empty. */
/* clang-format off */
static const char MIGRATION_3[] =
	"CREATE TABLE msg_body ("
	" msg_id INTEGER PRIMARY KEY REFERENCES msg(id), body BLOB NOT NULL);"
	"INSERT INTO msg_body (msg_id, body) SELECT id, body FROM msg;"
	"UPDATE msg SET body = x'';";
/* clang-format on */

static const char *const MIGRATIONS[] = {MIGRATION_1, MIGRATION_2, MIGRATION_3};

/* The claim: portable SQL (the PostgreSQL store adds FOR UPDATE SKIP LOCKED
 * to the sub-select). Under SQLite the write lock taken by BEGIN IMMEDIATE
 * makes the select-then-update atomic. */
static const char SQL_CLAIM[] =
    "UPDATE msg SET lease_token = $1, lease_until = $2 WHERE id = ("
    " SELECT id FROM msg WHERE state = $3 AND held = 0 AND next_attempt_at <= $4"
    " AND (lease_until IS NULL OR lease_until <= $4)"
    " ORDER BY next_attempt_at, id LIMIT 1)"
    " AND (lease_until IS NULL OR lease_until <= $4) RETURNING " QUEUE__MSG_COLUMNS;

/* commit_hook: the fault seam; a non-zero return turns COMMIT into ROLLBACK. */
static int commit_hook(void *arg)
{
	struct qstore *st = arg;

	if (st->fault_nth == 0)
		return 0;
	st->commits_seen++;
	if (st->commits_seen >= st->fault_nth && st->commits_seen < st->fault_nth + st->fault_count)
		return 1;
	return 0;
}

/* s_exec: run SQL without rows; one of EXEC_CACHED from its prepared
 * statement (reset at once, so that it never holds a lock or keeps a
 * COMMIT from completing). */
static int s_exec(struct qstore *st, const char *sql)
{
	unsigned i;
	int rc;

	for (i = 0; i < N_EXEC_CACHED && strcmp(sql, EXEC_CACHED[i]) != 0; i++)
		;
	if (i == N_EXEC_CACHED)
		return sqlite3_exec(st->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : SECMX_EIO;
	if (st->exec_cache[i] == NULL &&
	    sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st->exec_cache[i],
	                       NULL) != SQLITE_OK)
		return SECMX_EIO;
	rc = sqlite3_step(st->exec_cache[i]);
	sqlite3_reset(st->exec_cache[i]);
	return rc == SQLITE_DONE ? 0 : SECMX_EIO;
}

/* s_close: finalise the cached statements and close. Accepts NULL. */
static void s_close(struct qstore *st)
{
	unsigned i;

	if (st == NULL)
		return;
	for (i = 0; i < QS__COUNT; i++)
		sqlite3_finalize(st->cache[i]);
	for (i = 0; i < N_EXEC_CACHED; i++)
		sqlite3_finalize(st->exec_cache[i]);
	sqlite3_close(st->db);
	sqlite3_close(st->ck);
	if (st->wal_fd >= 0)
		close(st->wal_fd);
	free(st);
}

/* s_open: open PATH with the durability settings. */
static int s_open(const char *path, const struct queue_config *cfg, struct qstore **out, char *err,
                  size_t errlen)
{
	struct qstore *st = NULL;
	sqlite3_stmt *s = NULL;
	int rc = SECMX_EIO;

	*out = NULL;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return SECMX_ENOMEM;
	st->wal_fd = -1;
	if (sqlite3_open_v2(path, &st->db,
	                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
	                    NULL) != SQLITE_OK) {
		secmx_errf(err, errlen, "%s: %s", path,
		           st->db ? sqlite3_errmsg(st->db) : "cannot open");
		goto done;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, cfg->busy_timeout_ms);
	/* journal_mode answers with the mode it got: insist on WAL. */
	if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode=WAL", -1, &s, NULL) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_ROW ||
	    strcmp((const char *)sqlite3_column_text(s, 0), "wal") != 0) {
		secmx_errf(err, errlen, "%s: cannot use WAL mode: %s", path,
		           sqlite3_errmsg(st->db));
		goto done;
	}
	/* temp_store=MEMORY keeps statement journals in memory: every
	 * operation of a shared batch runs in its own SAVEPOINT, and SQLite
	 * copies each page an operation first touches into that savepoint's
	 * journal; in a temporary file (the default once it passes 64 KiB)
	 * that was a page write for every few WAL writes, for a journal that
	 * only a rollback to the savepoint ever reads. */
	if (s_exec(st, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
	               " PRAGMA temp_store=MEMORY;") < 0) {
		secmx_errf(err, errlen, "%s: %s", path, sqlite3_errmsg(st->db));
		goto done;
	}
	/* Read the settings back: durability must not depend on hope. */
	sqlite3_finalize(s);
	s = NULL;
	if (sqlite3_prepare_v2(st->db,
	                       "SELECT synchronous, foreign_keys, temp_store FROM"
	                       " pragma_synchronous, pragma_foreign_keys, pragma_temp_store",
	                       -1, &s, NULL) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_ROW || sqlite3_column_int(s, 0) != 2 ||
	    sqlite3_column_int(s, 1) != 1 || sqlite3_column_int(s, 2) != 2) {
		secmx_errf(err, errlen,
		           "%s: cannot set synchronous=FULL, foreign_keys=ON and temp_store=MEMORY",
		           path);
		goto done;
	}
	sqlite3_commit_hook(st->db, commit_hook, st);
	*out = st;
	st = NULL;
	rc = 0;
done:
	sqlite3_finalize(s);
	s_close(st);
	return rc;
}

/* s_begin: a write transaction that holds the write lock from the start, so
 * it never fails half-way with SQLITE_BUSY on lock upgrade. */
static int s_begin(struct qstore *st)
{
	return s_exec(st, "BEGIN IMMEDIATE");
}

/* s_commit: COMMIT; on failure the transaction is rolled back. */
static int s_commit(struct qstore *st)
{
	if (s_exec(st, "COMMIT") == 0)
		return 0;
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return SECMX_EIO;
}

/* s_rollback: ROLLBACK if a transaction is open. */
static int s_rollback(struct qstore *st)
{
	if (sqlite3_get_autocommit(st->db))
		return 0;
	return s_exec(st, "ROLLBACK");
}

/* s_in_txn: is a transaction open? */
static int s_in_txn(struct qstore *st)
{
	return !sqlite3_get_autocommit(st->db);
}

/* s_prepare: the cached statement for SLOT, reset and unbound. */
static int s_prepare(struct qstore *st, unsigned slot, const char *sql, struct qstmt **out)
{
	if (slot >= QS__COUNT)
		return SECMX_EINVAL;
	if (st->cache[slot] == NULL &&
	    sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st->cache[slot],
	                       NULL) != SQLITE_OK)
		return SECMX_EIO;
	sqlite3_reset(st->cache[slot]);
	sqlite3_clear_bindings(st->cache[slot]);
	*out = (struct qstmt *)(void *)st->cache[slot];
	return 0;
}

/* param: the index of parameter $N. */
static int param(sqlite3_stmt *s, int n)
{
	char name[16];

	snprintf(name, sizeof(name), "$%d", n);
	return sqlite3_bind_parameter_index(s, name);
}

static int s_bind_int(struct qstmt *s, int n, int64_t v)
{
	return sqlite3_bind_int64(STMT(s), param(STMT(s), n), v) == SQLITE_OK ? 0 : SECMX_EIO;
}

static int s_bind_text(struct qstmt *s, int n, const char *v)
{
	int i = param(STMT(s), n);

	if (v == NULL)
		return sqlite3_bind_null(STMT(s), i) == SQLITE_OK ? 0 : SECMX_EIO;
	return sqlite3_bind_text(STMT(s), i, v, -1, SQLITE_TRANSIENT) == SQLITE_OK ? 0 : SECMX_EIO;
}

static int s_bind_blob(struct qstmt *s, int n, const void *v, size_t len)
{
	/* A zero-length blob must still be a blob, not NULL. */
	return sqlite3_bind_blob64(STMT(s), param(STMT(s), n), len ? v : "", len, SQLITE_STATIC) ==
	               SQLITE_OK
	           ? 0
	           : SECMX_EIO;
}

static int s_step(struct qstmt *s)
{
	int rc = sqlite3_step(STMT(s));

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return SECMX_EIO;
}

static int64_t s_col_int(struct qstmt *s, int i)
{
	return sqlite3_column_int64(STMT(s), i);
}

static const char *s_col_text(struct qstmt *s, int i)
{
	return (const char *)sqlite3_column_text(STMT(s), i);
}

static const void *s_col_blob(struct qstmt *s, int i, size_t *len)
{
	const void *p = sqlite3_column_blob(STMT(s), i);

	*len = (size_t)sqlite3_column_bytes(STMT(s), i);
	return p;
}

static void s_reset(struct qstmt *s)
{
	sqlite3_reset(STMT(s));
}

static int64_t s_changes(struct qstore *st)
{
	return sqlite3_changes64(st->db);
}

static const char *s_errmsg(struct qstore *st)
{
	return st->err[0] ? st->err : sqlite3_errmsg(st->db);
}

/* wal_hook: after each COMMIT (queue lock held): note the WAL's size for
 * the sync thread; checkpoint in place only past the hard bound. */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct qstore *st = arg;

	atomic_store(&st->wal_pages, pages);
	if (pages >= CKPT_HARD_PAGES)
		sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	return SQLITE_OK;
}

/* s_sync_apart: COMMIT stops syncing; s_sync syncs the WAL and checkpoints
 * (see CKPT_PAGES). The WAL file exists (WAL mode, the schema written) and
 * stays while the connection is open; its directory entry is synced once
 * here. */
static int s_sync_apart(struct qstore *st)
{
	const char *db = sqlite3_db_filename(st->db, "main");
	const char *wal = db ? sqlite3_filename_wal(db) : NULL;
	char dir[4096];
	int fd;

	if (wal == NULL || *wal == '\0') {
		snprintf(st->err, sizeof(st->err), "the store has no WAL file name");
		return SECMX_EIO;
	}
	if ((st->wal_fd = open(wal, O_RDWR | O_CLOEXEC)) < 0) {
		secmx_errf(st->err, sizeof(st->err), "%s: %s", wal, strerror(errno));
		return SECMX_EIO;
	}
	snprintf(dir, sizeof(dir), "%s", wal);
	if ((fd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || fsync(fd) < 0) {
		secmx_errf(st->err, sizeof(st->err), "%s: %s", dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		return SECMX_EIO;
	}
	close(fd);
	if (s_exec(st, "PRAGMA synchronous=NORMAL") < 0)
		return SECMX_EIO;
	if (sqlite3_open_v2(db, &st->ck, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		secmx_errf(st->err, sizeof(st->err), "%s: checkpoint connection: %s", db,
		           st->ck ? sqlite3_errmsg(st->ck) : "cannot open");
		return SECMX_EIO;
	}
	/* A connection checkpoints only once it has read the database in WAL
	 * mode (before that SQLite answers OK and does nothing). */
	if (sqlite3_exec(st->ck, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		secmx_errf(st->err, sizeof(st->err), "%s: checkpoint connection: %s", db,
		           sqlite3_errmsg(st->ck));
		return SECMX_EIO;
	}
	sqlite3_wal_hook(st->db, wal_hook, st); /* replaces the automatic checkpoint */
	return 0;
}

/* s_sync: make every COMMIT that returned so far durable. Runs without the
 * queue's lock: it touches only the WAL's descriptor. */
static int s_sync(struct qstore *st)
{
	unsigned f = atomic_load(&st->fault_syncs);

	if (f > 0 && atomic_compare_exchange_strong(&st->fault_syncs, &f, f - 1))
		return SECMX_EIO;
	while (fdatasync(st->wal_fd) < 0)
		if (errno != EINTR)
			return SECMX_EIO;
	return 0;
}

/* s_checkpoint: copy the WAL into the database once it has grown by
 * CKPT_PAGES since the last time (1 when done). Runs without the queue's lock, from the sync
 * thread's own connection. A checkpoint that fails or is busy (another
 * process checkpointing) loses nothing: the pages stay in the WAL for the
 * next one. */
static int s_checkpoint(struct qstore *st)
{
	int pages = atomic_load(&st->wal_pages), log = 0, done = 0;

	if (pages < st->ck_mark)
		st->ck_mark = 0; /* the WAL was restarted */
	if (st->ck == NULL || pages - st->ck_mark < CKPT_PAGES)
		return 0;
	if (sqlite3_wal_checkpoint_v2(st->ck, "main", SQLITE_CHECKPOINT_PASSIVE, &log, &done) !=
	    SQLITE_OK)
		return 0;
	st->ck_mark = log;
	return done > 0;
}

static void s_fault_sync(struct qstore *st, unsigned count)
{
	atomic_store(&st->fault_syncs, count);
}

static void s_fault_commit(struct qstore *st, unsigned nth, unsigned count)
{
	st->fault_nth = nth;
	st->fault_count = count;
	st->commits_seen = 0;
}

const struct queue__store_ops queue__store_sqlite = {
    .name = "sqlite",
    .open = s_open,
    .close = s_close,
    .begin = s_begin,
    .commit = s_commit,
    .rollback = s_rollback,
    .in_txn = s_in_txn,
    .exec = s_exec,
    .prepare = s_prepare,
    .bind_int = s_bind_int,
    .bind_text = s_bind_text,
    .bind_blob = s_bind_blob,
    .step = s_step,
    .col_int = s_col_int,
    .col_text = s_col_text,
    .col_blob = s_col_blob,
    .reset = s_reset,
    .changes = s_changes,
    .errmsg = s_errmsg,
    .fault_commit = s_fault_commit,
    .sync_apart = s_sync_apart,
    .sync = s_sync,
    .checkpoint = s_checkpoint,
    .fault_sync = s_fault_sync,
    .migrations = MIGRATIONS,
    .n_migrations = sizeof(MIGRATIONS) / sizeof(MIGRATIONS[0]),
    .sql_claim = SQL_CLAIM,
};
