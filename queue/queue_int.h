/*
 * queue_int.h — private to queue/: the store vtable, struct queue, the retry
 * policy (sched.c) and the helpers the queue's files share.
 *
 * The store (store_sqlite.c; a store_pg.c later) is a thin statement layer:
 * open/close, transactions, prepared statements cached per connection by
 * slot number, binding and reading columns. The queue's own files hold the
 * portable SQL (parameters written $1, $2, ...; INSERT ... RETURNING; ON
 * CONFLICT DO NOTHING) and pass it to the store; what differs between
 * databases (DDL, the claim statement) is the store's "dialect" part.
 *
 * Errors from store calls are negative SECMX_E* codes (SECMX_EIO for a
 * database failure; the store keeps the database's message for errmsg).
 * Nothing here is thread-safe by itself: struct queue's lock serialises
 * every use of the store (docs/queue.md, "Threading").
 */
#ifndef SECMX_QUEUE_INT_H
#define SECMX_QUEUE_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "queue.h"

struct qstore;
struct qstmt;

/* The statement slots: one cached prepared statement per slot per store. */
enum queue__slot {
	QS_META_GET = 0,
	QS_META_SET,
	QS_SEEN_GET,
	QS_SEEN_SHA,
	QS_SEEN_ADD,
	QS_MSG_ADD,
	QS_BODY_ADD,
	QS_CLAIM,
	QS_MSG_INFO,
	QS_MSG_BODY,
	QS_STEP_GET,
	QS_STEP_ADD,
	QS_MSG_ADVANCE,
	QS_MSG_ADVANCE_KEEP,
	QS_MSG_LEASED,
	QS_MSG_DEFER,
	QS_MSG_DEAD,
	QS_LEASE_RELEASE,
	QS_LEASE_RENEW,
	QS_LEASE_RECOVER_ALL,
	QS_LEASE_RECOVER_EXPIRED,
	QS_MSG_QUARANTINE,
	QS_AUDIT_ADD,
	QS_MSG_HOLD,
	QS_MSG_STATE,
	QS_MSG_RETRY_DEAD,
	QS_MSG_RETRY,
	QS_DLV_RETRY_DEAD,
	QS_DEL_STEPS,
	QS_DEL_DLV,
	QS_DEL_BODY,
	QS_DEL_MSG,
	QS_DLV_FIND,
	QS_DLV_MAXSEQ,
	QS_DLV_TOP,
	QS_DLV_ADD,
	QS_DLV_PICK,
	QS_DLV_SEND,
	QS_DLV_ACK,
	QS_DLV_GET,
	QS_DLV_RETRY,
	QS_DLV_DEAD,
	QS_DLV_RESEND,
	QS_DLV_REQUEUE_ALL,
	QS_DLV_REQUEUE_ADAPTER_ALL,
	QS_DLV_REQUEUE_EXPIRED,
	QS_DLV_REQUEUE_ADAPTER_EXPIRED,
	QS_TXN_FIND,
	QS_TXN_ADD,
	QS_TXN_HIST_ADD,
	QS_TXN_SET,
	QS_TXN_STATE,
	QS_TXN_FINDING_ADD,
	QS_LIST,
	QS_LIST_STATE,
	QS_LIST_DEAD,
	QS_SHOW_MSG,
	QS_SHOW_STEPS,
	QS_TXN_SHOW,
	QS_SHOW_DLV,
	QS_SHOW_AUDIT,
	QS_TXN_HIST,
	QS_TXN_FINDINGS,
	QS_TXN_DLV,
	QS_TXN_DOC_ADD, /* txn_doc.c */
	QS_TXN_REF_ADD,
	QS_TXN_REF_FIND,
	QS_TXN_DOC_HAS,
	QS_TXN_DOCS,
	QS_TXN_LIST,
	QS_TXN_LIST_STATE,
	QS_TXN_KEY,
	QS_TXN_REC_CHECK,
	QS_TXN_REC_SET,
	QS_TXN_REC_HIST,
	QS_TXN_REC_FINDING,
	QS__COUNT
};

/* Statement texts used from more than one file (a slot has one text). */
#define QUEUE__SQL_REQUEUE_ALL                                                                     \
	"UPDATE delivery SET state = 'pending', next_attempt_at = $1 WHERE state = 'sent'"

/* The store vtable. */
struct queue__store_ops {
	const char *name;
	/* open: connect to PATH (creating it), settings for durability. */
	int (*open)(const char *path, const struct queue_config *cfg, struct qstore **st, char *err,
	            size_t errlen);
	void (*close)(struct qstore *st);
	/* Transactions: begin takes the write lock at once. */
	int (*begin)(struct qstore *st);
	int (*commit)(struct qstore *st);
	int (*rollback)(struct qstore *st);
	/* in_txn: 1 while a transaction is open. Some failures (a full disk,
	 * an I/O error) make the database abandon the whole transaction; a
	 * caller that carries on after a failed statement must check. */
	int (*in_txn)(struct qstore *st);
	/* exec: a statement without parameters or rows (DDL, SAVEPOINT). */
	int (*exec)(struct qstore *st, const char *sql);
	/* prepare: the statement cached in SLOT (compiled from SQL the first
	 * time), reset with bindings cleared. Borrowed: the store owns it. */
	int (*prepare)(struct qstore *st, unsigned slot, const char *sql, struct qstmt **out);
	int (*bind_int)(struct qstmt *s, int n, int64_t v);
	int (*bind_text)(struct qstmt *s, int n, const char *v); /* NULL binds NULL */
	int (*bind_blob)(struct qstmt *s, int n, const void *v, size_t len);
	/* step: 1 a row is ready, 0 done, negative on error. */
	int (*step)(struct qstmt *s);
	int64_t (*col_int)(struct qstmt *s, int i);
	/* col_text / col_blob: borrowed until the next step or reset; NULL for SQL NULL. */
	const char *(*col_text)(struct qstmt *s, int i);
	const void *(*col_blob)(struct qstmt *s, int i, size_t *len);
	/* reset: end the statement's use (releases read locks). */
	void (*reset)(struct qstmt *s);
	/* changes: rows changed by the last statement. */
	int64_t (*changes)(struct qstore *st);
	const char *(*errmsg)(struct qstore *st);
	/* Test seam: commits number NTH .. NTH+COUNT-1 (counted from now,
	 * 1-based) fail as if the disk had refused them. 0 disarms. */
	void (*fault_commit)(struct qstore *st, unsigned nth, unsigned count);
	/* sync_apart: from now on COMMIT does not wait for the disk; sync()
	 * makes every COMMIT that returned before it was called durable. sync
	 * is the one entry that may run without the caller's lock (the group
	 * commit's sync thread calls it while others use the store).
	 * checkpoint (may be NULL): the store's housekeeping, which the sync
	 * thread runs after a sync has been reported, also without the lock
	 * (SQLite: the WAL checkpoint); 1 when it did some, else 0. */
	int (*sync_apart)(struct qstore *st);
	int (*sync)(struct qstore *st);
	int (*checkpoint)(struct qstore *st);
	/* Test seam: the next COUNT syncs fail as if the disk had refused them. */
	void (*fault_sync)(struct qstore *st, unsigned count);
	/* Dialect: the schema migrations (index i brings version i to i+1)
	 * and the claim statement ($1 token, $2 lease end, $3 state, $4 now;
	 * returns the claimed row's QUEUE__MSG_COLUMNS, id first). */
	const char *const *migrations;
	unsigned n_migrations;
	const char *sql_claim;
};

extern const struct queue__store_ops queue__store_sqlite;

/* A message's metadata columns, as struct queue_msg_info reads them
 * (msg.c, read_info): what info reads select and what the claim returns. */
#define QUEUE__MSG_COLUMNS                                                                         \
	"id, created_at, size, sha256, state, held, attempts, next_attempt_at, dup_of,"            \
	" source, sender, doc_type, doc_id, txn_key, last_error"

/* A put waiting for the group committer. */
struct queue__put {
	const struct queue_msg_in *in;
	struct queue_put_result *out;
	char sha256[65];
	int rc;
	int done;
	/* queue_msg_submit: called instead of waking a putter; the request
	 * (heap) holds its own result and is freed after the call. */
	queue_put_cb cb;
	void *cb_arg;
	struct queue_put_result res;
	struct queue__put *next;
};

/* An operation waiting in queue__commit for its batch's COMMIT and the
 * sync after it. */
struct queue__waiter {
	uint64_t seq;  /* its batch */
	int rc;        /* with done: the batch failed */
	int done;
	int committed; /* the batch's COMMIT returned; now wait for the sync */
	struct queue__waiter *next;
};

struct queue {
	struct queue_config cfg;
	const struct queue__store_ops *ops;
	struct qstore *st;
	pthread_mutex_t lock; /* serialises every use of st */
	/* The shared transaction (queue.c), under lock. */
	int shared;              /* group commit on and the queue open */
	atomic_uint lockers;     /* threads waiting for lock */
	pthread_cond_t sh_cond;  /* with lock: a batch ended, or may commit */
	int sh_open;             /* a transaction is open */
	int64_t sh_start;        /* when it opened (monotonic us) */
	unsigned sh_ops;         /* operations in it waiting for its COMMIT */
	unsigned sh_last;        /* operations in the last batch */
	unsigned sh_fresh;       /* new messages in it (config.on_committed) */
	struct queue__waiter *sh_list; /* waiters of the open batch */
	/* Batches are numbered; each one's COMMIT returns before the next one
	 * opens, and a sync makes every returned COMMIT durable (queue.c). */
	uint64_t sh_seq;      /* the open (or last) batch */
	uint64_t commit_seq;  /* the last batch whose COMMIT returned */
	uint64_t durable_seq; /* the last batch known to be on disk */
	uint64_t fail_seq;    /* the last batch whose COMMIT failed */
	int broken;           /* a sync failed: nothing is written any more */
	/* Deliveries are handed out only once durable: the highest delivery id
	 * added by the running operation, the open batch, the batches whose
	 * COMMIT returned, and the durable ones (queue_delivery_next). */
	int64_t op_dlv_max, sh_dlv_max, commit_dlv_max, dlv_visible;
	int op_one; /* the running operation has no savepoint (queue__begin_one) */
	/* The sync thread: fsyncs outside the lock, commits batches nobody
	 * waits in. */
	pthread_cond_t sy_cond;
	uint64_t sy_timing; /* the batch whose time it is waiting out, or 0 */
	unsigned sy_scopes; /* deferred scopes running that joined a batch */
	pthread_t sy_thread;
	int sy_running;
	int sy_stop;
	/* Group commit. */
	pthread_mutex_t gc_lock;
	pthread_cond_t gc_work; /* the committer waits for puts */
	pthread_cond_t gc_done; /* putters wait for their batch */
	struct queue__put *gc_head, *gc_tail;
	unsigned gc_pending;
	unsigned gc_last_batch; /* size of the batch taken last */
	int gc_stop;
	int gc_running;
	pthread_t gc_thread;
	struct queue_stats stats; /* under lock */
};

/* Retry policy (sched.c): pure functions of their arguments. */

/* queue__sched_backoff: the delay before attempt ATTEMPTS + 1, given that
 * ATTEMPTS (>= 1) attempts failed: d = min(max, base * 2^(attempts-1)),
 * then equal jitter, a value in [d - d/2, d] chosen by RND. */
int64_t queue__sched_backoff(int64_t base_ms, int64_t max_ms, unsigned attempts, uint32_t rnd);

/* queue__sched_expired: 1 (and a reason in WHY) when a message with
 * ATTEMPTS failed attempts, created at CREATED, must be dead-lettered at
 * NOW; 0 otherwise. MAX_ATTEMPTS / MAX_AGE_MS 0 mean no limit. */
int queue__sched_expired(unsigned max_attempts, int64_t max_age_ms, unsigned attempts,
                         int64_t created, int64_t now, char *why, size_t whylen);

/* Helpers shared by the queue's files (queue.c). */
int64_t queue__now(const struct queue *q);
uint32_t queue__random(void);
/* queue__token: a new random lease token (32 hex digits). */
int queue__token(char out[QUEUE_TOKEN_LEN]);
/* queue__sha256_hex: hex SHA-256 of DATA into OUT. */
int queue__sha256_hex(const void *data, size_t len, char out[65]);
/* queue__name_ok: a state or step name: 1..QUEUE_NAME_MAX-1 of [a-z0-9_.-]. */
int queue__name_ok(const char *name);
/* queue__reserved: one of the states only the queue may set. */
int queue__reserved(const char *state);
/* queue__prep: *S = the cached statement in SLOT. */
int queue__prep(struct queue *q, unsigned slot, const char *sql, struct qstmt **s);
/* queue__audit: append an audit record (inside the caller's transaction). */
int queue__audit(struct queue *q, int64_t msg_id, const char *action, const char *who,
                 const char *reason);
/* queue__run: step S to completion (no rows expected), then reset it. */
int queue__run(struct queue *q, struct qstmt *s);
/* queue__lock / queue__unlock: the store lock (every public function
 * takes it around its use of the store). */
void queue__lock(struct queue *q);
void queue__unlock(struct queue *q);
/* queue__begin / queue__commit / queue__rollback: a write operation, with
 * q->lock held. With group commit it joins the shared transaction and
 * queue__commit waits (releasing the lock meanwhile) for the COMMIT that
 * covers it and the sync after it; queue__commit_lazy and operations in a
 * queue_defer_begin scope return before (queue.c). */
int queue__begin(struct queue *q);
/* queue__begin_one: queue__begin for an operation whose only write is one
 * statement that changes at most one row, and that rolls back only after
 * that statement failed or changed nothing: no savepoint (SQLite undoes a
 * failed statement by itself), two statements fewer. */
int queue__begin_one(struct queue *q);
int queue__commit(struct queue *q);
int queue__commit_n(struct queue *q, unsigned n, unsigned fresh);
int queue__commit_lazy(struct queue *q);
/* queue__deferring: 1 when this thread is in a queue_defer_begin scope of Q
 * (its write operations do not wait for their COMMIT). */
int queue__deferring(const struct queue *q);
/* queue__dlv_added: the running operation added delivery ID. */
void queue__dlv_added(struct queue *q, int64_t id);
void queue__rollback(struct queue *q);
void queue__rollback_all(struct queue *q);
/* queue__read_begin / queue__read_end: several reads that must agree. */
int queue__read_begin(struct queue *q);
void queue__read_end(struct queue *q);
/* queue__copy: copy column I's text (or "") into DST of SIZE bytes. */
void queue__copy(struct queue *q, struct qstmt *s, int i, char *dst, size_t size);

/* queue__rows (view.c): every row of the bound statement S as an object
 * (NAMES[i] names column i, IS_INT[i] says it is an integer; NULL columns
 * are left out) appended to ARR; 0 or a negative code. */
int queue__rows(struct queue *q, struct qstmt *s, const char *const *names, const int *is_int,
                size_t n, json_t *arr);

/* Deliveries (delivery.c): the key to use, and the rows of one delivery
 * inside the caller's write operation (0 added, 1 already there). */
int queue__delivery_key(int64_t msg_id, const char *adapter, const char *idem_key, char *key);
int queue__delivery_add(struct queue *q, int64_t msg_id, const char *adapter, const char *key,
                        int64_t now, int64_t *id);
/* queue__delivery_top: the highest delivery id stored (0: none). */
int queue__delivery_top(struct queue *q, int64_t *id);

/* Intake (intake.c): the committer thread. */
int queue__intake_start(struct queue *q);
void queue__intake_stop(struct queue *q);

/* Test seams: see struct queue__store_ops.fault_commit and fault_sync. */
void queue__fault_commit(struct queue *q, unsigned nth, unsigned count);
void queue__fault_sync(struct queue *q, unsigned count);

#endif
