/*
 * bus.c — the secmx bus server: a ZeroMQ ROUTER serving adapters.
 *
 * Interface: see bus.h. Internals, in the order of this file:
 *   sessions   one struct adapter per adapter NAME (not per connection): it
 *              holds the deliveries sent and not yet answered, in the order
 *              next_delivery() gave them, and survives a reconnect so that a
 *              re-HELLO under the same name gets them again.
 *   receive    one multipart message → strict decode → a handler per type;
 *              a bad message gets ERROR + a log line, never more.
 *   send       DELIVER within the credit window (the body spliced from the
 *              envelope text by bus_build_deliver, no JSON tree per send),
 *              heartbeats, ERROR, WELCOME.
 *   timers     heartbeat, dead peer, ack timeout (sent again unless the ops
 *              dead-letter it: on_timeout).
 *   ZAP        a thread answering inproc://zeromq.zap.01 from the allow-list.
 *
 * Errors: bus_new returns SECMX_ECONFIG/EIO/EINTERNAL; after that nothing an
 * adapter sends makes the bus fail. A bad envelope from the ops is a bug of
 * the daemon: logged as an error and the delivery dead-lettered.
 * Limits: see bus.h (memory bounded by credit × max_adapters × max_doc).
 */
#include "bus.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <zmq.h>

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define ZAP_DOMAIN "secmx"
#define MAX_RID 256
#define DRAIN_BATCH 256

/* A delivery sent (or to be sent again) and not yet answered. */
struct inflight {
	struct inflight *next;
	char *id;
	char *envelope;
	size_t envelope_len;
	unsigned char *doc;
	size_t doc_len;
	long attempt;
	int sent;         /* sent on the current session and awaiting an answer */
	uint64_t sent_at; /* ms, monotonic */
};

/* One adapter, by name. */
struct adapter {
	struct adapter *next;
	char name[BUS_MAX_ID + 1];
	char session[BUS_MAX_ID + 1];
	unsigned char rid[MAX_RID];
	size_t rid_len;
	int connected;
	long credit;
	uint64_t last_recv, last_send;
	struct inflight *head, *tail;
	size_t ninflight;
};

/* One allow-list entry. */
struct allowed {
	unsigned char key[32];
	char name[BUS_MAX_ID + 1]; /* "" when the key may use any name */
};

struct bus {
	struct bus_config cfg;
	struct bus_ops ops;
	void *ctx, *router;
	char endpoint[512];
	char ipc_path[512];
	struct adapter *adapters;
	unsigned nadapters;
	unsigned long session_seq;
	struct bus_stats st;
	/* ZAP: the thread owns zap after start; allow is read-only. */
	void *zap;
	pthread_t zap_thread;
	int zap_started;
	struct allowed *allow;
	size_t nallow;
	pthread_mutex_t zap_lock; /* guards zap_refused */
	unsigned long zap_refused, zap_logged;
};

/* now_ms: the monotonic clock in milliseconds. */
static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* blog: one log line through ops->log, non-printable bytes replaced. */
static void blog(struct bus *b, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void blog(struct bus *b, int level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (!b->ops.log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	secmx_printable(line);
	b->ops.log(b->ops.arg, level, line);
}

/* inflight_free: one entry and what it owns. */
static void inflight_free(struct inflight *f)
{
	if (!f)
		return;
	free(f->id);
	free(f->envelope);
	free(f->doc);
	free(f);
}

/* inflight_unlink: remove the entry with ID from A's list; caller frees. */
static struct inflight *inflight_unlink(struct adapter *a, const char *id)
{
	struct inflight **pp, *prev = NULL;

	for (pp = &a->head; *pp; prev = *pp, pp = &(*pp)->next) {
		if (strcmp((*pp)->id, id) == 0) {
			struct inflight *f = *pp;

			*pp = f->next;
			if (a->tail == f)
				a->tail = prev;
			a->ninflight--;
			return f;
		}
	}
	return NULL;
}

/* by_rid: the connected adapter on routing id RID, or NULL. */
static struct adapter *by_rid(struct bus *b, const void *rid, size_t len)
{
	struct adapter *a;

	for (a = b->adapters; a; a = a->next)
		if (a->connected && a->rid_len == len && memcmp(a->rid, rid, len) == 0)
			return a;
	return NULL;
}

/* by_name: the adapter called NAME, or NULL. */
static struct adapter *by_name(struct bus *b, const char *name)
{
	struct adapter *a;

	for (a = b->adapters; a; a = a->next)
		if (strcmp(a->name, name) == 0)
			return a;
	return NULL;
}

/* send_wire: routing id + frames, non-blocking. Returns 0 or -errno. */
static int send_wire(struct bus *b, const void *rid, size_t rid_len, const struct bus_wire *w)
{
	int more = ZMQ_SNDMORE | ZMQ_DONTWAIT;

	if (zmq_send(b->router, rid, rid_len, more) < 0)
		return -errno;
	/* After the routing id is accepted, libzmq delivers the parts atomically. */
	if (zmq_send(b->router, w->head, BUS_HEAD_LEN, more) < 0 ||
	    zmq_send(b->router, w->body, w->body_len,
		     w->nframes == 3 ? more : ZMQ_DONTWAIT) < 0 ||
	    (w->nframes == 3 && zmq_send(b->router, w->doc, w->doc_len, ZMQ_DONTWAIT) < 0))
		return -errno;
	return 0;
}

/* disconnect: end A's session; its deliveries wait for the next HELLO. */
static void disconnect(struct bus *b, struct adapter *a, const char *why)
{
	struct inflight *f;

	if (!a->connected)
		return;
	a->connected = 0;
	b->st.adapters--;
	for (f = a->head; f; f = f->next)
		f->sent = 0;
	blog(b, BUS_LOG_INFO, "adapter=%s session=%s event=disconnected reason=\"%s\" unacked=%zu",
	     a->name, a->session, why, a->ninflight);
}

/* send_to: send W to A; a vanished peer ends the session. */
static int send_to(struct bus *b, struct adapter *a, const struct bus_wire *w)
{
	int rc = send_wire(b, a->rid, a->rid_len, w);

	if (rc == -EHOSTUNREACH)
		disconnect(b, a, "peer unreachable");
	else if (rc == 0)
		a->last_send = now_ms();
	return rc;
}

/* reply_error: ERROR to a routing id (known session or not). */
static void reply_error(struct bus *b, const void *rid, size_t rid_len, int code,
			const char *message, const char *ref)
{
	struct bus_wire w;
	char err[256];

	if (bus_build_error(&w, code, message, bus_key_ok(ref) ? ref : NULL, err,
			    sizeof(err)) == 0) {
		(void)send_wire(b, rid, rid_len, &w);
		bus_wire_free(&w);
	}
}

/* send_delivery: DELIVER F to A (attempt as recorded). 0, or <0 if not sent.
 * The body is the envelope text with delivery_id, attempt and document_size
 * spliced in (bus_build_deliver), not a parse and re-serialisation. */
static int send_delivery(struct bus *b, struct adapter *a, struct inflight *f)
{
	struct bus_wire w;
	char err[256];
	int rc;

	rc = bus_build_deliver(&w, f->envelope, f->envelope_len, f->id, f->attempt, f->doc,
			       f->doc_len, err, sizeof(err));
	if (rc < 0) {
		/* A bug in the daemon, not the adapter's fault: dead-letter it. */
		char reason[300];

		blog(b, BUS_LOG_ERROR, "adapter=%s delivery=%s event=bad-envelope error=\"%s\"",
		     a->name, f->id, err);
		secmx_errf(reason, sizeof(reason), "bus: invalid envelope: %s", err);
		f = inflight_unlink(a, f->id);
		b->st.dead_lettered++;
		if (b->ops.on_nack)
			b->ops.on_nack(b->ops.arg, a->name, f->id, BUS_NACK_PERMANENT, reason);
		inflight_free(f);
		return rc;
	}
	rc = send_to(b, a, &w);
	bus_wire_free(&w);
	if (rc < 0)
		return rc;
	f->sent = 1;
	f->sent_at = now_ms();
	if (f->attempt > 1)
		b->st.redelivered++;
	else
		b->st.delivered++;
	blog(b, BUS_LOG_DEBUG, "adapter=%s delivery=%s event=deliver attempt=%ld", a->name,
	     f->id, f->attempt);
	return 0;
}

/* pump: fill A's credit window, first with what waits to be resent (in the
 * order first given), then with new deliveries from the ops. */
static void pump(struct bus *b, struct adapter *a)
{
	struct inflight *f, *next;
	size_t nsent = 0;

	if (!a->connected)
		return;
	for (f = a->head; f; f = f->next)
		nsent += f->sent;
	for (f = a->head; f && a->connected && nsent < (size_t)a->credit; f = next) {
		next = f->next;
		if (f->sent)
			continue;
		if (send_delivery(b, a, f) == 0)
			nsent++;
		else if (a->connected)
			return; /* EAGAIN: try at the next call */
	}
	while (a->connected && a->ninflight < (size_t)a->credit && b->ops.next_delivery) {
		struct bus_delivery d;
		int rc;

		memset(&d, 0, sizeof(d));
		rc = b->ops.next_delivery(b->ops.arg, a->name, &d);
		if (rc <= 0) {
			if (rc < 0)
				blog(b, BUS_LOG_WARNING,
				     "adapter=%s event=next-delivery-failed rc=%d", a->name, rc);
			return;
		}
		f = calloc(1, sizeof(*f));
		if (!f || !d.delivery_id || !d.envelope || (!d.doc && d.doc_len)) {
			blog(b, BUS_LOG_ERROR, "adapter=%s event=bad-delivery-from-ops", a->name);
			free(f);
			free(d.delivery_id);
			free(d.envelope);
			free(d.doc);
			return;
		}
		f->id = d.delivery_id;
		f->envelope = d.envelope;
		f->envelope_len = strlen(d.envelope);
		f->doc = d.doc;
		f->doc_len = d.doc_len;
		f->attempt = d.attempt > 0 ? d.attempt : 1;
		if (a->tail)
			a->tail->next = f;
		else
			a->head = f;
		a->tail = f;
		a->ninflight++;
		if (a->ninflight > b->st.max_inflight)
			b->st.max_inflight = (unsigned)a->ninflight;
		if (!bus_id_ok(f->id)) {
			/* Same treatment as a bad envelope: send_delivery refuses it. */
			(void)send_delivery(b, a, f);
			continue;
		}
		if (send_delivery(b, a, f) < 0)
			return;
	}
}

/* adapter_new_named: a new adapter record, or NULL when full / no memory. */
static struct adapter *adapter_new_named(struct bus *b, const char *name)
{
	struct adapter *a;

	if (b->nadapters >= (unsigned)b->cfg.max_adapters)
		return NULL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	secmx_strlcpy(a->name, name, sizeof(a->name));
	a->next = b->adapters;
	b->adapters = a;
	b->nadapters++;
	return a;
}

/* on_hello: start (or resume) the session of the adapter named in M. */
static void on_hello(struct bus *b, const void *rid, size_t rid_len, const char *user,
		     const struct bus_msg *m)
{
	struct adapter *a;
	struct bus_wire w;
	char reason[BUS_MAX_TEXT] = "", err[256];
	const char *name = m->u.hello.name;

	if (by_rid(b, rid, rid_len)) {
		reply_error(b, rid, rid_len, BUS_ERR_STATE, "HELLO already received", NULL);
		b->st.refused++;
		return;
	}
	if (user && *user && strcmp(user, "*") != 0 && strcmp(user, name) != 0) {
		blog(b, BUS_LOG_WARNING,
		     "adapter=%s event=hello-refused reason=\"key bound to %s\"", name, user);
		reply_error(b, rid, rid_len, BUS_ERR_REFUSED, "this key may not use this name",
			    NULL);
		b->st.refused++;
		return;
	}
	if (b->ops.on_hello &&
	    b->ops.on_hello(b->ops.arg, name, m->u.hello.patterns, m->u.hello.npatterns, reason,
			    sizeof(reason)) < 0) {
		blog(b, BUS_LOG_WARNING, "adapter=%s event=hello-refused reason=\"%s\"", name,
		     reason);
		reply_error(b, rid, rid_len, BUS_ERR_REFUSED, *reason ? reason : "refused", NULL);
		b->st.refused++;
		return;
	}
	a = by_name(b, name);
	if (!a && !(a = adapter_new_named(b, name))) {
		reply_error(b, rid, rid_len, BUS_ERR_BUSY, "too many adapters", NULL);
		b->st.refused++;
		return;
	}
	if (a->connected) {
		/* A newer connection under the same name wins (the old peer most
		 * likely died and reconnected before the dead-peer timer fired). */
		reply_error(b, a->rid, a->rid_len, BUS_ERR_REPLACED,
			    "a newer session took this adapter name", NULL);
		disconnect(b, a, "replaced by a new session");
	}
	memcpy(a->rid, rid, rid_len);
	a->rid_len = rid_len;
	a->credit = m->u.hello.credit < b->cfg.max_credit ? m->u.hello.credit : b->cfg.max_credit;
	a->connected = 1;
	a->last_recv = now_ms();
	b->st.adapters++;
	snprintf(a->session, sizeof(a->session), "s%lx-%lu", (unsigned long)time(NULL),
		 ++b->session_seq);
	if (bus_msg_encode(BUS_MSG_WELCOME,
			   json_pack("{s:s, s:i, s:i, s:i, s:I, s:I}", "session", a->session,
				     "heartbeat_ms", b->cfg.heartbeat_ms, "dead_ms", b->cfg.dead_ms,
				     "ack_timeout_ms", b->cfg.ack_timeout_ms, "credit",
				     (json_int_t)a->credit, "max_document_bytes",
				     (json_int_t)b->cfg.max_doc),
			   NULL, 0, &w, err, sizeof(err)) == 0) {
		(void)send_to(b, a, &w);
		bus_wire_free(&w);
	}
	blog(b, BUS_LOG_INFO,
	     "adapter=%s session=%s event=hello credit=%ld patterns=%zu resend=%zu", a->name,
	     a->session, a->credit, m->u.hello.npatterns, a->ninflight);
	/* Deliveries left from an earlier session now go out again, attempt+1. */
	{
		struct inflight *f;

		for (f = a->head; f; f = f->next)
			f->attempt++;
	}
	pump(b, a);
}

/* on_answer: ACK or NACK of one delivery. */
static void on_answer(struct bus *b, struct adapter *a, const struct bus_msg *m)
{
	const char *id = m->type == BUS_MSG_ACK ? m->u.ack.delivery_id : m->u.nack.delivery_id;
	struct inflight *f = inflight_unlink(a, id);

	if (!f) {
		/* A duplicate answer (after a resend) or a stale one: harmless. */
		blog(b, BUS_LOG_DEBUG, "adapter=%s delivery=%s event=answer-unknown", a->name, id);
		return;
	}
	if (m->type == BUS_MSG_ACK) {
		b->st.acked++;
		blog(b, BUS_LOG_DEBUG, "adapter=%s delivery=%s event=ack", a->name, id);
		if (b->ops.on_ack)
			b->ops.on_ack(b->ops.arg, a->name, id);
	} else {
		int perm = m->u.nack.kind == BUS_NACK_PERMANENT;

		b->st.nacked++;
		if (perm)
			b->st.dead_lettered++;
		blog(b, BUS_LOG_INFO, "adapter=%s delivery=%s event=nack kind=%s reason=\"%s\"",
		     a->name, id, perm ? "permanent" : "transient", m->u.nack.reason);
		if (b->ops.on_nack)
			b->ops.on_nack(b->ops.arg, a->name, id, m->u.nack.kind, m->u.nack.reason);
	}
	inflight_free(f);
}

/* on_submit: hand a SUBMIT to the ops and answer unless left pending. */
static void on_submit(struct bus *b, struct adapter *a, const struct bus_msg *m)
{
	struct bus_submit s;
	char msgid[BUS_MAX_KEY + 1] = "", reason[BUS_MAX_TEXT] = "", *meta = NULL;
	int rc = BUS_SUBMIT_REFUSED;

	memset(&s, 0, sizeof(s));
	s.request_id = m->u.submit.request_id;
	s.idempotency_key = m->u.submit.idempotency_key;
	s.document_type = m->u.submit.document_type;
	if (json_object_get(m->body, "metadata"))
		meta = json_dumps(json_object_get(m->body, "metadata"), JSON_COMPACT);
	s.metadata_json = meta;
	s.doc = m->doc;
	s.doc_len = m->doc_len;
	b->st.submitted++;
	if (b->ops.on_submit)
		rc = b->ops.on_submit(b->ops.arg, a->name, &s, msgid, sizeof(msgid), reason,
				      sizeof(reason));
	else
		secmx_strlcpy(reason, "this bus does not take SUBMIT", sizeof(reason));
	free(meta);
	blog(b, BUS_LOG_INFO, "adapter=%s request=%s event=submit result=%s", a->name,
	     s.request_id, rc == BUS_SUBMIT_ACCEPTED ? "accepted" :
			   rc == BUS_SUBMIT_PENDING ? "pending" : "refused");
	if (rc == BUS_SUBMIT_PENDING)
		return;
	if (rc == BUS_SUBMIT_ACCEPTED && !bus_key_ok(msgid)) {
		blog(b, BUS_LOG_ERROR, "adapter=%s event=submit-bad-message-id", a->name);
		rc = BUS_SUBMIT_REFUSED;
		secmx_strlcpy(reason, "internal error", sizeof(reason));
	}
	(void)bus_submit_reply(b, a->name, s.request_id, rc == BUS_SUBMIT_ACCEPTED, msgid,
			       rc == BUS_SUBMIT_ACCEPTED ? NULL : (*reason ? reason : "refused"));
}

/* bus_submit_reply: SUBMIT_RESULT to a connected adapter. */
int bus_submit_reply(struct bus *b, const char *adapter, const char *request_id, int accepted,
		     const char *message_id, const char *reason)
{
	struct adapter *a = adapter ? by_name(b, adapter) : NULL;
	struct bus_wire w;
	char err[256];
	int rc;

	if (!a || !a->connected)
		return SECMX_EINVAL;
	rc = bus_build_submit_result(&w, request_id, accepted, message_id, reason, err,
				     sizeof(err));
	if (rc < 0) {
		blog(b, BUS_LOG_ERROR, "adapter=%s event=submit-result-unbuildable error=\"%s\"",
		     adapter, err);
		return rc;
	}
	rc = send_to(b, a, &w);
	bus_wire_free(&w);
	return rc < 0 ? SECMX_EIO : 0;
}

/* handle: one message (frames after the routing id) from RID. */
static void handle(struct bus *b, const void *rid, size_t rid_len, const char *user,
		   const struct bus_frame *fr, size_t n)
{
	struct adapter *a = by_rid(b, rid, rid_len);
	struct bus_msg m;
	char err[256];
	int code;

	b->st.received++;
	if (bus_msg_decode(fr, n, BUS_FROM_ADAPTER, b->cfg.max_doc, &m, &code, err,
			   sizeof(err)) < 0) {
		b->st.refused++;
		blog(b, BUS_LOG_WARNING, "adapter=%s event=refused code=%s error=\"%s\"",
		     a ? a->name : "-", bus_err_name(code), err);
		reply_error(b, rid, rid_len, code, err, NULL);
		if (a)
			a->last_recv = now_ms();
		return;
	}
	if (m.type == BUS_MSG_HELLO) {
		on_hello(b, rid, rid_len, user, &m);
		goto out;
	}
	if (!a) {
		b->st.refused++;
		blog(b, BUS_LOG_WARNING,
		     "adapter=- event=refused code=state error=\"%s before HELLO\"",
		     bus_msg_name(m.type));
		reply_error(b, rid, rid_len, BUS_ERR_STATE, "HELLO first", NULL);
		goto out;
	}
	a->last_recv = now_ms();
	switch (m.type) {
	case BUS_MSG_ACK:
	case BUS_MSG_NACK:
		on_answer(b, a, &m);
		pump(b, a);
		break;
	case BUS_MSG_SUBMIT:
		on_submit(b, a, &m);
		break;
	case BUS_MSG_HEARTBEAT:
		break;
	case BUS_MSG_BYE:
		disconnect(b, a, m.u.bye.reason ? m.u.bye.reason : "BYE");
		break;
	}
out:
	bus_msg_clear(&m);
}

/* recv_one: read one multipart message (non-blocking). 0, or -1 if none. */
static int recv_one(struct bus *b)
{
	zmq_msg_t parts[BUS_MAX_FRAMES + 1];
	struct bus_frame fr[BUS_MAX_FRAMES];
	char user[BUS_MAX_ID + 2] = "";
	size_t n = 0, extra = 0, i;
	int more = 1, rc = -1;

	while (more) {
		zmq_msg_t *p = n < BUS_MAX_FRAMES + 1 ? &parts[n] : NULL;
		zmq_msg_t scratch;

		if (!p)
			p = &scratch;
		zmq_msg_init(p);
		if (zmq_msg_recv(p, b->router, n == 0 && extra == 0 ? ZMQ_DONTWAIT : 0) < 0) {
			zmq_msg_close(p);
			if (n == 0)
				return -1;
			break; /* cannot happen: parts arrive together */
		}
		more = zmq_msg_more(p);
		if (p == &scratch) {
			zmq_msg_close(p);
			extra++;
		} else {
			n++;
		}
	}
	rc = 0;
	if (n == 0)
		goto out;
	{
		/* The routing-id frame is made by the ROUTER and has no metadata;
		 * the frames that came over the wire carry the ZAP User-Id. */
		const char *u = zmq_msg_gets(&parts[n - 1], "User-Id");

		if (u)
			secmx_strlcpy(user, u, sizeof(user));
	}
	if (zmq_msg_size(&parts[0]) > MAX_RID || zmq_msg_size(&parts[0]) == 0)
		goto out; /* not a routing id libzmq makes; nothing to answer */
	if (extra) {
		b->st.received++;
		b->st.refused++;
		blog(b, BUS_LOG_WARNING, "adapter=- event=refused code=frames error=\"%zu frames\"",
		     n - 1 + extra);
		reply_error(b, zmq_msg_data(&parts[0]), zmq_msg_size(&parts[0]), BUS_ERR_FRAMES,
			    "too many frames", NULL);
		goto out;
	}
	for (i = 1; i < n; i++) {
		fr[i - 1].data = zmq_msg_data(&parts[i]);
		fr[i - 1].len = zmq_msg_size(&parts[i]);
	}
	handle(b, zmq_msg_data(&parts[0]), zmq_msg_size(&parts[0]), user, fr, n - 1);
out:
	for (i = 0; i < n; i++)
		zmq_msg_close(&parts[i]);
	return rc;
}

/* timers: heartbeats, dead peers and ack timeouts. Returns ms to the next. */
static int timers(struct bus *b)
{
	uint64_t now = now_ms(), next = now + 60000;
	struct adapter *a;
	struct inflight *f, *fn;

	for (a = b->adapters; a; a = a->next) {
		if (!a->connected)
			continue;
		if (now - a->last_recv >= (uint64_t)b->cfg.dead_ms) {
			b->st.dead_peers++;
			disconnect(b, a, "heartbeat timeout");
			continue;
		}
		if (a->last_recv + b->cfg.dead_ms < next)
			next = a->last_recv + b->cfg.dead_ms;
		if (now - a->last_send >= (uint64_t)b->cfg.heartbeat_ms) {
			struct bus_wire w;
			char err[64];

			if (bus_build_heartbeat(&w, err, sizeof(err)) == 0) {
				(void)send_to(b, a, &w);
				bus_wire_free(&w);
			}
			if (!a->connected)
				continue;
		}
		if (a->last_send + b->cfg.heartbeat_ms < next)
			next = a->last_send + b->cfg.heartbeat_ms;
		for (f = a->head; f && a->connected; f = fn) {
			fn = f->next; /* send_delivery may dead-letter and free F */
			if (!f->sent)
				continue;
			if (now - f->sent_at >= (uint64_t)b->cfg.ack_timeout_ms) {
				blog(b, BUS_LOG_INFO,
				     "adapter=%s delivery=%s event=ack-timeout attempt=%ld",
				     a->name, f->id, f->attempt);
				if (b->ops.on_timeout &&
				    b->ops.on_timeout(b->ops.arg, a->name, f->id) == 1) {
					/* Dead-lettered by the ops (too old, too many
					 * attempts): forget it; the credit is free. */
					b->st.dead_lettered++;
					inflight_free(inflight_unlink(a, f->id));
					continue;
				}
				f->attempt++;
				if (send_delivery(b, a, f) < 0)
					break;
			}
			if (f->sent_at + b->cfg.ack_timeout_ms < next)
				next = f->sent_at + b->cfg.ack_timeout_ms;
		}
	}
	now = now_ms();
	return next > now ? (int)(next - now) : 0;
}

/* zap_note: log handshakes the ZAP thread refused since the last call. */
static void zap_note(struct bus *b)
{
	unsigned long n;

	if (!b->zap_started)
		return;
	pthread_mutex_lock(&b->zap_lock);
	n = b->zap_refused;
	pthread_mutex_unlock(&b->zap_lock);
	if (n != b->zap_logged) {
		blog(b, BUS_LOG_WARNING, "adapter=- event=curve-refused count=%lu total=%lu",
		     n - b->zap_logged, n);
		b->zap_logged = n;
	}
	b->st.zap_refused = n;
}

/* pollin: does the ROUTER have a message waiting? */
static int pollin(struct bus *b)
{
	int ev = 0;
	size_t len = sizeof(ev);

	if (zmq_getsockopt(b->router, ZMQ_EVENTS, &ev, &len) < 0)
		return 0;
	return (ev & ZMQ_POLLIN) != 0;
}

/* bus_process: drain, timers, pump (see bus.h). */
int bus_process(struct bus *b)
{
	struct adapter *a;
	int i, next;

	/* recv_one reads without waiting and fails when nothing is there: no
	 * ZMQ_EVENTS check before each message (each one is a poll and a
	 * getpid system call inside libzmq; a receive that finds a message
	 * makes none). */
	for (i = 0; i < DRAIN_BATCH; i++)
		if (recv_one(b) < 0)
			break;
	zap_note(b);
	next = timers(b);
	for (a = b->adapters; a; a = a->next)
		pump(b, a);
	/* Our sends may have consumed the edge of ZMQ_FD: look again. */
	if (pollin(b))
		return 0;
	return next;
}

/* bus_run_once: poll the ROUTER up to TIMEOUT_MS (or the next timer). */
int bus_run_once(struct bus *b, int timeout_ms)
{
	zmq_pollitem_t it = {b->router, 0, ZMQ_POLLIN, 0};
	int next = bus_process(b);

	if (timeout_ms < 0 || next < timeout_ms)
		timeout_ms = next;
	if (zmq_poll(&it, 1, timeout_ms) < 0 && errno != EINTR)
		return SECMX_EINTERNAL;
	bus_process(b);
	return 0;
}

/* bus_fd: the ROUTER's ZMQ_FD. */
int bus_fd(struct bus *b)
{
	int fd = -1;
	size_t len = sizeof(fd);

	if (!b || zmq_getsockopt(b->router, ZMQ_FD, &fd, &len) < 0)
		return -1;
	return fd;
}

/* bus_endpoint: the endpoint actually bound. */
const char *bus_endpoint(const struct bus *b)
{
	return b->endpoint;
}

/* bus_stats_get: a copy of the counters. */
void bus_stats_get(const struct bus *b, struct bus_stats *st)
{
	*st = b->st;
}

/* zap_send: one ZAP reply. */
static void zap_send(void *s, const zmq_msg_t *reqid, const char *status, const char *text,
		     const char *user)
{
	zmq_send(s, "1.0", 3, ZMQ_SNDMORE);
	zmq_send(s, zmq_msg_data((zmq_msg_t *)reqid), zmq_msg_size((zmq_msg_t *)reqid),
		 ZMQ_SNDMORE);
	zmq_send(s, status, strlen(status), ZMQ_SNDMORE);
	zmq_send(s, text, strlen(text), ZMQ_SNDMORE);
	zmq_send(s, user, strlen(user), ZMQ_SNDMORE);
	zmq_send(s, "", 0, 0);
}

/* zap_main: the ZAP handler (RFC 27): allow CURVE keys on the allow-list. */
static void *zap_main(void *arg)
{
	struct bus *b = arg;
	zmq_msg_t f[8];
	size_t n, i;
	int more;

	secmx_thread_name("bus-zap");
	for (;;) {
		const char *user = NULL;

		n = 0;
		more = 1;
		while (more) {
			zmq_msg_t tmp, *p = n < 8 ? &f[n] : &tmp;

			zmq_msg_init(p);
			if (zmq_msg_recv(p, b->zap, 0) < 0) {
				zmq_msg_close(p);
				if (errno == EINTR)
					continue;
				for (i = 0; i < n; i++)
					zmq_msg_close(&f[i]);
				goto done; /* ETERM: the bus is closing */
			}
			more = zmq_msg_more(p);
			if (p == &tmp)
				zmq_msg_close(p);
			else
				n++;
		}
		if (n >= 7 && zmq_msg_size(&f[0]) == 3 &&
		    memcmp(zmq_msg_data(&f[0]), "1.0", 3) == 0 &&
		    zmq_msg_size(&f[2]) == strlen(ZAP_DOMAIN) &&
		    memcmp(zmq_msg_data(&f[2]), ZAP_DOMAIN, strlen(ZAP_DOMAIN)) == 0 &&
		    zmq_msg_size(&f[5]) == 5 && memcmp(zmq_msg_data(&f[5]), "CURVE", 5) == 0 &&
		    zmq_msg_size(&f[6]) == 32) {
			for (i = 0; i < b->nallow; i++) {
				if (memcmp(b->allow[i].key, zmq_msg_data(&f[6]), 32) == 0) {
					user = b->allow[i].name[0] ? b->allow[i].name : "*";
					break;
				}
			}
		}
		if (n >= 2) {
			if (user) {
				zap_send(b->zap, &f[1], "200", "OK", user);
			} else {
				zap_send(b->zap, &f[1], "400", "key not allowed", "");
				pthread_mutex_lock(&b->zap_lock);
				b->zap_refused++;
				pthread_mutex_unlock(&b->zap_lock);
			}
		}
		for (i = 0; i < n; i++)
			zmq_msg_close(&f[i]);
	}
done:
	zmq_close(b->zap);
	return NULL;
}

/* bus_key_read: one Z85 key from a file. */
int bus_key_read(const char *path, int secret, char key[41], char *err, size_t errlen)
{
	uint8_t raw[32];
	struct stat sb;
	char buf[128];
	ssize_t n;
	int fd = -1, rc = SECMX_ECONFIG;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) < 0) {
		secmx_errf(err, errlen, "%s: %s", path, strerror(errno));
		rc = SECMX_EIO;
		goto out;
	}
	if (secret && (sb.st_mode & 077)) {
		secmx_errf(err, errlen, "%s: secret key readable by others (mode %04o)", path,
			   (unsigned)(sb.st_mode & 07777));
		goto out;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0) {
		secmx_errf(err, errlen, "%s: %s", path, strerror(errno));
		rc = SECMX_EIO;
		goto out;
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n] = '\0';
	if (n != 40 || !zmq_z85_decode(raw, buf)) {
		secmx_errf(err, errlen, "%s: not a Z85 key (40 characters)", path);
		goto out;
	}
	memcpy(key, buf, 41);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

/* load_allow: parse the allow-list file, all or nothing. */
static int load_allow(struct bus *b, const char *path, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "re");
	char line[512];
	int lineno = 0, rc = SECMX_ECONFIG;

	if (!fp) {
		secmx_errf(err, errlen, "%s: %s", path, strerror(errno));
		return SECMX_EIO;
	}
	while (fgets(line, sizeof(line), fp)) {
		char *p = line, *key, *name, *save = NULL;
		struct allowed *na;

		lineno++;
		if (!strchr(line, '\n') && !feof(fp)) {
			secmx_errf(err, errlen, "%s:%d: line too long", path, lineno);
			goto out;
		}
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '#' || *p == '\n' || *p == '\0')
			continue;
		key = strtok_r(p, " \t\r\n", &save);
		name = strtok_r(NULL, " \t\r\n", &save);
		if (!key || strlen(key) != 40 || (name && !bus_name_ok(name)) ||
		    strtok_r(NULL, " \t\r\n", &save)) {
			secmx_errf(err, errlen, "%s:%d: expected: Z85-PUBLIC-KEY [ADAPTER-NAME]",
				   path, lineno);
			goto out;
		}
		if (b->nallow >= 4096) {
			secmx_errf(err, errlen, "%s: more than 4096 keys", path);
			goto out;
		}
		na = realloc(b->allow, (b->nallow + 1) * sizeof(*na));
		if (!na) {
			rc = SECMX_ENOMEM;
			goto out;
		}
		b->allow = na;
		if (!zmq_z85_decode(na[b->nallow].key, key)) {
			secmx_errf(err, errlen, "%s:%d: not a Z85 key", path, lineno);
			goto out;
		}
		secmx_strlcpy(na[b->nallow].name, name ? name : "", sizeof(na[0].name));
		b->nallow++;
	}
	rc = 0;
out:
	fclose(fp);
	return rc;
}

/* bus_config_default: defaults documented in docs/protocol.md. */
void bus_config_default(struct bus_config *c)
{
	memset(c, 0, sizeof(*c));
	c->ipc_mode = 0600;
	c->heartbeat_ms = 5000;
	c->dead_ms = 15000;
	c->ack_timeout_ms = 60000;
	c->max_adapters = 64;
	c->max_credit = 64;
	c->max_doc = BUS_MAX_DOC;
}

/* setup_curve: server key, ZAP handler thread, domain on the ROUTER. */
static int setup_curve(struct bus *b, char *err, size_t errlen)
{
	char secret[41];
	int one = 1, rc;

	if (!b->cfg.curve_secret_file || !b->cfg.allow_list_file) {
		secmx_errf(err, errlen, "tcp:// needs a CURVE secret key file and an allow-list");
		return SECMX_ECONFIG;
	}
	if ((rc = bus_key_read(b->cfg.curve_secret_file, 1, secret, err, errlen)) < 0)
		return rc;
	if ((rc = load_allow(b, b->cfg.allow_list_file, err, errlen)) < 0)
		goto out;
	b->zap = zmq_socket(b->ctx, ZMQ_REP);
	if (!b->zap || zmq_bind(b->zap, ZAP_ENDPOINT) < 0) {
		secmx_errf(err, errlen, "ZAP handler: %s", zmq_strerror(errno));
		rc = SECMX_EINTERNAL;
		goto out;
	}
	if (pthread_create(&b->zap_thread, NULL, zap_main, b) != 0) {
		secmx_errf(err, errlen, "cannot start the ZAP thread");
		rc = SECMX_EINTERNAL;
		goto out;
	}
	b->zap_started = 1;
	/* Without a ZAP domain libzmq 4.3 does not ask the handler for CURVE
	 * and lets every key in: the domain is what makes the allow-list bite. */
	if (zmq_setsockopt(b->router, ZMQ_CURVE_SERVER, &one, sizeof(one)) < 0 ||
	    zmq_setsockopt(b->router, ZMQ_CURVE_SECRETKEY, secret, 40) < 0 ||
	    zmq_setsockopt(b->router, ZMQ_ZAP_DOMAIN, ZAP_DOMAIN, strlen(ZAP_DOMAIN)) < 0) {
		secmx_errf(err, errlen, "CURVE set-up: %s", zmq_strerror(errno));
		rc = SECMX_EINTERNAL;
		goto out;
	}
	rc = 0;
out:
	explicit_bzero(secret, sizeof(secret));
	return rc;
}

/* bind_ipc: bind with a private umask, then set the configured mode. */
static int bind_ipc(struct bus *b, char *err, size_t errlen)
{
	mode_t old;
	int rc;

	secmx_strlcpy(b->ipc_path, b->cfg.endpoint + 6, sizeof(b->ipc_path));
	if (!b->ipc_path[0] || b->cfg.ipc_mode & ~0660u) {
		secmx_errf(err, errlen, "ipc endpoint needs a path and a mode within 0660");
		return SECMX_ECONFIG;
	}
	/* XXX umask is per process; bus_new runs at start-up, before threads
	 * that create files. The chmod below closes the remaining gap. */
	old = umask(0177);
	rc = zmq_bind(b->router, b->cfg.endpoint);
	umask(old);
	if (rc < 0) {
		secmx_errf(err, errlen, "bind %s: %s", b->cfg.endpoint, zmq_strerror(errno));
		return SECMX_ECONFIG;
	}
	if (chmod(b->ipc_path, b->cfg.ipc_mode) < 0) {
		secmx_errf(err, errlen, "chmod %s: %s", b->ipc_path, strerror(errno));
		return SECMX_EIO;
	}
	return 0;
}

/* bus_new: create and bind (see bus.h). */
int bus_new(const struct bus_config *cfg, const struct bus_ops *ops, struct bus **out,
	    char *err, size_t errlen)
{
	struct bus *b = NULL;
	int one = 1, zero = 0, rc = SECMX_ECONFIG;
	int64_t maxmsg;
	size_t len;

	*out = NULL;
	if (!cfg || !ops || !cfg->endpoint || cfg->heartbeat_ms < 10 ||
	    cfg->dead_ms <= cfg->heartbeat_ms || cfg->ack_timeout_ms < 10 ||
	    cfg->max_adapters < 1 || cfg->max_credit < 1 || cfg->max_credit > BUS_MAX_CREDIT ||
	    cfg->max_doc < 1 || cfg->max_doc > BUS_MAX_DOC) {
		secmx_errf(err, errlen, "bus configuration out of range");
		return SECMX_ECONFIG;
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		return SECMX_ENOMEM;
	b->cfg = *cfg;
	b->ops = *ops;
	pthread_mutex_init(&b->zap_lock, NULL);
	b->ctx = zmq_ctx_new();
	b->router = b->ctx ? zmq_socket(b->ctx, ZMQ_ROUTER) : NULL;
	if (!b->router) {
		secmx_errf(err, errlen, "zmq: %s", zmq_strerror(errno));
		rc = SECMX_EINTERNAL;
		goto fail;
	}
	maxmsg = (int64_t)(cfg->max_doc > BUS_MAX_BODY ? cfg->max_doc : BUS_MAX_BODY);
	zmq_setsockopt(b->router, ZMQ_LINGER, &zero, sizeof(zero));
	zmq_setsockopt(b->router, ZMQ_ROUTER_MANDATORY, &one, sizeof(one));
	zmq_setsockopt(b->router, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg));
	if (strncmp(cfg->endpoint, "tcp://", 6) == 0) {
		if ((rc = setup_curve(b, err, errlen)) < 0)
			goto fail;
		if (zmq_bind(b->router, cfg->endpoint) < 0) {
			secmx_errf(err, errlen, "bind %s: %s", cfg->endpoint, zmq_strerror(errno));
			rc = SECMX_ECONFIG;
			goto fail;
		}
	} else if (strncmp(cfg->endpoint, "ipc://", 6) == 0) {
		if ((rc = bind_ipc(b, err, errlen)) < 0)
			goto fail;
	} else {
		secmx_errf(err, errlen, "endpoint must be ipc:// or tcp://");
		rc = SECMX_ECONFIG;
		goto fail;
	}
	len = sizeof(b->endpoint);
	if (zmq_getsockopt(b->router, ZMQ_LAST_ENDPOINT, b->endpoint, &len) < 0)
		secmx_strlcpy(b->endpoint, cfg->endpoint, sizeof(b->endpoint));
	blog(b, BUS_LOG_INFO, "bus event=listening endpoint=%s curve=%s keys=%zu", b->endpoint,
	     b->zap_started ? "yes" : "no", b->nallow);
	*out = b;
	return 0;
fail:
	if (b->ipc_path[0] && rc != SECMX_ECONFIG)
		unlink(b->ipc_path);
	b->ipc_path[0] = '\0';
	bus_free(b);
	return rc;
}

/* bus_free: BYE to live sessions, close, stop ZAP, free everything. */
void bus_free(struct bus *b)
{
	struct adapter *a, *an;
	struct inflight *f, *fn;

	if (!b)
		return;
	for (a = b->adapters; a; a = an) {
		an = a->next;
		if (a->connected && b->router) {
			struct bus_wire w;
			char err[64];

			if (bus_build_bye(&w, "server shutting down", err, sizeof(err)) == 0) {
				(void)send_wire(b, a->rid, a->rid_len, &w);
				bus_wire_free(&w);
			}
		}
		for (f = a->head; f; f = fn) {
			fn = f->next;
			inflight_free(f);
		}
		free(a);
	}
	if (b->router) {
		int linger = 200; /* give the BYEs a moment to leave */

		zmq_setsockopt(b->router, ZMQ_LINGER, &linger, sizeof(linger));
		zmq_close(b->router);
	}
	if (b->ipc_path[0])
		unlink(b->ipc_path);
	if (b->ctx) {
		zmq_ctx_shutdown(b->ctx);
		if (b->zap_started)
			pthread_join(b->zap_thread, NULL);
		else if (b->zap)
			zmq_close(b->zap);
		zmq_ctx_term(b->ctx);
	}
	pthread_mutex_destroy(&b->zap_lock);
	free(b->allow);
	free(b);
}

/* bus_keygen: a fresh CURVE key pair into BASE.pub / BASE.key. */
int bus_keygen(const char *base, char pub[41], char *err, size_t errlen)
{
	char secret[41], public[41], path[4096];
	FILE *fp = NULL;
	int fd = -1, rc = SECMX_EIO;

	if (zmq_curve_keypair(public, secret) < 0) {
		secmx_errf(err, errlen, "CURVE not available: %s", zmq_strerror(errno));
		return SECMX_EINTERNAL;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s.key", base) >= sizeof(path)) {
		secmx_errf(err, errlen, "name too long");
		rc = SECMX_EINVAL;
		goto out;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || fchmod(fd, 0600) < 0 || write(fd, secret, 40) != 40 ||
	    write(fd, "\n", 1) != 1 || fsync(fd) < 0) {
		secmx_errf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	snprintf(path, sizeof(path), "%s.pub", base);
	fp = fopen(path, "we");
	if (!fp || fprintf(fp, "%s\n", public) < 0 || fflush(fp) != 0) {
		secmx_errf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	memcpy(pub, public, sizeof(public));
	rc = 0;
out:
	explicit_bzero(secret, sizeof(secret));
	if (fd >= 0)
		close(fd);
	if (fp && fclose(fp) != 0 && rc == 0) {
		secmx_errf(err, errlen, "%s: %s", path, strerror(errno));
		rc = SECMX_EIO;
	}
	return rc;
}
