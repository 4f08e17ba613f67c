/*
 * ledger.c — the finance ledger: suppliers, invoices and credit notes, their
 * lines, match status and approval state, written once in portable SQL over
 * a storage backend (ledger_int.h: ledger_sqlite.c or ledger_pg.c).
 *
 * Interface (finance.h): ledger_open/close/backend_name, ledger_record,
 * ledger_batch_begin/commit/rollback, ledger_seen, ledger_list, ledger_get, ledger_approve,
 * ledger_pay, ledger_remit_sent, ledger_count.
 *
 * Exactly once: ledger_record runs in one database transaction that first
 * inserts the delivery's idempotency key into fin_delivery (ON CONFLICT DO
 * NOTHING: no row inserted means the key was already processed) and then
 * the document under its primary key (supplier_key, kind, doc_id) (no row
 * inserted means the same invoice came again under another key, e.g. resent
 * by the supplier). Either way nothing else is written. Both checks are
 * unique constraints in the database, so they hold across processes and
 * crashes: a crash before COMMIT leaves nothing, after COMMIT the key.
 *
 * Batches (secmx-finance's bursts): ledger_batch_begin opens one
 * transaction; each ledger_record in it runs under a savepoint, so a
 * document the database refuses (SECMX_EINVALID: a constraint or trigger)
 * or that fails otherwise is rolled back alone and the others stay;
 * ledger_batch_commit commits them all at once (one fsync). Keys and
 * documents of the burst are in that one transaction, so the argument
 * above holds for the burst as a whole. If the transaction itself is lost
 * (connection, disk), the batch is "broken": every later record and the
 * commit fail with SECMX_EIO and the whole burst is rolled back.
 *
 * Errors: SECMX_EIO (database, reason in ERR), SECMX_ENOTFOUND,
 * SECMX_EDUPLICATE (ambiguous id), SECMX_ESTATE, SECMX_ENOMEM, SECMX_EINVAL.
 * Ownership: documents passed to callbacks are borrowed for the call; the
 * one filled by ledger_get is the caller's (fin_doc_clear).
 */
#include "ledger_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

struct ledger {
	const struct ledger_backend *be;
	void *db;
	int batch;  /* ledger_batch_begin opened a transaction */
	int broken; /* a batch statement failed beyond its savepoint */
};

/* The schema: portable DDL (SQLite and PostgreSQL). Amounts are TEXT:
 * exact decimal strings as the document gave them. */
static const char *const schema[] = {
    "CREATE TABLE IF NOT EXISTS fin_delivery ("
    " idem_key TEXT PRIMARY KEY NOT NULL,"
    " document_type TEXT, outcome TEXT, recorded_at TEXT)",
    "CREATE TABLE IF NOT EXISTS fin_supplier ("
    " supplier_key TEXT PRIMARY KEY NOT NULL,"
    " name TEXT, legal_id TEXT, legal_scheme TEXT, tax_id TEXT, country TEXT,"
    " first_seen TEXT)",
    "CREATE TABLE IF NOT EXISTS fin_document ("
    " supplier_key TEXT NOT NULL, kind TEXT NOT NULL, doc_id TEXT NOT NULL,"
    " idem_key TEXT NOT NULL UNIQUE, message_id TEXT, transaction_id TEXT,"
    " received_at TEXT, issue_date TEXT, due_date TEXT, currency TEXT, order_ref TEXT,"
    " net TEXT, tax TEXT, gross TEXT, payable TEXT, match_status TEXT NOT NULL,"
    " reason TEXT, status TEXT NOT NULL, approved_at TEXT, paid_date TEXT,"
    " paid_amount TEXT, remit_id TEXT, remit_state TEXT, remit_message_id TEXT,"
    " recorded_at TEXT,"
    " PRIMARY KEY (supplier_key, kind, doc_id))",
    "CREATE INDEX IF NOT EXISTS fin_document_id ON fin_document (doc_id)",
    "CREATE INDEX IF NOT EXISTS fin_document_status ON fin_document (status, issue_date)",
    "CREATE TABLE IF NOT EXISTS fin_line ("
    " supplier_key TEXT NOT NULL, kind TEXT NOT NULL, doc_id TEXT NOT NULL,"
    " line_no INTEGER NOT NULL, line_id TEXT, description TEXT, quantity TEXT,"
    " unit_code TEXT, unit_price TEXT, net TEXT, tax_category TEXT, tax_percent TEXT,"
    " PRIMARY KEY (supplier_key, kind, doc_id, line_no))",
};

/* The document columns, in the order doc_from_row() reads them. */
#define DOC_COLS                                                                                   \
	"d.supplier_key, d.kind, d.doc_id, d.idem_key, d.message_id, d.transaction_id,"            \
	" d.received_at, d.issue_date, d.due_date, d.currency, d.order_ref, d.net, d.tax,"         \
	" d.gross, d.payable, d.match_status, d.reason, d.status, d.approved_at,"                  \
	" d.paid_date, d.paid_amount, d.remit_id, d.remit_state, d.remit_message_id,"              \
	" d.recorded_at, s.name, s.legal_id, s.legal_scheme, s.tax_id, s.country"
#define DOC_FROM " FROM fin_document d LEFT JOIN fin_supplier s ON s.supplier_key = d.supplier_key"
#define DOC_NCOLS 30

/* now_utc: the current time as RFC 3339 UTC into BUF. */
static void now_utc(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ledger_open: choose the backend, connect, create the tables. */
int ledger_open(const struct ledger_params *p, struct ledger **out, char *err, size_t errlen)
{
	struct ledger *l = NULL;
	size_t i;
	int rc;

	*out = NULL;
	if (p->kind == LEDGER_POSTGRESQL && p->pg_conninfo && strstr(p->pg_conninfo, "password")) {
		secmx_errf(err, errlen,
		           "pg_conninfo must not hold a password: use "
		           "finance.pg_password_file or finance.pg_password_env");
		return SECMX_ECONFIG;
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		return SECMX_ENOMEM;
	l->be = p->kind == LEDGER_POSTGRESQL ? &ledger__pg : &ledger__sqlite;
	if ((rc = l->be->open(p, &l->db, err, errlen)) < 0)
		goto fail;
	for (i = 0; i < sizeof(schema) / sizeof(schema[0]); i++)
		if ((rc = l->be->exec(l->db, schema[i], NULL, 0, NULL, err, errlen)) < 0)
			goto fail;
	*out = l;
	return 0;
fail:
	ledger_close(l);
	return rc;
}

/* ledger_close: disconnect and free. */
void ledger_close(struct ledger *l)
{
	if (!l)
		return;
	if (l->db)
		l->be->close(l->db);
	free(l);
}

/* ledger_backend_name: the backend's name. */
const char *ledger_backend_name(const struct ledger *l)
{
	return l->be->name;
}

/* exec / rollback: shorthands. */
static int exec(struct ledger *l, const char *sql, const char *const *p, int n, long *changes,
                char *err, size_t errlen)
{
	return l->be->exec(l->db, sql, p, n, changes, err, errlen);
}

static void rollback(struct ledger *l)
{
	/* ROLLBACK outside a transaction is harmless on both engines. */
	char ignore[64];

	l->be->exec(l->db, "ROLLBACK", NULL, 0, NULL, ignore, sizeof(ignore));
}

/* record_stmts: the statements of ledger_record inside an open
 * transaction: 1 recorded, 0 duplicate (key or document seen), < 0 failed
 * (the caller rolls back). */
static int record_stmts(struct ledger *l, const struct fin_doc *d, char *err, size_t errlen)
{
	char now[32], lineno[24];
	long changes = 0;
	size_t i;
	int rc;

	now_utc(now, sizeof(now));
	{
		const char *p[] = {d->idem_key, d->kind, now};

		rc = exec(l,
		          "INSERT INTO fin_delivery (idem_key, document_type, outcome, recorded_at)"
		          " VALUES ($1, $2, 'recorded', $3) ON CONFLICT DO NOTHING",
		          p, 3, &changes, err, errlen);
		if (rc < 0)
			return rc;
		if (changes == 0) /* this delivery was processed before */
			return 0;
	}
	{
		const char *p[] = {d->supplier_key,
		                   d->supplier_name,
		                   d->supplier_id,
		                   d->supplier_scheme,
		                   d->supplier_tax_id,
		                   d->supplier_country,
		                   now};

		rc = exec(l,
		          "INSERT INTO fin_supplier (supplier_key, name, legal_id, legal_scheme,"
		          " tax_id, country, first_seen) VALUES ($1, $2, $3, $4, $5, $6, $7)"
		          " ON CONFLICT DO NOTHING",
		          p, 7, NULL, err, errlen);
		if (rc < 0)
			return rc;
	}
	{
		const char *p[] = {
		    d->supplier_key,   d->kind,        d->doc_id,     d->idem_key, d->message_id,
		    d->transaction_id, d->received_at, d->issue_date, d->due_date, d->currency,
		    d->order_ref,      d->net,         d->tax,        d->gross,    d->payable,
		    d->match_status,   d->reason,      d->status,     now};

		rc =
		    exec(l,
		         "INSERT INTO fin_document (supplier_key, kind, doc_id, idem_key,"
		         " message_id, transaction_id, received_at, issue_date, due_date, currency,"
		         " order_ref, net, tax, gross, payable, match_status, reason, status,"
		         " recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,"
		         " $13, $14, $15, $16, $17, $18, $19) ON CONFLICT DO NOTHING",
		         p, 19, &changes, err, errlen);
		if (rc < 0)
			return rc;
		if (changes == 0) {
			/* The same document under a new key: remember the key, record
			 * nothing else. */
			const char *q[] = {d->idem_key};

			rc = exec(
			    l, "UPDATE fin_delivery SET outcome = 'duplicate' WHERE idem_key = $1",
			    q, 1, NULL, err, errlen);
			return rc < 0 ? rc : 0;
		}
	}
	for (i = 0; i < d->nlines; i++) {
		const struct fin_line *ln = &d->lines[i];
		const char *p[] = {d->supplier_key, d->kind,          d->doc_id,
		                   lineno,          ln->line_id,      ln->description,
		                   ln->quantity,    ln->unit_code,    ln->unit_price,
		                   ln->net,         ln->tax_category, ln->tax_percent};

		snprintf(lineno, sizeof(lineno), "%zu", i + 1);
		rc =
		    exec(l,
		         "INSERT INTO fin_line (supplier_key, kind, doc_id, line_no, line_id,"
		         " description, quantity, unit_code, unit_price, net, tax_category,"
		         " tax_percent) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
		         p, 12, NULL, err, errlen);
		if (rc < 0)
			return rc;
	}
	return 1;
}

/* record_in_batch: ledger_record inside the open batch, under a savepoint:
 * a failed document is rolled back to the savepoint and the batch goes on;
 * if even that fails the batch is broken (only a rollback is left). */
static int record_in_batch(struct ledger *l, const struct fin_doc *d, char *err, size_t errlen)
{
	char ignore[256];
	int rc;

	if (l->broken || !l->be->in_txn(l->db)) {
		l->broken = 1;
		secmx_errf(err, errlen, "the batch's transaction is lost (connection or disk)");
		return SECMX_EIO;
	}
	if ((rc = exec(l, "SAVEPOINT fin_record", NULL, 0, NULL, err, errlen)) < 0)
		goto broken;
	rc = record_stmts(l, d, err, errlen);
	if (rc >= 0) {
		if (exec(l, "RELEASE SAVEPOINT fin_record", NULL, 0, NULL, err, errlen) < 0)
			goto broken;
		return rc;
	}
	if (exec(l, "ROLLBACK TO SAVEPOINT fin_record", NULL, 0, NULL, ignore, sizeof(ignore)) <
	        0 ||
	    exec(l, "RELEASE SAVEPOINT fin_record", NULL, 0, NULL, ignore, sizeof(ignore)) < 0 ||
	    !l->be->in_txn(l->db))
		goto broken;
	return rc; /* this document only; the batch goes on */
broken:
	l->broken = 1;
	return SECMX_EIO;
}

/* ledger_record: supplier, document and lines, exactly once (see top). */
int ledger_record(struct ledger *l, const struct fin_doc *d, char *err, size_t errlen)
{
	int rc;

	if (!d->idem_key || !d->kind || !d->doc_id || !d->supplier_key || !d->status ||
	    !d->match_status)
		return SECMX_EINVAL;
	if (l->batch)
		return record_in_batch(l, d, err, errlen);
	if ((rc = l->be->begin(l->db, err, errlen)) < 0)
		return rc;
	rc = record_stmts(l, d, err, errlen);
	if (rc < 0)
		goto fail;
	{
		int c = exec(l, "COMMIT", NULL, 0, NULL, err, errlen);

		if (c < 0) {
			rc = SECMX_EIO; /* a failed commit is never the document's fault */
			goto fail;
		}
	}
	return rc;
fail:
	rollback(l);
	return rc;
}

/* ledger_batch_begin: open the burst's transaction (no-op when open). */
int ledger_batch_begin(struct ledger *l, char *err, size_t errlen)
{
	int rc;

	if (l->batch)
		return 0;
	if ((rc = l->be->begin(l->db, err, errlen)) < 0)
		return rc == SECMX_EINVALID ? SECMX_EIO : rc;
	l->batch = 1;
	l->broken = 0;
	return 0;
}

/* ledger_batch_commit: commit the burst, or roll it back and fail. */
int ledger_batch_commit(struct ledger *l, char *err, size_t errlen)
{
	int rc = 0;

	if (!l->batch)
		return 0;
	if (l->broken || !l->be->in_txn(l->db)) {
		secmx_errf(err, errlen, "the batch's transaction was lost before its commit");
		rc = SECMX_EIO;
	} else if (exec(l, "COMMIT", NULL, 0, NULL, err, errlen) < 0) {
		rc = SECMX_EIO;
	}
	if (rc < 0)
		rollback(l);
	l->batch = 0;
	l->broken = 0;
	return rc;
}

/* ledger_batch_rollback: drop the burst's transaction, if any. */
void ledger_batch_rollback(struct ledger *l)
{
	if (!l || !l->batch)
		return;
	rollback(l);
	l->batch = 0;
	l->broken = 0;
}

/* one_row: a query callback that notes a row was seen. */
static int one_row(void *arg, int n, const char *const *v)
{
	(void)n;
	(void)v;
	*(int *)arg = 1;
	return 1;
}

/* ledger_seen: was KEY recorded? */
int ledger_seen(struct ledger *l, const char *key, char *err, size_t errlen)
{
	const char *p[] = {key};
	int found = 0, rc;

	rc = l->be->query(l->db, "SELECT 1 FROM fin_delivery WHERE idem_key = $1", p, 1, one_row,
	                  &found, err, errlen);
	return rc < 0 ? rc : found;
}

/* doc_from_row: the DOC_COLS of one row into *D (cleared first). */
static int doc_from_row(struct fin_doc *d, const char *const *v)
{
	char **f[DOC_NCOLS] = {&d->supplier_key,
	                       &d->kind,
	                       &d->doc_id,
	                       &d->idem_key,
	                       &d->message_id,
	                       &d->transaction_id,
	                       &d->received_at,
	                       &d->issue_date,
	                       &d->due_date,
	                       &d->currency,
	                       &d->order_ref,
	                       &d->net,
	                       &d->tax,
	                       &d->gross,
	                       &d->payable,
	                       &d->match_status,
	                       &d->reason,
	                       &d->status,
	                       &d->approved_at,
	                       &d->paid_date,
	                       &d->paid_amount,
	                       &d->remit_id,
	                       &d->remit_state,
	                       &d->remit_message_id,
	                       &d->recorded_at,
	                       &d->supplier_name,
	                       &d->supplier_id,
	                       &d->supplier_scheme,
	                       &d->supplier_tax_id,
	                       &d->supplier_country};
	int i;

	fin_doc_clear(d);
	for (i = 0; i < DOC_NCOLS; i++)
		if (fin_set(f[i], v[i]) < 0)
			return SECMX_ENOMEM;
	return 0;
}

/* line_row: append one fin_line row to the document in ARG. */
static int line_row(void *arg, int n, const char *const *v)
{
	struct fin_doc *d = arg;
	struct fin_line *ln, *nl;

	if (n < 8)
		return 1;
	nl = realloc(d->lines, (d->nlines + 1) * sizeof(*nl));
	if (!nl)
		return 1;
	d->lines = nl;
	ln = &d->lines[d->nlines++];
	memset(ln, 0, sizeof(*ln));
	if (fin_set(&ln->line_id, v[0]) < 0 || fin_set(&ln->description, v[1]) < 0 ||
	    fin_set(&ln->quantity, v[2]) < 0 || fin_set(&ln->unit_code, v[3]) < 0 ||
	    fin_set(&ln->unit_price, v[4]) < 0 || fin_set(&ln->net, v[5]) < 0 ||
	    fin_set(&ln->tax_category, v[6]) < 0 || fin_set(&ln->tax_percent, v[7]) < 0)
		return 1;
	return 0;
}

/* load_lines: the lines of D, in order. */
static int load_lines(struct ledger *l, struct fin_doc *d, char *err, size_t errlen)
{
	const char *p[] = {d->supplier_key, d->kind, d->doc_id};

	return l->be->query(l->db,
	                    "SELECT line_id, description, quantity, unit_code, unit_price, net,"
	                    " tax_category, tax_percent FROM fin_line WHERE supplier_key = $1"
	                    " AND kind = $2 AND doc_id = $3 ORDER BY line_no",
	                    p, 3, line_row, d, err, errlen);
}

/* A collected result: documents read before callbacks run (a callback may
 * then use the ledger itself). */
struct collect {
	struct fin_doc *v;
	size_t n, cap;
	int rc;
};

/* collect_row: append one row as a document. */
static int collect_row(void *arg, int n, const char *const *v)
{
	struct collect *c = arg;
	struct fin_doc *nv;

	if (n < DOC_NCOLS) {
		c->rc = SECMX_EINTERNAL;
		return 1;
	}
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		nv = realloc(c->v, c->cap * sizeof(*nv));
		if (!nv) {
			c->rc = SECMX_ENOMEM;
			return 1;
		}
		c->v = nv;
	}
	memset(&c->v[c->n], 0, sizeof(c->v[0]));
	if (doc_from_row(&c->v[c->n++], v) < 0) {
		c->rc = SECMX_ENOMEM;
		return 1;
	}
	return 0;
}

/* collect_free: free a collection. */
static void collect_free(struct collect *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		fin_doc_clear(&c->v[i]);
	free(c->v);
	memset(c, 0, sizeof(*c));
}

/* ledger_list: documents by status and issue date, each to FN. */
int ledger_list(struct ledger *l, const char *const *statuses, const char *since, bool with_lines,
                ledger_each_fn fn, void *arg, char *err, size_t errlen)
{
	char sql[1024];
	const char *p[LEDGER_MAX_PARAMS];
	struct collect c = {0};
	size_t off;
	int np = 0, rc, i;

	/* The dates are compared as text: anything but YYYY-MM-DD ("20/11/2026")
	 * would silently select the wrong documents. */
	if (since && !fin_date_ok(since)) {
		secmx_errf(err, errlen, "since: \"%s\" is not a date YYYY-MM-DD", since);
		return SECMX_EINVAL;
	}
	off = (size_t)snprintf(sql, sizeof(sql), "SELECT " DOC_COLS DOC_FROM " WHERE 1 = 1");
	if (statuses && statuses[0]) {
		off += (size_t)snprintf(sql + off, sizeof(sql) - off, " AND d.status IN (");
		for (i = 0; statuses[i] && np < 8; i++) {
			p[np++] = statuses[i];
			off += (size_t)snprintf(sql + off, sizeof(sql) - off, "%s$%d",
			                        i ? ", " : "", np);
		}
		off += (size_t)snprintf(sql + off, sizeof(sql) - off, ")");
	}
	if (since) {
		p[np++] = since;
		off +=
		    (size_t)snprintf(sql + off, sizeof(sql) - off, " AND d.issue_date >= $%d", np);
	}
	snprintf(sql + off, sizeof(sql) - off,
	         " ORDER BY d.issue_date, d.supplier_key, d.kind, d.doc_id");
	rc = l->be->query(l->db, sql, p, np, collect_row, &c, err, errlen);
	if (rc < 0 || (rc = c.rc) < 0)
		goto out;
	for (i = 0; i < (int)c.n; i++) {
		if (with_lines && (rc = load_lines(l, &c.v[i], err, errlen)) < 0)
			goto out;
		if (fn(arg, &c.v[i])) {
			i++;
			break;
		}
	}
	rc = i;
out:
	collect_free(&c);
	return rc;
}

/* ledger_get: exactly one document by id (and supplier, kind). */
int ledger_get(struct ledger *l, const char *supplier_key, const char *kind, const char *doc_id,
               struct fin_doc *out, char *err, size_t errlen)
{
	const char *p[] = {doc_id, supplier_key, kind};
	struct collect c = {0};
	int rc;

	memset(out, 0, sizeof(*out));
	rc = l->be->query(l->db,
	                  "SELECT " DOC_COLS DOC_FROM " WHERE d.doc_id = $1"
	                  " AND (CAST($2 AS TEXT) IS NULL OR d.supplier_key = $2)"
	                  " AND (CAST($3 AS TEXT) IS NULL OR d.kind = $3)"
	                  " ORDER BY d.supplier_key, d.kind",
	                  p, 3, collect_row, &c, err, errlen);
	if (rc < 0 || (rc = c.rc) < 0)
		goto out;
	if (c.n == 0) {
		secmx_errf(err, errlen, "no document %s in the ledger", doc_id);
		rc = SECMX_ENOTFOUND;
		goto out;
	}
	if (c.n > 1) {
		secmx_errf(err, errlen,
		           "%zu documents have id %s (first supplier %s): give --supplier", c.n,
		           doc_id, c.v[0].supplier_key);
		rc = SECMX_EDUPLICATE;
		goto out;
	}
	*out = c.v[0];
	memset(&c.v[0], 0, sizeof(c.v[0]));
	rc = load_lines(l, out, err, errlen);
	if (rc < 0)
		fin_doc_clear(out);
out:
	collect_free(&c);
	return rc < 0 ? rc : 0;
}

/* ledger_approve: pending → approved. */
int ledger_approve(struct ledger *l, const struct fin_doc *d, char *err, size_t errlen)
{
	char now[32];
	const char *p[] = {now, d->supplier_key, d->kind, d->doc_id};
	long changes = 0;
	int rc;

	now_utc(now, sizeof(now));
	rc = exec(l,
	          "UPDATE fin_document SET status = 'approved', approved_at = $1"
	          " WHERE supplier_key = $2 AND kind = $3 AND doc_id = $4 AND status = 'pending'",
	          p, 4, &changes, err, errlen);
	return rc < 0 ? rc : changes > 0;
}

/* ledger_pay: approved → paid, with the payment's date, amount, remittance id. */
int ledger_pay(struct ledger *l, const struct fin_doc *d, const char *date, const char *amount,
               const char *remit_id, char *err, size_t errlen)
{
	const char *p[] = {date, amount, remit_id, d->supplier_key, d->kind, d->doc_id};
	long changes = 0;
	long long units = 0;
	int rc;

	/* The payment is final in the ledger (pay again only re-sends): a typo
	 * such as -5 or 0 must not be recorded as what was paid. */
	if (fin_amount_parse(amount, &units) < 0 || units <= 0) {
		secmx_errf(err, errlen, "amount \"%s\": a payment is a decimal above 0", amount);
		return SECMX_EINVAL;
	}
	rc = exec(l,
	          "UPDATE fin_document SET status = 'paid', paid_date = $1, paid_amount = $2,"
	          " remit_id = $3, remit_state = 'unsent' WHERE supplier_key = $4 AND kind = $5"
	          " AND doc_id = $6 AND status = 'approved'",
	          p, 6, &changes, err, errlen);
	if (rc < 0)
		return rc;
	if (changes > 0)
		return 1;
	if (d->status && strcmp(d->status, FIN_PENDING) == 0) {
		secmx_errf(err, errlen, "%s is on the approval list (%s): approve it first",
		           d->doc_id, d->reason ? d->reason : d->match_status);
		return SECMX_ESTATE;
	}
	return 0;
}

/* ledger_remit_sent: the remittance went out as MESSAGE_ID. */
int ledger_remit_sent(struct ledger *l, const struct fin_doc *d, const char *message_id, char *err,
                      size_t errlen)
{
	const char *p[] = {message_id, d->supplier_key, d->kind, d->doc_id};

	return exec(l,
	            "UPDATE fin_document SET remit_state = 'sent', remit_message_id = $1"
	            " WHERE supplier_key = $2 AND kind = $3 AND doc_id = $4",
	            p, 4, NULL, err, errlen);
}

/* count_row: the first column as a number. */
static int count_row(void *arg, int n, const char *const *v)
{
	*(long *)arg = (n > 0 && v[0]) ? strtol(v[0], NULL, 10) : 0;
	return 1;
}

/* ledger_count: documents in the ledger. */
long ledger_count(struct ledger *l, char *err, size_t errlen)
{
	long n = 0;
	int rc;

	rc = l->be->query(l->db, "SELECT COUNT(*) FROM fin_document", NULL, 0, count_row, &n, err,
	                  errlen);
	return rc < 0 ? rc : n;
}
