/*
 * rules.c — the business-rule stage: load rule sets written in a subset of
 * ISO Schematron, compile every XPath once, evaluate them per document.
 *
 * Public functions (engine.h):
 *   engine_doc_validate_rules()  run the rule sets of a profile over a document
 *   engine_rules_count()/_at()   list the rules of a profile, implemented or not
 * Private (engine_int.h):
 *   engine__rules_load()         every *.sch under cfg.rules_dir, at engine_new()
 *                                (ENGINE_CFG_RULES_ON_DEMAND: only listed then)
 *   engine__rules_need()         on demand: load the sets a profile names
 *   engine__rules_free()
 *   engine__rstream_*()          the large-document mode's rule stage: line-local
 *                                patterns per batch of lines, the rest over a
 *                                projection of the lines (see the section at the end)
 *
 * Rule files (docs/rules.md is the reference): sch:schema with sch:ns,
 * sch:let, secmx:codelist and sch:pattern/sch:rule/sch:assert|sch:report.
 * Expressions are XPath 1.0 plus the secmx: extension functions (rules_fn.c).
 * A rule context is a Schematron match pattern: a branch that does not start
 * with "/" matches at any depth, so it is evaluated as "//" + branch.
 * Within one pattern a node is handled by the first rule whose context
 * matches it, as Schematron prescribes. Simple contexts are found by one
 * walk over the document (rules_match.c); assert tests of common shapes are
 * decided in C (rules_fast.c); ENGINE_CFG_RULES_XPATH_ONLY turns both off
 * and ENGINE_CFG_RULES_CHECK_FAST makes them check themselves against XPath.
 *
 * Loader errors (engine_new fails, SECMX_ECONFIG): a file that is not
 * well-formed or not sch:schema, an unknown Schematron element, a missing
 * id/test/context, an XPath that does not compile, an unknown function,
 * an undeclared prefix or variable. ERR names file:line and the rule id.
 *
 * Findings: the assert's id, its flag as severity, the message with
 * value-of/name filled in, the line and XPath of the context node. Also
 * SECMX-PROFILE (no profile: UBL 2.1 rules only), SECMX-RULES-MISSING (a
 * rule-set file of the profile is not installed: its rules were NOT
 * checked), SECMX-RULES-PARTIAL (after the set's findings: rules marked not
 * implemented were not checked, counting those whose rule context matched
 * this document and those whose context is itself not implemented),
 * SECMX-RULE-ERROR (an expression failed at run time; fatal,
 * because an unevaluated rule must never read as passed), SECMX-RULES-LIMIT
 * (more than MAX_RULE_FINDINGS findings; the rest are counted only),
 * SECMX-RULES-LOAD (on demand only: a rule set of the profile failed to
 * load; fatal, nothing was checked).
 *
 * Thread safety: the compiled expressions are shared read-only. On demand,
 * sets load into slots allocated at engine_new() (they never move) under
 * load_lock, and a thread reads only the slots of its profile after its own
 * engine__rules_need() returned (the lock orders the load before the read);
 * code lists likewise (rules_int.h). Each call
 * makes its own xmlXPathContext whose namespace table points at the rule
 * set's (engine-owned, never written) xmlNs array. XXX: libxml2 2.9.14 caches
 * a resolved function in the compiled step (op->cache, op->cacheURI) on
 * first evaluation; every thread stores the same two values (our lookup
 * returns the same functions, and the URI comes from the shared xmlNs
 * array), so the race is benign on the platforms we build for; see
 * docs/rules.md "Thread safety".
 */
#include <dirent.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules_int.h"

#define MAX_RULE_FINDINGS 1000
#define MAX_MSG 900

enum seg_kind { SEG_TEXT, SEG_VALUE, SEG_NAME };

struct msgseg {
	enum seg_kind kind;
	char *text;                     /* SEG_TEXT */
	xmlXPathCompExprPtr sel;        /* SEG_VALUE, SEG_NAME with path (else NULL) */
};

struct rlet {
	char *name;
	char *src;
	xmlXPathCompExprPtr comp;
};

struct rassert {
	struct engine_rule_info info;   /* strings point at the fields below or the rule/set */
	char *id, *message, *test_src, *reason;
	xmlXPathCompExprPtr test;       /* NULL when not implemented */
	struct ctest *fast;             /* TEST decided (partly) in C (rules_fast.c), or NULL */
	int report;                     /* sch:report: fires when TEST is true */
	struct msgseg *seg;
	size_t nseg;
};

struct rrule {
	char *context_src;              /* as written */
	xmlXPathCompExprPtr context;    /* NULL when the rule is not implemented */
	struct rmatch *match;           /* single-walk matcher, or NULL: evaluate CONTEXT */
	struct rlet *lets;
	size_t nlets;
	size_t a0, na;                  /* its asserts in the set's array */
};

struct rpattern {
	size_t r0, nr;
};

struct ruleset {
	char *file;                     /* "ubl21.sch" */
	char *path;
	xmlNs *ns;                      /* prefix bindings (engine-owned, read-only) */
	xmlNsPtr *nsp;                  /* what xmlXPathContext.namespaces points at */
	int nns;
	struct rlet *lets;
	size_t nlets;
	struct rpattern *pats;
	size_t npats;
	struct rrule *rules;
	size_t nrules;
	struct rassert *as;
	size_t nas;
	size_t not_impl;
	struct rmatch **mtab;           /* per rule: its matcher or NULL */
	struct mindex ix;               /* dispatch for the walk */
};

struct engine__rules {
	struct engine__fnlib lib;
	char **names;                   /* the *.sch files of rules_dir, sorted */
	size_t nnames;
	struct ruleset *sets;           /* NNAMES slots, slot I for NAMES[I]; never moves */
	unsigned char *loaded;          /* per slot: 1 once its set is loaded */
	int on_demand;                  /* ENGINE_CFG_RULES_ON_DEMAND: load in _need */
	pthread_mutex_t load_lock;      /* held while sets load on demand */
	struct engine_rule_info *missing;   /* per rule-set file a profile names, absent */
	size_t nmissing;
};

/* ---- small helpers ---- */

/* grow: make room for one more element in *ARR (N used); 0 or SECMX_ENOMEM. */
static int grow(void *arr, size_t n, size_t size)
{
	void **p = arr;
	void *np;

	/* Capacity doubles at powers of two: n itself tells when to grow. */
	if (n != 0 && (n & (n - 1)) != 0)
		return SECMX_OK;
	if ((np = realloc(*p, (n ? n * 2 : 1) * size)) == NULL)
		return SECMX_ENOMEM;
	*p = np;
	return SECMX_OK;
}

/* xstrdup_attr: attribute NAME (in namespace NS, or none) of N as a malloc'd copy, or NULL. */
static char *xstrdup_attr(xmlNodePtr n, const char *name, const char *ns)
{
	xmlChar *v = ns ? xmlGetNsProp(n, (const xmlChar *)name, (const xmlChar *)ns) :
			  xmlGetNoNsProp(n, (const xmlChar *)name);
	char *s;

	if (v == NULL)
		return NULL;
	s = strdup((const char *)v);
	xmlFree(v);
	return s;
}

/* is_sch: is N the Schematron element NAME (any Schematron element when NAME is NULL)? */
static int is_sch(xmlNodePtr n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && n->ns &&
	       xmlStrEqual(n->ns->href, (const xmlChar *)SCH_NS) &&
	       (name == NULL || xmlStrEqual(n->name, (const xmlChar *)name));
}

/* is_secmx: is N the secmx extension element NAME? */
static int is_secmx(xmlNodePtr n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && n->ns &&
	       xmlStrEqual(n->ns->href, (const xmlChar *)SECMX_FN_NS) &&
	       xmlStrEqual(n->name, (const xmlChar *)name);
}

/* Elements we accept and ignore: documentation. */
static int is_doc_elem(xmlNodePtr n)
{
	return is_sch(n, "title") || is_sch(n, "p");
}

/* ---- a set of node pointers (Schematron first-match per pattern) ---- */

struct ptrset {
	const void **slot;
	size_t cap, n;
};

/* ptr_hash: slot of pointer P in a table of CAP (a power of two) slots. */
static size_t ptr_hash(const void *p, size_t cap)
{
	unsigned long long x = (unsigned long long)(uintptr_t)p;

	x ^= x >> 17;
	x *= 0xed5ad4bbULL;
	x ^= x >> 11;
	return (size_t)x & (cap - 1);
}

/* ptrset_add: 1 if P was added, 0 if it was there, SECMX_ENOMEM. */
static int ptrset_add(struct ptrset *s, const void *p)
{
	size_t i;

	if (s->n * 2 >= s->cap) {
		struct ptrset ns = {NULL, s->cap ? s->cap * 2 : 64, 0};
		if ((ns.slot = calloc(ns.cap, sizeof(*ns.slot))) == NULL)
			return SECMX_ENOMEM;
		for (i = 0; i < s->cap; i++)
			if (s->slot[i] != NULL)
				ptrset_add(&ns, s->slot[i]);
		free(s->slot);
		*s = ns;
	}
	for (i = ptr_hash(p, s->cap); s->slot[i] != NULL; i = (i + 1) & (s->cap - 1))
		if (s->slot[i] == p)
			return 0;
	s->slot[i] = p;
	s->n++;
	return 1;
}

/* ptrset_clear: empty the set, keeping its table. */
static void ptrset_clear(struct ptrset *s)
{
	if (s->n > 0)
		memset(s->slot, 0, s->cap * sizeof(*s->slot));
	s->n = 0;
}

/* ---- loading ---- */

struct loader {
	struct engine__rules *r;
	int xpath_only;                 /* ENGINE_CFG_RULES_XPATH_ONLY */
	struct ruleset *set;
	const char *dir;                /* the rule file's directory */
	char *err;
	size_t errlen;
};

/* lerr: a loader error at NODE of the current file; returns SECMX_ECONFIG. */
static int lerr(struct loader *ld, xmlNodePtr node, const char *id, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int lerr(struct loader *ld, xmlNodePtr node, const char *id, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	secmx_errf(ld->err, ld->errlen, "%s:%ld:%s%s%s %s", ld->set->path,
		   node ? xmlGetLineNo(node) : 0L, id ? " rule " : "", id ? id : "", id ? ":" : "",
		   msg);
	return SECMX_ECONFIG;
}

/* ns_lookup: the URI the set binds to PREFIX (LEN bytes), or NULL. */
static const char *ns_lookup(const struct ruleset *set, const char *prefix, size_t len)
{
	int i;

	if (len == 3 && strncmp(prefix, "xml", 3) == 0)
		return (const char *)XML_XML_NAMESPACE;
	for (i = 0; i < set->nns; i++)
		if (strlen((const char *)set->ns[i].prefix) == len &&
		    strncmp((const char *)set->ns[i].prefix, prefix, len) == 0)
			return (const char *)set->ns[i].href;
	return NULL;
}

/* The variables in scope for an expression: global lets [0, ng) and rule lets [0, nr). */
struct scope {
	const struct rlet *g;
	size_t ng;
	const struct rlet *r;
	size_t nr;
};

/* scope_has: is $NAME (LEN bytes) declared in scope SC? */
static int scope_has(const struct scope *sc, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < sc->ng; i++)
		if (strlen(sc->g[i].name) == len && strncmp(sc->g[i].name, name, len) == 0)
			return 1;
	for (i = 0; i < sc->nr; i++)
		if (strlen(sc->r[i].name) == len && strncmp(sc->r[i].name, name, len) == 0)
			return 1;
	return 0;
}

/* name_start: may C begin an XML name (non-ASCII bytes accepted)? */
static int name_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

/* name_char: may C continue an XML name? */
static int name_char(unsigned char c)
{
	return name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

/*
 * check_names: a lexical pass over an XPath 1.0 expression that xmlXPathCompile
 * accepts but that would fail only at run time in libxml2: unknown functions
 * (XPath 2.0 names such as exists() or matches()), undeclared namespace
 * prefixes, undeclared variables. WHY gets the first problem; 0 or -1.
 */
static int check_names(const struct ruleset *set, const char *src, const struct scope *sc,
		       char *why, size_t wlen)
{
	const unsigned char *p = (const unsigned char *)src;

	while (*p) {
		const unsigned char *n1, *loc, *q;
		size_t l1, ll;
		int prefixed = 0;

		if (*p == '"' || *p == '\'') {
			const unsigned char *e =
				(const unsigned char *)strchr((const char *)p + 1, *p);
			if (e == NULL)
				return 0; /* the compiler reports it */
			p = e + 1;
			continue;
		}
		if (*p == '$') {
			for (n1 = ++p; name_char(*p) || *p == ':'; p++)
				;
			if (!scope_has(sc, (const char *)n1, (size_t)(p - n1))) {
				snprintf(why, wlen, "undeclared variable $%.*s", (int)(p - n1), n1);
				return -1;
			}
			continue;
		}
		if ((*p >= '0' && *p <= '9') || (*p == '.' && p[1] >= '0' && p[1] <= '9')) {
			while ((*p >= '0' && *p <= '9') || *p == '.')
				p++;
			continue;
		}
		if (!name_start(*p)) {
			p++;
			continue;
		}
		for (n1 = p; name_char(*p); p++)
			;
		l1 = (size_t)(p - n1);
		loc = n1;
		ll = l1;
		if (p[0] == ':' && (name_start(p[1]) || p[1] == '*')) {
			prefixed = 1;
			loc = ++p;
			if (*p == '*')
				p++;
			else
				while (name_char(*p))
					p++;
			ll = (size_t)(p - loc);
		}
		for (q = p; *q == ' ' || *q == '\t' || *q == '\n' || *q == '\r'; q++)
			;
		if (q[0] == ':' && q[1] == ':') {
			p = q + 2; /* an axis name */
			continue;
		}
		if (prefixed && ns_lookup(set, (const char *)n1, l1) == NULL) {
			snprintf(why, wlen, "undeclared namespace prefix '%.*s' (add an sch:ns)",
				 (int)l1, n1);
			return -1;
		}
		if (*q != '(')
			continue;
		if (!prefixed) {
			char name[64];
			if ((l1 == 3 && (strncmp((const char *)n1, "and", 3) == 0 ||
					 strncmp((const char *)n1, "div", 3) == 0 ||
					 strncmp((const char *)n1, "mod", 3) == 0)) ||
			    (l1 == 2 && strncmp((const char *)n1, "or", 2) == 0))
				continue;
			snprintf(name, sizeof(name), "%.*s", (int)(l1 < 63 ? l1 : 63), n1);
			if (!engine__fn_known(NULL, name)) {
				snprintf(why, wlen,
					 "unknown function %s() (XPath 1.0 and secmx: functions only)",
					 name);
				return -1;
			}
		} else {
			char name[64];
			snprintf(name, sizeof(name), "%.*s", (int)(ll < 63 ? ll : 63), loc);
			if (!engine__fn_known(ns_lookup(set, (const char *)n1, l1), name)) {
				snprintf(why, wlen, "unknown function %.*s:%s()", (int)l1, n1, name);
				return -1;
			}
		}
	}
	return 0;
}

/* compile: check and compile SRC; on failure a loader error naming ID. */
static int compile(struct loader *ld, xmlNodePtr node, const char *id, const char *what,
		   const char *src, const struct scope *sc, xmlXPathCompExprPtr *out)
{
	char why[256] = "";
	xmlErrorPtr e;

	*out = NULL;
	if (src == NULL || *src == '\0')
		return lerr(ld, node, id, "empty %s expression", what);
	if (check_names(ld->set, src, sc, why, sizeof(why)) < 0)
		return lerr(ld, node, id, "%s \"%s\": %s", what, src, why);
	xmlResetLastError();
	if ((*out = xmlXPathCompile((const xmlChar *)src)) == NULL) {
		e = xmlGetLastError();
		secmx_strlcpy(why, e && e->message ? e->message : "syntax error", sizeof(why));
		why[strcspn(why, "\n")] = '\0';
		return lerr(ld, node, id, "%s \"%s\" does not compile: %s", what, src, why);
	}
	return SECMX_OK;
}

/*
 * match_to_xpath: a Schematron match pattern as an XPath selecting every node
 * it matches from the document node: each top-level '|' branch not starting
 * with '/' gets "//" in front. Returns a new string (free()) or NULL.
 */
static char *match_to_xpath(const char *pat)
{
	size_t len = strlen(pat), o = 0;
	char *out = malloc(len * 3 + 8);
	int depth = 0, start = 1;
	char quote = 0;
	const char *p;

	if (out == NULL)
		return NULL;
	for (p = pat; *p; p++) {
		if (start) {
			if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
				continue;
			if (*p != '/') {
				out[o++] = '/';
				out[o++] = '/';
			}
			start = 0;
		}
		if (!engine__nest(*p, &quote, &depth) && *p == '|' && depth == 0)
			start = 1;
		out[o++] = *p;
	}
	out[o] = '\0';
	return out;
}

/* severity_of: the flag (or role) of an assert; -1 if it names no severity we know. */
static int severity_of(xmlNodePtr n)
{
	xmlChar *f = xmlGetNoNsProp(n, (const xmlChar *)"flag");
	int sev = ENGINE_FATAL;

	if (f == NULL)
		f = xmlGetNoNsProp(n, (const xmlChar *)"role");
	if (f == NULL)
		return ENGINE_FATAL;
	if (xmlStrEqual(f, (const xmlChar *)"fatal") || xmlStrEqual(f, (const xmlChar *)"error"))
		sev = ENGINE_FATAL;
	else if (xmlStrEqual(f, (const xmlChar *)"warning") ||
		 xmlStrEqual(f, (const xmlChar *)"warn") ||
		 xmlStrEqual(f, (const xmlChar *)"information") ||
		 xmlStrEqual(f, (const xmlChar *)"info"))
		sev = ENGINE_WARNING;
	else
		sev = -1;
	xmlFree(f);
	return sev;
}

/* status_of: 1 implemented, 0 not (secmx:status="not-implemented"), -1 unknown value. */
static int status_of(xmlNodePtr n, int inherited)
{
	xmlChar *s = xmlGetNsProp(n, (const xmlChar *)"status", (const xmlChar *)SECMX_FN_NS);
	int r;

	if (s == NULL)
		return inherited;
	r = xmlStrEqual(s, (const xmlChar *)"implemented")       ? 1 :
	    xmlStrEqual(s, (const xmlChar *)"not-implemented") ? 0 : -1;
	xmlFree(s);
	return r;
}

/* append: add LEN bytes of S to the growing string *BUF. */
static int append(char **buf, size_t *len, const char *s, size_t n)
{
	char *nb = realloc(*buf, *len + n + 1);

	if (nb == NULL)
		return SECMX_ENOMEM;
	memcpy(nb + *len, s, n);
	*len += n;
	nb[*len] = '\0';
	*buf = nb;
	return SECMX_OK;
}

/* collapse: whitespace runs in S become one space, in place. */
static void collapse(char *s)
{
	char *o = s;
	int sp = 0;

	for (; *s; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') {
			sp = 1;
			continue;
		}
		if (sp)
			*o++ = ' ';
		sp = 0;
		*o++ = *s;
	}
	if (sp)
		*o++ = ' ';
	*o = '\0';
}

/* add_text_seg: a text segment from S (collapsed), merged with a previous text one. */
static int add_text_seg(struct rassert *a, const char *s)
{
	char *t;

	if (*s == '\0')
		return SECMX_OK;
	if (a->nseg > 0 && a->seg[a->nseg - 1].kind == SEG_TEXT) {
		struct msgseg *g = &a->seg[a->nseg - 1];
		size_t len = strlen(g->text);
		if (append(&g->text, &len, s, strlen(s)) < 0)
			return SECMX_ENOMEM;
		collapse(g->text);
		return SECMX_OK;
	}
	if ((t = strdup(s)) == NULL || grow(&a->seg, a->nseg, sizeof(*a->seg)) < 0) {
		free(t);
		return SECMX_ENOMEM;
	}
	collapse(t);
	a->seg[a->nseg++] = (struct msgseg){SEG_TEXT, t, NULL};
	return SECMX_OK;
}

/* load_message: the segments of an assert's message and its display form. */
static int load_message(struct loader *ld, xmlNodePtr an, struct rassert *a,
			const struct scope *sc, int implemented)
{
	xmlNodePtr c;
	char *disp = NULL;
	size_t dlen = 0, i;
	int rc = SECMX_OK;

	for (c = an->children; c != NULL && rc >= 0; c = c->next) {
		if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
			rc = add_text_seg(a, (const char *)c->content);
		} else if (is_sch(c, "value-of") || is_sch(c, "name")) {
			int value = is_sch(c, "value-of");
			char *sel = xstrdup_attr(c, value ? "select" : "path", NULL);
			xmlXPathCompExprPtr comp = NULL;

			if (value && sel == NULL) {
				rc = lerr(ld, c, a->id, "value-of without select");
			} else if (sel != NULL && implemented &&
				   (rc = compile(ld, c, a->id, value ? "value-of" : "name path", sel, sc,
						 &comp)) < 0) {
				;
			} else if (grow(&a->seg, a->nseg, sizeof(*a->seg)) < 0) {
				xmlXPathFreeCompExpr(comp);
				rc = SECMX_ENOMEM;
			} else {
				a->seg[a->nseg++] =
					(struct msgseg){value ? SEG_VALUE : SEG_NAME, sel, comp};
				sel = NULL;
			}
			free(sel);
		} else if (is_sch(c, "emph") || is_sch(c, "dir") || is_sch(c, "span")) {
			xmlChar *t = xmlNodeGetContent(c);
			rc = t ? add_text_seg(a, (const char *)t) : SECMX_ENOMEM;
			xmlFree(t);
		} else if (c->type == XML_ELEMENT_NODE) {
			rc = lerr(ld, c, a->id, "<%s> is not supported in a message", c->name);
		}
	}
	if (rc < 0)
		return rc;
	/* Trim the message's ends; build the display form for listings. */
	if (a->nseg > 0 && a->seg[0].kind == SEG_TEXT && a->seg[0].text[0] == ' ')
		memmove(a->seg[0].text, a->seg[0].text + 1, strlen(a->seg[0].text));
	if (a->nseg > 0 && a->seg[a->nseg - 1].kind == SEG_TEXT) {
		char *t = a->seg[a->nseg - 1].text;
		size_t n = strlen(t);
		if (n > 0 && t[n - 1] == ' ')
			t[n - 1] = '\0';
	}
	if (append(&disp, &dlen, "", 0) < 0)
		return SECMX_ENOMEM;
	for (i = 0; i < a->nseg && rc >= 0; i++) {
		const struct msgseg *g = &a->seg[i];
		if (g->kind == SEG_TEXT) {
			rc = append(&disp, &dlen, g->text, strlen(g->text));
		} else {
			const char *s = g->text ? g->text : "name()";
			rc = append(&disp, &dlen, "{", 1);
			if (rc >= 0)
				rc = append(&disp, &dlen, s, strlen(s));
			if (rc >= 0)
				rc = append(&disp, &dlen, "}", 1);
		}
	}
	a->message = disp;
	return rc;
}

/* load_let: an sch:let into LETS (compiled unless the scope is not implemented). */
static int load_let(struct loader *ld, xmlNodePtr n, struct rlet **lets, size_t *nlets,
		    const struct scope *sc, int implemented)
{
	struct rlet l = {xstrdup_attr(n, "name", NULL), xstrdup_attr(n, "value", NULL), NULL};
	size_t i;
	int rc;

	if (l.name == NULL || l.src == NULL) {
		rc = lerr(ld, n, NULL, "sch:let needs name and value");
		goto fail;
	}
	for (i = 0; i < *nlets; i++)
		if (strcmp((*lets)[i].name, l.name) == 0) {
			rc = lerr(ld, n, NULL, "variable $%s declared twice", l.name);
			goto fail;
		}
	if (implemented && (rc = compile(ld, n, NULL, "let", l.src, sc, &l.comp)) < 0)
		goto fail;
	if ((rc = grow(lets, *nlets, sizeof(**lets))) < 0)
		goto fail;
	(*lets)[(*nlets)++] = l;
	return SECMX_OK;
fail:
	free(l.name);
	free(l.src);
	xmlXPathFreeCompExpr(l.comp);
	return rc;
}

/* load_assert: one sch:assert or sch:report of the rule R. */
static int load_assert(struct loader *ld, xmlNodePtr n, struct rrule *r, const char *reason_in,
		       int inherited)
{
	struct ruleset *set = ld->set;
	struct rassert a;
	struct scope sc = {set->lets, set->nlets, r->lets, r->nlets};
	int impl = status_of(n, inherited), sev = severity_of(n), rc;

	memset(&a, 0, sizeof(a));
	a.report = is_sch(n, "report");
	a.id = xstrdup_attr(n, "id", NULL);
	a.test_src = xstrdup_attr(n, "test", NULL);
	a.reason = xstrdup_attr(n, "reason", SECMX_FN_NS);
	if (a.id == NULL || *a.id == '\0') {
		rc = lerr(ld, n, NULL, "sch:%s without an id", n->name);
		goto fail;
	}
	if (impl < 0 || sev < 0) {
		rc = lerr(ld, n, a.id, "%s",
			  impl < 0 ? "secmx:status must be implemented|not-implemented" :
				     "flag must be fatal|warning (or error|information)");
		goto fail;
	}
	if (a.reason == NULL && reason_in != NULL && (a.reason = strdup(reason_in)) == NULL) {
		rc = SECMX_ENOMEM;
		goto fail;
	}
	if (!impl && a.reason == NULL) {
		rc = lerr(ld, n, a.id, "a rule marked not-implemented needs secmx:reason");
		goto fail;
	}
	if (impl && (rc = compile(ld, n, a.id, "test", a.test_src, &sc, &a.test)) < 0)
		goto fail;
	if (impl && !ld->xpath_only &&
	    (rc = engine__ctest_compile(a.test_src, set->ns, set->nns, &ld->r->lib, &a.fast)) < 0)
		goto fail;
	if ((rc = load_message(ld, n, &a, &sc, impl)) < 0)
		goto fail;
	if ((rc = grow(&set->as, set->nas, sizeof(*set->as))) < 0)
		goto fail;
	a.info.id = a.id;
	a.info.severity = (enum engine_severity)sev;
	a.info.kind = a.report ? "report" : "assert";
	a.info.message = a.message;
	a.info.context = r->context_src;
	a.info.test = a.test_src ? a.test_src : "";
	a.info.file = set->file;
	a.info.line = xmlGetLineNo(n);
	a.info.implemented = impl;
	a.info.reason = impl ? NULL : a.reason;
	if (!impl)
		set->not_impl++;
	set->as[set->nas++] = a;
	r->na++;
	return SECMX_OK;
fail:
	free(a.id);
	free(a.test_src);
	free(a.reason);
	free(a.message);
	xmlXPathFreeCompExpr(a.test);
	engine__ctest_free(a.fast);
	while (a.nseg > 0) {
		free(a.seg[--a.nseg].text);
		xmlXPathFreeCompExpr(a.seg[a.nseg].sel);
	}
	free(a.seg);
	return rc;
}

/* load_rule: an sch:rule with its lets and asserts. */
static int load_rule(struct loader *ld, xmlNodePtr n, int inherited, const char *reason_in)
{
	struct ruleset *set = ld->set;
	struct scope sc = {set->lets, set->nlets, NULL, 0};
	struct rrule *r;
	char *reason = xstrdup_attr(n, "reason", SECMX_FN_NS), *xp = NULL;
	int impl = status_of(n, inherited), rc = SECMX_OK;
	xmlNodePtr c;

	if ((rc = grow(&set->rules, set->nrules, sizeof(*set->rules))) < 0)
		goto out;
	r = &set->rules[set->nrules++];
	memset(r, 0, sizeof(*r));
	r->a0 = set->nas;
	if (impl < 0) {
		rc = lerr(ld, n, NULL, "secmx:status must be implemented|not-implemented");
		goto out;
	}
	if (xmlHasProp(n, (const xmlChar *)"abstract")) {
		rc = lerr(ld, n, NULL, "abstract rules are not supported");
		goto out;
	}
	if ((r->context_src = xstrdup_attr(n, "context", NULL)) == NULL) {
		rc = lerr(ld, n, NULL, "sch:rule without a context");
		goto out;
	}
	if (impl) {
		if ((xp = match_to_xpath(r->context_src)) == NULL) {
			rc = SECMX_ENOMEM;
			goto out;
		}
		if ((rc = compile(ld, n, NULL, "context", xp, &sc, &r->context)) < 0)
			goto out;
		if (!ld->xpath_only) {
			struct rmatch m;
			rc = engine__match_compile(r->context_src, set->ns, set->nns, &m);
			if (rc < 0)
				goto out;
			if (rc == 1 && (r->match = malloc(sizeof(m))) == NULL) {
				engine__match_free(&m);
				rc = SECMX_ENOMEM;
				goto out;
			}
			if (rc == 1)
				*r->match = m;
			rc = SECMX_OK;
		}
	}
	for (c = n->children; c != NULL; c = c->next) {
		if (c->type != XML_ELEMENT_NODE || is_doc_elem(c))
			continue;
		sc.r = r->lets;
		sc.nr = r->nlets;
		if (is_sch(c, "let"))
			rc = load_let(ld, c, &r->lets, &r->nlets, &sc, impl);
		else if (is_sch(c, "assert") || is_sch(c, "report"))
			rc = load_assert(ld, c, r, reason ? reason : reason_in, impl);
		else
			rc = lerr(ld, c, NULL, "<%s> is not supported in sch:rule", c->name);
		if (rc < 0)
			goto out;
		r = &set->rules[set->nrules - 1]; /* load_assert does not move rules; be explicit */
	}
out:
	free(reason);
	free(xp);
	return rc;
}

/* load_pattern: an sch:pattern and its rules, recorded as one pattern of the set. */
static int load_pattern(struct loader *ld, xmlNodePtr n)
{
	struct ruleset *set = ld->set;
	char *reason = xstrdup_attr(n, "reason", SECMX_FN_NS);
	int impl = status_of(n, 1), rc = SECMX_OK;
	xmlNodePtr c;
	size_t r0 = set->nrules;

	if (impl < 0) {
		rc = lerr(ld, n, NULL, "secmx:status must be implemented|not-implemented");
		goto out;
	}
	if (xmlHasProp(n, (const xmlChar *)"abstract") || xmlHasProp(n, (const xmlChar *)"is-a")) {
		rc = lerr(ld, n, NULL, "abstract patterns are not supported");
		goto out;
	}
	for (c = n->children; c != NULL && rc >= 0; c = c->next) {
		if (c->type != XML_ELEMENT_NODE || is_doc_elem(c))
			continue;
		if (is_sch(c, "rule"))
			rc = load_rule(ld, c, impl, reason);
		else
			rc = lerr(ld, c, NULL, "<%s> is not supported in sch:pattern", c->name);
	}
	if (rc >= 0 && (rc = grow(&set->pats, set->npats, sizeof(*set->pats))) >= 0)
		set->pats[set->npats++] = (struct rpattern){r0, set->nrules - r0};
out:
	free(reason);
	return rc;
}

/* add_ns: bind PREFIX to URI in the set (copies both). */
static int add_ns(struct ruleset *set, const char *prefix, const char *uri)
{
	xmlNs *nn = realloc(set->ns, (size_t)(set->nns + 1) * sizeof(*nn));

	if (nn == NULL)
		return SECMX_ENOMEM;
	set->ns = nn;
	memset(&set->ns[set->nns], 0, sizeof(xmlNs));
	set->ns[set->nns].type = XML_NAMESPACE_DECL;
	set->ns[set->nns].prefix = xmlStrdup((const xmlChar *)prefix);
	set->ns[set->nns].href = xmlStrdup((const xmlChar *)uri);
	set->nns++;
	if (set->ns[set->nns - 1].prefix == NULL || set->ns[set->nns - 1].href == NULL)
		return SECMX_ENOMEM;
	return SECMX_OK;
}

/* load_header: pass one over the schema's children: namespaces and code lists. */
static int load_header(struct loader *ld, xmlNodePtr root)
{
	struct ruleset *set = ld->set;
	xmlNodePtr c;
	int rc = SECMX_OK, i;

	for (c = root->children; c != NULL && rc >= 0; c = c->next) {
		char *a = NULL, *b = NULL;

		if (is_sch(c, "ns")) {
			a = xstrdup_attr(c, "prefix", NULL);
			b = xstrdup_attr(c, "uri", NULL);
			if (a == NULL || b == NULL || *a == '\0')
				rc = lerr(ld, c, NULL, "sch:ns needs prefix and uri");
			else if (ns_lookup(set, a, strlen(a)) != NULL)
				rc = lerr(ld, c, NULL, "prefix %s declared twice", a);
			else if (strcmp(a, "secmx") == 0 && strcmp(b, SECMX_FN_NS) != 0)
				rc = lerr(ld, c, NULL, "prefix secmx is reserved for %s", SECMX_FN_NS);
			else
				rc = add_ns(set, a, b);
		} else if (is_secmx(c, "codelist")) {
			char path[PATH_MAX];
			a = xstrdup_attr(c, "name", NULL);
			b = xstrdup_attr(c, "href", NULL);
			if (a == NULL || b == NULL || *a == '\0' || *b == '\0') {
				rc = lerr(ld, c, NULL, "secmx:codelist needs name and href");
			} else {
				snprintf(path, sizeof(path), "%s%s%s", b[0] == '/' ? "" : ld->dir,
					 b[0] == '/' ? "" : "/", b);
				rc = engine__codelist_load(&ld->r->lib, a, path, ld->err, ld->errlen);
				if (rc == SECMX_ECONFIG)
					lerr(ld, c, NULL, "code list %s: cannot read %s", a, path);
			}
		}
		free(a);
		free(b);
	}
	if (rc >= 0 && ns_lookup(set, "secmx", 5) == NULL)
		rc = add_ns(set, "secmx", SECMX_FN_NS);
	if (rc >= 0 && (set->nsp = calloc((size_t)set->nns + 1, sizeof(*set->nsp))) == NULL)
		rc = SECMX_ENOMEM;
	for (i = 0; rc >= 0 && i < set->nns; i++)
		set->nsp[i] = &set->ns[i];
	return rc;
}

/* load_body: pass two: global lets and patterns, in document order. */
static int load_body(struct loader *ld, xmlNodePtr root)
{
	struct ruleset *set = ld->set;
	xmlNodePtr c;
	int rc = SECMX_OK;

	for (c = root->children; c != NULL && rc >= 0; c = c->next) {
		struct scope sc = {set->lets, set->nlets, NULL, 0};

		if (c->type != XML_ELEMENT_NODE || is_doc_elem(c) || is_sch(c, "ns") ||
		    is_secmx(c, "codelist"))
			continue;
		if (is_sch(c, "let"))
			rc = load_let(ld, c, &set->lets, &set->nlets, &sc, 1);
		else if (is_sch(c, "pattern"))
			rc = load_pattern(ld, c);
		else if (is_sch(c, "phase"))
			continue; /* phases are not used: every pattern is active */
		else
			rc = lerr(ld, c, NULL, "<%s> is not supported in sch:schema", c->name);
	}
	return rc;
}

/* set_free: release everything a rule set owns; the struct is zeroed. */
static void set_free(struct ruleset *set)
{
	size_t i, j;
	int k;

	for (i = 0; i < set->nas; i++) {
		struct rassert *a = &set->as[i];
		free(a->id);
		free(a->message);
		free(a->test_src);
		free(a->reason);
		xmlXPathFreeCompExpr(a->test);
		engine__ctest_free(a->fast);
		for (j = 0; j < a->nseg; j++) {
			free(a->seg[j].text);
			xmlXPathFreeCompExpr(a->seg[j].sel);
		}
		free(a->seg);
	}
	free(set->as);
	for (i = 0; i < set->nrules; i++) {
		struct rrule *r = &set->rules[i];
		free(r->context_src);
		xmlXPathFreeCompExpr(r->context);
		engine__match_free(r->match);
		free(r->match);
		for (j = 0; j < r->nlets; j++) {
			free(r->lets[j].name);
			free(r->lets[j].src);
			xmlXPathFreeCompExpr(r->lets[j].comp);
		}
		free(r->lets);
	}
	free(set->rules);
	free(set->mtab);
	engine__match_index_free(&set->ix);
	for (j = 0; j < set->nlets; j++) {
		free(set->lets[j].name);
		free(set->lets[j].src);
		xmlXPathFreeCompExpr(set->lets[j].comp);
	}
	free(set->lets);
	free(set->pats);
	for (k = 0; k < set->nns; k++) {
		xmlFree((xmlChar *)set->ns[k].prefix);
		xmlFree((xmlChar *)set->ns[k].href);
	}
	free(set->ns);
	free(set->nsp);
	free(set->file);
	free(set->path);
	memset(set, 0, sizeof(*set));
}

/* load_file: one rule file into slot SLOT of R (marked loaded on success). */
static int load_file(const struct engine *eng, struct engine__rules *r, const char *dir,
		     const char *file, size_t slot, char *err, size_t errlen)
{
	struct loader ld = {r, (eng->cfg.flags & ENGINE_CFG_RULES_XPATH_ONLY) != 0, NULL, dir, err,
			    errlen};
	struct engine_report *rep = NULL;
	struct engine pe;
	struct engine_config pc;
	struct ruleset set;
	xmlDocPtr xml = NULL;
	xmlNodePtr root;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	memset(&set, 0, sizeof(set));
	ld.set = &set;
	if ((set.file = strdup(file)) == NULL ||
	    (set.path = malloc(strlen(dir) + strlen(file) + 2)) == NULL) {
		rc = SECMX_ENOMEM;
		goto out;
	}
	snprintf(set.path, strlen(dir) + strlen(file) + 2, "%s/%s", dir, file);
	if ((rc = secmx_file_read(set.path, 16u << 20, &buf, &len)) < 0) {
		secmx_errf(err, errlen, "%s: cannot read rule file", set.path);
		rc = SECMX_ECONFIG;
		goto out;
	}
	/* The engine's own safe parser: no network, no DTD, no entities, limits. */
	if ((rep = engine_report_new()) == NULL) {
		rc = SECMX_ENOMEM;
		goto out;
	}
	/* Rule files get fixed, generous limits: the caller's document limits may be tiny. */
	pe = *eng;
	engine_config_default(&pc);
	pe.cfg.limits = pc.limits;
	pe.cfg.limits.max_doc_bytes = 16u << 20;
	pe.cfg.limits.max_nodes = 10000000;
	if ((rc = engine__parse(&pe, buf, len, set.path, &xml, rep)) < 0) {
		const struct engine_finding *f = engine_report_at(rep, 0);
		secmx_errf(err, errlen, "%s:%ld: %s", set.path, f ? f->line : 0L,
			   f ? f->message : "not well-formed");
		rc = SECMX_ECONFIG;
		goto out;
	}
	root = xmlDocGetRootElement(xml);
	if (root == NULL || !is_sch(root, "schema")) {
		rc = lerr(&ld, root, NULL, "the root element must be sch:schema (%s)", SCH_NS);
		goto out;
	}
	if ((rc = load_header(&ld, root)) < 0 || (rc = load_body(&ld, root)) < 0)
		goto out;
	if (set.nrules > 0) {
		size_t k;
		if ((set.mtab = calloc(set.nrules, sizeof(*set.mtab))) == NULL) {
			rc = SECMX_ENOMEM;
			goto out;
		}
		for (k = 0; k < set.nrules; k++)
			set.mtab[k] = set.rules[k].match;
		if ((rc = engine__match_index(&set.ix, set.mtab, set.nrules)) < 0)
			goto out;
	}
	r->sets[slot] = set;
	r->loaded[slot] = 1;
	memset(&set, 0, sizeof(set));
out:
	set_free(&set);
	xmlFreeDoc(xml);
	engine_report_free(rep);
	free(buf);
	return rc;
}

/* cmp_name: qsort comparison of C strings. */
static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* name_index: the slot of the rule file FILE (LEN bytes) in R, or -1 when
 * rules_dir has no such file. */
static long name_index(const struct engine__rules *r, const char *file, size_t len)
{
	size_t i;

	for (i = 0; r && i < r->nnames; i++)
		if (strlen(r->names[i]) == len && strncmp(r->names[i], file, len) == 0)
			return (long)i;
	return -1;
}

/* find_set: the loaded rule set named FILE (LEN bytes), or NULL. On demand,
 * a caller first makes its profile's sets load (engine__rules_need): a slot
 * is only read once loaded, and a loaded slot never changes. */
static const struct ruleset *find_set(const struct engine__rules *r, const char *file, size_t len)
{
	long i = name_index(r, file, len);

	return i >= 0 && r->loaded[i] ? &r->sets[i] : NULL;
}

/* note_missing: a listing entry for every rule-set file a profile names but that is absent. */
static int note_missing(struct engine__rules *r)
{
	size_t p, i;

	for (p = 0; p < engine_profile_count(); p++) {
		const char *s = engine_profile_at(p)->rules;
		while (s && *s) {
			size_t len = strcspn(s, ",");
			int known = name_index(r, s, len) >= 0;
			char *file;

			for (i = 0; !known && i < r->nmissing; i++)
				known = strlen(r->missing[i].file) == len &&
					strncmp(r->missing[i].file, s, len) == 0;
			if (!known) {
				if ((file = strndup(s, len)) == NULL ||
				    grow(&r->missing, r->nmissing, sizeof(*r->missing)) < 0) {
					free(file);
					return SECMX_ENOMEM;
				}
				r->missing[r->nmissing++] = (struct engine_rule_info){
					"SECMX-RULES-MISSING", ENGINE_WARNING, "file",
					"rule-set file not installed: none of its rules are checked",
					"", "", file, 0, 0, "rule-set file not found in rules_dir"};
			}
			s += len + (s[len] == ',');
		}
	}
	return SECMX_OK;
}

/* engine__rules_load: every *.sch under ENG's rules_dir gets a slot; each is
 * loaded now, or with ENGINE_CFG_RULES_ON_DEMAND when a profile needs it
 * (engine__rules_need). See engine_int.h. */
int engine__rules_load(struct engine *eng, char *err, size_t errlen)
{
	struct engine__rules *r = NULL;
	DIR *d = NULL;
	struct dirent *de;
	size_t i;
	int rc;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return SECMX_ENOMEM;
	if ((rc = engine__fnlib_init(&r->lib)) < 0) {
		free(r);
		return rc;
	}
	if (pthread_mutex_init(&r->load_lock, NULL) != 0) {
		engine__fnlib_free(&r->lib);
		free(r);
		return SECMX_EINTERNAL;
	}
	r->on_demand = (eng->cfg.flags & ENGINE_CFG_RULES_ON_DEMAND) != 0;
	eng->rules = r;
	if ((d = opendir(eng->rules_dir)) == NULL) {
		secmx_errf(err, errlen, "rules directory %s: not found", eng->rules_dir);
		rc = SECMX_ECONFIG;
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		if (len < 5 || strcmp(de->d_name + len - 4, ".sch") != 0 || de->d_name[0] == '.')
			continue;
		if ((rc = grow(&r->names, r->nnames, sizeof(*r->names))) < 0 ||
		    (r->names[r->nnames] = strdup(de->d_name)) == NULL) {
			rc = SECMX_ENOMEM;
			goto out;
		}
		r->nnames++;
	}
	if (r->nnames > 0)
		qsort(r->names, r->nnames, sizeof(*r->names), cmp_name);
	if (r->nnames > 0 && ((r->sets = calloc(r->nnames, sizeof(*r->sets))) == NULL ||
			      (r->loaded = calloc(r->nnames, 1)) == NULL)) {
		rc = SECMX_ENOMEM;
		goto out;
	}
	rc = SECMX_OK;
	for (i = 0; !r->on_demand && rc >= 0 && i < r->nnames; i++)
		rc = load_file(eng, r, eng->rules_dir, r->names[i], i, err, errlen);
	if (rc >= 0)
		rc = note_missing(r);
out:
	if (d != NULL)
		closedir(d);
	return rc;
}

/* engine__rules_need: see engine_int.h. */
int engine__rules_need(const struct engine *eng, const char *profile, char *err, size_t errlen)
{
	struct engine__rules *r = eng->rules;
	const struct engine_profile *p = engine_profile_find(profile);
	const char *s = p ? p->rules : NULL;
	int rc = SECMX_OK;

	if (r == NULL || !r->on_demand || s == NULL)
		return SECMX_OK;
	pthread_mutex_lock(&r->load_lock);
	while (rc >= 0 && *s) {
		size_t len = strcspn(s, ",");
		long i = name_index(r, s, len);

		if (i >= 0 && !r->loaded[i])
			rc = load_file(eng, r, eng->rules_dir, r->names[i], (size_t)i, err, errlen);
		s += len + (s[len] == ',');
	}
	pthread_mutex_unlock(&r->load_lock);
	return rc;
}

/* engine__rules_free: release the rule sets; ENG->rules becomes NULL. */
void engine__rules_free(struct engine *eng)
{
	struct engine__rules *r = eng->rules;
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nnames; i++) {
		if (r->loaded != NULL && r->loaded[i])
			set_free(&r->sets[i]);
		free(r->names[i]);
	}
	free(r->names);
	free(r->sets);
	free(r->loaded);
	for (i = 0; i < r->nmissing; i++)
		free((char *)r->missing[i].file);
	free(r->missing);
	engine__fnlib_free(&r->lib);
	pthread_mutex_destroy(&r->load_lock);
	free(r);
	eng->rules = NULL;
}

/* ---- listing ---- */

/* engine_rules_count: see engine.h. */
size_t engine_rules_count(const struct engine *eng, const char *profile)
{
	const struct engine_profile *p = engine_profile_find(profile);
	const char *s = p ? p->rules : NULL;
	size_t total = 0;
	char err[8];

	/* On demand: load the profile's sets to list them; one that fails to
	 * load counts as one entry, for which engine_rules_at returns NULL. */
	(void)engine__rules_need(eng, profile, err, sizeof(err));
	while (eng->rules && s && *s) {
		size_t len = strcspn(s, ",");
		const struct ruleset *set = find_set(eng->rules, s, len);
		total += set ? set->nas : 1;
		s += len + (s[len] == ',');
	}
	return total;
}

/* engine_rules_at: see engine.h. */
const struct engine_rule_info *engine_rules_at(const struct engine *eng, const char *profile,
					       size_t i)
{
	const struct engine_profile *p = engine_profile_find(profile);
	const char *s = p ? p->rules : NULL;
	size_t k;
	char err[8];

	(void)engine__rules_need(eng, profile, err, sizeof(err));
	while (eng->rules && s && *s) {
		size_t len = strcspn(s, ",");
		const struct ruleset *set = find_set(eng->rules, s, len);
		if (set != NULL && i < set->nas)
			return &set->as[i].info;
		if (set != NULL) {
			i -= set->nas;
		} else if (i == 0) {
			for (k = 0; k < eng->rules->nmissing; k++)
				if (strlen(eng->rules->missing[k].file) == len &&
				    strncmp(eng->rules->missing[k].file, s, len) == 0)
					return &eng->rules->missing[k];
			return NULL;
		} else {
			i--;
		}
		s += len + (s[len] == ',');
	}
	return NULL;
}

/* ---- evaluation ---- */

struct run {
	const struct ruleset *set;
	xmlXPathContextPtr ctxt;
	struct rules_eval st;
	struct engine_report *rep;
	size_t findings;                /* rule findings stored for this document */
	size_t dropped, dropped_fatal;
	struct ptrset seen;
	/* The walk's node lists, one per rule, reused by every set of the call
	 * (their arrays keep their capacity): NLISTS entries, freed at the end. */
	struct mlist *lists;
	size_t nlists;
	int check;                      /* ENGINE_CFG_RULES_CHECK_FAST */
	/* The set's not-implemented asserts that apply to this document: per
	 * assert of the set, 1 once its rule matched a node (NULL when the
	 * set has none); NOT_CHECKED counts them. */
	unsigned char *ni_hit;
	size_t not_checked;
	/* Large-document mode (engine__rstream_*): findings go to RS's buffer
	 * keyed by set, rule and phase; PHASE says which context nodes count. */
	struct engine__rstream *rs;
	int phase;                      /* RUN_ALL, RUN_LINES, RUN_END */
	size_t set_i, cur_rule, cur_pat;
	xmlNodePtr *tops;               /* RUN_LINES: the lines of the batch */
	size_t ntops;
};

enum { RUN_ALL, RUN_LINES, RUN_END };

static void rs_finding(struct run *run, const char *id, enum engine_severity sev,
		       xmlNodePtr node, const char *msg);
static void rs_abort(struct run *run, const char *why, const char *id);
static int rs_line_ok(const struct run *run, size_t pat);
static int rs_take(const struct run *run, size_t pat, xmlNodePtr node);
static unsigned char *rs_ni_hit(struct run *run);

/* ni_count: assert I of the run's set, if not implemented, applies to this
 * document: count it once for SECMX-RULES-PARTIAL. */
static void ni_count(struct run *run, size_t i)
{
	if (run->set->as[i].test == NULL && run->ni_hit != NULL && !run->ni_hit[i]) {
		run->ni_hit[i] = 1;
		run->not_checked++;
	}
}

/* at: make NODE the XPath context node (as for an XSLT template match). */
static void at(struct run *run, xmlNodePtr node)
{
	run->ctxt->node = node;
	run->ctxt->contextSize = 1;
	run->ctxt->proximityPosition = 1;
	run->st.current = node;
	run->st.fn_err[0] = '\0';
}

/* finding: store one finding at NODE unless the per-document cap was reached. */
static void finding(struct run *run, const char *id, enum engine_severity sev, xmlNodePtr node,
		    const char *msg)
{
	if (run->rs != NULL) {
		rs_finding(run, id, sev, node, msg);
		return;
	}
	if (run->findings >= MAX_RULE_FINDINGS) {
		run->dropped++;
		run->dropped_fatal += sev == ENGINE_FATAL;
		return;
	}
	run->findings++;
	engine__report_node(run->rep, id, sev, node, "%s", msg);
}

/* rule_error: an expression of rule ID could not be evaluated: never a pass. */
static void rule_error(struct run *run, const char *id, long line, xmlNodePtr node,
		       const char *what)
{
	char msg[512];

	if (run->rs != NULL)
		rs_abort(run, "an expression could not be evaluated", id);
	snprintf(msg, sizeof(msg),
		 "rule %s (%s:%ld) could not be evaluated (%s)%s%s: it was NOT checked", id ? id : "(let)", run->set->file, line, what, run->st.fn_err[0] ? ": " : "",
		 run->st.fn_err);
	finding(run, "SECMX-RULE-ERROR", ENGINE_FATAL, node, msg);
}

/* node_name: the qualified name of NODE as written in the document. */
static void node_name(xmlNodePtr node, char **buf, size_t *len)
{
	const xmlChar *pfx = NULL;

	if (node == NULL || node->type == XML_DOCUMENT_NODE)
		return;
	if ((node->type == XML_ELEMENT_NODE || node->type == XML_ATTRIBUTE_NODE) && node->ns)
		pfx = node->ns->prefix;
	if (pfx != NULL) {
		append(buf, len, (const char *)pfx, strlen((const char *)pfx));
		append(buf, len, ":", 1);
	}
	if (node->name)
		append(buf, len, (const char *)node->name, strlen((const char *)node->name));
}

/* message: the assert's message for NODE (malloc'd; NULL when out of memory). */
static char *message(struct run *run, const struct rassert *a, xmlNodePtr node)
{
	char *buf = NULL;
	size_t len = 0, i;

	append(&buf, &len, "", 0);
	for (i = 0; i < a->nseg && len < MAX_MSG; i++) {
		const struct msgseg *g = &a->seg[i];
		xmlXPathObjectPtr o;

		if (g->kind == SEG_TEXT) {
			append(&buf, &len, g->text, strlen(g->text));
			continue;
		}
		if (g->sel == NULL) {
			node_name(node, &buf, &len);
			continue;
		}
		at(run, node);
		o = xmlXPathCompiledEval(g->sel, run->ctxt);
		if (o != NULL && g->kind == SEG_NAME) {
			if (o->type == XPATH_NODESET && o->nodesetval && o->nodesetval->nodeNr > 0)
				node_name(o->nodesetval->nodeTab[0], &buf, &len);
		} else if (o != NULL) {
			xmlChar *s = xmlXPathCastToString(o);
			if (s != NULL)
				append(&buf, &len, (const char *)s, strlen((const char *)s));
			xmlFree(s);
		} else {
			append(&buf, &len, "(?)", 3);
		}
		xmlXPathFreeObject(o);
	}
	return buf;
}

/* bind_lets: evaluate LETS at the current node and register them; 0 or -1. */
static int bind_lets(struct run *run, const struct rlet *lets, size_t n, xmlNodePtr node,
		     const char *id, long line)
{
	size_t i;

	for (i = 0; i < n; i++) {
		xmlXPathObjectPtr v;

		at(run, node);
		v = xmlXPathCompiledEval(lets[i].comp, run->ctxt);
		if (v == NULL || xmlXPathRegisterVariable(run->ctxt, (const xmlChar *)lets[i].name,
							  v) != 0) {
			xmlXPathFreeObject(v);
			rule_error(run, id, line, node, lets[i].name);
			return -1;
		}
	}
	return 0;
}

/* test_at: the value of A's test at NODE (1, 0, -1: could not be evaluated),
 * decided in C where rules_fast.c compiled it; in check mode the plain XPath
 * value must agree, else it is an evaluation error naming both. */
static int test_at(struct run *run, const struct rassert *a, xmlNodePtr node)
{
	int v, plain;

	at(run, node);
	if (a->fast == NULL)
		return xmlXPathCompiledEvalToBoolean(a->test, run->ctxt);
	v = engine__ctest_eval(a->fast, run->st.lib, run->ctxt, &run->st, node);
	if (!run->check)
		return v;
	at(run, node);
	if ((plain = xmlXPathCompiledEvalToBoolean(a->test, run->ctxt)) != v) {
		snprintf(run->st.fn_err, sizeof(run->st.fn_err),
			 "the C form of the test gave %d, plain XPath %d", v, plain);
		return -1;
	}
	return v;
}

/* run_rule_at: the asserts of R at one context node. */
static void run_rule_at(struct run *run, const struct rrule *r, xmlNodePtr node)
{
	size_t i;

	if (r->nlets > 0 && bind_lets(run, r->lets, r->nlets, node,
				      r->na ? run->set->as[r->a0].id : NULL,
				      r->na ? run->set->as[r->a0].info.line : 0) < 0)
		return;
	for (i = r->a0; i < r->a0 + r->na; i++) {
		const struct rassert *a = &run->set->as[i];
		int v;

		if (a->test == NULL) { /* not implemented: counted for SECMX-RULES-PARTIAL */
			ni_count(run, i);
			continue;
		}
		v = test_at(run, a, node);
		if (v < 0) {
			rule_error(run, a->id, a->info.line, node, "test");
		} else if ((a->report ? v == 1 : v == 0) && run->findings >= MAX_RULE_FINDINGS) {
			finding(run, a->id, a->info.severity, node, ""); /* only counted */
		} else if (a->report ? v == 1 : v == 0) {
			char *msg = message(run, a, node);
			finding(run, a->id, a->info.severity, node, msg ? msg : a->message);
			free(msg);
		}
	}
}

/* run_set: every pattern of the run's set over the document. */
static int run_set(struct run *run, xmlDocPtr doc)
{
	const struct ruleset *set = run->set;
	struct mlist *lists = NULL;
	size_t p, k;
	int i, rc = SECMX_OK;

	run->not_checked = 0;
	run->ni_hit = NULL;
	xmlXPathRegisteredVariablesCleanup(run->ctxt);
	run->ctxt->namespaces = set->nsp;
	run->ctxt->nsNr = set->nns;
	if (bind_lets(run, set->lets, set->nlets, (xmlNodePtr)doc, NULL, 0) < 0)
		return SECMX_OK; /* reported; the set's rules depend on it */
	if (set->nrules > run->nlists) {
		struct mlist *nl = realloc(run->lists, set->nrules * sizeof(*nl));

		if (nl == NULL)
			return SECMX_ENOMEM;
		memset(nl + run->nlists, 0, (set->nrules - run->nlists) * sizeof(*nl));
		run->lists = nl;
		run->nlists = set->nrules;
	}
	lists = run->lists;
	for (k = 0; k < set->nrules; k++) {
		lists[k].n = 0;
		lists[k].err = 0;
	}
	/* Large-document mode: the marks last over the document's phases. */
	if (set->not_impl > 0 &&
	    (run->ni_hit = run->rs != NULL ? rs_ni_hit(run) : calloc(set->nas, 1)) == NULL)
		return SECMX_ENOMEM;
	/* One walk finds the nodes of every rule with a simple context (in
	 * the line phase, a walk of each line of the batch). */
	if (run->phase == RUN_LINES) {
		for (k = 0; set->nrules > 0 && k < run->ntops && rc >= 0; k++)
			rc = engine__match_run_sub(&set->ix, set->mtab, set->ns, set->nns,
						   run->tops[k], run->ctxt, &run->st, lists,
						   run->check);
		if (rc < 0)
			goto out;
	} else if (set->nrules > 0 &&
		   (rc = engine__match_run(&set->ix, set->mtab, set->ns, set->nns, doc, run->ctxt,
					   &run->st, lists, run->check)) < 0) {
		goto out;
	}
	for (p = 0; p < set->npats; p++) {
		const struct rpattern *pat = &set->pats[p];

		if (run->phase == RUN_LINES && !rs_line_ok(run, p))
			continue;
		run->cur_pat = p;
		ptrset_clear(&run->seen);
		for (k = pat->r0; k < pat->r0 + pat->nr; k++) {
			const struct rrule *r = &set->rules[k];
			xmlXPathObjectPtr res = NULL;
			xmlNodePtr *nodes;
			int nn;

			if (r->context == NULL) { /* not implemented: may apply, not checked */
				for (i = 0; i < (int)r->na; i++)
					ni_count(run, r->a0 + (size_t)i);
				continue;
			}
			run->cur_rule = k;
			if (run->rs != NULL && r->match != NULL && lists[k].err) {
				rs_abort(run, "a context predicate could not be evaluated",
					 r->na ? set->as[r->a0].id : NULL);
				continue;
			}
			if (r->match != NULL && !lists[k].err) {
				nodes = lists[k].v;
				nn = (int)lists[k].n;
			} else {
				at(run, (xmlNodePtr)doc);
				if (r->match == NULL)
					res = xmlXPathCompiledEval(r->context, run->ctxt);
				if (res == NULL || res->type != XPATH_NODESET) {
					rule_error(run, r->na ? set->as[r->a0].id : NULL,
						   r->na ? set->as[r->a0].info.line : 0,
						   xmlDocGetRootElement(doc), "context");
					xmlXPathFreeObject(res);
					continue;
				}
				nodes = res->nodesetval ? res->nodesetval->nodeTab : NULL;
				nn = res->nodesetval ? res->nodesetval->nodeNr : 0;
			}
			for (i = 0; i < nn; i++) {
				xmlNodePtr node = nodes[i];

				if (node->type == XML_NAMESPACE_DECL)
					continue;
				if (run->phase != RUN_ALL && !rs_take(run, p, node))
					continue;
				if (pat->nr > 1) {
					int added = ptrset_add(&run->seen, node);
					if (added < 0) {
						xmlXPathFreeObject(res);
						rc = SECMX_ENOMEM;
						goto out;
					}
					if (added == 0)
						continue; /* an earlier rule of this pattern has it */
				}
				run_rule_at(run, r, node);
			}
			xmlXPathFreeObject(res);
		}
	}
out:
	if (run->rs == NULL)
		free(run->ni_hit);
	run->ni_hit = NULL;
	return rc;
}

/*
 * A thread's XPath context and scratch arrays, kept from one document to
 * the next: making and freeing the context (its object cache above all)
 * and the arrays cost about 5% of a 10 KB invoice's rule stage. Per
 * thread (the engine is shared), freed when the thread ends; a context
 * carries nothing of a document between calls (its document, node,
 * namespaces, variables and function lookup are all set per call).
 */
struct scratch {
	xmlXPathContextPtr ctxt;
	struct ptrset seen;
	struct mlist *lists;
	size_t nlists;
};

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static int scratch_ok;

/* scratch_free: the key's destructor (thread end). */
static void scratch_free(void *p)
{
	struct scratch *sc = p;

	if (sc == NULL)
		return;
	xmlXPathFreeContext(sc->ctxt);
	free(sc->seen.slot);
	engine__mlists_free(sc->lists, sc->nlists);
	free(sc);
}

static void scratch_init(void)
{
	scratch_ok = pthread_key_create(&scratch_key, scratch_free) == 0;
}

/* scratch_take: this thread's scratch for a run over XML (NULL: none could
 * be kept; the caller makes its own). */
static struct scratch *scratch_take(xmlDocPtr xml)
{
	struct scratch *sc;

	pthread_once(&scratch_once, scratch_init);
	if (!scratch_ok)
		return NULL;
	if ((sc = pthread_getspecific(scratch_key)) == NULL) {
		if ((sc = calloc(1, sizeof(*sc))) == NULL)
			return NULL;
		if ((sc->ctxt = xmlXPathNewContext(xml)) == NULL ||
		    pthread_setspecific(scratch_key, sc) != 0) {
			xmlXPathFreeContext(sc->ctxt);
			free(sc);
			return NULL;
		}
		xmlXPathContextSetCache(sc->ctxt, 1, -1, 0);
	}
	/* As xmlXPathNewContext leaves a new one: the evaluator's recursion
	 * depth and operation count (an evaluation stopped by an error does not
	 * always give its depth back) and the last error start again. */
	sc->ctxt->doc = xml;
	sc->ctxt->node = NULL;
	sc->ctxt->depth = 0;
	sc->ctxt->opCount = 0;
	sc->ctxt->contextSize = -1;
	sc->ctxt->proximityPosition = -1;
	xmlResetError(&sc->ctxt->lastError);
	return sc;
}

/* partial: the SECMX-RULES-PARTIAL warning: N not-implemented rules of rule
 * set FILE applied to the document. */
static void partial(struct engine_report *rep, size_t n, const char *file, const char *profile)
{
	engine_report_add(rep, "SECMX-RULES-PARTIAL", ENGINE_WARNING, 0, "",
			  "%zu rule(s) of %s apply to this document but are not implemented yet: "
			  "they were NOT checked (secmx validate --list-rules %s)",
			  n, file, profile);
}

/* engine_doc_validate_rules: see engine.h. */
int engine_doc_validate_rules(const struct engine *eng, struct engine_doc *doc,
			      const char *profile, struct engine_report *rep)
{
	size_t fatal_before = engine_report_fatal_count(rep);
	const struct engine_profile *prof;
	struct scratch *sc;
	struct run run;
	const char *s;
	char why[512] = "";
	int rc;

	memset(&run, 0, sizeof(run));
	if (doc->type_index < 0 && (rc = engine_doc_classify(eng, doc, rep)) < 0)
		return rc;
	if ((prof = engine_profile_find(profile ? profile : doc->profile)) == NULL) {
		engine_report_add(rep, "SECMX-PROFILE", ENGINE_FATAL, 0, "",
				  "unknown profile '%s': no business rules were checked",
				  profile ? profile : doc->profile ? doc->profile : "");
		return SECMX_EINVALID;
	}
	if (prof == engine_profile_at(0))
		engine__report_node(rep, "SECMX-PROFILE", ENGINE_WARNING,
				    xmlDocGetRootElement(doc->xml),
				    "%s: only the UBL 2.1 structural rules (%s) were applied",
				    profile ? "profile ubl-2.1 requested" :
					      "the document names no profile we know (cbc:CustomizationID)",
				    prof->rules);
	if ((rc = engine__rules_need(eng, prof->name, why, sizeof(why))) < 0) {
		engine_report_add(rep, "SECMX-RULES-LOAD", ENGINE_FATAL, 0, "",
				  "the rule sets of profile %s could not be loaded: %s", prof->name,
				  why);
		return rc;
	}
	if ((sc = scratch_take(doc->xml)) != NULL) {
		run.ctxt = sc->ctxt;
		run.seen = sc->seen;
		run.lists = sc->lists;
		run.nlists = sc->nlists;
	} else if ((run.ctxt = xmlXPathNewContext(doc->xml)) == NULL) {
		return SECMX_ENOMEM;
	} else {
		xmlXPathContextSetCache(run.ctxt, 1, -1, 0);
	}
	run.st.lib = &eng->rules->lib;
	run.check = (eng->cfg.flags & ENGINE_CFG_RULES_CHECK_FAST) != 0;
	run.rep = rep;
	xmlXPathRegisterFuncLookup(run.ctxt, engine__fn_lookup, &run.st);
	rc = SECMX_OK;
	for (s = prof->rules; rc >= 0 && s && *s;) {
		size_t len = strcspn(s, ",");
		const char *file = s;

		s += len + (s[len] == ',');
		if ((run.set = find_set(eng->rules, file, len)) == NULL) {
			engine_report_add(rep, "SECMX-RULES-MISSING", ENGINE_WARNING, 0, "",
					  "rule set %.*s of profile %s is not installed: its rules "
					  "were NOT checked",
					  (int)len, file, prof->name);
			continue;
		}
		rc = run_set(&run, doc->xml);
		if (rc >= 0 && run.not_checked > 0)
			partial(rep, run.not_checked, run.set->file, prof->name);
	}
	if (run.dropped > 0)
		engine_report_add(rep, "SECMX-RULES-LIMIT",
				  run.dropped_fatal ? ENGINE_FATAL : ENGINE_WARNING, 0, "",
				  "%zu further rule finding(s) (%zu fatal) not listed: the limit is %d "
				  "per document",
				  run.dropped, run.dropped_fatal, MAX_RULE_FINDINGS);
	/* The namespace table is the set's, not the context's: detach before
	 * freeing or keeping; nothing of this document stays in a kept one. */
	run.ctxt->namespaces = NULL;
	run.ctxt->nsNr = 0;
	xmlXPathRegisteredVariablesCleanup(run.ctxt);
	xmlXPathRegisterFuncLookup(run.ctxt, NULL, NULL);
	if (sc != NULL) {
		run.ctxt->doc = NULL;
		run.ctxt->node = NULL;
		sc->seen = run.seen;
		sc->lists = run.lists;
		sc->nlists = run.nlists;
	} else {
		xmlXPathFreeContext(run.ctxt);
		free(run.seen.slot);
		engine__mlists_free(run.lists, run.nlists);
	}
	if (rc < 0)
		return rc;
	return engine_report_fatal_count(rep) > fatal_before ? SECMX_EINVALID : SECMX_OK;
}

/* ---- large-document mode (engine__rstream_*, docs/memory.md) ---- */

/* One finding held back until the end, with what orders it as the
 * whole-tree stage would: set, rule (rules are numbered in pattern order),
 * phase (header nodes precede every line), then arrival. */
struct rs_find {
	size_t set_i, rule, seq;
	int phase;                      /* 0: end phase, 1: line phase */
	char *id, *path, *msg;
	enum engine_severity sev;
	long line;
};

#define RS_MAX_SETS 16

struct engine__rstream {
	const struct engine *eng;
	const struct engine_profile *prof;
	const char *profile;            /* as the caller asked (NULL: the document's) */
	xmlDocPtr doc;
	struct run run;
	const struct ruleset *sets[RS_MAX_SETS];    /* NULL: the file is not installed */
	const char *file[RS_MAX_SETS];
	size_t flen[RS_MAX_SETS];
	size_t nsets;
	unsigned char *line_ok[RS_MAX_SETS];        /* per pattern */
	unsigned char *root_forbidden[RS_MAX_SETS]; /* per rule: may not run at the root */
	unsigned char *line_forbidden[RS_MAX_SETS]; /* per rule: may not match in a line */
	unsigned char *ni_hit[RS_MAX_SETS];         /* per assert: see struct run */
	size_t not_checked[RS_MAX_SETS];
	struct engine__proj_names names;
	struct rs_find *f;
	size_t nf, cap, seq;
	int aborted;
	char why[512];
};

/* The lines of the batch being checked carry this mark (node->_private). */
static const char batch_mark = 0;
const char engine__pruned_mark = 0;

/* rs_abort: the mode cannot give the whole-tree stage's answer: say why once. */
static void rs_abort(struct run *run, const char *why, const char *id)
{
	struct engine__rstream *rs = run->rs;

	if (rs->aborted)
		return;
	rs->aborted = 1;
	snprintf(rs->why, sizeof(rs->why), "%s%s%s%s", why, id ? " (rule " : "", id ? id : "",
		 id ? ")" : "");
}

/* engine__rstream_line_of: the invoice line NODE is in (or is), or NULL. */
xmlNodePtr engine__rstream_line_of(xmlNodePtr node)
{
	xmlNodePtr n = node && node->type == XML_ATTRIBUTE_NODE ? node->parent : node;

	while (n != NULL && n->parent != NULL && n->parent->type == XML_ELEMENT_NODE &&
	       n->parent->parent != NULL && n->parent->parent->type == XML_ELEMENT_NODE)
		n = n->parent;
	if (n != NULL && n->type == XML_ELEMENT_NODE && n->parent != NULL &&
	    n->parent->type == XML_ELEMENT_NODE && engine__proj_is_line_name((const char *)n->name))
		return n;
	return NULL;
}

/* rs_line_ok: does pattern PAT of the run's set run per batch of lines? */
static int rs_line_ok(const struct run *run, size_t pat)
{
	return run->rs->line_ok[run->set_i][pat];
}

/* rs_ni_hit: the run's set's not-implemented marks for the whole document
 * (allocated on first use, freed with RS), or NULL out of memory. */
static unsigned char *rs_ni_hit(struct run *run)
{
	struct engine__rstream *rs = run->rs;

	if (rs->ni_hit[run->set_i] == NULL)
		rs->ni_hit[run->set_i] = calloc(run->set->nas, 1);
	return rs->ni_hit[run->set_i];
}

/* rs_take: does this phase handle context NODE of pattern PAT? */
static int rs_take(const struct run *run, size_t pat, xmlNodePtr node)
{
	xmlNodePtr line = engine__rstream_line_of(node);

	if (run->phase == RUN_LINES) {
		if (line == NULL || line->_private != (void *)&batch_mark)
			return 0;
		if (run->rs->line_forbidden[run->set_i][run->cur_rule]) {
			rs_abort((struct run *)run, "a rule that reads across lines matched inside a "
						    "line",
				 run->set->as[run->set->rules[run->cur_rule].a0].id);
			return 0;
		}
		return 1;
	}
	if (node == xmlDocGetRootElement(node->doc) &&
	    run->rs->root_forbidden[run->set_i][run->cur_rule]) {
		rs_abort((struct run *)run, "a rule that would read the lines whole matched the "
					    "document element",
			 run->set->as[run->set->rules[run->cur_rule].a0].id);
		return 0;
	}
	return !rs_line_ok(run, pat) || line == NULL;
}

/* rs_finding: hold one finding (path and line taken now, from NODE). */
static void rs_finding(struct run *run, const char *id, enum engine_severity sev,
		       xmlNodePtr node, const char *msg)
{
	struct engine__rstream *rs = run->rs;
	struct rs_find *f;
	long line = node ? xmlGetLineNo(node) : 0;

	if (rs->aborted)
		return;
	if (rs->nf >= MAX_RULE_FINDINGS) {
		rs_abort(run, "more findings than the per-document limit", NULL);
		return;
	}
	if (rs->nf == rs->cap) {
		size_t ncap = rs->cap ? rs->cap * 2 : 64;
		struct rs_find *nv = realloc(rs->f, ncap * sizeof(*nv));

		if (nv == NULL) {
			rs_abort(run, "out of memory", NULL);
			return;
		}
		rs->f = nv;
		rs->cap = ncap;
	}
	f = &rs->f[rs->nf];
	f->set_i = run->set_i;
	f->rule = run->cur_rule;
	f->seq = rs->seq++;
	f->phase = run->phase == RUN_LINES;
	f->sev = sev;
	f->line = line < 0 ? 0 : line;
	f->id = strdup(id ? id : "");
	f->msg = strdup(msg ? msg : "");
	f->path = node ? engine__node_path(node) : strdup("");
	if (f->id == NULL || f->msg == NULL || f->path == NULL) {
		free(f->id);
		free(f->msg);
		free(f->path);
		rs_abort(run, "out of memory", NULL);
		return;
	}
	rs->nf++;
}

/* rs_cmp: qsort order of held findings (set, rule, phase, arrival). */
static int rs_cmp(const void *a, const void *b)
{
	const struct rs_find *x = a, *y = b;

	if (x->set_i != y->set_i)
		return x->set_i < y->set_i ? -1 : 1;
	if (x->rule != y->rule)
		return x->rule < y->rule ? -1 : 1;
	if (x->phase != y->phase)
		return x->phase < y->phase ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* What a variable callback checks: the rule (or NULL) and the set's lets. */
struct rs_vars {
	const struct ruleset *set;
	const struct rrule *rule;
	const unsigned char *hs;        /* set lets: safe to evaluate with the header only */
	size_t upto;                    /* set lets before this one are visible */
};

/* var_line: $NAME may be read in the line phase (a rule's let, or a set let
 * that reads only the header). */
static int var_line(void *arg, const char *name)
{
	const struct rs_vars *v = arg;
	size_t i;

	for (i = 0; v->rule != NULL && i < v->rule->nlets; i++)
		if (strcmp(v->rule->lets[i].name, name) == 0)
			return 0;
	for (i = v->upto; i-- > 0;)
		if (strcmp(v->set->lets[i].name, name) == 0)
			return v->hs[i] ? 0 : -1;
	return -1;
}

/* var_any: every variable may be read (its let is analysed on its own). */
static int var_any(void *arg, const char *name)
{
	(void)arg, (void)name;
	return 0;
}

/* rule_exprs: analyse every expression of rule R (lets, tests, messages)
 * with Q (its val field is set per expression); 1 yes, 0 no, < 0 error. */
static int rule_exprs(const struct ruleset *set, const struct rrule *r, struct engine__proj_q *q,
		      const char **what)
{
	size_t i, j;
	int rc;

	for (i = 0; i < r->nlets; i++) {
		q->val = 1;
		*what = r->lets[i].src;
		if ((rc = engine__proj_analyse(r->lets[i].src, q)) != 1)
			return rc;
	}
	for (i = r->a0; i < r->a0 + r->na; i++) {
		const struct rassert *a = &set->as[i];

		if (a->test == NULL)
			continue;
		q->val = 0;
		*what = a->test_src;
		if ((rc = engine__proj_analyse(a->test_src, q)) != 1)
			return rc;
		for (j = 0; j < a->nseg; j++) {
			if (a->seg[j].kind == SEG_TEXT || a->seg[j].text == NULL)
				continue;
			q->val = a->seg[j].kind == SEG_VALUE;
			*what = a->seg[j].text;
			if ((rc = engine__proj_analyse(a->seg[j].text, q)) != 1)
				return rc;
		}
	}
	return 1;
}

/* classify_set: which patterns of set SI run per line, and the names the
 * projection keeps for the end phase; aborts when a rule fits neither. */
static int classify_set(struct engine__rstream *rs, size_t si)
{
	const struct ruleset *set = rs->sets[si];
	unsigned char *hs = NULL;
	struct rs_vars v;
	struct engine__proj_q q;
	const char *what = "";
	char line_why[256] = "";
	size_t i, p, k;
	int rc = SECMX_OK, root_only, may_root;

	if (set == NULL)
		return SECMX_OK;
	if ((rs->line_ok[si] = calloc(set->npats + 1, 1)) == NULL ||
	    (rs->root_forbidden[si] = calloc(set->nrules + 1, 1)) == NULL ||
	    (rs->line_forbidden[si] = calloc(set->nrules + 1, 1)) == NULL ||
	    (hs = calloc(set->nlets + 1, 1)) == NULL) {
		rc = SECMX_ENOMEM;
		goto out;
	}
	memset(&v, 0, sizeof(v));
	v.set = set;
	v.hs = hs;
	for (i = 0; i < set->nlets; i++) {
		v.upto = i;
		q = (struct engine__proj_q){PROJ_Q_LINE, PROJ_AT_DOC, NULL, 1, NULL, var_line, &v, set->ns, set->nns};
		if ((rc = engine__proj_analyse(set->lets[i].src, &q)) < 0)
			goto out;
		hs[i] = rc == 1;
		q = (struct engine__proj_q){PROJ_Q_PROJ, PROJ_AT_DOC, NULL,     1,
					    &rs->names,   var_any,     NULL, set->ns, set->nns};
		if ((rc = engine__proj_analyse(set->lets[i].src, &q)) < 0)
			goto out;
		if (rc == 0) {
			snprintf(rs->why, sizeof(rs->why),
				 "%s: variable $%s reads the lines in a way no projection keeps",
				 set->file, set->lets[i].name);
			rs->aborted = 1;
			goto out;
		}
	}
	v.upto = set->nlets;
	for (p = 0; p < set->npats; p++) {
		const struct rpattern *pat = &set->pats[p];
		int ok = 1;

		for (k = pat->r0; ok && k < pat->r0 + pat->nr; k++) {
			const struct rrule *r = &set->rules[k];

			if (r->context == NULL)
				continue;
			v.rule = r;
			q = (struct engine__proj_q){PROJ_Q_LINE, PROJ_AT_LOC, NULL,    0,
						    NULL,        var_line,    &v,      set->ns,
						    set->nns};
			if ((rc = engine__proj_pattern(r->context_src, &q, &root_only, &may_root)) < 0)
				goto out;
			if (rc == 1 && root_only)
				continue; /* it never sees a node of a line */
			if (rc != 1) {
				/* its context's predicates read outside the line */
				ok = 0;
				snprintf(line_why, sizeof(line_why), "%.200s", r->context_src);
				continue;
			}
			what = r->context_src;
			if ((rc = rule_exprs(set, r, &q, &what)) < 0)
				goto out;
			/* A rule that reads across lines may stay in a line-local
			 * pattern as long as it never matches inside a line (BR-CO-10
			 * at cac:LegalMonetaryTotal, BR-S-08 at a header tax
			 * category): the line phase checks that (rs_take). */
			if (rc != 1)
				rs->line_forbidden[si][k] = 1;
		}
		rs->line_ok[si][p] = (unsigned char)ok;
		for (k = pat->r0; k < pat->r0 + pat->nr; k++) {
			const struct rrule *r = &set->rules[k];

			if (r->context == NULL)
				continue;
			q = (struct engine__proj_q){PROJ_Q_PROJ, ok ? PROJ_AT_LOC : PROJ_AT_ANY,
						    "",          0,
						    &rs->names,  var_any,
						    NULL,        set->ns,
						    set->nns};
			what = r->context_src;
			if ((rc = engine__proj_pattern(r->context_src, &q, &root_only, &may_root)) < 0)
				goto out;
			/* At the document element the rule reads everything below it:
			 * the expressions must hold from there (PROJ_AT_UP); for a rule
			 * that may also match elsewhere that is checked separately, and
			 * where it does not hold the rule must not meet the document
			 * element at run time (rs_take). */
			if (rc == 1 && !root_only) {
				q.start = ok ? PROJ_AT_LOC : PROJ_AT_ANY;
				if ((rc = rule_exprs(set, r, &q, &what)) < 0)
					goto out;
			}
			if (rc == 1 && (root_only || may_root)) {
				const char *w2 = what;
				int up;

				q.start = PROJ_AT_UP;
				if ((up = rule_exprs(set, r, &q, &w2)) < 0) {
					rc = up;
					goto out;
				}
				if (root_only && up == 0) {
					rc = 0;
					what = w2;
				} else if (up == 0) {
					rs->root_forbidden[si][k] = 1;
				}
			}
			if (rc == 0) {
				snprintf(rs->why, sizeof(rs->why),
					 "%.60s: rule %.60s reads across lines in a way no projection "
					 "keeps: %.150s (its pattern is not line-local: %.100s)",
					 set->file, r->na ? set->as[r->a0].id : "(no assert)", what,
					 line_why);
				rs->aborted = 1;
				goto out;
			}
		}
	}
	rc = SECMX_OK;
out:
	free(hs);
	return rc;
}

/* engine__rstream_free: NULL accepted; the document is the caller's. */
void engine__rstream_free(struct engine__rstream *rs)
{
	size_t i;

	if (rs == NULL)
		return;
	for (i = 0; i < rs->nf; i++) {
		free(rs->f[i].id);
		free(rs->f[i].msg);
		free(rs->f[i].path);
	}
	free(rs->f);
	for (i = 0; i < rs->nsets; i++) {
		free(rs->line_ok[i]);
		free(rs->root_forbidden[i]);
		free(rs->line_forbidden[i]);
		free(rs->ni_hit[i]);
	}
	engine__proj_names_free(&rs->names);
	if (rs->run.ctxt != NULL) {
		rs->run.ctxt->namespaces = NULL;
		rs->run.ctxt->nsNr = 0;
		xmlXPathRegisteredVariablesCleanup(rs->run.ctxt);
		xmlXPathFreeContext(rs->run.ctxt);
	}
	free(rs->run.seen.slot);
	engine__mlists_free(rs->run.lists, rs->run.nlists);
	free(rs);
}

/* engine__rstream_why: why the mode gave up (or ""). */
const char *engine__rstream_why(const struct engine__rstream *rs)
{
	return rs ? rs->why : "";
}

/* engine__rstream_begin: see engine_int.h. */
int engine__rstream_begin(const struct engine *eng, struct engine_doc *doc, const char *profile,
			  struct engine__rstream **out)
{
	struct engine__rstream *rs;
	const char *s;
	char why[512];
	size_t i;
	int rc;

	*out = NULL;
	if ((rs = calloc(1, sizeof(*rs))) == NULL)
		return SECMX_ENOMEM;
	*out = rs;
	rs->eng = eng;
	rs->profile = profile;
	rs->doc = doc->xml;
	if ((rs->prof = engine_profile_find(profile ? profile : doc->profile)) == NULL) {
		snprintf(rs->why, sizeof(rs->why), "unknown profile");
		rs->aborted = 1;
		return 0;
	}
	if (engine__rules_need(eng, rs->prof->name, why, sizeof(why)) < 0) {
		snprintf(rs->why, sizeof(rs->why), "rule sets did not load");
		rs->aborted = 1;
		return 0;
	}
	if ((rs->run.ctxt = xmlXPathNewContext(doc->xml)) == NULL)
		return SECMX_ENOMEM;
	xmlXPathContextSetCache(rs->run.ctxt, 1, -1, 0);
	rs->run.st.lib = &eng->rules->lib;
	rs->run.check = (eng->cfg.flags & ENGINE_CFG_RULES_CHECK_FAST) != 0;
	rs->run.rs = rs;
	xmlXPathRegisterFuncLookup(rs->run.ctxt, engine__fn_lookup, &rs->run.st);
	for (s = rs->prof->rules; s && *s;) {
		size_t len = strcspn(s, ",");

		if (rs->nsets == RS_MAX_SETS) {
			snprintf(rs->why, sizeof(rs->why), "too many rule sets");
			rs->aborted = 1;
			return 0;
		}
		rs->file[rs->nsets] = s;
		rs->flen[rs->nsets] = len;
		rs->sets[rs->nsets++] = find_set(eng->rules, s, len);
		s += len + (s[len] == ',');
	}
	for (i = 0; i < rs->nsets && !rs->aborted; i++)
		if ((rc = classify_set(rs, i)) < 0)
			return rc;
	return rs->aborted ? 0 : 1;
}

/* run_phase: every set of RS in PHASE over RS's document. */
static void run_phase(struct engine__rstream *rs, int phase)
{
	size_t i;

	rs->run.phase = phase;
	for (i = 0; i < rs->nsets && !rs->aborted; i++) {
		if (rs->sets[i] == NULL)
			continue;
		rs->run.set = rs->sets[i];
		rs->run.set_i = i;
		if (run_set(&rs->run, rs->doc) < 0 && !rs->aborted)
			rs_abort(&rs->run, "out of memory", NULL);
		rs->not_checked[i] += rs->run.not_checked; /* each assert once: ni_hit */
	}
}

/* engine__rstream_lines: see engine_int.h. */
int engine__rstream_lines(struct engine__rstream *rs, xmlNodePtr *lines, size_t n)
{
	size_t i;

	if (rs->aborted)
		return 0;
	for (i = 0; i < n; i++)
		lines[i]->_private = (void *)&batch_mark;
	/* Number the elements (libxml2 keeps the number in an element's unused
	 * content field): XPath then sorts node sets by comparing numbers,
	 * instead of walking thousands of line siblings for each comparison. */
	xmlXPathOrderDocElems(rs->doc);
	rs->run.tops = lines;
	rs->run.ntops = n;
	run_phase(rs, RUN_LINES);
	/* The variables hold node-sets of these lines, which the projection
	 * is about to free: drop them now (freeing a node-set reads its nodes). */
	xmlXPathRegisteredVariablesCleanup(rs->run.ctxt);
	rs->run.tops = NULL;
	rs->run.ntops = 0;
	for (i = 0; i < n; i++)
		lines[i]->_private = NULL;
	return rs->aborted ? 0 : 1;
}

/* in_names: is NAME one of V[0..N)? */
static int in_names(char *const *v, size_t n, const xmlChar *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], (const char *)name) == 0)
			return 1;
	return 0;
}

/* empty_leaf: no element child and only whitespace text (secmx:empty-leaves). */
static int empty_leaf(xmlNodePtr e)
{
	xmlNodePtr c;

	for (c = e->children; c != NULL; c = c->next) {
		if (c->type == XML_ELEMENT_NODE)
			return 0;
		if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content) {
			const xmlChar *t = c->content;
			while (*t == ' ' || *t == '\t' || *t == '\r' || *t == '\n')
				t++;
			if (*t)
				return 0;
		}
	}
	return 1;
}

/* drop_children: free E's element children (text stays); mark E if any went. */
static void drop_children(xmlNodePtr e)
{
	xmlNodePtr c, next;
	int any = 0;

	for (c = e->children; c != NULL; c = next) {
		next = c->next;
		if (c->type != XML_ELEMENT_NODE)
			continue;
		xmlUnlinkNode(c);
		xmlFreeNode(c);
		any = 1;
	}
	if (any)
		e->_private = (void *)&engine__pruned_mark;
}

#define PRUNE_KIDS 512

/* prune: keep under E only what the projection needs; 1 when E holds
 * something needed. An element dropped beside a kept one of the same name
 * stays as a shell (its text, no element children) so that positions and
 * node paths do not change. */
static int prune(const struct engine__proj_names *nm, xmlNodePtr e, unsigned depth)
{
	xmlNodePtr kids[PRUNE_KIDS], c;
	unsigned char keep[PRUNE_KIDS];
	size_t n = 0, i, j;
	int any = 0, dropped = 0;

	for (c = e->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE && n++ >= PRUNE_KIDS)
			return 1; /* XXX: too wide to track: keep it all (conservative) */
	if (depth > 80)
		return 1;
	n = 0;
	for (c = e->children; c != NULL; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		kids[n] = c;
		if (in_names(nm->full, nm->nfull, c->name) || (nm->keep_empty && empty_leaf(c)))
			keep[n] = 1;
		else
			keep[n] = (unsigned char)(prune(nm, c, depth + 1) ||
						  in_names(nm->present, nm->npresent, c->name));
		any |= keep[n];
		n++;
	}
	for (i = 0; i < n; i++) {
		int shell = 0;

		if (keep[i])
			continue;
		for (j = 0; j < n && !shell; j++)
			shell = keep[j] && xmlStrEqual(kids[j]->name, kids[i]->name);
		if (shell) {
			drop_children(kids[i]);
			continue;
		}
		xmlUnlinkNode(kids[i]);
		xmlFreeNode(kids[i]);
		dropped = 1;
	}
	if (dropped)
		e->_private = (void *)&engine__pruned_mark;
	return any;
}

/* engine__rstream_prune: see engine_int.h. */
void engine__rstream_prune(const struct engine__rstream *rs, xmlNodePtr line)
{
	prune(&rs->names, line, 2);
}

/* engine__rstream_finish: see engine_int.h. */
int engine__rstream_finish(struct engine__rstream *rs, struct engine_report *rep)
{
	size_t fatal_before = engine_report_fatal_count(rep);
	size_t i, k;

	if (!rs->aborted) {
		xmlXPathOrderDocElems(rs->doc);
		run_phase(rs, RUN_END);
	}
	if (rs->aborted)
		return 1;
	if (rs->nf > 1) /* qsort(NULL, 0, ...) is undefined */
		qsort(rs->f, rs->nf, sizeof(*rs->f), rs_cmp);
	if (rs->prof == engine_profile_at(0))
		engine__report_node(rep, "SECMX-PROFILE", ENGINE_WARNING, xmlDocGetRootElement(rs->doc),
				    "%s: only the UBL 2.1 structural rules (%s) were applied",
				    rs->profile ? "profile ubl-2.1 requested" :
						  "the document names no profile we know (cbc:CustomizationID)",
				    rs->prof->rules);
	for (i = 0, k = 0; i < rs->nsets; i++) {
		if (rs->sets[i] == NULL) {
			engine_report_add(rep, "SECMX-RULES-MISSING", ENGINE_WARNING, 0, "",
					  "rule set %.*s of profile %s is not installed: its rules "
					  "were NOT checked",
					  (int)rs->flen[i], rs->file[i], rs->prof->name);
			continue;
		}
		for (; k < rs->nf && rs->f[k].set_i == i; k++)
			engine_report_add(rep, rs->f[k].id, rs->f[k].sev, rs->f[k].line, rs->f[k].path,
					  "%s", rs->f[k].msg);
		if (rs->not_checked[i] > 0)
			partial(rep, rs->not_checked[i], rs->sets[i]->file, rs->prof->name);
	}
	return engine_report_fatal_count(rep) > fatal_before ? SECMX_EINVALID : SECMX_OK;
}
