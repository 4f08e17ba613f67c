/*
 * pipeline.c — the worker threads: claim a message in a pipeline state and
 * run its steps to the end under that one lease, recording each step's
 * result before the next step starts (queue_step_advance: one write that
 * also moves the message on and keeps the lease; the last step ends it
 * with queue_step_deliver). The run's writes join the queue's shared batch
 * without waiting for the disk (a queue_defer_begin scope): batches reach
 * the disk in order, so a crash loses at most the run's last steps, and the
 * message's next claim starts at its last durable step; the deliveries the
 * route step stores go out only once durable.
 *
 *   state       step        next        what
 *   new         validate    validated   parse, classify, validate (XSD + rules),
 *                                       verify the sender's signature if any
 *   validated   correlate   correlated  engine_txn_correlate(); a reject adds a
 *                                       finding with its report to the transaction
 *   correlated  attest      attested    sign with the organisation's key (valid
 *                                       documents only) and store the delivery
 *                                       bundle: envelope line + document bytes, a
 *                                       queue message in state "bundle"
 *   attested    route       done        one delivery per subscribed adapter
 *
 * Parse, classify, validate and verify have no side effects, so they are one
 * recorded step: repeating them after a crash is harmless. Within one run a
 * step uses what the previous one left in memory (the bytes, the parsed
 * document, the recorded details: struct work); a run that starts at a
 * later step reads the recorded details back from the queue and parses the
 * bytes again, so both ways see the same values. The commits of all
 * workers are shared by the queue's group commit.
 *
 * Functions (daemon_int.h): daemon__worker, daemon__snap_get/put,
 * daemon__kit_put, daemon__efd_signal, daemon__now_ms, daemon__iso_time.
 * Ownership: what a run carries (struct work) is freed at its end.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "daemon_int.h"

#define REPORT_MAX 40 /* findings carried in step details and envelopes */

/* daemon__now_ms: wall clock in ms. */
int64_t daemon__now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* daemon__iso_time: MS since the epoch as ISO 8601 UTC with milliseconds. */
void daemon__iso_time(int64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char base[24];

	gmtime_r(&t, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03dZ", base, (int)(ms % 1000));
}

/* daemon__efd_signal: wake whoever waits on eventfd FD. */
void daemon__efd_signal(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return; /* the counter is full: a wake-up is pending anyway */
}

/* daemon__kit_put: drop a kit reference. */
void daemon__kit_put(struct kit *k)
{
	if (k == NULL || atomic_fetch_sub(&k->refs, 1) != 1)
		return;
	engine_key_free(k->key);
	engine_trust_free(k->trust);
	engine_free(k->eng);
	free(k);
}

/* daemon__snap_get: the current snapshot, with a reference. */
struct snap *daemon__snap_get(struct daemon *d)
{
	struct snap *s;

	pthread_mutex_lock(&d->snap_lock);
	s = d->snap;
	atomic_fetch_add(&s->refs, 1);
	pthread_mutex_unlock(&d->snap_lock);
	return s;
}

/* daemon__snap_put: drop a snapshot reference. */
void daemon__snap_put(struct snap *s)
{
	size_t i;

	if (s == NULL || atomic_fetch_sub(&s->refs, 1) != 1)
		return;
	daemon__kit_put(s->kit);
	for (i = 0; i < s->nroutes; i++) {
		free(s->routes[i].adapter);
		free(s->routes[i].pattern);
	}
	free(s->routes);
	free(s);
}

/* step_detail: the recorded detail of STEP of message ID, parsed (new
 * reference, json_decref), or NULL. */
static json_t *step_detail(struct queue *q, int64_t id, const char *step)
{
	json_t *msg = NULL, *steps, *st, *out = NULL;
	size_t i;

	if (queue_show_json(q, id, &msg) < 0)
		return NULL;
	steps = json_object_get(msg, "steps");
	json_array_foreach(steps, i, st)
	{
		const char *name = json_string_value(json_object_get(st, "step"));
		const char *detail = json_string_value(json_object_get(st, "detail"));

		if (name && detail && strcmp(name, step) == 0) {
			out = json_loads(detail, 0, NULL);
			break;
		}
	}
	json_decref(msg);
	return out;
}

/*
 * What one worker carries from step to step of one message while it holds
 * the lease: the bytes, the parsed document and the recorded details. A
 * step finds here what the previous step of the same run left, and reads
 * it back from the queue only when the run started at a later step (after
 * a crash or a deferral): either way the same recorded values.
 */
struct work {
	struct queue_lease lease;
	struct queue_msg_info info;
	void *buf; /* the message bytes, or NULL */
	size_t len;
	struct engine_doc *doc; /* parsed and classified, or NULL */
	json_t *det[3];         /* validate, correlate, attest details */
};

enum { D_VALIDATE, D_CORRELATE, D_ATTEST };
static const char *const DETAIL_STEP[] = {"validate", "correlate", "attest"};

/* work_clear: free what the run carried. */
static void work_clear(struct work *w)
{
	size_t i;

	free(w->buf);
	engine_doc_free(w->doc);
	for (i = 0; i < 3; i++)
		json_decref(w->det[i]);
	memset(w, 0, sizeof(*w));
}

/* work_bytes: the message's bytes (read once). */
static int work_bytes(struct daemon *d, struct work *w)
{
	if (w->buf != NULL)
		return 0;
	return queue_msg_get(d->q, w->info.id, &w->buf, &w->len);
}

/* work_detail: the recorded detail of step K (borrowed), or NULL. */
static json_t *work_detail(struct daemon *d, struct work *w, int k)
{
	if (w->det[k] == NULL)
		w->det[k] = step_detail(d->q, w->info.id, DETAIL_STEP[k]);
	return w->det[k];
}

/* record: queue_step_advance of step K with DETAIL serialised; the
 * lease goes on for the next step, and the detail is kept in W for it
 * (steals DETAIL). */
static int record(struct daemon *d, struct work *w, int k, const char *result, json_t *detail,
                  const char *next)
{
	char *text = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
	int rc;

	if (detail && text == NULL) {
		json_decref(detail);
		return SECMX_ENOMEM;
	}
	rc = queue_step_advance(d->q, &w->lease, DETAIL_STEP[k], result, text, next);
	free(text);
	/* Keep what was recorded now; after "already recorded" (1) the
	 * queue's copy counts, read back when needed. */
	json_decref(w->det[k]);
	w->det[k] = rc == 0 ? detail : NULL;
	if (rc != 0)
		json_decref(detail);
	return rc < 0 ? rc : 0;
}

/* report_json: at most REPORT_MAX findings of REP as a new array. */
static json_t *report_json(const struct engine_report *rep)
{
	json_t *all = engine_report_json(rep), *out;
	size_t i;

	if (all == NULL || json_array_size(all) <= REPORT_MAX)
		return all;
	out = json_array();
	for (i = 0; out && i < REPORT_MAX; i++)
		json_array_append(out, json_array_get(all, i));
	json_decref(all);
	return out;
}

/* has_signature: does the document carry an XML-DSig Signature element? */
static int has_signature(const char *buf, size_t len)
{
	return memmem(buf, len, "http://www.w3.org/2000/09/xmldsig#", 34) != NULL &&
	       memmem(buf, len, "Signature", 9) != NULL;
}

/* parse_classify: parse and classify BUF; *DOC on success (free it). */
static int parse_classify(const struct engine *eng, const void *buf, size_t len, int64_t id,
                          struct engine_doc **doc, struct engine_report *rep)
{
	char name[32];
	int rc;

	snprintf(name, sizeof(name), "m%lld", (long long)id);
	if ((rc = engine_doc_parse(eng, buf, len, name, doc, rep)) < 0)
		return rc;
	if ((rc = engine_doc_classify(eng, *doc, rep)) < 0) {
		engine_doc_free(*doc);
		*doc = NULL;
	}
	return rc;
}

/* step_validate: parse, classify, validate, verify; record the summary.
 * The parsed document stays in W for the later steps. */
static int step_validate(struct daemon *d, struct snap *s, struct work *w)
{
	struct engine_report *rep = engine_report_new();
	struct engine_doc *doc = NULL;
	const struct engine_doctype *t = NULL;
	json_t *det = json_object();
	const char *sig = "none";
	char idbuf[32];
	size_t fatal, all;
	int rc, valid = 0;

	if (rep == NULL || det == NULL) {
		rc = SECMX_ENOMEM;
		goto done;
	}
	if ((rc = work_bytes(d, w)) < 0)
		goto done;
	if (parse_classify(s->kit->eng, w->buf, w->len, w->info.id, &doc, rep) >= 0) {
		t = engine_doc_type(doc);
		rc = engine_doc_validate(s->kit->eng, doc, 0, NULL, rep);
		if (rc < 0 && rc != SECMX_EINVALID)
			engine_report_add(rep, "SECMX-VALIDATE", ENGINE_FATAL, 0, "",
			                  "validation could not run: %s", secmx_strerror(rc));
		valid = rc == 0;
		if (has_signature(w->buf, w->len)) {
			if (s->kit->trust) {
				struct engine_verify_opts o = {0, s->kit->verify_flags};

				rc = engine_doc_verify(s->kit->eng, doc, s->kit->trust, &o, rep,
				                       NULL);
				sig = rc == 0 ? "valid" : "invalid";
				if (rc < 0)
					valid = 0;
			} else {
				sig = "unverified";
			}
		}
		json_object_set_new(det, "type", json_string(t->name));
		json_object_set_new(det, "profile", json_string(engine_doc_profile(doc)));
		if (engine_doc_id(doc))
			json_object_set_new(det, "id", json_string(engine_doc_id(doc)));
	}
	fatal = engine_report_fatal_count(rep);
	all = engine_report_count(rep);
	json_object_set_new(det, "valid", json_boolean(valid));
	json_object_set_new(det, "errors", json_integer((json_int_t)fatal));
	json_object_set_new(det, "warnings", json_integer((json_int_t)(all - fatal)));
	json_object_set_new(det, "signature", json_string(sig));
	json_object_set_new(det, "report", report_json(rep));
	snprintf(idbuf, sizeof(idbuf), "m%lld", (long long)w->info.id);
	log_event(valid ? LOGL_INFO : LOGL_NOTICE, idbuf, "doc.validated",
	          "type=%s valid=%d errors=%zu warnings=%zu signature=%s", t ? t->name : "unknown",
	          valid, fatal, all - fatal, sig);
	rc = record(d, w, D_VALIDATE, valid ? "ok" : "invalid", det, "validated");
	det = NULL;
	if (rc == 0 && doc != NULL) {
		/* The next steps work on this parse (verification may have
		 * replaced the tree by exactly the signed bytes: the same). */
		engine_doc_free(w->doc);
		w->doc = doc;
		doc = NULL;
	}
done:
	json_decref(det);
	engine_doc_free(doc);
	engine_report_free(rep);
	return rc;
}

/* work_doc: the parsed document (parsed again when the run started
 * after validate). */
static int work_doc(struct daemon *d, struct snap *s, struct work *w, struct engine_report *rep)
{
	int rc;

	if (w->doc != NULL)
		return 0;
	if ((rc = work_bytes(d, w)) < 0)
		return rc;
	return parse_classify(s->kit->eng, w->buf, w->len, w->info.id, &w->doc, rep);
}

/* first_id: the message whose identity this one carries (a duplicate is
 * delivered and correlated as the first of its kind). */
static int64_t first_id(const struct queue_msg_info *info)
{
	return info->dup_of ? info->dup_of : info->id;
}

/* step_correlate: put the document into its transaction. */
static int step_correlate(struct daemon *d, struct snap *s, struct work *w)
{
	const struct queue_msg_info *info = &w->info;
	struct engine_report *rep = engine_report_new();
	struct engine_txn_result res;
	json_t *v = work_detail(d, w, D_VALIDATE), *det = json_object();
	char idbuf[32];
	int rc, valid;

	memset(&res, 0, sizeof(res));
	if (v == NULL || det == NULL || rep == NULL) {
		rc = v == NULL ? SECMX_ENOTFOUND : SECMX_ENOMEM;
		goto done;
	}
	valid = json_is_true(json_object_get(v, "valid"));
	snprintf(idbuf, sizeof(idbuf), "m%lld", (long long)info->id);
	if (json_object_get(v, "type")) {
		if ((rc = work_doc(d, s, w, rep)) < 0)
			goto done;
		rc = engine_txn_correlate(s->kit->eng, d->q, w->doc, first_id(info), &res, rep);
		if (rc < 0)
			goto done;
		if (!valid) {
			json_t *f = json_array_get(json_object_get(v, "report"), 0);
			char text[600];

			snprintf(text, sizeof(text), "rejected: %lld errors; first: [%s] %s",
			         (long long)json_integer_value(json_object_get(v, "errors")),
			         f ? json_string_value(json_object_get(f, "rule")) : "-",
			         f ? json_string_value(json_object_get(f, "message")) : "-");
			if ((rc = queue_txn_finding_add(d->q, res.txn_id, info->id,
			                                "SECMX-REJECTED", "fatal", text)) < 0)
				goto done;
		}
		json_object_set_new(det, "key", json_string(res.key));
		json_object_set_new(det, "txn_id", json_integer(res.txn_id));
		json_object_set_new(det, "state", json_string(res.state));
		json_object_set_new(det, "created", json_boolean(res.created));
		if (res.duplicate_of) {
			/* The same business document came before: recorded in the
			 * transaction with a SECMX-DUPLICATE warning, not counted
			 * again; the adapters are told (meta.duplicate_of). */
			char first[32];

			json_object_set_new(det, "duplicate_of", json_integer(res.duplicate_of));
			snprintf(first, sizeof(first), "m%lld", res.duplicate_of);
			log_event(LOGL_NOTICE, idbuf, "doc.duplicate",
			          "txn=%s type=%s id=%s duplicate_of=%s", res.key,
			          engine_doc_type(w->doc)->name,
			          engine_doc_id(w->doc) ? engine_doc_id(w->doc) : "-", first);
		}
		log_event(LOGL_INFO, idbuf, "doc.correlated", "txn=%s state=%s created=%d", res.key,
		          res.state, res.created);
	}
	rc = record(d, w, D_CORRELATE, "ok", det, "correlated");
	det = NULL;
done:
	json_decref(det);
	engine_report_free(rep);
	return rc;
}

/* envelope_new: the envelope (docs/protocol.md section 5, without the
 * per-delivery fields) for message INFO from the recorded details. */
static json_t *envelope_new(const struct queue_msg_info *info, json_t *v, json_t *c,
                            const char *route_type, const char *attestation)
{
	json_t *env = json_object(), *val = json_object(), *meta = json_object();
	const char *sig = json_string_value(json_object_get(v, "signature"));
	const char *key = json_string_value(json_object_get(c, "key"));
	const char *profile = json_string_value(json_object_get(v, "profile"));
	char buf[64];

	snprintf(buf, sizeof(buf), "m%lld", (long long)first_id(info));
	json_object_set_new(env, "message_id", json_string(buf));
	/* transaction_id must be a bus key (printable ASCII, no space, at most
	 * 256 bytes); a key that is not one is named by the queue's id. The
	 * transaction key itself is always in meta.transaction_key. */
	if (key && *key && bus_key_ok(key)) {
		json_object_set_new(env, "transaction_id", json_string(key));
	} else if (key && *key) {
		snprintf(buf, sizeof(buf), "txn:%lld",
		         (long long)json_integer_value(json_object_get(c, "txn_id")));
		json_object_set_new(env, "transaction_id", json_string(buf));
	}
	json_object_set_new(env, "document_type", json_string(route_type));
	if (profile)
		json_object_set_new(env, "profile", json_string(profile));
	if (info->sender[0])
		json_object_set_new(env, "sender", json_string(info->sender));
	daemon__iso_time(info->created_at, buf, sizeof(buf));
	json_object_set_new(env, "received_at", json_string(buf));
	json_object_set(val, "valid", json_object_get(v, "valid"));
	json_object_set(val, "errors", json_object_get(v, "errors"));
	json_object_set(val, "warnings", json_object_get(v, "warnings"));
	json_object_set_new(val, "signature",
	                    json_string(sig && strcmp(sig, "unverified") == 0 ? "none" : sig));
	json_object_set_new(env, "validation", val);
	json_object_set_new(meta, "queue_id", json_integer(info->id));
	json_object_set_new(meta, "source", json_string(info->source));
	json_object_set_new(meta, "original_sha256", json_string(info->sha256));
	json_object_set_new(meta, "attestation", json_string(attestation));
	json_object_set_new(meta, "signature", json_string(sig ? sig : "none"));
	/* who handled it, with its version (records keep it as recordkeeping metadata) */
	json_object_set_new(meta, "software", json_string("secmxd " SECMX_VERSION));
	if (json_object_get(v, "id"))
		json_object_set(meta, "document_id", json_object_get(v, "id"));
	if (key && *key)
		json_object_set_new(meta, "transaction_key", json_string(key));
	if (json_object_get(c, "state"))
		json_object_set(meta, "transaction_state", json_object_get(c, "state"));
	if (json_integer_value(json_object_get(c, "duplicate_of")) > 0) {
		snprintf(buf, sizeof(buf), "m%lld",
		         (long long)json_integer_value(json_object_get(c, "duplicate_of")));
		json_object_set_new(meta, "duplicate_of", json_string(buf));
	}
	/* the full validation report for every document: the records adapter
	 * keeps it beside the signed document, valid or not */
	if (json_object_get(v, "report"))
		json_object_set(meta, "report", json_object_get(v, "report"));
	json_object_set_new(env, "meta", meta);
	return env;
}

/* bundle_new: the delivery bundle: envelope text ENV (compact JSON ending
 * in meta, its last member), '\n', BODY. ORIG_ID > 0: a document delivered
 * signed by us, whose bytes received are queue message ORIG_ID (digest
 * ORIG_SHA, hex); they reach the adapters as meta's last member
 * original_b64, but the bundle only names them in a first line
 * "@original ID SHA256" and the bus side splices them in at send time
 * (daemon.c, bundle_envelope): the same envelope bytes on the wire, without
 * storing the bytes a second time as base64 (13.6 KB of WAL per document).
 * *OUT (malloc) and *OUTLEN; 0 or SECMX_ENOMEM. */
static int bundle_new(const char *env, const void *body, size_t body_len, int64_t orig_id,
                      const char *orig_sha, char **out, size_t *outlen)
{
	char head[32 + 65 + 16];
	size_t elen = strlen(env), hlen = 0;
	char *p;

	*out = NULL;
	if (orig_id > 0)
		hlen = (size_t)snprintf(head, sizeof(head), "@original %lld %s\n",
		                        (long long)orig_id, orig_sha);
	if (hlen >= sizeof(head))
		return SECMX_EINTERNAL;
	if ((p = malloc(hlen + elen + 1 + body_len + 1)) == NULL)
		return SECMX_ENOMEM;
	*out = p;
	memcpy(p, head, hlen);
	p += hlen;
	memcpy(p, env, elen);
	p += elen;
	*p++ = '\n';
	memcpy(p, body, body_len);
	*outlen = (size_t)(p - *out) + body_len;
	return 0;
}

/* step_attest: sign a valid document and store the delivery bundle. */
static int step_attest(struct daemon *d, struct snap *s, struct work *w)
{
	const struct queue_msg_info *info = &w->info;
	struct engine_report *rep = engine_report_new();
	json_t *v = work_detail(d, w, D_VALIDATE);
	json_t *c = work_detail(d, w, D_CORRELATE), *env = NULL, *det = NULL;
	const char *attest = "none", *type, *sig, *key;
	char route_type[BUS_MAX_ID + 1], idbuf[32], *envtext = NULL, *bundle = NULL;
	char *signed_buf = NULL;
	size_t signed_len = 0, blen = 0;
	struct queue_msg_in in;
	struct queue_put_result res;
	const void *body;
	size_t body_len;
	int rc, valid;

	if (v == NULL || c == NULL || rep == NULL) {
		rc = v == NULL || c == NULL ? SECMX_ENOTFOUND : SECMX_ENOMEM;
		goto done;
	}
	snprintf(idbuf, sizeof(idbuf), "m%lld", (long long)info->id);
	valid = json_is_true(json_object_get(v, "valid"));
	type = json_string_value(json_object_get(v, "type"));
	sig = json_string_value(json_object_get(v, "signature"));
	key = json_string_value(json_object_get(c, "key"));
	if ((rc = work_bytes(d, w)) < 0)
		goto done;
	body = w->buf;
	body_len = w->len;
	if (valid && s->kit->key && sig && strcmp(sig, "none") != 0) {
		attest = "not-added:sender-signed"; /* one signature per document */
	} else if (valid && s->kit->key) {
		if ((rc = work_doc(d, s, w, rep)) < 0 ||
		    (rc = engine_doc_sign(s->kit->eng, w->doc, s->kit->key, rep)) < 0 ||
		    (rc = engine_doc_serialize(w->doc, &signed_buf, &signed_len)) < 0)
			goto done;
		/* The tree now holds our signature: no later step may use it. */
		engine_doc_free(w->doc);
		w->doc = NULL;
		body = signed_buf;
		body_len = signed_len;
		attest = "signed";
	}
	snprintf(route_type, sizeof(route_type), "%s%s",
	         valid ? "" : "reject:", type ? type : "unknown");
	if ((env = envelope_new(info, v, c, route_type, attest)) == NULL ||
	    (envtext = json_dumps(env, JSON_COMPACT)) == NULL) {
		rc = SECMX_ENOMEM;
		goto done;
	}
	if ((rc = bundle_new(envtext, body, body_len, body != w->buf ? info->id : 0, info->sha256,
	                     &bundle, &blen)) < 0)
		goto done;
	/* A bundle is never a duplicate of anything (a repeated attest step
	 * stores a new one), so it has no document id: the duplicate detection
	 * neither looks it up nor remembers it (two statements and a seen row
	 * fewer per document). A crash before the step record leaves an
	 * unreferenced bundle, never a second delivery. */
	memset(&in, 0, sizeof(in));
	in.data = bundle;
	in.len = blen;
	in.source = "bundle";
	in.sender = "secmxd";
	in.doc_type = route_type;
	in.txn_key = key && *key ? key : NULL;
	in.state = "bundle";
	if ((rc = queue_msg_put(d->q, &in, &res)) < 0)
		goto done;
	det = json_object();
	json_object_set_new(det, "bundle", json_integer(res.id));
	json_object_set_new(det, "route_type", json_string(route_type));
	json_object_set_new(det, "attestation", json_string(attest));
	log_event(LOGL_INFO, idbuf, "doc.attested", "attestation=%s bundle=%lld route_type=%s",
	          attest, (long long)res.id, route_type);
	rc = record(d, w, D_ATTEST, attest, det, "attested");
done:
	if (rc < 0 && engine_report_count(rep) > 0) {
		const struct engine_finding *f = engine_report_at(rep, 0);

		log_event(LOGL_ERR, info->id ? idbuf : "-", "doc.attest-failed",
		          "rule=%s message=%s", f->rule, f->message);
	}
	json_decref(env);
	free(envtext);
	free(bundle);
	free(signed_buf);
	engine_report_free(rep);
	return rc;
}

/* route_matches: does route R take documents of ROUTE_TYPE? Patterns
 * starting with "reject:" take only rejects, all others only valid ones. */
static int route_matches(const struct route *r, const char *route_type)
{
	int rej_pat = strncmp(r->pattern, "reject:", 7) == 0;
	int rej_doc = strncmp(route_type, "reject:", 7) == 0;

	return rej_pat == rej_doc && bus_pattern_match(r->pattern, route_type);
}

/* step_route: one delivery per subscribed adapter, recorded with the
 * step in one commit. */
static int step_route(struct daemon *d, struct snap *s, struct work *w)
{
	const struct queue_msg_info *info = &w->info;
	json_t *a = work_detail(d, w, D_ATTEST), *det = NULL, *names = NULL;
	struct queue_msg_info first;
	struct queue_deliveries dl;
	const char **adapters = NULL;
	int *existed = NULL;
	const char *route_type;
	char idem[BUS_MAX_KEY], idbuf[32], *text = NULL;
	size_t i, j;
	int rc;

	if (a == NULL)
		return SECMX_ENOTFOUND;
	snprintf(idbuf, sizeof(idbuf), "m%lld", (long long)info->id);
	route_type = json_string_value(json_object_get(a, "route_type"));
	memset(&dl, 0, sizeof(dl));
	dl.msg_id = json_integer_value(json_object_get(a, "bundle"));
	if (route_type == NULL || dl.msg_id <= 0)
		return SECMX_ECORRUPT;
	first = *info;
	if (info->dup_of && (rc = queue_msg_info(d->q, info->dup_of, &first)) < 0)
		return rc;
	/* The same key for every copy of the same document to the same adapter:
	 * the first message's id and the start of its digest. */
	snprintf(idem, sizeof(idem), "m%lld-%.16s", (long long)first.id, first.sha256);
	adapters = calloc(s->nroutes + 1, sizeof(*adapters));
	existed = calloc(s->nroutes + 1, sizeof(*existed));
	names = json_array();
	if (adapters == NULL || existed == NULL || names == NULL) {
		rc = SECMX_ENOMEM;
		goto done;
	}
	for (i = 0; i < s->nroutes; i++) {
		const struct route *r = &s->routes[i];

		if (!route_matches(r, route_type))
			continue;
		for (j = 0; j < dl.n && strcmp(adapters[j], r->adapter) != 0; j++)
			;
		if (j == dl.n) {
			adapters[dl.n++] = r->adapter;
			json_array_append_new(names, json_string(r->adapter));
		}
	}
	dl.adapters = adapters;
	dl.idem_key = idem;
	dl.existed = existed;
	det = json_object();
	json_object_set_new(det, "adapters", names);
	names = NULL;
	if ((text = json_dumps(det, JSON_COMPACT)) == NULL) {
		rc = SECMX_ENOMEM;
		goto done;
	}
	if ((rc = queue_step_deliver(d->q, &w->lease, "route", "ok", text, QUEUE_STATE_DONE,
	                             &dl)) < 0)
		goto done;
	for (i = 0; rc == 0 && i < dl.n; i++)
		log_event(LOGL_INFO, idbuf, "doc.routed", "adapter=%s type=%s idem=%s duplicate=%d",
		          adapters[i], route_type, idem, existed[i]);
	if (dl.n == 0)
		log_event(LOGL_NOTICE, idbuf, "doc.unrouted", "type=%s", route_type);
	if (rc == 0) {
		atomic_fetch_add(&d->processed, 1);
		/* Under group commit the deliveries are not durable yet (the run
		 * is a deferred scope) and cannot go out: the queue's on_durable
		 * wakes the bus side once they are, so waking it here only made
		 * it ask for deliveries that were never there. */
		if (!d->cfg.group_commit)
			daemon__efd_signal(d->deliver_efd);
	}
	rc = 0;
done:
	free(text);
	free(adapters);
	free(existed);
	json_decref(det);
	json_decref(names);
	return rc;
}

typedef int (*step_fn)(struct daemon *, struct snap *, struct work *);

/* The pipeline in order; claims look latest step first (finish messages
 * before starting new ones), and a run goes on from the claimed step to
 * the end under the same lease. */
static const struct {
	const char *state;
	const char *step;
	step_fn fn;
} STEPS[] = {
    {QUEUE_STATE_NEW, "validate", step_validate},
    {"validated", "correlate", step_correlate},
    {"correlated", "attest", step_attest},
    {"attested", "route", step_route},
};

#define NSTEPS (sizeof(STEPS) / sizeof(STEPS[0]))

/* run_one: claim a message and run its steps to the end; 1 if something
 * was done, 0 if idle. A failing step defers the message (or dead-letters
 * it) and ends the run. */
static int run_one(struct daemon *d)
{
	struct work w;
	struct snap *s;
	size_t i, k;

	memset(&w, 0, sizeof(w));
	/* A run goes to the end, so messages wait between steps only after a
	 * crash, a deferral or a lost lease: look for them (latest step first)
	 * at most once a second while none turn up, then for new ones. */
	k = NSTEPS - 1;
	/* The run's writes do not wait for the disk (queue_defer_begin): a
	 * crash loses at most whole steps, repeated on the next claim, and
	 * its deliveries go out only once durable. */
	queue_defer_begin(d->q);
	if (daemon__now_ms() >= atomic_load(&d->mid_check_at)) {
		for (; k > 0; k--)
			if (queue_claim(d->q, STEPS[k].state, 0, &w.lease, &w.info) == 1)
				break;
		if (k == 0)
			atomic_store(&d->mid_check_at, daemon__now_ms() + 1000);
	} else {
		k = 0;
	}
	if (k == 0 && queue_claim(d->q, STEPS[0].state, 0, &w.lease, &w.info) != 1) {
		queue_defer_end(d->q, 0);
		return 0;
	}
	s = daemon__snap_get(d);
	for (i = k; i < NSTEPS; i++) {
		char idbuf[32];
		int rc = STEPS[i].fn(d, s, &w);

		if (rc >= 0)
			continue;
		atomic_store(&d->mid_check_at, 0); /* it may wait between steps now */
		/* What the run stored so far stays; the deferral waits for it. */
		queue_defer_end(d->q, 0);
		if (rc != SECMX_ESTATE && rc != SECMX_ECORRUPT) {
			const char *why = secmx_strerror(rc);

			snprintf(idbuf, sizeof(idbuf), "m%lld", (long long)w.info.id);
			rc = queue_msg_defer(d->q, &w.lease, why, 0);
			log_event(LOGL_WARNING, idbuf, rc == 1 ? "doc.dead" : "doc.deferred",
			          "step=%s attempts=%u reason=%s", STEPS[i].step,
			          w.info.attempts + 1, why);
		}
		break;
	}
	if (i == NSTEPS)
		queue_defer_end(d->q, 0);
	daemon__snap_put(s);
	work_clear(&w);
	return 1;
}

/* daemon__worker: claim and run messages until the daemon stops; a
 * message taken is run to its end first. Idle: wait for a wake-up token on
 * work_efd (one per message stored); a worker that finds the token taken
 * by another goes back to sleep without claiming; every 250 ms it looks
 * anyway (deferred messages falling due). */
void *daemon__worker(void *arg)
{
	struct daemon *d = arg;
	struct pollfd p = {.fd = d->work_efd, .events = POLLIN};
	uint64_t v;
	int look = 1;

	secmx_thread_name("secmxd-worker");
	while (!atomic_load(&d->stopping)) {
		int n;

		if (look && run_one(d))
			continue;
		n = poll(&p, 1, 250);
		look = n <= 0 || read(d->work_efd, &v, sizeof(v)) == (ssize_t)sizeof(v);
	}
	return NULL;
}
