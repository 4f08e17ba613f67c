/*
 * inspect.c — a JSON summary of a parsed (and usually classified) document.
 *
 * Public interface (engine.h):
 *   engine_doc_inspect()  a new JSON object describing DOC: type, profile and
 *                         variant, customization/profile ids, document id,
 *                         dates, type code, currencies, parties, totals, line
 *                         count, references to other documents and, for an
 *                         ApplicationResponse, the response.
 *
 * What it reads: only elements that the document itself carries, located by
 * namespace and local name (cbc/cac), at the places UBL 2.1 defines for the
 * catalogue's types (classify.c DOCTYPES). Absent fields are omitted from the
 * object, never defaulted or computed. Amounts are decimal strings exactly as
 * written (surrounding whitespace trimmed), each with its currencyID:
 * {"amount": "1656.25", "currency": "EUR"}; they are never converted to
 * floating point, so nothing is rounded.
 *
 * Party keys: "supplier" (cac:AccountingSupplierParty, EN 16931's seller),
 * "customer" (cac:AccountingCustomerParty, EN 16931's buyer), "payee",
 * "buyer" (cac:BuyerCustomerParty), "seller" (cac:SellerSupplierParty),
 * "originator", "despatch_supplier", "delivery_customer", "delivery"
 * (cac:Delivery/cac:DeliveryParty), "tax_representative", "sender",
 * "receiver", "provider", "payer" — whichever the document has.
 *
 * Errors: NULL when out of memory (or DOC has no root), nothing else; a
 * document that lacks everything still yields an object with what it has.
 * Ownership: the caller owns the returned object (json_decref()). DOC is
 * only read. Thread safety: as for any engine_doc (one thread at a time).
 * Limits: repeated references (e.g. one per remittance line) are all listed;
 * the output grows with the document, bounded by the parse limits.
 */
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"

/* Collects output and remembers whether any allocation failed. */
struct out {
	int failed;
};

/* ns_of: the namespace URI for a "cac"/"cbc" prefix in a path step. */
static const char *ns_of(const char *prefix, size_t n)
{
	if (n == 3 && strncmp(prefix, "cac", 3) == 0)
		return NS_CAC;
	if (n == 3 && strncmp(prefix, "cbc", 3) == 0)
		return NS_CBC;
	return NULL;
}

/* step_match: does element NODE match the path step STEP (STEPLEN bytes)? */
static int step_match(xmlNodePtr node, const char *step, size_t steplen)
{
	const char *colon = memchr(step, ':', steplen);
	const char *ns;
	size_t namelen;

	if (node->type != XML_ELEMENT_NODE || node->ns == NULL || colon == NULL)
		return 0;
	ns = ns_of(step, (size_t)(colon - step));
	namelen = steplen - (size_t)(colon - step) - 1;
	return ns != NULL && strcmp((const char *)node->ns->href, ns) == 0 &&
	       strlen((const char *)node->name) == namelen &&
	       strncmp((const char *)node->name, colon + 1, namelen) == 0;
}

typedef void (*each_fn)(xmlNodePtr node, void *arg);

/*
 * each_path: call FN for every element reached from FROM by PATH, a
 * '/'-separated list of "cac:Name"/"cbc:Name" child steps. Depth is bounded
 * by the number of steps, so this cannot recurse without limit.
 */
static void each_path(xmlNodePtr from, const char *path, each_fn fn, void *arg)
{
	const char *slash = strchr(path, '/');
	size_t steplen = slash ? (size_t)(slash - path) : strlen(path);
	xmlNodePtr c;

	for (c = from ? from->children : NULL; c != NULL; c = c->next) {
		if (!step_match(c, path, steplen))
			continue;
		if (slash)
			each_path(c, slash + 1, fn, arg);
		else
			fn(c, arg);
	}
}

/* first_fn: each_path callback keeping the first match in *(xmlNodePtr *)ARG. */
static void first_fn(xmlNodePtr node, void *arg)
{
	xmlNodePtr *found = arg;

	if (*found == NULL)
		*found = node;
}

/* find: the first element reached from FROM by PATH, or NULL. */
static xmlNodePtr find(xmlNodePtr from, const char *path)
{
	xmlNodePtr found = NULL;

	each_path(from, path, first_fn, &found);
	return found;
}

/* count_fn: each_path callback counting matches in *(size_t *)ARG. */
static void count_fn(xmlNodePtr node, void *arg)
{
	(void)node;
	(*(size_t *)arg)++;
}

/* set: OBJ[KEY] = VALUE (stolen); records a failure when VALUE is NULL. */
static void set(struct out *o, json_t *obj, const char *key, json_t *value)
{
	if (value == NULL || json_object_set_new(obj, key, value) != 0)
		o->failed = 1;
}

/* set_text: OBJ[KEY] = the trimmed text of NODE, when NODE exists. */
static void set_text(struct out *o, json_t *obj, const char *key, xmlNodePtr node)
{
	char *t;

	if (node == NULL)
		return;
	if ((t = engine__text(node)) == NULL) {
		o->failed = 1;
		return;
	}
	set(o, obj, key, json_string(t));
	free(t);
}

/* set_attr: OBJ[KEY] = attribute NAME (no namespace) of NODE, when present. */
static void set_attr(struct out *o, json_t *obj, const char *key, xmlNodePtr node,
		     const char *name)
{
	xmlChar *v;

	if (node == NULL || (v = xmlGetNoNsProp(node, (const xmlChar *)name)) == NULL)
		return;
	set(o, obj, key, json_string((const char *)v));
	xmlFree(v);
}

/* set_path: OBJ[KEY] = text of the first element at PATH under FROM. */
static void set_path(struct out *o, json_t *obj, const char *key, xmlNodePtr from,
		     const char *path)
{
	set_text(o, obj, key, find(from, path));
}

/* id_json: {"id": text, "scheme": schemeID} for an identifier element. */
static json_t *id_json(struct out *o, xmlNodePtr node)
{
	json_t *j = json_object();

	if (j == NULL) {
		o->failed = 1;
		return NULL;
	}
	set_text(o, j, "id", node);
	set_attr(o, j, "scheme", node, "schemeID");
	return j;
}

/* amount_json: {"amount": text as written, "currency": currencyID}. */
static json_t *amount_json(struct out *o, xmlNodePtr node)
{
	json_t *j = json_object();

	if (j == NULL) {
		o->failed = 1;
		return NULL;
	}
	set_text(o, j, "amount", node);
	set_attr(o, j, "currency", node, "currencyID");
	return j;
}

/* set_amount: OBJ[KEY] = amount_json of the first element at PATH. */
static void set_amount(struct out *o, json_t *obj, const char *key, xmlNodePtr from,
		       const char *path)
{
	xmlNodePtr n = find(from, path);

	if (n != NULL)
		set(o, obj, key, amount_json(o, n));
}

/* Appending identifiers of a party to an array. */
struct list_arg {
	struct out *o;
	json_t *arr;
};

/* ident_fn: append {"id", "scheme"} of an identifier element to the list. */
static void ident_fn(xmlNodePtr node, void *arg)
{
	struct list_arg *la = arg;

	if (json_array_append_new(la->arr, id_json(la->o, node)) != 0)
		la->o->failed = 1;
}

/* PartyTaxScheme: {"id": CompanyID, "scheme": TaxScheme/ID}. */
static void tax_fn(xmlNodePtr node, void *arg)
{
	struct list_arg *la = arg;
	json_t *j = json_object();

	if (j == NULL) {
		la->o->failed = 1;
		return;
	}
	set_path(la->o, j, "id", node, "cbc:CompanyID");
	set_path(la->o, j, "scheme", node, "cac:TaxScheme/cbc:ID");
	if (json_array_append_new(la->arr, j) != 0)
		la->o->failed = 1;
}

/* set_list: OBJ[KEY] = [FN(n) for n at PATH under FROM], omitted when empty. */
static void set_list(struct out *o, json_t *obj, const char *key, xmlNodePtr from,
		     const char *path, each_fn fn)
{
	struct list_arg la = {o, json_array()};

	if (la.arr == NULL) {
		o->failed = 1;
		return;
	}
	each_path(from, path, fn, &la);
	if (json_array_size(la.arr) == 0)
		json_decref(la.arr);
	else
		set(o, obj, key, la.arr);
}

/*
 * party_json: a party summary. NODE is a cac:*SupplierParty /
 * cac:*CustomerParty (which wraps a cac:Party) or a PartyType element itself.
 */
static json_t *party_json(struct out *o, xmlNodePtr node)
{
	xmlNodePtr p = engine__child(node, NS_CAC, "Party");
	xmlNodePtr n;
	json_t *j = json_object();

	if (j == NULL) {
		o->failed = 1;
		return NULL;
	}
	if (p == NULL)
		p = node;
	set_path(o, j, "name", p, "cac:PartyName/cbc:Name");
	set_path(o, j, "registration_name", p, "cac:PartyLegalEntity/cbc:RegistrationName");
	if ((n = engine__child(p, NS_CBC, "EndpointID")) != NULL)
		set(o, j, "endpoint", id_json(o, n));
	set_list(o, j, "identifiers", p, "cac:PartyIdentification/cbc:ID", ident_fn);
	if ((n = find(p, "cac:PartyLegalEntity/cbc:CompanyID")) != NULL)
		set(o, j, "legal_id", id_json(o, n));
	set_list(o, j, "tax_registrations", p, "cac:PartyTaxScheme", tax_fn);
	set_path(o, j, "country", p, "cac:PostalAddress/cac:Country/cbc:IdentificationCode");
	if (json_object_get(j, "country") == NULL)
		set_path(o, j, "country", p,
			 "cac:PartyLegalEntity/cac:RegistrationAddress/cac:Country/"
			 "cbc:IdentificationCode");
	return j;
}

/* Parties by element path under the root, and the key each gets. */
static const struct {
	const char *key, *path;
} PARTIES[] = {
	{"supplier", "cac:AccountingSupplierParty"},
	{"customer", "cac:AccountingCustomerParty"},
	{"payee", "cac:PayeeParty"},
	{"payer", "cac:PayerParty"},
	{"buyer", "cac:BuyerCustomerParty"},
	{"seller", "cac:SellerSupplierParty"},
	{"originator", "cac:OriginatorCustomerParty"},
	{"despatch_supplier", "cac:DespatchSupplierParty"},
	{"delivery_customer", "cac:DeliveryCustomerParty"},
	{"delivery", "cac:Delivery/cac:DeliveryParty"},
	{"tax_representative", "cac:TaxRepresentativeParty"},
	{"sender", "cac:SenderParty"},
	{"receiver", "cac:ReceiverParty"},
	{"provider", "cac:ProviderParty"},
};

/* Reference to another document: id, and issue date / type code if given. */
static void ref_fn(xmlNodePtr node, void *arg)
{
	struct list_arg *la = arg;
	json_t *j = json_object();

	if (j == NULL) {
		la->o->failed = 1;
		return;
	}
	set_path(la->o, j, "id", node, "cbc:ID");
	set_path(la->o, j, "sales_order_id", node, "cbc:SalesOrderID");
	set_path(la->o, j, "issue_date", node, "cbc:IssueDate");
	set_path(la->o, j, "type_code", node, "cbc:DocumentTypeCode");
	if (json_array_append_new(la->arr, j) != 0)
		la->o->failed = 1;
}

/* Document references by path under the root, grouped under one key. */
static const struct {
	const char *key, *path;
} REFERENCES[] = {
	{"order", "cac:OrderReference"},
	{"billing", "cac:BillingReference/cac:InvoiceDocumentReference"},
	{"billing", "cac:BillingReference/cac:CreditNoteDocumentReference"},
	{"invoice", "cac:InvoiceDocumentReference"},
	{"invoice", "cac:RemittanceAdviceLine/cac:InvoiceDocumentReference"},
	{"invoice", "cac:RemittanceAdviceLine/cac:BillingReference/cac:InvoiceDocumentReference"},
	{"despatch", "cac:DespatchDocumentReference"},
	{"receipt", "cac:ReceiptDocumentReference"},
	{"contract", "cac:ContractDocumentReference"},
	{"contract", "cac:Contract"},
	{"originator", "cac:OriginatorDocumentReference"},
	{"quotation", "cac:QuotationDocumentReference"},
	{"previous_order", "cac:OrderDocumentReference"},
	{"catalogue", "cac:CatalogueReference"},
	{"project", "cac:ProjectReference"},
	{"additional", "cac:AdditionalDocumentReference"},
	{"document", "cac:DocumentResponse/cac:DocumentReference"},
};

/* The line element of each type that has lines (root children). */
static const char *const LINES[] = {
	"cac:InvoiceLine", "cac:CreditNoteLine", "cac:OrderLine", "cac:DespatchLine",
	"cac:ReceiptLine", "cac:RemittanceAdviceLine", "cac:CatalogueLine",
};

/* Which root names have which line element (index into LINES), if any. */
static const struct {
	const char *root;
	int line;
} ROOT_LINES[] = {
	{"Invoice", 0}, {"CreditNote", 1}, {"Order", 2}, {"OrderResponse", 2},
	{"OrderChange", 2}, {"DespatchAdvice", 3}, {"ReceiptAdvice", 4},
	{"RemittanceAdvice", 5}, {"Catalogue", 6},
};

/* Type codes a root may carry, first found wins. */
static const char *const TYPE_CODES[] = {
	"cbc:InvoiceTypeCode", "cbc:CreditNoteTypeCode", "cbc:OrderTypeCode",
	"cbc:OrderResponseCode", "cbc:DespatchAdviceTypeCode", "cbc:ReceiptAdviceTypeCode",
	"cbc:ActionCode",
};

/* Monetary totals (LegalMonetaryTotal / AnticipatedMonetaryTotal) children. */
static const struct {
	const char *key, *path;
} TOTALS[] = {
	{"line_extension", "cbc:LineExtensionAmount"},
	{"tax_exclusive", "cbc:TaxExclusiveAmount"},
	{"tax_inclusive", "cbc:TaxInclusiveAmount"},
	{"allowance_total", "cbc:AllowanceTotalAmount"},
	{"charge_total", "cbc:ChargeTotalAmount"},
	{"prepaid", "cbc:PrepaidAmount"},
	{"payable_rounding", "cbc:PayableRoundingAmount"},
	{"payable", "cbc:PayableAmount"},
};

/* tax_amount_fn: append a cac:TaxTotal/cbc:TaxAmount as an amount. */
static void tax_amount_fn(xmlNodePtr node, void *arg)
{
	struct list_arg *la = arg;

	if (json_array_append_new(la->arr, amount_json(la->o, node)) != 0)
		la->o->failed = 1;
}

/* add_totals: the "totals" object, omitted when the document has none. */
static void add_totals(struct out *o, json_t *top, xmlNodePtr root)
{
	xmlNodePtr mt = engine__child(root, NS_CAC, "LegalMonetaryTotal");
	const char *source = "LegalMonetaryTotal";
	json_t *t = json_object();
	size_t i;

	if (t == NULL) {
		o->failed = 1;
		return;
	}
	if (mt == NULL) {
		mt = engine__child(root, NS_CAC, "AnticipatedMonetaryTotal");
		source = "AnticipatedMonetaryTotal";
	}
	if (mt != NULL) {
		set(o, t, "source", json_string(source));
		for (i = 0; i < sizeof(TOTALS) / sizeof(TOTALS[0]); i++)
			set_amount(o, t, TOTALS[i].key, mt, TOTALS[i].path);
	}
	set_list(o, t, "tax", root, "cac:TaxTotal/cbc:TaxAmount", tax_amount_fn);
	set_amount(o, t, "total_payment", root, "cbc:TotalPaymentAmount");
	set_amount(o, t, "total_debit", root, "cbc:TotalDebitAmount");
	set_amount(o, t, "total_credit", root, "cbc:TotalCreditAmount");
	if (json_object_size(t) == 0)
		json_decref(t);
	else
		set(o, top, "totals", t);
}

/* add_refs: the "references" object, omitted when there are none. */
static void add_refs(struct out *o, json_t *top, xmlNodePtr root)
{
	json_t *r = json_object();
	size_t i;

	if (r == NULL) {
		o->failed = 1;
		return;
	}
	for (i = 0; i < sizeof(REFERENCES) / sizeof(REFERENCES[0]); i++) {
		json_t *have = json_object_get(r, REFERENCES[i].key);
		struct list_arg la = {o, have ? have : json_array()};

		if (la.arr == NULL) {
			o->failed = 1;
			break;
		}
		each_path(root, REFERENCES[i].path, ref_fn, &la);
		if (have == NULL) {
			if (json_array_size(la.arr) == 0)
				json_decref(la.arr);
			else
				set(o, r, REFERENCES[i].key, la.arr);
		}
	}
	if (json_object_size(r) == 0)
		json_decref(r);
	else
		set(o, top, "references", r);
}

/* add_response: ApplicationResponse's response code and its description. */
static void add_response(struct out *o, json_t *top, xmlNodePtr root)
{
	xmlNodePtr resp = find(root, "cac:DocumentResponse/cac:Response");
	json_t *j;

	if (resp == NULL)
		return;
	if ((j = json_object()) == NULL) {
		o->failed = 1;
		return;
	}
	set_path(o, j, "code", resp, "cbc:ResponseCode");
	set_path(o, j, "effective_date", resp, "cbc:EffectiveDate");
	set_path(o, j, "description", resp, "cbc:Description");
	set_path(o, j, "status_reason_code", resp, "cac:Status/cbc:StatusReasonCode");
	set(o, top, "response", j);
}

/* engine_doc_inspect: see engine.h and the comment at the top of this file. */
json_t *engine_doc_inspect(const struct engine_doc *doc)
{
	xmlNodePtr root = doc && doc->xml ? xmlDocGetRootElement(doc->xml) : NULL;
	const struct engine_doctype *t = doc ? engine__doctype(doc->type_index) : NULL;
	struct out o = {0};
	json_t *top = NULL, *parties = NULL;
	size_t i;

	if (root == NULL || (top = json_object()) == NULL)
		goto fail;
	if (t != NULL) {
		set(&o, top, "type", json_string(t->name));
		set(&o, top, "profile", json_string(doc->profile));
		if (doc->variant != NULL)
			set(&o, top, "variant", json_string(doc->variant));
	} else {
		/* Not classified: say what the root is, claim no type. */
		set(&o, top, "root", json_string((const char *)root->name));
	}
	set_path(&o, top, "ubl_version", root, "cbc:UBLVersionID");
	set_path(&o, top, "customization_id", root, "cbc:CustomizationID");
	set_path(&o, top, "profile_id", root, "cbc:ProfileID");
	set_path(&o, top, "id", root, "cbc:ID");
	set_path(&o, top, "uuid", root, "cbc:UUID");
	set_path(&o, top, "issue_date", root, "cbc:IssueDate");
	set_path(&o, top, "issue_time", root, "cbc:IssueTime");
	set_path(&o, top, "due_date", root, "cbc:DueDate");
	for (i = 0; i < sizeof(TYPE_CODES) / sizeof(TYPE_CODES[0]); i++) {
		xmlNodePtr n = find(root, TYPE_CODES[i]);

		if (n != NULL) {
			set_text(&o, top, "type_code", n);
			break;
		}
	}
	set_path(&o, top, "currency", root, "cbc:DocumentCurrencyCode");
	set_path(&o, top, "tax_currency", root, "cbc:TaxCurrencyCode");
	set_path(&o, top, "buyer_reference", root, "cbc:BuyerReference");

	if ((parties = json_object()) == NULL)
		goto fail;
	for (i = 0; i < sizeof(PARTIES) / sizeof(PARTIES[0]); i++) {
		xmlNodePtr n = find(root, PARTIES[i].path);

		if (n != NULL)
			set(&o, parties, PARTIES[i].key, party_json(&o, n));
	}
	if (json_object_size(parties) > 0) {
		set(&o, top, "parties", parties);
		parties = NULL;
	}

	add_totals(&o, top, root);
	for (i = 0; i < sizeof(ROOT_LINES) / sizeof(ROOT_LINES[0]); i++) {
		size_t n = 0;

		if (strcmp((const char *)root->name, ROOT_LINES[i].root) != 0)
			continue;
		each_path(root, LINES[ROOT_LINES[i].line], count_fn, &n);
		set(&o, top, "line_count", json_integer((json_int_t)n));
		break;
	}
	add_refs(&o, top, root);
	add_response(&o, top, root);
	if (o.failed)
		goto fail;
	json_decref(parties);
	return top;
fail:
	json_decref(parties);
	json_decref(top);
	return NULL;
}
