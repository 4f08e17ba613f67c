/*
 * finance_main.c — secmx-finance, the accounts-payable adapter: the program.
 *
 *   secmx-finance run     [-c FILE]                       the adapter loop
 *   secmx-finance list    [-c FILE] [--status S] [--since DATE] [--json]
 *   secmx-finance approve [-c FILE] [--supplier KEY] INVOICE-ID
 *   secmx-finance export  [-c FILE] [--since DATE] -o FILE.csv
 *   secmx-finance pay     [-c FILE] [--supplier KEY] [--date D] [--amount A] INVOICE-ID
 *
 * run: connect to the bus (adapter SDK), say HELLO for finance.patterns, and
 * take deliveries by bursts (adapter_run_batch; a burst is what arrived,
 * at most finance.credit). For each delivery: ACK if the ledger already
 * holds its idempotency key; otherwise read the UBL document, apply the
 * envelope (match status, approval state) and record it in the burst's one
 * database transaction, under a savepoint of its own. At the end of the
 * burst the transaction is committed (keys and documents together: exactly
 * once), and only then does the SDK send the burst's ACKs; a failed commit
 * turns them into transient NACKs. NACK choice: permanent for a document
 * that can never be recorded (not well-formed, DOCTYPE, not an invoice or
 * credit note, required fields missing, or refused by the database for its
 * data: a constraint or trigger — rolled back to its savepoint alone),
 * transient when the ledger is unavailable (the queue offers it again).
 * SIGTERM/SIGINT stop after the current burst.
 * pay: mark an approved invoice paid (the ledger first, so a crash cannot
 * send a remittance for an unpaid invoice), build the RemittanceAdvice,
 * SUBMIT it under an idempotency key derived from (supplier, invoice) and
 * record the message id. Running pay again after a failed SUBMIT sends the
 * same document under the same key.
 * export: written to a temporary file beside the target, fsynced, renamed
 * over it, and the directory fsynced, so that after a crash the export is
 * there whole under its name or not at all. A missing directory (export_dir
 * or the -o path's) is named as such.
 * Files are created under umask 027 (the ledger is not for other users).
 * Exit status: 0 success, 1 failure, 2 usage or configuration error.
 * Documentation: docs/finance.md.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "common.h"
#include "finance.h"
#include "secmx_adapter.h"

#define DEFAULT_CONFIG "/etc/secmx/finance.ini"

/* The command line, shared by every subcommand. */
struct opts {
	const char *config, *status, *since, *out, *supplier, *date, *amount;
	bool json;
	const char *arg; /* the one positional argument (INVOICE-ID) */
};

/* A log line of the open burst, written once the burst is committed. */
struct held_line {
	char key[BUS_MAX_KEY + 1];
	const char *event;
	struct log_kv *kv; /* malloc()ed copy of the fields, already escaped */
	int recorded;      /* 1 recorded, 0 duplicate or ignored */
};

/* What the delivery and flush callbacks need. */
struct run_ctx {
	struct ledger *ledger;
	unsigned long recorded, duplicates, refused, failed;
	struct held_line *held; /* the open burst's ACKed deliveries */
	size_t nheld, capheld;
	unsigned long bursts, burst_max; /* committed bursts, largest */
};

static struct adapter *running;        /* for the signal handler */
static volatile sig_atomic_t stopping; /* SIGTERM/SIGINT seen */

/* usage: the synopsis on FP. */
static void usage(FILE *fp)
{
	fputs("usage: secmx-finance run     [-c FILE]\n"
	      "       secmx-finance list    [-c FILE] [--status S] [--since YYYY-MM-DD] [--json]\n"
	      "       secmx-finance approve [-c FILE] [--supplier KEY] INVOICE-ID\n"
	      "       secmx-finance export  [-c FILE] [--since YYYY-MM-DD] -o FILE.csv\n"
	      "       secmx-finance pay     [-c FILE] [--supplier KEY] [--date YYYY-MM-DD]\n"
	      "                             [--amount DECIMAL] INVOICE-ID\n"
	      "Default configuration: " DEFAULT_CONFIG
	      " (section [finance]); see docs/finance.md.\n",
	      fp);
}

/* parse_opts: options after the subcommand. Returns 0 or 2 (usage). */
static int parse_opts(int argc, char **argv, struct opts *o, int npos)
{
	static const struct option lo[] = {
	    {"config", required_argument, NULL, 'c'},   {"status", required_argument, NULL, 's'},
	    {"since", required_argument, NULL, 'S'},    {"output", required_argument, NULL, 'o'},
	    {"supplier", required_argument, NULL, 'u'}, {"date", required_argument, NULL, 'd'},
	    {"amount", required_argument, NULL, 'a'},   {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0}};
	int c;

	memset(o, 0, sizeof(*o));
	o->config = DEFAULT_CONFIG;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:o:h", lo, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 's':
			o->status = optarg;
			break;
		case 'S':
			o->since = optarg;
			break;
		case 'o':
			o->out = optarg;
			break;
		case 'u':
			o->supplier = optarg;
			break;
		case 'd':
			o->date = optarg;
			break;
		case 'a':
			o->amount = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return 2;
		}
	}
	if (argc - optind != npos)
		return 2;
	if (npos)
		o->arg = argv[optind];
	return 0;
}

/* load: the configuration, logging, and (when L is not NULL) the ledger.
 * Returns 0 or the exit status (1 or 2) after printing why. */
static int load(const struct opts *o, struct fin_config *cfg, struct ledger **l)
{
	struct ledger_params p;
	char err[512] = "", *pw = NULL;
	int rc;

	if ((rc = config_load(&fin_config_table, o->config, cfg, err, sizeof(err))) < 0) {
		fprintf(stderr, "secmx-finance: %s\n", err);
		return 2;
	}
	log_open("secmx-finance", LOG_DEST_STDERR, (enum log_level)cfg->log_level);
	if (!l)
		return 0;
	if ((rc = fin_config_password(cfg, &pw, err, sizeof(err))) < 0) {
		fprintf(stderr, "secmx-finance: %s\n", err);
		return 2;
	}
	fin_config_ledger(cfg, pw, &p);
	rc = ledger_open(&p, l, err, sizeof(err));
	if (pw) {
		explicit_bzero(pw, strlen(pw));
		free(pw);
	}
	if (rc < 0) {
		fprintf(stderr, "secmx-finance: ledger: %s\n", err);
		return rc == SECMX_ECONFIG ? 2 : 1;
	}
	return 0;
}

/* ---- run ---- */

/* on_signal: stop the adapter loop after the current delivery. */
static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
	if (running)
		adapter_stop(running);
}

/* sdk_log: the SDK's log lines into ours. */
static void sdk_log(void *arg, const char *line)
{
	(void)arg;
	log_event(LOGL_INFO, "-", "finance.bus", "line=%s", line);
}

/* hold_line: keep the log line of an ACKed delivery until its burst is
 * committed (a line for a record that a failed commit rolled back would
 * lie). KV is copied. Out of memory: the line is written now instead. The
 * fields are kept as log_kv, not as formatted text: log_event() takes only
 * "key=%conv" formats, and a held "%s" of text lost every field
 * (fmt_error=1). */
static void hold_line(struct run_ctx *rc, const char *key, const char *event, int recorded,
                      const struct log_kv *kv)
{
	struct held_line *h;

	if (rc->nheld == rc->capheld) {
		size_t cap = rc->capheld ? 2 * rc->capheld : 16;

		h = realloc(rc->held, cap * sizeof(*h));
		if (!h)
			goto now;
		rc->held = h;
		rc->capheld = cap;
	}
	h = &rc->held[rc->nheld];
	if (!(h->kv = malloc(sizeof(*kv))))
		goto now;
	*h->kv = *kv;
	secmx_strlcpy(h->key, key, sizeof(h->key));
	h->event = event;
	h->recorded = recorded;
	rc->nheld++;
	return;
now:
	log_kv_event(LOGL_INFO, key, event, kv);
}

/* deliver: one delivery of a burst (see the top of the file for the NACK
 * choice). The ledger work goes into the burst's transaction (opened on the
 * first document to record); flush() commits it before any ACK leaves. */
static int deliver(void *arg, const struct adapter_delivery *d, char *reason, size_t reasonlen)
{
	struct run_ctx *rc = arg;
	struct fin_doc doc;
	struct log_kv kv;
	char err[512] = "";
	int r;

	r = ledger_seen(rc->ledger, d->idempotency_key, err, sizeof(err));
	if (r < 0) {
		log_event(LOGL_ERR, d->idempotency_key, "finance.ledger-error", "error=%s", err);
		secmx_errf(reason, reasonlen, "ledger unavailable");
		rc->failed++;
		return ADAPTER_NACK_TRANSIENT;
	}
	if (r == 1) {
		log_kv_init(&kv);
		log_kv_str(&kv, "delivery", d->delivery_id);
		log_kv_int(&kv, "attempt", d->attempt);
		hold_line(rc, d->idempotency_key, "finance.duplicate", 0, &kv);
		return ADAPTER_ACK;
	}
	if (strcmp(d->document_type, "Invoice") != 0 &&
	    strcmp(d->document_type, "CreditNote") != 0) {
		log_event(LOGL_NOTICE, d->idempotency_key, "finance.ignored", "type=%s",
		          d->document_type);
		return ADAPTER_ACK;
	}
	r = fin_ubl_read(d->doc, d->doc_len, &doc, err, sizeof(err));
	if (r == 0)
		r = fin_envelope_apply(&doc, d->envelope_json, err, sizeof(err));
	if (r < 0) {
		fin_doc_clear(&doc);
		log_event(LOGL_WARNING, d->idempotency_key, "finance.refused", "type=%s error=%s",
		          d->document_type, err);
		secmx_errf(reason, reasonlen, "finance: %s", err);
		if (r == SECMX_ENOMEM) {
			rc->failed++;
			return ADAPTER_NACK_TRANSIENT;
		}
		rc->refused++;
		return ADAPTER_NACK_PERMANENT;
	}
	r = ledger_batch_begin(rc->ledger, err, sizeof(err));
	if (r == 0)
		r = ledger_record(rc->ledger, &doc, err, sizeof(err));
	if (r == SECMX_EINVALID) {
		/* The database refused this document for its data (a constraint or
		 * trigger): it would again. Its savepoint is rolled back; the rest
		 * of the burst stands. */
		log_event(LOGL_WARNING, d->idempotency_key, "finance.ledger-refused",
		          "id=%s error=%s", doc.doc_id, err);
		secmx_errf(reason, reasonlen, "finance: the ledger refused %s: %s", doc.doc_id,
		           err);
		fin_doc_clear(&doc);
		rc->refused++;
		return ADAPTER_NACK_PERMANENT;
	}
	if (r < 0) {
		log_event(LOGL_ERR, d->idempotency_key, "finance.ledger-error", "id=%s error=%s",
		          doc.doc_id, err);
		secmx_errf(reason, reasonlen, "ledger unavailable");
		fin_doc_clear(&doc);
		rc->failed++;
		return ADAPTER_NACK_TRANSIENT;
	}
	log_kv_init(&kv);
	log_kv_str(&kv, "kind", doc.kind);
	log_kv_str(&kv, "id", doc.doc_id);
	log_kv_str(&kv, "supplier", doc.supplier_key);
	log_kv_str(&kv, "payable", doc.payable);
	log_kv_str(&kv, "currency", doc.currency);
	log_kv_str(&kv, "status", doc.status);
	log_kv_str(&kv, "match", doc.match_status);
	hold_line(rc, d->idempotency_key, r ? "finance.recorded" : "finance.duplicate", r, &kv);
	fin_doc_clear(&doc);
	return ADAPTER_ACK;
}

/* flush: the end of a burst: commit its transaction (keys and documents
 * together, one fsync), then write its held log lines; the SDK sends the
 * burst's ACKs only after this returned 0, and turns them into transient
 * NACKs when it returns -1 (the commit failed and was rolled back). */
static int flush(void *arg)
{
	struct run_ctx *rc = arg;
	char err[512] = "";
	size_t i, n = rc->nheld;
	int r;

	r = ledger_batch_commit(rc->ledger, err, sizeof(err));
	for (i = 0; i < n; i++) {
		struct held_line *h = &rc->held[i];

		if (r == 0) {
			log_kv_event(LOGL_INFO, h->key, h->event, h->kv);
			if (h->recorded)
				rc->recorded++;
			else
				rc->duplicates++;
		}
		free(h->kv);
	}
	rc->nheld = 0;
	if (r < 0) {
		log_event(LOGL_ERR, "-", "finance.commit-failed", "deliveries=%zu error=%s", n,
		          err);
		rc->failed += n;
		return -1;
	}
	if (n > 0) {
		rc->bursts++;
		if (n > rc->burst_max)
			rc->burst_max = n;
		log_event(LOGL_INFO, "-", "finance.committed", "deliveries=%zu", n);
	}
	return 0;
}

/* read_key: the first line of a Z85 key file into BUF (41 bytes). */
static int read_key(const char *path, char *buf, size_t len)
{
	char *s = NULL;
	size_t n = 0;

	if (secmx_file_read(path, 1024, &s, &n) < 0) {
		fprintf(stderr, "secmx-finance: %s: %s\n", path, strerror(errno));
		return -1;
	}
	s[strcspn(s, "\r\n")] = '\0';
	if (strlen(s) != 40) {
		fprintf(stderr, "secmx-finance: %s: not a 40-character Z85 key\n", path);
		explicit_bzero(s, n);
		free(s);
		return -1;
	}
	secmx_strlcpy(buf, s, len);
	explicit_bzero(s, n);
	free(s);
	return 0;
}

/* connect_bus: an adapter on the configured bus under NAME with PATTERNS. */
static int connect_bus(const struct fin_config *cfg, const char *name, const char *const *patterns,
                       size_t npatterns, struct adapter **a)
{
	struct adapter_config ac;
	char server[48], pub[48], sec[48], err[512] = "";
	int rc;

	adapter_config_default(&ac);
	ac.endpoint = cfg->endpoint;
	ac.name = name;
	ac.patterns = patterns;
	ac.npatterns = npatterns;
	ac.credit = (int)cfg->credit;
	ac.log = sdk_log;
	if (cfg->server_key) { /* then all three, and tcp:// has them: the table's check */
		if (read_key(cfg->server_key, server, sizeof(server)) < 0 ||
		    read_key(cfg->public_key, pub, sizeof(pub)) < 0 ||
		    read_key(cfg->secret_key, sec, sizeof(sec)) < 0)
			return 2;
		ac.server_public_key = server;
		ac.public_key = pub;
		ac.secret_key = sec;
	}
	rc = adapter_new(&ac, a, err, sizeof(err));
	explicit_bzero(sec, sizeof(sec));
	if (rc < 0) {
		fprintf(stderr, "secmx-finance: bus: %s\n", err);
		return rc == SECMX_ECONFIG ? 2 : 1;
	}
	return 0;
}

/* cmd_run: the adapter loop. */
static int cmd_run(const struct opts *o)
{
	struct fin_config cfg = {0};
	struct run_ctx ctx = {0};
	struct adapter *a = NULL;
	struct sigaction sa;
	int rc, status;

	/* Handlers first: a SIGTERM during start-up still stops cleanly. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if ((status = load(o, &cfg, &ctx.ledger)) != 0)
		goto out;
	if ((status = connect_bus(&cfg, cfg.name, (const char *const *)cfg.patterns.v,
	                          cfg.patterns.n, &a)) != 0)
		goto out;
	running = a;
	log_event(LOGL_NOTICE, "-", "finance.start", "name=%s endpoint=%s ledger=%s", cfg.name,
	          cfg.endpoint, ledger_backend_name(ctx.ledger));
	/* adapter_run() clears its stop flag on entry, so a signal that lands
	 * before it starts would be lost: run in 1 s slices and check our own
	 * flag between them. */
	rc = 0;
	while (!stopping && rc >= 0)
		rc = adapter_run_batch(a, deliver, flush, &ctx, 1000);
	running = NULL;
	log_event(LOGL_NOTICE, "-", "finance.stop",
	          "status=%s recorded=%lu duplicates=%lu refused=%lu failed=%lu bursts=%lu "
	          "largest_burst=%lu",
	          rc < 0 ? secmx_strerror(rc) : "ok", ctx.recorded, ctx.duplicates, ctx.refused,
	          ctx.failed, ctx.bursts, ctx.burst_max);
	status = rc < 0 ? 1 : 0;
out:
	adapter_free(a);
	ledger_batch_rollback(ctx.ledger); /* none open: flush ends every burst */
	ledger_close(ctx.ledger);
	free(ctx.held);
	config_free(&fin_config_table, &cfg);
	return status;
}

/* ---- list ---- */

/* doc_json: D as a JSON object (new reference). */
static json_t *doc_json(const struct fin_doc *d)
{
	json_t *o = json_object(), *lines = json_array();
	size_t i;
#define S(k, v) json_object_set_new(o, k, (v) ? json_string(v) : json_null())
	S("type", d->kind);
	S("invoice_id", d->doc_id);
	S("supplier_key", d->supplier_key);
	S("supplier_name", d->supplier_name);
	S("supplier_id", d->supplier_id);
	S("supplier_id_scheme", d->supplier_scheme);
	S("supplier_tax_id", d->supplier_tax_id);
	S("issue_date", d->issue_date);
	S("due_date", d->due_date);
	S("currency", d->currency);
	S("net", d->net);
	S("tax", d->tax);
	S("gross", d->gross);
	S("payable", d->payable);
	S("order_reference", d->order_ref);
	S("match_status", d->match_status);
	S("status", d->status);
	S("reason", d->reason);
	S("transaction_id", d->transaction_id);
	S("message_id", d->message_id);
	S("received_at", d->received_at);
	S("approved_at", d->approved_at);
	S("paid_date", d->paid_date);
	S("paid_amount", d->paid_amount);
	S("remittance_id", d->remit_id);
	S("remittance_state", d->remit_state);
	S("remittance_message_id", d->remit_message_id);
#undef S
	for (i = 0; i < d->nlines; i++) {
		const struct fin_line *l = &d->lines[i];

		json_array_append_new(
		    lines,
		    json_pack("{s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?}", "id", l->line_id,
		              "description", l->description, "quantity", l->quantity, "unit_code",
		              l->unit_code, "unit_price", l->unit_price, "net", l->net,
		              "tax_category", l->tax_category, "tax_percent", l->tax_percent));
	}
	json_object_set_new(o, "lines", lines);
	return o;
}

/* list_text / list_json: ledger_list callbacks. */
static int list_text(void *arg, const struct fin_doc *d)
{
	(void)arg;
	printf("%-8s %-12s %-10s %-24s %-32s %s %s %s %s%s%s\n", d->status, d->match_status,
	       d->kind, d->doc_id, d->supplier_name ? d->supplier_name : d->supplier_key,
	       d->issue_date, d->due_date ? d->due_date : "-", d->currency, d->payable,
	       d->reason ? "  # " : "", d->reason ? d->reason : "");
	return 0;
}

static int list_json(void *arg, const struct fin_doc *d)
{
	json_array_append_new(arg, doc_json(d));
	return 0;
}

/* bad_since: is --since given and not a date? Says so on stderr. */
static bool bad_since(const struct opts *o)
{
	if (o->since == NULL || fin_date_ok(o->since))
		return false;
	fprintf(stderr, "secmx-finance: --since \"%s\" is not a date YYYY-MM-DD\n", o->since);
	return true;
}

/* cmd_list: documents, by status. */
static int cmd_list(const struct opts *o)
{
	struct fin_config cfg = {0};
	struct ledger *l = NULL;
	const char *st[2] = {o->status, NULL};
	json_t *arr = NULL;
	char err[512] = "";
	int rc, status;

	if (bad_since(o))
		return 2;
	if ((status = load(o, &cfg, &l)) != 0)
		goto out;
	arr = json_array();
	rc = ledger_list(l, o->status ? st : NULL, o->since, o->json,
	                 o->json ? list_json : list_text, arr, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "secmx-finance: list: %s\n", err);
		status = 1;
		goto out;
	}
	if (o->json) {
		json_dumpf(arr, stdout, JSON_INDENT(1) | JSON_ENSURE_ASCII);
		putchar('\n');
	}
	status = 0;
out:
	json_decref(arr);
	ledger_close(l);
	config_free(&fin_config_table, &cfg);
	return status;
}

/* ---- approve ---- */

/* cmd_approve: move an invoice from the approval list to approved. */
static int cmd_approve(const struct opts *o)
{
	struct fin_config cfg = {0};
	struct ledger *l = NULL;
	struct fin_doc d = {0};
	char err[512] = "";
	int rc, status;

	if ((status = load(o, &cfg, &l)) != 0)
		goto out;
	status = 1;
	if ((rc = ledger_get(l, o->supplier, NULL, o->arg, &d, err, sizeof(err))) < 0 ||
	    (rc = ledger_approve(l, &d, err, sizeof(err))) < 0) {
		fprintf(stderr, "secmx-finance: approve: %s\n", err);
		goto out;
	}
	if (rc == 1) {
		log_event(LOGL_NOTICE, d.doc_id, "finance.approved", "supplier=%s was=%s",
		          d.supplier_key, d.match_status);
		printf("approved %s %s (%s)\n", d.kind, d.doc_id, d.supplier_key);
	} else {
		printf("%s %s is already %s\n", d.kind, d.doc_id, d.status);
	}
	status = 0;
out:
	fin_doc_clear(&d);
	ledger_close(l);
	config_free(&fin_config_table, &cfg);
	return status;
}

/* ---- export ---- */

/* Where export_row writes, and how. */
struct export_to {
	FILE *fp;
	unsigned flags; /* fin_csv_row's */
};

/* export_row: one CSV row. */
static int export_row(void *arg, const struct fin_doc *d)
{
	const struct export_to *to = arg;

	return fin_csv_row(to->fp, d, to->flags) < 0;
}

/* dir_of: the directory part of PATH ("." when there is none) into DIR. */
static void dir_of(const char *path, char *dir, size_t size)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		snprintf(dir, size, ".");
	else if (slash == path)
		snprintf(dir, size, "/");
	else
		snprintf(dir, size, "%.*s", (int)(slash - path), path);
}

/* cmd_export: approved and paid invoices as CSV, written atomically. */
static int cmd_export(const struct opts *o)
{
	static const char *const st[] = {FIN_APPROVED, FIN_PAID, NULL};
	struct fin_config cfg = {0};
	struct ledger *l = NULL;
	struct export_to to;
	FILE *fp = NULL;
	char path[4096], tmp[4200], dir[4096], err[512] = "";
	bool werr = false;
	int rc, n, status;

	if (!o->out) {
		usage(stderr);
		return 2;
	}
	if (bad_since(o))
		return 2;
	if ((status = load(o, &cfg, &l)) != 0)
		goto out;
	status = 1;
	if (strcmp(o->out, "-") == 0) {
		fp = stdout;
	} else {
		if (!strchr(o->out, '/') && cfg.export_dir)
			snprintf(path, sizeof(path), "%s/%s", cfg.export_dir, o->out);
		else
			snprintf(path, sizeof(path), "%s", o->out);
		snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
		dir_of(path, dir, sizeof(dir));
		if (!(fp = fopen(tmp, "wx"))) {
			/* The temporary file's name means nothing to the clerk:
			 * say what is wrong with the directory, and where it was
			 * named. */
			const char *whence = !strchr(o->out, '/') && cfg.export_dir
			                         ? "finance.export_dir"
			                         : "the -o path";

			if (errno == ENOENT)
				fprintf(
				    stderr,
				    "secmx-finance: export: the directory %s does not exist (%s)\n",
				    dir, whence);
			else
				fprintf(stderr,
				        "secmx-finance: export: the directory %s (%s): %s\n", dir,
				        whence, strerror(errno));
			goto out;
		}
	}
	if (fin_csv_header(fp) < 0) {
		werr = true;
		goto out;
	}
	to.fp = fp;
	to.flags = cfg.export_formula_guard ? FIN_CSV_FORMULA_GUARD : 0;
	n = rc = ledger_list(l, st, o->since, false, export_row, &to, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "secmx-finance: export: %s\n", err);
		goto out;
	}
	if (fp == stdout) {
		status = fflush(fp) == 0 ? 0 : 1;
		fp = NULL;
		goto out;
	}
	if (fflush(fp) != 0 || fsync(fileno(fp)) != 0) {
		werr = true;
		goto out;
	}
	rc = fclose(fp);
	fp = NULL;
	if (rc != 0 || rename(tmp, path) != 0) {
		werr = true;
		unlink(tmp);
		goto out;
	}
	/* The rename is durable only once the directory is. */
	if (secmx_fsync_dir(dir) < 0) {
		fprintf(stderr, "secmx-finance: export: syncing the directory %s: %s\n", dir,
		        strerror(errno));
		goto out;
	}
	fprintf(stderr, "secmx-finance: exported %d documents to %s\n", n, path);
	status = 0;
out:
	if (werr)
		fprintf(stderr, "secmx-finance: writing %s: %s\n", o->out, strerror(errno));
	if (fp && fp != stdout) {
		fclose(fp);
		unlink(tmp);
	}
	ledger_close(l);
	config_free(&fin_config_table, &cfg);
	return status;
}

/* ---- pay ---- */

/* remit_key: the idempotency key and remittance id for D: printable ASCII,
 * stable, with a 64-bit FNV-1a hash of (supplier, kind, id) to keep keys of
 * different suppliers apart after the id is made safe. */
static void remit_key(const struct fin_doc *d, char *key, size_t keylen, char *rid, size_t ridlen)
{
	const char *parts[] = {d->supplier_key, d->kind, d->doc_id};
	uint64_t h = 1469598103934665603ULL;
	char safe[101];
	size_t i, j;

	for (i = 0; i < 3; i++) {
		for (j = 0; parts[i][j]; j++)
			h = (h ^ (unsigned char)parts[i][j]) * 1099511628211ULL;
		h = (h ^ 0xff) * 1099511628211ULL;
	}
	for (j = 0; d->doc_id[j] && j < sizeof(safe) - 1; j++) {
		unsigned char c = (unsigned char)d->doc_id[j];

		safe[j] = (c >= 0x21 && c <= 0x7e) ? (char)c : '_';
	}
	safe[j] = '\0';
	snprintf(key, keylen, "remit:%s:%016llx", safe, (unsigned long long)h);
	snprintf(rid, ridlen, "RA-%s-%08llx", safe, (unsigned long long)(h & 0xffffffffULL));
}

/* cmd_pay: mark paid, SUBMIT the remittance, record its message id. */
static int cmd_pay(const struct opts *o)
{
	/* pay only SUBMITs. HELLO needs a pattern, and secmxd keeps HELLO
	 * patterns as routes: one matching a document type would queue
	 * documents (the remittance itself) for a session that never comes
	 * back. No document type is "submit-only" (docs/adapters.md). */
	static const char *const pat[] = {"submit-only"};
	struct fin_config cfg = {0};
	struct ledger *l = NULL;
	struct adapter *a = NULL;
	struct fin_doc d = {0};
	struct fin_org org;
	char key[BUS_MAX_KEY], rid[160], today[16], msgid[BUS_MAX_KEY] = "",
	                                            reason[BUS_MAX_TEXT] = "";
	char meta[1024], err[512] = "", *xml = NULL;
	size_t xmllen = 0;
	time_t t = time(NULL);
	struct tm tm;
	json_t *mj;
	char *ms;
	int rc, status;

	if ((o->date && !fin_date_ok(o->date)) || (o->amount && !fin_amount_ok(o->amount))) {
		fprintf(stderr, "secmx-finance: pay: --date is YYYY-MM-DD, --amount a decimal\n");
		return 2;
	}
	if ((status = load(o, &cfg, &l)) != 0)
		goto out;
	status = 1;
	if ((rc = ledger_get(l, o->supplier, NULL, o->arg, &d, err, sizeof(err))) < 0) {
		fprintf(stderr, "secmx-finance: pay: %s\n", err);
		goto out;
	}
	if (strcmp(d.kind, "Invoice") != 0) {
		fprintf(stderr, "secmx-finance: pay: %s is a %s: only invoices are paid\n",
		        d.doc_id, d.kind);
		goto out;
	}
	gmtime_r(&t, &tm);
	strftime(today, sizeof(today), "%Y-%m-%d", &tm);
	remit_key(&d, key, sizeof(key), rid, sizeof(rid));
	rc = ledger_pay(l, &d, o->date ? o->date : today, o->amount ? o->amount : d.payable, rid,
	                err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "secmx-finance: pay: %s\n", err);
		goto out;
	}
	if (rc == 0 && d.remit_state && strcmp(d.remit_state, "sent") == 0) {
		printf("%s is already paid (%s, %s %s); remittance %s sent as %s\n", d.doc_id,
		       d.paid_date, d.paid_amount, d.currency, d.remit_id, d.remit_message_id);
		status = 0;
		goto out;
	}
	if (rc == 0)
		fprintf(stderr,
		        "secmx-finance: %s was already marked paid on %s: sending its "
		        "remittance again\n",
		        d.doc_id, d.paid_date);
	fin_doc_clear(&d);
	if ((rc = ledger_get(l, o->supplier, "Invoice", o->arg, &d, err, sizeof(err))) < 0) {
		fprintf(stderr, "secmx-finance: pay: %s\n", err);
		goto out;
	}
	log_event(LOGL_NOTICE, d.doc_id, "finance.paid",
	          "supplier=%s date=%s amount=%s remittance=%s", d.supplier_key, d.paid_date,
	          d.paid_amount, d.remit_id);
	org.name = cfg.org_name;
	org.id = cfg.org_id;
	org.id_scheme = cfg.org_id_scheme;
	org.tax_id = cfg.org_tax_id;
	org.country = cfg.org_country;
	/* an empty remittance_customization: plain UBL 2.1, no CustomizationID */
	org.customization_id = cfg.remittance_customization && *cfg.remittance_customization
	                           ? cfg.remittance_customization
	                           : NULL;
	if ((rc = fin_remit_build(&d, &org, &xml, &xmllen, err, sizeof(err))) < 0) {
		fprintf(stderr, "secmx-finance: pay: remittance: %s\n", err);
		goto out;
	}
	mj = json_pack("{s:s, s:s, s:s}", "invoice_id", d.doc_id, "supplier", d.supplier_key,
	               "remittance_id", d.remit_id);
	ms = mj ? json_dumps(mj, JSON_COMPACT) : NULL;
	json_decref(mj);
	snprintf(meta, sizeof(meta), "%s", ms ? ms : "{}");
	free(ms);
	if ((status = connect_bus(&cfg, cfg.submit_name, pat, 1, &a)) == 0) {
		rc = adapter_submit(a, xml, xmllen, key, "RemittanceAdvice", meta,
		                    (int)cfg.submit_timeout_ms, msgid, sizeof(msgid), reason,
		                    sizeof(reason));
		if (rc == 1) {
			if (ledger_remit_sent(l, &d, msgid, err, sizeof(err)) < 0)
				fprintf(stderr,
				        "secmx-finance: pay: recording the message id: %s\n", err);
			log_event(LOGL_NOTICE, d.doc_id, "finance.remittance-sent",
			          "remittance=%s message=%s", d.remit_id, msgid);
			printf("paid %s (%s %s on %s); remittance %s accepted as %s\n", d.doc_id,
			       d.paid_amount, d.currency, d.paid_date, d.remit_id, msgid);
			status = 0;
			goto out;
		}
		if (rc == 0)
			fprintf(stderr, "secmx-finance: pay: the bus refused the remittance: %s\n",
			        reason);
		else
			fprintf(stderr, "secmx-finance: pay: SUBMIT failed: %s%s%s\n",
			        secmx_strerror(rc), *reason ? ": " : "", reason);
	}
	fprintf(stderr,
	        "secmx-finance: %s is marked paid; its remittance is not sent yet: run "
	        "`secmx-finance pay %s` again\n",
	        d.doc_id, d.doc_id);
	status = 1;
out:
	free(xml);
	adapter_free(a);
	fin_doc_clear(&d);
	ledger_close(l);
	config_free(&fin_config_table, &cfg);
	return status;
}

/* main: dispatch the subcommand. */
int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int npos;
		int (*fn)(const struct opts *);
	} cmds[] = {{"run", 0, cmd_run},
	            {"list", 0, cmd_list},
	            {"approve", 1, cmd_approve},
	            {"export", 0, cmd_export},
	            {"pay", 1, cmd_pay}};
	struct opts o;
	size_t i;

	/* The ledger (and an export) holds suppliers, tax numbers and amounts:
	 * not for other users, whatever umask we were started with. */
	umask(027);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("secmx-finance %s\n", SECMX_VERSION);
		return 0;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[1], cmds[i].name) != 0)
			continue;
		if (parse_opts(argc - 1, argv + 1, &o, cmds[i].npos) != 0) {
			usage(stderr);
			return 2;
		}
		if (o.status && strcmp(o.status, FIN_PENDING) != 0 &&
		    strcmp(o.status, FIN_APPROVED) != 0 && strcmp(o.status, FIN_PAID) != 0) {
			fprintf(stderr, "secmx-finance: --status is pending, approved or paid\n");
			return 2;
		}
		return cmds[i].fn(&o);
	}
	fprintf(stderr, "secmx-finance: unknown command %s\n", argv[1]);
	usage(stderr);
	return 2;
}
