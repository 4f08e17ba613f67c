/*
 * tc_txn.c — business transactions end to end: documents from
 * tests/data/txn (and tests/data/invoice-nz.xml) are stored in a real queue
 * file in a temporary directory and correlated with engine_txn_correlate;
 * the tests read back states, history, findings and documents through the
 * queue's JSON views. Variants are made by replacing one text in a
 * document, so each test shows exactly what differs.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "queue.h"
#include "tests.h"

#define BUYER "0088:9429049990003"
#define SELLER "0088:9429041535097"
#define KEY_PO "order:" BUYER ":PO-88120"
#define KEY_418 "invoice:" SELLER ":INV-2026-00418"
#define NS_CAC_T "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
#define NS_CBC_T "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"

static char tmpdir[64];
static struct queue *q;
static struct engine *eng;

/* setup: a fresh queue in a new temporary directory, an engine without schemas. */
static void setup(void)
{
	struct queue_config cfg;
	char path[128], err[256] = "";
	int rc;

	secmx_strlcpy(tmpdir, "/tmp/secmx-txn-XXXXXX", sizeof(tmpdir));
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(path, sizeof(path), "%s/queue.db", tmpdir);
	queue_config_default(&cfg);
	cfg.group_commit = 0;
	rc = queue_open(path, &cfg, &q, err, sizeof(err));
	ck_assert_msg(rc == 0, "queue_open: %s (%s)", secmx_strerror(rc), err);
	eng = test_engine(NULL, ENGINE_CFG_NO_SCHEMAS);
}

/* teardown: close and remove the queue files. */
static void teardown(void)
{
	char cmd[128];

	queue_close(q);
	q = NULL;
	test_engine_free();
	snprintf(cmd, sizeof(cmd), "%s/queue.db", tmpdir);
	unlink(cmd);
	snprintf(cmd, sizeof(cmd), "%s/queue.db-wal", tmpdir);
	unlink(cmd);
	snprintf(cmd, sizeof(cmd), "%s/queue.db-shm", tmpdir);
	unlink(cmd);
	rmdir(tmpdir);
}

/* load: a test document ("invoice" is tests/data/invoice-nz.xml; others
 * tests/data/txn/NAME.xml), malloc'd. */
static char *load(const char *name)
{
	char rel[128], *buf = NULL;
	size_t len;
	int rc;

	if (strcmp(name, "invoice") == 0)
		snprintf(rel, sizeof(rel), "invoice-nz.xml");
	else
		snprintf(rel, sizeof(rel), "txn/%s.xml", name);
	rc = secmx_file_read(testdata(rel), 1u << 20, &buf, &len);
	ck_assert_msg(rc == 0, "read %s: %s", rel, secmx_strerror(rc));
	return buf;
}

/* subst: S with the first FROM replaced by TO (S is freed; FROM must occur). */
static char *subst(char *s, const char *from, const char *to)
{
	char *at = strstr(s, from), *r;
	size_t a, fl = strlen(from), tl = strlen(to);

	ck_assert_msg(at != NULL, "'%s' not in the document", from);
	a = (size_t)(at - s);
	r = malloc(strlen(s) - fl + tl + 1);
	ck_assert_ptr_nonnull(r);
	memcpy(r, s, a);
	memcpy(r + a, to, tl);
	memcpy(r + a + tl, at + fl, strlen(at + fl) + 1);
	free(s);
	return r;
}

/* feed_id: store XML (freed) in the queue and correlate it; *MSG gets the
 * message id. Returns engine_txn_correlate's result. */
static int feed_id(char *xml, struct engine_txn_result *res, struct engine_report *rep,
                   int64_t *msg)
{
	struct engine_doc *doc;
	struct queue_msg_in in = {0};
	struct queue_put_result pr;
	int rc;

	doc = test_parse_str(eng, xml, rep);
	ck_assert_int_eq(engine_doc_classify(eng, doc, rep), 0);
	in.data = xml;
	in.len = strlen(xml);
	in.source = "test";
	in.doc_type = engine_doc_type(doc)->name;
	in.doc_id = engine_doc_id(doc);
	ck_assert_int_eq(queue_msg_put(q, &in, &pr), 0);
	rc = engine_txn_correlate(eng, q, doc, pr.id, res, rep);
	engine_doc_free(doc);
	free(xml);
	if (msg != NULL)
		*msg = pr.id;
	return rc;
}

/* feed: feed_id with a fresh report, asserting success; returns the state. */
static const char *feed(char *xml, struct engine_txn_result *res)
{
	struct engine_report *rep = engine_report_new();
	int rc = feed_id(xml, res, rep, NULL);

	ck_assert_msg(rc == 0, "correlate: %s", secmx_strerror(rc));
	engine_report_free(rep);
	return res->state;
}

/* txn: the transaction KEY as JSON (caller json_decref()s). */
static json_t *txn(const char *key)
{
	json_t *j = NULL;

	ck_assert_int_eq(queue_txn_json(q, key, &j), 0);
	return j;
}

/* txn_findings: how many findings transaction KEY holds with RULE (NULL:
 * any) whose text contains NEEDLE (NULL: any). */
static size_t txn_findings(const char *key, const char *rule, const char *needle)
{
	json_t *j = txn(key), *f;
	size_t i, n = 0;

	json_array_foreach(json_object_get(j, "findings"), i, f)
	{
		const char *r = json_string_value(json_object_get(f, "rule"));
		const char *t = json_string_value(json_object_get(f, "text"));

		if ((rule == NULL || strcmp(r, rule) == 0) && (needle == NULL || strstr(t, needle)))
			n++;
	}
	json_decref(j);
	return n;
}

/* history_states: the to_state of every history entry of KEY, comma-separated. */
static const char *history_states(const char *key)
{
	static char buf[512];
	json_t *j = txn(key), *h;
	size_t i;

	buf[0] = '\0';
	json_array_foreach(json_object_get(j, "history"), i, h)
	{
		if (i)
			strncat(buf, ",", sizeof(buf) - strlen(buf) - 1);
		strncat(buf, json_string_value(json_object_get(h, "to_state")),
		        sizeof(buf) - strlen(buf) - 1);
	}
	json_decref(j);
	return buf;
}

/* state_of: the state of transaction KEY. */
static const char *state_of(const char *key)
{
	enum queue_txn_state st;

	ck_assert_int_eq(queue_txn_find(q, key, NULL, &st), 0);
	return queue_txn_state_name(st);
}

START_TEST(happy_path)
{
	struct engine_txn_result r;

	ck_assert_str_eq(feed(load("order"), &r), "ordered");
	ck_assert_str_eq(r.key, KEY_PO);
	ck_assert_int_eq(r.created, 1);
	ck_assert_str_eq(feed(load("receipt"), &r), "receipted");
	ck_assert_int_eq(r.created, 0);
	ck_assert_str_eq(r.key, KEY_PO);
	ck_assert_str_eq(feed(load("invoice"), &r), "matched");
	ck_assert_str_eq(r.match, "three-way");
	ck_assert_uint_eq(r.findings, 0);
	ck_assert_str_eq(feed(load("remittance"), &r), "paid");
	ck_assert_str_eq(r.key, KEY_PO);
	ck_assert_str_eq(history_states(KEY_PO), "ordered,ordered,receipted,matched,paid");
	ck_assert_uint_eq(txn_findings(KEY_PO, NULL, NULL), 0);
}
END_TEST

START_TEST(qty_over_receipt)
{
	struct engine_txn_result r;
	struct engine_report *rep = engine_report_new();
	const struct engine_finding *f;

	feed(load("order"), &r);
	feed(subst(load("receipt"), ">10</cbc:ReceivedQuantity>", ">8</cbc:ReceivedQuantity>"), &r);
	ck_assert_int_eq(feed_id(load("invoice"), &r, rep, NULL), 0);
	ck_assert_str_eq(r.state, "disputed");
	ck_assert_uint_eq(r.findings, 1);
	ck_assert_uint_eq(engine_report_count(rep), 1);
	f = engine_report_at(rep, 0);
	ck_assert_str_eq(f->rule, "SECMX-MATCH-QTY");
	ck_assert_int_eq(f->severity, ENGINE_FATAL);
	ck_assert_msg(strstr(f->message, "line 1 (KOS-A4-5R)") &&
	                  strstr(f->message, "invoiced 10 exceeds received 8"),
	              "%s", f->message);
	ck_assert_str_eq(f->path, "/Invoice/cac:InvoiceLine[1]");
	ck_assert_uint_eq(txn_findings(KEY_PO, "SECMX-MATCH-QTY", "line 1 (KOS-A4-5R)"), 1);
	ck_assert_uint_eq(txn_findings(KEY_PO, NULL, NULL), 1);
	engine_report_free(rep);
}
END_TEST

/* invoice_toner_at: the invoice with the toner line (2 x) at PRICE, its
 * line amount and totals adjusted to stay consistent. */
static char *invoice_toner_at(const char *price, const char *line, const char *net)
{
	char *s = load("invoice");
	char buf[128];

	snprintf(buf, sizeof(buf), "<cbc:PriceAmount currencyID=\"NZD\">%s</cbc:PriceAmount>",
	         price);
	s = subst(s, "<cbc:PriceAmount currencyID=\"NZD\">129.50</cbc:PriceAmount>", buf);
	snprintf(buf, sizeof(buf), ">%s</cbc:LineExtensionAmount>", line);
	s = subst(s, ">259.00</cbc:LineExtensionAmount>", buf);
	snprintf(buf, sizeof(buf), ">%s</cbc:LineExtensionAmount>", net);
	return subst(s, ">709.00</cbc:LineExtensionAmount>", buf);
}

START_TEST(price_outside_tolerance)
{
	struct engine_txn_tolerance tol = {.price_pct = "1"};
	struct engine_txn_result r;

	ck_assert_int_eq(engine_txn_set_tolerance(eng, &tol), 0);
	feed(load("order"), &r);
	feed(load("receipt"), &r);
	/* 135.00 against 129.50: 5.50 more than 1 % (1.295) allows. */
	ck_assert_str_eq(feed(invoice_toner_at("135.00", "270.00", "720.00"), &r), "disputed");
	ck_assert_uint_eq(txn_findings(KEY_PO, "SECMX-MATCH-PRICE",
	                               "line 2 (KOS-TN-BK) (order PO-88120 line 2): unit price "
	                               "135.00, ordered at 129.50: difference 5.50"),
	                  1);
	ck_assert_uint_eq(txn_findings(KEY_PO, "SECMX-MATCH-TOTAL", "720.00"), 1);
	ck_assert_uint_eq(txn_findings(KEY_PO, "SECMX-MATCH-QTY", NULL), 0);
}
END_TEST

START_TEST(price_within_tolerance)
{
	struct engine_txn_tolerance tol = {.price_pct = "1"};
	struct engine_txn_result r;

	/* 130.00 against 129.50: 0.50 is within 1 % (1.295); the totals follow. */
	ck_assert_int_eq(engine_txn_set_tolerance(eng, &tol), 0);
	feed(load("order"), &r);
	feed(load("receipt"), &r);
	ck_assert_str_eq(feed(invoice_toner_at("130.00", "260.00", "710.00"), &r), "matched");
	ck_assert_uint_eq(txn_findings(KEY_PO, NULL, NULL), 0);
}
END_TEST

START_TEST(price_tolerance_matters)
{
	struct engine_txn_tolerance abs = {.price_abs = "0.50"}, none = {0};
	struct engine_txn_result r;

	/* The same invoice: disputed without a tolerance, matched with an
	 * absolute one of 0.50 (exactly the difference: within). */
	ck_assert_int_eq(engine_txn_set_tolerance(eng, &none), 0);
	feed(load("order"), &r);
	feed(load("receipt"), &r);
	ck_assert_str_eq(feed(invoice_toner_at("130.00", "260.00", "710.00"), &r), "disputed");
	ck_assert_uint_eq(txn_findings(KEY_PO, "SECMX-MATCH-PRICE", "difference 0.50"), 1);

	ck_assert_int_eq(engine_txn_set_tolerance(eng, &abs), 0);
	feed(subst(load("order"), "<cbc:ID>PO-88120", "<cbc:ID>PO-88121"), &r);
	feed(subst(load("receipt"), "<cbc:ID>PO-88120", "<cbc:ID>PO-88121"), &r);
	ck_assert_str_eq(feed(subst(subst(invoice_toner_at("130.00", "260.00", "710.00"),
	                                  "INV-2026-00417", "INV-2026-00419"),
	                            "<cbc:ID>PO-88120", "<cbc:ID>PO-88121"),
	                      &r),
	                 "matched");
	ck_assert_str_eq(r.key, "order:" BUYER ":PO-88121");

	/* Tolerances must be non-negative decimals. */
	abs.price_pct = "-1";
	ck_assert_int_eq(engine_txn_set_tolerance(eng, &abs), SECMX_EINVAL);
	abs.price_pct = "2%";
	ck_assert_int_eq(engine_txn_set_tolerance(eng, &abs), SECMX_EINVAL);
}
END_TEST

START_TEST(out_of_order)
{
	struct engine_txn_result r;

	/* Invoice first: it opens the order's transaction by its reference. */
	ck_assert_str_eq(feed(load("invoice"), &r), "invoiced");
	ck_assert_str_eq(r.key, KEY_PO);
	ck_assert_int_eq(r.created, 1);
	ck_assert_str_eq(r.match, "");
	ck_assert_str_eq(feed(load("receipt"), &r), "invoiced");
	ck_assert_str_eq(feed(load("order"), &r), "matched");
	ck_assert_int_eq(r.created, 0);
	ck_assert_str_eq(r.match, "three-way");

	/* Receipt before invoice, and the order last (another order id). */
	ck_assert_str_eq(feed(subst(subst(load("receipt"), "<cbc:ID>PO-88120", "<cbc:ID>PO-7"),
	                            "RA-5521", "RA-7"),
	                      &r),
	                 "receipted");
	ck_assert_str_eq(r.key, "order:" BUYER ":PO-7");
	ck_assert_str_eq(feed(subst(subst(load("invoice"), "<cbc:ID>PO-88120", "<cbc:ID>PO-7"),
	                            "INV-2026-00417", "INV-7"),
	                      &r),
	                 "invoiced");
	ck_assert_str_eq(feed(subst(load("order"), "<cbc:ID>PO-88120", "<cbc:ID>PO-7"), &r),
	                 "matched");
	ck_assert_str_eq(history_states("order:" BUYER ":PO-7"),
	                 "receipted,receipted,invoiced,matched");
}
END_TEST

START_TEST(remittance_two_invoices)
{
	struct engine_txn_result r;
	json_t *docs = NULL;
	int64_t id;

	feed(load("order"), &r);
	feed(load("receipt"), &r);
	ck_assert_str_eq(feed(load("invoice"), &r), "matched");
	ck_assert_str_eq(feed(load("invoice-418"), &r), "invoiced");
	ck_assert_str_eq(r.key, KEY_418);
	ck_assert_str_eq(r.match, "");

	ck_assert_str_eq(feed(load("remittance"), &r), "paid");
	ck_assert_uint_eq(r.ntxn, 2);
	ck_assert_str_eq(r.key, KEY_PO); /* the first invoice it pays */
	ck_assert_str_eq(state_of(KEY_PO), "paid");
	ck_assert_str_eq(state_of(KEY_418), "paid");
	/* The remittance is a document of both transactions. */
	ck_assert_int_eq(queue_txn_find(q, KEY_418, &id, NULL), 0);
	ck_assert_int_eq(queue_txn_docs_json(q, id, &docs), 0);
	ck_assert_uint_eq(json_array_size(docs), 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(docs, 1), "doc_type")),
	                 "RemittanceAdvice");
	json_decref(docs);
}
END_TEST

START_TEST(idempotent)
{
	struct engine_txn_result r, again;
	struct engine_report *rep = engine_report_new();
	struct engine_doc *doc;
	char *xml;
	int64_t msg;
	json_t *before, *after;

	feed(load("order"), &r);
	feed(subst(load("receipt"), ">10</cbc:ReceivedQuantity>", ">8</cbc:ReceivedQuantity>"), &r);
	xml = load("invoice");
	doc = test_parse_str(eng, xml, rep);
	ck_assert_int_eq(feed_id(xml, &r, rep, &msg), 0);
	ck_assert_str_eq(r.state, "disputed");
	before = txn(KEY_PO);

	/* The same message again: nothing changes, and it says so. */
	engine_report_clear(rep);
	ck_assert_int_eq(engine_doc_classify(eng, doc, rep), 0);
	ck_assert_int_eq(engine_txn_correlate(eng, q, doc, msg, &again, rep), 1);
	ck_assert_str_eq(again.key, r.key);
	ck_assert_int_eq(again.txn_id, r.txn_id);
	ck_assert_str_eq(again.state, "disputed");
	ck_assert_uint_eq(again.findings, 0);
	ck_assert_uint_eq(engine_report_count(rep), 0);
	after = txn(KEY_PO);
	ck_assert_msg(json_equal(before, after), "the transaction changed on a repeat");
	json_decref(before);
	json_decref(after);
	engine_doc_free(doc);
	engine_report_free(rep);
}
END_TEST

/* The same invoice again in another message (a supplier re-sending it,
 * another copy, changed bytes or not): recorded with a SECMX-DUPLICATE
 * warning naming the first message, and neither matched nor counted again,
 * whether it comes after the match or before the receipt. */
START_TEST(duplicate_document)
{
	struct engine_txn_result r;
	struct engine_report *rep = engine_report_new();
	int64_t first, second;
	json_t *j, *docs;

	feed(load("order"), &r);
	feed(load("receipt"), &r);
	ck_assert_int_eq(feed_id(load("invoice"), &r, rep, &first), 0);
	ck_assert_str_eq(r.state, "matched");
	ck_assert_int_eq(r.duplicate_of, 0);
	engine_report_clear(rep);
	/* the same invoice, its note changed: the same business document */
	ck_assert_int_eq(
	    feed_id(subst(load("invoice"), "<cbc:Note>", "<cbc:Note>Copy. "), &r, rep, &second), 0);
	ck_assert_str_eq(r.state, "matched");
	ck_assert_int_eq(r.duplicate_of, first);
	ck_assert_uint_eq(r.findings, 1);
	ck_assert_uint_eq(engine_report_count(rep), 1);
	ck_assert_str_eq(engine_report_at(rep, 0)->rule, "SECMX-DUPLICATE");
	ck_assert_uint_eq(txn_findings(KEY_PO, "SECMX-DUPLICATE", "received before as message m"),
	                  1);
	ck_assert_uint_eq(txn_findings(KEY_PO, NULL, NULL), 1); /* no SECMX-MATCH-* */
	ck_assert_str_eq(history_states(KEY_PO), "ordered,ordered,receipted,matched,matched");
	/* the copy is one of the transaction's documents, marked */
	ck_assert_int_eq(queue_txn_docs_json(q, r.txn_id, &docs), 0);
	ck_assert_uint_eq(json_array_size(docs), 4);
	j = json_object_get(json_object_get(json_array_get(docs, 3), "summary"), "duplicate_of");
	ck_assert_int_eq(json_integer_value(j), first);
	json_decref(docs);
	/* the transaction goes on as if the copy had not come */
	ck_assert_str_eq(feed(load("remittance"), &r), "paid");
	ck_assert_int_eq(r.duplicate_of, 0);
	ck_assert_uint_eq(txn_findings(KEY_PO, NULL, NULL), 1);
	engine_report_free(rep);
}
END_TEST

START_TEST(duplicate_before_the_receipt)
{
	struct engine_txn_result r;
	int64_t first;

	feed(load("order"), &r);
	ck_assert_int_eq(feed_id(load("invoice"), &r, NULL, &first), 0);
	ck_assert_int_eq(feed_id(load("invoice"), &r, NULL, NULL), 0);
	ck_assert_int_eq(r.duplicate_of, first);
	/* the receipt's three-way match counts the invoice's quantities once */
	ck_assert_str_eq(feed(load("receipt"), &r), "matched");
	ck_assert_uint_eq(r.findings, 0);
	ck_assert_uint_eq(txn_findings(KEY_PO, "SECMX-DUPLICATE", NULL), 1);
	ck_assert_uint_eq(txn_findings(KEY_PO, NULL, NULL), 1);
}
END_TEST

START_TEST(unknown_references)
{
	struct engine_txn_result r, r2;

	/* An order nobody knows: the invoice opens the order's transaction. */
	ck_assert_str_eq(feed(subst(load("invoice"), "<cbc:ID>PO-88120", "<cbc:ID>PO-404"), &r),
	                 "invoiced");
	ck_assert_str_eq(r.key, "order:" BUYER ":PO-404");
	ck_assert_int_eq(r.created, 1);
	/* No order at all: the invoice's own transaction. */
	ck_assert_str_eq(feed(load("invoice-418"), &r), "invoiced");
	ck_assert_str_eq(r.key, KEY_418);
	ck_assert_int_eq(r.created, 1);
	/* A response to an invoice we never saw: its own, under query. */
	ck_assert_str_eq(feed(subst(load("invoice-response"), "<cbc:ID>INV-2026-00417",
	                            "<cbc:ID>INV-1999-00001"),
	                      &r),
	                 "disputed");
	ck_assert_str_eq(r.key, "doc:" SELLER ":INV-1999-00001");
	/* The same order id from another buyer is another transaction. */
	feed(load("order"), &r);
	feed(subst(subst(load("order"), "9429049990003", "9429049990010"), "9429049990003",
	           "9429049990010"),
	     &r2);
	ck_assert_str_eq(r2.key, "order:0088:9429049990010:PO-88120");
	ck_assert_int_ne(r.txn_id, r2.txn_id);
	ck_assert_int_eq(r2.created, 1);
}
END_TEST

START_TEST(credit_note_and_response)
{
	struct engine_txn_result r;
	char *inv = load("invoice");

	/* 11 boxes invoiced, 10 received: disputed; the credit note for one box
	 * makes the three-way match clean again. */
	inv = subst(inv, ">10</cbc:InvoicedQuantity>", ">11</cbc:InvoicedQuantity>");
	inv = subst(inv, ">450.00</cbc:LineExtensionAmount>", ">495.00</cbc:LineExtensionAmount>");
	inv = subst(inv, ">709.00</cbc:LineExtensionAmount>", ">754.00</cbc:LineExtensionAmount>");
	feed(load("order"), &r);
	feed(load("receipt"), &r);
	ck_assert_str_eq(feed(inv, &r), "disputed");
	ck_assert_uint_eq(
	    txn_findings(KEY_PO, "SECMX-MATCH-QTY", "invoiced 11 exceeds received 10"), 1);
	ck_assert_str_eq(feed(load("creditnote"), &r), "matched");
	ck_assert_str_eq(r.key, KEY_PO);
	ck_assert_uint_eq(r.findings, 0);
	/* The buyer's Invoice Response (under query) finds the invoice by its id. */
	ck_assert_str_eq(feed(load("invoice-response"), &r), "disputed");
	ck_assert_str_eq(r.key, KEY_PO);
}
END_TEST

START_TEST(two_way)
{
	struct engine_txn_result r;
	struct engine_report *rep = engine_report_new();
	json_t *j;
	const char *note;
	size_t n;

	feed(load("order"), &r);
	ck_assert_int_eq(feed_id(invoice_toner_at("135.00", "270.00", "720.00"), &r, rep, NULL), 0);
	ck_assert_str_eq(r.state, "invoiced");
	ck_assert_str_eq(r.match, "two-way");
	ck_assert_uint_eq(r.findings, 0);
	/* Differences are warnings in the report, not findings of the transaction. */
	ck_assert_uint_eq(engine_report_fatal_count(rep), 0);
	ck_assert(report_has(rep, "SECMX-MATCH-PRICE"));
	ck_assert_uint_eq(txn_findings(KEY_PO, NULL, NULL), 0);
	j = txn(KEY_PO);
	n = json_array_size(json_object_get(j, "history"));
	note = json_string_value(
	    json_object_get(json_array_get(json_object_get(j, "history"), n - 1), "note"));
	ck_assert_msg(note && strstr(note, "waiting for receipt"), "%s", note ? note : "(null)");
	json_decref(j);
	/* The receipt arrives: the three-way match decides. */
	ck_assert_str_eq(feed(load("receipt"), &r), "disputed");
	ck_assert_uint_eq(txn_findings(KEY_PO, "SECMX-MATCH-PRICE", NULL), 1);
	engine_report_free(rep);
}
END_TEST

START_TEST(despatch_as_receipt)
{
	struct engine_txn_result r;
	json_t *j;
	size_t n;
	const char *note;

	/* Without a ReceiptAdvice the DespatchAdvice stands in, and says so. */
	ck_assert_str_eq(feed(load("order"), &r), "ordered");
	ck_assert_str_eq(feed(load("despatch"), &r), "ordered");
	ck_assert_str_eq(r.key, KEY_PO);
	ck_assert_str_eq(feed(load("invoice"), &r), "matched");
	ck_assert_str_eq(r.match, "three-way");
	j = txn(KEY_PO);
	n = json_array_size(json_object_get(j, "history"));
	note = json_string_value(
	    json_object_get(json_array_get(json_object_get(j, "history"), n - 1), "note"));
	ck_assert_msg(note && strstr(note, "receipt from DespatchAdvice"), "%s",
	              note ? note : "(null)");
	json_decref(j);
	/* A ReceiptAdvice takes over: 8 boxes received of the 10 invoiced. */
	ck_assert_str_eq(
	    feed(subst(load("receipt"), ">10</cbc:ReceivedQuantity>", ">8</cbc:ReceivedQuantity>"),
	         &r),
	    "disputed");
	ck_assert_uint_eq(txn_findings(KEY_PO, "SECMX-MATCH-QTY", "received 8"), 1);
}
END_TEST

START_TEST(order_rejected_and_no_id)
{
	struct engine_txn_result r, r2;
	static const char resp[] =
	    "<OrderResponse xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:OrderResponse-2\""
	    " xmlns:cac=\"" NS_CAC_T "\" xmlns:cbc=\"" NS_CBC_T "\">"
	    "<cbc:ID>OR-1</cbc:ID><cbc:OrderResponseCode>27</cbc:OrderResponseCode>"
	    "<cac:OrderReference><cbc:ID>PO-88120</cbc:ID></cac:OrderReference>"
	    "<cac:SellerSupplierParty><cac:Party><cbc:EndpointID schemeID=\"0088\">9429041535097"
	    "</cbc:EndpointID></cac:Party></cac:SellerSupplierParty>"
	    "<cac:BuyerCustomerParty><cac:Party><cbc:EndpointID schemeID=\"0088\">9429049990003"
	    "</cbc:EndpointID></cac:Party></cac:BuyerCustomerParty></OrderResponse>";
	static const char noid[] =
	    "<ReceiptAdvice xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:ReceiptAdvice-2\""
	    " xmlns:cbc=\"" NS_CBC_T "\"><cbc:IssueDate>2026-11-18</cbc:IssueDate></ReceiptAdvice>";

	/* The seller rejects the order (code 27): closed. */
	feed(load("order"), &r);
	ck_assert_str_eq(feed(strdup(resp), &r), "closed");
	ck_assert_str_eq(r.key, KEY_PO);
	/* Closed stays closed. */
	ck_assert_str_eq(feed(load("invoice"), &r), "closed");
	/* Documents without an id or a reference do not share a transaction. */
	feed(strdup(noid), &r);
	feed(strdup(noid), &r2);
	ck_assert_int_ne(r.txn_id, r2.txn_id);
	ck_assert_int_eq(r2.created, 1);
}
END_TEST

START_TEST(record_is_atomic)
{
	struct engine_txn_result r;
	struct queue_txn_record rec = {0};
	struct queue_txn_finding f = {"SECMX-TEST", "error", "never written"};
	struct queue_txn_ref ref = {"Invoice", SELLER, "INV-X", 1};
	json_t *before, *after;
	int64_t msg, ids[4];

	struct engine_report *rep = engine_report_new();

	ck_assert_int_eq(feed_id(load("order"), &r, rep, &msg), 0);
	engine_report_free(rep);
	before = txn(KEY_PO);
	rec.txn_id = r.txn_id;
	rec.msg_id = msg + 100;
	rec.doc_type = "Invoice";
	rec.doc_id = "INV-X";
	rec.state = QUEUE_TXN_DISPUTED;
	rec.refs = &ref;
	rec.nrefs = 1;
	rec.findings = &f;
	rec.nfindings = 1;
	/* Read as "ordered" with no documents, but it has one: refused whole. */
	rec.expect_state = QUEUE_TXN_ORDERED;
	rec.expect_docs = 0;
	ck_assert_int_eq(queue_txn_record(q, &rec), SECMX_ESTATE);
	rec.expect_docs = 1;
	rec.expect_state = QUEUE_TXN_INVOICED;
	ck_assert_int_eq(queue_txn_record(q, &rec), SECMX_ESTATE);
	after = txn(KEY_PO);
	ck_assert_msg(json_equal(before, after), "a refused record wrote something");
	json_decref(after);
	ck_assert_int_eq(queue_txn_ref_find(q, "Invoice", SELLER, "INV-X", ids, 4), 0);
	/* As read: written, all of it; again: nothing changes. */
	rec.expect_state = QUEUE_TXN_ORDERED;
	ck_assert_int_eq(queue_txn_record(q, &rec), 0);
	ck_assert_str_eq(state_of(KEY_PO), "disputed");
	ck_assert_uint_eq(txn_findings(KEY_PO, "SECMX-TEST", NULL), 1);
	ck_assert_int_eq(queue_txn_doc_has(q, r.txn_id, msg + 100), 1);
	ck_assert_int_eq(queue_txn_ref_find(q, "Invoice", SELLER, "INV-X", ids, 4), 1);
	ck_assert_int_eq(ids[0], r.txn_id);
	rec.expect_docs = 2;
	rec.expect_state = QUEUE_TXN_DISPUTED;
	ck_assert_int_eq(queue_txn_record(q, &rec), 1);
	ck_assert_uint_eq(txn_findings(KEY_PO, "SECMX-TEST", NULL), 1);
	json_decref(before);
}
END_TEST

/* One worker of the concurrency test: correlate its document for order I. */
struct worker {
	pthread_t th;
	char *xml;
	int rc;
	char state[32];
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct engine_report *rep = engine_report_new();
	struct engine_doc *doc = NULL;
	struct engine_txn_result r;
	struct queue_msg_in in = {0};
	struct queue_put_result pr;

	w->rc = engine_doc_parse(eng, w->xml, strlen(w->xml), "w", &doc, rep);
	if (w->rc == 0)
		w->rc = engine_doc_classify(eng, doc, rep);
	if (w->rc == 0) {
		in.data = w->xml;
		in.len = strlen(w->xml);
		in.doc_type = engine_doc_type(doc)->name;
		in.doc_id = engine_doc_id(doc);
		w->rc = queue_msg_put(q, &in, &pr);
	}
	if (w->rc == 0)
		w->rc = engine_txn_correlate(eng, q, doc, pr.id, &r, rep);
	if (w->rc == 0)
		secmx_strlcpy(w->state, r.state, sizeof(w->state));
	engine_doc_free(doc);
	engine_report_free(rep);
	return NULL;
}

START_TEST(concurrent_workers)
{
	enum { ROUNDS = 25 };
	struct worker w[3];
	char po[32], key[96], id[32];
	int round, i;

	/* Order, receipt and invoice of one purchase correlated at the same time
	 * by three threads: whatever the interleaving, the last one to record
	 * sees the other two and the transaction ends matched, with each
	 * document once. */
	for (round = 0; round < ROUNDS; round++) {
		snprintf(po, sizeof(po), "<cbc:ID>PO-C%d", round);
		snprintf(id, sizeof(id), "RA-C%d", round);
		w[0].xml = subst(load("order"), "<cbc:ID>PO-88120", po);
		w[1].xml = subst(subst(load("receipt"), "<cbc:ID>PO-88120", po), "RA-5521", id);
		snprintf(id, sizeof(id), "<cbc:ID>INV-C%d", round);
		w[2].xml = subst(subst(load("invoice"), "<cbc:ID>PO-88120", po),
		                 "<cbc:ID>INV-2026-00417", id);
		for (i = 0; i < 3; i++)
			ck_assert_int_eq(pthread_create(&w[i].th, NULL, worker_main, &w[i]), 0);
		for (i = 0; i < 3; i++) {
			pthread_join(w[i].th, NULL);
			ck_assert_msg(w[i].rc == 0, "round %d worker %d: %s", round, i,
			              secmx_strerror(w[i].rc));
			free(w[i].xml);
		}
		snprintf(key, sizeof(key), "order:" BUYER ":PO-C%d", round);
		ck_assert_str_eq(state_of(key), "matched");
		ck_assert_str_eq(history_states(key) + strlen(history_states(key)) - 7, "matched");
		{
			json_t *docs = NULL;
			int64_t tid;

			ck_assert_int_eq(queue_txn_find(q, key, &tid, NULL), 0);
			ck_assert_int_eq(queue_txn_docs_json(q, tid, &docs), 0);
			ck_assert_uint_eq(json_array_size(docs), 3);
			json_decref(docs);
		}
	}
}
END_TEST

TCase *tc_txn(void)
{
	TCase *tc = tcase_create("txn");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, happy_path);
	tcase_add_test(tc, qty_over_receipt);
	tcase_add_test(tc, price_outside_tolerance);
	tcase_add_test(tc, price_within_tolerance);
	tcase_add_test(tc, price_tolerance_matters);
	tcase_add_test(tc, out_of_order);
	tcase_add_test(tc, remittance_two_invoices);
	tcase_add_test(tc, idempotent);
	tcase_add_test(tc, duplicate_document);
	tcase_add_test(tc, duplicate_before_the_receipt);
	tcase_add_test(tc, unknown_references);
	tcase_add_test(tc, credit_note_and_response);
	tcase_add_test(tc, two_way);
	tcase_add_test(tc, despatch_as_receipt);
	tcase_add_test(tc, order_rejected_and_no_id);
	tcase_add_test(tc, record_is_atomic);
	tcase_add_test(tc, concurrent_workers);
	return tc;
}
