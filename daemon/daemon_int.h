/*
 * daemon_int.h — private to daemon/: the daemon's state shared between the
 * loop (daemon.c) and the worker pipeline (pipeline.c).
 *
 * Shared state is limited to: the queue (thread-safe), the reference-
 * counted snapshots below (immutable once published; swapped under
 * snap_lock), eventfds for notification, and atomic flags.
 */
#ifndef SECMX_DAEMON_INT_H
#define SECMX_DAEMON_INT_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>

#include "daemon.h"
#include "engine.h"
#include "queue.h"

/* One route: documents whose type matches PATTERN go to ADAPTER. */
struct route {
	char *adapter;
	char *pattern;
};

/* The engine and its keys, built once per (re)load; reference-counted. */
struct kit {
	atomic_int refs;
	struct engine *eng;
	struct engine_key *key;     /* NULL: no attestation */
	struct engine_trust *trust; /* NULL: sender signatures not verified */
	unsigned verify_flags;
};

/* An immutable snapshot of what the workers need: the kit and the routes.
 * Reference-counted; replaced as a whole on SIGHUP or a new HELLO. */
struct snap {
	atomic_int refs;
	struct kit *kit;
	struct route *routes;
	size_t nroutes;
};

/* When op_next last found nothing due for an adapter (loop thread only). */
struct idle_memo {
	char adapter[64];
	unsigned long gen; /* struct daemon.dlv_gen at the time */
	int stale;         /* an ACK or NACK of this adapter came since */
	int64_t at;        /* monotonic ms */
};
#define DAEMON_IDLE_MEMO 16

/* A delivery bundle read back for one adapter, kept for the others that
 * take the same document (loop thread only): its bytes (checked against
 * their SHA-256 by queue_msg_get, the original's too) and the envelope
 * made of them. Found by bundle and idempotency key. */
struct env_memo {
	int64_t msg_id;             /* the bundle's message; 0: empty slot */
	char idem[BUS_MAX_KEY + 1]; /* the deliveries' idempotency key */
	char *bundle;               /* its bytes (malloc) */
	size_t len, doc_at;         /* their length; where the document starts */
	char *env;                  /* the envelope, key included (malloc) */
	int64_t at;                 /* when read (monotonic ms) */
};
#define DAEMON_ENV_MEMO 32
#define DAEMON_ENV_MEMO_BYTES (256u << 10) /* larger bundles are not kept */
#define DAEMON_ENV_MEMO_MS 10000           /* nor kept longer */

struct daemon {
	char *config_file;
	struct daemon_config cfg;
	struct queue *q;
	struct bus *bus;
	struct event_base *base;
	/* notification: workers → loop (deliveries due), loop → workers (work) */
	int deliver_efd;
	int work_efd;
	/* committer thread → loop: finished intake records (pointers) */
	int done_pipe[2];
	pthread_t *threads;
	size_t nthreads;
	atomic_int stopping; /* workers: finish the current message and exit */
	/* workers: when to look for messages left between steps (after a
	 * crash, a deferral, a lost lease) again; ms, 0 = now */
	atomic_llong mid_check_at;
	volatile sig_atomic_t stop_requested;
	int draining;
	pthread_mutex_t snap_lock;
	struct snap *snap;
	/* HELLO subscriptions (loop thread only), published into snap->routes */
	struct route *hello;
	size_t nhello;
	/* intake bookkeeping (loop thread only) */
	long inflight;
	long outstanding; /* deliveries handed to the bus and not yet answered */
	int64_t drain_deadline;
	struct event *ev_bus, *ev_bus_timer, *ev_scan, *ev_deliver, *ev_done, *ev_sigterm,
	    *ev_sigint, *ev_sighup, *ev_requeue, *ev_drain;
	char taking[4096];      /* DROP/.taking: files taken and not yet committed */
	/* inotify on the drop directory (files renamed into it are taken at
	 * once; the poll timer stays as the fallback); -1 without */
	int ino_fd;
	struct event *ev_ino;
	/* QUEUE_DB.lock, flock()ed for the daemon's life: one secmxd per
	 * queue (recovery takes over everything in flight, and a second
	 * daemon would unlink and rebind the first one's ipc socket); -1 */
	int lock_fd;
	int64_t ino_quiet_until; /* after a refused intake: no event scans before (ms) */
	/* op_next (loop thread only): a generation bumped by every event that
	 * can make a delivery due to any adapter (durable, HELLO, requeue), so
	 * that an adapter found idle is not asked again before; an ACK or NACK
	 * marks only its own adapter's memo (idle_memo.stale) */
	unsigned long dlv_gen;
	struct idle_memo idle[DAEMON_IDLE_MEMO];
	struct env_memo env_memo[DAEMON_ENV_MEMO]; /* op_next, loop thread only */
	atomic_ulong processed; /* messages routed (step "route" recorded) since start */
};

/* pipeline.c */
/* daemon__worker: the worker thread body (ARG is the struct daemon). */
void *daemon__worker(void *arg);
/* daemon__snap_get / daemon__snap_put: take and drop a snapshot reference. */
struct snap *daemon__snap_get(struct daemon *d);
void daemon__snap_put(struct snap *s);
/* daemon__kit_put: drop a kit reference (frees engine, key, trust at 0). */
void daemon__kit_put(struct kit *k);
/* daemon__efd_signal: add 1 to an eventfd (never blocks). */
void daemon__efd_signal(int fd);
/* daemon__now_ms: the real clock in ms. */
int64_t daemon__now_ms(void);
/* daemon__iso_time: MS as "YYYY-MM-DDTHH:MM:SS.mmmZ" into BUF (32 bytes). */
void daemon__iso_time(int64_t ms, char *buf, size_t len);

#endif
