/*
 * rules_match.c — fast matching of Schematron rule contexts: one walk over
 * the document finds the nodes of every rule whose context is a simple
 * match pattern, instead of one "//pattern" XPath evaluation per rule.
 *
 * Why: with libxml2 2.9, "//cbc:*[pred]" walks and merges node-sets for
 * every node of the document, tens to hundreds of microseconds per rule on
 * a 10 KB invoice; hundreds of rules cannot afford that. Official rule sets
 * use simple contexts (cac:InvoiceLine, cbc:*[@currencyID],
 * /ubl:Invoice/cac:TaxTotal[cac:TaxSubtotal], @schemeID ...).
 *
 * Functions:
 *   engine__match_compile()  parse a pattern into steps; 0 when it is not
 *                            simple (the caller then evaluates "//pattern")
 *   engine__match_index()    per rule set: which rules a node name may match
 *   engine__match_run()      one walk: the matched nodes per rule, in
 *                            document order (duplicates from unions removed)
 *
 * Simple pattern: branches separated by '|'; each branch an optional '/' or
 * '//', then steps separated by '/' or '//'; a step is an optional '@' (last
 * step only), a name test (name, prefix:name, prefix:* or *) and at most one
 * predicate without position() or last(). A predicate whose value is a
 * number is positional, as in XSLT: the node must be at that position among
 * its siblings that pass the name test. Two common predicates are decided in
 * C: [@name] and [secmx:ends-with(local-name(), 'lit')].
 * Everything else (axes, functions, "/", text(), several predicates) falls
 * back to XPath; tests check that both paths agree.
 *
 * Dispatch: an element or attribute finds the branches ending in its local
 * name through a hash table; wildcard branches are tried at every element
 * (or attribute), except a single absolute wildcard step, tried at the
 * document element only. Predicate results are remembered per (text, node)
 * for the length of one walk (struct memo), so a predicate repeated by
 * several rules costs one evaluation per node.
 *
 * Limits: a walk keeps its caches on the stack (about 22 KB: 256 predicate
 * results, 256 candidate keys, 1,024 candidates); beyond them it evaluates
 * or tries everything again, never less.
 *
 * Ownership: the matchers belong to their rule; the index to its rule set;
 * the lists of engine__match_run() to the caller (engine__mlists_free()).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules_int.h"


/* canon_uri: the set's first href equal to URI (so pointers compare), or NULL. */
static const xmlChar *canon_uri(const xmlNs *ns, int nns, const xmlChar *uri)
{
	int i;

	for (i = 0; uri != NULL && i < nns; i++)
		if (xmlStrEqual(ns[i].href, uri))
			return ns[i].href;
	return NULL;
}

static void conj_free(struct mstep *st);

/* branch_free: release a branch's steps; the struct is zeroed. */
static void branch_free(struct mbranch *b)
{
	int i;

	for (i = 0; i < b->n; i++) {
		free(b->steps[i].local);
		free(b->steps[i].pred_attr);
		free(b->steps[i].pred_suffix);
		free(b->steps[i].pred_src);
		xmlXPathFreeCompExpr(b->steps[i].pred);
		conj_free(&b->steps[i]);
	}
	free(b->steps);
	memset(b, 0, sizeof(*b));
}

/* engine__match_free: release a matcher (NULL accepted); the struct is zeroed. */
void engine__match_free(struct rmatch *m)
{
	int i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nbr; i++)
		branch_free(&m->br[i]);
	free(m->br);
	memset(m, 0, sizeof(*m));
}

/* fast_pred: recognise PRED as [@name] or [secmx:ends-with(local-name(), 'lit')]
 * and fill ST's C form; 0 (recognised or not) or SECMX_ENOMEM. */
static int fast_pred(const char *pred, struct mstep *st)
{
	static const char EW[] = "secmx:ends-with(";
	const char *p = pred, *n;
	char q;

	while (engine__ws(*p))
		p++;
	if (*p == '@' && engine__nstart((unsigned char)p[1])) {
		for (n = ++p; engine__nchar((unsigned char)*p); p++)
			;
		while (engine__ws(*p))
			p++;
		if (*p != '\0')
			return 0;
		for (p = n; engine__nchar((unsigned char)*p); p++)
			;
		return (st->pred_attr = strndup(n, (size_t)(p - n))) ? 0 : SECMX_ENOMEM;
	}
	if (strncmp(p, EW, sizeof(EW) - 1) != 0)
		return 0;
	p += sizeof(EW) - 1;
	while (engine__ws(*p))
		p++;
	if (strncmp(p, "local-name()", 12) != 0)
		return 0;
	for (p += 12; engine__ws(*p); p++)
		;
	if (*p++ != ',')
		return 0;
	while (engine__ws(*p))
		p++;
	if ((q = *p) != '\'' && q != '"')
		return 0;
	n = ++p;
	if ((p = strchr(p, q)) == NULL)
		return 0;
	{
		const char *e = p + 1;
		while (engine__ws(*e))
			e++;
		if (*e != ')')
			return 0;
		for (e++; engine__ws(*e); e++)
			;
		if (*e != '\0')
			return 0;
	}
	return (st->pred_suffix = strndup(n, (size_t)(p - n))) ? 0 : SECMX_ENOMEM;
}

/* ctx_free: does the expression SRC use no node at all (only variables,
 * literals, numbers, operators and a few context-free functions with
 * arguments)? Conservative: anything it does not know means "no". */
static int ctx_free(const char *src)
{
	static const char *const FN[] = {"not", "true", "false", "boolean", "contains",
					 "starts-with", "concat", NULL};
	const char *p = src;

	while (*p != '\0') {
		if (engine__ws(*p) || *p == '(' || *p == ')' || *p == ',' || *p == '=' || *p == '!' ||
		    *p == '<' || *p == '>' || *p == '+') {
			p++;
		} else if (*p == '\'' || *p == '"') {
			const char *q = strchr(p + 1, *p);
			if (q == NULL)
				return 0;
			p = q + 1;
		} else if (*p >= '0' && *p <= '9') {
			while ((*p >= '0' && *p <= '9') || *p == '.')
				p++;
		} else if (*p == '$' && engine__nstart((unsigned char)p[1])) {
			for (p++; engine__nchar((unsigned char)*p) || *p == ':'; p++)
				;
		} else if (engine__nstart((unsigned char)*p)) {
			const char *n = p;
			size_t len, i;
			int known = 0;

			while (engine__nchar((unsigned char)*p))
				p++;
			len = (size_t)(p - n);
			if ((len == 3 && strncmp(n, "and", 3) == 0) || (len == 2 && strncmp(n, "or", 2) == 0))
				continue;
			while (engine__ws(*p))
				p++;
			if (*p != '(')
				return 0; /* a name test: a node */
			for (i = 0; FN[i] != NULL && !known; i++)
				known = strlen(FN[i]) == len && strncmp(FN[i], n, len) == 0;
			if (!known)
				return 0;
		} else {
			return 0; /* '.', '@', '/', '*', '|', '-' ...: may be a node */
		}
	}
	return 1;
}

/* lit_end: P at a quote: the closing quote's position, or NULL. */
static const char *lit_end(const char *p)
{
	return (*p == '\'' || *p == '"') ? strchr(p + 1, *p) : NULL;
}

/* conj_form: recognise S (trimmed) as @name = 'lit' or normalize-space(p:name) = 'lit'
 * and fill C; 1 recognised, 0 not, SECMX_ENOMEM. */
static int conj_form(const char *s, const xmlNs *ns, int nns, struct mconj *c)
{
	static const char NS[] = "normalize-space(";
	const char *p = s, *n1, *n2 = NULL, *q;
	size_t l1, l2 = 0;

	if (*p == '@') {
		c->kind = MCONJ_ATTR_EQ;
		p++;
	} else if (strncmp(p, NS, sizeof(NS) - 1) == 0) {
		c->kind = MCONJ_CHILD_NS_EQ;
		for (p += sizeof(NS) - 1; engine__ws(*p); p++)
			;
	} else {
		return 0;
	}
	if (!engine__nstart((unsigned char)*p))
		return 0;
	for (n1 = p; engine__nchar((unsigned char)*p); p++)
		;
	l1 = (size_t)(p - n1);
	if (*p == ':') {
		int i;

		if (c->kind != MCONJ_CHILD_NS_EQ || !engine__nstart((unsigned char)p[1]))
			return 0;
		for (n2 = ++p; engine__nchar((unsigned char)*p); p++)
			;
		l2 = (size_t)(p - n2);
		for (i = 0; i < nns && c->uri == NULL; i++)
			if (xmlStrlen(ns[i].prefix) == (int)l1 &&
			    strncmp((const char *)ns[i].prefix, n1, l1) == 0)
				c->uri = canon_uri(ns, nns, ns[i].href);
		if (c->uri == NULL)
			return 0;
		n1 = n2;
		l1 = l2;
	}
	while (engine__ws(*p))
		p++;
	if (c->kind == MCONJ_CHILD_NS_EQ) {
		if (*p++ != ')')
			return 0;
		while (engine__ws(*p))
			p++;
	}
	if (*p++ != '=')
		return 0;
	while (engine__ws(*p))
		p++;
	if ((q = lit_end(p)) == NULL)
		return 0;
	for (n2 = q + 1; engine__ws(*n2); n2++)
		;
	if (*n2 != '\0')
		return 0;
	if ((c->name = strndup(n1, l1)) == NULL || (c->lit = strndup(p + 1, (size_t)(q - p - 1))) == NULL)
		return SECMX_ENOMEM;
	return 1;
}

/* conj_free: release the conjuncts of ST. */
static void conj_free(struct mstep *st)
{
	int i;

	for (i = 0; i < st->nconj; i++) {
		xmlXPathFreeCompExpr(st->conj[i].comp);
		free(st->conj[i].src);
		free(st->conj[i].name);
		free(st->conj[i].lit);
	}
	free(st->conj);
	st->conj = NULL;
	st->nconj = 0;
}

/* is_op: is the word [P, P+LEN) of S the operator LEN=2 "or" / LEN=3 "and"
 * (blank or a parenthesis on both sides)? */
static int is_op(const char *s, const char *p, size_t len)
{
	return p > s && (engine__ws(p[-1]) || p[-1] == ')') && (engine__ws(p[len]) || p[len] == '(');
}

/*
 * conj_compile: split ST's predicate PRED at top-level "and" into conjuncts
 * (none when there is a top-level "or", which binds weaker) and recognise C
 * forms. Leaves ST->nconj 0 when splitting gains nothing: a single conjunct
 * that is not a C form (then the predicate may be positional) or a piece
 * that does not compile on its own. 0 or SECMX_ENOMEM.
 */
static int conj_compile(const char *pred, const xmlNs *ns, int nns, struct mstep *st)
{
	const char *p, *start = pred;
	int depth = 0, rc = SECMX_OK;
	char quote = 0;

	for (p = pred;; p++) {
		int end = *p == '\0';

		if (!end && engine__nest(*p, &quote, &depth))
			continue;
		if (!end && depth == 0 && strncmp(p, "or", 2) == 0 && is_op(pred, p, 2))
			goto nosplit;
		if (end || (depth == 0 && strncmp(p, "and", 3) == 0 && is_op(pred, p, 3))) {
			const char *a = start, *b = p;
			struct mconj c, *nc;

			while (a < b && engine__ws(*a))
				a++;
			while (b > a && engine__ws(b[-1]))
				b--;
			memset(&c, 0, sizeof(c));
			if (a == b || (c.src = strndup(a, (size_t)(b - a))) == NULL) {
				rc = a == b ? SECMX_OK : SECMX_ENOMEM;
				goto fail;
			}
			if ((rc = conj_form(c.src, ns, nns, &c)) == 0) {
				free(c.name);
				free(c.lit);
				c.name = c.lit = NULL;
				c.uri = NULL;
				c.kind = MCONJ_XPATH;
				c.ctx_free = ctx_free(c.src);
				c.comp = xmlXPathCompile((const xmlChar *)c.src);
			}
			if (rc < 0 || (c.kind == MCONJ_XPATH && c.comp == NULL) ||
			    (nc = realloc(st->conj, (size_t)(st->nconj + 1) * sizeof(*nc))) == NULL) {
				xmlXPathFreeCompExpr(c.comp);
				free(c.src);
				free(c.name);
				free(c.lit);
				rc = rc < 0 || (c.kind == MCONJ_XPATH && c.comp == NULL) ? rc : SECMX_ENOMEM;
				goto fail;
			}
			st->conj = nc;
			st->conj[st->nconj++] = c;
			if (end)
				break;
			start = p + 3;
			p += 2;
		}
	}
	if (st->nconj == 1 && st->conj[0].kind == MCONJ_XPATH)
		goto nosplit;
	return SECMX_OK;
fail:
	conj_free(st);
	return rc < 0 ? rc : SECMX_OK;
nosplit:
	conj_free(st);
	return SECMX_OK;
}

/* parse_branch: one '|' branch [S, E); 1 simple, 0 not simple, SECMX_ENOMEM. */
static int parse_branch(const char *p, const char *e, const xmlNs *ns, int nns,
			struct mbranch *b)
{
	int desc = 0;

	while (p < e && engine__ws(*p))
		p++;
	while (e > p && engine__ws(e[-1]))
		e--;
	if (p == e)
		return 0;
	if (e - p >= 2 && p[0] == '/' && p[1] == '/') {
		p += 2;
	} else if (*p == '/') {
		b->absolute = 1;
		if (++p == e)
			return 0; /* "/": the document node */
	}
	for (;;) {
		struct mstep st;
		const char *n1, *n2 = NULL;
		size_t l1 = 0, l2 = 0;

		memset(&st, 0, sizeof(st));
		st.desc = desc;
		while (p < e && engine__ws(*p))
			p++;
		if (p < e && *p == '@') {
			st.attr = 1;
			p++;
		}
		if (p < e && *p == '*') {
			st.any_ns = 1;
			p++;
		} else if (p < e && engine__nstart((unsigned char)*p)) {
			for (n1 = p; p < e && engine__nchar((unsigned char)*p); p++)
				;
			l1 = (size_t)(p - n1);
			if (p + 1 < e && *p == ':' && p[1] != ':') {
				p++;
				if (*p == '*') {
					p++;
				} else if (engine__nstart((unsigned char)*p)) {
					for (n2 = p; p < e && engine__nchar((unsigned char)*p); p++)
						;
					l2 = (size_t)(p - n2);
				} else {
					return 0;
				}
				/* prefix n1 */
				{
					int i;
					const xmlChar *u = NULL;
					for (i = 0; i < nns && u == NULL; i++)
						if (xmlStrlen(ns[i].prefix) == (int)l1 &&
						    strncmp((const char *)ns[i].prefix, n1, l1) == 0)
							u = ns[i].href;
					if (u == NULL)
						return 0;
					st.uri = canon_uri(ns, nns, u);
				}
				if (n2 == NULL) {
					n1 = NULL; /* prefix:* */
				} else {
					n1 = n2;
					l1 = l2;
				}
			}
			/* An unprefixed name means "no namespace" in XPath 1.0: uri NULL. */
			if (n1 != NULL && (st.local = strndup(n1, l1)) == NULL)
				return SECMX_ENOMEM;
		} else {
			return 0;
		}
		while (p < e && engine__ws(*p))
			p++;
		if (p < e && (*p == '(' || *p == ':')) {
			free(st.local);
			return 0; /* a function, node-type test or axis */
		}
		if (p < e && *p == '[') {
			const char *q = ++p;
			int depth = 1;
			char quote = 0, *pred;

			for (; p < e && depth > 0; p++) {
				if (quote) {
					if (*p == quote)
						quote = 0;
				} else if (*p == '\'' || *p == '"') {
					quote = *p;
				} else if (*p == '[') {
					depth++;
				} else if (*p == ']') {
					depth--;
				}
			}
			if (depth != 0 || (pred = strndup(q, (size_t)(p - 1 - q))) == NULL) {
				free(st.local);
				return depth != 0 ? 0 : SECMX_ENOMEM;
			}
			if (strstr(pred, "position(") == NULL && strstr(pred, "last(") == NULL)
				st.pred = xmlXPathCompile((const xmlChar *)pred);
			if (st.pred != NULL && fast_pred(pred, &st) < 0) {
				free(pred);
				free(st.local);
				xmlXPathFreeCompExpr(st.pred);
				return SECMX_ENOMEM;
			}
			if (st.pred == NULL) {
				free(pred);
				free(st.local);
				return 0;
			}
			st.pred_src = pred; /* the step owns it now */
			st.pred_ctx_free = ctx_free(pred);
			if (st.pred_attr == NULL && st.pred_suffix == NULL &&
			    conj_compile(pred, ns, nns, &st) < 0) {
				free(st.local);
				free(st.pred_src);
				xmlXPathFreeCompExpr(st.pred);
				return SECMX_ENOMEM;
			}
			while (p < e && engine__ws(*p))
				p++;
			if (p < e && *p == '[') {
				free(st.local);
				free(st.pred_attr);
				free(st.pred_suffix);
				free(st.pred_src);
				xmlXPathFreeCompExpr(st.pred);
				conj_free(&st);
				return 0; /* several predicates */
			}
		}
		{
			struct mstep *ns2 = realloc(b->steps, (size_t)(b->n + 1) * sizeof(*ns2));
			if (ns2 == NULL) {
				free(st.local);
				free(st.pred_attr);
				free(st.pred_suffix);
				free(st.pred_src);
				xmlXPathFreeCompExpr(st.pred);
				conj_free(&st);
				return SECMX_ENOMEM;
			}
			b->steps = ns2;
			b->steps[b->n++] = st;
		}
		while (p < e && engine__ws(*p))
			p++;
		if (p == e)
			return 1;
		if (st.attr)
			return 0; /* an attribute has no children */
		if (e - p >= 2 && p[0] == '/' && p[1] == '/') {
			desc = 1;
			p += 2;
		} else if (*p == '/') {
			desc = 0;
			p++;
		} else {
			return 0;
		}
	}
}

/* engine__match_compile: split PAT at top-level '|' and parse each branch. */
int engine__match_compile(const char *pat, const xmlNs *ns, int nns, struct rmatch *m)
{
	const char *p = pat, *start = pat;
	int depth = 0, rc;
	char quote = 0;

	memset(m, 0, sizeof(*m));
	for (;; p++) {
		if (*p == '\0' || (*p == '|' && depth == 0 && !quote)) {
			struct mbranch b, *nb;

			memset(&b, 0, sizeof(b));
			rc = parse_branch(start, p, ns, nns, &b);
			if (rc <= 0 || (nb = realloc(m->br, (size_t)(m->nbr + 1) * sizeof(*nb))) == NULL) {
				branch_free(&b);
				engine__match_free(m);
				return rc < 0 ? rc : rc == 0 ? 0 : SECMX_ENOMEM;
			}
			m->br = nb;
			m->br[m->nbr++] = b;
			if (*p == '\0')
				return 1;
			start = p + 1;
			continue;
		}
		if (quote) {
			if (*p == quote)
				quote = 0;
		} else if (*p == '\'' || *p == '"') {
			quote = *p;
		} else if (*p == '[' || *p == '(') {
			depth++;
		} else if (*p == ']' || *p == ')') {
			depth--;
		}
	}
}

/* ---- index ---- */

/* cmp_pname: order optional names (NULL first). */
static int cmp_pname(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a != NULL) - (b != NULL);
	return strcmp(a, b);
}

/* cmp_disp: order dispatch entries by local name, parent name, then rule and branch. */
static int cmp_disp(const void *a, const void *b)
{
	const struct mdisp *x = a, *y = b;
	int c = strcmp(x->local, y->local);

	if (c == 0)
		c = cmp_pname(x->plocal, y->plocal);
	if (c != 0)
		return c;
	if (x->rule != y->rule)
		return x->rule < y->rule ? -1 : 1;
	return (x->branch > y->branch) - (x->branch < y->branch);
}

/* disp_add: append D to *ARR. */
static int disp_add(struct mdisp **arr, size_t *n, struct mdisp d)
{
	struct mdisp *na = realloc(*arr, (*n + 1) * sizeof(*na));

	if (na == NULL)
		return SECMX_ENOMEM;
	*arr = na;
	(*arr)[(*n)++] = d;
	return SECMX_OK;
}

/* name_hash: FNV-1a of the NUL-terminated NAME. */
static size_t name_hash(const char *name)
{
	uint32_t h = 2166136261u;

	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 16777619u;
	return h;
}

/* pair_hash: the hash of NAME under PNAME (NULL: NAME alone). */
static size_t pair_hash(const char *name, const char *pname)
{
	return pname ? name_hash(name) * 31u + name_hash(pname) : name_hash(name);
}

/* hash_build: a slot per distinct (name, parent name) of the sorted D[0..N); *CAP a power of two. */
static int hash_build(const struct mdisp *d, size_t n, struct mslot **tab, size_t *cap)
{
	size_t i, j, c = 8;

	*tab = NULL;
	*cap = 0;
	if (n == 0)
		return SECMX_OK;
	while (c < 2 * n)
		c *= 2;
	if ((*tab = calloc(c, sizeof(**tab))) == NULL)
		return SECMX_ENOMEM;
	*cap = c;
	for (i = 0; i < n; i = j) {
		size_t h = pair_hash(d[i].local, d[i].plocal) & (c - 1);

		for (j = i + 1; j < n && strcmp(d[j].local, d[i].local) == 0 &&
				cmp_pname(d[j].plocal, d[i].plocal) == 0;
		     j++)
			;
		while ((*tab)[h].name != NULL)
			h = (h + 1) & (c - 1);
		(*tab)[h].name = d[i].local;
		(*tab)[h].pname = d[i].plocal;
		(*tab)[h].lo = i;
		(*tab)[h].hi = j;
	}
	return SECMX_OK;
}

/* hash_find: the slot for NAME (under PNAME, or NULL) in TAB (CAP slots), or NULL. */
static const struct mslot *hash_find(const struct mslot *tab, size_t cap, const char *name,
				     const char *pname)
{
	size_t h;

	if (cap == 0)
		return NULL;
	for (h = pair_hash(name, pname) & (cap - 1); tab[h].name != NULL; h = (h + 1) & (cap - 1))
		if (strcmp(tab[h].name, name) == 0 && cmp_pname(tab[h].pname, pname) == 0)
			return &tab[h];
	return NULL;
}

/* text_id: the index of TEXT in *SEEN (N used), appending it when new; -1 when out of memory. */
static int text_id(const char ***seen, size_t *n, const char *text)
{
	const char **ns;
	size_t k;

	for (k = 0; k < *n; k++)
		if (strcmp((*seen)[k], text) == 0)
			return (int)k;
	if ((ns = realloc(*seen, (*n + 1) * sizeof(*ns))) == NULL)
		return -1;
	*seen = ns;
	ns[*n] = text;
	return (int)(*n)++;
}

/*
 * number_preds: give steps with the same predicate text the same pred_id,
 * and conjuncts with the same text the same id, in a separate range (a whole
 * predicate may be positional, a conjunct never is). The number of ids, or
 * SECMX_ENOMEM.
 */
static int number_preds(struct rmatch *const *m, size_t nrules)
{
	const char **pseen = NULL, **cseen = NULL;
	size_t r, np = 0, nc = 0;
	int b, i, j, rc = SECMX_OK;

	for (r = 0; r < nrules; r++)
		for (b = 0; m[r] != NULL && b < m[r]->nbr; b++)
			for (i = 0; i < m[r]->br[b].n; i++) {
				struct mstep *st = &m[r]->br[b].steps[i];

				st->pred_id = -1;
				if (st->pred_src != NULL && (st->pred_id = text_id(&pseen, &np, st->pred_src)) < 0)
					rc = SECMX_ENOMEM;
			}
	for (r = 0; r < nrules && rc >= 0; r++)
		for (b = 0; m[r] != NULL && b < m[r]->nbr; b++)
			for (i = 0; i < m[r]->br[b].n; i++)
				for (j = 0; j < m[r]->br[b].steps[i].nconj; j++) {
					struct mconj *c = &m[r]->br[b].steps[i].conj[j];
					int id = text_id(&cseen, &nc, c->src);

					if (id < 0)
						rc = SECMX_ENOMEM;
					c->id = (int)np + id;
				}
	free(pseen);
	free(cseen);
	return rc < 0 ? rc : (int)(np + nc);
}

/* engine__match_index: sort the rules' final name tests for the walk. */
int engine__match_index(struct mindex *ix, struct rmatch *const *m, size_t nrules)
{
	size_t r;
	int b, rc = SECMX_OK;

	memset(ix, 0, sizeof(*ix));
	for (r = 0; r < nrules && rc >= 0; r++) {
		for (b = 0; m[r] != NULL && b < m[r]->nbr && rc >= 0; b++) {
			const struct mbranch *br = &m[r]->br[b];
			const struct mstep *last = &br->steps[br->n - 1];
			const struct mstep *up = br->n >= 2 ? &br->steps[br->n - 2] : NULL;
			struct mdisp d = {last->local, NULL, r, b};

			if (!last->attr && last->local != NULL && up != NULL && !last->desc &&
			    up->local != NULL) {
				d.plocal = up->local; /* a child of a named step */
				rc = disp_add(&ix->pnamed, &ix->npnamed, d);
			} else if (last->attr && last->local != NULL)
				rc = disp_add(&ix->attrs, &ix->nattrs, d);
			else if (last->attr)
				rc = disp_add(&ix->wattrs, &ix->nwattrs, d);
			else if (last->local != NULL)
				rc = disp_add(&ix->named, &ix->nnamed, d);
			else if (br->absolute && br->n == 1)
				rc = disp_add(&ix->root, &ix->nroot, d); /* only the document element */
			else
				rc = disp_add(&ix->wild, &ix->nwild, d);
		}
	}
	if (rc >= 0 && ix->nnamed > 1)
		qsort(ix->named, ix->nnamed, sizeof(*ix->named), cmp_disp);
	if (rc >= 0 && ix->npnamed > 1)
		qsort(ix->pnamed, ix->npnamed, sizeof(*ix->pnamed), cmp_disp);
	if (rc >= 0 && ix->nattrs > 1)
		qsort(ix->attrs, ix->nattrs, sizeof(*ix->attrs), cmp_disp);
	if (rc >= 0)
		rc = hash_build(ix->named, ix->nnamed, &ix->hnamed, &ix->hnamed_cap);
	if (rc >= 0)
		rc = hash_build(ix->pnamed, ix->npnamed, &ix->hpnamed, &ix->hpnamed_cap);
	if (rc >= 0)
		rc = hash_build(ix->attrs, ix->nattrs, &ix->hattrs, &ix->hattrs_cap);
	if (rc >= 0 && (rc = number_preds(m, nrules)) >= 0) {
		ix->npreds = rc;
		rc = SECMX_OK;
	}
	if (rc < 0)
		engine__match_index_free(ix);
	return rc;
}

/* engine__match_index_free: release an index; the struct is zeroed. */
void engine__match_index_free(struct mindex *ix)
{
	free(ix->named);
	free(ix->pnamed);
	free(ix->hpnamed);
	free(ix->wild);
	free(ix->attrs);
	free(ix->wattrs);
	free(ix->root);
	free(ix->hnamed);
	free(ix->hattrs);
	memset(ix, 0, sizeof(*ix));
}

/* ---- the walk ---- */

/*
 * The walk remembers predicate results per (predicate text, node): the same
 * text at the same node gives the same value within one walk (same context
 * node, position 1 of 1, same current(), the set's namespaces and global
 * variables, which do not change during the walk, and side-effect-free
 * functions). Official rule sets repeat predicates across rules
 * ([normalize-space(cbc:ChargeIndicator) = 'false' ...]). A full table just
 * stops remembering; numeric (positional) results are never remembered,
 * because their meaning depends on the step's name test.
 */
#define MEMO_SLOTS 256
#define MEMO_MAX (MEMO_SLOTS * 3 / 4)

struct memo {
	const void *node;       /* NULL: empty */
	int id;
	int val;
};

/*
 * Elements with the same name and namespace pointers, under a parent with the
 * same name and namespace pointers (libxml2 interns names in the document's
 * dictionary), have the same candidate branches: those of the name's hash
 * slots (NAMED; PNAMED when the parent's name test passes too) and the
 * wildcards whose final name test, and final C-decided suffix predicate,
 * they pass. The walk computes that list once per distinct key and keeps it
 * for the document; a full table or list falls back to trying every entry.
 */
#define NCACHE_SLOTS 256
#define NCACHE_MAX (NCACHE_SLOTS * 3 / 4)
#define NCAND_MAX 1024

struct ncache {
	const xmlChar *name;    /* NULL: empty */
	const xmlNs *ns;
	const xmlChar *pname;   /* the parent element's, or NULL */
	const xmlNs *pns;
	unsigned lo, n;         /* its candidates: cand[lo .. lo + n) */
};

struct walk {
	struct rmatch *const *m;
	const xmlNs *ns;
	int nns;
	xmlXPathContextPtr ctxt;
	struct rules_eval *st;
	struct mlist *lists;
	/* a small cache: document xmlNs -> the set's canonical href (or NULL) */
	const xmlNs *seen[16];
	const xmlChar *canon[16];
	int nseen;
	struct memo memo[MEMO_SLOTS];
	int nmemo;
	int check;              /* ENGINE_CFG_RULES_CHECK_FAST */
	struct ncache nc[NCACHE_SLOTS];
	int nnc;
	unsigned ncand;
	const struct mdisp *cand[NCAND_MAX]; /* last: not cleared per walk */
};

/* memo_slot: the slot of (NODE, ID): its entry, or the empty slot where it would go. */
static struct memo *memo_slot(struct walk *w, const void *node, int id)
{
	size_t h = (((uintptr_t)node >> 4) * 31u + (size_t)id) & (MEMO_SLOTS - 1);

	while (w->memo[h].node != NULL && (w->memo[h].node != node || w->memo[h].id != id))
		h = (h + 1) & (MEMO_SLOTS - 1);
	return &w->memo[h];
}

/* node_uri: the canonical namespace of NODE for pointer comparison ("" if unknown to the set). */
static const xmlChar *node_uri(struct walk *w, xmlNodePtr node)
{
	static const xmlChar other[] = "";
	const xmlNs *n = node->ns;
	const xmlChar *c;
	int i;

	if (n == NULL)
		return NULL;
	for (i = 0; i < w->nseen; i++)
		if (w->seen[i] == n)
			return w->canon[i];
	c = canon_uri(w->ns, w->nns, n->href);
	if (c == NULL)
		c = other;
	if (w->nseen < 16) {
		w->seen[w->nseen] = n;
		w->canon[w->nseen++] = c;
	}
	return c;
}

/* name_ok: does NODE pass the name test of ST (no predicate)? */
static int name_ok(struct walk *w, const struct mstep *st, xmlNodePtr node)
{
	if (node == NULL || node->type != (st->attr ? XML_ATTRIBUTE_NODE : XML_ELEMENT_NODE))
		return 0;
	if (st->local != NULL && strcmp((const char *)node->name, st->local) != 0)
		return 0;
	if (st->any_ns && st->local == NULL && st->uri == NULL)
		return 1; /* "*" */
	return node_uri(w, node) == st->uri;
}

/* memo_get: the remembered value of ID at NODE (or for the whole walk when CTX_FREE):
 * 0/1, or -1 with *SLOT where to store it (NULL: the table is full). */
static int memo_get(struct walk *w, const void *node, int id, int ctx_free, struct memo **slot)
{
	struct memo *m = memo_slot(w, ctx_free ? (const void *)w : node, id);

	*slot = NULL;
	if (m->node != NULL)
		return m->val;
	if (w->nmemo < MEMO_MAX)
		*slot = m;
	return -1;
}

/* memo_put: remember VAL for ID at NODE (or the whole walk) in SLOT (NULL: not at all). */
static void memo_put(struct walk *w, struct memo *slot, const void *node, int id, int ctx_free,
		     int val)
{
	if (slot == NULL)
		return;
	slot->node = ctx_free ? (const void *)w : node;
	slot->id = id;
	slot->val = val;
	w->nmemo++;
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

/* ns_equal: normalize-space(S) = LIT, without building the normalised string. */
static int ns_equal(const xmlChar *s, const char *lit)
{
	const char *l = lit;
	int gap = 0;

	while (engine__ws((char)*s))
		s++;
	for (; *s; s++) {
		if (engine__ws((char)*s)) {
			gap = 1;
			continue;
		}
		if (gap && *l++ != ' ')
			return 0;
		gap = 0;
		if (*l++ != (char)*s)
			return 0;
	}
	return *l == '\0';
}

/* conj_c: a C-form conjunct C at NODE: 1 true, 0 false, -1 out of memory. */
static int conj_c(struct walk *w, const struct mconj *c, xmlNodePtr node)
{
	xmlNodePtr k = NULL;
	const xmlChar *v;
	xmlChar *owned;
	int r;

	if (node->type != XML_ELEMENT_NODE)
		return c->kind == MCONJ_CHILD_NS_EQ && c->lit[0] == '\0'; /* no attributes, no children */
	if (c->kind == MCONJ_ATTR_EQ) {
		xmlAttrPtr a;

		for (a = node->properties; a != NULL; a = a->next)
			if (a->ns == NULL && strcmp((const char *)a->name, c->name) == 0)
				break;
		if (a == NULL)
			return 0;
		if ((v = string_value((xmlNodePtr)a, &owned)) == NULL)
			return -1;
		r = strcmp((const char *)v, c->lit) == 0;
		xmlFree(owned);
		return r;
	}
	for (k = node->children; k != NULL; k = k->next)
		if (k->type == XML_ELEMENT_NODE && strcmp((const char *)k->name, c->name) == 0 &&
		    node_uri(w, k) == c->uri)
			break;
	if (k == NULL)
		return c->lit[0] == '\0';
	if ((v = string_value(k, &owned)) == NULL)
		return -1;
	r = ns_equal(v, c->lit);
	xmlFree(owned);
	return r;
}

/* pred_xpath: ST's predicate evaluated as XPath at NODE, as a whole: 1 / 0 / -1. */
static int pred_xpath(struct walk *w, const struct mstep *st, xmlNodePtr node, int *num)
{
	xmlXPathObjectPtr o;
	int r;

	w->ctxt->node = node;
	w->ctxt->contextSize = 1;
	w->ctxt->proximityPosition = 1;
	w->st->current = node;
	*num = 0;
	if ((o = xmlXPathCompiledEval(st->pred, w->ctxt)) == NULL)
		return -1;
	if (o->type == XPATH_NUMBER) {
		/* Positional, as in XSLT: the position among siblings passing the name test. */
		xmlNodePtr s;
		double pos = 1;

		for (s = node->prev; s != NULL; s = s->prev)
			if (name_ok(w, st, s))
				pos++;
		r = o->floatval == pos;
		*num = 1;
	} else {
		r = xmlXPathCastToBoolean(o);
	}
	xmlXPathFreeObject(o);
	return r;
}

/* pred_fast: ST's predicate at NODE by the cheapest sound way: 1 / 0 / -1. */
static int pred_fast(struct walk *w, const struct mstep *st, xmlNodePtr node)
{
	struct memo *slot;
	int i, r, num;

	if (st->pred_attr != NULL)
		return node->type == XML_ELEMENT_NODE &&
		       xmlHasNsProp(node, (const xmlChar *)st->pred_attr, NULL) != NULL;
	if (st->pred_suffix != NULL) {
		size_t n = strlen((const char *)node->name), k = strlen(st->pred_suffix);
		return k <= n && memcmp(node->name + n - k, st->pred_suffix, k) == 0;
	}
	if ((r = memo_get(w, node, st->pred_id, st->pred_ctx_free, &slot)) >= 0)
		return r;
	if (st->nconj == 0) {
		/* Numeric (positional) results depend on the name test: never shared. */
		if ((r = pred_xpath(w, st, node, &num)) >= 0 && !num)
			memo_put(w, slot, node, st->pred_id, st->pred_ctx_free, r);
		return r;
	}
	/* "A and B and ...": left to right, stopping at the first false, as XPath does. */
	for (i = 0, r = 1; i < st->nconj && r == 1; i++) {
		const struct mconj *c = &st->conj[i];
		struct memo *cs;
		xmlXPathObjectPtr o;

		if (c->kind != MCONJ_XPATH) {
			r = conj_c(w, c, node);
			continue;
		}
		if ((r = memo_get(w, node, c->id, c->ctx_free, &cs)) >= 0)
			continue;
		w->ctxt->node = node;
		w->ctxt->contextSize = 1;
		w->ctxt->proximityPosition = 1;
		w->st->current = node;
		if ((o = xmlXPathCompiledEval(c->comp, w->ctxt)) == NULL)
			return -1;
		r = xmlXPathCastToBoolean(o);
		xmlXPathFreeObject(o);
		memo_put(w, cs, node, c->id, c->ctx_free, r);
	}
	if (r >= 0)
		memo_put(w, slot, node, st->pred_id, st->pred_ctx_free, r);
	return r;
}

/* pred_ok: 1 when NODE passes ST's predicate, 0 when not, -1 when it failed.
 * In check mode the plain evaluation must agree with the fast one. */
static int pred_ok(struct walk *w, const struct mstep *st, xmlNodePtr node)
{
	int r, plain, num;

	if (st->pred == NULL)
		return 1;
	r = pred_fast(w, st, node);
	if (!w->check)
		return r;
	if ((plain = pred_xpath(w, st, node, &num)) != r) {
		snprintf(w->st->fn_err, sizeof(w->st->fn_err),
			 "the walk's fast predicate [%s] gave %d, plain XPath %d", st->pred_src, r,
			 plain);
		return -1;
	}
	return r;
}

/* match_up: NODE passed the name test of step I of BR; check steps 0..I-1 above it
 * and the predicates. 1 / 0, -1 when a predicate failed to evaluate. */
static int match_up(struct walk *w, const struct mbranch *br, int i, xmlNodePtr node)
{
	const struct mstep *st = &br->steps[i];
	xmlNodePtr up = node->parent;
	int r = 0;

	if (i == 0) {
		r = !br->absolute || (up != NULL && up->type == XML_DOCUMENT_NODE);
	} else if (!st->desc) {
		r = name_ok(w, &br->steps[i - 1], up) ? match_up(w, br, i - 1, up) : 0;
	} else {
		for (; up != NULL && up->type == XML_ELEMENT_NODE && r == 0; up = up->parent)
			if (name_ok(w, &br->steps[i - 1], up))
				r = match_up(w, br, i - 1, up);
	}
	if (r == 1)
		r = pred_ok(w, st, node);
	return r;
}

/* list_add: append NODE to L unless it was just appended (a union's other branch). */
static int list_add(struct mlist *l, xmlNodePtr node)
{
	if (l->n > 0 && l->v[l->n - 1] == node)
		return SECMX_OK; /* another branch of the same union matched it */
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 8;
		xmlNodePtr *nv = realloc(l->v, nc * sizeof(*nv));
		if (nv == NULL)
			return SECMX_ENOMEM;
		l->v = nv;
		l->cap = nc;
	}
	l->v[l->n++] = node;
	return SECMX_OK;
}

/* name_pass: does NODE pass D's final name test and (outside check mode) its
 * final suffix predicate? Both depend on NODE's name and namespace only. */
static int name_pass(struct walk *w, const struct mdisp *d, xmlNodePtr node)
{
	const struct mbranch *br = &w->m[d->rule]->br[d->branch];
	const struct mstep *last = &br->steps[br->n - 1];

	/* A cheap refusal first: the final step's C-decided predicate (which
	 * match_up would test last) fails, so the branch cannot match here.
	 * Check mode skips this so every predicate is still compared. */
	if (!w->check && last->pred_suffix != NULL) {
		size_t n = strlen((const char *)node->name), k = strlen(last->pred_suffix);

		if (k > n || memcmp(node->name + n - k, last->pred_suffix, k) != 0)
			return 0;
	}
	return name_ok(w, last, node);
}

/* try_named: entry D against NODE, which passed name_pass(D). */
static int try_named(struct walk *w, const struct mdisp *d, xmlNodePtr node)
{
	const struct mbranch *br = &w->m[d->rule]->br[d->branch];
	const struct mstep *last = &br->steps[br->n - 1];
	int r;

	if (!w->check && last->pred_attr != NULL && node->properties == NULL)
		return SECMX_OK; /* [@a] without attributes */
	r = match_up(w, br, br->n - 1, node);
	if (r < 0) {
		w->lists[d->rule].err = 1;
		return SECMX_OK;
	}
	return r ? list_add(&w->lists[d->rule], node) : SECMX_OK;
}

/* try: dispatch entry D against NODE. */
static int try(struct walk *w, const struct mdisp *d, xmlNodePtr node)
{
	return name_pass(w, d, node) ? try_named(w, d, node) : SECMX_OK;
}

/* parent_pass: does the element PARENT pass the name test of the step before D's last? */
static int parent_pass(struct walk *w, const struct mdisp *d, xmlNodePtr parent)
{
	const struct mbranch *br = &w->m[d->rule]->br[d->branch];

	return parent != NULL && name_ok(w, &br->steps[br->n - 2], parent);
}

/* candidates: the cache entry of NODE's key (see struct ncache), computed on
 * first sight; NULL when the cache is full (the caller tries every entry). */
static const struct ncache *candidates(struct walk *w, const struct mindex *ix, xmlNodePtr node)
{
	xmlNodePtr up = node->parent && node->parent->type == XML_ELEMENT_NODE ? node->parent : NULL;
	const xmlChar *pname = up ? up->name : NULL;
	const xmlNs *pns = up ? up->ns : NULL;
	size_t h = (((uintptr_t)node->name >> 3) ^ ((uintptr_t)node->ns >> 4) ^
		    ((uintptr_t)pname >> 5) ^ ((uintptr_t)pns >> 6)) & (NCACHE_SLOTS - 1);
	const struct mslot *sl;
	unsigned start = w->ncand;
	size_t i;

	while (w->nc[h].name != NULL && (w->nc[h].name != node->name || w->nc[h].ns != node->ns ||
					 w->nc[h].pname != pname || w->nc[h].pns != pns))
		h = (h + 1) & (NCACHE_SLOTS - 1);
	if (w->nc[h].name != NULL)
		return &w->nc[h];
	if (w->nnc >= NCACHE_MAX)
		return NULL;
	sl = up ? hash_find(ix->hpnamed, ix->hpnamed_cap, (const char *)node->name,
			    (const char *)pname) : NULL;
	for (i = sl ? sl->lo : 0; sl != NULL && i < sl->hi; i++)
		if (name_pass(w, &ix->pnamed[i], node) && parent_pass(w, &ix->pnamed[i], up)) {
			if (w->ncand == NCAND_MAX)
				goto full;
			w->cand[w->ncand++] = &ix->pnamed[i];
		}
	sl = hash_find(ix->hnamed, ix->hnamed_cap, (const char *)node->name, NULL);
	for (i = sl ? sl->lo : 0; sl != NULL && i < sl->hi; i++)
		if (name_pass(w, &ix->named[i], node)) {
			if (w->ncand == NCAND_MAX)
				goto full;
			w->cand[w->ncand++] = &ix->named[i];
		}
	for (i = 0; i < ix->nwild; i++)
		if (name_pass(w, &ix->wild[i], node)) {
			if (w->ncand == NCAND_MAX)
				goto full;
			w->cand[w->ncand++] = &ix->wild[i];
		}
	w->nc[h].name = node->name;
	w->nc[h].ns = node->ns;
	w->nc[h].pname = pname;
	w->nc[h].pns = pns;
	w->nc[h].lo = start;
	w->nc[h].n = w->ncand - start;
	w->nnc++;
	return &w->nc[h];
full:
	w->ncand = start;
	return NULL;
}

/* visit: one element and its attributes (ROOT: NODE is the document element). */
static int visit(struct walk *w, const struct mindex *ix, xmlNodePtr node, int root)
{
	const struct ncache *c = candidates(w, ix, node);
	const struct mslot *sl;
	xmlAttrPtr a;
	size_t i;
	int rc = SECMX_OK;

	/* Each node is visited once, in document order, so every rule's list
	 * stays in document order whatever the order of the entries tried. */
	for (i = 0; c != NULL && i < c->n && rc >= 0; i++)
		rc = try_named(w, w->cand[c->lo + i], node);
	if (c == NULL) {
		sl = hash_find(ix->hnamed, ix->hnamed_cap, (const char *)node->name, NULL);
		for (i = sl ? sl->lo : 0; sl != NULL && i < sl->hi && rc >= 0; i++)
			rc = try(w, &ix->named[i], node);
		for (i = 0; i < ix->nwild && rc >= 0; i++)
			rc = try(w, &ix->wild[i], node);
		if (node->parent != NULL && node->parent->type == XML_ELEMENT_NODE)
			sl = hash_find(ix->hpnamed, ix->hpnamed_cap, (const char *)node->name,
				       (const char *)node->parent->name);
		else
			sl = NULL;
		for (i = sl ? sl->lo : 0; sl != NULL && i < sl->hi && rc >= 0; i++)
			rc = try(w, &ix->pnamed[i], node);
	}
	for (i = 0; root && i < ix->nroot && rc >= 0; i++)
		rc = try(w, &ix->root[i], node);
	if (ix->nattrs + ix->nwattrs == 0)
		return rc;
	for (a = node->properties; a != NULL && rc >= 0; a = a->next) {
		sl = hash_find(ix->hattrs, ix->hattrs_cap, (const char *)a->name, NULL);
		for (i = sl ? sl->lo : 0; sl != NULL && i < sl->hi && rc >= 0; i++)
			rc = try(w, &ix->attrs[i], (xmlNodePtr)a);
		for (i = 0; i < ix->nwattrs && rc >= 0; i++)
			rc = try(w, &ix->wattrs[i], (xmlNodePtr)a);
	}
	return rc;
}

/* walk_from: one pre-order walk of the elements of TOP's subtree (TOP
 * included; ROOT: TOP is the document element) dispatching each to its rules. */
static int walk_from(const struct mindex *ix, struct rmatch *const *m, const xmlNs *ns, int nns,
		     xmlNodePtr top, int root, xmlXPathContextPtr ctxt, struct rules_eval *st,
		     struct mlist *lists, int check)
{
	struct walk w;
	xmlNodePtr cur = top;
	int rc = SECMX_OK;

	memset(&w, 0, offsetof(struct walk, cand));
	w.m = m;
	w.ns = ns;
	w.nns = nns;
	w.ctxt = ctxt;
	w.st = st;
	w.lists = lists;
	w.check = check;
	if (ix->nnamed + ix->npnamed + ix->nwild + ix->nattrs + ix->nwattrs + ix->nroot == 0)
		return SECMX_OK;
	/* Iterative pre-order walk over the elements: document order. */
	while (cur != NULL && rc >= 0) {
		xmlNodePtr next;

		rc = visit(&w, ix, cur, root && cur == top);
		for (next = cur->children; next && next->type != XML_ELEMENT_NODE; next = next->next)
			;
		if (next == NULL) {
			for (;;) {
				if (cur == top)
					break;
				for (next = cur->next; next && next->type != XML_ELEMENT_NODE;
				     next = next->next)
					;
				if (next != NULL || cur->parent == NULL ||
				    cur->parent->type != XML_ELEMENT_NODE || cur->parent == top)
					break;
				cur = cur->parent;
			}
		}
		cur = next;
	}
	return rc;
}

/* engine__match_run: one walk of DOC's elements dispatching each to its rules. */
int engine__match_run(const struct mindex *ix, struct rmatch *const *m, const xmlNs *ns, int nns,
		      xmlDocPtr doc, xmlXPathContextPtr ctxt, struct rules_eval *st,
		      struct mlist *lists, int check)
{
	return walk_from(ix, m, ns, nns, xmlDocGetRootElement(doc), 1, ctxt, st, lists, check);
}

/* engine__match_run_sub: see rules_int.h. */
int engine__match_run_sub(const struct mindex *ix, struct rmatch *const *m, const xmlNs *ns,
			  int nns, xmlNodePtr top, xmlXPathContextPtr ctxt, struct rules_eval *st,
			  struct mlist *lists, int check)
{
	return walk_from(ix, m, ns, nns, top, 0, ctxt, st, lists, check);
}

/* engine__mlists_free: see rules_int.h. */
void engine__mlists_free(struct mlist *lists, size_t n)
{
	size_t i;

	for (i = 0; lists != NULL && i < n; i++)
		free(lists[i].v);
	free(lists);
}
