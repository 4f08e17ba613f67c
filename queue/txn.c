/*
 * txn.c — business transactions as the queue stores them: a key, a state
 * with a history of every change, and findings. The correlation logic
 * (which document belongs to which transaction, the three-way match) lives
 * in engine/; this file only stores and reads what it decides.
 *
 * Functions: queue_txn_state_name, queue_txn_state_parse, queue_txn_open,
 * queue_txn_find, queue_txn_set_state, queue_txn_finding_add (queue.h).
 *
 * Errors: SECMX_EINVAL, SECMX_ENOTFOUND, SECMX_EIO.
 */
#include <string.h>

#include "queue_int.h"

static const char *const TXN_STATES[] = {"ordered", "invoiced",  "matched", "disputed",
                                         "paid",    "receipted", "closed"};
#define N_TXN_STATES (sizeof(TXN_STATES) / sizeof(TXN_STATES[0]))

/* queue_txn_state_name: the state's text. */
const char *queue_txn_state_name(enum queue_txn_state st)
{
	return (unsigned)st < N_TXN_STATES ? TXN_STATES[st] : "unknown";
}

/* queue_txn_state_parse: the state for a text. */
int queue_txn_state_parse(const char *name, enum queue_txn_state *st)
{
	unsigned i;

	for (i = 0; name != NULL && i < N_TXN_STATES; i++)
		if (strcmp(name, TXN_STATES[i]) == 0) {
			*st = (enum queue_txn_state)i;
			return 0;
		}
	return SECMX_EINVAL;
}

/* find_locked: id and state of KEY; caller holds the lock. */
static int find_locked(struct queue *q, const char *key, int64_t *id, enum queue_txn_state *st)
{
	struct qstmt *s;
	char name[QUEUE_NAME_MAX] = "";
	int64_t tid = 0;
	int rc;

	if ((rc = queue__prep(q, QS_TXN_FIND, "SELECT id, state FROM txn WHERE key = $1", &s)) < 0)
		return rc;
	q->ops->bind_text(s, 1, key);
	if ((rc = q->ops->step(s)) == 1) {
		tid = q->ops->col_int(s, 0);
		queue__copy(q, s, 1, name, sizeof(name));
	}
	q->ops->reset(s);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return SECMX_ENOTFOUND;
	if (id != NULL)
		*id = tid;
	if (st != NULL && queue_txn_state_parse(name, st) < 0)
		return SECMX_EIO;
	return 0;
}

/* history: append a history entry (inside a transaction). */
static int history(struct queue *q, int64_t txn_id, const char *from, const char *to,
                   int64_t msg_id, const char *note, int64_t now)
{
	struct qstmt *s;
	int rc;

	if ((rc = queue__prep(
	         q, QS_TXN_HIST_ADD,
	         "INSERT INTO txn_history (txn_id, at, from_state, to_state, msg_id, note)"
	         " VALUES ($1, $2, $3, $4, $5, $6)",
	         &s)) < 0)
		return rc;
	q->ops->bind_int(s, 1, txn_id);
	q->ops->bind_int(s, 2, now);
	q->ops->bind_text(s, 3, from);
	q->ops->bind_text(s, 4, to);
	if (msg_id)
		q->ops->bind_int(s, 5, msg_id);
	else
		q->ops->bind_text(s, 5, NULL);
	q->ops->bind_text(s, 6, note);
	return queue__run(q, s);
}

/* queue_txn_open: find or create. */
int queue_txn_open(struct queue *q, const char *key, enum queue_txn_state st, int64_t msg_id,
                   int64_t *id)
{
	struct qstmt *s;
	int64_t tid = 0, now;
	int rc;

	if (key == NULL || *key == '\0' || (unsigned)st >= N_TXN_STATES)
		return SECMX_EINVAL;
	queue__lock(q);
	now = queue__now(q);
	if ((rc = queue__begin(q)) < 0)
		goto done;
	rc = find_locked(q, key, &tid, NULL);
	if (rc == 0) {
		queue__rollback(q);
		goto out;
	}
	if (rc != SECMX_ENOTFOUND)
		goto fail;
	if ((rc = queue__prep(q, QS_TXN_ADD,
	                      "INSERT INTO txn (key, state, created_at, updated_at)"
	                      " VALUES ($1, $2, $3, $3) RETURNING id",
	                      &s)) < 0)
		goto fail;
	q->ops->bind_text(s, 1, key);
	q->ops->bind_text(s, 2, TXN_STATES[st]);
	q->ops->bind_int(s, 3, now);
	if ((rc = q->ops->step(s)) == 1)
		tid = q->ops->col_int(s, 0);
	q->ops->reset(s);
	if (rc < 0)
		goto fail;
	if ((rc = history(q, tid, NULL, TXN_STATES[st], msg_id, "created", now)) < 0)
		goto fail;
	if ((rc = queue__commit(q)) < 0)
		goto done;
	rc = 1;
out:
	if (id != NULL)
		*id = tid;
	goto done;
fail:
	queue__rollback(q);
done:
	queue__unlock(q);
	return rc;
}

/* queue_txn_find: id and state by key. */
int queue_txn_find(struct queue *q, const char *key, int64_t *id, enum queue_txn_state *st)
{
	int rc;

	if (key == NULL)
		return SECMX_EINVAL;
	queue__lock(q);
	rc = find_locked(q, key, id, st);
	queue__unlock(q);
	return rc;
}

/* queue_txn_set_state: change state, with history. */
int queue_txn_set_state(struct queue *q, int64_t id, enum queue_txn_state st, int64_t msg_id,
                        const char *note)
{
	struct qstmt *s;
	char from[QUEUE_NAME_MAX] = "";
	int64_t now;
	int rc;

	if ((unsigned)st >= N_TXN_STATES)
		return SECMX_EINVAL;
	queue__lock(q);
	now = queue__now(q);
	if ((rc = queue__begin(q)) < 0)
		goto done;
	if ((rc = queue__prep(q, QS_TXN_STATE, "SELECT state FROM txn WHERE id = $1", &s)) < 0)
		goto fail;
	q->ops->bind_int(s, 1, id);
	if ((rc = q->ops->step(s)) == 1)
		queue__copy(q, s, 0, from, sizeof(from));
	q->ops->reset(s);
	if (rc < 0)
		goto fail;
	if (rc == 0) {
		rc = SECMX_ENOTFOUND;
		goto fail;
	}
	if ((rc = queue__prep(q, QS_TXN_SET,
	                      "UPDATE txn SET state = $2, updated_at = $3 WHERE id = $1", &s)) < 0)
		goto fail;
	q->ops->bind_int(s, 1, id);
	q->ops->bind_text(s, 2, TXN_STATES[st]);
	q->ops->bind_int(s, 3, now);
	if ((rc = queue__run(q, s)) < 0)
		goto fail;
	if ((rc = history(q, id, from, TXN_STATES[st], msg_id, note, now)) < 0)
		goto fail;
	rc = queue__commit(q);
	goto done;
fail:
	queue__rollback(q);
done:
	queue__unlock(q);
	return rc;
}

/* queue_txn_finding_add: a finding on a transaction. */
int queue_txn_finding_add(struct queue *q, int64_t id, int64_t msg_id, const char *rule,
                          const char *severity, const char *text)
{
	struct qstmt *s;
	int rc;

	if (rule == NULL || severity == NULL || text == NULL)
		return SECMX_EINVAL;
	queue__lock(q);
	if ((rc = queue__begin(q)) < 0)
		goto done;
	if ((rc = queue__prep(q, QS_TXN_FINDING_ADD,
	                      "INSERT INTO txn_finding (txn_id, at, msg_id, rule, severity, text)"
	                      " VALUES ($1, $2, $3, $4, $5, $6)",
	                      &s)) < 0)
		goto fail;
	q->ops->bind_int(s, 1, id);
	q->ops->bind_int(s, 2, queue__now(q));
	if (msg_id)
		q->ops->bind_int(s, 3, msg_id);
	else
		q->ops->bind_text(s, 3, NULL);
	q->ops->bind_text(s, 4, rule);
	q->ops->bind_text(s, 5, severity);
	q->ops->bind_text(s, 6, text);
	if ((rc = queue__run(q, s)) < 0) /* a missing txn fails the foreign key */
		goto fail;
	rc = queue__commit(q);
	goto done;
fail:
	queue__rollback(q);
done:
	queue__unlock(q);
	return rc;
}
