/*
 * store.c — records store: objects, index, chain, ingest (records.h).
 *
 * Functions: records_open/close/set_now/set_fail/set_retention,
 * records_parse_time, records_ingest, records_batch_begin/commit/rollback,
 * records_set_flush_hook, records_set_sync, records_kernel_at_least,
 * records_set_two_person, and the records__* helpers used by
 * verify.c, export.c and dispose.c.
 *
 * Layout of a store directory:
 *   objects/ab/cdef...   one file per distinct content, named by its SHA-256
 *                        (2 hex digits of directory, 62 of file name);
 *                        written to a temp file, fsynced, renamed, and the
 *                        directory fsynced, so a crash leaves the object
 *                        whole or absent (a stray .tmp-* at worst).
 *   index.db             SQLite (WAL, synchronous=FULL): entries (the chain),
 *                        records (one row per record, a query index checked
 *                        against the chain by verify), head, info.
 *   chain.head           "SEQ HASH\n" of the last entry, rewritten after
 *                        each commit: an anchor outside the database, so
 *                        cutting entries off the end is detected.
 *
 * Chain: entry hash = SHA-256 of the length-prefixed fields
 * ("LEN:BYTES\n" each) "secmx-records-chain-v1", seq, record_id, action,
 * actor, at, detail (canonical JSON: sorted keys, compact), prev_hash
 * (64 zeros for the first entry). A "received" entry's detail holds the
 * record's metadata and the SHA-256 and size of each object.
 *
 * Batches (records_batch_begin/commit/rollback, secmx-records' bursts): the
 * burst's ingests share one index transaction (each under a savepoint, so
 * a failed one leaves the others), and their new objects are temp files
 * until the commit: fsync each, rename each to its name, fsync each object
 * directory touched once (or, with RECORDS_SYNC_FILESYSTEM, one syncfs
 * before the renames and one after), COMMIT the index once, then rewrite
 * chain.head.
 * A crash before the renames leaves temp files; between the renames and
 * the commit, whole unreferenced objects (a redelivery reuses them); after
 * the commit, a lagging chain.head. The chain stays one chain in order: the
 * entries of a burst are appended in delivery order inside the transaction.
 *
 * Errors: SECMX_E*; reasons in ERR. Ownership: struct records owns its
 * sqlite handle and strings; every json_t here is freed before return.
 */
#define _GNU_SOURCE
#include "records.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/evp.h>
#include <sqlite3.h>

#include "common.h"

#define MAX_RET 64

struct retention {
	char pattern[129];
	int years;
};

/* An object of the open batch: written to TMP, not yet fsynced or renamed. */
struct pending_obj {
	char hex[65];
	char *tmp; /* malloc()ed path of the temp file */
};

struct records {
	char *dir;
	sqlite3 *db;
	time_t now;
	enum records_fail fail;
	struct retention ret[MAX_RET];
	size_t nret;
	int batch;                /* records_batch_begin opened a transaction */
	struct pending_obj *pend; /* the batch's new objects */
	size_t npend, cappend;
	enum records_sync sync;   /* how records_batch_commit makes objects durable */
	int syncfs_fd;            /* the store directory, open while sync is
	                             RECORDS_SYNC_FILESYSTEM (records_set_sync) */
	int two_person;           /* disposal: the approver may not execute (default 1) */
	records_flush_hook hook; /* test hook in records_batch_commit */
	void *hook_arg;
};

/* The index schema (created if missing; see the header comment). */
static const char schema_sql[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=FULL;"
    "CREATE TABLE IF NOT EXISTS entries(seq INTEGER PRIMARY KEY, record_id TEXT NOT NULL,"
    " action TEXT NOT NULL, actor TEXT NOT NULL, at TEXT NOT NULL, detail TEXT NOT NULL,"
    " prev_hash TEXT NOT NULL, hash TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS entries_record ON entries(record_id);"
    "CREATE TABLE IF NOT EXISTS records(id TEXT PRIMARY KEY, idem_key TEXT NOT NULL UNIQUE,"
    " seq INTEGER NOT NULL, title TEXT NOT NULL, document_type TEXT NOT NULL,"
    " sender TEXT NOT NULL, transaction_id TEXT NOT NULL, received_at TEXT NOT NULL,"
    " retain_until TEXT NOT NULL, state TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS records_received ON records(received_at);"
    "CREATE INDEX IF NOT EXISTS records_txn ON records(transaction_id);"
    "CREATE TABLE IF NOT EXISTS head(one INTEGER PRIMARY KEY CHECK(one = 1),"
    " seq INTEGER NOT NULL, hash TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS info(key TEXT PRIMARY KEY, value TEXT NOT NULL);";

/* db_fail: the index's error into ERR; returns SECMX_EIO. */
static int db_fail(sqlite3 *db, char *err, size_t errlen)
{
	secmx_errf(err, errlen, "index: %s", sqlite3_errmsg(db));
	return SECMX_EIO;
}

/* io_fail: an object store error RC (errno set) into ERR; returns RC. */
static int io_fail(const struct records *r, int rc, char *err, size_t errlen)
{
	secmx_errf(err, errlen, "object store %s/objects: %s", r->dir, strerror(errno));
	return rc;
}

/* records__db: the index handle. */
sqlite3 *records__db(struct records *r)
{
	return r->db;
}

/* records_set_two_person: the two-person rule of disposal (records.h). */
void records_set_two_person(struct records *r, int on)
{
	r->two_person = on != 0;
}

/* records__two_person: is the two-person rule in force? */
int records__two_person(const struct records *r)
{
	return r->two_person;
}

/* records__now: the fake clock if set, else time(). */
time_t records__now(const struct records *r)
{
	return r->now ? r->now : time(NULL);
}

/* records_set_now: set or clear the fake clock. */
void records_set_now(struct records *r, time_t now)
{
	r->now = now;
}

/* records_set_fail: arm the ingest failure hook. */
void records_set_fail(struct records *r, enum records_fail f)
{
	r->fail = f;
}

/* records__fmt_time: RFC 3339 UTC, seconds. */
void records__fmt_time(time_t t, char buf[32])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* records_parse_time: a date (midnight UTC) or RFC 3339 UTC time. The
 * date must be a calendar day: strptime takes 2026-02-30 and timegm would
 * quietly make it 2026-03-02. */
int records_parse_time(const char *s, time_t *t)
{
	struct tm tm, day;
	const char *p;
	time_t midnight;

	memset(&tm, 0, sizeof(tm));
	if (!s || strlen(s) < 10)
		return SECMX_EPARSE;
	p = strptime(s, "%Y-%m-%d", &tm);
	if (!p || p != s + 10)
		return SECMX_EPARSE;
	day = tm;
	midnight = timegm(&day);
	if (gmtime_r(&midnight, &day) == NULL || day.tm_year != tm.tm_year ||
	    day.tm_mon != tm.tm_mon || day.tm_mday != tm.tm_mday)
		return SECMX_EPARSE;
	if (*p == 'T') {
		p = strptime(p + 1, "%H:%M:%S", &tm);
		if (!p)
			return SECMX_EPARSE;
		if (*p == '.')
			for (p++; *p >= '0' && *p <= '9'; p++)
				;
		if (strcmp(p, "Z") != 0)
			return SECMX_EPARSE;
	} else if (*p) {
		return SECMX_EPARSE;
	}
	*t = timegm(&tm);
	return 0;
}

/* records__sha256_hex: hex SHA-256 of BUF. */
void records__sha256_hex(const void *buf, size_t len, char hex[65])
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	int i;

	EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	hex[64] = '\0';
}

/* write_tmp: BUF into a new temp file in DIR (mode 0640; fsynced when
 * SYNC); its path into *OUT (malloc()ed). 0 or SECMX_EIO/ENOMEM (errno set). */
static int write_tmp(const char *dir, const void *buf, size_t len, int sync, char **out)
{
	char tmp[4096];
	const unsigned char *p = buf;
	int fd, rc = SECMX_EIO;
	ssize_t n;

	*out = NULL;
	if (snprintf(tmp, sizeof(tmp), "%s/.tmp-XXXXXX", dir) >= (int)sizeof(tmp))
		return SECMX_ELIMIT;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return SECMX_EIO;
	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto out;
		p += n;
		len -= (size_t)n;
	}
	if (fchmod(fd, 0640) != 0 || (sync && fsync(fd) != 0))
		goto out;
	rc = (*out = strdup(tmp)) ? 0 : SECMX_ENOMEM;
out:
	if (close(fd) != 0 && rc == 0) {
		free(*out);
		*out = NULL;
		rc = SECMX_EIO;
	}
	if (rc < 0)
		unlink(tmp);
	return rc;
}

/* records__write_atomic: temp file in PATH's directory, fsync, rename, fsync dir. */
int records__write_atomic(const char *path, const void *buf, size_t len)
{
	char dir[4096], *tmp = NULL, *slash;
	int rc;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return SECMX_ELIMIT;
	slash = strrchr(dir, '/');
	if (!slash)
		return SECMX_EINVAL;
	*slash = '\0';
	if ((rc = write_tmp(dir, buf, len, 1, &tmp)) < 0)
		return rc;
	if (rename(tmp, path) != 0) {
		unlink(tmp);
		rc = SECMX_EIO;
	} else {
		rc = secmx_fsync_dir(dir);
	}
	free(tmp);
	return rc;
}

/* records__object_path: objects/ab/cdef... under the store. */
void records__object_path(const struct records *r, const char *hex, char *buf, size_t len)
{
	snprintf(buf, len, "%s/objects/%.2s/%s", r->dir, hex, hex + 2);
}

/* mkdir_durable: create DIR if missing, and fsync its parent PARENT. */
static int mkdir_durable(const char *dir, const char *parent)
{
	if (mkdir(dir, 0750) == 0)
		return secmx_fsync_dir(parent);
	return errno == EEXIST ? 0 : SECMX_EIO;
}

/* object_put: store BUF under its SHA-256 (HEX out); an existing object is
 * kept. Outside a batch the object is durable on return; inside one it is
 * a temp file made durable and renamed by records_batch_commit (so no
 * object ever has its final name before its bytes are on disk). */
static int object_put(struct records *r, const void *buf, size_t len, char hex[65])
{
	char path[4096], sub[2100], objs[2048];
	struct pending_obj *po;
	struct stat st;
	size_t i;
	int rc;

	records__sha256_hex(buf, len, hex);
	for (i = 0; i < r->npend; i++)
		if (strcmp(r->pend[i].hex, hex) == 0)
			return 0; /* the same bytes earlier in this batch */
	snprintf(objs, sizeof(objs), "%s/objects", r->dir);
	snprintf(sub, sizeof(sub), "%s/%.2s", objs, hex);
	if ((rc = mkdir_durable(sub, objs)) < 0)
		return rc;
	records__object_path(r, hex, path, sizeof(path));
	if (stat(path, &st) == 0)
		return 0; /* content-addressed: the same bytes are already there */
	if (!r->batch)
		return records__write_atomic(path, buf, len);
	if (r->npend == r->cappend) {
		size_t cap = r->cappend ? 2 * r->cappend : 64;

		if (!(po = realloc(r->pend, cap * sizeof(*po))))
			return SECMX_ENOMEM;
		r->pend = po;
		r->cappend = cap;
	}
	po = &r->pend[r->npend];
	if ((rc = write_tmp(sub, buf, len, 0, &po->tmp)) < 0)
		return rc;
	memcpy(po->hex, hex, 65);
	r->npend++;
	return 0;
}

/* pending_drop: forget the batch's objects, removing their temp files
 * when UNLINK (after a rename the temp path is gone anyway). */
static void pending_drop(struct records *r, int unlink_tmp)
{
	size_t i;

	for (i = 0; i < r->npend; i++) {
		if (unlink_tmp)
			unlink(r->pend[i].tmp);
		free(r->pend[i].tmp);
	}
	r->npend = 0;
}

/* store_syncfs: syncfs(2) of the file system holding the store, for
 * RECORDS_SYNC_FILESYSTEM, through the descriptor opened by
 * records_set_sync: syncfs reports a write-back error that happened since
 * its descriptor was opened (Linux 5.8+), so a descriptor opened before the
 * burst's files were written also sees an error of a write-back that ran
 * earlier by itself. 0 or SECMX_EIO (errno set). */
static int store_syncfs(const struct records *r)
{
	return syncfs(r->syncfs_fd) == 0 ? 0 : SECMX_EIO;
}

/* pending_durable: make each pending temp file durable, rename it to its
 * object name, then make the renames durable: per file and per object
 * directory touched (RECORDS_SYNC_FILES), or by one syncfs before the
 * renames and one after (RECORDS_SYNC_FILESYSTEM). 0 or SECMX_EIO. */
static int pending_durable(struct records *r)
{
	unsigned char touched[256] = {0};
	char path[4096], sub[2100];
	int fs = r->sync == RECORDS_SYNC_FILESYSTEM;
	size_t i;
	int fd, rc, k;

	if (r->npend == 0)
		return 0;
	if (fs && (rc = store_syncfs(r)) < 0)
		return rc;
	for (i = 0; !fs && i < r->npend; i++) {
		fd = open(r->pend[i].tmp, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return SECMX_EIO;
		rc = fsync(fd);
		close(fd);
		if (rc != 0)
			return SECMX_EIO;
	}
	for (i = 0; i < r->npend; i++) {
		records__object_path(r, r->pend[i].hex, path, sizeof(path));
		if (rename(r->pend[i].tmp, path) != 0)
			return SECMX_EIO;
		r->pend[i].tmp[0] = '\0'; /* renamed: nothing to unlink */
		k = (int)strtol((char[3]){r->pend[i].hex[0], r->pend[i].hex[1], '\0'}, NULL, 16);
		touched[k] = 1;
	}
	if (fs)
		return store_syncfs(r);
	for (k = 0; k < 256; k++) {
		if (!touched[k])
			continue;
		snprintf(sub, sizeof(sub), "%s/objects/%02x", r->dir, k);
		if ((rc = secmx_fsync_dir(sub)) < 0)
			return rc;
	}
	return 0;
}

/* records_kernel_at_least: RELEASE (NULL: uname's) >= MAJOR.MINOR. */
int records_kernel_at_least(const char *release, int major, int minor)
{
	struct utsname u;
	char *end;
	long maj, min = 0;

	if (release == NULL) {
		if (uname(&u) != 0)
			return 0;
		release = u.release;
	}
	maj = strtol(release, &end, 10);
	if (end == release)
		return 0;
	if (*end == '.')
		min = strtol(end + 1, NULL, 10);
	return maj > major || (maj == major && min >= minor);
}

/* records_set_sync: choose how bursts are made durable (records.h). */
int records_set_sync(struct records *r, enum records_sync s, char *err, size_t errlen)
{
	if (s == RECORDS_SYNC_FILESYSTEM && !records_kernel_at_least(NULL, 5, 8)) {
		secmx_errf(err, errlen,
		           "sync = filesystem needs Linux 5.8 or later (an older syncfs does not "
		           "report write-back errors); use sync = files");
		return SECMX_EINVAL;
	}
	if (s != RECORDS_SYNC_FILES && s != RECORDS_SYNC_FILESYSTEM) {
		secmx_errf(err, errlen, "unknown sync mode %d", (int)s);
		return SECMX_EINVAL;
	}
	if (s == RECORDS_SYNC_FILESYSTEM && r->sync != s) {
		int fd = open(r->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (fd < 0) {
			secmx_errf(err, errlen, "%s: %s", r->dir, strerror(errno));
			return SECMX_EIO;
		}
		r->syncfs_fd = fd;
	} else if (s == RECORDS_SYNC_FILES && r->sync != s) {
		close(r->syncfs_fd);
	}
	r->sync = s;
	return 0;
}

/* records_set_flush_hook: the test hook of records_batch_commit. */
void records_set_flush_hook(struct records *r, records_flush_hook hook, void *arg)
{
	r->hook = hook;
	r->hook_arg = arg;
}

/* records_batch_begin: open the burst's index transaction. */
int records_batch_begin(struct records *r, char *err, size_t errlen)
{
	if (r->batch)
		return 0;
	if (sqlite3_exec(r->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(r->db, err, errlen);
	r->batch = 1;
	return 0;
}

/* records_batch_rollback: drop the batch: index rows and temp files. */
void records_batch_rollback(struct records *r)
{
	if (!r || !r->batch)
		return;
	if (!sqlite3_get_autocommit(r->db))
		sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
	pending_drop(r, 1);
	r->batch = 0;
}

/* records_batch_commit: objects durable, then one index commit, then
 * chain.head. On failure everything of the batch is rolled back (objects
 * already renamed stay: whole, content-addressed, unreferenced). */
int records_batch_commit(struct records *r, char *err, size_t errlen)
{
	int rc;

	if (!r->batch)
		return 0;
	if (sqlite3_get_autocommit(r->db)) {
		/* SQLite rolled the transaction back by itself (I/O error, full). */
		secmx_errf(err, errlen, "index: the batch's transaction was lost");
		rc = SECMX_EIO;
		goto fail;
	}
	if ((rc = pending_durable(r)) < 0) {
		rc = io_fail(r, rc, err, errlen);
		goto fail;
	}
	if (r->hook && r->hook(r->hook_arg, RECORDS_FLUSH_FILES_DURABLE) != 0) {
		secmx_errf(err, errlen, "test hook: failing before the index commit");
		rc = SECMX_EIO;
		goto fail;
	}
	if (sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		rc = db_fail(r->db, err, errlen);
		goto fail;
	}
	pending_drop(r, 0);
	r->batch = 0;
	if (r->hook)
		(void)r->hook(r->hook_arg, RECORDS_FLUSH_COMMITTED);
	records__head_sync(r); /* a crash before it: chain.head lags (verify notes it) */
	return 0;
fail:
	records_batch_rollback(r);
	return rc;
}

static int head_get(struct records *r, long long *seq, char hash[65]);

/* records_open: create/open the store and its schema. */
int records_open(const char *dir, int create, struct records **out, char *err, size_t errlen)
{
	struct records *r = NULL;
	char path[4096];
	char *emsg = NULL;
	int rc = SECMX_EIO;

	*out = NULL;
	if (strlen(dir) > 1024) {
		secmx_errf(err, errlen, "store directory name longer than 1024 bytes");
		return SECMX_ELIMIT;
	}
	r = calloc(1, sizeof(*r));
	if (!r || !(r->dir = strdup(dir))) {
		rc = SECMX_ENOMEM;
		goto fail;
	}
	r->two_person = 1; /* records_set_two_person */
	if (create && mkdir(dir, 0750) != 0 && errno != EEXIST) {
		secmx_errf(err, errlen, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/objects", dir);
	if (create && mkdir(path, 0750) != 0 && errno != EEXIST) {
		secmx_errf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (access(path, F_OK) != 0) {
		secmx_errf(err, errlen, "%s: not a records store (no objects/)", dir);
		rc = SECMX_ENOTFOUND;
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/index.db", dir);
	if (sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0),
	                    NULL) != SQLITE_OK) {
		secmx_errf(err, errlen, "%s: %s", path, r->db ? sqlite3_errmsg(r->db) : "open");
		goto fail;
	}
	sqlite3_busy_timeout(r->db, 10000);
	if (sqlite3_exec(r->db, schema_sql, NULL, NULL, &emsg) != SQLITE_OK) {
		secmx_errf(err, errlen, "%s: %s", path, emsg ? emsg : "schema");
		sqlite3_free(emsg);
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/chain.head", dir);
	if (create && access(path, F_OK) != 0 && errno == ENOENT) {
		long long seq;
		char hash[65];

		/* A new store: chain.head "0 000..." now, so that a crash after
		 * the first commit and before the first rewrite leaves a lagging
		 * head, not a missing one. Never rewritten here for a store with
		 * entries (that would hide entries cut off the end). */
		if (head_get(r, &seq, hash) == 0 && seq == 0 && (rc = records__head_sync(r)) < 0) {
			secmx_errf(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		rc = SECMX_EIO;
	}
	*out = r;
	return 0;
fail:
	records_close(r);
	return rc;
}

/* records_close: close (an open batch is rolled back) and free. */
void records_close(struct records *r)
{
	if (!r)
		return;
	records_batch_rollback(r);
	free(r->pend);
	if (r->sync == RECORDS_SYNC_FILESYSTEM)
		close(r->syncfs_fd);
	if (r->db)
		sqlite3_close(r->db);
	free(r->dir);
	free(r);
}

/* parse_class: one "PATTERN=Ny" item into *OUT; 0 or SECMX_ECONFIG. */
static int parse_class(const char *item, struct retention *out)
{
	const char *eq = strrchr(item, '=');
	char *end;
	long y;

	if (!eq || eq == item || (size_t)(eq - item) > 128)
		return SECMX_ECONFIG;
	y = strtol(eq + 1, &end, 10);
	if (end == eq + 1 || strcmp(end, "y") != 0 || y < 1 || y > 200)
		return SECMX_ECONFIG;
	snprintf(out->pattern, sizeof(out->pattern), "%.*s", (int)(eq - item), item);
	if (!bus_pattern_ok(out->pattern))
		return SECMX_ECONFIG;
	out->years = (int)y;
	return 0;
}

/* records_set_retention: parse "PATTERN=Ny" items; all or nothing. */
int records_set_retention(struct records *r, const char *const *items, size_t n, char *err,
                          size_t errlen)
{
	struct retention tmp[MAX_RET];
	size_t i;

	if (n > MAX_RET) {
		secmx_errf(err, errlen, "more than %d retention classes", MAX_RET);
		return SECMX_ECONFIG;
	}
	for (i = 0; i < n; i++) {
		if (parse_class(items[i], &tmp[i]) < 0) {
			secmx_errf(err, errlen,
			           "retention class \"%s\": want PATTERN=Ny (N 1..200)", items[i]);
			return SECMX_ECONFIG;
		}
	}
	memcpy(r->ret, tmp, n * sizeof(tmp[0]));
	r->nret = n;
	return 0;
}

/* retention_for: the class pattern and RETAIN_UNTIL date for TYPE received at T. */
static void retention_for(const struct records *r, const char *type, time_t t, char *cls,
                          size_t clslen, char until[16])
{
	struct tm tm;
	size_t i;

	for (i = 0; i < r->nret; i++)
		if (bus_pattern_match(r->ret[i].pattern, type))
			break;
	if (i == r->nret) {
		snprintf(cls, clslen, "permanent");
		snprintf(until, 16, "9999-12-31");
		return;
	}
	snprintf(cls, clslen, "%s=%dy", r->ret[i].pattern, r->ret[i].years);
	gmtime_r(&t, &tm);
	tm.tm_year += r->ret[i].years;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	t = timegm(&tm); /* 29 February + N years normalises to 1 March */
	gmtime_r(&t, &tm);
	strftime(until, 16, "%Y-%m-%d", &tm);
}

/* hash_field: feed "LEN:BYTES\n" into CTX. */
static void hash_field(EVP_MD_CTX *ctx, const char *s)
{
	char len[32];

	snprintf(len, sizeof(len), "%zu:", strlen(s));
	EVP_DigestUpdate(ctx, len, strlen(len));
	EVP_DigestUpdate(ctx, s, strlen(s));
	EVP_DigestUpdate(ctx, "\n", 1);
}

/* records__entry_hash: the chain hash of one entry into HEX. */
void records__entry_hash(long long seq, const char *record_id, const char *action,
                         const char *actor, const char *at, const char *detail, const char *prev,
                         char hex[65])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char md[32];
	unsigned int mdlen = 0;
	char s[32];
	int i;

	if (!ctx)
		abort(); /* XXX: out of memory in OpenSSL; nothing sane to return */
	snprintf(s, sizeof(s), "%lld", seq);
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	hash_field(ctx, "secmx-records-chain-v1");
	hash_field(ctx, s);
	hash_field(ctx, record_id);
	hash_field(ctx, action);
	hash_field(ctx, actor);
	hash_field(ctx, at);
	hash_field(ctx, detail);
	hash_field(ctx, prev);
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	hex[64] = '\0';
}

/* head_get: the head (seq 0 and zeros when empty). */
static int head_get(struct records *r, long long *seq, char hash[65])
{
	sqlite3_stmt *st = NULL;
	int rc;

	*seq = 0;
	memset(hash, '0', 64);
	hash[64] = '\0';
	if (sqlite3_prepare_v2(r->db, "SELECT seq, hash FROM head WHERE one = 1", -1, &st, NULL) !=
	    SQLITE_OK)
		return SECMX_EIO;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*seq = sqlite3_column_int64(st, 0);
		snprintf(hash, 65, "%s", (const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : SECMX_EIO;
}

/* records__append: hash and insert one entry after the head; move the head. */
int records__append(struct records *r, const char *record_id, const char *action, const char *actor,
                    json_t *detail, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	char prev[65], hash[65], at[32];
	char *text = NULL;
	long long seq;
	int rc = SECMX_EIO;

	if ((rc = head_get(r, &seq, prev)) < 0)
		goto out;
	rc = SECMX_EIO;
	seq++;
	records__fmt_time(records__now(r), at);
	text = json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS);
	if (!text) {
		rc = SECMX_ENOMEM;
		goto out;
	}
	records__entry_hash(seq, record_id, action, actor, at, text, prev, hash);
	if (sqlite3_prepare_v2(r->db,
	                       "INSERT INTO entries(seq, record_id, action, actor, at, detail,"
	                       " prev_hash, hash) VALUES(?,?,?,?,?,?,?,?)",
	                       -1, &st, NULL) != SQLITE_OK) {
		rc = db_fail(r->db, err, errlen);
		goto out;
	}
	sqlite3_bind_int64(st, 1, seq);
	sqlite3_bind_text(st, 2, record_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, at, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, text, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, prev, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, hash, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = db_fail(r->db, err, errlen);
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(r->db,
	                       "INSERT INTO head(one, seq, hash) VALUES(1, ?, ?) ON CONFLICT(one)"
	                       " DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
	                       -1, &st, NULL) != SQLITE_OK) {
		rc = db_fail(r->db, err, errlen);
		goto out;
	}
	sqlite3_bind_int64(st, 1, seq);
	sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = db_fail(r->db, err, errlen);
		goto out;
	}
	rc = (int)seq;
out:
	sqlite3_finalize(st);
	free(text);
	return rc;
}

/* records__head_sync: chain.head := the index's head (atomically). */
int records__head_sync(struct records *r)
{
	char hash[65], path[4096], line[128];
	long long seq;
	int rc;

	if ((rc = head_get(r, &seq, hash)) < 0)
		return rc;
	snprintf(path, sizeof(path), "%s/chain.head", r->dir);
	snprintf(line, sizeof(line), "%lld %s\n", seq, hash);
	return records__write_atomic(path, line, strlen(line));
}

/* str_or: a JSON string member of O or DEF. */
static const char *str_or(json_t *o, const char *key, const char *def)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : def;
}

/* child_text: text of the first direct child of ROOT named NAME (any ns), or NULL. */
static char *child_text(xmlNode *root, const char *name)
{
	xmlNode *n;

	for (n = root ? root->children : NULL; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0)
			return (char *)xmlNodeGetContent(n);
	return NULL;
}

/* doc_facts: the document's own id, issue date and supplier name, where
 * parseable (no network, no entities, no DTD). Missing facts stay "". */
static void doc_facts(const void *doc, size_t len, char *id, size_t idlen, char *date,
                      size_t datelen, char *root_name, size_t rootlen)
{
	xmlDoc *x;
	xmlNode *root;
	char *s;

	id[0] = date[0] = root_name[0] = '\0';
	if (len > INT32_MAX)
		return;
	x = xmlReadMemory(doc, (int)len, NULL, NULL,
	                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!x)
		return;
	root = xmlDocGetRootElement(x);
	if (root) {
		snprintf(root_name, rootlen, "%s", (const char *)root->name);
		if ((s = child_text(root, "ID"))) {
			snprintf(id, idlen, "%s", s);
			xmlFree(s);
		}
		if ((s = child_text(root, "IssueDate"))) {
			snprintf(date, datelen, "%s", s);
			xmlFree(s);
		}
	}
	xmlFreeDoc(x);
}

/* activity_for: the business activity (function) a document type evidences. */
static const char *activity_for(const char *type, int reject)
{
	static const struct {
		const char *pattern, *activity;
	} map[] = {
	    {"Invoice", "Accounts payable: supplier invoice received"},
	    {"CreditNote", "Accounts payable: supplier credit note received"},
	    {"RemittanceAdvice", "Accounts payable: remittance advice"},
	    {"Order", "Procurement: purchase order"},
	    {"OrderResponse*", "Procurement: order response"},
	    {"OrderChange", "Procurement: order change"},
	    {"OrderCancellation", "Procurement: order cancellation"},
	    {"DespatchAdvice", "Procurement: goods despatched"},
	    {"ReceiptAdvice", "Procurement: goods received"},
	    {"ApplicationResponse", "Business messaging: response to a document"},
	    {"InvoiceResponse", "Accounts payable: invoice response"},
	};
	size_t i;

	if (reject)
		return "Business messaging: document refused at intake";
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (bus_pattern_match(map[i].pattern, type))
			return map[i].activity;
	return "Business messaging: structured business document";
}

/* add_object: store BUF and describe it in OBJS under ROLE. */
static int add_object(struct records *r, json_t *objs, const char *role, const void *buf,
                      size_t len)
{
	char hex[65];
	int rc;

	if ((rc = object_put(r, buf, len, hex)) < 0)
		return rc;
	json_object_set_new(objs, role,
	                    json_pack("{s:s,s:I}", "sha256", hex, "size", (json_int_t)len));
	return 0;
}

/* existing: the record id stored under KEY into ID; 1 found, 0 not, <0 error. */
static int existing(struct records *r, const char *key, char *id, size_t idlen)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(r->db, "SELECT id FROM records WHERE idem_key = ?", -1, &st, NULL) !=
	    SQLITE_OK)
		return SECMX_EIO;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (id)
			snprintf(id, idlen, "%s", (const char *)sqlite3_column_text(st, 0));
		rc = 1;
	} else {
		rc = rc == SQLITE_DONE ? 0 : SECMX_EIO;
	}
	sqlite3_finalize(st);
	return rc;
}

/* build_meta: the recordkeeping metadata of a delivery (new reference). */
static json_t *build_meta(struct records *r, json_t *env, const void *doc, size_t len,
                          const char *rid, int reject, time_t received)
{
	char docid[256], date[64], root[128], title[600], cls[160], until[16], now[32];
	const char *type = str_or(env, "document_type", "Unknown");
	const char *sender = str_or(env, "sender", "");
	json_t *v = json_object_get(env, "validation");
	json_t *meta;

	const char *shown = strncmp(type, "reject:", 7) == 0 ? type + 7 : type;

	doc_facts(doc, len, docid, sizeof(docid), date, sizeof(date), root, sizeof(root));
	if (docid[0])
		snprintf(title, sizeof(title), "%s%s %s%s%s", reject ? "Rejected " : "", shown,
		         docid, sender[0] ? " from " : "", sender);
	else
		snprintf(title, sizeof(title), "%s%s message %s", reject ? "Rejected " : "", shown,
		         str_or(env, "message_id", "?"));
	retention_for(r, type, received, cls, sizeof(cls), until);
	records__fmt_time(records__now(r), now);
	meta = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:s,s:s,s:s}", "id",
	                 rid, "title", title, "document_type", type, "document_id", docid,
	                 "profile", str_or(env, "profile", ""), "date_created", date, "received_at",
	                 str_or(env, "received_at", ""), "archived_at", now, "creator", sender,
	                 "message_id", str_or(env, "message_id", ""), "transaction_id",
	                 str_or(env, "transaction_id", ""), "idempotency_key",
	                 str_or(env, "idempotency_key", ""), "reject", reject, "business_activity",
	                 activity_for(type, reject), "retention_class", cls, "retain_until", until);
	if (!meta)
		return NULL;
	json_object_set_new(meta, "root_element", json_string(root));
	json_object_set_new(meta, "software",
	                    json_pack("{s:s,s:s}", "archive",
	                              RECORDS_SOFTWARE " (secmx " SECMX_VERSION ")", "gateway",
	                              str_or(json_object_get(env, "meta"), "software",
	                                     "secmxd (version not stated in the envelope)")));
	json_object_set(meta, "validation", v ? v : json_null());
	return meta;
}

/* report_bytes: the validation report to keep: meta.report (string or JSON)
 * when the daemon sent one, else the envelope's validation summary. *OUT is
 * malloc()ed; *EXT names its format. */
static int report_bytes(json_t *env, char **out, size_t *len, const char **ext)
{
	json_t *m = json_object_get(env, "meta");
	json_t *rep = json_object_get(m, "report");

	if (json_is_string(rep)) {
		*out = strdup(json_string_value(rep));
		*ext = "txt";
	} else if (rep) {
		*out = json_dumps(rep, JSON_INDENT(1) | JSON_SORT_KEYS);
		*ext = "json";
	} else {
		json_t *o = json_pack("{s:s,s:O?}", "source",
		                      "envelope validation summary (no full report delivered)",
		                      "validation", json_object_get(env, "validation"));

		*out = o ? json_dumps(o, JSON_INDENT(1) | JSON_SORT_KEYS) : NULL;
		json_decref(o);
		*ext = "json";
	}
	if (!*out)
		return SECMX_ENOMEM;
	*len = strlen(*out);
	return 0;
}

/* records_ingest: objects first (durable, idempotent by content), then the
 * record row and the "received" entry in one SQLite transaction. Inside a
 * batch: objects pending, the rows under a savepoint of the batch's
 * transaction; records_batch_commit makes both durable. */
int records_ingest(struct records *r, const char *envelope_json, const void *doc, size_t doc_len,
                   const char *actor, char *id, size_t idlen, char *err, size_t errlen)
{
	json_t *env = NULL, *objs = NULL, *meta = NULL, *detail = NULL, *v;
	unsigned char *orig = NULL;
	char *report = NULL;
	const char *key, *type, *rext, *ext_b64;
	char rid[32];
	size_t rlen = 0;
	long olen = 0;
	long long seq;
	sqlite3_stmt *st = NULL;
	json_error_t jerr;
	time_t received;
	int rc, reject, began = 0;

	env = json_loads(envelope_json, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(env)) {
		secmx_errf(err, errlen, "envelope: %s", jerr.text);
		rc = SECMX_EPARSE;
		goto out;
	}
	key = str_or(env, "idempotency_key", NULL);
	type = str_or(env, "document_type", NULL);
	if (!key || !type || !str_or(env, "message_id", NULL) ||
	    records_parse_time(str_or(env, "received_at", ""), &received) < 0) {
		secmx_errf(err, errlen,
		           "envelope lacks idempotency_key, message_id, "
		           "document_type or a valid received_at");
		rc = SECMX_EPARSE;
		goto out;
	}
	if (doc_len > RECORDS_MAX_DOC) {
		rc = SECMX_ELIMIT;
		goto out;
	}
	if ((rc = existing(r, key, id, idlen)) != 0) {
		rc = rc > 0 ? 0 : rc; /* already stored: nothing to do */
		goto out;
	}
	v = json_object_get(env, "validation");
	reject =
	    strncmp(type, "reject:", 7) == 0 || (v && json_is_false(json_object_get(v, "valid")));

	/* objects: see docs/records.md "What the delivery gives" */
	objs = json_object();
	ext_b64 = str_or(json_object_get(env, "meta"), "original_b64", NULL);
	if (ext_b64) {
		olen = secmx_base64_decode(ext_b64, strlen(ext_b64), &orig);
		if (olen < 0) {
			secmx_errf(err, errlen, "envelope meta.original_b64 is not base64");
			rc = SECMX_EPARSE;
			goto out;
		}
		if ((rc = add_object(r, objs, "original", orig, (size_t)olen)) < 0) {
			rc = io_fail(r, rc, err, errlen);
			goto out;
		}
	} else if ((rc = add_object(r, objs, "original", doc, doc_len)) < 0) {
		{
			rc = io_fail(r, rc, err, errlen);
			goto out;
		}
	}
	if (!reject && (rc = add_object(r, objs, "signed", doc, doc_len)) < 0) {
		rc = io_fail(r, rc, err, errlen);
		goto out;
	}
	if ((rc = report_bytes(env, &report, &rlen, &rext)) < 0)
		goto out;
	if ((rc = add_object(r, objs, "report", report, rlen)) < 0) {
		rc = io_fail(r, rc, err, errlen);
		goto out;
	}
	json_object_set_new(json_object_get(objs, "report"), "format", json_string(rext));
	if ((rc = add_object(r, objs, "envelope", envelope_json, strlen(envelope_json))) < 0) {
		rc = io_fail(r, rc, err, errlen);
		goto out;
	}
	if (r->fail == RECORDS_FAIL_AFTER_OBJECTS) {
		secmx_errf(err, errlen, "test hook: failing after the objects");
		rc = SECMX_EIO;
		goto out;
	}

	if (r->batch && sqlite3_get_autocommit(r->db)) {
		/* SQLite rolled the batch back (I/O error, disk full): a savepoint
		 * now would open a transaction of its own and commit this record
		 * alone. The batch fails at its commit. */
		secmx_errf(err, errlen, "index: the batch's transaction was lost");
		rc = SECMX_EIO;
		goto out;
	}
	if (sqlite3_exec(r->db, r->batch ? "SAVEPOINT rec_ingest" : "BEGIN IMMEDIATE", NULL, NULL,
	                 NULL) != SQLITE_OK) {
		rc = db_fail(r->db, err, errlen);
		goto out;
	}
	began = 1;
	if ((rc = existing(r, key, id, idlen)) != 0) {
		rc = rc > 0 ? 0 : rc; /* another process stored it meanwhile */
		goto out;
	}
	{
		char hh[65];

		if ((rc = head_get(r, &seq, hh)) < 0)
			goto out;
	}
	snprintf(rid, sizeof(rid), "REC-%08lld", seq + 1);
	meta = build_meta(r, env, ext_b64 ? (const void *)orig : doc,
	                  ext_b64 ? (size_t)olen : doc_len, rid, reject, received);
	detail = meta ? json_pack("{s:O,s:O}", "record", meta, "objects", objs) : NULL;
	if (!detail) {
		rc = SECMX_ENOMEM;
		goto out;
	}
	if ((rc = records__append(r, rid, "received", actor, detail, err, errlen)) < 0)
		goto out;
	if (sqlite3_prepare_v2(
	        r->db,
	        "INSERT INTO records(id, idem_key, seq, title, document_type, sender,"
	        " transaction_id, received_at, retain_until, state)"
	        " VALUES(?,?,?,?,?,?,?,?,?,'kept')",
	        -1, &st, NULL) != SQLITE_OK) {
		rc = db_fail(r->db, err, errlen);
		goto out;
	}
	sqlite3_bind_text(st, 1, rid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, rc);
	sqlite3_bind_text(st, 4, str_or(meta, "title", ""), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, str_or(meta, "creator", ""), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, str_or(meta, "transaction_id", ""), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, str_or(meta, "received_at", ""), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, str_or(meta, "retain_until", ""), -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = db_fail(r->db, err, errlen);
		goto out;
	}
	if (sqlite3_exec(r->db, r->batch ? "RELEASE SAVEPOINT rec_ingest" : "COMMIT", NULL, NULL,
	                 NULL) != SQLITE_OK) {
		rc = db_fail(r->db, err, errlen);
		goto out;
	}
	began = 0;
	if (!r->batch)
		records__head_sync(r);
	if (id)
		snprintf(id, idlen, "%s", rid);
	rc = 1;
out:
	sqlite3_finalize(st);
	if (began && r->batch) {
		/* This record only; the batch goes on (its objects stay pending:
		 * content-addressed, harmless if unreferenced). */
		sqlite3_exec(r->db, "ROLLBACK TO SAVEPOINT rec_ingest", NULL, NULL, NULL);
		sqlite3_exec(r->db, "RELEASE SAVEPOINT rec_ingest", NULL, NULL, NULL);
	} else if (began) {
		sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
	}
	json_decref(env);
	json_decref(objs);
	json_decref(meta);
	json_decref(detail);
	free(orig);
	free(report);
	return rc;
}

/* records__actions: [{seq, action, actor, at, detail, hash}] of record ID. */
json_t *records__actions(struct records *r, const char *id)
{
	sqlite3_stmt *st = NULL;
	json_t *a = json_array();

	if (!a || sqlite3_prepare_v2(r->db,
	                             "SELECT seq, action, actor, at, detail, hash FROM entries"
	                             " WHERE record_id = ? ORDER BY seq",
	                             -1, &st, NULL) != SQLITE_OK) {
		json_decref(a);
		return NULL;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		json_t *d = json_loads((const char *)sqlite3_column_text(st, 4), 0, NULL);

		json_array_append_new(
		    a, json_pack("{s:I,s:s,s:s,s:s,s:o?,s:s}", "seq",
		                 (json_int_t)sqlite3_column_int64(st, 0), "action",
		                 (const char *)sqlite3_column_text(st, 1), "actor",
		                 (const char *)sqlite3_column_text(st, 2), "at",
		                 (const char *)sqlite3_column_text(st, 3), "detail", d,
		                 "entry_hash", (const char *)sqlite3_column_text(st, 5)));
	}
	sqlite3_finalize(st);
	return a;
}
