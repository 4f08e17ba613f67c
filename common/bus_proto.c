/*
 * bus_proto.c — the secmx bus wire codec: the message catalogue, one strict
 * reader and one builder, shared by the daemon's bus (bus/) and the adapter
 * SDK (adapters/sdk/).
 *
 * Interface (declared in common.h, "bus wire protocol" section):
 *   bus_msg_decode()   frames → checked message; refuses anything not exactly
 *                      as specified (frame count, sizes, header, version,
 *                      type and direction, JSON object, per-type schema).
 *   bus_msg_encode()   JSON body (+ document) → frames, checked by the same
 *                      schema so that we never send what we would refuse.
 *   bus_build_*()      typed builders over bus_msg_encode().
 *   bus_build_deliver() DELIVER from the daemon's envelope text by splicing
 *                      the per-delivery fields in, after a conservative
 *                      no-allocation scan (bus_envelope_fast_ok) that falls
 *                      back to the jansson path when unsure.
 *   bus_*_ok(), bus_pattern_match()   the schema's string rules.
 *
 * Errors: SECMX_EPARSE (malformed), SECMX_ELIMIT (too large), SECMX_EINVAL (a
 * builder was given bad values), SECMX_ENOMEM. The protocol error code
 * (enum bus_err) and a one-line reason come back to the caller; nothing here
 * logs. Limits: BUS_MAX_* in common.h. Thread-safe: no state.
 */
#include "common.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* Field kinds of a body schema. */
enum kind {
	K_ID,       /* 1..BUS_MAX_ID of [A-Za-z0-9._:-] */
	K_NAME,     /* adapter name: 1..BUS_MAX_ID of [A-Za-z0-9._-], alnum first */
	K_KEY,      /* 1..BUS_MAX_KEY printable ASCII, no space */
	K_TEXT,     /* UTF-8, no control characters, MAX bytes */
	K_TIME,     /* RFC 3339 UTC timestamp: 2026-11-29T01:02:03Z (fraction allowed) */
	K_INT,      /* integer MIN..MAX */
	K_BOOL,     /* true / false */
	K_ENUM,     /* one of ENUMV */
	K_PATTERNS, /* array of 1..BUS_MAX_PATTERNS patterns */
	K_OBJ,      /* object; checked against SUB if given, else free-form */
};

struct field {
	const char *name;
	enum kind kind;
	int required;
	long long min, max;
	const char *const *enumv;
	const struct field *sub;
};

static const char *const NACK_KINDS[] = {"transient", "permanent", NULL};
static const char *const SUBMIT_STATUS[] = {"accepted", "refused", NULL};
static const char *const SIG_STATUS[] = {"none", "valid", "invalid", NULL};
static const char *const ERR_NAMES[] = {
	"none",  "frames",  "size",    "header", "version",  "type",     "json",
	"schema", "state",  "refused", "busy",   "replaced", "internal", NULL};

#define END {NULL, 0, 0, 0, 0, NULL, NULL}

static const struct field F_HELLO[] = {
	{"name", K_NAME, 1, 0, 0, NULL, NULL},
	{"patterns", K_PATTERNS, 1, 0, 0, NULL, NULL},
	{"credit", K_INT, 1, 1, BUS_MAX_CREDIT, NULL, NULL},
	{"software", K_TEXT, 0, 0, 128, NULL, NULL},
	END};
static const struct field F_WELCOME[] = {
	{"session", K_ID, 1, 0, 0, NULL, NULL},
	{"heartbeat_ms", K_INT, 1, 10, 3600000, NULL, NULL},
	{"dead_ms", K_INT, 1, 10, 3600000, NULL, NULL},
	{"ack_timeout_ms", K_INT, 1, 10, 86400000, NULL, NULL},
	{"credit", K_INT, 1, 1, BUS_MAX_CREDIT, NULL, NULL},
	{"max_document_bytes", K_INT, 1, 1, BUS_MAX_DOC, NULL, NULL},
	END};
static const struct field F_VALIDATION[] = {
	{"valid", K_BOOL, 1, 0, 0, NULL, NULL},
	{"errors", K_INT, 0, 0, 1000000, NULL, NULL},
	{"warnings", K_INT, 0, 0, 1000000, NULL, NULL},
	{"signature", K_ENUM, 0, 0, 0, SIG_STATUS, NULL},
	{"rules", K_TEXT, 0, 0, BUS_MAX_TEXT, NULL, NULL},
	END};
static const struct field F_DELIVER[] = {
	{"delivery_id", K_ID, 1, 0, 0, NULL, NULL},
	{"idempotency_key", K_KEY, 1, 0, 0, NULL, NULL},
	{"message_id", K_KEY, 1, 0, 0, NULL, NULL},
	{"transaction_id", K_KEY, 0, 0, 0, NULL, NULL},
	{"document_type", K_ID, 1, 0, 0, NULL, NULL},
	{"profile", K_KEY, 0, 0, 0, NULL, NULL},
	{"sender", K_TEXT, 0, 0, 256, NULL, NULL},
	{"received_at", K_TIME, 1, 0, 0, NULL, NULL},
	{"attempt", K_INT, 1, 1, 1000000000, NULL, NULL},
	{"document_size", K_INT, 1, 0, BUS_MAX_DOC, NULL, NULL},
	{"validation", K_OBJ, 0, 0, 0, NULL, F_VALIDATION},
	{"meta", K_OBJ, 0, 0, 0, NULL, NULL},
	END};
static const struct field F_ACK[] = {
	{"delivery_id", K_ID, 1, 0, 0, NULL, NULL},
	END};
static const struct field F_NACK[] = {
	{"delivery_id", K_ID, 1, 0, 0, NULL, NULL},
	{"kind", K_ENUM, 1, 0, 0, NACK_KINDS, NULL},
	{"reason", K_TEXT, 1, 1, BUS_MAX_TEXT, NULL, NULL},
	END};
static const struct field F_SUBMIT[] = {
	{"request_id", K_ID, 1, 0, 0, NULL, NULL},
	{"idempotency_key", K_KEY, 1, 0, 0, NULL, NULL},
	{"document_type", K_ID, 0, 0, 0, NULL, NULL},
	{"document_size", K_INT, 1, 0, BUS_MAX_DOC, NULL, NULL},
	{"metadata", K_OBJ, 0, 0, 0, NULL, NULL},
	END};
static const struct field F_SUBMIT_RESULT[] = {
	{"request_id", K_ID, 1, 0, 0, NULL, NULL},
	{"status", K_ENUM, 1, 0, 0, SUBMIT_STATUS, NULL},
	{"message_id", K_KEY, 0, 0, 0, NULL, NULL},
	{"reason", K_TEXT, 0, 0, BUS_MAX_TEXT, NULL, NULL},
	END};
static const struct field F_EMPTY[] = {END};
static const struct field F_ERROR[] = {
	{"code", K_ENUM, 1, 0, 0, ERR_NAMES + 1, NULL},
	{"message", K_TEXT, 1, 0, BUS_MAX_TEXT, NULL, NULL},
	{"ref", K_KEY, 0, 0, 0, NULL, NULL},
	END};
static const struct field F_BYE[] = {
	{"reason", K_TEXT, 0, 0, BUS_MAX_TEXT, NULL, NULL},
	END};

/* The catalogue: name, frame count, who may send it, body schema. */
static const struct {
	const char *name;
	int nframes;
	int from; /* bit mask of enum bus_side */
	const struct field *schema;
} CATALOGUE[BUS_MSG__MAX + 1] = {
	[BUS_MSG_HELLO] = {"HELLO", 2, BUS_FROM_ADAPTER, F_HELLO},
	[BUS_MSG_WELCOME] = {"WELCOME", 2, BUS_FROM_SERVER, F_WELCOME},
	[BUS_MSG_DELIVER] = {"DELIVER", 3, BUS_FROM_SERVER, F_DELIVER},
	[BUS_MSG_ACK] = {"ACK", 2, BUS_FROM_ADAPTER, F_ACK},
	[BUS_MSG_NACK] = {"NACK", 2, BUS_FROM_ADAPTER, F_NACK},
	[BUS_MSG_SUBMIT] = {"SUBMIT", 3, BUS_FROM_ADAPTER, F_SUBMIT},
	[BUS_MSG_SUBMIT_RESULT] = {"SUBMIT_RESULT", 2, BUS_FROM_SERVER, F_SUBMIT_RESULT},
	[BUS_MSG_HEARTBEAT] = {"HEARTBEAT", 2, BUS_FROM_ADAPTER | BUS_FROM_SERVER, F_EMPTY},
	[BUS_MSG_ERROR] = {"ERROR", 2, BUS_FROM_SERVER, F_ERROR},
	[BUS_MSG_BYE] = {"BYE", 2, BUS_FROM_ADAPTER | BUS_FROM_SERVER, F_BYE},
};

/* bus_msg_name: the catalogue name of a type. */
const char *bus_msg_name(int type)
{
	if (type < 1 || type > BUS_MSG__MAX)
		return "UNKNOWN";
	return CATALOGUE[type].name;
}

/* bus_err_name: the wire name of a protocol error code. */
const char *bus_err_name(int code)
{
	if (code < 0 || code > BUS_ERR__MAX)
		return "internal";
	return ERR_NAMES[code];
}

/* bus_err_from_name: wire name → code. */
int bus_err_from_name(const char *name)
{
	int i;

	for (i = 1; name && i <= BUS_ERR__MAX; i++)
		if (strcmp(ERR_NAMES[i], name) == 0)
			return i;
	return BUS_ERR_INTERNAL;
}

/* charset_ok: S is 1..MAX bytes, each accepted by ALLOWED. */
static int charset_ok(const char *s, size_t max, int (*allowed)(int c))
{
	size_t n;

	if (!s)
		return 0;
	for (n = 0; s[n]; n++)
		if (n >= max || !allowed((unsigned char)s[n]))
			return 0;
	return n > 0;
}

/* id_char: characters of ids. */
static int id_char(int c)
{
	return isascii(c) && (isalnum(c) || c == '.' || c == '_' || c == ':' || c == '-');
}

/* name_char: characters of adapter names. */
static int name_char(int c)
{
	return isascii(c) && (isalnum(c) || c == '.' || c == '_' || c == '-');
}

/* key_char: printable ASCII without space. */
static int key_char(int c)
{
	return c > 0x20 && c < 0x7f;
}

/* pattern_char: id characters plus the wildcards. */
static int pattern_char(int c)
{
	return id_char(c) || c == '*' || c == '?';
}

/* bus_id_ok: a delivery, request or session id. */
int bus_id_ok(const char *s)
{
	return charset_ok(s, BUS_MAX_ID, id_char);
}

/* bus_name_ok: an adapter name (starts with a letter or digit). */
int bus_name_ok(const char *s)
{
	return charset_ok(s, BUS_MAX_ID, name_char) && isalnum((unsigned char)s[0]);
}

/* bus_key_ok: an idempotency key or message id. */
int bus_key_ok(const char *s)
{
	return charset_ok(s, BUS_MAX_KEY, key_char);
}

/* bus_pattern_ok: a document-type pattern in HELLO. */
int bus_pattern_ok(const char *s)
{
	return charset_ok(s, BUS_MAX_PATTERN, pattern_char);
}

/* bus_pattern_match: glob match with '*' and '?', iterative (no recursion). */
int bus_pattern_match(const char *p, const char *t)
{
	const char *star = NULL, *mark = NULL;

	while (*t) {
		if (*p == '?' || (*p && *p != '*' && *p == *t)) {
			p++;
			t++;
		} else if (*p == '*') {
			star = p++;
			mark = t;
		} else if (star) {
			p = star + 1;
			t = ++mark;
		} else {
			return 0;
		}
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

/* text_ok: no control characters (jansson has already checked UTF-8). */
static int text_ok(const char *s, size_t len, long long min, long long max)
{
	size_t i;

	if ((long long)len < min || (long long)len > max)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

/* time_ok: YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z. */
static int time_ok(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";
	size_t i;

	for (i = 0; shape[i]; i++) {
		if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
			return 0;
	}
	if (s[i] == '.') {
		size_t n = 0;

		for (i++; isdigit((unsigned char)s[i]); i++)
			n++;
		if (n < 1 || n > 9)
			return 0;
	}
	return s[i] == 'Z' && s[i + 1] == '\0';
}

/* check_value: one field's value against its rule. */
static int check_value(const struct field *f, json_t *v, char *err, size_t errlen);

/* check_object: OBJ against SCHEMA: no unknown, every required, each valid. */
static int check_object(const struct field *schema, json_t *obj, const char *where, char *err,
			size_t errlen)
{
	const struct field *f;
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v) {
		for (f = schema; f->name; f++)
			if (strcmp(f->name, key) == 0)
				break;
		if (!f->name) {
			secmx_errf(err, errlen, "%s: unknown field \"%.64s\"", where, key);
			return -1;
		}
	}
	for (f = schema; f->name; f++) {
		v = json_object_get(obj, f->name);
		if (!v) {
			if (f->required) {
				secmx_errf(err, errlen, "%s: missing field \"%s\"", where, f->name);
				return -1;
			}
			continue;
		}
		if (check_value(f, v, err, errlen) < 0)
			return -1;
	}
	return 0;
}

/* check_string: string S (LEN bytes, NUL-terminated) against F's kind and
 * bounds; F is of a string kind. 1 if valid, 0 if not. */
static int check_string(const struct field *f, const char *s, size_t len)
{
	size_t i;

	switch (f->kind) {
	case K_ID:
		return bus_id_ok(s);
	case K_NAME:
		return bus_name_ok(s);
	case K_KEY:
		return bus_key_ok(s);
	case K_TEXT:
		return text_ok(s, len, f->min, f->max);
	case K_TIME:
		return time_ok(s);
	case K_ENUM:
		for (i = 0; f->enumv[i]; i++)
			if (strcmp(f->enumv[i], s) == 0)
				return 1;
		return 0;
	default:
		return 0;
	}
}

/* check_value: one field against its kind and bounds. */
static int check_value(const struct field *f, json_t *v, char *err, size_t errlen)
{
	const char *s = json_string_value(v);
	size_t i, n;

	switch (f->kind) {
	case K_ID:
	case K_NAME:
	case K_KEY:
	case K_TEXT:
	case K_TIME:
	case K_ENUM:
		if (!s || !check_string(f, s, json_string_length(v)))
			goto bad;
		return 0;
	case K_INT:
		if (!json_is_integer(v) || json_integer_value(v) < f->min ||
		    json_integer_value(v) > f->max)
			goto bad;
		return 0;
	case K_BOOL:
		if (!json_is_boolean(v))
			goto bad;
		return 0;
	case K_PATTERNS:
		n = json_array_size(v);
		if (!json_is_array(v) || n < 1 || n > BUS_MAX_PATTERNS)
			goto bad;
		for (i = 0; i < n; i++)
			if (!bus_pattern_ok(json_string_value(json_array_get(v, i))))
				goto bad;
		return 0;
	case K_OBJ:
		if (!json_is_object(v))
			goto bad;
		return f->sub ? check_object(f->sub, v, f->name, err, errlen) : 0;
	}
bad:
	secmx_errf(err, errlen, "field \"%s\" has a bad value", f->name);
	return -1;
}

/* str: a string member of OBJ, or NULL. */
static const char *str(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* num: an integer member of OBJ, or 0. */
static long num(json_t *obj, const char *key)
{
	return (long)json_integer_value(json_object_get(obj, key));
}

/* fill_view: the typed view of a checked body (pointers into BODY). */
static void fill_view(struct bus_msg *m)
{
	json_t *b = m->body, *a;
	size_t i;

	switch (m->type) {
	case BUS_MSG_HELLO:
		m->u.hello.name = str(b, "name");
		a = json_object_get(b, "patterns");
		for (i = 0; i < json_array_size(a); i++)
			m->u.hello.patterns[i] = json_string_value(json_array_get(a, i));
		m->u.hello.npatterns = json_array_size(a);
		m->u.hello.credit = num(b, "credit");
		break;
	case BUS_MSG_WELCOME:
		m->u.welcome.session = str(b, "session");
		m->u.welcome.heartbeat_ms = num(b, "heartbeat_ms");
		m->u.welcome.dead_ms = num(b, "dead_ms");
		m->u.welcome.ack_timeout_ms = num(b, "ack_timeout_ms");
		m->u.welcome.credit = num(b, "credit");
		m->u.welcome.max_document_bytes = num(b, "max_document_bytes");
		break;
	case BUS_MSG_DELIVER:
		m->u.deliver.delivery_id = str(b, "delivery_id");
		m->u.deliver.idempotency_key = str(b, "idempotency_key");
		m->u.deliver.document_type = str(b, "document_type");
		m->u.deliver.attempt = num(b, "attempt");
		break;
	case BUS_MSG_ACK:
		m->u.ack.delivery_id = str(b, "delivery_id");
		break;
	case BUS_MSG_NACK:
		m->u.nack.delivery_id = str(b, "delivery_id");
		m->u.nack.reason = str(b, "reason");
		m->u.nack.kind = strcmp(str(b, "kind"), "permanent") == 0 ? BUS_NACK_PERMANENT
									  : BUS_NACK_TRANSIENT;
		break;
	case BUS_MSG_SUBMIT:
		m->u.submit.request_id = str(b, "request_id");
		m->u.submit.idempotency_key = str(b, "idempotency_key");
		m->u.submit.document_type = str(b, "document_type");
		break;
	case BUS_MSG_SUBMIT_RESULT:
		m->u.submit_result.request_id = str(b, "request_id");
		m->u.submit_result.message_id = str(b, "message_id");
		m->u.submit_result.reason = str(b, "reason");
		m->u.submit_result.accepted = strcmp(str(b, "status"), "accepted") == 0;
		break;
	case BUS_MSG_ERROR:
		m->u.error.code = str(b, "code");
		m->u.error.message = str(b, "message");
		m->u.error.ref = str(b, "ref");
		break;
	case BUS_MSG_BYE:
		m->u.bye.reason = str(b, "reason");
		break;
	}
}

/* check_body: schema plus the cross-field rules of TYPE. */
static int check_body(int type, json_t *body, size_t doc_len, int *code, char *err,
		      size_t errlen)
{
	if (check_object(CATALOGUE[type].schema, body, CATALOGUE[type].name, err, errlen) < 0) {
		*code = BUS_ERR_SCHEMA;
		return SECMX_EPARSE;
	}
	if (CATALOGUE[type].nframes == 3 &&
	    (size_t)json_integer_value(json_object_get(body, "document_size")) != doc_len) {
		*code = BUS_ERR_SCHEMA;
		secmx_errf(err, errlen, "document_size does not match the document frame");
		return SECMX_EPARSE;
	}
	if (type == BUS_MSG_SUBMIT_RESULT) {
		int accepted = strcmp(str(body, "status"), "accepted") == 0;

		if (accepted != (json_object_get(body, "message_id") != NULL)) {
			*code = BUS_ERR_SCHEMA;
			secmx_errf(err, errlen, "message_id goes with accepted only");
			return SECMX_EPARSE;
		}
	}
	return 0;
}

/* bus_msg_decode: the strict reader (see common.h). */
int bus_msg_decode(const struct bus_frame *frames, size_t nframes, int from, size_t max_doc,
		   struct bus_msg *m, int *code, char *err, size_t errlen)
{
	const unsigned char *h;
	json_error_t jerr;
	json_t *body = NULL;
	int type, rc = SECMX_EPARSE;

	memset(m, 0, sizeof(*m));
	*code = BUS_ERR_NONE;
	if (max_doc == 0 || max_doc > BUS_MAX_DOC)
		max_doc = BUS_MAX_DOC;
	if (nframes < 1 || nframes > BUS_MAX_FRAMES) {
		*code = BUS_ERR_FRAMES;
		secmx_errf(err, errlen, "%zu frames (1 to %d expected)", nframes, BUS_MAX_FRAMES);
		goto out;
	}
	h = frames[0].data;
	if (frames[0].len != BUS_HEAD_LEN || h[0] != BUS_MAGIC0 || h[1] != BUS_MAGIC1) {
		*code = BUS_ERR_HEADER;
		secmx_errf(err, errlen, "header frame is not 'S' 'X' version type");
		goto out;
	}
	if (h[2] != BUS_PROTO_VERSION) {
		*code = BUS_ERR_VERSION;
		secmx_errf(err, errlen, "protocol version %u (this side speaks %d)", h[2],
			   BUS_PROTO_VERSION);
		goto out;
	}
	type = h[3];
	if (type < 1 || type > BUS_MSG__MAX || !(CATALOGUE[type].from & from)) {
		*code = BUS_ERR_TYPE;
		secmx_errf(err, errlen, "message type %d not accepted from this side", type);
		goto out;
	}
	if (nframes != (size_t)CATALOGUE[type].nframes) {
		*code = BUS_ERR_FRAMES;
		secmx_errf(err, errlen, "%s with %zu frames (%d expected)", CATALOGUE[type].name,
			   nframes, CATALOGUE[type].nframes);
		goto out;
	}
	if (frames[1].len > bus_max_body(type, max_doc) ||
	    (nframes == 3 && frames[2].len > max_doc)) {
		*code = BUS_ERR_SIZE;
		rc = SECMX_ELIMIT;
		secmx_errf(err, errlen, "%s frame too large",
			   frames[1].len > bus_max_body(type, max_doc) ? "body" : "document");
		goto out;
	}
	body = json_loadb(frames[1].data, frames[1].len, JSON_REJECT_DUPLICATES, &jerr);
	if (!body || !json_is_object(body)) {
		*code = BUS_ERR_JSON;
		secmx_errf(err, errlen, "body is not one JSON object%s%.100s", body ? "" : ": ",
			   body ? "" : jerr.text);
		goto out;
	}
	if ((rc = check_body(type, body, nframes == 3 ? frames[2].len : 0, code, err, errlen)) < 0)
		goto out;
	m->type = type;
	m->body = body;
	body = NULL;
	if (nframes == 3) {
		m->doc = frames[2].data;
		m->doc_len = frames[2].len;
	}
	fill_view(m);
	rc = 0;
out:
	json_decref(body);
	return rc;
}

/* bus_max_body: the body limit of a message type (see common.h). */
size_t bus_max_body(int type, size_t max_doc)
{
	if (type != BUS_MSG_DELIVER)
		return BUS_MAX_BODY;
	if (max_doc == 0 || max_doc > BUS_MAX_DOC)
		max_doc = BUS_MAX_DOC;
	return BUS_MAX_BODY + 4 * ((max_doc + 2) / 3);
}

/* bus_msg_clear: release a decoded message. */
void bus_msg_clear(struct bus_msg *m)
{
	if (!m)
		return;
	json_decref(m->body);
	memset(m, 0, sizeof(*m));
}

/* bus_msg_encode: the builder (see common.h). */
int bus_msg_encode(int type, json_t *body, const void *doc, size_t doc_len, struct bus_wire *w,
		   char *err, size_t errlen)
{
	int code, rc = SECMX_EINVAL;

	memset(w, 0, sizeof(*w));
	if (type < 1 || type > BUS_MSG__MAX || !json_is_object(body)) {
		secmx_errf(err, errlen, "bad message type or body");
		goto out;
	}
	if (CATALOGUE[type].nframes == 3) {
		if (doc_len > BUS_MAX_DOC) {
			rc = SECMX_ELIMIT;
			secmx_errf(err, errlen, "document larger than %d bytes", BUS_MAX_DOC);
			goto out;
		}
		if (json_object_set_new(body, "document_size", json_integer((json_int_t)doc_len))) {
			rc = SECMX_ENOMEM;
			goto out;
		}
	}
	if (check_body(type, body, doc_len, &code, err, errlen) < 0)
		goto out;
	w->body = json_dumps(body, JSON_COMPACT);
	if (!w->body) {
		rc = SECMX_ENOMEM;
		goto out;
	}
	w->body_len = strlen(w->body);
	if (w->body_len > bus_max_body(type, 0)) {
		rc = SECMX_ELIMIT;
		secmx_errf(err, errlen, "body larger than %zu bytes", bus_max_body(type, 0));
		bus_wire_free(w);
		goto out;
	}
	w->head[0] = BUS_MAGIC0;
	w->head[1] = BUS_MAGIC1;
	w->head[2] = BUS_PROTO_VERSION;
	w->head[3] = (unsigned char)type;
	w->nframes = CATALOGUE[type].nframes;
	if (w->nframes == 3) {
		w->doc = doc;
		w->doc_len = doc_len;
	}
	rc = 0;
out:
	json_decref(body);
	return rc;
}

/* bus_wire_free: release an encoded message. */
void bus_wire_free(struct bus_wire *w)
{
	if (!w)
		return;
	free(w->body);
	memset(w, 0, sizeof(*w));
}

/*
 * The envelope scanner: a check of a DELIVER envelope's text, with no tree
 * and no allocation, for the server's DELIVER builder (the daemon's bus
 * sends every delivery through it). It is conservative: it says yes only
 * when jansson would parse the text exactly as one object (no duplicate
 * keys at any depth, valid UTF-8, no NUL) and the DELIVER schema would
 * accept it; anything it does not fully understand (an escape in a key or
 * in a checked string, \u0000 or a surrogate escape, a number with an
 * exponent or too many digits, deep nesting, many keys in one object, an
 * unknown field) is "not sure", and the caller then takes the jansson path,
 * which decides exactly. So the fast path never accepts what the slow path
 * refuses, and refusals keep the slow path's precise reasons.
 */
#define SCAN_DEPTH 16 /* nesting the scanner follows */
#define SCAN_KEYS 48  /* keys per object it can compare for duplicates */
#define SCAN_NUM 40   /* longest number text; integers at most 18 digits */

/* A top-level field's value as scanned: the raw span of a string (no
 * escapes), the value of an integer. */
struct scan_cap {
	const unsigned char *p;
	size_t n;
	long long v;
};

struct scan {
	const unsigned char *p, *end;
	int depth;
	struct scan_cap *cap; /* NULL, or one per schema field (top level only) */
	struct scan_cap *slot; /* where scan_value records the value it checks */
};

/* A key as written (no escapes: the raw bytes are the key). */
struct span {
	const unsigned char *p;
	size_t n;
};

/* scan_ws: skip JSON whitespace. */
static void scan_ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

/* scan_hex4: four hex digits at P into *V. 0 or -1. */
static int scan_hex4(const unsigned char *p, unsigned *v)
{
	int i;

	*v = 0;
	for (i = 0; i < 4; i++) {
		unsigned c = p[i], d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		*v = *v * 16 + d;
	}
	return 0;
}

/* scan_utf8: the length of the well-formed UTF-8 sequence at P (lead byte
 * >= 0x80, END bounds it), or 0 (overlong, surrogate, > U+10FFFF, cut). */
static size_t scan_utf8(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0], lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if ((size_t)(end - p) < n || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/* scan_string: the string at s->p ('"'); its raw content into *SP, *ESC
 * set when it holds an escape. 0, or -1 (not sure). */
static int scan_string(struct scan *s, struct span *sp, int *esc)
{
	const unsigned char *p = s->p + 1;

	*esc = 0;
	sp->p = p;
	while (p < s->end) {
		unsigned c = *p, v;
		size_t n;

		if (c == '"') {
			sp->n = (size_t)(p - sp->p);
			s->p = p + 1;
			return 0;
		}
		if (c < 0x20)
			return -1;
		if (c == '\\') {
			*esc = 1;
			if (s->end - p < 2)
				return -1;
			c = p[1];
			if (c == 'u') {
				if (s->end - p < 6 || scan_hex4(p + 2, &v) < 0 || v == 0 ||
				    (v >= 0xd800 && v <= 0xdfff))
					return -1;
				p += 6;
			} else if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' ||
				   c == 'n' || c == 'r' || c == 't') {
				p += 2;
			} else {
				return -1;
			}
			continue;
		}
		if (c < 0x80) {
			p++;
			continue;
		}
		if ((n = scan_utf8(p, s->end)) == 0)
			return -1;
		p += n;
	}
	return -1;
}

/* scan_number: the number at s->p; *IS_INT and, for an integer, *V. 0 or
 * -1 (malformed, an exponent, too long). */
static int scan_number(struct scan *s, int *is_int, long long *v)
{
	const unsigned char *p = s->p, *start = s->p;
	long long acc = 0;
	int neg = 0;

	if (p < s->end && *p == '-') {
		neg = 1;
		p++;
	}
	if (p >= s->end)
		return -1;
	if (*p == '0') {
		p++;
	} else if (*p >= '1' && *p <= '9') {
		while (p < s->end && *p >= '0' && *p <= '9')
			p++;
	} else {
		return -1;
	}
	*is_int = 1;
	if (p < s->end && *p == '.') {
		*is_int = 0;
		p++;
		if (p >= s->end || *p < '0' || *p > '9')
			return -1;
		while (p < s->end && *p >= '0' && *p <= '9')
			p++;
	}
	if ((p < s->end && (*p == 'e' || *p == 'E')) || p - start > SCAN_NUM)
		return -1;
	if (*is_int) {
		const unsigned char *d;

		if (p - start - neg > 18)
			return -1;
		for (d = start + neg; d < p; d++)
			acc = acc * 10 + (*d - '0');
		*v = neg ? -acc : acc;
	}
	s->p = p;
	return 0;
}

/* scan_literal: WORD at s->p. 0 or -1. */
static int scan_literal(struct scan *s, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
		return -1;
	s->p += n;
	return 0;
}

static int scan_object(struct scan *s, const struct field *schema, unsigned long spliced);

/* scan_value: one value at s->p (whitespace skipped); F: the schema field it
 * fills, NULL for a free-form value. 0 or -1 (not sure). */
static int scan_value(struct scan *s, const struct field *f)
{
	struct span sp;
	long long v = 0;
	int esc, is_int;

	if (s->p >= s->end)
		return -1;
	switch (*s->p) {
	case '{':
		if (f && f->kind != K_OBJ)
			return -1;
		return scan_object(s, f ? f->sub : NULL, 0);
	case '[':
		if (f || ++s->depth > SCAN_DEPTH)
			return -1;
		s->p++;
		scan_ws(s);
		if (s->p < s->end && *s->p == ']') {
			s->p++;
			s->depth--;
			return 0;
		}
		for (;;) {
			scan_ws(s);
			if (scan_value(s, NULL) < 0)
				return -1;
			scan_ws(s);
			if (s->p < s->end && *s->p == ',') {
				s->p++;
				continue;
			}
			if (s->p < s->end && *s->p == ']') {
				s->p++;
				s->depth--;
				return 0;
			}
			return -1;
		}
	case '"': {
		char buf[BUS_MAX_TEXT + 1];

		if (scan_string(s, &sp, &esc) < 0)
			return -1;
		if (!f)
			return 0;
		if (esc || sp.n >= sizeof(buf))
			return -1;
		memcpy(buf, sp.p, sp.n);
		buf[sp.n] = '\0';
		if (s->slot) {
			s->slot->p = sp.p;
			s->slot->n = sp.n;
		}
		return check_string(f, buf, sp.n) ? 0 : -1;
	}
	case 't':
	case 'f':
		if (scan_literal(s, *s->p == 't' ? "true" : "false") < 0)
			return -1;
		return !f || f->kind == K_BOOL ? 0 : -1;
	case 'n':
		return !f && scan_literal(s, "null") == 0 ? 0 : -1;
	default:
		if (scan_number(s, &is_int, &v) < 0)
			return -1;
		if (!f)
			return 0;
		if (s->slot)
			s->slot->v = v;
		return f->kind == K_INT && is_int && v >= f->min && v <= f->max ? 0 : -1;
	}
}

/* scan_object: the object at s->p; SCHEMA: its fields (NULL: free-form).
 * SPLICED: schema indexes that must be absent (the caller adds them). 0 or
 * -1 (not sure). */
static int scan_object(struct scan *s, const struct field *schema, unsigned long spliced)
{
	struct span keys[SCAN_KEYS];
	unsigned long present = 0;
	size_t nkeys = 0, i;

	if (s->p >= s->end || *s->p != '{' || ++s->depth > SCAN_DEPTH)
		return -1;
	s->p++;
	scan_ws(s);
	if (s->p < s->end && *s->p == '}') {
		s->p++;
	} else {
		for (;;) {
			const struct field *f = NULL;
			struct span k;
			int esc;

			scan_ws(s);
			if (s->p >= s->end || *s->p != '"' || scan_string(s, &k, &esc) < 0 || esc ||
			    nkeys == SCAN_KEYS)
				return -1;
			for (i = 0; i < nkeys; i++)
				if (keys[i].n == k.n && memcmp(keys[i].p, k.p, k.n) == 0)
					return -1; /* a duplicate: the slow path says so */
			keys[nkeys++] = k;
			if (schema) {
				for (i = 0; schema[i].name; i++)
					if (strlen(schema[i].name) == k.n &&
					    memcmp(schema[i].name, k.p, k.n) == 0)
						break;
				if (!schema[i].name || (spliced & (1ul << i)))
					return -1;
				present |= 1ul << i;
				f = &schema[i];
			}
			scan_ws(s);
			if (s->p >= s->end || *s->p != ':')
				return -1;
			s->p++;
			scan_ws(s);
			s->slot = f && s->cap && s->depth == 1 ? &s->cap[f - schema] : NULL;
			if (scan_value(s, f) < 0)
				return -1;
			s->slot = NULL;
			scan_ws(s);
			if (s->p < s->end && *s->p == ',') {
				s->p++;
				continue;
			}
			if (s->p < s->end && *s->p == '}') {
				s->p++;
				break;
			}
			return -1;
		}
	}
	for (i = 0; schema && schema[i].name; i++)
		if (schema[i].required && !(spliced & (1ul << i)) && !(present & (1ul << i)))
			return -1;
	s->depth--;
	return 0;
}

/* bus_envelope_fast_ok: see common.h. */
int bus_envelope_fast_ok(const char *envelope, size_t len)
{
	struct scan s = {(const unsigned char *)envelope, (const unsigned char *)envelope + len, 0,
			 NULL, NULL};
	unsigned long spliced = 0;
	size_t i;

	for (i = 0; F_DELIVER[i].name; i++)
		if (strcmp(F_DELIVER[i].name, "delivery_id") == 0 ||
		    strcmp(F_DELIVER[i].name, "attempt") == 0 ||
		    strcmp(F_DELIVER[i].name, "document_size") == 0)
			spliced |= 1ul << i;
	if (!envelope)
		return 0;
	scan_ws(&s);
	if (scan_object(&s, F_DELIVER, spliced) < 0)
		return 0;
	scan_ws(&s);
	return s.p == s.end;
}

/* cap_copy: a captured string into OUT (SIZE bytes); its length was
 * checked by the schema. */
static void cap_copy(const struct scan_cap *c, char *out, size_t size)
{
	size_t n = c->n < size - 1 ? c->n : size - 1;

	memcpy(out, c->p, n);
	out[n] = '\0';
}

/* field_index: the index of NAME in SCHEMA (present by construction). */
static size_t field_index(const struct field *schema, const char *name)
{
	size_t i;

	for (i = 0; schema[i].name && strcmp(schema[i].name, name) != 0; i++)
		;
	return i;
}

/* bus_deliver_fast_decode: the scanner's reading of a DELIVER (see
 * common.h). */
int bus_deliver_fast_decode(const struct bus_frame *fr, size_t nframes, size_t max_doc,
			    struct bus_deliver_view *v)
{
	struct scan_cap cap[sizeof(F_DELIVER) / sizeof(F_DELIVER[0])];
	const unsigned char *h;
	struct scan s;

	if (max_doc == 0 || max_doc > BUS_MAX_DOC)
		max_doc = BUS_MAX_DOC;
	if (nframes != 3 || fr[0].len != BUS_HEAD_LEN ||
	    fr[1].len > bus_max_body(BUS_MSG_DELIVER, max_doc) || fr[2].len > max_doc)
		return 0;
	h = fr[0].data;
	if (h[0] != BUS_MAGIC0 || h[1] != BUS_MAGIC1 || h[2] != BUS_PROTO_VERSION ||
	    h[3] != BUS_MSG_DELIVER)
		return 0;
	memset(cap, 0, sizeof(cap));
	memset(&s, 0, sizeof(s));
	s.p = fr[1].data;
	s.end = s.p + fr[1].len;
	s.cap = cap;
	scan_ws(&s);
	if (scan_object(&s, F_DELIVER, 0) < 0)
		return 0;
	scan_ws(&s);
	if (s.p != s.end ||
	    cap[field_index(F_DELIVER, "document_size")].v != (long long)fr[2].len)
		return 0;
	cap_copy(&cap[field_index(F_DELIVER, "delivery_id")], v->delivery_id,
		 sizeof(v->delivery_id));
	cap_copy(&cap[field_index(F_DELIVER, "idempotency_key")], v->idempotency_key,
		 sizeof(v->idempotency_key));
	cap_copy(&cap[field_index(F_DELIVER, "document_type")], v->document_type,
		 sizeof(v->document_type));
	v->attempt = (long)cap[field_index(F_DELIVER, "attempt")].v;
	return 1;
}

/* member: in the object at s->p, move to the value of member KEY (no
 * escapes in the key as written). 1 found, 0 absent, -1 not sure. The
 * text was checked before: this only walks it. */
static int member(struct scan *s, const char *key)
{
	size_t klen = strlen(key);

	scan_ws(s);
	if (s->p >= s->end || *s->p != '{')
		return 0;
	s->p++;
	for (;;) {
		struct span k;
		int esc;

		scan_ws(s);
		if (s->p < s->end && *s->p == '}')
			return 0;
		if (s->p >= s->end || *s->p != '"' || scan_string(s, &k, &esc) < 0 || esc)
			return -1;
		scan_ws(s);
		if (s->p >= s->end || *s->p != ':')
			return -1;
		s->p++;
		scan_ws(s);
		if (k.n == klen && memcmp(k.p, key, klen) == 0)
			return 1;
		if (scan_value(s, NULL) < 0)
			return -1;
		scan_ws(s);
		if (s->p < s->end && *s->p == ',')
			s->p++;
	}
}

/* bus_json_string: see common.h. */
int bus_json_string(const char *text, size_t len, const char *object, const char *field,
		    const char **val, size_t *vlen)
{
	struct scan s;
	struct span sp;
	int rc, esc;

	memset(&s, 0, sizeof(s));
	s.p = (const unsigned char *)text;
	s.end = s.p + len;
	if (object && (rc = member(&s, object)) <= 0)
		return rc;
	if ((rc = member(&s, field)) <= 0)
		return rc;
	if (s.p >= s.end || *s.p != '"')
		return 0; /* not a string */
	if (scan_string(&s, &sp, &esc) < 0 || esc)
		return -1;
	*val = (const char *)sp.p;
	*vlen = sp.n;
	return 1;
}

/* bus_build_deliver: DELIVER by splicing (see common.h). */
int bus_build_deliver(struct bus_wire *w, const char *envelope, size_t elen,
		      const char *delivery_id, long attempt, const void *doc, size_t doc_len,
		      char *err, size_t errlen)
{
	json_t *env;
	size_t end = elen;
	int n;

	memset(w, 0, sizeof(*w));
	while (end > 0 && envelope[end - 1] != '}')
		end--; /* only whitespace can follow the object (checked below) */
	if (doc_len <= BUS_MAX_DOC && bus_id_ok(delivery_id) && attempt >= 1 &&
	    attempt <= 1000000000 && bus_envelope_fast_ok(envelope, elen) && end > 0 &&
	    (w->body = malloc(end + BUS_MAX_ID + 80)) != NULL) {
		memcpy(w->body, envelope, end - 1);
		n = snprintf(w->body + end - 1, BUS_MAX_ID + 80,
			     ",\"delivery_id\":\"%s\",\"attempt\":%ld,\"document_size\":%zu}",
			     delivery_id, attempt, doc_len);
		w->body_len = end - 1 + (size_t)n;
		if (w->body_len <= bus_max_body(BUS_MSG_DELIVER, 0)) {
			w->head[0] = BUS_MAGIC0;
			w->head[1] = BUS_MAGIC1;
			w->head[2] = BUS_PROTO_VERSION;
			w->head[3] = BUS_MSG_DELIVER;
			w->nframes = 3;
			w->doc = doc;
			w->doc_len = doc_len;
			return 0;
		}
		bus_wire_free(w); /* the compact slow path may still fit */
	}
	/* The slow path: parse, set, check, serialise (exact reasons). */
	env = json_loadb(envelope, elen, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(env) ||
	    json_object_set_new(env, "delivery_id", json_string(delivery_id)) ||
	    json_object_set_new(env, "attempt", json_integer(attempt))) {
		json_decref(env);
		secmx_errf(err, errlen, "envelope is not a JSON object");
		return SECMX_EINVAL;
	}
	return bus_msg_encode(BUS_MSG_DELIVER, env, doc, doc_len, w, err, errlen);
}

/* bus_build_hello: HELLO name, patterns, credit. */
int bus_build_hello(struct bus_wire *w, const char *name, const char *const *patterns,
		    size_t npatterns, long credit, char *err, size_t errlen)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && i < npatterns; i++)
		json_array_append_new(a, json_string(patterns[i] ? patterns[i] : ""));
	return bus_msg_encode(BUS_MSG_HELLO,
			      json_pack("{s:s?, s:o?, s:I, s:s}", "name", name, "patterns", a,
					"credit", (json_int_t)credit, "software",
					"secmx " SECMX_VERSION),
			      NULL, 0, w, err, errlen);
}

/* bus_build_ack: ACK delivery_id. A valid id needs no escaping, so its body
 * is written as text (what json_dumps would give); anything else takes the
 * checked path, which refuses it with the reason. */
int bus_build_ack(struct bus_wire *w, const char *delivery_id, char *err, size_t errlen)
{
	size_t n;

	if (!bus_id_ok(delivery_id))
		return bus_msg_encode(BUS_MSG_ACK, json_pack("{s:s?}", "delivery_id", delivery_id),
				      NULL, 0, w, err, errlen);
	memset(w, 0, sizeof(*w));
	n = strlen(delivery_id) + sizeof("{\"delivery_id\":\"\"}");
	if (!(w->body = malloc(n)))
		return SECMX_ENOMEM;
	w->body_len = (size_t)snprintf(w->body, n, "{\"delivery_id\":\"%s\"}", delivery_id);
	w->head[0] = BUS_MAGIC0;
	w->head[1] = BUS_MAGIC1;
	w->head[2] = BUS_PROTO_VERSION;
	w->head[3] = BUS_MSG_ACK;
	w->nframes = 2;
	return 0;
}

/* bus_build_nack: NACK delivery_id kind reason. */
int bus_build_nack(struct bus_wire *w, const char *delivery_id, int kind, const char *reason,
		   char *err, size_t errlen)
{
	return bus_msg_encode(BUS_MSG_NACK,
			      json_pack("{s:s?, s:s, s:s?}", "delivery_id", delivery_id, "kind",
					kind == BUS_NACK_PERMANENT ? "permanent" : "transient",
					"reason", reason),
			      NULL, 0, w, err, errlen);
}

/* bus_build_heartbeat: HEARTBEAT {}. */
int bus_build_heartbeat(struct bus_wire *w, char *err, size_t errlen)
{
	return bus_msg_encode(BUS_MSG_HEARTBEAT, json_object(), NULL, 0, w, err, errlen);
}

/* bus_build_bye: BYE with an optional reason. */
int bus_build_bye(struct bus_wire *w, const char *reason, char *err, size_t errlen)
{
	return bus_msg_encode(BUS_MSG_BYE, json_pack("{s:s*}", "reason", reason), NULL, 0, w,
			      err, errlen);
}

/* bus_build_error: ERROR code message [ref]. */
int bus_build_error(struct bus_wire *w, int code, const char *message, const char *ref,
		    char *err, size_t errlen)
{
	return bus_msg_encode(BUS_MSG_ERROR,
			      json_pack("{s:s, s:s, s:s*}", "code", bus_err_name(code), "message",
					message ? message : "", "ref", ref),
			      NULL, 0, w, err, errlen);
}

/* bus_build_submit: SUBMIT with optional document type and metadata. */
int bus_build_submit(struct bus_wire *w, const char *request_id, const char *idempotency_key,
		     const char *document_type, const char *metadata_json, const void *doc,
		     size_t doc_len, char *err, size_t errlen)
{
	json_t *meta = NULL;

	if (metadata_json) {
		meta = json_loads(metadata_json, JSON_REJECT_DUPLICATES, NULL);
		if (!json_is_object(meta)) {
			json_decref(meta);
			memset(w, 0, sizeof(*w));
			secmx_errf(err, errlen, "metadata is not a JSON object");
			return SECMX_EINVAL;
		}
	}
	return bus_msg_encode(BUS_MSG_SUBMIT,
			      json_pack("{s:s?, s:s?, s:s*, s:o*}", "request_id", request_id,
					"idempotency_key", idempotency_key, "document_type",
					document_type, "metadata", meta),
			      doc, doc_len, w, err, errlen);
}

/* bus_build_submit_result: SUBMIT_RESULT accepted (message_id) or refused. */
int bus_build_submit_result(struct bus_wire *w, const char *request_id, int accepted,
			    const char *message_id, const char *reason, char *err,
			    size_t errlen)
{
	return bus_msg_encode(BUS_MSG_SUBMIT_RESULT,
			      json_pack("{s:s?, s:s, s:s*, s:s*}", "request_id", request_id,
					"status", accepted ? "accepted" : "refused", "message_id",
					accepted ? message_id : NULL, "reason", reason),
			      NULL, 0, w, err, errlen);
}
