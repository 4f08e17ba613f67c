/*
 * helpers.c — test helpers for the bus suite (see helpers.h).
 */
#include "helpers.h"

#include <dirent.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static char tmpdirs[8][128];
static int ntmpdirs;

/* remove_tmpdirs: at exit, delete the temp dirs (flat) this process made. */
static void remove_tmpdirs(void)
{
	int i;

	for (i = 0; i < ntmpdirs; i++) {
		DIR *d = opendir(tmpdirs[i]);
		struct dirent *e;
		char path[512];

		while (d && (e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			if ((size_t)snprintf(path, sizeof(path), "%s/%s", tmpdirs[i], e->d_name) <
			    sizeof(path))
				unlink(path);
		}
		if (d)
			closedir(d);
		rmdir(tmpdirs[i]);
	}
}

void t_tmpdir(char *out, size_t size)
{
	snprintf(out, size, "/tmp/secmx-bus-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(out));
	if (ntmpdirs == 0)
		atexit(remove_tmpdirs);
	if (ntmpdirs < 8)
		snprintf(tmpdirs[ntmpdirs++], sizeof(tmpdirs[0]), "%s", out);
}

struct bus *t_bus(struct memops *mo, const char *endpoint, int heartbeat_ms, int dead_ms,
		  int ack_ms)
{
	struct bus_config cfg;
	struct bus_ops ops = memops_ops(mo);
	struct bus *b = NULL;
	char err[256] = "";
	int rc;

	bus_config_default(&cfg);
	cfg.endpoint = endpoint;
	cfg.heartbeat_ms = heartbeat_ms;
	cfg.dead_ms = dead_ms;
	cfg.ack_timeout_ms = ack_ms;
	rc = bus_new(&cfg, &ops, &b, err, sizeof(err));
	ck_assert_msg(rc == 0, "bus_new(%s): %d %s", endpoint, rc, err);
	return b;
}

void *t_dealer(void *ctx, const char *endpoint, const char *server_pub, const char *pub,
	       const char *sec)
{
	void *s = zmq_socket(ctx, ZMQ_DEALER);
	int zero = 0;

	ck_assert_ptr_nonnull(s);
	zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof(zero));
	if (server_pub) {
		ck_assert_int_eq(zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, server_pub, 40), 0);
		ck_assert_int_eq(zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, pub, 40), 0);
		ck_assert_int_eq(zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, sec, 40), 0);
	}
	ck_assert_int_eq(zmq_connect(s, endpoint), 0);
	return s;
}

void t_send_raw(void *sock, const struct bus_frame *f, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		ck_assert_int_ge(zmq_send(sock, f[i].data, f[i].len, i + 1 < n ? ZMQ_SNDMORE : 0),
				 0);
}

void t_send(void *sock, struct bus_wire *w)
{
	struct bus_frame f[3] = {{w->head, BUS_HEAD_LEN}, {w->body, w->body_len},
				 {w->doc, w->doc_len}};

	t_send_raw(sock, f, (size_t)w->nframes);
	bus_wire_free(w);
}

int t_recv(struct bus *b, void *sock, int timeout_ms, struct tmsg *t)
{
	long end = ms_now() + timeout_ms;
	struct bus_frame f[4];
	char err[256];
	size_t i;

	memset(t, 0, sizeof(*t));
	for (;;) {
		zmq_pollitem_t it = {sock, 0, ZMQ_POLLIN, 0};

		if (b)
			bus_run_once(b, 0);
		if (zmq_poll(&it, 1, b ? 5 : (int)(end - ms_now() > 0 ? end - ms_now() : 0)) > 0)
			break;
		if (ms_now() >= end)
			return -1;
	}
	for (;;) {
		zmq_msg_t scratch, *p = t->n < 4 ? &t->parts[t->n] : &scratch;

		zmq_msg_init(p);
		ck_assert_int_ge(zmq_msg_recv(p, sock, 0), 0);
		int more = zmq_msg_more(p);
		if (p == &scratch)
			zmq_msg_close(p);
		else
			t->n++;
		if (!more)
			break;
	}
	for (i = 0; i < t->n; i++) {
		f[i].data = zmq_msg_data(&t->parts[i]);
		f[i].len = zmq_msg_size(&t->parts[i]);
	}
	t->rc = bus_msg_decode(f, t->n, BUS_FROM_SERVER, 0, &t->m, &t->code, err, sizeof(err));
	ck_assert_msg(t->rc == 0, "server sent a message we refuse: %s", err);
	return 0;
}

void t_free(struct tmsg *t)
{
	size_t i;

	bus_msg_clear(&t->m);
	for (i = 0; i < t->n; i++)
		zmq_msg_close(&t->parts[i]);
	t->n = 0;
}

void t_drive(struct bus *b, int ms)
{
	long end = ms_now() + ms;

	while (ms_now() < end)
		bus_run_once(b, 5);
}

void t_hello(struct bus *b, void *sock, const char *name, long credit)
{
	const char *pats[] = {"Invoice", "Credit*"};
	struct bus_wire w;
	struct tmsg t;
	char err[256];

	ck_assert_int_eq(bus_build_hello(&w, name, pats, 2, credit, err, sizeof(err)), 0);
	t_send(sock, &w);
	ck_assert_int_eq(t_recv(b, sock, 3000, &t), 0);
	ck_assert_msg(t.m.type == BUS_MSG_WELCOME, "expected WELCOME, got %s %s",
		      bus_msg_name(t.m.type),
		      t.m.type == BUS_MSG_ERROR ? t.m.u.error.message : "");
	ck_assert_int_eq(t.m.u.welcome.credit, credit);
	t_free(&t);
}

void t_expect_deliver(struct bus *b, void *sock, const char *id, long attempt)
{
	struct tmsg t;

	do {
		ck_assert_msg(t_recv(b, sock, 3000, &t) == 0, "no DELIVER %s", id);
		if (t.m.type == BUS_MSG_HEARTBEAT)
			t_free(&t);
	} while (t.n == 0);
	ck_assert_msg(t.m.type == BUS_MSG_DELIVER, "expected DELIVER %s, got %s", id,
		      bus_msg_name(t.m.type));
	ck_assert_str_eq(t.m.u.deliver.delivery_id, id);
	ck_assert_int_eq(t.m.u.deliver.attempt, attempt);
	t_free(&t);
}

void t_ack(void *sock, const char *id)
{
	struct bus_wire w;
	char err[256];

	ck_assert_int_eq(bus_build_ack(&w, id, err, sizeof(err)), 0);
	t_send(sock, &w);
}
