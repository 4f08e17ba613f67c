/*
 * fin_csv.c — the CSV export of secmx-finance (layout: docs/finance.md).
 *
 * Interface (finance.h): fin_csv_field, fin_csv_header, fin_csv_row.
 * RFC 4180: fields separated by commas, records ended by CRLF, a field
 * quoted with '"' when it holds a comma, a quote, CR or LF (or begins or
 * ends with a blank, which some importers would trim), a quote inside a
 * quoted field doubled. Text is UTF-8 as the document gave it, bytes
 * unchanged (no BOM). Amounts are the exact decimal strings of the document.
 * Errors: SECMX_EIO when writing fails.
 */
#include "finance.h"

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

/* record: N fields and CRLF. */
static int record(FILE *fp, const char *const *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if ((i && fputc(',', fp) == EOF) || fin_csv_field(fp, v[i]) < 0)
			return SECMX_EIO;
	}
	return fputs("\r\n", fp) < 0 ? SECMX_EIO : 0;
}

/* fin_csv_header: the header row. */
int fin_csv_header(FILE *fp)
{
	return record(fp, columns, NCOLS);
}

/* fin_csv_row: one document. */
int fin_csv_row(FILE *fp, const struct fin_doc *d)
{
	const char *v[] = {
	    d->kind,   d->supplier_name, d->supplier_id, d->supplier_scheme, d->supplier_tax_id,
	    d->doc_id, d->issue_date,    d->due_date,    d->currency,        d->net,
	    d->tax,    d->gross,         d->payable,     d->order_ref,       d->match_status,
	    d->status, d->paid_date,     d->paid_amount, d->transaction_id,  d->message_id};

	_Static_assert(sizeof(v) / sizeof(v[0]) == NCOLS, "one value per column");
	return record(fp, v, NCOLS);
}
