/*
 * cmd_queue.c — `secmx queue`: list, show, retry, hold, release and remove
 * queue entries, and show a transaction. Text for people, --json for
 * programs. Every change is audited in the store with who did it (--by, or
 * the login name) and, for removal, why.
 *
 *   secmx queue [--db PATH] list [--state S] [--limit N] [--json]
 *   secmx queue [--db PATH] show ID [--json]     (ID: 42 or m42, as logged)
 *   secmx queue [--db PATH] retry|hold|release ID [--by WHO]
 *   secmx queue [--db PATH] remove ID --reason TEXT [--by WHO]
 *   secmx queue [--db PATH] txn KEY [--json]
 *
 * The store is PATH, else $SECMX_QUEUE_DB, else /var/spool/secmx/queue.db.
 * The command opens it without recovery (the daemon may be running and own
 * the leases) and without a committer thread.
 * Text output shows control bytes in stored values (file names, errors) as
 * \xNN, so that a file named with an ESC sequence cannot drive the
 * operator's terminal; --json is unchanged (JSON escapes them).
 * list --state takes the known states only (STATES below); retry refuses
 * (exit 1, with the state and why) a message it could not change: done
 * without dead deliveries, quarantined, dropped, dead with nowhere to go.
 * Exit status: 0 done, 1 no such entry or not allowed in its state, 2 usage
 * or store error.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "queue.h"

#define QUEUE_DB_DEFAULT "/var/spool/secmx/queue.db"

int cmd_queue(int argc, char **argv);

static void help(FILE *fp)
{
	fprintf(fp,
	        "usage: secmx queue [--db PATH] list [--state S] [--limit N] [--json]\n"
	        "       secmx queue [--db PATH] show ID [--json]\n"
	        "       secmx queue [--db PATH] retry|hold|release ID [--by WHO]\n"
	        "       secmx queue [--db PATH] remove ID --reason TEXT [--by WHO]\n"
	        "       secmx queue [--db PATH] txn KEY [--json]\n\n"
	        "Inspect and manage the message queue. retry makes an entry due now (a\n"
	        "dead-lettered one returns to the state it died in); hold keeps it from\n"
	        "being processed until release; remove deletes it (the reason is audited).\n"
	        "ID is the queue id, bare (42) or as the logs print it (m42).\n\n"
	        "  --db PATH      the queue store (default $SECMX_QUEUE_DB, else %s)\n"
	        "  --state S      list only entries in state S: new, validated, correlated,\n"
	        "                 attested, bundle, done, dead (dead deliveries too),\n"
	        "                 quarantined, dropped\n"
	        "  --limit N      list at most N entries\n"
	        "  --json         JSON output\n"
	        "  --by WHO       who is acting, for the audit log (default: login name)\n"
	        "  --reason TEXT  why an entry is removed (required for remove)\n\n"
	        "Exit status: 0 done, 1 no such entry or not allowed in its state, 2 usage or\n"
	        "store error.\n",
	        QUEUE_DB_DEFAULT);
}

/* parse_id: a positive decimal message id, bare or as the logs and the
 * envelopes print it ("m42"), or -1. */
static int64_t parse_id(const char *s)
{
	char *end;
	long long v;

	if (*s == 'm')
		s++;
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end != '\0' || v <= 0)
		return -1;
	return (int64_t)v;
}

/* fmt_time: ms since the epoch as UTC ISO 8601 into BUF. */
static const char *fmt_time(json_int_t ms, char *buf, size_t size)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, size, "%lld", (long long)ms);
	return buf;
}

/* str: a string member or "". */
static const char *str(json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v ? v : "";
}

/* esc: S for a terminal into BUF: control bytes (a drop-directory file may
 * be named with a newline or an ESC sequence) as \xNN; cut short to fit. */
static const char *esc(const char *s, char *buf, size_t size)
{
	size_t n = 0;

	for (; *s != '\0' && n + 5 < size; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f)
			n += (size_t)snprintf(buf + n, size - n, "\\x%02x", c);
		else
			buf[n++] = (char)c;
	}
	buf[n] = '\0';
	return buf;
}

/* print_list: one line per entry. */
static void print_list(json_t *arr)
{
	size_t i;
	json_t *m;
	char when[32], e1[64], e2[128], e3[128], e4[2048], e5[2048];

	printf("%-8s %-12s %-4s %-4s %-20s %-28s %-14s %s\n", "ID", "STATE", "HELD", "TRY",
	       "CREATED", "SENDER", "TYPE", "DOC-ID / LAST ERROR");
	json_array_foreach(arr, i, m)
	{
		const char *err = str(m, "last_error");

		printf("%-8lld %-12s %-4s %-4lld %-20s %-28.28s %-14.14s %s%s%s\n",
		       (long long)json_integer_value(json_object_get(m, "id")),
		       esc(str(m, "state"), e1, sizeof(e1)),
		       json_is_true(json_object_get(m, "held")) ? "yes" : "-",
		       (long long)json_integer_value(json_object_get(m, "attempts")),
		       fmt_time(json_integer_value(json_object_get(m, "created_at")), when,
		                sizeof(when)),
		       *str(m, "sender") ? esc(str(m, "sender"), e2, sizeof(e2)) : "-",
		       *str(m, "doc_type") ? esc(str(m, "doc_type"), e3, sizeof(e3)) : "-",
		       esc(str(m, "doc_id"), e4, sizeof(e4)), *err ? " / " : "",
		       esc(err, e5, sizeof(e5)));
	}
	printf("%zu entr%s\n", json_array_size(arr), json_array_size(arr) == 1 ? "y" : "ies");
}

/* print_flat: the JSON value as "key: value" lines; *_at keys as times. */
static void print_flat(const char *prefix, json_t *v)
{
	const char *k;
	json_t *item;
	size_t i;
	char sub[256], when[32], e[4096];

	if (json_is_object(v)) {
		json_object_foreach(v, k, item)
		{
			snprintf(sub, sizeof(sub), "%s%s%s", prefix, *prefix ? "." : "", k);
			print_flat(sub, item);
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, item)
		{
			snprintf(sub, sizeof(sub), "%s[%zu]", prefix, i);
			print_flat(sub, item);
		}
	} else if (json_is_string(v)) {
		printf("%-32s %s\n", prefix, esc(json_string_value(v), e, sizeof(e)));
	} else if (json_is_integer(v)) {
		size_t n = strlen(prefix);

		if ((n >= 3 &&
		     (strcmp(prefix + n - 3, "_at") == 0 || strcmp(prefix + n - 3, ".at") == 0)) ||
		    strcmp(prefix, "at") == 0 || (n > 5 && strcmp(prefix + n - 5, "until") == 0) ||
		    (n > 8 && strcmp(prefix + n - 8, "deadline") == 0))
			printf("%-32s %s\n", prefix,
			       fmt_time(json_integer_value(v), when, sizeof(when)));
		else
			printf("%-32s %lld\n", prefix, (long long)json_integer_value(v));
	} else if (json_is_boolean(v)) {
		printf("%-32s %s\n", prefix, json_is_true(v) ? "yes" : "no");
	}
}

/* dump: JSON on one line, or flattened text. */
static void dump(json_t *v, int json)
{
	if (json) {
		char *s = json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_ENCODE_ANY);

		if (s != NULL)
			printf("%s\n", s);
		free(s);
	} else {
		print_flat("", v);
	}
}

/* whoami: the login name for the audit log. */
static const char *whoami(char *buf, size_t size)
{
	struct passwd *pw = getpwuid(getuid());

	if (pw != NULL && pw->pw_name != NULL)
		secmx_strlcpy(buf, pw->pw_name, size);
	else
		snprintf(buf, size, "uid %u", (unsigned)getuid());
	return buf;
}

/*
 * The states a message can be in: the queue's own (new, done, dead,
 * quarantined, dropped; queue.h), secmxd's pipeline states between them
 * (daemon/pipeline.c STEPS, the table in docs/operations.md) and its
 * delivery bundles' state ("bundle", never claimed). `list
 * --state` takes only these, so that a typo is refused instead of listing
 * nothing.
 */
static const char *const STATES[] = {"new",  "validated", "correlated",  "attested", "bundle",
                                     "done", "dead",      "quarantined", "dropped"};

/* state_known: is S one of STATES? */
static int state_known(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(STATES) / sizeof(STATES[0]); i++)
		if (strcmp(s, STATES[i]) == 0)
			return 1;
	return 0;
}

/* retry_refused: why message ID cannot be retried, with its state, on
 * standard error (queue_msg_retry said SECMX_ESTATE). EXIT_REFUSED. */
static int retry_refused(struct queue *q, int64_t id, const char *arg)
{
	json_t *m = NULL;
	const char *state = "?", *why = "retry is not allowed in this state";
	char e[128];

	if (queue_show_json(q, id, &m) == 0)
		state = str(m, "state");
	if (strcmp(state, QUEUE_STATE_DONE) == 0)
		why = "it is finished and has no dead deliveries to offer again";
	else if (strcmp(state, QUEUE_STATE_QUARANTINED) == 0)
		why = "its stored bytes failed their digest; it can only be removed";
	else if (strcmp(state, QUEUE_STATE_DROPPED) == 0)
		why = "it is a dropped duplicate, never processed";
	else if (strcmp(state, QUEUE_STATE_DEAD) == 0)
		why = "it has no state to return to";
	fprintf(stderr, "%s: queue retry %s: not retried: message in state %s: %s\n", cli_prog, arg,
	        esc(state, e, sizeof(e)), why);
	json_decref(m);
	return EXIT_REFUSED;
}

/* status: the exit status for a queue call's result, with a message. */
static int status(int rc, const char *what, const char *arg)
{
	if (rc >= 0)
		return 0;
	fprintf(stderr, "%s: queue %s %s: %s\n", cli_prog, what, arg, secmx_strerror(rc));
	if (rc == SECMX_ENOTFOUND || rc == SECMX_ESTATE || rc == SECMX_ECORRUPT)
		return EXIT_REFUSED;
	return EXIT_USAGE;
}

/* cmd_queue: `secmx queue`. */
int cmd_queue(int argc, char **argv)
{
	const char *db = getenv("SECMX_QUEUE_DB"), *state = NULL, *by = NULL, *reason = NULL;
	const char *action = NULL, *arg = NULL;
	struct queue_config cfg;
	struct queue *q = NULL;
	json_t *out = NULL;
	char err[512] = "", me[64];
	unsigned long limit = 0;
	int json = 0, i, rc, ret = EXIT_USAGE;
	int64_t id = 0;

	if (db == NULL || *db == '\0')
		db = QUEUE_DB_DEFAULT;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		int more = i + 1 < argc;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			help(stdout);
			return 0;
		} else if (strcmp(a, "--json") == 0) {
			json = 1;
		} else if (strcmp(a, "--db") == 0 && more) {
			db = argv[++i];
		} else if (strcmp(a, "--state") == 0 && more) {
			state = argv[++i];
		} else if (strcmp(a, "--by") == 0 && more) {
			by = argv[++i];
		} else if (strcmp(a, "--reason") == 0 && more) {
			reason = argv[++i];
		} else if (strcmp(a, "--limit") == 0 && more) {
			if (cli_count(argv[++i], &limit) < 0) {
				fprintf(stderr, "%s: queue: bad --limit\n", cli_prog);
				return EXIT_USAGE;
			}
		} else if (a[0] == '-' && a[1] != '\0') {
			fprintf(stderr, "%s: queue: unknown or incomplete option '%s'\n", cli_prog,
			        a);
			help(stderr);
			return EXIT_USAGE;
		} else if (action == NULL) {
			action = a;
		} else if (arg == NULL) {
			arg = a;
		} else {
			fprintf(stderr, "%s: queue: unexpected argument '%s'\n", cli_prog, a);
			return EXIT_USAGE;
		}
	}
	if (action == NULL) {
		help(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(action, "list") == 0) {
		if (arg != NULL) {
			help(stderr);
			return EXIT_USAGE;
		}
		if (state != NULL && !state_known(state)) {
			fprintf(stderr, "%s: queue list: unknown state '%s' (", cli_prog, state);
			for (i = 0; i < (int)(sizeof(STATES) / sizeof(STATES[0])); i++)
				fprintf(stderr, "%s%s", i ? ", " : "", STATES[i]);
			fprintf(stderr, ")\n");
			return EXIT_USAGE;
		}
	} else if (strcmp(action, "txn") == 0) {
		if (arg == NULL) {
			help(stderr);
			return EXIT_USAGE;
		}
	} else if (strcmp(action, "show") == 0 || strcmp(action, "retry") == 0 ||
	           strcmp(action, "hold") == 0 || strcmp(action, "release") == 0 ||
	           strcmp(action, "remove") == 0) {
		if (arg == NULL) {
			fprintf(stderr, "%s: queue %s: needs a message ID\n", cli_prog, action);
			return EXIT_USAGE;
		}
		if ((id = parse_id(arg)) < 0) {
			fprintf(stderr, "%s: queue %s: '%s' is not a message ID (42 or m42)\n",
			        cli_prog, action, arg);
			return EXIT_USAGE;
		}
		if (strcmp(action, "remove") == 0 && (reason == NULL || *reason == '\0')) {
			fprintf(stderr, "%s: queue remove: --reason TEXT is required\n", cli_prog);
			return EXIT_USAGE;
		}
	} else {
		fprintf(stderr, "%s: queue: unknown action '%s'\n", cli_prog, action);
		help(stderr);
		return EXIT_USAGE;
	}
	if (by == NULL)
		by = whoami(me, sizeof(me));
	/* Refuse to create a store by accident: it must exist. */
	if (access(db, F_OK) != 0) {
		fprintf(stderr, "%s: queue: %s: %s\n", cli_prog, db, strerror(errno));
		return EXIT_USAGE;
	}
	queue_config_default(&cfg);
	cfg.group_commit = 0;
	cfg.recover = 0;
	if ((rc = queue_open(db, &cfg, &q, err, sizeof(err))) < 0) {
		fprintf(stderr, "%s: queue: %s: %s%s%s\n", cli_prog, db, secmx_strerror(rc),
		        *err ? ": " : "", err);
		return EXIT_USAGE;
	}
	if (strcmp(action, "list") == 0) {
		if ((rc = queue_list_json(q, state, limit, &out)) == 0) {
			if (json)
				dump(out, 1);
			else
				print_list(out);
		}
		ret = status(rc, action, state ? state : "");
	} else if (strcmp(action, "show") == 0) {
		if ((rc = queue_show_json(q, id, &out)) == 0)
			dump(out, json);
		ret = status(rc, action, arg);
	} else if (strcmp(action, "txn") == 0) {
		if ((rc = queue_txn_json(q, arg, &out)) == 0)
			dump(out, json);
		ret = status(rc, action, arg);
	} else {
		if (strcmp(action, "retry") == 0)
			rc = queue_msg_retry(q, id, by);
		else if (strcmp(action, "hold") == 0)
			rc = queue_msg_hold(q, id, by);
		else if (strcmp(action, "release") == 0)
			rc = queue_msg_release(q, id, by);
		else
			rc = queue_msg_remove(q, id, by, reason);
		if (rc == SECMX_ESTATE && strcmp(action, "retry") == 0)
			ret = retry_refused(q, id, arg);
		else if ((ret = status(rc, action, arg)) == 0)
			printf("%s: %s %lld\n", cli_prog,
			       strcmp(action, "retry") == 0     ? "retrying"
			       : strcmp(action, "hold") == 0    ? "held"
			       : strcmp(action, "release") == 0 ? "released"
			                                        : "removed",
			       (long long)id);
	}
	json_decref(out);
	queue_close(q);
	return ret;
}
