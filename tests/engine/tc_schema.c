/*
 * tc_schema.c — the XSD stage and the e-GIF profile schemas (schemas/egif).
 *
 * What is proved here:
 *   - every corpus example (the 14 listed, and whatever else is found under
 *     ubl-examples/) validates with zero findings under the built-in profile,
 *     and under the official UBL 2.1 xsdrt (engine_config.schema_dir);
 *   - invalid documents (missing cbc:ID, elements out of order, a bad date)
 *     get fatal "XSD" findings with a line number and an XPath;
 *   - each profile restriction EGIF-01..11 refuses a document that the
 *     official UBL 2.1 schemas accept (the profile is strictly tighter);
 *   - a schema_dir without maindoc files, or one that does not compile, makes
 *     engine_new fail with a clear message;
 *   - a minimal "UBL 2.3" schema set made here lets a Peppol Advanced Ordering
 *     OrderChange through classification, which the default set refuses with
 *     SECMX-UBL23;
 *   - one compiled engine serves many documents from several threads.
 * The subset property itself (profile-valid implies UBL-valid) is tested by
 * mutation in tests/schemas/subset.sh.
 */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests.h"

#define OFFICIAL "ubl21-xsd/xsdrt"

static const char *const EXAMPLES[] = {
	"ubl-examples/en16931-cen/ubl-tc434-creditnote1.xml",
	"ubl-examples/en16931-cen/ubl-tc434-example1.xml",
	"ubl-examples/oasis-ubl21/UBL-CreditNote-2.1-Example.xml",
	"ubl-examples/oasis-ubl21/UBL-Invoice-2.0-Enveloped.xml",
	"ubl-examples/oasis-ubl21/UBL-Invoice-2.1-Example.xml",
	"ubl-examples/oasis-ubl21/UBL-Order-2.1-Example.xml",
	"ubl-examples/oasis-ubl21/UBL-OrderResponse-2.1-Example.xml",
	"ubl-examples/oasis-ubl21/UBL-ReceiptAdvice-2.0-Example.xml",
	"ubl-examples/oasis-ubl21/UBL-RemittanceAdvice-2.0-Example.xml",
	"ubl-examples/peppol-bis-billing3/base-example.xml",
	"ubl-examples/peppol-ordering3/InvoiceResponse_Example.xml",
	"ubl-examples/peppol-ordering3/OrderResponse_Example.xml",
	"ubl-examples/peppol-ordering3/Order_Example.xml",
	"ubl-examples/pint-aunz/AU-Invoice.xml",
};
#define N_EXAMPLES (sizeof(EXAMPLES) / sizeof(EXAMPLES[0]))

/* new_engine: an engine of our own (tests here often need two at once). */
static struct engine *new_engine(const char *schema_dir)
{
	struct engine_config cfg;
	struct engine *eng = NULL;
	char err[512] = "";
	int rc;

	engine_config_default(&cfg);
	cfg.schema_dir = schema_dir;
	rc = engine_new(&cfg, &eng, err, sizeof(err));
	ck_assert_msg(rc == 0, "engine_new(%s): %s (%s)", schema_dir ? schema_dir : "built-in",
		      secmx_strerror(rc), err);
	return eng;
}

/* read_corpus: the bytes of a corpus file (malloc'd, NUL-terminated). */
static char *read_corpus(const char *rel)
{
	char *buf = NULL;
	size_t len = 0;
	int rc = secmx_file_read(corpus(rel), 64u << 20, &buf, &len);

	ck_assert_msg(rc == 0, "read %s: %s", rel, secmx_strerror(rc));
	return buf;
}

/* replace_once: BUF with the first FROM replaced by TO (malloc'd); fails the
 * test when FROM is absent, so a mutation can never silently do nothing. */
static char *replace_once(const char *buf, const char *from, const char *to)
{
	const char *p = strstr(buf, from);
	size_t pre, n;
	char *out;

	ck_assert_msg(p != NULL, "'%s' not found in the document", from);
	pre = (size_t)(p - buf);
	n = strlen(buf) - strlen(from) + strlen(to);
	out = malloc(n + 1);
	ck_assert_ptr_nonnull(out);
	memcpy(out, buf, pre);
	memcpy(out + pre, to, strlen(to));
	memcpy(out + pre + strlen(to), p + strlen(from), strlen(p + strlen(from)) + 1);
	return out;
}

/* line_of: the 1-based line on which NEEDLE first occurs in BUF. */
static long line_of(const char *buf, const char *needle)
{
	const char *p = strstr(buf, needle), *q;
	long line = 1;

	ck_assert_msg(p != NULL, "'%s' not found", needle);
	for (q = buf; q < p; q++)
		line += *q == '\n';
	return line;
}

/* validate_buf: parse and XSD-validate XML under ENG; returns the rc. */
static int validate_buf(struct engine *eng, const char *xml, const char *name,
			struct engine_report *rep)
{
	struct engine_doc *doc = NULL;
	int rc = engine_doc_parse(eng, xml, strlen(xml), name, &doc, rep);

	ck_assert_msg(rc == 0, "parse %s: %s", name, secmx_strerror(rc));
	rc = engine_doc_validate_schema(eng, doc, rep);
	engine_doc_free(doc);
	return rc;
}

/* expect_clean: FILE (corpus-relative or absolute) validates with no findings. */
static void expect_clean(struct engine *eng, const char *path, const char *label)
{
	struct engine_report *rep = engine_report_new();
	struct engine_doc *doc = test_parse_file(eng, path, rep);
	int rc = engine_doc_validate_schema(eng, doc, rep);

	if (rc != 0 || engine_report_count(rep) != 0) {
		engine_report_print(rep, path, stderr);
		ck_abort_msg("%s: %s under %s: rc %s, %zu findings", label, path,
			     label, secmx_strerror(rc), engine_report_count(rep));
	}
	engine_doc_free(doc);
	engine_report_free(rep);
}

/* Each listed example: zero findings under the built-in e-GIF profile. */
START_TEST(examples_profile)
{
	struct engine *eng = new_engine(NULL);

	expect_clean(eng, corpus(EXAMPLES[_i]), "e-GIF profile");
	engine_free(eng);
}
END_TEST

/* Each listed example: zero findings under the official UBL 2.1 xsdrt. */
START_TEST(examples_official)
{
	struct engine *eng = new_engine(corpus(OFFICIAL));

	expect_clean(eng, corpus(EXAMPLES[_i]), "UBL 2.1 xsdrt");
	engine_free(eng);
}
END_TEST

/* walk: validate every .xml under DIR (recursively); returns how many. */
static size_t walk(struct engine *eng, const char *dir, const char *label)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	ck_assert_msg(d != NULL, "opendir %s", dir);
	while ((e = readdir(d)) != NULL) {
		char path[4096];
		struct stat st;
		size_t l = strlen(e->d_name);

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		ck_assert_int_eq(stat(path, &st), 0);
		if (S_ISDIR(st.st_mode))
			n += walk(eng, path, label);
		else if (l > 4 && strcmp(e->d_name + l - 4, ".xml") == 0) {
			expect_clean(eng, path, label);
			n++;
		}
	}
	closedir(d);
	return n;
}

/* Every example in the directory, so files added to the corpus are covered;
 * one engine per schema set serves them all (compiled once, reused). */
START_TEST(examples_directory)
{
	const char *dirs[] = {NULL, corpus(OFFICIAL)};
	char official[4096];
	size_t i;

	snprintf(official, sizeof(official), "%s", dirs[1]);
	dirs[1] = official;
	for (i = 0; i < 2; i++) {
		struct engine *eng = new_engine(dirs[i]);
		size_t n = walk(eng, corpus("ubl-examples"), i ? "UBL 2.1 xsdrt" : "e-GIF profile");

		ck_assert_msg(n >= N_EXAMPLES, "only %zu examples found", n);
		engine_free(eng);
	}
}
END_TEST

/* An invalid document: each case must give an XSD finding at the right line
 * with an XPath, under the profile and under the official schemas. */
struct invalid {
	const char *what, *from, *to, *at, *path;
};

static const struct invalid INVALID[] = {
	{"missing cbc:ID", "<cbc:ID>Snippet1</cbc:ID>", "", "<cbc:IssueDate>", "/Invoice/cbc:IssueDate"},
	{"wrong order", "<cbc:IssueDate>2017-11-13</cbc:IssueDate>\n    <cbc:DueDate>2017-12-01</cbc:DueDate>",
	 "<cbc:DueDate>2017-12-01</cbc:DueDate>\n    <cbc:IssueDate>2017-11-13</cbc:IssueDate>",
	 "<cbc:DueDate>", "/Invoice/cbc:DueDate"},
	{"bad date", "<cbc:IssueDate>2017-11-13<", "<cbc:IssueDate>2017-13-45<", "<cbc:IssueDate>",
	 "/Invoice/cbc:IssueDate"},
};

/* Invalid documents: fatal XSD findings with the right line and XPath. */
START_TEST(invalid_documents)
{
	const struct invalid *c = &INVALID[_i];
	char *orig = read_corpus("ubl-examples/peppol-bis-billing3/base-example.xml");
	char *xml = replace_once(orig, c->from, c->to);
	const char *dirs[2] = {NULL, NULL};
	char official[4096];
	int k;

	snprintf(official, sizeof(official), "%s", corpus(OFFICIAL));
	dirs[1] = official;
	for (k = 0; k < 2; k++) {
		struct engine *eng = new_engine(dirs[k]);
		struct engine_report *rep = engine_report_new();
		const struct engine_finding *f;

		ck_assert_int_eq(validate_buf(eng, xml, c->what, rep), SECMX_EINVALID);
		ck_assert_msg(engine_report_count(rep) >= 1, "%s: no finding", c->what);
		f = engine_report_at(rep, 0);
		ck_assert_str_eq(f->rule, "XSD");
		ck_assert_int_eq(f->severity, ENGINE_FATAL);
		ck_assert_int_eq(f->line, line_of(xml, c->at));
		ck_assert_str_eq(f->path, c->path);
		ck_assert(strlen(f->message) > 0);
		engine_report_free(rep);
		engine_free(eng);
	}
	free(xml);
	free(orig);
}
END_TEST

/* One document per profile restriction: accepted by UBL 2.1, refused by us. */
struct restriction {
	const char *id, *file, *from, *to, *at, *says;
};

#define BASE "ubl-examples/peppol-bis-billing3/base-example.xml"
#define OASIS_INV "ubl-examples/oasis-ubl21/UBL-Invoice-2.1-Example.xml"

static const struct restriction RESTRICTIONS[] = {
	{"EGIF-01", BASE, "<cbc:PayableAmount currencyID=\"EUR\">",
	 "<cbc:PayableAmount currencyID=\"eur\">", "<cbc:PayableAmount", "currencyID"},
	{"EGIF-01", BASE, "<cbc:DocumentCurrencyCode>EUR<", "<cbc:DocumentCurrencyCode>EURO<",
	 "<cbc:DocumentCurrencyCode>", "EURO"},
	{"EGIF-02", BASE, "<cbc:ID>Snippet1<", "<cbc:ID> <", "<cbc:ID>", "pattern"},
	{"EGIF-03", BASE, "<cbc:InvoiceTypeCode>380<", "<cbc:InvoiceTypeCode><",
	 "<cbc:InvoiceTypeCode>", "pattern"},
	{"EGIF-04", BASE, "<cbc:IdentificationCode>GB<", "<cbc:IdentificationCode>GBR<",
	 "<cbc:IdentificationCode>", "GBR"},
	{"EGIF-05", BASE, "<cbc:IssueDate>2017-11-13<", "<cbc:IssueDate>2017-11-13Z<",
	 "<cbc:IssueDate>", "2017-11-13Z"},
	{"EGIF-05", BASE, "<cbc:DueDate>2017-12-01<", "<cbc:DueDate>12017-12-01<", "<cbc:DueDate>",
	 "12017-12-01"},
	{"EGIF-06", BASE, "<cbc:ChargeIndicator>true<", "<cbc:ChargeIndicator>1<",
	 "<cbc:ChargeIndicator>", "pattern"},
	{"EGIF-07", BASE, "unitCode=\"DAY\"", "unitCode=\"day\"", "unitCode=\"day\"", "unitCode"},
	/* libxml2 dates an element by the line its start tag ends on. */
	{"EGIF-08", OASIS_INV, "mimeCode=\"application/pdf\"", "mimeCode=\"pdf\"",
	 ">UjBsR09E", "mimeCode"},
	{"EGIF-09", BASE, "<cbc:PayableAmount currencyID=\"EUR\">1656.25<",
	 "<cbc:PayableAmount currencyID=\"EUR\">+1656.25<", "<cbc:PayableAmount", "+1656.25"},
	{"EGIF-10", OASIS_INV, "<cbc:UBLVersionID>2.1<", "<cbc:UBLVersionID>2.1.1<",
	 "<cbc:UBLVersionID>", "2.1.1"},
	{"EGIF-11", "ubl-examples/oasis-ubl21/UBL-Invoice-2.0-Enveloped.xml",
	 "<dummy1:AnExtension xmlns:dummy1=\"urn:X-dummy1\">",
	 "<dummy1:AnExtension xmlns:dummy1=\"urn:X-dummy1\">"
	 "<cbc:AcceptedIndicator>true</cbc:AcceptedIndicator>",
	 "<cbc:AcceptedIndicator>", "length"},
};

/* Restriction _i: official UBL 2.1 accepts the document, the profile refuses. */
START_TEST(restriction_refuses)
{
	const struct restriction *r = &RESTRICTIONS[_i];
	char *orig = read_corpus(r->file);
	char *xml = replace_once(orig, r->from, r->to);
	struct engine *official = new_engine(corpus(OFFICIAL));
	struct engine *profile = new_engine(NULL);
	struct engine_report *rep = engine_report_new();
	const struct engine_finding *f;
	int rc;

	rc = validate_buf(official, xml, r->id, rep);
	if (rc != 0)
		engine_report_print(rep, r->id, stderr);
	ck_assert_msg(rc == 0 && engine_report_count(rep) == 0,
		      "%s: the official UBL 2.1 schemas must accept the document", r->id);
	ck_assert_int_eq(validate_buf(profile, xml, r->id, rep), SECMX_EINVALID);
	ck_assert_uint_ge(engine_report_count(rep), 1);
	f = engine_report_at(rep, 0);
	ck_assert_str_eq(f->rule, "XSD");
	ck_assert_int_eq(f->line, line_of(xml, r->at));
	ck_assert_msg(f->path[0] == '/', "%s: no XPath", r->id);
	ck_assert_msg(strstr(f->message, r->says) != NULL, "%s: message '%s' lacks '%s'", r->id,
		      f->message, r->says);
	engine_report_free(rep);
	engine_free(profile);
	engine_free(official);
	free(xml);
	free(orig);
}
END_TEST

/* The signature engine_doc_sign places (UBL signature extension, exclusive
 * C14N, RSA-SHA256, SHA-256, the certificate in KeyInfo): schema-valid under
 * the profile and under UBL 2.1. Values are placeholders; only the shape is
 * checked here (the signature itself is dsig's business). */
static const char SIGNATURE_EXT[] =
	"<ext:UBLExtensions xmlns:ext='urn:oasis:names:specification:ubl:schema:xsd:"
	"CommonExtensionComponents-2'><ext:UBLExtension><ext:ExtensionContent>"
	"<sig:UBLDocumentSignatures xmlns:sig='urn:oasis:names:specification:ubl:schema:xsd:"
	"CommonSignatureComponents-2' xmlns:sac='urn:oasis:names:specification:ubl:schema:xsd:"
	"SignatureAggregateComponents-2'><sac:SignatureInformation>"
	"<ds:Signature xmlns:ds='http://www.w3.org/2000/09/xmldsig#' Id='secmx-sig'>"
	"<ds:SignedInfo>"
	"<ds:CanonicalizationMethod Algorithm='http://www.w3.org/2001/10/xml-exc-c14n#'/>"
	"<ds:SignatureMethod Algorithm='http://www.w3.org/2001/04/xmldsig-more#rsa-sha256'/>"
	"<ds:Reference URI=''><ds:Transforms>"
	"<ds:Transform Algorithm='http://www.w3.org/2000/09/xmldsig#enveloped-signature'/>"
	"<ds:Transform Algorithm='http://www.w3.org/2001/10/xml-exc-c14n#'/></ds:Transforms>"
	"<ds:DigestMethod Algorithm='http://www.w3.org/2001/04/xmlenc#sha256'/>"
	"<ds:DigestValue>AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=</ds:DigestValue>"
	"</ds:Reference></ds:SignedInfo><ds:SignatureValue>AAAA</ds:SignatureValue>"
	"<ds:KeyInfo><ds:X509Data><ds:X509Certificate>AAAA</ds:X509Certificate></ds:X509Data>"
	"</ds:KeyInfo></ds:Signature></sac:SignatureInformation></sig:UBLDocumentSignatures>"
	"</ext:ExtensionContent></ext:UBLExtension></ext:UBLExtensions>";

/* A document signed the way secmx signs validates under both schema sets. */
START_TEST(signature_extension_valid)
{
	const char *root_end = "xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:Invoice-2\">";
	char *orig = read_corpus(BASE);
	size_t n = strlen(root_end) + strlen(SIGNATURE_EXT) + 1;
	char *ins = malloc(n), *xml, *bad;
	struct engine *sets[2];
	int k;

	ck_assert_ptr_nonnull(ins);
	snprintf(ins, n, "%s%s", root_end, SIGNATURE_EXT);
	xml = replace_once(orig, root_end, ins);
	free(ins);
	sets[0] = new_engine(NULL);
	sets[1] = new_engine(corpus(OFFICIAL));
	/* Without its (required) SignatureValue the signature is refused: the
	 * XML-DSig schema really is applied, not skipped as lax content. */
	bad = replace_once(xml, "<ds:SignatureValue>AAAA</ds:SignatureValue>", "");
	for (k = 0; k < 2; k++) {
		struct engine_report *rep = engine_report_new();
		int rc = validate_buf(sets[k], xml, "signed", rep);

		if (rc != 0)
			engine_report_print(rep, "signed", stderr);
		ck_assert_int_eq(rc, 0);
		ck_assert_uint_eq(engine_report_count(rep), 0);
		ck_assert_int_eq(validate_buf(sets[k], bad, "bad signature", rep), SECMX_EINVALID);
		ck_assert(report_has(rep, "XSD"));
		ck_assert_ptr_nonnull(strstr(engine_report_at(rep, 0)->path, "ds:Signature"));
		engine_report_free(rep);
		engine_free(sets[k]);
	}
	free(bad);
	free(xml);
	free(orig);
}
END_TEST

/* ---- schema sets made at test time ---- */

struct tmpset {
	char dir[64];
	char files[4][128];
	int n;
	int has_maindoc;
};

/* tmpset_make: an empty schema-set directory under /tmp. */
static void tmpset_make(struct tmpset *t)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->dir, sizeof(t->dir), "/tmp/secmx-tc-schema-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(t->dir));
}

/* tmpset_maindoc: write XSD as maindoc/NAME in the set. */
static void tmpset_maindoc(struct tmpset *t, const char *name, const char *xsd)
{
	char path[256];
	FILE *fp;

	if (!t->has_maindoc) {
		snprintf(path, sizeof(path), "%s/maindoc", t->dir);
		ck_assert_int_eq(mkdir(path, 0700), 0);
		t->has_maindoc = 1;
	}
	ck_assert_int_lt(t->n, 4);
	snprintf(path, sizeof(path), "%s/maindoc/%s", t->dir, name);
	ck_assert_uint_lt(strlen(path), sizeof(t->files[0]));
	memcpy(t->files[t->n], path, strlen(path) + 1);
	fp = fopen(t->files[t->n], "w");
	ck_assert_ptr_nonnull(fp);
	fputs(xsd, fp);
	ck_assert_int_eq(fclose(fp), 0);
	t->n++;
}

/* tmpset_remove: delete the set and everything written into it. */
static void tmpset_remove(struct tmpset *t)
{
	char path[256];
	int i;

	for (i = 0; i < t->n; i++)
		unlink(t->files[i]);
	if (t->has_maindoc) {
		snprintf(path, sizeof(path), "%s/maindoc", t->dir);
		rmdir(path);
	}
	rmdir(t->dir);
}

/* try_engine: engine_new with schema_dir DIR, returning its rc. */
static int try_engine(const char *dir, char *err, size_t errlen, struct engine **out)
{
	struct engine_config cfg;

	engine_config_default(&cfg);
	cfg.schema_dir = dir;
	return engine_new(&cfg, out, err, errlen);
}

/* Unusable schema directories: engine_new fails and says why. */
START_TEST(schema_dir_errors)
{
	struct tmpset t;
	struct engine *eng = (struct engine *)1;
	char err[512] = "";

	/* No such directory. */
	ck_assert_int_eq(try_engine("/nonexistent/secmx-schemas", err, sizeof(err), &eng),
			 SECMX_ECONFIG);
	ck_assert_ptr_null(eng);
	ck_assert_msg(strstr(err, "/nonexistent/secmx-schemas") && strstr(err, "not found"),
		      "err: %s", err);

	/* A directory without maindoc/. */
	tmpset_make(&t);
	err[0] = '\0';
	ck_assert_int_eq(try_engine(t.dir, err, sizeof(err), &eng), SECMX_ECONFIG);
	ck_assert_ptr_null(eng);
	ck_assert_msg(strstr(err, "maindoc/UBL-<Type>-2.x.xsd") != NULL, "err: %s", err);

	/* maindoc/ with a schema that does not compile: the error names it. */
	tmpset_maindoc(&t, "UBL-Invoice-2.1.xsd",
		       "<xsd:schema xmlns:xsd='http://www.w3.org/2001/XMLSchema' "
		       "targetNamespace='urn:oasis:names:specification:ubl:schema:xsd:Invoice-2'>\n"
		       "<xsd:element name='Invoice' type='xsd:NoSuchType'/>\n</xsd:schema>\n");
	err[0] = '\0';
	ck_assert_int_lt(try_engine(t.dir, err, sizeof(err), &eng), 0);
	ck_assert_ptr_null(eng);
	ck_assert_msg(strstr(err, "UBL-Invoice-2.1.xsd:2") != NULL, "err: %s", err);
	tmpset_remove(&t);
}
END_TEST

/* A Peppol Advanced Ordering Order Change: bound to UBL 2.3. */
static const char ORDER_CHANGE_23[] =
	"<?xml version='1.0' encoding='UTF-8'?>\n"
	"<OrderChange xmlns='urn:oasis:names:specification:ubl:schema:xsd:OrderChange-2'\n"
	" xmlns:cbc='urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2'\n"
	" xmlns:cac='urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2'>\n"
	"<cbc:UBLVersionID>2.3</cbc:UBLVersionID>\n"
	"<cbc:CustomizationID>urn:fdc:peppol.eu:poacc:trns:order_change:3</cbc:CustomizationID>\n"
	"<cbc:ProfileID>urn:fdc:peppol.eu:poacc:bis:advanced_ordering:3</cbc:ProfileID>\n"
	"<cbc:ID>OC-1</cbc:ID>\n<cbc:IssueDate>2026-11-29</cbc:IssueDate>\n"
	"<cbc:SequenceNumberID>1</cbc:SequenceNumberID>\n"
	"<cac:OrderReference><cbc:ID>O-1</cbc:ID></cac:OrderReference>\n"
	"</OrderChange>\n";

/* A tiny stand-in for the UBL 2.3 OrderChange schema: any UBL content. */
static const char FAKE_23_XSD[] =
	"<xsd:schema xmlns:xsd='http://www.w3.org/2001/XMLSchema'\n"
	" targetNamespace='urn:oasis:names:specification:ubl:schema:xsd:OrderChange-2'\n"
	" elementFormDefault='qualified' version='2.3'>\n"
	"<xsd:element name='OrderChange'><xsd:complexType><xsd:sequence>\n"
	"<xsd:any namespace='##other' processContents='skip' minOccurs='0' maxOccurs='unbounded'/>\n"
	"</xsd:sequence></xsd:complexType></xsd:element>\n</xsd:schema>\n";

/* Refused by the 2.1 profile (SECMX-UBL23); accepted with a 2.3 set. */
START_TEST(ubl23_schema_set)
{
	struct tmpset t;
	struct engine *def = new_engine(NULL), *eng23;
	struct engine_report *rep = engine_report_new();
	struct engine_doc *doc = test_parse_str(def, ORDER_CHANGE_23, rep);
	char *inv;

	/* The built-in 2.1 profile refuses it, saying why. */
	ck_assert_int_eq(engine_doc_classify(def, doc, rep), SECMX_EUNSUPPORTED);
	ck_assert(report_has(rep, "SECMX-UBL23"));
	ck_assert_int_eq(engine_doc_validate_schema(def, doc, rep), SECMX_EUNSUPPORTED);
	engine_doc_free(doc);
	engine_report_clear(rep);

	/* A 2.3 schema set accepts it for classification and validation. */
	tmpset_make(&t);
	tmpset_maindoc(&t, "UBL-OrderChange-2.3.xsd", FAKE_23_XSD);
	eng23 = new_engine(t.dir);
	doc = test_parse_str(eng23, ORDER_CHANGE_23, rep);
	ck_assert_int_eq(engine_doc_classify(eng23, doc, rep), 0);
	ck_assert_str_eq(engine_doc_type(doc)->name, "OrderChange");
	ck_assert_str_eq(engine_doc_profile(doc), "peppol-ordering-3");
	ck_assert_int_eq(engine_doc_validate_schema(eng23, doc, rep), 0);
	ck_assert_uint_eq(engine_report_count(rep), 0);
	engine_doc_free(doc);

	/* That set has no Invoice schema: said plainly, not "valid". */
	inv = read_corpus(BASE);
	ck_assert_int_eq(validate_buf(eng23, inv, "invoice", rep), SECMX_EUNSUPPORTED);
	ck_assert(report_has(rep, "SECMX-SCHEMA"));
	free(inv);

	engine_report_free(rep);
	engine_free(eng23);
	engine_free(def);
	tmpset_remove(&t);
}
END_TEST

/* ---- one compiled engine, many threads ---- */

#define N_THREADS 4

struct worker {
	const struct engine *eng;
	char (*paths)[4096];    /* made before the threads start: corpus() is not reentrant */
	int failures;
};

/* validate_all: a thread validating every example with the shared engine. */
static void *validate_all(void *arg)
{
	struct worker *w = arg;
	size_t i;

	for (i = 0; i < N_EXAMPLES; i++) {
		struct engine_report *rep = engine_report_new();
		struct engine_doc *doc = NULL;
		char *buf = NULL;
		size_t len = 0;

		if (rep == NULL || secmx_file_read(w->paths[i], 64u << 20, &buf, &len) < 0 ||
		    engine_doc_parse(w->eng, buf, len, EXAMPLES[i], &doc, rep) < 0 ||
		    engine_doc_validate_schema(w->eng, doc, rep) != 0 ||
		    engine_report_count(rep) != 0)
			w->failures++;
		engine_doc_free(doc);
		free(buf);
		engine_report_free(rep);
	}
	return NULL;
}

/* One engine, compiled once, used by N_THREADS threads at the same time. */
START_TEST(shared_engine_threads)
{
	struct engine *eng = new_engine(NULL);
	pthread_t th[N_THREADS];
	struct worker w[N_THREADS];
	static char paths[N_EXAMPLES][4096];
	size_t k;
	int i;

	for (k = 0; k < N_EXAMPLES; k++)
		snprintf(paths[k], sizeof(paths[k]), "%s", corpus(EXAMPLES[k]));
	for (i = 0; i < N_THREADS; i++) {
		w[i].eng = eng;
		w[i].paths = paths;
		w[i].failures = 0;
		ck_assert_int_eq(pthread_create(&th[i], NULL, validate_all, &w[i]), 0);
	}
	for (i = 0; i < N_THREADS; i++) {
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
		ck_assert_int_eq(w[i].failures, 0);
	}
	engine_free(eng);
}
END_TEST

/* tc_schema: the TCase for check_engine.c. */
TCase *tc_schema(void)
{
	TCase *tc = tcase_create("schema");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, examples_profile, 0, N_EXAMPLES);
	tcase_add_loop_test(tc, examples_official, 0, N_EXAMPLES);
	tcase_add_test(tc, examples_directory);
	tcase_add_loop_test(tc, invalid_documents, 0, sizeof(INVALID) / sizeof(INVALID[0]));
	tcase_add_loop_test(tc, restriction_refuses, 0, sizeof(RESTRICTIONS) / sizeof(RESTRICTIONS[0]));
	tcase_add_test(tc, signature_extension_valid);
	tcase_add_test(tc, schema_dir_errors);
	tcase_add_test(tc, ubl23_schema_set);
	tcase_add_test(tc, shared_engine_threads);
	return tc;
}
