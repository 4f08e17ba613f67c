/*
 * classify.c — the catalogue of message types and profiles, and
 * classification of a parsed document against it.
 *
 * Adding a message type is adding a row to DOCTYPES (root element name,
 * namespace, schema file, UBL version, correlation keys); adding a profile is
 * a row in PROFILES (name, title, rule-set files) and one or more rows in
 * CUSTOMIZATIONS (which cbc:CustomizationID selects it, for which roots).
 * docs/message-types.md walks through it.
 *
 * engine_doc_classify() reads only the root element, its namespace, and the
 * root's cbc:UBLVersionID, cbc:CustomizationID, cbc:ProfileID and cbc:ID.
 * Rule ids of its findings: SECMX-TYPE (unknown document), SECMX-UBL23
 * (bound to UBL 2.3 without a 2.3 schema set), SECMX-PROFILE (no profile
 * named: UBL 2.1 structural rules only).
 */
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"

#define UBL(root) NS_UBL_PREFIX root "-2"

/* The message types. Order is the index used across the engine. */
static const struct engine_doctype DOCTYPES[] = {
	{"Invoice", UBL("Invoice"), "UBL-Invoice-2.1.xsd", "2.1",
	 "cac:OrderReference/cbc:ID|cac:DespatchDocumentReference/cbc:ID|"
	 "cac:ReceiptDocumentReference/cbc:ID|cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID"},
	{"CreditNote", UBL("CreditNote"), "UBL-CreditNote-2.1.xsd", "2.1",
	 "cac:OrderReference/cbc:ID|cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID|"
	 "cac:DespatchDocumentReference/cbc:ID|cac:ReceiptDocumentReference/cbc:ID"},
	{"Order", UBL("Order"), "UBL-Order-2.1.xsd", "2.1",
	 "cac:QuotationDocumentReference/cbc:ID|cac:OrderDocumentReference/cbc:ID|"
	 "cac:OriginatorDocumentReference/cbc:ID|cac:Contract/cbc:ID"},
	{"OrderResponse", UBL("OrderResponse"), "UBL-OrderResponse-2.1.xsd", "2.1",
	 "cac:OrderReference/cbc:ID"},
	{"OrderChange", UBL("OrderChange"), "UBL-OrderChange-2.1.xsd", "2.1",
	 "cac:OrderReference/cbc:ID"},
	{"OrderCancellation", UBL("OrderCancellation"), "UBL-OrderCancellation-2.1.xsd", "2.1",
	 "cac:OrderReference/cbc:ID"},
	{"DespatchAdvice", UBL("DespatchAdvice"), "UBL-DespatchAdvice-2.1.xsd", "2.1",
	 "cac:OrderReference/cbc:ID|cac:DespatchLine/cac:OrderLineReference/cac:OrderReference/cbc:ID"},
	{"ReceiptAdvice", UBL("ReceiptAdvice"), "UBL-ReceiptAdvice-2.1.xsd", "2.1",
	 "cac:OrderReference/cbc:ID|cac:DespatchDocumentReference/cbc:ID"},
	{"RemittanceAdvice", UBL("RemittanceAdvice"), "UBL-RemittanceAdvice-2.1.xsd", "2.1",
	 "cac:RemittanceAdviceLine/cac:InvoiceDocumentReference/cbc:ID|"
	 "cac:RemittanceAdviceLine/cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID|"
	 "cac:InvoiceDocumentReference/cbc:ID"},
	{"ApplicationResponse", UBL("ApplicationResponse"), "UBL-ApplicationResponse-2.1.xsd", "2.1",
	 "cac:DocumentResponse/cac:DocumentReference/cbc:ID"},
	{"Catalogue", UBL("Catalogue"), "UBL-Catalogue-2.1.xsd", "2.1",
	 "cac:ReferencedContract/cbc:ID"},
};

#define N_DOCTYPES (sizeof(DOCTYPES) / sizeof(DOCTYPES[0]))

/* The profiles; the first one is the fallback for documents that name none. */
static const struct engine_profile PROFILES[] = {
	{"ubl-2.1", "UBL 2.1 structural rules only", "ubl21.sch"},
	{"en16931", "EN 16931 core invoice (UBL syntax)",
	 "ubl21.sch,en16931-model.sch,en16931-vat.sch,en16931-codes.sch,en16931-syntax.sch"},
	{"peppol-bis-billing-3", "Peppol BIS Billing 3.0",
	 "ubl21.sch,en16931-model.sch,en16931-vat.sch,en16931-codes.sch,en16931-syntax.sch,"
	 "peppol-bis-billing-3.sch"},
	{"pint-aunz-billing", "PINT A-NZ Billing", "ubl21.sch,pint-aunz.sch,pint-aunz-billing.sch"},
	{"pint-aunz-selfbilling", "PINT A-NZ Self-Billing",
	 "ubl21.sch,pint-aunz.sch,pint-aunz-selfbilling.sch"},
	{"peppol-ordering-3", "Peppol BIS Ordering 3.0 (and Invoice Response, MLR)",
	 "ubl21.sch,peppol-ordering-3.sch,peppol-ordering-3-structure.sch"},
	{"secmx-nz-remittance", "secmx NZ remittance advice (RemittanceAdvice)",
	 "ubl21.sch,secmx-nz-parties.sch,secmx-nz-remittance.sch"},
	{"secmx-nz-receipt", "secmx NZ receipt advice (ReceiptAdvice)",
	 "ubl21.sch,secmx-nz-parties.sch,secmx-nz-receipt.sch"},
};

#define N_PROFILES (sizeof(PROFILES) / sizeof(PROFILES[0]))

/* How a cbc:CustomizationID selects a profile. */
struct customization {
	const char *prefix;     /* CustomizationID starts with this */
	int exact;              /* ...or must equal it */
	const char *roots;      /* roots it applies to, '|'-separated; NULL: any */
	const char *profile;
	const char *variant;    /* a name for people, or NULL */
	int ubl23;              /* the specification binds to UBL 2.3 */
};

static const struct customization CUSTOMIZATIONS[] = {
	{"urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0", 0,
	 "Invoice|CreditNote", "peppol-bis-billing-3", NULL, 0},
	{"urn:cen.eu:en16931:2017#conformant#urn:fdc:peppol.eu:2017:poacc:billing:", 0,
	 "Invoice|CreditNote", "peppol-bis-billing-3", "Peppol BIS Billing 3.0 extension", 0},
	{"urn:peppol:pint:billing-1@aunz-1", 0, "Invoice|CreditNote", "pint-aunz-billing", NULL, 0},
	{"urn:peppol:pint:selfbilling-1@aunz-1", 0, "Invoice|CreditNote", "pint-aunz-selfbilling",
	 NULL, 0},
	{"urn:cen.eu:en16931:2017", 1, "Invoice|CreditNote", "en16931", NULL, 0},
	{"urn:cen.eu:en16931:2017#", 0, "Invoice|CreditNote", "en16931",
	 "EN 16931 CIUS or extension", 0},
	{"urn:fdc:peppol.eu:poacc:trns:order_change:3", 0, "OrderChange", "peppol-ordering-3",
	 "Peppol Advanced Ordering: Order Change", 1},
	{"urn:fdc:peppol.eu:poacc:trns:order_cancellation:3", 0, "OrderCancellation",
	 "peppol-ordering-3", "Peppol Advanced Ordering: Order Cancellation", 1},
	{"urn:fdc:peppol.eu:poacc:trns:order_response_advanced:3", 0, "OrderResponse",
	 "peppol-ordering-3", "Peppol Advanced Ordering: Order Response Advanced", 1},
	{"urn:fdc:peppol.eu:poacc:trns:order:3", 0, "Order", "peppol-ordering-3",
	 "Peppol Order", 0},
	{"urn:fdc:peppol.eu:poacc:trns:order_response:3", 0, "OrderResponse", "peppol-ordering-3",
	 "Peppol Order Response", 0},
	{"urn:fdc:peppol.eu:poacc:trns:despatch_advice:3", 0, "DespatchAdvice",
	 "peppol-ordering-3", "Peppol Despatch Advice", 0},
	{"urn:fdc:peppol.eu:poacc:trns:catalogue:3", 0, "Catalogue", "peppol-ordering-3",
	 "Peppol Catalogue", 0},
	{"urn:fdc:peppol.eu:poacc:trns:invoice_response:3", 0, "ApplicationResponse",
	 "peppol-ordering-3", "Peppol Invoice Response", 0},
	{"urn:fdc:peppol.eu:poacc:trns:mlr:3", 0, "ApplicationResponse", "peppol-ordering-3",
	 "Peppol Message Level Response", 0},
	{"urn:fdc:peppol.eu:poacc:trns:catalogue_response:3", 0, "ApplicationResponse",
	 "peppol-ordering-3", "Peppol Catalogue Response", 0},
	{"urn:secmx:nz:remittance:1", 0, "RemittanceAdvice", "secmx-nz-remittance", NULL, 0},
	{"urn:secmx:nz:receipt:1", 0, "ReceiptAdvice", "secmx-nz-receipt", NULL, 0},
};

size_t engine_doctype_count(void)
{
	return N_DOCTYPES;
}

const struct engine_doctype *engine_doctype_at(size_t i)
{
	return i < N_DOCTYPES ? &DOCTYPES[i] : NULL;
}

const struct engine_doctype *engine__doctype(int index)
{
	return index >= 0 && (size_t)index < N_DOCTYPES ? &DOCTYPES[index] : NULL;
}

/* engine__doctype_find: index of the type with this root, or -1. */
int engine__doctype_find(const char *ns, const char *name)
{
	size_t i;

	if (ns == NULL || name == NULL)
		return -1;
	for (i = 0; i < N_DOCTYPES; i++)
		if (strcmp(DOCTYPES[i].name, name) == 0 && strcmp(DOCTYPES[i].ns, ns) == 0)
			return (int)i;
	return -1;
}

size_t engine_profile_count(void)
{
	return N_PROFILES;
}

const struct engine_profile *engine_profile_at(size_t i)
{
	return i < N_PROFILES ? &PROFILES[i] : NULL;
}

const struct engine_profile *engine_profile_find(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < N_PROFILES; i++)
		if (strcmp(PROFILES[i].name, name) == 0)
			return &PROFILES[i];
	return NULL;
}

/* root_in: is ROOT one of the '|'-separated names in LIST (NULL: any)? */
static int root_in(const char *list, const char *root)
{
	size_t n = strlen(root);
	const char *p = list;

	if (list == NULL)
		return 1;
	while ((p = strstr(p, root)) != NULL) {
		if ((p == list || p[-1] == '|') && (p[n] == '\0' || p[n] == '|'))
			return 1;
		p += n;
	}
	return 0;
}

static const struct customization *find_customization(const char *cid, const char *root)
{
	size_t i;

	if (cid == NULL)
		return NULL;
	for (i = 0; i < sizeof(CUSTOMIZATIONS) / sizeof(CUSTOMIZATIONS[0]); i++) {
		const struct customization *c = &CUSTOMIZATIONS[i];
		size_t n = strlen(c->prefix);

		if (!root_in(c->roots, root))
			continue;
		if (c->exact ? strcmp(cid, c->prefix) == 0 : strncmp(cid, c->prefix, n) == 0)
			return c;
	}
	return NULL;
}

/* engine_doc_classify: see engine.h. */
int engine_doc_classify(const struct engine *eng, struct engine_doc *doc,
			struct engine_report *rep)
{
	xmlNodePtr root = xmlDocGetRootElement(doc->xml);
	const char *ns = root && root->ns ? (const char *)root->ns->href : NULL;
	const struct customization *c;
	int idx;

	if (root == NULL)
		return SECMX_EINVAL;
	idx = engine__doctype_find(ns, (const char *)root->name);
	if (idx < 0) {
		engine__report_node(rep, "SECMX-TYPE", ENGINE_FATAL, root,
				    "unknown document type: root element <%s> in namespace '%s' "
				    "is not a message type secmx handles",
				    (const char *)root->name, ns ? ns : "");
		return SECMX_EUNKNOWN;
	}
	free(doc->customization);
	free(doc->profile_id);
	free(doc->id);
	free(doc->ubl_version);
	doc->customization = engine__text(engine__child(root, NS_CBC, "CustomizationID"));
	doc->profile_id = engine__text(engine__child(root, NS_CBC, "ProfileID"));
	doc->id = engine__text(engine__child(root, NS_CBC, "ID"));
	doc->ubl_version = engine__text(engine__child(root, NS_CBC, "UBLVersionID"));
	doc->type_index = idx;

	c = find_customization(doc->customization, (const char *)root->name);
	doc->profile = c ? c->profile : PROFILES[0].name;
	doc->variant = c ? c->variant : NULL;
	doc->profile_named = c != NULL;
	doc->needs_ubl23 = (c && c->ubl23) ||
			   (doc->ubl_version && strncmp(doc->ubl_version, "2.", 2) == 0 &&
			    strcmp(doc->ubl_version, "2.2") >= 0);

	if (doc->needs_ubl23 && !(eng->schema && strcmp(eng->schema_version, "2.3") >= 0)) {
		engine__report_node(rep, "SECMX-UBL23", ENGINE_FATAL, root,
				    "%s binds to UBL %s, but the configured schema set is UBL %s: "
				    "point schema_dir (--schemas) at the UBL 2.3 XSDs",
				    doc->variant ? doc->variant : (const char *)root->name,
				    doc->ubl_version && strcmp(doc->ubl_version, "2.2") >= 0 ?
					    doc->ubl_version : "2.3",
				    eng->schema ? eng->schema_version : "2.1 (e-GIF profile)");
		return SECMX_EUNSUPPORTED;
	}
	return SECMX_OK;
}

const struct engine_doctype *engine_doc_type(const struct engine_doc *doc)
{
	return engine__doctype(doc->type_index);
}

const char *engine_doc_profile(const struct engine_doc *doc)
{
	return doc->profile;
}

const char *engine_doc_customization(const struct engine_doc *doc)
{
	return doc->customization;
}

const char *engine_doc_id(const struct engine_doc *doc)
{
	return doc->id;
}
