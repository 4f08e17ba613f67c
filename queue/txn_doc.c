/*
 * txn_doc.c — the documents of each transaction and the reference index
 * that correlation looks documents up by (schema version 2). What belongs
 * where is decided in engine/txn.c; this file stores and reads it.
 *
 * Functions (queue.h): queue_txn_record (everything one document does to
 * one transaction, in one commit), queue_txn_doc_add, queue_txn_ref_add,
 * queue_txn_ref_find, queue_txn_doc_has, queue_txn_docs_json,
 * queue_txn_list_json, queue_txn_key.
 *
 * Tables: txn_doc (one row per document per transaction, with the JSON
 * summary the three-way match reads) and txn_ref ((document type, party,
 * document id) -> transaction, for each document's own id and for every id
 * it refers to). The SQL is portable ($n parameters, ON CONFLICT DO
 * NOTHING); a party "" means "not known" and matches any party.
 *
 * Errors: SECMX_EINVAL, SECMX_ENOTFOUND, SECMX_ENOMEM, SECMX_EIO, and
 * SECMX_ESTATE when queue_txn_record finds the transaction changed since
 * the caller read it (optimistic concurrency: read again, retry).
 * Ownership: JSON returned in *OUT belongs to the caller (json_decref()).
 */
#include <string.h>

#include "queue_int.h"

/* txt: a text argument or "" for NULL. */
static const char *txt(const char *s)
{
	return s != NULL ? s : "";
}

/* doc_add_locked: insert the txn_doc row (inside a transaction); 0 added,
 * 1 already there. */
static int doc_add_locked(struct queue *q, int64_t txn_id, int64_t msg_id, const char *doc_type,
                          const char *party, const char *doc_id, const char *summary_json)
{
	struct qstmt *s;
	int rc;

	if ((rc = queue__prep(q, QS_TXN_DOC_ADD,
	                      "INSERT INTO txn_doc (txn_id, msg_id, doc_type, party, doc_id, at,"
	                      " summary) VALUES ($1, $2, $3, $4, $5, $6, $7)"
	                      " ON CONFLICT (txn_id, msg_id) DO NOTHING",
	                      &s)) < 0)
		return rc;
	q->ops->bind_int(s, 1, txn_id);
	q->ops->bind_int(s, 2, msg_id);
	q->ops->bind_text(s, 3, doc_type);
	q->ops->bind_text(s, 4, txt(party));
	q->ops->bind_text(s, 5, txt(doc_id));
	q->ops->bind_int(s, 6, queue__now(q));
	q->ops->bind_text(s, 7, summary_json);
	if ((rc = queue__run(q, s)) < 0) /* a missing txn fails the foreign key */
		return rc;
	return q->ops->changes(q->st) == 0 ? 1 : 0;
}

/* queue_txn_doc_add: record a document in a transaction. */
int queue_txn_doc_add(struct queue *q, int64_t txn_id, int64_t msg_id, const char *doc_type,
                      const char *party, const char *doc_id, const char *summary_json)
{
	int rc;

	if (doc_type == NULL || *doc_type == '\0' || msg_id <= 0)
		return SECMX_EINVAL;
	queue__lock(q);
	if ((rc = queue__begin(q)) < 0)
		goto done;
	if ((rc = doc_add_locked(q, txn_id, msg_id, doc_type, party, doc_id, summary_json)) < 0)
		goto fail;
	if (queue__commit(q) < 0)
		rc = SECMX_EIO;
	goto done;
fail:
	queue__rollback(q);
done:
	queue__unlock(q);
	return rc;
}

/* ref_add_locked: insert one txn_ref row (inside a transaction). */
static int ref_add_locked(struct queue *q, int64_t txn_id, int64_t msg_id, const char *doc_type,
                          const char *party, const char *doc_id, int own)
{
	struct qstmt *s;
	int rc;

	if ((rc = queue__prep(q, QS_TXN_REF_ADD,
	                      "INSERT INTO txn_ref (txn_id, msg_id, doc_type, party, doc_id, own)"
	                      " VALUES ($1, $2, $3, $4, $5, $6)"
	                      " ON CONFLICT (txn_id, msg_id, doc_type, party, doc_id) DO NOTHING",
	                      &s)) < 0)
		return rc;
	q->ops->bind_int(s, 1, txn_id);
	q->ops->bind_int(s, 2, msg_id);
	q->ops->bind_text(s, 3, txt(doc_type));
	q->ops->bind_text(s, 4, txt(party));
	q->ops->bind_text(s, 5, doc_id);
	q->ops->bind_int(s, 6, own ? 1 : 0);
	if ((rc = queue__run(q, s)) < 0)
		return rc;
	return q->ops->changes(q->st) == 0 ? 1 : 0;
}

/* queue_txn_ref_add: index a (type, party, id) under a transaction. */
int queue_txn_ref_add(struct queue *q, int64_t txn_id, int64_t msg_id, const char *doc_type,
                      const char *party, const char *doc_id, int own)
{
	int rc;

	if (doc_type == NULL || doc_id == NULL || *doc_id == '\0')
		return SECMX_EINVAL;
	queue__lock(q);
	if ((rc = queue__begin(q)) < 0)
		goto done;
	if ((rc = ref_add_locked(q, txn_id, msg_id, doc_type, party, doc_id, own)) < 0)
		goto fail;
	if (queue__commit(q) < 0)
		rc = SECMX_EIO;
	goto done;
fail:
	queue__rollback(q);
done:
	queue__unlock(q);
	return rc;
}

/* record_check: inside the transaction, compare the transaction's state,
 * document count and whether MSG is recorded with what the caller saw.
 * 0 go on, 1 already recorded, SECMX_ESTATE changed, SECMX_ENOTFOUND. */
static int record_check(struct queue *q, const struct queue_txn_record *rec, char *from,
                        size_t fromlen)
{
	struct qstmt *s;
	int64_t ndocs = 0, mine = 0;
	int rc;

	if ((rc = queue__prep(q, QS_TXN_REC_CHECK,
	                      "SELECT state,"
	                      " (SELECT COUNT(*) FROM txn_doc d WHERE d.txn_id = t.id),"
	                      " (SELECT COUNT(*) FROM txn_doc d WHERE d.txn_id = t.id"
	                      " AND d.msg_id = $2) FROM txn t WHERE t.id = $1",
	                      &s)) < 0)
		return rc;
	q->ops->bind_int(s, 1, rec->txn_id);
	q->ops->bind_int(s, 2, rec->msg_id);
	if ((rc = q->ops->step(s)) == 1) {
		queue__copy(q, s, 0, from, fromlen);
		ndocs = q->ops->col_int(s, 1);
		mine = q->ops->col_int(s, 2);
	}
	q->ops->reset(s);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return SECMX_ENOTFOUND;
	if (mine > 0)
		return 1;
	if (strcmp(from, queue_txn_state_name(rec->expect_state)) != 0 || ndocs != rec->expect_docs)
		return SECMX_ESTATE;
	return 0;
}

/* record_state: the state change and its history entry. */
static int record_state(struct queue *q, const struct queue_txn_record *rec, const char *from,
                        int64_t now)
{
	struct qstmt *s;
	int rc;

	if ((rc = queue__prep(q, QS_TXN_REC_SET,
	                      "UPDATE txn SET state = $2, updated_at = $3 WHERE id = $1", &s)) < 0)
		return rc;
	q->ops->bind_int(s, 1, rec->txn_id);
	q->ops->bind_text(s, 2, queue_txn_state_name(rec->state));
	q->ops->bind_int(s, 3, now);
	if ((rc = queue__run(q, s)) < 0)
		return rc;
	if ((rc = queue__prep(
	         q, QS_TXN_REC_HIST,
	         "INSERT INTO txn_history (txn_id, at, from_state, to_state, msg_id, note)"
	         " VALUES ($1, $2, $3, $4, $5, $6)",
	         &s)) < 0)
		return rc;
	q->ops->bind_int(s, 1, rec->txn_id);
	q->ops->bind_int(s, 2, now);
	q->ops->bind_text(s, 3, from);
	q->ops->bind_text(s, 4, queue_txn_state_name(rec->state));
	q->ops->bind_int(s, 5, rec->msg_id);
	q->ops->bind_text(s, 6, rec->note);
	return queue__run(q, s);
}

/* record_findings: the findings, in order. */
static int record_findings(struct queue *q, const struct queue_txn_record *rec, int64_t now)
{
	struct qstmt *s;
	size_t i;
	int rc;

	for (i = 0; i < rec->nfindings; i++) {
		const struct queue_txn_finding *f = &rec->findings[i];

		if (f->rule == NULL || f->severity == NULL || f->text == NULL)
			return SECMX_EINVAL;
		if ((rc = queue__prep(q, QS_TXN_REC_FINDING,
		                      "INSERT INTO txn_finding (txn_id, at, msg_id, rule, severity,"
		                      " text) VALUES ($1, $2, $3, $4, $5, $6)",
		                      &s)) < 0)
			return rc;
		q->ops->bind_int(s, 1, rec->txn_id);
		q->ops->bind_int(s, 2, now);
		q->ops->bind_int(s, 3, rec->msg_id);
		q->ops->bind_text(s, 4, f->rule);
		q->ops->bind_text(s, 5, f->severity);
		q->ops->bind_text(s, 6, f->text);
		if ((rc = queue__run(q, s)) < 0)
			return rc;
	}
	return 0;
}

/* queue_txn_record: one document's effect on one transaction, in one commit. */
int queue_txn_record(struct queue *q, const struct queue_txn_record *rec)
{
	char from[QUEUE_NAME_MAX] = "";
	int64_t now;
	size_t i;
	int rc;

	if (rec == NULL || rec->msg_id <= 0 || rec->doc_type == NULL || *rec->doc_type == '\0' ||
	    (rec->nrefs > 0 && rec->refs == NULL) ||
	    (rec->nfindings > 0 && rec->findings == NULL) ||
	    strcmp(queue_txn_state_name(rec->state), "unknown") == 0)
		return SECMX_EINVAL;
	queue__lock(q);
	now = queue__now(q);
	if ((rc = queue__begin(q)) < 0)
		goto done;
	if ((rc = record_check(q, rec, from, sizeof(from))) != 0)
		goto fail; /* 1 (already recorded) rolls back nothing but the read */
	if ((rc = record_state(q, rec, from, now)) < 0 || (rc = record_findings(q, rec, now)) < 0)
		goto fail;
	for (i = 0; i < rec->nrefs; i++) {
		const struct queue_txn_ref *r = &rec->refs[i];

		if (r->doc_id == NULL || *r->doc_id == '\0')
			continue;
		if ((rc = ref_add_locked(q, rec->txn_id, rec->msg_id, r->doc_type, r->party,
		                         r->doc_id, r->own)) < 0)
			goto fail;
	}
	if ((rc = doc_add_locked(q, rec->txn_id, rec->msg_id, rec->doc_type, rec->party,
	                         rec->doc_id, rec->summary_json)) < 0)
		goto fail;
	rc = queue__commit(q) < 0 ? SECMX_EIO : 0;
	goto done;
fail:
	queue__rollback(q);
done:
	queue__unlock(q);
	return rc;
}

/* queue_txn_ref_find: transactions holding a (type, party, id). */
int queue_txn_ref_find(struct queue *q, const char *doc_type, const char *party, const char *doc_id,
                       int64_t *ids, size_t max)
{
	struct qstmt *s;
	size_t n = 0;
	int rc;

	if (doc_id == NULL || *doc_id == '\0' || (ids == NULL && max > 0))
		return SECMX_EINVAL;
	queue__lock(q);
	if ((rc = queue__prep(q, QS_TXN_REF_FIND,
	                      "SELECT DISTINCT txn_id FROM txn_ref WHERE doc_id = $1"
	                      " AND ($2 = '' OR doc_type = $2 OR doc_type = '')"
	                      " AND ($3 = '' OR party = $3 OR party = '')"
	                      " ORDER BY txn_id",
	                      &s)) < 0)
		goto done;
	q->ops->bind_text(s, 1, doc_id);
	q->ops->bind_text(s, 2, txt(doc_type));
	q->ops->bind_text(s, 3, txt(party));
	while ((rc = q->ops->step(s)) == 1 && n < max)
		ids[n++] = q->ops->col_int(s, 0);
	q->ops->reset(s);
	if (rc >= 0)
		rc = (int)n;
done:
	queue__unlock(q);
	return rc;
}

/* queue_txn_doc_has: is a message recorded in a transaction? */
int queue_txn_doc_has(struct queue *q, int64_t txn_id, int64_t msg_id)
{
	struct qstmt *s;
	int rc;

	queue__lock(q);
	if ((rc = queue__prep(q, QS_TXN_DOC_HAS,
	                      "SELECT 1 FROM txn_doc WHERE msg_id = $2 AND ($1 = 0 OR txn_id = $1)",
	                      &s)) < 0)
		goto done;
	q->ops->bind_int(s, 1, txn_id);
	q->ops->bind_int(s, 2, msg_id);
	rc = q->ops->step(s);
	q->ops->reset(s);
done:
	queue__unlock(q);
	return rc;
}

/* set_col: set KEY of O to column I of S (an integer or a text), if not NULL. */
static int set_col(struct queue *q, struct qstmt *s, json_t *o, const char *key, int i, int is_int)
{
	const char *t = q->ops->col_text(s, i);

	if (t == NULL)
		return 0;
	return json_object_set_new(o, key,
	                           is_int ? json_integer(q->ops->col_int(s, i)) : json_string(t));
}

/* queue_txn_docs_json: the documents of a transaction. */
int queue_txn_docs_json(struct queue *q, int64_t txn_id, json_t **out)
{
	struct qstmt *s;
	json_t *arr = json_array();
	int rc;

	*out = NULL;
	if (arr == NULL)
		return SECMX_ENOMEM;
	queue__lock(q);
	if ((rc = queue__prep(q, QS_TXN_DOCS,
	                      "SELECT msg_id, doc_type, party, doc_id, at, summary FROM txn_doc"
	                      " WHERE txn_id = $1 ORDER BY id",
	                      &s)) < 0)
		goto done;
	q->ops->bind_int(s, 1, txn_id);
	while ((rc = q->ops->step(s)) == 1) {
		json_t *o = json_object(), *sum = NULL;
		const char *t = q->ops->col_text(s, 5);

		if (t != NULL)
			sum = json_loads(t, JSON_DECODE_ANY, NULL);
		if (o == NULL || set_col(q, s, o, "msg_id", 0, 1) < 0 ||
		    set_col(q, s, o, "doc_type", 1, 0) < 0 || set_col(q, s, o, "party", 2, 0) < 0 ||
		    set_col(q, s, o, "doc_id", 3, 0) < 0 || set_col(q, s, o, "at", 4, 1) < 0 ||
		    json_object_set_new(o, "summary", sum ? sum : json_null()) < 0 ||
		    json_array_append_new(arr, o) < 0) {
			json_decref(o);
			rc = SECMX_ENOMEM;
			break;
		}
	}
	q->ops->reset(s);
done:
	queue__unlock(q);
	if (rc < 0) {
		json_decref(arr);
		return rc;
	}
	*out = arr;
	return 0;
}

#define TXN_LIST_SQL                                                                               \
	"SELECT id, key, state, created_at, updated_at,"                                           \
	" (SELECT COUNT(*) FROM txn_doc d WHERE d.txn_id = t.id),"                                 \
	" (SELECT COUNT(*) FROM txn_finding f WHERE f.txn_id = t.id) FROM txn t"

/* queue_txn_list_json: transactions, oldest first. */
int queue_txn_list_json(struct queue *q, const char *state, size_t limit, json_t **out)
{
	static const char *const names[] = {"id",         "key",       "state",   "created_at",
	                                    "updated_at", "documents", "findings"};
	static const int is_int[] = {1, 0, 0, 1, 1, 1, 1};
	struct qstmt *s;
	json_t *arr = json_array();
	int rc;

	*out = NULL;
	if (arr == NULL)
		return SECMX_ENOMEM;
	queue__lock(q);
	if (state != NULL)
		rc = queue__prep(q, QS_TXN_LIST_STATE,
		                 TXN_LIST_SQL " WHERE state = $1 ORDER BY id LIMIT $2", &s);
	else
		rc = queue__prep(q, QS_TXN_LIST, TXN_LIST_SQL " ORDER BY id LIMIT $2", &s);
	if (rc < 0)
		goto done;
	if (state != NULL)
		q->ops->bind_text(s, 1, state);
	q->ops->bind_int(s, 2, limit ? (int64_t)limit : INT64_MAX);
	rc = queue__rows(q, s, names, is_int, sizeof(is_int) / sizeof(is_int[0]), arr);
done:
	queue__unlock(q);
	if (rc < 0) {
		json_decref(arr);
		return rc;
	}
	*out = arr;
	return 0;
}

/* queue_txn_key: the key of a transaction by id. */
int queue_txn_key(struct queue *q, int64_t id, char *key, size_t size)
{
	struct qstmt *s;
	int rc;

	if (key == NULL || size == 0)
		return SECMX_EINVAL;
	*key = '\0';
	queue__lock(q);
	if ((rc = queue__prep(q, QS_TXN_KEY, "SELECT key FROM txn WHERE id = $1", &s)) < 0)
		goto done;
	q->ops->bind_int(s, 1, id);
	if ((rc = q->ops->step(s)) == 1)
		queue__copy(q, s, 0, key, size);
	q->ops->reset(s);
	if (rc == 0)
		rc = SECMX_ENOTFOUND;
	else if (rc == 1)
		rc = 0;
done:
	queue__unlock(q);
	return rc;
}
