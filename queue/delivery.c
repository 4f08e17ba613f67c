/*
 * delivery.c — per-adapter deliveries: at-least-once, in order per
 * transaction for each adapter, one idempotency key per envelope.
 *
 * Functions: queue_delivery_add, queue_delivery_next, queue_delivery_ack,
 * queue_delivery_nack, queue_delivery_timeout, queue_delivery_requeue
 * (queue.h).
 *
 * States of a delivery: pending (due at next_attempt_at) -> sent (waiting
 * for ACK until ack_deadline) -> acked; a transient NACK or a requeue
 * (reconnect, the safety net past ack_deadline) takes sent back to pending;
 * an ACK timeout the caller reports (queue_delivery_timeout) keeps it sent
 * with a new deadline. A permanent NACK makes it dead; so does a transient
 * NACK or an ACK timeout once it has been sent delivery_max_attempts times
 * or is delivery_max_age old (counted from its creation, or from the
 * operator's `secmx queue retry`, which brings a dead one back). A requeue
 * is not a failure of the delivery (the adapter went away) and never kills
 * it. Order: a delivery of transaction T to adapter A is handed
 * out only when every earlier delivery (lower seq) of T to A is acked or
 * dead; deliveries without a transaction key are independent. A delivery of
 * a held or quarantined message is not handed out.
 *
 * Errors: SECMX_ENOTFOUND (no such message or delivery), SECMX_ESTATE (an
 * ack or nack that does not fit the delivery's state), SECMX_EIO.
 */
#include <stdio.h>
#include <string.h>

#include "queue_int.h"

/* queue__delivery_key: the idempotency key to use (KEY: 128 bytes). */
int queue__delivery_key(int64_t msg_id, const char *adapter, const char *idem_key, char *key)
{
	if (adapter == NULL || *adapter == '\0' || strlen(adapter) >= 64)
		return SECMX_EINVAL;
	if (idem_key == NULL)
		snprintf(key, 128, "%lld.%s", (long long)msg_id, adapter);
	else if (secmx_strlcpy(key, idem_key, 128) >= 128 || *key == '\0')
		return SECMX_EINVAL;
	return 0;
}

/* queue__delivery_add: the rows of queue_delivery_add, inside the
 * caller's write operation; KEY from queue__delivery_key. */
int queue__delivery_add(struct queue *q, int64_t msg_id, const char *adapter, const char *key,
                        int64_t now, int64_t *id)
{
	struct qstmt *s;
	char txn[256] = "";
	int64_t seq = 0, did = 0;
	int rc;

	/* The common case in two statements: the order group's next seq, then
	 * the row, which must be new; an existing (adapter, key) is looked up
	 * only when the insert finds it there. */
	if ((rc = queue__prep(q, QS_DLV_MAXSEQ,
	                      "SELECT m.txn_key, (SELECT MAX(d.seq) FROM delivery d"
	                      "  WHERE d.adapter = $2 AND d.txn_key = COALESCE(m.txn_key, ''))"
	                      " FROM msg m WHERE m.id = $1",
	                      &s)) < 0)
		return rc;
	q->ops->bind_int(s, 1, msg_id);
	q->ops->bind_text(s, 2, adapter);
	if ((rc = q->ops->step(s)) == 1) {
		queue__copy(q, s, 0, txn, sizeof(txn));
		seq = q->ops->col_int(s, 1) + 1;
	}
	q->ops->reset(s);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return SECMX_ENOTFOUND;
	if ((rc =
	         queue__prep(q, QS_DLV_ADD,
	                     "INSERT INTO delivery (msg_id, adapter, idem_key, txn_key, seq, state,"
	                     " attempts, next_attempt_at, created_at)"
	                     " VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6)"
	                     " ON CONFLICT (adapter, idem_key) DO NOTHING RETURNING id",
	                     &s)) < 0)
		return rc;
	q->ops->bind_int(s, 1, msg_id);
	q->ops->bind_text(s, 2, adapter);
	q->ops->bind_text(s, 3, key);
	q->ops->bind_text(s, 4, txn);
	q->ops->bind_int(s, 5, seq);
	q->ops->bind_int(s, 6, now);
	if ((rc = q->ops->step(s)) == 1)
		did = q->ops->col_int(s, 0);
	q->ops->reset(s);
	if (rc < 0)
		return rc;
	if (did == 0) {
		/* Already there: that one is the delivery. */
		if ((rc = queue__prep(
		         q, QS_DLV_FIND,
		         "SELECT id FROM delivery WHERE adapter = $1 AND idem_key = $2", &s)) < 0)
			return rc;
		q->ops->bind_text(s, 1, adapter);
		q->ops->bind_text(s, 2, key);
		if ((rc = q->ops->step(s)) == 1)
			did = q->ops->col_int(s, 0);
		q->ops->reset(s);
		if (rc < 0)
			return rc;
		if (did == 0)
			return SECMX_EIO;
		*id = did;
		return 1;
	}
	queue__dlv_added(q, did);
	*id = did;
	return 0;
}

/* queue__delivery_top: the highest delivery id. */
int queue__delivery_top(struct queue *q, int64_t *id)
{
	struct qstmt *s;
	int rc;

	*id = 0;
	if ((rc = queue__prep(q, QS_DLV_TOP, "SELECT COALESCE(MAX(id), 0) FROM delivery", &s)) < 0)
		return rc;
	if ((rc = q->ops->step(s)) == 1)
		*id = q->ops->col_int(s, 0);
	q->ops->reset(s);
	return rc < 0 ? rc : 0;
}

/* queue_delivery_add: one delivery per (adapter, idempotency key). */
int queue_delivery_add(struct queue *q, int64_t msg_id, const char *adapter, const char *idem_key,
                       int64_t *id)
{
	char key[128];
	int64_t did = 0;
	int rc;

	if (id != NULL)
		*id = 0;
	if ((rc = queue__delivery_key(msg_id, adapter, idem_key, key)) < 0)
		return rc;
	queue__lock(q);
	if ((rc = queue__begin(q)) < 0)
		goto done;
	rc = queue__delivery_add(q, msg_id, adapter, key, queue__now(q), &did);
	if (rc == 0 && (rc = queue__commit(q)) < 0)
		goto done;
	if (rc != 0)
		queue__rollback(q); /* an error, or 1: already there */
	if (rc >= 0 && id != NULL)
		*id = did;
done:
	queue__unlock(q);
	return rc;
}

/* queue_delivery_next: the next due delivery for ADAPTER, marked sent. */
int queue_delivery_next(struct queue *q, const char *adapter, int64_t ack_timeout_ms,
                        struct queue_delivery *out)
{
	struct qstmt *s;
	struct queue_delivery d;
	int64_t now;
	int rc;

	memset(out, 0, sizeof(*out));
	if (adapter == NULL)
		return SECMX_EINVAL;
	if (ack_timeout_ms <= 0)
		ack_timeout_ms = q->cfg.ack_timeout_ms;
	memset(&d, 0, sizeof(d));
	queue__lock(q);
	now = queue__now(q);
	/* The pick is a read, made before the write operation begins: the bus
	 * side asks after every event, and most asks find nothing due (not yet
	 * durable, or held back by the order of their transaction); those
	 * then cost one SELECT, not a transaction or savepoint opened and
	 * rolled back. Under the lock nothing of ours changes between the pick
	 * and the mark; the mark's own "state = 'pending'" covers another
	 * process (secmx queue). */
	if ((rc = queue__prep(
	         q, QS_DLV_PICK,
	         "SELECT d.id, d.msg_id, d.idem_key, d.txn_key, d.seq, d.attempts"
	         " FROM delivery d JOIN msg m ON m.id = d.msg_id"
	         " WHERE d.adapter = $1 AND d.state = 'pending' AND d.next_attempt_at <= $2"
	         " AND d.id <= $3"
	         " AND m.held = 0 AND m.state <> 'quarantined'"
	         " AND (d.txn_key = '' OR NOT EXISTS (SELECT 1 FROM delivery e"
	         "  WHERE e.adapter = d.adapter AND e.txn_key = d.txn_key AND e.seq < d.seq"
	         "  AND e.state IN ('pending', 'sent')))"
	         " ORDER BY d.next_attempt_at, d.id LIMIT 1",
	         &s)) < 0)
		goto done;
	q->ops->bind_text(s, 1, adapter);
	q->ops->bind_int(s, 2, now);
	/* Only durable deliveries go out: one whose batch is still open or
	 * unsynced could vanish in a crash after the adapter acted on it. */
	q->ops->bind_int(s, 3, q->shared ? q->dlv_visible : INT64_MAX);
	if ((rc = q->ops->step(s)) == 1) {
		d.id = q->ops->col_int(s, 0);
		d.msg_id = q->ops->col_int(s, 1);
		queue__copy(q, s, 2, d.idem_key, sizeof(d.idem_key));
		queue__copy(q, s, 3, d.txn_key, sizeof(d.txn_key));
		d.seq = q->ops->col_int(s, 4);
		d.attempts = (unsigned)q->ops->col_int(s, 5) + 1;
		secmx_strlcpy(d.adapter, adapter, sizeof(d.adapter));
	}
	q->ops->reset(s);
	if (rc <= 0)
		goto done;
	/* One single-row UPDATE, rolled back only when it changed nothing. */
	if ((rc = queue__begin_one(q)) < 0)
		goto done;
	if ((rc =
	         queue__prep(q, QS_DLV_SEND,
	                     "UPDATE delivery SET state = 'sent', attempts = attempts + 1,"
	                     " sent_at = $2, ack_deadline = $3 WHERE id = $1 AND state = 'pending'",
	                     &s)) < 0)
		goto fail;
	q->ops->bind_int(s, 1, d.id);
	q->ops->bind_int(s, 2, now);
	q->ops->bind_int(s, 3, now + ack_timeout_ms);
	if ((rc = queue__run(q, s)) < 0)
		goto fail;
	if (q->ops->changes(q->st) != 1) {
		/* Taken or changed by another process since the pick. */
		queue__rollback(q);
		rc = 0;
		goto done;
	}
	/* Lazy: a lost "sent" mark only means the delivery is sent again. */
	if ((rc = queue__commit_lazy(q)) < 0)
		goto done;
	*out = d;
	rc = 1;
	goto done;
fail:
	queue__rollback(q);
done:
	queue__unlock(q);
	return rc;
}

/* dlv_get: state, attempts and creation time (CREATED may be NULL) of
 * delivery ID (inside a transaction). */
static int dlv_get(struct queue *q, int64_t id, char *state, size_t size, unsigned *attempts,
                   int64_t *created)
{
	struct qstmt *s;
	int rc;

	if ((rc = queue__prep(q, QS_DLV_GET,
	                      "SELECT state, attempts, created_at FROM delivery WHERE id = $1",
	                      &s)) < 0)
		return rc;
	q->ops->bind_int(s, 1, id);
	if ((rc = q->ops->step(s)) == 1) {
		queue__copy(q, s, 0, state, size);
		*attempts = (unsigned)q->ops->col_int(s, 1);
		if (created != NULL)
			*created = q->ops->col_int(s, 2);
	}
	q->ops->reset(s);
	if (rc < 0)
		return rc;
	return rc == 1 ? 0 : SECMX_ENOTFOUND;
}

/* queue_delivery_ack: acknowledged (a late ACK for a requeued delivery
 * counts too: the adapter did take it). The common case is one UPDATE; the
 * delivery's state is read only when it was not pending or sent. */
int queue_delivery_ack(struct queue *q, int64_t id)
{
	struct qstmt *s;
	char state[16];
	unsigned attempts;
	int rc;

	queue__lock(q);
	/* One single-row UPDATE, rolled back only when it changed nothing. */
	if ((rc = queue__begin_one(q)) < 0)
		goto done;
	if ((rc = queue__prep(q, QS_DLV_ACK,
	                      "UPDATE delivery SET state = 'acked', acked_at = $2"
	                      " WHERE id = $1 AND state IN ('pending', 'sent')",
	                      &s)) < 0)
		goto fail;
	q->ops->bind_int(s, 1, id);
	q->ops->bind_int(s, 2, queue__now(q));
	if ((rc = queue__run(q, s)) < 0)
		goto fail;
	if (q->ops->changes(q->st) == 0) {
		/* Acked already (harmless: 1), dead (SECMX_ESTATE) or unknown. */
		if ((rc = dlv_get(q, id, state, sizeof(state), &attempts, NULL)) < 0)
			goto fail;
		rc = strcmp(state, "acked") == 0 ? 1 : SECMX_ESTATE;
		queue__rollback(q);
		goto done;
	}
	/* Lazy: a lost ACK only means the delivery is sent again. */
	rc = queue__commit_lazy(q);
	goto done;
fail:
	queue__rollback(q);
done:
	queue__unlock(q);
	return rc;
}

/* dur_text: MS as "Ns" when whole seconds, else "Nms", into BUF. */
static const char *dur_text(int64_t ms, char *buf, size_t size)
{
	if (ms % 1000 == 0)
		snprintf(buf, size, "%llds", (long long)(ms / 1000));
	else
		snprintf(buf, size, "%lldms", (long long)ms);
	return buf;
}

/* dlv_too_old: 1 when a delivery made (or retried) at CREATED is past
 * config.delivery_max_age at NOW, with the reason (the age, the limit and
 * LAST, the failure that found it) in WHY; else 0. */
static int dlv_too_old(const struct queue *q, int64_t created, int64_t now, const char *last,
                       char *why, size_t whylen)
{
	char age[32], max[32];

	if (q->cfg.delivery_max_age_ms <= 0 || now - created < q->cfg.delivery_max_age_ms)
		return 0;
	snprintf(why, whylen, "delivery age limit exceeded (%s old, limit %s); last error: %s",
	         dur_text(now - created, age, sizeof(age)),
	         dur_text(q->cfg.delivery_max_age_ms, max, sizeof(max)), last);
	return 1;
}

/* A failed attempt of a sent delivery (dlv_fail). */
enum dlv_failure { DLV_NACK, DLV_NACK_PERMANENT, DLV_TIMEOUT };

/* dlv_fail: sent delivery ID failed (HOW, REASON): dead when the NACK was
 * permanent, the attempts are used up or the delivery is too old (the
 * reason says which); otherwise a NACK makes it pending after a back-off,
 * and a timeout counts an attempt and marks it sent again now, answered by
 * NOW + ACK_TIMEOUT_MS (the bus sends it at once). 1 dead, 0 not,
 * SECMX_ESTATE when it is not sent, or a store error. */
static int dlv_fail(struct queue *q, int64_t id, enum dlv_failure how, const char *reason,
                    int64_t ack_timeout_ms)
{
	struct qstmt *s;
	char state[16], why[512];
	unsigned attempts = 0;
	int64_t now, created = 0;
	int rc, dead;

	queue__lock(q);
	now = queue__now(q);
	if ((rc = queue__begin(q)) < 0)
		goto done;
	if ((rc = dlv_get(q, id, state, sizeof(state), &attempts, &created)) < 0)
		goto fail;
	if (strcmp(state, "sent") != 0) {
		rc = SECMX_ESTATE;
		goto fail;
	}
	dead = how == DLV_NACK_PERMANENT ||
	       (q->cfg.delivery_max_attempts > 0 && attempts >= q->cfg.delivery_max_attempts);
	if (how == DLV_TIMEOUT && dead)
		snprintf(why, sizeof(why), "%s; gave up after %u attempts", reason, attempts);
	else
		snprintf(why, sizeof(why), "%s%s",
		         how == DLV_NACK_PERMANENT ? "permanent NACK: " : "", reason);
	if (!dead)
		dead = dlv_too_old(q, created, now, reason, why, sizeof(why));
	if (dead)
		rc = queue__prep(
		    q, QS_DLV_DEAD,
		    "UPDATE delivery SET state = 'dead', last_error = $2 WHERE id = $1", &s);
	else if (how == DLV_TIMEOUT)
		rc = queue__prep(q, QS_DLV_RESEND,
		                 "UPDATE delivery SET attempts = attempts + 1, last_error = $2,"
		                 " sent_at = $3, ack_deadline = $4 WHERE id = $1",
		                 &s);
	else
		rc = queue__prep(q, QS_DLV_RETRY,
		                 "UPDATE delivery SET state = 'pending', last_error = $2,"
		                 " next_attempt_at = $3 WHERE id = $1",
		                 &s);
	if (rc < 0)
		goto fail;
	q->ops->bind_int(s, 1, id);
	q->ops->bind_text(s, 2, why);
	if (!dead && how == DLV_TIMEOUT) {
		q->ops->bind_int(s, 3, now);
		q->ops->bind_int(s, 4, now + ack_timeout_ms);
	} else if (!dead) {
		q->ops->bind_int(s, 3,
		                 now + queue__sched_backoff(q->cfg.backoff_base_ms,
		                                            q->cfg.backoff_max_ms, attempts,
		                                            queue__random()));
	}
	if ((rc = queue__run(q, s)) < 0)
		goto fail;
	if ((rc = queue__commit(q)) < 0)
		goto done;
	rc = dead;
	goto done;
fail:
	queue__rollback(q);
done:
	queue__unlock(q);
	return rc;
}

/* queue_delivery_nack: retry with back-off, or dead-letter. */
int queue_delivery_nack(struct queue *q, int64_t id, int permanent, const char *reason)
{
	return dlv_fail(q, id, permanent ? DLV_NACK_PERMANENT : DLV_NACK, reason ? reason : "NACK",
	                0);
}

/* queue_delivery_timeout: no answer in time: one more attempt, or dead. */
int queue_delivery_timeout(struct queue *q, int64_t id, int64_t ack_timeout_ms, const char *reason)
{
	return dlv_fail(q, id, DLV_TIMEOUT, reason ? reason : "no answer in time",
	                ack_timeout_ms > 0 ? ack_timeout_ms : q->cfg.ack_timeout_ms);
}

/* queue_delivery_requeue: sent but unacknowledged -> pending. */
int queue_delivery_requeue(struct queue *q, const char *adapter, int all)
{
	static const char *const SQL[4] = {
	    "UPDATE delivery SET state = 'pending', next_attempt_at = $1"
	    " WHERE state = 'sent' AND ack_deadline <= $1",
	    "UPDATE delivery SET state = 'pending', next_attempt_at = $1"
	    " WHERE state = 'sent' AND ack_deadline <= $1 AND adapter = $2",
	    QUEUE__SQL_REQUEUE_ALL,
	    "UPDATE delivery SET state = 'pending', next_attempt_at = $1"
	    " WHERE state = 'sent' AND adapter = $2",
	};
	static const unsigned SLOT[4] = {QS_DLV_REQUEUE_EXPIRED, QS_DLV_REQUEUE_ADAPTER_EXPIRED,
	                                 QS_DLV_REQUEUE_ALL, QS_DLV_REQUEUE_ADAPTER_ALL};
	unsigned k = (all ? 2u : 0u) + (adapter ? 1u : 0u);
	struct qstmt *s;
	int rc;

	queue__lock(q);
	if ((rc = queue__begin(q)) < 0)
		goto done;
	if ((rc = queue__prep(q, SLOT[k], SQL[k], &s)) < 0)
		goto fail;
	q->ops->bind_int(s, 1, queue__now(q));
	if (adapter != NULL)
		q->ops->bind_text(s, 2, adapter);
	if ((rc = queue__run(q, s)) < 0)
		goto fail;
	rc = (int)q->ops->changes(q->st);
	if (queue__commit(q) < 0) {
		rc = SECMX_EIO;
		goto done;
	}
	goto done;
fail:
	queue__rollback(q);
done:
	queue__unlock(q);
	return rc;
}
