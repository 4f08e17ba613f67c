/*
 * verify.c — records store: verify, list, show (records.h).
 *
 * Functions: records_verify, records_list, records_show.
 *
 * verify recomputes, in order: every entry's hash and its link to the
 * previous one (seq must run 1, 2, 3 ... without gaps), the head in the
 * index and in chain.head; then for each "received" entry the index row of
 * its record (every column against the chain's metadata, the state against
 * the record's later entries) and every content object's SHA-256 (objects
 * of disposed records are gone by design). Each problem is one line naming
 * the entry and what differs. A store that verifies can still have been
 * rewritten wholesale by someone who recomputed every hash: compare the
 * head (printed by verify) with one kept elsewhere (docs/records.md).
 *
 * Errors: SECMX_EIO when the index cannot be read. Output only to OUT.
 */
#include "records.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "common.h"

/* col: column I of ST as a string ("" for NULL). */
static const char *col(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return s ? (const char *)s : "";
}

/* problem: print one problem line and count it. */
static void problem(FILE *out, int *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void problem(FILE *out, int *n, const char *fmt, ...)
{
	va_list ap;

	(*n)++;
	if (!out)
		return;
	fputs("PROBLEM ", out);
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fputc('\n', out);
}

/* check_chain: pass 1, the entries. LAST and LASTHASH: the chain's end. */
static int check_chain(struct records *r, FILE *out, int *np, long long *last, char lasthash[65])
{
	sqlite3_stmt *st = NULL;
	char prev[65], h[65];
	long long expect = 1, seq;

	memset(prev, '0', 64);
	prev[64] = '\0';
	*last = 0;
	snprintf(lasthash, 65, "%s", prev);
	if (sqlite3_prepare_v2(records__db(r),
	                       "SELECT seq, record_id, action, actor, at, detail, prev_hash, hash"
	                       " FROM entries ORDER BY seq",
	                       -1, &st, NULL) != SQLITE_OK)
		return SECMX_EIO;
	while (sqlite3_step(st) == SQLITE_ROW) {
		seq = sqlite3_column_int64(st, 0);
		if (seq != expect)
			problem(out, np,
			        "entry %lld (%s): expected entry %lld here: entries %lld..%lld "
			        "deleted or renumbered",
			        seq, col(st, 1), expect, expect, seq - 1);
		if (strcmp(col(st, 6), prev) != 0)
			problem(out, np,
			        "entry %lld (%s): prev_hash does not match the hash of the "
			        "entry before it (entries deleted, inserted or reordered)",
			        seq, col(st, 1));
		records__entry_hash(seq, col(st, 1), col(st, 2), col(st, 3), col(st, 4), col(st, 5),
		                    col(st, 6), h);
		if (strcmp(h, col(st, 7)) != 0)
			problem(out, np,
			        "entry %lld (%s, %s): contents changed: stored hash %.16s..., "
			        "recomputed %.16s...",
			        seq, col(st, 1), col(st, 2), col(st, 7), h);
		snprintf(prev, sizeof(prev), "%s", col(st, 7));
		*last = seq;
		snprintf(lasthash, 65, "%s", prev);
		expect = seq + 1;
	}
	sqlite3_finalize(st);
	return 0;
}

/* check_head: the index head and chain.head against the chain's end. */
static void check_head(struct records *r, FILE *out, int *np, long long last, const char *lasthash,
                       const char *text)
{
	sqlite3_stmt *st = NULL;
	char fhash[65];
	long long hseq = 0, fseq;
	int found = 0;

	if (sqlite3_prepare_v2(records__db(r), "SELECT seq, hash FROM head", -1, &st, NULL) ==
	        SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		found = 1;
		hseq = sqlite3_column_int64(st, 0);
		if (hseq != last || strcmp(col(st, 1), lasthash) != 0)
			problem(out, np,
			        "head: the index head is entry %lld (%.16s...) but the chain "
			        "ends at entry %lld (%.16s...): entries removed or added",
			        hseq, col(st, 1), last, lasthash);
	}
	sqlite3_finalize(st);
	if (!found && last > 0)
		problem(out, np, "head: the index has no head but %lld entries", last);
	if (!text) {
		if (last > 0)
			problem(out, np, "head: chain.head is missing");
		return;
	}
	if (sscanf(text, "%lld %64s", &fseq, fhash) != 2) {
		problem(out, np, "head: chain.head is malformed");
	} else if (fseq > last) {
		problem(out, np,
		        "head: chain.head names entry %lld but the chain ends at %lld: "
		        "entries removed from the end",
		        fseq, last);
	} else if (fseq > 0) {
		sqlite3_stmt *q = NULL;

		if (sqlite3_prepare_v2(records__db(r), "SELECT hash FROM entries WHERE seq = ?", -1,
		                       &q, NULL) == SQLITE_OK) {
			sqlite3_bind_int64(q, 1, fseq);
			if (sqlite3_step(q) != SQLITE_ROW || strcmp(col(q, 0), fhash) != 0)
				problem(out, np,
				        "head: chain.head (entry %lld, %.16s...) does not match "
				        "the chain's entry %lld",
				        fseq, fhash, fseq);
			sqlite3_finalize(q);
		}
		if (fseq < last && out)
			fprintf(out,
			        "note: chain.head lags (entry %lld of %lld; a crash before "
			        "it was rewritten)\n",
			        fseq, last);
	} else if (strspn(fhash, "0") != 64 || strlen(fhash) != 64) {
		problem(out, np, "head: chain.head names entry 0 with a hash that is not zeros");
	} else if (last > 0 && out) {
		/* written when the store was created; a crash after the first
		 * commit and before chain.head was rewritten */
		fprintf(
		    out,
		    "note: chain.head lags (entry 0 of %lld; a crash before it was rewritten)\n",
		    last);
	}
}

/* state_of: the state a record's entries give it. */
static const char *state_of(struct records *r, const char *id)
{
	sqlite3_stmt *st = NULL;
	const char *s = "kept";

	if (sqlite3_prepare_v2(records__db(r),
	                       "SELECT action FROM entries WHERE record_id = ? ORDER BY seq", -1,
	                       &st, NULL) != SQLITE_OK)
		return "?";
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (strcmp(col(st, 0), "disposal-approved") == 0)
			s = "approved";
		else if (strcmp(col(st, 0), "disposed") == 0)
			s = "disposed";
	}
	sqlite3_finalize(st);
	return s;
}

/* check_objects: each object of OBJS against its SHA-256 (not for disposed). */
static int check_objects(struct records *r, FILE *out, int *np, long long seq, const char *id,
                         json_t *objs, int disposed)
{
	const char *role;
	json_t *o;
	int n = 0;

	json_object_foreach(objs, role, o)
	{
		const char *hex = json_string_value(json_object_get(o, "sha256"));
		char path[4096], h[65];
		char *buf = NULL;
		size_t len = 0;

		if (!hex || strlen(hex) != 64) {
			problem(out, np, "entry %lld (%s): object %s has no valid sha256", seq, id,
			        role);
			continue;
		}
		records__object_path(r, hex, path, sizeof(path));
		if (disposed && strcmp(role, "envelope") != 0)
			continue; /* removed by disposal; its hash stays in the chain */
		if (secmx_file_read(path, RECORDS_MAX_DOC + 1024 * 1024, &buf, &len) < 0) {
			problem(out, np, "entry %lld (%s): object %s %.16s... is missing", seq, id,
			        role, hex);
			continue;
		}
		records__sha256_hex(buf, len, h);
		free(buf);
		n++;
		if (strcmp(h, hex) != 0)
			problem(out, np,
			        "entry %lld (%s): object %s %.16s... changed on disk (now "
			        "%.16s..., %zu bytes)",
			        seq, id, role, hex, h, len);
	}
	return n;
}

/* check_records: pass 2, each received record against its index row. */
static int check_records(struct records *r, FILE *out, int *np, long *nrec, long *nobj)
{
	static const char *const cols[] = {"idempotency_key", "title",          "document_type",
	                                   "creator",         "transaction_id", "received_at",
	                                   "retain_until"};
	sqlite3_stmt *st = NULL, *row = NULL;
	int rc = SECMX_EIO;

	if (sqlite3_prepare_v2(
	        records__db(r),
	        "SELECT seq, record_id, detail FROM entries WHERE action = 'received'"
	        " ORDER BY seq",
	        -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(records__db(r),
	                       "SELECT idem_key, title, document_type, sender, transaction_id,"
	                       " received_at, retain_until, seq, state FROM records WHERE id = ?",
	                       -1, &row, NULL) != SQLITE_OK)
		goto out;
	while (sqlite3_step(st) == SQLITE_ROW) {
		long long seq = sqlite3_column_int64(st, 0);
		const char *id = col(st, 1), *state;
		json_t *d = json_loads(col(st, 2), 0, NULL);
		json_t *meta = json_object_get(d, "record");
		size_t i;

		(*nrec)++;
		if (!meta) {
			problem(out, np, "entry %lld (%s): detail is not a record", seq, id);
			json_decref(d);
			continue;
		}
		sqlite3_reset(row);
		sqlite3_bind_text(row, 1, id, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(row) != SQLITE_ROW) {
			problem(out, np, "entry %lld (%s): the index has no row for this record",
			        seq, id);
			json_decref(d);
			continue;
		}
		for (i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
			const char *want = json_string_value(json_object_get(meta, cols[i]));

			if (!want || strcmp(want, col(row, (int)i)) != 0)
				problem(out, np,
				        "entry %lld (%s): index metadata %s is \"%s\", the "
				        "chain says \"%s\"",
				        seq, id, cols[i], col(row, (int)i), want ? want : "");
		}
		if (sqlite3_column_int64(row, 7) != seq)
			problem(out, np, "entry %lld (%s): index row names entry %lld", seq, id,
			        (long long)sqlite3_column_int64(row, 7));
		state = state_of(r, id);
		if (strcmp(state, col(row, 8)) != 0)
			problem(out, np,
			        "entry %lld (%s): index state is \"%s\", the chain says "
			        "\"%s\"",
			        seq, id, col(row, 8), state);
		*nobj += check_objects(r, out, np, seq, id, json_object_get(d, "objects"),
		                       strcmp(state, "disposed") == 0);
		json_decref(d);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(
	        records__db(r),
	        "SELECT id FROM records WHERE id NOT IN (SELECT record_id FROM entries"
	        " WHERE action = 'received')",
	        -1, &st, NULL) != SQLITE_OK)
		goto out;
	while (sqlite3_step(st) == SQLITE_ROW)
		problem(out, np, "index: record %s has no \"received\" entry in the chain",
		        col(st, 0));
	rc = 0;
out:
	sqlite3_finalize(st);
	sqlite3_finalize(row);
	return rc;
}

/* records_dir: the store directory (from the index file name). */
static const char *store_dir(struct records *r, char *buf, size_t len)
{
	const char *f = sqlite3_db_filename(records__db(r), "main");
	char *slash;

	snprintf(buf, len, "%s", f ? f : ".");
	slash = strrchr(buf, '/');
	if (slash)
		*slash = '\0';
	return buf;
}

/* records_verify: see records.h. */
int records_verify(struct records *r, FILE *out, int record, const char *actor)
{
	char lasthash[65], dir[2048], path[4096], err[256] = "", *headtext = NULL;
	size_t len = 0;
	long long last = 0;
	long nrec = 0, nobj = 0;
	int np = 0, rc;
	json_t *d;

	/* chain.head first, then one read transaction: the adapter rewrites
	 * chain.head only after its commit, so the file never names an entry
	 * newer than the snapshot (no false "removed from the end") */
	snprintf(path, sizeof(path), "%s/chain.head", store_dir(r, dir, sizeof(dir)));
	if (secmx_file_read(path, 256, &headtext, &len) < 0)
		headtext = NULL;
	if (sqlite3_exec(records__db(r), "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(records__db(r), "SELECT 1 FROM head", NULL, NULL, NULL) != SQLITE_OK) {
		free(headtext);
		return SECMX_EIO;
	}
	rc = check_chain(r, out, &np, &last, lasthash);
	if (rc == 0) {
		check_head(r, out, &np, last, lasthash, headtext);
		rc = check_records(r, out, &np, &nrec, &nobj);
	}
	sqlite3_exec(records__db(r), "COMMIT", NULL, NULL, NULL);
	free(headtext);
	if (rc < 0)
		return rc;
	if (out)
		fprintf(out, "%s: %lld entries, %ld records, %ld objects checked; head %lld %s\n",
		        np ? "FAILED" : "OK", last, nrec, nobj, last, lasthash);
	if (np || !record)
		return np;
	d = json_pack("{s:I,s:I,s:I,s:s}", "entries", (json_int_t)last, "records", (json_int_t)nrec,
	              "objects", (json_int_t)nobj, "head", lasthash);
	if (!d)
		return SECMX_ENOMEM;
	if (sqlite3_exec(records__db(r), "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		json_decref(d);
		return SECMX_EIO;
	}
	rc = records__append(r, "*", "verified", actor, d, err, sizeof(err));
	json_decref(d);
	if (rc < 0 || sqlite3_exec(records__db(r), "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		sqlite3_exec(records__db(r), "ROLLBACK", NULL, NULL, NULL);
		return SECMX_EIO;
	}
	records__head_sync(r);
	return 0;
}

/* records_list: one line (or JSON object) per record, in order of receipt. */
int records_list(struct records *r, FILE *out, int json)
{
	sqlite3_stmt *st = NULL;
	json_t *a = json ? json_array() : NULL;

	if (sqlite3_prepare_v2(records__db(r),
	                       "SELECT id, state, received_at, document_type, retain_until, title,"
	                       " transaction_id, idem_key FROM records ORDER BY seq",
	                       -1, &st, NULL) != SQLITE_OK) {
		json_decref(a);
		return SECMX_EIO;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (a)
			json_array_append_new(
			    a, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "id", col(st, 0),
			                 "state", col(st, 1), "received_at", col(st, 2),
			                 "document_type", col(st, 3), "retain_until", col(st, 4),
			                 "title", col(st, 5), "transaction_id", col(st, 6),
			                 "idempotency_key", col(st, 7)));
		else
			fprintf(out, "%s  %-8s  %s  %-18s  keep-until %s  %s\n", col(st, 0),
			        col(st, 1), col(st, 2), col(st, 3), col(st, 4), col(st, 5));
	}
	sqlite3_finalize(st);
	if (a) {
		json_dumpf(a, out, JSON_INDENT(1));
		fputc('\n', out);
		json_decref(a);
	}
	return 0;
}

/* last_verified: the latest archive-wide "verified" entry (new reference),
 * or JSON null: a verification covers every record received before it. */
static json_t *last_verified(struct records *r)
{
	sqlite3_stmt *st = NULL;
	json_t *o = NULL;

	if (sqlite3_prepare_v2(records__db(r),
	                       "SELECT seq, at, actor FROM entries WHERE record_id = '*' AND"
	                       " action = 'verified' ORDER BY seq DESC LIMIT 1",
	                       -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		o = json_pack("{s:I,s:s,s:s}", "seq", (json_int_t)sqlite3_column_int64(st, 0), "at",
		              col(st, 1), "actor", col(st, 2));
	sqlite3_finalize(st);
	return o ? o : json_null();
}

/* records_show: metadata, objects, state and actions of record ID. */
int records_show(struct records *r, const char *id, FILE *out, int json)
{
	json_t *acts = records__actions(r, id), *rec = NULL, *meta, *v, *o, *det;
	const char *k, *state;
	size_t i;

	if (!acts)
		return SECMX_EIO;
	if (json_array_size(acts) == 0 ||
	    strcmp(json_string_value(json_object_get(json_array_get(acts, 0), "action")),
	           "received") != 0) {
		json_decref(acts);
		return SECMX_ENOTFOUND;
	}
	state = state_of(r, id);
	det = json_object_get(json_array_get(acts, 0), "detail");
	rec = json_pack("{s:s,s:s,s:O,s:O,s:O}", "id", id, "state", state, "metadata",
	                json_object_get(det, "record"), "objects", json_object_get(det, "objects"),
	                "actions", acts);
	json_decref(acts);
	if (!rec)
		return SECMX_ENOMEM;
	json_object_set_new(rec, "last_verified", last_verified(r));
	if (json) {
		json_dumpf(rec, out, JSON_INDENT(1) | JSON_SORT_KEYS);
		fputc('\n', out);
		json_decref(rec);
		return 0;
	}
	fprintf(out, "record %s (%s)\n", id, state);
	meta = json_object_get(rec, "metadata");
	json_object_foreach(meta, k, v)
	{
		char *s = json_is_string(v) ? NULL : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

		fprintf(out, "  %-18s %s\n", k, s ? s : json_string_value(v));
		free(s);
	}
	json_object_foreach(json_object_get(rec, "objects"), k, o)
	{
		fprintf(out, "  object %-10s sha256:%s %lld bytes\n", k,
		        json_string_value(json_object_get(o, "sha256")),
		        (long long)json_integer_value(json_object_get(o, "size")));
	}
	json_array_foreach(json_object_get(rec, "actions"), i, o)
	{
		fprintf(out, "  action #%lld %-17s %s by %s\n",
		        (long long)json_integer_value(json_object_get(o, "seq")),
		        json_string_value(json_object_get(o, "action")),
		        json_string_value(json_object_get(o, "at")),
		        json_string_value(json_object_get(o, "actor")));
	}
	o = json_object_get(rec, "last_verified");
	if (json_is_object(o))
		fprintf(out, "  archive verified #%lld %s by %s (whole chain)\n",
		        (long long)json_integer_value(json_object_get(o, "seq")),
		        json_string_value(json_object_get(o, "at")),
		        json_string_value(json_object_get(o, "actor")));
	json_decref(rec);
	return 0;
}
