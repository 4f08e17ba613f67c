/*
 * dispose.c — records store: retention and disposal (records.h).
 *
 * Functions: records_dispose_approve, records_dispose_execute,
 * records_dispose_due.
 *
 * Rules: a record may be approved for disposal only when the current date
 * (records__now: the fake clock in tests) is on or after its retain_until
 * date, only once, and never after disposal; the approval is a chain entry
 * ("disposal-approved", by WHO, with the reason). Execution disposes of
 * every approved record that is (still) expired: in one SQLite transaction
 * per record it appends a "disposed" tombstone entry (the hashes of the
 * removed objects stay in the chain, in the "received" entry) and marks the
 * index row; after the commit it unlinks the content objects (original,
 * signed, report) unless another record that is not disposed shares the
 * same content. The envelope (metadata) is kept. A crash between commit and
 * unlink leaves objects behind: the next execute sweeps them.
 * Two-person rule (records_set_two_person, on by default): a record whose
 * latest "disposal-approved" entry has the executor as its actor (names
 * compared without regard to case and spacing) is left approved and
 * reported; the others are disposed of.
 *
 * Errors: SECMX_ENOTFOUND, SECMX_ESTATE (reason in ERR), SECMX_EIO.
 */
#include "records.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "common.h"

/* db_fail: the index's error into ERR; returns SECMX_EIO. */
static int db_fail(sqlite3 *db, char *err, size_t errlen)
{
	secmx_errf(err, errlen, "index: %s", sqlite3_errmsg(db));
	return SECMX_EIO;
}

/* today: the current UTC date "YYYY-MM-DD". */
static void today(const struct records *r, char buf[16])
{
	time_t t = records__now(r);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, 16, "%Y-%m-%d", &tm);
}

/* records_dispose_approve: see records.h. */
int records_dispose_approve(struct records *r, const char *id, const char *by, const char *reason,
                            char *err, size_t errlen)
{
	sqlite3 *db = records__db(r);
	sqlite3_stmt *st = NULL;
	char day[16], state[16] = "", until[16] = "";
	json_t *d = NULL;
	int rc = SECMX_EIO;

	if (!by || !*by || !reason || !*reason) {
		secmx_errf(err, errlen, "an approval needs --by WHO and --reason TEXT");
		return SECMX_EINVAL;
	}
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		rc = db_fail(db, err, errlen);
		goto out;
	}
	if (sqlite3_prepare_v2(db, "SELECT state, retain_until FROM records WHERE id = ?", -1, &st,
	                       NULL) != SQLITE_OK) {
		rc = db_fail(db, err, errlen);
		goto out;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		secmx_errf(err, errlen, "no record %s", id);
		rc = SECMX_ENOTFOUND;
		goto out;
	}
	snprintf(state, sizeof(state), "%s", (const char *)sqlite3_column_text(st, 0));
	snprintf(until, sizeof(until), "%s", (const char *)sqlite3_column_text(st, 1));
	sqlite3_finalize(st);
	st = NULL;
	today(r, day);
	rc = SECMX_ESTATE;
	if (strcmp(state, "kept") != 0) {
		secmx_errf(err, errlen, "record %s is already %s", id, state);
		goto out;
	}
	if (strcmp(day, until) < 0) {
		secmx_errf(err, errlen, "record %s must be kept until %s (today is %s)", id, until,
		           day);
		goto out;
	}
	d = json_pack("{s:s,s:s,s:s}", "reason", reason, "retain_until", until, "approved_on", day);
	if (!d) {
		rc = SECMX_ENOMEM;
		goto out;
	}
	if ((rc = records__append(r, id, "disposal-approved", by, d, err, errlen)) < 0)
		goto out;
	if (sqlite3_prepare_v2(db, "UPDATE records SET state = 'approved' WHERE id = ?", -1, &st,
	                       NULL) != SQLITE_OK) {
		rc = db_fail(db, err, errlen);
		goto out;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE ||
	    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		rc = db_fail(db, err, errlen);
		goto out;
	}
	sqlite3_finalize(st);
	json_decref(d);
	records__head_sync(r);
	return 0;
out:
	sqlite3_finalize(st);
	json_decref(d);
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/* shared: 1 if a record other than ID, not disposed, holds object HEX. */
static int shared(struct records *r, const char *id, const char *hex)
{
	sqlite3_stmt *st = NULL;
	char like[80];
	int n = 1; /* on error, keep the object */

	snprintf(like, sizeof(like), "%%%s%%", hex);
	if (sqlite3_prepare_v2(
	        records__db(r),
	        "SELECT COUNT(*) FROM entries e JOIN records c ON c.id = e.record_id"
	        " WHERE e.action = 'received' AND c.state != 'disposed' AND c.id != ?"
	        " AND e.detail LIKE ?",
	        -1, &st, NULL) != SQLITE_OK)
		return 1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, like, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0) > 0;
	sqlite3_finalize(st);
	return n;
}

/* content_objects: the received entry's objects of record ID (new ref). */
static json_t *content_objects(struct records *r, const char *id)
{
	sqlite3_stmt *st = NULL;
	json_t *d = NULL, *o = NULL;

	if (sqlite3_prepare_v2(
	        records__db(r),
	        "SELECT detail FROM entries WHERE record_id = ? AND action = 'received'", -1, &st,
	        NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		d = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
	sqlite3_finalize(st);
	o = json_incref(json_object_get(d, "objects"));
	json_decref(d);
	return o;
}

/* unlink_content: remove the content objects of disposed record ID. */
static void unlink_content(struct records *r, const char *id, json_t *objs)
{
	static const char *const roles[] = {"original", "signed", "report"};
	char path[4096];
	size_t i;

	for (i = 0; i < 3; i++) {
		const char *hex =
		    json_string_value(json_object_get(json_object_get(objs, roles[i]), "sha256"));

		if (!hex || shared(r, id, hex))
			continue;
		records__object_path(r, hex, path, sizeof(path));
		unlink(path); /* ENOENT: already gone (a second sweep) */
	}
}

/* dispose_one: the tombstone for approved record ID. */
static int dispose_one(struct records *r, const char *id, const char *by, char *err, size_t errlen)
{
	sqlite3 *db = records__db(r);
	sqlite3_stmt *st = NULL;
	json_t *objs = content_objects(r, id), *d = NULL, *removed;
	static const char *const roles[] = {"original", "signed", "report"};
	size_t i;
	int rc = SECMX_EIO, began = 0;

	if (!objs) {
		secmx_errf(err, errlen, "record %s has no received entry", id);
		return SECMX_ECORRUPT;
	}
	removed = json_object();
	for (i = 0; i < 3; i++) {
		json_t *o = json_object_get(objs, roles[i]);

		if (o)
			json_object_set(removed, roles[i], json_object_get(o, "sha256"));
	}
	d = json_pack("{s:o,s:s}", "removed", removed, "kept", "metadata, envelope, hashes");
	if (!d) {
		rc = SECMX_ENOMEM;
		goto out;
	}
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		rc = db_fail(db, err, errlen);
		goto out;
	}
	began = 1;
	if ((rc = records__append(r, id, "disposed", by, d, err, errlen)) < 0)
		goto out;
	if (sqlite3_prepare_v2(db,
	                       "UPDATE records SET state = 'disposed' WHERE id = ? AND"
	                       " state = 'approved'",
	                       -1, &st, NULL) != SQLITE_OK) {
		rc = db_fail(db, err, errlen);
		goto out;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE || sqlite3_changes(db) != 1 ||
	    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		rc = db_fail(db, err, errlen);
		goto out;
	}
	began = 0;
	records__head_sync(r);
	unlink_content(r, id, objs); /* after the commit: see the header comment */
	rc = 0;
out:
	if (began)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_finalize(st);
	json_decref(d);
	json_decref(objs);
	return rc;
}

/* same_person: do names A and B (as given to --by) name the same person?
 * Compared without regard to ASCII case, leading and trailing blanks, or
 * how many blanks separate the words ("J. Smith" and " j.  SMITH " are
 * one person), so that the two-person rule is not passed by retyping. */
static int same_person(const char *a, const char *b)
{
	for (;;) {
		while (*a == ' ' || *a == '\t')
			a++;
		while (*b == ' ' || *b == '\t')
			b++;
		if (*a == '\0' || *b == '\0')
			return *a == *b;
		while (*a && *a != ' ' && *a != '\t' && *b && *b != ' ' && *b != '\t') {
			if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
				return 0;
			a++;
			b++;
		}
		/* both words must end here */
		if ((*a && *a != ' ' && *a != '\t') || (*b && *b != ' ' && *b != '\t'))
			return 0;
	}
}

/* approver: the actor of record ID's latest disposal approval into BUF;
 * 0, or SECMX_EIO. */
static int approver(struct records *r, const char *id, char *buf, size_t len)
{
	sqlite3_stmt *st = NULL;
	int rc = SECMX_EIO;

	buf[0] = '\0';
	if (sqlite3_prepare_v2(records__db(r),
	                       "SELECT actor FROM entries WHERE record_id = ? AND"
	                       " action = 'disposal-approved' ORDER BY seq DESC LIMIT 1",
	                       -1, &st, NULL) != SQLITE_OK)
		return SECMX_EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(buf, len, "%s", (const char *)sqlite3_column_text(st, 0));
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

/* collect: the ids returned by SQL (one text parameter: today), as a JSON array. */
static json_t *collect(struct records *r, const char *sql, const char *day)
{
	sqlite3_stmt *st = NULL;
	json_t *a = json_array();

	if (!a || sqlite3_prepare_v2(records__db(r), sql, -1, &st, NULL) != SQLITE_OK) {
		json_decref(a);
		return NULL;
	}
	sqlite3_bind_text(st, 1, day, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(a, json_string((const char *)sqlite3_column_text(st, 0)));
	sqlite3_finalize(st);
	return a;
}

/* records_dispose_execute: see records.h. */
int records_dispose_execute(struct records *r, const char *by, FILE *out, char *err, size_t errlen)
{
	char day[16];
	json_t *ids, *v;
	size_t i;
	int n = 0, refused = 0, rc = 0;

	if (!by || !*by) {
		secmx_errf(err, errlen, "disposal needs --by WHO");
		return SECMX_EINVAL;
	}
	today(r, day);
	/* sweep what an interrupted earlier execution left behind */
	ids = collect(r, "SELECT id FROM records WHERE state = 'disposed' AND ? IS NOT NULL", day);
	json_array_foreach(ids, i, v)
	{
		json_t *objs = content_objects(r, json_string_value(v));

		unlink_content(r, json_string_value(v), objs);
		json_decref(objs);
	}
	json_decref(ids);
	ids = collect(r,
	              "SELECT id FROM records WHERE state = 'approved' AND retain_until <= ?"
	              " ORDER BY seq",
	              day);
	if (!ids)
		return SECMX_EIO;
	json_array_foreach(ids, i, v)
	{
		const char *id = json_string_value(v);
		char who[512];

		if (records__two_person(r)) {
			if ((rc = approver(r, id, who, sizeof(who))) < 0) {
				secmx_errf(err, errlen, "record %s: its approval cannot be read", id);
				break;
			}
			if (same_person(who, by)) {
				refused++;
				if (out)
					fprintf(out, "refused %s: approved by %s, who may not also "
					             "dispose of it (two-person rule)\n",
					        id, who);
				continue;
			}
		}
		if ((rc = dispose_one(r, id, by, err, errlen)) < 0)
			break;
		n++;
		if (out)
			fprintf(out, "disposed %s\n", id);
	}
	json_decref(ids);
	if (rc >= 0 && refused > 0) {
		secmx_errf(err, errlen,
		           "%d approved record(s) left: approved by %s, who may not also dispose of "
		           "them (records.disposal_two_person); another person must run --execute",
		           refused, by);
		return SECMX_ESTATE;
	}
	return rc < 0 ? rc : n;
}

/* records_dispose_due: records past retention and not disposed. */
int records_dispose_due(struct records *r, FILE *out)
{
	sqlite3_stmt *st = NULL;
	char day[16];
	int n = 0;

	today(r, day);
	if (sqlite3_prepare_v2(records__db(r),
	                       "SELECT id, state, retain_until, title FROM records WHERE"
	                       " state != 'disposed' AND retain_until <= ? ORDER BY seq",
	                       -1, &st, NULL) != SQLITE_OK)
		return SECMX_EIO;
	sqlite3_bind_text(st, 1, day, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		n++;
		fprintf(out, "%s  %-8s  expired %s  %s\n", sqlite3_column_text(st, 0),
		        sqlite3_column_text(st, 1), sqlite3_column_text(st, 2),
		        sqlite3_column_text(st, 3));
	}
	sqlite3_finalize(st);
	return n;
}
