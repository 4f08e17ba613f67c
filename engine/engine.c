/*
 * engine.c — engine life cycle and the document object: global start-up,
 * engine_new/engine_free, parse/free/serialize, and the validate driver
 * that runs the schema and rule stages in order.
 *
 * Global state: libxml2's parser initialisation, the process-wide external
 * entity loader (which refuses the network always, and files except while a
 * thread compiles schemas) — done once under pthread_once by
 * engine_global_init(). xmlsec's crypto start-up is done once too, but on
 * first use (engine__dsig_need in dsig.c), not here.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>

#include "engine_int.h"

_Thread_local int engine__allow_file_load;

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static int global_rc = SECMX_OK;
static xmlExternalEntityLoader default_loader;

/* guarded_loader: the only way libxml2 reaches outside a buffer. */
static xmlParserInputPtr guarded_loader(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
	if (url == NULL || !engine__allow_file_load)
		return NULL;
	/* Local files only: no scheme, or file:. */
	if (strstr(url, "://") != NULL && strncmp(url, "file://", 7) != 0)
		return NULL;
	return default_loader(url, id, ctxt);
}

static void silent_generic(void *ctx, const char *msg, ...)
{
	(void)ctx, (void)msg;
}

static void silent_structured(void *ctx, xmlErrorPtr err)
{
	(void)ctx, (void)err;
}

/* engine__quiet_thread: libxml2 keeps error handlers per thread. */
void engine__quiet_thread(void)
{
	xmlSetGenericErrorFunc(NULL, silent_generic);
	xmlSetStructuredErrorFunc(NULL, silent_structured);
}

static void global_init_once(void)
{
	xmlInitParser();
	default_loader = xmlGetExternalEntityLoader();
	xmlSetExternalEntityLoader(guarded_loader);
	engine__quiet_thread();
	/* xmlsec and OpenSSL start on first use (engine__dsig_need): 2.2 MB
	 * resident that validation never needs. */
	global_rc = SECMX_OK;
}

int engine_global_init(void)
{
	pthread_once(&global_once, global_init_once);
	return global_rc;
}

void engine_global_cleanup(void)
{
	engine__dsig_cleanup();
	xmlCleanupParser();
}

void engine_config_default(struct engine_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->limits.max_doc_bytes = 10u * 1024 * 1024;
	cfg->limits.max_depth = 64;
	cfg->limits.max_attr_bytes = 64u * 1024;
	cfg->limits.max_text_bytes = 8u * 1024 * 1024;
	cfg->limits.max_nodes = 1000000;
	cfg->limits.max_attrs = 64;
}

int engine_new(const struct engine_config *cfg, struct engine **out, char *err, size_t errlen)
{
	struct engine *eng = NULL;
	int rc;

	*out = NULL;
	if ((rc = engine_global_init()) < 0) {
		secmx_errf(err, errlen, "engine start-up failed (xmlsec/OpenSSL)");
		return rc;
	}
	engine__quiet_thread();
	if ((eng = calloc(1, sizeof(*eng))) == NULL)
		return SECMX_ENOMEM;
	eng->cfg = *cfg;
	eng->schema_dir = strdup(cfg->schema_dir ? cfg->schema_dir : SECMX_SCHEMA_DIR);
	eng->rules_dir = strdup(cfg->rules_dir ? cfg->rules_dir : SECMX_RULES_DIR);
	if (eng->schema_dir == NULL || eng->rules_dir == NULL) {
		rc = SECMX_ENOMEM;
		goto fail;
	}
	eng->cfg.schema_dir = eng->schema_dir;
	eng->cfg.rules_dir = eng->rules_dir;
	if (eng->cfg.limits.max_depth == 0 || eng->cfg.limits.max_doc_bytes == 0 ||
	    eng->cfg.limits.max_nodes == 0) {
		secmx_errf(err, errlen, "limits must be positive");
		rc = SECMX_ECONFIG;
		goto fail;
	}
	if (!(cfg->flags & ENGINE_CFG_NO_SCHEMAS) && (rc = engine__schema_load(eng, err, errlen)) < 0)
		goto fail;
	if ((rc = engine__rules_load(eng, err, errlen)) < 0)
		goto fail;
	*out = eng;
	return SECMX_OK;
fail:
	engine_free(eng);
	return rc;
}

void engine_free(struct engine *eng)
{
	if (eng == NULL)
		return;
	engine__schema_free(eng);
	engine__rules_free(eng);
	free(eng->schema_dir);
	free(eng->rules_dir);
	free(eng);
}

/* doc_new: an empty, unclassified document labelled NAME (may be NULL). */
static struct engine_doc *doc_new(const char *name)
{
	struct engine_doc *doc = calloc(1, sizeof(*doc));

	if (doc == NULL)
		return NULL;
	doc->type_index = -1;
	if (name != NULL && (doc->name = strdup(name)) == NULL) {
		free(doc);
		return NULL;
	}
	return doc;
}

/* engine__doc_new: see engine_int.h. */
struct engine_doc *engine__doc_new(const char *name)
{
	return doc_new(name);
}

int engine_doc_parse(const struct engine *eng, const void *buf, size_t len, const char *name,
		     struct engine_doc **out, struct engine_report *rep)
{
	struct engine_doc *doc;
	int rc;

	*out = NULL;
	if ((doc = doc_new(name)) == NULL)
		return SECMX_ENOMEM;
	if ((rc = engine__parse(eng, buf, len, name, &doc->xml, rep)) < 0) {
		engine_doc_free(doc);
		return rc;
	}
	*out = doc;
	return SECMX_OK;
}

int engine_doc_parse_fd(const struct engine *eng, int fd, const char *name, unsigned flags,
			struct engine_doc **out, struct engine_report *rep)
{
	struct engine_doc *doc;
	int rc;

	*out = NULL;
	if ((doc = doc_new(name)) == NULL)
		return SECMX_ENOMEM;
	doc->validate_only = (flags & ENGINE_PARSE_VALIDATE_ONLY) != 0;
	if ((rc = engine__parse_fd(eng, fd, name, flags, &doc->xml, rep)) < 0) {
		engine_doc_free(doc);
		return rc;
	}
	*out = doc;
	return SECMX_OK;
}

void engine_doc_free(struct engine_doc *doc)
{
	if (doc == NULL)
		return;
	if (doc->xml)
		xmlFreeDoc(doc->xml);
	free(doc->name);
	free(doc->customization);
	free(doc->profile_id);
	free(doc->id);
	free(doc->ubl_version);
	free(doc->signed_bytes);
	free(doc);
}

int engine_doc_serialize(const struct engine_doc *doc, char **out, size_t *len)
{
	xmlChar *mem = NULL;
	int n = 0;

	*out = NULL;
	*len = 0;
	if (doc->validate_only)
		return SECMX_EINVAL;
	if (doc->signed_bytes != NULL) {
		if ((*out = malloc(doc->signed_len + 1)) == NULL)
			return SECMX_ENOMEM;
		memcpy(*out, doc->signed_bytes, doc->signed_len);
		(*out)[doc->signed_len] = '\0';
		*len = doc->signed_len;
		return SECMX_OK;
	}
	xmlDocDumpMemoryEnc(doc->xml, &mem, &n, "UTF-8");
	if (mem == NULL)
		return SECMX_ENOMEM;
	if ((*out = malloc((size_t)n + 1)) == NULL) {
		xmlFree(mem);
		return SECMX_ENOMEM;
	}
	memcpy(*out, mem, (size_t)n);
	(*out)[n] = '\0';
	*len = (size_t)n;
	xmlFree(mem);
	return SECMX_OK;
}

int engine_doc_validate(const struct engine *eng, struct engine_doc *doc, unsigned flags,
			const char *profile, struct engine_report *rep)
{
	size_t fatal_before = engine_report_fatal_count(rep);
	int rc;

	if (doc->type_index < 0 && (rc = engine_doc_classify(eng, doc, rep)) < 0)
		return rc;
	if (!(flags & ENGINE_VAL_SKIP_SCHEMA) && (rc = engine_doc_validate_schema(eng, doc, rep)) < 0 &&
	    rc != SECMX_EINVALID)
		return rc;
	if (!(flags & ENGINE_VAL_SKIP_RULES) &&
	    (rc = engine_doc_validate_rules(eng, doc, profile, rep)) < 0 && rc != SECMX_EINVALID)
		return rc;
	return engine_report_fatal_count(rep) > fatal_before ? SECMX_EINVALID : SECMX_OK;
}

xmlNodePtr engine__child(xmlNodePtr parent, const char *ns, const char *name)
{
	xmlNodePtr c;

	for (c = parent ? parent->children : NULL; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE && c->ns &&
		    strcmp((const char *)c->name, name) == 0 &&
		    strcmp((const char *)c->ns->href, ns) == 0)
			return c;
	return NULL;
}

/* path_step: the namespace and local name of the first step of PATH
 * ("cbc:Name" or "cac:Name", up to '/' or the end); NULL for another
 * prefix. *NEXT points after the step's '/' (or at the end). */
static const char *path_step(const char *path, char *name, size_t len, const char **next)
{
	const char *ns = NULL, *end = strchr(path, '/');
	size_t n;

	if (strncmp(path, "cbc:", 4) == 0)
		ns = NS_CBC;
	else if (strncmp(path, "cac:", 4) == 0)
		ns = NS_CAC;
	if (end == NULL)
		end = path + strlen(path);
	n = (size_t)(end - path);
	if (ns == NULL || n <= 4 || n - 4 >= len)
		return NULL;
	memcpy(name, path + 4, n - 4);
	name[n - 4] = '\0';
	*next = *end ? end + 1 : end;
	return ns;
}

/* engine__path_all: see engine_int.h (depth first over the steps: the
 * matches come in document order, as XPath gives them). */
size_t engine__path_all(xmlNodePtr from, const char *path, xmlNodePtr *out, size_t max)
{
	char name[128];
	const char *next, *ns = path_step(path, name, sizeof(name), &next);
	size_t n = 0;
	xmlNodePtr c;

	for (c = ns && from ? from->children : NULL; c != NULL && n < max; c = c->next) {
		if (c->type != XML_ELEMENT_NODE || c->ns == NULL ||
		    strcmp((const char *)c->name, name) != 0 ||
		    strcmp((const char *)c->ns->href, ns) != 0)
			continue;
		if (*next != '\0')
			n += engine__path_all(c, next, out ? out + n : NULL, max - n);
		else if (out != NULL)
			out[n++] = c;
		else
			n++;
	}
	return n;
}

/* engine__path_first: see engine_int.h. */
xmlNodePtr engine__path_first(xmlNodePtr from, const char *path)
{
	xmlNodePtr n = NULL;

	return engine__path_all(from, path, &n, 1) == 1 ? n : NULL;
}

char *engine__text(xmlNodePtr node)
{
	xmlChar *s;
	char *t, *b, *e;

	if (node == NULL || (s = xmlNodeGetContent(node)) == NULL)
		return NULL;
	for (b = (char *)s; *b == ' ' || *b == '\t' || *b == '\r' || *b == '\n'; b++)
		;
	e = b + strlen(b);
	while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		e--;
	t = strndup(b, (size_t)(e - b));
	xmlFree(s);
	return t;
}
