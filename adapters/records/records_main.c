/*
 * records_main.c — secmx-records: the records archive adapter and its
 * commands (docs/records.md).
 *
 *   secmx-records [-c FILE | --store DIR] [--now DATE] COMMAND ...
 *     run [--timeout MS]       the adapter loop (needs -c), by bursts
 *                              (adapter_run_batch): every delivery of a
 *                              burst is stored in one batch (records_ingest
 *                              after records_batch_begin), the batch made
 *                              durable once (records_batch_commit), and
 *                              only then are the ACKs sent; a bad envelope
 *                              is NACKed permanently (alone), a store
 *                              failure transiently. SIGTERM/SIGINT stop it;
 *                              SIGHUP reloads records.retention and
 *                              records.log_level.
 *     list [--json]            show ID [--json]
 *     verify [--readonly]      exit 0 intact, 1 damaged (lines on stdout)
 *     export (--from D --to D | --txn KEY) -o DIR [--by WHO]
 *     dispose --due | --approve ID --by WHO --reason TEXT | --execute --by WHO
 *
 * Configuration: the [records] section (records_table below, typed INI from
 * common/). The adapter sees only the SDK (secmx_adapter.h) and common/.
 * --help (or -h), anywhere: the synopsis on standard output, exit 0; a
 * usage error prints it on standard error, exit 2.
 * Exit status: 0 success, 1 verify found damage or an action was refused,
 * 2 usage or configuration error, 3 I/O or store error.
 */
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "records.h"
#include "records_config.h"
#include "secmx_adapter.h"

/* The running adapter and the signal flags (set by the handlers). */
static struct adapter *g_adapter;
static volatile sig_atomic_t g_stop, g_hup;

/* on_signal: stop the adapter loop. */
static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
	if (g_adapter)
		adapter_stop(g_adapter);
}

/* on_hangup: reload the reloadable keys (between deliveries). */
static void on_hangup(int sig)
{
	(void)sig;
	g_hup = 1;
	if (g_adapter)
		adapter_stop(g_adapter);
}

/* synopsis: the usage text on FP. */
static void synopsis(FILE *fp)
{
	fputs("usage: secmx-records [-c FILE | --store DIR [--org NAME]] [--now DATE] COMMAND\n"
	      "  run [--timeout MS]\n"
	      "  list [--json]\n"
	      "  show ID [--json]\n"
	      "  verify [--readonly]\n"
	      "  export (--from YYYY-MM-DD --to YYYY-MM-DD | --txn KEY) -o DIR [--by WHO]\n"
	      "  dispose --due | --approve ID --by WHO --reason TEXT | --execute --by WHO\n",
	      fp);
}

/* usage: a usage error: the synopsis, to stderr; returns 2. */
static int usage(void)
{
	synopsis(stderr);
	return 2;
}

/* read_key: a Z85 key file (40 characters, optional newline) into KEY. */
static int read_key(const char *path, char key[41])
{
	char *buf = NULL;
	size_t len = 0;

	if (secmx_file_read(path, 128, &buf, &len) < 0)
		return SECMX_EIO;
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	if (len != 40) {
		free(buf);
		return SECMX_EKEY;
	}
	memcpy(key, buf, 40);
	key[40] = '\0';
	free(buf);
	return 0;
}

/* adapter_log: SDK log lines into our log. */
static void adapter_log(void *arg, const char *line)
{
	(void)arg;
	log_event(LOGL_INFO, "-", "records.bus", "line=%s", line);
}

/* A log line of the open burst, written once the burst is committed: its
 * fields, not its text (log_event() takes only "key=%conv" formats; a held
 * "%s" of text lost every field, fmt_error=1). */
struct held_line {
	char key[BUS_MAX_KEY + 1];
	char record[64];
	char type[BUS_MAX_ID + 1];
	char delivery[BUS_MAX_ID + 1];
	long attempt;
	int stored; /* 1 stored, 0 duplicate */
};

struct run_ctx {
	struct records *r;
	const struct records_cfg *cfg; /* name: the actor of "received" entries */
	unsigned long stored, duplicates, failed;
	struct held_line *held; /* the open burst's ACKed deliveries */
	size_t nheld, capheld;
	unsigned long bursts, burst_max;
};

/* hold: keep the line of an ACKed delivery until its burst is committed
 * (written at once when out of memory). */
static void hold(struct run_ctx *c, const char *key, int stored, const char *id,
                 const struct adapter_delivery *d)
{
	struct held_line *h;

	if (c->nheld == c->capheld) {
		size_t cap = c->capheld ? 2 * c->capheld : 16;

		if (!(h = realloc(c->held, cap * sizeof(*h)))) {
			log_event(LOGL_INFO, key, stored ? "records.stored" : "records.duplicate",
			          "record=%s type=%s delivery=%s attempt=%ld", id, d->document_type,
			          d->delivery_id, d->attempt);
			return;
		}
		c->held = h;
		c->capheld = cap;
	}
	h = &c->held[c->nheld++];
	secmx_strlcpy(h->key, key, sizeof(h->key));
	secmx_strlcpy(h->record, id, sizeof(h->record));
	secmx_strlcpy(h->type, d->document_type, sizeof(h->type));
	secmx_strlcpy(h->delivery, d->delivery_id, sizeof(h->delivery));
	h->attempt = d->attempt;
	h->stored = stored;
}

/* deliver: store one delivery of a burst in the burst's batch (objects as
 * temp files, index rows in the open transaction); ACK, or NACK on
 * failure. flush() makes the burst durable before any ACK leaves. */
static int deliver(void *arg, const struct adapter_delivery *d, char *reason, size_t reasonlen)
{
	struct run_ctx *c = arg;
	char id[64] = "", err[256] = "";
	int rc;

	rc = records_batch_begin(c->r, err, sizeof(err));
	if (rc == 0)
		rc = records_ingest(c->r, d->envelope_json, d->doc, d->doc_len, c->cfg->name, id,
		                    sizeof(id), err, sizeof(err));
	if (rc >= 0) {
		hold(c, d->idempotency_key, rc == 1, id, d);
		return ADAPTER_ACK;
	}
	snprintf(reason, reasonlen, "records: %s: %s", secmx_strerror(rc), err);
	log_event(LOGL_ERR, d->idempotency_key, "records.failed", "delivery=%s error=%s reason=%s",
	          d->delivery_id, secmx_strerror(rc), err);
	c->failed++;
	return rc == SECMX_EPARSE || rc == SECMX_ELIMIT ? ADAPTER_NACK_PERMANENT
	                                                : ADAPTER_NACK_TRANSIENT;
}

/* flush: the end of a burst: its objects fsynced and renamed, then the
 * index (records and chain entries) committed once, then chain.head; the
 * SDK sends the burst's ACKs after this returned 0 (transient NACKs when
 * it returns -1: the batch was rolled back). */
static int flush(void *arg)
{
	struct run_ctx *c = arg;
	char err[256] = "";
	size_t i, n = c->nheld;
	struct timespec t0, t1;
	long long us;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = records_batch_commit(c->r, err, sizeof(err));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	us = (long long)(t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000;
	c->nheld = 0;
	if (rc < 0) {
		log_event(LOGL_ERR, "-", "records.commit-failed", "deliveries=%zu error=%s", n,
		          err);
		c->failed += n;
		return -1;
	}
	for (i = 0; i < n; i++) {
		struct held_line *h = &c->held[i];

		log_event(LOGL_INFO, h->key, h->stored ? "records.stored" : "records.duplicate",
		          "record=%s type=%s delivery=%s attempt=%ld", h->record, h->type,
		          h->delivery, h->attempt);
		if (h->stored)
			c->stored++;
		else
			c->duplicates++;
	}
	if (n > 0) {
		c->bursts++;
		if (n > c->burst_max)
			c->burst_max = n;
		/* the flush's duration: how long the burst's ACKs waited for the disk */
		log_event(LOGL_INFO, "-", "records.committed", "deliveries=%zu flush_us=%lld", n, us);
	}
	return 0;
}

/* reload: SIGHUP: take records.retention and records.log_level from FILE
 * (all or nothing); other changed keys are logged as needing a restart. */
static void reload(const char *file, struct records_cfg *cfg, struct records *r)
{
	struct records_cfg next;
	char restart[512] = "", err[512] = "";
	int rc;

	rc = config_reload(&records_config_table, file, cfg, &next, restart, sizeof(restart), err,
	                   sizeof(err));
	if (rc < 0) {
		log_event(LOGL_ERR, "-", "records.reload", "status=%s error=%s", "refused", err);
		return;
	}
	if (records_set_retention(r, (const char *const *)next.retention.v, next.retention.n, err,
	                          sizeof(err)) < 0) {
		log_event(LOGL_ERR, "-", "records.reload", "status=%s error=%s", "refused", err);
		config_free(&records_config_table, &next);
		return;
	}
	log_set_level((enum log_level)next.log_level);
	config_free(&records_config_table, cfg);
	*cfg = next;
	log_event(LOGL_NOTICE, "-", "records.reload", "status=%s classes=%zu restart_needed=%s",
	          "ok", cfg->retention.n, restart[0] ? restart : "-");
}

/* cmd_run: the adapter loop. */
static int cmd_run(const char *file, struct records_cfg *cfg, struct records *r, long timeout_ms)
{
	struct adapter_config ac;
	struct run_ctx ctx = {.r = r, .cfg = cfg};
	struct sigaction sa;
	char spub[41], pub[41], sec[41], err[256] = "";
	int rc;

	adapter_config_default(&ac);
	ac.endpoint = cfg->endpoint;
	ac.name = cfg->name;
	ac.patterns = (const char *const *)cfg->patterns.v;
	ac.npatterns = cfg->patterns.n;
	ac.credit = (int)cfg->credit;
	ac.log = adapter_log;
	if (cfg->server_public_key) { /* then all three, and tcp:// has them: the table's check */
		if (read_key(cfg->server_public_key, spub) < 0 ||
		    read_key(cfg->public_key, pub) < 0 || read_key(cfg->secret_key, sec) < 0) {
			fprintf(stderr, "secmx-records: a CURVE key file is unreadable or not 40 "
			                "Z85 characters\n");
			return 2;
		}
		ac.server_public_key = spub;
		ac.public_key = pub;
		ac.secret_key = sec;
	}
	if ((rc = adapter_new(&ac, &g_adapter, err, sizeof(err))) < 0) {
		memset(sec, 0, sizeof(sec));
		fprintf(stderr, "secmx-records: %s: %s\n", secmx_strerror(rc), err);
		return 3;
	}
	memset(sec, 0, sizeof(sec)); /* the SDK keeps its own copy */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_hangup;
	sigaction(SIGHUP, &sa, NULL);
	log_event(LOGL_NOTICE, "-", "records.start", "name=%s endpoint=%s store=%s", cfg->name,
	          cfg->endpoint, cfg->store_dir);
	for (rc = 0; !g_stop;) {
		rc = adapter_run_batch(g_adapter, deliver, flush, &ctx, (int)timeout_ms);
		if (rc < 0 || !g_hup)
			break;
		g_hup = 0;
		reload(file, cfg, r);
	}
	log_event(LOGL_NOTICE, "-", "records.stop",
	          "stored=%lu duplicates=%lu failed=%lu bursts=%lu largest_burst=%lu status=%s",
	          ctx.stored, ctx.duplicates, ctx.failed, ctx.bursts, ctx.burst_max,
	          secmx_strerror(rc));
	adapter_free(g_adapter);
	g_adapter = NULL;
	records_batch_rollback(r); /* none open: flush ends every burst */
	free(ctx.held);
	return rc < 0 ? 3 : 0;
}

/* who: --by, else the login name. */
static const char *who(const char *by)
{
	struct passwd *pw;

	if (by)
		return by;
	pw = getpwuid(getuid());
	return pw ? pw->pw_name : "unknown";
}

/* exit_for: an exit status for a library error. */
static int exit_for(int rc)
{
	if (rc == SECMX_ESTATE || rc == SECMX_ENOTFOUND)
		return 1;
	if (rc == SECMX_EINVAL || rc == SECMX_ECONFIG)
		return 2;
	return 3;
}

/* main: parse the options, load the configuration, open the store, run the command. */
int main(int argc, char **argv)
{
	struct records_cfg cfg;
	struct records *r = NULL;
	const char *conf = NULL, *store = NULL, *now = NULL, *cmd = NULL, *arg = NULL;
	const char *from = NULL, *to = NULL, *txn = NULL, *outdir = NULL, *by = NULL;
	const char *approve = NULL, *reason = NULL, *org = NULL;
	char err[512] = "";
	long timeout = -1;
	int json = 0, readonly = 0, execute = 0, due = 0, loaded = 0, i, rc, status = 0;
	time_t t;

	memset(&cfg, 0, sizeof(cfg));
	umask(027); /* records are not for other users; objects 0640, dirs 0750 */
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

#define OPT(name, var)                                                                             \
	if (strcmp(a, name) == 0) {                                                                \
		if (!v)                                                                            \
			return usage();                                                            \
		var = v;                                                                           \
		i++;                                                                               \
		continue;                                                                          \
	}
		OPT("-c", conf)
		OPT("--store", store)
		OPT("--now", now)
		OPT("--from", from)
		OPT("--to", to)
		OPT("--txn", txn)
		OPT("-o", outdir)
		OPT("--by", by)
		OPT("--approve", approve)
		OPT("--reason", reason)
		OPT("--org", org)
#undef OPT
		if (strcmp(a, "--timeout") == 0 && v) {
			char *end;

			timeout = strtol(v, &end, 10);
			if (*end || timeout < 0)
				return usage();
			i++;
		} else if (strcmp(a, "--json") == 0) {
			json = 1;
		} else if (strcmp(a, "--readonly") == 0) {
			readonly = 1;
		} else if (strcmp(a, "--execute") == 0) {
			execute = 1;
		} else if (strcmp(a, "--due") == 0) {
			due = 1;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			/* Asked for: on standard output, and not an error. */
			synopsis(stdout);
			return 0;
		} else if (a[0] == '-') {
			return usage();
		} else if (!cmd) {
			cmd = a;
		} else if (!arg) {
			arg = a;
		} else {
			return usage();
		}
	}
	if (!cmd || (!conf && !store) || (conf && store))
		return usage();
	if (conf) {
		if ((rc = config_load(&records_config_table, conf, &cfg, err, sizeof(err))) < 0) {
			fprintf(stderr, "secmx-records: %s\n", err);
			return 2;
		}
		loaded = 1;
		store = cfg.store_dir;
		if (!org)
			org = cfg.organisation;
		log_open("secmx-records", LOG_DEST_STDERR, (enum log_level)cfg.log_level);
	} else if (strcmp(cmd, "run") == 0) {
		fprintf(stderr, "secmx-records: run needs -c FILE\n");
		return 2;
	}
	if ((rc = records_open(store, strcmp(cmd, "run") == 0, &r, err, sizeof(err))) < 0) {
		fprintf(stderr, "secmx-records: %s\n", err);
		status = 3;
		goto out;
	}
	if (now) {
		if (records_parse_time(now, &t) < 0) {
			fprintf(stderr,
			        "secmx-records: --now %s: want YYYY-MM-DD or RFC 3339 UTC\n", now);
			status = 2;
			goto out;
		}
		records_set_now(r, t);
	}
	if (loaded && (rc = records_set_retention(r, (const char *const *)cfg.retention.v,
	                                          cfg.retention.n, err, sizeof(err))) < 0) {
		fprintf(stderr, "secmx-records: %s: records.retention: %s\n", conf, err);
		status = 2;
		goto out;
	}

	if (loaded)
		records_set_two_person(r, cfg.disposal_two_person);
	if (loaded && (rc = records_set_sync(r, (enum records_sync)cfg.sync, err, sizeof(err))) < 0) {
		fprintf(stderr, "secmx-records: %s: records.sync: %s\n", conf, err);
		status = 2;
		goto out;
	}

	if (strcmp(cmd, "run") == 0) {
		status = cmd_run(conf, &cfg, r, timeout);
	} else if (strcmp(cmd, "list") == 0) {
		status = records_list(r, stdout, json) < 0 ? 3 : 0;
	} else if (strcmp(cmd, "show") == 0) {
		if (!arg) {
			status = usage();
			goto out;
		}
		rc = records_show(r, arg, stdout, json);
		if (rc == SECMX_ENOTFOUND)
			fprintf(stderr, "secmx-records: no record %s\n", arg);
		status = rc < 0 ? exit_for(rc) : 0;
	} else if (strcmp(cmd, "verify") == 0) {
		rc = records_verify(r, stdout, !readonly, who(by));
		status = rc < 0 ? 3 : rc > 0 ? 1 : 0;
	} else if (strcmp(cmd, "export") == 0) {
		struct records_select sel = {from, to, txn};

		if (!outdir || (txn && (from || to))) {
			status = usage();
			goto out;
		}
		rc = records_export(r, &sel, outdir, org ? org : "(organisation not configured)",
		                    who(by), err, sizeof(err));
		if (rc < 0)
			fprintf(stderr, "secmx-records: export: %s\n", err);
		else
			printf("exported %d records to %s\n", rc, outdir);
		status = rc < 0 ? exit_for(rc) : 0;
	} else if (strcmp(cmd, "dispose") == 0) {
		if (due + execute + (approve != NULL) != 1) {
			status = usage();
			goto out;
		}
		if (due)
			rc = records_dispose_due(r, stdout);
		else if (approve)
			rc = records_dispose_approve(r, approve, by, reason, err, sizeof(err));
		else
			rc = records_dispose_execute(r, by, stdout, err, sizeof(err));
		if (rc < 0)
			fprintf(stderr, "secmx-records: dispose: %s\n", err);
		else if (approve)
			printf("approved %s for disposal by %s\n", approve, by);
		status = rc < 0 ? exit_for(rc) : 0;
	} else {
		status = usage();
	}
out:
	records_close(r);
	if (loaded)
		config_free(&records_config_table, &cfg);
	return status;
}
