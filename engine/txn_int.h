/*
 * txn_int.h — private to engine/txn*.c: what the correlation (txn.c) asks
 * of the match (txn_match.c).
 *
 * A document summary is a JSON object the match reads and the queue keeps
 * with each document of a transaction (txn_doc.summary):
 *   {"currency": "NZD", "total": "709.00", "total_path": "...",
 *    "lines": [{"id": "1", "ref": "1", "items": ["KOS-A4-5R"], "qty": "10",
 *               "price": "45.00", "base": "1", "path": "/Invoice/cac:InvoiceLine[1]"}]}
 * Amounts stay decimal strings as written (receipt quantities are computed:
 * received minus rejected); nothing is ever a binary floating-point number.
 */
#ifndef SECMX_TXN_INT_H
#define SECMX_TXN_INT_H

#include <jansson.h>

#include "engine_int.h"

/* engine__txn_summary: the summary of DOC, a document of type TYPE ("Order",
 * "Invoice", "CreditNote", "ReceiptAdvice", "DespatchAdvice"; any other type
 * gives an object without lines). New reference (json_decref); NULL when out
 * of memory. */
json_t *engine__txn_summary(const struct engine_doc *doc, const char *type);

/* How far a match got. */
enum engine__match_kind {
	ENGINE_MATCH_NONE = 0,  /* no order, or no invoice: nothing to match */
	ENGINE_MATCH_TWO_WAY,   /* order and invoice, no receipt or despatch advice */
	ENGINE_MATCH_THREE_WAY, /* order, invoice and receipt (or despatch advice) */
};

/* What a match found. */
struct engine__match {
	enum engine__match_kind kind;
	const char *basis; /* "ReceiptAdvice" or "DespatchAdvice" (three-way), else NULL */
	json_t *findings;  /* new array of {rule, text, path}; the caller json_decref()s */
};

/*
 * engine__txn_match: match the documents DOCS of one transaction (an array
 * of {doc_type, doc_id, summary}, as queue_txn_docs_json gives them, in
 * arrival order) with ENG's tolerances. Fills *M (M->findings always set on
 * success). SECMX_ENOMEM. Differences are findings, never errors.
 */
int engine__txn_match(const struct engine *eng, json_t *docs, struct engine__match *m);

/* engine__txn_dec_ok: is S a non-negative decimal? (tolerance strings) */
int engine__txn_dec_ok(const char *s);

#endif
