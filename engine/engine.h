/*
 * engine.h — the document engine: parse, classify, validate, sign and verify
 * UBL 2.1 business documents. This header is the engine's only face; the
 * other headers in engine/ are private to it.
 *
 * Objects and ownership
 *   struct engine         compiled schemas, rule sets and limits. Built once by
 *                         engine_new(), then read-only: one handle may be shared
 *                         by any number of threads (every function takes it
 *                         const). Free with engine_free() after all users stop.
 *   struct engine_doc     one parsed document and what the engine learnt of it.
 *                         Used by one thread at a time. Free with
 *                         engine_doc_free().
 *   struct engine_report  findings (rule id, severity, message, line, XPath).
 *                         Stages append to it; the caller owns it.
 *   struct engine_key     a private key and its certificate chain for signing.
 *   struct engine_trust   trust anchors (and CRLs) for verifying signatures.
 *
 * Errors: every function returns 0 (or a positive count) on success and a
 * negative SECMX_E* code from common.h on failure. When a document is at
 * fault the report holds the reason with a location; the return code only
 * says which kind of failure it was. Nothing here logs, prints or exits.
 *
 * Start-up: call engine_global_init() once before anything else (it is safe
 * to call again, from any thread); engine_global_cleanup() at exit.
 *
 * Limits: struct engine_limits bounds input size, nesting depth, attribute
 * and text size, and node count; all have defaults and all are enforced while
 * parsing, before the document is fully in memory.
 */
#ifndef SECMX_ENGINE_H
#define SECMX_ENGINE_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include <jansson.h>

#include "common.h"

struct engine;
struct engine_doc;
struct engine_report;
struct engine_key;
struct engine_trust;

/* ---- limits and configuration ---- */

struct engine_limits {
	size_t max_doc_bytes;   /* whole input; default 10 MiB */
	unsigned max_depth;     /* element nesting; default 64 */
	size_t max_attr_bytes;  /* one attribute value; default 64 KiB */
	size_t max_text_bytes;  /* one text node; default 8 MiB (base64 attachments) */
	size_t max_nodes;       /* elements + attributes + texts; default 1,000,000 */
	unsigned max_attrs;     /* attributes on one element; default 64 */
};

/* Flags for struct engine_config.flags. */
#define ENGINE_CFG_ALLOW_SHA1 0x1u    /* accept SHA-1 digests/signatures in verify */
#define ENGINE_CFG_NO_SCHEMAS 0x100u  /* compile no schema set (rules-only use) */
/*
 * ENGINE_CFG_RULES_ON_DEMAND: engine_new() only lists the rule files; a
 * profile's rule sets (and their code lists) are loaded the first time a
 * document or listing needs that profile, under a lock, so the engine stays
 * shareable by threads. For one-shot use (secmx validate): a document of one
 * profile no longer pays for every profile's rules (for Peppol BIS Billing,
 * 6.7 of the 15.8 MiB of heap all rule sets take). A rule file is then read
 * when first needed (it must still be there), and one that does not load is
 * reported then (a fatal SECMX-RULES-LOAD finding, SECMX_ECONFIG from
 * engine_doc_validate), not by engine_new(); the next call tries again.
 */
#define ENGINE_CFG_RULES_ON_DEMAND 0x800u

struct engine_config {
	const char *schema_dir;     /* NULL: the built-in e-GIF profile */
	const char *rules_dir;      /* NULL: the built-in rule sets */
	struct engine_limits limits;
	unsigned flags;
};

/* engine_config_default: fill CFG with the defaults (built-in schemas/rules). */
void engine_config_default(struct engine_config *cfg);

/* engine_global_init: initialise libxml2 once. xmlsec and OpenSSL start
 * once, on the first engine_key_load/engine_trust_load/engine_doc_sign/
 * engine_doc_verify (thread-safe), which then fails with SECMX_EINTERNAL if
 * they cannot. */
int engine_global_init(void);
/* engine_global_cleanup: release what engine_global_init took. */
void engine_global_cleanup(void);

/*
 * engine_new: compile schemas and rule sets named by CFG (copied; CFG may be
 * freed afterwards). On failure *OUT is NULL and ERR (if given) says what and
 * where, e.g. the schema file and line that did not compile.
 */
int engine_new(const struct engine_config *cfg, struct engine **out, char *err, size_t errlen);
/* engine_free: release an engine; NULL is accepted. */
void engine_free(struct engine *eng);

/* ---- document types and profiles (the catalogue) ---- */

struct engine_doctype {
	const char *name;       /* "Invoice", "Order", ... (the UBL root name) */
	const char *ns;         /* root element namespace */
	const char *schema;     /* file under the schema set's maindoc/ */
	const char *ubl_version;/* "2.1" */
	const char *refs;       /* correlation keys, XPaths separated by '|' */
};

struct engine_profile {
	const char *name;       /* "peppol-bis-billing-3", ... */
	const char *title;      /* a line for people */
	const char *rules;      /* rule-set file(s), comma-separated, under rules_dir */
};

/* engine_doctype_count / engine_doctype_at: the document types we know. */
size_t engine_doctype_count(void);
const struct engine_doctype *engine_doctype_at(size_t i);
/* engine_profile_count / engine_profile_at / engine_profile_find. */
size_t engine_profile_count(void);
const struct engine_profile *engine_profile_at(size_t i);
const struct engine_profile *engine_profile_find(const char *name);

/* ---- reports ---- */

enum engine_severity {
	ENGINE_FATAL = 0,
	ENGINE_WARNING = 1,
};

struct engine_finding {
	const char *rule;       /* "XML-WF", "XSD", "BR-CO-15", ... */
	enum engine_severity severity;
	const char *message;
	long line;              /* 0 when unknown */
	const char *path;       /* XPath of the node, or "" */
};

/* engine_report_new: an empty report; NULL when out of memory. */
struct engine_report *engine_report_new(void);
/* engine_report_free: NULL accepted. */
void engine_report_free(struct engine_report *rep);
/* engine_report_clear: drop all findings, keep the allocation. */
void engine_report_clear(struct engine_report *rep);
size_t engine_report_count(const struct engine_report *rep);
/* engine_report_at: the I-th finding; valid until the report changes. */
const struct engine_finding *engine_report_at(const struct engine_report *rep, size_t i);
size_t engine_report_fatal_count(const struct engine_report *rep);
/* engine_report_add: append a finding (all strings are copied). */
int engine_report_add(struct engine_report *rep, const char *rule, enum engine_severity sev,
		      long line, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
/* engine_report_json: findings as a new JSON array (caller json_decref()s). */
json_t *engine_report_json(const struct engine_report *rep);
/* engine_report_print: one line per finding, "FILE:LINE: severity [rule] message (path)". */
void engine_report_print(const struct engine_report *rep, const char *file, FILE *fp);

/* ---- business rules (the rule stage) ---- */

/* One rule of a profile's rule sets, for listings (secmx validate --list-rules). */
struct engine_rule_info {
	const char *id;         /* "SECMX-UBL-001", "BR-CO-15", ... */
	enum engine_severity severity;
	const char *kind;       /* "assert", "report", or "file" (a missing rule-set file) */
	const char *message;    /* as written; {expr} marks a value-of, {name()} a name */
	const char *context;    /* the rule's context (Schematron match pattern) */
	const char *test;       /* the XPath test as written ("" for a missing file) */
	const char *file;       /* rule-set file, e.g. "ubl21.sch" */
	long line;              /* line of the assert in FILE; 0 for a missing file */
	int implemented;        /* 0: listed but NOT checked (see REASON) */
	const char *reason;     /* why not implemented; NULL when implemented */
};

/*
 * engine_rules_count / engine_rules_at: the rules PROFILE applies, in order
 * (rule-set files as the profile lists them, asserts in file order). A
 * rule-set file the profile names but that is not installed appears as one
 * entry with id SECMX-RULES-MISSING and implemented 0. Unknown profile: 0 /
 * NULL. Returned pointers are borrowed from ENG and valid until engine_free().
 */
size_t engine_rules_count(const struct engine *eng, const char *profile);
const struct engine_rule_info *engine_rules_at(const struct engine *eng, const char *profile,
					       size_t i);

/* ---- documents ---- */

/*
 * engine_doc_parse: parse BUF (LEN bytes, copied as needed) safely: no
 * network, no DTD (a DOCTYPE is refused), no entities beyond the predefined
 * ones, no XInclude, and every limit of the engine enforced while parsing.
 * NAME labels the document in findings (may be NULL). On failure the report
 * says which limit or rule and where, and *OUT is NULL.
 */
int engine_doc_parse(const struct engine *eng, const void *buf, size_t len, const char *name,
		     struct engine_doc **out, struct engine_report *rep);
/*
 * engine_doc_parse_fd: engine_doc_parse() reading the open descriptor FD
 * (a file or a pipe, from its current offset to its end) as the parser goes,
 * so the whole input is never held in memory; FD stays open and the caller's.
 * Same rules, limits and findings, except that an input longer than
 * max_doc_bytes is refused (XML-LIMIT-SIZE, SECMX_ELIMIT) when the reading
 * passes the limit, and a failed read() is SECMX_EIO with a SECMX-IO finding.
 * FLAGS: 0 or ENGINE_PARSE_VALIDATE_ONLY.
 */
int engine_doc_parse_fd(const struct engine *eng, int fd, const char *name, unsigned flags,
			struct engine_doc **out, struct engine_report *rep);
/*
 * ENGINE_PARSE_VALIDATE_ONLY: the document will only be classified,
 * validated (engine_doc_validate and its stages) and inspected. Whitespace-only
 * text between elements (libxml2's blank heuristic; xml:space="preserve" is
 * honoured) is not kept in the tree, which for an indented UBL document is
 * about a third of its memory; the limits still count it, so refusals are
 * unchanged. Such a document cannot be signed, verified or serialized: those
 * return SECMX_EINVAL.
 */
#define ENGINE_PARSE_VALIDATE_ONLY 0x1u
/* engine_doc_free: NULL accepted. */
void engine_doc_free(struct engine_doc *doc);

/*
 * engine_doc_classify: find the document type and profile from the root
 * element, its namespace, cbc:CustomizationID and cbc:ProfileID. Returns
 * SECMX_EUNKNOWN for a document we do not know and SECMX_EUNSUPPORTED for one
 * we know but cannot validate here (UBL 2.3 without a 2.3 schema set); the
 * report says which and why.
 */
int engine_doc_classify(const struct engine *eng, struct engine_doc *doc,
			struct engine_report *rep);
/* The classification results; NULL before engine_doc_classify succeeded. */
const struct engine_doctype *engine_doc_type(const struct engine_doc *doc);
/* The profile chosen from the document (or forced); never NULL after classify. */
const char *engine_doc_profile(const struct engine_doc *doc);
/* The document's cbc:CustomizationID / cbc:ID, or NULL. Borrowed from DOC. */
const char *engine_doc_customization(const struct engine_doc *doc);
const char *engine_doc_id(const struct engine_doc *doc);

/* Options for engine_doc_validate. */
#define ENGINE_VAL_SKIP_SCHEMA 0x1u /* business rules only (fragments) */
#define ENGINE_VAL_SKIP_RULES 0x2u  /* XSD only */

/*
 * engine_doc_validate: XSD validation against the engine's schema set, then
 * the rule sets of the document's profile (or PROFILE when not NULL, which
 * overrides what the document names). Classifies first if needed. Returns 0
 * when no fatal finding was added, SECMX_EINVALID when one was, or another
 * negative code when validation could not run at all.
 */
int engine_doc_validate(const struct engine *eng, struct engine_doc *doc, unsigned flags,
			const char *profile, struct engine_report *rep);

/* engine_doc_validate_schema / engine_doc_validate_rules: the two stages. */
int engine_doc_validate_schema(const struct engine *eng, struct engine_doc *doc,
			       struct engine_report *rep);
int engine_doc_validate_rules(const struct engine *eng, struct engine_doc *doc,
			      const char *profile, struct engine_report *rep);

/*
 * engine_doc_serialize: the document as UTF-8 XML in a new buffer (caller
 * frees with free()). A signed document serializes byte-exactly as signed.
 */
int engine_doc_serialize(const struct engine_doc *doc, char **out, size_t *len);

/*
 * engine_doc_inspect: a summary as a new JSON object (caller json_decref()s):
 * type, profile, ids, issue date, parties and identifiers, currency, totals,
 * references to other documents. NULL when out of memory.
 */
json_t *engine_doc_inspect(const struct engine_doc *doc);

/* ---- keys, trust, signatures ---- */

/*
 * engine_key_load: load a private key for signing. KEY_PATH is PEM (key, and
 * optionally the certificate chain after it) or PKCS#12 (".p12"/".pfx", or
 * detected by content). CERT_PATH (may be NULL) adds the signing certificate
 * and any chain from a PEM file. PASSWORD may be NULL. RSA keys must be 2048
 * bits or more; EC keys must be P-256 (or P-384/P-521). The key never leaves
 * the object: this is the one interface every private-key use goes through.
 */
int engine_key_load(const char *key_path, const char *cert_path, const char *password,
		    struct engine_key **out, char *err, size_t errlen);
void engine_key_free(struct engine_key *key);

/*
 * engine_trust_load: trust anchors from a PEM file or a directory of PEM
 * files (CA_PATH), and optionally CRLs from a PEM file (CRL_PATH, may be
 * NULL). With CRLs, every certificate in a chain is checked against them.
 */
int engine_trust_load(const char *ca_path, const char *crl_path, struct engine_trust **out,
		      char *err, size_t errlen);
void engine_trust_free(struct engine_trust *trust);

/*
 * engine_doc_sign: add an enveloped XML-DSig where UBL puts it
 * (ext:UBLExtensions/ext:UBLExtension/ext:ExtensionContent/
 * sig:UBLDocumentSignatures/sac:SignatureInformation/ds:Signature):
 * exclusive C14N, SHA-256, RSA-SHA256 or ECDSA-SHA256 by key type, the
 * certificate in KeyInfo. The document keeps validating under UBL 2.1.
 */
int engine_doc_sign(const struct engine *eng, struct engine_doc *doc, const struct engine_key *key,
		    struct engine_report *rep);

/* Who signed, filled by engine_doc_verify on success. */
struct engine_signer {
	char subject[512];
	char issuer[512];
	char serial[128];
	char sig_alg[64];       /* "rsa-sha256", "ecdsa-sha256", ... */
};

struct engine_verify_opts {
	time_t at;              /* verification time; 0 means now */
	unsigned flags;         /* ENGINE_CFG_ALLOW_SHA1 also accepted here */
};

/*
 * engine_doc_verify: strict verification of the document's one signature.
 * Exactly one ds:Signature in the UBL place, exactly one Reference with
 * URI="", only the enveloped and C14N transforms, no HMAC, no SHA-1 unless
 * allowed, the key only from an X.509 certificate in KeyInfo that chains to
 * TRUST. On success the document is replaced by exactly the bytes that were
 * signed, so later stages see what the signer saw; SIGNER (may be NULL) is
 * filled. On refusal returns SECMX_ESIG and the report says why.
 */
int engine_doc_verify(const struct engine *eng, struct engine_doc *doc,
		      const struct engine_trust *trust, const struct engine_verify_opts *opts,
		      struct engine_report *rep, struct engine_signer *signer);

/* ---- transactions ---- */

struct queue;   /* queue/queue.h: the durable store transactions live in */

/* What engine_txn_correlate decided. */
struct engine_txn_result {
	char key[256];          /* the transaction key, e.g. "order:<buyer>:<order id>" */
	long long txn_id;       /* the queue's transaction id */
	int created;            /* 1: this document opened the transaction */
	char state[32];         /* state after this document ("ordered", "disputed", ...) */
	size_t findings;        /* three-way-match findings this document added */
	size_t ntxn;            /* transactions the document was recorded in: 1, or more for
	                           a RemittanceAdvice paying invoices of several (KEY,
	                           TXN_ID and STATE name the first) */
	char match[16];         /* "" (no match ran), "two-way" or "three-way" */
	long long duplicate_of; /* the message that brought the same document (type,
	                           issuer, id) into the transaction before, or 0: this
	                           one is recorded with a SECMX-DUPLICATE warning and
	                           not matched nor counted again */
};

/*
 * Tolerances of the three-way match, as decimal strings (NULL or "" = 0):
 * a unit price is accepted when it differs from the order's by at most
 * max(PRICE_ABS, PRICE_PCT % of the order's unit price); a quantity may
 * exceed the quantity it is checked against by QTY_PCT %; an invoice's net
 * line total may differ from its lines at order prices by TOTAL_ABS plus the
 * price tolerance of each line times its quantity. docs/transactions.md.
 */
struct engine_txn_tolerance {
	const char *price_pct;  /* e.g. "2" (2 %) */
	const char *price_abs;  /* e.g. "0.05", in the document currency */
	const char *qty_pct;    /* e.g. "0" */
	const char *total_abs;  /* e.g. "0.01" */
};

/*
 * engine_txn_set_tolerance: set the match tolerances of ENG (the strings are
 * copied). Call it after engine_new() and before ENG is shared between
 * threads: it is the one setter on a built engine. SECMX_EINVAL when a
 * value is not a non-negative decimal (ENG is then unchanged).
 */
int engine_txn_set_tolerance(struct engine *eng, const struct engine_txn_tolerance *tol);

/*
 * engine_txn_correlate: put DOC (classified; stored in Q as message MSG_ID)
 * into its business transaction: find the transaction through the
 * document's references (an Invoice's cac:OrderReference, a
 * RemittanceAdvice's invoice references, an ApplicationResponse's
 * DocumentReference, ...) or open one, record the document in its history,
 * move its state, and run the three-way match (order, receipt, invoice)
 * when the documents for it are there; differences become findings in REP
 * and in the transaction, and put it in "disputed". Idempotent: correlating
 * the same MSG_ID twice changes nothing. Q may be shared by several worker
 * threads (or processes): each document's effect on a transaction is one
 * queue commit, checked against what was read and redone on a conflict.
 * Returns 0, or 1 when MSG_ID was already correlated (OUT describes where it
 * is; nothing changed). The rules and the state table: docs/transactions.md.
 */
int engine_txn_correlate(const struct engine *eng, struct queue *q, const struct engine_doc *doc,
			 long long msg_id, struct engine_txn_result *out, struct engine_report *rep);

/* ---- large documents (docs/memory.md "Large-document mode") ---- */

/*
 * A large document can be validated without its whole tree: first
 * engine_doc_schema_stream_fd() checks it against the XSD set while reading
 * (no tree); when that says it is schema-valid, engine_doc_validate_large_fd()
 * reads it again, builds the header and the invoice lines a batch at a time,
 * runs the rules that read only inside a line per batch and the others over
 * a projection of the lines. Both answer only when they can give exactly what
 * the whole-tree stages give (engine_doc_parse_fd with
 * ENGINE_PARSE_VALIDATE_ONLY, then engine_doc_validate); otherwise they say
 * so and the caller runs the whole-tree stages (the descriptor must then be
 * read again from the start).
 */
#define ENGINE_LARGE_FALLBACK 1
/*
 * engine_doc_schema_stream_fd: 1 when what FD yields is well-formed, has no
 * DOCTYPE, is a document type ENG's schema set has, and is valid against it,
 * with no error at all; 0 otherwise (including no schema set), and the
 * whole-tree stages must then run. Nothing is reported; FD stays the caller's.
 */
int engine_doc_schema_stream_fd(const struct engine *eng, int fd, const char *name);
/*
 * engine_doc_validate_large_fd: parse FD under ENG's limits and run the rule
 * stage (engine_doc_validate_rules, PROFILE as there) on it in the
 * large-document mode. Returns what engine_doc_validate_rules would (0 or
 * SECMX_EINVALID) with exactly its findings added to REP, and *OUT a
 * classified validate-only document whose lines are projected (for its type
 * and profile; caller frees with engine_doc_free); or ENGINE_LARGE_FALLBACK
 * with REP unchanged and *OUT NULL when the mode cannot answer for this
 * document (not well-formed, over a limit, no lines, a rule that reads across
 * lines in a way no projection keeps, an evaluation error, more findings
 * than the limit, ...): the caller then runs the whole-tree stages. WHY (may
 * be NULL) then says why, e.g. which rule read across lines.
 */
int engine_doc_validate_large_fd(const struct engine *eng, int fd, const char *name,
				 const char *profile, struct engine_doc **out,
				 struct engine_report *rep, char *why, size_t whylen);

#endif
