/*
 * rules_fast.c — assert tests of a few common shapes decided in C instead of
 * by libxml2's XPath evaluator, with exactly XPath 1.0's result.
 *
 * Functions (rules_int.h):
 *   engine__ctest_compile()  recognise a test: 1 and *OUT when at least one
 *                            of its top-level "or" terms has a C form,
 *                            0 when the test stays plain XPath
 *   engine__ctest_eval()     evaluate it at a context node: 1, 0, -1 (error)
 *   engine__ctest_free()
 *
 * Why: each XPath evaluation allocates node-sets and strings and compares
 * every child's name with xmlStrEqual; the EN 16931 and Peppol sets spend
 * about a third of their evaluations on tests as simple as
 * count(cac:InvoicePeriod) <= 1 or secmx:in-codelist(normalize-space(.), 'L').
 *
 * A test is split at its top-level "or" into terms, evaluated left to right
 * and stopping at the first true one, as XPath's "or" does (so an error in a
 * later term is raised exactly when XPath would raise it). A term is one of
 * (PATH: relative child steps p:name/p:name..., optionally ending in @attr;
 * attributes are unprefixed):
 *   PATH                          some node is there
 *   not(PATH)                     no node is there
 *   PATH != ''                    some node has a non-empty string value
 *   normalize-space(PATH) != ''   the first node (document order) has
 *                                 non-blank text; false when there is none
 *   count(PATH) <= N              N a non-negative integer
 *   secmx:in-codelist(ARG, 'L')   ARG normalize-space(@a), normalize-space(.)
 *                                 or string(@a); list L loaded (else XPath,
 *                                 which raises the run-time error)
 *   secmx:ends-with(local-name(), 'LIT')
 *   string-length(substring-after(X, '.')) <= N   X "." or PATH (first node)
 *   $v = '', @a = $v, normalize-space(@a) = $v    when $v holds a string (a
 *                                 value of another type, or an unknown
 *                                 variable, goes to the term's XPath)
 * or anything else, kept as its own compiled XPath.
 *
 * Equivalence is tested, not assumed: ENGINE_CFG_RULES_CHECK_FAST makes the
 * rule stage evaluate every such test both ways and report a disagreement
 * (tests/engine/tc_rules.c, all rule cases and the corpus); the XPath-only
 * engine (ENGINE_CFG_RULES_XPATH_ONLY) compiles no C forms.
 *
 * Ownership: a struct ctest belongs to its assert (engine__ctest_free). It
 * keeps the index of its code list in the engine's function library, not a
 * pointer (the list array may grow while later rule files load).
 * Thread safety: compiled tests are only read after engine_new().
 */
#include <stdlib.h>
#include <string.h>

#include "rules_int.h"

enum cterm_kind {
	CT_XPATH,       /* COMP */
	CT_EXISTS,
	CT_NOT,
	CT_NONEMPTY,
	CT_NS_NONEMPTY,
	CT_COUNT_LE,
	CT_CODELIST,
	CT_ENDS_LOCAL,          /* secmx:ends-with(local-name(), 'LIT') */
	CT_DEC_PLACES,          /* string-length(substring-after(. or PATH, '.')) <= N */
	CT_VAR_EMPTY,           /* $v = '' */
	CT_ATTR_EQ_VAR,         /* @a = $v */
	CT_NSATTR_EQ_VAR,       /* normalize-space(@a) = $v */
};

enum carg_kind {
	CA_NS_ATTR,     /* normalize-space(@a) */
	CA_NS_SELF,     /* normalize-space(.) */
	CA_STR_ATTR,    /* string(@a) */
};

struct cstep {
	const xmlChar *uri;     /* the set's href, NULL: no namespace */
	char *local;
};

struct cterm {
	enum cterm_kind kind;
	xmlXPathCompExprPtr comp;       /* CT_XPATH */
	struct cstep *steps;            /* the path's element steps */
	int nsteps;
	char *attr;                     /* a final @attr of the path, or CT_CODELIST's @a */
	long max;                       /* CT_COUNT_LE */
	enum carg_kind arg;             /* CT_CODELIST */
	size_t list;                    /* CT_CODELIST: index in the library */
	char *lit;                      /* CT_ENDS_LOCAL */
	char *var;                      /* CT_*VAR*: the variable; COMP is the term as XPath,
					 * used when the value is not a string */
	int self;                       /* CT_DEC_PLACES of "." (else of PATH) */
};

struct ctest {
	struct cterm *t;
	int n;
};


/* skip_ws: P past blanks. */
static const char *skip_ws(const char *p)
{
	while (engine__ws((unsigned char)*p))
		p++;
	return p;
}

/* term_free: release T's members. */
static void term_free(struct cterm *t)
{
	int i;

	xmlXPathFreeCompExpr(t->comp);
	for (i = 0; i < t->nsteps; i++)
		free(t->steps[i].local);
	free(t->steps);
	free(t->attr);
	free(t->lit);
	free(t->var);
}

/* engine__ctest_free: release T (NULL accepted). */
void engine__ctest_free(struct ctest *t)
{
	int i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n; i++)
		term_free(&t->t[i]);
	free(t->t);
	free(t);
}

/* name: P at an NCName: its end, or NULL. */
static const char *name(const char *p)
{
	if (!engine__nstart((unsigned char)*p))
		return NULL;
	while (engine__nchar((unsigned char)*p))
		p++;
	return p;
}

/*
 * parse_path: a relative child path at *PP (p:a/p:b..., optionally /@x or a
 * lone @x when ATTR_OK) into T's steps and attr; *PP moves past it.
 * 1 parsed, 0 not a path, SECMX_ENOMEM.
 */
static int parse_path(const char **pp, const xmlNs *ns, int nns, int attr_ok, struct cterm *t)
{
	const char *p = *pp, *e;

	for (;;) {
		if (*p == '@') {
			if (!attr_ok || (e = name(p + 1)) == NULL || *e == ':')
				return 0;
			if ((t->attr = strndup(p + 1, (size_t)(e - p - 1))) == NULL)
				return SECMX_ENOMEM;
			*pp = e;
			return 1;
		}
		{
			const char *n1 = p, *n2;
			const xmlChar *uri = NULL;
			struct cstep *ns2;
			int i;

			if ((e = name(p)) == NULL || *e != ':' || (n2 = e + 1, e = name(n2)) == NULL)
				return 0; /* an unprefixed name, a wildcard, an axis, a function ... */
			for (i = 0; i < nns && uri == NULL; i++)
				if (xmlStrlen(ns[i].prefix) == (int)(n2 - 1 - n1) &&
				    strncmp((const char *)ns[i].prefix, n1, (size_t)(n2 - 1 - n1)) == 0)
					uri = ns[i].href;
			/* the set's first href equal to it, so pointers compare */
			for (i = 0; uri != NULL && i < nns; i++)
				if (xmlStrEqual(ns[i].href, uri)) {
					uri = ns[i].href;
					break;
				}
			if (uri == NULL || *e == '(' || *e == '[')
				return 0;
			if ((ns2 = realloc(t->steps, (size_t)(t->nsteps + 1) * sizeof(*ns2))) == NULL)
				return SECMX_ENOMEM;
			t->steps = ns2;
			t->steps[t->nsteps].uri = uri;
			if ((t->steps[t->nsteps].local = strndup(n2, (size_t)(e - n2))) == NULL)
				return SECMX_ENOMEM;
			t->nsteps++;
			p = e;
		}
		if (*p != '/' || p[1] == '/')
			break;
		p++;
	}
	*pp = p;
	return 1;
}

/* lit: P at a quoted literal: its end (after the closing quote), or NULL. */
static const char *lit(const char *p)
{
	const char *q;

	if (*p != '\'' && *p != '"')
		return NULL;
	q = strchr(p + 1, *p);
	return q ? q + 1 : NULL;
}

/* var_at: P at "$name": its end, the name copied into *VAR; NULL if not (or out of memory: *OOM). */
static const char *var_at(const char *p, char **var, int *oom)
{
	const char *e;

	if (*p != '$' || (e = name(p + 1)) == NULL || *e == ':')
		return NULL;
	if ((*var = strndup(p + 1, (size_t)(e - p - 1))) == NULL) {
		*oom = 1;
		return NULL;
	}
	return e;
}

/* attr_at: P at "@name" (unprefixed): its end, the name copied into *ATTR; NULL if not. */
static const char *attr_at(const char *p, char **attr, int *oom)
{
	const char *e;

	if (*p != '@' || (e = name(p + 1)) == NULL || *e == ':')
		return NULL;
	if ((*attr = strndup(p + 1, (size_t)(e - p - 1))) == NULL) {
		*oom = 1;
		return NULL;
	}
	return e;
}

/* eq_var: P at "= $v" ending S: 1 with T->var set, 0, SECMX_ENOMEM. */
static int eq_var(const char *p, struct cterm *t)
{
	int oom = 0;

	p = skip_ws(p);
	if (*p != '=')
		return 0;
	p = var_at(skip_ws(p + 1), &t->var, &oom);
	if (oom)
		return SECMX_ENOMEM;
	return p != NULL && *skip_ws(p) == '\0';
}

/*
 * parse_more: the forms with a local name, decimal places or a variable.
 * 1 recognised, 0 not, SECMX_ENOMEM. T is left for the caller to free.
 */
static int parse_more(const char *s, const xmlNs *ns, int nns, struct cterm *t)
{
	static const char EWL[] = "secmx:ends-with(local-name(),", SLS[] = "string-length(",
			  SAF[] = "substring-after(", NSP[] = "normalize-space(";
	const char *p = s, *e;
	int oom = 0, rc;

	if (strncmp(p, EWL, sizeof(EWL) - 1) == 0) {
		const char *l = skip_ws(p + sizeof(EWL) - 1);

		t->kind = CT_ENDS_LOCAL;
		if ((e = lit(l)) == NULL || (p = skip_ws(e), *p != ')') || *skip_ws(p + 1) != '\0')
			return 0;
		if ((t->lit = strndup(l + 1, (size_t)(e - l - 2))) == NULL)
			return SECMX_ENOMEM;
		return 1;
	}
	if (strncmp(p, SLS, sizeof(SLS) - 1) == 0) {
		char *end;

		t->kind = CT_DEC_PLACES;
		p = skip_ws(p + sizeof(SLS) - 1);
		if (strncmp(p, SAF, sizeof(SAF) - 1) != 0)
			return 0;
		p = skip_ws(p + sizeof(SAF) - 1);
		if (*p == '.' && (engine__ws((unsigned char)p[1]) || p[1] == ',')) {
			t->self = 1;
			p++;
		} else if ((rc = parse_path(&p, ns, nns, 0, t)) <= 0) {
			return rc;
		}
		p = skip_ws(p);
		if (*p != ',' || (p = skip_ws(p + 1), strncmp(p, "'.'", 3) != 0 && strncmp(p, "\".\"", 3) != 0))
			return 0;
		p = skip_ws(p + 3);
		if (*p != ')' || (p = skip_ws(p + 1), *p != ')') || (p = skip_ws(p + 1), strncmp(p, "<=", 2) != 0))
			return 0;
		p = skip_ws(p + 2);
		if (*p < '0' || *p > '9')
			return 0;
		t->max = strtol(p, &end, 10);
		return t->max >= 0 && t->max < 1000000 && *skip_ws(end) == '\0';
	}
	if (*p == '$') {
		t->kind = CT_VAR_EMPTY;
		if ((p = var_at(p, &t->var, &oom)) == NULL)
			return oom ? SECMX_ENOMEM : 0;
		p = skip_ws(p);
		if (*p != '=' || (p = skip_ws(p + 1), strncmp(p, "''", 2) != 0 && strncmp(p, "\"\"", 2) != 0))
			return 0;
		return *skip_ws(p + 2) == '\0';
	}
	if (*p == '@') {
		t->kind = CT_ATTR_EQ_VAR;
		if ((p = attr_at(p, &t->attr, &oom)) == NULL)
			return oom ? SECMX_ENOMEM : 0;
		return eq_var(p, t);
	}
	if (strncmp(p, NSP, sizeof(NSP) - 1) == 0 && *skip_ws(p + sizeof(NSP) - 1) == '@') {
		t->kind = CT_NSATTR_EQ_VAR;
		if ((p = attr_at(skip_ws(p + sizeof(NSP) - 1), &t->attr, &oom)) == NULL)
			return oom ? SECMX_ENOMEM : 0;
		p = skip_ws(p);
		if (*p != ')')
			return 0;
		return eq_var(p + 1, t);
	}
	return 0;
}

/*
 * parse_term: the term S (trimmed, NUL-terminated) as a C form into T.
 * 1 recognised, 0 not, SECMX_ENOMEM.
 */
static int parse_term(const char *s, const xmlNs *ns, int nns, const struct engine__fnlib *lib,
		      struct cterm *t)
{
	static const char NOT[] = "not(", CNT[] = "count(", NSP[] = "normalize-space(",
			  INL[] = "secmx:in-codelist(", STR[] = "string(";
	const char *p = s, *e;
	int rc;

	memset(t, 0, sizeof(*t));
	if (strncmp(p, NOT, sizeof(NOT) - 1) == 0) {
		t->kind = CT_NOT;
		p = skip_ws(p + sizeof(NOT) - 1);
		if ((rc = parse_path(&p, ns, nns, 1, t)) <= 0)
			return rc;
		p = skip_ws(p);
		return *p == ')' && *skip_ws(p + 1) == '\0';
	}
	if (strncmp(p, CNT, sizeof(CNT) - 1) == 0) {
		char *end;

		t->kind = CT_COUNT_LE;
		p = skip_ws(p + sizeof(CNT) - 1);
		if ((rc = parse_path(&p, ns, nns, 1, t)) <= 0)
			return rc;
		p = skip_ws(p);
		if (*p != ')' || (p = skip_ws(p + 1), strncmp(p, "<=", 2) != 0))
			return 0;
		p = skip_ws(p + 2);
		if (*p < '0' || *p > '9')
			return 0;
		t->max = strtol(p, &end, 10);
		return t->max >= 0 && t->max < 1000000 && *skip_ws(end) == '\0';
	}
	if (strncmp(p, NSP, sizeof(NSP) - 1) == 0 && *skip_ws(p + sizeof(NSP) - 1) != '@') {
		t->kind = CT_NS_NONEMPTY;
		p = skip_ws(p + sizeof(NSP) - 1);
		if ((rc = parse_path(&p, ns, nns, 1, t)) <= 0)
			return rc;
		p = skip_ws(p);
		if (*p != ')' || (p = skip_ws(p + 1), strncmp(p, "!=", 2) != 0))
			return 0;
		p = skip_ws(p + 2);
		return (e = lit(p)) != NULL && e == p + 2 && *skip_ws(e) == '\0';
	}
	if (strncmp(p, INL, sizeof(INL) - 1) == 0) {
		const char *l;
		int idx;
		char *lname;

		t->kind = CT_CODELIST;
		p = skip_ws(p + sizeof(INL) - 1);
		if (strncmp(p, NSP, sizeof(NSP) - 1) == 0) {
			p = skip_ws(p + sizeof(NSP) - 1);
			t->arg = *p == '.' ? CA_NS_SELF : CA_NS_ATTR;
		} else if (strncmp(p, STR, sizeof(STR) - 1) == 0) {
			p = skip_ws(p + sizeof(STR) - 1);
			t->arg = CA_STR_ATTR;
		} else {
			return 0;
		}
		if (t->arg == CA_NS_SELF) {
			if (p[1] == '.' || p[1] == '/')
				return 0; /* "..", "./x" */
			p++;
		} else {
			if (*p != '@' || (e = name(p + 1)) == NULL || *e == ':')
				return 0;
			if ((t->attr = strndup(p + 1, (size_t)(e - p - 1))) == NULL)
				return SECMX_ENOMEM;
			p = e;
		}
		p = skip_ws(p);
		if (*p != ')' || (p = skip_ws(p + 1), *p != ','))
			return 0;
		l = skip_ws(p + 1);
		if ((e = lit(l)) == NULL || (p = skip_ws(e), *p != ')') || *skip_ws(p + 1) != '\0')
			return 0;
		if ((lname = strndup(l + 1, (size_t)(e - l - 2))) == NULL)
			return SECMX_ENOMEM;
		idx = engine__codelist_index(lib, lname);
		free(lname);
		if (idx < 0)
			return 0; /* unknown list: XPath raises the run-time error */
		t->list = (size_t)idx;
		return 1;
	}
	if ((rc = parse_more(s, ns, nns, t)) != 0)
		return rc;
	term_free(t);
	memset(t, 0, sizeof(*t));
	t->kind = CT_EXISTS;
	if ((rc = parse_path(&p, ns, nns, 1, t)) <= 0)
		return rc;
	p = skip_ws(p);
	if (*p == '\0')
		return 1;
	if (strncmp(p, "!=", 2) != 0)
		return 0;
	t->kind = CT_NONEMPTY;
	p = skip_ws(p + 2);
	return (e = lit(p)) != NULL && e == p + 2 && *skip_ws(e) == '\0';
}

/* is_or: is "or" at P (in S) the operator (a blank or parenthesis on both sides)? */
static int is_or(const char *s, const char *p)
{
	return p > s && p[0] == 'o' && p[1] == 'r' && (engine__ws((unsigned char)p[-1]) || p[-1] == ')') &&
	       (engine__ws((unsigned char)p[2]) || p[2] == '(');
}

/* engine__ctest_compile: see the file comment. */
int engine__ctest_compile(const char *src, const xmlNs *ns, int nns,
			  const struct engine__fnlib *lib, struct ctest **out)
{
	struct ctest *t = NULL;
	const char *p, *start = src;
	int depth = 0, rc = 0, nc = 0;
	char quote = 0;

	*out = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return SECMX_ENOMEM;
	for (p = src;; p++) {
		int end = *p == '\0';

		if (!end && engine__nest(*p, &quote, &depth))
			continue;
		if (end || (depth == 0 && is_or(src, p))) {
			const char *a = start, *b = p;
			struct cterm term, *nt;
			char *piece;

			while (a < b && engine__ws((unsigned char)*a))
				a++;
			while (b > a && engine__ws((unsigned char)b[-1]))
				b--;
			if (a == b || (piece = strndup(a, (size_t)(b - a))) == NULL) {
				rc = a == b ? 0 : SECMX_ENOMEM;
				goto out;
			}
			rc = parse_term(piece, ns, nns, lib, &term);
			/* Forms that may defer to XPath at run time keep it compiled. */
			if (rc == 1 && (term.var != NULL || term.kind == CT_ENDS_LOCAL) &&
			    (term.comp = xmlXPathCompile((const xmlChar *)piece)) == NULL)
				rc = 0; /* no fallback: keep the whole term in XPath */
			if (rc == 0) {
				term_free(&term);
				memset(&term, 0, sizeof(term));
				term.kind = CT_XPATH;
				term.comp = xmlXPathCompile((const xmlChar *)piece);
			}
			free(piece);
			if (rc < 0 || (term.kind == CT_XPATH && term.comp == NULL) ||
			    (nt = realloc(t->t, (size_t)(t->n + 1) * sizeof(*nt))) == NULL) {
				term_free(&term);
				rc = rc < 0 ? rc : term.kind == CT_XPATH && term.comp == NULL ? 0 : SECMX_ENOMEM;
				goto out;
			}
			t->t = nt;
			t->t[t->n++] = term;
			nc += term.kind != CT_XPATH;
			if (end)
				break;
			start = p + 2;
			p++;
		}
	}
	rc = 0;
	if (nc > 0) {
		*out = t;
		t = NULL;
		rc = 1;
	}
out:
	engine__ctest_free(t);
	return rc;
}

/* uri_ok: is NODE in the namespace URI (the set's href; NULL: none)? */
static int uri_ok(xmlNodePtr node, const xmlChar *uri)
{
	if (node->ns == NULL || node->ns->href == NULL)
		return uri == NULL;
	return uri != NULL && (node->ns->href == uri || xmlStrEqual(node->ns->href, uri));
}

/* string_value: NODE's XPath string value, borrowed when it is one text node
 * (*OWNED NULL), else built by libxml2 (*OWNED: xmlFree it); NULL when out of memory. */
static const xmlChar *string_value(xmlNodePtr node, xmlChar **owned)
{
	xmlNodePtr c = node->children;

	*owned = NULL;
	if (c == NULL)
		return (const xmlChar *)"";
	if (c->next == NULL && (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE))
		return c->content ? c->content : (const xmlChar *)"";
	return *owned = xmlNodeGetContent(node);
}

/* find_attr: NODE's attribute NAME in no namespace, or NULL. */
static xmlNodePtr find_attr(xmlNodePtr node, const char *nm)
{
	xmlAttrPtr a;

	if (node->type != XML_ELEMENT_NODE)
		return NULL;
	for (a = node->properties; a != NULL; a = a->next)
		if (a->ns == NULL && strcmp((const char *)a->name, nm) == 0)
			return (xmlNodePtr)a;
	return NULL;
}

/* The visitor of walk_path: 1 stop (found what it wanted), 0 go on, -1 error. */
typedef int (*path_fn)(xmlNodePtr node, void *arg);

/* walk_path: call FN for every node of T's path from NODE, in document order. */
static int walk_path(const struct cterm *t, int i, xmlNodePtr node, path_fn fn, void *arg)
{
	xmlNodePtr c;
	int r;

	if (i == t->nsteps) {
		if (t->attr == NULL)
			return fn(node, arg);
		c = find_attr(node, t->attr);
		return c != NULL ? fn(c, arg) : 0;
	}
	if (node->type != XML_ELEMENT_NODE)
		return 0; /* an attribute has no children */
	for (c = node->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, t->steps[i].local) == 0 &&
		    uri_ok(c, t->steps[i].uri) && (r = walk_path(t, i + 1, c, fn, arg)) != 0)
			return r;
	return 0;
}

/* v_any: stop at the first node. */
static int v_any(xmlNodePtr node, void *arg)
{
	(void)node, (void)arg;
	return 1;
}

/* v_count: count nodes; stop once more than the maximum were seen. */
static int v_count(xmlNodePtr node, void *arg)
{
	long *left = arg;

	(void)node;
	return --*left < 0;
}

/* v_nonempty: stop at the first node whose string value is not empty. */
static int v_nonempty(xmlNodePtr node, void *arg)
{
	xmlChar *owned;
	const xmlChar *v = string_value(node, &owned);
	int r;

	(void)arg;
	if (v == NULL)
		return -1;
	r = v[0] != '\0';
	xmlFree(owned);
	return r;
}

/* v_first: remember the first node and stop. */
static int v_first(xmlNodePtr node, void *arg)
{
	*(xmlNodePtr *)arg = node;
	return 1;
}

/* blank: does S hold only XML whitespace? */
static int blank(const xmlChar *s)
{
	while (engine__ws(*s))
		s++;
	return *s == '\0';
}

/* normalize: normalize-space(S) into BUF (LEN bytes) or a malloc'd copy (*HEAP, free it). */
static const char *normalize(const xmlChar *s, char *buf, size_t len, char **heap)
{
	size_t n = strlen((const char *)s) + 1, k = 0;
	char *d = buf;
	int gap = 0;

	*heap = NULL;
	if (n > len) {
		if ((d = *heap = malloc(n)) == NULL)
			return NULL;
	}
	for (; *s; s++) {
		if (engine__ws(*s)) {
			gap = k > 0;
			continue;
		}
		if (gap)
			d[k++] = ' ';
		gap = 0;
		d[k++] = (char)*s;
	}
	d[k] = '\0';
	return d;
}

/* codelist: the CT_CODELIST term T at NODE: 1 / 0 / -1. */
static int codelist(const struct cterm *t, const struct engine__fnlib *lib, xmlNodePtr node)
{
	xmlNodePtr src = t->arg == CA_NS_SELF ? node : find_attr(node, t->attr);
	xmlChar *owned = NULL;
	const xmlChar *v = (const xmlChar *)"";
	char buf[128], *heap = NULL;
	const char *key;
	int r;

	if (src != NULL && (v = string_value(src, &owned)) == NULL)
		return -1;
	if (t->arg == CA_STR_ATTR) {
		key = (const char *)v;
	} else if ((key = normalize(v, buf, sizeof(buf), &heap)) == NULL) {
		xmlFree(owned);
		return -1;
	}
	r = engine__codelist_has(lib, t->list, key);
	free(heap);
	xmlFree(owned);
	return r;
}

/* utf8_len: the number of characters of the UTF-8 string S (XPath's string-length). */
static size_t utf8_len(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/* dec_places: the CT_DEC_PLACES term T at NODE: 1 / 0 / -1. */
static int dec_places(const struct cterm *t, xmlNodePtr node)
{
	xmlNodePtr src = node;
	xmlChar *owned = NULL;
	const xmlChar *v = (const xmlChar *)"";
	const char *dot;
	int r;

	if (!t->self) {
		src = NULL;
		if (walk_path(t, 0, node, v_first, &src) < 0)
			return -1;
	}
	if (src != NULL && (v = string_value(src, &owned)) == NULL)
		return -1;
	dot = strchr((const char *)v, '.');
	r = (dot ? utf8_len(dot + 1) : 0) <= (size_t)t->max;
	xmlFree(owned);
	return r;
}

/* var_term: a CT_*VAR* term T at NODE when its variable holds a string: 1 / 0,
 * -1 error, -2 the variable is not a string (the caller uses the XPath). */
static int var_term(const struct cterm *t, xmlXPathContextPtr ctxt, xmlNodePtr node)
{
	xmlXPathObjectPtr o = xmlXPathVariableLookup(ctxt, (const xmlChar *)t->var);
	xmlNodePtr a;
	xmlChar *owned = NULL;
	const xmlChar *v = (const xmlChar *)"";
	char buf[128], *heap = NULL;
	const char *key;
	int r = -2;

	if (o == NULL || o->type != XPATH_STRING || o->stringval == NULL)
		goto out;
	if (t->kind == CT_VAR_EMPTY) {
		r = o->stringval[0] == '\0';
		goto out;
	}
	a = find_attr(node, t->attr);
	if (t->kind == CT_ATTR_EQ_VAR) {
		/* a node-set compared with a string: some node's value equals it */
		if (a == NULL) {
			r = 0;
			goto out;
		}
		if ((v = string_value(a, &owned)) == NULL) {
			r = -1;
			goto out;
		}
		r = xmlStrEqual(v, o->stringval);
		goto out;
	}
	if (a != NULL && (v = string_value(a, &owned)) == NULL) {
		r = -1;
		goto out;
	}
	if ((key = normalize(v, buf, sizeof(buf), &heap)) == NULL) {
		r = -1;
		goto out;
	}
	r = strcmp(key, (const char *)o->stringval) == 0;
out:
	free(heap);
	xmlFree(owned);
	xmlXPathFreeObject(o);
	return r;
}

/* term: one term at NODE: 1 / 0 / -1. */
static int term(const struct cterm *t, const struct engine__fnlib *lib, xmlXPathContextPtr ctxt,
		struct rules_eval *st, xmlNodePtr node)
{
	xmlXPathObjectPtr o;
	xmlNodePtr first = NULL;
	long left;
	int r;

	switch (t->kind) {
	case CT_EXISTS:
		return walk_path(t, 0, node, v_any, NULL);
	case CT_NOT:
		r = walk_path(t, 0, node, v_any, NULL);
		return r < 0 ? r : !r;
	case CT_NONEMPTY:
		return walk_path(t, 0, node, v_nonempty, NULL);
	case CT_COUNT_LE:
		left = t->max;
		r = walk_path(t, 0, node, v_count, &left);
		return r < 0 ? r : !r;
	case CT_NS_NONEMPTY:
		if (walk_path(t, 0, node, v_first, &first) < 0)
			return -1;
		if (first == NULL)
			return 0;
		{
			xmlChar *owned;
			const xmlChar *v = string_value(first, &owned);

			if (v == NULL)
				return -1;
			r = !blank(v);
			xmlFree(owned);
			return r;
		}
	case CT_CODELIST:
		return codelist(t, lib, node);
	case CT_ENDS_LOCAL:
		if (node->type != XML_ELEMENT_NODE && node->type != XML_ATTRIBUTE_NODE)
			break; /* other nodes: let XPath say what local-name() is */
		{
			size_t n = strlen((const char *)node->name), k = strlen(t->lit);
			return k <= n && memcmp(node->name + n - k, t->lit, k) == 0;
		}
	case CT_DEC_PLACES:
		return dec_places(t, node);
	case CT_VAR_EMPTY:
	case CT_ATTR_EQ_VAR:
	case CT_NSATTR_EQ_VAR:
		if ((r = var_term(t, ctxt, node)) != -2)
			return r;
		break; /* not a string: the term's XPath */
	case CT_XPATH:
		break;
	}
	if (t->comp == NULL)
		return -1; /* NEVER: every form that breaks out of the switch has its XPath */
	ctxt->node = node;
	ctxt->contextSize = 1;
	ctxt->proximityPosition = 1;
	st->current = node;
	if ((o = xmlXPathCompiledEval(t->comp, ctxt)) == NULL)
		return -1;
	r = xmlXPathCastToBoolean(o);
	xmlXPathFreeObject(o);
	return r;
}

/* engine__ctest_eval: the terms left to right until one is true (XPath "or"). */
int engine__ctest_eval(const struct ctest *t, const struct engine__fnlib *lib,
		       xmlXPathContextPtr ctxt, struct rules_eval *st, xmlNodePtr node)
{
	int i, r = 0;

	for (i = 0; i < t->n && r == 0; i++)
		r = term(&t->t[i], lib, ctxt, st, node);
	return r;
}
