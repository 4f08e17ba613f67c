/*
 * bus.h — the server side of the secmx bus: a ZeroMQ ROUTER that the daemon
 * embeds in its event loop, talking to adapters (DEALER sockets) in the
 * protocol of docs/protocol.md (codec: common.h, "bus wire protocol").
 *
 * Public interface:
 *   bus_config_default()  defaults for struct bus_config.
 *   bus_new()/bus_free()  bind the ROUTER (ipc:// or tcp:// with CURVE and a
 *                         ZAP allow-list); free closes everything.
 *   bus_fd()              the ZMQ_FD to watch (read) from libevent.
 *   bus_process()         drive the bus: read every pending message, run the
 *                         timers, offer deliveries. Returns the milliseconds
 *                         until it wants to be called again.
 *   bus_run_once()        poll + bus_process, blocking up to a timeout (tests,
 *                         simple programs).
 *   bus_submit_reply()    finish a SUBMIT that on_submit left pending.
 *   bus_endpoint()        the bound endpoint (tcp port resolved).
 *   bus_stats_get()       counters.
 *   bus_keygen()          make a CURVE key pair (files BASE.pub and BASE.key).
 *
 * The bus knows nothing of the queue: it calls struct bus_ops. Every call is
 * made from the thread that calls bus_process()/bus_run_once().
 *
 * Driving it from libevent. ZMQ_FD is edge-triggered and signals only a
 * change of state, not "data present": watch it with EV_READ|EV_PERSIST and,
 * whenever it fires, when bus_process()'s returned timeout expires, and after
 * the daemon queues new deliveries, call bus_process(). bus_process() loops
 * until ZMQ_EVENTS no longer has ZMQ_POLLIN (also after its own sends, which
 * can consume the edge); if it stops early to stay fair it returns 0 — call
 * it again at once. Never read or write the fd yourself.
 *
 * Errors: negative SECMX_E* (SECMX_ECONFIG for a bad configuration, with the
 * reason in ERR). A malformed message from an adapter is never an error of
 * the bus: it is answered with ERROR, logged through ops->log and dropped.
 * Memory: at most (credit of each adapter) deliveries are held per adapter
 * name, at most max_adapters names; nothing is allocated for a peer before
 * its HELLO is accepted.
 */
#ifndef SECMX_BUS_H
#define SECMX_BUS_H

#include <stddef.h>

#include "common.h"

struct bus;

enum bus_log_level { BUS_LOG_DEBUG = 0, BUS_LOG_INFO, BUS_LOG_WARNING, BUS_LOG_ERROR };

/* on_submit results. */
enum bus_submit_status {
	BUS_SUBMIT_REFUSED = 0,  /* refused; REASON says why */
	BUS_SUBMIT_ACCEPTED = 1, /* durably committed; MESSAGE_ID set */
	BUS_SUBMIT_PENDING = 2,  /* the caller answers later with bus_submit_reply() */
};

/*
 * One delivery offered by next_delivery(). Every pointer is malloc()ed by
 * the ops and owned by the bus from the moment next_delivery returns 1 (the
 * bus frees them with free()). ENVELOPE is a JSON object text with the
 * envelope fields of docs/protocol.md except delivery_id, attempt and
 * document_size, which the bus sets. ATTEMPT is 1 for a first delivery (the
 * queue's count for a retried one).
 */
struct bus_delivery {
	char *delivery_id;
	char *envelope;
	unsigned char *doc;
	size_t doc_len;
	long attempt;
};

/* A SUBMIT, borrowed for the duration of on_submit(). */
struct bus_submit {
	const char *request_id;
	const char *idempotency_key;
	const char *document_type; /* may be NULL */
	const char *metadata_json; /* JSON object text, or NULL */
	const void *doc;
	size_t doc_len;
};

struct bus_ops {
	void *arg;
	/* A HELLO: return 0 to accept, negative to refuse (REASON is sent). The
	 * ops keep the patterns (borrowed: copy them) to choose what
	 * next_delivery offers this adapter; bus_pattern_match() applies one. */
	int (*on_hello)(void *arg, const char *adapter, const char *const *patterns,
			size_t npatterns, char *reason, size_t reasonlen);
	/* The next delivery for ADAPTER, in the order it must be seen: return 1
	 * and fill *D, 0 if none now, negative on error (logged, tried later). */
	int (*next_delivery)(void *arg, const char *adapter, struct bus_delivery *d);
	/* The adapter acknowledged a delivery (it may be a duplicate ACK). */
	void (*on_ack)(void *arg, const char *adapter, const char *delivery_id);
	/* NACK: transient (the queue offers it again later through
	 * next_delivery) or permanent (dead-letter it). */
	void (*on_nack)(void *arg, const char *adapter, const char *delivery_id, int kind,
			const char *reason);
	/* A SUBMIT: answer only after a durable commit (see enum). May be NULL:
	 * SUBMIT is then refused. */
	int (*on_submit)(void *arg, const char *adapter, const struct bus_submit *s,
			 char *message_id, size_t idlen, char *reason, size_t reasonlen);
	/* One log line (no newline; adapter-sent text already escaped). May be
	 * NULL. */
	void (*log)(void *arg, int level, const char *line);
	/* A delivery sent and not answered within ack_timeout_ms, about to be
	 * sent again: return 1 if the ops dead-lettered it instead (the bus
	 * forgets it and does not send it again), 0 to send it again. May be
	 * NULL: always sent again. */
	int (*on_timeout)(void *arg, const char *adapter, const char *delivery_id);
};

struct bus_config {
	const char *endpoint;        /* ipc://PATH (default) or tcp://HOST:PORT */
	unsigned ipc_mode;           /* socket file mode, 0600 (default) or 0660 */
	const char *curve_secret_file; /* tcp: server secret key file (Z85, mode 0600) */
	const char *allow_list_file; /* tcp: adapter public keys, see docs/protocol.md */
	int heartbeat_ms;            /* send a HEARTBEAT after this much silence */
	int dead_ms;                 /* a peer silent this long is gone */
	int ack_timeout_ms;          /* resend a delivery not answered this long */
	int max_adapters;            /* distinct adapter names */
	int max_credit;              /* cap on an adapter's requested credit */
	size_t max_doc;              /* largest document frame, <= BUS_MAX_DOC */
};

/* bus_config_default: fill *C with the defaults (endpoint must still be set). */
void bus_config_default(struct bus_config *c);

/*
 * bus_new: bind the bus. For tcp:// a secret key file and an allow-list are
 * required (SECMX_ECONFIG otherwise). *OUT is owned by the caller (bus_free).
 */
int bus_new(const struct bus_config *cfg, const struct bus_ops *ops, struct bus **out,
	    char *err, size_t errlen);
/* bus_free: send BYE to connected adapters, close, join the ZAP thread. */
void bus_free(struct bus *b);

/* bus_fd: the ZMQ_FD of the ROUTER, or -1. */
int bus_fd(struct bus *b);
/* bus_process: see above. Returns ms until the next timer (>= 0). */
int bus_process(struct bus *b);
/* bus_run_once: wait up to TIMEOUT_MS for traffic or a timer, then process. */
int bus_run_once(struct bus *b, int timeout_ms);

/* bus_submit_reply: answer a pending SUBMIT of ADAPTER (accepted: MESSAGE_ID;
 * refused: REASON). Returns 0, or SECMX_EINVAL if the adapter is not
 * connected (the adapter will retry with the same idempotency key). */
int bus_submit_reply(struct bus *b, const char *adapter, const char *request_id, int accepted,
		     const char *message_id, const char *reason);

/* bus_endpoint: the bound endpoint (static to the bus; valid until free). */
const char *bus_endpoint(const struct bus *b);

struct bus_stats {
	unsigned long received;    /* messages read */
	unsigned long refused;     /* malformed or out-of-state messages */
	unsigned long delivered;   /* DELIVERs sent (first attempts) */
	unsigned long redelivered; /* DELIVERs sent again (timeout, reconnect) */
	unsigned long acked, nacked, dead_lettered, submitted;
	unsigned long dead_peers;  /* sessions ended by the heartbeat timeout */
	unsigned long zap_refused; /* CURVE handshakes refused by the allow-list */
	unsigned adapters;         /* sessions connected now */
	unsigned max_inflight;     /* the most deliveries ever outstanding to one adapter */
};

/* bus_stats_get: copy the counters. */
void bus_stats_get(const struct bus *b, struct bus_stats *st);

/*
 * bus_keygen: make a CURVE key pair; write BASE.pub (Z85 public key, mode
 * 0644) and BASE.key (Z85 secret key, mode 0600, never overwritten). PUB
 * receives the public key (41 bytes; untouched on failure). Returns 0 or
 * SECMX_EIO/EINTERNAL.
 */
int bus_keygen(const char *base, char pub[41], char *err, size_t errlen);

/* bus_key_read: read a Z85 key file (40 chars + optional newline) into KEY
 * (41 bytes). SECRET: refuse a file readable by group or others. */
int bus_key_read(const char *path, int secret, char key[41], char *err, size_t errlen);

#endif
