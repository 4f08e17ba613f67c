/*
 * helpers.h — shared by the bus test cases: temp dirs, a raw DEALER client
 * speaking the protocol through the codec, and a loop that drives the bus
 * while waiting for the client's next message.
 */
#ifndef SECMX_TEST_BUS_HELPERS_H
#define SECMX_TEST_BUS_HELPERS_H

#include <check.h>
#include <zmq.h>

#include "bus.h"
#include "memops.h"

TCase *tc_codec(void);
TCase *tc_server(void);
TCase *tc_server_more(void);
TCase *tc_curve(void);
TCase *tc_sdk(void);
TCase *tc_splice(void);

/* A received message: the frames (owned) and the decoded view. */
struct tmsg {
	zmq_msg_t parts[4];
	size_t n;
	struct bus_msg m;
	int code;
	int rc;
};

/* t_tmpdir: a fresh private directory (static buffer per call site). */
void t_tmpdir(char *out, size_t size);
/* t_bus: a bus on ipc://DIR/bus.sock (or ENDPOINT) with MO's ops and timers. */
struct bus *t_bus(struct memops *mo, const char *endpoint, int heartbeat_ms, int dead_ms,
		  int ack_ms);
/* t_dealer: a DEALER connected to ENDPOINT, optional CURVE keys (Z85). */
void *t_dealer(void *ctx, const char *endpoint, const char *server_pub, const char *pub,
	       const char *sec);
/* t_send: send an encoded message (frees W). */
void t_send(void *sock, struct bus_wire *w);
/* t_send_raw: send N raw frames. */
void t_send_raw(void *sock, const struct bus_frame *f, size_t n);
/* t_recv: drive B (may be NULL) until SOCK has a message or TIMEOUT_MS pass;
 * 0 with *T filled (free with t_free), -1 on timeout. */
int t_recv(struct bus *b, void *sock, int timeout_ms, struct tmsg *t);
void t_free(struct tmsg *t);
/* t_drive: run B for MS milliseconds. */
void t_drive(struct bus *b, int ms);
/* t_hello: HELLO NAME with CREDIT and expect WELCOME. */
void t_hello(struct bus *b, void *sock, const char *name, long credit);
/* t_expect_deliver: the next message must be DELIVER of ID with ATTEMPT. */
void t_expect_deliver(struct bus *b, void *sock, const char *id, long attempt);
/* t_ack: ACK ID. */
void t_ack(void *sock, const char *id);

#endif
