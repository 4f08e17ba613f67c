/*
 * parse.c — safe XML parsing with explicit limits.
 *
 * engine__parse() turns bytes into a libxml2 tree, engine__parse_fd() does
 * the same reading a file descriptor as it goes; both under these rules:
 *   - no network (XML_PARSE_NONET) and no file access: the process-wide
 *     entity loader (engine.c) refuses every external resource outside
 *     schema compilation;
 *   - no DTD at all: a DOCTYPE stops the parser at once, so no entity is ever
 *     declared, let alone expanded (XXE, billion laughs, quadratic blow-up);
 *   - no XInclude: we never call xmlXIncludeProcess();
 *   - the engine's limits (input bytes, nesting depth, attribute size,
 *     attributes per element, text-node size, node count) are checked in SAX
 *     callbacks while parsing, so a hostile input is stopped before it is
 *     ever fully in memory.
 *   - a namespace name containing '<', '&', TAB, LF or CR is refused
 *     (XML-NS): libxml2 writes namespace declarations back without escaping,
 *     so such a document would serialize into bytes that are not well-formed
 *     or that name a different namespace; none of these characters belongs
 *     in a URI reference anyway.
 * The input is read through an I/O callback straight from the caller's
 * buffer (or the descriptor), a chunk at a time, by the same pull parser
 * (xmlParseDocument) a memory parser context uses: libxml2 keeps only a
 * window of the input, never a second whole copy (xmlCreateMemoryParserCtxt
 * copies it: for a 10 MiB document a 16 MiB buffer, 10 MB of it resident,
 * alive for the whole parse). Ownership: the tree (*OUT) is the caller's
 * (xmlFreeDoc); BUF and FD stay the caller's and are never kept.
 * With ENGINE_PARSE_VALIDATE_ONLY (engine__parse_fd only) whitespace-only
 * text that libxml2's XML_PARSE_NOBLANKS heuristic finds ignorable is counted
 * against the limits like any text node and then dropped (on_blanks), and
 * text shorter than 16 bytes is stored inside its xmlNode (XML_PARSE_COMPACT:
 * libxml2 allows it for trees that are not modified, which such a tree never
 * is).
 * engine_doc_validate_large_fd() (engine.h) parses a file the same way for
 * the large-document mode: every batch of invoice lines is checked by the
 * line-local rules and then cut down to a projection (rules.c); it hands the
 * document back (ENGINE_LARGE_FALLBACK, nothing reported) on any refusal
 * or doubt. Ownership: the returned document is the caller's
 * (engine_doc_free).
 * A refusal adds one fatal finding naming the limit or rule, with the line.
 * Findings use these rule ids: XML-WF (not well-formed), XML-DTD, XML-NS,
 * XML-LIMIT-*.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libxml/SAX2.h>
#include <libxml/parserInternals.h>

#include "engine_int.h"

struct large;

struct parse_state {
	struct large *ln;       /* large-document mode (engine_doc_validate_large_fd), or NULL */
	const struct engine_limits *lim;
	unsigned depth;
	size_t nodes;
	size_t text_run;        /* length of the current run of character data */
	int stopped;            /* we stopped the parser; reason recorded */
	const char *rule;
	char reason[256];
	long line;
	/* the SAX2 defaults we wrap */
	startElementNsSAX2Func start;
	endElementNsSAX2Func end;
	charactersSAXFunc characters;
	charactersSAXFunc cdata;
};

/* stop: record why we refuse the document and stop the parser. */
static void stop(xmlParserCtxtPtr ctxt, struct parse_state *st, const char *rule,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void stop(xmlParserCtxtPtr ctxt, struct parse_state *st, const char *rule,
		 const char *fmt, ...)
{
	va_list ap;

	if (st->stopped)
		return;
	st->stopped = 1;
	st->rule = rule;
	st->line = xmlSAX2GetLineNumber(ctxt);
	va_start(ap, fmt);
	vsnprintf(st->reason, sizeof(st->reason), fmt, ap);
	va_end(ap);
	xmlStopParser(ctxt);
}

static struct parse_state *state_of(void *ctx)
{
	return ((xmlParserCtxtPtr)ctx)->_private;
}

/* count: one more node; stop past the limit. */
static int count(xmlParserCtxtPtr ctxt, struct parse_state *st, size_t n)
{
	st->nodes += n;
	if (st->nodes > st->lim->max_nodes) {
		stop(ctxt, st, "XML-LIMIT-NODES", "more than %zu nodes (limit max_nodes)",
		     st->lim->max_nodes);
		return -1;
	}
	return 0;
}

/*
 * Large-document mode (engine_doc_validate_large_fd, docs/memory.md): the
 * tree is built as usual, but every LARGE_BATCH invoice lines the rule
 * patterns that read only inside a line run over those lines, and each line
 * is then cut down to the elements the other patterns can reach (a
 * projection); the rest run at the end over the header and the projected
 * lines (rules.c, engine__rstream_*). What the rule analysis assumes is
 * checked here, and any surprise gives up (the caller then runs the
 * whole-tree stage): the header comes before the lines, no element below
 * the document element has a document type's name, and line-named elements
 * occur only as children of the document element.
 */
#define LARGE_BATCH 1024

struct large {
	const struct engine *eng;
	struct engine_doc *doc;
	const char *profile;
	struct engine_report *tmp;      /* classification's findings (never shown) */
	struct engine__rstream *rs;
	xmlNodePtr batch[LARGE_BATCH];
	size_t nbatch;
	int seen_line;
	int gave_up;
	char why[512];
};

/* large_give_up: stop: the whole-tree stage must answer for this document. */
static void large_give_up(xmlParserCtxtPtr ctxt, struct parse_state *st, const char *why)
{
	if (!st->ln->gave_up) {
		st->ln->gave_up = 1;
		secmx_strlcpy(st->ln->why, why, sizeof(st->ln->why));
	}
	st->stopped = 1;
	xmlStopParser(ctxt);
}

/* is_root_name: is LOCAL the name of a document type's element? */
static int is_root_name(const xmlChar *local)
{
	size_t i;

	for (i = 0; i < engine_doctype_count(); i++)
		if (strcmp(engine_doctype_at(i)->name, (const char *)local) == 0)
			return 1;
	return 0;
}

/* large_batch: the line phase over the complete lines of the batch, then
 * their projection. */
static void large_batch(xmlParserCtxtPtr ctxt, struct parse_state *st)
{
	struct large *ln = st->ln;
	size_t i;

	if (ln->nbatch == 0 || ln->gave_up)
		return;
	if (engine__rstream_lines(ln->rs, ln->batch, ln->nbatch) != 1) {
		large_give_up(ctxt, st, engine__rstream_why(ln->rs));
		return;
	}
	for (i = 0; i < ln->nbatch; i++)
		engine__rstream_prune(ln->rs, ln->batch[i]);
	ln->nbatch = 0;
}

/* large_start: before element LOCAL (at st->depth) is built; -1: gave up. */
static int large_start(xmlParserCtxtPtr ctxt, struct parse_state *st, const xmlChar *local)
{
	struct large *ln = st->ln;
	int line = engine__proj_is_line_name((const char *)local);

	if (st->depth > 1 && is_root_name(local)) {
		large_give_up(ctxt, st, "an element below the document element has a document "
					"type's name");
		return -1;
	}
	if (st->depth > 2 && line) {
		large_give_up(ctxt, st, "a line-named element below the document element's children");
		return -1;
	}
	if (st->depth == 2 && !line && ln->seen_line) {
		large_give_up(ctxt, st, "a header element after the first line");
		return -1;
	}
	if (st->depth == 2 && line && !ln->seen_line) {
		/* The header is complete: classify, and sort the rules. */
		int rc;

		ln->seen_line = 1;
		ln->doc->xml = ctxt->myDoc;
		rc = engine_doc_classify(ln->eng, ln->doc, ln->tmp);
		ln->doc->xml = NULL;
		if (rc < 0) {
			large_give_up(ctxt, st, "the document did not classify");
			return -1;
		}
		ln->doc->xml = ctxt->myDoc;
		rc = engine__rstream_begin(ln->eng, ln->doc, ln->profile, &ln->rs);
		ln->doc->xml = NULL;
		if (rc != 1) {
			large_give_up(ctxt, st, rc < 0 ? "out of memory" : engine__rstream_why(ln->rs));
			return -1;
		}
	}
	return 0;
}

/* large_started: after a line element was built: a full batch before it is
 * checked now, while the new line stands after it (node paths number the
 * first line [1] only when another follows). */
static void large_started(xmlParserCtxtPtr ctxt, struct parse_state *st, const xmlChar *local)
{
	if (st->depth == 2 && engine__proj_is_line_name((const char *)local) &&
	    st->ln->nbatch == LARGE_BATCH)
		large_batch(ctxt, st);
}

/* large_end: after element CLOSING (at DEPTH) was closed. */
static void large_end(void *ctx, struct parse_state *st, xmlNodePtr closing, unsigned depth)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct large *ln = st->ln;

	if (ln->gave_up || closing == NULL)
		return;
	if (depth == 2 && closing->type == XML_ELEMENT_NODE &&
	    engine__proj_is_line_name((const char *)closing->name)) {
		if (ln->nbatch == LARGE_BATCH) {
			large_give_up(ctxt, st, "internal: batch overflow");
			return;
		}
		ln->batch[ln->nbatch++] = closing;
	} else if (depth == 1) {
		large_batch(ctxt, st);
	}
}

static void on_start(void *ctx, const xmlChar *localname, const xmlChar *prefix,
		     const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
		     int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct parse_state *st = state_of(ctx);
	int i;

	if (st->stopped)
		return;
	st->text_run = 0;
	if (++st->depth > st->lim->max_depth) {
		stop(ctxt, st, "XML-LIMIT-DEPTH", "elements nested deeper than %u (limit max_depth)",
		     st->lim->max_depth);
		return;
	}
	if ((unsigned)nb_attributes > st->lim->max_attrs) {
		stop(ctxt, st, "XML-LIMIT-ATTRS",
		     "element <%s> has %d attributes, more than %u (limit max_attrs)",
		     (const char *)localname, nb_attributes, st->lim->max_attrs);
		return;
	}
	for (i = 0; i < nb_attributes; i++) {
		const xmlChar *v = attributes[i * 5 + 3], *e = attributes[i * 5 + 4];
		if ((size_t)(e - v) > st->lim->max_attr_bytes) {
			stop(ctxt, st, "XML-LIMIT-ATTR-SIZE",
			     "attribute %s is %zu bytes, more than %zu (limit max_attr_bytes)",
			     (const char *)attributes[i * 5], (size_t)(e - v),
			     st->lim->max_attr_bytes);
			return;
		}
	}
	for (i = 0; i < nb_namespaces; i++) {
		const xmlChar *ns = namespaces[i * 2 + 1];

		if (ns != NULL && strpbrk((const char *)ns, "<&\t\n\r") != NULL) {
			stop(ctxt, st, "XML-NS",
			     "namespace name on <%s> contains '<', '&' or a tab/newline, which "
			     "cannot be in a URI and would not survive serialization",
			     (const char *)localname);
			return;
		}
	}
	if (count(ctxt, st, 1 + (size_t)nb_attributes) < 0)
		return;
	if (st->ln != NULL && large_start(ctxt, st, localname) < 0)
		return;
	st->start(ctx, localname, prefix, uri, nb_namespaces, namespaces, nb_attributes,
		  nb_defaulted, attributes);
	if (st->ln != NULL)
		large_started(ctxt, st, localname);
}

static void on_end(void *ctx, const xmlChar *localname, const xmlChar *prefix,
		   const xmlChar *uri)
{
	struct parse_state *st = state_of(ctx);

	xmlNodePtr closing = ((xmlParserCtxtPtr)ctx)->node;
	unsigned depth = st->depth;

	if (st->stopped)
		return;
	st->text_run = 0;
	if (st->depth > 0)
		st->depth--;
	st->end(ctx, localname, prefix, uri);
	if (st->ln != NULL)
		large_end(ctx, st, closing, depth);
}

/* text: shared by characters and CDATA; the run is one text node's worth. */
static void text(void *ctx, const xmlChar *ch, int len, charactersSAXFunc next)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct parse_state *st = state_of(ctx);

	if (st->stopped)
		return;
	if (st->text_run == 0 && count(ctxt, st, 1) < 0)
		return;
	st->text_run += (size_t)len;
	if (st->text_run > st->lim->max_text_bytes) {
		stop(ctxt, st, "XML-LIMIT-TEXT-SIZE",
		     "a text node is longer than %zu bytes (limit max_text_bytes)",
		     st->lim->max_text_bytes);
		return;
	}
	if (next != NULL)
		next(ctx, ch, len);
}

static void on_characters(void *ctx, const xmlChar *ch, int len)
{
	text(ctx, ch, len, state_of(ctx)->characters);
}

static void on_cdata(void *ctx, const xmlChar *ch, int len)
{
	text(ctx, ch, len, state_of(ctx)->cdata);
}

/* on_blanks: ENGINE_PARSE_VALIDATE_ONLY: whitespace libxml2 finds ignorable is
 * counted against the limits exactly as a kept text node, then dropped. */
static void on_blanks(void *ctx, const xmlChar *ch, int len)
{
	text(ctx, ch, len, NULL);
}

/* on_dtd: any DOCTYPE is refused before a single declaration is read. */
static void on_dtd(void *ctx, const xmlChar *name, const xmlChar *external_id,
		   const xmlChar *system_id)
{
	(void)name;
	stop(ctx, state_of(ctx), "XML-DTD",
	     "a DOCTYPE is not allowed (DTDs, entities and external subsets are refused%s)",
	     (external_id || system_id) ? "; this one names an external DTD" : "");
}

static void on_entity_decl(void *ctx, const xmlChar *name, int type, const xmlChar *public_id,
			   const xmlChar *system_id, xmlChar *content)
{
	(void)type, (void)public_id, (void)system_id, (void)content;
	stop(ctx, state_of(ctx), "XML-DTD", "entity declaration '%s' is not allowed",
	     (const char *)name);
}

static xmlEntityPtr on_get_entity(void *ctx, const xmlChar *name)
{
	/* Only the five predefined entities exist; libxml2 resolves those itself. */
	xmlEntityPtr e = xmlGetPredefinedEntity(name);

	if (e == NULL)
		stop(ctx, state_of(ctx), "XML-DTD", "reference to undeclared entity '%s'",
		     (const char *)name);
	return e;
}

/* on_error: keep the first error libxml2 reports, for the finding. */
static void on_error(void *ctx, xmlErrorPtr err)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct parse_state *st;
	size_t n;

	if (ctxt == NULL || err == NULL || err->level < XML_ERR_ERROR)
		return;
	st = state_of(ctxt);
	if (st == NULL || st->stopped || st->rule != NULL)
		return;
	st->rule = "XML-WF";
	st->line = err->line;
	secmx_strlcpy(st->reason, err->message ? err->message : "not well-formed",
		      sizeof(st->reason));
	n = strlen(st->reason);
	while (n > 0 && (st->reason[n - 1] == '\n' || st->reason[n - 1] == ' '))
		st->reason[--n] = '\0';
}

/* Where the input comes from: the caller's buffer (P, LEFT) or, when FD is
 * not -1, a file descriptor read as the parser goes. Neither is copied whole. */
struct reader {
	const char *p;
	size_t left;
	int fd;
	size_t total;           /* bytes read from FD so far */
	size_t max;             /* max_doc_bytes: reading more than this fails */
	int over;               /* FD gave more than MAX bytes */
	int io_errno;           /* read(FD) failed with this errno */
};

/* reader_read: libxml2's read callback; up to LEN bytes of the input. */
static int reader_read(void *ctx, char *out, int len)
{
	struct reader *r = ctx;
	size_t n = len > 0 ? (size_t)len : 0;
	ssize_t got;

	if (r->fd < 0) {
		if (n > r->left)
			n = r->left;
		memcpy(out, r->p, n);
		r->p += n;
		r->left -= n;
		return (int)n;
	}
	do
		got = read(r->fd, out, n);
	while (got < 0 && errno == EINTR);
	if (got < 0) {
		r->io_errno = errno;
		return -1;
	}
	r->total += (size_t)got;
	if (r->total > r->max) {
		r->over = 1;
		return -1;
	}
	return (int)got;
}

/* reader_close: nothing to release; the buffer or descriptor is the caller's. */
static int reader_close(void *ctx)
{
	(void)ctx;
	return 0;
}

/* parse_input: parse what RD yields under the limits; see the file comment. */
static int parse_input(const struct engine *eng, struct reader *rd, const char *name,
		       unsigned flags, struct large *ln, xmlDocPtr *out, struct engine_report *rep)
{
	const struct engine_limits *lim = &eng->cfg.limits;
	struct parse_state st;
	xmlParserCtxtPtr ctxt = NULL;
	xmlDocPtr doc = NULL;
	int options = XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_BIG_LINES |
		      XML_PARSE_NOWARNING;
	int rc = SECMX_EPARSE;

	memset(&st, 0, sizeof(st));
	st.lim = lim;
	st.ln = ln;
	ctxt = xmlCreateIOParserCtxt(NULL, NULL, reader_read, reader_close, rd,
				     XML_CHAR_ENCODING_NONE);
	if (ctxt == NULL)
		return SECMX_ENOMEM;
	ctxt->_private = &st;
	st.start = ctxt->sax->startElementNs;
	st.end = ctxt->sax->endElementNs;
	st.characters = ctxt->sax->characters;
	st.cdata = ctxt->sax->cdataBlock ? ctxt->sax->cdataBlock : ctxt->sax->characters;
	ctxt->sax->startElementNs = on_start;
	ctxt->sax->endElementNs = on_end;
	ctxt->sax->characters = on_characters;
	ctxt->sax->ignorableWhitespace = on_characters;
	ctxt->sax->cdataBlock = on_cdata;
	ctxt->sax->internalSubset = on_dtd;
	ctxt->sax->externalSubset = on_dtd;
	ctxt->sax->entityDecl = on_entity_decl;
	ctxt->sax->getEntity = on_get_entity;
	ctxt->sax->getParameterEntity = on_get_entity;
	ctxt->sax->serror = on_error;
	ctxt->sax->error = NULL;
	ctxt->sax->warning = NULL;
	ctxt->sax->fatalError = NULL;
	ctxt->vctxt.error = NULL;
	ctxt->vctxt.warning = NULL;
	if (name != NULL)
		ctxt->input->filename = (char *)xmlCharStrdup(name);
	/* Validate-only trees are never modified (no signing, verifying or
	 * serializing), so short text may live inside its node (COMPACT). */
	if (flags & ENGINE_PARSE_VALIDATE_ONLY)
		options |= XML_PARSE_NOBLANKS | XML_PARSE_COMPACT;
	xmlCtxtUseOptions(ctxt, options);
	/* XML_PARSE_NOCDATA replaced our cdata hook with characters: put it back. */
	ctxt->sax->cdataBlock = NULL;
	/* XML_PARSE_NOBLANKS set libxml2's own ignorable-whitespace hook: ours
	 * counts what it drops. */
	if (flags & ENGINE_PARSE_VALIDATE_ONLY)
		ctxt->sax->ignorableWhitespace = on_blanks;

	/* The global entity loader (engine.c) refuses everything here. */
	xmlParseDocument(ctxt);

	doc = ctxt->myDoc;
	ctxt->myDoc = NULL;
	if (ln != NULL && ln->gave_up) {
		rc = 1;
		goto done;
	}
	if (rd->over) {
		engine_report_add(rep, "XML-LIMIT-SIZE", ENGINE_FATAL, 0, "",
				  "document is more than %zu bytes (limit max_doc_bytes)",
				  lim->max_doc_bytes);
		rc = SECMX_ELIMIT;
		goto done;
	}
	if (rd->io_errno != 0) {
		char why[128];

		/* strerror_r (XSI): the message, thread-safe. */
		if (strerror_r(rd->io_errno, why, sizeof(why)) != 0)
			snprintf(why, sizeof(why), "error %d", rd->io_errno);
		engine_report_add(rep, "SECMX-IO", ENGINE_FATAL, 0, "", "reading the document: %s",
				  why);
		rc = SECMX_EIO;
		goto done;
	}
	if (rd->fd >= 0 && rd->total == 0) {
		/* The same finding as an empty buffer gets. */
		engine_report_add(rep, "XML-WF", ENGINE_FATAL, 0, "", "empty document");
		goto done;
	}
	if (st.stopped || !ctxt->wellFormed || doc == NULL || xmlDocGetRootElement(doc) == NULL) {
		if (st.rule == NULL) {
			st.rule = "XML-WF";
			secmx_strlcpy(st.reason, doc == NULL || xmlDocGetRootElement(doc) == NULL ?
				      "no root element" : "not well-formed", sizeof(st.reason));
		}
		engine_report_add(rep, st.rule, ENGINE_FATAL, st.line, "", "%s", st.reason);
		rc = strncmp(st.rule, "XML-LIMIT", 9) == 0 ? SECMX_ELIMIT : SECMX_EPARSE;
		goto done;
	}
	if (doc->intSubset != NULL || doc->extSubset != NULL) {
		engine_report_add(rep, "XML-DTD", ENGINE_FATAL, 0, "", "a DOCTYPE is not allowed");
		goto done;
	}
	*out = doc;
	doc = NULL;
	rc = SECMX_OK;
done:
	if (doc != NULL)
		xmlFreeDoc(doc);
	ctxt->_private = NULL;
	xmlFreeParserCtxt(ctxt);
	return rc;
}

/* engine__parse: BUF (LEN bytes) under the limits; see the file comment. */
int engine__parse(const struct engine *eng, const void *buf, size_t len, const char *name,
		  xmlDocPtr *out, struct engine_report *rep)
{
	const struct engine_limits *lim = &eng->cfg.limits;
	struct reader rd = {buf, len, -1, 0, 0, 0, 0};

	*out = NULL;
	engine__quiet_thread();
	if (len > lim->max_doc_bytes) {
		engine_report_add(rep, "XML-LIMIT-SIZE", ENGINE_FATAL, 0, "",
				  "document is %zu bytes, more than %zu (limit max_doc_bytes)", len,
				  lim->max_doc_bytes);
		return SECMX_ELIMIT;
	}
	if (len > 0x7fffffff)
		return SECMX_ELIMIT;
	if (len == 0) {
		engine_report_add(rep, "XML-WF", ENGINE_FATAL, 0, "", "empty document");
		return SECMX_EPARSE;
	}
	return parse_input(eng, &rd, name, 0, NULL, out, rep);
}

/* engine__parse_fd: what FD yields, read as the parser goes; see engine.h. */
int engine__parse_fd(const struct engine *eng, int fd, const char *name, unsigned flags,
		     xmlDocPtr *out, struct engine_report *rep)
{
	struct reader rd = {NULL, 0, fd, 0, eng->cfg.limits.max_doc_bytes, 0, 0};

	*out = NULL;
	engine__quiet_thread();
	return parse_input(eng, &rd, name, flags, NULL, out, rep);
}

/* engine_doc_validate_large_fd: see engine.h. */
int engine_doc_validate_large_fd(const struct engine *eng, int fd, const char *name,
				 const char *profile, struct engine_doc **out,
				 struct engine_report *rep, char *why, size_t whylen)
{
	struct reader rd = {NULL, 0, fd, 0, eng->cfg.limits.max_doc_bytes, 0, 0};
	struct engine_report *tmp = engine_report_new();
	struct large *ln = calloc(1, sizeof(*ln));
	struct engine_doc *doc = engine__doc_new(name);
	xmlDocPtr xml = NULL;
	int rc = ENGINE_LARGE_FALLBACK;

	*out = NULL;
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (tmp == NULL || ln == NULL || doc == NULL)
		goto done;
	engine__quiet_thread();
	doc->validate_only = 1;
	ln->eng = eng;
	ln->doc = doc;
	ln->profile = profile;
	ln->tmp = tmp;
	if (parse_input(eng, &rd, name, ENGINE_PARSE_VALIDATE_ONLY, ln, &xml, tmp) != SECMX_OK ||
	    ln->gave_up || !ln->seen_line || ln->rs == NULL) {
		/* XXX a document without lines gains nothing: the whole-tree
		 * stage answers for it, as for every refusal. */
		if (why != NULL)
			secmx_strlcpy(why, ln->gave_up ? ln->why : !ln->seen_line ?
					   "no invoice lines" : "the document was refused", whylen);
		xmlFreeDoc(xml);
		goto done;
	}
	doc->xml = xml;
	if ((rc = engine__rstream_finish(ln->rs, rep)) == ENGINE_LARGE_FALLBACK) {
		if (why != NULL)
			secmx_strlcpy(why, engine__rstream_why(ln->rs), whylen);
		goto done;
	}
	*out = doc;
	doc = NULL;
done:
	if (ln != NULL)
		engine__rstream_free(ln->rs);
	free(ln);
	engine_doc_free(doc);
	engine_report_free(tmp);
	return rc;
}
