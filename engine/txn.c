/*
 * txn.c — business transactions: which transaction a document belongs to
 * (correlation through its references), the state machine, and recording
 * it all in the queue. The three-way match itself is txn_match.c.
 *
 * Functions (engine.h): engine_txn_correlate, engine_txn_set_tolerance.
 *
 * Correlation (docs/transactions.md has the whole story):
 *   - Every document has a type, an issuing party (the buyer for an Order,
 *     ReceiptAdvice, RemittanceAdvice; the seller for an Invoice,
 *     CreditNote, DespatchAdvice, OrderResponse; the sender of an
 *     ApplicationResponse) and an id; a party is "scheme:value" of its
 *     cbc:EndpointID, else of its first cac:PartyIdentification/cbc:ID, else
 *     of cac:PartyLegalEntity/cbc:CompanyID, else "" (unknown).
 *   - Its references (an Invoice's cac:OrderReference, a CreditNote's
 *     cac:BillingReference, a RemittanceAdvice's invoice references, an
 *     ApplicationResponse's cac:DocumentReference, ...) are looked up in the
 *     queue's reference index (queue_txn_ref_find): first its references in
 *     order, then its own (type, party, id), which finds a transaction that a
 *     document arriving earlier opened by referring to this one. Nothing is
 *     scanned.
 *   - Nothing found: the transaction key is derived from the first
 *     reference ("order:<buyer>:<order id>", "invoice:<seller>:<invoice
 *     id>") or from the document itself ("order:<buyer>:<id>" for an Order,
 *     "invoice:<seller>:<id>" for an Invoice without an order, ...), so a
 *     document and the one it refers to meet whichever arrives first.
 *   - A RemittanceAdvice is recorded in the transaction of every invoice it
 *     pays; the result names the first (struct engine_txn_result.ntxn says
 *     how many).
 *   - Then, for each transaction, one queue commit (queue_txn_record) holds
 *     everything the document does to it: the state change with its history
 *     entry, the match findings, the index entries for its own id and its
 *     references, and the document with the summary the match reads. The
 *     commit checks that the transaction is as it was read (state, number of
 *     documents); when another worker got there first, the document is read
 *     and decided again (at most RECORD_ATTEMPTS times). A repeat of a
 *     recorded message changes nothing (idempotent); a crash before the
 *     commit leaves nothing of it but, possibly, a transaction it opened.
 *
 * Errors: SECMX_EINVAL (bad argument, unclassified document), SECMX_ENOMEM,
 * and the queue's errors (SECMX_EIO, ...). Findings are not errors.
 * Limits: keys longer than struct engine_txn_result.key are cut short; a
 * remittance is recorded in at most MAX_TARGETS transactions.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include <stdint.h>
#include <libxml/xpathInternals.h>

#include "queue.h"
#include "txn_int.h"

#define MAX_TARGETS 32
#define MAX_REFS 64
#define RECORD_ATTEMPTS 8 /* reads and decisions per document under contention */

/* What a document does to its transaction's state. */
enum kind {
	K_ORDER = 0,
	K_RECEIPT,
	K_DESPATCH,
	K_INVOICE,
	K_CREDIT,
	K_REMIT,
	K_RESP_OK,      /* a response that accepts or acknowledges */
	K_RESP_DISPUTE, /* rejected or under query */
	K_RESP_PAID,    /* an Invoice Response saying "paid" */
	K_CANCEL,       /* order cancelled or rejected */
	K_OTHER,
	K__COUNT
};

#define SAME (-1)
#define ROW_NEW 7 /* the row for a transaction this document opens */
#define O QUEUE_TXN_ORDERED
#define I QUEUE_TXN_INVOICED
#define M QUEUE_TXN_MATCHED
#define D QUEUE_TXN_DISPUTED
#define P QUEUE_TXN_PAID
#define R QUEUE_TXN_RECEIPTED
#define C QUEUE_TXN_CLOSED
#define no SAME /* no change */

/*
 * The state machine: current state x document kind -> next state (SAME:
 * unchanged), before the match. docs/transactions.md shows the same table;
 * keep them together. After it, a three-way match moves a transaction in
 * ordered, receipted, invoiced, matched or disputed to matched (clean) or
 * disputed (differences); paid and closed are kept.
 */
/* clang-format off */
static const signed char NEXT[8][K__COUNT] = {
	/*                 ORDER RCPT DESP INV CRED REMIT R_OK R_DISP R_PAID CANCEL OTHER */
	/* ordered    */ { no,   R,   no,  I,  no,  P,    no,  D,     P,     C,     no },
	/* invoiced   */ { no,   no,  no,  no, no,  P,    no,  D,     P,     C,     no },
	/* matched    */ { no,   no,  no,  no, no,  P,    no,  D,     P,     C,     no },
	/* disputed   */ { no,   no,  no,  no, no,  P,    no,  no,    P,     C,     no },
	/* paid       */ { no,   no,  no,  no, no,  no,   no,  no,    no,    no,    no },
	/* receipted  */ { no,   no,  no,  I,  no,  P,    no,  D,     P,     C,     no },
	/* closed     */ { no,   no,  no,  no, no,  no,   no,  no,    no,    no,    no },
	/* (new)      */ { O,    R,   O,   I,  I,   P,    I,   D,     P,     C,     O },
};
/* clang-format on */
#undef O
#undef I
#undef M
#undef D
#undef P
#undef R
#undef C
#undef no

/* A reference a document type makes: to which type, where, whose party. */
struct ref_rule {
	const char *type;  /* referenced type, "" = any */
	const char *xpath; /* from the root */
	char party;        /* 'B' buyer / 'S' seller side of THIS document */
};

/* How to read one document type. For an ApplicationResponse "buyer" is the
 * sender and "seller" the receiver (the issuer of what it answers). */
struct doc_rule {
	const char *type;
	const char *buyer[2]; /* party paths, first found wins */
	const char *seller[2];
	char issuer;        /* 'B' or 'S' */
	const char *prefix; /* own key prefix */
	int multi;          /* every reference is a transaction of its own */
	struct ref_rule refs[3];
};

#define ORDER_REF                                                                                  \
	{                                                                                          \
		"Order", "cac:OrderReference/cbc:ID", 'B'                                          \
	}

static const struct doc_rule RULES[] = {
    {"Order",
     {"cac:BuyerCustomerParty/cac:Party"},
     {"cac:SellerSupplierParty/cac:Party"},
     'B',
     "order",
     0,
     {{NULL, NULL, 0}}},
    {"Invoice",
     {"cac:AccountingCustomerParty/cac:Party"},
     {"cac:AccountingSupplierParty/cac:Party"},
     'S',
     "invoice",
     0,
     {ORDER_REF,
      {"DespatchAdvice", "cac:DespatchDocumentReference/cbc:ID", 'S'},
      {"ReceiptAdvice", "cac:ReceiptDocumentReference/cbc:ID", 'B'}}},
    {"CreditNote",
     {"cac:AccountingCustomerParty/cac:Party"},
     {"cac:AccountingSupplierParty/cac:Party"},
     'S',
     "creditnote",
     0,
     {ORDER_REF, {"Invoice", "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID", 'S'}}},
    {"DespatchAdvice",
     {"cac:DeliveryCustomerParty/cac:Party", "cac:BuyerCustomerParty/cac:Party"},
     {"cac:DespatchSupplierParty/cac:Party", "cac:SellerSupplierParty/cac:Party"},
     'S',
     "despatchadvice",
     0,
     {ORDER_REF}},
    {"ReceiptAdvice",
     {"cac:DeliveryCustomerParty/cac:Party", "cac:BuyerCustomerParty/cac:Party"},
     {"cac:DespatchSupplierParty/cac:Party", "cac:SellerSupplierParty/cac:Party"},
     'B',
     "receiptadvice",
     0,
     {ORDER_REF, {"DespatchAdvice", "cac:DespatchDocumentReference/cbc:ID", 'S'}}},
    {"OrderResponse",
     {"cac:BuyerCustomerParty/cac:Party"},
     {"cac:SellerSupplierParty/cac:Party"},
     'S',
     "orderresponse",
     0,
     {ORDER_REF}},
    {"OrderChange",
     {"cac:BuyerCustomerParty/cac:Party"},
     {"cac:SellerSupplierParty/cac:Party"},
     'B',
     "orderchange",
     0,
     {ORDER_REF}},
    {"OrderCancellation",
     {"cac:BuyerCustomerParty/cac:Party"},
     {"cac:SellerSupplierParty/cac:Party"},
     'B',
     "ordercancellation",
     0,
     {ORDER_REF}},
    {"RemittanceAdvice",
     {"cac:AccountingCustomerParty/cac:Party"},
     {"cac:AccountingSupplierParty/cac:Party", "cac:PayeeParty"},
     'B',
     "remittanceadvice",
     1,
     {{"Invoice", "cac:RemittanceAdviceLine/cac:InvoiceDocumentReference/cbc:ID", 'S'},
      {"Invoice",
       "cac:RemittanceAdviceLine/cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID", 'S'}}},
    {"ApplicationResponse",
     {"cac:SenderParty"},
     {"cac:ReceiverParty"},
     'B',
     "response",
     0,
     {{"", "cac:DocumentResponse/cac:DocumentReference/cbc:ID", 'S'}}},
};

#define N_RULES (sizeof(RULES) / sizeof(RULES[0]))

/* Documents of a type not in RULES: their own transaction, by issuer "". */
static const struct doc_rule OTHER_RULE = {NULL, {NULL}, {NULL}, 'B', NULL, 0, {{NULL, NULL, 0}}};

/* One reference found in a document. */
struct ref {
	const char *type;
	const char *party; /* borrowed from struct corr */
	char *id;
};

/* Everything correlation learnt about the document. */
struct corr {
	const struct engine_doc *doc;
	const char *type;
	const struct doc_rule *rule;
	char buyer[300], seller[300];
	const char *issuer;
	const char *id;
	enum kind kind;
	struct ref refs[MAX_REFS];
	size_t nrefs;
};

/* A transaction the document goes into. */
struct target {
	int64_t id;
	char key[256];
	int ref; /* the reference that led here (multi), or -1 */
	int created;
};

/* ---- reading the document ---- */

/* root_first: the first element the child path EXPR selects from the
 * root of C's document, or NULL. */
static xmlNodePtr root_first(const struct corr *c, const char *expr)
{
	return engine__path_first(xmlDocGetRootElement(c->doc->xml), expr);
}

/* party_id: the identifier of the party at PATH into OUT ("" if none). */
static void party_id(const struct corr *c, const char *path, char *out, size_t len)
{
	static const char *const IDS[] = {"cbc:EndpointID", "cac:PartyIdentification/cbc:ID",
	                                  "cac:PartyLegalEntity/cbc:CompanyID"};
	char expr[256];
	size_t i;

	*out = '\0';
	for (i = 0; path != NULL && i < sizeof(IDS) / sizeof(IDS[0]) && *out == '\0'; i++) {
		xmlNodePtr n;
		char *v;
		xmlChar *scheme;

		snprintf(expr, sizeof(expr), "%s/%s", path, IDS[i]);
		if ((n = root_first(c, expr)) == NULL || (v = engine__text(n)) == NULL)
			continue;
		scheme = xmlGetNoNsProp(n, BAD_CAST "schemeID");
		if (*v)
			snprintf(out, len, "%s%s%s", scheme ? (const char *)scheme : "",
			         scheme ? ":" : "", v);
		xmlFree(scheme);
		free(v);
	}
}

/* side: the buyer or seller party of C ('B' / 'S'). */
static const char *side(const struct corr *c, char which)
{
	return which == 'S' ? c->seller : c->buyer;
}

/* add_refs: every node RR selects becomes a reference (only the first unless
 * the rule is multi). */
static int add_refs(struct corr *c, const struct ref_rule *rr)
{
	xmlNodePtr root = xmlDocGetRootElement(c->doc->xml), *nodes;
	size_t i, n = engine__path_all(root, rr->xpath, NULL, SIZE_MAX);

	if (n == 0)
		return 0;
	if ((nodes = calloc(n, sizeof(*nodes))) == NULL)
		return SECMX_ENOMEM;
	n = engine__path_all(root, rr->xpath, nodes, n);
	for (i = 0; i < n; i++) {
		char *v = engine__text(nodes[i]);
		size_t k;
		int dup = 0;

		if (v == NULL || *v == '\0') {
			free(v);
			continue;
		}
		for (k = 0; k < c->nrefs; k++)
			dup |=
			    strcmp(c->refs[k].type, rr->type) == 0 && strcmp(c->refs[k].id, v) == 0;
		if (dup || c->nrefs == MAX_REFS) {
			free(v);
			continue;
		}
		c->refs[c->nrefs].type = rr->type;
		c->refs[c->nrefs].party = side(c, rr->party);
		c->refs[c->nrefs++].id = v;
		if (!c->rule->multi)
			break;
	}
	free(nodes);
	return 0;
}

/* kind_of: what the document does to the state (responses by their code). */
static enum kind kind_of(struct corr *c)
{
	static const struct {
		const char *type;
		enum kind kind;
	} K[] = {{"Order", K_ORDER},
	         {"ReceiptAdvice", K_RECEIPT},
	         {"DespatchAdvice", K_DESPATCH},
	         {"Invoice", K_INVOICE},
	         {"CreditNote", K_CREDIT},
	         {"RemittanceAdvice", K_REMIT},
	         {"OrderCancellation", K_CANCEL}};
	xmlNodePtr n;
	char *code = NULL;
	enum kind k = K_OTHER;
	size_t i;

	for (i = 0; i < sizeof(K) / sizeof(K[0]); i++)
		if (strcmp(c->type, K[i].type) == 0)
			return K[i].kind;
	if (strcmp(c->type, "ApplicationResponse") == 0) {
		/* UNCL 4343: RE rejected, UQ under query, PD paid; AB, IP, CA, AP accept. */
		n = root_first(c, "cac:DocumentResponse/cac:Response/cbc:ResponseCode");
		code = n ? engine__text(n) : NULL;
		k = K_RESP_OK;
		if (code && (strcmp(code, "RE") == 0 || strcmp(code, "UQ") == 0))
			k = K_RESP_DISPUTE;
		else if (code && strcmp(code, "PD") == 0)
			k = K_RESP_PAID;
	} else if (strcmp(c->type, "OrderResponse") == 0) {
		/* UNCL 1225: 27 rejected; 29 accepted, 30 accepted with changes. */
		n = root_first(c, "cbc:OrderResponseCode");
		code = n ? engine__text(n) : NULL;
		k = code && strcmp(code, "27") == 0 ? K_CANCEL : K_RESP_OK;
	}
	free(code);
	return k;
}

/* corr_init: read type, parties, id, references and kind of DOC. */
static int corr_init(struct corr *c, const struct engine_doc *doc, const char *type)
{
	size_t i;

	memset(c, 0, sizeof(*c));
	c->doc = doc;
	c->type = type;
	c->rule = &OTHER_RULE;
	for (i = 0; i < N_RULES; i++)
		if (strcmp(RULES[i].type, type) == 0)
			c->rule = &RULES[i];
	for (i = 0; i < 2 && c->buyer[0] == '\0' && c->rule->buyer[i]; i++)
		party_id(c, c->rule->buyer[i], c->buyer, sizeof(c->buyer));
	for (i = 0; i < 2 && c->seller[0] == '\0' && c->rule->seller[i]; i++)
		party_id(c, c->rule->seller[i], c->seller, sizeof(c->seller));
	c->issuer = side(c, c->rule->issuer);
	c->id = doc->id ? doc->id : "";
	for (i = 0; i < 3 && c->rule->refs[i].type; i++)
		if (add_refs(c, &c->rule->refs[i]) < 0)
			return SECMX_ENOMEM;
	c->kind = kind_of(c);
	return 0;
}

/* corr_free: release what corr_init took. */
static void corr_free(struct corr *c)
{
	size_t i;

	for (i = 0; i < c->nrefs; i++)
		free(c->refs[i].id);
}

/* ---- finding the transaction ---- */

/* make_key: "<prefix>:<party>:<id>" into KEY; the prefix is TYPE in lower
 * case ("order", "invoice"; "doc" for any type). A key that would not fit
 * becomes "<prefix>:sha256:<hex of party:id>" instead of being cut, so two
 * long identifiers never collide into one transaction. */
static void make_key(char *key, size_t len, const char *type, const char *party, const char *id)
{
	char prefix[32];
	size_t i;
	int n;

	for (i = 0; type && type[i] && i + 1 < sizeof(prefix); i++)
		prefix[i] = (char)tolower((unsigned char)type[i]);
	prefix[i] = '\0';
	n = snprintf(NULL, 0, "%s:%s:%s", i ? prefix : "doc", party, id);
	if (n >= 0 && (size_t)n < len) {
		snprintf(key, len, "%s:%s:%s", i ? prefix : "doc", party, id);
	} else {
		unsigned char md[EVP_MAX_MD_SIZE];
		char hex[2 * EVP_MAX_MD_SIZE + 1] = "";
		unsigned int mdlen = 0;
		EVP_MD_CTX *c = EVP_MD_CTX_new();
		size_t k;

		if (c == NULL || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1 ||
		    EVP_DigestUpdate(c, party, strlen(party)) != 1 ||
		    EVP_DigestUpdate(c, ":", 1) != 1 || EVP_DigestUpdate(c, id, strlen(id)) != 1 ||
		    EVP_DigestFinal_ex(c, md, &mdlen) != 1)
			mdlen = 0; /* XXX out of memory: the key degrades to "<prefix>:sha256:" */
		EVP_MD_CTX_free(c);
		for (k = 0; k < mdlen; k++)
			snprintf(hex + 2 * k, 3, "%02x", md[k]);
		snprintf(key, len, "%s:sha256:%s", i ? prefix : "doc", hex);
	}
}

/* lookup: the oldest transaction indexed under (TYPE, PARTY, ID), 0 if none. */
static int lookup(struct queue *q, const char *type, const char *party, const char *id,
                  int64_t *txn)
{
	int64_t ids[1];
	int n;

	*txn = 0;
	if (id == NULL || *id == '\0')
		return 0;
	if ((n = queue_txn_ref_find(q, type, party, id, ids, 1)) < 0)
		return n;
	if (n > 0)
		*txn = ids[0];
	return 0;
}

/* add_target: open or find KEY (or take TXN when non-zero) as a target;
 * an already listed transaction is not listed twice. */
static int add_target(struct queue *q, struct target *tg, size_t *n, int64_t txn, const char *key,
                      enum queue_txn_state first, int64_t msg_id, int ref)
{
	struct target t;
	size_t i;
	int rc;

	memset(&t, 0, sizeof(t));
	t.ref = ref;
	if (txn != 0) {
		t.id = txn;
		if ((rc = queue_txn_key(q, txn, t.key, sizeof(t.key))) < 0)
			return rc;
	} else {
		secmx_strlcpy(t.key, key, sizeof(t.key));
		if ((rc = queue_txn_open(q, t.key, first, msg_id, &t.id)) < 0)
			return rc;
		t.created = rc == 1;
	}
	for (i = 0; i < *n; i++)
		if (tg[i].id == t.id)
			return 0;
	if (*n == MAX_TARGETS)
		return 0;
	tg[(*n)++] = t;
	return 0;
}

/* resolve: the transactions the document goes into. */
static int resolve(struct queue *q, struct corr *c, int64_t msg_id, struct target *tg, size_t *n)
{
	enum queue_txn_state first = (enum queue_txn_state)NEXT[ROW_NEW][c->kind];
	char key[256];
	int64_t txn = 0;
	size_t i;
	int rc;

	*n = 0;
	if (c->rule->multi && c->nrefs > 0) {
		/* Each invoice a remittance pays: its transaction, or one opened for it. */
		for (i = 0; i < c->nrefs; i++) {
			if ((rc = lookup(q, c->refs[i].type, c->refs[i].party, c->refs[i].id,
			                 &txn)) < 0)
				return rc;
			make_key(key, sizeof(key), c->refs[i].type, c->refs[i].party,
			         c->refs[i].id);
			if ((rc = add_target(q, tg, n, txn, key, first, msg_id, (int)i)) < 0)
				return rc;
		}
		return 0;
	}
	for (i = 0; i < c->nrefs && txn == 0; i++)
		if ((rc = lookup(q, c->refs[i].type, c->refs[i].party, c->refs[i].id, &txn)) < 0)
			return rc;
	if (txn == 0 && (rc = lookup(q, c->type, c->issuer, c->id, &txn)) < 0)
		return rc;
	if (c->nrefs > 0) {
		make_key(key, sizeof(key), c->refs[0].type, c->refs[0].party, c->refs[0].id);
	} else {
		char own[300];

		/* A document without an id gets one of its own: its message's. */
		if (*c->id)
			secmx_strlcpy(own, c->id, sizeof(own));
		else
			snprintf(own, sizeof(own), "#msg%lld", (long long)msg_id);
		make_key(key, sizeof(key), c->rule->prefix ? c->rule->prefix : c->type, c->issuer,
		         own);
	}
	return add_target(q, tg, n, txn, key, first, msg_id, -1);
}

/* ---- recording ---- */

/* build_refs: the index entries for the document in T (its own id, and its
 * references: all of them, or for a remittance only the one that led to T)
 * into REFS (MAX_REFS + 1); returns how many. Borrowed strings. */
static size_t build_refs(const struct corr *c, const struct target *t, struct queue_txn_ref *refs)
{
	size_t i, n = 0;

	if (*c->id)
		refs[n++] = (struct queue_txn_ref){c->type, c->issuer, c->id, 1};
	for (i = 0; i < c->nrefs; i++)
		if (t->ref < 0 || (size_t)t->ref == i)
			refs[n++] = (struct queue_txn_ref){c->refs[i].type, c->refs[i].party,
			                                   c->refs[i].id, 0};
	return n;
}

/* matchable: does a document of this kind change what the match sees? */
static int matchable(enum kind k)
{
	return k == K_ORDER || k == K_RECEIPT || k == K_DESPATCH || k == K_INVOICE || k == K_CREDIT;
}

/* A transaction read, decided on, and ready to be written (one attempt).
 * DUP_OF: the message that brought the same document (type, issuer, id)
 * into the transaction before, or 0. */
struct plan {
	struct queue_txn_record rec;
	struct engine__match m;
	struct queue_txn_finding *fnd;
	struct queue_txn_finding dup;
	int64_t dup_of;
	char note[512];
	char dup_text[512];
	char dup_summary[64];
};

/* is_dup_entry: is document entry E (queue_txn_docs_json) recorded as a
 * duplicate (its summary names the message it repeats)? */
static int is_dup_entry(json_t *e)
{
	return json_object_get(json_object_get(e, "summary"), "duplicate_of") != NULL;
}

/* same_doc: the earlier message in DOCS (not MSG_ID) that brought the same
 * document as C (type, issuer and id, the id not empty), or 0. A business
 * document is its issuer's (type, id): a supplier sending invoice INV-1
 * again, in another message and whatever its bytes, sends the same invoice,
 * and the match must not count it twice. */
static int64_t same_doc(const struct corr *c, json_t *docs, int64_t msg_id)
{
	json_t *e;
	size_t i;

	if (*c->id == '\0')
		return 0;
	json_array_foreach(docs, i, e)
	{
		const char *t = json_string_value(json_object_get(e, "doc_type"));
		const char *party = json_string_value(json_object_get(e, "party"));
		const char *id = json_string_value(json_object_get(e, "doc_id"));
		int64_t m = (int64_t)json_integer_value(json_object_get(e, "msg_id"));

		if (m != msg_id && !is_dup_entry(e) && t && strcmp(t, c->type) == 0 && party &&
		    strcmp(party, c->issuer) == 0 && id && strcmp(id, c->id) == 0)
			return m;
	}
	return 0;
}

/* drop_dups: remove from DOCS the entries recorded as duplicates, so the
 * match sees each business document once. */
static void drop_dups(json_t *docs)
{
	size_t i = 0;

	while (i < json_array_size(docs)) {
		if (is_dup_entry(json_array_get(docs, i)))
			json_array_remove(docs, i);
		else
			i++;
	}
}

/* plan_free: release one attempt's plan. */
static void plan_free(struct plan *p)
{
	json_decref(p->m.findings);
	free(p->fnd);
	memset(p, 0, sizeof(*p));
}

/* plan_make: read transaction T, run the state table and the match, and
 * fill P->rec for queue_txn_record (message MSG_ID). A document T holds
 * already from another message is a duplicate (P->dup_of): one warning
 * finding, no match, no state change. */
static int plan_make(const struct engine *eng, struct queue *q, const struct corr *c,
                     const struct target *t, int64_t msg_id, json_t *sum, struct plan *p)
{
	enum queue_txn_state cur, next;
	json_t *docs = NULL, *me, *f;
	size_t i, n;
	int rc;

	memset(p, 0, sizeof(*p));
	if ((rc = queue_txn_find(q, t->key, NULL, &cur)) < 0 ||
	    (rc = queue_txn_docs_json(q, t->id, &docs)) < 0)
		goto done;
	p->rec.expect_state = cur;
	p->rec.expect_docs = (int64_t)json_array_size(docs);
	if ((p->dup_of = same_doc(c, docs, msg_id)) != 0) {
		/* The same document again: recorded, marked, and neither matched
		 * nor moving the state a second time. */
		snprintf(p->note, sizeof(p->note),
		         "%s %s: duplicate of message m%lld (the same type, issuer and id);"
		         " not counted again",
		         c->type, c->id, (long long)p->dup_of);
		snprintf(p->dup_text, sizeof(p->dup_text),
		         "%s %s from %s was received before as message m%lld: this copy"
		         " (message m%lld) is not counted again",
		         c->type, c->id, *c->issuer ? c->issuer : "(no party)",
		         (long long)p->dup_of, (long long)msg_id);
		p->dup = (struct queue_txn_finding){"SECMX-DUPLICATE", "warning", p->dup_text};
		p->rec.findings = &p->dup;
		p->rec.nfindings = 1;
		snprintf(p->dup_summary, sizeof(p->dup_summary), "{\"duplicate_of\":%lld}",
		         (long long)p->dup_of);
		p->rec.state = cur;
		p->rec.note = p->note;
		rc = 0;
		goto done;
	}
	drop_dups(docs);
	next = NEXT[cur][c->kind] == SAME ? cur : (enum queue_txn_state)NEXT[cur][c->kind];
	snprintf(p->note, sizeof(p->note), "%s %s", c->type, *c->id ? c->id : "(no id)");
	if (matchable(c->kind)) {
		me = json_pack("{s:s,s:s,s:O}", "doc_type", c->type, "doc_id", c->id, "summary",
		               sum);
		if (me == NULL || json_array_append_new(docs, me) < 0) {
			rc = SECMX_ENOMEM;
			goto done;
		}
		if ((rc = engine__txn_match(eng, docs, &p->m)) < 0)
			goto done;
	}
	n = p->m.findings ? json_array_size(p->m.findings) : 0;
	if (p->m.kind == ENGINE_MATCH_THREE_WAY) {
		if (n > 0 && (p->fnd = calloc(n, sizeof(*p->fnd))) == NULL) {
			rc = SECMX_ENOMEM;
			goto done;
		}
		json_array_foreach(p->m.findings, i, f)
		{
			p->fnd[i].rule = json_string_value(json_object_get(f, "rule"));
			p->fnd[i].severity = "error";
			p->fnd[i].text = json_string_value(json_object_get(f, "text"));
		}
		p->rec.findings = p->fnd;
		p->rec.nfindings = n;
		if (next != QUEUE_TXN_PAID && next != QUEUE_TXN_CLOSED)
			next = n ? QUEUE_TXN_DISPUTED : QUEUE_TXN_MATCHED;
		if (n == 0)
			snprintf(p->note + strlen(p->note), sizeof(p->note) - strlen(p->note),
			         "; three-way match (receipt from %s): clean", p->m.basis);
		else
			snprintf(p->note + strlen(p->note), sizeof(p->note) - strlen(p->note),
			         "; three-way match (receipt from %s): %zu difference%s",
			         p->m.basis, n, n == 1 ? "" : "s");
	} else if (p->m.kind == ENGINE_MATCH_TWO_WAY) {
		snprintf(p->note + strlen(p->note), sizeof(p->note) - strlen(p->note),
		         "; two-way match with the order: %zu difference%s; waiting for receipt", n,
		         n == 1 ? "" : "s");
	}
	p->rec.state = next;
	p->rec.note = p->note;
	rc = 0;
done:
	json_decref(docs);
	return rc;
}

/* report: the match's findings into REP: fatal for a three-way match,
 * warnings for a two-way one. */
static void report(const struct engine__match *m, struct engine_report *rep)
{
	json_t *f;
	size_t i;

	if (rep == NULL || m->findings == NULL)
		return;
	json_array_foreach(m->findings, i, f)
	{
		const char *rule = json_string_value(json_object_get(f, "rule"));
		const char *path = json_string_value(json_object_get(f, "path"));
		const char *text = json_string_value(json_object_get(f, "text"));

		if (m->kind == ENGINE_MATCH_THREE_WAY)
			engine_report_add(rep, rule, ENGINE_FATAL, 0, path, "%s", text);
		else
			engine_report_add(rep, rule, ENGINE_WARNING, 0, path,
			                  "%s (two-way match; waiting for receipt)", text);
	}
}

/* record: put the document into transaction T in one queue commit, reading
 * and deciding again when another worker changed T meanwhile. *NF gets the
 * findings added, MATCH (16 bytes) what match ran, *DUP_OF the message
 * this one repeats (0: none). Returns 0, or 1 when the message was already
 * recorded in T. */
static int record(const struct engine *eng, struct queue *q, const struct corr *c,
                  const struct target *t, int64_t msg_id, json_t *sum, const char *sum_text,
                  struct engine_report *rep, size_t *nf, char *match, int64_t *dup_of)
{
	struct queue_txn_ref refs[MAX_REFS + 1];
	struct plan p;
	unsigned attempt;
	int rc = SECMX_ESTATE;

	*nf = 0;
	for (attempt = 0; attempt < RECORD_ATTEMPTS && rc == SECMX_ESTATE; attempt++) {
		if ((rc = plan_make(eng, q, c, t, msg_id, sum, &p)) < 0) {
			plan_free(&p);
			return rc;
		}
		p.rec.txn_id = t->id;
		p.rec.msg_id = msg_id;
		p.rec.doc_type = c->type;
		p.rec.party = c->issuer;
		p.rec.doc_id = c->id;
		p.rec.summary_json = p.dup_of ? p.dup_summary : sum_text;
		p.rec.refs = refs;
		p.rec.nrefs = build_refs(c, t, refs);
		rc = queue_txn_record(q, &p.rec);
		if (rc == 0) {
			report(&p.m, rep);
			if (p.dup_of && rep != NULL)
				engine_report_add(rep, "SECMX-DUPLICATE", ENGINE_WARNING, 0, "",
				                  "%s", p.dup_text);
			*nf = p.rec.nfindings;
			*dup_of = p.dup_of;
			secmx_strlcpy(match,
			              p.m.kind == ENGINE_MATCH_THREE_WAY ? "three-way"
			              : p.m.kind == ENGINE_MATCH_TWO_WAY ? "two-way"
			                                                 : "",
			              16);
		}
		plan_free(&p);
	}
	return rc;
}

/* engine_txn_correlate: see engine.h. */
int engine_txn_correlate(const struct engine *eng, struct queue *q, const struct engine_doc *doc,
                         long long msg_id, struct engine_txn_result *out, struct engine_report *rep)
{
	const struct engine_doctype *t;
	struct corr c;
	struct target tg[MAX_TARGETS];
	enum queue_txn_state st;
	json_t *sum = NULL;
	char *sum_text = NULL;
	size_t n = 0, i, nf;
	int rc, recorded = 0, ready = 0;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (eng == NULL || q == NULL || doc == NULL || out == NULL || msg_id <= 0 ||
	    (t = engine_doc_type(doc)) == NULL)
		return SECMX_EINVAL;
	if ((rc = corr_init(&c, doc, t->name)) < 0)
		goto done;
	ready = 1;
	if ((rc = resolve(q, &c, msg_id, tg, &n)) < 0)
		goto done;
	if (n == 0) { /* resolve always finds or opens one */
		rc = SECMX_EINTERNAL;
		goto done;
	}
	if ((sum = engine__txn_summary(doc, t->name)) == NULL ||
	    (sum_text = json_dumps(sum, JSON_COMPACT)) == NULL) {
		rc = SECMX_ENOMEM;
		goto done;
	}
	for (i = 0; i < n; i++) {
		char match[16] = "";
		int64_t dup = 0;

		/* A quick read first; queue_txn_record checks again in its commit. */
		if ((rc = queue_txn_doc_has(q, tg[i].id, msg_id)) < 0)
			goto done;
		if (rc == 1)
			continue; /* recorded before: idempotent */
		if ((rc = record(eng, q, &c, &tg[i], msg_id, sum, sum_text, rep, &nf, match,
		                 &dup)) < 0)
			goto done;
		if (rc == 1)
			continue;
		recorded++;
		out->findings += nf;
		if (out->duplicate_of == 0)
			out->duplicate_of = dup;
		if (i == 0)
			secmx_strlcpy(out->match, match, sizeof(out->match));
	}
	secmx_strlcpy(out->key, tg[0].key, sizeof(out->key));
	out->txn_id = tg[0].id;
	out->created = tg[0].created;
	out->ntxn = n;
	if ((rc = queue_txn_find(q, tg[0].key, NULL, &st)) < 0)
		goto done;
	secmx_strlcpy(out->state, queue_txn_state_name(st), sizeof(out->state));
	rc = recorded ? 0 : 1;
done:
	if (ready)
		corr_free(&c);
	free(sum_text);
	json_decref(sum);
	return rc;
}

/* engine_txn_set_tolerance: check and copy the tolerances. */
int engine_txn_set_tolerance(struct engine *eng, const struct engine_txn_tolerance *tol)
{
	struct engine__txn_tol t;
	const char *v[4];
	char *dst[4];
	size_t i;

	if (eng == NULL || tol == NULL)
		return SECMX_EINVAL;
	memset(&t, 0, sizeof(t));
	v[0] = tol->price_pct, v[1] = tol->price_abs, v[2] = tol->qty_pct, v[3] = tol->total_abs;
	dst[0] = t.price_pct, dst[1] = t.price_abs, dst[2] = t.qty_pct, dst[3] = t.total_abs;
	for (i = 0; i < 4; i++) {
		if (!engine__txn_dec_ok(v[i]) || (v[i] && strlen(v[i]) >= sizeof(t.price_pct)))
			return SECMX_EINVAL;
		secmx_strlcpy(dst[i], v[i] ? v[i] : "", sizeof(t.price_pct));
	}
	eng->txn_tol = t;
	return SECMX_OK;
}
