/*
 * cmd_txn.c — `secmx txn`: business transactions as the queue holds them.
 *
 *   secmx txn list [--db PATH] [--state S] [--limit N] [--json]
 *   secmx txn show KEY-or-ID [--db PATH] [--json]
 *   secmx txn add FILE... [--db PATH] [--price-pct P] [--price-abs A]
 *                 [--qty-pct P] [--total-abs A] [--json]
 *
 * list: one line per transaction (id, state, documents, findings, last
 * change, key). show: the timeline of one transaction: its documents, every
 * state change with the document that caused it, the match findings and the
 * deliveries to adapters. add: store documents in the queue and correlate
 * them (engine_txn_correlate), as the daemon does after validation; for
 * demonstrations, tests and replaying documents by hand. Added documents are
 * stored in the message state "done" (finished: no worker ever claims it, so
 * a secmxd running on the same store neither signs nor routes them), and
 * are NOT validated or signed.
 *
 * The store is PATH, else $SECMX_QUEUE_DB, else /var/spool/secmx/queue.db;
 * list and show refuse a store that does not exist, add creates it.
 * Exit status: 0 done; 1 no such transaction (show), or a document that
 * could not be parsed or classified (add); 2 usage or store error.
 * Match differences do not change the exit status: they are printed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "queue.h"

#define TXN_DB_DEFAULT "/var/spool/secmx/queue.db"
#define TXN_MSG_STATE QUEUE_STATE_DONE /* "correlated" was secmxd's attest step */

/* help: the usage text. */
static void help(FILE *fp)
{
	fprintf(
	    fp,
	    "usage: secmx txn list [--db PATH] [--state S] [--limit N] [--json]\n"
	    "       secmx txn show KEY-or-ID [--db PATH] [--json]\n"
	    "       secmx txn add FILE... [--db PATH] [--price-pct P] [--price-abs A]\n"
	    "                     [--qty-pct P] [--total-abs A] [--json]\n\n"
	    "Business transactions: documents correlated through their references, the\n"
	    "state of each (ordered, invoiced, matched, disputed, paid, receipted, closed),\n"
	    "and the three-way match of order, receipt and invoice.\n\n"
	    "  list           transactions, oldest first\n"
	    "  show           one transaction's documents, history, findings, deliveries\n"
	    "  add            store documents and correlate them (no validation; for\n"
	    "                 demonstrations, tests and replays)\n"
	    "  --db PATH      the queue store (default $SECMX_QUEUE_DB, else %s)\n"
	    "  --state S      list only transactions in state S\n"
	    "  --limit N      list at most N transactions\n"
	    "  --price-pct P  add: unit prices may differ from the order's by P %%\n"
	    "  --price-abs A  add: ... or by A (the larger allowance wins)\n"
	    "  --qty-pct P    add: quantities may exceed what they are checked against by P %%\n"
	    "  --total-abs A  add: invoice net totals may differ by A beyond the price allowance\n"
	    "  --json         JSON output (list: one array; show: one object; add: one line\n"
	    "                 per file)\n\n"
	    "Exit status: 0 done, 1 no such transaction or a document refused, 2 usage or\n"
	    "store error.\n",
	    TXN_DB_DEFAULT);
}

/* fmt_time: ms since the epoch as UTC ISO 8601 into BUF. */
static const char *fmt_time(json_t *v, char *buf, size_t size)
{
	json_int_t ms = json_integer_value(v);
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (!json_is_integer(v))
		return "-";
	if (gmtime_r(&t, &tm) == NULL || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, size, "%lld", (long long)ms);
	return buf;
}

/* str: a string member, or DEF. */
static const char *str(json_t *o, const char *k, const char *def)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v && *v ? v : def;
}

/* num: an integer member, or 0. */
static long long num(json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

/* print_json: V on one line. */
static void print_json(json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_ENCODE_ANY);

	if (s != NULL)
		printf("%s\n", s);
	free(s);
}

/* print_list: one line per transaction. */
static void print_list(json_t *arr)
{
	json_t *t;
	size_t i;
	char when[32];

	printf("%-6s %-10s %-5s %-8s %-20s %s\n", "ID", "STATE", "DOCS", "FINDINGS", "UPDATED",
	       "KEY");
	json_array_foreach(arr, i, t)
	{
		printf("%-6lld %-10s %-5lld %-8lld %-20s %s\n", num(t, "id"), str(t, "state", "-"),
		       num(t, "documents"), num(t, "findings"),
		       fmt_time(json_object_get(t, "updated_at"), when, sizeof(when)),
		       str(t, "key", "-"));
	}
	printf("%zu transaction%s\n", json_array_size(arr), json_array_size(arr) == 1 ? "" : "s");
}

/* print_show: the timeline of one transaction. */
static void print_show(json_t *t)
{
	json_t *e;
	size_t i;
	char when[32], when2[32];

	printf("transaction %lld  %s\n", num(t, "id"), str(t, "key", "-"));
	printf("state       %s\n", str(t, "state", "-"));
	printf("created     %s  updated %s\n",
	       fmt_time(json_object_get(t, "created_at"), when, sizeof(when)),
	       fmt_time(json_object_get(t, "updated_at"), when2, sizeof(when2)));
	printf("\ndocuments (%zu)\n", json_array_size(json_object_get(t, "documents")));
	json_array_foreach(json_object_get(t, "documents"), i, e)
	{
		printf("  %-20s msg %-6lld %-20s %-24s from %s\n",
		       fmt_time(json_object_get(e, "at"), when, sizeof(when)), num(e, "msg_id"),
		       str(e, "doc_type", "-"), str(e, "doc_id", "-"),
		       str(e, "party", "(unknown)"));
	}
	printf("\nhistory (%zu)\n", json_array_size(json_object_get(t, "history")));
	json_array_foreach(json_object_get(t, "history"), i, e)
	{
		printf("  %-20s msg %-6lld %10s -> %-10s %s\n",
		       fmt_time(json_object_get(e, "at"), when, sizeof(when)), num(e, "msg_id"),
		       str(e, "from_state", "(new)"), str(e, "to_state", "-"), str(e, "note", ""));
	}
	printf("\nfindings (%zu)\n", json_array_size(json_object_get(t, "findings")));
	json_array_foreach(json_object_get(t, "findings"), i, e)
	{
		printf("  %-20s msg %-6lld %-7s [%s] %s\n",
		       fmt_time(json_object_get(e, "at"), when, sizeof(when)), num(e, "msg_id"),
		       str(e, "severity", "-"), str(e, "rule", "-"), str(e, "text", ""));
	}
	printf("\ndeliveries (%zu)\n", json_array_size(json_object_get(t, "deliveries")));
	json_array_foreach(json_object_get(t, "deliveries"), i, e)
	{
		printf("  %-16s seq %-4lld msg %-6lld %-8s attempts %lld%s%s\n",
		       str(e, "adapter", "-"), num(e, "seq"), num(e, "msg_id"),
		       str(e, "state", "-"), num(e, "attempts"),
		       json_object_get(e, "acked_at") ? "  acked " : "",
		       json_object_get(e, "acked_at")
		           ? fmt_time(json_object_get(e, "acked_at"), when, sizeof(when))
		           : "");
	}
}

/* all_digits: is S a non-empty run of digits? */
static int all_digits(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* show: transaction ARG (a key, or an id when no key is ARG). */
static int show(struct queue *q, const char *arg, int json)
{
	json_t *t = NULL, *docs = NULL;
	char key[512];
	int rc;

	rc = queue_txn_json(q, arg, &t);
	if (rc == SECMX_ENOTFOUND && all_digits(arg)) {
		char *end;
		long long id;

		errno = 0;
		id = strtoll(arg, &end, 10);
		if (errno == 0 && (rc = queue_txn_key(q, id, key, sizeof(key))) == 0)
			rc = queue_txn_json(q, key, &t);
	}
	if (rc == 0 && (rc = queue_txn_docs_json(q, num(t, "id"), &docs)) == 0)
		rc = json_object_set_new(t, "documents", docs) < 0 ? SECMX_ENOMEM : 0;
	if (rc == 0) {
		if (json)
			print_json(t);
		else
			print_show(t);
	}
	json_decref(t);
	if (rc == SECMX_ENOTFOUND) {
		fprintf(stderr, "%s: txn show %s: no such transaction\n", cli_prog, arg);
		return EXIT_REFUSED;
	}
	if (rc < 0) {
		fprintf(stderr, "%s: txn show %s: %s\n", cli_prog, arg, secmx_strerror(rc));
		return EXIT_USAGE;
	}
	return 0;
}

/* add_one: store and correlate FILE. Returns the exit status for it. */
static int add_one(const struct engine *eng, size_t max, struct queue *q, const char *file,
                   int json)
{
	struct engine_report *rep = engine_report_new();
	struct engine_doc *doc = NULL;
	struct engine_txn_result r;
	struct queue_msg_in in = {0};
	struct queue_put_result pr;
	char *buf = NULL;
	size_t len = 0, i;
	int rc, ret = EXIT_USAGE;

	if (rep == NULL)
		goto done;
	if ((rc = secmx_file_read(file, max, &buf, &len)) < 0) {
		fprintf(stderr, "%s: txn add: %s: %s\n", cli_prog, file, secmx_strerror(rc));
		goto done;
	}
	if (engine_doc_parse(eng, buf, len, file, &doc, rep) < 0 ||
	    engine_doc_classify(eng, doc, rep) < 0) {
		engine_report_print(rep, file, stderr);
		fprintf(stderr, "%s: txn add: %s: not a document we can correlate\n", cli_prog,
		        file);
		ret = EXIT_REFUSED;
		goto done;
	}
	in.data = buf;
	in.len = len;
	in.source = "cli";
	in.doc_type = engine_doc_type(doc)->name;
	in.doc_id = engine_doc_id(doc);
	in.state = TXN_MSG_STATE;
	if ((rc = queue_msg_put(q, &in, &pr)) < 0) {
		fprintf(stderr, "%s: txn add: %s: not stored: %s\n", cli_prog, file,
		        secmx_strerror(rc));
		goto done;
	}
	if ((rc = engine_txn_correlate(eng, q, doc, pr.id, &r, rep)) < 0) {
		fprintf(stderr, "%s: txn add: %s: message %lld stored, not correlated: %s\n",
		        cli_prog, file, (long long)pr.id, secmx_strerror(rc));
		goto done;
	}
	if (json) {
		json_t *o = json_pack("{s:s,s:I,s:s,s:s,s:I,s:s,s:b,s:I,s:s,s:o}", "file", file,
		                      "msg_id", (json_int_t)pr.id, "type", in.doc_type, "key",
		                      r.key, "txn_id", (json_int_t)r.txn_id, "state", r.state,
		                      "created", r.created, "ntxn", (json_int_t)r.ntxn, "match",
		                      r.match, "findings", engine_report_json(rep));

		if (o != NULL)
			print_json(o);
		json_decref(o);
	} else {
		printf("%s: %s %s -> %s (%s%s%s)%s\n", file, in.doc_type,
		       in.doc_id ? in.doc_id : "(no id)", r.key, r.state, *r.match ? ", " : "",
		       r.match, r.created ? " new" : "");
		if (r.ntxn > 1)
			printf("%s: recorded in %zu transactions\n", file, r.ntxn);
		for (i = 0; i < engine_report_count(rep); i++) {
			const struct engine_finding *f = engine_report_at(rep, i);

			printf("  %s [%s] %s\n", f->severity == ENGINE_FATAL ? "error" : "warning",
			       f->rule, f->message);
		}
	}
	ret = 0;
done:
	engine_doc_free(doc);
	engine_report_free(rep);
	free(buf);
	return ret;
}

/* cmd_txn: `secmx txn`. */
int cmd_txn(int argc, char **argv)
{
	const char *db = getenv("SECMX_QUEUE_DB"), *state = NULL, *action = NULL;
	struct engine_txn_tolerance tol = {0};
	struct engine_config ecfg;
	struct engine *eng = NULL;
	struct queue_config cfg;
	struct queue *q = NULL;
	json_t *out = NULL;
	char err[512] = "";
	unsigned long limit = 0;
	const char **args = NULL;
	int json = 0, i, rc, nargs = 0, ret = EXIT_USAGE;
	enum queue_txn_state st;

	if (db == NULL || *db == '\0')
		db = TXN_DB_DEFAULT;
	if ((args = calloc((size_t)argc + 1, sizeof(*args))) == NULL)
		return EXIT_USAGE;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		int more = i + 1 < argc;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			help(stdout);
			ret = 0;
			goto done;
		} else if (strcmp(a, "--json") == 0) {
			json = 1;
		} else if (strcmp(a, "--db") == 0 && more) {
			db = argv[++i];
		} else if (strcmp(a, "--state") == 0 && more) {
			state = argv[++i];
		} else if (strcmp(a, "--price-pct") == 0 && more) {
			tol.price_pct = argv[++i];
		} else if (strcmp(a, "--price-abs") == 0 && more) {
			tol.price_abs = argv[++i];
		} else if (strcmp(a, "--qty-pct") == 0 && more) {
			tol.qty_pct = argv[++i];
		} else if (strcmp(a, "--total-abs") == 0 && more) {
			tol.total_abs = argv[++i];
		} else if (strcmp(a, "--limit") == 0 && more) {
			if (cli_count(argv[++i], &limit) < 0) {
				fprintf(stderr, "%s: txn: bad --limit\n", cli_prog);
				goto done;
			}
		} else if (a[0] == '-' && a[1] != '\0') {
			fprintf(stderr, "%s: txn: unknown or incomplete option '%s'\n", cli_prog,
			        a);
			help(stderr);
			goto done;
		} else if (action == NULL) {
			action = a;
		} else {
			args[nargs++] = a;
		}
	}
	if (action == NULL || (strcmp(action, "list") == 0 && nargs != 0) ||
	    (strcmp(action, "show") == 0 && nargs != 1) ||
	    (strcmp(action, "add") == 0 && nargs == 0)) {
		help(stderr);
		goto done;
	}
	if (strcmp(action, "list") != 0 && strcmp(action, "show") != 0 &&
	    strcmp(action, "add") != 0) {
		fprintf(stderr, "%s: txn: unknown action '%s'\n", cli_prog, action);
		help(stderr);
		goto done;
	}
	if (state != NULL && queue_txn_state_parse(state, &st) < 0) {
		fprintf(stderr,
		        "%s: txn: unknown state '%s' (ordered, invoiced, matched, disputed, paid, "
		        "receipted, closed)\n",
		        cli_prog, state);
		goto done;
	}
	/* Only add may create a store; the others must not by accident. */
	if (strcmp(action, "add") != 0 && access(db, F_OK) != 0) {
		fprintf(stderr, "%s: txn: %s: %s\n", cli_prog, db, strerror(errno));
		goto done;
	}
	if (strcmp(action, "add") == 0) {
		engine_config_default(&ecfg); /* the document size limit add_one reads with */
		if ((eng = cli_engine(NULL, ENGINE_CFG_NO_SCHEMAS)) == NULL)
			goto done;
		if (engine_txn_set_tolerance(eng, &tol) < 0) {
			fprintf(stderr, "%s: txn add: tolerances must be non-negative decimals\n",
			        cli_prog);
			goto done;
		}
	}
	queue_config_default(&cfg);
	cfg.group_commit = 0;
	cfg.recover = 0;
	if ((rc = queue_open(db, &cfg, &q, err, sizeof(err))) < 0) {
		fprintf(stderr, "%s: txn: %s: %s%s%s\n", cli_prog, db, secmx_strerror(rc),
		        *err ? ": " : "", err);
		goto done;
	}
	if (strcmp(action, "list") == 0) {
		if ((rc = queue_txn_list_json(q, state, limit, &out)) < 0) {
			fprintf(stderr, "%s: txn list: %s\n", cli_prog, secmx_strerror(rc));
			goto done;
		}
		if (json)
			print_json(out);
		else
			print_list(out);
		ret = 0;
	} else if (strcmp(action, "show") == 0) {
		ret = show(q, args[0], json);
	} else {
		ret = 0;
		for (i = 0; i < nargs; i++) {
			int r1 = add_one(eng, ecfg.limits.max_doc_bytes, q, args[i], json);

			if (r1 > ret)
				ret = r1;
		}
	}
done:
	json_decref(out);
	queue_close(q);
	engine_free(eng);
	free(args);
	return ret;
}
