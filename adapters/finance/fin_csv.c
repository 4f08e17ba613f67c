/*
 * fin_csv.c — the CSV export of secmx-finance (layout: docs/finance.md).
 *
 * Interface (finance.h): fin_csv_field, fin_csv_header, fin_csv_row.
 * RFC 4180: fields separated by commas, records ended by CRLF, a field
 * quoted with '"' when it holds a comma, a quote, CR or LF (or begins or
 * ends with a blank, which some importers would trim), a quote inside a
 * quoted field doubled. Text is UTF-8 as the document gave it, bytes
 * unchanged (no BOM). Amounts are the exact decimal strings of the document.
 * With FIN_CSV_FORMULA_GUARD (finance.h) a field that would start a
 * spreadsheet formula gets a leading apostrophe.
 * Errors: SECMX_EIO when writing fails, SECMX_ENOMEM.
 */
#include "finance.h"

#include <stdlib.h>
#include <string.h>

/* The columns, in order: keep docs/finance.md ("CSV layout") in step. */
static const char *const columns[] = {
    "type",       "supplier_name", "supplier_id", "supplier_id_scheme", "supplier_tax_id",
    "invoice_id", "issue_date",    "due_date",    "currency",           "net",
    "tax",        "gross",         "payable",     "order_reference",    "match_status",
    "status",     "paid_date",     "paid_amount", "transaction_id",     "message_id",
};
#define NCOLS (sizeof(columns) / sizeof(columns[0]))

/* fin_csv_field: one field, quoted when needed. */
int fin_csv_field(FILE *fp, const char *s)
{
	size_t n;

	if (!s)
		return 0;
	n = strlen(s);
	if (strpbrk(s, ",\"\r\n") == NULL && (n == 0 || (s[0] != ' ' && s[n - 1] != ' ')))
		return fputs(s, fp) < 0 ? SECMX_EIO : 0;
	if (fputc('"', fp) == EOF)
		return SECMX_EIO;
	for (; *s; s++) {
		if (*s == '"' && fputc('"', fp) == EOF)
			return SECMX_EIO;
		if (fputc(*s, fp) == EOF)
			return SECMX_EIO;
	}
	return fputc('"', fp) == EOF ? SECMX_EIO : 0;
}

/* plain_decimal: S is [+-]digits[.digits] (an amount, not a formula). */
static int plain_decimal(const char *s)
{
	const char *p = s + (*s == '+' || *s == '-');
	size_t n = strspn(p, "0123456789");

	if (n == 0)
		return 0;
	p += n;
	if (*p == '.') {
		n = strspn(p + 1, "0123456789");
		if (n == 0)
			return 0;
		p += 1 + n;
	}
	return *p == '\0';
}

/* formula_like: would a spreadsheet read S as a formula (finance.h)? */
static int formula_like(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;

	if (u[0] == '=' || u[0] == '+' || u[0] == '-' || u[0] == '@' || u[0] == '\t' ||
	    u[0] == '\r')
		return !plain_decimal(s);
	/* full-width = + - @ (U+FF1D, U+FF0B, U+FF0D, U+FF20) in UTF-8 */
	return u[0] == 0xEF && u[1] == 0xBC &&
	       (u[2] == 0x9D || u[2] == 0x8B || u[2] == 0x8D || u[2] == 0xA0);
}

/* guarded_field: S as a field, with a leading apostrophe when it is
 * formula-like. */
static int guarded_field(FILE *fp, const char *s)
{
	size_t n;
	char *g;
	int rc;

	if (!s || !formula_like(s))
		return fin_csv_field(fp, s);
	n = strlen(s);
	if ((g = malloc(n + 2)) == NULL)
		return SECMX_ENOMEM;
	g[0] = '\'';
	memcpy(g + 1, s, n + 1);
	rc = fin_csv_field(fp, g);
	free(g);
	return rc;
}

/* record: N fields and CRLF; FLAGS as for fin_csv_row. */
static int record(FILE *fp, const char *const *v, size_t n, unsigned flags)
{
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		if (i && fputc(',', fp) == EOF)
			return SECMX_EIO;
		rc = flags & FIN_CSV_FORMULA_GUARD ? guarded_field(fp, v[i])
		                                   : fin_csv_field(fp, v[i]);
		if (rc < 0)
			return rc;
	}
	return fputs("\r\n", fp) < 0 ? SECMX_EIO : 0;
}

/* fin_csv_header: the header row. */
int fin_csv_header(FILE *fp)
{
	return record(fp, columns, NCOLS, 0);
}

/* fin_csv_row: one document. */
int fin_csv_row(FILE *fp, const struct fin_doc *d, unsigned flags)
{
	const char *v[] = {
	    d->kind,   d->supplier_name, d->supplier_id, d->supplier_scheme, d->supplier_tax_id,
	    d->doc_id, d->issue_date,    d->due_date,    d->currency,        d->net,
	    d->tax,    d->gross,         d->payable,     d->order_ref,       d->match_status,
	    d->status, d->paid_date,     d->paid_amount, d->transaction_id,  d->message_id};

	_Static_assert(sizeof(v) / sizeof(v[0]) == NCOLS, "one value per column");
	return record(fp, v, NCOLS, flags);
}
