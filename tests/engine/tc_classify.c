/*
 * tc_classify.c — classification by root, namespace and CustomizationID.
 */
#include <string.h>

#include "tests.h"

struct expect {
	const char *file, *type, *profile;
};

static const struct expect CORPUS[] = {
	{"ubl-examples/peppol-bis-billing3/base-example.xml", "Invoice", "peppol-bis-billing-3"},
	{"ubl-examples/pint-aunz/AU-Invoice.xml", "Invoice", "pint-aunz-billing"},
	{"ubl-examples/en16931-cen/ubl-tc434-example1.xml", "Invoice", "en16931"},
	{"ubl-examples/en16931-cen/ubl-tc434-creditnote1.xml", "CreditNote", "en16931"},
	{"ubl-examples/peppol-ordering3/Order_Example.xml", "Order", "peppol-ordering-3"},
	{"ubl-examples/peppol-ordering3/OrderResponse_Example.xml", "OrderResponse",
	 "peppol-ordering-3"},
	{"ubl-examples/peppol-ordering3/InvoiceResponse_Example.xml", "ApplicationResponse",
	 "peppol-ordering-3"},
	{"ubl-examples/oasis-ubl21/UBL-Invoice-2.1-Example.xml", "Invoice", "ubl-2.1"},
	{"ubl-examples/oasis-ubl21/UBL-CreditNote-2.1-Example.xml", "CreditNote", "ubl-2.1"},
	{"ubl-examples/oasis-ubl21/UBL-Order-2.1-Example.xml", "Order", "ubl-2.1"},
	{"ubl-examples/oasis-ubl21/UBL-OrderResponse-2.1-Example.xml", "OrderResponse", "ubl-2.1"},
	{"ubl-examples/oasis-ubl21/UBL-RemittanceAdvice-2.0-Example.xml", "RemittanceAdvice",
	 "ubl-2.1"},
	{"ubl-examples/oasis-ubl21/UBL-ReceiptAdvice-2.0-Example.xml", "ReceiptAdvice", "ubl-2.1"},
	{"ubl-examples/oasis-ubl21/UBL-Invoice-2.0-Enveloped.xml", "Invoice", "ubl-2.1"},
};

START_TEST(corpus_types)
{
	struct engine *eng = test_engine(NULL, ENGINE_CFG_NO_SCHEMAS);
	struct engine_report *rep = engine_report_new();
	struct engine_doc *doc = test_parse_file(eng, corpus(CORPUS[_i].file), rep);

	ck_assert_int_eq(engine_doc_classify(eng, doc, rep), 0);
	ck_assert_str_eq(engine_doc_type(doc)->name, CORPUS[_i].type);
	ck_assert_str_eq(engine_doc_profile(doc), CORPUS[_i].profile);
	engine_doc_free(doc);
	engine_report_free(rep);
	test_engine_free();
}
END_TEST

static int classify_str(const char *xml, struct engine_report *rep, struct engine_doc **out)
{
	struct engine *eng = test_engine(NULL, ENGINE_CFG_NO_SCHEMAS);
	struct engine_doc *doc = test_parse_str(eng, xml, rep);
	int rc = engine_doc_classify(eng, doc, rep);

	*out = doc;
	return rc;
}

START_TEST(unknown_root_refused)
{
	struct engine_report *rep = engine_report_new();
	struct engine_doc *doc;

	ck_assert_int_eq(classify_str("<Invoice xmlns='urn:example:not-ubl'/>", rep, &doc),
			 SECMX_EUNKNOWN);
	ck_assert(report_has(rep, "SECMX-TYPE"));
	ck_assert_ptr_nonnull(strstr(engine_report_at(rep, 0)->message, "urn:example:not-ubl"));
	engine_doc_free(doc);
	engine_report_free(rep);
	test_engine_free();
}
END_TEST

START_TEST(selfbilling_and_mlr)
{
	struct engine_report *rep = engine_report_new();
	struct engine_doc *doc;

	ck_assert_int_eq(
		classify_str("<Invoice xmlns='urn:oasis:names:specification:ubl:schema:xsd:Invoice-2' "
			     "xmlns:cbc='urn:oasis:names:specification:ubl:schema:xsd:"
			     "CommonBasicComponents-2'><cbc:CustomizationID>"
			     "urn:peppol:pint:selfbilling-1@aunz-1</cbc:CustomizationID>"
			     "<cbc:ID>1</cbc:ID></Invoice>",
			     rep, &doc),
		0);
	ck_assert_str_eq(engine_doc_profile(doc), "pint-aunz-selfbilling");
	ck_assert_str_eq(engine_doc_id(doc), "1");
	engine_doc_free(doc);
	ck_assert_int_eq(
		classify_str("<ApplicationResponse xmlns='urn:oasis:names:specification:ubl:schema:"
			     "xsd:ApplicationResponse-2' xmlns:cbc='urn:oasis:names:specification:"
			     "ubl:schema:xsd:CommonBasicComponents-2'><cbc:CustomizationID>"
			     "urn:fdc:peppol.eu:poacc:trns:mlr:3</cbc:CustomizationID>"
			     "</ApplicationResponse>",
			     rep, &doc),
		0);
	ck_assert_str_eq(engine_doc_profile(doc), "peppol-ordering-3");
	engine_doc_free(doc);
	engine_report_free(rep);
	test_engine_free();
}
END_TEST

START_TEST(advanced_ordering_needs_ubl23)
{
	struct engine_report *rep = engine_report_new();
	struct engine_doc *doc;

	ck_assert_int_eq(
		classify_str("<OrderChange xmlns='urn:oasis:names:specification:ubl:schema:xsd:"
			     "OrderChange-2' xmlns:cbc='urn:oasis:names:specification:ubl:schema:"
			     "xsd:CommonBasicComponents-2'><cbc:CustomizationID>"
			     "urn:fdc:peppol.eu:poacc:trns:order_change:3</cbc:CustomizationID>"
			     "</OrderChange>",
			     rep, &doc),
		SECMX_EUNSUPPORTED);
	ck_assert(report_has(rep, "SECMX-UBL23"));
	engine_doc_free(doc);
	engine_report_free(rep);
	test_engine_free();
}
END_TEST

TCase *tc_classify(void)
{
	TCase *tc = tcase_create("classify");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, corpus_types, 0, sizeof(CORPUS) / sizeof(CORPUS[0]));
	tcase_add_test(tc, unknown_root_refused);
	tcase_add_test(tc, selfbilling_and_mlr);
	tcase_add_test(tc, advanced_ordering_needs_ubl23);
	return tc;
}
