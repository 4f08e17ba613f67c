/*
 * report.c — validation reports: an ordered list of findings.
 *
 * Each finding owns copies of its strings; engine_report_at() hands out
 * pointers that stay valid until the report is changed or freed. A report
 * that cannot grow (out of memory) drops the new finding and remembers that
 * it did: engine_report_fatal_count() then counts one more fatal, so an
 * incomplete report can never read as "valid".
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "engine_int.h"

struct engine_report {
	struct engine_finding *items;
	size_t n, cap;
	size_t fatal;
	int lost;               /* a finding could not be stored */
};

struct engine_report *engine_report_new(void)
{
	return calloc(1, sizeof(struct engine_report));
}

static void finding_free(struct engine_finding *f)
{
	free((char *)f->rule);
	free((char *)f->message);
	free((char *)f->path);
}

void engine_report_clear(struct engine_report *rep)
{
	size_t i;

	if (rep == NULL)
		return;
	for (i = 0; i < rep->n; i++)
		finding_free(&rep->items[i]);
	rep->n = 0;
	rep->fatal = 0;
	rep->lost = 0;
}

void engine_report_free(struct engine_report *rep)
{
	if (rep == NULL)
		return;
	engine_report_clear(rep);
	free(rep->items);
	free(rep);
}

size_t engine_report_count(const struct engine_report *rep)
{
	return rep ? rep->n : 0;
}

const struct engine_finding *engine_report_at(const struct engine_report *rep, size_t i)
{
	return rep && i < rep->n ? &rep->items[i] : NULL;
}

size_t engine_report_fatal_count(const struct engine_report *rep)
{
	return rep ? rep->fatal + (rep->lost ? 1 : 0) : 0;
}

/* add_v: the one place a finding is stored. */
static int add_v(struct engine_report *rep, const char *rule, enum engine_severity sev, long line,
		 const char *path, const char *fmt, va_list ap) __attribute__((format(printf, 6, 0)));
static int add_v(struct engine_report *rep, const char *rule, enum engine_severity sev, long line,
		 const char *path, const char *fmt, va_list ap)
{
	struct engine_finding f;
	char msg[1024];

	if (rep == NULL)
		return SECMX_OK;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (rep->n == rep->cap) {
		size_t ncap = rep->cap ? rep->cap * 2 : 16;
		struct engine_finding *ni = realloc(rep->items, ncap * sizeof(*ni));
		if (ni == NULL)
			goto oom;
		rep->items = ni;
		rep->cap = ncap;
	}
	f.rule = strdup(rule ? rule : "");
	f.message = strdup(msg);
	f.path = strdup(path ? path : "");
	f.severity = sev;
	f.line = line;
	if (f.rule == NULL || f.message == NULL || f.path == NULL) {
		finding_free(&f);
		goto oom;
	}
	rep->items[rep->n++] = f;
	if (sev == ENGINE_FATAL)
		rep->fatal++;
	return SECMX_OK;
oom:
	rep->lost = 1;
	return SECMX_ENOMEM;
}

int engine_report_add(struct engine_report *rep, const char *rule, enum engine_severity sev,
		      long line, const char *path, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = add_v(rep, rule, sev, line, path, fmt, ap);
	va_end(ap);
	return rc;
}

/* prefix_for: the conventional UBL prefix of a namespace, or NULL. */
static const char *prefix_for(const xmlChar *href)
{
	static const struct {
		const char *ns, *prefix;
	} known[] = {
		{NS_CBC, "cbc"}, {NS_CAC, "cac"}, {NS_EXT, "ext"}, {NS_SIG, "sig"},
		{NS_SAC, "sac"}, {NS_SBC, "sbc"}, {NS_DS, "ds"},
	};
	size_t i;

	if (href == NULL)
		return NULL;
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp((const char *)href, known[i].ns) == 0)
			return known[i].prefix;
	return NULL;
}

/* engine__node_path: an XPath like /Invoice/cac:InvoiceLine[2]/cbc:ID. */
char *engine__node_path(xmlNodePtr node)
{
	char *buf = NULL, *tmp;
	size_t len = 0;
	xmlNodePtr cur;

	if (node == NULL)
		return strdup("");
	if (node->type == XML_DOCUMENT_NODE)
		return strdup("/");
	for (cur = node; cur != NULL && cur->type != XML_DOCUMENT_NODE; cur = cur->parent) {
		char step[256];
		const char *pfx;
		int pos = 1, many = 0;
		xmlNodePtr sib;

		if (cur->type == XML_ATTRIBUTE_NODE) {
			snprintf(step, sizeof(step), "/@%s", (const char *)cur->name);
		} else if (cur->type == XML_ELEMENT_NODE) {
			for (sib = cur->prev; sib; sib = sib->prev)
				if (sib->type == XML_ELEMENT_NODE &&
				    xmlStrEqual(sib->name, cur->name) &&
				    (sib->ns == cur->ns || (sib->ns && cur->ns &&
							     xmlStrEqual(sib->ns->href, cur->ns->href))))
					pos++;
			many = pos > 1;
			for (sib = cur->next; !many && sib; sib = sib->next)
				if (sib->type == XML_ELEMENT_NODE &&
				    xmlStrEqual(sib->name, cur->name))
					many = 1;
			pfx = cur->parent && cur->parent->type != XML_DOCUMENT_NODE && cur->ns ?
				      prefix_for(cur->ns->href) : NULL;
			if (pfx == NULL && cur->ns && cur->ns->prefix &&
			    cur->parent && cur->parent->type != XML_DOCUMENT_NODE)
				pfx = (const char *)cur->ns->prefix;
			if (many)
				snprintf(step, sizeof(step), "/%s%s%s[%d]", pfx ? pfx : "",
					 pfx ? ":" : "", (const char *)cur->name, pos);
			else
				snprintf(step, sizeof(step), "/%s%s%s", pfx ? pfx : "",
					 pfx ? ":" : "", (const char *)cur->name);
		} else if (cur->type == XML_TEXT_NODE) {
			snprintf(step, sizeof(step), "/text()");
		} else {
			continue;
		}
		tmp = malloc(strlen(step) + len + 1);
		if (tmp == NULL) {
			free(buf);
			return NULL;
		}
		memcpy(tmp, step, strlen(step));
		if (buf)
			memcpy(tmp + strlen(step), buf, len);
		len += strlen(step);
		tmp[len] = '\0';
		free(buf);
		buf = tmp;
	}
	return buf ? buf : strdup("/");
}

/* engine__report_node: a finding whose location is NODE. */
int engine__report_node(struct engine_report *rep, const char *rule, enum engine_severity sev,
			xmlNodePtr node, const char *fmt, ...)
{
	va_list ap;
	char *path = node ? engine__node_path(node) : NULL;
	long line = node ? xmlGetLineNo(node) : 0;
	int rc;

	va_start(ap, fmt);
	rc = add_v(rep, rule, sev, line < 0 ? 0 : line, path, fmt, ap);
	va_end(ap);
	free(path);
	return rc;
}

json_t *engine_report_json(const struct engine_report *rep)
{
	json_t *arr = json_array();
	size_t i;

	if (arr == NULL)
		return NULL;
	for (i = 0; rep && i < rep->n; i++) {
		const struct engine_finding *f = &rep->items[i];
		json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:s}", "rule", f->rule, "severity",
				      f->severity == ENGINE_FATAL ? "fatal" : "warning", "message",
				      f->message, "line", (json_int_t)f->line, "path", f->path);
		if (o == NULL || json_array_append_new(arr, o) < 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

void engine_report_print(const struct engine_report *rep, const char *file, FILE *fp)
{
	size_t i;

	for (i = 0; rep && i < rep->n; i++) {
		const struct engine_finding *f = &rep->items[i];
		fprintf(fp, "%s:%ld: %s [%s] %s", file ? file : "-", f->line,
			f->severity == ENGINE_FATAL ? "fatal" : "warning", f->rule, f->message);
		if (f->path && *f->path)
			fprintf(fp, " (%s)", f->path);
		fputc('\n', fp);
	}
	if (rep && rep->lost)
		fprintf(fp, "%s:0: fatal [SECMX-OOM] out of memory: some findings were lost\n",
			file ? file : "-");
}
