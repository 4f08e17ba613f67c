/*
 * export.c — records store: BagIt (RFC 8493) export (records.h).
 *
 * Function: records_export.
 *
 * The bag is built in OUTDIR.part, then the "exported" entries are appended
 * to the chain (one per record, one SQLite transaction), then OUTDIR.part is
 * renamed to OUTDIR. Layout (docs/records.md):
 *   bagit.txt, bag-info.txt, manifest-sha256.txt, tagmanifest-sha256.txt
 *   data/export.json                       what was selected, chain head
 *   data/REC-.../metadata.json             metadata, objects, actions so far
 *   data/REC-.../original.xml, signed.xml, report.json|txt, envelope.json
 * A disposed record contributes only its metadata.json (with the hashes).
 * Every file is written atomically (records__write_atomic); lines end in LF;
 * manifest paths are percent-encoded for CR, LF and '%' (RFC 8493 2.1.3).
 *
 * Errors: SECMX_EINVAL (bad selection), SECMX_EIO (OUTDIR exists, writes),
 * SECMX_ENOTFOUND (nothing selected). On failure OUTDIR.part is left for
 * inspection (XXX: the operator removes it) and the chain is unchanged.
 */
#include "records.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <sqlite3.h>

#include "common.h"

/* db_fail: the index's error into ERR; returns SECMX_EIO. */
static int db_fail(sqlite3 *db, char *err, size_t errlen)
{
	secmx_errf(err, errlen, "index: %s", sqlite3_errmsg(db));
	return SECMX_EIO;
}

/* A growing text buffer. */
struct sbuf {
	char *p;
	size_t len, cap;
};

/* sb_add: append formatted text; SECMX_ENOMEM. */
static int sb_add(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int sb_add(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return SECMX_EINTERNAL;
		if (b->p && (size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return 0;
		}
		{
			size_t cap = (b->cap + (size_t)n + 1) * 2;
			char *q = realloc(b->p, cap);

			if (!q)
				return SECMX_ENOMEM;
			b->p = q;
			b->cap = cap;
		}
	}
}

struct bag {
	char root[2048];
	struct sbuf manifest;
	unsigned long long octets;
	unsigned long files;
};

/* pct: a manifest path, percent-encoding CR, LF and '%'. */
static void pct(const char *in, char *out, size_t len)
{
	size_t o = 0;

	for (; *in && o + 4 < len; in++) {
		if (*in == '\r' || *in == '\n' || *in == '%')
			o += (size_t)snprintf(out + o, len - o, "%%%02X", (unsigned char)*in);
		else
			out[o++] = *in;
	}
	out[o] = '\0';
}

/* bag_file: write REL (under the bag root) and list it in the payload manifest. */
static int bag_file(struct bag *g, const char *rel, const void *buf, size_t len)
{
	char path[4096], hex[65], enc[1024];
	int rc;

	snprintf(path, sizeof(path), "%s/%s", g->root, rel);
	if ((rc = records__write_atomic(path, buf, len)) < 0)
		return rc;
	records__sha256_hex(buf, len, hex);
	pct(rel, enc, sizeof(enc));
	g->octets += len;
	g->files++;
	return sb_add(&g->manifest, "%s  %s\n", hex, enc);
}

/* tag_file: write a tag file and add its line to TAGS. */
static int tag_file(struct bag *g, struct sbuf *tags, const char *rel, const char *text)
{
	char path[4096], hex[65];
	int rc;

	snprintf(path, sizeof(path), "%s/%s", g->root, rel);
	if ((rc = records__write_atomic(path, text, strlen(text))) < 0)
		return rc;
	records__sha256_hex(text, strlen(text), hex);
	return tags ? sb_add(tags, "%s  %s\n", hex, rel) : 0;
}

/* one_line: S with control characters replaced by spaces, into BUF. */
static void one_line(const char *s, char *buf, size_t len)
{
	size_t i;

	snprintf(buf, len, "%s", s ? s : "");
	for (i = 0; buf[i]; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = ' ';
}

/* export_record: the files of one record into data/ID/. */
static int export_record(struct records *r, struct bag *g, const char *id, const char *state,
                         json_t *index)
{
	static const struct {
		const char *role, *name;
	} files[] = {{"original", "original"},
	             {"signed", "signed"},
	             {"report", "report"},
	             {"envelope", "envelope"}};
	json_t *acts = records__actions(r, id), *det, *meta, *objs, *out = NULL, *fl = NULL;
	char rel[512], dir[4096], path[4096];
	char *text = NULL, *buf = NULL;
	size_t i, len;
	int rc = SECMX_EIO, disposed = strcmp(state, "disposed") == 0;

	det = json_object_get(json_array_get(acts, 0), "detail");
	meta = json_object_get(det, "record");
	objs = json_object_get(det, "objects");
	if (!meta || !objs)
		goto out;
	snprintf(dir, sizeof(dir), "%s/data/%s", g->root, id);
	if (mkdir(dir, 0750) != 0)
		goto out;
	fl = json_object();
	for (i = 0; !disposed && i < sizeof(files) / sizeof(files[0]); i++) {
		json_t *o = json_object_get(objs, files[i].role);
		const char *hex = json_string_value(json_object_get(o, "sha256"));
		const char *ext = "json";
		char h[65];

		if (!hex)
			continue;
		if (strcmp(files[i].role, "report") == 0)
			ext = json_string_value(json_object_get(o, "format"));
		else if (strcmp(files[i].role, "envelope") != 0)
			ext = *json_string_value(json_object_get(meta, "root_element")) ? "xml"
			                                                                : "bin";
		records__object_path(r, hex, path, sizeof(path));
		if (secmx_file_read(path, RECORDS_MAX_DOC + 1024 * 1024, &buf, &len) < 0)
			goto out;
		records__sha256_hex(buf, len, h);
		if (strcmp(h, hex) != 0) {
			rc = SECMX_ECORRUPT; /* never export damaged content as if intact */
			goto out;
		}
		snprintf(rel, sizeof(rel), "data/%s/%s.%s", id, files[i].name, ext ? ext : "txt");
		if ((rc = bag_file(g, rel, buf, len)) < 0)
			goto out;
		json_object_set_new(fl, files[i].role, json_string(rel + 5));
		free(buf);
		buf = NULL;
	}
	out = json_pack("{s:s,s:s,s:O,s:O,s:o,s:O}", "id", id, "state", state, "metadata", meta,
	                "objects", objs, "files", fl, "actions", acts);
	fl = NULL;
	text = out ? json_dumps(out, JSON_INDENT(1) | JSON_SORT_KEYS) : NULL;
	if (!text) {
		rc = SECMX_ENOMEM;
		goto out;
	}
	len = strlen(text);
	text[len] = '\0';
	snprintf(rel, sizeof(rel), "data/%s/metadata.json", id);
	{
		char *t2 = malloc(len + 2);

		if (!t2) {
			rc = SECMX_ENOMEM;
			goto out;
		}
		memcpy(t2, text, len);
		t2[len] = '\n';
		rc = bag_file(g, rel, t2, len + 1);
		free(t2);
	}
	if (rc == 0)
		json_array_append_new(index,
		                      json_pack("{s:s,s:s,s:s}", "id", id, "state", state, "title",
		                                json_string_value(json_object_get(meta, "title"))));
out:
	free(buf);
	free(text);
	json_decref(fl);
	json_decref(out);
	json_decref(acts);
	return rc;
}

/* valid_day: YYYY-MM-DD. */
static int valid_day(const char *s)
{
	time_t t;

	return s && strlen(s) == 10 && records_parse_time(s, &t) == 0;
}

/* records_export: see records.h and the header comment. */
int records_export(struct records *r, const struct records_select *sel, const char *outdir,
                   const char *organisation, const char *actor, char *err, size_t errlen)
{
	sqlite3 *db = records__db(r);
	sqlite3_stmt *st = NULL;
	struct bag g;
	struct sbuf tags = {0}, info = {0};
	json_t *index = json_array(), *ids = json_array(), *v, *d = NULL, *summary = NULL;
	char now[32], ext_id[96], org[512], hh[65], path[4096], sel_text[600];
	char *text = NULL;
	long long hseq = 0;
	size_t i;
	struct stat sb;
	int rc = SECMX_EIO, began = 0;

	memset(&g, 0, sizeof(g));
	if (!sel->txn && (!valid_day(sel->from) || !valid_day(sel->to))) {
		secmx_errf(err, errlen,
		           "export needs --from DATE --to DATE (YYYY-MM-DD) or --txn KEY");
		rc = SECMX_EINVAL;
		goto out;
	}
	if (!sel->txn && strcmp(sel->from, sel->to) > 0) {
		secmx_errf(err, errlen, "--from %s is after --to %s: no day selected", sel->from,
		           sel->to);
		rc = SECMX_EINVAL;
		goto out;
	}
	if (stat(outdir, &sb) == 0) {
		secmx_errf(err, errlen, "%s exists: an export writes a new directory", outdir);
		goto out;
	}
	if (snprintf(g.root, sizeof(g.root), "%s.part", outdir) >= (int)sizeof(g.root)) {
		rc = SECMX_ELIMIT;
		goto out;
	}
	if (sel->txn) {
		if (sqlite3_prepare_v2(db,
		                       "SELECT id, state FROM records WHERE transaction_id = ?"
		                       " ORDER BY seq",
		                       -1, &st, NULL) != SQLITE_OK) {
			rc = db_fail(db, err, errlen);
			goto out;
		}
		sqlite3_bind_text(st, 1, sel->txn, -1, SQLITE_STATIC);
		snprintf(sel_text, sizeof(sel_text), "Records of business transaction %s",
		         sel->txn);
	} else {
		if (sqlite3_prepare_v2(
		        db,
		        "SELECT id, state FROM records WHERE substr(received_at, 1, 10)"
		        " BETWEEN ? AND ? ORDER BY seq",
		        -1, &st, NULL) != SQLITE_OK) {
			rc = db_fail(db, err, errlen);
			goto out;
		}
		sqlite3_bind_text(st, 1, sel->from, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, sel->to, -1, SQLITE_STATIC);
		snprintf(sel_text, sizeof(sel_text), "Records received from %s to %s", sel->from,
		         sel->to);
	}
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(ids, json_pack("[s,s]", sqlite3_column_text(st, 0),
		                                     sqlite3_column_text(st, 1)));
	sqlite3_finalize(st);
	st = NULL;
	if (json_array_size(ids) == 0) {
		secmx_errf(err, errlen, "no records selected");
		rc = SECMX_ENOTFOUND;
		goto out;
	}
	if (mkdir(g.root, 0750) != 0) {
		secmx_errf(err, errlen, "%s: %s", g.root, strerror(errno));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/data", g.root);
	if (mkdir(path, 0750) != 0)
		goto out;
	json_array_foreach(ids, i, v)
	{
		rc = export_record(r, &g, json_string_value(json_array_get(v, 0)),
		                   json_string_value(json_array_get(v, 1)), index);
		if (rc < 0) {
			secmx_errf(err, errlen, "record %s: %s",
			           json_string_value(json_array_get(v, 0)), secmx_strerror(rc));
			goto out;
		}
	}
	/* the head the bag was cut from, for the receiver to check against */
	if (sqlite3_prepare_v2(db, "SELECT seq, hash FROM head", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		hseq = sqlite3_column_int64(st, 0);
		snprintf(hh, sizeof(hh), "%s", (const char *)sqlite3_column_text(st, 1));
	} else {
		snprintf(hh, sizeof(hh), "none");
	}
	sqlite3_finalize(st);
	st = NULL;
	records__fmt_time(records__now(r), now);
	snprintf(ext_id, sizeof(ext_id), "secmx-records-export-%lld-%.4s%.2s%.2sT%.2s%.2s%.2sZ",
	         hseq, now, now + 5, now + 8, now + 11, now + 14, now + 17);
	one_line(organisation, org, sizeof(org));
	summary = json_pack("{s:s,s:s,s:s,s:s,s:{s:s?,s:s?,s:s?},s:{s:I,s:s},s:O}", "organisation",
	                    org, "external_identifier", ext_id, "exported_at", now, "software",
	                    RECORDS_SOFTWARE, "selection", "from", sel->txn ? NULL : sel->from,
	                    "to", sel->txn ? NULL : sel->to, "transaction", sel->txn, "chain_head",
	                    "seq", (json_int_t)hseq, "hash", hh, "records", index);
	text = summary ? json_dumps(summary, JSON_INDENT(1) | JSON_SORT_KEYS) : NULL;
	if (!text) {
		rc = SECMX_ENOMEM;
		goto out;
	}
	if ((rc = bag_file(&g, "data/export.json", text, strlen(text))) < 0)
		goto out;
	if ((rc = sb_add(&info,
	                 "Source-Organization: %s\n"
	                 "Bagging-Date: %.10s\n"
	                 "Payload-Oxum: %llu.%lu\n"
	                 "Bag-Count: 1 of 1\n"
	                 "External-Identifier: %s\n"
	                 "External-Description: %s, exported by %s\n"
	                 "Bag-Software-Agent: %s (secmx %s)\n"
	                 "Internal-Sender-Identifier: chain head %lld %s\n",
	                 org, now, g.octets, g.files, ext_id, sel_text, actor, RECORDS_SOFTWARE,
	                 SECMX_VERSION, hseq, hh)) < 0)
		goto out;
	if ((rc = tag_file(&g, &tags, "bagit.txt",
	                   "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")) < 0 ||
	    (rc = tag_file(&g, &tags, "bag-info.txt", info.p)) < 0 ||
	    (rc = tag_file(&g, &tags, "manifest-sha256.txt", g.manifest.p)) < 0 ||
	    (rc = tag_file(&g, NULL, "tagmanifest-sha256.txt", tags.p)) < 0)
		goto out;

	/* the export is an action in each record's life */
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		rc = db_fail(db, err, errlen);
		goto out;
	}
	began = 1;
	json_array_foreach(ids, i, v)
	{
		d = json_pack("{s:s,s:s}", "bag", ext_id, "selection", sel_text);
		if (!d) {
			rc = SECMX_ENOMEM;
			goto out;
		}
		if ((rc = records__append(r, json_string_value(json_array_get(v, 0)), "exported",
		                          actor, d, err, errlen)) < 0)
			goto out;
		json_decref(d);
		d = NULL;
	}
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		rc = db_fail(db, err, errlen);
		goto out;
	}
	began = 0;
	records__head_sync(r);
	if (rename(g.root, outdir) != 0) {
		secmx_errf(err, errlen, "rename %s: %s", g.root, strerror(errno));
		rc = SECMX_EIO;
		goto out;
	}
	rc = (int)json_array_size(ids);
out:
	if (began)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_finalize(st);
	json_decref(d);
	json_decref(index);
	json_decref(ids);
	json_decref(summary);
	free(text);
	free(g.manifest.p);
	free(tags.p);
	free(info.p);
	return rc;
}
