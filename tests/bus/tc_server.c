/*
 * tc_server.c — the bus server over real ipc:// sockets: HELLO and the credit
 * window, order, ACK/NACK, redelivery after reconnect and after the ack
 * timeout, heartbeats and the dead-peer timer, SUBMIT, strict refusals and a
 * fuzz-like storm of random frames that the server must survive.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"

/* A fixture: temp dir, memops, bus, a client context. */
static char dir[128], endpoint[256];
static struct memops mo;
static void *ctx;

static struct bus *start(int n, int hb, int dead, int ack)
{
	t_tmpdir(dir, sizeof(dir));
	snprintf(endpoint, sizeof(endpoint), "ipc://%s/bus.sock", dir);
	memops_init(&mo, n, 200);
	mo.quiet = 1;
	ctx = zmq_ctx_new();
	return t_bus(&mo, endpoint, hb, dead, ack);
}

static void stop(struct bus *b, void *s1, void *s2)
{
	if (s1)
		zmq_close(s1);
	if (s2)
		zmq_close(s2);
	bus_free(b);
	zmq_ctx_term(ctx);
	rmdir(dir);
}

/* expect_error: the next message is ERROR with CODE. */
static void expect_error(struct bus *b, void *s, const char *code)
{
	struct tmsg t;

	ck_assert_msg(t_recv(b, s, 3000, &t) == 0, "no ERROR %s", code);
	ck_assert_msg(t.m.type == BUS_MSG_ERROR, "expected ERROR, got %s", bus_msg_name(t.m.type));
	ck_assert_str_eq(t.m.u.error.code, code);
	t_free(&t);
}

/* expect_silence: nothing but heartbeats for MS. */
static void expect_silence(struct bus *b, void *s, int ms)
{
	struct tmsg t;

	while (t_recv(b, s, ms, &t) == 0) {
		ck_assert_msg(t.m.type == BUS_MSG_HEARTBEAT, "unexpected %s",
			      bus_msg_name(t.m.type));
		t_free(&t);
	}
}

START_TEST(credit_window_and_order)
{
	struct bus *b = start(20, 5000, 15000, 60000);
	void *s = t_dealer(ctx, endpoint, NULL, NULL, NULL);
	struct bus_stats st;
	char id[16];
	int i;

	t_hello(b, s, "finance", 3);
	t_expect_deliver(b, s, "d1", 1);
	t_expect_deliver(b, s, "d2", 1);
	t_expect_deliver(b, s, "d3", 1);
	expect_silence(b, s, 300); /* credit 3: the 4th must wait */
	t_ack(s, "d1");
	t_expect_deliver(b, s, "d4", 1);
	expect_silence(b, s, 100);
	for (i = 2; i <= 17; i++) {
		snprintf(id, sizeof(id), "d%d", i);
		t_ack(s, id);
		snprintf(id, sizeof(id), "d%d", i + 3);
		t_expect_deliver(b, s, id, 1); /* strictly in the order given */
	}
	for (i = 18; i <= 20; i++) {
		snprintf(id, sizeof(id), "d%d", i);
		t_ack(s, id);
	}
	t_drive(b, 100);
	ck_assert_int_eq(memops_acked(&mo), 20);
	for (i = 0; i < 20; i++)
		ck_assert_int_eq(mo.ack_order[i], i);
	bus_stats_get(b, &st);
	ck_assert_uint_eq(st.max_inflight, 3);
	ck_assert_uint_eq(st.delivered, 20);
	ck_assert_uint_eq(st.acked, 20);
	ck_assert_uint_eq(st.adapters, 1);
	stop(b, s, NULL);
}
END_TEST

START_TEST(hello_first_and_once)
{
	struct bus *b = start(1, 5000, 15000, 60000);
	void *s = t_dealer(ctx, endpoint, NULL, NULL, NULL);
	struct bus_wire w;
	const char *pats[] = {"*"};
	char err[256];

	t_ack(s, "d1");
	expect_error(b, s, "state");
	t_hello(b, s, "records", 1);
	t_expect_deliver(b, s, "d1", 1);
	ck_assert_int_eq(bus_build_hello(&w, "records", pats, 1, 1, err, sizeof(err)), 0);
	t_send(s, &w);
	expect_error(b, s, "state");
	/* a refused HELLO */
	mo.refuse_hello = 1;
	{
		void *s2 = t_dealer(ctx, endpoint, NULL, NULL, NULL);
		struct bus_wire w2;

		ck_assert_int_eq(bus_build_hello(&w2, "other", pats, 1, 1, err, sizeof(err)), 0);
		t_send(s2, &w2);
		expect_error(b, s2, "refused");
		zmq_close(s2);
	}
	stop(b, s, NULL);
}
END_TEST

START_TEST(nack_transient_and_permanent)
{
	struct bus *b = start(3, 5000, 15000, 60000);
	void *s = t_dealer(ctx, endpoint, NULL, NULL, NULL);
	struct bus_wire w;
	struct bus_stats st;
	char err[256];

	t_hello(b, s, "finance", 1);
	t_expect_deliver(b, s, "d1", 1);
	ck_assert_int_eq(bus_build_nack(&w, "d1", BUS_NACK_TRANSIENT, "ledger locked", err,
					sizeof(err)), 0);
	t_send(s, &w);
	t_expect_deliver(b, s, "d1", 2); /* offered again by the queue, attempt 2 */
	t_ack(s, "d1");
	t_expect_deliver(b, s, "d2", 1);
	ck_assert_int_eq(bus_build_nack(&w, "d2", BUS_NACK_PERMANENT, "unknown supplier", err,
					sizeof(err)), 0);
	t_send(s, &w);
	t_expect_deliver(b, s, "d3", 1);
	t_ack(s, "d3");
	t_drive(b, 50);
	ck_assert_int_eq(mo.nacks_transient, 1);
	ck_assert_int_eq(mo.dead[1], 1);
	ck_assert_str_eq(mo.dead_reason, "unknown supplier");
	ck_assert_int_eq(mo.acks[0], 1);
	ck_assert_int_eq(mo.acks[1], 0);
	bus_stats_get(b, &st);
	ck_assert_uint_eq(st.dead_lettered, 1);
	/* a duplicate ACK is harmless and reported once */
	t_ack(s, "d3");
	t_drive(b, 50);
	ck_assert_int_eq(mo.acks[2], 1);
	stop(b, s, NULL);
}
END_TEST

START_TEST(redelivery_after_reconnect)
{
	struct bus *b = start(5, 5000, 15000, 60000);
	void *s1 = t_dealer(ctx, endpoint, NULL, NULL, NULL), *s2;
	struct bus_wire w;
	char err[256];

	t_hello(b, s1, "finance", 2);
	t_expect_deliver(b, s1, "d1", 1);
	t_expect_deliver(b, s1, "d2", 1);
	zmq_close(s1); /* a crash: no BYE, nothing acknowledged */
	s2 = t_dealer(ctx, endpoint, NULL, NULL, NULL);
	t_hello(b, s2, "finance", 2);
	t_expect_deliver(b, s2, "d1", 2); /* the same ones again, first, in order */
	t_expect_deliver(b, s2, "d2", 2);
	t_ack(s2, "d1");
	t_expect_deliver(b, s2, "d3", 1);
	/* an orderly BYE keeps the unacknowledged ones for the next session */
	ck_assert_int_eq(bus_build_bye(&w, "restarting", err, sizeof(err)), 0);
	t_send(s2, &w);
	t_drive(b, 50);
	zmq_close(s2);
	s1 = t_dealer(ctx, endpoint, NULL, NULL, NULL);
	t_hello(b, s1, "finance", 2);
	t_expect_deliver(b, s1, "d2", 3);
	t_expect_deliver(b, s1, "d3", 2);
	t_ack(s1, "d2");
	t_ack(s1, "d3");
	t_expect_deliver(b, s1, "d4", 1);
	stop(b, s1, NULL);
}
END_TEST

START_TEST(redelivery_after_ack_timeout)
{
	struct bus *b = start(2, 5000, 15000, 200);
	void *s = t_dealer(ctx, endpoint, NULL, NULL, NULL);
	struct bus_stats st;

	t_hello(b, s, "finance", 1);
	t_expect_deliver(b, s, "d1", 1);
	t_expect_deliver(b, s, "d1", 2); /* not answered within 200 ms */
	t_ack(s, "d1");
	t_expect_deliver(b, s, "d2", 1);
	bus_stats_get(b, &st);
	ck_assert_uint_ge(st.redelivered, 1);
	ck_assert_uint_eq(st.max_inflight, 1);
	stop(b, s, NULL);
}
END_TEST

START_TEST(heartbeat_dead_peer)
{
	struct bus *b = start(0, 50, 250, 60000);
	void *s = t_dealer(ctx, endpoint, NULL, NULL, NULL);
	void *live = t_dealer(ctx, endpoint, NULL, NULL, NULL);
	struct bus_stats st;
	struct tmsg t;
	int i;

	t_hello(b, s, "silent", 1);
	t_hello(b, live, "chatty", 1);
	ck_assert_int_eq(t_recv(b, s, 1000, &t), 0);
	ck_assert_int_eq(t.m.type, BUS_MSG_HEARTBEAT); /* the server speaks first */
	t_free(&t);
	for (i = 0; i < 12; i++) {
		struct bus_wire w;
		char err[64];

		ck_assert_int_eq(bus_build_heartbeat(&w, err, sizeof(err)), 0);
		t_send(live, &w);
		t_drive(b, 50);
	}
	bus_stats_get(b, &st);
	ck_assert_uint_eq(st.dead_peers, 1);
	ck_assert_uint_eq(st.adapters, 1); /* "chatty" lives on */
	stop(b, s, live);
}
END_TEST

START_TEST(submit)
{
	struct bus *b = start(0, 5000, 15000, 60000);
	void *s = t_dealer(ctx, endpoint, NULL, NULL, NULL);
	struct bus_wire w;
	struct tmsg t;
	char err[256];

	ck_assert_int_eq(bus_build_submit(&w, "r1", "po-1", "Order", NULL, "<Order/>", 8, err,
					  sizeof(err)), 0);
	t_send(s, &w);
	expect_error(b, s, "state");
	t_hello(b, s, "erp", 1);
	ck_assert_int_eq(bus_build_submit(&w, "r2", "po-1", "Order", "{\"to\":\"x@y.example\"}",
					  "<Order/>", 8, err, sizeof(err)), 0);
	t_send(s, &w);
	ck_assert_int_eq(t_recv(b, s, 3000, &t), 0);
	ck_assert_int_eq(t.m.type, BUS_MSG_SUBMIT_RESULT);
	ck_assert_str_eq(t.m.u.submit_result.request_id, "r2");
	ck_assert_int_eq(t.m.u.submit_result.accepted, 1);
	ck_assert_str_eq(t.m.u.submit_result.message_id, "<out-1@secmx.test>");
	t_free(&t);
	/* the same idempotency key again: the same message, not a second one */
	ck_assert_int_eq(bus_build_submit(&w, "r3", "po-1", NULL, NULL, "<Order/>", 8, err,
					  sizeof(err)), 0);
	t_send(s, &w);
	ck_assert_int_eq(t_recv(b, s, 3000, &t), 0);
	ck_assert_str_eq(t.m.u.submit_result.message_id, "<out-1@secmx.test>");
	t_free(&t);
	ck_assert_int_eq(mo.nsubmit, 1);
	ck_assert_str_eq(mo.last_submit_doc, "<Order/>");
	/* refused by the ops */
	ck_assert_int_eq(bus_build_submit(&w, "r4", "po-2", NULL, NULL, "", 0, err,
					  sizeof(err)), 0);
	t_send(s, &w);
	ck_assert_int_eq(t_recv(b, s, 3000, &t), 0);
	ck_assert_int_eq(t.m.u.submit_result.accepted, 0);
	ck_assert_str_eq(t.m.u.submit_result.reason, "empty document");
	t_free(&t);
	stop(b, s, NULL);
}
END_TEST

START_TEST(malformed_messages_refused)
{
	static const unsigned char h_ack[4] = {'S', 'X', 1, BUS_MSG_ACK};
	static const unsigned char h_v9[4] = {'S', 'X', 9, BUS_MSG_HELLO};
	static const unsigned char h_t77[4] = {'S', 'X', 1, 77};
	struct bus *b = start(1, 5000, 15000, 60000);
	void *s = t_dealer(ctx, endpoint, NULL, NULL, NULL);
	struct bus_frame f[5];
	struct bus_stats st;

	f[0] = (struct bus_frame){h_ack, 4};
	t_send_raw(s, f, 1);
	expect_error(b, s, "frames");
	f[0] = (struct bus_frame){h_v9, 4};
	f[1] = (struct bus_frame){"{}", 2};
	t_send_raw(s, f, 2);
	expect_error(b, s, "version");
	f[0] = (struct bus_frame){h_t77, 4};
	t_send_raw(s, f, 2);
	expect_error(b, s, "type");
	f[0] = (struct bus_frame){h_ack, 4};
	f[1] = (struct bus_frame){"{\"delivery_id\":", 15};
	t_send_raw(s, f, 2);
	expect_error(b, s, "json");
	f[1] = (struct bus_frame){"{\"delivery_id\":\"d1\"}xx", 22};
	t_send_raw(s, f, 2);
	expect_error(b, s, "json");
	f[1] = (struct bus_frame){"{\"id\":\"d1\"}", 11};
	t_send_raw(s, f, 2);
	expect_error(b, s, "schema");
	f[1] = (struct bus_frame){"{}", 2};
	f[2] = f[3] = f[4] = f[1];
	t_send_raw(s, f, 5);
	expect_error(b, s, "frames");
	/* and the bus still serves */
	t_hello(b, s, "finance", 1);
	t_expect_deliver(b, s, "d1", 1);
	bus_stats_get(b, &st);
	ck_assert_uint_eq(st.refused, 7);
	ck_assert_int_ge(mo.nwarn, 7); /* each one logged */
	stop(b, s, NULL);
}
END_TEST

START_TEST(fuzz_random_frames)
{
	static const char *bodies[] = {
		"{}", "{\"delivery_id\":\"d1\"}", "{\"name\":\"x\",\"patterns\":[\"*\"],\"credit\":1}",
		"{\"request_id\":\"r\",\"idempotency_key\":\"k\",\"document_size\":1}",
		"{\"delivery_id\":\"d1\",\"kind\":\"permanent\",\"reason\":\"r\"}", "[]", "null",
		"{\"a\":{\"b\":[1,2,{\"c\":\"\\ud800\"}]}}", "\"x\"", ""};
	struct bus *b = start(50, 5000, 15000, 60000);
	void *s[3];
	struct bus_stats st;
	unsigned seed = 12345;
	unsigned char buf[5][300];
	int i, k;

	for (k = 0; k < 3; k++)
		s[k] = t_dealer(ctx, endpoint, NULL, NULL, NULL);
	for (i = 0; i < 3000; i++) {
		struct bus_frame f[5];
		size_t n = 1 + (size_t)rand_r(&seed) % 5, j;
		void *sock = s[rand_r(&seed) % 3];

		for (j = 0; j < n; j++) {
			size_t len = (size_t)rand_r(&seed) % 300, x;

			for (x = 0; x < len; x++)
				buf[j][x] = (unsigned char)rand_r(&seed);
			f[j] = (struct bus_frame){buf[j], len};
		}
		if (rand_r(&seed) % 2) {
			buf[0][0] = 'S';
			buf[0][1] = 'X';
			buf[0][2] = (unsigned char)(rand_r(&seed) % 8 ? 1 : rand_r(&seed));
			buf[0][3] = (unsigned char)(rand_r(&seed) % 12);
			f[0].len = rand_r(&seed) % 8 ? 4 : f[0].len;
			if (n > 1 && rand_r(&seed) % 2) {
				const char *bd = bodies[rand_r(&seed) % 10];

				f[1] = (struct bus_frame){bd, strlen(bd)};
				if (rand_r(&seed) % 3 == 0 && f[1].len > 1)
					f[1].len = (size_t)rand_r(&seed) % f[1].len;
			}
		}
		t_send_raw(sock, f, n);
		if (i % 50 == 49) {
			t_drive(b, 10);
			for (k = 0; k < 3; k++) { /* throw the replies away */
				zmq_msg_t m;

				zmq_msg_init(&m);
				while (zmq_msg_recv(&m, s[k], ZMQ_DONTWAIT) >= 0)
					;
				zmq_msg_close(&m);
			}
		}
	}
	t_drive(b, 200);
	bus_stats_get(b, &st);
	ck_assert_uint_ge(st.received, 2990);
	ck_assert_uint_ge(st.refused, 2500);
	{
		void *fresh = t_dealer(ctx, endpoint, NULL, NULL, NULL);

		t_hello(b, fresh, "after-the-storm", 1);
		zmq_close(fresh);
	}
	printf("fuzz: %lu messages received, %lu refused, %u sessions left open\n", st.received,
	       st.refused, st.adapters);
	for (k = 0; k < 3; k++)
		zmq_close(s[k]);
	stop(b, NULL, NULL);
}
END_TEST

START_TEST(bad_envelope_from_ops)
{
	struct bus *b = start(2, 5000, 15000, 60000);
	void *s = t_dealer(ctx, endpoint, NULL, NULL, NULL);

	mo.bad_envelope_at = 1;
	t_hello(b, s, "finance", 1);
	t_expect_deliver(b, s, "d2", 1); /* d1 never reaches the wire */
	ck_assert_int_eq(mo.dead[0], 1);
	ck_assert_msg(strncmp(mo.dead_reason, "bus: invalid envelope", 21) == 0, "%s",
		      mo.dead_reason);
	stop(b, s, NULL);
}
END_TEST

START_TEST(ipc_socket_mode)
{
	struct bus *b = start(0, 5000, 15000, 60000);
	char path[300];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/bus.sock", dir);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_msg((sb.st_mode & 0777) == 0600, "mode %o", (unsigned)(sb.st_mode & 0777));
	ck_assert_str_eq(bus_endpoint(b), endpoint);
	stop(b, NULL, NULL);
	ck_assert_int_ne(stat(path, &sb), 0); /* removed on close */
}
END_TEST

START_TEST(config_refused)
{
	struct bus_config cfg;
	struct memops m;
	struct bus_ops ops = memops_ops(&m);
	struct bus *b = NULL;
	char err[256] = "";

	memops_init(&m, 0, 64);
	bus_config_default(&cfg);
	cfg.endpoint = "tcp://127.0.0.1:*";
	ck_assert_int_eq(bus_new(&cfg, &ops, &b, err, sizeof(err)), SECMX_ECONFIG);
	ck_assert_ptr_null(b);
	ck_assert_msg(strstr(err, "CURVE") != NULL, "%s", err);
	cfg.endpoint = "inproc://x";
	ck_assert_int_eq(bus_new(&cfg, &ops, &b, err, sizeof(err)), SECMX_ECONFIG);
	cfg.endpoint = "ipc:///tmp/x.sock";
	cfg.ipc_mode = 0666;
	ck_assert_int_eq(bus_new(&cfg, &ops, &b, err, sizeof(err)), SECMX_ECONFIG);
	cfg.ipc_mode = 0600;
	cfg.dead_ms = cfg.heartbeat_ms;
	ck_assert_int_eq(bus_new(&cfg, &ops, &b, err, sizeof(err)), SECMX_ECONFIG);
}
END_TEST

TCase *tc_server(void)
{
	TCase *tc = tcase_create("server");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, credit_window_and_order);
	tcase_add_test(tc, hello_first_and_once);
	tcase_add_test(tc, nack_transient_and_permanent);
	tcase_add_test(tc, redelivery_after_reconnect);
	tcase_add_test(tc, redelivery_after_ack_timeout);
	tcase_add_test(tc, heartbeat_dead_peer);
	tcase_add_test(tc, submit);
	tcase_add_test(tc, malformed_messages_refused);
	tcase_add_test(tc, fuzz_random_frames);
	tcase_add_test(tc, bad_envelope_from_ops);
	tcase_add_test(tc, ipc_socket_mode);
	tcase_add_test(tc, config_refused);
	return tc;
}

START_TEST(submit_pending_then_reply)
{
	/* A group commit: on_submit defers, the daemon answers later. */
	struct bus *b = start(0, 5000, 15000, 60000);
	void *s = t_dealer(ctx, endpoint, NULL, NULL, NULL);
	struct bus_wire w;
	struct tmsg t;
	char err[256];

	mo.submit_pending = 1;
	t_hello(b, s, "erp", 1);
	ck_assert_int_eq(bus_build_submit(&w, "r9", "po-9", NULL, NULL, "<Order/>", 8, err,
					  sizeof(err)), 0);
	t_send(s, &w);
	ck_assert_int_lt(t_recv(b, s, 200, &t), 0); /* nothing until the commit */
	ck_assert_str_eq(mo.pending_request, "r9");
	ck_assert_int_eq(bus_submit_reply(b, "erp", "r9", 1, "<late@secmx.test>", NULL), 0);
	ck_assert_int_eq(t_recv(b, s, 3000, &t), 0);
	ck_assert_int_eq(t.m.type, BUS_MSG_SUBMIT_RESULT);
	ck_assert_str_eq(t.m.u.submit_result.request_id, "r9");
	ck_assert_str_eq(t.m.u.submit_result.message_id, "<late@secmx.test>");
	t_free(&t);
	ck_assert_int_eq(bus_submit_reply(b, "nobody", "r9", 1, "<x@y>", NULL), SECMX_EINVAL);
	stop(b, s, NULL);
}
END_TEST

START_TEST(credit_capped_and_oversize_dropped)
{
	struct bus_config cfg;
	struct bus_ops ops;
	struct bus_wire w;
	struct tmsg t;
	struct bus *b = NULL;
	const char *pats[] = {"*"};
	char err[256] = "", *big;
	void *s, *other;

	t_tmpdir(dir, sizeof(dir));
	snprintf(endpoint, sizeof(endpoint), "ipc://%s/bus.sock", dir);
	memops_init(&mo, 0, 64);
	mo.quiet = 1;
	ops = memops_ops(&mo);
	ctx = zmq_ctx_new();
	bus_config_default(&cfg);
	cfg.endpoint = endpoint;
	cfg.max_credit = 16;
	cfg.max_doc = 4096;
	ck_assert_int_eq(bus_new(&cfg, &ops, &b, err, sizeof(err)), 0);
	s = t_dealer(ctx, endpoint, NULL, NULL, NULL);
	ck_assert_int_eq(bus_build_hello(&w, "greedy", pats, 1, 1000, err, sizeof(err)), 0);
	t_send(s, &w);
	ck_assert_int_eq(t_recv(b, s, 3000, &t), 0);
	ck_assert_int_eq(t.m.type, BUS_MSG_WELCOME);
	ck_assert_int_eq(t.m.u.welcome.credit, 16); /* capped */
	ck_assert_int_eq(t.m.u.welcome.max_document_bytes, 4096);
	t_free(&t);
	/* A document over the socket's limit: libzmq drops the connection
	 * before the bus sees it; the bus holds nothing and serves on. */
	big = calloc(1, 1 << 20);
	ck_assert_ptr_nonnull(big);
	ck_assert_int_eq(bus_build_submit(&w, "r1", "k1", NULL, NULL, big, 1 << 20, err,
					  sizeof(err)), 0);
	t_send(s, &w);
	free(big);
	ck_assert_int_lt(t_recv(b, s, 300, &t), 0);
	ck_assert_int_eq(mo.nsubmit, 0);
	other = t_dealer(ctx, endpoint, NULL, NULL, NULL);
	t_hello(b, other, "modest", 4);
	stop(b, s, other);
}
END_TEST

TCase *tc_server_more(void)
{
	TCase *tc = tcase_create("server-more");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, submit_pending_then_reply);
	tcase_add_test(tc, credit_capped_and_oversize_dropped);
	return tc;
}
