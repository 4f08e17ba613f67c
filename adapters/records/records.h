/*
 * records.h — the records archive behind secmx-records: a content-addressed
 * object store, an SQLite index and a hash chain over every entry.
 *
 * Public interface:
 *   records_open()/records_close()   open (create) the store in a directory:
 *                              objects/ab/cdef... (SHA-256 named, written
 *                              atomically), index.db (SQLite), chain.head.
 *   records_set_now()          a fake clock (tests, --now); 0: the real one.
 *   records_set_retention()    retention classes "PATTERN=Ny" (first match).
 *   records_ingest()           store one delivery (envelope JSON + document
 *                              bytes) as a record: objects, metadata, a
 *                              "received" chain entry. Idempotent on the
 *                              envelope's idempotency key.
 *   records_batch_begin()/commit()/rollback()  many ingests, one commit
 *                              (objects durable, then the index once).
 *   records_set_sync()         how a burst's objects are made durable:
 *                              fsync per file, or syncfs per burst.
 *   records_verify()           recompute every object hash, every entry hash,
 *                              the links and the head, and the index rows
 *                              against the chain; one line per problem.
 *   records_list()/records_show()  text or JSON views.
 *   records_export()           a BagIt (RFC 8493) bag of a date range or a
 *                              transaction (export.c); recorded in the chain.
 *   records_dispose_approve()/records_dispose_execute()  disposal after
 *                              expiry, with a recorded approval; leaves a
 *                              tombstone entry.
 *   records__*()               shared by store.c and export.c only.
 *
 * Errors: negative SECMX_E* (common.h): SECMX_EIO (files, SQLite),
 * SECMX_EPARSE (bad envelope), SECMX_ENOTFOUND (no such record),
 * SECMX_ESTATE (disposal refused: not expired, not approved, disposed),
 * SECMX_ECONFIG (bad retention class), SECMX_ECORRUPT (verify found damage).
 * The reason goes to ERR. Nothing here exits; output goes only to the FILE
 * the caller passes.
 * Threads: one struct records per thread. Several processes may share a
 * store: SQLite serialises the chain appends (BEGIN IMMEDIATE).
 * Limits: documents up to 16 MiB (the bus limit); ids and keys as the bus.
 */
#ifndef SECMX_RECORDS_H
#define SECMX_RECORDS_H

#include <stdio.h>
#include <time.h>

#define RECORDS_SOFTWARE "secmx-records 0.1.0"
#define RECORDS_MAX_DOC (16u * 1024u * 1024u)

struct records;

/* A test hook for records_ingest: fail (SECMX_EIO) after this stage. */
enum records_fail {
	RECORDS_FAIL_NONE = 0,
	RECORDS_FAIL_AFTER_OBJECTS, /* objects written, index not committed */
};

/* records_open: open the store in DIR (created, with objects/, when CREATE).
 * *OUT: free with records_close. */
int records_open(const char *dir, int create, struct records **out, char *err, size_t errlen);
/* records_close: close the index and free. NULL is fine. */
void records_close(struct records *r);
/* records_set_now: use NOW as the current time (0: the real clock). */
void records_set_now(struct records *r, time_t now);
/* records_set_fail: the test hook above. */
void records_set_fail(struct records *r, enum records_fail f);

/* Stages of records_batch_commit, for its test hook. */
enum records_flush_stage {
	RECORDS_FLUSH_FILES_DURABLE, /* objects fsynced and renamed, index not committed */
	RECORDS_FLUSH_COMMITTED,     /* index committed, chain.head not yet rewritten */
};
/* A test hook called at each stage; nonzero at FILES_DURABLE fails the
 * commit there (the batch is rolled back). A test may also die in it. */
typedef int (*records_flush_hook)(void *arg, enum records_flush_stage stage);
/* records_set_flush_hook: set (NULL: clear) the hook. */
void records_set_flush_hook(struct records *r, records_flush_hook hook, void *arg);

/*
 * Batches (one commit for a burst of deliveries): records_batch_begin opens
 * the index transaction; records_ingest calls then write their objects as
 * temp files and their rows under a savepoint each (a failed one is rolled
 * back alone; a redelivery of a key earlier in the batch is seen);
 * records_batch_commit makes the objects durable and renames them (see
 * records_set_sync), commits the index once and rewrites chain.head: 0, or
 * SECMX_EIO with the batch rolled back. records_batch_rollback drops it.
 * Nothing of a batch is durable, nor visible to other processes, before
 * records_batch_commit returned 0.
 */
int records_batch_begin(struct records *r, char *err, size_t errlen);
/*
 * How records_batch_commit makes a burst's objects durable:
 *   RECORDS_SYNC_FILES       fsync(2) each temp file, rename each, fsync each
 *                            object directory touched (portable; one journal
 *                            commit per call on most file systems);
 *   RECORDS_SYNC_FILESYSTEM  syncfs(2) on the store's file system once before
 *                            the renames and once after (two journal commits
 *                            per burst, whatever its size; also writes back
 *                            every other dirty file of that file system, so it
 *                            is for a store on a file system of its own).
 * records_set_sync: 0, or SECMX_EINVAL with the reason in ERR when the
 * running kernel's syncfs does not report write-back errors (before Linux
 * 5.8), which would let a failed write pass as durable.
 */
enum records_sync { RECORDS_SYNC_FILES = 0, RECORDS_SYNC_FILESYSTEM };
int records_set_sync(struct records *r, enum records_sync s, char *err, size_t errlen);
/* records_kernel_at_least: does the kernel release RELEASE (uname -r:
 * "6.1.0-18-amd64") have at least version MAJOR.MINOR? NULL: the running
 * kernel's. */
int records_kernel_at_least(const char *release, int major, int minor);
int records_batch_commit(struct records *r, char *err, size_t errlen);
void records_batch_rollback(struct records *r);
/* records_set_retention: classes "PATTERN=Ny" (N 1..200 years), tried in
 * order; bus patterns ("Invoice", "Order*", "reject:*", "*"). Copied. A type
 * that matches none is kept forever (no disposal). */
int records_set_retention(struct records *r, const char *const *items, size_t n, char *err,
                          size_t errlen);
/* records_parse_time: "YYYY-MM-DD" or RFC 3339 UTC ("...T..Z") into *T. */
int records_parse_time(const char *s, time_t *t);

/*
 * records_ingest: store ENVELOPE_JSON (the DELIVER envelope) and DOC as one
 * record, by ACTOR (the adapter's name). Returns 1 stored (ID set), 0
 * already stored under the same idempotency key (ID set to the record),
 * or a negative code.
 */
int records_ingest(struct records *r, const char *envelope_json, const void *doc, size_t doc_len,
                   const char *actor, char *id, size_t idlen, char *err, size_t errlen);

/*
 * records_verify: check everything, writing one line per problem to OUT
 * ("entry N (REC-...): what"). Returns the number of problems (0: intact).
 * When RECORD and the store is intact, appends a "verified" entry by ACTOR.
 */
int records_verify(struct records *r, FILE *out, int record, const char *actor);

/* records_list: one line per record (or a JSON array when JSON). */
int records_list(struct records *r, FILE *out, int json);
/* records_show: a record's metadata, objects and actions. SECMX_ENOTFOUND. */
int records_show(struct records *r, const char *id, FILE *out, int json);

/* What to export: a received-at date range (inclusive days) or a transaction. */
struct records_select {
	const char *from; /* YYYY-MM-DD or NULL */
	const char *to;   /* YYYY-MM-DD or NULL */
	const char *txn;  /* transaction id or NULL */
};

/*
 * records_export: write a BagIt bag of the selected records to OUTDIR (must
 * not exist), naming ORGANISATION as Source-Organization; record an
 * "exported" entry per record by ACTOR. Returns the number of records.
 */
int records_export(struct records *r, const struct records_select *sel, const char *outdir,
                   const char *organisation, const char *actor, char *err, size_t errlen);

/* records_dispose_approve: record BY's approval (with REASON) to dispose of
 * record ID, allowed only once its retention has expired. */
int records_dispose_approve(struct records *r, const char *id, const char *by, const char *reason,
                            char *err, size_t errlen);
/* records_dispose_execute: dispose of every approved, expired record: remove
 * its content objects, keep its metadata and hashes, append a "disposed"
 * tombstone by BY. One line per record to OUT (may be NULL). Returns how
 * many. Under the two-person rule (records_set_two_person, on by default)
 * a record whose approval is by BY is not disposed: the others are, a line
 * "refused ID: ..." goes to OUT for it, and the result is SECMX_ESTATE with
 * the count in ERR. */
int records_dispose_execute(struct records *r, const char *by, FILE *out, char *err, size_t errlen);
/* records_set_two_person: ON (the default): whoever approved a disposal may
 * not execute it (separation of duties; both names are in the chain).
 * OFF: one person may do both. */
void records_set_two_person(struct records *r, int on);
/* records_dispose_due: list records whose retention has expired (not disposed). */
int records_dispose_due(struct records *r, FILE *out);

/* ---- shared by store.c and export.c (not for callers) ---- */
struct sqlite3;
struct json_t;
/* records__db: the index handle (borrowed). */
struct sqlite3 *records__db(struct records *r);
/* records__now: the current time (fake clock honoured). */
time_t records__now(const struct records *r);
/* records__two_person: the two-person rule of disposal in force? */
int records__two_person(const struct records *r);
/* records__object_path: the path of object HEX into BUF. */
void records__object_path(const struct records *r, const char *hex, char *buf, size_t len);
/* records__append: append one chain entry (inside the caller's transaction). */
int records__append(struct records *r, const char *record_id, const char *action, const char *actor,
                    struct json_t *detail, char *err, size_t errlen);
/* records__head_sync: write chain.head from the index (after a commit). */
int records__head_sync(struct records *r);
/* records__sha256_hex: SHA-256 of BUF as 64 hex chars + NUL into HEX. */
void records__sha256_hex(const void *buf, size_t len, char hex[65]);
/* records__write_atomic: write BUF to PATH (temp, fsync, rename, fsync dir). */
int records__write_atomic(const char *path, const void *buf, size_t len);
/* records__fmt_time: T as "YYYY-MM-DDTHH:MM:SSZ". */
void records__fmt_time(time_t t, char buf[32]);
/* records__entry_hash: the chain hash of one entry (see store.c) into HEX. */
void records__entry_hash(long long seq, const char *record_id, const char *action,
                         const char *actor, const char *at, const char *detail, const char *prev,
                         char hex[65]);
/* records__actions: the chain entries of record ID as a JSON array (new ref). */
struct json_t *records__actions(struct records *r, const char *id);

#endif
