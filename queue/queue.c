/*
 * queue.c — the queue's front: config defaults, open (store, schema
 * migrations, recovery) and close, counters, and the helpers the other
 * queue files share (clock, random tokens, SHA-256, names, statements,
 * transactions, audit records).
 *
 * Functions: queue_config_default, queue_open, queue_close, queue_recover,
 * queue_stats (queue.h); queue__* helpers (queue_int.h).
 *
 * Errors: SECMX_EIO when the store fails, SECMX_ECONFIG when the file holds
 * a newer schema than this build knows, SECMX_ENOMEM.
 * Ownership: struct queue is the caller's until queue_close().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "queue_int.h"

/* queue_config_default: the documented defaults (docs/queue.md). */
void queue_config_default(struct queue_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->group_commit = 1;
	cfg->group_max_batch = 256;
	cfg->group_window_us = 0;
	cfg->group_adapt_us = 1000;
	cfg->group_lazy_us = 10000;
	cfg->backoff_base_ms = 60 * 1000;
	cfg->backoff_max_ms = 4 * 3600 * 1000;
	cfg->max_attempts = 20;
	cfg->max_age_ms = (int64_t)5 * 24 * 3600 * 1000;
	cfg->lease_ms = 5 * 60 * 1000;
	cfg->ack_timeout_ms = 2 * 60 * 1000;
	cfg->delivery_max_attempts = 50;
	cfg->delivery_max_age_ms = (int64_t)7 * 24 * 3600 * 1000;
	cfg->dup_policy = QUEUE_DUP_FLAG;
	cfg->max_msg_bytes = (size_t)64 << 20;
	cfg->busy_timeout_ms = 10000;
	cfg->recover = 0;
}

/* queue__now: the configured clock, in ms since the epoch. */
int64_t queue__now(const struct queue *q)
{
	struct timespec ts;

	if (q->cfg.clock != NULL)
		return q->cfg.clock(q->cfg.clock_arg);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* queue__random: 32 random bits for jitter (OpenSSL's thread-safe RNG; a
 * failing RNG only costs jitter, so fall back to the clock). */
uint32_t queue__random(void)
{
	uint32_t r;
	struct timespec ts;

	if (RAND_bytes((unsigned char *)&r, sizeof(r)) == 1)
		return r;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint32_t)ts.tv_nsec;
}

/* hex: LEN bytes of IN as lower-case hex into OUT (2*LEN+1 bytes). */
static void hex(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

/* queue__token: 128 random bits as hex. */
int queue__token(char out[QUEUE_TOKEN_LEN])
{
	unsigned char b[16];

	if (RAND_bytes(b, sizeof(b)) != 1)
		return SECMX_EINTERNAL;
	hex(b, sizeof(b), out);
	return 0;
}

/* queue__sha256_hex: digest of DATA. */
int queue__sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int mdlen = 0;

	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
		return SECMX_EINTERNAL;
	hex(md, 32, out);
	return 0;
}

/* queue__name_ok: a short lower-case name. */
int queue__name_ok(const char *name)
{
	size_t i;

	if (name == NULL || *name == '\0')
		return 0;
	for (i = 0; name[i] != '\0'; i++) {
		char c = name[i];

		if (i >= QUEUE_NAME_MAX - 1)
			return 0;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
		      c == '.'))
			return 0;
	}
	return 1;
}

/* queue__reserved: states only the queue itself sets. */
int queue__reserved(const char *state)
{
	return strcmp(state, QUEUE_STATE_DEAD) == 0 ||
	       strcmp(state, QUEUE_STATE_QUARANTINED) == 0 ||
	       strcmp(state, QUEUE_STATE_DROPPED) == 0;
}

/* queue__prep: the cached statement for SLOT. */
int queue__prep(struct queue *q, unsigned slot, const char *sql, struct qstmt **s)
{
	return q->ops->prepare(q->st, slot, sql, s);
}

/* queue__run: execute S expecting no rows. */
int queue__run(struct queue *q, struct qstmt *s)
{
	int rc = q->ops->step(s);

	q->ops->reset(s);
	return rc < 0 ? rc : 0;
}

/*
 * The shared transaction (docs/queue.md, "Group commit"). With group commit
 * on, every write operation of every thread joins one open transaction,
 * each inside its own SAVEPOINT. Transactions are batches, numbered in
 * order; a batch's COMMIT returns before the next batch opens.
 *
 * COMMIT writes the batch to the WAL without waiting for the disk; the
 * sync thread then fsyncs the WAL outside the lock, which makes every
 * batch committed before the fsync began durable, while the next batch
 * already fills. An operation is done (queue__commit returns 0) once its
 * batch is durable. The operation that finds nobody else about to join
 * (no thread waiting for the lock), or the batch full, or its time up
 * (group_adapt_us after it opened) commits for the batch's waiters; a
 * batch without waiters (lazy operations, deferred scopes) is committed by
 * the sync thread when its time is up.
 *
 * A failed operation rolls back to its own savepoint and harms nobody; a
 * failed COMMIT, or a database that abandons the transaction, fails every
 * operation of the batch ("not done", never silently "done"). A failed
 * sync leaves unknown what reached the disk: the queue is then broken and
 * refuses every write until reopened (recovery reads what the disk holds:
 * the WAL keeps batches in order, so a prefix of them). Without group
 * commit each operation is its own transaction, synced by its COMMIT.
 */

/* The calling thread's deferred scope (queue_defer_begin). */
static _Thread_local struct {
	const struct queue *q;
	uint64_t first, last; /* batches its operations joined; 0: none yet */
} scope;

/* mono_us: a monotonic clock in microseconds. */
static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* wait_until: wait on COND (a CLOCK_MONOTONIC condition) with q->lock held
 * until monotonic time UNTIL (us) at the latest. */
static void wait_until(struct queue *q, pthread_cond_t *cond, int64_t until)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(until / 1000000);
	ts.tv_nsec = (long)(until % 1000000) * 1000;
	pthread_cond_timedwait(cond, &q->lock, &ts);
}

/* queue__deferring: is this thread in a deferred scope of Q? */
int queue__deferring(const struct queue *q)
{
	return q->shared && scope.q == q;
}

/* queue__dlv_added: note delivery ID of the running operation. */
void queue__dlv_added(struct queue *q, int64_t id)
{
	if (id > q->op_dlv_max)
		q->op_dlv_max = id;
}

/* queue__lock: take the store lock, counted while waiting so that an open
 * batch knows more operations are about to join it. */
void queue__lock(struct queue *q)
{
	atomic_fetch_add(&q->lockers, 1);
	pthread_mutex_lock(&q->lock);
	atomic_fetch_sub(&q->lockers, 1);
}

/* queue__unlock: let go of the store lock; when the last thread that
 * wanted it leaves and a batch waits, wake the batch to commit. */
void queue__unlock(struct queue *q)
{
	int wake = q->sh_ops > 0 && atomic_load(&q->lockers) == 0;

	pthread_mutex_unlock(&q->lock);
	if (wake) /* any one of the batch can commit for all */
		pthread_cond_signal(&q->sh_cond);
}

/* batch_until: when the open batch's time is up (monotonic us). */
static int64_t batch_until(const struct queue *q)
{
	return q->sh_start + (q->cfg.group_window_us   ? q->cfg.group_window_us
	                      : q->cfg.group_adapt_us ? q->cfg.group_adapt_us
	                                              : 200);
}

/* lazy_until: when the open batch, which nobody waits in, is to be
 * committed by the sync thread (monotonic us). While a deferred scope that
 * joined a batch is still running (a worker in the middle of a document),
 * more operations are on their way: the batch waits for them up to
 * group_lazy_us, so that under load one COMMIT and one sync carry several
 * documents (each COMMIT writes every page it changed to the WAL again:
 * the index pages all documents share, its sync, a wake-up of the bus
 * side). Once no scope runs, it commits as before. Nothing waits on such
 * a batch but its deliveries, which go out once it is durable. */
static int64_t lazy_until(const struct queue *q)
{
	int64_t until = batch_until(q);

	if (q->sy_scopes > 0 && q->cfg.group_window_us == 0 &&
	    q->sh_start + (int64_t)q->cfg.group_lazy_us > until)
		until = q->sh_start + (int64_t)q->cfg.group_lazy_us;
	return until;
}

/* batch_end: the open batch is over with result RC (0: its COMMIT
 * returned): tell its waiters, count it, hand it to the sync thread. */
static void batch_end(struct queue *q, int rc)
{
	struct queue__waiter *w;

	for (w = q->sh_list; w != NULL; w = w->next) {
		if (rc == 0) {
			w->committed = 1;
		} else {
			w->rc = rc;
			w->done = 1;
		}
	}
	if (rc == 0) {
		if (q->sh_ops > 0) {
			q->stats.batches++;
			q->stats.batched_ops += q->sh_ops;
			if (q->sh_ops > q->stats.max_batch_ops)
				q->stats.max_batch_ops = q->sh_ops;
		}
		q->commit_seq = q->sh_seq;
		if (q->sh_dlv_max > q->commit_dlv_max)
			q->commit_dlv_max = q->sh_dlv_max;
		pthread_cond_signal(&q->sy_cond);
		if (q->sh_fresh > 0 && q->cfg.on_committed != NULL)
			q->cfg.on_committed(q->cfg.durable_arg, q->sh_fresh);
	} else {
		q->fail_seq = q->sh_seq;
	}
	q->sh_list = NULL;
	q->sh_last = q->sh_ops;
	q->sh_ops = 0;
	q->sh_fresh = 0;
	q->sh_open = 0;
	q->sh_dlv_max = 0;
	pthread_cond_broadcast(&q->sh_cond);
}

/* batch_commit: COMMIT the open batch. */
static void batch_commit(struct queue *q)
{
	batch_end(q, q->ops->commit(q->st));
}

/* batch_lost: the database gave up the open transaction (a full disk, an
 * I/O error): every operation of the batch failed. */
static void batch_lost(struct queue *q)
{
	q->ops->rollback(q->st);
	batch_end(q, SECMX_EIO);
}

/* begin_shared: join (or open) the shared transaction for an operation. */
static int begin_shared(struct queue *q)
{
	int rc;

	if (q->broken)
		return SECMX_EIO;
	/* A scope stops at its first lost batch: nothing after it is stored. */
	if (queue__deferring(q) && scope.first != 0 && q->fail_seq >= scope.first)
		return SECMX_EIO;
	if (!q->sh_open) {
		if ((rc = q->ops->begin(q->st)) < 0)
			return rc;
		q->sh_open = 1;
		q->sh_seq++;
		q->sh_start = mono_us();
	}
	q->op_dlv_max = 0;
	q->op_one = 0;
	return 0;
}

/* queue__begin: start a write operation (see above). */
int queue__begin(struct queue *q)
{
	int rc;

	if (!q->shared)
		return q->ops->begin(q->st);
	if ((rc = begin_shared(q)) < 0)
		return rc;
	if (q->ops->exec(q->st, "SAVEPOINT op") < 0) {
		if (!q->ops->in_txn(q->st))
			batch_lost(q);
		else if (q->sh_ops == 0)
			queue__rollback_all(q);
		return SECMX_EIO;
	}
	return 0;
}

/* queue__begin_one: start a write operation of one single-row statement
 * (queue_int.h): a statement that fails is undone by SQLite itself, the
 * transaction staying open (one that ends it is a lost batch, as for every
 * operation), so the operation needs no savepoint of its own. */
int queue__begin_one(struct queue *q)
{
	int rc;

	if (!q->shared)
		return q->ops->begin(q->st);
	if ((rc = begin_shared(q)) < 0)
		return rc;
	q->op_one = 1;
	return 0;
}

/* queue__rollback_all: end an open transaction that holds nothing of
 * anyone else's (the store's write lock is not kept idle). */
void queue__rollback_all(struct queue *q)
{
	q->ops->rollback(q->st);
	q->sh_open = 0;
	q->sh_fresh = 0;
	q->sh_dlv_max = 0;
}

/* join: add the operation that just ended its savepoint to the batch. */
static int join(struct queue *q)
{
	if (!q->ops->in_txn(q->st)) {
		batch_lost(q);
		return SECMX_EIO;
	}
	if (!q->op_one && q->ops->exec(q->st, "RELEASE SAVEPOINT op") < 0) {
		if (!q->ops->in_txn(q->st)) {
			batch_lost(q);
		} else {
			q->ops->exec(q->st, "ROLLBACK TO SAVEPOINT op");
			q->ops->exec(q->st, "RELEASE SAVEPOINT op");
			if (q->sh_ops == 0)
				queue__rollback_all(q);
		}
		return SECMX_EIO;
	}
	if (q->op_dlv_max > q->sh_dlv_max)
		q->sh_dlv_max = q->op_dlv_max;
	return 0;
}

/* await: with q->lock held, wait until W's batch is durable (0) or failed
 * (its error), committing the batch when it is time. */
static int await(struct queue *q, struct queue__waiter *w)
{
	for (;;) {
		int64_t now, until;

		if (w->done)
			return w->rc;
		if (w->committed) {
			if (q->durable_seq >= w->seq)
				return 0;
			if (q->broken)
				return SECMX_EIO;
			pthread_cond_wait(&q->sh_cond, &q->lock);
			continue;
		}
		/* A fixed window (group_window_us) waits for a full batch;
		 * otherwise commit as soon as nobody else is about to join and
		 * the batch is as large as the last one (whose operations are
		 * probably on their way back: up to group_adapt_us), so that
		 * batches do not shrink to one under a steady load. */
		now = mono_us();
		until = batch_until(q);
		if (q->sh_ops >= q->cfg.group_max_batch || now >= until ||
		    (q->cfg.group_window_us == 0 && atomic_load(&q->lockers) == 0 &&
		     q->sh_ops >= q->sh_last)) {
			batch_commit(q);
			continue;
		}
		wait_until(q, &q->sh_cond, until);
	}
}

/* unwaited: an operation that joined the batch returns without waiting:
 * a full batch commits now, any other is committed in time by its waiters
 * or, when it has none, by the sync thread. The sync thread is woken only
 * when it is not already waiting out this batch's time: a wake-up per
 * operation (a futex wake and a switch to a thread that finds the time not
 * up and sleeps again) cost more than the operation's own statements. */
static int unwaited(struct queue *q)
{
	q->stats.lazy_ops++;
	if (q->sh_ops >= q->cfg.group_max_batch)
		batch_commit(q);
	else if (q->sh_list == NULL && q->sy_timing != q->sh_seq)
		pthread_cond_signal(&q->sy_cond);
	return 0;
}

/* queue__commit: end a write operation: returns 0 once a COMMIT holding it
 * has returned and been synced, a negative code if that COMMIT (or the
 * operation, or the sync) failed; then nothing of it counts as stored. In a
 * deferred scope it returns once the operation joined the batch. */
int queue__commit(struct queue *q)
{
	return queue__commit_n(q, 1, 0);
}

/* queue__commit_n: queue__commit for an operation that counts as N in the
 * batch (the intake's committer: N puts it gathered itself, FRESH of them
 * new messages for config.on_committed). */
int queue__commit_n(struct queue *q, unsigned n, unsigned fresh)
{
	struct queue__waiter w;
	int rc;

	if (!q->shared)
		return q->ops->commit(q->st);
	if ((rc = join(q)) < 0)
		return rc;
	q->sh_ops += n ? n : 1;
	q->sh_fresh += fresh;
	if (queue__deferring(q)) {
		if (scope.first == 0) {
			scope.first = q->sh_seq;
			q->sy_scopes++; /* lazy_until: more of it is coming */
		}
		scope.last = q->sh_seq;
		return unwaited(q);
	}
	memset(&w, 0, sizeof(w));
	w.seq = q->sh_seq;
	w.next = q->sh_list;
	q->sh_list = &w;
	return await(q, &w);
}

/* queue__commit_lazy: end a write operation whose loss in a crash does no
 * harm beyond a repeat (a delivery's "sent" mark, an ACK: at least once
 * covers both): join the open batch and return at once; the batch's
 * waiters or the sync thread commit it within group_adapt_us. */
int queue__commit_lazy(struct queue *q)
{
	int rc;

	if (!q->shared)
		return queue__commit(q);
	if ((rc = join(q)) < 0)
		return rc;
	q->sh_ops++;
	return unwaited(q);
}

/* syncer: the sync thread. Makes committed batches durable (fsync outside
 * the lock), commits batches nobody waits in when their time is up, and at
 * stop commits and syncs what is left. */
static void *syncer(void *arg)
{
	struct queue *q = arg;

	secmx_thread_name("queue-sync");
	pthread_mutex_lock(&q->lock);
	for (;;) {
		if (q->commit_seq > q->durable_seq && !q->broken) {
			uint64_t target = q->commit_seq;
			int64_t visible = q->commit_dlv_max;
			int rc;

			pthread_mutex_unlock(&q->lock);
			rc = q->ops->sync(q->st);
			pthread_mutex_lock(&q->lock);
			if (rc < 0) {
				q->broken = 1;
			} else {
				q->stats.syncs++;
				q->stats.sync_batches += target - q->durable_seq;
				q->durable_seq = target;
				if (visible > q->dlv_visible)
					q->dlv_visible = visible;
			}
			/* Tell the owner before the waiters: when an operation
			 * returns, the call for its batch has been made. */
			if (rc == 0 && q->cfg.on_durable != NULL) {
				pthread_mutex_unlock(&q->lock);
				q->cfg.on_durable(q->cfg.durable_arg);
				pthread_mutex_lock(&q->lock);
			}
			pthread_cond_broadcast(&q->sh_cond);
			/* Housekeeping once the waiters are free: the workers
			 * go on committing meanwhile; only the next sync waits. */
			if (rc == 0 && q->ops->checkpoint != NULL) {
				pthread_mutex_unlock(&q->lock);
				rc = q->ops->checkpoint(q->st);
				pthread_mutex_lock(&q->lock);
				q->stats.checkpoints += rc > 0;
			}
			continue;
		}
		if (q->sh_open && q->sh_ops > 0 && q->sh_list == NULL) {
			int64_t until = lazy_until(q);

			if (q->sy_stop || mono_us() >= until) {
				batch_commit(q);
			} else {
				q->sy_timing = q->sh_seq; /* unwaited: no need to wake */
				wait_until(q, &q->sy_cond, until);
				q->sy_timing = 0;
			}
			continue;
		}
		if (q->sy_stop)
			break;
		pthread_cond_wait(&q->sy_cond, &q->lock);
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

/* sync_start: shared transactions begin: COMMITs stop waiting for the
 * disk and the sync thread takes over. */
static int sync_start(struct queue *q)
{
	int rc;

	if ((rc = q->ops->sync_apart(q->st)) < 0)
		return rc;
	if (pthread_create(&q->sy_thread, NULL, syncer, q) != 0)
		return SECMX_EINTERNAL;
	q->sy_running = 1;
	return 0;
}

/* sync_stop: commit and sync what is open, then end the sync thread. */
static void sync_stop(struct queue *q)
{
	if (!q->sy_running)
		return;
	pthread_mutex_lock(&q->lock);
	q->sy_stop = 1;
	pthread_cond_signal(&q->sy_cond);
	pthread_mutex_unlock(&q->lock);
	pthread_join(q->sy_thread, NULL);
	q->sy_running = 0;
}

/* queue_defer_begin: start the calling thread's deferred scope. */
int queue_defer_begin(struct queue *q)
{
	if (q == NULL)
		return SECMX_EINVAL;
	if (scope.q != NULL)
		return SECMX_ESTATE;
	scope.q = q;
	scope.first = scope.last = 0;
	return 0;
}

/* queue_defer_end: end it; with WAIT, until its operations are durable. */
int queue_defer_end(struct queue *q, int wait)
{
	uint64_t first = scope.first, last = scope.last;
	int rc = 0;

	if (q == NULL || scope.q != q)
		return SECMX_EINVAL;
	scope.q = NULL;
	scope.first = scope.last = 0;
	if (!q->shared || last == 0)
		return 0;
	queue__lock(q);
	/* The last running scope ended: a batch nobody waits in need not
	 * wait for more (lazy_until). */
	if (--q->sy_scopes == 0 && q->sy_timing != 0)
		pthread_cond_signal(&q->sy_cond);
	if (wait && q->sh_open && q->sh_seq == last) {
		struct queue__waiter w;

		memset(&w, 0, sizeof(w));
		w.seq = last;
		w.next = q->sh_list;
		q->sh_list = &w;
		rc = await(q, &w);
	} else if (wait) {
		while (q->durable_seq < last && !q->broken && q->fail_seq < first)
			pthread_cond_wait(&q->sh_cond, &q->lock);
		if (q->durable_seq < last)
			rc = SECMX_EIO;
	}
	if (q->fail_seq >= first)
		rc = SECMX_EIO;
	queue__unlock(q);
	return rc;
}

/* queue__read_begin: a read transaction, so that several SELECTs agree;
 * inside the open shared transaction nothing more is needed. Its writes
 * are visible: they commit or fail together with whatever the reader then
 * writes in the same batch, and a later batch opens only after this one's
 * COMMIT returned (a failed one rolled back first). What must not leave
 * the process before it is durable (deliveries) is filtered by id. */
int queue__read_begin(struct queue *q)
{
	return q->sh_open ? 0 : q->ops->exec(q->st, "BEGIN");
}

/* queue__read_end: end what queue__read_begin started. */
void queue__read_end(struct queue *q)
{
	if (!q->sh_open)
		q->ops->rollback(q->st);
}

/* queue__rollback: abandon a write operation (only its own changes). */
void queue__rollback(struct queue *q)
{
	if (!q->shared) {
		q->ops->rollback(q->st);
		return;
	}
	if (!q->sh_open)
		return;
	if (!q->ops->in_txn(q->st)) {
		batch_lost(q);
		return;
	}
	if (!q->op_one) {
		q->ops->exec(q->st, "ROLLBACK TO SAVEPOINT op");
		q->ops->exec(q->st, "RELEASE SAVEPOINT op");
	}
	if (!q->ops->in_txn(q->st))
		batch_lost(q);
	else if (q->sh_ops == 0)
		queue__rollback_all(q);
}

/* queue__copy: column I as text into DST. */
void queue__copy(struct queue *q, struct qstmt *s, int i, char *dst, size_t size)
{
	const char *t = q->ops->col_text(s, i);

	secmx_strlcpy(dst, t ? t : "", size);
}

/* queue__audit: one audit record. */
int queue__audit(struct queue *q, int64_t msg_id, const char *action, const char *who,
                 const char *reason)
{
	struct qstmt *s;
	int rc;

	if ((rc = queue__prep(q, QS_AUDIT_ADD,
	                      "INSERT INTO audit (at, msg_id, action, who, reason)"
	                      " VALUES ($1, $2, $3, $4, $5)",
	                      &s)) < 0)
		return rc;
	q->ops->bind_int(s, 1, queue__now(q));
	q->ops->bind_int(s, 2, msg_id);
	q->ops->bind_text(s, 3, action);
	q->ops->bind_text(s, 4, who ? who : "unknown");
	q->ops->bind_text(s, 5, reason);
	return queue__run(q, s);
}

/* migrate: bring the schema up to the store's newest version, one
 * transaction per step, recorded in queue_meta (portable, unlike SQLite's
 * user_version). */
static int migrate(struct queue *q, char *err, size_t errlen)
{
	struct qstmt *s;
	long version = 0;
	unsigned v;
	int rc;

	if (q->ops->exec(q->st, "CREATE TABLE IF NOT EXISTS queue_meta"
	                        " (k TEXT PRIMARY KEY, v TEXT NOT NULL)") < 0)
		goto fail;
	if ((rc = queue__prep(q, QS_META_GET, "SELECT v FROM queue_meta WHERE k = $1", &s)) < 0)
		goto fail;
	q->ops->bind_text(s, 1, "schema_version");
	if ((rc = q->ops->step(s)) == 1) {
		const char *t = q->ops->col_text(s, 0);
		char *end;

		errno = 0;
		version = strtol(t ? t : "", &end, 10);
		if (errno || end == t || *end != '\0' || version < 0) {
			q->ops->reset(s);
			secmx_errf(err, errlen, "queue_meta holds a bad schema_version");
			return SECMX_ECONFIG;
		}
	}
	q->ops->reset(s);
	if (rc < 0)
		goto fail;
	if (version > (long)q->ops->n_migrations) {
		secmx_errf(err, errlen, "store schema version %ld is newer than this build's %u",
		           version, q->ops->n_migrations);
		return SECMX_ECONFIG;
	}
	for (v = (unsigned)version; v < q->ops->n_migrations; v++) {
		char num[16];

		if (queue__begin(q) < 0)
			goto fail;
		snprintf(num, sizeof(num), "%u", v + 1);
		if (q->ops->exec(q->st, q->ops->migrations[v]) < 0 ||
		    queue__prep(q, QS_META_SET,
		                "INSERT INTO queue_meta (k, v) VALUES ($1, $2)"
		                " ON CONFLICT (k) DO UPDATE SET v = excluded.v",
		                &s) < 0) {
			queue__rollback(q);
			goto fail;
		}
		q->ops->bind_text(s, 1, "schema_version");
		q->ops->bind_text(s, 2, num);
		if (queue__run(q, s) < 0 || queue__commit(q) < 0) {
			queue__rollback(q);
			goto fail;
		}
	}
	return 0;
fail:
	secmx_errf(err, errlen, "schema: %s", q->ops->errmsg(q->st));
	return SECMX_EIO;
}

/* queue_open: store, schema, recovery, committer. */
int queue_open(const char *path, const struct queue_config *cfg, struct queue **out, char *err,
               size_t errlen)
{
	struct queue *q = NULL;
	pthread_condattr_t ca;
	int rc;

	*out = NULL;
	if (path == NULL)
		return SECMX_EINVAL;
	if ((q = calloc(1, sizeof(*q))) == NULL)
		return SECMX_ENOMEM;
	if (cfg != NULL)
		q->cfg = *cfg;
	else
		queue_config_default(&q->cfg);
	if (q->cfg.group_max_batch == 0)
		q->cfg.group_max_batch = 1;
	q->ops = &queue__store_sqlite;
	pthread_mutex_init(&q->lock, NULL);
	pthread_mutex_init(&q->gc_lock, NULL);
	pthread_cond_init(&q->gc_work, NULL);
	pthread_cond_init(&q->gc_done, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q->sh_cond, &ca);
	pthread_cond_init(&q->sy_cond, &ca);
	pthread_condattr_destroy(&ca);
	if ((rc = q->ops->open(path, &q->cfg, &q->st, err, errlen)) < 0)
		goto fail;
	if ((rc = migrate(q, err, errlen)) < 0)
		goto fail;
	if ((rc = queue_recover(q, q->cfg.recover, NULL)) < 0) {
		secmx_errf(err, errlen, "recovery: %s", q->ops->errmsg(q->st));
		goto fail;
	}
	/* From here on write operations share transactions (migrations and
	 * recovery above ran alone, one transaction each, synced by COMMIT);
	 * every delivery stored so far is durable. */
	if ((rc = queue__delivery_top(q, &q->dlv_visible)) < 0) {
		secmx_errf(err, errlen, "%s", q->ops->errmsg(q->st));
		goto fail;
	}
	q->commit_dlv_max = q->dlv_visible;
	if (q->cfg.group_commit && (rc = sync_start(q)) < 0) {
		secmx_errf(err, errlen, "cannot sync apart from COMMIT: %s", q->ops->errmsg(q->st));
		goto fail;
	}
	q->shared = q->cfg.group_commit;
	if (q->cfg.group_commit && (rc = queue__intake_start(q)) < 0) {
		secmx_errf(err, errlen, "cannot start the committer thread");
		goto fail;
	}
	*out = q;
	return 0;
fail:
	queue_close(q);
	return rc;
}

/* queue_close: committer, store, memory. */
void queue_close(struct queue *q)
{
	if (q == NULL)
		return;
	queue__intake_stop(q);
	sync_stop(q);
	if (q->st != NULL)
		q->ops->close(q->st);
	pthread_cond_destroy(&q->sy_cond);
	pthread_cond_destroy(&q->gc_work);
	pthread_cond_destroy(&q->gc_done);
	pthread_cond_destroy(&q->sh_cond);
	pthread_mutex_destroy(&q->gc_lock);
	pthread_mutex_destroy(&q->lock);
	free(q);
}

/* queue_recover: what a crash left in flight. A message's state changes
 * only when a step is recorded, so releasing its lease is enough to put it
 * back at its last recorded step. */
int queue_recover(struct queue *q, int all, struct queue_recovery *out)
{
	struct queue_recovery r = {0, 0};
	struct qstmt *s;
	int rc;

	queue__lock(q);
	if ((rc = queue__begin(q)) < 0)
		goto done;
	if (all)
		rc = queue__prep(q, QS_LEASE_RECOVER_ALL,
		                 "UPDATE msg SET lease_token = NULL, lease_until = NULL"
		                 " WHERE lease_token IS NOT NULL",
		                 &s);
	else
		rc = queue__prep(q, QS_LEASE_RECOVER_EXPIRED,
		                 "UPDATE msg SET lease_token = NULL, lease_until = NULL"
		                 " WHERE lease_token IS NOT NULL AND lease_until <= $1",
		                 &s);
	if (rc < 0)
		goto fail;
	if (!all)
		q->ops->bind_int(s, 1, queue__now(q));
	if ((rc = queue__run(q, s)) < 0)
		goto fail;
	r.leases_released = (unsigned)q->ops->changes(q->st);
	if (all) {
		if ((rc = queue__prep(q, QS_DLV_REQUEUE_ALL, QUEUE__SQL_REQUEUE_ALL, &s)) < 0)
			goto fail;
		q->ops->bind_int(s, 1, queue__now(q));
		if ((rc = queue__run(q, s)) < 0)
			goto fail;
		r.deliveries_requeued = (unsigned)q->ops->changes(q->st);
	}
	if ((rc = queue__commit(q)) < 0)
		goto done;
	if (out != NULL)
		*out = r;
	goto done;
fail:
	queue__rollback(q);
done:
	queue__unlock(q);
	return rc < 0 ? rc : 0;
}

/* queue_stats: a copy of the counters. */
void queue_stats(struct queue *q, struct queue_stats *out)
{
	queue__lock(q);
	*out = q->stats;
	queue__unlock(q);
}

/* queue__fault_sync: the test seam for syncs. */
void queue__fault_sync(struct queue *q, unsigned count)
{
	queue__lock(q);
	q->ops->fault_sync(q->st, count);
	queue__unlock(q);
}

/* queue__fault_commit: the test seam. */
void queue__fault_commit(struct queue *q, unsigned nth, unsigned count)
{
	queue__lock(q);
	q->ops->fault_commit(q->st, nth, count);
	queue__unlock(q);
}
