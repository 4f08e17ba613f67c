/*
 * tc_csv.c — the CSV export layout (docs/finance.md): the header, RFC 4180
 * quoting of tricky names (commas, quotes, newlines, leading blanks,
 * non-ASCII kept byte for byte), CRLF records, exact amounts, and the
 * formula guard (CSV injection: names that a spreadsheet would run get a
 * leading apostrophe; plain numbers never do). The expected
 * bytes are written out in full: the layout is a contract with finance
 * systems.
 */
#include "helpers.h"

#include <stdlib.h>
#include <string.h>

/* csv_of: the header (HEADER) and D's row (fin_csv_row FLAGS) as written
 * into a memory stream; caller frees. */
static char *csv_of(const struct fin_doc *d, bool header, unsigned flags)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(fp);
	if (header)
		ck_assert_int_eq(fin_csv_header(fp), 0);
	if (d)
		ck_assert_int_eq(fin_csv_row(fp, d, flags), 0);
	fclose(fp);
	return buf;
}

START_TEST(header)
{
	char *s = csv_of(NULL, true, 0);

	ck_assert_str_eq(s, "type,supplier_name,supplier_id,supplier_id_scheme,supplier_tax_id,"
	                    "invoice_id,issue_date,due_date,currency,net,tax,gross,payable,"
	                    "order_reference,match_status,status,paid_date,paid_amount,"
	                    "transaction_id,message_id\r\n");
	free(s);
}
END_TEST

START_TEST(tricky)
{
	struct fin_doc d = {0};
	char *s;

	fin_set(&d.kind, "Invoice");
	fin_set(&d.supplier_name, "Smith, \"Bob\" & Sons\nLtd");
	fin_set(&d.supplier_id, "9429041535097");
	fin_set(&d.supplier_scheme, "0088");
	fin_set(&d.supplier_tax_id, " 49-091-850"); /* leading blank: quoted */
	fin_set(&d.doc_id, "INV,1\r\n2");
	fin_set(&d.issue_date, "2026-11-20");
	fin_set(&d.currency, "NZD");
	fin_set(&d.net, "709.00");
	fin_set(&d.tax, "106.35");
	fin_set(&d.gross, "815.35");
	fin_set(&d.payable, "-0.000001");
	fin_set(&d.order_ref, "Ōtautahi Café — PO 7");
	fin_set(&d.match_status, "unmatched");
	fin_set(&d.status, "approved");
	fin_set(&d.message_id, "<m1@x>");
	s = csv_of(&d, false, 0);
	ck_assert_str_eq(s, "Invoice,\"Smith, \"\"Bob\"\" & Sons\nLtd\",9429041535097,0088,"
	                    "\" 49-091-850\",\"INV,1\r\n2\",2026-11-20,,NZD,709.00,106.35,815.35,"
	                    "-0.000001,Ōtautahi Café — PO 7,unmatched,approved,,,,<m1@x>\r\n");
	free(s);
	fin_doc_clear(&d);
}
END_TEST

/* The formula guard (FIN_CSV_FORMULA_GUARD): each text field that begins
 * like a formula gets a leading apostrophe (and is quoted when it holds a
 * comma or quote, as any field); plain decimals, also negative ones, and
 * ordinary text are unchanged; without the flag the bytes are as given. */
START_TEST(formula_guard)
{
	struct fin_doc d = {0};
	char *s;

	fin_set(&d.kind, "Invoice");
	fin_set(&d.supplier_name, "=HYPERLINK(\"http://evil.example/?x\",\"Pay here\")");
	fin_set(&d.supplier_id, "+64-9-555-0100");
	fin_set(&d.supplier_scheme, "@SUM(1+1)*cmd|' /C calc'!A0");
	fin_set(&d.supplier_tax_id, "\tTAB");
	fin_set(&d.doc_id, "\xef\xbc\x9d" "1+2"); /* full-width equals sign */
	fin_set(&d.issue_date, "2026-11-20");
	fin_set(&d.currency, "NZD");
	fin_set(&d.net, "-709.00");
	fin_set(&d.tax, "+106.35");
	fin_set(&d.gross, "-1+815.35");
	fin_set(&d.payable, "815");
	fin_set(&d.order_ref, "PO-=7");
	fin_set(&d.match_status, "unmatched");
	fin_set(&d.status, "approved");
	fin_set(&d.message_id, "-");
	s = csv_of(&d, false, FIN_CSV_FORMULA_GUARD);
	ck_assert_str_eq(s, "Invoice,\"'=HYPERLINK(\"\"http://evil.example/?x\"\",\"\"Pay here\"\")\","
	                    "'+64-9-555-0100,'@SUM(1+1)*cmd|' /C calc'!A0,'\tTAB,"
	                    "'\xef\xbc\x9d" "1+2,2026-11-20,,NZD,-709.00,+106.35,'-1+815.35,815,PO-=7,"
	                    "unmatched,approved,,,,'-\r\n");
	free(s);
	s = csv_of(&d, false, 0);
	ck_assert_str_eq(s, "Invoice,\"=HYPERLINK(\"\"http://evil.example/?x\"\",\"\"Pay here\"\")\","
	                    "+64-9-555-0100,@SUM(1+1)*cmd|' /C calc'!A0,\tTAB,"
	                    "\xef\xbc\x9d" "1+2,2026-11-20,,NZD,-709.00,+106.35,-1+815.35,815,PO-=7,"
	                    "unmatched,approved,,,,-\r\n");
	free(s);
	fin_doc_clear(&d);
}
END_TEST

/* A row from a real invoice read through the ledger path. */
START_TEST(real_row)
{
	struct fin_doc d;
	char *s;

	read_doc(SECMX_TESTDATA "/invoice-nz.xml",
	         "{\"idempotency_key\":\"k\",\"message_id\":\"<m@x>\",\"transaction_id\":\"t-1\"}",
	         &d);
	s = csv_of(&d, false, 0);
	ck_assert_str_eq(s, "Invoice,Kauri Office Supplies,9429041535097,0088,49091850,"
	                    "INV-2026-00417,2026-11-20,2026-12-20,NZD,709.00,106.35,815.35,815.35,"
	                    "PO-88120,unmatched,approved,,,t-1,<m@x>\r\n");
	free(s);
	fin_doc_clear(&d);
}
END_TEST

TCase *tc_csv(void)
{
	TCase *tc = tcase_create("csv");

	tcase_add_test(tc, header);
	tcase_add_test(tc, tricky);
	tcase_add_test(tc, real_row);
	tcase_add_test(tc, formula_guard);
	return tc;
}
