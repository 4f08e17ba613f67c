/*
 * rules_int.h — private to engine/rules*.c: the compiled rule sets, the
 * per-evaluation state the extension functions see, and the functions the
 * loader (rules.c) and the extension library (rules_fn.c) offer each other.
 *
 * Ownership: everything hanging off struct engine__rules belongs to it and
 * is freed by engine__rules_free(). After engine_new() it is only read,
 * except the regular-expression cache, which has its own mutex, and, with
 * ENGINE_CFG_RULES_ON_DEMAND, rule sets and code lists added under the
 * load lock (rules.c, engine__rules_need).
 */
#ifndef SECMX_RULES_INT_H
#define SECMX_RULES_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <libxml/xmlregexp.h>

#include "engine_int.h"

/* The namespace of the secmx extension functions (conventional prefix "secmx"). */
#define SECMX_FN_NS "urn:secmx:functions"
/* The Schematron namespace (ISO). */
#define SCH_NS "http://purl.oclc.org/dsdl/schematron"

/* A code list: sorted, unique codes for bsearch. */
struct codelist {
	char *name;             /* "ISO4217" */
	char *path;             /* the file it came from */
	char **codes;           /* sorted */
	size_t n;
	char *blob;             /* the file's bytes; codes point into it */
};

/* One cached compiled regular expression (XML Schema syntax). */
struct recache_ent {
	char *pattern;
	xmlRegexpPtr re;
};

#define RECACHE_MAX 256

/* Most code lists one engine holds (every rule set's together). */
#define CODELIST_MAX 512

/* Shared by every rule set of one engine: code lists and the regex cache.
 * LISTS has CODELIST_MAX slots from engine__fnlib_init() on and never moves,
 * and NLISTS is stored only after its new slot is filled: with rule sets
 * loaded on demand (ENGINE_CFG_RULES_ON_DEMAND) one thread may read the
 * lists while another adds more under the rules' load lock. */
struct engine__fnlib {
	struct codelist *lists;
	_Atomic size_t nlists;
	pthread_mutex_t re_lock;
	struct recache_ent re[RECACHE_MAX];
	size_t nre;
};

/* What an extension function sees through xmlXPathContext.funcLookupData. */
struct rules_eval {
	struct engine__fnlib *lib;
	xmlNodePtr current;     /* the rule's context node, for current() */
	char fn_err[256];       /* why an extension function raised an error */
};

/* rules_fn.c: the lookup installed with xmlXPathRegisterFuncLookup (DATA: struct rules_eval). */
xmlXPathFunction engine__fn_lookup(void *data, const xmlChar *name, const xmlChar *ns_uri);
/* rules_fn.c: is NAME a function the rule files may call (NS NULL: unprefixed)? */
int engine__fn_known(const char *ns, const char *name);
/* rules_fn.c: load code list NAME from PATH into LIB (idempotent per name). */
int engine__codelist_load(struct engine__fnlib *lib, const char *name, const char *path, char *err,
			  size_t errlen);
/* rules_fn.c: the index of code list NAME in LIB, or -1 (indexes stay valid as lists load). */
int engine__codelist_index(const struct engine__fnlib *lib, const char *name);
/* rules_fn.c: is VALUE exactly a code of list IDX of LIB? 1 or 0. */
int engine__codelist_has(const struct engine__fnlib *lib, size_t idx, const char *value);
/* rules_fn.c: set up / release LIB (code lists and the regex cache). */
int engine__fnlib_init(struct engine__fnlib *lib);
void engine__fnlib_free(struct engine__fnlib *lib);

/*
 * The C-level helpers behind the XPath functions, exposed so tests and
 * later C callers share one implementation. Decimal strings follow
 * xs:decimal's lexical form: optional sign, digits, optional fraction.
 */
struct secmx_dec {
	__int128 m;             /* value = m / 10^scale */
	int scale;              /* 0..SECMX_DEC_MAX_SCALE */
};
#define SECMX_DEC_MAX_SCALE 30

enum secmx_round {
	SECMX_ROUND_HALF_UP,      /* .5 away from zero (commercial rounding) */
	SECMX_ROUND_HALF_EVEN,    /* .5 to the even neighbour (banker's) */
	SECMX_ROUND_HALF_CEILING, /* .5 towards +infinity (XPath 2.0 fn:round) */
	SECMX_ROUND_DOWN,         /* truncate towards zero */
};

/* engine__dec_parse: S to D; SECMX_EINVAL if not a decimal, SECMX_ELIMIT on overflow. */
int engine__dec_parse(const char *s, struct secmx_dec *d);
/* engine__dec_format: D into BUF (at least 48 bytes); always succeeds. */
void engine__dec_format(const struct secmx_dec *d, char *buf, size_t len);
/* engine__dec_add / _sub / _mul: R = A op B; SECMX_ELIMIT on overflow. */
int engine__dec_add(const struct secmx_dec *a, const struct secmx_dec *b, struct secmx_dec *r);
int engine__dec_sub(const struct secmx_dec *a, const struct secmx_dec *b, struct secmx_dec *r);
int engine__dec_mul(const struct secmx_dec *a, const struct secmx_dec *b, struct secmx_dec *r);
/* engine__dec_round: R = A rounded to PLACES (0..SECMX_DEC_MAX_SCALE) decimals by MODE. */
int engine__dec_round(const struct secmx_dec *a, int places, enum secmx_round mode,
		      struct secmx_dec *r);
/* engine__dec_cmp: -1, 0, 1; SECMX_ELIMIT (never for valid inputs in range). */
int engine__dec_cmp(const struct secmx_dec *a, const struct secmx_dec *b, int *out);

/* engine__check_digit: 1 valid, 0 invalid, SECMX_EINVAL for an unknown SCHEME. */
int engine__check_digit(const char *value, const char *scheme);
/* engine__date_parse: a real calendar date "YYYY-MM-DD" (optional Z or +hh:mm);
 * *KEY = y*10000+m*100+d. 0 on success, SECMX_EINVAL otherwise. */
int engine__date_parse(const char *s, long *key);

/* ---- rules_fast.c: assert tests of common shapes decided in C ---- */

struct ctest;
/* engine__ctest_compile: 1 and *OUT (free with engine__ctest_free) when SRC has a C form,
 * 0 when it stays XPath, SECMX_ENOMEM. NS: the set's bindings; LIB: its code lists. */
int engine__ctest_compile(const char *src, const xmlNs *ns, int nns,
			  const struct engine__fnlib *lib, struct ctest **out);
/* engine__ctest_eval: T at NODE (XPath parts with CTXT and ST): 1 true, 0 false, -1 error. */
int engine__ctest_eval(const struct ctest *t, const struct engine__fnlib *lib,
		       xmlXPathContextPtr ctxt, struct rules_eval *st, xmlNodePtr node);
void engine__ctest_free(struct ctest *t);

/* ---- rules_match.c: fast matching of simple rule contexts ---- */

/*
 * One conjunct of a predicate "A and B and ...", decided in C when it has one
 * of two forms, else by its own compiled XPath (a conjunct is used as a
 * boolean, so it is never positional).
 */
enum mconj_kind {
	MCONJ_XPATH,            /* COMP */
	MCONJ_ATTR_EQ,          /* @NAME = 'LIT' (unprefixed attribute) */
	MCONJ_CHILD_NS_EQ,      /* normalize-space(p:NAME) = 'LIT' (first such child element) */
};

struct mconj {
	enum mconj_kind kind;
	xmlXPathCompExprPtr comp;       /* MCONJ_XPATH */
	char *src;              /* the conjunct's text */
	char *name;             /* attribute or child local name */
	const xmlChar *uri;     /* the child's canonical namespace (NULL: none) */
	char *lit;              /* the literal, without quotes */
	int id;                 /* memo id: conjuncts of one set with the same text share it */
	int ctx_free;           /* uses no node (variables and literals only): one value per walk */
};

struct mstep {
	const xmlChar *uri;     /* the set's canonical href; NULL: no namespace (or "*") */
	int any_ns;             /* "*": any element (or attribute) */
	char *local;            /* NULL: any local name (prefix:* or *) */
	int attr;               /* "@": an attribute step (last step only) */
	int desc;               /* "//" before this step (else "/") */
	xmlXPathCompExprPtr pred;       /* one predicate, or NULL */
	/* Predicates of two common forms are decided in C, without XPath:
	 * [@name] (attribute present) and [secmx:ends-with(local-name(), 'lit')]. */
	char *pred_attr;        /* [@name]: this unprefixed attribute exists */
	char *pred_suffix;      /* [secmx:ends-with(local-name(), 'lit')]: the name ends so */
	char *pred_src;         /* the predicate's text (PRED's source), or NULL */
	int pred_id;            /* steps of one set with the same predicate text share an id
				 * (engine__match_index), so the walk evaluates it once per node */
	int pred_ctx_free;      /* the predicate uses no node: one value per walk */
	struct mconj *conj;     /* the predicate split at top-level "and" (or one C form) */
	int nconj;              /* 0: evaluate PRED as a whole */
};

struct mbranch {
	struct mstep *steps;
	int n;
	int absolute;           /* begins with a single "/" */
};

struct rmatch {
	struct mbranch *br;
	int nbr;
};

/* One dispatch entry: branch BRANCH of rule RULE ends in a test for LOCAL. */
struct mdisp {
	const char *local;      /* NULL for wildcards */
	const char *plocal;     /* PNAMED: the parent step's local name (a child step) */
	size_t rule;
	int branch;
};

/* A hash slot: the dispatch entries [lo, hi) of the sorted array all test NAME. */
struct mslot {
	const char *name;       /* NULL: empty slot */
	const char *pname;      /* the parent's name too (PNAMED's table), else NULL */
	size_t lo, hi;
};

/*
 * The dispatch of one rule set. Element branches ending in a name test are
 * found by the element's local name (hash over NAMED) or, when the step
 * before is a child step with a name, by both names (PNAMED), so that
 * cac:Party/cbc:ID style branches are tried only under the right parent;
 * attribute branches
 * likewise (ATTRS); wildcard branches are tried at every element (WILD) or
 * attribute (WATTRS), except branches of one absolute wildcard step, which
 * can only match the document element (ROOT).
 */
struct mindex {
	struct mdisp *named, *pnamed, *wild, *attrs, *wattrs, *root;
	size_t nnamed, npnamed, nwild, nattrs, nwattrs, nroot;
	struct mslot *hnamed, *hpnamed, *hattrs;  /* open addressing, power-of-two sizes */
	size_t hnamed_cap, hpnamed_cap, hattrs_cap;
	int npreds;             /* distinct predicate and conjunct texts (memo ids) */
};

/* The nodes one rule matched, in document order. */
struct mlist {
	xmlNodePtr *v;
	size_t n, cap;
	int err;                /* a predicate could not be evaluated */
};

/* engine__match_compile: 1 and *M filled for a simple pattern, 0 otherwise, SECMX_ENOMEM. */
int engine__match_compile(const char *pattern, const xmlNs *ns, int nns, struct rmatch *m);
void engine__match_free(struct rmatch *m);
/* engine__match_index: dispatch over M[0..NRULES) (NULL entries: rules on the XPath path);
 * also numbers the distinct predicate texts of M's steps (mstep.pred_id). */
int engine__match_index(struct mindex *ix, struct rmatch *const *m, size_t nrules);
void engine__match_index_free(struct mindex *ix);
/* engine__match_run: one walk of DOC filling LISTS[rule] (caller-allocated, NRULES long).
 * CHECK: also evaluate every predicate the plain way and treat a disagreement
 * with the fast answer (C forms, shared results) as an evaluation error. */
int engine__match_run(const struct mindex *ix, struct rmatch *const *m, const xmlNs *ns, int nns,
		      xmlDocPtr doc, xmlXPathContextPtr ctxt, struct rules_eval *st,
		      struct mlist *lists, int check);
/* engine__match_run_sub: the same over the subtree of TOP only (not the
 * document element), adding to LISTS in document order (large-document mode). */
int engine__match_run_sub(const struct mindex *ix, struct rmatch *const *m, const xmlNs *ns,
			  int nns, xmlNodePtr top, xmlXPathContextPtr ctxt, struct rules_eval *st,
			  struct mlist *lists, int check);
/* engine__mlists_free: free LISTS (N entries) and their arrays; NULL accepted. */
void engine__mlists_free(struct mlist *lists, size_t n);

/* The lexical classes the rule compiler's scanners share (ASCII view:
 * bytes >= 0x80 count as name characters, as in the rule files). */
/* engine__ws: is C XML whitespace (as normalize-space() means it)? */
static inline int engine__ws(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* engine__nest: follow C through an XPath text's quotes and brackets: 1
 * when C is inside a string literal, opens or closes one, or is a bracket
 * ('(' '[' raise *DEPTH, ')' ']' lower it); 0 for any other character (at
 * nesting level *DEPTH, outside literals). *QUOTE starts at 0. */
static inline int engine__nest(char c, char *quote, int *depth)
{
	if (*quote) {
		if (c == *quote)
			*quote = 0;
		return 1;
	}
	if (c == '\'' || c == '"') {
		*quote = c;
		return 1;
	}
	if (c == '(' || c == '[') {
		(*depth)++;
		return 1;
	}
	if (c == ')' || c == ']') {
		(*depth)--;
		return 1;
	}
	return 0;
}

/* engine__nstart: may C begin an XML name (no colon)? */
static inline int engine__nstart(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

/* engine__nchar: may C continue an XML name (no colon)? */
static inline int engine__nchar(unsigned char c)
{
	return engine__nstart(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

/* ---- rules_proj.c: what a rule expression reads (large-document mode) ---- */

/* The element names a projection of the lines keeps (local names). */
struct engine__proj_names {
	char **full;            /* kept with their whole subtree (string value read) */
	size_t nfull;
	char **present;         /* kept as elements (traversed, counted, tested) */
	size_t npresent;
	int keep_empty;         /* secmx:empty-leaves() reads the lines: keep empty leaves */
};

#define PROJ_Q_LINE 1           /* may it run at a node in a line, with only that line? */
#define PROJ_Q_PROJ 2           /* is it exact over a projection (names collected)? */
/* Where evaluation starts (struct engine__proj_q.start). */
#define PROJ_AT_DOC 0           /* the document node */
#define PROJ_AT_UP 1            /* the document element or any ancestor */
#define PROJ_AT_LOC 2           /* a node whose subtree is complete (a header node; a line's) */
#define PROJ_AT_ANY 3           /* any node of the projection (its name already kept whole) */

struct engine__proj_q {
	int q;                  /* PROJ_Q_LINE or PROJ_Q_PROJ */
	int start;              /* PROJ_AT_* */
	const char *start_name; /* "" with PROJ_AT_ANY */
	int val;                /* the expression's value is used as a string or number */
	struct engine__proj_names *names;       /* PROJ_Q_PROJ: where names go */
	int (*var)(void *arg, const char *name); /* every $NAME read; < 0: not allowed */
	void *var_arg;
	const xmlNs *ns;        /* the set's prefix bindings (patterns' prefix:* steps) */
	int nns;
};

/* engine__proj_analyse: 1 when SRC answers Q's question yes, 0 no (or not
 * understood), SECMX_ENOMEM. */
int engine__proj_analyse(const char *src, const struct engine__proj_q *q);
/* engine__proj_pattern: the same for a match pattern's predicates (and, with
 * PROJ_Q_PROJ from PROJ_AT_ANY, its steps' names); *ROOT_ONLY: every branch
 * matches only the document element (one absolute step, or a last step with
 * a document type's name: the parser checks no other element has one);
 * *MAY_ROOT: some branch may match the document element. */
int engine__proj_pattern(const char *src, const struct engine__proj_q *q, int *root_only,
			 int *may_root);
/* engine__proj_is_line_name: is LOCAL an invoice line's local name? */
int engine__proj_is_line_name(const char *local);
void engine__proj_names_free(struct engine__proj_names *names);
/* rules_fn.c: secmx:empty-leaves() counts an element marked so (node->_private)
 * as having element children: a projection dropped them. */
extern const char engine__pruned_mark;

#endif
