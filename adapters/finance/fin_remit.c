/*
 * fin_remit.c — the UBL 2.1 RemittanceAdvice that secmx-finance sends when
 * an invoice is paid.
 *
 * Interface (finance.h): fin_remit_build.
 * The document: cbc:UBLVersionID 2.1, the configured cbc:CustomizationID
 * (none by default: plain UBL 2.1), cbc:ID (the remittance id kept in the
 * ledger), cbc:IssueDate (the payment date), the currency, the total paid,
 * our organisation as cac:AccountingCustomerParty (the payer), the supplier
 * as cac:AccountingSupplierParty (the payee), and one
 * cac:RemittanceAdviceLine whose cac:BillingReference/
 * cac:InvoiceDocumentReference names the invoice (ID and IssueDate) — the
 * reference the engine's transaction correlation follows. Element order is
 * the UBL 2.1 schema's.
 * It is deterministic (no clock, no random UUID): the same ledger entry
 * gives the same bytes, so a retried SUBMIT carries the same document.
 * Errors: SECMX_EINVAL (not paid, or a text with characters XML cannot
 * carry), SECMX_ENOMEM.
 * Ownership: *OUT is malloc()ed, the caller frees it.
 */
#include "finance.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* A growing output buffer; FAIL sticks at the first error. */
struct buf {
	char *p;
	size_t len, cap;
	int fail;
};

/* put: append N bytes of S. */
static void put(struct buf *b, const char *s, size_t n)
{
	char *np;
	size_t cap;

	if (b->fail)
		return;
	if (b->len + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		if (!(np = realloc(b->p, cap))) {
			b->fail = SECMX_ENOMEM;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* puts_: append a C string. */
static void puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

/* esc: append S escaped for XML text and attribute values; control
 * characters other than tab, CR and LF cannot appear in XML 1.0. */
static void esc(struct buf *b, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '&')
			puts_(b, "&amp;");
		else if (c == '<')
			puts_(b, "&lt;");
		else if (c == '>')
			puts_(b, "&gt;");
		else if (c == '"')
			puts_(b, "&quot;");
		else if (c == '\r')
			puts_(b, "&#13;");
		else if (c < 0x20 && c != '\t' && c != '\n')
			b->fail = b->fail ? b->fail : SECMX_EINVAL;
		else
			put(b, s, 1);
	}
}

/* el: <prefix:name>text</prefix:name> at INDENT, when TEXT is set; ATTR
 * and AVAL add one attribute (AVAL NULL: none). */
static void el(struct buf *b, int indent, const char *name, const char *attr, const char *aval,
               const char *text)
{
	if (!text)
		return;
	while (indent-- > 0)
		puts_(b, "  ");
	puts_(b, "<");
	puts_(b, name);
	if (attr && aval) {
		puts_(b, " ");
		puts_(b, attr);
		puts_(b, "=\"");
		esc(b, aval);
		puts_(b, "\"");
	}
	puts_(b, ">");
	esc(b, text);
	puts_(b, "</");
	puts_(b, name);
	puts_(b, ">\n");
}

/* open_ / close_: a container element at INDENT. */
static void open_(struct buf *b, int indent, const char *name)
{
	while (indent-- > 0)
		puts_(b, "  ");
	puts_(b, "<");
	puts_(b, name);
	puts_(b, ">\n");
}

static void close_(struct buf *b, int indent, const char *name)
{
	while (indent-- > 0)
		puts_(b, "  ");
	puts_(b, "</");
	puts_(b, name);
	puts_(b, ">\n");
}

/* party: a cac:Party (identification, name, tax scheme, legal entity). */
static void party(struct buf *b, int in, const char *name, const char *id, const char *scheme,
                  const char *tax_id)
{
	open_(b, in, "cac:Party");
	if (id) {
		open_(b, in + 1, "cac:PartyIdentification");
		el(b, in + 2, "cbc:ID", "schemeID", scheme, id);
		close_(b, in + 1, "cac:PartyIdentification");
	}
	if (name) {
		open_(b, in + 1, "cac:PartyName");
		el(b, in + 2, "cbc:Name", NULL, NULL, name);
		close_(b, in + 1, "cac:PartyName");
	}
	if (tax_id) {
		open_(b, in + 1, "cac:PartyTaxScheme");
		el(b, in + 2, "cbc:CompanyID", NULL, NULL, tax_id);
		open_(b, in + 2, "cac:TaxScheme");
		el(b, in + 3, "cbc:ID", NULL, NULL, "GST");
		close_(b, in + 2, "cac:TaxScheme");
		close_(b, in + 1, "cac:PartyTaxScheme");
	}
	if (name) {
		open_(b, in + 1, "cac:PartyLegalEntity");
		el(b, in + 2, "cbc:RegistrationName", NULL, NULL, name);
		el(b, in + 2, "cbc:CompanyID", "schemeID", scheme, id);
		close_(b, in + 1, "cac:PartyLegalEntity");
	}
	close_(b, in, "cac:Party");
}

/* fin_remit_build: see finance.h. */
int fin_remit_build(const struct fin_doc *d, const struct fin_org *org, char **out, size_t *outlen,
                    char *err, size_t errlen)
{
	struct buf b = {0};
	const char *cur = d->currency;

	*out = NULL;
	*outlen = 0;
	if (!d->paid_date || !d->paid_amount || !d->remit_id || !cur || !d->doc_id ||
	    !fin_amount_ok(d->paid_amount) || !fin_date_ok(d->paid_date)) {
		secmx_errf(err, errlen, "%s is not marked paid with a date and an amount",
		           d->doc_id ? d->doc_id : "document");
		return SECMX_EINVAL;
	}
	if (!org->name) {
		secmx_errf(err, errlen, "our organisation's name (finance.org_name) is not set");
		return SECMX_EINVAL;
	}
	puts_(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	          "<RemittanceAdvice "
	          "xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:RemittanceAdvice-2\"\n"
	          "  xmlns:cac=\"urn:oasis:names:specification:ubl:schema:xsd:"
	          "CommonAggregateComponents-2\"\n"
	          "  xmlns:cbc=\"urn:oasis:names:specification:ubl:schema:xsd:"
	          "CommonBasicComponents-2\">\n");
	el(&b, 1, "cbc:UBLVersionID", NULL, NULL, "2.1");
	el(&b, 1, "cbc:CustomizationID", NULL, NULL, org->customization_id);
	el(&b, 1, "cbc:ID", NULL, NULL, d->remit_id);
	el(&b, 1, "cbc:IssueDate", NULL, NULL, d->paid_date);
	el(&b, 1, "cbc:Note", NULL, NULL, "Payment advice from secmx-finance");
	el(&b, 1, "cbc:DocumentCurrencyCode", NULL, NULL, cur);
	el(&b, 1, "cbc:TotalPaymentAmount", "currencyID", cur, d->paid_amount);
	el(&b, 1, "cbc:LineCountNumeric", NULL, NULL, "1");
	open_(&b, 1, "cac:AccountingCustomerParty");
	party(&b, 2, org->name, org->id, org->id_scheme, org->tax_id);
	close_(&b, 1, "cac:AccountingCustomerParty");
	open_(&b, 1, "cac:AccountingSupplierParty");
	party(&b, 2, d->supplier_name, d->supplier_id, d->supplier_scheme, d->supplier_tax_id);
	close_(&b, 1, "cac:AccountingSupplierParty");
	open_(&b, 1, "cac:RemittanceAdviceLine");
	el(&b, 2, "cbc:ID", NULL, NULL, "1");
	el(&b, 2, "cbc:DebitLineAmount", "currencyID", cur, d->paid_amount);
	open_(&b, 2, "cac:BillingReference");
	open_(&b, 3, "cac:InvoiceDocumentReference");
	el(&b, 4, "cbc:ID", NULL, NULL, d->doc_id);
	el(&b, 4, "cbc:IssueDate", NULL, NULL, d->issue_date);
	close_(&b, 3, "cac:InvoiceDocumentReference");
	close_(&b, 2, "cac:BillingReference");
	close_(&b, 1, "cac:RemittanceAdviceLine");
	puts_(&b, "</RemittanceAdvice>\n");
	if (b.fail) {
		secmx_errf(err, errlen, "%s",
		           b.fail == SECMX_EINVAL ? "a name or id holds a control character"
		                                  : "out of memory");
		free(b.p);
		return b.fail;
	}
	*out = b.p;
	*outlen = b.len;
	return 0;
}
