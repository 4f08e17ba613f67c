/*
 * fuzz_bus_decode.c — libFuzzer harness for the bus wire reader
 * (bus_msg_decode). The input is split into frames at the two-byte marker
 * "\xff\xfe" (at most 5 frames, so frame-count errors are reached too) and
 * decoded from both sides. A message the reader accepts must re-encode with
 * the builder and decode again to the same type: the reader and the
 * builder's schema may not disagree.
 *
 * Seeds: with SECMX_FUZZ_BUS_SEEDS=DIR in the environment, the harness
 * first writes into DIR one valid message of every kind the builders make
 * (HELLO, ACK, NACK, HEARTBEAT, BYE, ERROR, SUBMIT, SUBMIT_RESULT, DELIVER),
 * framed as above, so the run starts from today's protocol (scripts/fuzz).
 *
 * Build: cmake -DSECMX_FUZZ=ON -DCMAKE_C_COMPILER=clang; run:
 * build/tests/fuzz/fuzz_bus_decode -max_total_time=60 (scripts/fuzz runs it)
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* seed_write: W's frames joined by the marker into DIR/seed-bus-NAME;
 * frees W. Aborts if the builder refused (RC < 0): a seed must be valid. */
static void seed_write(const char *dir, const char *name, int rc, struct bus_wire *w)
{
	char path[4096];
	FILE *fp;

	if (rc < 0)
		abort();
	snprintf(path, sizeof(path), "%s/seed-bus-%s", dir, name);
	if ((fp = fopen(path, "wb")) == NULL)
		abort();
	fwrite(w->head, 1, BUS_HEAD_LEN, fp);
	fwrite("\xff\xfe", 1, 2, fp);
	fwrite(w->body, 1, w->body_len, fp);
	if (w->nframes == 3) {
		fwrite("\xff\xfe", 1, 2, fp);
		fwrite(w->doc, 1, w->doc_len, fp);
	}
	if (fclose(fp) != 0)
		abort();
	bus_wire_free(w);
}

/* LLVMFuzzerInitialize: write the seeds when SECMX_FUZZ_BUS_SEEDS names a
 * directory (see the header comment). */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("SECMX_FUZZ_BUS_SEEDS");
	const char *pats[] = {"Invoice", "reject:*"};
	static const char env[] = "{\"idempotency_key\":\"m1-0123456789abcdef\","
	                          "\"message_id\":\"m1\",\"document_type\":\"Invoice\","
	                          "\"received_at\":\"2026-11-29T01:02:03Z\","
	                          "\"validation\":{\"valid\":true,\"errors\":0}}";
	struct bus_wire w;
	char err[256];

	(void)argc;
	(void)argv;
	if (dir == NULL)
		return 0;
	seed_write(dir, "hello", bus_build_hello(&w, "records", pats, 2, 16, err, sizeof(err)), &w);
	seed_write(dir, "ack", bus_build_ack(&w, "d1", err, sizeof(err)), &w);
	seed_write(dir, "nack", bus_build_nack(&w, "d1", 1, "ledger locked", err, sizeof(err)),
	           &w);
	seed_write(dir, "heartbeat", bus_build_heartbeat(&w, err, sizeof(err)), &w);
	seed_write(dir, "bye", bus_build_bye(&w, "shutdown", err, sizeof(err)), &w);
	seed_write(dir, "error",
	           bus_build_error(&w, BUS_ERR_SCHEMA, "field credit: out of range", "d1", err,
	                           sizeof(err)),
	           &w);
	seed_write(dir, "submit",
	           bus_build_submit(&w, "r1", "pay-1", "RemittanceAdvice", "{\"note\":\"x\"}",
	                            "<RemittanceAdvice/>", 19, err, sizeof(err)),
	           &w);
	seed_write(dir, "submit_result",
	           bus_build_submit_result(&w, "r1", 1, "m7", NULL, err, sizeof(err)), &w);
	seed_write(dir, "deliver",
	           bus_build_deliver(&w, env, sizeof(env) - 1, "d1", 1, "<Invoice/>", 10, err,
	                             sizeof(err)),
	           &w);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bus_frame f[5];
	size_t n = 0, start = 0, i;
	int side;

	for (i = 0; i + 1 < size && n < 4; i++) {
		if (data[i] == 0xff && data[i + 1] == 0xfe) {
			f[n].data = data + start;
			f[n++].len = i - start;
			start = i + 2;
			i++;
		}
	}
	f[n].data = data + start;
	f[n++].len = size - start;
	for (side = BUS_FROM_ADAPTER; side <= BUS_FROM_SERVER; side++) {
		struct bus_msg m, m2;
		struct bus_wire w;
		char err[256];
		int code;

		if (bus_msg_decode(f, n, side, 0, &m, &code, err, sizeof(err)) < 0) {
			if (code <= BUS_ERR_NONE || code > BUS_ERR__MAX)
				abort(); /* every refusal carries a protocol code */
			continue;
		}
		if (bus_msg_encode(m.type, json_deep_copy(m.body), m.doc, m.doc_len, &w, err,
				   sizeof(err)) < 0)
			abort(); /* accepted by the reader, refused by the builder */
		{
			struct bus_frame g[3] = {{w.head, BUS_HEAD_LEN}, {w.body, w.body_len},
						 {w.doc, w.doc_len}};

			if (bus_msg_decode(g, (size_t)w.nframes, side, 0, &m2, &code, err,
					   sizeof(err)) < 0 ||
			    m2.type != m.type)
				abort();
			bus_msg_clear(&m2);
		}
		bus_wire_free(&w);
		bus_msg_clear(&m);
	}
	return 0;
}
