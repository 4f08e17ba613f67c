/*
 * tc_path.c — engine__path_all / engine__path_first (engine_int.h), the
 * child-path walks correlation uses instead of XPath, select exactly the
 * nodes libxml2's XPath selects for the same path, in the same order, on
 * every corpus document and on a generated one with many lines; counting
 * (OUT NULL) agrees, MAX is respected, and other prefixes select nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "engine_int.h"
#include "tests.h"

static const char *const PATHS[] = {
    "cbc:ID",
    "cbc:DocumentCurrencyCode",
    "cac:OrderReference/cbc:ID",
    "cac:InvoiceLine",
    "cac:InvoiceLine/cbc:ID",
    "cac:InvoiceLine/cac:Item/cac:SellersItemIdentification/cbc:ID",
    "cac:InvoiceLine/cac:Price/cbc:PriceAmount",
    "cac:CreditNoteLine/cbc:CreditedQuantity",
    "cac:OrderLine/cac:LineItem",
    "cac:OrderLine/cac:LineItem/cbc:Quantity",
    "cac:ReceiptLine/cac:OrderLineReference/cbc:LineID",
    "cac:AccountingSupplierParty/cac:Party/cac:PartyIdentification/cbc:ID",
    "cac:AccountingCustomerParty/cac:Party/cbc:EndpointID",
    "cac:BuyerCustomerParty/cac:Party/cac:PartyLegalEntity/cbc:CompanyID",
    "cac:RemittanceAdviceLine/cac:InvoiceDocumentReference/cbc:ID",
    "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID",
    "cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:ID",
    "cac:LegalMonetaryTotal/cbc:LineExtensionAmount",
    "cac:DocumentResponse/cac:Response/cbc:ResponseCode",
};

/* same_as_xpath: compare both ways of selecting PATH from the root. */
static void same_as_xpath(struct engine_doc *doc, const char *name, const char *path)
{
	xmlNodePtr root = xmlDocGetRootElement(doc->xml), *mine;
	xmlXPathContextPtr ctx = xmlXPathNewContext(doc->xml);
	xmlXPathObjectPtr obj;
	size_t n, want, i;

	ck_assert_ptr_nonnull(ctx);
	xmlXPathRegisterNs(ctx, BAD_CAST "cbc", BAD_CAST NS_CBC);
	xmlXPathRegisterNs(ctx, BAD_CAST "cac", BAD_CAST NS_CAC);
	ctx->node = root;
	obj = xmlXPathEvalExpression(BAD_CAST path, ctx);
	ck_assert_ptr_nonnull(obj);
	want = obj->nodesetval ? (size_t)obj->nodesetval->nodeNr : 0;
	n = engine__path_all(root, path, NULL, (size_t)-1);
	ck_assert_msg(n == want, "%s %s: %zu nodes, XPath %zu", name, path, n, want);
	mine = calloc(n + 1, sizeof(*mine));
	ck_assert_uint_eq(engine__path_all(root, path, mine, n), n);
	for (i = 0; i < n; i++)
		ck_assert_msg(mine[i] == obj->nodesetval->nodeTab[i], "%s %s: node %zu differs",
		              name, path, i);
	ck_assert_ptr_eq(engine__path_first(root, path), n ? obj->nodesetval->nodeTab[0] : NULL);
	if (n > 1)
		ck_assert_uint_eq(engine__path_all(root, path, mine, 1), 1);
	free(mine);
	xmlXPathFreeObject(obj);
	xmlXPathFreeContext(ctx);
}

static const char *const DOCS[] = {
    "ubl-examples/en16931-cen/ubl-tc434-creditnote1.xml",
    "ubl-examples/en16931-cen/ubl-tc434-example1.xml",
    "ubl-examples/oasis-ubl21/UBL-Invoice-2.1-Example.xml",
    "ubl-examples/oasis-ubl21/UBL-Order-2.1-Example.xml",
    "ubl-examples/oasis-ubl21/UBL-ReceiptAdvice-2.0-Example.xml",
    "ubl-examples/oasis-ubl21/UBL-RemittanceAdvice-2.0-Example.xml",
    "ubl-examples/peppol-bis-billing3/base-example.xml",
    "ubl-examples/peppol-ordering3/Order_Example.xml",
    "ubl-examples/peppol-ordering3/InvoiceResponse_Example.xml",
    "ubl-examples/pint-aunz/AU-Invoice.xml",
};

START_TEST(path_walk_matches_xpath)
{
	struct engine *eng = test_engine(NULL, 0);
	size_t i, j;

	for (i = 0; i < sizeof(DOCS) / sizeof(DOCS[0]); i++) {
		struct engine_report *rep = engine_report_new();
		struct engine_doc *doc = test_parse_file(eng, corpus(DOCS[i]), rep);

		for (j = 0; j < sizeof(PATHS) / sizeof(PATHS[0]); j++)
			same_as_xpath(doc, DOCS[i], PATHS[j]);
		engine_doc_free(doc);
		engine_report_free(rep);
	}
}
END_TEST

START_TEST(path_walk_many_lines)
{
	struct engine *eng = test_engine(NULL, 0);
	struct engine_report *rep = engine_report_new();
	struct engine_doc *doc;
	xmlNodePtr root, one = NULL;
	size_t len = 0, cap = 1 << 20;
	char *xml = malloc(cap);
	int i;

	len += (size_t)snprintf(xml + len, cap - len,
	                        "<Invoice xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:"
	                        "Invoice-2\" xmlns:cac=\"%s\" xmlns:cbc=\"%s\" xmlns:x=\"urn:x\">",
	                        NS_CAC, NS_CBC);
	for (i = 0; i < 3000; i++)
		len += (size_t)snprintf(xml + len, cap - len,
		                        "<cac:InvoiceLine><cbc:ID>%d</cbc:ID>%s</cac:InvoiceLine>", i,
		                        i % 7 ? "" : "<x:ID>foreign</x:ID><cbc:ID>again</cbc:ID>");
	len += (size_t)snprintf(xml + len, cap - len, "</Invoice>");
	doc = test_parse_str(eng, xml, rep);
	for (i = 0; i < (int)(sizeof(PATHS) / sizeof(PATHS[0])); i++)
		same_as_xpath(doc, "generated", PATHS[i]);
	root = xmlDocGetRootElement(doc->xml);
	ck_assert_uint_eq(engine__path_all(root, "cac:InvoiceLine/cbc:ID", NULL, (size_t)-1),
	                  3000 + 429);
	/* Other prefixes, an empty step and a predicate select nothing. */
	ck_assert_uint_eq(engine__path_all(root, "x:ID", NULL, (size_t)-1), 0);
	ck_assert_uint_eq(engine__path_all(root, "cac:InvoiceLine/x:ID", &one, 1), 0);
	ck_assert_uint_eq(engine__path_all(root, "cac:", NULL, (size_t)-1), 0);
	ck_assert_ptr_null(engine__path_first(NULL, "cbc:ID"));
	engine_doc_free(doc);
	engine_report_free(rep);
	free(xml);
}
END_TEST

TCase *tc_path(void)
{
	TCase *tc = tcase_create("path");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, path_walk_matches_xpath);
	tcase_add_test(tc, path_walk_many_lines);
	return tc;
}
