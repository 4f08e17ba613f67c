/*
 * finance.h — secmx-finance, the accounts-payable adapter: its internal
 * library (the program is finance_main.c; the tests link the same library).
 *
 * Public interface (private to adapters/finance and tests/finance):
 *   fin_doc_*()        one invoice or credit note as the ledger keeps it.
 *   fin_ubl_read()     (fin_ubl.c) read a UBL 2.1 Invoice or CreditNote with
 *                      libxml2, safely: no DTD, no network, DOCTYPE refused.
 *   fin_envelope_apply() (fin_ubl.c) take the bus envelope's fields and
 *                      decide the match status and approval state.
 *   fin_amount_*()     (fin_ubl.c) exact decimal amounts (no floating point).
 *   ledger_*()         (ledger.c over ledger_sqlite.c / ledger_pg.c) the
 *                      ledger: record (idempotent), list, get, approve, pay.
 *   fin_csv_*()        (fin_csv.c) the CSV export (RFC 4180).
 *   fin_remit_build()  (fin_remit.c) the UBL 2.1 RemittanceAdvice for a paid
 *                      invoice.
 *   fin_config_table   (fin_config.c) the [finance] configuration section.
 *
 * It sees only the adapter SDK and common/ (never the engine or queue).
 * Errors: negative SECMX_E* (common.h), with a reason in ERR where given.
 * Ownership: every char * in struct fin_doc / fin_line is malloc()ed and
 * owned by the struct; fin_doc_clear() frees them all.
 */
#ifndef SECMX_FINANCE_H
#define SECMX_FINANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "common.h"

/* Approval states (fin_doc.status). */
#define FIN_PENDING "pending"   /* on the approval list */
#define FIN_APPROVED "approved" /* may be exported and paid */
#define FIN_PAID "paid"

/* Match states (fin_doc.match_status). */
#define FIN_MATCH_OK "unmatched"       /* valid, no three-way match reported */
#define FIN_MATCH_MATCHED "matched"    /* the transaction says matched */
#define FIN_MATCH_INVALID "invalid"    /* the envelope says invalid */
#define FIN_MATCH_DISPUTED "disputed"  /* the transaction is disputed */
#define FIN_MATCH_CHECK "check-failed" /* our own arithmetic checks failed */

struct fin_line {
	char *line_id, *description, *quantity, *unit_code, *unit_price, *net;
	char *tax_category, *tax_percent;
};

struct fin_doc {
	char *kind;   /* "Invoice" or "CreditNote" */
	char *doc_id; /* cbc:ID */
	char *issue_date, *due_date, *currency, *order_ref;
	char *supplier_key; /* stable supplier key (scheme:id, tax:id or name:...) */
	char *supplier_name, *supplier_id, *supplier_scheme, *supplier_tax_id;
	char *supplier_country;
	char *net, *tax, *gross, *payable; /* exact decimal strings */
	char *line_total; /* sum of line amounts as the document states it (not stored) */
	char *match_status, *status, *reason;
	char *idem_key, *message_id, *transaction_id, *received_at;
	char *approved_at, *paid_date, *paid_amount, *remit_id, *remit_state;
	char *remit_message_id, *recorded_at;
	struct fin_line *lines;
	size_t nlines;
};

/* fin_doc_clear: free everything in D and zero it (NULL fine). */
void fin_doc_clear(struct fin_doc *d);
/* fin_strdup: strdup that accepts NULL (returns NULL). */
char *fin_strdup(const char *s);
/* fin_set: replace *DST with a copy of SRC (NULL clears). 0 or SECMX_ENOMEM. */
int fin_set(char **dst, const char *src);

/* ---- fin_ubl.c ---- */

/* Largest document read (the bus's own cap). */
#define FIN_DOC_MAX (16u * 1024u * 1024u)

/*
 * fin_ubl_read: parse BUF (LEN bytes), a UBL 2.1 Invoice or CreditNote, into
 * *D (cleared first). Parsing never loads a DTD, never touches the network,
 * substitutes no entities, and refuses any document with a DOCTYPE.
 * Returns 0; SECMX_EPARSE (not well-formed, DOCTYPE), SECMX_EUNKNOWN (not an
 * Invoice/CreditNote), SECMX_EINVALID (a required field missing or an amount
 * not a decimal), SECMX_ENOMEM. On failure *D is cleared.
 */
int fin_ubl_read(const void *buf, size_t len, struct fin_doc *d, char *err, size_t errlen);

/*
 * fin_envelope_apply: copy the envelope's idempotency key, message id,
 * transaction id and received_at into D, and set D's match_status, status
 * and reason from the envelope (validation.valid, meta.transaction_state)
 * and from fin_doc_check(). Returns 0, or SECMX_EPARSE if ENVELOPE_JSON is
 * not a JSON object with an idempotency_key.
 */
int fin_envelope_apply(struct fin_doc *d, const char *envelope_json, char *err, size_t errlen);

/* fin_doc_check: our own arithmetic checks (lines sum to the line total,
 * net + tax = gross, due date not before issue date). 0 when they pass,
 * else 1 with the first finding in WHY. */
int fin_doc_check(const struct fin_doc *d, char *why, size_t whylen);

/* fin_amount_ok: is S an exact decimal ("-12.50", "3", at most 18 digits)? */
bool fin_amount_ok(const char *s);
/* fin_amount_parse: S into units of 10^-6 in *OUT. 0, or SECMX_EINVAL
 * (not a decimal, more than 6 decimals, out of range). */
int fin_amount_parse(const char *s, long long *out);
/* fin_amount_format: micro-units V as a decimal with at least 2 decimals. */
void fin_amount_format(long long v, char *buf, size_t len);
/* fin_date_ok: is S a calendar date YYYY-MM-DD? */
bool fin_date_ok(const char *s);

/* ---- ledger.c (storage interface; backends ledger_sqlite.c, ledger_pg.c) ---- */

struct ledger;

enum ledger_backend_kind { LEDGER_SQLITE = 0, LEDGER_POSTGRESQL = 1 };

struct ledger_params {
	enum ledger_backend_kind kind;
	const char *sqlite_path; /* LEDGER_SQLITE */
	const char *pg_conninfo; /* LEDGER_POSTGRESQL: libpq conninfo without password */
	const char *pg_password; /* borrowed secret; never logged; may be NULL */
};

/* ledger_open: open (and create the tables of) a ledger. *OUT: ledger_close. */
int ledger_open(const struct ledger_params *p, struct ledger **out, char *err, size_t errlen);
/* ledger_close: close. NULL is fine. */
void ledger_close(struct ledger *l);
/* ledger_backend_name: "sqlite" or "postgresql". */
const char *ledger_backend_name(const struct ledger *l);

/*
 * ledger_record: record D (supplier, document, lines) in one database
 * transaction, exactly once: if D's idempotency key was seen before, or the
 * ledger already holds (supplier_key, kind, doc_id), nothing is written
 * (except remembering a new key). Returns 1 recorded, 0 duplicate, or
 * SECMX_EIO (the database refused; nothing written) / SECMX_EINVAL.
 */
int ledger_record(struct ledger *l, const struct fin_doc *d, char *err, size_t errlen);
/* (ledger_record also returns SECMX_EINVALID when the database refused the
 * document for its data — a constraint or trigger — which it will do
 * again: a permanent refusal. Inside a batch, a failure rolls back this
 * document only.) */

/*
 * ledger_batch_begin: open one transaction for a burst of ledger_record
 * calls (no-op if one is open); each record then runs under its own
 * savepoint. ledger_batch_commit: commit the burst (0; 0 if none is open),
 * or roll it all back and return SECMX_EIO (the transaction was lost or
 * COMMIT failed). ledger_batch_rollback: drop it (none open: no-op).
 * ledger_seen sees the open batch's keys.
 */
int ledger_batch_begin(struct ledger *l, char *err, size_t errlen);
int ledger_batch_commit(struct ledger *l, char *err, size_t errlen);
void ledger_batch_rollback(struct ledger *l);

/* ledger_seen: 1 if KEY was recorded, 0 if not, SECMX_EIO. */
int ledger_seen(struct ledger *l, const char *key, char *err, size_t errlen);

/* ledger_each_fn: one document (borrowed for the call); nonzero stops. */
typedef int (*ledger_each_fn)(void *arg, const struct fin_doc *d);

/*
 * ledger_list: call FN for each document whose status is one of STATUSES
 * (NULL-terminated; NULL: all), with issue_date >= SINCE (NULL: any), in
 * (issue_date, supplier_key, kind, doc_id) order; WITH_LINES loads lines.
 * Returns how many were passed (>= 0), SECMX_EINVAL when SINCE is not a
 * date YYYY-MM-DD (reason in ERR), or SECMX_EIO.
 */
int ledger_list(struct ledger *l, const char *const *statuses, const char *since, bool with_lines,
                ledger_each_fn fn, void *arg, char *err, size_t errlen);

/*
 * ledger_get: the one document with DOC_ID (and SUPPLIER_KEY, KIND when not
 * NULL) into *OUT (with lines). Returns 0; SECMX_ENOTFOUND; SECMX_EDUPLICATE
 * when several documents match (give the supplier); SECMX_EIO.
 */
int ledger_get(struct ledger *l, const char *supplier_key, const char *kind, const char *doc_id,
               struct fin_doc *out, char *err, size_t errlen);

/* ledger_approve: move D (by key) from pending to approved, recording when.
 * Returns 1 approved, 0 already approved or paid, SECMX_EIO. */
int ledger_approve(struct ledger *l, const struct fin_doc *d, char *err, size_t errlen);

/*
 * ledger_pay: mark approved D paid on DATE with AMOUNT and REMIT_ID, remittance
 * state "unsent". Returns 1 marked, 0 already paid (fields unchanged),
 * SECMX_EINVAL (AMOUNT not a decimal above 0; nothing changed),
 * SECMX_ESTATE (still pending approval), SECMX_EIO.
 */
int ledger_pay(struct ledger *l, const struct fin_doc *d, const char *date, const char *amount,
               const char *remit_id, char *err, size_t errlen);

/* ledger_remit_sent: record that D's remittance was accepted as MESSAGE_ID. */
int ledger_remit_sent(struct ledger *l, const struct fin_doc *d, const char *message_id, char *err,
                      size_t errlen);

/* ledger_count: documents in the ledger (all kinds), or SECMX_EIO. */
long ledger_count(struct ledger *l, char *err, size_t errlen);

/* ---- fin_csv.c ---- */

/* fin_csv_field: write S as one RFC 4180 field (quoted when it holds a
 * comma, quote, CR or LF, or starts/ends with a blank). NULL: empty. */
int fin_csv_field(FILE *fp, const char *s);
/* fin_csv_header: the header row (CRLF-terminated). */
int fin_csv_header(FILE *fp);
/* Flags of fin_csv_row. FIN_CSV_FORMULA_GUARD: a field a spreadsheet would
 * take for a formula — it begins with '=', '+', '-', '@', TAB or CR, or
 * their full-width forms (U+FF1D, U+FF0B, U+FF0D, U+FF20), and is not a
 * plain decimal number like "-12.50" — is written with a leading
 * apostrophe (the OWASP "CSV injection" defence): supplier names and ids
 * come from outside. */
#define FIN_CSV_FORMULA_GUARD 1u
/* fin_csv_row: one document as a row (CRLF-terminated). */
int fin_csv_row(FILE *fp, const struct fin_doc *d, unsigned flags);

/* ---- fin_remit.c ---- */

/* Our organisation (the payer) for remittances: borrowed strings. */
struct fin_org {
	const char *name, *id, *id_scheme, *tax_id, *country;
	const char *customization_id; /* NULL: none (plain UBL 2.1) */
};

/*
 * fin_remit_build: a UBL 2.1 RemittanceAdvice paying D (paid_date,
 * paid_amount and remit_id set) from ORG to D's supplier, one line
 * referencing the invoice (or credit note). *OUT (malloc'd, NUL-terminated,
 * *OUTLEN bytes) is the caller's to free. Deterministic: the same D and ORG
 * always give the same bytes (so a retried SUBMIT is the same document).
 * Returns 0, SECMX_EINVAL (D not paid), SECMX_ENOMEM.
 */
int fin_remit_build(const struct fin_doc *d, const struct fin_org *org, char **out, size_t *outlen,
                    char *err, size_t errlen);

/* ---- fin_config.c ---- */

struct fin_config {
	char *endpoint;
	char *name;
	char *submit_name;
	struct config_list patterns;
	long long credit;
	char *server_key; /* file with the server's Z85 public key */
	char *public_key; /* file with our Z85 public key */
	char *secret_key; /* secret file with our Z85 secret key */
	int ledger;       /* enum ledger_backend_kind */
	char *sqlite_path;
	char *pg_conninfo;
	char *pg_password_file;
	char *pg_password_env;
	char *export_dir;
	bool export_formula_guard; /* FIN_CSV_FORMULA_GUARD for export */
	long long submit_timeout_ms;
	char *org_name, *org_id, *org_id_scheme, *org_tax_id, *org_country;
	char *remittance_customization;
	int log_level; /* enum log_level */
};

extern const struct config_table fin_config_table;

/* fin_config_password: the PostgreSQL password (file or environment) into a
 * new string in *OUT (NULL when none configured; free with free() after
 * wiping). Returns 0, SECMX_EIO, SECMX_ECONFIG (env variable unset). */
int fin_config_password(const struct fin_config *c, char **out, char *err, size_t errlen);

/* fin_config_ledger: ledger_params from C (PASSWORD borrowed). */
void fin_config_ledger(const struct fin_config *c, const char *password, struct ledger_params *p);

#endif
