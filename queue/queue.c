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
	cfg->backoff_base_ms = 60 * 1000;
	cfg->backoff_max_ms = 4 * 3600 * 1000;
	cfg->max_attempts = 20;
	cfg->max_age_ms = (int64_t)5 * 24 * 3600 * 1000;
	cfg->lease_ms = 5 * 60 * 1000;
	cfg->ack_timeout_ms = 2 * 60 * 1000;
	cfg->delivery_max_attempts = 50;
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

/* queue__begin: start a write transaction. */
int queue__begin(struct queue *q)
{
	return q->ops->begin(q->st);
}

/* queue__commit: commit; a failure leaves nothing of the transaction. */
int queue__commit(struct queue *q)
{
	return q->ops->commit(q->st);
}

/* queue__rollback: abandon the transaction. */
void queue__rollback(struct queue *q)
{
	q->ops->rollback(q->st);
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
	if ((rc = q->ops->open(path, &q->cfg, &q->st, err, errlen)) < 0)
		goto fail;
	if ((rc = migrate(q, err, errlen)) < 0)
		goto fail;
	if ((rc = queue_recover(q, q->cfg.recover, NULL)) < 0) {
		secmx_errf(err, errlen, "recovery: %s", q->ops->errmsg(q->st));
		goto fail;
	}
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
	if (q->st != NULL)
		q->ops->close(q->st);
	pthread_cond_destroy(&q->gc_work);
	pthread_cond_destroy(&q->gc_done);
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

	pthread_mutex_lock(&q->lock);
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
	pthread_mutex_unlock(&q->lock);
	return rc < 0 ? rc : 0;
}

/* queue_stats: a copy of the counters. */
void queue_stats(struct queue *q, struct queue_stats *out)
{
	pthread_mutex_lock(&q->lock);
	*out = q->stats;
	pthread_mutex_unlock(&q->lock);
}

/* queue__fault_commit: the test seam. */
void queue__fault_commit(struct queue *q, unsigned nth, unsigned count)
{
	pthread_mutex_lock(&q->lock);
	q->ops->fault_commit(q->st, nth, count);
	pthread_mutex_unlock(&q->lock);
}
