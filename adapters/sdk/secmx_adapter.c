/*
 * secmx_adapter.c — the adapter SDK's session: connect, HELLO, receive,
 * answer, SUBMIT, heartbeats, reconnect with back-off.
 *
 * Interface: secmx_adapter.h. The wire format comes from the shared codec in
 * common/bus_proto.c; this file never hand-builds a frame.
 *
 * States: DOWN (no socket; waiting out the back-off) → HELLO_SENT → READY.
 * Any of: no WELCOME within hello_timeout_ms, silence from the server for
 * dead_ms, a BYE, or an ERROR "state"/"replaced" sends the session back to
 * DOWN; the socket is closed (dropping what it held: the server resends
 * every unanswered delivery after the next HELLO) and a new one connects
 * after the back-off, which doubles up to reconnect_max_ms.
 * DELIVERs are queued on receipt (at most the credit, as the server never
 * sends more) and dispatched by adapter_run, so adapter_submit can be called
 * from inside the callback. A DELIVER is read by the codec's scanner
 * (bus_deliver_fast_decode: no tree) when it is sure of it, else by the
 * strict reader (bus_msg_decode), which decides what the scanner is not
 * sure of. A queued DELIVER keeps the typed fields, a copy of the body frame
 * as received (the envelope_json handed to the callback; never
 * re-serialised) and, from the strict reader, the decoded envelope;
 * adapter_delivery_string looks fields up in the text with the scanner and
 * parses it only when the scanner is not sure.
 * Verdicts of a burst (adapter_run_batch; adapter_run is a burst of one)
 * are held until the flush callback returned, then sent.
 * Errors: see the header. A malformed message from the server is logged and
 * dropped. Limits: BUS_MAX_* (common.h).
 */
#include "secmx_adapter.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <zmq.h>

#include "common.h"

enum state { DOWN, HELLO_SENT, READY };

/* A string handed out by adapter_delivery_string (freed with its delivery). */
struct str {
	struct str *next;
	char s[];
};

/* A DELIVER waiting for the callback (copies). */
struct pending {
	struct pending *next;
	json_t *env; /* the decoded envelope; NULL when the scanner read it */
	struct bus_deliver_view view;
	char *text; /* the body frame, NUL-terminated */
	size_t text_len;
	unsigned char *doc;
	size_t doc_len;
	struct str *strs;
};

/* A verdict held until its burst is flushed. */
struct verdict {
	char id[BUS_MAX_ID + 1];
	int verdict;
	char *reason; /* NACK only; malloc()ed */
};

/* The result of a SUBMIT we wait for. */
struct waiting {
	char request_id[BUS_MAX_ID + 1];
	int done, accepted;
	char message_id[BUS_MAX_KEY + 1];
	char reason[BUS_MAX_TEXT + 1];
};

struct adapter {
	struct adapter_config cfg;
	char *endpoint, *name, *server_key, *public_key, *secret_key;
	char **patterns;
	void *ctx, *sock;
	enum state state;
	int fatal;
	volatile sig_atomic_t stop; /* adapter_stop may run in a signal handler */
	uint64_t last_recv, last_send, hello_at, retry_at;
	int backoff_ms;
	int heartbeat_ms, dead_ms;
	unsigned sessions;
	unsigned long req_seq;
	struct pending *head, *tail;
	struct waiting *wait;
	struct verdict *held; /* the current burst's verdicts */
	size_t nheld, held_cap;
};

/* now_ms: monotonic milliseconds. */
static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* alog: a log line to cfg.log, if any. */
static void alog(struct adapter *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void alog(struct adapter *a, const char *fmt, ...)
{
	char line[768];
	va_list ap;

	if (!a->cfg.log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	secmx_printable(line);
	a->cfg.log(a->cfg.log_arg, line);
}

/* adapter_config_default: defaults. */
void adapter_config_default(struct adapter_config *c)
{
	memset(c, 0, sizeof(*c));
	c->credit = 8;
	c->reconnect_min_ms = 100;
	c->reconnect_max_ms = 5000;
	c->hello_timeout_ms = 5000;
}

/* send_wire: frames of W on the socket (blocking briefly; DEALER queues). */
static int send_wire(struct adapter *a, struct bus_wire *w)
{
	int rc = 0;

	if (!a->sock) {
		rc = SECMX_EIO;
		goto out;
	}
	if (zmq_send(a->sock, w->head, BUS_HEAD_LEN, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
	    zmq_send(a->sock, w->body, w->body_len, w->nframes == 3 ? ZMQ_SNDMORE : 0) < 0 ||
	    (w->nframes == 3 && zmq_send(a->sock, w->doc, w->doc_len, 0) < 0)) {
		alog(a, "adapter=%s event=send-failed error=\"%s\"", a->name, zmq_strerror(errno));
		rc = SECMX_EIO;
		goto out;
	}
	a->last_send = now_ms();
out:
	bus_wire_free(w);
	return rc;
}

/* pending_free: one queued delivery and what it owns. */
static void pending_free(struct pending *p)
{
	struct str *t, *tn;

	if (!p)
		return;
	for (t = p->strs; t; t = tn) {
		tn = t->next;
		free(t);
	}
	json_decref(p->env);
	free(p->text);
	free(p->doc);
	free(p);
}

/* pending_new: queue a DELIVER: copies of BODY, DOC; the typed fields from
 * V; ENV (a reference is taken; NULL: parsed on demand). */
static void pending_new(struct adapter *a, const struct bus_frame *body, const void *doc,
			size_t doc_len, const struct bus_deliver_view *v, json_t *env)
{
	struct pending *p = calloc(1, sizeof(*p));

	if (!p || (doc_len && !(p->doc = malloc(doc_len))) ||
	    !(p->text = malloc(body->len + 1))) {
		pending_free(p);
		alog(a, "adapter=%s event=out-of-memory", a->name);
		return; /* unanswered: the server resends after its ack timeout */
	}
	if (doc_len)
		memcpy(p->doc, doc, doc_len);
	p->doc_len = doc_len;
	memcpy(p->text, body->data, body->len);
	p->text[body->len] = '\0';
	p->text_len = body->len;
	p->view = *v;
	p->env = json_incref(env);
	if (a->tail)
		a->tail->next = p;
	else
		a->head = p;
	a->tail = p;
}

/* pending_clear: drop queued deliveries (their session is gone). */
static void pending_clear(struct adapter *a)
{
	struct pending *p, *n;

	for (p = a->head; p; p = n) {
		n = p->next;
		pending_free(p);
	}
	a->head = a->tail = NULL;
}

/* go_down: close the session; reconnect after the back-off. */
static void go_down(struct adapter *a, const char *why)
{
	if (a->sock) {
		zmq_close(a->sock);
		a->sock = NULL;
	}
	pending_clear(a);
	a->state = DOWN;
	a->retry_at = now_ms() + (uint64_t)a->backoff_ms;
	alog(a, "adapter=%s event=down reason=\"%s\" retry_ms=%d", a->name, why, a->backoff_ms);
	a->backoff_ms *= 2;
	if (a->backoff_ms > a->cfg.reconnect_max_ms)
		a->backoff_ms = a->cfg.reconnect_max_ms;
}

/* go_up: a new DEALER, connect, HELLO. */
static int go_up(struct adapter *a)
{
	struct bus_wire w;
	char err[256];
	int zero = 0, rc = SECMX_EIO;

	a->sock = zmq_socket(a->ctx, ZMQ_DEALER);
	if (!a->sock)
		goto fail;
	zmq_setsockopt(a->sock, ZMQ_LINGER, &zero, sizeof(zero));
	if (a->server_key &&
	    (zmq_setsockopt(a->sock, ZMQ_CURVE_SERVERKEY, a->server_key, 40) < 0 ||
	     zmq_setsockopt(a->sock, ZMQ_CURVE_PUBLICKEY, a->public_key, 40) < 0 ||
	     zmq_setsockopt(a->sock, ZMQ_CURVE_SECRETKEY, a->secret_key, 40) < 0)) {
		rc = SECMX_ECONFIG;
		goto fail;
	}
	if (zmq_connect(a->sock, a->endpoint) < 0) {
		rc = SECMX_ECONFIG;
		goto fail;
	}
	rc = bus_build_hello(&w, a->name, (const char *const *)a->patterns, a->cfg.npatterns,
			     a->cfg.credit, err, sizeof(err));
	if (rc < 0 || (rc = send_wire(a, &w)) < 0)
		goto fail;
	a->state = HELLO_SENT;
	a->hello_at = a->last_recv = now_ms();
	return 0;
fail:
	alog(a, "adapter=%s event=connect-failed error=\"%s\"", a->name, zmq_strerror(errno));
	if (a->sock)
		zmq_close(a->sock);
	a->sock = NULL;
	a->state = DOWN;
	a->retry_at = now_ms() + (uint64_t)a->backoff_ms;
	return rc;
}

/* dup_opt: a copy of S (NULL stays NULL); *OK cleared on failure. */
static char *dup_opt(const char *s, int *ok)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*ok = 0;
	return d;
}

/* adapter_new: check and copy the configuration, connect. */
int adapter_new(const struct adapter_config *cfg, struct adapter **out, char *err,
		size_t errlen)
{
	struct adapter *a = NULL;
	size_t i;
	int ok = 1, rc = SECMX_ECONFIG;

	*out = NULL;
	if (!cfg->endpoint || !bus_name_ok(cfg->name) || cfg->npatterns < 1 ||
	    cfg->npatterns > BUS_MAX_PATTERNS || cfg->credit < 1 ||
	    cfg->credit > BUS_MAX_CREDIT || cfg->reconnect_min_ms < 1 ||
	    cfg->reconnect_max_ms < cfg->reconnect_min_ms || cfg->hello_timeout_ms < 1) {
		secmx_errf(err, errlen, "adapter configuration out of range");
		return SECMX_ECONFIG;
	}
	for (i = 0; i < cfg->npatterns; i++) {
		if (!bus_pattern_ok(cfg->patterns[i])) {
			secmx_errf(err, errlen, "bad pattern \"%.128s\"",
				   cfg->patterns[i] ? cfg->patterns[i] : "(null)");
			return SECMX_ECONFIG;
		}
	}
	if (cfg->server_public_key &&
	    (!cfg->public_key || !cfg->secret_key || strlen(cfg->server_public_key) != 40 ||
	     strlen(cfg->public_key) != 40 || strlen(cfg->secret_key) != 40)) {
		secmx_errf(err, errlen, "CURVE needs the server key and a key pair (Z85)");
		return SECMX_ECONFIG;
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		return SECMX_ENOMEM;
	a->cfg = *cfg;
	a->endpoint = dup_opt(cfg->endpoint, &ok);
	a->name = dup_opt(cfg->name, &ok);
	a->server_key = dup_opt(cfg->server_public_key, &ok);
	a->public_key = dup_opt(cfg->public_key, &ok);
	a->secret_key = dup_opt(cfg->secret_key, &ok);
	a->patterns = calloc(cfg->npatterns, sizeof(char *));
	for (i = 0; ok && a->patterns && i < cfg->npatterns; i++)
		a->patterns[i] = dup_opt(cfg->patterns[i], &ok);
	a->cfg.endpoint = a->cfg.name = NULL;
	a->cfg.patterns = NULL;
	a->cfg.server_public_key = a->cfg.public_key = a->cfg.secret_key = NULL;
	if (!ok || !a->patterns) {
		rc = SECMX_ENOMEM;
		goto fail;
	}
	a->backoff_ms = cfg->reconnect_min_ms;
	a->heartbeat_ms = 5000;
	a->dead_ms = 15000;
	a->ctx = zmq_ctx_new();
	if (!a->ctx) {
		rc = SECMX_EINTERNAL;
		goto fail;
	}
	if ((rc = go_up(a)) < 0) {
		secmx_errf(err, errlen, "cannot connect to %s: %s", cfg->endpoint,
			   zmq_strerror(errno));
		goto fail;
	}
	*out = a;
	return 0;
fail:
	adapter_free(a);
	return rc;
}

/* adapter_free: BYE, close, free. */
void adapter_free(struct adapter *a)
{
	size_t i;

	if (!a)
		return;
	if (a->sock && a->state == READY) {
		struct bus_wire w;
		char err[64];

		if (bus_build_bye(&w, "adapter closing", err, sizeof(err)) == 0)
			(void)send_wire(a, &w);
	}
	if (a->sock)
		zmq_close(a->sock);
	pending_clear(a);
	free(a->held);
	if (a->ctx)
		zmq_ctx_term(a->ctx);
	for (i = 0; a->patterns && i < a->cfg.npatterns; i++)
		free(a->patterns[i]);
	free(a->patterns);
	free(a->endpoint);
	free(a->name);
	free(a->server_key);
	free(a->public_key);
	if (a->secret_key)
		explicit_bzero(a->secret_key, strlen(a->secret_key));
	free(a->secret_key);
	free(a);
}

/* on_message: one decoded message from the server; BODY is its body frame
 * (borrowed). */
static void on_message(struct adapter *a, struct bus_msg *m, const struct bus_frame *body)
{
	switch (m->type) {
	case BUS_MSG_WELCOME:
		if (a->state != HELLO_SENT) {
			alog(a, "adapter=%s event=unexpected-welcome", a->name);
			break;
		}
		a->state = READY;
		a->heartbeat_ms = (int)m->u.welcome.heartbeat_ms;
		a->dead_ms = (int)m->u.welcome.dead_ms;
		a->backoff_ms = a->cfg.reconnect_min_ms;
		if (a->sessions++ > 0)
			alog(a, "adapter=%s event=reconnected session=%s", a->name,
			     m->u.welcome.session);
		break;
	case BUS_MSG_DELIVER: {
		struct bus_deliver_view v;

		memset(&v, 0, sizeof(v));
		secmx_strlcpy(v.delivery_id, m->u.deliver.delivery_id, sizeof(v.delivery_id));
		secmx_strlcpy(v.idempotency_key, m->u.deliver.idempotency_key,
			      sizeof(v.idempotency_key));
		secmx_strlcpy(v.document_type, m->u.deliver.document_type, sizeof(v.document_type));
		v.attempt = m->u.deliver.attempt;
		pending_new(a, body, m->doc, m->doc_len, &v, m->body);
		break;
	}
	case BUS_MSG_SUBMIT_RESULT:
		if (a->wait && strcmp(a->wait->request_id, m->u.submit_result.request_id) == 0) {
			a->wait->done = 1;
			a->wait->accepted = m->u.submit_result.accepted;
			if (m->u.submit_result.message_id)
				secmx_strlcpy(a->wait->message_id, m->u.submit_result.message_id,
					      sizeof(a->wait->message_id));
			if (m->u.submit_result.reason)
				secmx_strlcpy(a->wait->reason, m->u.submit_result.reason,
					      sizeof(a->wait->reason));
		}
		break;
	case BUS_MSG_HEARTBEAT:
		break;
	case BUS_MSG_BYE:
		go_down(a, m->u.bye.reason ? m->u.bye.reason : "BYE from server");
		break;
	case BUS_MSG_ERROR: {
		int code = bus_err_from_name(m->u.error.code);

		alog(a, "adapter=%s event=error code=%s message=\"%s\"", a->name, m->u.error.code,
		     m->u.error.message);
		if (a->state == HELLO_SENT &&
		    (code == BUS_ERR_REFUSED || code == BUS_ERR_VERSION || code == BUS_ERR_SCHEMA))
			a->fatal = SECMX_ECONFIG;
		else if (code == BUS_ERR_STATE || code == BUS_ERR_REPLACED || code == BUS_ERR_BUSY)
			go_down(a, m->u.error.message);
		break;
	}
	}
}

/* recv_one: read and handle one message if there is one. 1 read, 0 none. */
static int recv_one(struct adapter *a)
{
	zmq_msg_t parts[BUS_MAX_FRAMES];
	struct bus_frame fr[BUS_MAX_FRAMES];
	struct bus_deliver_view view;
	struct bus_msg m;
	size_t n = 0, extra = 0, i;
	char err[256];
	int more = 1, code;

	while (more) {
		zmq_msg_t tmp, *p = n < BUS_MAX_FRAMES ? &parts[n] : &tmp;

		zmq_msg_init(p);
		if (zmq_msg_recv(p, a->sock, n == 0 && !extra ? ZMQ_DONTWAIT : 0) < 0) {
			zmq_msg_close(p);
			break;
		}
		more = zmq_msg_more(p);
		if (p == &tmp) {
			zmq_msg_close(p);
			extra++;
		} else {
			n++;
		}
	}
	if (n == 0)
		return 0;
	a->last_recv = now_ms();
	for (i = 0; i < n; i++) {
		fr[i].data = zmq_msg_data(&parts[i]);
		fr[i].len = zmq_msg_size(&parts[i]);
	}
	if (extra) {
		alog(a, "adapter=%s event=refused error=\"too many frames\"", a->name);
	} else if (bus_deliver_fast_decode(fr, n, 0, &view)) {
		/* A DELIVER the scanner is sure of: no tree built now. */
		pending_new(a, &fr[1], fr[2].data, fr[2].len, &view, NULL);
	} else if (bus_msg_decode(fr, n, BUS_FROM_SERVER, 0, &m, &code, err, sizeof(err)) < 0) {
		alog(a, "adapter=%s event=refused code=%s error=\"%s\"", a->name,
		     bus_err_name(code), err);
	} else {
		on_message(a, &m, &fr[1]);
		bus_msg_clear(&m);
	}
	for (i = 0; i < n; i++)
		zmq_msg_close(&parts[i]);
	return 1;
}

/* step: timers, then wait up to TIMEOUT_MS for traffic and read it all. */
static int step(struct adapter *a, int timeout_ms)
{
	uint64_t now = now_ms(), due;
	int wait = timeout_ms;

	if (a->state == DOWN) {
		if (now >= a->retry_at) {
			if (go_up(a) < 0)
				return 0;
		} else {
			due = a->retry_at - now;
			wait = (int)(due < (uint64_t)timeout_ms ? due : (uint64_t)timeout_ms);
			struct timespec ts = {wait / 1000, (long)(wait % 1000) * 1000000L};
			nanosleep(&ts, NULL);
			return 0;
		}
	}
	if (a->state == HELLO_SENT && now - a->hello_at >= (uint64_t)a->cfg.hello_timeout_ms) {
		go_down(a, "no WELCOME");
		return 0;
	}
	if (a->state == READY) {
		if (now - a->last_recv >= (uint64_t)a->dead_ms) {
			go_down(a, "server silent (heartbeat timeout)");
			return 0;
		}
		if (now - a->last_send >= (uint64_t)a->heartbeat_ms) {
			struct bus_wire w;
			char err[64];

			if (bus_build_heartbeat(&w, err, sizeof(err)) == 0)
				(void)send_wire(a, &w);
		}
		due = a->last_send + (uint64_t)a->heartbeat_ms - now;
		if (due < (uint64_t)wait)
			wait = (int)due;
	}
	{
		zmq_pollitem_t it = {a->sock, 0, ZMQ_POLLIN, 0};

		if (wait < 0)
			wait = 0;
		if (zmq_poll(&it, 1, wait) < 0 && errno != EINTR)
			return SECMX_EIO;
	}
	while (a->sock && recv_one(a) > 0)
		;
	return 0;
}

/* answer: send the callback's verdict on delivery ID. */
static void answer(struct adapter *a, const char *id, int verdict, const char *reason)
{
	struct bus_wire w;
	char err[256];
	int rc;

	if (verdict == ADAPTER_ACK)
		rc = bus_build_ack(&w, id, err, sizeof(err));
	else
		rc = bus_build_nack(&w, id,
				    verdict == ADAPTER_NACK_PERMANENT ? BUS_NACK_PERMANENT
								      : BUS_NACK_TRANSIENT,
				    reason && *reason ? reason : "no reason given", err,
				    sizeof(err));
	if (rc < 0) {
		/* An unsendable reason (control characters, too long): say so. */
		alog(a, "adapter=%s delivery=%s event=bad-verdict error=\"%s\"", a->name, id, err);
		rc = bus_build_nack(&w, id, BUS_NACK_TRANSIENT, "adapter gave an invalid reason",
				    err, sizeof(err));
	}
	if (rc == 0)
		(void)send_wire(a, &w);
}

/* hold: keep the verdict on ID until the burst is flushed. 0 or ENOMEM (the
 * delivery then stays unanswered: the server resends it). */
static int hold(struct adapter *a, const char *id, int verdict, const char *reason)
{
	struct verdict *v;

	if (a->nheld == a->held_cap) {
		size_t cap = a->held_cap ? 2 * a->held_cap : 16;

		if (!(v = realloc(a->held, cap * sizeof(*v))))
			return SECMX_ENOMEM;
		a->held = v;
		a->held_cap = cap;
	}
	v = &a->held[a->nheld];
	secmx_strlcpy(v->id, id, sizeof(v->id));
	v->verdict = verdict;
	v->reason = NULL;
	if (verdict != ADAPTER_ACK && !(v->reason = strdup(reason)))
		return SECMX_ENOMEM;
	a->nheld++;
	return 0;
}

/* release: send the held verdicts (ACKs as transient NACKs when FAILED) and
 * forget them. Sent only on a live session: after a reconnect the server
 * sends every unanswered delivery again. */
static void release(struct adapter *a, int failed)
{
	size_t i;

	for (i = 0; i < a->nheld; i++) {
		struct verdict *v = &a->held[i];

		if (a->state == READY) {
			if (failed && v->verdict == ADAPTER_ACK)
				answer(a, v->id, ADAPTER_NACK_TRANSIENT, "adapter could not commit");
			else
				answer(a, v->id, v->verdict, v->reason);
		}
		free(v->reason);
	}
	a->nheld = 0;
}

/* dispatch: call FN for the queued deliveries (one if !BATCH, else every one
 * queued now, stopping early on adapter_stop), then FLUSH, then send the
 * verdicts. */
static void dispatch(struct adapter *a, adapter_deliver_fn fn, adapter_flush_fn flush, void *arg,
		     int batch)
{
	struct pending *p;
	int rc = 0;

	while ((p = a->head) != NULL) {
		struct adapter_delivery d;
		char reason[BUS_MAX_TEXT + 1] = "";
		int verdict;

		a->head = p->next;
		if (!a->head)
			a->tail = NULL;
		memset(&d, 0, sizeof(d));
		d.delivery_id = p->view.delivery_id;
		d.idempotency_key = p->view.idempotency_key;
		d.document_type = p->view.document_type;
		d.attempt = p->view.attempt;
		d.envelope_json = p->text;
		d.doc = p->doc;
		d.doc_len = p->doc_len;
		d.sdk_private = p;
		verdict = fn(arg, &d, reason, sizeof(reason));
		if (hold(a, d.delivery_id, verdict, reason) < 0)
			alog(a, "adapter=%s delivery=%s event=out-of-memory", a->name,
			     d.delivery_id);
		pending_free(p);
		if (!batch || a->stop || a->fatal)
			break;
	}
	if (flush)
		rc = flush(arg);
	if (rc < 0)
		alog(a, "adapter=%s event=flush-failed rc=%d deliveries=%zu", a->name, rc,
		     a->nheld);
	release(a, rc < 0);
}

/* run: the loop of adapter_run and adapter_run_batch. */
static int run(struct adapter *a, adapter_deliver_fn fn, adapter_flush_fn flush, void *arg,
	       int timeout_ms, int batch)
{
	uint64_t end = timeout_ms < 0 ? UINT64_MAX : now_ms() + (uint64_t)timeout_ms;
	int rc;

	a->stop = 0;
	while (!a->stop && !a->fatal) {
		if (a->head) {
			dispatch(a, fn, flush, arg, batch);
			continue;
		}
		{
			uint64_t now = now_ms();
			int wait = end == UINT64_MAX ? 1000 : (now >= end ? 0 : (int)(end - now));

			if (wait > 1000)
				wait = 1000;
			if ((rc = step(a, wait)) < 0)
				return rc;
			if (now_ms() >= end && !a->head)
				break;
		}
	}
	return a->fatal;
}

/* adapter_run: dispatch deliveries one at a time until stopped, timed out
 * or fatal. */
int adapter_run(struct adapter *a, adapter_deliver_fn fn, void *arg, int timeout_ms)
{
	return run(a, fn, NULL, arg, timeout_ms, 0);
}

/* adapter_run_batch: dispatch deliveries by bursts, FLUSH before the
 * verdicts of each burst are sent. */
int adapter_run_batch(struct adapter *a, adapter_deliver_fn fn, adapter_flush_fn flush, void *arg,
		      int timeout_ms)
{
	return run(a, fn, flush, arg, timeout_ms, 1);
}

/* adapter_delivery_string: a string member of the envelope or of one of its
 * objects: found by the scanner in the body text (a copy kept with the
 * delivery), or, when the scanner is not sure (escapes), from the envelope
 * parsed once on demand. */
const char *adapter_delivery_string(const struct adapter_delivery *d, const char *object,
				    const char *field)
{
	struct pending *p = d ? (struct pending *)d->sdk_private : NULL;
	const char *val;
	json_t *env;
	size_t len;
	int rc;

	if (!p || !field)
		return NULL;
	if (!p->env) {
		rc = bus_json_string(p->text, p->text_len, object, field, &val, &len);
		if (rc == 0)
			return NULL;
		if (rc == 1) {
			struct str *t = malloc(sizeof(*t) + len + 1);

			if (!t)
				return NULL;
			memcpy(t->s, val, len);
			t->s[len] = '\0';
			t->next = p->strs;
			p->strs = t;
			return t->s;
		}
		p->env = json_loadb(p->text, p->text_len, JSON_REJECT_DUPLICATES, NULL);
	}
	env = p->env;
	if (object)
		env = json_object_get(env, object);
	return json_string_value(json_object_get(env, field));
}

/* adapter_stop: make adapter_run return. */
void adapter_stop(struct adapter *a)
{
	a->stop = 1;
}

/* adapter_reconnects: sessions after the first. */
unsigned adapter_reconnects(const struct adapter *a)
{
	return a->sessions > 0 ? a->sessions - 1 : 0;
}

/* adapter_submit: SUBMIT and wait for SUBMIT_RESULT (resent after a
 * reconnect under the same idempotency key and a new request id). */
int adapter_submit(struct adapter *a, const void *doc, size_t doc_len,
		   const char *idempotency_key, const char *document_type,
		   const char *metadata_json, int timeout_ms, char *message_id, size_t idlen,
		   char *reason, size_t reasonlen)
{
	uint64_t end = now_ms() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms);
	struct waiting w;
	unsigned sent_in = 0;
	int rc;

	memset(&w, 0, sizeof(w));
	a->wait = &w;
	for (;;) {
		if (a->fatal) {
			rc = a->fatal;
			goto out;
		}
		if (a->state == READY && sent_in != a->sessions) {
			struct bus_wire wire;
			char err[256];

			snprintf(w.request_id, sizeof(w.request_id), "r%lu", ++a->req_seq);
			rc = bus_build_submit(&wire, w.request_id, idempotency_key, document_type,
					      metadata_json, doc, doc_len, err, sizeof(err));
			if (rc < 0) {
				secmx_errf(reason, reasonlen, "%s", err);
				goto out;
			}
			if (send_wire(a, &wire) == 0)
				sent_in = a->sessions;
		}
		if (a->state != READY)
			sent_in = 0;
		if (w.done)
			break;
		if (now_ms() >= end) {
			secmx_errf(reason, reasonlen, "no SUBMIT_RESULT within %d ms", timeout_ms);
			rc = SECMX_ELIMIT;
			goto out;
		}
		if ((rc = step(a, (int)(end - now_ms() < 100 ? end - now_ms() : 100))) < 0)
			goto out;
	}
	if (w.accepted) {
		secmx_strlcpy(message_id, w.message_id, idlen);
		rc = 1;
	} else {
		secmx_strlcpy(reason, w.reason[0] ? w.reason : "refused", reasonlen);
		rc = 0;
	}
out:
	a->wait = NULL;
	return rc;
}
