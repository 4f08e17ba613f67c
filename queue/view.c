/*
 * view.c — read-only JSON views of the store for `secmx queue` and status
 * pages: the message list, one message in full (steps, deliveries, audit),
 * one transaction (history, findings, deliveries).
 *
 * Functions: queue_list_json, queue_show_json, queue_txn_json (queue.h).
 *
 * Ownership: each returns a new jansson value in *OUT that the caller
 * releases with json_decref(); *OUT is NULL on failure.
 * Errors: SECMX_ENOTFOUND, SECMX_ENOMEM, SECMX_EIO.
 * Limits: message bytes are never included, only their size and digest.
 */
#include <string.h>

#include "queue_int.h"

#define LIST_COLUMNS                                                                               \
	"id, created_at, updated_at, size, sha256, state, held, attempts,"                         \
	" next_attempt_at, dup_of, source, sender, doc_type, doc_id, txn_key,"                     \
	" last_error, lease_until, resume_state"

static const char *const LIST_NAMES[] = {
    "id",       "created_at", "updated_at",      "size",       "sha256",      "state",
    "held",     "attempts",   "next_attempt_at", "dup_of",     "source",      "sender",
    "doc_type", "doc_id",     "txn_key",         "last_error", "lease_until", "resume_state"};
/* Which of LIST_NAMES are integers. */
static const int LIST_INT[] = {1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 0};

/* row_object: the current row of S as an object, NULL columns left out.
 * NAMES[i] names column i; IS_INT[i] says whether it is an integer. */
static json_t *row_object(struct queue *q, struct qstmt *s, const char *const *names,
                          const int *is_int, size_t n)
{
	json_t *o = json_object();
	size_t i;

	if (o == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		const char *t = q->ops->col_text(s, (int)i);
		json_t *v;

		if (t == NULL)
			continue;
		if (is_int[i])
			v = json_integer(q->ops->col_int(s, (int)i));
		else
			v = json_string(t);
		if (v == NULL || json_object_set_new(o, names[i], v) < 0) {
			json_decref(o);
			return NULL;
		}
	}
	if (json_is_integer(json_object_get(o, "held")))
		json_object_set_new(o, "held",
		                    json_boolean(json_integer_value(json_object_get(o, "held"))));
	return o;
}

/* queue__rows: all rows of S (already bound) as objects appended to ARR
 * (queue_int.h). */
int queue__rows(struct queue *q, struct qstmt *s, const char *const *names, const int *is_int,
                size_t n, json_t *arr)
{
	int rc;

	while ((rc = q->ops->step(s)) == 1) {
		json_t *o = row_object(q, s, names, is_int, n);

		if (o == NULL || json_array_append_new(arr, o) < 0) {
			rc = SECMX_ENOMEM;
			break;
		}
	}
	q->ops->reset(s);
	return rc;
}

/* queue_list_json: messages, oldest first. "dead" also lists the messages
 * with a dead delivery (their own state stays, e.g. "bundle"): a delivery
 * that died of NACKs is dead-lettered too, and the operator finds it here
 * and brings it back with queue_msg_retry. */
int queue_list_json(struct queue *q, const char *state, size_t limit, json_t **out)
{
	struct qstmt *s;
	json_t *arr = json_array();
	int rc, dead = state != NULL && strcmp(state, QUEUE_STATE_DEAD) == 0;

	*out = NULL;
	if (arr == NULL)
		return SECMX_ENOMEM;
	queue__lock(q);
	if (dead)
		rc = queue__prep(q, QS_LIST_DEAD,
		                 "SELECT " LIST_COLUMNS " FROM msg WHERE state = 'dead' OR id IN"
		                 " (SELECT msg_id FROM delivery WHERE state = 'dead')"
		                 " ORDER BY id LIMIT $2",
		                 &s);
	else if (state != NULL)
		rc = queue__prep(q, QS_LIST_STATE,
		                 "SELECT " LIST_COLUMNS " FROM msg WHERE state = $1 ORDER BY id"
		                 " LIMIT $2",
		                 &s);
	else
		rc = queue__prep(q, QS_LIST,
		                 "SELECT " LIST_COLUMNS " FROM msg ORDER BY id LIMIT $2", &s);
	if (rc < 0)
		goto done;
	if (state != NULL && !dead)
		q->ops->bind_text(s, 1, state);
	q->ops->bind_int(s, 2, limit ? (int64_t)limit : INT64_MAX);
	rc = queue__rows(q, s, LIST_NAMES, LIST_INT, sizeof(LIST_INT) / sizeof(LIST_INT[0]), arr);
done:
	queue__unlock(q);
	if (rc < 0) {
		json_decref(arr);
		return rc;
	}
	*out = arr;
	return 0;
}

/* child_rows: rows of SQL (one parameter $1 = ID) into a new array set as
 * KEY of OBJ. */
static int child_rows(struct queue *q, json_t *obj, const char *key, unsigned slot, const char *sql,
                      int64_t id, const char *id_text, const char *const *names, const int *is_int,
                      size_t n)
{
	struct qstmt *s;
	json_t *arr = json_array();
	int rc;

	if (arr == NULL)
		return SECMX_ENOMEM;
	if ((rc = queue__prep(q, slot, sql, &s)) < 0) {
		json_decref(arr);
		return rc;
	}
	if (id_text != NULL)
		q->ops->bind_text(s, 1, id_text);
	else
		q->ops->bind_int(s, 1, id);
	if ((rc = queue__rows(q, s, names, is_int, n, arr)) < 0) {
		json_decref(arr);
		return rc;
	}
	return json_object_set_new(obj, key, arr) < 0 ? SECMX_ENOMEM : 0;
}

static const char *const STEP_NAMES[] = {"step", "result", "detail", "next_state", "at"};
static const int STEP_INT[] = {0, 0, 0, 0, 1};
static const char *const DLV_NAMES[] = {
    "id",       "msg_id",          "adapter", "idem_key",     "txn_key",  "seq",       "state",
    "attempts", "next_attempt_at", "sent_at", "ack_deadline", "acked_at", "last_error"};
static const int DLV_INT[] = {1, 1, 0, 0, 0, 1, 0, 1, 1, 1, 1, 1, 0};
#define DLV_COLUMNS                                                                                \
	"id, msg_id, adapter, idem_key, txn_key, seq, state, attempts, next_attempt_at,"           \
	" sent_at, ack_deadline, acked_at, last_error"
static const char *const AUDIT_NAMES[] = {"at", "action", "who", "reason"};
static const int AUDIT_INT[] = {1, 0, 0, 0};

/* queue_show_json: one message in full. */
int queue_show_json(struct queue *q, int64_t id, json_t **out)
{
	json_t *holder = json_object(), *msg;
	int rc;

	*out = NULL;
	if (holder == NULL)
		return SECMX_ENOMEM;
	queue__lock(q);
	/* One read transaction, so that the parts agree with each other. */
	if ((rc = queue__read_begin(q)) < 0)
		goto done;
	rc = child_rows(q, holder, "msg", QS_SHOW_MSG,
	                "SELECT " LIST_COLUMNS " FROM msg WHERE id = $1", id, NULL, LIST_NAMES,
	                LIST_INT, sizeof(LIST_INT) / sizeof(LIST_INT[0]));
	if (rc < 0)
		goto end;
	msg = json_array_get(json_object_get(holder, "msg"), 0);
	if (msg == NULL) {
		rc = SECMX_ENOTFOUND;
		goto end;
	}
	if ((rc = child_rows(q, msg, "steps", QS_SHOW_STEPS,
	                     "SELECT step, result, detail, next_state, at FROM step"
	                     " WHERE msg_id = $1 ORDER BY at, step",
	                     id, NULL, STEP_NAMES, STEP_INT, 5)) < 0 ||
	    (rc = child_rows(q, msg, "deliveries", QS_SHOW_DLV,
	                     "SELECT " DLV_COLUMNS " FROM delivery WHERE msg_id = $1 ORDER BY id",
	                     id, NULL, DLV_NAMES, DLV_INT, 13)) < 0 ||
	    (rc = child_rows(
	         q, msg, "audit", QS_SHOW_AUDIT,
	         "SELECT at, action, who, reason FROM audit WHERE msg_id = $1 ORDER BY id", id,
	         NULL, AUDIT_NAMES, AUDIT_INT, 4)) < 0)
		goto end;
	*out = json_incref(msg);
	rc = 0;
end:
	queue__read_end(q);
done:
	queue__unlock(q);
	json_decref(holder);
	return rc;
}

static const char *const TXN_NAMES[] = {"id", "key", "state", "created_at", "updated_at"};
static const int TXN_INT[] = {1, 0, 0, 1, 1};
static const char *const HIST_NAMES[] = {"at", "from_state", "to_state", "msg_id", "note"};
static const int HIST_INT[] = {1, 0, 0, 1, 0};
static const char *const FIND_NAMES[] = {"at", "msg_id", "rule", "severity", "text"};
static const int FIND_INT[] = {1, 1, 0, 0, 0};

/* queue_txn_json: a transaction with history, findings and deliveries. */
int queue_txn_json(struct queue *q, const char *key, json_t **out)
{
	json_t *holder = json_object(), *txn;
	int64_t id;
	int rc;

	*out = NULL;
	if (holder == NULL)
		return SECMX_ENOMEM;
	if (key == NULL) {
		json_decref(holder);
		return SECMX_EINVAL;
	}
	queue__lock(q);
	if ((rc = queue__read_begin(q)) < 0)
		goto done;
	rc = child_rows(q, holder, "txn", QS_TXN_SHOW,
	                "SELECT id, key, state, created_at, updated_at FROM txn WHERE key = $1", 0,
	                key, TXN_NAMES, TXN_INT, 5);
	if (rc < 0)
		goto end;
	txn = json_array_get(json_object_get(holder, "txn"), 0);
	if (txn == NULL) {
		rc = SECMX_ENOTFOUND;
		goto end;
	}
	id = json_integer_value(json_object_get(txn, "id"));
	if ((rc = child_rows(q, txn, "history", QS_TXN_HIST,
	                     "SELECT at, from_state, to_state, msg_id, note FROM txn_history"
	                     " WHERE txn_id = $1 ORDER BY id",
	                     id, NULL, HIST_NAMES, HIST_INT, 5)) < 0 ||
	    (rc = child_rows(q, txn, "findings", QS_TXN_FINDINGS,
	                     "SELECT at, msg_id, rule, severity, text FROM txn_finding"
	                     " WHERE txn_id = $1 ORDER BY id",
	                     id, NULL, FIND_NAMES, FIND_INT, 5)) < 0 ||
	    (rc = child_rows(q, txn, "deliveries", QS_TXN_DLV,
	                     "SELECT " DLV_COLUMNS " FROM delivery WHERE txn_key = $1"
	                     " ORDER BY adapter, seq",
	                     0, key, DLV_NAMES, DLV_INT, 13)) < 0)
		goto end;
	*out = json_incref(txn);
	rc = 0;
end:
	queue__read_end(q);
done:
	queue__unlock(q);
	json_decref(holder);
	return rc;
}
