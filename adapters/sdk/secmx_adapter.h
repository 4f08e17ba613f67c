/*
 * secmx_adapter.h — the adapter SDK: write a secmx bus adapter in C.
 *
 * Public interface:
 *   adapter_config_default()   defaults for struct adapter_config.
 *   adapter_new()/adapter_free()  connect a DEALER to the bus and say HELLO;
 *                              free says BYE and closes.
 *   adapter_run()              receive DELIVERs and call your callback; send
 *                              its verdict (ACK, NACK transient, NACK
 *                              permanent + reason); heartbeats; reconnect with
 *                              back-off and re-HELLO when the server goes
 *                              away. Returns on adapter_stop(), a timeout, or
 *                              a fatal refusal (HELLO refused, version).
 *   adapter_run_batch()        the same, by bursts: the callback sees every
 *                              delivery received so far, then one flush
 *                              callback makes the burst's work durable (one
 *                              commit, one fsync), and only then are the
 *                              burst's verdicts sent.
 *   adapter_delivery_string()  a string field of the envelope (or of one of
 *                              its objects, e.g. meta.document_id) without
 *                              parsing envelope_json again.
 *   adapter_stop()             ask adapter_run() to return (callback-safe).
 *   adapter_submit()           send an outbound document (SUBMIT) and wait
 *                              for the server's SUBMIT_RESULT.
 *   adapter_reconnects()       how many times the session was re-established.
 *   adapter_seen_*()           the idempotency helper: a local SQLite table of
 *                              idempotency keys already processed, so that a
 *                              redelivery after a crash can be ACKed without
 *                              doing the work twice. adapter_seen_begin/
 *                              commit group the marks of a burst into one
 *                              transaction (with adapter_run_batch).
 *
 * Delivery is at-least-once: the callback can see the same delivery again
 * (after a reconnect or an ack timeout). Process, then adapter_seen_mark(),
 * then return ADAPTER_ACK; on entry, adapter_seen_check() says whether the
 * work was already done. See docs/protocol.md.
 *
 * Batches (adapter_run_batch): the callback does the work and marks the key
 * inside an open batch (adapter_seen_begin, adapter_seen_mark); the flush
 * callback makes the work durable and commits the batch (adapter_seen_commit);
 * the ACKs leave only after the flush returned 0. A crash anywhere before
 * that loses the batch's marks and ACKs together: the server sends those
 * deliveries again and the work is redone (at least once, never lost). If
 * the flush fails, every ACK of the burst becomes a transient NACK.
 *
 * Errors: negative SECMX_E* (common.h): SECMX_ECONFIG (bad configuration,
 * HELLO refused), SECMX_EIO (socket or database), SECMX_ELIMIT (timeout).
 * Threads: one struct adapter belongs to one thread. Nothing here prints;
 * log lines go to config.log if set.
 */
#ifndef SECMX_ADAPTER_H
#define SECMX_ADAPTER_H

#include <stddef.h>

struct adapter;
struct adapter_seen;

struct adapter_config {
	const char *endpoint;          /* ipc://PATH or tcp://HOST:PORT */
	const char *name;              /* adapter name: [A-Za-z0-9._-]{1,64} */
	const char *const *patterns;   /* document types ("Invoice", "Order*") */
	size_t npatterns;
	int credit;                    /* deliveries in flight at most (1..1024) */
	const char *server_public_key; /* Z85 (40 chars): enables CURVE */
	const char *public_key;        /* this adapter's Z85 key pair (CURVE) */
	const char *secret_key;
	int reconnect_min_ms;          /* back-off start (default 100) */
	int reconnect_max_ms;          /* back-off cap (default 5000) */
	int hello_timeout_ms;          /* no WELCOME this long: reconnect (5000) */
	void (*log)(void *arg, const char *line);
	void *log_arg;
};

/* What the callback decided about one delivery. */
enum adapter_verdict {
	ADAPTER_ACK = 0,
	ADAPTER_NACK_TRANSIENT = 1, /* try again later */
	ADAPTER_NACK_PERMANENT = 2, /* never: dead-letter it */
};

/* One delivery, borrowed for the duration of the callback. */
struct adapter_delivery {
	const char *delivery_id;
	const char *idempotency_key;
	const char *document_type;
	long attempt;
	const char *envelope_json; /* the whole envelope (docs/protocol.md) */
	const void *doc;
	size_t doc_len;
	const void *sdk_private; /* the SDK's own (adapter_delivery_string) */
};

/* The callback: return an enum adapter_verdict; for a NACK write the reason
 * (one line, printable) into REASON. */
typedef int (*adapter_deliver_fn)(void *arg, const struct adapter_delivery *d, char *reason,
				  size_t reasonlen);

/* adapter_config_default: zero *C and set the defaults. */
void adapter_config_default(struct adapter_config *c);

/* adapter_new: copy the configuration, connect and send HELLO (the WELCOME
 * is awaited by adapter_run/adapter_submit). *OUT: free with adapter_free. */
int adapter_new(const struct adapter_config *cfg, struct adapter **out, char *err,
		size_t errlen);
/* adapter_free: BYE (best effort), close, free. NULL is fine. */
void adapter_free(struct adapter *a);

/* adapter_run: serve deliveries for up to TIMEOUT_MS (-1: until stopped).
 * Returns 0 (stopped or timed out) or a fatal negative code. */
int adapter_run(struct adapter *a, adapter_deliver_fn fn, void *arg, int timeout_ms);
/*
 * adapter_run_batch: as adapter_run, by bursts. FN is called for each
 * delivery received so far (at most the credit); then FLUSH(ARG) once; its
 * return decides the verdicts sent for the burst: 0 sends them as FN gave
 * them, negative turns each ACK into a transient NACK ("adapter could not
 * commit"). FLUSH is called even when FN saw only already-processed keys.
 */
typedef int (*adapter_flush_fn)(void *arg);
int adapter_run_batch(struct adapter *a, adapter_deliver_fn fn, adapter_flush_fn flush, void *arg,
		      int timeout_ms);

/* adapter_delivery_string: the string member FIELD of the envelope of D, or
 * of its object OBJECT when OBJECT is not NULL ("meta", "document_id").
 * Borrowed: valid during the callback only. NULL when absent or not a
 * string. */
const char *adapter_delivery_string(const struct adapter_delivery *d, const char *object,
				    const char *field);

/* adapter_stop: make adapter_run return after the current delivery (safe
 * from the callback and from a signal handler). */
void adapter_stop(struct adapter *a);

/*
 * adapter_submit: SUBMIT DOC (DOC_LEN bytes) with IDEMPOTENCY_KEY (the
 * server gives the same answer for the same key, so a retry after a lost
 * reply is safe), optional DOCUMENT_TYPE and METADATA_JSON (object text).
 * Waits up to TIMEOUT_MS for the result, serving heartbeats meanwhile (and
 * holding DELIVERs for adapter_run). Returns 1 accepted (MESSAGE_ID set),
 * 0 refused (REASON set), SECMX_ELIMIT on timeout, other negatives on error.
 */
int adapter_submit(struct adapter *a, const void *doc, size_t doc_len,
		   const char *idempotency_key, const char *document_type,
		   const char *metadata_json, int timeout_ms, char *message_id, size_t idlen,
		   char *reason, size_t reasonlen);

/* adapter_reconnects: sessions re-established after the first. */
unsigned adapter_reconnects(const struct adapter *a);

/* adapter_seen_open: open (create) the SQLite table of seen keys at PATH. */
int adapter_seen_open(const char *path, struct adapter_seen **out, char *err, size_t errlen);
/* adapter_seen_check: 1 if KEY was marked, 0 if not, SECMX_EIO on error. */
int adapter_seen_check(struct adapter_seen *s, const char *key);
/* adapter_seen_mark: record KEY durably (idempotent). 0 or SECMX_EIO. Inside
 * a batch (adapter_seen_begin) the mark is durable only at
 * adapter_seen_commit; adapter_seen_check already sees it. */
int adapter_seen_mark(struct adapter_seen *s, const char *key);
/* adapter_seen_begin: open a batch if none is open (a no-op otherwise). 0 or
 * SECMX_EIO. */
int adapter_seen_begin(struct adapter_seen *s);
/* adapter_seen_commit: commit the open batch (one fsync for all its marks);
 * 0 when none is open. On failure the batch is rolled back (its marks are
 * gone) and SECMX_EIO returned. */
int adapter_seen_commit(struct adapter_seen *s);
/* adapter_seen_rollback: drop the open batch's marks (none open: no-op). */
void adapter_seen_rollback(struct adapter_seen *s);
/* adapter_seen_prune: forget keys marked more than MAX_AGE_S seconds ago;
 * returns how many were removed, or SECMX_EIO. */
int adapter_seen_prune(struct adapter_seen *s, long max_age_s);
/* adapter_seen_close: close. NULL is fine. */
void adapter_seen_close(struct adapter_seen *s);

#endif
