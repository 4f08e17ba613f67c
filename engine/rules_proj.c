/*
 * rules_proj.c — rules: what a rule expression can read, for the
 * large-document mode (docs/memory.md "Large-document mode").
 *
 * engine__proj_analyse() parses one XPath 1.0 expression (or Schematron
 * match pattern) of a rule set into a small syntax tree and follows its
 * location paths from a starting place, in one of two questions:
 *   PROJ_Q_LINE  may it be evaluated at a node inside an invoice line while
 *                only that line and the header are complete? It must not
 *                read another line, nor the string value of the root: only
 *                downward paths, upward steps followed by named child steps
 *                that do not name a line, and absolute paths through named
 *                header children.
 *   PROJ_Q_PROJ  does it give the same value over a tree whose lines keep
 *                only some elements (a projection by names)? Every step that
 *                may enter a line must test a name (no wildcard, node() or
 *                comment()); the names are collected: PRESENT (the element
 *                must exist) or FULL (its string value is used, so its whole
 *                subtree must be kept).
 * Anything the analysis does not understand is answered "no" (conservative):
 * the caller then evaluates the rule over the whole tree.
 *
 * Functions (rules_int.h): engine__proj_analyse() (an expression),
 * engine__proj_pattern() (a match pattern's steps and predicates),
 * engine__proj_is_line_name(), engine__proj_names_free().
 * Errors: 1 yes, 0 no (also for anything not understood), SECMX_ENOMEM.
 * Ownership: the syntax tree lives in an arena allocated and freed inside
 * the call; names are copied into the caller's struct engine__proj_names
 * (freed with engine__proj_names_free). Limits: PROJ_NODES nodes and
 * PROJ_STEPS steps per path, PROJ_ARGS arguments, PROJ_PREDS predicates per
 * step, names under PROJ_NAME bytes; anything larger is answered "no".
 */
#include <stdlib.h>
#include <string.h>

#include "rules_int.h"

#define PROJ_NODES 768
#define PROJ_STEPS 24
#define PROJ_ARGS 8
#define PROJ_PREDS 4
#define PROJ_NAME 96

enum axis {
	AX_CHILD,
	AX_DESC,
	AX_DESC_SELF,
	AX_SELF,
	AX_ATTR,
	AX_PARENT,
	AX_ANC,
	AX_ANC_SELF,
	AX_FSIB,
	AX_PSIB,
	AX_FOLL,
	AX_PREC,
	AX_NS
};
enum ntest { NT_NAME, NT_NSWILD, NT_WILD, NT_NODE, NT_TEXT, NT_OTHER };
enum akind { K_BOOL, K_VAL2, K_NEG, K_UNION, K_PATH, K_FUNC, K_VAR, K_LIT };

struct astep {
	enum axis axis;
	enum ntest test;
	char local[PROJ_NAME]; /* NT_NAME: the local name; NT_NSWILD: the prefix */
	struct anode *pred[PROJ_PREDS];
	int npred;
};

struct anode {
	enum akind kind;
	struct anode *l, *r;  /* K_BOOL, K_VAL2, K_NEG (l), K_UNION */
	char name[PROJ_NAME]; /* K_FUNC (as written, prefix kept), K_VAR */
	struct anode *arg[PROJ_ARGS];
	int narg;
	int abs;              /* K_PATH: 0 relative, 1 "/" */
	struct anode *filter; /* K_PATH: primary expression it starts from, or NULL */
	struct anode *fpred[PROJ_PREDS];
	int nfpred;
	struct astep *steps;
	int nsteps;
};

/* The tokenizer and parser state over one expression. */
struct parser {
	const char *s;
	struct anode nodes[PROJ_NODES];
	int nn;
	struct astep steps[PROJ_NODES];
	int ns;
	int bad;
};

/* skip_ws: past XML whitespace in the input. */
static void skip_ws(struct parser *p)
{
	while (engine__ws((unsigned char)*p->s))
		p->s++;
}

/* new_node: a zeroed node of kind K from the arena (NULL and P->bad when full). */
static struct anode *new_node(struct parser *p, enum akind k)
{
	struct anode *n;

	if (p->nn >= PROJ_NODES) {
		p->bad = 1;
		return NULL;
	}
	n = &p->nodes[p->nn++];
	memset(n, 0, sizeof(*n));
	n->kind = k;
	return n;
}

/* name_len: length of an NCName at S (0 if none). */
static size_t name_len(const char *s)
{
	size_t n = 0;

	if (!engine__nstart((unsigned char)s[0]))
		return 0;
	while (engine__nchar((unsigned char)s[n]))
		n++;
	return n;
}

/* peek: does the input continue with the literal T (after blanks)? */
static int peek(struct parser *p, const char *t)
{
	skip_ws(p);
	return strncmp(p->s, t, strlen(t)) == 0;
}

/* eat: consume the literal T (after blanks) if the input continues with it. */
static int eat(struct parser *p, const char *t)
{
	if (!peek(p, t))
		return 0;
	p->s += strlen(t);
	return 1;
}

/* eat_word: an operator name (and, or, div, mod) as a whole word. */
static int eat_word(struct parser *p, const char *w)
{
	size_t n = strlen(w);

	skip_ws(p);
	if (strncmp(p->s, w, n) != 0 || engine__nchar((unsigned char)p->s[n]) || p->s[n] == ':')
		return 0;
	p->s += n;
	return 1;
}

static struct anode *parse_expr(struct parser *p);

/* scan_qname: the NCName, QName or prefix:* at S: its length (0: none),
 * the local part's offset in *LOCAL, *NSWILD for prefix:*. */
static size_t scan_qname(const char *s, size_t *local, int *nswild)
{
	size_t n = name_len(s);

	*local = 0;
	*nswild = 0;
	if (n == 0)
		return 0;
	if (s[n] == ':' && s[n + 1] == '*') {
		*nswild = 1;
		return n + 2;
	}
	if (s[n] == ':' && s[n + 1] != ':' && name_len(s + n + 1) > 0) {
		*local = n + 1;
		return n + 1 + name_len(s + n + 1);
	}
	return n;
}

/* put_name: N bytes of S into OUT (PROJ_NAME bytes); too long marks P bad. */
static void put_name(char *out, const char *s, size_t n, struct parser *p)
{
	if (n >= PROJ_NAME) {
		p->bad = 1;
		n = PROJ_NAME - 1;
	}
	memcpy(out, s, n);
	out[n] = '\0';
}

static const struct {
	const char *name;
	enum axis axis;
} AXES[] = {
    {"child", AX_CHILD},
    {"descendant", AX_DESC},
    {"descendant-or-self", AX_DESC_SELF},
    {"self", AX_SELF},
    {"attribute", AX_ATTR},
    {"parent", AX_PARENT},
    {"ancestor", AX_ANC},
    {"ancestor-or-self", AX_ANC_SELF},
    {"following-sibling", AX_FSIB},
    {"preceding-sibling", AX_PSIB},
    {"following", AX_FOLL},
    {"preceding", AX_PREC},
    {"namespace", AX_NS},
};

/* parse_preds: predicates after a step or primary expression. */
static int parse_preds(struct parser *p, struct anode **pred, int *npred)
{
	while (!p->bad && eat(p, "[")) {
		struct anode *e = parse_expr(p);

		if (e == NULL || !eat(p, "]") || *npred >= PROJ_PREDS) {
			p->bad = 1;
			return -1;
		}
		pred[(*npred)++] = e;
	}
	return p->bad ? -1 : 0;
}

/* parse_step: one step (".", "..", "@x", "axis::test", "test") into ST. */
static int parse_step(struct parser *p, struct astep *st)
{
	size_t n, local;
	int nswild;

	memset(st, 0, sizeof(*st));
	skip_ws(p);
	if (eat(p, "..")) {
		st->axis = AX_PARENT;
		st->test = NT_NODE;
		return 0;
	}
	if (p->s[0] == '.' && !(p->s[1] >= '0' && p->s[1] <= '9')) {
		p->s++;
		st->axis = AX_SELF;
		st->test = NT_NODE;
		return 0;
	}
	st->axis = AX_CHILD;
	if (eat(p, "@")) {
		st->axis = AX_ATTR;
	} else if ((n = name_len(p->s)) > 0) {
		const char *q = p->s + n;
		size_t i;

		while (engine__ws((unsigned char)*q))
			q++;
		if (q[0] == ':' && q[1] == ':') {
			for (i = 0; i < sizeof(AXES) / sizeof(AXES[0]); i++)
				if (strlen(AXES[i].name) == n &&
				    strncmp(AXES[i].name, p->s, n) == 0)
					break;
			if (i == sizeof(AXES) / sizeof(AXES[0]))
				return p->bad = 1, -1;
			st->axis = AXES[i].axis;
			p->s = q + 2;
		}
	}
	skip_ws(p);
	if (eat(p, "*")) {
		st->test = NT_WILD;
	} else if ((n = scan_qname(p->s, &local, &nswild)) > 0) {
		const char *q = p->s + n;

		while (engine__ws((unsigned char)*q))
			q++;
		if (!nswild && local == 0 && *q == '(') {
			/* node type test */
			if (n == 4 && strncmp(p->s, "node", 4) == 0)
				st->test = NT_NODE;
			else if (n == 4 && strncmp(p->s, "text", 4) == 0)
				st->test = NT_TEXT;
			else
				st->test = NT_OTHER;
			p->s = q + 1;
			skip_ws(p);
			if (*p->s == '\'' || *p->s == '"') {
				char qc = *p->s++;
				while (*p->s && *p->s != qc)
					p->s++;
				if (*p->s)
					p->s++;
			}
			if (!eat(p, ")"))
				return p->bad = 1, -1;
		} else if (nswild) {
			st->test = NT_NSWILD;
			put_name(st->local, p->s, n - 2, p);
			p->s += n;
		} else {
			st->test = NT_NAME;
			put_name(st->local, p->s + local, n - local, p);
			p->s += n;
		}
	} else {
		return p->bad = 1, -1;
	}
	return parse_preds(p, st->pred, &st->npred);
}

/* starts_step: can the input begin a step? */
static int starts_step(struct parser *p)
{
	skip_ws(p);
	return p->s[0] == '.' || p->s[0] == '@' || p->s[0] == '*' ||
	       engine__nstart((unsigned char)p->s[0]);
}

/* A step's predicates and a nested path's steps must not interleave with
 * the outer path's steps in the arena: paths collect their steps in a local
 * buffer first and are copied at the end. */
static struct anode *parse_path(struct parser *p)
{
	struct anode *n = new_node(p, K_PATH);
	struct astep local[PROJ_STEPS];
	int nl = 0, i;
	size_t len, lpos;
	int nswild;

	if (n == NULL)
		return NULL;
	skip_ws(p);
	/* Filter expression start: $var, literal, number, (expr), function call. */
	if (*p->s == '$') {
		struct anode *v = new_node(p, K_VAR);
		p->s++;
		len = scan_qname(p->s, &lpos, &nswild);
		if (v == NULL || len == 0)
			return p->bad = 1, NULL;
		put_name(v->name, p->s, len, p);
		p->s += len;
		n->filter = v;
	} else if (*p->s == '\'' || *p->s == '"') {
		char q = *p->s++;
		while (*p->s && *p->s != q)
			p->s++;
		if (*p->s == '\0')
			return p->bad = 1, NULL;
		p->s++;
		n->filter = new_node(p, K_LIT);
	} else if ((*p->s >= '0' && *p->s <= '9') ||
	           (*p->s == '.' && p->s[1] >= '0' && p->s[1] <= '9')) {
		while ((*p->s >= '0' && *p->s <= '9') || *p->s == '.')
			p->s++;
		n->filter = new_node(p, K_LIT);
	} else if (*p->s == '(') {
		p->s++;
		n->filter = parse_expr(p);
		if (!eat(p, ")"))
			return p->bad = 1, NULL;
	} else if ((len = scan_qname(p->s, &lpos, &nswild)) > 0 && !nswild) {
		const char *q = p->s + len;
		int is_type =
		    lpos == 0 &&
		    ((len == 4 && (!strncmp(p->s, "node", 4) || !strncmp(p->s, "text", 4))) ||
		     (len == 7 && !strncmp(p->s, "comment", 7)) ||
		     (len == 22 && !strncmp(p->s, "processing-instruction", 22)));
		while (engine__ws((unsigned char)*q))
			q++;
		if (*q == '(' && !is_type) {
			struct anode *f = new_node(p, K_FUNC);
			if (f == NULL)
				return NULL;
			put_name(f->name, p->s, len, p);
			p->s = q + 1;
			if (!eat(p, ")")) {
				do {
					if (f->narg >= PROJ_ARGS)
						return p->bad = 1, NULL;
					if ((f->arg[f->narg++] = parse_expr(p)) == NULL)
						return NULL;
				} while (eat(p, ","));
				if (!eat(p, ")"))
					return p->bad = 1, NULL;
			}
			n->filter = f;
		}
	}
	if (n->filter != NULL) {
		if (parse_preds(p, n->fpred, &n->nfpred) < 0)
			return NULL;
		if (peek(p, "//")) {
			p->s += 2;
			memset(&local[nl], 0, sizeof(local[nl]));
			local[nl].axis = AX_DESC_SELF;
			local[nl++].test = NT_NODE;
		} else if (peek(p, "/")) {
			p->s += 1;
		} else {
			return n;
		}
	} else if (peek(p, "//")) {
		p->s += 2;
		n->abs = 1;
		memset(&local[nl], 0, sizeof(local[nl]));
		local[nl].axis = AX_DESC_SELF;
		local[nl++].test = NT_NODE;
	} else if (peek(p, "/")) {
		p->s += 1;
		n->abs = 1;
		if (!starts_step(p))
			return n; /* "/" alone: the document node */
	}
	for (;;) {
		if (nl >= PROJ_STEPS - 1 || parse_step(p, &local[nl]) < 0)
			return p->bad = 1, NULL;
		nl++;
		if (peek(p, "//")) {
			p->s += 2;
			memset(&local[nl], 0, sizeof(local[nl]));
			local[nl].axis = AX_DESC_SELF;
			local[nl++].test = NT_NODE;
			continue;
		}
		if (peek(p, "/")) {
			p->s += 1;
			continue;
		}
		break;
	}
	if (p->ns + nl > PROJ_NODES)
		return p->bad = 1, NULL;
	n->steps = &p->steps[p->ns];
	for (i = 0; i < nl; i++)
		p->steps[p->ns + i] = local[i];
	p->ns += nl;
	n->nsteps = nl;
	return n;
}

/* parse_union: PathExpr ('|' PathExpr)*. */
static struct anode *parse_union(struct parser *p)
{
	struct anode *l = parse_path(p);

	while (l != NULL && !p->bad && eat(p, "|")) {
		struct anode *u = new_node(p, K_UNION);
		if (u == NULL)
			return NULL;
		u->l = l;
		if ((u->r = parse_path(p)) == NULL)
			return NULL;
		l = u;
	}
	return l;
}

/* parse_unary: '-'* UnionExpr. */
static struct anode *parse_unary(struct parser *p)
{
	if (eat(p, "-")) {
		struct anode *n = new_node(p, K_NEG);
		if (n == NULL || (n->l = parse_unary(p)) == NULL)
			return NULL;
		return n;
	}
	return parse_union(p);
}

/* parse_bin: left-associative binary levels; LEVEL 0 or, 1 and, 2 = !=, 3 < >,
 * 4 + -, 5 * div mod. */
static struct anode *parse_bin(struct parser *p, int level)
{
	struct anode *l = level == 6 ? parse_unary(p) : parse_bin(p, level + 1);

	while (l != NULL && !p->bad) {
		int ok;

		switch (level) {
		case 0:
			ok = eat_word(p, "or");
			break;
		case 1:
			ok = eat_word(p, "and");
			break;
		case 2:
			ok = eat(p, "!=") || eat(p, "=");
			break;
		case 3:
			ok = eat(p, "<=") || eat(p, ">=") || eat(p, "<") || eat(p, ">");
			break;
		case 4:
			ok = eat(p, "+") || eat(p, "-");
			break;
		case 5:
			ok = eat(p, "*") || eat_word(p, "div") || eat_word(p, "mod");
			break;
		default:
			ok = 0;
			break;
		}
		if (!ok)
			return l;
		{
			struct anode *b = new_node(p, level <= 1 ? K_BOOL : K_VAL2);
			if (b == NULL)
				return NULL;
			b->l = l;
			if ((b->r = level == 6 ? parse_unary(p) : parse_bin(p, level + 1)) == NULL)
				return NULL;
			l = b;
		}
	}
	return l;
}

/* parse_expr: an XPath 1.0 Expr (NULL when not understood). */
static struct anode *parse_expr(struct parser *p)
{
	if (p->bad)
		return NULL;
	return parse_bin(p, 0);
}

/* ---- analysis ---- */

enum st { S_BAD = -1, S_DOC, S_UP, S_LOC, S_ANY, S_ANYUN, S_LEAF, S_DPEND };

struct an {
	int q; /* PROJ_Q_LINE or PROJ_Q_PROJ */
	struct engine__proj_names *names;
	enum st ctx; /* what current() is */
	const char *ctx_name;
	int bad;
	int (*var)(void *arg, const char *name);
	void *var_arg;
};

static const char *const LINE_NAMES[] = {"InvoiceLine", "CreditNoteLine"};

/* engine__proj_is_line_name: is LOCAL the local name of an invoice line? */
int engine__proj_is_line_name(const char *local)
{
	size_t i;

	for (i = 0; i < sizeof(LINE_NAMES) / sizeof(LINE_NAMES[0]); i++)
		if (strcmp(local, LINE_NAMES[i]) == 0)
			return 1;
	return 0;
}

/* root_name: may an element named LOCAL be a document element? */
static int root_name(const char *local)
{
	size_t i;

	for (i = 0; i < engine_doctype_count(); i++)
		if (strcmp(engine_doctype_at(i)->name, local) == 0)
			return 1;
	return 0;
}

/* name_add: S into the set *V (*N entries) unless there; -1 when out of memory. */
static int name_add(char ***v, size_t *n, const char *s)
{
	size_t i;
	char **nv, *c;

	for (i = 0; i < *n; i++)
		if (strcmp((*v)[i], s) == 0)
			return 0;
	if ((c = strdup(s)) == NULL || (nv = realloc(*v, (*n + 1) * sizeof(*nv))) == NULL) {
		free(c);
		return -1;
	}
	nv[(*n)++] = c;
	*v = nv;
	return 0;
}

/* need: record LOCAL as a name the projection keeps (FULL: with its subtree). */
static void need(struct an *a, const char *local, int full)
{
	if (a->q != PROJ_Q_PROJ || a->names == NULL)
		return;
	if (name_add(full ? &a->names->full : &a->names->present,
	             full ? &a->names->nfull : &a->names->npresent, local) < 0)
		a->bad = 1;
}

/* escape: a step that may enter a line: a "no" for the line question, a
 * named step (its name kept) for the projection question. */
static enum st escape(struct an *a, const struct astep *s)
{
	if (a->q == PROJ_Q_LINE || s->test != NT_NAME)
		return S_BAD;
	need(a, s->local, 0);
	return S_ANY;
}

/* step: the state after step S taken from state FROM. */
static enum st step(struct an *a, enum st from, const struct astep *s)
{
	int up = s->axis == AX_PARENT || s->axis == AX_ANC || s->axis == AX_ANC_SELF;
	int side =
	    s->axis == AX_FSIB || s->axis == AX_PSIB || s->axis == AX_FOLL || s->axis == AX_PREC;

	if (s->axis == AX_NS || s->test == NT_OTHER)
		return S_BAD;
	switch (from) {
	case S_DOC:
		if (s->axis == AX_SELF)
			return S_DOC;
		if (s->axis == AX_CHILD &&
		    (s->test == NT_NAME || s->test == NT_WILD || s->test == NT_NSWILD))
			return S_UP;
		if (s->axis == AX_DESC_SELF && s->test == NT_NODE)
			return S_DPEND;
		if (s->axis == AX_DESC)
			return escape(a, s);
		return S_BAD;
	case S_UP:
		if (s->axis == AX_SELF)
			return S_UP;
		if (up)
			return S_UP;
		if (s->axis == AX_ATTR)
			return S_LOC;
		/* Text children of the document element: those after the lines
		 * are not parsed yet when a line is checked. */
		if (s->axis == AX_CHILD && s->test == NT_TEXT)
			return a->q == PROJ_Q_LINE ? S_BAD : S_LOC;
		if (s->axis == AX_CHILD && s->test == NT_NAME) {
			if (engine__proj_is_line_name(s->local))
				return escape(a, s);
			return root_name(s->local) ? S_UP : S_LOC;
		}
		if (s->axis == AX_DESC_SELF && s->test == NT_NODE)
			return a->q == PROJ_Q_LINE ? S_BAD : S_DPEND;
		if (s->axis == AX_DESC || side)
			return escape(a, s);
		return S_BAD;
	case S_LOC:
		if (up)
			return S_UP;
		if (side)
			return escape(a, s);
		return S_LOC;
	case S_DPEND:
		if (s->axis == AX_CHILD)
			return escape(a, s);
		return S_BAD;
	case S_ANY:
	case S_ANYUN:
	case S_LEAF:
		if (s->axis == AX_ATTR || (s->axis == AX_CHILD && s->test == NT_TEXT))
			return S_LEAF;
		if (s->axis == AX_SELF && s->test == NT_NODE)
			return from;
		if (s->axis == AX_PARENT && s->test == NT_NODE)
			return S_ANYUN;
		if (s->axis == AX_DESC_SELF && s->test == NT_NODE)
			return S_DPEND;
		if (s->test == NT_NAME) {
			need(a, s->local, 0);
			return S_ANY;
		}
		return S_BAD;
	default:
		return S_BAD;
	}
}

static void expr(struct an *a, const struct anode *n, enum st ctx, const char *ctx_name, int val);

/* selfval: the string value of the context node (state CTX, named NAME) is read. */
static void selfval(struct an *a, enum st ctx, const char *name)
{
	if (ctx == S_LOC || ctx == S_LEAF)
		return;
	if (ctx == S_ANY && name != NULL) {
		if (*name)
			need(a, name, 1);
		return;
	}
	a->bad = 1;
}

/* final: a path ending in state ST (last name NAME) whose value is used (VAL). */
static void final(struct an *a, enum st st, const char *name, int val)
{
	if (st == S_BAD || st == S_DPEND) {
		a->bad = 1;
		return;
	}
	if (!val)
		return;
	selfval(a, st, name);
}

/* fn_is: is NAME (as written) the function WANT, unprefixed or secmx:? */
static int fn_is(const char *name, const char *want)
{
	const char *c = strchr(name, ':');

	return strcmp(c ? c + 1 : name, want) == 0 &&
	       (c == NULL || strncmp(name, "secmx:", 6) == 0);
}

/* func: a function call F evaluated at CTX. Returns the state its node-set
 * result starts from (for F(...)/steps). */
static enum st func(struct an *a, const struct anode *f, enum st ctx, const char *ctx_name)
{
	int i, nset = fn_is(f->name, "count") || fn_is(f->name, "boolean") ||
	              fn_is(f->name, "not") || fn_is(f->name, "name") ||
	              fn_is(f->name, "local-name") || fn_is(f->name, "namespace-uri") ||
	              fn_is(f->name, "exists") || fn_is(f->name, "empty");

	if (fn_is(f->name, "id") || fn_is(f->name, "key") || fn_is(f->name, "document") ||
	    fn_is(f->name, "unparsed-entity-uri") || fn_is(f->name, "lang")) {
		a->bad = 1;
		return S_BAD;
	}
	if (fn_is(f->name, "current"))
		return a->ctx;
	if (f->narg == 0 && (fn_is(f->name, "string") || fn_is(f->name, "normalize-space") ||
	                     fn_is(f->name, "string-length") || fn_is(f->name, "number")))
		selfval(a, ctx, ctx_name);
	if (strncmp(f->name, "secmx:", 6) == 0 && fn_is(f->name, "empty-leaves")) {
		/* Reads the whole subtree of its argument: for a line, that line;
		 * projections keep every empty leaf and mark pruned elements. */
		if (a->q == PROJ_Q_PROJ && a->names)
			a->names->keep_empty = 1;
		for (i = 0; i < f->narg; i++)
			expr(a, f->arg[i], ctx, ctx_name, a->q == PROJ_Q_LINE);
		return S_ANYUN;
	}
	for (i = 0; i < f->narg; i++)
		expr(a, f->arg[i], ctx, ctx_name, !nset);
	return a->q == PROJ_Q_LINE ? S_UP : S_ANYUN;
}

/* path: a location path or filter expression N at CTX; VAL: its value is used. */
static void path(struct an *a, const struct anode *n, enum st ctx, const char *ctx_name, int val)
{
	enum st st;
	const char *name = ctx_name;
	int i, k;

	if (n->filter != NULL) {
		const struct anode *f = n->filter;

		if (f->kind == K_LIT) {
			st = S_LOC;
			name = NULL;
		} else if (f->kind == K_VAR) {
			if (a->var && a->var(a->var_arg, f->name) < 0)
				a->bad = 1;
			st = a->q == PROJ_Q_LINE ? S_UP : S_ANYUN;
			name = NULL;
		} else if (f->kind == K_FUNC) {
			st = func(a, f, ctx, ctx_name);
			name = st == a->ctx ? a->ctx_name : NULL;
		} else {
			expr(a, f, ctx, ctx_name, val && n->nsteps == 0);
			st = a->q == PROJ_Q_LINE ? S_UP : S_ANYUN;
			name = NULL;
		}
		for (i = 0; i < n->nfpred; i++)
			expr(a, n->fpred[i], st, NULL, 0);
		/* Without steps, the value is the function's, the literal's or
		 * the variable's: the let behind a variable is analysed on its own
		 * as a used value. */
		if (n->nsteps == 0)
			return;
	} else if (n->abs) {
		st = S_DOC;
		name = NULL;
	} else {
		st = ctx;
	}
	for (k = 0; k < n->nsteps && !a->bad; k++) {
		const struct astep *s = &n->steps[k];

		st = step(a, st, s);
		if (st == S_BAD) {
			a->bad = 1;
			return;
		}
		if (s->axis == AX_SELF && s->test == NT_NODE)
			; /* "." keeps the node and its name */
		else if (st == S_ANY && s->test == NT_NAME)
			name = s->local;
		else
			name = NULL;
		for (i = 0; i < s->npred; i++)
			expr(a, s->pred[i], st, name, 0);
	}
	if (n->nsteps == 0 && n->abs) {
		final(a, S_DOC, NULL, val);
		return;
	}
	final(a, st, name, val);
}

/* expr: expression N at CTX (named CTX_NAME); VAL: its value is used as a
 * string or number (else only as a node-set or boolean). */
static void expr(struct an *a, const struct anode *n, enum st ctx, const char *ctx_name, int val)
{
	if (n == NULL || a->bad) {
		a->bad = 1;
		return;
	}
	switch (n->kind) {
	case K_BOOL:
		expr(a, n->l, ctx, ctx_name, 0);
		expr(a, n->r, ctx, ctx_name, 0);
		break;
	case K_VAL2:
		expr(a, n->l, ctx, ctx_name, 1);
		expr(a, n->r, ctx, ctx_name, 1);
		break;
	case K_NEG:
		expr(a, n->l, ctx, ctx_name, 1);
		break;
	case K_UNION:
		expr(a, n->l, ctx, ctx_name, val);
		expr(a, n->r, ctx, ctx_name, val);
		break;
	case K_PATH:
		path(a, n, ctx, ctx_name, val);
		break;
	case K_FUNC:
		func(a, n, ctx, ctx_name);
		break;
	case K_VAR:
		if (a->var && a->var(a->var_arg, n->name) < 0)
			a->bad = 1;
		break;
	case K_LIT:
		break;
	}
}

/* an_init: a fresh analysis with Q's question, names and variables. */
static void an_init(struct an *a, const struct engine__proj_q *q)
{
	memset(a, 0, sizeof(*a));
	a->q = q->q;
	a->names = q->names;
	a->var = q->var;
	a->var_arg = q->var_arg;
}

/* engine__proj_analyse: see rules_int.h. */
int engine__proj_analyse(const char *src, const struct engine__proj_q *q)
{
	struct parser *p = calloc(1, sizeof(*p));
	struct anode *n;
	struct an a;
	int ok;

	if (p == NULL)
		return SECMX_ENOMEM;
	an_init(&a, q);
	a.ctx = (enum st)q->start;
	a.ctx_name = q->start_name;
	p->s = src;
	n = parse_expr(p);
	skip_ws(p);
	if (n == NULL || p->bad || *p->s != '\0') {
		free(p);
		return 0;
	}
	expr(&a, n, (enum st)q->start, q->start_name, q->val);
	ok = !a.bad;
	free(p);
	return ok;
}

/* common_prefix: does PREFIX name one of UBL's common-component namespaces
 * (cbc, cac, ext, ...), where no document element lives? */
static int common_prefix(const struct engine__proj_q *q, const char *prefix)
{
	int i;

	for (i = 0; i < q->nns; i++)
		if (q->ns[i].prefix != NULL && strcmp((const char *)q->ns[i].prefix, prefix) == 0)
			return q->ns[i].href != NULL &&
			       strncmp((const char *)q->ns[i].href, NS_UBL_PREFIX "Common",
			               strlen(NS_UBL_PREFIX "Common")) == 0;
	return 0;
}

/* engine__proj_pattern: see rules_int.h. */
int engine__proj_pattern(const char *src, const struct engine__proj_q *q, int *root_only,
                         int *may_root)
{
	struct parser *p = calloc(1, sizeof(*p));
	const struct anode *br[64];
	struct anode *n;
	struct an a;
	int nb = 0, i, k, j, ok;

	if (p == NULL)
		return SECMX_ENOMEM;
	an_init(&a, q);
	a.ctx = S_UP;
	*root_only = 1;
	*may_root = 0;
	p->s = src;
	n = parse_expr(p);
	skip_ws(p);
	if (n == NULL || p->bad || *p->s != '\0') {
		free(p);
		return 0;
	}
	/* the branches of the union */
	{
		const struct anode *stack[64];
		int ns = 0;
		stack[ns++] = n;
		while (ns > 0 && nb < 64) {
			const struct anode *t = stack[--ns];
			if (t->kind == K_UNION && ns < 62) {
				stack[ns++] = t->r;
				stack[ns++] = t->l;
			} else {
				br[nb++] = t;
			}
		}
	}
	for (i = 0; i < nb && !a.bad; i++) {
		const struct anode *b = br[i];
		const struct astep *ls =
		    b->kind == K_PATH && b->nsteps > 0 ? &b->steps[b->nsteps - 1] : NULL;
		/* the branch matches only the document element */
		int only = ls != NULL && b->filter == NULL &&
		           ((b->abs && b->nsteps == 1) ||
		            (ls->axis == AX_CHILD && ls->test == NT_NAME && root_name(ls->local)));

		if (b->kind != K_PATH || b->filter != NULL || b->nsteps == 0) {
			a.bad = 1;
			break;
		}
		if (!only)
			*root_only = 0;
		for (k = 0; k < b->nsteps && !a.bad; k++) {
			const struct astep *s = &b->steps[k];
			int last = k == b->nsteps - 1, first, can_root, is_root;
			enum st at;

			if (s->axis == AX_DESC_SELF && s->test == NT_NODE)
				continue;
			if (s->axis != AX_CHILD && s->axis != AX_ATTR) {
				a.bad = 1;
				break;
			}
			/* The first step of a relative branch (or the one after a
			 * leading "//") matches at any depth; an absolute first step
			 * is the document element. Elements with a document type's
			 * name occur only as the document element (the caller checks
			 * that while parsing). */
			first = k == 0 || (k == 1 && b->steps[0].axis == AX_DESC_SELF);
			is_root = b->abs && k == 0;
			can_root =
			    is_root ||
			    (s->axis == AX_CHILD &&
			     ((first && (s->test == NT_WILD ||
			                 (s->test == NT_NSWILD && !common_prefix(q, s->local)))) ||
			      (s->test == NT_NAME && root_name(s->local))));
			if (last && can_root)
				*may_root = 1;
			if (q->q == PROJ_Q_PROJ && q->start == S_ANY && !only && !is_root) {
				/* any node of the pattern may be in a line: the projection
				 * keeps it, and the context with its subtree */
				if (s->test == NT_NAME)
					need(&a, s->local, last);
				else if (s->axis != AX_ATTR)
					a.bad = 1;
			}
			if (s->axis == AX_ATTR)
				at = S_LEAF;
			else if (can_root)
				at = S_UP;
			else if (q->q == PROJ_Q_PROJ && q->start == S_ANY)
				at = S_ANY;
			else
				at = S_LOC;
			for (j = 0; j < s->npred && !a.bad; j++)
				expr(&a, s->pred[j], at, at == S_ANY ? s->local : NULL, 0);
		}
	}
	ok = !a.bad;
	free(p);
	return ok;
}

/* engine__proj_names_free: release what NAMES holds (not NAMES itself). */
void engine__proj_names_free(struct engine__proj_names *names)
{
	size_t i;

	for (i = 0; i < names->nfull; i++)
		free(names->full[i]);
	for (i = 0; i < names->npresent; i++)
		free(names->present[i]);
	free(names->full);
	free(names->present);
	memset(names, 0, sizeof(*names));
}
