/*
 * tc_splice.c — the DELIVER builder that splices the per-delivery fields
 * into the daemon's envelope text (bus_build_deliver) and its scanner
 * (bus_envelope_fast_ok): for hand-written envelopes and for 30,000 seeded
 * mutants of a realistic one, the spliced DELIVER must be accepted by the
 * strict reader exactly when the jansson path (parse, set, check,
 * serialise) accepts it, with the same decoded body; the scanner must never
 * accept what that path refuses, and must accept the envelopes the daemon
 * writes. The SDK's side of the same scanner: for received DELIVER bodies
 * (hand cases and 30,000 mutants of a realistic one), the fast decode may
 * accept only what the strict reader accepts, with the same typed fields,
 * and bus_json_string finds what jansson finds.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

/* A daemon-like envelope: free-form meta with nested arrays, escapes,
 * UTF-8, reals, booleans and null. */
static const char REAL_ENV[] =
    "{\"idempotency_key\":\"m12.records\",\"message_id\":\"m12\",\"transaction_id\":"
    "\"invoice:9429041234567:INV-1\",\"document_type\":\"Invoice\",\"profile\":"
    "\"peppol-bis-billing-3\",\"sender\":\"dropdir\",\"received_at\":"
    "\"2026-11-29T01:02:03.456Z\",\"validation\":{\"valid\":true,\"errors\":0,"
    "\"warnings\":2,\"signature\":\"none\"},\"meta\":{\"queue_id\":12,\"source\":"
    "\"dropdir\",\"original_sha256\":\"ab12\",\"attestation\":\"signed\",\"software\":"
    "\"secmxd 0.4\",\"document_id\":\"INV-1\",\"transaction_state\":\"invoiced\","
    "\"report\":[{\"rule\":\"BR-NZ-01\",\"severity\":\"warning\",\"message\":"
    "\"Caf\xc3\xa9 \\\"quoted\\\" \\u00e9 \\n line\",\"line\":12,\"path\":"
    "\"/Invoice/cac:Line[1]\"},{\"rule\":\"X\",\"severity\":\"info\",\"message\":"
    "\"\xe2\x82\xac 1.50 \xf0\x9f\x98\x80\",\"line\":null,\"ratio\":-0.25,"
    "\"ok\":false,\"list\":[1,[2,{}],[]]}],\"original_b64\":\"PEludm9pY2UvPg==\"}}";

/* A valid envelope followed by a NUL byte (sizeof - 1 keeps the NUL). */
static const char NUL_ENV[] = "{\"idempotency_key\":\"k\",\"message_id\":\"m\","
                              "\"document_type\":\"T\",\"received_at\":\"2026-11-29T01:02:03Z\"}\0";

/* reference: the jansson path (what send_delivery did before splicing). */
static int reference(const char *env, size_t len, const char *id, long attempt, const void *doc,
                     size_t doc_len, struct bus_wire *w)
{
	char err[256];
	json_t *j = json_loadb(env, len, JSON_REJECT_DUPLICATES, NULL);

	memset(w, 0, sizeof(*w));
	if (!json_is_object(j) || json_object_set_new(j, "delivery_id", json_string(id)) ||
	    json_object_set_new(j, "attempt", json_integer(attempt))) {
		json_decref(j);
		return SECMX_EINVAL;
	}
	return bus_msg_encode(BUS_MSG_DELIVER, j, doc, doc_len, w, err, sizeof(err));
}

/* decoded: the body of W as the strict reader sees it (new reference), or
 * NULL if the reader refuses it. */
static json_t *decoded(const struct bus_wire *w)
{
	struct bus_frame f[3] = {
	    {w->head, BUS_HEAD_LEN}, {w->body, w->body_len}, {w->doc, w->doc_len}};
	struct bus_msg m;
	char err[256];
	json_t *out;
	int code;

	if (bus_msg_decode(f, 3, BUS_FROM_SERVER, 0, &m, &code, err, sizeof(err)) < 0)
		return NULL;
	out = json_incref(m.body);
	bus_msg_clear(&m);
	return out;
}

/* agree: bus_build_deliver and the reference decide alike on ENV; returns
 * the scanner's verdict. */
static int agree(const char *what, const char *text, size_t len)
{
	struct bus_wire a, b;
	char err[256], *env = malloc(len ? len : 1); /* exact size: ASan sees overreads */
	int ra, rb, fast;
	json_t *ja = NULL, *jb = NULL;

	ck_assert_ptr_nonnull(env);
	memcpy(env, text, len);
	fast = bus_envelope_fast_ok(env, len);

	ra = bus_build_deliver(&a, env, len, "m12.q7", 3, "<x/>", 4, err, sizeof(err));
	rb = reference(env, len, "m12.q7", 3, "<x/>", 4, &b);
	ck_assert_msg((ra == 0) == (rb == 0), "%s: splice rc %d, reference rc %d", what, ra, rb);
	ck_assert_msg(!fast || rb == 0, "%s: the scanner accepted what the reference refuses",
	              what);
	if (ra == 0) {
		ja = decoded(&a);
		jb = decoded(&b);
		ck_assert_msg(ja != NULL, "%s: the reader refuses the spliced DELIVER", what);
		ck_assert_msg(jb != NULL, "%s: the reader refuses the reference DELIVER", what);
		ck_assert_msg(json_equal(ja, jb), "%s: bodies differ", what);
		ck_assert_int_eq(a.nframes, 3);
		ck_assert_uint_eq(a.doc_len, 4);
		ck_assert_int_eq(a.head[3], BUS_MSG_DELIVER);
	}
	json_decref(ja);
	json_decref(jb);
	bus_wire_free(&a);
	bus_wire_free(&b);
	free(env);
	return fast;
}

/* agree_str: agree() on a C string. */
static int agree_str(const char *env)
{
	return agree(env, env, strlen(env));
}

START_TEST(splice_accepts_daemon_envelopes)
{
	static const char *fast[] = {
	    REAL_ENV,
	    "{\"idempotency_key\":\"k-1\",\"message_id\":\"<m1@test.example>\","
	    "\"document_type\":\"Invoice\",\"received_at\":\"2026-11-29T01:02:03Z\"}",
	    " {\"idempotency_key\":\"k\" , \"message_id\":\"m\",\"document_type\":\"reject:x\","
	    "\n\"received_at\":\"2026-11-29T01:02:03.123456789Z\",\"meta\":{}}\r\n\t",
	    "{\"idempotency_key\":\"k\",\"message_id\":\"m\",\"document_type\":\"T\","
	    "\"received_at\":\"2026-11-29T01:02:03Z\",\"validation\":{\"valid\":false,"
	    "\"rules\":\"\"},\"sender\":\"\",\"meta\":{\"a\":{\"a\":{\"a\":[[[1]]]}},\"\":7}}",
	};
	size_t i;

	for (i = 0; i < sizeof(fast) / sizeof(fast[0]); i++)
		ck_assert_msg(agree_str(fast[i]) == 1, "envelope %zu not taken by the scanner", i);
}
END_TEST

START_TEST(splice_refuses_like_reference)
{
	/* Each is either refused by both paths or accepted by the jansson path
	 * only (the scanner is not sure); none may differ. */
	static const char *cases[] = {
	    "",
	    "{}",
	    "[]",
	    "{\"idempotency_key\":\"k\"}",
	    /* missing received_at */
	    "{\"idempotency_key\":\"k\",\"message_id\":\"m\",\"document_type\":\"T\"}",
	    /* unknown top-level field */
	    "{\"idempotency_key\":\"k\",\"message_id\":\"m\",\"document_type\":\"T\","
	    "\"received_at\":\"2026-11-29T01:02:03Z\",\"extra\":1}",
	    /* the bus's own fields already there (the jansson path replaces them) */
	    "{\"idempotency_key\":\"k\",\"message_id\":\"m\",\"document_type\":\"T\","
	    "\"received_at\":\"2026-11-29T01:02:03Z\",\"attempt\":9,\"delivery_id\":\"x\"}",
	    "{\"idempotency_key\":\"k\",\"message_id\":\"m\",\"document_type\":\"T\","
	    "\"received_at\":\"2026-11-29T01:02:03Z\",\"document_size\":1}",
	    /* duplicate keys at the top and deep inside meta */
	    "{\"idempotency_key\":\"k\",\"idempotency_key\":\"k\",\"message_id\":\"m\","
	    "\"document_type\":\"T\",\"received_at\":\"2026-11-29T01:02:03Z\"}",
	    "{\"idempotency_key\":\"k\",\"message_id\":\"m\",\"document_type\":\"T\","
	    "\"received_at\":\"2026-11-29T01:02:03Z\",\"meta\":{\"r\":[{\"a\":1,\"a\":2}]}}",
	    /* an escaped key equal to another (\u0061 is a) */
	    "{\"idempotency_key\":\"k\",\"message_id\":\"m\",\"document_type\":\"T\","
	    "\"received_at\":\"2026-11-29T01:02:03Z\",\"meta\":{\"a\":1,\"\\u0061\":2}}",
	    /* escapes in checked strings: decided by jansson */
	    "{\"idempotency_key\":\"k\\u0021\",\"message_id\":\"m\",\"document_type\":\"T\","
	    "\"received_at\":\"2026-11-29T01:02:03Z\"}",
	    "{\"idempotency_key\":\"k\\n\",\"message_id\":\"m\",\"document_type\":\"T\","
	    "\"received_at\":\"2026-11-29T01:02:03Z\"}",
	    /* bad values */
	    "{\"idempotency_key\":\"k k\",\"message_id\":\"m\",\"document_type\":\"T\","
	    "\"received_at\":\"2026-11-29T01:02:03Z\"}",
	    "{\"idempotency_key\":\"k\",\"message_id\":\"m\",\"document_type\":\"T*\","
	    "\"received_at\":\"2026-11-29T01:02:03Z\"}",
	    "{\"idempotency_key\":\"k\",\"message_id\":\"m\",\"document_type\":\"T\","
	    "\"received_at\":\"2026-11-29 01:02:03Z\"}",
	    "{\"idempotency_key\":\"k\",\"message_id\":\"m\",\"document_type\":\"T\","
	    "\"received_at\":\"2026-11-29T01:02:03Z\",\"validation\":{\"errors\":0}}",
	    "{\"idempotency_key\":\"k\",\"message_id\":\"m\",\"document_type\":\"T\","
	    "\"received_at\":\"2026-11-29T01:02:03Z\",\"validation\":{\"valid\":true,"
	    "\"errors\":1.0}}",
	    "{\"idempotency_key\":\"k\",\"message_id\":\"m\",\"document_type\":\"T\","
	    "\"received_at\":\"2026-11-29T01:02:03Z\",\"validation\":{\"valid\":true,"
	    "\"errors\":1e2}}",
	    "{\"idempotency_key\":\"k\",\"message_id\":\"m\",\"document_type\":\"T\","
	    "\"received_at\":\"2026-11-29T01:02:03Z\",\"validation\":{\"valid\":1}}",
	    "{\"idempotency_key\":\"k\",\"message_id\":\"m\",\"document_type\":\"T\","
	    "\"received_at\":\"2026-11-29T01:02:03Z\",\"validation\":{\"valid\":true,"
	    "\"errors\":1000001}}",
	    "{\"idempotency_key\":\"k\",\"message_id\":\"m\",\"document_type\":\"T\","
	    "\"received_at\":\"2026-11-29T01:02:03Z\",\"validation\":{\"valid\":true,"
	    "\"signature\":\"maybe\"}}",
	    "{\"idempotency_key\":\"k\",\"message_id\":\"m\",\"document_type\":\"T\","
	    "\"received_at\":\"2026-11-29T01:02:03Z\",\"sender\":\"a\\u0001b\"}",
	    "{\"idempotency_key\":\"k\",\"message_id\":\"m\",\"document_type\":\"T\","
	    "\"received_at\":\"2026-11-29T01:02:03Z\",\"meta\":[]}",
	    /* syntax, UTF-8, NUL, numbers, trailing bytes */
	    "{\"idempotency_key\":\"k\",\"message_id\":\"m\",\"document_type\":\"T\","
	    "\"received_at\":\"2026-11-29T01:02:03Z\",}",
	    "{\"idempotency_key\":\"k\",\"message_id\":\"m\",\"document_type\":\"T\","
	    "\"received_at\":\"2026-11-29T01:02:03Z\"}x",
	    "{\"idempotency_key\":\"k\",\"message_id\":\"m\",\"document_type\":\"T\","
	    "\"received_at\":\"2026-11-29T01:02:03Z\"}{}",
	    "{\"idempotency_key\":\"k\",\"message_id\":\"m\",\"document_type\":\"T\","
	    "\"received_at\":\"2026-11-29T01:02:03Z\",\"meta\":{\"s\":\"\xc0\xaf\"}}",
	    "{\"idempotency_key\":\"k\",\"message_id\":\"m\",\"document_type\":\"T\","
	    "\"received_at\":\"2026-11-29T01:02:03Z\",\"meta\":{\"s\":\"\xed\xa0\x80\"}}",
	    "{\"idempotency_key\":\"k\",\"message_id\":\"m\",\"document_type\":\"T\","
	    "\"received_at\":\"2026-11-29T01:02:03Z\",\"meta\":{\"s\":\"\xe0\x80\xaf\"}}",
	    "{\"idempotency_key\":\"k\",\"message_id\":\"m\",\"document_type\":\"T\","
	    "\"received_at\":\"2026-11-29T01:02:03Z\",\"meta\":{\"s\":\"\xf0\x80\x80\xaf\"}}",
	    "{\"idempotency_key\":\"k\",\"message_id\":\"m\",\"document_type\":\"T\","
	    "\"received_at\":\"2026-11-29T01:02:03Z\",\"meta\":{\"s\":\"\xe2\x82\"}}",
	    "{\"idempotency_key\":\"k\",\"message_id\":\"m\",\"document_type\":\"T\","
	    "\"received_at\":\"2026-11-29T01:02:03Z\",\"meta\":{\"s\":\"\xf5\x80\x80\x80\"}}",
	    "{\"idempotency_key\":\"k\",\"message_id\":\"m\",\"document_type\":\"T\","
	    "\"received_at\":\"2026-11-29T01:02:03Z\",\"meta\":{\"s\":\"\xf4\x90\x80\x80\"}}",
	    "{\"idempotency_key\":\"k\",\"message_id\":\"m\",\"document_type\":\"T\","
	    "\"received_at\":\"2026-11-29T01:02:03Z\",\"meta\":{\"s\":\"\\u0000\"}}",
	    "{\"idempotency_key\":\"k\",\"message_id\":\"m\",\"document_type\":\"T\","
	    "\"received_at\":\"2026-11-29T01:02:03Z\",\"meta\":{\"s\":\"\\ud800\"}}",
	    "{\"idempotency_key\":\"k\",\"message_id\":\"m\",\"document_type\":\"T\","
	    "\"received_at\":\"2026-11-29T01:02:03Z\",\"meta\":{\"s\":\"\\ud83d\\ude00\"}}",
	    "{\"idempotency_key\":\"k\",\"message_id\":\"m\",\"document_type\":\"T\","
	    "\"received_at\":\"2026-11-29T01:02:03Z\",\"meta\":{\"n\":01}}",
	    "{\"idempotency_key\":\"k\",\"message_id\":\"m\",\"document_type\":\"T\","
	    "\"received_at\":\"2026-11-29T01:02:03Z\",\"meta\":{\"n\":99999999999999999999}}",
	    "{\"idempotency_key\":\"k\",\"message_id\":\"m\",\"document_type\":\"T\","
	    "\"received_at\":\"2026-11-29T01:02:03Z\",\"meta\":{\"n\":1e999}}",
	    "{\"idempotency_key\":\"k\",\"message_id\":\"m\",\"document_type\":\"T\","
	    "\"received_at\":\"2026-11-29T01:02:03Z\",\"meta\":{\"n\":-}}",
	    "{\"idempotency_key\":\"k\",\"message_id\":\"m\",\"document_type\":\"T\","
	    "\"received_at\":\"2026-11-29T01:02:03Z\",\"meta\":{\"n\":tru}}",
	    "{\"idempotency_key\":\"k\",\"message_id\":\"m\",\"document_type\":\"T\","
	    "\"received_at\":\"2026-11-29T01:02:03Z\",\"meta\":{\"n\":[1,]}}",
	    "{\"idempotency_key\":\"k\",\"message_id\":\"m\",\"document_type\":\"T\","
	    "\"received_at\":\"2026-11-29T01:02:03Z\",\"meta\":{\"s\":\"a\tb\"}}",
	    "{\"idempotency_key\":\"k\",\"message_id\":\"m\",\"document_type\":\"T\","
	    "\"received_at\":\"2026-11-29T01:02:03Z\",\"meta\":{\"s\":\"\\x\"}}",
	};
	char deep[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		agree_str(cases[i]);
	/* a NUL after the object, inside the length given */
	ck_assert_int_eq(agree("embedded NUL", NUL_ENV, sizeof(NUL_ENV) - 1), 0);
	/* deeper than the scanner follows: jansson decides */
	snprintf(deep, sizeof(deep),
	         "{\"idempotency_key\":\"k\",\"message_id\":\"m\",\"document_type\":\"T\","
	         "\"received_at\":\"2026-11-29T01:02:03Z\",\"meta\":%s1%s}",
	         "[[[[[[[[[[[[[[[[[[[[", "]]]]]]]]]]]]]]]]]]]]");
	ck_assert_int_eq(agree_str(deep), 0);
	/* a bad delivery id or attempt is the jansson path's refusal */
	{
		struct bus_wire w;
		char err[256];

		ck_assert_int_lt(bus_build_deliver(&w, REAL_ENV, strlen(REAL_ENV), "bad id", 1, "",
		                                   0, err, sizeof(err)),
		                 0);
		ck_assert_int_lt(bus_build_deliver(&w, REAL_ENV, strlen(REAL_ENV), "d1", 0, "", 0,
		                                   err, sizeof(err)),
		                 0);
	}
}
END_TEST

/* Bytes the mutants are made of: JSON-significant and UTF-8 bytes. */
static const char MUTANT_BYTES[] = "{}[]\":,\\/ ntfu0123456789eE.-+aZ\x01\x7f\xc3\xa9\xed\xf0";

/* mutate: one to three seeded edits of BUF's LEN bytes (CAP bytes room):
 * a byte replaced, inserted or deleted; returns the new length. */
static size_t mutate(char *buf, size_t len, size_t cap, unsigned *seed)
{
	size_t k, at, edits;

	*seed = *seed * 1103515245u + 12345u;
	edits = 1 + (*seed >> 16) % 3;
	for (k = 0; k < edits && len > 1; k++) {
		*seed = *seed * 1103515245u + 12345u;
		at = (*seed >> 8) % len;
		*seed = *seed * 1103515245u + 12345u;
		switch ((*seed >> 16) % 3) {
		case 0:
			buf[at] = MUTANT_BYTES[(*seed >> 4) % (sizeof(MUTANT_BYTES) - 1)];
			break;
		case 1:
			if (len + 1 < cap) {
				memmove(buf + at + 1, buf + at, len - at);
				buf[at] = MUTANT_BYTES[(*seed >> 4) % (sizeof(MUTANT_BYTES) - 1)];
				len++;
			}
			break;
		default:
			memmove(buf + at, buf + at + 1, len - at - 1);
			len--;
			break;
		}
	}
	return len;
}

START_TEST(splice_mutants)
{
	/* Seeded mutants of REAL_ENV (mutate). */
	size_t n = strlen(REAL_ENV), i;
	unsigned seed = 12345;
	char buf[sizeof(REAL_ENV) + 8];
	int fast = 0;

	for (i = 0; i < 30000; i++) {
		size_t len;

		memcpy(buf, REAL_ENV, n + 1);
		len = mutate(buf, n, sizeof(buf) - 1, &seed);
		buf[len] = '\0';
		if (agree("mutant", buf, len))
			fast++;
	}
	/* both outcomes were exercised: mutants the scanner took (then checked
	 * against the reference) and mutants it left to jansson */
	printf("splice: 30000 mutants, %d taken by the scanner\n", fast);
	ck_assert_int_gt(fast, 1000);
	ck_assert_int_lt(fast, 29000);
}
END_TEST

/* FULL_BODY: REAL_ENV as the bus sends it (document "<x/>"). */
static char *full_body(size_t *len)
{
	struct bus_wire w;
	char err[256], *out;

	ck_assert_int_eq(bus_build_deliver(&w, REAL_ENV, strlen(REAL_ENV), "m12.q7", 3, "<x/>", 4,
	                                   err, sizeof(err)),
	                 0);
	out = strndup(w.body, w.body_len);
	*len = w.body_len;
	bus_wire_free(&w);
	return out;
}

/* same_string: bus_json_string agrees with jansson on J for OBJECT.FIELD. */
static void same_string(const char *what, const char *text, size_t len, json_t *j,
                        const char *object, const char *field)
{
	json_t *o = object ? json_object_get(j, object) : j;
	const char *want = json_string_value(json_object_get(o, field)), *val = NULL;
	size_t vlen = 0;
	int rc = bus_json_string(text, len, object, field, &val, &vlen);

	if (rc == 1)
		ck_assert_msg(want && strlen(want) == vlen && memcmp(want, val, vlen) == 0,
		              "%s: %s.%s found %.*s, jansson %s", what, object ? object : "-",
		              field, (int)vlen, val, want ? want : "(none)");
	else if (rc == 0)
		ck_assert_msg(!want, "%s: %s.%s absent, jansson has %s", what,
		              object ? object : "-", field, want);
}

/* agree_decode: the fast decode of BODY accepts only what the strict reader
 * accepts, with the same fields. Returns the fast verdict. */
static int agree_decode(const char *what, const char *text, size_t len)
{
	static const unsigned char head[4] = {'S', 'X', BUS_PROTO_VERSION, BUS_MSG_DELIVER};
	char *body = malloc(len ? len : 1); /* exact size: ASan sees overreads */
	struct bus_frame f[3] = {{head, 4}, {body, len}, {"<x/>", 4}};
	struct bus_deliver_view v;
	struct bus_msg m;
	char err[256];
	int code, fast, strict;

	ck_assert_ptr_nonnull(body);
	memcpy(body, text, len);
	fast = bus_deliver_fast_decode(f, 3, 0, &v);
	strict = bus_msg_decode(f, 3, BUS_FROM_SERVER, 0, &m, &code, err, sizeof(err));

	ck_assert_msg(!fast || strict == 0, "%s: fast decode accepted what the reader refuses (%s)",
	              what, err);
	if (fast) {
		ck_assert_str_eq(v.delivery_id, m.u.deliver.delivery_id);
		ck_assert_str_eq(v.idempotency_key, m.u.deliver.idempotency_key);
		ck_assert_str_eq(v.document_type, m.u.deliver.document_type);
		ck_assert_int_eq(v.attempt, m.u.deliver.attempt);
	}
	if (strict == 0) {
		same_string(what, body, len, m.body, "meta", "document_id");
		same_string(what, body, len, m.body, "meta", "source");
		same_string(what, body, len, m.body, NULL, "received_at");
		same_string(what, body, len, m.body, "validation", "signature");
		same_string(what, body, len, m.body, "validation", "valid");
		same_string(what, body, len, m.body, "nothing", "x");
		bus_msg_clear(&m);
	}
	free(body);
	return fast;
}

START_TEST(fast_decode_agrees)
{
	static const char *cases[] = {
	    "{\"delivery_id\":\"d1\",\"idempotency_key\":\"k\",\"message_id\":\"m\","
	    "\"document_type\":\"T\",\"received_at\":\"2026-11-29T01:02:03Z\",\"attempt\":1,"
	    "\"document_size\":4}",
	    /* document_size not the frame's */
	    "{\"delivery_id\":\"d1\",\"idempotency_key\":\"k\",\"message_id\":\"m\","
	    "\"document_type\":\"T\",\"received_at\":\"2026-11-29T01:02:03Z\",\"attempt\":1,"
	    "\"document_size\":5}",
	    /* attempt missing, attempt 0 */
	    "{\"delivery_id\":\"d1\",\"idempotency_key\":\"k\",\"message_id\":\"m\","
	    "\"document_type\":\"T\",\"received_at\":\"2026-11-29T01:02:03Z\","
	    "\"document_size\":4}",
	    "{\"delivery_id\":\"d1\",\"idempotency_key\":\"k\",\"message_id\":\"m\","
	    "\"document_type\":\"T\",\"received_at\":\"2026-11-29T01:02:03Z\",\"attempt\":0,"
	    "\"document_size\":4}",
	    /* an escaped meta.document_id: found by jansson, not the scanner */
	    "{\"delivery_id\":\"d1\",\"idempotency_key\":\"k\",\"message_id\":\"m\","
	    "\"document_type\":\"T\",\"received_at\":\"2026-11-29T01:02:03Z\",\"attempt\":1,"
	    "\"document_size\":4,\"meta\":{\"document_id\":\"A\\u0042\",\"source\":7}}",
	};
	size_t n, i;
	unsigned seed = 777;
	char *body = full_body(&n), *buf = malloc(n + 8);
	int fast = 0;

	ck_assert_int_eq(agree_decode("full body", body, n), 1);
	{
		/* only a DELIVER header of this version, three frames */
		static const unsigned char bad[3][4] = {
		    {'S', 'X', BUS_PROTO_VERSION, BUS_MSG_ACK},
		    {'S', 'X', 2, BUS_MSG_DELIVER},
		    {'S', 'Y', BUS_PROTO_VERSION, BUS_MSG_DELIVER}};
		struct bus_deliver_view v;
		struct bus_frame f[3] = {{NULL, 4}, {body, n}, {"<x/>", 4}};

		for (i = 0; i < 3; i++) {
			f[0].data = bad[i];
			ck_assert_int_eq(bus_deliver_fast_decode(f, 3, 0, &v), 0);
		}
		f[0].data = "SX\001\003";
		ck_assert_int_eq(bus_deliver_fast_decode(f, 3, 0, &v), 1);
		ck_assert_int_eq(bus_deliver_fast_decode(f, 2, 0, &v), 0);
		ck_assert_int_eq(bus_deliver_fast_decode(f, 3, 3, &v), 0); /* max_doc */
	}
	ck_assert_int_eq(agree_decode("case 0", cases[0], strlen(cases[0])), 1);
	for (i = 1; i < sizeof(cases) / sizeof(cases[0]); i++)
		agree_decode("case", cases[i], strlen(cases[i]));
	for (i = 0; i < 30000; i++) {
		size_t len;

		memcpy(buf, body, n);
		len = mutate(buf, n, n + 8, &seed);
		fast += agree_decode("mutant", buf, len);
	}
	printf("fast decode: 30000 mutants, %d taken by the scanner\n", fast);
	ck_assert_int_gt(fast, 1000);
	ck_assert_int_lt(fast, 29000);
	free(buf);
	free(body);
}
END_TEST

/* big_envelope: REAL_ENV with meta.original_b64 of B64 base64 characters
 * ('A' * B64, a valid encoding when B64 is a multiple of 4); malloc, its
 * length in *LEN. */
static char *big_envelope(size_t b64, size_t *len)
{
	const char *tail = strstr(REAL_ENV, "\"original_b64\":\"") + 16;
	size_t head = (size_t)(tail - REAL_ENV);
	char *env = malloc(head + b64 + 3);

	ck_assert_ptr_nonnull(env);
	memcpy(env, REAL_ENV, head);
	memset(env + head, 'A', b64);
	memcpy(env + head + b64, "\"}}", 3);
	*len = head + b64 + 3;
	return env;
}

/* A document delivered signed carries the bytes received as
 * meta.original_b64: a DELIVER's body may exceed BUS_MAX_BODY by the
 * base64 length of the session's largest document, and no more; other
 * bodies stay within BUS_MAX_BODY. */
START_TEST(deliver_body_carries_the_original)
{
	const size_t orig = 300 * 1024, b64 = 4 * ((orig + 2) / 3), small_doc = 64 * 1024;
	struct bus_deliver_view v;
	struct bus_wire w;
	struct bus_msg m;
	char err[256];
	size_t len;
	char *env = big_envelope(b64, &len);
	int code = 0;

	ck_assert_uint_eq(bus_max_body(BUS_MSG_HELLO, 0), BUS_MAX_BODY);
	ck_assert_uint_eq(bus_max_body(BUS_MSG_SUBMIT, BUS_MAX_DOC), BUS_MAX_BODY);
	ck_assert_uint_eq(bus_max_body(BUS_MSG_DELIVER, 0), 65536u + 22369624u);
	ck_assert_uint_eq(bus_max_body(BUS_MSG_DELIVER, BUS_MAX_DOC + 1), 65536u + 22369624u);
	ck_assert_uint_eq(bus_max_body(BUS_MSG_DELIVER, 3), 65536u + 4u);

	/* built by splicing and by the jansson path alike, over 64 KiB */
	agree("300 KiB original", env, len);
	ck_assert_int_eq(bus_build_deliver(&w, env, len, "m12.q7", 1, "<x/>", 4, err, sizeof(err)),
	                 0);
	ck_assert_uint_gt(w.body_len, b64);
	ck_assert_uint_gt(w.body_len, BUS_MAX_BODY);
	{
		struct bus_frame f[3] = {
		    {w.head, BUS_HEAD_LEN}, {w.body, w.body_len}, {w.doc, w.doc_len}};

		/* read at the default limit, strictly and by the scanner */
		ck_assert_int_eq(
		    bus_msg_decode(f, 3, BUS_FROM_SERVER, 0, &m, &code, err, sizeof(err)), 0);
		ck_assert_uint_eq(strlen(json_string_value(json_object_get(
		                      json_object_get(m.body, "meta"), "original_b64"))),
		                  b64);
		bus_msg_clear(&m);
		ck_assert_int_eq(bus_deliver_fast_decode(f, 3, 0, &v), 1);
		/* a session whose documents are at most 64 KiB: the original
		 * cannot be 300 KiB, and the body is refused as too large */
		ck_assert_int_eq(
		    bus_msg_decode(f, 3, BUS_FROM_SERVER, small_doc, &m, &code, err, sizeof(err)),
		    SECMX_ELIMIT);
		ck_assert_int_eq(code, BUS_ERR_SIZE);
		ck_assert_int_eq(bus_deliver_fast_decode(f, 3, small_doc, &v), 0);
		/* the same body under another type's header is refused */
		f[0].data = "SX\001\006"; /* SUBMIT */
		ck_assert_int_eq(
		    bus_msg_decode(f, 3, BUS_FROM_ADAPTER, 0, &m, &code, err, sizeof(err)),
		    SECMX_ELIMIT);
		ck_assert_int_eq(code, BUS_ERR_SIZE);
	}
	bus_wire_free(&w);
	free(env);

	/* over the DELIVER limit of a 64 KiB session; cut to the limit itself,
	 * the reader gets past the size check and finds no JSON object */
	env = big_envelope(4 * ((small_doc + 2) / 3) + BUS_MAX_BODY, &len);
	ck_assert_int_eq(bus_build_deliver(&w, env, len, "d1", 1, "<x/>", 4, err, sizeof(err)), 0);
	{
		struct bus_frame f[3] = {
		    {w.head, BUS_HEAD_LEN}, {w.body, w.body_len}, {w.doc, w.doc_len}};

		ck_assert_uint_gt(w.body_len, bus_max_body(BUS_MSG_DELIVER, small_doc));
		ck_assert_int_eq(
		    bus_msg_decode(f, 3, BUS_FROM_SERVER, small_doc, &m, &code, err, sizeof(err)),
		    SECMX_ELIMIT);
		f[1].len = bus_max_body(BUS_MSG_DELIVER, small_doc); /* cut: not JSON */
		ck_assert_int_eq(
		    bus_msg_decode(f, 3, BUS_FROM_SERVER, small_doc, &m, &code, err, sizeof(err)),
		    SECMX_EPARSE);
		ck_assert_int_eq(code, BUS_ERR_JSON);
	}
	bus_wire_free(&w);
	free(env);
}
END_TEST

TCase *tc_splice(void)
{
	TCase *tc = tcase_create("splice");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, splice_accepts_daemon_envelopes);
	tcase_add_test(tc, splice_refuses_like_reference);
	tcase_add_test(tc, splice_mutants);
	tcase_add_test(tc, fast_decode_agrees);
	tcase_add_test(tc, deliver_body_carries_the_original);
	return tc;
}
