/*
 * intake.c — how a message becomes accepted: queue_msg_put, duplicate
 * detection, and the group committer.
 *
 * Functions: queue_msg_put, queue_msg_submit (queue.h);
 * queue__intake_start/stop (queue_int.h).
 *
 * Durability: a put returns 0 only after the COMMIT holding its rows has
 * returned successfully (WAL + synchronous=FULL: fsynced). Any failure of
 * BEGIN, of the put's own rows, or of COMMIT returns a negative code and
 * leaves nothing of the message in the store: "not accepted".
 *
 * Group commit: putters append a request to a list and sleep; one committer
 * thread takes every request waiting (up to group_max_batch), stores each
 * inside its own SAVEPOINT in one transaction, commits once, and wakes them
 * all. A put whose own rows fail (a duplicate under "reject") is rolled back
 * to its savepoint without harming the others; a failing COMMIT fails every
 * put of the batch. While one batch commits the next one gathers, so under
 * load many puts share each fsync and with one producer nothing waits.
 *
 * Duplicates: a put with a key (sender, doc_type, doc_id) seen before is
 * handled by the duplicate policy; a put that says its key promises the
 * content (queue_msg_in.same_bytes) and differs from the first message's
 * SHA-256 is refused (SECMX_ECONFLICT), whatever the policy.
 *
 * Limits: a message is copied into the store in one piece (max_msg_bytes).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "queue_int.h"

/* nonempty: a usable metadata text. */
static int nonempty(const char *s)
{
	return s != NULL && *s != '\0';
}

/* same_bytes: 0 when the put P has the bytes of message FIRST (or FIRST is
 * gone: nothing to compare), SECMX_ECONFLICT when not (P->out->dup_of then
 * names FIRST), or a store error. */
static int same_bytes(struct queue *q, struct queue__put *p, int64_t first)
{
	struct qstmt *s;
	char sha[65] = "";
	int rc;

	if ((rc = queue__prep(q, QS_SEEN_SHA, "SELECT sha256 FROM msg WHERE id = $1", &s)) < 0)
		return rc;
	q->ops->bind_int(s, 1, first);
	if ((rc = q->ops->step(s)) == 1)
		queue__copy(q, s, 0, sha, sizeof(sha));
	q->ops->reset(s);
	if (rc < 0)
		return rc;
	if (rc == 0 || strcmp(sha, p->sha256) == 0)
		return 0;
	p->out->dup_of = first;
	return SECMX_ECONFLICT;
}

/* store_one: the rows of one put, inside the caller's transaction.
 * Returns 0 with P->out filled, or a negative code. */
static int store_one(struct queue *q, struct queue__put *p, int64_t now)
{
	const struct queue_msg_in *in = p->in;
	const char *state = in->state ? in->state : QUEUE_STATE_NEW;
	int64_t dup_of = 0, id = 0;
	int keyed = nonempty(in->sender) && nonempty(in->doc_id) && nonempty(in->doc_type);
	int dropped = 0, rc;
	struct qstmt *s;

	if (keyed) {
		if ((rc = queue__prep(q, QS_SEEN_GET,
		                      "SELECT first_msg_id FROM seen"
		                      " WHERE sender = $1 AND doc_type = $2 AND doc_id = $3",
		                      &s)) < 0)
			return rc;
		q->ops->bind_text(s, 1, in->sender);
		q->ops->bind_text(s, 2, in->doc_type);
		q->ops->bind_text(s, 3, in->doc_id);
		rc = q->ops->step(s);
		if (rc == 1)
			dup_of = q->ops->col_int(s, 0);
		q->ops->reset(s);
		if (rc < 0)
			return rc;
		if (dup_of != 0 && in->same_bytes && (rc = same_bytes(q, p, dup_of)) < 0)
			return rc;
		if (dup_of != 0) {
			switch (q->cfg.dup_policy) {
			case QUEUE_DUP_REJECT:
				return SECMX_EDUPLICATE;
			case QUEUE_DUP_DROP:
				dropped = 1;
				state = QUEUE_STATE_DROPPED;
				break;
			case QUEUE_DUP_FLAG:
				break;
			case QUEUE_DUP_ACCEPT:
			default:
				dup_of = 0;
				break;
			}
		}
	}
	if ((rc =
	         queue__prep(q, QS_MSG_ADD,
	                     "INSERT INTO msg (created_at, updated_at, source, sender, doc_type,"
	                     " doc_id, txn_key, size, sha256, body, state, next_attempt_at, dup_of)"
	                     " VALUES ($1, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $1, $11)"
	                     " RETURNING id",
	                     &s)) < 0)
		return rc;
	q->ops->bind_int(s, 1, now);
	q->ops->bind_text(s, 2, in->source);
	q->ops->bind_text(s, 3, in->sender);
	q->ops->bind_text(s, 4, in->doc_type);
	q->ops->bind_text(s, 5, in->doc_id);
	q->ops->bind_text(s, 6, in->txn_key);
	q->ops->bind_int(s, 7, (int64_t)in->len);
	q->ops->bind_text(s, 8, p->sha256);
	q->ops->bind_blob(s, 9, "", 0); /* the bytes go to msg_body */
	q->ops->bind_text(s, 10, state);
	if (dup_of)
		q->ops->bind_int(s, 11, dup_of);
	else
		q->ops->bind_text(s, 11, NULL);
	rc = q->ops->step(s);
	if (rc == 1)
		id = q->ops->col_int(s, 0);
	q->ops->reset(s);
	if (rc < 0)
		return rc;
	if (id <= 0)
		return SECMX_EIO;
	if ((rc = queue__prep(q, QS_BODY_ADD, "INSERT INTO msg_body (msg_id, body) VALUES ($1, $2)",
	                      &s)) < 0)
		return rc;
	q->ops->bind_int(s, 1, id);
	q->ops->bind_blob(s, 2, in->len ? in->data : "", in->len);
	if ((rc = queue__run(q, s)) < 0)
		return rc;
	if (keyed && dup_of == 0) {
		if ((rc =
		         queue__prep(q, QS_SEEN_ADD,
		                     "INSERT INTO seen (sender, doc_type, doc_id, first_msg_id, at)"
		                     " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
		                     &s)) < 0)
			return rc;
		q->ops->bind_text(s, 1, in->sender);
		q->ops->bind_text(s, 2, in->doc_type);
		q->ops->bind_text(s, 3, in->doc_id);
		q->ops->bind_int(s, 4, id);
		q->ops->bind_int(s, 5, now);
		if ((rc = queue__run(q, s)) < 0)
			return rc;
	}
	p->out->id = id;
	p->out->dup_of = dup_of;
	p->out->dropped = dropped;
	return 0;
}

/* commit_batch: store the puts of list HEAD in one transaction and commit
 * once; sets each put's rc. Called with q->lock held. Returns the number of
 * puts accepted. */
static unsigned commit_batch(struct queue *q, struct queue__put *head)
{
	struct queue__put *p;
	unsigned n = 0, ok = 0, fresh = 0;
	int64_t now = queue__now(q);
	int rc, lost = 0, sp;

	for (p = head; p != NULL; p = p->next)
		n++;
	if ((rc = queue__begin(q)) < 0) {
		for (p = head; p != NULL; p = p->next)
			p->rc = rc;
		goto counted;
	}
	/* Each put of several in its own savepoint; a put alone (a worker's
	 * bundle, an intake round of one) needs none: the operation's own
	 * savepoint is exactly its extent, and a failed put rolls that back
	 * below (ok == 0). Two statements fewer per such put. */
	sp = n > 1;
	for (p = head; p != NULL && !lost; p = p->next) {
		if (sp && q->ops->exec(q->st, "SAVEPOINT put") < 0) {
			p->rc = SECMX_EIO;
			lost = !q->ops->in_txn(q->st);
			continue;
		}
		p->rc = store_one(q, p, now);
		/* Some failures (full disk, I/O error) make the database give up
		 * the whole transaction: then nothing of the batch is stored, and
		 * going on would run the rest outside any transaction. */
		if ((lost = !q->ops->in_txn(q->st)) != 0)
			break;
		if (sp && p->rc < 0)
			q->ops->exec(q->st, "ROLLBACK TO SAVEPOINT put");
		if (sp && q->ops->exec(q->st, "RELEASE SAVEPOINT put") < 0 && p->rc == 0)
			p->rc = SECMX_EIO;
		if (p->rc == 0)
			ok++;
		if (p->rc == 0 && !p->out->dropped &&
		    (p->in->state == NULL || strcmp(p->in->state, QUEUE_STATE_NEW) == 0))
			fresh++;
	}
	if (lost || ok == 0) {
		queue__rollback(q);
		ok = 0;
	} else if (queue__commit_n(q, ok, fresh) < 0) {
		ok = 0;
	}
	/* The one rule that matters: a put is accepted only by a commit that
	 * returned; a failed or abandoned transaction accepted nothing. */
	if (ok == 0)
		for (p = head; p != NULL; p = p->next)
			if (p->rc == 0 || lost)
				p->rc = SECMX_EIO;
counted:
	if (ok > 0) {
		q->stats.commits++;
		if (ok > q->stats.max_batch)
			q->stats.max_batch = ok;
	}
	q->stats.puts += ok;
	q->stats.put_failures += n - ok;
	return ok;
}

/* put_res: what a submitted put's callback gets: its result when stored,
 * the first message (dup_of) for SECMX_ECONFLICT, else NULL. */
static const struct queue_put_result *put_res(const struct queue__put *p)
{
	return p->rc == 0 || p->rc == SECMX_ECONFLICT ? &p->res : NULL;
}

/* wait_for: with gc_lock held, wait up to US microseconds until WANT puts
 * are pending (or the queue stops). */
static void wait_for(struct queue *q, unsigned want, unsigned us)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += (long)(us % 1000000) * 1000;
	until.tv_sec += us / 1000000 + until.tv_nsec / 1000000000;
	until.tv_nsec %= 1000000000;
	while (q->gc_pending < want && !q->gc_stop)
		if (pthread_cond_timedwait(&q->gc_work, &q->gc_lock, &until) == ETIMEDOUT)
			break;
}

/* gather: before taking a batch, perhaps wait for it to grow. A fixed
 * window if configured; otherwise, when the last batch was larger than
 * what is pending now, the producers it woke are probably about to put
 * again: wait a little (group_adapt_us at most) for as many as it had, so
 * that batches do not alternate between large and small ones. With one
 * producer the last batch is 1 and nothing ever waits. */
static void gather(struct queue *q)
{
	unsigned max = q->cfg.group_max_batch;

	if (q->cfg.group_window_us > 0 && q->gc_pending < max)
		wait_for(q, max, q->cfg.group_window_us);
	else if (q->cfg.group_adapt_us > 0 && q->gc_pending < q->gc_last_batch)
		wait_for(q, q->gc_last_batch < max ? q->gc_last_batch : max, q->cfg.group_adapt_us);
}

/* committer: the group-commit thread. */
static void *committer(void *arg)
{
	struct queue *q = arg;

	secmx_thread_name("queue-commit");
	pthread_mutex_lock(&q->gc_lock);
	for (;;) {
		struct queue__put *head, *p, *last;
		unsigned n;

		while (q->gc_head == NULL && !q->gc_stop)
			pthread_cond_wait(&q->gc_work, &q->gc_lock);
		if (q->gc_head == NULL && q->gc_stop)
			break;
		gather(q);
		/* Take up to group_max_batch requests off the list. */
		head = q->gc_head;
		last = head;
		for (n = 1; n < q->cfg.group_max_batch && last->next != NULL; n++)
			last = last->next;
		q->gc_head = last->next;
		if (q->gc_head == NULL)
			q->gc_tail = NULL;
		last->next = NULL;
		q->gc_pending -= n;
		q->gc_last_batch = n;
		pthread_mutex_unlock(&q->gc_lock);

		queue__lock(q);
		commit_batch(q, head);
		queue__unlock(q);

		/* Wake the putters; callbacks of submitted puts run outside
		 * every lock. */
		pthread_mutex_lock(&q->gc_lock);
		for (p = head; p != NULL;) {
			struct queue__put *next = p->next;

			if (p->cb != NULL) {
				pthread_mutex_unlock(&q->gc_lock);
				p->cb(p->cb_arg, p->rc, put_res(p));
				free(p);
				pthread_mutex_lock(&q->gc_lock);
			} else {
				/* After done is set the putter may free P at once. */
				p->done = 1;
			}
			p = next;
		}
		pthread_cond_broadcast(&q->gc_done);
	}
	pthread_mutex_unlock(&q->gc_lock);
	return NULL;
}

/* queue__intake_start: start the committer thread. */
int queue__intake_start(struct queue *q)
{
	if (pthread_create(&q->gc_thread, NULL, committer, q) != 0)
		return SECMX_EINTERNAL;
	q->gc_running = 1;
	return 0;
}

/* queue__intake_stop: let the committer finish what is queued, then join. */
void queue__intake_stop(struct queue *q)
{
	if (!q->gc_running)
		return;
	pthread_mutex_lock(&q->gc_lock);
	q->gc_stop = 1;
	pthread_cond_signal(&q->gc_work);
	pthread_mutex_unlock(&q->gc_lock);
	pthread_join(q->gc_thread, NULL);
	q->gc_running = 0;
}

/* check_in: the checks every put makes before it is queued; computes the
 * digest into REQ (outside any lock: the CPU work runs in parallel, only
 * the commit is shared). */
static int check_in(struct queue *q, const struct queue_msg_in *in, struct queue__put *req)
{
	const char *state;

	if (q == NULL || in == NULL || (in->data == NULL && in->len > 0))
		return SECMX_EINVAL;
	if (in->len > q->cfg.max_msg_bytes)
		return SECMX_ELIMIT;
	state = in->state ? in->state : QUEUE_STATE_NEW;
	if (!queue__name_ok(state) || queue__reserved(state))
		return SECMX_EINVAL;
	req->in = in;
	return queue__sha256_hex(in->len ? in->data : "", in->len, req->sha256);
}

/* enqueue: hand REQ to the committer; caller holds gc_lock. */
static int enqueue(struct queue *q, struct queue__put *req)
{
	if (q->gc_stop)
		return SECMX_ESTATE;
	if (q->gc_tail != NULL)
		q->gc_tail->next = req;
	else
		q->gc_head = req;
	q->gc_tail = req;
	q->gc_pending++;
	pthread_cond_signal(&q->gc_work);
	return 0;
}

/* queue_msg_put: durable on return, or not accepted (in a deferred scope:
 * stored in the scope's batch, see queue_defer_begin). */
int queue_msg_put(struct queue *q, const struct queue_msg_in *in, struct queue_put_result *out)
{
	struct queue__put req;
	struct queue_put_result res = {0, 0, 0};
	int rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	memset(&req, 0, sizeof(req));
	req.out = &res;
	if ((rc = check_in(q, in, &req)) < 0)
		return rc;
	/* In a deferred scope the put joins this thread's batch directly. */
	if (!q->gc_running || queue__deferring(q)) {
		queue__lock(q);
		commit_batch(q, &req);
		queue__unlock(q);
	} else {
		pthread_mutex_lock(&q->gc_lock);
		if ((rc = enqueue(q, &req)) < 0) {
			pthread_mutex_unlock(&q->gc_lock);
			return rc;
		}
		while (!req.done)
			pthread_cond_wait(&q->gc_done, &q->gc_lock);
		pthread_mutex_unlock(&q->gc_lock);
	}
	if ((req.rc == 0 || req.rc == SECMX_ECONFLICT) && out != NULL)
		*out = res;
	return req.rc;
}

/* queue_msg_submit: queue_msg_put for an event loop: CB reports. */
int queue_msg_submit(struct queue *q, const struct queue_msg_in *in, queue_put_cb cb, void *arg)
{
	struct queue__put *req;
	int rc;

	if (cb == NULL)
		return SECMX_EINVAL;
	if ((req = calloc(1, sizeof(*req))) == NULL)
		return SECMX_ENOMEM;
	req->out = &req->res;
	req->cb = cb;
	req->cb_arg = arg;
	if ((rc = check_in(q, in, req)) < 0) {
		free(req);
		return rc;
	}
	if (!q->gc_running) {
		queue__lock(q);
		commit_batch(q, req);
		queue__unlock(q);
		cb(arg, req->rc, put_res(req));
		free(req);
		return 0;
	}
	pthread_mutex_lock(&q->gc_lock);
	rc = enqueue(q, req);
	pthread_mutex_unlock(&q->gc_lock);
	if (rc < 0)
		free(req);
	return rc;
}
