/*
 * schema.c — the XSD stage: compile a schema set once, validate documents
 * against it from any thread.
 *
 * A schema set is a directory laid out like the OASIS runtime schemas:
 * maindoc/UBL-<Type>-<version>.xsd plus whatever those import. The built-in
 * set is the e-GIF profile in schemas/egif; the official UBL 2.1 or 2.3
 * "xsdrt" directories work unchanged. All the document types found are
 * compiled together through one in-memory umbrella schema that imports each
 * maindoc file, so the shared common components are compiled once and one
 * xmlSchema serves every type.
 *
 * Thread safety: the compiled xmlSchema is only read after engine_new();
 * each validation makes its own xmlSchemaValidCtxt.
 * Findings: rule id "XSD", fatal, with the line and XPath libxml2 reports;
 * at most MAX_XSD_FINDINGS per document, then one summary finding.
 * engine_doc_schema_stream_fd() (the large-document mode) validates while
 * reading a descriptor with an xmlTextReader, keeps nothing and reports
 * nothing: it only says whether the document is valid without any error.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/xmlreader.h>

#include "engine_int.h"

#define MAX_XSD_FINDINGS 100

static const char *const VERSIONS[] = {"2.1", "2.3", "2.2", "2.4"};

struct compile_err {
	char *err;
	size_t errlen;
	int have;
};

static void on_compile_error(void *ctx, xmlErrorPtr e)
{
	struct compile_err *ce = ctx;

	if (ce->have || e == NULL || e->level < XML_ERR_ERROR)
		return;
	ce->have = 1;
	secmx_errf(ce->err, ce->errlen, "%s:%d: %s", e->file ? e->file : "(schema)", e->line,
		   e->message ? e->message : "schema error");
	/* Drop the trailing newline libxml2 puts on its messages. */
	if (ce->err != NULL) {
		size_t n = strlen(ce->err);
		while (n > 0 && ce->err[n - 1] == '\n')
			ce->err[--n] = '\0';
	}
}

/* xml_escape_path: PATH is ours, but keep the umbrella well-formed anyway. */
static int path_ok(const char *p)
{
	return strpbrk(p, "<>&\"'") == NULL;
}

int engine__schema_load(struct engine *eng, char *err, size_t errlen)
{
	char dir[PATH_MAX], file[PATH_MAX + 64];
	char *xsd = NULL;
	size_t cap = 65536, len = 0;
	size_t i, found = 0;
	xmlSchemaParserCtxtPtr pctxt = NULL;
	struct compile_err ce = {err, errlen, 0};
	const char *version = NULL;
	int rc = SECMX_ECONFIG;

	if (realpath(eng->schema_dir, dir) == NULL) {
		secmx_errf(err, errlen, "schema directory %s: not found", eng->schema_dir);
		return SECMX_ECONFIG;
	}
	if (!path_ok(dir)) {
		secmx_errf(err, errlen, "schema directory %s: unusable characters in path", dir);
		return SECMX_ECONFIG;
	}
	if ((xsd = malloc(cap)) == NULL)
		return SECMX_ENOMEM;
	len = (size_t)snprintf(xsd, cap,
			       "<xsd:schema xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" "
			       "targetNamespace=\"urn:secmx:schema-set\">\n");
	for (i = 0; i < engine_doctype_count(); i++) {
		const struct engine_doctype *t = engine_doctype_at(i);
		size_t v;

		for (v = 0; v < sizeof(VERSIONS) / sizeof(VERSIONS[0]); v++) {
			if (version != NULL && strcmp(version, VERSIONS[v]) != 0)
				continue;
			snprintf(file, sizeof(file), "%s/maindoc/UBL-%s-%s.xsd", dir, t->name,
				 VERSIONS[v]);
			if (access(file, R_OK) == 0)
				break;
		}
		if (v == sizeof(VERSIONS) / sizeof(VERSIONS[0]))
			continue;
		version = VERSIONS[v];
		if (len + strlen(file) + strlen(t->ns) + 64 >= cap) {
			secmx_errf(err, errlen, "schema set too large");
			goto done;
		}
		len += (size_t)snprintf(xsd + len, cap - len,
					"<xsd:import namespace=\"%s\" schemaLocation=\"%s\"/>\n",
					t->ns, file);
		eng->has_type[i] = 1;
		found++;
	}
	if (found == 0) {
		secmx_errf(err, errlen,
			   "schema directory %s has no maindoc/UBL-<Type>-2.x.xsd for any "
			   "known document type", dir);
		goto done;
	}
	len += (size_t)snprintf(xsd + len, cap - len, "</xsd:schema>\n");
	secmx_strlcpy(eng->schema_version, version, sizeof(eng->schema_version));

	engine__allow_file_load++;
	pctxt = xmlSchemaNewMemParserCtxt(xsd, (int)len);
	if (pctxt == NULL) {
		engine__allow_file_load--;
		rc = SECMX_ENOMEM;
		goto done;
	}
	xmlSchemaSetParserStructuredErrors(pctxt, on_compile_error, &ce);
	eng->schema = xmlSchemaParse(pctxt);
	engine__allow_file_load--;
	if (eng->schema == NULL) {
		if (!ce.have)
			secmx_errf(err, errlen, "schema set %s did not compile", dir);
		goto done;
	}
	rc = SECMX_OK;
done:
	xmlSchemaFreeParserCtxt(pctxt);
	free(xsd);
	return rc;
}

void engine__schema_free(struct engine *eng)
{
	if (eng->schema != NULL)
		xmlSchemaFree(eng->schema);
	eng->schema = NULL;
}

struct valid_state {
	struct engine_report *rep;
	unsigned n;
};

static void on_valid_error(void *ctx, xmlErrorPtr e)
{
	struct valid_state *vs = ctx;
	char msg[1024];
	size_t n;

	if (e == NULL || e->level < XML_ERR_ERROR)
		return;
	if (++vs->n > MAX_XSD_FINDINGS) {
		if (vs->n == MAX_XSD_FINDINGS + 1)
			engine_report_add(vs->rep, "XSD", ENGINE_FATAL, e->line, "",
					  "more than %d schema errors; the rest are not listed",
					  MAX_XSD_FINDINGS);
		return;
	}
	secmx_strlcpy(msg, e->message ? e->message : "schema error", sizeof(msg));
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	if (e->node != NULL)
		engine__report_node(vs->rep, "XSD", ENGINE_FATAL, (xmlNodePtr)e->node, "%s", msg);
	else
		engine_report_add(vs->rep, "XSD", ENGINE_FATAL, e->line, "", "%s", msg);
}

int engine_doc_validate_schema(const struct engine *eng, struct engine_doc *doc,
			       struct engine_report *rep)
{
	xmlSchemaValidCtxtPtr vctxt;
	struct valid_state vs = {rep, 0};
	int r;

	engine__quiet_thread();
	if (doc->type_index < 0 && (r = engine_doc_classify(eng, doc, rep)) < 0)
		return r;
	if (eng->schema == NULL) {
		engine_report_add(rep, "SECMX-SCHEMA", ENGINE_FATAL, 0, "",
				  "no schema set is loaded (engine built without schemas)");
		return SECMX_ECONFIG;
	}
	/* classify() sets the type even when it refuses a UBL 2.3 document, so a
	 * caller that validates anyway gets the same refusal, not 2.1 errors. */
	if (doc->needs_ubl23 && strcmp(eng->schema_version, "2.3") < 0) {
		engine_report_add(rep, "SECMX-UBL23", ENGINE_FATAL, 0, "",
				  "the document binds to UBL 2.3; the schema set %s is UBL %s",
				  eng->schema_dir, eng->schema_version);
		return SECMX_EUNSUPPORTED;
	}
	if (!eng->has_type[doc->type_index]) {
		engine_report_add(rep, "SECMX-SCHEMA", ENGINE_FATAL, 0, "",
				  "the schema set %s has no schema for %s", eng->schema_dir,
				  engine__doctype(doc->type_index)->name);
		return SECMX_EUNSUPPORTED;
	}
	if ((vctxt = xmlSchemaNewValidCtxt(eng->schema)) == NULL)
		return SECMX_ENOMEM;
	xmlSchemaSetValidStructuredErrors(vctxt, on_valid_error, &vs);
	r = xmlSchemaValidateDoc(vctxt, doc->xml);
	xmlSchemaFreeValidCtxt(vctxt);
	if (r < 0) {
		engine_report_add(rep, "XSD", ENGINE_FATAL, 0, "", "schema validation failed to run");
		return SECMX_EINTERNAL;
	}
	if (r > 0 && vs.n == 0)
		engine_report_add(rep, "XSD", ENGINE_FATAL, 0, "", "document is not schema-valid");
	return r == 0 ? SECMX_OK : SECMX_EINVALID;
}

/* What the streaming XSD check reads: FD, at most MAX bytes. */
struct sreader {
	int fd;
	size_t total, max;
	int failed;             /* read() failed or the input passed MAX */
};

/* sreader_read: the reader's input callback: up to LEN bytes of FD. */
static int sreader_read(void *ctx, char *out, int len)
{
	struct sreader *r = ctx;
	ssize_t got;

	do
		got = read(r->fd, out, len > 0 ? (size_t)len : 0);
	while (got < 0 && errno == EINTR);
	if (got < 0 || (r->total += (size_t)got) > r->max) {
		r->failed = 1;
		return -1;
	}
	return (int)got;
}

/* sreader_close: nothing to release; FD is the caller's. */
static int sreader_close(void *ctx)
{
	(void)ctx;
	return 0;
}

/* on_stream_error: any error or schema error makes the check fail. */
static void on_stream_error(void *ctx, xmlErrorPtr e)
{
	if (e != NULL && e->level >= XML_ERR_ERROR)
		*(int *)ctx = 1;
}

/* engine_doc_schema_stream_fd: see engine.h. */
int engine_doc_schema_stream_fd(const struct engine *eng, int fd, const char *name)
{
	struct sreader rd = {fd, 0, eng->cfg.limits.max_doc_bytes, 0};
	xmlSchemaValidCtxtPtr vctxt = NULL;
	xmlTextReaderPtr r = NULL;
	int bad = 0, ret = -1, ok = 0;

	(void)name;
	engine__quiet_thread();
	if (eng->schema == NULL)
		return 0;
	r = xmlReaderForIO(sreader_read, sreader_close, &rd, NULL, NULL,
			   XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_BIG_LINES |
				   XML_PARSE_NOWARNING);
	if (r == NULL || (vctxt = xmlSchemaNewValidCtxt(eng->schema)) == NULL)
		goto done;
	xmlTextReaderSetStructuredErrorHandler(r, on_stream_error, &bad);
	xmlSchemaSetValidStructuredErrors(vctxt, on_stream_error, &bad);
	if (xmlTextReaderSchemaValidateCtxt(r, vctxt, 0) != 0)
		goto done;
	while (!bad && (ret = xmlTextReaderRead(r)) == 1) {
		int type = xmlTextReaderNodeType(r);

		if (type == XML_READER_TYPE_DOCUMENT_TYPE || type == XML_READER_TYPE_ENTITY_REFERENCE) {
			bad = 1;
		} else if (type == XML_READER_TYPE_ELEMENT && xmlTextReaderDepth(r) == 0) {
			/* the checks engine_doc_validate_schema makes of the type */
			const xmlChar *ns = xmlTextReaderConstNamespaceUri(r);
			int idx = engine__doctype_find((const char *)ns,
						       (const char *)xmlTextReaderConstLocalName(r));

			if (idx < 0 || !eng->has_type[idx])
				bad = 1;
		}
	}
	ok = ret == 0 && !bad && !rd.failed && rd.total > 0 && xmlTextReaderIsValid(r) == 1;
done:
	xmlFreeTextReader(r);
	xmlSchemaFreeValidCtxt(vctxt);
	return ok;
}
