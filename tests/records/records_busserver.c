/*
 * records_busserver.c — a bus (bus/bus.h, the daemon's server) with
 * in-memory ops that delivers real documents to secmx-records for the
 * end-to-end test, then exits 0 once every delivery is ACKed (1 on timeout
 * or a NACK, 2 on usage errors).
 *
 *   records_busserver ENDPOINT TIMEOUT_MS MANIFEST [SECRET_KEY_FILE ALLOW_LIST]
 *
 * For tcp:// the last two arguments are required (CURVE with an allow-list).
 * MANIFEST: one delivery per line, fields separated by '|':
 *   idempotency_key|document_type|transaction_id|received_at|flags|file
 * flags: "v" valid (signed document delivered), "r" reject (validation
 * failed), "s" as "v" but the delivered bytes differ from the original
 * (a comment appended, standing in for the daemon's signature) and the
 * original travels in meta.original_b64, with a full report in meta.report;
 * "b": meta.original_b64 is not base64 (the adapter must refuse it).
 * A line may repeat an earlier key: a redelivery the adapter must not store
 * twice. Prints "endpoint=..." first and a summary line at the end.
 * With REC_BUS_STORE=DIR (the adapter's store), every ACK is checked at the
 * moment it arrives against DIR/index.db through a separate read-only
 * connection: the record of the delivery's key must be committed, and its
 * envelope object present under its name (an ACK before that is "early").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include <sqlite3.h>
#include <unistd.h>

#include "bus.h"

#define MAXD 256

struct item {
	char key[128], type[64], txn[64], at[40], flags[8], file[1024];
	int acked, nacked;
};

struct ctx {
	struct item it[MAXD];
	int n, next;
	const char *store; /* REC_BUS_STORE: check ACKs against it */
	int early;
};

/* stored: is the record of KEY committed in STORE's index (and its
 * envelope object in place), as another process sees it now? 1 yes, 0 no. */
static int stored(const char *store, const char *key)
{
	char path[4096];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/index.db", store);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_busy_timeout(db, 5000) == SQLITE_OK &&
	    sqlite3_prepare_v2(db,
	                       "SELECT json_extract(e.detail, '$.objects.envelope.sha256')"
	                       " FROM records r JOIN entries e ON e.seq = r.seq"
	                       " WHERE r.idem_key = ?",
	                       -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
		const char *hex = (const char *)sqlite3_column_text(st, 0);

		snprintf(path, sizeof(path), "%s/objects/%.2s/%s", store, hex, hex + 2);
		rc = access(path, R_OK) == 0;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc;
}

/* b64: base64 of BUF (malloc()ed). */
static char *b64(const unsigned char *buf, size_t len)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *o = malloc(len / 3 * 4 + 8), *p = o;
	size_t i;

	if (!o)
		abort();
	for (i = 0; i + 2 < len; i += 3) {
		*p++ = t[buf[i] >> 2];
		*p++ = t[((buf[i] & 3) << 4) | (buf[i + 1] >> 4)];
		*p++ = t[((buf[i + 1] & 15) << 2) | (buf[i + 2] >> 6)];
		*p++ = t[buf[i + 2] & 63];
	}
	if (i < len) {
		*p++ = t[buf[i] >> 2];
		if (i + 1 < len) {
			*p++ = t[((buf[i] & 3) << 4) | (buf[i + 1] >> 4)];
			*p++ = t[(buf[i + 1] & 15) << 2];
		} else {
			*p++ = t[(buf[i] & 3) << 4];
			*p++ = '=';
		}
		*p++ = '=';
	}
	*p = '\0';
	return o;
}

/* on_hello: accept any adapter; log its patterns for the test to check. */
static int on_hello(void *arg, const char *adapter, const char *const *patterns, size_t n,
                    char *reason, size_t reasonlen)
{
	size_t i;

	(void)arg;
	(void)reason;
	(void)reasonlen;
	fprintf(stderr, "hello adapter=%s patterns=", adapter);
	for (i = 0; i < n; i++)
		fprintf(stderr, "%s%s", i ? "," : "", patterns[i]);
	fputc('\n', stderr);
	return 0;
}

/* next_delivery: the next manifest line as an envelope and document. */
static int next_delivery(void *arg, const char *adapter, struct bus_delivery *d)
{
	struct ctx *c = arg;
	struct item *it;
	char *doc = NULL;
	size_t len = 0;
	json_t *env, *meta = NULL;
	int i;

	(void)adapter;
	if (c->next >= c->n)
		return 0;
	i = c->next++;
	it = &c->it[i];
	if (secmx_file_read(it->file, 16u << 20, &doc, &len) < 0) {
		fprintf(stderr, "cannot read %s\n", it->file);
		exit(2);
	}
	env = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:{s:b,s:i,s:i,s:s}}", "idempotency_key",
	                it->key, "message_id", it->key, "transaction_id", it->txn, "document_type",
	                it->type, "profile", "peppol-bis-billing-3", "sender",
	                "ap@supplier.example", "received_at", it->at, "validation", "valid",
	                !strchr(it->flags, 'r'), "errors", strchr(it->flags, 'r') ? 2 : 0,
	                "warnings", 0, "signature", strchr(it->flags, 'r') ? "none" : "valid");
	if (strchr(it->flags, 's')) {
		char *o = b64((unsigned char *)doc, len);
		char *signed_doc = malloc(len + 32);

		if (!signed_doc)
			abort();
		memcpy(signed_doc, doc, len);
		memcpy(signed_doc + len, "<!-- signed -->\n", 17);
		free(doc);
		doc = signed_doc;
		len += 16;
		meta = json_pack("{s:s,s:s,s:{s:b,s:[]}}", "original_b64", o, "software",
		                 "secmxd 0.1.0 (test server)", "report", "valid", 1, "findings");
		free(o);
		json_object_set_new(env, "meta", meta);
	}
	if (strchr(it->flags, 'b')) /* an original the adapter cannot decode */
		json_object_set_new(env, "meta",
		                    json_pack("{s:s}", "original_b64", "*not base64*"));
	d->delivery_id = malloc(16);
	if (!d->delivery_id)
		abort();
	snprintf(d->delivery_id, 16, "d%d", i + 1);
	d->envelope = json_dumps(env, JSON_COMPACT);
	json_decref(env);
	d->doc = (unsigned char *)doc;
	d->doc_len = len;
	d->attempt = 1;
	return 1;
}

/* idx: "dN" → N-1 or -1. */
static int idx(const struct ctx *c, const char *id)
{
	char *end;
	long v = id[0] == 'd' ? strtol(id + 1, &end, 10) : 0;

	return v >= 1 && v <= c->n && !*end ? (int)v - 1 : -1;
}

/* on_ack: count the ACK of a delivery. */
static void on_ack(void *arg, const char *adapter, const char *id)
{
	struct ctx *c = arg;
	int i = idx(c, id);

	(void)adapter;
	if (i >= 0) {
		if (c->store && !stored(c->store, c->it[i].key)) {
			c->early++;
			fprintf(stderr, "EARLY ACK %s key=%s (not committed)\n", id, c->it[i].key);
		}
		c->it[i].acked++;
	}
}

/* on_nack: count (and print) a NACK; it is not offered again. */
static void on_nack(void *arg, const char *adapter, const char *id, int kind, const char *reason)
{
	struct ctx *c = arg;
	int i = idx(c, id);

	(void)adapter;
	fprintf(stderr, "NACK %s kind=%d reason=%s\n", id, kind, reason);
	if (i >= 0)
		c->it[i].nacked++;
}

/* log_line: bus log lines of level info and up to stderr. */
static void log_line(void *arg, int level, const char *line)
{
	(void)arg;
	if (level >= BUS_LOG_INFO)
		fprintf(stderr, "bus: %s\n", line);
}

/* main: read the manifest, serve until every delivery is answered. */
int main(int argc, char **argv)
{
	static struct ctx c;
	struct bus_ops ops = {&c, on_hello, next_delivery, on_ack, on_nack, NULL, log_line, NULL};
	struct bus_config cfg;
	struct bus *b = NULL;
	struct timespec t0, t1;
	char line[1600], err[256] = "";
	long timeout, elapsed = 0;
	int acked = 0, nacked = 0, i;
	FILE *fp;

	if ((argc != 4 && argc != 6) || (timeout = strtol(argv[2], NULL, 10)) <= 0 ||
	    !(fp = fopen(argv[3], "r"))) {
		fprintf(stderr, "usage: records_busserver ENDPOINT TIMEOUT_MS MANIFEST "
		                "[SECRET_KEY_FILE ALLOW_LIST]\n");
		return 2;
	}
	while (c.n < MAXD && fgets(line, sizeof(line), fp)) {
		struct item *it = &c.it[c.n];

		line[strcspn(line, "\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		if (sscanf(line, "%127[^|]|%63[^|]|%63[^|]|%39[^|]|%7[^|]|%1023[^|]", it->key,
		           it->type, it->txn, it->at, it->flags, it->file) != 6) {
			fprintf(stderr, "bad manifest line: %s\n", line);
			return 2;
		}
		c.n++;
	}
	fclose(fp);
	c.store = getenv("REC_BUS_STORE");
	bus_config_default(&cfg);
	cfg.endpoint = argv[1];
	cfg.heartbeat_ms = 200;
	cfg.dead_ms = 2000;
	if (argc == 6) {
		cfg.curve_secret_file = argv[4];
		cfg.allow_list_file = argv[5];
	}
	if (bus_new(&cfg, &ops, &b, err, sizeof(err)) < 0) {
		fprintf(stderr, "records_busserver: %s\n", err);
		return 2;
	}
	printf("endpoint=%s\n", bus_endpoint(b));
	fflush(stdout);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		for (acked = nacked = i = 0; i < c.n; i++) {
			acked += c.it[i].acked > 0;
			nacked += c.it[i].nacked > 0;
		}
		if (acked + nacked >= c.n || elapsed >= timeout)
			break;
		bus_run_once(b, 50);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		elapsed = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	}
	printf("deliveries=%d acked=%d nacked=%d ms=%ld early=%d\n", c.n, acked, nacked, elapsed,
	       c.early);
	bus_free(b);
	return acked == c.n ? 0 : 1;
}
