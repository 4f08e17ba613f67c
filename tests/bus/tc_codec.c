/*
 * tc_codec.c — the wire codec: every type round-trips through builder and
 * reader; the reader refuses each kind of malformed message with the right
 * protocol error code.
 */
#include <jansson.h>
#include <string.h>

#include "helpers.h"

/* decode: run the reader over a built message. */
static int decode(const struct bus_wire *w, int from, struct bus_msg *m, int *code)
{
	struct bus_frame f[3] = {{w->head, BUS_HEAD_LEN}, {w->body, w->body_len},
				 {w->doc, w->doc_len}};
	char err[256];

	return bus_msg_decode(f, (size_t)w->nframes, from, 0, m, code, err, sizeof(err));
}

/* refuse: raw frames must be refused with CODE. */
static void refuse(const char *what, const struct bus_frame *f, size_t n, int from, int code)
{
	struct bus_msg m;
	char err[256] = "";
	int got = -1, rc;

	rc = bus_msg_decode(f, n, from, 0, &m, &got, err, sizeof(err));
	ck_assert_msg(rc < 0, "%s: accepted", what);
	ck_assert_msg(got == code, "%s: code %s, expected %s (%s)", what, bus_err_name(got),
		      bus_err_name(code), err);
	ck_assert_ptr_null(m.body);
}

static const unsigned char H_ACK[4] = {'S', 'X', BUS_PROTO_VERSION, BUS_MSG_ACK};

/* body: a frame holding a C string. */
static struct bus_frame body(const char *s)
{
	struct bus_frame f = {s, strlen(s)};

	return f;
}

START_TEST(roundtrip_all_types)
{
	const char *pats[] = {"Invoice", "Order*", "?redit*"};
	struct bus_wire w;
	struct bus_msg m;
	char err[256];
	int code;

	ck_assert_int_eq(bus_build_hello(&w, "finance-1", pats, 3, 8, err, sizeof(err)), 0);
	ck_assert_int_eq(w.nframes, 2);
	ck_assert_int_eq(decode(&w, BUS_FROM_ADAPTER, &m, &code), 0);
	ck_assert_int_eq(m.type, BUS_MSG_HELLO);
	ck_assert_str_eq(m.u.hello.name, "finance-1");
	ck_assert_uint_eq(m.u.hello.npatterns, 3);
	ck_assert_str_eq(m.u.hello.patterns[2], "?redit*");
	ck_assert_int_eq(m.u.hello.credit, 8);
	bus_msg_clear(&m);
	/* HELLO is adapter → server only. */
	ck_assert_int_lt(decode(&w, BUS_FROM_SERVER, &m, &code), 0);
	ck_assert_int_eq(code, BUS_ERR_TYPE);
	bus_wire_free(&w);

	ck_assert_int_eq(bus_build_ack(&w, "q:42.7", err, sizeof(err)), 0);
	ck_assert_uint_eq(w.body_len, strlen("{\"delivery_id\":\"q:42.7\"}"));
	ck_assert_int_eq(memcmp(w.body, "{\"delivery_id\":\"q:42.7\"}", w.body_len), 0);
	ck_assert_int_eq(decode(&w, BUS_FROM_ADAPTER, &m, &code), 0);
	ck_assert_str_eq(m.u.ack.delivery_id, "q:42.7");
	bus_msg_clear(&m);
	bus_wire_free(&w);

	ck_assert_int_eq(bus_build_nack(&w, "d1", BUS_NACK_PERMANENT, "no such cost centre",
					err, sizeof(err)), 0);
	ck_assert_int_eq(decode(&w, BUS_FROM_ADAPTER, &m, &code), 0);
	ck_assert_int_eq(m.u.nack.kind, BUS_NACK_PERMANENT);
	ck_assert_str_eq(m.u.nack.reason, "no such cost centre");
	bus_msg_clear(&m);
	bus_wire_free(&w);

	ck_assert_int_eq(bus_build_submit(&w, "r1", "order-2026-0001", "Order",
					  "{\"to\":\"buyer@example.org\"}", "<Order/>", 8, err,
					  sizeof(err)), 0);
	ck_assert_int_eq(w.nframes, 3);
	ck_assert_int_eq(decode(&w, BUS_FROM_ADAPTER, &m, &code), 0);
	ck_assert_str_eq(m.u.submit.idempotency_key, "order-2026-0001");
	ck_assert_uint_eq(m.doc_len, 8);
	ck_assert_int_eq(memcmp(m.doc, "<Order/>", 8), 0);
	bus_msg_clear(&m);
	bus_wire_free(&w);

	ck_assert_int_eq(bus_build_submit_result(&w, "r1", 1, "<m1@x>", NULL, err, sizeof(err)),
			 0);
	ck_assert_int_eq(decode(&w, BUS_FROM_SERVER, &m, &code), 0);
	ck_assert_int_eq(m.u.submit_result.accepted, 1);
	ck_assert_str_eq(m.u.submit_result.message_id, "<m1@x>");
	bus_msg_clear(&m);
	bus_wire_free(&w);
	/* accepted without a message id is refused by the builder */
	ck_assert_int_lt(bus_build_submit_result(&w, "r1", 1, NULL, NULL, err, sizeof(err)), 0);

	ck_assert_int_eq(bus_build_heartbeat(&w, err, sizeof(err)), 0);
	ck_assert_int_eq(decode(&w, BUS_FROM_SERVER, &m, &code), 0);
	ck_assert_int_eq(m.type, BUS_MSG_HEARTBEAT);
	bus_msg_clear(&m);
	ck_assert_int_eq(decode(&w, BUS_FROM_ADAPTER, &m, &code), 0);
	bus_msg_clear(&m);
	bus_wire_free(&w);

	ck_assert_int_eq(bus_build_error(&w, BUS_ERR_SCHEMA, "missing field", "r1", err,
					 sizeof(err)), 0);
	ck_assert_int_eq(decode(&w, BUS_FROM_SERVER, &m, &code), 0);
	ck_assert_str_eq(m.u.error.code, "schema");
	ck_assert_int_eq(bus_err_from_name(m.u.error.code), BUS_ERR_SCHEMA);
	bus_msg_clear(&m);
	bus_wire_free(&w);

	ck_assert_int_eq(bus_build_bye(&w, NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(decode(&w, BUS_FROM_ADAPTER, &m, &code), 0);
	ck_assert_ptr_null(m.u.bye.reason);
	bus_msg_clear(&m);
	bus_wire_free(&w);

	ck_assert_int_eq(bus_msg_encode(BUS_MSG_DELIVER,
					json_pack("{s:s,s:s,s:s,s:s,s:s,s:i,s:{s:b}}",
						  "delivery_id", "d9", "idempotency_key", "k9",
						  "message_id", "<9@x>", "document_type", "Invoice",
						  "received_at", "2026-11-29T01:02:03.123Z",
						  "attempt", 2, "validation", "valid", 1),
					"<Invoice/>", 10, &w, err, sizeof(err)), 0);
	ck_assert_int_eq(decode(&w, BUS_FROM_SERVER, &m, &code), 0);
	ck_assert_str_eq(m.u.deliver.delivery_id, "d9");
	ck_assert_int_eq(m.u.deliver.attempt, 2);
	ck_assert_int_eq(json_integer_value(json_object_get(m.body, "document_size")), 10);
	bus_msg_clear(&m);
	bus_wire_free(&w);
}
END_TEST

START_TEST(builder_refuses_bad_values)
{
	const char *pats[] = {"Invoice"}, *badpat[] = {"In voice"};
	struct bus_wire w;
	char err[256];

	ck_assert_int_lt(bus_build_hello(&w, "-leading-dash", pats, 1, 8, err, sizeof(err)), 0);
	ck_assert_int_lt(bus_build_hello(&w, "ok", pats, 1, 0, err, sizeof(err)), 0);
	ck_assert_int_lt(bus_build_hello(&w, "ok", pats, 1, BUS_MAX_CREDIT + 1, err,
					 sizeof(err)), 0);
	ck_assert_int_lt(bus_build_hello(&w, "ok", badpat, 1, 8, err, sizeof(err)), 0);
	ck_assert_int_lt(bus_build_hello(&w, "ok", pats, 0, 8, err, sizeof(err)), 0);
	ck_assert_int_lt(bus_build_ack(&w, "has space", err, sizeof(err)), 0);
	ck_assert_int_lt(bus_build_ack(&w, NULL, err, sizeof(err)), 0);
	ck_assert_int_lt(bus_build_nack(&w, "d1", BUS_NACK_TRANSIENT, "", err, sizeof(err)), 0);
	ck_assert_int_lt(bus_build_nack(&w, "d1", BUS_NACK_TRANSIENT, "line\nbreak", err,
					sizeof(err)), 0);
	ck_assert_int_lt(bus_build_submit(&w, "r1", "k", NULL, "[1]", "x", 1, err, sizeof(err)),
			 0);
	ck_assert_str_eq(err, "metadata is not a JSON object");
}
END_TEST

START_TEST(reader_refusals)
{
	static const unsigned char h_badver[4] = {'S', 'X', 2, BUS_MSG_ACK};
	static const unsigned char h_badmagic[4] = {'Z', 'X', 1, BUS_MSG_ACK};
	static const unsigned char h_type99[4] = {'S', 'X', 1, 99};
	static const unsigned char h_type0[4] = {'S', 'X', 1, 0};
	static const unsigned char h_deliver[4] = {'S', 'X', 1, BUS_MSG_DELIVER};
	static const unsigned char h_submit[4] = {'S', 'X', 1, BUS_MSG_SUBMIT};
	static const unsigned char h_long[5] = {'S', 'X', 1, BUS_MSG_ACK, 0};
	const char *ok = "{\"delivery_id\":\"d1\"}";
	struct bus_frame f[4];
	char *big;

	f[0] = (struct bus_frame){H_ACK, 4};
	f[1] = body(ok);
	{
		struct bus_msg m;
		char err[128];
		int code;

		ck_assert_int_eq(bus_msg_decode(f, 2, BUS_FROM_ADAPTER, 0, &m, &code, err,
						sizeof(err)), 0);
		bus_msg_clear(&m);
	}
	refuse("no frames", f, 0, BUS_FROM_ADAPTER, BUS_ERR_FRAMES);
	refuse("header only", f, 1, BUS_FROM_ADAPTER, BUS_ERR_FRAMES);
	f[2] = body("x");
	refuse("ACK with 3 frames", f, 3, BUS_FROM_ADAPTER, BUS_ERR_FRAMES);
	f[3] = body("x");
	refuse("4 frames", f, 4, BUS_FROM_ADAPTER, BUS_ERR_FRAMES);
	f[0] = (struct bus_frame){h_badver, 4};
	refuse("version 2", f, 2, BUS_FROM_ADAPTER, BUS_ERR_VERSION);
	f[0] = (struct bus_frame){h_badmagic, 4};
	refuse("bad magic", f, 2, BUS_FROM_ADAPTER, BUS_ERR_HEADER);
	f[0] = (struct bus_frame){h_long, 5};
	refuse("5-byte header", f, 2, BUS_FROM_ADAPTER, BUS_ERR_HEADER);
	f[0] = (struct bus_frame){h_type99, 4};
	refuse("type 99", f, 2, BUS_FROM_ADAPTER, BUS_ERR_TYPE);
	f[0] = (struct bus_frame){h_type0, 4};
	refuse("type 0", f, 2, BUS_FROM_ADAPTER, BUS_ERR_TYPE);
	f[0] = (struct bus_frame){h_deliver, 4};
	f[2] = body("doc");
	refuse("DELIVER from an adapter", f, 3, BUS_FROM_ADAPTER, BUS_ERR_TYPE);

	f[0] = (struct bus_frame){H_ACK, 4};
	f[1] = body("{\"delivery_id\":\"d1\"} trailing");
	refuse("trailing data", f, 2, BUS_FROM_ADAPTER, BUS_ERR_JSON);
	f[1] = body("{\"delivery_id\":\"d1\"");
	refuse("truncated JSON", f, 2, BUS_FROM_ADAPTER, BUS_ERR_JSON);
	f[1] = body("[\"d1\"]");
	refuse("array body", f, 2, BUS_FROM_ADAPTER, BUS_ERR_JSON);
	f[1] = body("{\"delivery_id\":\"d1\",\"delivery_id\":\"d2\"}");
	refuse("duplicate key", f, 2, BUS_FROM_ADAPTER, BUS_ERR_JSON);
	f[1] = (struct bus_frame){"{\"delivery_id\":\"d1\"}\0", 21};
	refuse("NUL after the object", f, 2, BUS_FROM_ADAPTER, BUS_ERR_JSON);
	f[1] = body("{\"delivery_id\":\"d\\u0000\"}");
	refuse("escaped NUL in a string", f, 2, BUS_FROM_ADAPTER, BUS_ERR_JSON);
	f[1] = body("{\"delivery_id\":\"\xff\xfe\"}");
	refuse("invalid UTF-8", f, 2, BUS_FROM_ADAPTER, BUS_ERR_JSON);
	f[1] = body("{}");
	refuse("missing field", f, 2, BUS_FROM_ADAPTER, BUS_ERR_SCHEMA);
	f[1] = body("{\"delivery_id\":\"d1\",\"extra\":1}");
	refuse("unknown field", f, 2, BUS_FROM_ADAPTER, BUS_ERR_SCHEMA);
	f[1] = body("{\"delivery_id\":42}");
	refuse("wrong type", f, 2, BUS_FROM_ADAPTER, BUS_ERR_SCHEMA);
	f[1] = body("{\"delivery_id\":\"\"}");
	refuse("empty id", f, 2, BUS_FROM_ADAPTER, BUS_ERR_SCHEMA);
	f[1] = body("{\"delivery_id\":\"0123456789012345678901234567890123456789012345678901234567890123456789\"}");
	refuse("id too long", f, 2, BUS_FROM_ADAPTER, BUS_ERR_SCHEMA);

	big = malloc(BUS_MAX_BODY + 2);
	ck_assert_ptr_nonnull(big);
	memset(big, ' ', BUS_MAX_BODY + 1);
	memcpy(big, ok, strlen(ok));
	f[1] = (struct bus_frame){big, BUS_MAX_BODY + 1};
	refuse("body over the limit", f, 2, BUS_FROM_ADAPTER, BUS_ERR_SIZE);
	free(big);

	f[0] = (struct bus_frame){h_submit, 4};
	f[1] = body("{\"request_id\":\"r\",\"idempotency_key\":\"k\",\"document_size\":3}");
	f[2] = body("abcd");
	refuse("document_size mismatch", f, 3, BUS_FROM_ADAPTER, BUS_ERR_SCHEMA);
	f[1] = body("{\"request_id\":\"r\",\"idempotency_key\":\"k\",\"document_size\":4}");
	{
		struct bus_msg m;
		char err[128];
		int code = 0;

		ck_assert_int_eq(bus_msg_decode(f, 3, BUS_FROM_ADAPTER, 0, &m, &code, err,
						sizeof(err)), 0);
		bus_msg_clear(&m);
		/* the same SUBMIT against a 3-byte negotiated maximum */
		ck_assert_int_eq(bus_msg_decode(f, 3, BUS_FROM_ADAPTER, 3, &m, &code, err,
						sizeof(err)), SECMX_ELIMIT);
		ck_assert_int_eq(code, BUS_ERR_SIZE);
	}
	f[1] = body("{\"request_id\":\"r\",\"idempotency_key\":\"k\",\"document_size\":4.0}");
	refuse("float where an integer is due", f, 3, BUS_FROM_ADAPTER, BUS_ERR_SCHEMA);
}
END_TEST

START_TEST(patterns_and_names)
{
	ck_assert(bus_pattern_match("Invoice", "Invoice"));
	ck_assert(!bus_pattern_match("Invoice", "InvoiceX"));
	ck_assert(bus_pattern_match("*", "Order"));
	ck_assert(bus_pattern_match("Order*", "OrderResponse"));
	ck_assert(bus_pattern_match("Order*", "Order"));
	ck_assert(!bus_pattern_match("Order*", "PurchaseOrder"));
	ck_assert(bus_pattern_match("*Advice", "RemittanceAdvice"));
	ck_assert(bus_pattern_match("?redit*", "CreditNote"));
	ck_assert(!bus_pattern_match("a*b*c", "aXbY"));
	ck_assert(bus_pattern_match("a*b*c", "aXbYc"));
	ck_assert(bus_name_ok("records.archive_2"));
	ck_assert(!bus_name_ok("_hidden"));
	ck_assert(!bus_name_ok("a/b"));
	ck_assert(bus_key_ok("<abc@host.example>"));
	ck_assert(!bus_key_ok("two words"));
	ck_assert(!bus_pattern_ok("Inv[oi]ce"));
}
END_TEST

TCase *tc_codec(void)
{
	TCase *tc = tcase_create("codec");

	tcase_add_test(tc, roundtrip_all_types);
	tcase_add_test(tc, builder_refuses_bad_values);
	tcase_add_test(tc, reader_refusals);
	tcase_add_test(tc, patterns_and_names);
	return tc;
}
