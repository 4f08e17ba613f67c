/*
 * config.c — typed, table-driven INI configuration on libinih: loading.
 *
 * Interface (common.h, section CONFIGURATION; printing is config_print.c):
 *   config_defaults()     fill a caller's struct with a table's defaults.
 *   config_load()         parse a file all or nothing; refuse unknown
 *                         sections/keys, duplicates, bad values and unusable
 *                         paths with "FILE:LINE: section.key: reason".
 *   config_reload()       load again, keeping non-reloadable keys from the
 *                         running configuration and naming those that changed.
 *   config_free()         release the strings and lists a load allocated.
 *   config_key_refuse()   for a table's check (struct config_table.check):
 *                         refuse the file at the line of the key blamed.
 *
 * Errors: SECMX_ECONFIG (the file is wrong: ERR says where and why),
 * SECMX_EIO (unreadable), SECMX_ENOMEM, SECMX_EINTERNAL (a table's own
 * default is invalid: a bug).
 *
 * Line numbers: Debian 12's libinih (r55) is built with INI_HANDLER_LINENO 0,
 * so its handler is not told the line. We give libinih the file through our
 * own line reader (ini_parse_stream) instead of a FILE: the reader hands out
 * exactly one line per call and counts them, and libinih calls the handler
 * for a line before it reads the next, so the reader's count is the line of
 * the key being handled. The reader also does what the library's build
 * settings would otherwise decide for us: it refuses lines longer than the
 * library's buffer (rather than letting it split them silently), refuses
 * NUL bytes, strips leading blanks (so an indented line is never taken as
 * a continuation of the previous value: INI_ALLOW_MULTILINE is on in that
 * build) and checks section headers, which libinih does not report.
 *
 * Thread safety: a load keeps its state on the stack and the heap, and
 * libinih only reads its process-wide settings (Debian's build exports
 * them as ini_* variables; nothing in secmx changes them), so loads may run
 * in any thread. Nothing here logs or exits.
 *
 * Limits: CONFIG_FILE_MAX bytes per file; lines up to the library's buffer
 * less 4 bytes (196 with Debian's build); values are not unquoted (libinih
 * strips blanks around them; ';' after a blank starts a comment).
 */
#include "common.h"
#include "config_int.h"

#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* State of one parse, shared by the reader and the handler. */
struct parse {
	const char *file;
	const struct rtable *rt;
	void *cfg;             /* the staging struct */
	int *seen;             /* line where each key was set; 0: not in file */
	const char *pos, *end; /* what is left of the file text */
	int line;              /* line last handed to libinih */
	int failed;            /* an error is recorded in err */
	int rc;                /* its code */
	char *err;
	size_t errlen;
};

/* What a table's check is given to refuse with (common.h): the parse. */
struct config_where {
	struct parse *ps;
};

/* count_keys: how many keys T holds, included tables too. */
static size_t count_keys(const struct config_table *t)
{
	size_t n = t->nkeys, i;

	for (i = 0; i < t->nsubs; i++)
		n += count_keys(t->subs[i].table);
	return n;
}

/* flatten: append T's keys (at BASE) and its included tables' to RT. */
static void flatten(const struct config_table *t, size_t base, struct rtable *rt)
{
	size_t i;

	for (i = 0; i < t->nkeys; i++) {
		rt->keys[rt->n].k = &t->keys[i];
		rt->keys[rt->n].off = base + t->keys[i].offset;
		rt->n++;
	}
	for (i = 0; i < t->nsubs; i++)
		flatten(t->subs[i].table, base + t->subs[i].offset, rt);
}

/* config__rtable_new: the flattened keys of T; the caller frees rt->keys. */
int config__rtable_new(const struct config_table *t, struct rtable *rt)
{
	size_t n = count_keys(t);

	rt->n = 0;
	if ((rt->keys = calloc(n ? n : 1, sizeof(*rt->keys))) == NULL)
		return SECMX_ENOMEM;
	flatten(t, 0, rt);
	return 0;
}

/* field: the address of key RK's value inside CFG. */
static void *field(const struct rkey *rk, void *cfg)
{
	return (char *)cfg + rk->off;
}

/* cfield: the address of a value inside a const CFG. */
static const void *cfield(const struct rkey *rk, const void *cfg)
{
	return (const char *)cfg + rk->off;
}

/* config__is_string_type: values stored as a char *. */
int config__is_string_type(enum config_type type)
{
	return type == CONFIG_STRING || type == CONFIG_PATH || type == CONFIG_SECRET_PATH ||
	       type == CONFIG_ENDPOINT;
}

/* value_free: release the value at F of key K and clear it. */
static void value_free(const struct config_key *k, void *f)
{
	if (config__is_string_type(k->type)) {
		free(*(char **)f);
		*(char **)f = NULL;
	} else if (k->type == CONFIG_LIST) {
		struct config_list *l = f;
		size_t i;

		for (i = 0; i < l->n; i++)
			free(l->v[i]);
		free(l->v);
		l->v = NULL;
		l->n = 0;
	}
}

/* value_copy: deep-copy the value at SRC into DST (whose old value is freed). */
static int value_copy(const struct config_key *k, void *dst, const void *src)
{
	value_free(k, dst);
	switch (k->type) {
	case CONFIG_STRING:
	case CONFIG_PATH:
	case CONFIG_SECRET_PATH:
	case CONFIG_ENDPOINT: {
		const char *s = *(char *const *)src;

		if (s != NULL && (*(char **)dst = strdup(s)) == NULL)
			return SECMX_ENOMEM;
		return 0;
	}
	case CONFIG_LIST: {
		const struct config_list *sl = src;
		struct config_list *dl = dst;
		size_t i;

		if (sl->n == 0)
			return 0;
		if ((dl->v = calloc(sl->n, sizeof(char *))) == NULL)
			return SECMX_ENOMEM;
		for (dl->n = 0; dl->n < sl->n; dl->n++)
			if ((dl->v[dl->n] = strdup(sl->v[dl->n])) == NULL)
				break;
		if (dl->n < sl->n) {
			for (i = 0; i < dl->n; i++)
				free(dl->v[i]);
			free(dl->v);
			dl->v = NULL;
			dl->n = 0;
			return SECMX_ENOMEM;
		}
		return 0;
	}
	case CONFIG_BOOL:
		*(bool *)dst = *(const bool *)src;
		return 0;
	case CONFIG_INT:
	case CONFIG_DURATION:
		*(long long *)dst = *(const long long *)src;
		return 0;
	case CONFIG_SIZE:
		*(size_t *)dst = *(const size_t *)src;
		return 0;
	case CONFIG_ENUM:
		*(int *)dst = *(const int *)src;
		return 0;
	}
	return SECMX_EINTERNAL;
}

/* value_equal: do A and B hold the same value of key K? */
static int value_equal(const struct config_key *k, const void *a, const void *b)
{
	switch (k->type) {
	case CONFIG_STRING:
	case CONFIG_PATH:
	case CONFIG_SECRET_PATH:
	case CONFIG_ENDPOINT: {
		const char *x = *(char *const *)a, *y = *(char *const *)b;

		if (x == NULL || y == NULL)
			return x == y;
		return strcmp(x, y) == 0;
	}
	case CONFIG_LIST: {
		const struct config_list *x = a, *y = b;
		size_t i;

		if (x->n != y->n)
			return 0;
		for (i = 0; i < x->n; i++)
			if (strcmp(x->v[i], y->v[i]) != 0)
				return 0;
		return 1;
	}
	case CONFIG_BOOL:
		return *(const bool *)a == *(const bool *)b;
	case CONFIG_INT:
	case CONFIG_DURATION:
		return *(const long long *)a == *(const long long *)b;
	case CONFIG_SIZE:
		return *(const size_t *)a == *(const size_t *)b;
	case CONFIG_ENUM:
		return *(const int *)a == *(const int *)b;
	}
	return 0;
}

/* parse_uint: decimal digits at S (no sign, no blanks) into *V; *END after them. */
static int parse_uint(const char *s, unsigned long long *v, const char **end)
{
	unsigned long long x = 0;
	const char *p = s;

	*end = s;
	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (x > (ULLONG_MAX - d) / 10) {
			while (p[1] >= '0' && p[1] <= '9')
				p++;
			*end = p + 1;
			return -2;
		}
		x = x * 10 + d;
	}
	*v = x;
	*end = p;
	return 0;
}

/* config__format_size: BYTES in the largest unit that divides it exactly. */
void config__format_size(unsigned long long bytes, char *buf, size_t len)
{
	if (bytes != 0 && bytes % (1ull << 30) == 0)
		snprintf(buf, len, "%lluG", bytes >> 30);
	else if (bytes != 0 && bytes % (1ull << 20) == 0)
		snprintf(buf, len, "%lluM", bytes >> 20);
	else if (bytes != 0 && bytes % 1024 == 0)
		snprintf(buf, len, "%lluk", bytes >> 10);
	else
		snprintf(buf, len, "%llu", bytes);
}

/* config__format_duration: MS in the largest unit that divides it exactly. */
void config__format_duration(long long ms, char *buf, size_t len)
{
	static const struct {
		long long ms;
		const char *unit;
	} u[] = {{86400000LL, "d"}, {3600000LL, "h"}, {60000LL, "m"}, {1000LL, "s"}};
	size_t i;

	for (i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
		if (ms != 0 && ms % u[i].ms == 0) {
			snprintf(buf, len, "%lld%s", ms / u[i].ms, u[i].unit);
			return;
		}
	}
	snprintf(buf, len, "%lldms", ms);
}

/* config__format_bound: a bound of key K in file syntax. */
void config__format_bound(const struct config_key *k, long long v, char *buf, size_t len)
{
	if (k->type == CONFIG_SIZE)
		config__format_size((unsigned long long)v, buf, len);
	else if (k->type == CONFIG_DURATION)
		config__format_duration(v, buf, len);
	else
		snprintf(buf, len, "%lld", v);
}

/* check_bounds: refuse V outside K's [min, max] (unless both are 0), saying which. */
static int check_bounds(const struct config_key *k, long long v, const char *shown, char *why,
                        size_t whylen)
{
	char b[32];

	if (k->min == 0 && k->max == 0)
		return 0;
	if (v < k->min) {
		config__format_bound(k, k->min, b, sizeof(b));
		secmx_errf(why, whylen, "%s is below the minimum %s", shown, b);
		return -1;
	}
	if (v > k->max) {
		config__format_bound(k, k->max, b, sizeof(b));
		secmx_errf(why, whylen, "%s is above the maximum %s", shown, b);
		return -1;
	}
	return 0;
}

/* check_host: a host name, IPv4 address, [IPv6] address or '*'. */
static int check_host(const char *h, size_t n)
{
	size_t i;

	if (n == 0)
		return -1;
	if (n == 1 && h[0] == '*')
		return 0;
	if (h[0] == '[') {
		if (n < 3 || h[n - 1] != ']')
			return -1;
		for (i = 1; i < n - 1; i++)
			if (!strchr("0123456789abcdefABCDEF:.", h[i]))
				return -1;
		return 0;
	}
	for (i = 0; i < n; i++) {
		char c = h[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '-'))
			return -1;
	}
	return h[0] == '-' || h[0] == '.' ? -1 : 0;
}

/* check_endpoint: ipc:///absolute/path or tcp://host:port. */
static int check_endpoint(const char *v, char *why, size_t whylen)
{
	if (strncmp(v, "ipc://", 6) == 0) {
		const char *path = v + 6;

		if (path[0] != '/') {
			secmx_errf(why, whylen, "an ipc:// endpoint needs an absolute path");
			return -1;
		}
		if (strlen(path) > 107) {
			secmx_errf(why, whylen, "the ipc:// path is longer than 107 bytes");
			return -1;
		}
		return 0;
	}
	if (strncmp(v, "tcp://", 6) == 0) {
		const char *hp = v + 6, *colon = strrchr(hp, ':'), *end;
		unsigned long long port;

		if (colon == NULL || check_host(hp, (size_t)(colon - hp)) < 0) {
			secmx_errf(why, whylen, "expected tcp://host:port");
			return -1;
		}
		if (parse_uint(colon + 1, &port, &end) < 0 || *end != '\0' || port == 0 ||
		    port > 65535) {
			secmx_errf(why, whylen, "the port must be a number from 1 to 65535");
			return -1;
		}
		return 0;
	}
	secmx_errf(why, whylen, "expected ipc:///path or tcp://host:port");
	return -1;
}

/* parse_list: split V on commas into L (trimmed, no empty items). */
static int parse_list(const struct config_key *k, const char *v, struct config_list *l, char *why,
                      size_t whylen)
{
	struct config_list nl = {0, NULL};
	const char *p = v;
	int rc = -1;
	size_t i;

	if (*v != '\0') {
		for (;;) {
			const char *comma = strchr(p, ','), *e = comma ? comma : p + strlen(p);
			char **nv;

			while (p < e && (*p == ' ' || *p == '\t'))
				p++;
			while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
				e--;
			if (e == p) {
				secmx_errf(why, whylen, "empty item in the list");
				goto done;
			}
			if ((nv = realloc(nl.v, (nl.n + 1) * sizeof(char *))) == NULL)
				goto nomem;
			nl.v = nv;
			if ((nl.v[nl.n] = strndup(p, (size_t)(e - p))) == NULL)
				goto nomem;
			nl.n++;
			if (comma == NULL)
				break;
			p = comma + 1;
		}
	}
	if ((long long)nl.n < k->min || (k->max > 0 && (long long)nl.n > k->max)) {
		secmx_errf(why, whylen, "%zu items; between %lld and %lld are allowed", nl.n,
		           k->min, k->max);
		goto done;
	}
	value_free(k, l);
	*l = nl;
	nl.v = NULL;
	nl.n = 0;
	rc = 0;
	goto done;
nomem:
	secmx_errf(why, whylen, "out of memory");
	rc = SECMX_ENOMEM;
done:
	for (i = 0; i < nl.n; i++)
		free(nl.v[i]);
	free(nl.v);
	return rc;
}

/*
 * parse_value: parse V for key K into the field F (its old value freed on
 * success, untouched on failure). Returns 0, -1 with WHY set, or
 * SECMX_ENOMEM. Paths are checked later (check_path), once, for the
 * effective value.
 */
static int parse_value(const struct config_key *k, const char *v, void *f, char *why, size_t whylen)
{
	char shown[64];
	unsigned long long u;
	const char *end;
	int r;

	/* Quote the value in messages, shortened; never a secret one. */
	if (k->flags & CONFIG_SECRET)
		secmx_strlcpy(shown, "(secret)", sizeof(shown));
	else if (strlen(v) > 40)
		snprintf(shown, sizeof(shown), "\"%.37s...\"", v);
	else
		snprintf(shown, sizeof(shown), "\"%s\"", v);

	switch (k->type) {
	case CONFIG_STRING:
	case CONFIG_PATH:
	case CONFIG_SECRET_PATH:
	case CONFIG_ENDPOINT: {
		char *copy;

		if (k->type != CONFIG_STRING && *v == '\0') {
			secmx_errf(why, whylen, "empty value");
			return -1;
		}
		if ((k->type == CONFIG_PATH || k->type == CONFIG_SECRET_PATH) && v[0] != '/') {
			secmx_errf(why, whylen, "%s is not an absolute path", shown);
			return -1;
		}
		if (k->type == CONFIG_ENDPOINT && check_endpoint(v, why, whylen) < 0)
			return -1;
		if ((copy = strdup(v)) == NULL)
			return SECMX_ENOMEM;
		free(*(char **)f);
		*(char **)f = copy;
		return 0;
	}
	case CONFIG_BOOL:
		if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcasecmp(v, "on") ||
		    !strcmp(v, "1"))
			*(bool *)f = true;
		else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcasecmp(v, "off") ||
		         !strcmp(v, "0"))
			*(bool *)f = false;
		else {
			secmx_errf(why, whylen, "%s is not yes/no, true/false, on/off or 1/0",
			           shown);
			return -1;
		}
		return 0;
	case CONFIG_INT: {
		int neg = v[0] == '-';
		long long x;

		r = parse_uint(v + neg, &u, &end);
		if (r == -1 || *end != '\0') {
			secmx_errf(why, whylen, "%s is not a whole number", shown);
			return -1;
		}
		if (r == -2 || u > (unsigned long long)LLONG_MAX) {
			secmx_errf(why, whylen, "%s is too large", shown);
			return -1;
		}
		x = neg ? -(long long)u : (long long)u;
		if (check_bounds(k, x, shown, why, whylen) < 0)
			return -1;
		*(long long *)f = x;
		return 0;
	}
	case CONFIG_SIZE: {
		unsigned long long mult = 1;

		r = parse_uint(v, &u, &end);
		if (r == -1) {
			secmx_errf(why, whylen, "%s is not a size (a number, then k, M or G)",
			           shown);
			return -1;
		}
		if (*end == 'k' || *end == 'K')
			mult = 1ull << 10;
		else if (*end == 'M')
			mult = 1ull << 20;
		else if (*end == 'G')
			mult = 1ull << 30;
		else if (*end != '\0') {
			secmx_errf(why, whylen, "%s has an unknown unit (use k, M or G)", shown);
			return -1;
		}
		if (*end != '\0' && end[1] != '\0') {
			secmx_errf(why, whylen, "%s has an unknown unit (use k, M or G)", shown);
			return -1;
		}
		if (r == -2 || u > (unsigned long long)LLONG_MAX / mult ||
		    u * mult > (unsigned long long)SIZE_MAX) {
			secmx_errf(why, whylen, "%s is too large", shown);
			return -1;
		}
		if (check_bounds(k, (long long)(u * mult), shown, why, whylen) < 0)
			return -1;
		*(size_t *)f = (size_t)(u * mult);
		return 0;
	}
	case CONFIG_DURATION: {
		unsigned long long mult;

		r = parse_uint(v, &u, &end);
		if (r == -1) {
			secmx_errf(why, whylen,
			           "%s is not a duration (a number, then ms, s, m, h or d)", shown);
			return -1;
		}
		if (strcmp(end, "ms") == 0)
			mult = 1;
		else if (strcmp(end, "s") == 0)
			mult = 1000;
		else if (strcmp(end, "m") == 0)
			mult = 60000;
		else if (strcmp(end, "h") == 0)
			mult = 3600000;
		else if (strcmp(end, "d") == 0)
			mult = 86400000;
		else {
			secmx_errf(why, whylen, "%s needs a unit: ms, s, m, h or d", shown);
			return -1;
		}
		if (r == -2 || u > (unsigned long long)LLONG_MAX / mult) {
			secmx_errf(why, whylen, "%s is too large", shown);
			return -1;
		}
		if (check_bounds(k, (long long)(u * mult), shown, why, whylen) < 0)
			return -1;
		*(long long *)f = (long long)(u * mult);
		return 0;
	}
	case CONFIG_ENUM: {
		int i;

		for (i = 0; k->values != NULL && k->values[i] != NULL; i++) {
			if (strcmp(v, k->values[i]) == 0) {
				*(int *)f = i;
				return 0;
			}
		}
		{
			char allowed[256];
			size_t n = 0;

			allowed[0] = '\0';
			for (i = 0; k->values != NULL && k->values[i] != NULL; i++)
				if (n < sizeof(allowed))
					n += (size_t)snprintf(allowed + n, sizeof(allowed) - n,
					                      "%s%s", i ? ", " : "", k->values[i]);
			secmx_errf(why, whylen, "%s is not one of: %s", shown, allowed);
		}
		return -1;
	}
	case CONFIG_LIST:
		return parse_list(k, v, f, why, whylen);
	}
	secmx_errf(why, whylen, "unknown type %d in the table", (int)k->type);
	return -1;
}

/*
 * check_path: the effective path P of key K exists and, for a secret path,
 * is a regular file owned by us or root that nobody else may read.
 */
static int check_path(const struct config_key *k, const char *p, char *why, size_t whylen)
{
	struct stat st;

	if (stat(p, &st) != 0) {
		if (errno == ENOENT && (k->flags & CONFIG_CREATE))
			return 0;
		secmx_errf(why, whylen, "%s: %s", p, strerror(errno));
		return -1;
	}
	if (k->type != CONFIG_SECRET_PATH)
		return 0;
	if (!S_ISREG(st.st_mode)) {
		secmx_errf(why, whylen, "%s is not a regular file", p);
		return -1;
	}
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		secmx_errf(why, whylen, "%s is owned by uid %lu, not by us (uid %lu) or root", p,
		           (unsigned long)st.st_uid, (unsigned long)geteuid());
		return -1;
	}
	if (st.st_mode & 077) {
		secmx_errf(why, whylen,
		           "%s has mode %04o: group or others may use this secret; "
		           "run: chmod 600 %s",
		           p, (unsigned)(st.st_mode & 07777), p);
		return -1;
	}
	return 0;
}

/* fail: record the first error of a parse as "FILE:LINE: WHAT: WHY". */
static void fail(struct parse *ps, int rc, int line, const char *what, const char *why)
{
	if (ps->failed)
		return;
	ps->failed = 1;
	ps->rc = rc;
	if (line > 0)
		secmx_errf(ps->err, ps->errlen, "%s:%d: %s: %s", ps->file, line, what, why);
	else
		secmx_errf(ps->err, ps->errlen, "%s: %s: %s", ps->file, what, why);
}

/* section_known: does any key live in section NAME (N bytes)? */
static int section_known(const struct rtable *rt, const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < rt->n; i++)
		if (strlen(rt->keys[i].k->section) == n &&
		    strncmp(rt->keys[i].k->section, name, n) == 0)
			return 1;
	return 0;
}

/* reader: libinih's fgets; one line per call, counted, checked. */
static char *reader(char *str, int num, void *stream)
{
	struct parse *ps = stream;
	const char *p = ps->pos, *nl, *e;
	size_t n, max = num > 4 ? (size_t)num - 4 : 0;

	if (ps->failed || p >= ps->end)
		return NULL;
	nl = memchr(p, '\n', (size_t)(ps->end - p));
	e = nl ? nl : ps->end;
	ps->pos = nl ? nl + 1 : ps->end;
	ps->line++;
	/* A UTF-8 byte order mark is not part of the first line. */
	if (ps->line == 1 && e - p >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	/* Leading blanks go: libinih would take an indented line for the
	 * continuation of the value above. */
	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	n = (size_t)(e - p);
	if (n > 0 && p[n - 1] == '\r')
		n--;
	if (n > max) {
		char why[64];

		snprintf(why, sizeof(why), "line longer than %zu bytes", max);
		fail(ps, SECMX_ECONFIG, ps->line, "line", why);
		return NULL;
	}
	/* Syntax is checked here too, so that the first error in the file is the
	 * one reported (libinih goes on after a bad line and calls the handler
	 * for later ones, which may fail first in our bookkeeping). */
	if (n > 0 && p[0] != ';' && p[0] != '#' && p[0] != '[' && memchr(p, '=', n) == NULL &&
	    memchr(p, ':', n) == NULL) {
		fail(ps, SECMX_ECONFIG, ps->line, "line",
		     "syntax error: expected [section], key = value, or a comment");
		return NULL;
	}
	if (n > 0 && p[0] == '[') {
		const char *close = memchr(p, ']', n);

		if (close == NULL) {
			fail(ps, SECMX_ECONFIG, ps->line, "line",
			     "syntax error: a [section] header needs its closing ]");
			return NULL;
		}
		if (!section_known(ps->rt, p + 1, (size_t)(close - p - 1))) {
			int show = (int)(close - p - 1 > 64 ? 64 : close - p - 1);
			char what[80];

			snprintf(what, sizeof(what), "[%.*s]", show, p + 1);
			fail(ps, SECMX_ECONFIG, ps->line, what, "unknown section");
			return NULL;
		}
	}
	memcpy(str, p, n);
	str[n] = '\n';
	str[n + 1] = '\0';
	return str;
}

/* handler: libinih's callback for one key = value on line ps->line. */
static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse *ps = user;
	char what[128], why[512];
	size_t i;
	int rc;

	if (ps->failed)
		return 0;
	snprintf(what, sizeof(what), "%s%s%s", section, *section ? "." : "", name);
	if (*section == '\0') {
		fail(ps, SECMX_ECONFIG, ps->line, what, "key outside any [section]");
		return 0;
	}
	for (i = 0; i < ps->rt->n; i++)
		if (strcmp(ps->rt->keys[i].k->section, section) == 0 &&
		    strcmp(ps->rt->keys[i].k->name, name) == 0)
			break;
	if (i == ps->rt->n) {
		fail(ps, SECMX_ECONFIG, ps->line, what, "unknown key");
		return 0;
	}
	if (ps->seen[i]) {
		snprintf(why, sizeof(why), "duplicate key (first set on line %d)", ps->seen[i]);
		fail(ps, SECMX_ECONFIG, ps->line, what, why);
		return 0;
	}
	ps->seen[i] = ps->line;
	rc = parse_value(ps->rt->keys[i].k, value, field(&ps->rt->keys[i], ps->cfg), why,
	                 sizeof(why));
	if (rc < 0) {
		fail(ps, rc == -1 ? SECMX_ECONFIG : rc, ps->line, what, why);
		return 0;
	}
	return 1;
}

/* free_all: config_free over flattened keys. */
static void free_all(const struct rtable *rt, void *cfg)
{
	size_t i;

	for (i = 0; i < rt->n; i++)
		value_free(rt->keys[i].k, field(&rt->keys[i], cfg));
}

/* check_table: the table's own mistakes (a bug in the program, not the file). */
static int check_table(const struct rtable *rt, char *err, size_t errlen)
{
	size_t i, j;

	for (i = 0; i < rt->n; i++) {
		const struct config_key *k = rt->keys[i].k;
		const char *bug = NULL;

		for (j = 0; j < i && bug == NULL; j++)
			if (strcmp(rt->keys[j].k->section, k->section) == 0 &&
			    strcmp(rt->keys[j].k->name, k->name) == 0)
				bug = "listed twice";
		if (bug == NULL && k->min > k->max && k->type != CONFIG_LIST)
			bug = "min is above max";
		if (bug == NULL && k->type == CONFIG_LIST && k->max > 0 && k->min > k->max)
			bug = "min is above max";
		if (bug == NULL && k->type == CONFIG_ENUM && (k->values == NULL || !k->values[0]))
			bug = "an enum without values";
		if (bug != NULL) {
			secmx_errf(err, errlen, "%s.%s: bad table: %s", k->section, k->name, bug);
			return SECMX_EINTERNAL;
		}
	}
	return 0;
}

/* apply_defaults: parse every key's default into CFG (zeroed by the caller). */
static int apply_defaults(const struct rtable *rt, void *cfg, char *err, size_t errlen)
{
	char why[512];
	size_t i;
	int rc;

	if ((rc = check_table(rt, err, errlen)) < 0)
		return rc;
	for (i = 0; i < rt->n; i++) {
		const struct config_key *k = rt->keys[i].k;

		if (k->def == NULL)
			continue;
		rc = parse_value(k, k->def, field(&rt->keys[i], cfg), why, sizeof(why));
		if (rc == SECMX_ENOMEM)
			return rc;
		if (rc < 0) {
			secmx_errf(err, errlen, "%s.%s: bad default in the table: %s", k->section,
			           k->name, why);
			return SECMX_EINTERNAL;
		}
	}
	return 0;
}

/* config_defaults: a table's defaults into OUT. */
int config_defaults(const struct config_table *t, void *out, char *err, size_t errlen)
{
	struct rtable rt = {NULL, 0};
	int rc;

	memset(out, 0, t->size);
	if ((rc = config__rtable_new(t, &rt)) < 0)
		return rc;
	if ((rc = apply_defaults(&rt, out, err, errlen)) < 0) {
		free_all(&rt, out);
		memset(out, 0, t->size);
	}
	free(rt.keys);
	return rc;
}

/* validate: checks on the whole effective configuration after parsing. */
static void validate(struct parse *ps, const struct stat *filest)
{
	char what[128], why[768];
	size_t i;

	for (i = 0; i < ps->rt->n && !ps->failed; i++) {
		const struct config_key *k = ps->rt->keys[i].k;
		const void *f = field(&ps->rt->keys[i], ps->cfg);
		int set = 1;

		snprintf(what, sizeof(what), "%s.%s%s", k->section, k->name,
		         ps->seen[i] ? "" : " (default)");
		if (config__is_string_type(k->type))
			set = *(char *const *)f != NULL;
		if ((k->flags & CONFIG_REQUIRED) && !ps->seen[i] && k->def == NULL)
			fail(ps, SECMX_ECONFIG, 0, what, "required, but not set");
		else if (set && (k->type == CONFIG_PATH || k->type == CONFIG_SECRET_PATH) &&
		         check_path(k, *(char *const *)f, why, sizeof(why)) < 0)
			fail(ps, SECMX_ECONFIG, ps->seen[i], what, why);
		else if ((k->flags & CONFIG_SECRET) && ps->seen[i] && (filest->st_mode & 077)) {
			snprintf(why, sizeof(why),
			         "a secret is set in a file with mode %04o; run: chmod 600 %s",
			         (unsigned)(filest->st_mode & 07777), ps->file);
			fail(ps, SECMX_ECONFIG, ps->seen[i], what, why);
		}
	}
}

/* config_key_refuse: a check's refusal at the line of SECTION.NAME. */
int config_key_refuse(struct config_where *w, const char *section, const char *name,
                      const char *fmt, ...)
{
	struct parse *ps = w->ps;
	char what[128], why[768];
	va_list ap;
	size_t i;
	int line = 0;

	for (i = 0; i < ps->rt->n; i++)
		if (strcmp(ps->rt->keys[i].k->section, section) == 0 &&
		    strcmp(ps->rt->keys[i].k->name, name) == 0)
			line = ps->seen[i];
	snprintf(what, sizeof(what), "%s.%s%s", section, name, line ? "" : " (default)");
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	fail(ps, SECMX_ECONFIG, line, what, why);
	return SECMX_ECONFIG;
}

/* config_curve_refuse: an adapter's CURVE keys, all or none (see common.h). */
int config_curve_refuse(struct config_where *w, const char *section, const char *endpoint,
                        const char *server_name, const char *server, const char *pub,
                        const char *sec)
{
	const char *first = server ? server_name : pub ? "public_key" : "secret_key";

	if ((server || pub || sec) && !(server && pub && sec))
		return config_key_refuse(w, section, first,
		                         "CURVE needs all three of %s.%s, %s.public_key and "
		                         "%s.secret_key",
		                         section, server_name, section, section);
	if (!server && endpoint && strncmp(endpoint, "tcp://", 6) == 0)
		return config_key_refuse(w, section, "endpoint",
		                         "tcp:// needs CURVE: %s.%s, %s.public_key and "
		                         "%s.secret_key",
		                         section, server_name, section, section);
	return 0;
}

/* run_checks: table T's check and its included tables' on the struct at BASE. */
static int run_checks(const struct config_table *t, const char *base, struct config_where *w)
{
	size_t i;
	int rc;

	if (t->check != NULL && (rc = t->check(base, w)) < 0)
		return rc;
	for (i = 0; i < t->nsubs; i++)
		if ((rc = run_checks(t->subs[i].table, base + t->subs[i].offset, w)) < 0)
			return rc;
	return 0;
}

/* load: parse FILE into a new staging struct *OUTP (caller frees). */
static int load(const struct config_table *t, const struct rtable *rt, const char *file,
                void **outp, char *err, size_t errlen)
{
	struct parse ps;
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	int rc, irc;

	*outp = NULL;
	memset(&ps, 0, sizeof(ps));
	ps.file = file;
	ps.rt = rt;
	ps.err = err;
	ps.errlen = errlen;
	rc = secmx_file_read(file, CONFIG_FILE_MAX, &text, &len);
	if (rc == SECMX_ELIMIT) {
		secmx_errf(err, errlen, "%s: larger than %u bytes", file, CONFIG_FILE_MAX);
		rc = SECMX_ECONFIG;
		goto done;
	}
	if (rc < 0) {
		secmx_errf(err, errlen, "%s: %s", file,
		           rc == SECMX_EIO ? strerror(errno) : secmx_strerror(rc));
		goto done;
	}
	if (stat(file, &st) != 0) {
		secmx_errf(err, errlen, "%s: %s", file, strerror(errno));
		rc = SECMX_EIO;
		goto done;
	}
	if (memchr(text, '\0', len) != NULL) {
		const char *z = memchr(text, '\0', len), *p;
		int line = 1;

		for (p = text; p < z; p++)
			line += *p == '\n';
		secmx_errf(err, errlen, "%s:%d: line: contains a NUL byte", file, line);
		rc = SECMX_ECONFIG;
		goto done;
	}
	rc = SECMX_ENOMEM;
	if ((ps.cfg = calloc(1, t->size ? t->size : 1)) == NULL)
		goto done;
	if ((ps.seen = calloc(rt->n ? rt->n : 1, sizeof(int))) == NULL)
		goto done;
	if ((rc = apply_defaults(rt, ps.cfg, err, errlen)) < 0)
		goto done;
	ps.pos = text;
	ps.end = text + len;
	irc = ini_parse_stream(reader, &ps, handler, &ps);
	if (!ps.failed && irc == -2)
		fail(&ps, SECMX_ENOMEM, 0, "file", "out of memory");
	else if (!ps.failed && irc != 0)
		fail(&ps, SECMX_ECONFIG, irc, "line",
		     "syntax error: expected [section], key = value, or a comment");
	if (!ps.failed)
		validate(&ps, &st);
	if (!ps.failed) {
		struct config_where w = {&ps};

		/* A check that fails without refusing is a bug in the table. */
		if ((rc = run_checks(t, ps.cfg, &w)) < 0 && !ps.failed)
			fail(&ps, rc, 0, "check", secmx_strerror(rc));
	}
	if (ps.failed) {
		rc = ps.rc;
		goto done;
	}
	*outp = ps.cfg;
	ps.cfg = NULL;
	rc = 0;
done:
	if (ps.cfg != NULL) {
		free_all(rt, ps.cfg);
		free(ps.cfg);
	}
	free(ps.seen);
	free(text);
	return rc;
}

/* config_load: FILE into OUT, all or nothing. */
int config_load(const struct config_table *t, const char *file, void *out, char *err, size_t errlen)
{
	struct rtable rt = {NULL, 0};
	void *cfg = NULL;
	int rc;

	if ((rc = config__rtable_new(t, &rt)) < 0)
		return rc;
	if ((rc = load(t, &rt, file, &cfg, err, errlen)) == 0) {
		memcpy(out, cfg, t->size);
		free(cfg);
	}
	free(rt.keys);
	return rc;
}

/* config_reload: reloadable keys from FILE, the others from CUR. */
int config_reload(const struct config_table *t, const char *file, const void *cur, void *next,
                  char *restart, size_t restartlen, char *err, size_t errlen)
{
	struct rtable rt = {NULL, 0};
	void *cfg = NULL;
	size_t i, used = 0;
	int rc, changed = 0;

	if (restart != NULL && restartlen > 0)
		restart[0] = '\0';
	if ((rc = config__rtable_new(t, &rt)) < 0)
		return rc;
	if ((rc = load(t, &rt, file, &cfg, err, errlen)) < 0)
		goto done;
	for (i = 0; i < rt.n; i++) {
		const struct config_key *k = rt.keys[i].k;
		void *nf = field(&rt.keys[i], cfg);
		const void *cf = cfield(&rt.keys[i], cur);

		if ((k->flags & CONFIG_RELOAD) || value_equal(k, nf, cf))
			continue;
		changed++;
		if (restart != NULL && used < restartlen)
			used += (size_t)snprintf(restart + used, restartlen - used, "%s%s.%s",
			                         used ? " " : "", k->section, k->name);
		if ((rc = value_copy(k, nf, cf)) < 0) {
			secmx_errf(err, errlen, "%s: out of memory", file);
			goto done;
		}
	}
	memcpy(next, cfg, t->size);
	free(cfg);
	cfg = NULL;
	rc = changed;
done:
	if (cfg != NULL) {
		free_all(&rt, cfg);
		free(cfg);
	}
	free(rt.keys);
	return rc;
}

/* config_free: release CFG's strings and lists. */
void config_free(const struct config_table *t, void *cfg)
{
	struct rtable rt = {NULL, 0};
	size_t i;

	if (cfg == NULL)
		return;
	/* Without memory for the flat list, walk the tables directly. */
	if (config__rtable_new(t, &rt) < 0) {
		for (i = 0; i < t->nkeys; i++)
			value_free(&t->keys[i], (char *)cfg + t->keys[i].offset);
		for (i = 0; i < t->nsubs; i++)
			config_free(t->subs[i].table, (char *)cfg + t->subs[i].offset);
		return;
	}
	free_all(&rt, cfg);
	free(rt.keys);
}
