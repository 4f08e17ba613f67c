/*
 * txn.c — business transactions: correlation of documents through their
 * references. FIRST FORM: the transaction key is the order the document
 * refers to (or its own id when it refers to none) and the state follows
 * the document type; the three-way match and the full correlation rules
 * replace this in the transaction work that follows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "engine_int.h"
#include "queue.h"

/* first_ref: the text of the first node XPATH selects under the root. */
static char *first_ref(xmlDocPtr xml, const char *xpath)
{
	xmlXPathContextPtr ctx = xmlXPathNewContext(xml);
	xmlXPathObjectPtr obj = NULL;
	char *out = NULL;

	if (ctx == NULL)
		return NULL;
	xmlXPathRegisterNs(ctx, BAD_CAST "cbc", BAD_CAST NS_CBC);
	xmlXPathRegisterNs(ctx, BAD_CAST "cac", BAD_CAST NS_CAC);
	ctx->node = xmlDocGetRootElement(xml);
	obj = xmlXPathEvalExpression(BAD_CAST xpath, ctx);
	if (obj && obj->nodesetval && obj->nodesetval->nodeNr > 0)
		out = engine__text(obj->nodesetval->nodeTab[0]);
	xmlXPathFreeObject(obj);
	xmlXPathFreeContext(ctx);
	return out;
}

int engine_txn_correlate(const struct engine *eng, struct queue *q, const struct engine_doc *doc,
			 long long msg_id, struct engine_txn_result *out, struct engine_report *rep)
{
	const struct engine_doctype *t = engine_doc_type(doc);
	enum queue_txn_state st = QUEUE_TXN_ORDERED;
	char *order = NULL;
	int64_t id = 0;
	int rc;

	(void)eng, (void)rep;
	memset(out, 0, sizeof(*out));
	if (t == NULL)
		return SECMX_EINVAL;
	if (strcmp(t->name, "Order") != 0)
		order = first_ref(doc->xml, "cac:OrderReference/cbc:ID");
	if (order != NULL && *order)
		snprintf(out->key, sizeof(out->key), "order:%s", order);
	else if (strcmp(t->name, "Order") == 0 && doc->id)
		snprintf(out->key, sizeof(out->key), "order:%s", doc->id);
	else
		snprintf(out->key, sizeof(out->key), "doc:%s:%s", t->name, doc->id ? doc->id : "");
	free(order);
	if (strcmp(t->name, "Invoice") == 0 || strcmp(t->name, "CreditNote") == 0)
		st = QUEUE_TXN_INVOICED;
	else if (strcmp(t->name, "RemittanceAdvice") == 0)
		st = QUEUE_TXN_PAID;
	else if (strcmp(t->name, "ReceiptAdvice") == 0)
		st = QUEUE_TXN_RECEIPTED;
	rc = queue_txn_open(q, out->key, st, msg_id, &id);
	if (rc < 0)
		return rc;
	out->created = rc == 1;
	out->txn_id = id;
	if (rc == 0 && (rc = queue_txn_set_state(q, id, st, msg_id, t->name)) < 0)
		return rc;
	secmx_strlcpy(out->state, queue_txn_state_name(st), sizeof(out->state));
	return SECMX_OK;
}
