/*
 * tc_log.c — one line per event: fields, escaping (newline injection,
 * quotes, control characters, a 1 MB value), the stderr line format, level
 * filtering, and 8 threads logging into one pipe without interleaving.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "tests.h"

START_TEST(fields)
{
	char line[LOG_LINE_MAX];

	log_format_line(line, sizeof(line), "7f3a9c", "smtp.connect",
	                "peer=%s port=%d size=%zu big=%lld neg=%ld u=%u flags=%x", "192.0.2.7", 25,
	                (size_t)1234, 1LL << 40, -7L, 3u, 255u);
	ck_assert_str_eq(line, "7f3a9c smtp.connect peer=192.0.2.7 port=25 size=1234 "
	                       "big=1099511627776 neg=-7 u=3 flags=0xff");
	log_format_line(line, sizeof(line), NULL, "engine.start", NULL);
	ck_assert_str_eq(line, "- engine.start");
	log_format_line(line, sizeof(line), "q1", "e", "s=%.*s t=%.*s", 3, "abcdef", 9, "ab");
	ck_assert_str_eq(line, "q1 e s=abc t=ab");
}
END_TEST

START_TEST(quoting)
{
	char line[LOG_LINE_MAX];

	log_format_line(line, sizeof(line), "id", "ev", "a=%s b=%s c=%s d=%s", "two words", "",
	                "k=v", "a\"b\\c");
	ck_assert_str_eq(line, "id ev a=\"two words\" b=\"\" c=\"k=v\" d=\"a\\\"b\\\\c\"");
}
END_TEST

START_TEST(newline_injection)
{
	char line[LOG_LINE_MAX];
	const char *evil = "x\n2026-01-01T00:00:00.000Z notice secmxd[1] - auth.ok user=admin\r";

	log_format_line(line, sizeof(line), "id", "smtp.helo", "helo=%s", evil);
	ck_assert(strchr(line, '\n') == NULL);
	ck_assert(strchr(line, '\r') == NULL);
	ck_assert_str_eq(line, "id smtp.helo helo=\"x\\x0a2026-01-01T00:00:00.000Z notice "
	                       "secmxd[1] - auth.ok user=admin\\x0d\"");
	/* Ids, events and keys cannot carry spaces or newlines either. */
	log_format_line(line, sizeof(line), "a b\nc", "ev ent", "k\ney=%d", 1);
	ck_assert_str_eq(line, "a_b_c ev_ent k_ey=1");
}
END_TEST

START_TEST(control_and_8bit)
{
	char line[LOG_LINE_MAX];

	log_format_line(line, sizeof(line), "id", "ev", "v=%s", "\x01\x1b[31mred\x7f\xc3\xa9\t");
	ck_assert_str_eq(line, "id ev v=\"\\x01\\x1b[31mred\\x7f\\xc3\\xa9\\x09\"");
}
END_TEST

START_TEST(huge_value)
{
	char line[LOG_LINE_MAX];
	size_t n = 1024 * 1024, len;
	char *big = malloc(n + 1);
	const char *v;

	ck_assert_ptr_nonnull(big);
	memset(big, 'A', n);
	big[n] = '\0';
	big[5000] = '\n';
	log_format_line(line, sizeof(line), "id", "ev", "v=%s after=%d", big, 7);
	len = strlen(line);
	ck_assert_uint_lt(len, LOG_LINE_MAX);
	ck_assert(strchr(line, '\n') == NULL);
	v = strstr(line, "v=\"");
	ck_assert_ptr_nonnull(v);
	/* The value is cut, marked, closed, and the next field survives. */
	ck_assert_msg(strstr(line, "AAAA\\...\" after=7") != NULL, "%s", line + len - 40);
	ck_assert_uint_le((size_t)(strstr(line, " after=") - (v + 2)), LOG_VALUE_MAX);
	/* The same for a value that escapes 4:1, and for bare characters. */
	memset(big, 0x01, n);
	log_format_line(line, sizeof(line), "id", "ev", "v=%s after=%d", big, 7);
	ck_assert(strstr(line, "\\x01\\...\" after=7") != NULL);
	ck_assert_uint_le((size_t)(strstr(line, " after=") - (strstr(line, "v=") + 2)),
	                  LOG_VALUE_MAX);
	free(big);
}
END_TEST

START_TEST(kv_builder)
{
	struct log_kv kv;
	char big[600];
	int fds[2];
	char line[LOG_LINE_MAX + 1];
	ssize_t n;
	int i;

	memset(big, 'b', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(pipe(fds), 0);
	log_open_fd("test", fds[1], LOGL_INFO);
	log_kv_init(&kv);
	log_kv_str(&kv, "who", "me and you");
	log_kv_strn(&kv, "raw", "a\0b", 3);
	log_kv_str(&kv, "none", NULL);
	log_kv_int(&kv, "i", -1);
	log_kv_uint(&kv, "u", 18446744073709551615ull);
	for (i = 0; i < 20; i++)
		log_kv_str(&kv, "fill", big);
	log_kv_event(LOGL_NOTICE, "id9", "queue.full", &kv);
	n = read(fds[0], line, sizeof(line) - 1);
	ck_assert_int_gt(n, 0);
	ck_assert_int_le(n, LOG_LINE_MAX);
	line[n] = '\0';
	ck_assert(strchr(line, '\n') == line + n - 1);
	ck_assert_msg(strstr(line, " notice test[") != NULL, "%s", line);
	ck_assert(strstr(line, "] id9 queue.full who=\"me and you\" raw=\"a\\x00b\" none=- i=-1 "
	                       "u=18446744073709551615 fill=") != NULL);
	/* Some fills did not fit: counted, not cut. */
	ck_assert_msg(strstr(line, " dropped=") != NULL, "%s", line);
	ck_assert(strstr(line, "fill=bbbbbbbbbb\n") == NULL);
	close(fds[0]);
	close(fds[1]);
	log_close();
}
END_TEST

START_TEST(bad_format)
{
	char line[LOG_LINE_MAX];

	log_format_line(line, sizeof(line), "id", "ev", "peer %s", "x");
	ck_assert_str_eq(line, "id ev fmt_error=1");
	log_format_line(line, sizeof(line), "id", "ev", "a=%d b=%c", 1, 'x');
	ck_assert_str_eq(line, "id ev a=1 fmt_error=1");
}
END_TEST

/* read_line: one line (with its newline) from FD into BUF; its length or 0. */
static size_t read_line(int fd, char *buf, size_t len)
{
	size_t n = 0;

	while (n + 1 < len && read(fd, buf + n, 1) == 1)
		if (buf[n++] == '\n')
			break;
	buf[n] = '\0';
	return n;
}

START_TEST(stderr_format_and_levels)
{
	int fds[2];
	char line[LOG_LINE_MAX + 1];
	regex_t re;
	int rc;

	ck_assert_int_eq(pipe(fds), 0);
	rc = regcomp(&re,
	             "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z "
	             "warning secmxd\\[[0-9]+\\] m1 smtp\\.reject code=550\n$",
	             REG_EXTENDED | REG_NOSUB);
	ck_assert_int_eq(rc, 0);
	log_open_fd("secmxd", fds[1], LOGL_INFO);
	log_event(LOGL_DEBUG, "m0", "not.shown", "x=%d", 1);
	log_event(LOGL_WARNING, "m1", "smtp.reject", "code=%d", 550);
	ck_assert_uint_gt(read_line(fds[0], line, sizeof(line)), 0);
	rc = regexec(&re, line, 0, NULL, 0);
	ck_assert_msg(rc == 0, "%s", line);
	log_set_level(LOGL_DEBUG);
	log_event(LOGL_DEBUG, "m2", "now.shown", "x=%d", 2);
	ck_assert_uint_gt(read_line(fds[0], line, sizeof(line)), 0);
	ck_assert_msg(strstr(line, " debug secmxd[") && strstr(line, "] m2 now.shown x=2\n"), "%s",
	              line);
	log_set_level(LOGL_ERR);
	log_event(LOGL_WARNING, "m3", "filtered", NULL);
	log_event(LOGL_ERR, "m4", "shown", NULL);
	ck_assert_uint_gt(read_line(fds[0], line, sizeof(line)), 0);
	ck_assert_msg(strstr(line, " err secmxd[") != NULL && strstr(line, "] m4 shown\n"), "%s",
	              line);
	ck_assert_int_eq(log_level_parse("notice"), LOGL_NOTICE);
	ck_assert_int_eq(log_level_parse("loud"), -1);
	ck_assert_str_eq(log_level_name(LOGL_INFO), "info");
	regfree(&re);
	log_close();
	close(fds[0]);
	close(fds[1]);
}
END_TEST

/* rnd: a small deterministic generator, so a failure can be replayed. */
static unsigned long rnd(unsigned long *state)
{
	*state = *state * 6364136223846793005UL + 1442695040888963407UL;
	return *state >> 33;
}

/* unescape: decode the value at V (bare or quoted) into OUT; its length, or
 * -1. *CUT says the value ended with the truncation marker. */
static long unescape(const char *v, char *out, size_t cap, int *cut)
{
	*cut = 0;
	size_t n = 0;

	if (*v != '"') {
		while (*v != '\0' && *v != ' ' && *v != '\n' && n < cap)
			out[n++] = *v++;
		return (long)n;
	}
	for (v++; *v != '"'; v++) {
		if (*v == '\0' || n >= cap)
			return -1;
		if (*v != '\\') {
			out[n++] = *v;
			continue;
		}
		v++;
		if (*v == '"' || *v == '\\') {
			out[n++] = *v;
		} else if (*v == 'x' && v[1] && v[2]) {
			char hex[3] = {v[1], v[2], 0};

			out[n++] = (char)strtoul(hex, NULL, 16);
			v += 2;
		} else if (strncmp(v, "...\"", 4) == 0) {
			*cut = 1;
			return (long)n;
		} else {
			return -1;
		}
	}
	return (long)n;
}

START_TEST(escape_round_trip)
{
	unsigned long state = 12345;
	int fds[2], i, cuts = 0;
	char line[LOG_LINE_MAX + 1], val[400], back[LOG_LINE_MAX];

	ck_assert_int_eq(pipe(fds), 0);
	log_open_fd("rt", fds[1], LOGL_INFO);
	for (i = 0; i < 3000; i++) {
		size_t len = rnd(&state) % sizeof(val), k, bad = 0;
		struct log_kv kv;
		const char *v;
		long got;
		int cut;

		for (k = 0; k < len; k++)
			val[k] = (char)(i % 3 == 0 ? 'a' + rnd(&state) % 26 : rnd(&state) % 256);
		log_kv_init(&kv);
		log_kv_strn(&kv, "v", val, len);
		log_kv_int(&kv, "i", i);
		log_kv_event(LOGL_INFO, "id", "rt", &kv);
		ck_assert_uint_gt(read_line(fds[0], line, sizeof(line)), 0);
		/* Only printable ASCII, then exactly one newline at the end. */
		for (k = 0; line[k] != '\n'; k++)
			bad += (unsigned char)line[k] < 0x20 || (unsigned char)line[k] > 0x7e;
		ck_assert_int_eq(line[k + 1], '\0');
		ck_assert_msg(bad == 0, "case %d: raw bytes in %s", i, line);
		v = strstr(line, " rt v=");
		ck_assert_ptr_nonnull(v);
		got = unescape(v + 6, back, sizeof(back), &cut);
		ck_assert_msg(got >= 0, "case %d: bad escape in %s", i, line);
		/* Whole, or (only when too long to show) a true prefix and the marker. */
		if (cut) {
			cuts++;
			ck_assert((size_t)got < len);
		} else {
			ck_assert_msg((size_t)got == len, "case %d: %s", i, line);
		}
		ck_assert_msg(memcmp(back, val, (size_t)got) == 0, "case %d: %s", i, line);
		/* The field after it is intact. */
		snprintf(val, sizeof(val), " i=%d\n", i);
		ck_assert(strstr(line, val) != NULL);
	}
	/* Both kinds were seen: some values cut, most whole. */
	ck_assert_int_gt(cuts, 0);
	ck_assert_int_lt(cuts, 3000 / 2);
	log_close();
	close(fds[0]);
	close(fds[1]);
}
END_TEST

#define THREADS 8
#define LINES 2000

/* writer: one thread's LINES events, some long, with its number and a sequence. */
static void *writer(void *arg)
{
	long t = (long)(size_t)arg;
	char pad[1500];
	int i;

	memset(pad, 'a' + (int)t, sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	for (i = 0; i < LINES; i++) {
		/* Lengths from a few bytes to a full value, so writes differ in size. */
		size_t cut = (size_t)((i * 37 + t * 101) % 1400);

		log_event(LOGL_INFO, "tx", "load.test", "t=%ld seq=%d pad=%.*s end=%d", t, i,
		          (int)cut, pad, i);
	}
	return NULL;
}

START_TEST(threads_never_interleave)
{
	pthread_t th[THREADS];
	int fds[2], next[THREADS] = {0};
	char *line = malloc(LOG_LINE_MAX + 2);
	FILE *in;
	long t;
	int total = 0;

	ck_assert_ptr_nonnull(line);
	ck_assert_int_eq(pipe(fds), 0);
	log_open_fd("load", fds[1], LOGL_INFO);
	for (t = 0; t < THREADS; t++)
		ck_assert_int_eq(pthread_create(&th[t], NULL, writer, (void *)(size_t)t), 0);
	/* Read while they write: the pipe holds only 64 KiB. */
	in = fdopen(fds[0], "r");
	ck_assert_ptr_nonnull(in);
	while (total < THREADS * LINES && fgets(line, LOG_LINE_MAX + 2, in) != NULL) {
		long lt;
		int seq, end, off = 0;
		const char *body = strstr(line, " tx load.test ");
		char *pad;
		size_t plen, k;

		ck_assert_msg(body != NULL, "line %d: %s", total, line);
		ck_assert_int_eq(sscanf(body, " tx load.test t=%ld seq=%d pad=%n", &lt, &seq, &off),
		                 2);
		ck_assert(lt >= 0 && lt < THREADS);
		ck_assert_msg(seq == next[lt], "thread %ld: seq %d after %d", lt, seq, next[lt]);
		next[lt]++;
		/* The pad is all one thread's letter, and the line ends as it began. */
		pad = (char *)body + off;
		plen = strcspn(pad, " ");
		if (plen >= 2 && pad[0] == '"') {
			pad++;
			plen -= 2;
			/* A long pad is cut to LOG_VALUE_MAX and marked. */
			if (plen >= 4 && memcmp(pad + plen - 4, "\\...", 4) == 0)
				plen -= 4;
		}
		/* (One assertion per line: each ck_assert is a write to Check's pipe.) */
		for (k = 0; k < plen && pad[k] == 'a' + lt; k++)
			;
		ck_assert_msg(k == plen, "line %d mixed: %s", total, line);
		ck_assert_int_eq(sscanf(strchr(pad + plen, ' '), " end=%d", &end), 1);
		ck_assert_int_eq(end, seq);
		ck_assert(line[strlen(line) - 1] == '\n');
		total++;
	}
	for (t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	ck_assert_int_eq(total, THREADS * LINES);
	log_close();
	fclose(in);
	close(fds[1]);
	free(line);
}
END_TEST

/* tc_log: the logging TCase. */
TCase *tc_log(void)
{
	TCase *tc = tcase_create("log");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, fields);
	tcase_add_test(tc, quoting);
	tcase_add_test(tc, newline_injection);
	tcase_add_test(tc, control_and_8bit);
	tcase_add_test(tc, huge_value);
	tcase_add_test(tc, kv_builder);
	tcase_add_test(tc, bad_format);
	tcase_add_test(tc, stderr_format_and_levels);
	tcase_add_test(tc, threads_never_interleave);
	tcase_add_test(tc, escape_round_trip);
	return tc;
}
