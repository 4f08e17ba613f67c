/*
 * txn_match.c — the three-way match of a business transaction: document
 * summaries (lines, quantities, unit prices, totals) and the comparison of
 * the order, the receipt and the invoices of one transaction.
 *
 * Functions (txn_int.h): engine__txn_summary, engine__txn_match,
 * engine__txn_dec_ok.
 *
 * Lines are matched to order lines by cac:OrderLineReference/cbc:LineID
 * (the order's cac:LineItem/cbc:ID), falling back to an item identifier
 * (sellers', buyers' or standard) shared with the order line. Checks, with
 * the tolerances of struct engine_txn_tolerance:
 *   SECMX-MATCH-LINE-MISSING  an invoice or receipt line not on the order;
 *                             an invoiced line on no receipt (three-way)
 *   SECMX-MATCH-PRICE         invoice unit price vs the order's
 *   SECMX-MATCH-QTY           invoiced <= received <= ordered (three-way);
 *                             invoiced <= ordered (two-way)
 *   SECMX-MATCH-TOTAL         the invoice's net line total vs its lines at
 *                             order prices
 *   SECMX-MATCH-VALUE         a quantity or amount that is not a decimal
 * Quantities add up over every invoice (credit notes subtract) and every
 * receipt of the transaction. The receipt is the ReceiptAdvice documents
 * (received minus rejected quantity); without any, the DespatchAdvice
 * documents (delivered quantity) stand in, and the match says so.
 *
 * Arithmetic is exact decimal (rules_int.h's helpers on 128-bit integers);
 * an amount out of their range is a SECMX-MATCH-VALUE finding.
 * Ownership: summaries and findings are new JSON the caller releases.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdint.h>

#include "rules_int.h"
#include "txn_int.h"

/* ---- summaries ---- */

/* path_text: the trimmed text of the first element the child path EXPR
 * selects from NODE (malloc'd), or NULL. */
static char *path_text(xmlNodePtr node, const char *expr)
{
	return engine__text(engine__path_first(node, expr));
}

/* set_text: set KEY of O to the text EXPR selects from NODE, if any. */
static int set_text(json_t *o, const char *key, xmlNodePtr node, const char *expr)
{
	char *t = path_text(node, expr);
	int rc = 0;

	if (t != NULL && *t)
		rc = json_object_set_new(o, key, json_string(t));
	free(t);
	return rc;
}

/* Per document type: the line element, its quantity, and the totals. */
struct line_shape {
	const char *type;
	const char *lines; /* child path of the lines from the root */
	const char *id;    /* from a line */
	const char *qty;
	const char *less;  /* subtracted from qty (rejected), or NULL */
	const char *price; /* NULL: no prices */
	const char *base;
	const char *ref;
	const char *item;  /* the item element */
	const char *total; /* from the root, or NULL */
};

static const struct line_shape SHAPES[] = {
    {"Order", "cac:OrderLine/cac:LineItem", "cbc:ID", "cbc:Quantity", NULL,
     "cac:Price/cbc:PriceAmount", "cac:Price/cbc:BaseQuantity", NULL, "cac:Item",
     "cac:AnticipatedMonetaryTotal/cbc:LineExtensionAmount"},
    {"Invoice", "cac:InvoiceLine", "cbc:ID", "cbc:InvoicedQuantity", NULL,
     "cac:Price/cbc:PriceAmount", "cac:Price/cbc:BaseQuantity", "cac:OrderLineReference/cbc:LineID",
     "cac:Item", "cac:LegalMonetaryTotal/cbc:LineExtensionAmount"},
    {"CreditNote", "cac:CreditNoteLine", "cbc:ID", "cbc:CreditedQuantity", NULL,
     "cac:Price/cbc:PriceAmount", "cac:Price/cbc:BaseQuantity", "cac:OrderLineReference/cbc:LineID",
     "cac:Item", "cac:LegalMonetaryTotal/cbc:LineExtensionAmount"},
    {"ReceiptAdvice", "cac:ReceiptLine", "cbc:ID", "cbc:ReceivedQuantity", "cbc:RejectedQuantity",
     NULL, NULL, "cac:OrderLineReference/cbc:LineID", "cac:Item", NULL},
    {"DespatchAdvice", "cac:DespatchLine", "cbc:ID", "cbc:DeliveredQuantity", NULL, NULL, NULL,
     "cac:OrderLineReference/cbc:LineID", "cac:Item", NULL},
};

#define N_SHAPES (sizeof(SHAPES) / sizeof(SHAPES[0]))

static const char *const ITEM_IDS[] = {
    "cac:SellersItemIdentification/cbc:ID",
    "cac:BuyersItemIdentification/cbc:ID",
    "cac:StandardItemIdentification/cbc:ID",
};

/* line_items: the item identifiers of a line as a new array. */
static json_t *line_items(xmlNodePtr line, const char *item)
{
	json_t *arr = json_array();
	char expr[160];
	size_t i;

	for (i = 0; arr != NULL && i < sizeof(ITEM_IDS) / sizeof(ITEM_IDS[0]); i++) {
		char *t;

		snprintf(expr, sizeof(expr), "%s/%s", item, ITEM_IDS[i]);
		t = path_text(line, expr);
		if (t != NULL && *t)
			json_array_append_new(arr, json_string(t));
		free(t);
	}
	return arr;
}

/* less_qty: QTY minus LESS as a decimal string into BUF, or QTY unchanged
 * when either is not a decimal (the match reports it). */
static const char *less_qty(const char *qty, const char *less, char *buf, size_t len)
{
	struct secmx_dec a, b, r;

	if (less == NULL || *less == '\0' || engine__dec_parse(qty, &a) < 0 ||
	    engine__dec_parse(less, &b) < 0 || engine__dec_sub(&a, &b, &r) < 0)
		return qty;
	engine__dec_format(&r, buf, len);
	return buf;
}

/* summary_lines: the lines of ROOT shaped by SH into the array LINES. */
static int summary_lines(xmlNodePtr root, const struct line_shape *sh, json_t *lines)
{
	size_t i, n = engine__path_all(root, sh->lines, NULL, SIZE_MAX);
	xmlNodePtr *nodes = NULL;
	int rc = 0;

	if (n > 0 && (nodes = calloc(n, sizeof(*nodes))) == NULL)
		return SECMX_ENOMEM;
	n = n ? engine__path_all(root, sh->lines, nodes, n) : 0;
	for (i = 0; rc == 0 && i < n; i++) {
		xmlNodePtr ln = nodes[i];
		json_t *l = json_object();
		char *qty = path_text(ln, sh->qty), *less = NULL, *path;
		char buf[64];

		if (sh->less != NULL)
			less = path_text(ln, sh->less);
		path = engine__node_path(ln);
		if (l == NULL || json_array_append_new(lines, l) < 0 ||
		    set_text(l, "id", ln, sh->id) < 0 ||
		    (sh->ref && set_text(l, "ref", ln, sh->ref) < 0) ||
		    json_object_set_new(l, "items", line_items(ln, sh->item)) < 0 ||
		    json_object_set_new(
		        l, "qty", json_string(qty ? less_qty(qty, less, buf, sizeof(buf)) : "")) <
		        0 ||
		    (sh->price && set_text(l, "price", ln, sh->price) < 0) ||
		    (sh->base && set_text(l, "base", ln, sh->base) < 0) ||
		    json_object_set_new(l, "path", json_string(path ? path : "")) < 0)
			rc = SECMX_ENOMEM;
		free(qty);
		free(less);
		free(path);
	}
	free(nodes);
	return rc;
}

/* engine__txn_summary: see txn_int.h. */
json_t *engine__txn_summary(const struct engine_doc *doc, const char *type)
{
	xmlNodePtr root = xmlDocGetRootElement(doc->xml);
	const struct line_shape *sh = NULL;
	json_t *sum = json_object(), *lines = json_array();
	size_t i;

	for (i = 0; i < N_SHAPES; i++)
		if (strcmp(SHAPES[i].type, type) == 0)
			sh = &SHAPES[i];
	if (sum == NULL || lines == NULL || root == NULL)
		goto fail;
	if (json_object_set_new(sum, "lines", lines) < 0) {
		lines = NULL;
		goto fail;
	}
	if (sh == NULL)
		return sum;
	if (set_text(sum, "currency", root, "cbc:DocumentCurrencyCode") < 0 ||
	    (sh->total && set_text(sum, "total", root, sh->total) < 0) ||
	    summary_lines(root, sh, lines) < 0)
		goto fail;
	if (sh->total != NULL) {
		char path[160];

		snprintf(path, sizeof(path), "/%s/%s", type, sh->total);
		if (json_object_set_new(sum, "total_path", json_string(path)) < 0)
			goto fail;
	}
	return sum;
fail:
	if (json_object_get(sum, "lines") == NULL)
		json_decref(lines);
	json_decref(sum);
	return NULL;
}

/* ---- decimals ---- */

/* engine__txn_dec_ok: a non-negative decimal (NULL and "" count as 0). */
int engine__txn_dec_ok(const char *s)
{
	struct secmx_dec d;

	if (s == NULL || *s == '\0')
		return 1;
	return engine__dec_parse(s, &d) == 0 && d.m >= 0;
}

/* p10: 10^N for 0 <= N <= 38. */
static __int128 p10(int n)
{
	__int128 p = 1;

	while (n-- > 0)
		p *= 10;
	return p;
}

/* ddiv: R = A / B rounded half-up to PLACES decimals; SECMX_ELIMIT on a zero
 * divisor or overflow. */
static int ddiv(const struct secmx_dec *a, const struct secmx_dec *b, int places,
                struct secmx_dec *r)
{
	__int128 num, den, q, rem, an = a->m < 0 ? -a->m : a->m, bn = b->m < 0 ? -b->m : b->m;
	int neg = (a->m < 0) != (b->m < 0);

	if (bn == 0 || b->scale + places > 38 || a->scale > 38)
		return SECMX_ELIMIT;
	if (__builtin_mul_overflow(an, p10(b->scale + places), &num) ||
	    __builtin_mul_overflow(bn, p10(a->scale), &den))
		return SECMX_ELIMIT;
	q = num / den;
	rem = num % den;
	if (rem >= den - rem)
		q++;
	r->m = neg ? -q : q;
	r->scale = places;
	return SECMX_OK;
}

/* dabs: |A|. */
static struct secmx_dec dabs(struct secmx_dec a)
{
	if (a.m < 0)
		a.m = -a.m;
	return a;
}

/* ---- the match ---- */

struct mctx {
	struct secmx_dec price_pct, price_abs, qty_pct, total_abs;
	json_t *findings;
	int bad; /* arithmetic out of range somewhere */
	int oom;
};

/* An order line with what the other documents said about it. */
struct oline {
	json_t *line; /* borrowed from the order's summary */
	const char *id;
	struct secmx_dec qty, unit;
	int usable; /* qty and unit are decimals */
	struct secmx_dec inv, rec;
	int inv_seen, rec_seen;
	const char *inv_path; /* the last invoice line that named it */
};

/* finding: append a finding {rule, text, path}. */
static void finding(struct mctx *c, const char *rule, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void finding(struct mctx *c, const char *rule, const char *path, const char *fmt, ...)
{
	char text[1024];
	va_list ap;
	json_t *f;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	f = json_pack("{s:s,s:s,s:s}", "rule", rule, "text", text, "path", path ? path : "");
	if (f == NULL || json_array_append_new(c->findings, f) < 0)
		c->oom = 1;
}

/* jstr: a string member or "". */
static const char *jstr(json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v ? v : "";
}

/* fmt: D as text into BUF (48+ bytes). */
static const char *fmt(const struct secmx_dec *d, char *buf)
{
	engine__dec_format(d, buf, 64);
	return buf;
}

/* tol_parse: a tolerance string ("" = 0) into D. */
static void tol_parse(const char *s, struct secmx_dec *d)
{
	d->m = 0;
	d->scale = 0;
	if (s != NULL && *s)
		engine__dec_parse(s, d); /* checked by engine_txn_set_tolerance */
}

/* unit_price: PRICE / BASE (BASE absent: 1) of summary line L into *U. */
static int unit_price(json_t *l, struct secmx_dec *u)
{
	struct secmx_dec p, b;
	const char *base = jstr(l, "base");

	if (engine__dec_parse(jstr(l, "price"), &p) < 0)
		return SECMX_EINVAL;
	if (*base == '\0') {
		*u = p;
		return 0;
	}
	if (engine__dec_parse(base, &b) < 0 || b.m <= 0)
		return SECMX_EINVAL;
	if (b.m == p10(b.scale)) { /* base quantity 1 */
		*u = p;
		return 0;
	}
	return ddiv(&p, &b, 10, u);
}

/* items_meet: do two item-identifier arrays share a value? */
static int items_meet(json_t *a, json_t *b)
{
	size_t i, j;
	json_t *x, *y;

	json_array_foreach(a, i, x)
	{
		json_array_foreach(b, j, y)
		{
			if (json_equal(x, y))
				return 1;
		}
	}
	return 0;
}

/* resolve: the order line a line L of another document stands for, or -1. */
static int resolve(struct oline *ol, size_t n, json_t *l)
{
	const char *ref = jstr(l, "ref");
	size_t k;

	if (*ref)
		for (k = 0; k < n; k++)
			if (strcmp(ol[k].id, ref) == 0)
				return (int)k;
	for (k = 0; k < n; k++)
		if (items_meet(json_object_get(ol[k].line, "items"), json_object_get(l, "items")))
			return (int)k;
	return -1;
}

/* label: "line ID (ITEM)" for messages, into BUF. */
static const char *label(json_t *l, char *buf, size_t len)
{
	const char *item = json_string_value(json_array_get(json_object_get(l, "items"), 0));

	snprintf(buf, len, "line %s%s%s%s", *jstr(l, "id") ? jstr(l, "id") : "?", item ? " (" : "",
	         item ? item : "", item ? ")" : "");
	return buf;
}

/* allowed_diff: the price tolerance for an order unit price OU into *A:
 * max(price_abs, ou * price_pct / 100). */
static void allowed_diff(struct mctx *c, const struct secmx_dec *ou, struct secmx_dec *a)
{
	struct secmx_dec pct;
	int cmp = 0;

	*a = c->price_abs;
	if (c->price_pct.m == 0)
		return;
	if (engine__dec_mul(ou, &c->price_pct, &pct) < 0) {
		c->bad = 1;
		return;
	}
	if (pct.scale + 2 > SECMX_DEC_MAX_SCALE &&
	    engine__dec_round(&pct, SECMX_DEC_MAX_SCALE - 2, SECMX_ROUND_HALF_UP, &pct) < 0) {
		c->bad = 1;
		return;
	}
	pct.scale += 2;
	pct = dabs(pct);
	if (engine__dec_cmp(&pct, a, &cmp) == 0 && cmp > 0)
		*a = pct;
}

/* over: is X more than LIMIT plus qty_pct % of it? */
static int over(struct mctx *c, const struct secmx_dec *x, const struct secmx_dec *limit)
{
	struct secmx_dec extra, lim = *limit;
	int cmp = 0;

	if (c->qty_pct.m != 0) {
		if (engine__dec_mul(limit, &c->qty_pct, &extra) < 0 ||
		    extra.scale + 2 > SECMX_DEC_MAX_SCALE) {
			c->bad = 1;
			return 0;
		}
		extra.scale += 2;
		if (engine__dec_add(limit, &extra, &lim) < 0) {
			c->bad = 1;
			return 0;
		}
	}
	if (engine__dec_cmp(x, &lim, &cmp) < 0)
		c->bad = 1;
	return cmp > 0;
}

/* invoice_lines: match one invoice (SIGN 1) or credit note (SIGN -1) DOC
 * against the order lines, and check its net total. */
static void invoice_lines(struct mctx *c, json_t *doc, int sign, const char *order_id,
                          struct oline *ol, size_t n)
{
	json_t *sum = json_object_get(doc, "summary"), *l;
	const char *type = jstr(doc, "doc_type"), *id = jstr(doc, "doc_id");
	struct secmx_dec expected = {0, 0}, allowed = c->total_abs, total, t;
	int scale = 2, have_total, cmp = 0;
	size_t i;
	char lb[160], b1[64], b2[64], b3[64], b4[64];

	have_total = engine__dec_parse(jstr(sum, "total"), &total) == 0;
	if (have_total)
		scale = total.scale;
	json_array_foreach(json_object_get(sum, "lines"), i, l)
	{
		struct secmx_dec qty, unit, diff, allow;
		int k = resolve(ol, n, l);

		if (k < 0) {
			finding(c, "SECMX-MATCH-LINE-MISSING", jstr(l, "path"),
			        "%s %s %s is not on order %s", type, id, label(l, lb, sizeof(lb)),
			        order_id);
			have_total = 0; /* the total cannot be priced at order prices */
			continue;
		}
		if (!ol[k].usable)
			continue;
		if (engine__dec_parse(jstr(l, "qty"), &qty) < 0 || unit_price(l, &unit) < 0) {
			finding(c, "SECMX-MATCH-VALUE", jstr(l, "path"),
			        "%s %s %s: quantity '%s' or price '%s' is not a usable decimal",
			        type, id, label(l, lb, sizeof(lb)), jstr(l, "qty"),
			        jstr(l, "price"));
			have_total = 0;
			continue;
		}
		if (sign < 0)
			qty.m = -qty.m;
		if (engine__dec_add(&ol[k].inv, &qty, &ol[k].inv) < 0)
			c->bad = 1;
		ol[k].inv_seen = 1;
		ol[k].inv_path = jstr(l, "path");
		if (sign < 0)
			qty.m = -qty.m;
		allowed_diff(c, &ol[k].unit, &allow);
		if (engine__dec_sub(&unit, &ol[k].unit, &diff) < 0) {
			c->bad = 1;
			continue;
		}
		diff = dabs(diff);
		if (engine__dec_cmp(&diff, &allow, &cmp) == 0 && cmp > 0)
			finding(c, "SECMX-MATCH-PRICE", jstr(l, "path"),
			        "%s %s %s (order %s line %s): unit price %s, ordered at %s: "
			        "difference %s exceeds the tolerance %s",
			        type, id, label(l, lb, sizeof(lb)), order_id, ol[k].id,
			        fmt(&unit, b1), fmt(&ol[k].unit, b2), fmt(&diff, b3),
			        fmt(&allow, b4));
		/* The net total at order prices, each line rounded like an invoice's. */
		if (engine__dec_mul(&qty, &ol[k].unit, &t) < 0 ||
		    engine__dec_round(&t, scale, SECMX_ROUND_HALF_UP, &t) < 0 ||
		    engine__dec_add(&expected, &t, &expected) < 0 ||
		    engine__dec_mul(&qty, &allow, &t) < 0 ||
		    engine__dec_add(&allowed, &t, &allowed) < 0)
			c->bad = 1;
	}
	if (have_total && engine__dec_sub(&total, &expected, &t) == 0) {
		t = dabs(t);
		if (engine__dec_cmp(&t, &allowed, &cmp) == 0 && cmp > 0)
			finding(c, "SECMX-MATCH-TOTAL", jstr(sum, "total_path"),
			        "%s %s: net line total %s, at the prices of order %s %s: "
			        "difference %s exceeds the tolerance %s",
			        type, id, fmt(&total, b1), order_id, fmt(&expected, b2),
			        fmt(&t, b3), fmt(&allowed, b4));
	}
}

/* receipt_lines: add one receipt (or despatch advice) DOC's quantities. */
static void receipt_lines(struct mctx *c, json_t *doc, const char *order_id, struct oline *ol,
                          size_t n)
{
	json_t *l;
	size_t i;
	char lb[160];

	json_array_foreach(json_object_get(json_object_get(doc, "summary"), "lines"), i, l)
	{
		struct secmx_dec qty;
		int k = resolve(ol, n, l);

		if (k < 0) {
			finding(c, "SECMX-MATCH-LINE-MISSING", jstr(l, "path"),
			        "%s %s %s is not on order %s", jstr(doc, "doc_type"),
			        jstr(doc, "doc_id"), label(l, lb, sizeof(lb)), order_id);
			continue;
		}
		if (engine__dec_parse(jstr(l, "qty"), &qty) < 0) {
			finding(c, "SECMX-MATCH-VALUE", jstr(l, "path"),
			        "%s %s %s: quantity '%s' is not a decimal", jstr(doc, "doc_type"),
			        jstr(doc, "doc_id"), label(l, lb, sizeof(lb)), jstr(l, "qty"));
			continue;
		}
		if (engine__dec_add(&ol[k].rec, &qty, &ol[k].rec) < 0)
			c->bad = 1;
		ol[k].rec_seen = 1;
	}
}

/* quantities: the per-order-line quantity checks. */
static void quantities(struct mctx *c, enum engine__match_kind kind, const char *basis,
                       const char *order_id, struct oline *ol, size_t n)
{
	size_t k;
	char lb[160], b1[64], b2[64], b3[64];

	for (k = 0; k < n; k++) {
		struct oline *o = &ol[k];
		const char *path = o->inv_path ? o->inv_path : jstr(o->line, "path");

		if (!o->usable || (!o->inv_seen && !o->rec_seen))
			continue;
		label(o->line, lb, sizeof(lb));
		if (kind == ENGINE_MATCH_THREE_WAY) {
			if (o->inv_seen && !o->rec_seen)
				finding(c, "SECMX-MATCH-LINE-MISSING", path,
				        "order %s %s: invoiced %s but on no %s", order_id, lb,
				        fmt(&o->inv, b1), basis);
			else if (o->inv_seen && over(c, &o->inv, &o->rec))
				finding(c, "SECMX-MATCH-QTY", path,
				        "order %s %s: invoiced %s exceeds received %s (ordered %s)",
				        order_id, lb, fmt(&o->inv, b1), fmt(&o->rec, b2),
				        fmt(&o->qty, b3));
			if (o->rec_seen && over(c, &o->rec, &o->qty))
				finding(c, "SECMX-MATCH-QTY", jstr(o->line, "path"),
				        "order %s %s: received %s exceeds ordered %s", order_id, lb,
				        fmt(&o->rec, b1), fmt(&o->qty, b2));
		} else if (o->inv_seen && over(c, &o->inv, &o->qty)) {
			finding(c, "SECMX-MATCH-QTY", path,
			        "order %s %s: invoiced %s exceeds ordered %s", order_id, lb,
			        fmt(&o->inv, b1), fmt(&o->qty, b2));
		}
	}
}

/* engine__txn_match: see txn_int.h. */
int engine__txn_match(const struct engine *eng, json_t *docs, struct engine__match *m)
{
	struct mctx c;
	struct oline *ol = NULL;
	json_t *order = NULL, *d, *l;
	size_t i, n = 0;
	int invoices = 0, receipts = 0, despatches = 0, rc = SECMX_OK;
	const char *order_id;

	memset(m, 0, sizeof(*m));
	memset(&c, 0, sizeof(c));
	tol_parse(eng->txn_tol.price_pct, &c.price_pct);
	tol_parse(eng->txn_tol.price_abs, &c.price_abs);
	tol_parse(eng->txn_tol.qty_pct, &c.qty_pct);
	tol_parse(eng->txn_tol.total_abs, &c.total_abs);
	if ((c.findings = m->findings = json_array()) == NULL)
		return SECMX_ENOMEM;
	json_array_foreach(docs, i, d)
	{
		const char *t = jstr(d, "doc_type");

		if (strcmp(t, "Order") == 0 && order == NULL)
			order = d;
		invoices += strcmp(t, "Invoice") == 0;
		receipts += strcmp(t, "ReceiptAdvice") == 0;
		despatches += strcmp(t, "DespatchAdvice") == 0;
	}
	if (order == NULL || invoices == 0)
		return SECMX_OK;
	m->kind = receipts || despatches ? ENGINE_MATCH_THREE_WAY : ENGINE_MATCH_TWO_WAY;
	if (m->kind == ENGINE_MATCH_THREE_WAY)
		m->basis = receipts ? "ReceiptAdvice" : "DespatchAdvice";
	order_id = jstr(order, "doc_id");
	n = json_array_size(json_object_get(json_object_get(order, "summary"), "lines"));
	if (n > 0 && (ol = calloc(n, sizeof(*ol))) == NULL) {
		rc = SECMX_ENOMEM;
		goto done;
	}
	json_array_foreach(json_object_get(json_object_get(order, "summary"), "lines"), i, l)
	{
		char lb[160];

		ol[i].line = l;
		ol[i].id = jstr(l, "id");
		ol[i].usable = engine__dec_parse(jstr(l, "qty"), &ol[i].qty) == 0 &&
		               unit_price(l, &ol[i].unit) == 0;
		if (!ol[i].usable)
			finding(&c, "SECMX-MATCH-VALUE", jstr(l, "path"),
			        "order %s %s: quantity '%s' or price '%s' is not a usable decimal",
			        order_id, label(l, lb, sizeof(lb)), jstr(l, "qty"),
			        jstr(l, "price"));
	}
	json_array_foreach(docs, i, d)
	{
		const char *t = jstr(d, "doc_type");

		if (strcmp(t, "Invoice") == 0 || strcmp(t, "CreditNote") == 0)
			invoice_lines(&c, d, t[0] == 'I' ? 1 : -1, order_id, ol, n);
		else if (m->basis != NULL && strcmp(t, m->basis) == 0)
			receipt_lines(&c, d, order_id, ol, n);
	}
	quantities(&c, m->kind, m->basis, order_id, ol, n);
	if (c.bad)
		finding(&c, "SECMX-MATCH-VALUE", "",
		        "order %s: an amount or quantity is out of the range of exact arithmetic",
		        order_id);
	if (c.oom)
		rc = SECMX_ENOMEM;
done:
	free(ol);
	if (rc < 0) {
		json_decref(m->findings);
		m->findings = NULL;
	}
	return rc;
}
