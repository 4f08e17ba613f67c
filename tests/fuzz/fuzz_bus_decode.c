/*
 * fuzz_bus_decode.c — libFuzzer harness for the bus wire reader
 * (bus_msg_decode). The input is split into frames at the two-byte marker
 * "\xff\xfe" (at most 5 frames, so frame-count errors are reached too) and
 * decoded from both sides. A message the reader accepts must re-encode with
 * the builder and decode again to the same type: the reader and the
 * builder's schema may not disagree.
 *
 * Build: cmake -DSECMX_FUZZ=ON -DCMAKE_C_COMPILER=clang; run:
 * build/tests/fuzz_bus_decode -max_total_time=60
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
