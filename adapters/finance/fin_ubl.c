/*
 * fin_ubl.c — what secmx-finance reads from a delivery: the UBL 2.1 Invoice
 * or CreditNote (libxml2, safely) and the bus envelope (jansson), and the
 * decision it takes from them (match status, approval state).
 *
 * Interface (finance.h): fin_ubl_read, fin_envelope_apply, fin_doc_check,
 * fin_amount_ok/parse/format, fin_date_ok, fin_doc_clear, fin_strdup, fin_set.
 *
 * Safety: the document is refused before parsing if it has a DOCTYPE (a
 * byte scan for "<!DOCTYPE"), and parsed with XML_PARSE_NONET, without
 * DTD loading, DTD attributes or entity substitution, and without
 * XML_PARSE_HUGE (libxml2's own size and depth limits apply); after parsing
 * a document with any internal or external subset is refused as well.
 * Amounts are never floating point: they are kept as the document's exact
 * decimal text, and checked in micro-units (10^-6) in 64-bit integers.
 * Errors: SECMX_EPARSE, SECMX_EUNKNOWN, SECMX_EINVALID, SECMX_ENOMEM.
 * Ownership: the xmlDoc and XPath objects are freed before each function
 * returns; strings put in struct fin_doc are malloc()ed copies.
 */
#include "finance.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#define NS_CBC "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
#define NS_CAC "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
#define NS_INV "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
#define NS_CN "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"

/* fin_strdup: strdup accepting NULL. */
char *fin_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* fin_set: replace *DST with a copy of SRC. */
int fin_set(char **dst, const char *src)
{
	char *c = NULL;

	if (src && !(c = strdup(src)))
		return SECMX_ENOMEM;
	free(*dst);
	*dst = c;
	return 0;
}

/* fin_doc_clear: free every string and line. */
void fin_doc_clear(struct fin_doc *d)
{
	char **f[] = {&d->kind,
	              &d->doc_id,
	              &d->issue_date,
	              &d->due_date,
	              &d->currency,
	              &d->order_ref,
	              &d->supplier_key,
	              &d->supplier_name,
	              &d->supplier_id,
	              &d->supplier_scheme,
	              &d->supplier_tax_id,
	              &d->supplier_country,
	              &d->net,
	              &d->tax,
	              &d->gross,
	              &d->payable,
	              &d->match_status,
	              &d->status,
	              &d->reason,
	              &d->idem_key,
	              &d->message_id,
	              &d->transaction_id,
	              &d->received_at,
	              &d->approved_at,
	              &d->paid_date,
	              &d->paid_amount,
	              &d->remit_id,
	              &d->remit_state,
	              &d->remit_message_id,
	              &d->recorded_at,
	              &d->line_total};
	size_t i;

	if (!d)
		return;
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		free(*f[i]);
	for (i = 0; i < d->nlines; i++) {
		struct fin_line *l = &d->lines[i];

		free(l->line_id);
		free(l->description);
		free(l->quantity);
		free(l->unit_code);
		free(l->unit_price);
		free(l->net);
		free(l->tax_category);
		free(l->tax_percent);
	}
	free(d->lines);
	memset(d, 0, sizeof(*d));
}

/* ---- amounts and dates ---- */

/* fin_amount_parse: decimal text → micro-units. */
int fin_amount_parse(const char *s, long long *out)
{
	long long v = 0;
	int neg = 0, digits = 0, frac = -1;

	if (!s)
		return SECMX_EINVAL;
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	for (; *s; s++) {
		if (*s == '.' && frac < 0 && digits > 0) {
			frac = 0;
			continue;
		}
		if (!isdigit((unsigned char)*s))
			return SECMX_EINVAL;
		if (frac >= 0 && ++frac > 6)
			return SECMX_EINVAL;
		if (v > (LLONG_MAX - 9) / 10 || ++digits > 18)
			return SECMX_EINVAL;
		v = v * 10 + (*s - '0');
	}
	if (digits == 0 || frac == 0)
		return SECMX_EINVAL;
	for (frac = frac < 0 ? 0 : frac; frac < 6; frac++) {
		if (v > LLONG_MAX / 10)
			return SECMX_EINVAL;
		v *= 10;
	}
	*out = neg ? -v : v;
	return 0;
}

/* fin_amount_ok: a decimal we can keep and check. */
bool fin_amount_ok(const char *s)
{
	long long v;

	return fin_amount_parse(s, &v) == 0;
}

/* fin_amount_format: micro-units → "123.45" (at least 2 decimals, trailing
 * zeros beyond them dropped). */
void fin_amount_format(long long v, char *buf, size_t len)
{
	unsigned long long a = v < 0 ? (unsigned long long)(-(v + 1)) + 1 : (unsigned long long)v;
	unsigned long long ip = a / 1000000, fp = a % 1000000;
	char frac[8];
	int n = 6;

	snprintf(frac, sizeof(frac), "%06llu", fp);
	while (n > 2 && frac[n - 1] == '0')
		n--;
	frac[n] = '\0';
	snprintf(buf, len, "%s%llu.%s", v < 0 ? "-" : "", ip, frac);
}

/* fin_date_ok: YYYY-MM-DD with a plausible month and day. */
bool fin_date_ok(const char *s)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int i, m, d;

	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
			return false;
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	return m >= 1 && m <= 12 && d >= 1 && d <= mdays[m - 1];
}

/* ---- the UBL document ---- */

/* has_doctype: does BUF contain "<!DOCTYPE" (any case)? */
static bool has_doctype(const char *buf, size_t len)
{
	static const char pat[] = "<!doctype";
	size_t i, j;

	for (i = 0; i + sizeof(pat) - 1 <= len; i++) {
		if (buf[i] != '<')
			continue;
		for (j = 1; j < sizeof(pat) - 1; j++)
			if (tolower((unsigned char)buf[i + j]) != pat[j])
				break;
		if (j == sizeof(pat) - 1)
			return true;
	}
	return false;
}

/* xp_node: the first node at relative PATH from CTX's node N, or NULL. */
static xmlNodePtr xp_node(xmlXPathContextPtr ctx, xmlNodePtr n, const char *path)
{
	xmlXPathObjectPtr o;
	xmlNodePtr r = NULL;

	ctx->node = n;
	o = xmlXPathEvalExpression((const xmlChar *)path, ctx);
	if (o && o->type == XPATH_NODESET && o->nodesetval && o->nodesetval->nodeNr > 0)
		r = o->nodesetval->nodeTab[0];
	xmlXPathFreeObject(o);
	return r;
}

/* text_of: the trimmed text content of N as a new string (NULL if N is
 * NULL or empty, or on no memory — callers treat both as "absent"). */
static char *text_of(xmlNodePtr n)
{
	xmlChar *t;
	char *s = NULL;
	size_t b, e;

	if (!n)
		return NULL;
	t = xmlNodeGetContent(n);
	if (!t)
		return NULL;
	for (b = 0; t[b] && isspace(t[b]); b++)
		;
	for (e = strlen((char *)t); e > b && isspace(t[e - 1]); e--)
		;
	if (e > b && (s = malloc(e - b + 1))) {
		memcpy(s, t + b, e - b);
		s[e - b] = '\0';
	}
	xmlFree(t);
	return s;
}

/* xp_text: text at PATH from N (new string or NULL). */
static char *xp_text(xmlXPathContextPtr ctx, xmlNodePtr n, const char *path)
{
	return text_of(xp_node(ctx, n, path));
}

/* attr_of: attribute NAME of N as a new string, or NULL. */
static char *attr_of(xmlNodePtr n, const char *name)
{
	xmlChar *a;
	char *s;

	if (!n || !(a = xmlGetProp(n, (const xmlChar *)name)))
		return NULL;
	s = strdup((char *)a);
	xmlFree(a);
	return s;
}

/* read_supplier: the supplier party's name, identifiers and key. */
static int read_supplier(xmlXPathContextPtr ctx, xmlNodePtr root, struct fin_doc *d)
{
	xmlNodePtr party = xp_node(ctx, root, "cac:AccountingSupplierParty/cac:Party");
	xmlNodePtr idn;
	const char *const idpaths[] = {"cac:PartyLegalEntity/cbc:CompanyID",
	                               "cac:PartyIdentification/cbc:ID", "cbc:EndpointID"};
	char key[512];
	size_t i;

	if (!party)
		return SECMX_EINVALID;
	d->supplier_name = xp_text(ctx, party, "cac:PartyName/cbc:Name");
	if (!d->supplier_name)
		d->supplier_name = xp_text(ctx, party, "cac:PartyLegalEntity/cbc:RegistrationName");
	for (i = 0; i < 3 && !d->supplier_id; i++) {
		idn = xp_node(ctx, party, idpaths[i]);
		if ((d->supplier_id = text_of(idn)))
			d->supplier_scheme = attr_of(idn, "schemeID");
	}
	d->supplier_tax_id = xp_text(ctx, party, "cac:PartyTaxScheme/cbc:CompanyID");
	d->supplier_country =
	    xp_text(ctx, party, "cac:PostalAddress/cac:Country/cbc:IdentificationCode");
	if (d->supplier_id)
		snprintf(key, sizeof(key), "%s:%s", d->supplier_scheme ? d->supplier_scheme : "id",
		         d->supplier_id);
	else if (d->supplier_tax_id)
		snprintf(key, sizeof(key), "tax:%s", d->supplier_tax_id);
	else if (d->supplier_name)
		snprintf(key, sizeof(key), "name:%s", d->supplier_name);
	else
		return SECMX_EINVALID;
	return fin_set(&d->supplier_key, key);
}

/* read_lines: every InvoiceLine / CreditNoteLine. */
static int read_lines(xmlXPathContextPtr ctx, xmlNodePtr root, struct fin_doc *d, bool credit)
{
	xmlXPathObjectPtr o;
	xmlNodePtr ln, q;
	int i, rc = 0;

	ctx->node = root;
	o = xmlXPathEvalExpression(
	    (const xmlChar *)(credit ? "cac:CreditNoteLine" : "cac:InvoiceLine"), ctx);
	if (!o || o->type != XPATH_NODESET || !o->nodesetval)
		goto out;
	d->lines = calloc((size_t)o->nodesetval->nodeNr + 1, sizeof(*d->lines));
	if (!d->lines) {
		rc = SECMX_ENOMEM;
		goto out;
	}
	for (i = 0; i < o->nodesetval->nodeNr; i++) {
		struct fin_line *l = &d->lines[d->nlines++];

		ln = o->nodesetval->nodeTab[i];
		l->line_id = xp_text(ctx, ln, "cbc:ID");
		q = xp_node(ctx, ln, credit ? "cbc:CreditedQuantity" : "cbc:InvoicedQuantity");
		l->quantity = text_of(q);
		l->unit_code = attr_of(q, "unitCode");
		l->net = xp_text(ctx, ln, "cbc:LineExtensionAmount");
		l->description = xp_text(ctx, ln, "cac:Item/cbc:Name");
		l->unit_price = xp_text(ctx, ln, "cac:Price/cbc:PriceAmount");
		l->tax_category = xp_text(ctx, ln, "cac:Item/cac:ClassifiedTaxCategory/cbc:ID");
		l->tax_percent = xp_text(ctx, ln, "cac:Item/cac:ClassifiedTaxCategory/cbc:Percent");
		if ((l->net && !fin_amount_ok(l->net)) ||
		    (l->unit_price && !fin_amount_ok(l->unit_price))) {
			rc = SECMX_EINVALID;
			goto out;
		}
	}
out:
	xmlXPathFreeObject(o);
	return rc;
}

/* fin_ubl_read: see finance.h. */
int fin_ubl_read(const void *buf, size_t len, struct fin_doc *d, char *err, size_t errlen)
{
	xmlDocPtr doc = NULL;
	xmlXPathContextPtr ctx = NULL;
	xmlNodePtr root;
	const char *ns;
	bool credit;
	int rc = SECMX_EPARSE;

	memset(d, 0, sizeof(*d));
	if (len > FIN_DOC_MAX || len > INT_MAX) {
		secmx_errf(err, errlen, "document larger than %u bytes", FIN_DOC_MAX);
		return SECMX_ELIMIT;
	}
	if (has_doctype(buf, len)) {
		secmx_errf(err, errlen, "document has a DOCTYPE: refused");
		return SECMX_EPARSE;
	}
	doc = xmlReadMemory(buf, (int)len, "delivery.xml", NULL,
	                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
	                        XML_PARSE_NOCDATA);
	if (!doc) {
		secmx_errf(err, errlen, "not well-formed XML");
		goto out;
	}
	if (doc->intSubset || doc->extSubset) {
		secmx_errf(err, errlen, "document has a DOCTYPE: refused");
		goto out;
	}
	rc = SECMX_EUNKNOWN;
	root = xmlDocGetRootElement(doc);
	ns = root && root->ns ? (const char *)root->ns->href : "";
	if (root && strcmp((const char *)root->name, "Invoice") == 0 && strcmp(ns, NS_INV) == 0)
		credit = false;
	else if (root && strcmp((const char *)root->name, "CreditNote") == 0 &&
	         strcmp(ns, NS_CN) == 0)
		credit = true;
	else {
		secmx_errf(err, errlen, "not a UBL Invoice or CreditNote");
		goto out;
	}
	rc = SECMX_ENOMEM;
	if (!(ctx = xmlXPathNewContext(doc)) ||
	    xmlXPathRegisterNs(ctx, (const xmlChar *)"cbc", (const xmlChar *)NS_CBC) != 0 ||
	    xmlXPathRegisterNs(ctx, (const xmlChar *)"cac", (const xmlChar *)NS_CAC) != 0 ||
	    fin_set(&d->kind, credit ? "CreditNote" : "Invoice") < 0)
		goto out;
	rc = SECMX_EINVALID;
	d->doc_id = xp_text(ctx, root, "cbc:ID");
	d->issue_date = xp_text(ctx, root, "cbc:IssueDate");
	d->due_date = xp_text(ctx, root, "cbc:DueDate");
	if (!d->due_date)
		d->due_date = xp_text(ctx, root, "cac:PaymentMeans/cbc:PaymentDueDate");
	d->currency = xp_text(ctx, root, "cbc:DocumentCurrencyCode");
	if (!d->currency) /* UBL 2.0 documents may omit it: the amount says it */
		d->currency = attr_of(
		    xp_node(ctx, root, "cac:LegalMonetaryTotal/cbc:PayableAmount"), "currencyID");
	d->order_ref = xp_text(ctx, root, "cac:OrderReference/cbc:ID");
	d->line_total = xp_text(ctx, root, "cac:LegalMonetaryTotal/cbc:LineExtensionAmount");
	d->net = xp_text(ctx, root, "cac:LegalMonetaryTotal/cbc:TaxExclusiveAmount");
	d->gross = xp_text(ctx, root, "cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount");
	d->payable = xp_text(ctx, root, "cac:LegalMonetaryTotal/cbc:PayableAmount");
	/* The tax total in the document currency (a second TaxTotal may give
	 * the tax in the tax currency). */
	d->tax = xp_text(ctx, root,
	                 "cac:TaxTotal/cbc:TaxAmount[not(@currencyID) or "
	                 "@currencyID = /*/cbc:DocumentCurrencyCode]");
	if (!d->tax)
		d->tax = xp_text(ctx, root, "cac:TaxTotal/cbc:TaxAmount");
	if (!d->doc_id || !d->issue_date || !d->currency || !d->payable) {
		secmx_errf(err, errlen,
		           "missing ID, IssueDate, DocumentCurrencyCode or PayableAmount");
		goto out;
	}
	if (!fin_date_ok(d->issue_date) || (d->due_date && !fin_date_ok(d->due_date))) {
		secmx_errf(err, errlen, "bad IssueDate or DueDate");
		goto out;
	}
	if ((d->net && !fin_amount_ok(d->net)) || (d->gross && !fin_amount_ok(d->gross)) ||
	    !fin_amount_ok(d->payable) || (d->line_total && !fin_amount_ok(d->line_total)) ||
	    (d->tax && !fin_amount_ok(d->tax))) {
		secmx_errf(err, errlen, "an amount is not an exact decimal of at most 6 places");
		goto out;
	}
	if ((rc = read_supplier(ctx, root, d)) < 0) {
		secmx_errf(err, errlen, "no supplier party with a name or identifier");
		goto out;
	}
	if ((rc = read_lines(ctx, root, d, credit)) < 0) {
		secmx_errf(err, errlen, "a line amount is not an exact decimal");
		goto out;
	}
	rc = 0;
out:
	xmlXPathFreeContext(ctx);
	xmlFreeDoc(doc);
	if (rc < 0)
		fin_doc_clear(d);
	return rc;
}

/* fin_doc_check: our own arithmetic and date checks. */
int fin_doc_check(const struct fin_doc *d, char *why, size_t whylen)
{
	long long sum = 0, v, total, net, tax = 0, gross;
	char a[40];
	size_t i;

	if (d->due_date && d->issue_date && strcmp(d->due_date, d->issue_date) < 0) {
		secmx_errf(why, whylen, "due date %s before issue date %s", d->due_date,
		           d->issue_date);
		return 1;
	}
	if (d->nlines == 0) {
		secmx_errf(why, whylen, "no lines");
		return 1;
	}
	for (i = 0; i < d->nlines; i++) {
		if (fin_amount_parse(d->lines[i].net, &v) < 0) {
			secmx_errf(why, whylen, "line %s has no amount",
			           d->lines[i].line_id ? d->lines[i].line_id : "?");
			return 1;
		}
		if (__builtin_add_overflow(sum, v, &sum)) {
			secmx_errf(why, whylen, "line amounts overflow");
			return 1;
		}
	}
	if (d->line_total && fin_amount_parse(d->line_total, &total) == 0 && sum != total) {
		fin_amount_format(sum, a, sizeof(a));
		secmx_errf(why, whylen, "lines add up to %s, but the line total is %s", a,
		           d->line_total);
		return 1;
	}
	if (d->net && d->gross && fin_amount_parse(d->net, &net) == 0 &&
	    fin_amount_parse(d->gross, &gross) == 0 &&
	    (!d->tax || fin_amount_parse(d->tax, &tax) == 0) &&
	    (__builtin_add_overflow(net, tax, &sum) || sum != gross)) {
		fin_amount_format(sum, a, sizeof(a));
		secmx_errf(why, whylen, "net %s + tax %s = %s, but gross is %s", d->net,
		           d->tax ? d->tax : "0", a, d->gross);
		return 1;
	}
	return 0;
}

/* fin_envelope_apply: see finance.h. */
int fin_envelope_apply(struct fin_doc *d, const char *envelope_json, char *err, size_t errlen)
{
	json_t *env = NULL, *val, *meta;
	json_error_t je;
	const char *key, *state = NULL;
	char why[256] = "";
	int rc = SECMX_EPARSE;

	env = json_loads(envelope_json, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(env) ||
	    !(key = json_string_value(json_object_get(env, "idempotency_key")))) {
		secmx_errf(err, errlen, "envelope: not an object with an idempotency_key");
		goto out;
	}
	rc = SECMX_ENOMEM;
	if (fin_set(&d->idem_key, key) < 0 ||
	    fin_set(&d->message_id, json_string_value(json_object_get(env, "message_id"))) < 0 ||
	    fin_set(&d->transaction_id, json_string_value(json_object_get(env, "transaction_id"))) <
	        0 ||
	    fin_set(&d->received_at, json_string_value(json_object_get(env, "received_at"))) < 0)
		goto out;
	val = json_object_get(json_object_get(env, "validation"), "valid");
	meta = json_object_get(env, "meta");
	if (json_is_object(meta))
		state = json_string_value(json_object_get(meta, "transaction_state"));
	if (json_is_false(val)) {
		secmx_errf(why, sizeof(why), "validation failed (%lld errors)",
		           (long long)json_integer_value(
		               json_object_get(json_object_get(env, "validation"), "errors")));
		rc = fin_set(&d->match_status, FIN_MATCH_INVALID);
	} else if (state && strcmp(state, "disputed") == 0) {
		secmx_errf(why, sizeof(why), "transaction %s is disputed",
		           d->transaction_id ? d->transaction_id : "-");
		rc = fin_set(&d->match_status, FIN_MATCH_DISPUTED);
	} else if (fin_doc_check(d, why, sizeof(why))) {
		rc = fin_set(&d->match_status, FIN_MATCH_CHECK);
	} else {
		rc = fin_set(&d->match_status, state && strcmp(state, "matched") == 0
		                                   ? FIN_MATCH_MATCHED
		                                   : FIN_MATCH_OK);
	}
	if (rc < 0 || fin_set(&d->status, why[0] ? FIN_PENDING : FIN_APPROVED) < 0 ||
	    fin_set(&d->reason, why[0] ? why : NULL) < 0) {
		rc = SECMX_ENOMEM;
		goto out;
	}
	rc = 0;
out:
	json_decref(env);
	return rc;
}
