/*
 * daemon.c — the secmxd core: the event loop (libevent) that owns the bus,
 * the drop-directory intake, timers and signals; start-up, reload, drain.
 * The per-message pipeline runs in worker threads (pipeline.c).
 *
 * Interface: daemon.h (daemon_new, daemon_run, daemon_stop, daemon_reload,
 * daemon_free). Errors: negative SECMX_E* with a reason in ERR.
 *
 * Intake, drop directory: a file NAME is taken by rename(2) (renameat2 with
 * RENAME_NOREPLACE) into DROP/.taking/NAME — atomic, so a file is taken by
 * exactly one taker and never while half-written under its final name
 * (producers write ".name" or "name.tmp" and rename; both are ignored). It
 * is stored with queue_msg_submit() under the identity (sender "dropdir",
 * type "file", id "NAME@SHA256"), and unlinked only after the callback
 * reported the commit. A crash between commit and unlink leaves the file in
 * .taking; at start-up it is taken again and the queue's duplicate
 * detection marks it (policy flag/drop/reject), so nothing is delivered
 * twice (pipeline.c keys deliveries on the first message). The directory
 * is scanned when inotify reports a file renamed into it (IN_MOVED_TO: the
 * producers' protocol) and every intake.poll_interval (files copied in
 * place, a lost event, intake.max_inflight reached, no inotify).
 * Only regular files are documents: a symbolic link, FIFO, socket or device
 * node is moved to DROP/.failed with an error logged (never followed, never
 * opened: a link could point at the signing key, a FIFO would block the
 * loop); the file is opened with O_NOFOLLOW | O_NONBLOCK and checked with
 * fstat, so an entry swapped after the scan is refused the same way.
 * Subdirectories are left alone.
 *
 * Intake, bus SUBMIT: the same, with identity (adapter, "bus-submit",
 * idempotency key); SUBMIT_RESULT is sent after the commit. The key
 * promises the content: the same key again with the same bytes (a retry)
 * is answered accepted with the first message's id; with other bytes it is
 * refused and nothing is stored (queue_msg_in.same_bytes).
 *
 * Threads: everything here runs on the loop thread except daemon_stop()
 * and put_done(), the queue committer's callback, which only writes a
 * pointer to a pipe.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/evp.h>

#include "bus.h"
#include "daemon_int.h"

/* Largest file taken from the drop directory; larger ones go to .failed.
 * (The engine's own limit, engine.max_doc_bytes, applies later and turns a
 * smaller but still too large document into a reject with a report.) */
#define INTAKE_MAX (64u << 20)

/* One intake in flight: a file or a SUBMIT, from take to commit. */
struct intake {
	int is_submit;
	struct queue_msg_in in;
	void *data;
	size_t len;
	int rc;
	struct queue_put_result res;
	char name[NAME_MAX + 1];
	char doc_id[NAME_MAX + 80];
	char adapter[BUS_MAX_ID + 1];
	char request_id[BUS_MAX_ID + 1];
	char key[BUS_MAX_KEY + 1];
};

/* path_join: DIR/NAME into BUF; 0 or -1 when it does not fit. */
static int path_join(char *buf, size_t len, const char *dir, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* sha256_hex: digest of DATA as 64 hex digits into OUT (65 bytes). */
static void sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	unsigned i;

	EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
	for (i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* intake_read: the bytes of file PATH (at most MAX) into *OUT (malloc, NUL
 * after them) and *LEN, in a buffer of the file's own size: secmx_file_read
 * reads through stdio into a 64 KiB buffer first, which for every document
 * in flight (up to intake.max_inflight) is memory to fault in and hold. A
 * file whose size changes while read (the producer broke its contract) is
 * read again by secmx_file_read. 0, SECMX_EINVAL (a link or not a regular
 * file), SECMX_ELIMIT, SECMX_EIO, SECMX_ENOMEM. */
static int intake_read(const char *path, size_t max, char **out, size_t *len)
{
	struct stat st;
	char *buf = NULL, extra;
	size_t used = 0;
	ssize_t n;
	int fd, rc = SECMX_EIO;

	*out = NULL;
	*len = 0;
	/* never through a link, never blocking on a FIFO (see the header) */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)) < 0)
		return errno == ELOOP ? SECMX_EINVAL : SECMX_EIO;
	if (fstat(fd, &st) < 0)
		goto done;
	if (!S_ISREG(st.st_mode)) {
		rc = SECMX_EINVAL;
		goto done;
	}
	if ((uint64_t)st.st_size > max) {
		rc = SECMX_ELIMIT;
		goto done;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		rc = SECMX_ENOMEM;
		goto done;
	}
	while (used < (size_t)st.st_size) {
		if ((n = read(fd, buf + used, (size_t)st.st_size - used)) < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		used += (size_t)n;
	}
	while ((n = read(fd, &extra, 1)) < 0 && errno == EINTR)
		;
	if (used != (size_t)st.st_size || n != 0) {
		close(fd);
		fd = -1;
		free(buf);
		return secmx_file_read(path, max, out, len);
	}
	buf[used] = '\0';
	*out = buf;
	*len = used;
	buf = NULL;
	rc = 0;
done:
	if (fd >= 0)
		close(fd);
	free(buf);
	return rc;
}

/* routes_free: free N routes. */
static void routes_free(struct route *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(r[i].adapter);
		free(r[i].pattern);
	}
	free(r);
}

/* route_add: append (ADAPTER, PATTERN) to *R of *N. */
static int route_add(struct route **r, size_t *n, const char *adapter, size_t alen,
                     const char *pattern)
{
	struct route *nr = realloc(*r, (*n + 1) * sizeof(**r));

	if (nr == NULL)
		return SECMX_ENOMEM;
	*r = nr;
	nr[*n].adapter = strndup(adapter, alen);
	nr[*n].pattern = strdup(pattern);
	if (!nr[*n].adapter || !nr[*n].pattern) {
		free(nr[*n].adapter);
		free(nr[*n].pattern);
		return SECMX_ENOMEM;
	}
	(*n)++;
	return 0;
}

/* publish: a new snapshot with KIT (reference taken) and the configured plus
 * HELLO routes, replacing the current one. */
static int publish(struct daemon *d, struct kit *kit)
{
	struct snap *s = calloc(1, sizeof(*s)), *old;
	size_t i;
	int rc = 0;

	if (s == NULL)
		return SECMX_ENOMEM;
	atomic_init(&s->refs, 1);
	for (i = 0; rc == 0 && i < d->cfg.routes.n; i++) {
		const char *it = d->cfg.routes.v[i], *colon = strchr(it, ':');

		rc = route_add(&s->routes, &s->nroutes, it, (size_t)(colon - it), colon + 1);
	}
	for (i = 0; rc == 0 && i < d->nhello; i++)
		rc = route_add(&s->routes, &s->nroutes, d->hello[i].adapter,
		               strlen(d->hello[i].adapter), d->hello[i].pattern);
	atomic_fetch_add(&kit->refs, 1);
	s->kit = kit;
	if (rc < 0) {
		daemon__snap_put(s);
		return rc;
	}
	pthread_mutex_lock(&d->snap_lock);
	old = d->snap;
	d->snap = s;
	pthread_mutex_unlock(&d->snap_lock);
	daemon__snap_put(old);
	return 0;
}

/* kit_build: engine, signing key and trust from CFG. */
static int kit_build(const struct daemon_config *cfg, struct kit **out, char *err, size_t errlen)
{
	struct engine_config ec;
	struct kit *k = calloc(1, sizeof(*k));
	const char *pw = NULL;
	int rc;

	*out = NULL;
	if (k == NULL)
		return SECMX_ENOMEM;
	atomic_init(&k->refs, 1);
	engine_config_default(&ec);
	if (cfg->engine.schema_dir)
		ec.schema_dir = cfg->engine.schema_dir;
	if (cfg->engine.rules_dir)
		ec.rules_dir = cfg->engine.rules_dir;
	ec.limits.max_doc_bytes = cfg->engine.max_doc_bytes;
	ec.limits.max_depth = (unsigned)cfg->engine.max_depth;
	ec.limits.max_attr_bytes = cfg->engine.max_attr_bytes;
	ec.limits.max_text_bytes = cfg->engine.max_text_bytes;
	ec.limits.max_nodes = (size_t)cfg->engine.max_nodes;
	ec.limits.max_attrs = (unsigned)cfg->engine.max_attrs;
	if (cfg->engine.allow_sha1)
		ec.flags |= ENGINE_CFG_ALLOW_SHA1;
	k->verify_flags = ec.flags & ENGINE_CFG_ALLOW_SHA1;
	if ((rc = engine_new(&ec, &k->eng, err, errlen)) < 0)
		goto fail;
	if (cfg->engine.sign_key) {
		if (cfg->engine.sign_key_password_env &&
		    (pw = getenv(cfg->engine.sign_key_password_env)) == NULL) {
			secmx_errf(err, errlen, "engine.sign_key_password_env: %s is not set",
			           cfg->engine.sign_key_password_env);
			rc = SECMX_ECONFIG;
			goto fail;
		}
		if ((rc = engine_key_load(cfg->engine.sign_key, cfg->engine.sign_cert, pw, &k->key,
		                          err, errlen)) < 0)
			goto fail;
	}
	if (cfg->engine.trust && (rc = engine_trust_load(cfg->engine.trust, cfg->engine.crl,
	                                                 &k->trust, err, errlen)) < 0)
		goto fail;
	*out = k;
	return 0;
fail:
	daemon__kit_put(k);
	return rc;
}

/* The committer's callbacks write finished records to the loop's pipe. The
 * callback gets one pointer (the record), so the pipe's write end is kept
 * here: one daemon per process. */
static int g_done_fd = -1;

/* put_cb: record the outcome and hand the record to the loop (committer
 * thread; the pipe holds every record in flight: at most
 * intake.max_inflight pointers, well under the pipe's capacity). */
static void put_cb(void *arg, int rc, const struct queue_put_result *res)
{
	struct intake *it = arg;

	it->rc = rc;
	if (res)
		it->res = *res;
	if (write(g_done_fd, &it, sizeof(it)) != (ssize_t)sizeof(it))
		abort(); /* a lost completion would lose a document: never continue */
}

/* intake_free: release a record. */
static void intake_free(struct intake *it)
{
	if (it) {
		free(it->data);
		free(it);
	}
}

/* set_aside: move PATH (entry NAME of the drop directory or of .taking) to
 * DROP/.failed, where nothing is retried by itself: the operator decides.
 * Logs EVENT at error level with REASON and where the entry went. */
static void set_aside(struct daemon *d, const char *path, const char *name, const char *event,
                      const char *reason)
{
	char fdir[PATH_MAX], failed[PATH_MAX];
	int moved = 0;

	if (path_join(fdir, sizeof(fdir), d->cfg.drop_dir, ".failed") == 0 &&
	    (mkdir(fdir, 0700) == 0 || errno == EEXIST) &&
	    path_join(failed, sizeof(failed), fdir, name) == 0 && rename(path, failed) == 0)
		moved = 1;
	log_event(LOGL_ERR, "-", event, "file=%s error=%s moved_to=%s", name, reason,
	          moved ? ".failed" : "-");
}

/* dtype_name: a readdir(3) entry type for the log. */
static const char *dtype_name(unsigned char t)
{
	switch (t) {
	case DT_LNK:
		return "symbolic link";
	case DT_FIFO:
		return "FIFO";
	case DT_SOCK:
		return "socket";
	case DT_CHR:
		return "character device";
	case DT_BLK:
		return "block device";
	default:
		return "not a regular file";
	}
}

/* take: take file NAME (from the drop directory, or already in .taking when
 * RETAKE) and submit it to the queue. */
static void take(struct daemon *d, const char *name, int retake)
{
	char src[PATH_MAX], dst[PATH_MAX], sha[65];
	struct intake *it;
	int rc;

	if (path_join(src, sizeof(src), d->cfg.drop_dir, name) < 0 ||
	    path_join(dst, sizeof(dst), d->taking, name) < 0)
		return;
	if (!retake && renameat2(AT_FDCWD, src, AT_FDCWD, dst, RENAME_NOREPLACE) < 0) {
		if (errno != EEXIST && errno != ENOENT)
			log_event(LOGL_WARNING, "-", "intake.take-failed", "file=%s errno=%d", name,
			          errno);
		return; /* EEXIST: the same name is still in flight; next scan */
	}
	if ((it = calloc(1, sizeof(*it))) == NULL)
		return;
	secmx_strlcpy(it->name, name, sizeof(it->name));
	if ((rc = intake_read(dst, INTAKE_MAX, (char **)&it->data, &it->len)) < 0) {
		/* Too large, not a regular file, or unreadable. */
		set_aside(d, dst, name, "intake.read-failed",
		          rc == SECMX_EINVAL ? "not a regular file" : secmx_strerror(rc));
		intake_free(it);
		return;
	}
	sha256_hex(it->data, it->len, sha);
	snprintf(it->doc_id, sizeof(it->doc_id), "%s@%s", name, sha);
	it->in.data = it->data;
	it->in.len = it->len;
	it->in.source = "dropdir";
	it->in.sender = "dropdir";
	it->in.doc_type = "file";
	it->in.doc_id = it->doc_id;
	if ((rc = queue_msg_submit(d->q, &it->in, put_cb, it)) < 0) {
		log_event(LOGL_ERR, "-", "intake.refused", "file=%s error=%s", name,
		          secmx_strerror(rc));
		if (rename(dst, src) < 0)
			log_event(LOGL_ERR, "-", "intake.stuck", "file=%s errno=%d", name, errno);
		intake_free(it);
		return;
	}
	d->inflight++;
}

/* scan_dir: take what DIR holds (the drop directory, or .taking at start). */
static void scan_dir(struct daemon *d, const char *dir, int retake)
{
	DIR *dp = opendir(dir);
	struct dirent *e;

	if (dp == NULL) {
		log_event(LOGL_ERR, "-", "intake.scan-failed", "dir=%s errno=%d", dir, errno);
		return;
	}
	while (d->inflight < d->cfg.intake_inflight && (e = readdir(dp)) != NULL) {
		size_t n = strlen(e->d_name);

		if (e->d_name[0] == '.' || (n >= 4 && strcmp(e->d_name + n - 4, ".tmp") == 0))
			continue;
		if (e->d_type == DT_DIR)
			continue; /* an operator's subdirectory: not a document */
		if (e->d_type != DT_REG && e->d_type != DT_UNKNOWN) {
			char path[PATH_MAX];

			if (path_join(path, sizeof(path), dir, e->d_name) == 0)
				set_aside(d, path, e->d_name, "intake.not-regular",
				          dtype_name(e->d_type));
			continue;
		}
		take(d, e->d_name, retake);
	}
	closedir(dp);
}

/* pump: run the bus until it has nothing more to do now; arm its timer. */
static void pump(struct daemon *d)
{
	struct timeval tv;
	int i, t = 0;

	for (i = 0; i < 64; i++)
		if ((t = bus_process(d->bus)) != 0)
			break;
	if (t <= 0)
		t = 1;
	tv.tv_sec = t / 1000;
	tv.tv_usec = (t % 1000) * 1000;
	evtimer_add(d->ev_bus_timer, &tv);
}

/* on_done: committed intakes from the committer thread. */
static void on_done(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	struct intake *it;
	char path[PATH_MAX], mid[32];

	(void)what;
	while (read(fd, &it, sizeof(it)) == (ssize_t)sizeof(it)) {
		int ok = it->rc == 0 || it->rc == SECMX_EDUPLICATE;
		int64_t first = it->res.dup_of ? it->res.dup_of : it->res.id;

		snprintf(mid, sizeof(mid), "m%lld", (long long)it->res.id);
		if (it->is_submit && it->rc == SECMX_ECONFLICT) {
			char msgid[32], why[BUS_MAX_KEY + 96];

			/* The key is the adapter's promise that the content is
			 * the same: other bytes under it are refused, not taken
			 * as a retry (nothing was stored). */
			snprintf(msgid, sizeof(msgid), "m%lld", (long long)it->res.dup_of);
			snprintf(why, sizeof(why),
			         "idempotency key %s was used for different content (first: %s)",
			         it->key, msgid);
			bus_submit_reply(d->bus, it->adapter, it->request_id, 0, NULL, why);
			log_event(LOGL_WARNING, "-", "intake.submit",
			          "adapter=%s key=%s result=%s first=%s", it->adapter, it->key,
			          "key-reused", msgid);
		} else if (it->is_submit) {
			char msgid[32];

			snprintf(msgid, sizeof(msgid), "m%lld", (long long)first);
			bus_submit_reply(d->bus, it->adapter, it->request_id, ok,
			                 it->rc == 0 ? msgid : "duplicate",
			                 ok ? NULL : secmx_strerror(it->rc));
			log_event(ok ? LOGL_INFO : LOGL_ERR, ok ? mid : "-", "intake.submit",
			          "adapter=%s key=%s result=%s dup_of=%lld", it->adapter, it->key,
			          ok ? "stored" : secmx_strerror(it->rc),
			          (long long)it->res.dup_of);
		} else {
			if (path_join(path, sizeof(path), d->taking, it->name) == 0) {
				if (ok) {
					if (unlink(path) < 0)
						log_event(LOGL_ERR, mid, "intake.unlink-failed",
						          "file=%s errno=%d", it->name, errno);
				} else {
					char back[PATH_MAX];

					d->ino_quiet_until =
					    daemon__now_ms() + d->cfg.poll_interval_ms;
					if (path_join(back, sizeof(back), d->cfg.drop_dir,
					              it->name) == 0 &&
					    rename(path, back) < 0)
						log_event(LOGL_ERR, "-", "intake.stuck", "file=%s",
						          it->name);
				}
			}
			log_event(ok ? LOGL_INFO : LOGL_ERR, ok && it->rc == 0 ? mid : "-",
			          "intake.file", "file=%s size=%zu result=%s dup_of=%lld", it->name,
			          it->len, ok ? "stored" : secmx_strerror(it->rc),
			          (long long)it->res.dup_of);
		}
		d->inflight--;
		intake_free(it);
		/* Under group commit the workers were woken when the batch's
		 * COMMIT returned (on_committed), before this sync. */
		if (!d->cfg.group_commit)
			daemon__efd_signal(d->work_efd);
	}
	pump(d);
}

/* on_ino: files were renamed into the drop directory: take them now
 * rather than at the next poll. The events only say "look"; scan_dir
 * decides what to take (dot files and *.tmp are left, as always). After a
 * refused intake the events are ignored for one poll interval, so that a
 * file put back by a failing store is not retaken in a tight loop. */
static void on_ino(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	(void)what;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	if (d->draining || daemon__now_ms() < d->ino_quiet_until)
		return;
	scan_dir(d, d->cfg.drop_dir, 0);
}

/* on_scan: the drop-directory timer. */
static void on_scan(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	struct timeval tv;

	(void)fd, (void)what;
	if (d->draining)
		return;
	scan_dir(d, d->cfg.drop_dir, 0);
	tv.tv_sec = d->cfg.poll_interval_ms / 1000;
	tv.tv_usec = (d->cfg.poll_interval_ms % 1000) * 1000;
	evtimer_add(d->ev_scan, &tv);
}

/* ---- bus ops (loop thread) ---- */

static int op_hello(void *arg, const char *adapter, const char *const *patterns, size_t n,
                    char *reason, size_t reasonlen)
{
	struct daemon *d = arg;
	struct route *keep = NULL;
	size_t i, nkeep = 0;
	struct snap *s;
	int rc = 0;

	(void)reason, (void)reasonlen;
	d->dlv_gen++; /* a new session: ask the queue for it at once */
	for (i = 0; rc == 0 && i < d->nhello; i++)
		if (strcmp(d->hello[i].adapter, adapter) != 0)
			rc = route_add(&keep, &nkeep, d->hello[i].adapter,
			               strlen(d->hello[i].adapter), d->hello[i].pattern);
	for (i = 0; rc == 0 && i < n; i++)
		rc = route_add(&keep, &nkeep, adapter, strlen(adapter), patterns[i]);
	if (rc < 0) {
		routes_free(keep, nkeep);
		return rc;
	}
	routes_free(d->hello, d->nhello);
	d->hello = keep;
	d->nhello = nkeep;
	s = daemon__snap_get(d);
	rc = publish(d, s->kit);
	daemon__snap_put(s);
	log_event(LOGL_INFO, "-", "bus.hello", "adapter=%s patterns=%zu", adapter, n);
	return rc;
}

/* envelope_with_key: the stored envelope text ENV (ELEN bytes, a JSON
 * object) with "idempotency_key" added, as a new string (free it), or NULL.
 * The key is spliced in as text when it needs no escaping (ours never
 * does): no parse and re-encode of an envelope that carries the whole
 * report and the original bytes, once per delivery. */
static char *envelope_with_key(const char *env, size_t elen, const char *key)
{
	size_t klen = strlen(key), i;
	json_t *j;
	char *out;

	for (i = 0; i < klen && key[i] != '"' && key[i] != '\\'; i++)
		;
	if (i == klen && elen >= 2 && env[0] == '{' && env[elen - 1] == '}') {
		int empty = elen == 2;

		if ((out = malloc(elen + klen + 24)) == NULL)
			return NULL;
		snprintf(out, elen + klen + 24, "{\"idempotency_key\":\"%s\"%s%.*s", key,
		         empty ? "" : ",", (int)(elen - 1), env + 1);
		return out;
	}
	if ((j = json_loadb(env, elen, 0, NULL)) == NULL)
		return NULL;
	json_object_set_new(j, "idempotency_key", json_string(key));
	out = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return out;
}

/* bundle_envelope: the envelope of bundle BUF (LEN bytes; pipeline.c,
 * bundle_new) for delivery: its text with meta.original_b64 spliced in as
 * meta's last member when the bundle's first line names the original
 * ("@original ID SHA256": the original is read back from the queue, digest
 * checked by the queue and against SHA256 here), then "idempotency_key"
 * (envelope_with_key). A bundle stored before bundles named their original
 * (it carries original_b64 itself) is taken as it is. *ENV (malloc) and the
 * offset of the document bytes in BUF into *DOC_AT. 0; SECMX_ECORRUPT (a
 * malformed bundle), SECMX_ENOTFOUND (the original is gone or does not
 * match), SECMX_ENOMEM, or the queue's error reading the original. */
static int bundle_envelope(struct daemon *d, const char *buf, size_t len, const char *key,
                           char **env, size_t *doc_at)
{
	static const char member[] = ",\"original_b64\":\"";
	const char *e = buf, *nl, *end = buf + len;
	char sha[65], *spliced = NULL, *p, *stop = NULL;
	void *orig = NULL;
	size_t olen = 0, elen, b64, n;
	long long oid = 0;
	int rc = 0;

	*env = NULL;
	if (len > 10 && memcmp(buf, "@original ", 10) == 0) {
		if ((nl = memchr(buf, '\n', len)) == NULL)
			return SECMX_ECORRUPT;
		oid = strtoll(buf + 10, &stop, 10);
		if (oid <= 0 || *stop != ' ' || nl - (stop + 1) != 64)
			return SECMX_ECORRUPT;
		e = nl + 1;
	}
	if ((nl = memchr(e, '\n', (size_t)(end - e))) == NULL)
		return SECMX_ECORRUPT;
	elen = (size_t)(nl - e);
	*doc_at = (size_t)(nl + 1 - buf);
	if (oid > 0) {
		if (elen < 2 || memcmp(nl - 2, "}}", 2) != 0)
			return SECMX_ECORRUPT;
		if ((rc = queue_msg_get(d->q, (int64_t)oid, &orig, &olen)) < 0)
			goto done;
		sha256_hex(orig, olen, sha);
		if (memcmp(sha, stop + 1, 64) != 0 || olen > INT_MAX / 4 * 3 - 3) {
			rc = SECMX_ENOTFOUND;
			goto done;
		}
		b64 = 4 * ((olen + 2) / 3);
		n = elen - 2 + sizeof(member) - 1 + b64 + 3;
		if ((spliced = malloc(n + 1)) == NULL) {
			rc = SECMX_ENOMEM;
			goto done;
		}
		p = spliced;
		memcpy(p, e, elen - 2);
		p += elen - 2;
		memcpy(p, member, sizeof(member) - 1);
		p += sizeof(member) - 1;
		EVP_EncodeBlock((unsigned char *)p, orig, (int)olen);
		p += b64;
		memcpy(p, "\"}}", 3);
		p += 3;
		*p = '\0';
		e = spliced;
		elen = n;
	}
	if ((*env = envelope_with_key(e, elen, key)) == NULL)
		rc = SECMX_ENOMEM;
done:
	free(spliced);
	free(orig);
	return rc;
}

/* mono_ms: the monotonic clock in ms (op_next's idle memo). */
static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* How long an adapter found idle is not asked again while nothing that can
 * make a delivery due has happened (dlv_gen unchanged). The bound covers
 * what becomes due by time alone (a transient NACK's back-off). */
#define IDLE_RECHECK_MS 50

/* idle_slot: the idle memo of ADAPTER; a new one replaces the oldest. */
static struct idle_memo *idle_slot(struct daemon *d, const char *adapter)
{
	struct idle_memo *m = &d->idle[0];
	size_t i;

	for (i = 0; i < DAEMON_IDLE_MEMO; i++) {
		if (strcmp(d->idle[i].adapter, adapter) == 0)
			return &d->idle[i];
		if (d->idle[i].at < m->at)
			m = &d->idle[i];
	}
	secmx_strlcpy(m->adapter, adapter, sizeof(m->adapter));
	m->gen = d->dlv_gen - 1; /* never idle yet */
	m->at = 0;
	m->stale = 1;
	return m;
}

/* memo_clear: empty env_memo slot M. */
static void memo_clear(struct env_memo *m)
{
	free(m->bundle);
	free(m->env);
	memset(m, 0, sizeof(*m));
}

/* memo_find: the kept bundle of delivery QD, or NULL. A slot past its
 * time is emptied. */
static struct env_memo *memo_find(struct daemon *d, const struct queue_delivery *qd, int64_t now)
{
	size_t i;

	for (i = 0; i < DAEMON_ENV_MEMO; i++) {
		struct env_memo *m = &d->env_memo[i];

		if (m->msg_id != 0 && now - m->at >= DAEMON_ENV_MEMO_MS)
			memo_clear(m);
		if (m->msg_id == qd->msg_id && strcmp(m->idem, qd->idem_key) == 0)
			return m;
	}
	return NULL;
}

/* memo_put: keep BUNDLE (LEN bytes, the document at DOC_AT; taken over:
 * 1) and a copy of ENV for the other adapters of delivery QD, in place of
 * the oldest slot; 0 when not kept (too large, no memory). */
static int memo_put(struct daemon *d, const struct queue_delivery *qd, char *bundle, size_t len,
                    size_t doc_at, const char *env, int64_t now)
{
	struct env_memo *m = &d->env_memo[0];
	size_t i, elen = strlen(env);
	char *copy;

	if (len > DAEMON_ENV_MEMO_BYTES || elen > DAEMON_ENV_MEMO_BYTES ||
	    strlen(qd->idem_key) >= sizeof(m->idem) || (copy = strdup(env)) == NULL)
		return 0;
	for (i = 1; i < DAEMON_ENV_MEMO && m->msg_id != 0; i++)
		if (d->env_memo[i].msg_id == 0 || d->env_memo[i].at < m->at)
			m = &d->env_memo[i];
	memo_clear(m);
	m->msg_id = qd->msg_id;
	secmx_strlcpy(m->idem, qd->idem_key, sizeof(m->idem));
	m->bundle = bundle;
	m->len = len;
	m->doc_at = doc_at;
	m->env = copy;
	m->at = now;
	return 1;
}

/* op_next: the next delivery due for ADAPTER (bus_ops.next_delivery).
 * Every adapter that takes a document gets its own delivery of the same
 * bundle, asked for within moments of each other: the first reads the
 * bundle and the original back (two reads, three SHA-256 of them, the
 * original in base64), the others take what it made (env_memo). */
static int op_next(void *arg, const char *adapter, struct bus_delivery *out)
{
	struct daemon *d = arg;
	struct queue_delivery qd;
	struct idle_memo *idle;
	struct env_memo *memo;
	char *envtext = NULL, mid[24];
	const char *doc;
	void *buf = NULL;
	size_t len = 0, elen, n, doc_len;
	int64_t now;
	int rc;

	if (d->draining)
		return 0;
	/* Nothing was due a moment ago and nothing happened since that could
	 * change it: do not ask the queue again (an empty query is a
	 * transaction, and the bus asks on every turn of the loop). */
	idle = idle_slot(d, adapter);
	now = mono_ms();
	if (!idle->stale && idle->gen == d->dlv_gen && now - idle->at < IDLE_RECHECK_MS)
		return 0;
	rc = queue_delivery_next(d->q, adapter, d->cfg.ack_timeout_ms * 10, &qd);
	if (rc == 0) {
		idle->gen = d->dlv_gen;
		idle->at = now;
		idle->stale = 0;
	}
	if (rc <= 0)
		return rc;
	if ((memo = memo_find(d, &qd, now)) != NULL) {
		if ((envtext = strdup(memo->env)) == NULL)
			return SECMX_ENOMEM;
		doc = memo->bundle + memo->doc_at;
		doc_len = memo->len - memo->doc_at;
	} else if ((rc = queue_msg_get(d->q, qd.msg_id, &buf, &len)) < 0 ||
	           (rc = bundle_envelope(d, buf, len, qd.idem_key, &envtext, &elen)) < 0) {
		char dq[32];

		queue_delivery_nack(d->q, qd.id, 1, "bundle unreadable");
		/* log_event takes "key=%conv" fields only: the values are built. */
		snprintf(dq, sizeof(dq), "q%lld", (long long)qd.id);
		log_event(LOGL_ERR, "-", "delivery.dead", "delivery=%s reason=%s error=%s", dq,
		          "bundle-unreadable", secmx_strerror(rc));
		free(buf);
		return 0;
	} else {
		doc = (const char *)buf + elen;
		doc_len = len - elen;
		if (memo_put(d, &qd, buf, len, elen, envtext, now))
			buf = NULL; /* kept: the memo's now */
	}
	/* The message id "mN" is the idempotency key's first part (step_route). */
	n = strspn(qd.idem_key + (qd.idem_key[0] == 'm'), "0123456789");
	if (qd.idem_key[0] == 'm' && n > 0 && n < sizeof(mid) - 1)
		snprintf(mid, sizeof(mid), "%.*s", (int)n + 1, qd.idem_key);
	else
		snprintf(mid, sizeof(mid), "-");
	out->delivery_id = malloc(BUS_MAX_ID + 1);
	out->doc = malloc(doc_len + 1);
	if (!out->delivery_id || !out->doc) {
		free(envtext);
		free(out->delivery_id);
		free(out->doc);
		free(buf);
		out->delivery_id = NULL;
		out->doc = NULL;
		return SECMX_ENOMEM;
	}
	/* "<message id>.q<delivery id>": the ACK's log line can name the message. */
	snprintf(out->delivery_id, BUS_MAX_ID + 1, "%s.q%lld", mid, (long long)qd.id);
	memcpy(out->doc, doc, doc_len);
	out->doc_len = doc_len;
	out->envelope = envtext;
	out->attempt = qd.attempts;
	free(buf);
	d->outstanding++;
	log_event(LOGL_DEBUG, mid, "delivery.sent", "adapter=%s delivery=%s idem=%s attempt=%u",
	          adapter, out->delivery_id, qd.idem_key, qd.attempts);
	return 1;
}

/* delivery_num: "mM.qN" → N (0 if malformed); the message id "mM" into MID. */
static int64_t delivery_num(const char *id, char *mid, size_t midlen)
{
	const char *q = id ? strstr(id, ".q") : NULL;
	char *end;
	long long v;

	snprintf(mid, midlen, "-");
	if (q == NULL)
		return 0;
	v = strtoll(q + 2, &end, 10);
	if (*end || v <= 0)
		return 0;
	snprintf(mid, midlen, "%.*s", (int)(q - id), id);
	return (int64_t)v;
}

static void op_ack(void *arg, const char *adapter, const char *delivery_id)
{
	struct daemon *d = arg;
	char mid[BUS_MAX_ID + 1];
	int64_t id = delivery_num(delivery_id, mid, sizeof(mid));
	int rc;

	if (id == 0)
		return;
	/* The transaction's next document to this adapter may be due now (the
	 * order is per adapter: the others' picks are not changed by it). */
	idle_slot(d, adapter)->stale = 1;
	rc = queue_delivery_ack(d->q, id);
	if (rc == 0 && d->outstanding > 0)
		d->outstanding--;
	log_event(rc < 0 ? LOGL_ERR : LOGL_INFO, mid, "delivery.acked",
	          "adapter=%s delivery=%s result=%s", adapter, delivery_id,
	          rc < 0    ? secmx_strerror(rc)
	          : rc == 1 ? "again"
	                    : "ok");
}

static void op_nack(void *arg, const char *adapter, const char *delivery_id, int kind,
                    const char *reason)
{
	struct daemon *d = arg;
	char mid[BUS_MAX_ID + 1];
	int64_t id = delivery_num(delivery_id, mid, sizeof(mid));
	int rc;

	if (id == 0)
		return;
	idle_slot(d, adapter)->stale = 1; /* pending again: for this adapter */
	rc = queue_delivery_nack(d->q, id, kind == BUS_NACK_PERMANENT, reason);
	if (rc >= 0 && d->outstanding > 0)
		d->outstanding--;
	log_event(LOGL_WARNING, mid, "delivery.nacked",
	          "adapter=%s delivery=%s kind=%s result=%s reason=%s", adapter, delivery_id,
	          kind == BUS_NACK_PERMANENT ? "permanent" : "transient",
	          rc < 0    ? secmx_strerror(rc)
	          : rc == 1 ? "dead"
	                    : "retry",
	          reason);
}

/* op_timeout: the bus is about to send delivery DELIVERY_ID again for want
 * of an answer: a failed attempt, which may dead-letter it (attempts, age).
 * Returns 1 when it died (the bus drops it), else 0. */
static int op_timeout(void *arg, const char *adapter, const char *delivery_id)
{
	struct daemon *d = arg;
	char mid[BUS_MAX_ID + 1], why[64];
	int64_t id = delivery_num(delivery_id, mid, sizeof(mid));
	enum log_level level;
	int rc;

	if (id == 0)
		return 0;
	snprintf(why, sizeof(why), "no ACK within %lld ms", (long long)d->cfg.ack_timeout_ms);
	rc = queue_delivery_timeout(d->q, id, d->cfg.ack_timeout_ms * 10, why);
	if (rc == 1) {
		idle_slot(d, adapter)->stale = 1; /* the transaction's next may be due */
		if (d->outstanding > 0)
			d->outstanding--;
	}
	/* SECMX_ESTATE: no longer sent in the queue (the safety net requeued
	 * it): the bus's copy goes out again, which is harmless. */
	level = rc == 1 ? LOGL_WARNING : rc < 0 && rc != SECMX_ESTATE ? LOGL_ERR : LOGL_INFO;
	log_event(level, mid, "delivery.timeout", "adapter=%s delivery=%s result=%s", adapter,
	          delivery_id,
	          rc < 0    ? secmx_strerror(rc)
	          : rc == 1 ? "dead"
	                    : "again");
	return rc == 1;
}

static int op_submit(void *arg, const char *adapter, const struct bus_submit *s, char *message_id,
                     size_t idlen, char *reason, size_t reasonlen)
{
	struct daemon *d = arg;
	struct intake *it;
	int rc;

	(void)message_id, (void)idlen;
	if (d->draining || d->inflight >= d->cfg.intake_inflight) {
		snprintf(reason, reasonlen, "%s; retry later",
		         d->draining ? "shutting down" : "busy");
		return BUS_SUBMIT_REFUSED;
	}
	if ((it = calloc(1, sizeof(*it))) == NULL || (it->data = malloc(s->doc_len + 1)) == NULL) {
		intake_free(it);
		snprintf(reason, reasonlen, "out of memory");
		return BUS_SUBMIT_REFUSED;
	}
	it->is_submit = 1;
	memcpy(it->data, s->doc, s->doc_len);
	it->len = s->doc_len;
	secmx_strlcpy(it->adapter, adapter, sizeof(it->adapter));
	secmx_strlcpy(it->request_id, s->request_id, sizeof(it->request_id));
	secmx_strlcpy(it->key, s->idempotency_key, sizeof(it->key));
	it->in.data = it->data;
	it->in.len = it->len;
	it->in.source = "bus";
	it->in.sender = it->adapter;
	it->in.doc_type = "bus-submit";
	it->in.doc_id = it->key;
	it->in.same_bytes = 1; /* the idempotency key promises the content */
	if ((rc = queue_msg_submit(d->q, &it->in, put_cb, it)) < 0) {
		snprintf(reason, reasonlen, "not stored: %s", secmx_strerror(rc));
		intake_free(it);
		return BUS_SUBMIT_REFUSED;
	}
	d->inflight++;
	return BUS_SUBMIT_PENDING;
}

static void op_log(void *arg, int level, const char *line)
{
	static const enum log_level map[] = {LOGL_DEBUG, LOGL_INFO, LOGL_WARNING, LOGL_ERR};

	(void)arg;
	log_event(map[level >= 0 && level <= 3 ? level : 1], "-", "bus", "line=%s", line);
}

/* ---- events ---- */

static void on_bus(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	pump(arg);
}

/* start_drain: stop intake and workers; the loop ends when commits and
 * acknowledgements are in (or the drain timeout passed). */
static void start_drain(struct daemon *d)
{
	struct timeval tv = {0, 50000};
	size_t i;

	if (d->draining)
		return;
	d->draining = 1;
	log_event(LOGL_NOTICE, "-", "daemon.draining", "inflight=%ld outstanding=%ld", d->inflight,
	          d->outstanding);
	evtimer_del(d->ev_scan);
	if (d->ev_ino)
		event_del(d->ev_ino);
	atomic_store(&d->stopping, 1);
	for (i = 0; i < d->nthreads; i++)
		daemon__efd_signal(d->work_efd);
	for (i = 0; i < d->nthreads; i++)
		pthread_join(d->threads[i], NULL);
	d->nthreads = 0;
	d->drain_deadline = daemon__now_ms() + d->cfg.drain_timeout_ms;
	evtimer_add(d->ev_drain, &tv);
}

static void on_drain(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	struct timeval tv = {0, 50000};
	struct queue_stats qs;

	(void)fd, (void)what;
	pump(d);
	if (d->inflight == 0 && (d->outstanding <= 0 || daemon__now_ms() >= d->drain_deadline)) {
		log_event(LOGL_NOTICE, "-", "daemon.drained", "unacknowledged=%ld processed=%lu",
		          d->outstanding, (unsigned long)atomic_load(&d->processed));
		queue_stats(d->q, &qs);
		log_event(LOGL_NOTICE, "-", "queue.stats",
		          "puts=%lu put_commits=%lu commits=%lu operations=%lu max_batch=%lu "
		          "lazy=%lu syncs=%lu",
		          (unsigned long)qs.puts, (unsigned long)qs.commits,
		          (unsigned long)qs.batches, (unsigned long)qs.batched_ops,
		          (unsigned long)qs.max_batch_ops, (unsigned long)qs.lazy_ops,
		          (unsigned long)qs.syncs);
		event_base_loopbreak(d->base);
		return;
	}
	evtimer_add(d->ev_drain, &tv);
}

/* on_durable: (the queue's sync thread) more batches are durable, so
 * deliveries may be due: wake the bus side. */
static void on_durable(void *arg)
{
	struct daemon *d = arg;

	daemon__efd_signal(d->deliver_efd);
}

/* on_committed: (whichever thread committed, the queue's lock held) a
 * batch that stored N new messages was committed: wake as many workers
 * (at most all of them), which claim them while the batch is synced. Their
 * writes join later batches, so a crash before this sync takes them back
 * with the messages; the intake still answers only once durable. */
static void on_committed(void *arg, unsigned n)
{
	struct daemon *d = arg;
	uint64_t w = (uint64_t)d->cfg.workers, v = n < w ? n : w;

	if (v > 0 && d->work_efd >= 0 && write(d->work_efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return; /* the counter is full: wake-ups are pending anyway */
}

/* on_deliver: the queue made more batches durable (on_durable), workers
 * routed something (without group commit only: under it their deliveries
 * go out once on_durable says so), or daemon_stop was called. */
static void on_deliver(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	uint64_t v;

	(void)what;
	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return;
	d->dlv_gen++; /* new deliveries were routed */
	if (d->stop_requested)
		start_drain(d);
	pump(d);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	(void)what;
	if (sig == SIGHUP) {
		daemon_reload(d);
		return;
	}
	log_event(LOGL_NOTICE, "-", "daemon.signal", "signal=%s", sig == SIGTERM ? "TERM" : "INT");
	start_drain(d);
}

/* on_requeue: safety net: deliveries far past their ack deadline (the bus
 * lost them, e.g. the adapter's name never came back) are offered again. */
static void on_requeue(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	int n;

	(void)fd, (void)what;
	if ((n = queue_delivery_requeue(d->q, NULL, 0)) > 0) {
		d->dlv_gen++;
		log_event(LOGL_NOTICE, "-", "delivery.requeued", "count=%d", n);
		pump(d);
	}
}

/* daemon_reload: see daemon.h. */
int daemon_reload(struct daemon *d)
{
	struct daemon_config next;
	char restart[1024] = "", err[1024] = "";
	struct kit *kit = NULL;
	int rc;

	rc = config_reload(&daemon_config_table, d->config_file, &d->cfg, &next, restart,
	                   sizeof(restart), err, sizeof(err));
	if (rc < 0) {
		log_event(LOGL_ERR, "-", "config.reload-refused", "error=%s", err);
		return rc;
	}
	if ((rc = kit_build(&next, &kit, err, sizeof(err))) < 0) {
		log_event(LOGL_ERR, "-", "config.reload-refused", "error=%s", err);
		config_free(&daemon_config_table, &next);
		return rc;
	}
	config_free(&daemon_config_table, &d->cfg);
	d->cfg = next;
	log_set_level((enum log_level)d->cfg.log_level);
	rc = publish(d, kit);
	daemon__kit_put(kit);
	log_event(LOGL_NOTICE, "-", "config.reloaded", "file=%s routes=%zu restart_needed=%s",
	          d->config_file, d->cfg.routes.n, restart[0] ? restart : "none");
	return rc;
}

/* lock_queue: take QUEUE_DB.lock (created mode 0640, never removed) with an
 * exclusive, non-blocking flock() held until the process ends, and write
 * our pid in it for the operator. Another secmxd on the same queue holds
 * it: SECMX_ECONFIG with its pid. SECMX_EIO when the file cannot be had. */
static int lock_queue(struct daemon *d, char *err, size_t errlen)
{
	char path[PATH_MAX], pid[32] = "";
	ssize_t n;
	int len;

	if (snprintf(path, sizeof(path), "%s.lock", d->cfg.queue_db) >= (int)sizeof(path)) {
		secmx_errf(err, errlen, "queue.db: %s.lock: path too long", d->cfg.queue_db);
		return SECMX_ELIMIT;
	}
	d->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (d->lock_fd < 0) {
		secmx_errf(err, errlen, "queue.db: %s: %s", path, strerror(errno));
		return SECMX_EIO;
	}
	if (flock(d->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;

		if (e != EWOULDBLOCK) {
			secmx_errf(err, errlen, "queue.db: flock %s: %s", path, strerror(e));
			return SECMX_EIO;
		}
		n = pread(d->lock_fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		secmx_errf(err, errlen,
		           "queue.db: another secmxd (pid %s) is running on %s: it holds %s",
		           *pid ? pid : "unknown", d->cfg.queue_db, path);
		return SECMX_ECONFIG;
	}
	len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(d->lock_fd, 0) < 0 || pwrite(d->lock_fd, pid, (size_t)len, 0) != len) {
		secmx_errf(err, errlen, "queue.db: writing %s: %s", path, strerror(errno));
		return SECMX_EIO;
	}
	return 0;
}

/* daemon_new: see daemon.h. */
int daemon_new(const char *config_file, const struct daemon_config *cfg, struct daemon **out,
               char *err, size_t errlen)
{
	struct daemon *d = calloc(1, sizeof(*d));
	struct queue_config qc;
	struct bus_config bc;
	struct bus_ops ops = {NULL,    op_hello,  op_next, op_ack,
	                      op_nack, op_submit, op_log,  op_timeout};
	struct queue_recovery rec;
	struct kit *kit = NULL;
	struct timeval tv = {0, 0};
	size_t i;
	int rc;

	*out = NULL;
	if (d == NULL)
		return SECMX_ENOMEM;
	d->deliver_efd = d->work_efd = d->done_pipe[0] = d->done_pipe[1] = d->ino_fd = -1;
	d->lock_fd = -1;
	pthread_mutex_init(&d->snap_lock, NULL);
	if ((d->config_file = strdup(config_file)) == NULL) {
		rc = SECMX_ENOMEM;
		goto fail;
	}
	/* A deep copy of CFG through the file again is the simplest: reload
	 * with no reloadable change gives exactly CFG. */
	if ((rc = config_reload(&daemon_config_table, config_file, cfg, &d->cfg, NULL, 0, err,
	                        errlen)) < 0)
		goto fail;
	if ((rc = kit_build(&d->cfg, &kit, err, errlen)) < 0)
		goto fail;
	queue_config_default(&qc);
	qc.group_commit = d->cfg.group_commit;
	qc.group_lazy_us = (unsigned)(d->cfg.batch_hold_ms * 1000);
	qc.backoff_base_ms = d->cfg.retry_base_ms;
	qc.backoff_max_ms = d->cfg.retry_max_ms;
	qc.max_attempts = (unsigned)d->cfg.max_attempts;
	qc.max_age_ms = d->cfg.max_age_ms;
	qc.delivery_max_attempts = (unsigned)d->cfg.delivery_max_attempts;
	qc.delivery_max_age_ms = d->cfg.delivery_max_age_ms;
	qc.dup_policy = (enum queue_dup_policy)d->cfg.duplicates;
	qc.ack_timeout_ms = d->cfg.ack_timeout_ms;
	qc.recover = 0;
	qc.on_durable = on_durable;
	qc.on_committed = on_committed;
	qc.durable_arg = d;
	d->deliver_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (d->deliver_efd < 0) {
		secmx_errf(err, errlen, "eventfd: %s", strerror(errno));
		rc = SECMX_EIO;
		goto fail;
	}
	/* Before the queue and the bus: a second daemon must touch neither. */
	if ((rc = lock_queue(d, err, errlen)) < 0)
		goto fail;
	if ((rc = queue_open(d->cfg.queue_db, &qc, &d->q, err, errlen)) < 0)
		goto fail;
	/* We are the store's only worker (lock_queue): everything in flight
	 * was ours. */
	if ((rc = queue_recover(d->q, 1, &rec)) < 0) {
		secmx_errf(err, errlen, "queue recovery: %s", secmx_strerror(rc));
		goto fail;
	}
	log_event(LOGL_NOTICE, "-", "queue.recovered", "leases=%u deliveries=%u",
	          rec.leases_released, rec.deliveries_requeued);
	/* Semaphore mode: one wake-up per message stored, taken by one worker
	 * (the others stay asleep instead of all claiming at once). */
	d->work_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC | EFD_SEMAPHORE);
	if (d->work_efd < 0 || pipe2(d->done_pipe, O_CLOEXEC) < 0) {
		secmx_errf(err, errlen, "eventfd/pipe: %s", strerror(errno));
		rc = SECMX_EIO;
		goto fail;
	}
	fcntl(d->done_pipe[0], F_SETFL, O_NONBLOCK);
	g_done_fd = d->done_pipe[1];
	if (publish(d, kit) < 0) {
		rc = SECMX_ENOMEM;
		goto fail;
	}
	bus_config_default(&bc);
	bc.endpoint = d->cfg.endpoint;
	bc.curve_secret_file = d->cfg.curve_secret;
	bc.allow_list_file = d->cfg.allow_list;
	bc.ipc_mode = d->cfg.ipc_mode == 1 ? 0660 : 0600;
	bc.heartbeat_ms = (int)d->cfg.heartbeat_ms;
	bc.dead_ms = (int)d->cfg.heartbeat_ms * 3;
	bc.ack_timeout_ms = (int)d->cfg.ack_timeout_ms;
	ops.arg = d;
	if ((rc = bus_new(&bc, &ops, &d->bus, err, errlen)) < 0)
		goto fail;
	if (d->cfg.drop_dir) {
		if (path_join(d->taking, sizeof(d->taking), d->cfg.drop_dir, ".taking") < 0 ||
		    (mkdir(d->taking, 0700) < 0 && errno != EEXIST)) {
			secmx_errf(err, errlen, "intake.drop_dir: cannot create %s/.taking",
			           d->cfg.drop_dir);
			rc = SECMX_ECONFIG;
			goto fail;
		}
	}
	if ((d->base = event_base_new()) == NULL) {
		rc = SECMX_ENOMEM;
		goto fail;
	}
	d->ev_bus = event_new(d->base, bus_fd(d->bus), EV_READ | EV_PERSIST, on_bus, d);
	d->ev_bus_timer = evtimer_new(d->base, on_bus, d);
	d->ev_scan = evtimer_new(d->base, on_scan, d);
	d->ev_deliver = event_new(d->base, d->deliver_efd, EV_READ | EV_PERSIST, on_deliver, d);
	d->ev_done = event_new(d->base, d->done_pipe[0], EV_READ | EV_PERSIST, on_done, d);
	d->ev_sigterm = evsignal_new(d->base, SIGTERM, on_signal, d);
	d->ev_sigint = evsignal_new(d->base, SIGINT, on_signal, d);
	d->ev_sighup = evsignal_new(d->base, SIGHUP, on_signal, d);
	d->ev_requeue = event_new(d->base, -1, EV_PERSIST, on_requeue, d);
	d->ev_drain = evtimer_new(d->base, on_drain, d);
	if (!d->ev_bus || !d->ev_bus_timer || !d->ev_scan || !d->ev_deliver || !d->ev_done ||
	    !d->ev_sigterm || !d->ev_sigint || !d->ev_sighup || !d->ev_requeue || !d->ev_drain) {
		rc = SECMX_ENOMEM;
		goto fail;
	}
	/* inotify: a rename into the drop directory is taken at once; without
	 * it (no inotify, too many watches) the poll timer alone remains. */
	if (d->cfg.drop_dir) {
		d->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (d->ino_fd < 0 ||
		    inotify_add_watch(d->ino_fd, d->cfg.drop_dir, IN_MOVED_TO) < 0 ||
		    (d->ev_ino = event_new(d->base, d->ino_fd, EV_READ | EV_PERSIST, on_ino, d)) ==
		        NULL ||
		    event_add(d->ev_ino, NULL) < 0)
			log_event(LOGL_WARNING, "-", "intake.no-inotify", "dir=%s errno=%d",
			          d->cfg.drop_dir, errno);
	}
	event_add(d->ev_bus, NULL);
	event_add(d->ev_deliver, NULL);
	event_add(d->ev_done, NULL);
	event_add(d->ev_sigterm, NULL);
	event_add(d->ev_sigint, NULL);
	event_add(d->ev_sighup, NULL);
	tv.tv_sec = d->cfg.ack_timeout_ms / 1000 + 1;
	event_add(d->ev_requeue, &tv);
	/* Files left in .taking by a crash first, then the drop directory. */
	if (d->cfg.drop_dir) {
		scan_dir(d, d->taking, 1);
		tv.tv_sec = 0;
		tv.tv_usec = 0;
		evtimer_add(d->ev_scan, &tv);
	}
	if ((d->threads = calloc((size_t)d->cfg.workers, sizeof(pthread_t))) == NULL) {
		rc = SECMX_ENOMEM;
		goto fail;
	}
	for (i = 0; i < (size_t)d->cfg.workers; i++) {
		if (pthread_create(&d->threads[i], NULL, daemon__worker, d) != 0) {
			secmx_errf(err, errlen, "cannot start worker threads");
			rc = SECMX_EINTERNAL;
			goto fail;
		}
		d->nthreads++;
	}
	daemon__kit_put(kit);
	log_event(LOGL_NOTICE, "-", "daemon.started",
	          "version=%s endpoint=%s workers=%lld drop_dir=%s", SECMX_VERSION,
	          bus_endpoint(d->bus), d->cfg.workers, d->cfg.drop_dir ? d->cfg.drop_dir : "-");
	*out = d;
	return 0;
fail:
	daemon__kit_put(kit);
	daemon_free(d);
	return rc;
}

/* daemon_run: see daemon.h. */
int daemon_run(struct daemon *d)
{
	pump(d);
	if (event_base_dispatch(d->base) < 0)
		return SECMX_EINTERNAL;
	return 0;
}

/* daemon_stop: see daemon.h. */
void daemon_stop(struct daemon *d)
{
	d->stop_requested = 1;
	daemon__efd_signal(d->deliver_efd);
}

/* daemon_free: see daemon.h. */
void daemon_free(struct daemon *d)
{
	size_t i;

	if (d == NULL)
		return;
	atomic_store(&d->stopping, 1);
	for (i = 0; i < d->nthreads; i++)
		daemon__efd_signal(d->work_efd);
	for (i = 0; i < d->nthreads; i++)
		pthread_join(d->threads[i], NULL);
	free(d->threads);
	if (d->ev_bus)
		event_free(d->ev_bus);
	if (d->ev_bus_timer)
		event_free(d->ev_bus_timer);
	if (d->ev_scan)
		event_free(d->ev_scan);
	if (d->ev_deliver)
		event_free(d->ev_deliver);
	if (d->ev_done)
		event_free(d->ev_done);
	if (d->ev_sigterm)
		event_free(d->ev_sigterm);
	if (d->ev_sigint)
		event_free(d->ev_sigint);
	if (d->ev_sighup)
		event_free(d->ev_sighup);
	if (d->ev_requeue)
		event_free(d->ev_requeue);
	if (d->ev_drain)
		event_free(d->ev_drain);
	if (d->ev_ino)
		event_free(d->ev_ino);
	if (d->ino_fd >= 0)
		close(d->ino_fd);
	bus_free(d->bus);
	for (i = 0; i < DAEMON_ENV_MEMO; i++)
		memo_clear(&d->env_memo[i]);
	queue_close(d->q); /* waits for every submitted put's callback */
	if (d->done_pipe[0] >= 0) {
		struct intake *it;

		while (read(d->done_pipe[0], &it, sizeof(it)) == (ssize_t)sizeof(it))
			intake_free(it);
	}
	if (d->base)
		event_base_free(d->base);
	daemon__snap_put(d->snap);
	routes_free(d->hello, d->nhello);
	if (d->deliver_efd >= 0)
		close(d->deliver_efd);
	if (d->work_efd >= 0)
		close(d->work_efd);
	if (d->done_pipe[0] >= 0) {
		close(d->done_pipe[0]);
		close(d->done_pipe[1]);
	}
	config_free(&daemon_config_table, &d->cfg);
	free(d->config_file);
	pthread_mutex_destroy(&d->snap_lock);
	if (d->lock_fd >= 0)
		close(d->lock_fd); /* last: the queue is closed */
	free(d);
}
