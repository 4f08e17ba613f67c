/*
 * queue.h — the queue module's one public header: secmx's durable message
 * store and work queue, the one source of truth (docs/queue.md).
 *
 * Public interface (all return 0 or a positive value on success, a negative
 * SECMX_E* code on failure; none logs, prints or exits):
 *   queue_config_default()   fill a config with the documented defaults.
 *   queue_open() / queue_close()
 *                            open (create, migrate, recover) a store; close
 *                            accepts NULL and stops the committer thread.
 *   queue_recover()          release leases and re-queue unacknowledged
 *                            deliveries left by a crash (queue_open does it
 *                            when config.recover is set).
 *   queue_msg_put()          store a message (bytes + metadata). DURABLE ON
 *                            RETURN: 0 means committed with synchronous=FULL;
 *                            any negative return means NOT accepted. With
 *                            group commit the call blocks until the shared
 *                            commit that covers it returns.
 *   queue_msg_submit()       the same without blocking: a callback reports
 *                            the outcome after the commit (event loops).
 *   queue_msg_get()          read a message's bytes back, verified against
 *                            their SHA-256; a mismatch quarantines the entry
 *                            and returns SECMX_ECORRUPT.
 *   queue_msg_info()         a message's metadata (no bytes).
 *   queue_claim()            lease the next due message in a state.
 *   queue_step_record()      record a step's result and move the message to
 *                            its next state; idempotent per (message, step).
 *   queue_msg_defer()        a step failed transiently: back off (attempts+1)
 *                            or dead-letter when attempts or age run out.
 *   queue_lease_renew()      extend a lease during a long step.
 *   queue_lease_release()    give a lease back without recording anything.
 *   queue_msg_hold/release/retry/remove()
 *                            operator actions; every one is audited, and
 *                            removal needs a reason.
 *   queue_delivery_*()       per-adapter deliveries: add (idempotency key),
 *                            next (in order per transaction), ack, nack,
 *                            requeue (reconnect / ack timeout).
 *   queue_txn_*()            transactions: open-or-find by key, state with
 *                            history, findings; the documents of each and
 *                            the reference index correlation uses.
 *   queue_list_json() / queue_show_json() / queue_txn_json()
 *                            JSON views for `secmx queue` and status pages.
 *   queue_defer_begin/end()  a thread's scope of operations that do not
 *                            wait for their COMMIT (the daemon's steps).
 *   queue_stats()            counters (commits, puts, batches) for benches.
 *
 * Errors: SECMX_EINVAL (bad argument), SECMX_ENOMEM, SECMX_EIO (the store
 * failed; for a put: not accepted), SECMX_ENOTFOUND, SECMX_ECORRUPT,
 * SECMX_EDUPLICATE (duplicate policy "reject"), SECMX_ECONFLICT (a key
 * that promises the content, seen before with other bytes), SECMX_ESTATE (wrong state,
 * or a lease that is no longer ours), SECMX_ELIMIT (message too large),
 * SECMX_ECONFIG (config or schema unusable).
 *
 * Threading: one struct queue may be used by any number of threads at once;
 * every call is serialised on one store connection (see docs/queue.md,
 * "Threading"). Several processes may open the same file (the daemon and
 * the `secmx queue` command); SQLite's locking and busy timeout arbitrate.
 *
 * Ownership: strings passed in are copied or only read during the call.
 * Buffers and JSON returned through out-parameters belong to the caller
 * (free(), json_decref()). On failure out-parameters are left NULL/zero.
 *
 * Limits: state, step, adapter and metadata names are short texts (state
 * and step names at most QUEUE_NAME_MAX - 1 bytes of [a-z0-9_.-]); message
 * size at most config.max_msg_bytes.
 */
#ifndef SECMX_QUEUE_H
#define SECMX_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common.h"

struct queue;

#define QUEUE_NAME_MAX 32  /* state, step and transaction-state names */
#define QUEUE_TOKEN_LEN 33 /* a lease token: 32 hex digits and a NUL */

/* Reserved message states. Workflow states ("new", "unlocked", ...) are the
 * callers' own names; these have a fixed meaning to the queue. */
#define QUEUE_STATE_NEW "new"                 /* default state of a put */
#define QUEUE_STATE_DONE "done"               /* finished; never claimed again */
#define QUEUE_STATE_DEAD "dead"               /* dead-lettered (reason kept) */
#define QUEUE_STATE_QUARANTINED "quarantined" /* bytes failed their digest */
#define QUEUE_STATE_DROPPED "dropped"         /* duplicate, accepted and dropped */

/* Duplicate policy for a (sender, document id, document type) seen before. */
enum queue_dup_policy {
	QUEUE_DUP_ACCEPT = 0, /* no detection (the seen-set is still recorded) */
	QUEUE_DUP_REJECT,     /* queue_msg_put fails with SECMX_EDUPLICATE */
	QUEUE_DUP_DROP,       /* accepted, stored in state "dropped", not processed */
	QUEUE_DUP_FLAG,       /* accepted and processed, marked with dup_of */
};

/* Transaction states (DESIGN.md "Structured messages"). */
enum queue_txn_state {
	QUEUE_TXN_ORDERED = 0,
	QUEUE_TXN_INVOICED,
	QUEUE_TXN_MATCHED,
	QUEUE_TXN_DISPUTED,
	QUEUE_TXN_PAID,
	QUEUE_TXN_RECEIPTED,
	QUEUE_TXN_CLOSED,
};

/* A clock in milliseconds since the epoch; tests pass a fake one. */
typedef int64_t (*queue_clock_fn)(void *arg);

struct queue_config {
	/* Group commit: puts from several threads share one commit. */
	int group_commit;         /* 1 = on (default), 0 = one commit per put */
	unsigned group_max_batch; /* most puts in one commit (default 256) */
	unsigned group_window_us; /* after the first put of a batch, wait this
	                             long for more (default 0: batch only what
	                             arrived during the previous commit) */
	unsigned group_adapt_us;  /* without a window: when the last batch was
	                             larger than what is pending, wait up to this
	                             long for it to refill (default 1000; 0 = never) */
	unsigned group_lazy_us;   /* a batch nobody waits in (lazy operations,
	                             deferred scopes) while a deferred scope that
	                             joined a batch is still running: commit it
	                             after this long at the latest (default 10000;
	                             below group_adapt_us counts as that) */
	/* Retry policy (queue/sched.c; docs/queue.md "Retries"). */
	int64_t backoff_base_ms;        /* first delay (default 60 s) */
	int64_t backoff_max_ms;         /* cap on one delay (default 4 h) */
	unsigned max_attempts;          /* dead-letter after this many (default 20; 0 = no limit) */
	int64_t max_age_ms;             /* dead-letter when older (default 5 days; 0 = none) */
	int64_t lease_ms;               /* default claim lease (default 5 min) */
	int64_t ack_timeout_ms;         /* delivery ack timeout (default 2 min) */
	unsigned delivery_max_attempts; /* deliveries dead-letter after (default 50) */
	int64_t delivery_max_age_ms;    /* a delivery failing when older than this (from
	                                   its creation) dead-letters (default 7 days;
	                                   0 = none) */
	enum queue_dup_policy dup_policy; /* default QUEUE_DUP_FLAG */
	size_t max_msg_bytes;             /* default 64 MiB */
	int busy_timeout_ms;              /* wait for another process's lock (default 10 s) */
	int recover;                      /* 1: queue_open recovers everything in flight
	                                     (the daemon, the store's only worker);
	                                     0 (default): only expired leases */
	queue_clock_fn clock;             /* NULL = the real clock */
	void *clock_arg;
	/* Called (from the queue's sync thread, no lock held) each time more
	 * batches became durable: new deliveries may be due. NULL = none. */
	void (*on_durable)(void *arg);
	void *durable_arg;
	/* With group commit: called when the COMMIT of a shared batch that
	 * stored N new messages (puts in state "new", not dropped) returned,
	 * before the batch is durable: they can be claimed from now on, so a
	 * worker may start on them while the sync runs (its own writes join
	 * later batches, which a crash takes back with this one; a put is
	 * still accepted only once durable). Called with the queue's lock held,
	 * from whichever thread committed: it must not call into the queue
	 * (signal and return). Shares durable_arg. NULL = none. */
	void (*on_committed)(void *arg, unsigned n);
};

/* Metadata of a message handed to queue_msg_put. Any text may be NULL. */
struct queue_msg_in {
	const void *data; /* the message bytes (copied) */
	size_t len;
	const char *source;   /* where it came from: "smtp", "bus", "cli", ... */
	const char *sender;   /* sender identity (address or participant id) */
	const char *doc_type; /* document type ("Invoice", ...) */
	const char *doc_id;   /* the document's own id (cbc:ID) */
	const char *txn_key;  /* transaction key, if already known */
	const char *state;    /* first state (NULL = "new") */
	int same_bytes;       /* 1: the key (sender, doc_type, doc_id) promises the
	                         content: a put under a key seen before with other
	                         bytes (SHA-256) than the first message is refused
	                         with SECMX_ECONFLICT, whatever the duplicate policy
	                         (e.g. a bus SUBMIT's idempotency key) */
};

/* What queue_msg_put did. */
struct queue_put_result {
	int64_t id;     /* the new message's id */
	int64_t dup_of; /* earlier message with the same key, or 0 */
	int dropped;    /* 1: duplicate stored as "dropped" (policy DROP) */
};

/* A message's metadata (queue_msg_info, queue_claim). Texts longer than
 * their field are cut short here (the store keeps them whole; the JSON
 * views show them in full). */
struct queue_msg_info {
	int64_t id;
	int64_t created_at; /* ms since the epoch: the legal time of receipt */
	int64_t size;
	char sha256[65]; /* hex */
	char state[QUEUE_NAME_MAX];
	int held;
	unsigned attempts;
	int64_t next_attempt_at;
	int64_t dup_of;
	char source[64];
	char sender[256];
	char doc_type[64];
	char doc_id[256];
	char txn_key[256];
	char last_error[256];
};

/* A claim on a message: only the holder of TOKEN may record its steps. */
struct queue_lease {
	int64_t msg_id;
	char token[QUEUE_TOKEN_LEN];
	int64_t until; /* ms: after this another worker may claim it */
};

/* A delivery handed to an adapter. */
struct queue_delivery {
	int64_t id;
	int64_t msg_id;
	char adapter[64];
	char idem_key[128];
	char txn_key[256];
	int64_t seq;       /* order within (adapter, transaction) */
	unsigned attempts; /* sends so far, this one included */
};

/* Counters since queue_open (queue_stats). */
struct queue_stats {
	uint64_t puts;         /* messages accepted */
	uint64_t put_failures; /* puts that returned an error */
	uint64_t commits;      /* commits that stored puts */
	uint64_t max_batch;    /* most puts in one commit */
	/* The shared transaction (group commit on): every write operation. */
	uint64_t batches;       /* COMMITs of the shared transaction */
	uint64_t batched_ops;   /* operations they held, waiting */
	uint64_t max_batch_ops; /* most operations in one COMMIT */
	uint64_t lazy_ops;      /* operations that joined a batch without waiting */
	uint64_t syncs;         /* fsyncs of the store (each covers every COMMIT before it) */
	uint64_t sync_batches;  /* batches they made durable */
	uint64_t checkpoints;   /* store checkpoints the sync thread made after a sync */
};

/* What recovery found (queue_recover). */
struct queue_recovery {
	unsigned leases_released;
	unsigned deliveries_requeued;
};

/* queue_config_default: the documented defaults. */
void queue_config_default(struct queue_config *cfg);

/*
 * queue_open: open or create the store at PATH, apply schema migrations,
 * and recover (see config.recover). CFG may be NULL (defaults); it is copied.
 * On success the caller owns *Q and closes it with queue_close(). On failure
 * *Q is NULL and ERR (may be NULL) says why.
 */
int queue_open(const char *path, const struct queue_config *cfg, struct queue **q, char *err,
               size_t errlen);

/* queue_close: stop the committer (after it finishes its batch), close the
 * store, free Q. Accepts NULL. No put may be in progress. */
void queue_close(struct queue *q);

/* queue_recover: release leases (all of them if ALL, else only expired
 * ones) and, if ALL, re-queue deliveries sent but not acknowledged. OUT may
 * be NULL. */
int queue_recover(struct queue *q, int all, struct queue_recovery *out);

/*
 * queue_msg_put: store a message durably. Returns 0 once the commit that
 * holds it has returned successfully (OUT filled), or a negative code: the
 * message was NOT accepted and nothing of it is stored. SECMX_EDUPLICATE
 * under the "reject" policy; SECMX_ECONFLICT for IN->same_bytes and other
 * bytes under a key seen before (then OUT->dup_of, alone, names the first
 * message). Thread-safe; with group commit it blocks until
 * the shared commit returns, and a failing commit fails every put in it.
 */
int queue_msg_put(struct queue *q, const struct queue_msg_in *in, struct queue_put_result *out);

/* A submitted put's outcome: RC 0 = durably stored (RES filled), negative =
 * not accepted (RES NULL, except for SECMX_ECONFLICT: RES->dup_of alone
 * names the first message). */
typedef void (*queue_put_cb)(void *arg, int rc, const struct queue_put_result *res);

/*
 * queue_msg_submit: queue_msg_put for callers that must not block (the
 * event loop). Returns 0 if the put was queued: CB(ARG, rc, res) is then
 * called exactly once, after the commit that covers it returned or failed,
 * on the committer thread (or before queue_msg_submit returns when group
 * commit is off). The caller must keep IN and the bytes it points to valid
 * until CB is called; CB must not call back into Q's intake and should only
 * hand the result over (e.g. wake the loop). A negative return means
 * nothing was queued and CB will not be called. queue_close() waits for
 * every queued put's callback.
 */
int queue_msg_submit(struct queue *q, const struct queue_msg_in *in, queue_put_cb cb, void *arg);

/*
 * queue_msg_get: the message's bytes, checked against their stored SHA-256.
 * On success *DATA (NUL-terminated for convenience; the NUL is not counted
 * in *LEN) belongs to the caller (free()). A mismatch moves the message to
 * "quarantined", writes an audit record and returns SECMX_ECORRUPT;
 * SECMX_ENOTFOUND if there is no such message; SECMX_ESTATE if it is
 * already quarantined.
 */
int queue_msg_get(struct queue *q, int64_t id, void **data, size_t *len);

/* queue_msg_info: metadata of message ID into *OUT. */
int queue_msg_info(struct queue *q, int64_t id, struct queue_msg_info *out);

/*
 * queue_claim: lease the next message in STATE that is due (next attempt
 * time reached), not held and not leased, oldest due first, for LEASE_MS
 * (0 = config.lease_ms). Returns 1 and fills *LEASE (and *INFO if not NULL),
 * or 0 when nothing is due (*LEASE is cleared in every case but 1).
 */
int queue_claim(struct queue *q, const char *state, int64_t lease_ms, struct queue_lease *lease,
                struct queue_msg_info *info);

/*
 * queue_step_record: record that step STEP of the leased message finished
 * with RESULT (a short word, e.g. "ok", "invalid") and DETAIL (JSON text or
 * NULL; anything else is SECMX_EINVAL), and move the message to NEXT_STATE; the lease ends. Both
 * happen in one commit, so a step's result is durable before any next step sees the message.
 * Returns 0, or 1 if this step was already recorded (nothing changes: recording twice is harmless).
 * SECMX_ESTATE if the lease is no longer ours.
 */
int queue_step_record(struct queue *q, const struct queue_lease *lease, const char *step,
                      const char *result, const char *detail_json, const char *next_state);

/*
 * queue_step_advance: queue_step_record, but the lease goes on: the message
 * is in NEXT_STATE, still leased to the holder (renewed for config.lease_ms,
 * LEASE->until updated), so the holder can run the next step at once
 * without a claim of its own. Recording is still one commit before the
 * next step starts; a crash releases the lease at recovery as ever.
 */
int queue_step_advance(struct queue *q, struct queue_lease *lease, const char *step,
                       const char *result, const char *detail_json, const char *next_state);

/* The deliveries a step makes (queue_step_deliver): message MSG_ID to each
 * of ADAPTERS[0..N-1], all under IDEM_KEY (NULL: "<msg_id>.<adapter>");
 * EXISTED (N ints, may be NULL) gets 1 where the delivery was already there. */
struct queue_deliveries {
	int64_t msg_id;
	const char *const *adapters;
	size_t n;
	const char *idem_key;
	int *existed;
};

/*
 * queue_step_deliver: queue_step_record for a step whose outcome is a set
 * of deliveries: each is added as queue_delivery_add would, and the step
 * recorded, in one commit: either the step and all its deliveries are
 * stored, or none. The lease ends. Returns as queue_step_record (1:
 * already recorded, nothing added).
 */
int queue_step_deliver(struct queue *q, const struct queue_lease *lease, const char *step,
                       const char *result, const char *detail_json, const char *next_state,
                       const struct queue_deliveries *dl);

/*
 * queue_msg_defer: the leased message's step failed transiently for REASON.
 * attempts+1; the next attempt is scheduled with exponential back-off and
 * jitter, or the message is dead-lettered (state "dead", REASON kept) when
 * attempts or age exceed the config. Returns 0 (deferred) or 1 (dead).
 * PERMANENT != 0 dead-letters at once.
 */
int queue_msg_defer(struct queue *q, const struct queue_lease *lease, const char *reason,
                    int permanent);

/* queue_lease_renew: extend a lease to now + LEASE_MS (0 = config.lease_ms)
 * for a step that takes long; updates LEASE->until. SECMX_ESTATE if the
 * lease is no longer ours (it expired and another worker claimed it). */
int queue_lease_renew(struct queue *q, struct queue_lease *lease, int64_t lease_ms);

/* queue_lease_release: give back a lease unchanged (the message is due
 * again at once). SECMX_ESTATE if it is not ours. */
int queue_lease_release(struct queue *q, const struct queue_lease *lease);

/* Operator actions, each written to the audit log with WHO (NULL = "unknown").
 * hold: never claimed until released. release: undo hold. retry: due now;
 * a dead message returns to the state it died in with attempts reset, and
 * dead deliveries are offered again; SECMX_ESTATE (nothing changed, nothing
 * audited) for a quarantined or dropped message, a dead one with no state
 * to return to, and a done one without dead deliveries.
 * remove: delete the message, its steps and deliveries; REASON is required
 * (SECMX_EINVAL without). A quarantined message can only be removed. */
int queue_msg_hold(struct queue *q, int64_t id, const char *who);
int queue_msg_release(struct queue *q, int64_t id, const char *who);
int queue_msg_retry(struct queue *q, int64_t id, const char *who);
int queue_msg_remove(struct queue *q, int64_t id, const char *who, const char *reason);

/*
 * queue_delivery_add: record that message MSG_ID is to be delivered to
 * ADAPTER, with idempotency key IDEM_KEY (NULL: "<msg_id>.<adapter>") and in
 * order within the message's transaction. Adding the same (adapter, key)
 * again returns the existing delivery. *ID (may be NULL) gets its id.
 * Returns 0 (added) or 1 (already there).
 */
int queue_delivery_add(struct queue *q, int64_t msg_id, const char *adapter, const char *idem_key,
                       int64_t *id);

/*
 * queue_delivery_next: the next delivery due for ADAPTER, marked sent with an
 * ack deadline of now + ACK_TIMEOUT_MS (0 = config). Never hands out a
 * delivery while an earlier one of the same transaction to the same adapter
 * is unacknowledged. Returns 1 and fills *OUT, or 0 if nothing is due.
 * With group commit, when a batch is about to commit the "sent" mark joins
 * it and this returns before it is durable: a crash that loses the mark
 * only makes the delivery due again (at least once; recovery re-sends
 * every "sent" delivery anyway).
 */
int queue_delivery_next(struct queue *q, const char *adapter, int64_t ack_timeout_ms,
                        struct queue_delivery *out);

/* queue_delivery_ack: the adapter acknowledged delivery ID. Acking twice is
 * harmless (returns 1 the second time). Like queue_delivery_next it may
 * return before the ACK is durable (joining a batch about to commit): a
 * lost ACK means one more delivery of the same idempotency key. */
int queue_delivery_ack(struct queue *q, int64_t id);

/* queue_delivery_nack: the adapter refused delivery ID. PERMANENT: dead-
 * letter now; transient: back off and send again, unless it has been sent
 * config.delivery_max_attempts times or is config.delivery_max_age old
 * (then dead, with a reason naming the limit). Returns 0 (will retry) or
 * 1 (dead). */
int queue_delivery_nack(struct queue *q, int64_t id, int permanent, const char *reason);

/* queue_delivery_timeout: delivery ID (sent) was not answered in time and
 * is about to be sent again by the caller: it counts as a failed attempt.
 * Past config.delivery_max_attempts or config.delivery_max_age it is
 * dead-lettered (reason: REASON and the limit) and 1 is returned: do not
 * send it again. Otherwise attempts+1, the ack deadline becomes now +
 * ACK_TIMEOUT_MS (0 = config) and 0 is returned. SECMX_ESTATE if it is no
 * longer sent (answered, dead, requeued). */
int queue_delivery_timeout(struct queue *q, int64_t id, int64_t ack_timeout_ms, const char *reason);

/* queue_delivery_requeue: deliveries sent to ADAPTER (NULL = any) and not
 * acknowledged become due again: all of them when ALL (the adapter
 * reconnected), else those past their ack deadline. Returns how many. */
int queue_delivery_requeue(struct queue *q, const char *adapter, int all);

/* queue_txn_state_name / queue_txn_state_parse: text <-> enum. parse
 * returns SECMX_EINVAL for an unknown name. */
const char *queue_txn_state_name(enum queue_txn_state st);
int queue_txn_state_parse(const char *name, enum queue_txn_state *st);

/* queue_txn_open: find the transaction KEY, or create it in state ST (with
 * a first history entry naming MSG_ID, 0 = none). *ID gets its id. Returns
 * 1 if created, 0 if it existed. */
int queue_txn_open(struct queue *q, const char *key, enum queue_txn_state st, int64_t msg_id,
                   int64_t *id);

/* queue_txn_find: the transaction KEY's id and state (either may be NULL). */
int queue_txn_find(struct queue *q, const char *key, int64_t *id, enum queue_txn_state *st);

/* queue_txn_set_state: move transaction ID to ST, adding a history entry
 * (MSG_ID 0 = none, NOTE may be NULL). */
int queue_txn_set_state(struct queue *q, int64_t id, enum queue_txn_state st, int64_t msg_id,
                        const char *note);

/* queue_txn_finding_add: attach a finding (rule id, severity word, text) to
 * transaction ID, e.g. a three-way-match difference. */
int queue_txn_finding_add(struct queue *q, int64_t id, int64_t msg_id, const char *rule,
                          const char *severity, const char *text);

/*
 * The documents of transactions and the reference index (queue/txn_doc.c,
 * schema version 2). A PARTY is the issuing party's identifier ("" when not
 * known); an index entry without a party matches any party asked for.
 *
 * queue_txn_doc_add: record that message MSG_ID (document DOC_TYPE DOC_ID
 * issued by PARTY) belongs to transaction TXN_ID, with SUMMARY_JSON (JSON
 * text kept as given, or NULL). Returns 0 (added) or 1 (already there:
 * nothing changes).
 */
int queue_txn_doc_add(struct queue *q, int64_t txn_id, int64_t msg_id, const char *doc_type,
                      const char *party, const char *doc_id, const char *summary_json);

/* One reference for the index (queue_txn_record). */
struct queue_txn_ref {
	const char *doc_type; /* "" = any */
	const char *party;    /* "" = unknown */
	const char *doc_id;
	int own;              /* 1: the document's own id; 0: an id it refers to */
};

/* One finding for a transaction (queue_txn_record). */
struct queue_txn_finding {
	const char *rule;
	const char *severity; /* "error", "warning" */
	const char *text;
};

/* Everything one document does to one transaction (queue_txn_record). */
struct queue_txn_record {
	int64_t txn_id;
	int64_t msg_id;
	const char *doc_type, *party, *doc_id; /* the document, as queue_txn_doc_add */
	const char *summary_json;              /* JSON text or NULL */
	enum queue_txn_state state;            /* the state after it (a history entry is
	                                          added even when unchanged) */
	const char *note;                      /* for the history entry (may be NULL) */
	enum queue_txn_state expect_state;     /* what the caller read ... */
	int64_t expect_docs;                   /* ... and how many documents it saw */
	const struct queue_txn_ref *refs;
	size_t nrefs;
	const struct queue_txn_finding *findings;
	size_t nfindings;
};

/*
 * queue_txn_record: in ONE commit, record a document in a transaction: its
 * state change with a history entry, its findings, its index entries and
 * the document itself. Optimistic: when the transaction's state is no
 * longer REC->expect_state or its document count no longer
 * REC->expect_docs (another worker recorded a document meanwhile), nothing
 * is written and SECMX_ESTATE asks the caller to read again and retry.
 * Returns 0, or 1 when the message is already recorded in the transaction
 * (nothing changes); SECMX_ENOTFOUND for no such transaction.
 */
int queue_txn_record(struct queue *q, const struct queue_txn_record *rec);

/* queue_txn_ref_add: index (DOC_TYPE, PARTY, DOC_ID) -> TXN_ID, found
 * through message MSG_ID; OWN is 1 for the message's own id and 0 for an id
 * it refers to. Returns 0 (added) or 1 (already there). */
int queue_txn_ref_add(struct queue *q, int64_t txn_id, int64_t msg_id, const char *doc_type,
                      const char *party, const char *doc_id, int own);

/* queue_txn_ref_find: the transactions indexed under (DOC_TYPE, PARTY,
 * DOC_ID); DOC_TYPE and PARTY "" or NULL match any (and an entry indexed with
 * type or party "" matches any asked for). Up to MAX distinct ids,
 * oldest transaction first, into IDS; returns how many (0: none). */
int queue_txn_ref_find(struct queue *q, const char *doc_type, const char *party,
                       const char *doc_id, int64_t *ids, size_t max);

/* queue_txn_doc_has: 1 if message MSG_ID is recorded in transaction TXN_ID
 * (TXN_ID 0: in any transaction), 0 if not. */
int queue_txn_doc_has(struct queue *q, int64_t txn_id, int64_t msg_id);

/* queue_txn_docs_json: the documents of transaction TXN_ID in the order they
 * were recorded, as a new JSON array of {msg_id, doc_type, party, doc_id, at,
 * summary} (summary parsed back, or null) in *OUT (json_decref). */
int queue_txn_docs_json(struct queue *q, int64_t txn_id, json_t **out);

/* queue_txn_list_json: transactions, oldest first, in STATE (NULL = all), at
 * most LIMIT (0 = no limit), as a new JSON array of {id, key, state,
 * created_at, updated_at, documents, findings} (counts) in *OUT. */
int queue_txn_list_json(struct queue *q, const char *state, size_t limit, json_t **out);

/* queue_txn_key: the key of transaction ID into KEY (SIZE bytes, cut short
 * if longer). SECMX_ENOTFOUND if there is none. */
int queue_txn_key(struct queue *q, int64_t id, char *key, size_t size);

/* queue_list_json: messages (metadata only), oldest first, in STATE (NULL =
 * all; "dead" also takes the messages with a dead delivery), at most LIMIT
 * (0 = no limit), as a new JSON array in *OUT (json_decref). */
int queue_list_json(struct queue *q, const char *state, size_t limit, json_t **out);

/* queue_show_json: one message with its steps, deliveries and audit
 * records, as a new JSON object in *OUT (json_decref). */
int queue_show_json(struct queue *q, int64_t id, json_t **out);

/* queue_txn_json: a transaction with history, findings and deliveries. */
int queue_txn_json(struct queue *q, const char *key, json_t **out);

/*
 * queue_defer_begin / queue_defer_end: a scope, per thread, in which the
 * calling thread's write operations on Q do not wait for their COMMIT:
 * each joins the open shared batch and returns once its own statements
 * ran (group commit on; without it they commit as always). The queue
 * commits such batches within group_adapt_us and syncs them; other threads
 * see their effects at once. Nothing is lost silently: batches commit in
 * order and the disk holds a prefix of them after a crash; once a batch
 * holding one of the scope's operations failed, every later operation of
 * the scope fails (SECMX_EIO), so the scope's effects are stored in order
 * up to its first failure and none after it. queue_defer_end with WAIT 1
 * returns once every operation of the scope is durable (0) or SECMX_EIO;
 * with WAIT 0 it returns at once (SECMX_EIO if a failure is already
 * known). Scopes do not nest (SECMX_ESTATE).
 *
 * Meant for work whose loss in a crash only repeats it (the daemon's
 * steps: a repeated run stores the same results) and whose outside effects
 * wait for durability anyway (deliveries are handed out only once durable).
 */
int queue_defer_begin(struct queue *q);
int queue_defer_end(struct queue *q, int wait);

/* queue_stats: counters since open, into *OUT. */
void queue_stats(struct queue *q, struct queue_stats *out);

#endif
