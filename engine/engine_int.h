/*
 * engine_int.h — private to engine/: the structures behind the opaque
 * handles of engine.h and the functions one engine file offers another.
 * Non-static internals carry a double underscore after the module name.
 */
#ifndef SECMX_ENGINE_INT_H
#define SECMX_ENGINE_INT_H

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlschemas.h>

#include "engine.h"

/* Namespaces the engine names often. */
#define NS_CBC "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
#define NS_CAC "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
#define NS_EXT "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2"
#define NS_SIG "urn:oasis:names:specification:ubl:schema:xsd:CommonSignatureComponents-2"
#define NS_SAC "urn:oasis:names:specification:ubl:schema:xsd:SignatureAggregateComponents-2"
#define NS_SBC "urn:oasis:names:specification:ubl:schema:xsd:SignatureBasicComponents-2"
#define NS_DS "http://www.w3.org/2000/09/xmldsig#"
#define NS_UBL_PREFIX "urn:oasis:names:specification:ubl:schema:xsd:"

/* Build-time defaults; CMake defines them to the source or install paths. */
#ifndef SECMX_SCHEMA_DIR
#define SECMX_SCHEMA_DIR "schemas/egif"
#endif
#ifndef SECMX_RULES_DIR
#define SECMX_RULES_DIR "schemas/rules"
#endif

/* Flag for struct engine_config.flags: evaluate every rule context as XPath
 * (no single-walk matcher); tests compare both paths. */
#define ENGINE_CFG_RULES_XPATH_ONLY 0x200u
/* Flag: the walk also evaluates every predicate as plain XPath and reports a
 * SECMX-RULE-ERROR where its fast answer differs (tests only: slower). */
#define ENGINE_CFG_RULES_CHECK_FAST 0x400u

struct engine__rules;   /* rules.c */

/* Three-way-match tolerances (engine_txn_set_tolerance), kept as checked
 * decimal strings; "" means 0. */
struct engine__txn_tol {
	char price_pct[32];
	char price_abs[32];
	char qty_pct[32];
	char total_abs[32];
};

struct engine {
	struct engine_config cfg;       /* schema_dir/rules_dir point at our copies */
	char *schema_dir;
	char *rules_dir;
	xmlSchemaPtr schema;            /* one compiled set covering every doctype; may be NULL */
	char schema_version[8];         /* "2.1", "2.3": the UBL version of the set */
	unsigned char has_type[32];     /* doctype index -> the set has its schema */
	struct engine__rules *rules;
	struct engine__txn_tol txn_tol; /* txn.c; zero (no tolerance) by default */
};

struct engine_doc {
	xmlDocPtr xml;
	char *name;
	int type_index;                 /* -1 until classified */
	const char *profile;            /* static name from the profile table */
	const char *variant;            /* "Peppol Invoice Response", ... or NULL */
	int profile_named;              /* the document named a known profile */
	int needs_ubl23;                /* bound to UBL 2.3 (Peppol Advanced Ordering) */
	char *customization;
	char *profile_id;
	char *id;
	char *ubl_version;
	char *signed_bytes;             /* set by verify: the exact signed bytes */
	int validate_only;              /* ENGINE_PARSE_VALIDATE_ONLY: no sign/verify/serialize */
	size_t signed_len;
};

/* engine.c: quiet libxml2's per-thread default error printing. */
void engine__quiet_thread(void);

/*
 * engine.c: while non-zero on a thread, the process-wide entity loader lets
 * that thread read local files (schema compilation). Everything else, every
 * network URL and every load during document parsing, is refused.
 */
extern _Thread_local int engine__allow_file_load;

/* parse.c: parse with limits; shared by engine_doc_parse and verify's reparse. */
int engine__parse(const struct engine *eng, const void *buf, size_t len, const char *name,
		  xmlDocPtr *out, struct engine_report *rep);
/* parse.c: the same, reading FD as the parser goes (engine_doc_parse_fd);
 * FLAGS: ENGINE_PARSE_VALIDATE_ONLY drops ignorable whitespace text. */
int engine__parse_fd(const struct engine *eng, int fd, const char *name, unsigned flags,
		     xmlDocPtr *out, struct engine_report *rep);

/* rules.c: the large-document mode's rule stage (docs/memory.md). An
 * rstream checks a document whose invoice lines arrive in batches: begin
 * (once the header is complete) classifies every rule pattern of the
 * profile: those whose expressions read only inside their line (and the
 * header) run per batch (engine__rstream_lines), the others at the end over
 * a projection of the lines (engine__rstream_prune keeps, per line, the
 * elements their expressions can reach); finish runs the end phase and adds
 * every finding to REP in the whole-tree stage's order. Any doubt (a rule
 * that fits neither, an evaluation error, more findings than the limit)
 * makes it give up: begin/lines return 0, finish returns 1, and the caller
 * runs the whole-tree stage instead. Ownership: the rstream borrows ENG and
 * DOC (the tree it prunes) until engine__rstream_free(). */
struct engine__rstream;
int engine__rstream_begin(const struct engine *eng, struct engine_doc *doc, const char *profile,
			  struct engine__rstream **out);
int engine__rstream_lines(struct engine__rstream *rs, xmlNodePtr *lines, size_t n);
void engine__rstream_prune(const struct engine__rstream *rs, xmlNodePtr line);
int engine__rstream_finish(struct engine__rstream *rs, struct engine_report *rep);
void engine__rstream_free(struct engine__rstream *rs);
const char *engine__rstream_why(const struct engine__rstream *rs);
/* rules.c: the invoice line (child of the document element named
 * InvoiceLine or CreditNoteLine) NODE is in or is, or NULL. */
xmlNodePtr engine__rstream_line_of(xmlNodePtr node);
/* rules_proj.c */
int engine__proj_is_line_name(const char *local);
/* engine.c: a new, empty document handle named NAME (NULL when out of memory). */
struct engine_doc *engine__doc_new(const char *name);

/* classify.c */
const struct engine_doctype *engine__doctype(int index);
int engine__doctype_find(const char *ns, const char *name);

/* schema.c: compile the schema set of ENG (cfg.schema_dir); release it. */
int engine__schema_load(struct engine *eng, char *err, size_t errlen);
void engine__schema_free(struct engine *eng);

/* rules.c: load the rule sets under ENG's rules_dir (with
 * ENGINE_CFG_RULES_ON_DEMAND: only list them); release them. */
int engine__rules_load(struct engine *eng, char *err, size_t errlen);
void engine__rules_free(struct engine *eng);
/* rules.c: with ENGINE_CFG_RULES_ON_DEMAND, load the rule sets PROFILE names
 * that are not loaded yet (thread-safe: under the rules' own lock); without
 * it, or for an unknown profile, nothing to do. 0, or SECMX_ECONFIG /
 * SECMX_ENOMEM with ERR saying which file and line failed. */
int engine__rules_need(const struct engine *eng, const char *profile, char *err, size_t errlen);

/* dsig.c: xmlsec global set-up; engine__dsig_need() runs it once, on the
 * first key, trust store, signing or verification (pthread_once). */
int engine__dsig_init(void);
int engine__dsig_need(void);
void engine__dsig_cleanup(void);

/* report.c: a finding located at NODE (line and XPath taken from it). */
int engine__report_node(struct engine_report *rep, const char *rule, enum engine_severity sev,
			xmlNodePtr node, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* report.c: the XPath of NODE with prefixes cbc/cac/ext/... (malloc'd). */
char *engine__node_path(xmlNodePtr node);

/* util: first child element of PARENT with namespace NS and local NAME. */
xmlNodePtr engine__child(xmlNodePtr parent, const char *ns, const char *name);
/* util: the elements a child path PATH ("cac:A/cac:B/cbc:C": cbc and cac
 * steps only, no predicates) selects from FROM, in document order, the
 * first MAX of them into OUT (OUT NULL: only count, up to MAX); returns
 * how many. The same nodes as the XPath, without compiling one. */
size_t engine__path_all(xmlNodePtr from, const char *path, xmlNodePtr *out, size_t max);
/* util: the first of them, or NULL. */
xmlNodePtr engine__path_first(xmlNodePtr from, const char *path);
/* util: trimmed text content of NODE (malloc'd) or NULL. */
char *engine__text(xmlNodePtr node);

#endif
