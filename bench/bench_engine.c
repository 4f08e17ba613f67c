/*
 * bench_engine.c — throughput and memory figures for the document engine,
 * with the peers (openssl speed, the xmlsec1 and xmllint commands) measured
 * in the same run. It prints figures beside the goals; it never passes or
 * fails on time (exit status is 0 whenever the figures could be printed).
 *
 * Usage: bench_engine [--base FILE] [--schemas DIR] [--rules DIR]
 *                     [--seconds S] [--peer-runs N] [--no-peers] [--json]
 *
 * Inputs, all generated here at start-up:
 *   - ~10 KB and ~1 MB Peppol BIS 3.0 invoices: the base example (--base)
 *     with its first cac:InvoiceLine repeated as +/- pairs (quantity and
 *     line amount negated in the second of each pair, IDs renumbered), so
 *     the document totals stay exactly as they were and still add up;
 *   - a ~10 MiB invoice made the same way (just under the default 10 MiB
 *     input limit) for the peak-memory figure;
 *   - throwaway RSA-2048 and ECDSA P-256 keys with self-signed
 *     certificates in a temporary directory (removed at exit).
 *
 * Stages are timed one by one on one thread for --seconds each; "per core"
 * figures divide by the thread's CPU time (CLOCK_THREAD_CPUTIME_ID), so a
 * machine shared with other work still gives a fair per-core figure; wall
 * figures are printed beside them. Work a stage needs but does not measure
 * (parsing a fresh copy before signing it) is done outside the timed part.
 * A stage whose engine call fails prints "n/a (error: ...)" and the run
 * goes on.
 *
 * Peak memory: a forked child validates the 10 MiB document the way the
 * product does, parse then XSD and the rule stage, twice: from a file
 * descriptor the way `secmx validate FILE` does it (the goal row; forked
 * before the bench builds its engine: the child builds its engines as
 * cli/cmd_validate.c does, rule sets on demand, the schema set freed before
 * the rule stage), and from the memory buffer it inherited with the bench's
 * engine (engine_doc_parse, the daemon's path). ru_maxrss (wait4) is the
 * figure; the child first resets its peak (/proc/self/clear_refs), so the
 * figure is its own, and its resident size at start (the bench's input
 * buffers, and the engine when parsing from memory) is printed beside it.
 *
 * Peers: `openssl speed -seconds 2 rsa2048 ecdsap256` (its sign/s parsed),
 * `xmlsec1 --sign` on the 10 KB invoice with a UBL-placed signature template
 * run --peer-runs times (one process per document, start-up included), and
 * `xmllint --noout --schema` once per document (start-up included) and once
 * over many copies in one process (start-up excluded by difference).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "pki.h"

extern char **environ;

#ifndef BENCH_SOURCE_DIR
#define BENCH_SOURCE_DIR "."
#endif

#define KB 1024.0
#define MIB (1024.0 * 1024.0)

/* The goals from the issue, printed beside the figures. */
#define GOAL_PIPE_RSA 1300.0
#define GOAL_PIPE_EC 1900.0
#define GOAL_PARSE_XSD 6000.0
#define GOAL_SCALE 1.7
#define GOAL_MEM_MB 50.0

struct doc_buf {
	char *p;
	size_t len;
};

struct bench {
	struct engine *eng;
	double seconds;
	int peer_runs;
	int json;
	const char *schema_dir;
	const char *rules_dir;
	int rules_present;
	char tmp[64];                   /* temporary directory for keys and files */
	struct doc_buf small, large, huge;
	struct doc_buf signed_rsa, signed_ec;  /* the 10 KB invoice signed */
	struct engine_key *key_rsa, *key_ec;
	struct engine_trust *trust;
	char key_err[512];
	json_t *out;                    /* the --json document */
};

/* The figures of one timed stage. */
struct result {
	const char *name;
	unsigned long long n;
	double wall, cpu;
	int rc;
	char err[256];
};

/* ---- clocks ---- */

/* now_wall: monotonic wall-clock seconds. */
static double now_wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* now_cpu: CPU seconds used by the calling thread. */
static double now_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- input generation ---- */

/* buf_add: append N bytes of S to D (growing it); exits on out of memory. */
static void buf_add(struct doc_buf *d, const char *s, size_t n, size_t *cap)
{
	if (d->len + n + 1 > *cap) {
		size_t nc = *cap ? *cap : 4096;
		char *np;

		while (d->len + n + 1 > nc)
			nc *= 2;
		if ((np = realloc(d->p, nc)) == NULL) {
			fprintf(stderr, "bench_engine: out of memory\n");
			exit(1);
		}
		d->p = np;
		*cap = nc;
	}
	memcpy(d->p + d->len, s, n);
	d->len += n;
	d->p[d->len] = '\0';
}

/* replace_once: a new string with the first FROM in S replaced by TO, or NULL. */
static char *replace_once(const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);
	size_t n;
	char *r;

	if (at == NULL)
		return NULL;
	n = strlen(s) - strlen(from) + strlen(to);
	if ((r = malloc(n + 1)) == NULL)
		return NULL;
	snprintf(r, n + 1, "%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
	return r;
}

/* The base invoice split up for repetition. */
struct base_parts {
	const char *doc;        /* whole base document */
	size_t insert_at;       /* just after the last </cac:InvoiceLine> */
	char *pos_pre, *pos_post;       /* line 1 around its cbc:ID value */
	char *neg_pre, *neg_post;       /* the negated copy of line 1 */
	int consistent;         /* the +/- pair really cancels out */
};

/* split_line: split LINE around the value of its first cbc:ID into PRE/POST. */
static int split_line(const char *line, char **pre, char **post)
{
	const char *open = strstr(line, "<cbc:ID>");
	const char *close = open ? strstr(open, "</cbc:ID>") : NULL;

	if (close == NULL)
		return -1;
	*pre = strndup(line, (size_t)(open - line) + strlen("<cbc:ID>"));
	*post = strdup(close);
	return *pre && *post ? 0 : -1;
}

/* base_prepare: find line 1 of DOC and make its renumberable +/- copies. */
static int base_prepare(const char *doc, struct base_parts *bp)
{
	const char *l0 = strstr(doc, "<cac:InvoiceLine>");
	const char *l1 = l0 ? strstr(l0, "</cac:InvoiceLine>") : NULL;
	const char *last = NULL, *p;
	char *line = NULL, *neg1 = NULL, *neg2 = NULL;
	char qty[64], amt[64], nqty[64], namt[64];
	const char *q, *a;
	int rc = -1;

	memset(bp, 0, sizeof(*bp));
	bp->doc = doc;
	if (l1 == NULL)
		return -1;
	for (p = doc; (p = strstr(p, "</cac:InvoiceLine>")) != NULL; p++)
		last = p;
	bp->insert_at = (size_t)(last - doc) + strlen("</cac:InvoiceLine>");
	line = strndup(l0, (size_t)(l1 - l0) + strlen("</cac:InvoiceLine>"));
	if (line == NULL)
		goto done;
	/* Negate the quantity and the line amount: "+x" and "-x" cancel out. */
	q = strstr(line, "<cbc:InvoicedQuantity");
	a = strstr(line, "<cbc:LineExtensionAmount");
	if (q && a && (q = strchr(q, '>')) && (a = strchr(a, '>')) && q[1] != '-' && a[1] != '-') {
		snprintf(qty, sizeof(qty), ">%.*s</cbc:InvoicedQuantity>",
			 (int)strcspn(q + 1, "<"), q + 1);
		snprintf(nqty, sizeof(nqty), ">-%.*s</cbc:InvoicedQuantity>",
			 (int)strcspn(q + 1, "<"), q + 1);
		snprintf(amt, sizeof(amt), ">%.*s</cbc:LineExtensionAmount>",
			 (int)strcspn(a + 1, "<"), a + 1);
		snprintf(namt, sizeof(namt), ">-%.*s</cbc:LineExtensionAmount>",
			 (int)strcspn(a + 1, "<"), a + 1);
		neg1 = replace_once(line, qty, nqty);
		neg2 = neg1 ? replace_once(neg1, amt, namt) : NULL;
	}
	bp->consistent = neg2 != NULL;
	if (split_line(line, &bp->pos_pre, &bp->pos_post) < 0 ||
	    split_line(neg2 ? neg2 : line, &bp->neg_pre, &bp->neg_post) < 0)
		goto done;
	rc = 0;
done:
	free(line);
	free(neg1);
	free(neg2);
	return rc;
}

/* base_free: release what base_prepare allocated. */
static void base_free(struct base_parts *bp)
{
	free(bp->pos_pre);
	free(bp->pos_post);
	free(bp->neg_pre);
	free(bp->neg_post);
}

/*
 * make_invoice: the base with +/- line pairs added until at least MIN bytes,
 * never more than MAX bytes (MAX 0: no bound). Returns the number of lines added.
 */
static unsigned make_invoice(const struct base_parts *bp, size_t min, size_t max,
			     struct doc_buf *out)
{
	size_t cap = 0, tail = strlen(bp->doc) - bp->insert_at;
	size_t pair = strlen(bp->pos_pre) + strlen(bp->pos_post) + strlen(bp->neg_pre) +
		      strlen(bp->neg_post) + 2 * 12;
	unsigned id = 1000, added = 0;
	char num[16];

	memset(out, 0, sizeof(*out));
	buf_add(out, bp->doc, bp->insert_at, &cap);
	while (out->len + tail < min && (max == 0 || out->len + pair + tail <= max)) {
		buf_add(out, "\n", 1, &cap);
		buf_add(out, bp->pos_pre, strlen(bp->pos_pre), &cap);
		snprintf(num, sizeof(num), "%u", ++id);
		buf_add(out, num, strlen(num), &cap);
		buf_add(out, bp->pos_post, strlen(bp->pos_post), &cap);
		buf_add(out, "\n", 1, &cap);
		buf_add(out, bp->neg_pre, strlen(bp->neg_pre), &cap);
		snprintf(num, sizeof(num), "%u", ++id);
		buf_add(out, num, strlen(num), &cap);
		buf_add(out, bp->neg_post, strlen(bp->neg_post), &cap);
		added += 2;
	}
	buf_add(out, bp->doc + bp->insert_at, tail, &cap);
	return added;
}

/* ---- stages ---- */

/* A stage: PREP (untimed) makes per-iteration state, OP (timed) runs BATCH
 * times, DONE (untimed) releases the state. PREP/DONE may be NULL. */
struct stage {
	const char *name;
	int (*prep)(struct bench *b, void **st, char *err, size_t errlen);
	int (*op)(struct bench *b, void *st, char *err, size_t errlen);
	void (*done)(void *st);
	unsigned batch;
};

/* fail_msg: the last fatal finding of REP (or RC's text) into ERR. */
static void fail_msg(int rc, struct engine_report *rep, char *err, size_t errlen)
{
	size_t i = rep ? engine_report_count(rep) : 0;

	while (i > 0) {
		const struct engine_finding *f = engine_report_at(rep, --i);

		if (f->severity == ENGINE_FATAL) {
			snprintf(err, errlen, "%s: [%s] %s", secmx_strerror(rc), f->rule,
				 f->message);
			return;
		}
	}
	snprintf(err, errlen, "%s", secmx_strerror(rc));
}

/* parse_doc: parse D into *OUT; on failure ERR says why. */
static int parse_doc(struct bench *b, const struct doc_buf *d, struct engine_doc **out,
		     char *err, size_t errlen)
{
	struct engine_report *rep = engine_report_new();
	int rc = rep ? engine_doc_parse(b->eng, d->p, d->len, "bench", out, rep) : SECMX_ENOMEM;

	if (rc < 0)
		fail_msg(rc, rep, err, errlen);
	engine_report_free(rep);
	return rc;
}

/* A document parsed and classified once, reused by repeatable stages. */
struct held {
	struct engine_doc *doc;
	struct engine_report *rep;
	const struct engine_key *key;
	const struct doc_buf *src;
};

static struct held g_held;

/* held_prep: parse and classify SRC once into g_held; clear its report. */
static int held_prep(struct bench *b, const struct doc_buf *src, char *err, size_t errlen)
{
	int rc;

	if (g_held.doc == NULL || g_held.src != src) {
		engine_doc_free(g_held.doc);
		g_held.doc = NULL;
		if (g_held.rep == NULL && (g_held.rep = engine_report_new()) == NULL)
			return SECMX_ENOMEM;
		if ((rc = parse_doc(b, src, &g_held.doc, err, errlen)) < 0)
			return rc;
		g_held.src = src;
		if ((rc = engine_doc_classify(b->eng, g_held.doc, g_held.rep)) < 0) {
			fail_msg(rc, g_held.rep, err, errlen);
			return rc;
		}
	}
	engine_report_clear(g_held.rep);
	return 0;
}

/* held_free: drop the held document. */
static void held_free(void)
{
	engine_doc_free(g_held.doc);
	engine_report_free(g_held.rep);
	memset(&g_held, 0, sizeof(g_held));
}

/* -- parse -- */
static const struct doc_buf *g_parse_src;

/* op_parse: parse g_parse_src and free the result. */
static int op_parse(struct bench *b, void *st, char *err, size_t errlen)
{
	struct engine_doc *doc = NULL;
	int rc = parse_doc(b, g_parse_src, &doc, err, errlen);

	(void)st;
	engine_doc_free(doc);
	return rc;
}

/* -- classify, XSD, rules, serialize on the held 10 KB document -- */
/* prep_held_small / prep_held_large: hold the 10 KB / 1 MB invoice. */
static int prep_held_small(struct bench *b, void **st, char *err, size_t errlen)
{
	*st = NULL;
	return held_prep(b, &b->small, err, errlen);
}

static int prep_held_large(struct bench *b, void **st, char *err, size_t errlen)
{
	*st = NULL;
	return held_prep(b, &b->large, err, errlen);
}

/* op_classify: classify the held document again. */
static int op_classify(struct bench *b, void *st, char *err, size_t errlen)
{
	int rc = engine_doc_classify(b->eng, g_held.doc, g_held.rep);

	(void)st;
	if (rc < 0)
		fail_msg(rc, g_held.rep, err, errlen);
	return rc;
}

/* op_xsd: XSD-validate the held document. */
static int op_xsd(struct bench *b, void *st, char *err, size_t errlen)
{
	int rc = engine_doc_validate_schema(b->eng, g_held.doc, g_held.rep);

	(void)st;
	if (rc < 0)
		fail_msg(rc, g_held.rep, err, errlen);
	engine_report_clear(g_held.rep);
	return rc;
}

/* op_rules: run the rule stage on the held document (n/a without rule sets). */
static int op_rules(struct bench *b, void *st, char *err, size_t errlen)
{
	int rc;

	(void)st;
	if (!b->rules_present) {
		snprintf(err, errlen, "no rule sets at %s", b->rules_dir);
		return SECMX_ECONFIG;
	}
	rc = engine_doc_validate_rules(b->eng, g_held.doc, NULL, g_held.rep);
	if (rc < 0)
		fail_msg(rc, g_held.rep, err, errlen);
	engine_report_clear(g_held.rep);
	return rc;
}

/* op_serialize: serialize the held document and free the bytes. */
static int op_serialize(struct bench *b, void *st, char *err, size_t errlen)
{
	char *out = NULL;
	size_t len = 0;
	int rc = engine_doc_serialize(g_held.doc, &out, &len);

	(void)b, (void)st;
	if (rc < 0)
		snprintf(err, errlen, "%s", secmx_strerror(rc));
	free(out);
	return rc;
}

/* -- sign: a fresh parsed copy per iteration (untimed), the signing timed -- */
static const struct engine_key *g_sign_key;

/* prep_fresh: a freshly parsed 10 KB invoice to sign (untimed). */
static int prep_fresh(struct bench *b, void **st, char *err, size_t errlen)
{
	struct engine_doc *doc = NULL;
	int rc;

	if (g_sign_key == NULL) {
		snprintf(err, errlen, "%s", b->key_err[0] ? b->key_err : "no signing key");
		return SECMX_EKEY;
	}
	if ((rc = parse_doc(b, &b->small, &doc, err, errlen)) < 0)
		return rc;
	*st = doc;
	return 0;
}

/* done_doc: free the per-iteration document. */
static void done_doc(void *st)
{
	engine_doc_free(st);
}

/* op_sign: sign the fresh document with g_sign_key. */
static int op_sign(struct bench *b, void *st, char *err, size_t errlen)
{
	struct engine_report *rep = engine_report_new();
	int rc = rep ? engine_doc_sign(b->eng, st, g_sign_key, rep) : SECMX_ENOMEM;

	if (rc < 0)
		fail_msg(rc, rep, err, errlen);
	engine_report_free(rep);
	return rc;
}

/* -- verify: a fresh parse of the signed bytes (untimed), verify timed -- */
static const struct doc_buf *g_verify_src;

/* prep_signed: parse the signed bytes in g_verify_src (untimed). */
static int prep_signed(struct bench *b, void **st, char *err, size_t errlen)
{
	struct engine_doc *doc = NULL;
	int rc;

	if (g_verify_src->p == NULL) {
		snprintf(err, errlen, "%s", b->key_err[0] ? b->key_err : "nothing signed");
		return SECMX_EKEY;
	}
	if (b->trust == NULL) {
		snprintf(err, errlen, "no trust store (engine_trust_load unavailable)");
		return SECMX_EKEY;
	}
	if ((rc = parse_doc(b, g_verify_src, &doc, err, errlen)) < 0)
		return rc;
	*st = doc;
	return 0;
}

/* op_verify: verify the parsed signed document against the trust store. */
static int op_verify(struct bench *b, void *st, char *err, size_t errlen)
{
	struct engine_report *rep = engine_report_new();
	struct engine_verify_opts opts = {0, 0};
	int rc = rep ? engine_doc_verify(b->eng, st, b->trust, &opts, rep, NULL) : SECMX_ENOMEM;

	if (rc < 0)
		fail_msg(rc, rep, err, errlen);
	engine_report_free(rep);
	return rc;
}

/* -- pipelines, all timed: what a real caller does per document -- */
/* pipeline: parse, classify, XSD; then sign and serialize when KEY is given. */
static int pipeline(struct bench *b, const struct doc_buf *src, const struct engine_key *key,
		    char *err, size_t errlen)
{
	struct engine_report *rep = engine_report_new();
	struct engine_doc *doc = NULL;
	char *out = NULL;
	size_t len = 0;
	int rc = SECMX_ENOMEM;

	if (rep == NULL)
		goto done;
	if ((rc = engine_doc_parse(b->eng, src->p, src->len, "bench", &doc, rep)) < 0 ||
	    (rc = engine_doc_classify(b->eng, doc, rep)) < 0 ||
	    (rc = engine_doc_validate_schema(b->eng, doc, rep)) < 0) {
		fail_msg(rc, rep, err, errlen);
		goto done;
	}
	if (key != NULL) {
		if ((rc = engine_doc_sign(b->eng, doc, key, rep)) < 0) {
			fail_msg(rc, rep, err, errlen);
			goto done;
		}
		if ((rc = engine_doc_serialize(doc, &out, &len)) < 0) {
			snprintf(err, errlen, "serialize: %s", secmx_strerror(rc));
			goto done;
		}
	}
done:
	free(out);
	engine_doc_free(doc);
	engine_report_free(rep);
	return rc;
}

/* op_pipe_xsd / op_pipe_xsd_large / op_pipe_sign: the pipelines as stages. */
static int op_pipe_xsd(struct bench *b, void *st, char *err, size_t errlen)
{
	(void)st;
	return pipeline(b, &b->small, NULL, err, errlen);
}

static int op_pipe_xsd_large(struct bench *b, void *st, char *err, size_t errlen)
{
	(void)st;
	return pipeline(b, &b->large, NULL, err, errlen);
}

static int op_pipe_sign(struct bench *b, void *st, char *err, size_t errlen)
{
	(void)st;
	if (g_sign_key == NULL) {
		snprintf(err, errlen, "%s", b->key_err[0] ? b->key_err : "no signing key");
		return SECMX_EKEY;
	}
	return pipeline(b, &b->small, g_sign_key, err, errlen);
}

/* measure: run stage ST for b->seconds of wall time (at least once). */
static void measure(struct bench *b, const struct stage *st, struct result *r)
{
	double end = now_wall() + b->seconds;
	unsigned i, batch = st->batch ? st->batch : 1;

	memset(r, 0, sizeof(*r));
	r->name = st->name;
	for (;;) {
		void *s = NULL;
		double w0, c0, w1;

		if (st->prep != NULL && (r->rc = st->prep(b, &s, r->err, sizeof(r->err))) < 0)
			break;
		w0 = now_wall();
		c0 = now_cpu();
		for (i = 0; i < batch; i++)
			if ((r->rc = st->op(b, s, r->err, sizeof(r->err))) < 0)
				break;
		r->cpu += now_cpu() - c0;
		w1 = now_wall();
		r->wall += w1 - w0;
		if (st->done != NULL)
			st->done(s);
		if (r->rc < 0)
			break;
		r->n += batch;
		if (w1 >= end)
			break;
	}
}

/* ---- output ---- */

/* rate: N per S seconds, 0 when S is 0. */
static double rate(double n, double s)
{
	return s > 0 ? n / s : 0;
}

/* print_result: one stage line (text) or one "stages" entry (JSON). */
static void print_result(struct bench *b, const struct result *r, const char *group, double bytes)
{
	if (b->json) {
		json_t *o = json_pack("{s:s, s:s}", "name", r->name, "group", group);

		if (r->rc < 0) {
			json_object_set_new(o, "error", json_string(r->err));
		} else {
			json_object_set_new(o, "docs", json_integer((json_int_t)r->n));
			json_object_set_new(o, "cpu_s", json_real(r->cpu));
			json_object_set_new(o, "wall_s", json_real(r->wall));
			json_object_set_new(o, "docs_per_s_per_core",
					    json_real(rate((double)r->n, r->cpu)));
			json_object_set_new(o, "docs_per_s_wall",
					    json_real(rate((double)r->n, r->wall)));
			if (bytes > 0)
				json_object_set_new(o, "mib_per_s_per_core",
						    json_real(rate((double)r->n * bytes / MIB,
								   r->cpu)));
		}
		json_array_append_new(json_object_get(b->out, "stages"), o);
		return;
	}
	if (r->rc < 0) {
		printf("  %-40s n/a (error: %s)\n", r->name, r->err);
		return;
	}
	printf("  %-40s %12.1f %12.1f %10llu", r->name, rate((double)r->n, r->cpu),
	       rate((double)r->n, r->wall), r->n);
	if (bytes > 0)
		printf("  %7.1f MiB/s", rate((double)r->n * bytes / MIB, r->cpu));
	printf("\n");
}

/* ---- threads ---- */

struct worker {
	struct bench *b;
	const struct engine_key *key;
	pthread_barrier_t *start;
	double seconds;
	unsigned long long n;
	int rc;
	char err[256];
};

/* worker_main: run the pipeline until the worker's time is up. */
static void *worker_main(void *arg)
{
	struct worker *w = arg;
	double end;

	pthread_barrier_wait(w->start);
	end = now_wall() + w->seconds;
	do {
		if ((w->rc = pipeline(w->b, &w->b->small, w->key, w->err, sizeof(w->err))) < 0)
			break;
		w->n++;
	} while (now_wall() < end);
	return NULL;
}

/* run_threads: NT workers sharing one engine; docs per wall second, or <0. */
static double run_threads(struct bench *b, int nt, const struct engine_key *key, char *err,
			  size_t errlen)
{
	pthread_t th[2];
	struct worker w[2];
	pthread_barrier_t start;
	double t0, t1;
	unsigned long long n = 0;
	int i, rc = 0;

	pthread_barrier_init(&start, NULL, (unsigned)nt + 1);
	for (i = 0; i < nt; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].b = b;
		w[i].key = key;
		w[i].start = &start;
		w[i].seconds = b->seconds;
		if (pthread_create(&th[i], NULL, worker_main, &w[i]) != 0) {
			fprintf(stderr, "bench_engine: pthread_create failed\n");
			exit(1);
		}
	}
	pthread_barrier_wait(&start);
	t0 = now_wall();
	for (i = 0; i < nt; i++) {
		pthread_join(th[i], NULL);
		n += w[i].n;
		if (w[i].rc < 0) {
			rc = w[i].rc;
			snprintf(err, errlen, "%s", w[i].err);
		}
	}
	t1 = now_wall();
	pthread_barrier_destroy(&start);
	return rc < 0 ? -1 : rate((double)n, t1 - t0);
}

/* ---- memory ---- */

/* vm_kb: a "Vm*" field of /proc/self/status in KiB, or -1. */
static long vm_kb(const char *field)
{
	FILE *fp = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;
	size_t n = strlen(field);

	while (fp && fgets(line, sizeof(line), fp))
		if (strncmp(line, field, n) == 0 && line[n] == ':')
			v = strtol(line + n + 1, NULL, 10);
	if (fp)
		fclose(fp);
	return v;
}

/* validate_doc: parse SRC from memory, then XSD + rules, with the bench's
 * engine (the daemon's path). */
static int validate_doc(struct bench *b, const struct doc_buf *src, char *err, size_t errlen)
{
	struct engine_report *rep = engine_report_new();
	struct engine_doc *doc = NULL;
	int rc = SECMX_ENOMEM;

	if (rep == NULL)
		goto done;
	rc = engine_doc_parse(b->eng, src->p, src->len, "bench", &doc, rep);
	if (rc < 0 || (rc = engine_doc_validate(b->eng, doc, 0, NULL, rep)) < 0)
		fail_msg(rc, rep, err, errlen);
done:
	engine_doc_free(doc);
	engine_report_free(rep);
	return rc;
}

/* validate_like_cli: what `secmx validate FILE` does with one file of 4 MiB
 * or more (cli/cmd_validate.c validate_large()): an engine with rule sets on
 * demand checks FD against the XSD set while streaming it; then it is freed
 * and a rules-only engine runs the rule stage in the large-document mode.
 * Engines are built here, in the child, as the product builds them. */
static int validate_like_cli(struct bench *b, int fd, char *err, size_t errlen)
{
	struct engine_config cfg;
	struct engine *eng = NULL, *rules = NULL;
	struct engine_report *rep = engine_report_new();
	struct engine_doc *doc = NULL;
	char why[256] = "";
	int rc = SECMX_ENOMEM;

	if (rep == NULL)
		goto done;
	engine_config_default(&cfg);
	cfg.schema_dir = b->schema_dir;
	cfg.rules_dir = b->rules_dir;
	cfg.flags = ENGINE_CFG_RULES_ON_DEMAND;
	if ((rc = engine_new(&cfg, &eng, why, sizeof(why))) < 0) {
		snprintf(err, errlen, "engine_new: %s", why);
		goto done;
	}
	/* A file of 4 MiB and more: the large-document mode, as the CLI (a
	 * streaming XSD check, then the rules over batches of lines and a
	 * projection). The bench's invoice must take it; a hand-back is an
	 * error here, not a quiet measurement of the whole-tree stages. */
	if (engine_doc_schema_stream_fd(eng, fd, "bench") != 1 || lseek(fd, 0, SEEK_SET) != 0) {
		snprintf(err, errlen, "the streaming XSD check did not find the invoice valid");
		rc = SECMX_EINTERNAL;
		goto done;
	}
	cfg.flags |= ENGINE_CFG_NO_SCHEMAS;
	if ((rc = engine_new(&cfg, &rules, why, sizeof(why))) < 0) {
		snprintf(err, errlen, "engine_new (rules): %s", why);
		goto done;
	}
	engine_free(eng);
	eng = NULL;
	rc = engine_doc_validate_large_fd(rules, fd, "bench", NULL, &doc, rep, why, sizeof(why));
	if (rc == ENGINE_LARGE_FALLBACK) {
		snprintf(err, errlen, "the large-document mode handed the invoice back: %s", why);
		rc = SECMX_EINTERNAL;
	} else if (rc < 0) {
		fail_msg(rc, rep, err, errlen);
	}
done:
	engine_doc_free(doc);
	engine_report_free(rep);
	engine_free(eng);
	engine_free(rules);
	return rc;
}

/* peak_memory: fork; the child validates DOC (from FD when not -1: the way
 * `secmx validate FILE` does, validate_like_cli; else validate_doc with the
 * bench's engine); its ru_maxrss in KB. */
static int peak_memory(struct bench *b, const struct doc_buf *doc, int fd, long *start_kb,
		       long *peak_kb, char *err, size_t errlen)
{
	int fds[2];
	pid_t pid;
	int status = 0;
	struct rusage ru;
	char msg[256] = "";
	ssize_t got;

	if (pipe(fds) < 0)
		return SECMX_EIO;
	fflush(NULL);
	if ((pid = fork()) < 0)
		return SECMX_EIO;
	if (pid == 0) {
		char cerr[200] = "";
		long s;
		int rc, cr;

		close(fds[0]);
		/* Reading from FD, the product holds no input buffer: drop ours. */
		if (fd >= 0) {
			free(b->huge.p);
			b->huge.p = NULL;
		}
		/* Start the peak (ru_maxrss) from here, not from the parent's peak
		 * that fork() handed down: /proc/self/clear_refs "5". */
		if ((cr = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC)) < 0 ||
		    write(cr, "5", 1) != 1)
			_exit(3);
		close(cr);
		s = vm_kb("VmRSS");
		rc = fd >= 0 ? validate_like_cli(b, fd, cerr, sizeof(cerr)) :
			       validate_doc(b, doc, cerr, sizeof(cerr));
		snprintf(msg, sizeof(msg), "%ld %d %s", s, rc, cerr);
		if (write(fds[1], msg, strlen(msg)) < 0)
			_exit(2);
		_exit(0);
	}
	close(fds[1]);
	got = read(fds[0], msg, sizeof(msg) - 1);
	close(fds[0]);
	if (wait4(pid, &status, 0, &ru) < 0 || got <= 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		snprintf(err, errlen, "child failed");
		return SECMX_EINTERNAL;
	}
	msg[got] = '\0';
	{
		char *p = msg, *end;
		long rc;

		*start_kb = strtol(p, &end, 10);
		rc = strtol(end, &end, 10);
		if (rc < 0) {
			snprintf(err, errlen, "%s", *end == ' ' ? end + 1 : end);
			return (int)rc;
		}
	}
	*peak_kb = ru.ru_maxrss;
	return 0;
}

/* peak_memory_file: peak_memory() with the 10 MiB document read from a file. */
static int peak_memory_file(struct bench *b, long *start_kb, long *peak_kb, char *err,
			    size_t errlen)
{
	char file[sizeof(b->tmp) + 32];
	int fd, rc;

	snprintf(file, sizeof(file), "%s/invoice-10m.xml", b->tmp);
	if ((fd = open(file, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
		snprintf(err, errlen, "%s: %s", file, strerror(errno));
		return SECMX_EIO;
	}
	unlink(file);
	if (write(fd, b->huge.p, b->huge.len) != (ssize_t)b->huge.len ||
	    lseek(fd, 0, SEEK_SET) != 0) {
		snprintf(err, errlen, "%s: %s", file, strerror(errno));
		close(fd);
		return SECMX_EIO;
	}
	rc = peak_memory(b, &b->huge, fd, start_kb, peak_kb, err, errlen);
	close(fd);
	return rc;
}

/* ---- peers ---- */

/* children_cpu: user+system CPU seconds of all waited-for children so far. */
static double children_cpu(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_CHILDREN, &ru) < 0)
		return 0;
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/*
 * run_cmd: run ARGV (PATH searched) with stdin from /dev/null; stdout and
 * stderr go to OUTFILE (or /dev/null). Returns the exit status, or -1.
 */
static int run_cmd(char *const argv[], const char *outfile)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status = 0, rc;
	const char *o = outfile ? outfile : "/dev/null";

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, o, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		return -1;
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* write_file: write N bytes of P to PATH (created or truncated). */
static int write_file(const char *path, const char *p, size_t n)
{
	FILE *fp = fopen(path, "w");
	int ok;

	if (fp == NULL)
		return -1;
	ok = fwrite(p, 1, n, fp) == n;
	return fclose(fp) == 0 && ok ? 0 : -1;
}

/* openssl_speed: sign/s for RSA-2048 and ECDSA P-256 from `openssl speed`. */
static int openssl_speed(struct bench *b, double *rsa, double *ec)
{
	char out[4200], line[512];
	char *argv[] = {"openssl", "speed", "-seconds", "2", "rsa2048", "ecdsap256", NULL};
	FILE *fp;

	*rsa = *ec = -1;
	snprintf(out, sizeof(out), "%s/openssl-speed.txt", b->tmp);
	if (run_cmd(argv, out) != 0)
		return -1;
	if ((fp = fopen(out, "r")) == NULL)
		return -1;
	/* "rsa 2048 bits 0.000663s 0.000019s   1508.7  52173.5" and
	 * " 256 bits ecdsa (nistp256)   0.0000s   0.0001s  38524.8  12733.1" */
	while (fgets(line, sizeof(line), fp)) {
		double t1, t2, s1, s2;
		char *p;

		if (strncmp(line, "rsa 2048 bits ", 14) == 0 &&
		    sscanf(line + 14, "%lfs %lfs %lf %lf", &t1, &t2, &s1, &s2) == 4)
			*rsa = s1;
		if ((p = strstr(line, "ecdsa (nistp256)")) != NULL &&
		    sscanf(p + 16, "%lfs %lfs %lf %lf", &t1, &t2, &s1, &s2) == 4)
			*ec = s1;
	}
	fclose(fp);
	return *rsa > 0 && *ec > 0 ? 0 : -1;
}

/* The UBL signature template xmlsec1 fills in (same place engine_doc_sign uses). */
static const char SIG_TEMPLATE[] =
	"<ext:UBLExtensions xmlns:ext=\"urn:oasis:names:specification:ubl:schema:xsd:"
	"CommonExtensionComponents-2\"><ext:UBLExtension><ext:ExtensionContent>"
	"<sig:UBLDocumentSignatures xmlns:sig=\"urn:oasis:names:specification:ubl:schema:xsd:"
	"CommonSignatureComponents-2\" xmlns:sac=\"urn:oasis:names:specification:ubl:schema:xsd:"
	"SignatureAggregateComponents-2\"><sac:SignatureInformation>"
	"<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:SignedInfo>"
	"<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>"
	"<ds:SignatureMethod Algorithm=\"%s\"/><ds:Reference URI=\"\"><ds:Transforms>"
	"<ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/>"
	"<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/></ds:Transforms>"
	"<ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/>"
	"<ds:DigestValue/></ds:Reference></ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo>"
	"<ds:X509Data><ds:X509Certificate/></ds:X509Data></ds:KeyInfo></ds:Signature>"
	"</sac:SignatureInformation></sig:UBLDocumentSignatures></ext:ExtensionContent>"
	"</ext:UBLExtension></ext:UBLExtensions>";

/* write_template: the 10 KB invoice with the signature template for ALG. */
static int write_template(struct bench *b, const char *path, const char *alg)
{
	char tmpl[sizeof(SIG_TEMPLATE) + 128];
	const char *root = strstr(b->small.p, "<Invoice");
	const char *gt = root ? strchr(root, '>') : NULL;
	FILE *fp;
	int ok;

	if (gt == NULL || (fp = fopen(path, "w")) == NULL)
		return -1;
	snprintf(tmpl, sizeof(tmpl), SIG_TEMPLATE, alg);
	ok = fwrite(b->small.p, 1, (size_t)(gt + 1 - b->small.p), fp) > 0 &&
	     fputs(tmpl, fp) >= 0 && fputs(gt + 1, fp) >= 0;
	return fclose(fp) == 0 && ok ? 0 : -1;
}

/* xmlsec_sign_rate: docs/s (wall) of `xmlsec1 --sign` over N runs, and in
 * *CPU_RATE per CPU second of those processes; <0 on failure. */
static double xmlsec_sign_rate(struct bench *b, const char *stem, const char *alg, int n,
			       double *cpu_rate, char *err, size_t errlen)
{
	char tmpl[512], out[512], keyarg[1100], key[512], crt[512], log[512];
	char *argv[] = {"xmlsec1", "--sign", "--privkey-pem", keyarg, "--output", out, tmpl, NULL};
	double t0, t1, c0;
	int i, rc;

	*cpu_rate = -1;
	snprintf(tmpl, sizeof(tmpl), "%s/%s-template.xml", b->tmp, stem);
	snprintf(out, sizeof(out), "%s/%s-xmlsec-signed.xml", b->tmp, stem);
	snprintf(log, sizeof(log), "%s/xmlsec.log", b->tmp);
	snprintf(keyarg, sizeof(keyarg), "%s,%s",
		 pki_path(key, sizeof(key), b->tmp, stem, "key.pem"),
		 pki_path(crt, sizeof(crt), b->tmp, stem, "crt.pem"));
	if (write_template(b, tmpl, alg) < 0) {
		snprintf(err, errlen, "cannot write the template");
		return -1;
	}
	/* One untimed run first: it must work, and it warms the file cache. */
	if ((rc = run_cmd(argv, log)) != 0) {
		snprintf(err, errlen, "xmlsec1 --sign exited %d (see %.180s)", rc, log);
		return -1;
	}
	c0 = children_cpu();
	t0 = now_wall();
	for (i = 0; i < n; i++)
		if (run_cmd(argv, NULL) != 0) {
			snprintf(err, errlen, "xmlsec1 --sign failed on run %d", i + 1);
			return -1;
		}
	t1 = now_wall();
	*cpu_rate = rate(n, children_cpu() - c0);
	return rate(n, t1 - t0);
}

/* xmllint_rates: per-process (wall, and per CPU second in *WITH_START_CPU)
 * and in-process (start-up excluded) docs/s. */
static int xmllint_rates(struct bench *b, int n, double *with_start, double *with_start_cpu,
			 double *without_start, char *err, size_t errlen)
{
	char xsd[4200], file[512];
	enum { BATCH = 1000 };
	char *argv[BATCH + 6];
	double t0, t1, c0, one, many;
	int i, rc;

	snprintf(xsd, sizeof(xsd), "%s/maindoc/UBL-Invoice-2.1.xsd", b->schema_dir);
	snprintf(file, sizeof(file), "%s/invoice-10k.xml", b->tmp);
	if (write_file(file, b->small.p, b->small.len) < 0) {
		snprintf(err, errlen, "cannot write %.200s", file);
		return -1;
	}
	argv[0] = "xmllint";
	argv[1] = "--noout";
	argv[2] = "--schema";
	argv[3] = xsd;
	argv[4] = file;
	argv[5] = NULL;
	if ((rc = run_cmd(argv, NULL)) != 0) {
		snprintf(err, errlen, "xmllint --schema %.180s exited %d", xsd, rc);
		return -1;
	}
	c0 = children_cpu();
	t0 = now_wall();
	for (i = 0; i < n; i++)
		if (run_cmd(argv, NULL) != 0)
			return -1;
	t1 = now_wall();
	one = (t1 - t0) / n;
	*with_start = rate(n, t1 - t0);
	*with_start_cpu = rate(n, children_cpu() - c0);
	for (i = 0; i < BATCH; i++)
		argv[4 + i] = file;
	argv[4 + BATCH] = NULL;
	t0 = now_wall();
	if (run_cmd(argv, NULL) != 0)
		return -1;
	many = now_wall() - t0;
	*without_start = many > one ? (BATCH - 1) / (many - one) : -1;
	return 0;
}

/* ---- set-up ---- */

/* usage: print the synopsis and exit 2. */
static void usage(void)
{
	fprintf(stderr,
		"usage: bench_engine [--base FILE] [--schemas DIR] [--rules DIR] [--seconds S]\n"
		"                    [--peer-runs N] [--no-peers] [--json]\n");
	exit(2);
}

/* dir_exists: is P an existing directory? */
static int dir_exists(const char *p)
{
	struct stat st;

	return p != NULL && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* load_keys: throwaway keys, the engine keys and trust, the signed inputs. */
static void load_keys(struct bench *b)
{
	char k[512], c[512], err[256] = "";
	int rc = 0;

	if (pki_make(b->tmp, "rsa2048", PKI_RSA2048) < 0 || pki_make(b->tmp, "p256", PKI_P256) < 0) {
		snprintf(b->key_err, sizeof(b->key_err), "could not generate throwaway keys");
		return;
	}
	if ((rc = engine_key_load(pki_path(k, sizeof(k), b->tmp, "rsa2048", "key.pem"),
				  pki_path(c, sizeof(c), b->tmp, "rsa2048", "crt.pem"), NULL,
				  &b->key_rsa, err, sizeof(err))) < 0 ||
	    (rc = engine_key_load(pki_path(k, sizeof(k), b->tmp, "p256", "key.pem"),
				  pki_path(c, sizeof(c), b->tmp, "p256", "crt.pem"), NULL,
				  &b->key_ec, err, sizeof(err))) < 0) {
		snprintf(b->key_err, sizeof(b->key_err), "engine_key_load: %s: %s",
			 secmx_strerror(rc), err);
		return;
	}
	/* Trust both self-signed certificates: a directory of PEM files. */
	{
		char dir[600];

		snprintf(dir, sizeof(dir), "%s/trust", b->tmp);
		if (mkdir(dir, 0700) == 0 &&
		    link(pki_path(k, sizeof(k), b->tmp, "rsa2048", "crt.pem"),
			 pki_path(c, sizeof(c), dir, "rsa2048", "crt.pem")) == 0 &&
		    link(pki_path(k, sizeof(k), b->tmp, "p256", "crt.pem"),
			 pki_path(c, sizeof(c), dir, "p256", "crt.pem")) == 0 &&
		    engine_trust_load(dir, NULL, &b->trust, err, sizeof(err)) < 0)
			fprintf(stderr, "bench_engine: engine_trust_load: %s\n", err);
	}
	/* The signed 10 KB invoices the verify stage starts from. */
	{
		const struct engine_key *keys[2] = {b->key_rsa, b->key_ec};
		struct doc_buf *outs[2] = {&b->signed_rsa, &b->signed_ec};
		int i;

		for (i = 0; i < 2; i++) {
			struct engine_report *rep = engine_report_new();
			struct engine_doc *doc = NULL;

			if (engine_doc_parse(b->eng, b->small.p, b->small.len, "bench", &doc, rep) ==
				    0 &&
			    (rc = engine_doc_sign(b->eng, doc, keys[i], rep)) == 0)
				engine_doc_serialize(doc, &outs[i]->p, &outs[i]->len);
			else if (b->key_err[0] == '\0')
				fail_msg(rc, rep, b->key_err, sizeof(b->key_err));
			engine_doc_free(doc);
			engine_report_free(rep);
		}
	}
}

/* cleanup_tmp: remove every file this run put in the temporary directory. */
static void cleanup_tmp(struct bench *b)
{
	static const char *const files[] = {
		"trust/rsa2048.crt.pem", "trust/p256.crt.pem", "openssl-speed.txt",
		"rsa2048-template.xml", "p256-template.xml", "rsa2048-xmlsec-signed.xml",
		"p256-xmlsec-signed.xml", "xmlsec.log", "invoice-10k.xml",
	};
	char p[600];
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", b->tmp, files[i]);
		unlink(p);
	}
	snprintf(p, sizeof(p), "%s/trust", b->tmp);
	rmdir(p);
	pki_remove(b->tmp, "rsa2048");
	pki_remove(b->tmp, "p256");
	rmdir(b->tmp);
}

/* goal_row: one line of the goals table (text) or one JSON entry. */
static void goal_row(struct bench *b, const char *what, double measured, int have, double goal,
		     int less_is_better, const char *unit)
{
	int meets = have && (less_is_better ? measured < goal : measured >= goal);

	if (b->json) {
		json_t *o = json_pack("{s:s, s:f, s:s, s:s}", "figure", what, "goal", goal, "unit",
				      unit, "goal_is", less_is_better ? "below" : "at least");

		json_object_set_new(o, "measured", have ? json_real(measured) : json_null());
		json_object_set_new(o, "meets", have ? json_boolean(meets) : json_null());
		json_array_append_new(json_object_get(b->out, "goals"), o);
		return;
	}
	if (have)
		printf("  %-44s %10.1f  %s %8.1f %-12s %s\n", what, measured,
		       less_is_better ? "< " : ">=", goal, unit, meets ? "meets" : "BELOW GOAL");
	else
		printf("  %-44s %10s  %s %8.1f %-12s %s\n", what, "n/a", less_is_better ? "< " : ">=",
		       goal, unit, "not measured");
}

/* main: generate inputs, measure, print; see the top of the file. */
int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"base", required_argument, NULL, 'b'},
		{"schemas", required_argument, NULL, 's'},
		{"rules", required_argument, NULL, 'r'},
		{"seconds", required_argument, NULL, 't'},
		{"peer-runs", required_argument, NULL, 'n'},
		{"no-peers", no_argument, NULL, 'P'},
		{"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	struct bench b;
	struct engine_config cfg;
	struct base_parts bp;
	const char *base = BENCH_SOURCE_DIR
		"/../shared/corpus/ubl-examples/peppol-bis-billing3/base-example.xml";
	char *basebuf = NULL, err[512] = "", schemas_default[4096], rules_default[4096];
	size_t baselen = 0;
	int no_peers = 0, c, rc;
	unsigned lines_small, lines_large, lines_huge;
	struct result r;
	struct result res_pipe_xsd, res_pipe_rsa, res_pipe_ec;
	double loadavg[3] = {0, 0, 0};
	long mem_start = -1, mem_peak = -1, fmem_start = -1, fmem_peak = -1;
	char mem_err[256] = "", fmem_err[256] = "";
	int mem_rc, fmem_rc;
	char *endp;

	memset(&b, 0, sizeof(b));
	b.seconds = 2.0;
	b.peer_runs = 20;
	snprintf(schemas_default, sizeof(schemas_default), "%s/schemas/egif", BENCH_SOURCE_DIR);
	if (!dir_exists(schemas_default))
		snprintf(schemas_default, sizeof(schemas_default),
			 "%s/../shared/corpus/ubl21-xsd/xsdrt", BENCH_SOURCE_DIR);
	snprintf(rules_default, sizeof(rules_default), "%s/schemas/rules", BENCH_SOURCE_DIR);
	b.schema_dir = schemas_default;
	b.rules_dir = rules_default;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'b': base = optarg; break;
		case 's': b.schema_dir = optarg; break;
		case 'r': b.rules_dir = optarg; break;
		case 't':
			b.seconds = strtod(optarg, &endp);
			if (*endp != '\0' || !(b.seconds > 0 && b.seconds <= 600))
				usage();
			break;
		case 'n':
			b.peer_runs = (int)strtol(optarg, &endp, 10);
			if (*endp != '\0' || b.peer_runs < 1 || b.peer_runs > 100000)
				usage();
			break;
		case 'P': no_peers = 1; break;
		case 'j': b.json = 1; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	b.rules_present = dir_exists(b.rules_dir);

	/* Inputs. */
	if ((rc = secmx_file_read(base, 64u << 20, &basebuf, &baselen)) < 0) {
		fprintf(stderr, "bench_engine: %s: %s\n", base, secmx_strerror(rc));
		return 1;
	}
	if (base_prepare(basebuf, &bp) < 0) {
		fprintf(stderr, "bench_engine: %s: no cac:InvoiceLine with a cbc:ID to repeat\n",
			base);
		return 1;
	}
	if (!bp.consistent)
		fprintf(stderr, "bench_engine: note: could not negate the repeated line; "
				"the generated totals will not add up\n");
	lines_small = make_invoice(&bp, 10 * 1024, 0, &b.small);
	lines_large = make_invoice(&bp, 1024 * 1024, 0, &b.large);
	lines_huge = make_invoice(&bp, 10 * 1024 * 1024, 10 * 1024 * 1024, &b.huge);
	base_free(&bp);

	snprintf(b.tmp, sizeof(b.tmp), "/tmp/secmx-bench-XXXXXX");
	if (mkdtemp(b.tmp) == NULL) {
		perror("bench_engine: mkdtemp");
		return 1;
	}

	if (engine_global_init() < 0) {
		fprintf(stderr, "bench_engine: engine_global_init failed\n");
		return 1;
	}
	/* Peak memory from a file first, before this process holds an engine:
	 * the child builds its own, as `secmx validate FILE` does. */
	fmem_rc = peak_memory_file(&b, &fmem_start, &fmem_peak, fmem_err, sizeof(fmem_err));
	engine_config_default(&cfg);
	cfg.schema_dir = b.schema_dir;
	cfg.rules_dir = b.rules_dir;
	if ((rc = engine_new(&cfg, &b.eng, err, sizeof(err))) < 0) {
		fprintf(stderr, "bench_engine: engine_new: %s: %s\n", secmx_strerror(rc), err);
		return 1;
	}
	if (getloadavg(loadavg, 3) < 0)
		loadavg[0] = -1;

	/* From memory (the daemon's path) while this process holds little
	 * besides the engine. */
	mem_rc = peak_memory(&b, &b.huge, -1, &mem_start, &mem_peak, mem_err, sizeof(mem_err));

	load_keys(&b);

	if (b.json) {
		b.out = json_pack("{s:s, s:f, s:f, s:s, s:s, s:b, s:i, s:[]}", "schemas",
				  b.schema_dir, "seconds_per_stage", b.seconds, "loadavg_1min",
				  loadavg[0], "base", base, "rules_dir", b.rules_dir, "rules_present",
				  b.rules_present, "cpus_online", (int)sysconf(_SC_NPROCESSORS_ONLN),
				  "stages");
		json_object_set_new(b.out, "inputs",
				    json_pack("{s:I, s:i, s:I, s:i, s:I, s:i, s:b}", "small_bytes",
					      (json_int_t)b.small.len, "small_lines_added",
					      (int)lines_small, "large_bytes",
					      (json_int_t)b.large.len, "large_lines_added",
					      (int)lines_large, "huge_bytes", (json_int_t)b.huge.len,
					      "huge_lines_added", (int)lines_huge,
					      "totals_consistent", bp.consistent));
		json_object_set_new(b.out, "goals", json_array());
	} else {
		printf("secmx bench_engine %s — figures, not a pass/fail test\n", SECMX_VERSION);
		printf("schemas: %s\nrules:   %s%s\n", b.schema_dir, b.rules_dir,
		       b.rules_present ? "" : " (missing)");
		printf("inputs:  %zu-byte invoice (+%u lines), %zu-byte (+%u), %zu-byte (+%u); "
		       "base %s\n",
		       b.small.len, lines_small, b.large.len, lines_large, b.huge.len, lines_huge,
		       base);
		printf("machine: %ld CPUs online, load average %.2f at start; %.1f s per stage\n",
		       sysconf(_SC_NPROCESSORS_ONLN), loadavg[0], b.seconds);
		if (b.key_err[0])
			printf("signing: unavailable: %s\n", b.key_err);
		printf("\nPer stage, one thread (docs/s per core = docs / thread CPU seconds)\n");
		printf("  %-40s %12s %12s %10s\n", "stage (10 KB invoice unless noted)",
		       "docs/s/core", "docs/s wall", "docs");
	}

	{
		const struct stage parse = {"parse", NULL, op_parse, NULL, 1};
		const struct stage classify = {"classify", prep_held_small, op_classify, NULL, 1000};
		const struct stage xsd = {"XSD validate", prep_held_small, op_xsd, NULL, 1};
		const struct stage rules = {"rules", prep_held_small, op_rules, NULL, 1};
		const struct stage ser = {"serialize", prep_held_small, op_serialize, NULL, 1};
		const struct stage sign_rsa = {"sign RSA-2048", prep_fresh, op_sign, done_doc, 1};
		const struct stage sign_ec = {"sign ECDSA P-256", prep_fresh, op_sign, done_doc, 1};
		const struct stage ver_rsa = {"verify RSA-2048", prep_signed, op_verify, done_doc, 1};
		const struct stage ver_ec = {"verify ECDSA P-256", prep_signed, op_verify, done_doc,
					     1};
		const struct stage parse_l = {"parse (1 MB invoice)", NULL, op_parse, NULL, 1};
		const struct stage xsd_l = {"XSD validate (1 MB invoice)", prep_held_large, op_xsd,
					    NULL, 1};
		const struct stage p_xsd = {"parse+XSD", NULL, op_pipe_xsd, NULL, 1};
		const struct stage p_xsd_l = {"parse+XSD (1 MB invoice)", NULL, op_pipe_xsd_large,
					      NULL, 1};
		const struct stage p_rsa = {"parse+XSD+sign+serialize RSA-2048", NULL, op_pipe_sign,
					    NULL, 1};
		const struct stage p_ec = {"parse+XSD+sign+serialize ECDSA P-256", NULL,
					   op_pipe_sign, NULL, 1};

		g_parse_src = &b.small;
		measure(&b, &parse, &r);
		print_result(&b, &r, "stage", (double)b.small.len);
		measure(&b, &classify, &r);
		print_result(&b, &r, "stage", 0);
		measure(&b, &xsd, &r);
		print_result(&b, &r, "stage", (double)b.small.len);
		measure(&b, &rules, &r);
		print_result(&b, &r, "stage", 0);
		g_sign_key = b.key_rsa;
		measure(&b, &sign_rsa, &r);
		print_result(&b, &r, "stage", 0);
		g_sign_key = b.key_ec;
		measure(&b, &sign_ec, &r);
		print_result(&b, &r, "stage", 0);
		measure(&b, &ser, &r);
		print_result(&b, &r, "stage", (double)b.small.len);
		g_verify_src = &b.signed_rsa;
		measure(&b, &ver_rsa, &r);
		print_result(&b, &r, "stage", 0);
		g_verify_src = &b.signed_ec;
		measure(&b, &ver_ec, &r);
		print_result(&b, &r, "stage", 0);
		g_parse_src = &b.large;
		measure(&b, &parse_l, &r);
		print_result(&b, &r, "stage", (double)b.large.len);
		measure(&b, &xsd_l, &r);
		print_result(&b, &r, "stage", (double)b.large.len);
		held_free();

		if (!b.json)
			printf("\nPipelines, one thread (all steps timed)\n");
		measure(&b, &p_xsd, &res_pipe_xsd);
		print_result(&b, &res_pipe_xsd, "pipeline", (double)b.small.len);
		measure(&b, &p_xsd_l, &r);
		print_result(&b, &r, "pipeline", (double)b.large.len);
		g_sign_key = b.key_rsa;
		measure(&b, &p_rsa, &res_pipe_rsa);
		print_result(&b, &res_pipe_rsa, "pipeline", 0);
		g_sign_key = b.key_ec;
		measure(&b, &p_ec, &res_pipe_ec);
		print_result(&b, &res_pipe_ec, "pipeline", 0);
	}

	/* Scaling: the same pipelines on 1 and 2 threads sharing the engine. */
	{
		struct {
			const char *name;
			const struct engine_key *key;
			int want_key;
		} sc[2] = {{"parse+XSD", NULL, 0},
			   {"parse+XSD+sign+serialize ECDSA P-256", b.key_ec, 1}};
		double ratio_first = -1;
		int i;

		if (!b.json)
			printf("\nThread scaling, one engine shared (docs/s wall, %.1f s each)\n"
			       "  %-40s %12s %12s %8s\n",
			       b.seconds, "pipeline", "1 thread", "2 threads", "ratio");
		for (i = 0; i < 2; i++) {
			double r1 = -1, r2 = -1;
			char terr[600] = "";

			if (sc[i].want_key && sc[i].key == NULL)
				snprintf(terr, sizeof(terr), "%s",
					 b.key_err[0] ? b.key_err : "no signing key");
			else if ((r1 = run_threads(&b, 1, sc[i].key, terr, sizeof(terr))) >= 0)
				r2 = run_threads(&b, 2, sc[i].key, terr, sizeof(terr));
			if (i == 0 && r1 > 0 && r2 >= 0)
				ratio_first = r2 / r1;
			if (b.json) {
				json_t *o = json_pack("{s:s, s:s}", "name", sc[i].name, "group",
						      "scaling");

				if (r1 < 0 || r2 < 0) {
					json_object_set_new(o, "error", json_string(terr));
				} else {
					json_object_set_new(o, "threads1_docs_per_s", json_real(r1));
					json_object_set_new(o, "threads2_docs_per_s", json_real(r2));
					json_object_set_new(o, "ratio", json_real(r2 / r1));
				}
				json_array_append_new(json_object_get(b.out, "stages"), o);
			} else if (r1 < 0 || r2 < 0) {
				printf("  %-40s n/a (error: %s)\n", sc[i].name, terr);
			} else {
				printf("  %-40s %12.1f %12.1f %7.2fx\n", sc[i].name, r1, r2, r2 / r1);
			}
		}

		/* Peak memory (measured at start-up, printed here). */
		if (b.json) {
			json_t *o = json_pack("{s:s, s:I}", "name", "peak memory parse+XSD+rules",
					      "doc_bytes", (json_int_t)b.huge.len);

			if (fmem_rc < 0) {
				json_object_set_new(o, "error", json_string(fmem_err));
			} else {
				json_object_set_new(o, "peak_rss_kb", json_integer(fmem_peak));
				json_object_set_new(o, "rss_at_start_kb", json_integer(fmem_start));
			}
			if (mem_rc < 0) {
				json_object_set_new(o, "from_memory_error", json_string(mem_err));
			} else {
				json_object_set_new(o, "from_memory_peak_rss_kb",
						    json_integer(mem_peak));
				json_object_set_new(o, "from_memory_rss_at_start_kb",
						    json_integer(mem_start));
			}
			json_object_set_new(b.out, "memory", o);
		} else {
			printf("\nPeak memory, validating the %.2f MiB invoice (parse, XSD, "
			       "rules) in a forked child\n",
			       (double)b.huge.len / MIB);
			if (fmem_rc < 0)
				printf("  from a file (secmx validate FILE): n/a (error: %s)\n",
				       fmem_err);
			else
				printf("  from a file (secmx validate FILE): peak RSS %.1f MB "
				       "(ru_maxrss); %.1f MB resident at start (no engine yet)\n",
				       (double)fmem_peak * 1024 / 1e6,
				       (double)fmem_start * 1024 / 1e6);
			if (mem_rc < 0)
				printf("  from memory (engine_doc_parse, daemon): n/a "
				       "(error: %s)\n", mem_err);
			else
				printf("  from memory (engine_doc_parse, daemon): peak RSS %.1f MB "
				       "(ru_maxrss); %.1f MB resident at start (engine, schemas, "
				       "input buffer)\n",
				       (double)mem_peak * 1024 / 1e6, (double)mem_start * 1024 / 1e6);
		}

		/* Peers. */
		if (!no_peers) {
			double rsa = -1, ec = -1, xs_rsa, xs_ec, xl_with = -1, xl_without = -1;
			double xs_rsa_cpu = -1, xs_ec_cpu = -1, xl_with_cpu = -1;
			char e1[256] = "", e2[256] = "", e3[256] = "";
			int sp;

			if (!b.json)
				printf("\nPeers, measured now (%d runs each where counted)\n",
				       b.peer_runs);
			sp = openssl_speed(&b, &rsa, &ec);
			xs_rsa = xmlsec_sign_rate(&b, "rsa2048",
						  "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
						  b.peer_runs, &xs_rsa_cpu, e1, sizeof(e1));
			xs_ec = xmlsec_sign_rate(&b, "p256",
						 "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
						 b.peer_runs, &xs_ec_cpu, e2, sizeof(e2));
			if (xmllint_rates(&b, b.peer_runs, &xl_with, &xl_with_cpu, &xl_without, e3,
					  sizeof(e3)) < 0)
				xl_with = xl_without = -1;
			if (b.json) {
				json_t *p = json_object();

				json_object_set_new(p, "openssl_speed_rsa2048_sign_per_s",
						    sp == 0 ? json_real(rsa) : json_null());
				json_object_set_new(p, "openssl_speed_ecdsap256_sign_per_s",
						    sp == 0 ? json_real(ec) : json_null());
				json_object_set_new(p, "xmlsec1_sign_rsa2048_docs_per_s_with_startup",
						    xs_rsa > 0 ? json_real(xs_rsa) : json_string(e1));
				json_object_set_new(p, "xmlsec1_sign_p256_docs_per_s_with_startup",
						    xs_ec > 0 ? json_real(xs_ec) : json_string(e2));
				json_object_set_new(p, "xmllint_schema_docs_per_s_with_startup",
						    xl_with > 0 ? json_real(xl_with) : json_string(e3));
				json_object_set_new(p, "xmlsec1_sign_rsa2048_docs_per_cpu_s",
						    json_real(xs_rsa_cpu));
				json_object_set_new(p, "xmlsec1_sign_p256_docs_per_cpu_s",
						    json_real(xs_ec_cpu));
				json_object_set_new(p, "xmllint_schema_docs_per_cpu_s_with_startup",
						    json_real(xl_with_cpu));
				json_object_set_new(p, "xmllint_schema_docs_per_s_without_startup",
						    xl_without > 0 ? json_real(xl_without) : json_null());
				json_object_set_new(p, "runs", json_integer(b.peer_runs));
				json_object_set_new(b.out, "peers", p);
			} else {
				if (sp == 0)
					printf("  %-52s %10.1f sign/s\n  %-52s %10.1f sign/s\n",
					       "openssl speed -seconds 2 rsa2048", rsa,
					       "openssl speed -seconds 2 ecdsap256", ec);
				else
					printf("  openssl speed: n/a (could not run or parse it)\n");
				if (xs_rsa > 0)
					printf("  %-52s %10.1f docs/s wall, %.1f per CPU s "
					       "(process start-up included)\n",
					       "xmlsec1 --sign, RSA-2048, 10 KB invoice", xs_rsa,
					       xs_rsa_cpu);
				else
					printf("  xmlsec1 --sign RSA-2048: n/a (error: %s)\n", e1);
				if (xs_ec > 0)
					printf("  %-52s %10.1f docs/s wall, %.1f per CPU s "
					       "(process start-up included)\n",
					       "xmlsec1 --sign, ECDSA P-256, 10 KB invoice", xs_ec,
					       xs_ec_cpu);
				else
					printf("  xmlsec1 --sign ECDSA P-256: n/a (error: %s)\n", e2);
				if (xl_with > 0) {
					printf("  %-52s %10.1f docs/s wall, %.1f per CPU s "
					       "(one process per document)\n",
					       "xmllint --noout --schema, 10 KB invoice", xl_with,
					       xl_with_cpu);
					if (xl_without > 0)
						printf("  %-52s %10.1f docs/s (1000 files in one process, "
						       "start-up subtracted)\n",
						       "xmllint --noout --schema, 10 KB invoice", xl_without);
				} else {
					printf("  xmllint --schema: n/a (error: %s)\n", e3);
				}
			}
		}

		/* Goals beside the figures. */
		if (!b.json)
			printf("\nGoals (from the issue) beside this run's figures\n");
		goal_row(&b, "parse+XSD+sign+serialize RSA-2048", rate((double)res_pipe_rsa.n,
									 res_pipe_rsa.cpu),
			 res_pipe_rsa.rc >= 0, GOAL_PIPE_RSA, 0, "docs/s/core");
		goal_row(&b, "parse+XSD+sign+serialize ECDSA P-256", rate((double)res_pipe_ec.n,
									    res_pipe_ec.cpu),
			 res_pipe_ec.rc >= 0, GOAL_PIPE_EC, 0, "docs/s/core");
		goal_row(&b, "parse+XSD", rate((double)res_pipe_xsd.n, res_pipe_xsd.cpu),
			 res_pipe_xsd.rc >= 0, GOAL_PARSE_XSD, 0, "docs/s/core");
		goal_row(&b, "2 threads vs 1 (parse+XSD)", ratio_first, ratio_first > 0, GOAL_SCALE,
			 0, "x");
		goal_row(&b, "peak memory, secmx validate 10 MiB file",
			 (double)fmem_peak * 1024 / 1e6, fmem_rc >= 0, GOAL_MEM_MB, 1, "MB");
	}

	if (b.json) {
		json_dumpf(b.out, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
		printf("\n");
		json_decref(b.out);
	}
	cleanup_tmp(&b);
	engine_key_free(b.key_rsa);
	engine_key_free(b.key_ec);
	engine_trust_free(b.trust);
	engine_free(b.eng);
	free(b.small.p);
	free(b.large.p);
	free(b.huge.p);
	free(b.signed_rsa.p);
	free(b.signed_ec.p);
	free(basebuf);
	engine_global_cleanup();
	return 0;
}
