/*
 * tc_inspect.c — engine_doc_inspect(): the JSON summary of every corpus
 * example, checked against values read by hand from those files, plus the
 * rules "absent fields are omitted" and "amounts are kept as written".
 *
 * Paths into the summary are dotted ("parties.supplier.name",
 * "totals.tax.0.amount"); an expected value of NULL means the key must be
 * absent.
 */
#include <stdlib.h>
#include <string.h>

#include "tests.h"

/* jget: follow a dotted PATH (object keys, decimal array indexes) in J. */
static json_t *jget(json_t *j, const char *path)
{
	char buf[256], *p, *save = NULL;

	ck_assert_uint_lt(strlen(path), sizeof(buf));
	memcpy(buf, path, strlen(path) + 1);
	for (p = strtok_r(buf, ".", &save); p != NULL && j != NULL; p = strtok_r(NULL, ".", &save)) {
		if (json_is_array(j)) {
			char *end;
			unsigned long i = strtoul(p, &end, 10);

			j = *end == '\0' ? json_array_get(j, i) : NULL;
		} else {
			j = json_object_get(j, p);
		}
	}
	return j;
}

/* jstr_eq: assert that PATH in J is the string WANT, or absent if WANT is NULL. */
static void jstr_eq(json_t *j, const char *file, const char *path, const char *want)
{
	json_t *v = jget(j, path);

	if (want == NULL) {
		ck_assert_msg(v == NULL, "%s: %s should be absent", file, path);
		return;
	}
	ck_assert_msg(json_is_string(v), "%s: %s missing or not a string", file, path);
	ck_assert_msg(strcmp(json_string_value(v), want) == 0, "%s: %s is '%s', want '%s'", file,
		      path, json_string_value(v), want);
}

struct kv {
	const char *path, *want;
};

struct corpus_case {
	const char *file;
	long lines;             /* expected line_count, -1: key absent */
	struct kv kv[40];
};

/* Values read from the corpus files themselves (see the file names). */
static const struct corpus_case CASES[] = {
	{"ubl-examples/peppol-bis-billing3/base-example.xml", 2, {
		{"type", "Invoice"}, {"profile", "peppol-bis-billing-3"},
		{"customization_id",
		 "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"},
		{"profile_id", "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"},
		{"id", "Snippet1"}, {"issue_date", "2017-11-13"}, {"due_date", "2017-12-01"},
		{"type_code", "380"}, {"currency", "EUR"}, {"tax_currency", NULL},
		{"buyer_reference", "0150abc"},
		{"parties.supplier.name", "SupplierTradingName Ltd."},
		{"parties.supplier.registration_name", "SupplierOfficialName Ltd"},
		{"parties.supplier.endpoint.id", "9482348239847239874"},
		{"parties.supplier.endpoint.scheme", "0088"},
		{"parties.supplier.identifiers.0.id", "99887766"},
		{"parties.supplier.identifiers.0.scheme", NULL},
		{"parties.supplier.legal_id.id", "GB983294"},
		{"parties.supplier.tax_registrations.0.id", "GB1232434"},
		{"parties.supplier.tax_registrations.0.scheme", "VAT"},
		{"parties.supplier.country", "GB"},
		{"parties.customer.name", "BuyerTradingName AS"},
		{"parties.customer.endpoint.scheme", "0002"},
		{"parties.customer.legal_id.id", "39937423947"},
		{"parties.customer.legal_id.scheme", "0183"},
		{"parties.customer.tax_registrations.0.id", "SE4598375937"},
		{"parties.customer.country", "SE"},
		{"parties.delivery.name", "Delivery party Name"},
		{"parties.payee", NULL},
		{"totals.source", "LegalMonetaryTotal"},
		{"totals.line_extension.amount", "1300"},
		{"totals.tax_exclusive.amount", "1325"},
		{"totals.tax_inclusive.amount", "1656.25"},
		{"totals.charge_total.amount", "25"},
		{"totals.allowance_total", NULL},
		{"totals.payable.amount", "1656.25"}, {"totals.payable.currency", "EUR"},
		{"totals.tax.0.amount", "331.25"},
		/* The base example carries no document references at all. */
		{"references", NULL},
	}},
	{"ubl-examples/pint-aunz/AU-Invoice.xml", 3, {
		{"type", "Invoice"}, {"profile", "pint-aunz-billing"}, {"id", "Invoice01"},
		{"issue_date", "2019-07-29"}, {"currency", "AUD"},
		{"parties.supplier.name", "Supplier Trading Name Ltd"},
		{"parties.supplier.endpoint.id", "47555222000"},
		{"parties.supplier.endpoint.scheme", "0151"},
		{"parties.supplier.legal_id.scheme", "0151"},
		{"parties.supplier.tax_registrations.0.id", "47555222000"},
		{"parties.supplier.tax_registrations.0.scheme", "GST"},
		{"parties.supplier.country", "AU"},
		{"parties.customer.name", "Trotters Trading Co Ltd"},
		{"parties.customer.identifiers.0.scheme", "0151"},
		{"parties.payee.name", "Mr Anderson"},
		{"parties.tax_representative.name", "Mr Wilson"},
		{"totals.payable.amount", "1636.14"}, {"totals.prepaid.amount", "0.00"},
		{"totals.charge_total.amount", "0.00"}, {"totals.tax.0.amount", "148.74"},
		{"references.order.0.id", "PurchaseOrderReference"},
		{"references.order.0.sales_order_id", "12345678"},
		{"references.billing.0.id", "PrecedingInvoiceReference"},
		{"references.billing.0.issue_date", "2019-05-30"},
		{"references.despatch.0.id", "DDR-REF"}, {"references.receipt.0.id", "RD-REF"},
		{"references.contract.0.id", "CD-REF"}, {"references.originator.0.id", "OD-REF"},
	}},
	{"ubl-examples/en16931-cen/ubl-tc434-example1.xml", 20, {
		{"type", "Invoice"}, {"profile", "en16931"}, {"id", "12115118"},
		{"issue_date", "2015-01-09"}, {"due_date", "2015-01-09"},
		{"parties.supplier.registration_name", "De Koksmaat"},
		{"parties.supplier.name", NULL},
		{"parties.supplier.tax_registrations.0.id", "NL8200.98.395.B.01"},
		{"parties.customer.registration_name", "ODIN 59"},
		{"totals.line_extension.amount", "229.60"},
		{"totals.tax_inclusive.amount", "250.33"}, {"totals.payable.amount", "250.33"},
		{"totals.tax.0.amount", "20.73"},
	}},
	{"ubl-examples/en16931-cen/ubl-tc434-creditnote1.xml", 1, {
		{"type", "CreditNote"}, {"id", "018304 / 28865"}, {"type_code", "381"},
		{"issue_date", "2019-09-23"},
		{"parties.supplier.name", "My Supplier Company N.V."},
		{"parties.supplier.endpoint.scheme", "0201"},
		{"parties.customer.tax_registrations.0.id", "BE0000000295"},
		{"totals.payable.amount", "100.11"}, {"totals.tax.0.amount", "0.00"},
	}},
	{"ubl-examples/oasis-ubl21/UBL-Invoice-2.1-Example.xml", 5, {
		{"type", "Invoice"}, {"profile", "ubl-2.1"}, {"ubl_version", "2.1"},
		{"id", "TOSL108"}, {"issue_date", "2009-12-15"}, {"currency", "EUR"},
		{"parties.supplier.name", "Salescompany ltd."},
		{"parties.supplier.registration_name", "The Sellercompany Incorporated"},
		{"parties.customer.name", "Buyercompany ltd"},
		{"parties.payee.name", "Ebeneser Scrooge Inc."},
		{"totals.prepaid.amount", "1000"}, {"totals.payable_rounding.amount", "0.30"},
		{"totals.payable.amount", "729"}, {"totals.allowance_total.amount", "100"},
		{"totals.tax.0.amount", "292.20"},
		{"references.order.0.id", "123"}, {"references.contract.0.id", "Contract321"},
		{"references.additional.0.id", "Doc1"}, {"references.additional.1.id", "Doc2"},
	}},
	{"ubl-examples/oasis-ubl21/UBL-CreditNote-2.1-Example.xml", 5, {
		{"type", "CreditNote"}, {"id", "TOSL108"},
		{"parties.supplier.name", "Salescompany ltd."},
		{"totals.payable.amount", "729"}, {"references.order.0.id", "123"},
	}},
	{"ubl-examples/oasis-ubl21/UBL-Invoice-2.0-Enveloped.xml", 1, {
		{"type", "Invoice"}, {"id", "A00095678"}, {"issue_date", "2005-06-21"},
		{"parties.supplier.name", "Consortial"},
		{"parties.customer.name", "IYT Corporation"},
		{"totals.tax_exclusive.amount", "90.00"}, {"totals.payable.amount", "107.50"},
		{"totals.payable.currency", "GBP"},
		{"references.order.0.id", "AEG012345"},
	}},
	{"ubl-examples/oasis-ubl21/UBL-Order-2.1-Example.xml", 2, {
		{"type", "Order"}, {"id", "34"}, {"issue_date", "2010-01-20"},
		{"parties.buyer.name", "Johnssons byggvaror"},
		{"parties.seller.name", "Moderna Produkter AB"},
		{"parties.delivery.name", "Swedish trucking"},
		{"parties.supplier", NULL}, {"parties.customer", NULL},
		{"totals.source", "AnticipatedMonetaryTotal"},
		{"totals.line_extension.amount", "6225"}, {"totals.payable.amount", "6225"},
		{"references.contract.0.id", "34322"},
		{"references.quotation.0.id", "QuoteID123"},
		{"references.originator.0.id", "MAFO"},
		{"references.previous_order.0.id", "RjectedOrderID123"},
	}},
	{"ubl-examples/peppol-ordering3/Order_Example.xml", 2, {
		{"type", "Order"}, {"profile", "peppol-ordering-3"}, {"variant", "Peppol Order"},
		{"id", "34"}, {"issue_date", "2018-09-01"}, {"type_code", "220"},
		{"parties.buyer.name", "Helseforetak"},
		{"parties.buyer.endpoint.id", "987654325"},
		{"parties.buyer.endpoint.scheme", "0192"},
		{"parties.seller.name", "Medical"}, {"parties.customer.name", "Accounting"},
		{"totals.source", "AnticipatedMonetaryTotal"},
		{"totals.payable.amount", "6363"}, {"totals.payable.currency", "NOK"},
		{"totals.payable_rounding.amount", "0.50"},
		{"references.catalogue.0.id", "Cat2023-03-07"},
		{"references.project.0.id", "PID33"},
	}},
	{"ubl-examples/oasis-ubl21/UBL-OrderResponse-2.1-Example.xml", 2, {
		{"type", "OrderResponse"}, {"id", "7"}, {"issue_date", "2010-01-21"},
		{"parties.buyer.name", "Johnssons byggvaror"},
		{"parties.seller.name", "Moderna Produkter AB"},
		{"references.order.0.id", "34"}, {"totals", NULL},
	}},
	{"ubl-examples/peppol-ordering3/OrderResponse_Example.xml", 3, {
		{"type", "OrderResponse"}, {"variant", "Peppol Order Response"}, {"id", "101"},
		{"type_code", "CA"}, {"parties.buyer.registration_name", "City Hospital"},
		{"parties.buyer.name", NULL}, {"parties.buyer.endpoint.id", "7590000012347"},
		{"parties.buyer.identifiers.0.id", "DK55412777"},
		{"parties.seller.registration_name", "The Supplier AB"},
		{"references.order.0.id", "11233"},
	}},
	{"ubl-examples/oasis-ubl21/UBL-ReceiptAdvice-2.0-Example.xml", 1, {
		{"type", "ReceiptAdvice"}, {"id", "658398"}, {"ubl_version", "2.0"},
		{"parties.despatch_supplier.name", "Consortial"},
		{"parties.delivery_customer.name", "IYT Corporation"},
		{"parties.delivery_customer.tax_registrations.0.id", "12356478"},
		{"parties.delivery_customer.tax_registrations.0.scheme", "UK VAT"},
		{"parties.delivery_customer.country", "GB"},
		{"references.order.0.id", "AEG012345"},
		{"references.order.0.sales_order_id", "CON0095678"},
		{"references.despatch.0.id", "565899"}, {"totals", NULL},
	}},
	{"ubl-examples/oasis-ubl21/UBL-RemittanceAdvice-2.0-Example.xml", 1, {
		{"type", "RemittanceAdvice"}, {"id", "6577884"}, {"issue_date", "2005-06-22"},
		{"parties.supplier.name", "Consortial"}, {"parties.customer.name", "IYT Corporation"},
		{"parties.payee.name", "Consortial"},
		{"totals.total_payment.amount", "107.50"}, {"totals.total_payment.currency", "GBP"},
		{"totals.payable", NULL},
		{"references.invoice.0.id", "A00095678"},
	}},
	{"ubl-examples/peppol-ordering3/InvoiceResponse_Example.xml", -1, {
		{"type", "ApplicationResponse"}, {"variant", "Peppol Invoice Response"},
		{"id", "imrid001"}, {"issue_date", "2017-12-01"}, {"issue_time", "12:00:00"},
		{"parties.sender.registration_name", "Buyer organization"},
		{"parties.sender.endpoint.id", "5798000012349"},
		{"parties.sender.identifiers.0.scheme", "0184"},
		{"parties.receiver.registration_name", "Seller company"},
		{"response.code", "RE"}, {"response.status_reason_code", "NOA"},
		{"references.document.0.id", "inv021"},
		{"references.document.0.type_code", "380"},
		{"totals", NULL}, {"currency", NULL},
	}},
};

#define N_CASES (sizeof(CASES) / sizeof(CASES[0]))

/* Every file in the corpus directory listing above, each checked. */
START_TEST(corpus_summaries)
{
	const struct corpus_case *c = &CASES[_i];
	struct engine *eng = test_engine(NULL, 0x100u);
	struct engine_report *rep = engine_report_new();
	struct engine_doc *doc = test_parse_file(eng, corpus(c->file), rep);
	json_t *j, *lines;
	size_t k;

	ck_assert_int_eq(engine_doc_classify(eng, doc, rep), 0);
	j = engine_doc_inspect(doc);
	ck_assert_ptr_nonnull(j);
	/* The summary agrees with the classifier. */
	jstr_eq(j, c->file, "type", engine_doc_type(doc)->name);
	jstr_eq(j, c->file, "id", engine_doc_id(doc));
	for (k = 0; k < sizeof(c->kv) / sizeof(c->kv[0]) && c->kv[k].path != NULL; k++)
		jstr_eq(j, c->file, c->kv[k].path, c->kv[k].want);
	lines = json_object_get(j, "line_count");
	if (c->lines < 0)
		ck_assert_msg(lines == NULL, "%s: line_count should be absent", c->file);
	else
		ck_assert_msg(json_is_integer(lines) && json_integer_value(lines) == c->lines,
			      "%s: line_count %lld, want %ld", c->file,
			      lines ? (long long)json_integer_value(lines) : -1LL, c->lines);
	json_decref(j);
	engine_doc_free(doc);
	engine_report_free(rep);
	test_engine_free();
}
END_TEST

/* A bare invoice: nothing it lacks appears; amounts stay as written. */
START_TEST(absent_omitted_amounts_verbatim)
{
	static const char xml[] =
		"<Invoice xmlns='urn:oasis:names:specification:ubl:schema:xsd:Invoice-2' "
		"xmlns:cbc='urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2' "
		"xmlns:cac='urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2'>"
		"<cbc:ID> INV-7 </cbc:ID>"
		"<cac:TaxTotal><cbc:TaxAmount currencyID='NZD'>0.10</cbc:TaxAmount></cac:TaxTotal>"
		"<cac:TaxTotal><cbc:TaxAmount currencyID='EUR'>0.05</cbc:TaxAmount></cac:TaxTotal>"
		"<cac:LegalMonetaryTotal>"
		"<cbc:PayableAmount currencyID='NZD'>000123.4500</cbc:PayableAmount>"
		"</cac:LegalMonetaryTotal></Invoice>";
	struct engine *eng = test_engine(NULL, 0x100u);
	struct engine_report *rep = engine_report_new();
	struct engine_doc *doc = test_parse_str(eng, xml, rep);
	json_t *j;

	ck_assert_int_eq(engine_doc_classify(eng, doc, rep), 0);
	j = engine_doc_inspect(doc);
	ck_assert_ptr_nonnull(j);
	jstr_eq(j, "bare", "type", "Invoice");
	jstr_eq(j, "bare", "profile", "ubl-2.1");
	jstr_eq(j, "bare", "id", "INV-7");
	jstr_eq(j, "bare", "totals.payable.amount", "000123.4500");
	jstr_eq(j, "bare", "totals.payable.currency", "NZD");
	jstr_eq(j, "bare", "totals.tax.0.amount", "0.10");
	jstr_eq(j, "bare", "totals.tax.1.currency", "EUR");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "line_count")), 0);
	{
		static const char *const absent[] = {
			"parties", "references", "issue_date", "due_date", "currency",
			"customization_id", "profile_id", "variant", "type_code", "response",
			"totals.line_extension", "totals.source.x", "root",
		};
		size_t i;

		for (i = 0; i < sizeof(absent) / sizeof(absent[0]); i++)
			jstr_eq(j, "bare", absent[i], NULL);
	}
	json_decref(j);
	engine_doc_free(doc);
	engine_report_free(rep);
	test_engine_free();
}
END_TEST

/* Before (or without) classification: the root is named, no type claimed. */
START_TEST(unclassified_claims_no_type)
{
	static const char xml[] =
		"<Thing xmlns='urn:example:other' "
		"xmlns:cbc='urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2'>"
		"<cbc:ID>X1</cbc:ID></Thing>";
	struct engine *eng = test_engine(NULL, 0x100u);
	struct engine_report *rep = engine_report_new();
	struct engine_doc *doc = test_parse_str(eng, xml, rep);
	json_t *j;

	ck_assert_int_eq(engine_doc_classify(eng, doc, rep), SECMX_EUNKNOWN);
	j = engine_doc_inspect(doc);
	ck_assert_ptr_nonnull(j);
	jstr_eq(j, "thing", "root", "Thing");
	jstr_eq(j, "thing", "type", NULL);
	jstr_eq(j, "thing", "profile", NULL);
	jstr_eq(j, "thing", "id", "X1");
	ck_assert_ptr_null(json_object_get(j, "line_count"));
	json_decref(j);
	engine_doc_free(doc);
	engine_report_free(rep);
	test_engine_free();
}
END_TEST

/* The same reference type may repeat: every one is listed, in order. */
START_TEST(remittance_lines_all_listed)
{
	static const char xml[] =
		"<RemittanceAdvice xmlns='urn:oasis:names:specification:ubl:schema:xsd:RemittanceAdvice-2' "
		"xmlns:cbc='urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2' "
		"xmlns:cac='urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2'>"
		"<cbc:ID>RA-1</cbc:ID>"
		"<cbc:TotalPaymentAmount currencyID='NZD'>30.00</cbc:TotalPaymentAmount>"
		"<cac:RemittanceAdviceLine><cbc:ID>1</cbc:ID>"
		"<cac:InvoiceDocumentReference><cbc:ID>INV-A</cbc:ID></cac:InvoiceDocumentReference>"
		"</cac:RemittanceAdviceLine>"
		"<cac:RemittanceAdviceLine><cbc:ID>2</cbc:ID>"
		"<cac:BillingReference><cac:InvoiceDocumentReference><cbc:ID>INV-B</cbc:ID>"
		"</cac:InvoiceDocumentReference></cac:BillingReference>"
		"</cac:RemittanceAdviceLine></RemittanceAdvice>";
	struct engine *eng = test_engine(NULL, 0x100u);
	struct engine_report *rep = engine_report_new();
	struct engine_doc *doc = test_parse_str(eng, xml, rep);
	json_t *j;

	ck_assert_int_eq(engine_doc_classify(eng, doc, rep), 0);
	j = engine_doc_inspect(doc);
	ck_assert_ptr_nonnull(j);
	jstr_eq(j, "ra", "references.invoice.0.id", "INV-A");
	jstr_eq(j, "ra", "references.invoice.1.id", "INV-B");
	jstr_eq(j, "ra", "references.invoice.2", NULL);
	jstr_eq(j, "ra", "totals.total_payment.amount", "30.00");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "line_count")), 2);
	json_decref(j);
	engine_doc_free(doc);
	engine_report_free(rep);
	test_engine_free();
}
END_TEST

TCase *tc_inspect(void)
{
	TCase *tc = tcase_create("inspect");

	tcase_add_loop_test(tc, corpus_summaries, 0, (int)N_CASES);
	tcase_add_test(tc, absent_omitted_amounts_verbatim);
	tcase_add_test(tc, unclassified_claims_no_type);
	tcase_add_test(tc, remittance_lines_all_listed);
	return tc;
}
