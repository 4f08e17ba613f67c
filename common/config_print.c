/*
 * config_print.c — configuration values as text: one value, the effective
 * configuration as INI, the table as a Markdown reference.
 *
 * Interface (common.h, section CONFIGURATION):
 *   config_value_format()  one value in file syntax; secret ones hidden.
 *   config_dump()          the effective configuration, loadable again.
 *   config_doc()           the table as Markdown, one table per section.
 *   config_doc_missing()   the keys a document does not name.
 *
 * Errors: out of memory shows in the output (dump, doc) or as SECMX_ENOMEM
 * (doc_missing). Nothing here logs or exits; everything only reads and is
 * thread-safe. Secret values (CONFIG_SECRET) are never written anywhere.
 */
#include "common.h"
#include "config_int.h"

#include <stdlib.h>
#include <string.h>

/* cfield: the address of a value inside a const CFG. */
static const void *cfield(const struct rkey *rk, const void *cfg)
{
	return (const char *)cfg + rk->off;
}

/* format_field: the value at F of key K in file syntax. */
static size_t format_field(const struct config_key *k, const void *f, char *buf, size_t len)
{
	char tmp[32];

	if (k->flags & CONFIG_SECRET)
		return secmx_strlcpy(buf, "(secret)", len);
	switch (k->type) {
	case CONFIG_STRING:
	case CONFIG_PATH:
	case CONFIG_SECRET_PATH:
	case CONFIG_ENDPOINT: {
		const char *s = *(char *const *)f;

		return secmx_strlcpy(buf, s ? s : "", len);
	}
	case CONFIG_BOOL:
		return secmx_strlcpy(buf, *(const bool *)f ? "yes" : "no", len);
	case CONFIG_INT:
		return (size_t)snprintf(buf, len, "%lld", *(const long long *)f);
	case CONFIG_SIZE:
		config__format_size(*(const size_t *)f, tmp, sizeof(tmp));
		return secmx_strlcpy(buf, tmp, len);
	case CONFIG_DURATION:
		config__format_duration(*(const long long *)f, tmp, sizeof(tmp));
		return secmx_strlcpy(buf, tmp, len);
	case CONFIG_ENUM: {
		int i, v = *(const int *)f;

		for (i = 0; k->values != NULL && k->values[i] != NULL; i++)
			if (i == v)
				return secmx_strlcpy(buf, k->values[i], len);
		return secmx_strlcpy(buf, "", len);
	}
	case CONFIG_LIST: {
		const struct config_list *l = f;
		size_t i, n = 0;

		if (len > 0)
			buf[0] = '\0';
		for (i = 0; i < l->n; i++) {
			size_t room = n < len ? len - n : 0;

			n += (size_t)snprintf(room ? buf + n : NULL, room, "%s%s", i ? ", " : "",
			                      l->v[i]);
		}
		return n;
	}
	}
	return secmx_strlcpy(buf, "", len);
}

/* config_value_format: KEY's value in BASE, secrets hidden. */
size_t config_value_format(const struct config_key *key, const void *base, char *buf, size_t len)
{
	return format_field(key, (const char *)base + key->offset, buf, len);
}

/* is_unset: a string-typed value that is NULL, or an empty list. */
static int is_unset(const struct config_key *k, const void *f)
{
	if (config__is_string_type(k->type))
		return *(char *const *)f == NULL;
	if (k->type == CONFIG_LIST)
		return ((const struct config_list *)f)->n == 0;
	return 0;
}

/* config_dump: the effective configuration as INI text. */
void config_dump(const struct config_table *t, const void *cfg, FILE *fp)
{
	struct rtable rt = {NULL, 0};
	const char *section = NULL;
	char buf[4096];
	size_t i;

	if (config__rtable_new(t, &rt) < 0) {
		fprintf(fp, "# out of memory\n");
		return;
	}
	for (i = 0; i < rt.n; i++) {
		const struct config_key *k = rt.keys[i].k;
		const void *f = cfield(&rt.keys[i], cfg);

		if (section == NULL || strcmp(section, k->section) != 0) {
			fprintf(fp, "%s[%s]\n", section ? "\n" : "", k->section);
			section = k->section;
		}
		if (k->flags & CONFIG_SECRET)
			fprintf(fp, "# %s = (secret, not shown)\n", k->name);
		else if (is_unset(k, f))
			fprintf(fp, "# %s is not set\n", k->name);
		else {
			format_field(k, f, buf, sizeof(buf));
			fprintf(fp, "%s = %s\n", k->name, buf);
		}
	}
	free(rt.keys);
}

/* type_name: how the documentation names a type. */
static const char *type_name(enum config_type type)
{
	switch (type) {
	case CONFIG_STRING:
		return "string";
	case CONFIG_PATH:
		return "path";
	case CONFIG_SECRET_PATH:
		return "secret file";
	case CONFIG_BOOL:
		return "bool";
	case CONFIG_INT:
		return "integer";
	case CONFIG_SIZE:
		return "size";
	case CONFIG_DURATION:
		return "duration";
	case CONFIG_ENUM:
		return "enum";
	case CONFIG_ENDPOINT:
		return "endpoint";
	case CONFIG_LIST:
		return "list";
	}
	return "?";
}

/* config_doc: the table as Markdown, one table per section. */
void config_doc(const struct config_table *t, FILE *fp)
{
	struct rtable rt = {NULL, 0};
	const char *section = NULL;
	char lo[32], hi[32], def[128];
	size_t i;
	int j;

	if (config__rtable_new(t, &rt) < 0) {
		fprintf(fp, "(out of memory)\n");
		return;
	}
	for (i = 0; i < rt.n; i++) {
		const struct config_key *k = rt.keys[i].k;

		if (section == NULL || strcmp(section, k->section) != 0) {
			fprintf(fp, "%s### [%s]\n\n", section ? "\n" : "", k->section);
			fprintf(fp, "| Key | Type | Default | Allowed | Reload | Description |\n");
			fprintf(fp, "|-----|------|---------|---------|--------|-------------|\n");
			section = k->section;
		}
		if (k->def != NULL)
			snprintf(def, sizeof(def), "`%s`", k->def);
		else
			secmx_strlcpy(def, k->flags & CONFIG_REQUIRED ? "required" : "not set",
			              sizeof(def));
		fprintf(fp, "| `%s.%s` | %s | %s | ", k->section, k->name, type_name(k->type), def);
		switch (k->type) {
		case CONFIG_INT:
		case CONFIG_SIZE:
		case CONFIG_DURATION:
			if (k->min == 0 && k->max == 0) {
				fprintf(fp, "any");
				break;
			}
			config__format_bound(k, k->min, lo, sizeof(lo));
			config__format_bound(k, k->max, hi, sizeof(hi));
			fprintf(fp, "%s to %s", lo, hi);
			break;
		case CONFIG_ENUM:
			for (j = 0; k->values != NULL && k->values[j] != NULL; j++)
				fprintf(fp, "%s`%s`", j ? ", " : "", k->values[j]);
			break;
		case CONFIG_LIST:
			if (k->max > 0)
				fprintf(fp, "%lld to %lld items", k->min, k->max);
			else
				fprintf(fp, "at least %lld items", k->min);
			break;
		case CONFIG_SECRET_PATH:
			fprintf(fp, "absolute; mode 0600 or stricter");
			break;
		case CONFIG_PATH:
			fprintf(fp, "absolute%s", k->flags & CONFIG_CREATE ? "" : "; must exist");
			break;
		case CONFIG_ENDPOINT:
			fprintf(fp, "`ipc:///path`, `tcp://host:port`");
			break;
		case CONFIG_BOOL:
			fprintf(fp, "yes, no");
			break;
		case CONFIG_STRING:
			fprintf(fp, "any text");
			break;
		}
		fprintf(fp, " | %s | %s%s |\n", k->flags & CONFIG_RELOAD ? "yes" : "restart",
		        k->doc ? k->doc : "",
		        k->flags & CONFIG_SECRET ? " (Secret: never shown.)" : "");
	}
	free(rt.keys);
}

/* config_doc_missing: keys of T that DOC does not name as `section.key`. */
int config_doc_missing(const struct config_table *t, const char *doc, char *missing,
                       size_t missinglen)
{
	struct rtable rt = {NULL, 0};
	char name[256];
	size_t i, used = 0;
	int n = 0;

	if (missing != NULL && missinglen > 0)
		missing[0] = '\0';
	if (config__rtable_new(t, &rt) < 0)
		return SECMX_ENOMEM;
	for (i = 0; i < rt.n; i++) {
		const struct config_key *k = rt.keys[i].k;

		snprintf(name, sizeof(name), "`%s.%s`", k->section, k->name);
		if (strstr(doc, name) != NULL)
			continue;
		n++;
		if (missing != NULL && used < missinglen)
			used += (size_t)snprintf(missing + used, missinglen - used, "%s%s.%s",
			                         used ? " " : "", k->section, k->name);
	}
	free(rt.keys);
	return n;
}
