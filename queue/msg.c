/*
 * msg.c — a stored message's life after intake: read back (digest checked,
 * quarantine), claim with a lease, step results, deferral and dead-letter,
 * and the operator's hold / release / retry / remove.
 *
 * Functions: queue_msg_get, queue_msg_info, queue_claim, queue_step_record,
 * queue_step_advance, queue_step_deliver,
 * queue_msg_defer, queue_lease_renew, queue_lease_release, queue_msg_hold, queue_msg_release,
 * queue_msg_retry, queue_msg_remove (queue.h).
 *
 * Every function runs under q->lock in its own store transaction; a write
 * is durable when the function returns 0 or more.
 * Errors: see queue.h. SECMX_ESTATE when a lease token no longer matches
 * (the lease expired and another worker claimed the message).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue_int.h"

#define MSG_COLUMNS QUEUE__MSG_COLUMNS

/* read_info: the MSG_COLUMNS of a row into *OUT. */
static void read_info(struct queue *q, struct qstmt *s, struct queue_msg_info *out)
{
	memset(out, 0, sizeof(*out));
	out->id = q->ops->col_int(s, 0);
	out->created_at = q->ops->col_int(s, 1);
	out->size = q->ops->col_int(s, 2);
	queue__copy(q, s, 3, out->sha256, sizeof(out->sha256));
	queue__copy(q, s, 4, out->state, sizeof(out->state));
	out->held = (int)q->ops->col_int(s, 5);
	out->attempts = (unsigned)q->ops->col_int(s, 6);
	out->next_attempt_at = q->ops->col_int(s, 7);
	out->dup_of = q->ops->col_int(s, 8);
	queue__copy(q, s, 9, out->source, sizeof(out->source));
	queue__copy(q, s, 10, out->sender, sizeof(out->sender));
	queue__copy(q, s, 11, out->doc_type, sizeof(out->doc_type));
	queue__copy(q, s, 12, out->doc_id, sizeof(out->doc_id));
	queue__copy(q, s, 13, out->txn_key, sizeof(out->txn_key));
	queue__copy(q, s, 14, out->last_error, sizeof(out->last_error));
}

/* info_locked: metadata of ID; caller holds q->lock. */
static int info_locked(struct queue *q, int64_t id, struct queue_msg_info *out)
{
	struct qstmt *s;
	int rc;

	if ((rc = queue__prep(q, QS_MSG_INFO, "SELECT " MSG_COLUMNS " FROM msg WHERE id = $1",
	                      &s)) < 0)
		return rc;
	q->ops->bind_int(s, 1, id);
	rc = q->ops->step(s);
	if (rc == 1)
		read_info(q, s, out);
	q->ops->reset(s);
	if (rc < 0)
		return rc;
	return rc == 1 ? 0 : SECMX_ENOTFOUND;
}

/* queue_msg_info: metadata of one message. */
int queue_msg_info(struct queue *q, int64_t id, struct queue_msg_info *out)
{
	int rc;

	queue__lock(q);
	rc = info_locked(q, id, out);
	queue__unlock(q);
	return rc;
}

/* quarantine: mark ID damaged, with an audit record saying why. */
static int quarantine(struct queue *q, int64_t id, const char *why)
{
	struct qstmt *s;
	int rc;

	if ((rc = queue__begin(q)) < 0)
		return rc;
	if ((rc = queue__prep(q, QS_MSG_QUARANTINE,
	                      "UPDATE msg SET resume_state = state, state = 'quarantined',"
	                      " last_error = $2, updated_at = $3, lease_token = NULL,"
	                      " lease_until = NULL WHERE id = $1",
	                      &s)) < 0)
		goto fail;
	q->ops->bind_int(s, 1, id);
	q->ops->bind_text(s, 2, why);
	q->ops->bind_int(s, 3, queue__now(q));
	if ((rc = queue__run(q, s)) < 0 ||
	    (rc = queue__audit(q, id, "quarantine", "queue", why)) < 0)
		goto fail;
	return queue__commit(q);
fail:
	queue__rollback(q);
	return rc;
}

/* queue_msg_get: bytes, verified against the stored digest. */
int queue_msg_get(struct queue *q, int64_t id, void **data, size_t *len)
{
	struct qstmt *s;
	char stored[65], got[65], state[QUEUE_NAME_MAX], why[200];
	const void *blob;
	size_t n = 0;
	int64_t size = 0;
	unsigned char *buf = NULL;
	int rc;

	*data = NULL;
	*len = 0;
	queue__lock(q);
	if ((rc = queue__prep(q, QS_MSG_BODY,
	                      "SELECT b.body, m.sha256, m.state, m.size FROM msg m"
	                      " LEFT JOIN msg_body b ON b.msg_id = m.id WHERE m.id = $1",
	                      &s)) < 0)
		goto done;
	q->ops->bind_int(s, 1, id);
	if ((rc = q->ops->step(s)) == 1) {
		blob = q->ops->col_blob(s, 0, &n);
		queue__copy(q, s, 1, stored, sizeof(stored));
		queue__copy(q, s, 2, state, sizeof(state));
		size = q->ops->col_int(s, 3);
		if ((buf = malloc(n + 1)) == NULL) {
			rc = SECMX_ENOMEM;
		} else {
			if (n > 0)
				memcpy(buf, blob, n);
			buf[n] = '\0';
		}
	}
	q->ops->reset(s);
	if (rc < 0)
		goto done;
	if (rc == 0) {
		rc = SECMX_ENOTFOUND;
		goto done;
	}
	if (strcmp(state, QUEUE_STATE_QUARANTINED) == 0) {
		rc = SECMX_ESTATE;
		goto done;
	}
	if ((rc = queue__sha256_hex(buf, n, got)) < 0)
		goto done;
	if (strcmp(got, stored) != 0 || (int64_t)n != size) {
		snprintf(why, sizeof(why),
		         "sha256 mismatch: stored %.16s..., read %.16s... (%zu bytes)", stored, got,
		         n);
		rc = quarantine(q, id, why);
		rc = rc < 0 ? rc : SECMX_ECORRUPT;
		goto done;
	}
	*data = buf;
	*len = n;
	buf = NULL;
	rc = 0;
done:
	queue__unlock(q);
	free(buf);
	return rc;
}

/* queue_claim: lease the next due message in STATE. */
int queue_claim(struct queue *q, const char *state, int64_t lease_ms, struct queue_lease *lease,
                struct queue_msg_info *info)
{
	struct qstmt *s;
	struct queue_lease l;
	int64_t now, id = 0;
	int rc;

	memset(lease, 0, sizeof(*lease));
	if (!queue__name_ok(state) || queue__reserved(state) ||
	    strcmp(state, QUEUE_STATE_DONE) == 0)
		return SECMX_EINVAL;
	if (lease_ms <= 0)
		lease_ms = q->cfg.lease_ms;
	memset(&l, 0, sizeof(l));
	if ((rc = queue__token(l.token)) < 0)
		return rc;
	queue__lock(q);
	now = queue__now(q);
	l.until = now + lease_ms;
	/* One single-row UPDATE that returns the message's metadata (no read
	 * after it), rolled back only when it claimed nothing. */
	if ((rc = queue__begin_one(q)) < 0)
		goto done;
	if ((rc = queue__prep(q, QS_CLAIM, q->ops->sql_claim, &s)) < 0)
		goto fail;
	q->ops->bind_text(s, 1, l.token);
	q->ops->bind_int(s, 2, l.until);
	q->ops->bind_text(s, 3, state);
	q->ops->bind_int(s, 4, now);
	rc = q->ops->step(s);
	if (rc == 1) {
		id = q->ops->col_int(s, 0);
		if (info != NULL)
			read_info(q, s, info);
	}
	q->ops->reset(s);
	if (rc < 0)
		goto fail;
	if (id == 0) {
		queue__rollback(q);
		rc = 0;
		goto done;
	}
	if ((rc = queue__commit(q)) < 0)
		goto done;
	l.msg_id = id;
	*lease = l;
	rc = 1;
	goto done;
fail:
	queue__rollback(q);
done:
	queue__unlock(q);
	return rc;
}

/* step_record: a step's result and the next state, in one commit; KEEP:
 * the lease goes on (renewed, *LEASE's until updated). */
static int step_record(struct queue *q, struct queue_lease *lease, const char *step,
                       const char *result, const char *detail_json, const char *next_state,
                       int keep, const struct queue_deliveries *dl)
{
	struct qstmt *s;
	char key[128];
	int64_t now;
	size_t i;
	int rc, found;

	if (lease == NULL || !queue__name_ok(step) || result == NULL ||
	    !queue__name_ok(next_state) || queue__reserved(next_state))
		return SECMX_EINVAL;
	if (detail_json != NULL) {
		/* Only well-formed JSON is stored, so every view can embed it. */
		json_t *j = json_loads(detail_json, JSON_DECODE_ANY, NULL);

		if (j == NULL)
			return SECMX_EINVAL;
		json_decref(j);
	}
	for (i = 0; dl != NULL && i < dl->n; i++)
		if ((rc = queue__delivery_key(dl->msg_id, dl->adapters[i], dl->idem_key, key)) < 0)
			return rc;
	queue__lock(q);
	now = queue__now(q);
	if ((rc = queue__begin(q)) < 0)
		goto done;
	/* The common case in two statements: the state change under the lease,
	 * then the step row, which must be new. The rare ones are told apart
	 * afterwards: a lease that no longer holds is "already recorded" (1)
	 * when the step row exists, else SECMX_ESTATE; a step row that exists
	 * under a valid lease (a repeat) undoes the state change: 1, nothing
	 * changed, whoever calls. */
	if (keep)
		rc = queue__prep(q, QS_MSG_ADVANCE_KEEP,
		                 "UPDATE msg SET state = $3, updated_at = $4, attempts = 0,"
		                 " last_error = NULL, lease_until = $5, next_attempt_at = $4"
		                 " WHERE id = $1 AND lease_token = $2",
		                 &s);
	else
		rc = queue__prep(q, QS_MSG_ADVANCE,
		                 "UPDATE msg SET state = $3, updated_at = $4, attempts = 0,"
		                 " last_error = NULL, lease_token = NULL, lease_until = NULL,"
		                 " next_attempt_at = $4 WHERE id = $1 AND lease_token = $2",
		                 &s);
	if (rc < 0)
		goto fail;
	q->ops->bind_int(s, 1, lease->msg_id);
	q->ops->bind_text(s, 2, lease->token);
	q->ops->bind_text(s, 3, next_state);
	q->ops->bind_int(s, 4, now);
	if (keep)
		q->ops->bind_int(s, 5, now + q->cfg.lease_ms);
	if ((rc = queue__run(q, s)) < 0)
		goto fail;
	if (q->ops->changes(q->st) != 1) {
		if ((rc = queue__prep(q, QS_STEP_GET,
		                      "SELECT result FROM step WHERE msg_id = $1 AND step = $2",
		                      &s)) < 0)
			goto fail;
		q->ops->bind_int(s, 1, lease->msg_id);
		q->ops->bind_text(s, 2, step);
		found = q->ops->step(s);
		q->ops->reset(s);
		rc = found < 0 ? found : found == 1 ? 1 : SECMX_ESTATE;
		queue__rollback(q);
		goto done;
	}
	if ((rc = queue__prep(q, QS_STEP_ADD,
	                      "INSERT INTO step (msg_id, step, result, detail, next_state, at)"
	                      " VALUES ($1, $2, $3, $4, $5, $6)"
	                      " ON CONFLICT (msg_id, step) DO NOTHING",
	                      &s)) < 0)
		goto fail;
	q->ops->bind_int(s, 1, lease->msg_id);
	q->ops->bind_text(s, 2, step);
	q->ops->bind_text(s, 3, result);
	q->ops->bind_text(s, 4, detail_json);
	q->ops->bind_text(s, 5, next_state);
	q->ops->bind_int(s, 6, now);
	if ((rc = queue__run(q, s)) < 0)
		goto fail;
	if (q->ops->changes(q->st) != 1) {
		/* Already recorded (a repeat after a crash or a lost reply). */
		queue__rollback(q);
		rc = 1;
		goto done;
	}
	for (i = 0; dl != NULL && i < dl->n; i++) {
		int64_t did = 0;

		queue__delivery_key(dl->msg_id, dl->adapters[i], dl->idem_key, key);
		if ((rc = queue__delivery_add(q, dl->msg_id, dl->adapters[i], key, now, &did)) < 0)
			goto fail;
		if (dl->existed != NULL)
			dl->existed[i] = rc;
	}
	if ((rc = queue__commit(q)) == 0 && keep)
		lease->until = now + q->cfg.lease_ms;
	goto done;
fail:
	queue__rollback(q);
done:
	queue__unlock(q);
	return rc;
}

/* queue_step_record: a step's result and the next state; the lease ends. */
int queue_step_record(struct queue *q, const struct queue_lease *lease, const char *step,
                      const char *result, const char *detail_json, const char *next_state)
{
	struct queue_lease l = *lease;

	return step_record(q, &l, step, result, detail_json, next_state, 0, NULL);
}

/* queue_step_advance: the same, and the holder goes on under its lease. */
int queue_step_advance(struct queue *q, struct queue_lease *lease, const char *step,
                       const char *result, const char *detail_json, const char *next_state)
{
	return step_record(q, lease, step, result, detail_json, next_state, 1, NULL);
}

/* queue_step_deliver: queue_step_record and its deliveries, one commit. */
int queue_step_deliver(struct queue *q, const struct queue_lease *lease, const char *step,
                       const char *result, const char *detail_json, const char *next_state,
                       const struct queue_deliveries *dl)
{
	struct queue_lease l = *lease;

	if (dl == NULL)
		return SECMX_EINVAL;
	return step_record(q, &l, step, result, detail_json, next_state, 0, dl);
}

/* queue_msg_defer: back off, or dead-letter. */
int queue_msg_defer(struct queue *q, const struct queue_lease *lease, const char *reason,
                    int permanent)
{
	struct qstmt *s;
	char why[300];
	int64_t now, created = 0;
	unsigned attempts = 0;
	int rc, dead;

	if (lease == NULL || reason == NULL)
		return SECMX_EINVAL;
	queue__lock(q);
	now = queue__now(q);
	if ((rc = queue__begin(q)) < 0)
		goto done;
	if ((rc = queue__prep(
	         q, QS_MSG_LEASED,
	         "SELECT attempts, created_at FROM msg WHERE id = $1 AND lease_token = $2", &s)) <
	    0)
		goto fail;
	q->ops->bind_int(s, 1, lease->msg_id);
	q->ops->bind_text(s, 2, lease->token);
	rc = q->ops->step(s);
	if (rc == 1) {
		attempts = (unsigned)q->ops->col_int(s, 0) + 1;
		created = q->ops->col_int(s, 1);
	}
	q->ops->reset(s);
	if (rc < 0)
		goto fail;
	if (rc == 0) {
		rc = SECMX_ESTATE;
		goto fail;
	}
	if (permanent) {
		dead = 1;
		snprintf(why, sizeof(why), "permanent failure: %s", reason);
	} else {
		char limit[120];

		dead = queue__sched_expired(q->cfg.max_attempts, q->cfg.max_age_ms, attempts,
		                            created, now, limit, sizeof(limit));
		if (dead)
			snprintf(why, sizeof(why), "%s; last error: %s", limit, reason);
		else
			secmx_strlcpy(why, reason, sizeof(why));
	}
	if (dead)
		rc = queue__prep(
		    q, QS_MSG_DEAD,
		    "UPDATE msg SET resume_state = state, state = 'dead', attempts = $2,"
		    " last_error = $3, updated_at = $4, lease_token = NULL,"
		    " lease_until = NULL WHERE id = $1",
		    &s);
	else
		rc = queue__prep(q, QS_MSG_DEFER,
		                 "UPDATE msg SET attempts = $2, last_error = $3, updated_at = $4,"
		                 " next_attempt_at = $5, lease_token = NULL, lease_until = NULL"
		                 " WHERE id = $1",
		                 &s);
	if (rc < 0)
		goto fail;
	q->ops->bind_int(s, 1, lease->msg_id);
	q->ops->bind_int(s, 2, attempts);
	q->ops->bind_text(s, 3, why);
	q->ops->bind_int(s, 4, now);
	if (!dead)
		q->ops->bind_int(s, 5,
		                 now + queue__sched_backoff(q->cfg.backoff_base_ms,
		                                            q->cfg.backoff_max_ms, attempts,
		                                            queue__random()));
	if ((rc = queue__run(q, s)) < 0)
		goto fail;
	if (dead && (rc = queue__audit(q, lease->msg_id, "dead", "queue", why)) < 0)
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

/* queue_lease_release: give a lease back. */
int queue_lease_release(struct queue *q, const struct queue_lease *lease)
{
	struct qstmt *s;
	int rc;

	queue__lock(q);
	if ((rc = queue__begin(q)) < 0)
		goto done;
	if ((rc = queue__prep(q, QS_LEASE_RELEASE,
	                      "UPDATE msg SET lease_token = NULL, lease_until = NULL"
	                      " WHERE id = $1 AND lease_token = $2",
	                      &s)) < 0)
		goto fail;
	q->ops->bind_int(s, 1, lease->msg_id);
	q->ops->bind_text(s, 2, lease->token);
	if ((rc = queue__run(q, s)) < 0)
		goto fail;
	if (q->ops->changes(q->st) != 1) {
		rc = SECMX_ESTATE;
		goto fail;
	}
	rc = queue__commit(q);
	goto done;
fail:
	queue__rollback(q);
done:
	queue__unlock(q);
	return rc;
}

/* queue_lease_renew: extend a lease that is still ours. */
int queue_lease_renew(struct queue *q, struct queue_lease *lease, int64_t lease_ms)
{
	struct qstmt *s;
	int64_t until;
	int rc;

	if (lease == NULL)
		return SECMX_EINVAL;
	if (lease_ms <= 0)
		lease_ms = q->cfg.lease_ms;
	queue__lock(q);
	until = queue__now(q) + lease_ms;
	if ((rc = queue__begin(q)) < 0)
		goto done;
	if ((rc = queue__prep(q, QS_LEASE_RENEW,
	                      "UPDATE msg SET lease_until = $3 WHERE id = $1 AND lease_token = $2",
	                      &s)) < 0)
		goto fail;
	q->ops->bind_int(s, 1, lease->msg_id);
	q->ops->bind_text(s, 2, lease->token);
	q->ops->bind_int(s, 3, until);
	if ((rc = queue__run(q, s)) < 0)
		goto fail;
	if (q->ops->changes(q->st) != 1) {
		rc = SECMX_ESTATE;
		goto fail;
	}
	if ((rc = queue__commit(q)) == 0)
		lease->until = until;
	goto done;
fail:
	queue__rollback(q);
done:
	queue__unlock(q);
	return rc;
}

/* msg_state: the state and resume state of ID (inside a transaction). */
static int msg_state(struct queue *q, int64_t id, char *state, char *resume)
{
	struct qstmt *s;
	int rc;

	if ((rc = queue__prep(q, QS_MSG_STATE, "SELECT state, resume_state FROM msg WHERE id = $1",
	                      &s)) < 0)
		return rc;
	q->ops->bind_int(s, 1, id);
	rc = q->ops->step(s);
	if (rc == 1) {
		queue__copy(q, s, 0, state, QUEUE_NAME_MAX);
		queue__copy(q, s, 1, resume, QUEUE_NAME_MAX);
	}
	q->ops->reset(s);
	if (rc < 0)
		return rc;
	return rc == 1 ? 0 : SECMX_ENOTFOUND;
}

/* set_held: hold (1) or release (0), audited. */
static int set_held(struct queue *q, int64_t id, int held, const char *who)
{
	struct qstmt *s;
	int rc;

	queue__lock(q);
	if ((rc = queue__begin(q)) < 0)
		goto done;
	if ((rc = queue__prep(q, QS_MSG_HOLD,
	                      "UPDATE msg SET held = $2, updated_at = $3 WHERE id = $1", &s)) < 0)
		goto fail;
	q->ops->bind_int(s, 1, id);
	q->ops->bind_int(s, 2, held);
	q->ops->bind_int(s, 3, queue__now(q));
	if ((rc = queue__run(q, s)) < 0)
		goto fail;
	if (q->ops->changes(q->st) != 1) {
		rc = SECMX_ENOTFOUND;
		goto fail;
	}
	if ((rc = queue__audit(q, id, held ? "hold" : "release", who, NULL)) < 0)
		goto fail;
	rc = queue__commit(q);
	goto done;
fail:
	queue__rollback(q);
done:
	queue__unlock(q);
	return rc;
}

/* queue_msg_hold: never claimed until released. */
int queue_msg_hold(struct queue *q, int64_t id, const char *who)
{
	return set_held(q, id, 1, who);
}

/* queue_msg_release: claimable again. */
int queue_msg_release(struct queue *q, int64_t id, const char *who)
{
	return set_held(q, id, 0, who);
}

/* queue_msg_retry: due now; a dead message (or dead deliveries) come back.
 * A done message has only its dead deliveries to bring back: without any,
 * retrying it would change nothing, so it is refused (SECMX_ESTATE), not
 * audited as if something had been done. */
int queue_msg_retry(struct queue *q, int64_t id, const char *who)
{
	struct qstmt *s;
	char state[QUEUE_NAME_MAX], resume[QUEUE_NAME_MAX];
	int64_t now;
	int rc;

	queue__lock(q);
	now = queue__now(q);
	if ((rc = queue__begin(q)) < 0)
		goto done;
	if ((rc = msg_state(q, id, state, resume)) < 0)
		goto fail;
	if (strcmp(state, QUEUE_STATE_QUARANTINED) == 0 ||
	    strcmp(state, QUEUE_STATE_DROPPED) == 0 ||
	    (strcmp(state, QUEUE_STATE_DEAD) == 0 && *resume == '\0')) {
		rc = SECMX_ESTATE;
		goto fail;
	}
	if (strcmp(state, QUEUE_STATE_DEAD) == 0)
		rc = queue__prep(
		    q, QS_MSG_RETRY_DEAD,
		    "UPDATE msg SET state = resume_state, resume_state = NULL,"
		    " attempts = 0, next_attempt_at = $2, updated_at = $2 WHERE id = $1",
		    &s);
	else
		rc = queue__prep(
		    q, QS_MSG_RETRY,
		    "UPDATE msg SET next_attempt_at = $2, updated_at = $2 WHERE id = $1", &s);
	if (rc < 0)
		goto fail;
	q->ops->bind_int(s, 1, id);
	q->ops->bind_int(s, 2, now);
	if ((rc = queue__run(q, s)) < 0)
		goto fail;
	if ((rc = queue__prep(q, QS_DLV_RETRY_DEAD,
	                      "UPDATE delivery SET state = 'pending', attempts = 0,"
	                      " next_attempt_at = $2, created_at = $2"
	                      " WHERE msg_id = $1 AND state = 'dead'",
	                      &s)) < 0)
		goto fail;
	q->ops->bind_int(s, 1, id);
	q->ops->bind_int(s, 2, now);
	if ((rc = queue__run(q, s)) < 0)
		goto fail;
	if (strcmp(state, QUEUE_STATE_DONE) == 0 && q->ops->changes(q->st) == 0) {
		rc = SECMX_ESTATE;
		goto fail;
	}
	if ((rc = queue__audit(q, id, "retry", who, NULL)) < 0)
		goto fail;
	rc = queue__commit(q);
	goto done;
fail:
	queue__rollback(q);
done:
	queue__unlock(q);
	return rc;
}

/* del: run one delete-by-message statement. */
static int del(struct queue *q, unsigned slot, const char *sql, int64_t id)
{
	struct qstmt *s;
	int rc;

	if ((rc = queue__prep(q, slot, sql, &s)) < 0)
		return rc;
	q->ops->bind_int(s, 1, id);
	return queue__run(q, s);
}

/* queue_msg_remove: delete a message and what hangs off it, audited. */
int queue_msg_remove(struct queue *q, int64_t id, const char *who, const char *reason)
{
	char state[QUEUE_NAME_MAX], resume[QUEUE_NAME_MAX], why[400];
	int rc;

	if (reason == NULL || *reason == '\0')
		return SECMX_EINVAL;
	queue__lock(q);
	if ((rc = queue__begin(q)) < 0)
		goto done;
	if ((rc = msg_state(q, id, state, resume)) < 0)
		goto fail;
	if ((rc = del(q, QS_DEL_STEPS, "DELETE FROM step WHERE msg_id = $1", id)) < 0 ||
	    (rc = del(q, QS_DEL_DLV, "DELETE FROM delivery WHERE msg_id = $1", id)) < 0 ||
	    (rc = del(q, QS_DEL_BODY, "DELETE FROM msg_body WHERE msg_id = $1", id)) < 0 ||
	    (rc = del(q, QS_DEL_MSG, "DELETE FROM msg WHERE id = $1", id)) < 0)
		goto fail;
	snprintf(why, sizeof(why), "%s (was %s)", reason, state);
	if ((rc = queue__audit(q, id, "remove", who, why)) < 0)
		goto fail;
	rc = queue__commit(q);
	goto done;
fail:
	queue__rollback(q);
done:
	queue__unlock(q);
	return rc;
}
