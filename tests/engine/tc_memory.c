/*
 * tc_memory.c — what validating a ~10 MiB document costs in memory,
 * measured as resident set size (not time) in a forked child.
 *
 * The document is the corpus's Peppol BIS 3.0 base invoice with its first
 * cac:InvoiceLine repeated as +/- pairs (quantity and amount negated in the
 * second of each pair, IDs renumbered) until just under the 10 MiB input
 * limit, the way bench/bench_engine.c makes its peak-memory input; it is
 * valid, so parse, XSD and every rule run to the end.
 *
 * Measured twice: parsed from memory (engine_doc_parse, the daemon's path)
 * and from a file descriptor with ENGINE_PARSE_VALIDATE_ONLY (what `secmx
 * validate FILE` does; that child first frees its copy of the input).
 * The child resets its peak (/proc/self/clear_refs "5": VmHWM := VmRSS),
 * then reads VmRSS/VmHWM from /proc/self/status at start, after the parse
 * and after engine_doc_validate(), and sends the figures
 * to the parent, which asserts three bounds and prints every figure:
 *   - parse transient (peak during parse minus resident after it): the parser
 *     keeps no second copy of the input (it used to: +10 MB for this file);
 *   - validation transient (peak during XSD + rules minus resident after the
 *     parse): the stages work on the tree without copying it;
 *   - whole growth over the child's start (tree + transients), a regression
 *     bound for the tree itself: under 8 bytes per input byte from memory,
 *     under 5.0 validate-only, whose tree keeps no ignorable whitespace and
 *     keeps text under 16 bytes inside its node (XML_PARSE_COMPACT)
 *     (see docs/memory.md for what the tree is made of).
 * Skipped, with the reason printed, under AddressSanitizer (its quarantine
 * and shadow memory make RSS meaningless) or without /proc/self/clear_refs.
 *
 * on_demand_engine_heap: what an engine holds in the heap (glibc mallinfo2,
 * bytes in use) loaded eagerly and with ENGINE_CFG_RULES_ON_DEMAND (what
 * `secmx validate` uses) after validating one Peppol BIS invoice: the
 * on-demand engine holds only that profile's rule sets and code lists, and
 * must stay well under the eager one (docs/memory.md has the figures).
 */
#include <malloc.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests.h"

#define MIB (1024.0 * 1024.0)
#define DOC_BYTES (10u * 1024 * 1024)
/* Bound of the large-document mode's growth, bytes per input byte. */
#define LARGE_PER_BYTE 3.0

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

/* A growable byte buffer. */
struct gbuf {
	char *p;
	size_t len, cap;
};

/* gadd: append N bytes of S to B; fails the test when out of memory. */
static void gadd(struct gbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;

		while (b->len + n + 1 > cap)
			cap *= 2;
		b->p = realloc(b->p, cap);
		ck_assert_ptr_nonnull(b->p);
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* replace1: S with the first FROM replaced by TO (malloc'd). */
static char *replace1(const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);
	struct gbuf r = {0};

	ck_assert_ptr_nonnull(at);
	gadd(&r, s, (size_t)(at - s));
	gadd(&r, to, strlen(to));
	gadd(&r, at + strlen(from), strlen(at + strlen(from)));
	return r.p;
}

/* value_of: "><value></TAG>" of the first <TAG ...>value</TAG> in LINE. */
static void value_of(const char *line, const char *tag, char *out, size_t outlen, int negate)
{
	char open[64];
	const char *v;

	snprintf(open, sizeof(open), "<%s", tag);
	v = strstr(line, open);
	ck_assert_ptr_nonnull(v);
	v = strchr(v, '>');
	ck_assert_ptr_nonnull(v);
	snprintf(out, outlen, ">%s%.*s</%s>", negate ? "-" : "", (int)strcspn(v + 1, "<"), v + 1,
		 tag);
}

/* make_big_invoice: the base invoice grown to just under MAX bytes. */
static void make_big_invoice(const char *base, size_t max, struct gbuf *out)
{
	const char *l0 = strstr(base, "<cac:InvoiceLine>"), *p, *last = NULL;
	const char *end_tag = "</cac:InvoiceLine>";
	char q[64], nq[64], a[64], na[64], num[16];
	char *line, *neg1, *neg, *halves[2][2];
	size_t at, pair, tail;
	unsigned id = 1000;
	int i;

	ck_assert_ptr_nonnull(l0);
	for (p = base; (p = strstr(p, end_tag)) != NULL; p++)
		last = p;
	at = (size_t)(last - base) + strlen(end_tag);
	line = strndup(l0, (size_t)(strstr(l0, end_tag) - l0) + strlen(end_tag));
	ck_assert_ptr_nonnull(line);
	value_of(line, "cbc:InvoicedQuantity", q, sizeof(q), 0);
	value_of(line, "cbc:InvoicedQuantity", nq, sizeof(nq), 1);
	value_of(line, "cbc:LineExtensionAmount", a, sizeof(a), 0);
	value_of(line, "cbc:LineExtensionAmount", na, sizeof(na), 1);
	neg1 = replace1(line, q, nq);
	neg = replace1(neg1, a, na);
	/* Each copy split around the value of its first cbc:ID. */
	for (i = 0; i < 2; i++) {
		const char *l = i ? neg : line;
		const char *o = strstr(l, "<cbc:ID>") + strlen("<cbc:ID>");

		halves[i][0] = strndup(l, (size_t)(o - l));
		halves[i][1] = strdup(strstr(o, "</cbc:ID>"));
		ck_assert(halves[i][0] && halves[i][1]);
	}
	pair = strlen(line) + strlen(neg) + 2 * 12;
	tail = strlen(base) - at;
	memset(out, 0, sizeof(*out));
	gadd(out, base, at);
	while (out->len + pair + tail <= max) {
		for (i = 0; i < 2; i++) {
			gadd(out, "\n", 1);
			gadd(out, halves[i][0], strlen(halves[i][0]));
			snprintf(num, sizeof(num), "%u", ++id);
			gadd(out, num, strlen(num));
			gadd(out, halves[i][1], strlen(halves[i][1]));
		}
	}
	gadd(out, base + at, tail);
	for (i = 0; i < 2; i++) {
		free(halves[i][0]);
		free(halves[i][1]);
	}
	free(line);
	free(neg1);
	free(neg);
}

/* status_kb: a "Vm...:" field of /proc/self/status in KiB, or -1. */
static long status_kb(const char *field)
{
	char line[256];
	size_t n = strlen(field);
	long v = -1;
	FILE *fp = fopen("/proc/self/status", "r");

	while (fp && fgets(line, sizeof(line), fp))
		if (strncmp(line, field, n) == 0 && line[n] == ':')
			v = strtol(line + n + 1, NULL, 10);
	if (fp)
		fclose(fp);
	return v;
}

/* reset_peak: VmHWM := VmRSS for this process; 0 on success. */
static int reset_peak(void)
{
	int fd = open("/proc/self/clear_refs", O_WRONLY);
	int ok = fd >= 0 && write(fd, "5", 1) == 1;

	if (fd >= 0)
		close(fd);
	return ok ? 0 : -1;
}

/* What the child measured, in KiB (rc: engine results). */
struct figures {
	long start, parsed, parse_peak, validated_peak;
	int parse_rc, validate_rc;
	size_t fatal;
};

/* child: parse DOC (or, when IN is not -1, what IN yields) + validate it,
 * measuring as it goes; the figures go to FD. */
static void child(struct engine *eng, struct gbuf *doc, int in, int fd)
{
	struct figures f;
	struct engine_report *rep = engine_report_new();
	struct engine_doc *d = NULL;

	/* Reading IN, like `secmx validate FILE`, holds no copy of the input. */
	if (in >= 0) {
		free(doc->p);
		doc->p = NULL;
	}
	if (reset_peak() < 0)
		_exit(3);
	memset(&f, 0, sizeof(f));
	f.validate_rc = -1;
	f.start = status_kb("VmRSS");
	f.parse_rc = in < 0 ? engine_doc_parse(eng, doc->p, doc->len, "big.xml", &d, rep) :
			     engine_doc_parse_fd(eng, in, "big.xml", ENGINE_PARSE_VALIDATE_ONLY, &d,
						 rep);
	f.parsed = status_kb("VmRSS");
	f.parse_peak = status_kb("VmHWM");
	if (f.parse_rc == 0)
		f.validate_rc = engine_doc_validate(eng, d, 0, NULL, rep);
	f.validated_peak = status_kb("VmHWM");
	f.fatal = engine_report_fatal_count(rep);
	if (write(fd, &f, sizeof(f)) != (ssize_t)sizeof(f))
		_exit(2);
	_exit(0);
}

/* measure: run child() in a fork (IN as there); its figures, checked and
 * printed; the whole growth must stay under PER_BYTE bytes per input byte. */
static void measure(struct engine *eng, struct gbuf *doc, int in, const char *how,
		    double per_byte)
{
	struct figures f;
	int fds[2], status = 0;
	pid_t pid;
	ssize_t got;
	double parse_extra, valid_extra, growth;

	ck_assert_int_eq(pipe(fds), 0);
	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(fds[0]);
		child(eng, doc, in, fds[1]);
	}
	close(fds[1]);
	got = read(fds[0], &f, sizeof(f));
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
	ck_assert_int_eq(got, (ssize_t)sizeof(f));

	ck_assert_msg(f.parse_rc == 0, "%s: parse: %s", how, secmx_strerror(f.parse_rc));
	ck_assert_msg(f.validate_rc == 0 && f.fatal == 0, "%s: validate: %s, %zu fatal", how,
		      secmx_strerror(f.validate_rc), f.fatal);
	ck_assert(f.start > 0 && f.parsed > 0 && f.parse_peak > 0 && f.validated_peak > 0);

	parse_extra = (double)(f.parse_peak - f.parsed) * 1024 / MIB;
	valid_extra = (double)(f.validated_peak - f.parsed) * 1024 / MIB;
	growth = (double)(f.validated_peak - f.start) * 1024 / MIB;
	printf("tc_memory: %.2f MiB invoice %s, then validate (XSD and rules), in a child:\n"
	       "  resident at start %.1f MiB (engine, schemas, rules%s)\n"
	       "  tree resident after parse: +%.1f MiB (%.1f bytes per input byte)\n"
	       "  parse transient %.2f MiB, validation transient %.2f MiB\n"
	       "  peak %.1f MiB = %.1f MB (goal: 50 MB)\n",
	       (double)doc->len / MIB, how, (double)f.start * 1024 / MIB,
	       in < 0 ? ", the input" : "",
	       (double)(f.parsed - f.start) * 1024 / MIB,
	       (double)(f.parsed - f.start) * 1024 / (double)doc->len, parse_extra, valid_extra,
	       (double)f.validated_peak * 1024 / MIB, (double)f.validated_peak * 1024 / 1e6);
	/* No second copy of the input while parsing (a copy is +10 MiB here). */
	ck_assert_msg(parse_extra < 3.0, "%s: parse peaked %.2f MiB above the finished tree", how,
		      parse_extra);
	/* XSD and the rules work on the tree; they copy none of it. */
	ck_assert_msg(valid_extra < 8.0, "%s: validation peaked %.2f MiB above the parsed tree",
		      how, valid_extra);
	/* The tree itself: docs/memory.md says what its bytes per input byte are. */
	ck_assert_msg(growth < per_byte * (double)doc->len / MIB,
		      "%s: peak %.1f MiB above the start for a %.2f MiB document (bound %.1f "
		      "bytes per input byte)", how, growth, (double)doc->len / MIB, per_byte);
}

START_TEST(validate_10mib_rss)
{
	char path[] = "/tmp/secmx-tc-memory-XXXXXX";
	struct engine *eng;
	struct gbuf doc;
	char *base = NULL;
	size_t baselen = 0;
	int rc, in;

	if (UNDER_ASAN) {
		printf("tc_memory: SKIPPED: built with AddressSanitizer; its quarantine and "
		       "shadow memory make resident-set figures meaningless\n");
		return;
	}
	if (reset_peak() < 0) {
		printf("tc_memory: SKIPPED: /proc/self/clear_refs is not writable here, so the "
		       "peak resident size cannot be reset for the measurement\n");
		return;
	}
	rc = secmx_file_read(corpus("ubl-examples/peppol-bis-billing3/base-example.xml"),
			     1u << 20, &base, &baselen);
	ck_assert_msg(rc == 0, "read base example: %s", secmx_strerror(rc));
	make_big_invoice(base, DOC_BYTES, &doc);
	free(base);
	ck_assert_uint_gt(doc.len, DOC_BYTES - 64 * 1024);
	ck_assert_uint_le(doc.len, DOC_BYTES);
	eng = test_engine(NULL, 0);

	/* engine_doc_parse from memory: the daemon's path. */
	measure(eng, &doc, -1, "from memory (engine_doc_parse)", 8.0);
	/* engine_doc_parse_fd from a file: the path of `secmx validate FILE`. */
	in = mkstemp(path);
	ck_assert_int_ge(in, 0);
	ck_assert_int_eq(write(in, doc.p, doc.len), (ssize_t)doc.len);
	ck_assert_int_eq(lseek(in, 0, SEEK_SET), 0);
	unlink(path);
	measure(eng, &doc, in, "from a file (engine_doc_parse_fd, validate-only)", 5.0);
	close(in);
	test_engine_free();
	free(doc.p);
}
END_TEST

/* large_child: the large-document mode over IN (schema check streaming,
 * then the rules per batch of lines and over a projection), measured as
 * child() does; the figures go to FD. */
static void large_child(struct engine *eng, int in, int fd)
{
	struct figures f;
	struct engine_report *rep = engine_report_new();
	struct engine_doc *d = NULL;
	char why[512] = "";

	if (reset_peak() < 0)
		_exit(3);
	memset(&f, 0, sizeof(f));
	f.start = status_kb("VmRSS");
	f.parse_rc = engine_doc_schema_stream_fd(eng, in, "big.xml") == 1 ? 0 : -1;
	f.parse_peak = status_kb("VmHWM");
	f.parsed = status_kb("VmRSS");
	if (f.parse_rc == 0 && lseek(in, 0, SEEK_SET) == 0)
		f.validate_rc = engine_doc_validate_large_fd(eng, in, "big.xml", NULL, &d, rep, why,
							     sizeof(why));
	else
		f.validate_rc = -1;
	f.validated_peak = status_kb("VmHWM");
	f.fatal = engine_report_fatal_count(rep) + (d == NULL);
	if (write(fd, &f, sizeof(f)) != (ssize_t)sizeof(f))
		_exit(2);
	_exit(0);
}

START_TEST(large_mode_10mib_rss)
{
	char path[] = "/tmp/secmx-tc-memory-XXXXXX";
	struct engine *eng;
	struct figures f;
	struct gbuf doc;
	char *base = NULL;
	size_t baselen = 0;
	int rc, in, fds[2], status = 0;
	double growth, per_byte;
	pid_t pid;

	if (UNDER_ASAN) {
		printf("tc_memory: SKIPPED: built with AddressSanitizer; its quarantine and "
		       "shadow memory make resident-set figures meaningless\n");
		return;
	}
	if (reset_peak() < 0) {
		printf("tc_memory: SKIPPED: /proc/self/clear_refs is not writable here, so the "
		       "peak resident size cannot be reset for the measurement\n");
		return;
	}
	rc = secmx_file_read(corpus("ubl-examples/peppol-bis-billing3/base-example.xml"),
			     1u << 20, &base, &baselen);
	ck_assert_msg(rc == 0, "read base example: %s", secmx_strerror(rc));
	make_big_invoice(base, DOC_BYTES, &doc);
	free(base);
	eng = test_engine(NULL, 0);
	in = mkstemp(path);
	ck_assert_int_ge(in, 0);
	ck_assert_int_eq(write(in, doc.p, doc.len), (ssize_t)doc.len);
	ck_assert_int_eq(lseek(in, 0, SEEK_SET), 0);
	unlink(path);
	ck_assert_int_eq(pipe(fds), 0);
	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(fds[0]);
		free(doc.p);
		large_child(eng, in, fds[1]);
	}
	close(fds[1]);
	ck_assert_int_eq(read(fds[0], &f, sizeof(f)), (ssize_t)sizeof(f));
	close(fds[0]);
	close(in);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
	/* The mode answered (it did not hand the document back) and found it valid. */
	ck_assert_msg(f.parse_rc == 0, "the streaming schema check refused the invoice");
	ck_assert_msg(f.validate_rc == 0 && f.fatal == 0, "large mode: rc %d, %zu fatal",
		      f.validate_rc, f.fatal);
	growth = (double)(f.validated_peak - f.start) * 1024 / MIB;
	per_byte = growth * MIB / (double)doc.len;
	printf("tc_memory: %.2f MiB invoice in the large-document mode, in a child:\n"
	       "  resident at start %.1f MiB (engine, schemas, rules)\n"
	       "  streaming schema check peak +%.1f MiB\n"
	       "  rules per batch of lines, projection: peak +%.1f MiB (%.2f bytes per input "
	       "byte; the whole tree is about 4.4)\n",
	       (double)doc.len / MIB, (double)f.start * 1024 / MIB,
	       (double)(f.parse_peak - f.start) * 1024 / MIB, growth, per_byte);
	/* The mode keeps the header, one batch of lines and the projection:
	 * well under half the whole tree (docs/memory.md has the figures). */
	ck_assert_msg(per_byte < LARGE_PER_BYTE,
		      "large mode: peak %.1f MiB above the start (%.2f bytes per input byte, "
		      "bound %.1f)", growth, per_byte, LARGE_PER_BYTE);
	test_engine_free();
	free(doc.p);
}
END_TEST

/* heap_used: bytes the heap has handed out and not got back (glibc). */
static size_t heap_used(void)
{
	return mallinfo2().uordblks;
}

/* engine_heap: heap bytes an engine with FLAGS holds after engine_new() and
 * after validating BASE (LEN bytes), into *AT_NEW and *AFTER. */
static void engine_heap(unsigned flags, const char *base, size_t len, size_t *at_new,
			size_t *after)
{
	struct engine_config cfg;
	struct engine *eng = NULL;
	struct engine_report *rep = engine_report_new();
	struct engine_doc *doc = NULL;
	size_t before = heap_used();
	char err[512] = "";
	int rc;

	engine_config_default(&cfg);
	cfg.flags = flags;
	rc = engine_new(&cfg, &eng, err, sizeof(err));
	ck_assert_msg(rc == 0, "engine_new: %s (%s)", secmx_strerror(rc), err);
	*at_new = heap_used() - before;
	ck_assert_int_eq(engine_doc_parse(eng, base, len, "base.xml", &doc, rep), 0);
	rc = engine_doc_validate(eng, doc, 0, NULL, rep);
	ck_assert_msg(rc == 0, "validate: %s", secmx_strerror(rc));
	ck_assert_str_eq(engine_doc_profile(doc), "peppol-bis-billing-3");
	engine_doc_free(doc);
	engine_report_free(rep);
	*after = heap_used() - before;
	engine_free(eng);
}

START_TEST(on_demand_engine_heap)
{
	char *base = NULL;
	size_t baselen = 0, eager_new, eager, lazy_new, lazy;
	int rc;

	if (UNDER_ASAN) {
		printf("tc_memory: SKIPPED: built with AddressSanitizer; its allocator is not "
		       "glibc's, so mallinfo2 says nothing about the engine\n");
		return;
	}
	rc = secmx_file_read(corpus("ubl-examples/peppol-bis-billing3/base-example.xml"),
			     1u << 20, &base, &baselen);
	ck_assert_msg(rc == 0, "read base example: %s", secmx_strerror(rc));
	engine_heap(0, base, baselen, &eager_new, &eager);
	engine_heap(ENGINE_CFG_RULES_ON_DEMAND, base, baselen, &lazy_new, &lazy);
	free(base);
	printf("tc_memory: engine heap (schemas, rules, code lists), then after validating a "
	       "Peppol BIS invoice:\n"
	       "  every rule set at start: %.1f MiB, %.1f MiB\n"
	       "  rule sets on demand:     %.1f MiB, %.1f MiB\n",
	       (double)eager_new / MIB, (double)eager / MIB, (double)lazy_new / MIB,
	       (double)lazy / MIB);
	/* Before any document the on-demand engine holds no rule set at all. */
	ck_assert_uint_lt(lazy_new + 4 * 1024 * 1024, eager_new);
	/* Peppol BIS Billing needs 6 of the 14 rule files: under 3/4 of the heap. */
	ck_assert_msg(lazy * 4 < eager * 3, "on demand %.1f MiB, eager %.1f MiB", (double)lazy / MIB,
		      (double)eager / MIB);
}
END_TEST

TCase *tc_memory(void)
{
	TCase *tc = tcase_create("memory");

	/* A Debug build parses and validates 10 MiB in several seconds; the
	 * bounds are on memory, never on time. */
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, validate_10mib_rss);
	tcase_add_test(tc, on_demand_engine_heap);
	tcase_add_test(tc, large_mode_10mib_rss);
	return tc;
}
