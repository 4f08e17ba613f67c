/*
 * fin_busserver.c — a bus (bus/bus.h) that delivers real documents from
 * files, for secmx-finance's end-to-end test (tests/finance/e2e.sh).
 *
 *   fin_busserver ENDPOINT OUTDIR TIMEOUT_MS SUBMITS SPEC...
 *
 * Each SPEC is KEY,TYPE,VALID,STATE,PATH: the document at PATH is offered
 * (in argument order) with idempotency key KEY, document_type TYPE,
 * validation.valid VALID (1 or 0) and, unless STATE is "-",
 * meta.transaction_state STATE. The same KEY may appear twice: that is a
 * redelivery, as the queue makes after a crash between commit and ACK.
 * Unanswered deliveries go again to the next HELLO (the bus does that);
 * transient NACKs are offered again; permanent NACKs are dead letters.
 * Every SUBMIT is accepted (the same key gets the same message id) and its
 * document written to OUTDIR/submit-N.xml with its key in
 * OUTDIR/submit-N.key. OUTDIR/progress holds the number of answered
 * deliveries (rewritten after each answer) for the test to time its kills.
 * With FIN_BUS_PACE_MS=N in the environment, new deliveries are offered at
 * most one per N ms, so that a test can kill the adapter at chosen points.
 * With FIN_BUS_LEDGER=PATH (a SQLite ledger), every ACK is checked against
 * the ledger through a separate read-only connection at the moment it
 * arrives: the delivery's key must already be committed (an ACK before the
 * commit is counted as "early" and printed). FIN_BUS_PG=CONNINFO does the same
 * against a PostgreSQL ledger (libpq; the password from PGPASSWORD).
 * Exits 0 when every SPEC is answered and at least SUBMITS documents were
 * submitted, 1 on timeout, 2 on usage errors; prints one summary line:
 *   acked=A dead=D of=N submitted=S redelivered=R ms=T early=E
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "bus.h"

#define MAXDOCS 512

struct spec {
	char key[128], type[64], state[32];
	int valid;
	char *doc;
	size_t len;
	int offered, acked, dead, attempts;
};

struct srv {
	struct spec v[MAXDOCS];
	int n, next, requeue[MAXDOCS], nrequeue;
	int submitted;
	char submit_keys[64][BUS_MAX_KEY + 1];
	const char *outdir;
	long pace_ms;
	struct timespec last_offer;
	const char *ledger; /* FIN_BUS_LEDGER: check ACKs against it */
	const char *pg;     /* FIN_BUS_PG: the same on PostgreSQL */
	PGconn *pgc;
	int early; /* ACKs whose key was not committed yet */
};

/* committed_pg: as committed() on PostgreSQL (one connection kept). */
static int committed_pg(struct srv *s, const char *key)
{
	const char *params[1] = {key};
	PGresult *r;
	int rc = -1;

	if (!s->pgc || PQstatus(s->pgc) != CONNECTION_OK) {
		PQfinish(s->pgc);
		s->pgc = PQconnectdb(s->pg);
		if (PQstatus(s->pgc) != CONNECTION_OK) {
			fprintf(stderr, "fin_busserver: postgresql: %s", PQerrorMessage(s->pgc));
			return -1;
		}
	}
	r = PQexecParams(s->pgc, "SELECT 1 FROM fin_delivery WHERE idem_key = $1", 1, NULL, params,
	                 NULL, NULL, 0);
	if (PQresultStatus(r) == PGRES_TUPLES_OK)
		rc = PQntuples(r) > 0;
	PQclear(r);
	return rc;
}

/* committed: is KEY in the ledger's fin_delivery table, as another process
 * sees it now? 1 yes, 0 no, -1 cannot tell. */
static int committed(const char *path, const char *key)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_busy_timeout(db, 5000) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "SELECT 1 FROM fin_delivery WHERE idem_key = ?", -1, &st,
	                       NULL) == SQLITE_OK &&
	    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC) == SQLITE_OK) {
		int r = sqlite3_step(st);

		rc = r == SQLITE_ROW ? 1 : r == SQLITE_DONE ? 0 : -1;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc;
}

/* answered: deliveries ACKed or dead-lettered. */
static int answered(const struct srv *s)
{
	int i, n = 0;

	for (i = 0; i < s->n; i++)
		n += s->v[i].acked || s->v[i].dead;
	return n;
}

/* progress: write the answered count to OUTDIR/progress (atomically). */
static void progress(const struct srv *s)
{
	char tmp[4096], path[4096];
	FILE *fp;

	snprintf(tmp, sizeof(tmp), "%s/progress.tmp", s->outdir);
	snprintf(path, sizeof(path), "%s/progress", s->outdir);
	if ((fp = fopen(tmp, "w"))) {
		fprintf(fp, "%d\n", answered(s));
		fclose(fp);
		rename(tmp, path);
	}
}

/* on_hello: accept every adapter. */
static int on_hello(void *arg, const char *adapter, const char *const *patterns, size_t n,
                    char *reason, size_t reasonlen)
{
	(void)arg;
	(void)patterns;
	(void)n;
	(void)reason;
	(void)reasonlen;
	fprintf(stderr, "fin_busserver: HELLO %s\n", adapter);
	return 0;
}

/* next_delivery: requeued ones first, then the next never offered. */
static int next_delivery(void *arg, const char *adapter, struct bus_delivery *d)
{
	struct srv *s = arg;
	struct spec *p;
	int i;

	if (strstr(adapter, "pay"))
		return 0; /* the pay command's session gets nothing */
	if (s->nrequeue > 0) {
		i = s->requeue[0];
		memmove(s->requeue, s->requeue + 1, (size_t)--s->nrequeue * sizeof(int));
	} else if (s->next < s->n) {
		struct timespec now;

		clock_gettime(CLOCK_MONOTONIC, &now);
		if (s->pace_ms > 0 && (now.tv_sec - s->last_offer.tv_sec) * 1000 +
		                              (now.tv_nsec - s->last_offer.tv_nsec) / 1000000 <
		                          s->pace_ms)
			return 0;
		s->last_offer = now;
		i = s->next++;
	} else {
		return 0;
	}
	p = &s->v[i];
	d->delivery_id = malloc(32);
	d->envelope = malloc(2048);
	d->doc = malloc(p->len ? p->len : 1);
	if (!d->delivery_id || !d->envelope || !d->doc)
		abort();
	snprintf(d->delivery_id, 32, "d%d", i + 1);
	snprintf(d->envelope, 2048,
	         "{\"idempotency_key\":\"%s\",\"message_id\":\"<m%d@test.example>\","
	         "\"transaction_id\":\"t-%d\",\"document_type\":\"%s\","
	         "\"sender\":\"ap@supplier.example\",\"received_at\":\"2026-11-29T01:02:03Z\","
	         "\"validation\":{\"valid\":%s,\"errors\":%d,\"warnings\":0}%s%s%s}",
	         p->key, i + 1, i + 1, p->type, p->valid ? "true" : "false", p->valid ? 0 : 2,
	         strcmp(p->state, "-") ? ",\"meta\":{\"transaction_state\":\"" : "",
	         strcmp(p->state, "-") ? p->state : "", strcmp(p->state, "-") ? "\"}" : "");
	memcpy(d->doc, p->doc, p->len);
	d->doc_len = p->len;
	d->attempt = ++p->attempts;
	p->offered = 1;
	return 1;
}

/* idx: "dN" → N-1, or -1. */
static int idx(const struct srv *s, const char *id)
{
	char *end;
	long v;

	if (!id || id[0] != 'd')
		return -1;
	v = strtol(id + 1, &end, 10);
	return (*end || v < 1 || v > s->n) ? -1 : (int)v - 1;
}

/* on_ack: count the ACK, update progress. */
static void on_ack(void *arg, const char *adapter, const char *id)
{
	struct srv *s = arg;
	int i = idx(s, id);

	(void)adapter;
	if (i >= 0) {
		if ((s->ledger && committed(s->ledger, s->v[i].key) != 1) ||
		    (s->pg && committed_pg(s, s->v[i].key) != 1)) {
			s->early++;
			fprintf(stderr, "fin_busserver: EARLY ACK %s (not committed)\n",
			        s->v[i].key);
		}
		s->v[i].acked++;
		progress(s);
	}
}

/* on_nack: dead-letter or offer again. */
static void on_nack(void *arg, const char *adapter, const char *id, int kind, const char *reason)
{
	struct srv *s = arg;
	int i = idx(s, id);

	(void)adapter;
	if (i < 0)
		return;
	fprintf(stderr, "fin_busserver: NACK %s %s %s\n", s->v[i].key,
	        kind == BUS_NACK_PERMANENT ? "permanent" : "transient", reason);
	if (kind == BUS_NACK_PERMANENT) {
		s->v[i].dead = 1;
		progress(s);
	} else if (s->nrequeue < MAXDOCS) {
		s->requeue[s->nrequeue++] = i;
	}
}

/* on_submit: store the document, same answer for the same key. */
static int on_submit(void *arg, const char *adapter, const struct bus_submit *sb, char *message_id,
                     size_t idlen, char *reason, size_t reasonlen)
{
	struct srv *s = arg;
	char path[4096];
	FILE *fp;
	int i;

	fprintf(stderr, "fin_busserver: SUBMIT from %s key %s type %s meta %s\n", adapter,
	        sb->idempotency_key, sb->document_type ? sb->document_type : "-",
	        sb->metadata_json ? sb->metadata_json : "-");
	for (i = 0; i < s->submitted; i++) {
		if (strcmp(s->submit_keys[i], sb->idempotency_key) == 0) {
			snprintf(message_id, idlen, "<remit-%d@secmx.test>", i + 1);
			return BUS_SUBMIT_ACCEPTED;
		}
	}
	if (s->submitted >= 64) {
		snprintf(reason, reasonlen, "test store full");
		return BUS_SUBMIT_REFUSED;
	}
	snprintf(s->submit_keys[s->submitted], sizeof(s->submit_keys[0]), "%s",
	         sb->idempotency_key);
	s->submitted++;
	snprintf(path, sizeof(path), "%s/submit-%d.xml", s->outdir, s->submitted);
	if (!(fp = fopen(path, "w")) || fwrite(sb->doc, 1, sb->doc_len, fp) != sb->doc_len) {
		if (fp)
			fclose(fp);
		snprintf(reason, reasonlen, "cannot store");
		return BUS_SUBMIT_REFUSED;
	}
	fclose(fp);
	snprintf(path, sizeof(path), "%s/submit-%d.key", s->outdir, s->submitted);
	if ((fp = fopen(path, "w"))) {
		fprintf(fp, "%s\n", sb->idempotency_key);
		fclose(fp);
	}
	snprintf(message_id, idlen, "<remit-%d@secmx.test>", s->submitted);
	return BUS_SUBMIT_ACCEPTED;
}

/* log_line: the bus's lines on stderr. */
static void log_line(void *arg, int level, const char *line)
{
	(void)arg;
	if (level >= BUS_LOG_INFO)
		fprintf(stderr, "bus: %s\n", line);
}

/* load_spec: parse KEY,TYPE,VALID,STATE,PATH and read the file. */
static int load_spec(struct spec *p, const char *arg)
{
	char buf[4096], *f[5], *save = NULL;
	int i;

	snprintf(buf, sizeof(buf), "%s", arg);
	for (i = 0; i < 5; i++)
		if (!(f[i] = strtok_r(i ? NULL : buf, ",", &save)))
			return -1;
	snprintf(p->key, sizeof(p->key), "%s", f[0]);
	snprintf(p->type, sizeof(p->type), "%s", f[1]);
	p->valid = strcmp(f[2], "1") == 0;
	snprintf(p->state, sizeof(p->state), "%s", f[3]);
	return secmx_file_read(f[4], BUS_MAX_DOC, &p->doc, &p->len) < 0 ? -1 : 0;
}

/* main: see the top of the file. */
int main(int argc, char **argv)
{
	static struct srv s;
	struct bus_config cfg;
	struct bus_ops ops = {&s,      on_hello,  next_delivery, on_ack,
	                      on_nack, on_submit, log_line,      NULL};
	struct bus_stats st;
	struct bus *b = NULL;
	struct timespec t0, t1;
	char err[256] = "";
	long timeout, elapsed = 0;
	int submits, i, rc, dead = 0, acked = 0;

	if (argc < 5 || (timeout = strtol(argv[3], NULL, 10)) <= 0 ||
	    (submits = (int)strtol(argv[4], NULL, 10)) < 0 || argc - 5 > MAXDOCS) {
		fprintf(stderr, "usage: fin_busserver ENDPOINT OUTDIR TIMEOUT_MS SUBMITS "
		                "KEY,TYPE,VALID,STATE,PATH...\n");
		return 2;
	}
	s.outdir = argv[2];
	s.ledger = getenv("FIN_BUS_LEDGER");
	s.pg = getenv("FIN_BUS_PG");
	if (getenv("FIN_BUS_PACE_MS"))
		s.pace_ms = strtol(getenv("FIN_BUS_PACE_MS"), NULL, 10);
	for (i = 5; i < argc; i++) {
		if (load_spec(&s.v[s.n++], argv[i]) < 0) {
			fprintf(stderr, "fin_busserver: bad spec or unreadable file: %s\n",
			        argv[i]);
			return 2;
		}
	}
	bus_config_default(&cfg);
	cfg.endpoint = argv[1];
	cfg.heartbeat_ms = 200;
	cfg.dead_ms = 1000;
	cfg.ack_timeout_ms = 5000;
	if ((rc = bus_new(&cfg, &ops, &b, err, sizeof(err))) < 0) {
		fprintf(stderr, "fin_busserver: %s: %s\n", secmx_strerror(rc), err);
		return 2;
	}
	progress(&s);
	printf("endpoint=%s\n", bus_endpoint(b));
	fflush(stdout);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while ((answered(&s) < s.n || s.submitted < submits) && elapsed < timeout) {
		bus_run_once(b, s.pace_ms > 0 && s.pace_ms < 50 ? (int)s.pace_ms : 50);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		elapsed = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	}
	for (i = 0; i < 6; i++) /* the last replies (SUBMIT_RESULT, BYE) */
		bus_run_once(b, 50);
	bus_stats_get(b, &st);
	for (i = 0; i < s.n; i++) {
		acked += s.v[i].acked > 0;
		dead += s.v[i].dead;
	}
	printf("acked=%d dead=%d of=%d submitted=%d redelivered=%lu ms=%ld early=%d\n", acked, dead,
	       s.n, s.submitted, st.redelivered, elapsed, s.early);
	bus_free(b);
	PQfinish(s.pgc);
	for (i = 0; i < s.n; i++)
		free(s.v[i].doc);
	return (answered(&s) == s.n && s.submitted >= submits) ? 0 : 1;
}
