/*
 * tc_ubl.c — what secmx-finance reads: UBL invoices and credit notes from
 * our test data and the shared corpus, hostile XML refused (DOCTYPE,
 * entities), exact decimal amounts, and the envelope's decision (approved,
 * or the approval list with the reason).
 */
#include "helpers.h"

#include <stdlib.h>
#include <string.h>

#define NZ SECMX_TESTDATA "/invoice-nz.xml"
#define EX SECMX_CORPUS "/ubl-examples"

/* parse: fin_ubl_read on a string. */
static int parse(const char *xml, struct fin_doc *d)
{
	char err[256];

	return fin_ubl_read(xml, strlen(xml), d, err, sizeof(err));
}

/* Our NZ invoice: header, supplier, totals, lines. */
START_TEST(nz_invoice)
{
	struct fin_doc d;

	read_doc(NZ, "{\"idempotency_key\":\"k\"}", &d);
	ck_assert_str_eq(d.kind, "Invoice");
	ck_assert_str_eq(d.doc_id, "INV-2026-00417");
	ck_assert_str_eq(d.supplier_id, "9429041535097");
	ck_assert_str_eq(d.supplier_scheme, "0088");
	ck_assert_str_eq(d.supplier_country, "NZ");
	ck_assert_str_eq(d.tax, "106.35");
	ck_assert_str_eq(d.line_total, "709.00");
	ck_assert_uint_eq(d.nlines, 2);
	ck_assert_str_eq(d.lines[0].net, "450.00");
	ck_assert_str_eq(d.lines[0].tax_category, "S");
	ck_assert_str_eq(d.lines[0].tax_percent, "15");
	ck_assert_str_eq(d.status, FIN_APPROVED);
	ck_assert_ptr_null(d.reason);
	fin_doc_clear(&d);
}
END_TEST

/* Every invoice and credit note of the shared corpus is read. */
START_TEST(corpus)
{
	static const char *const files[] = {
	    EX "/oasis-ubl21/UBL-Invoice-2.1-Example.xml",
	    EX "/oasis-ubl21/UBL-CreditNote-2.1-Example.xml",
	    EX "/en16931-cen/ubl-tc434-example1.xml",
	    EX "/en16931-cen/ubl-tc434-creditnote1.xml",
	    EX "/peppol-bis-billing3/base-example.xml",
	    EX "/pint-aunz/AU-Invoice.xml",
	    EX "/oasis-ubl21/UBL-Invoice-2.0-Enveloped.xml",
	};
	struct fin_doc d;
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		read_doc(files[i], "{\"idempotency_key\":\"k\"}", &d);
		ck_assert_msg(d.doc_id && d.payable && d.currency && d.supplier_key && d.nlines > 0,
		              "%s: fields missing", files[i]);
		ck_assert_msg(
		    strcmp(d.kind, strstr(files[i], "redit") ? "CreditNote" : "Invoice") == 0,
		    "%s: kind %s", files[i], d.kind);
		fin_doc_clear(&d);
	}
	/* The CEN credit note: totals as written. */
	read_doc(EX "/en16931-cen/ubl-tc434-creditnote1.xml", "{\"idempotency_key\":\"k\"}", &d);
	ck_assert_str_eq(d.kind, "CreditNote");
	ck_assert_str_eq(d.payable, "100.11");
	fin_doc_clear(&d);
}
END_TEST

/* Hostile and foreign XML: refused, never expanded or fetched. */
START_TEST(hostile)
{
	struct fin_doc d;
	char err[256];
	char *buf = NULL, *x;
	size_t len;

	ck_assert_int_eq(parse("<?xml version=\"1.0\"?><!DOCTYPE Invoice [<!ENTITY a "
	                       "\"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]>"
	                       "<Invoice xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:"
	                       "Invoice-2\">&b;</Invoice>",
	                       &d),
	                 SECMX_EPARSE);
	ck_assert_int_eq(parse("<!DOCTYPE x SYSTEM \"file:///etc/passwd\"><x/>", &d), SECMX_EPARSE);
	ck_assert_int_eq(parse("<Invoice><unclosed></Invoice>", &d), SECMX_EPARSE);
	ck_assert_int_eq(parse("<Invoice/>", &d), SECMX_EUNKNOWN); /* no UBL namespace */
	ck_assert_int_eq(
	    secmx_file_read(EX "/oasis-ubl21/UBL-Order-2.1-Example.xml", FIN_DOC_MAX, &buf, &len),
	    0);
	ck_assert_int_eq(fin_ubl_read(buf, len, &d, err, sizeof(err)), SECMX_EUNKNOWN);
	free(buf);
	/* Our invoice with a DOCTYPE inserted after the declaration. */
	ck_assert_int_eq(secmx_file_read(NZ, FIN_DOC_MAX, &buf, &len), 0);
	x = malloc(len + 64);
	ck_assert_ptr_nonnull(x);
	snprintf(x, len + 64, "<!doctype Invoice>%s", strstr(buf, "<Invoice"));
	ck_assert_int_eq(parse(x, &d), SECMX_EPARSE);
	/* A payable amount that is not a decimal. */
	snprintf(x, len + 64, "%s", buf);
	memcpy(strstr(x, "815.35</cbc:Payable"), "8.1e+2", 6);
	ck_assert_int_eq(parse(x, &d), SECMX_EINVALID);
	ck_assert_ptr_null(d.doc_id); /* cleared on failure */
	free(x);
	free(buf);
}
END_TEST

/* Exact decimals: parse, refuse, format; dates. */
START_TEST(amounts)
{
	long long v;
	char buf[40];

	ck_assert_int_eq(fin_amount_parse("815.35", &v), 0);
	ck_assert_int_eq(v, 815350000LL);
	ck_assert_int_eq(fin_amount_parse("-0.5", &v), 0);
	ck_assert_int_eq(v, -500000LL);
	ck_assert_int_eq(fin_amount_parse("12", &v), 0);
	ck_assert_int_eq(v, 12000000LL);
	ck_assert_int_eq(fin_amount_parse("1.234567", &v), 0);
	ck_assert_int_eq(fin_amount_parse("1.2345678", &v), SECMX_EINVAL);
	ck_assert_int_eq(fin_amount_parse("1e3", &v), SECMX_EINVAL);
	ck_assert_int_eq(fin_amount_parse(".5", &v), SECMX_EINVAL);
	ck_assert_int_eq(fin_amount_parse("5.", &v), SECMX_EINVAL);
	ck_assert_int_eq(fin_amount_parse("", &v), SECMX_EINVAL);
	ck_assert_int_eq(fin_amount_parse("1,5", &v), SECMX_EINVAL);
	ck_assert_int_eq(fin_amount_parse("99999999999999999999", &v), SECMX_EINVAL);
	fin_amount_format(815350000LL, buf, sizeof(buf));
	ck_assert_str_eq(buf, "815.35");
	fin_amount_format(-500000LL, buf, sizeof(buf));
	ck_assert_str_eq(buf, "-0.50");
	fin_amount_format(1234567LL, buf, sizeof(buf));
	ck_assert_str_eq(buf, "1.234567");
	ck_assert(fin_date_ok("2026-02-28"));
	ck_assert(!fin_date_ok("2026-13-01"));
	ck_assert(!fin_date_ok("2026-1-01"));
	ck_assert(!fin_date_ok("26-01-01xx"));
}
END_TEST

/* The envelope decides: invalid, disputed, matched; our own checks. */
START_TEST(envelope)
{
	struct fin_doc d;
	char err[256];

	read_doc(NZ, "{\"idempotency_key\":\"k\",\"validation\":{\"valid\":false,\"errors\":2}}",
	         &d);
	ck_assert_str_eq(d.status, FIN_PENDING);
	ck_assert_str_eq(d.match_status, FIN_MATCH_INVALID);
	ck_assert_str_eq(d.reason, "validation failed (2 errors)");
	fin_doc_clear(&d);
	read_doc(NZ,
	         "{\"idempotency_key\":\"k\",\"transaction_id\":\"t-9\","
	         "\"validation\":{\"valid\":true},\"meta\":{\"transaction_state\":\"disputed\"}}",
	         &d);
	ck_assert_str_eq(d.status, FIN_PENDING);
	ck_assert_str_eq(d.match_status, FIN_MATCH_DISPUTED);
	ck_assert_str_eq(d.reason, "transaction t-9 is disputed");
	fin_doc_clear(&d);
	read_doc(NZ, "{\"idempotency_key\":\"k\",\"meta\":{\"transaction_state\":\"matched\"}}",
	         &d);
	ck_assert_str_eq(d.status, FIN_APPROVED);
	ck_assert_str_eq(d.match_status, FIN_MATCH_MATCHED);
	/* Our own check: a line amount that does not add up. */
	ck_assert_int_eq(fin_set(&d.lines[1].net, "259.01"), 0);
	ck_assert_int_eq(fin_envelope_apply(&d, "{\"idempotency_key\":\"k\"}", err, sizeof(err)),
	                 0);
	ck_assert_str_eq(d.status, FIN_PENDING);
	ck_assert_str_eq(d.match_status, FIN_MATCH_CHECK);
	ck_assert_str_eq(d.reason, "lines add up to 709.01, but the line total is 709.00");
	ck_assert_int_eq(fin_set(&d.lines[1].net, "259.00"), 0);
	ck_assert_int_eq(fin_set(&d.gross, "815.36"), 0);
	ck_assert_int_eq(fin_envelope_apply(&d, "{\"idempotency_key\":\"k\"}", err, sizeof(err)),
	                 0);
	ck_assert_str_eq(d.reason, "net 709.00 + tax 106.35 = 815.35, but gross is 815.36");
	ck_assert_int_eq(fin_envelope_apply(&d, "[1]", err, sizeof(err)), SECMX_EPARSE);
	ck_assert_int_eq(fin_envelope_apply(&d,
	                                    "{\"idempotency_key\":\"a\",\"idempotency_key\":"
	                                    "\"b\"}",
	                                    err, sizeof(err)),
	                 SECMX_EPARSE);
	fin_doc_clear(&d);
}
END_TEST

TCase *tc_ubl(void)
{
	TCase *tc = tcase_create("ubl");

	tcase_add_test(tc, nz_invoice);
	tcase_add_test(tc, corpus);
	tcase_add_test(tc, hostile);
	tcase_add_test(tc, amounts);
	tcase_add_test(tc, envelope);
	return tc;
}
