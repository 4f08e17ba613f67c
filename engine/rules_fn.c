/*
 * rules_fn.c — the XPath extension functions of the rule stage
 * (namespace urn:secmx:functions, prefix "secmx" in rule files), and the
 * C helpers behind them: exact decimal arithmetic, check digits, calendar
 * dates, code lists, XML Schema regular expressions and string helpers.
 *
 * Functions (docs/rules.md has signatures and semantics):
 *   decimals   dec-valid dec-add dec-sub dec-mul dec-sum dec-round dec-abs
 *              dec-cmp dec-eq
 *   text       matches upper-case lower-case ends-with trim string-join
 *              distinct-count empty-leaves
 *   codes      in-codelist check-digit
 *   dates      date-valid date-cmp
 *   unprefixed current() (XSLT: the rule's context node)
 *
 * Decimal values never pass through binary floating point: they are parsed
 * into a 128-bit integer and a decimal scale. A value that is not a decimal,
 * or an overflow, yields the string "NaN" (arithmetic) or NaN (dec-cmp) and
 * false (dec-eq, dec-valid): a comparison against it can never succeed, so an
 * assert over a broken amount fails rather than passes.
 *
 * Errors: wrong arity or an unknown code list / check-digit scheme / a bad
 * regular expression raise an XPath error; the rule stage turns that into a
 * SECMX-RULE-ERROR finding naming the rule (st->fn_err says why).
 *
 * Thread safety: the functions read the shared code lists; compiled regular
 * expressions are cached per engine under a mutex and only read afterwards
 * (xmlRegexpExec keeps its state on the stack of the caller).
 * Limits: upper-case/lower-case change ASCII letters only (XXX: the code
 * values they serve are ASCII; full Unicode case mapping is not needed yet).
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules_int.h"

/* ---- decimals ---- */

static const __int128 I128_MAX = (__int128)(((unsigned __int128)1 << 127) - 1);

/* pow10_128: 10^N for N in 0..38 (no overflow for that range). */
static __int128 pow10_128(int n)
{
	__int128 p = 1;

	while (n-- > 0)
		p *= 10;
	return p;
}

/* engine__dec_parse: see rules_int.h (xs:decimal lexical form, no exponent). */
int engine__dec_parse(const char *s, struct secmx_dec *d)
{
	__int128 m = 0;
	int neg = 0, scale = 0, digits = 0, frac = 0;

	if (s == NULL)
		return SECMX_EINVAL;
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	for (; *s; s++) {
		if (*s == '.' && !frac) {
			frac = 1;
			continue;
		}
		if (*s < '0' || *s > '9')
			break;
		digits++;
		if (__builtin_mul_overflow(m, 10, &m) || __builtin_add_overflow(m, *s - '0', &m))
			return SECMX_ELIMIT;
		if (frac && ++scale > SECMX_DEC_MAX_SCALE)
			return SECMX_ELIMIT;
	}
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	if (*s != '\0' || digits == 0)
		return SECMX_EINVAL;
	d->m = neg ? -m : m;
	d->scale = scale;
	return SECMX_OK;
}

/* engine__dec_format: D as a decimal string with exactly D->scale places. */
void engine__dec_format(const struct secmx_dec *d, char *buf, size_t len)
{
	char tmp[64];
	unsigned __int128 u = d->m < 0 ? (unsigned __int128)0 - (unsigned __int128)d->m :
					 (unsigned __int128)d->m;
	int n = 0, i;
	size_t o = 0;

	do {
		tmp[n++] = (char)('0' + (int)(u % 10));
		u /= 10;
	} while (u != 0 || n <= d->scale);
	if (d->m < 0 && o + 1 < len)
		buf[o++] = '-';
	for (i = n - 1; i >= 0 && o + 1 < len; i--) {
		buf[o++] = tmp[i];
		if (i == d->scale && i > 0 && o + 1 < len)
			buf[o++] = '.';
	}
	buf[o] = '\0';
}

/* rescale: A's mantissa at SCALE (>= A's); SECMX_ELIMIT on overflow. */
static int rescale(const struct secmx_dec *a, int scale, __int128 *out)
{
	if (scale - a->scale > 38)
		return SECMX_ELIMIT;
	if (__builtin_mul_overflow(a->m, pow10_128(scale - a->scale), out))
		return SECMX_ELIMIT;
	return SECMX_OK;
}

/* engine__dec_add: exact sum at the larger scale. */
int engine__dec_add(const struct secmx_dec *a, const struct secmx_dec *b, struct secmx_dec *r)
{
	int scale = a->scale > b->scale ? a->scale : b->scale;
	__int128 x, y, m;

	if (rescale(a, scale, &x) < 0 || rescale(b, scale, &y) < 0 ||
	    __builtin_add_overflow(x, y, &m))
		return SECMX_ELIMIT;
	r->m = m;
	r->scale = scale;
	return SECMX_OK;
}

/* engine__dec_sub: exact difference at the larger scale. */
int engine__dec_sub(const struct secmx_dec *a, const struct secmx_dec *b, struct secmx_dec *r)
{
	struct secmx_dec nb = *b;

	if (b->m == -I128_MAX - 1)
		return SECMX_ELIMIT;
	nb.m = -b->m;
	return engine__dec_add(a, &nb, r);
}

/* strip: drop trailing fractional zeros while the scale exceeds MAXS. */
static void strip(struct secmx_dec *d, int maxs)
{
	while (d->scale > maxs && d->m % 10 == 0) {
		d->m /= 10;
		d->scale--;
	}
}

/* engine__dec_mul: exact product (see docs/rules.md for the scale shown). */
int engine__dec_mul(const struct secmx_dec *a, const struct secmx_dec *b, struct secmx_dec *r)
{
	struct secmx_dec x = *a, y = *b;
	__int128 m;

	/* Trailing zeros carry no value; dropping them first widens the range. */
	strip(&x, 0);
	strip(&y, 0);
	if (__builtin_mul_overflow(x.m, y.m, &m) || x.scale + y.scale > SECMX_DEC_MAX_SCALE)
		return SECMX_ELIMIT;
	r->m = m;
	r->scale = x.scale + y.scale;
	/* Show the larger scale of the inputs when that is exact ("2.00" x "1.5" =
	 * "3.00"); more places only when the product needs them. */
	strip(r, a->scale > b->scale ? a->scale : b->scale);
	if (r->scale < (a->scale > b->scale ? a->scale : b->scale)) {
		__int128 up;
		int want = a->scale > b->scale ? a->scale : b->scale;
		if (rescale(r, want, &up) == 0) {
			r->m = up;
			r->scale = want;
		}
	}
	return SECMX_OK;
}

/* engine__dec_round: A rounded to PLACES decimals by MODE. */
int engine__dec_round(const struct secmx_dec *a, int places, enum secmx_round mode,
		      struct secmx_dec *r)
{
	__int128 div, q, rem, twice;
	int up = 0;

	if (places < 0 || places > SECMX_DEC_MAX_SCALE)
		return SECMX_EINVAL;
	if (places >= a->scale) {
		r->scale = places;
		return rescale(a, places, &r->m);
	}
	div = pow10_128(a->scale - places);
	q = a->m / div;
	rem = a->m % div; /* same sign as a->m */
	if (rem < 0)
		rem = -rem;
	twice = rem * 2; /* rem < div <= 10^30: no overflow */
	switch (mode) {
	case SECMX_ROUND_HALF_UP:
		up = twice >= div;
		break;
	case SECMX_ROUND_HALF_EVEN:
		up = twice > div || (twice == div && (q % 2 != 0));
		break;
	case SECMX_ROUND_HALF_CEILING:
		up = a->m >= 0 ? twice >= div : twice > div;
		break;
	case SECMX_ROUND_DOWN:
		up = 0;
		break;
	}
	if (up)
		q += a->m < 0 ? -1 : 1;
	r->m = q;
	r->scale = places;
	return SECMX_OK;
}

/* engine__dec_cmp: the sign of A - B into *OUT. */
int engine__dec_cmp(const struct secmx_dec *a, const struct secmx_dec *b, int *out)
{
	struct secmx_dec d;

	if (engine__dec_sub(a, b, &d) < 0)
		return SECMX_ELIMIT;
	*out = d.m < 0 ? -1 : d.m > 0 ? 1 : 0;
	return SECMX_OK;
}

/* ---- check digits ---- */

/* digits_only: copy VALUE's digits into OUT (skipping characters in SKIP);
 * -1 if anything else is found or it is too long. */
static int digits_only(const char *value, const char *skip, char *out, size_t cap)
{
	size_t n = 0;

	for (; *value; value++) {
		if (*value >= '0' && *value <= '9') {
			if (n + 1 >= cap)
				return -1;
			out[n++] = *value;
		} else if (skip == NULL || strchr(skip, *value) == NULL) {
			return -1;
		}
	}
	out[n] = '\0';
	return (int)n;
}

/* gs1: GS1 mod 10 (GLN, GTIN, NZBN), the last digit checks the rest. */
static int gs1(const char *v)
{
	char d[32];
	int n = digits_only(v, NULL, d, sizeof(d)), i, sum = 0, w = 3;

	if (n < 2)
		return 0;
	for (i = n - 2; i >= 0; i--, w = 4 - w)
		sum += (d[i] - '0') * w;
	return (10 - sum % 10) % 10 == d[n - 1] - '0';
}

/* luhn: ISO/IEC 7812 mod 10. */
static int luhn(const char *v)
{
	char d[64];
	int n = digits_only(v, NULL, d, sizeof(d)), i, sum = 0, dbl = 0;

	if (n < 2)
		return 0;
	for (i = n - 1; i >= 0; i--, dbl = !dbl) {
		int x = (d[i] - '0') * (dbl ? 2 : 1);
		sum += x > 9 ? x - 9 : x;
	}
	return sum % 10 == 0;
}

/* mod97: the value (digits, or letters A=10..Z=35) modulo 97; -1 if invalid. */
static int mod97(const char *v, size_t start, size_t len)
{
	size_t i, k;
	int r = 0;

	for (k = 0; k < len; k++) {
		unsigned char c = (unsigned char)v[(start + k) % len];
		if (c >= '0' && c <= '9') {
			r = (r * 10 + (c - '0')) % 97;
		} else if (c >= 'A' && c <= 'Z') {
			i = (size_t)(c - 'A' + 10);
			r = (int)((r * 100 + (int)i) % 97);
		} else {
			return -1;
		}
	}
	return r;
}

/* iso7064_97: ISO 7064 MOD 97-10 over digits/letters: the whole value mod 97 is 1. */
static int iso7064_97(const char *v)
{
	size_t n = strlen(v);

	return n >= 3 && mod97(v, 0, n) == 1;
}

/* iban: ISO 13616: 2 letters, 2 check digits, BBAN; rotated value mod 97 is 1. */
static int iban(const char *v)
{
	size_t n = strlen(v);

	if (n < 5 || n > 34 || !isupper((unsigned char)v[0]) || !isupper((unsigned char)v[1]) ||
	    !isdigit((unsigned char)v[2]) || !isdigit((unsigned char)v[3]))
		return 0;
	return mod97(v, 4, n) == 1;
}

/* abn: Australian Business Number, 11 digits, weighted sum mod 89 (spaces allowed). */
static int abn(const char *v)
{
	static const int W[11] = {10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19};
	char d[16];
	int i, sum = 0;

	if (digits_only(v, " ", d, sizeof(d)) != 11 || d[0] == '0')
		return 0;
	for (i = 0; i < 11; i++)
		sum += ((d[i] - '0') - (i == 0 ? 1 : 0)) * W[i];
	return sum % 89 == 0;
}

/* nz_ird: NZ IRD / GST number, 8 or 9 digits (hyphens and spaces allowed), mod 11
 * with the primary weights, then the secondary weights when the first gives 10. */
static int nz_ird(const char *v)
{
	static const int W1[8] = {3, 2, 7, 6, 5, 4, 3, 2};
	static const int W2[8] = {7, 4, 3, 2, 5, 2, 7, 6};
	char raw[16], d[16];
	int n = digits_only(v, "- ", raw, sizeof(raw)), i, sum, chk;
	long num;

	if (n != 8 && n != 9)
		return 0;
	d[0] = '0';
	memcpy(d + (n == 8), raw, (size_t)n + 1);
	num = strtol(d, NULL, 10);
	if (num <= 10000000L || num >= 150000000L)
		return 0;
	for (sum = 0, i = 0; i < 8; i++)
		sum += (d[i] - '0') * W1[i];
	chk = sum % 11 == 0 ? 0 : 11 - sum % 11;
	if (chk == 10) {
		for (sum = 0, i = 0; i < 8; i++)
			sum += (d[i] - '0') * W2[i];
		chk = sum % 11 == 0 ? 0 : 11 - sum % 11;
		if (chk == 10)
			return 0;
	}
	return chk == d[8] - '0';
}

/* fixed_digits: VALUE is exactly N digits (copied to OUT, cap 32). */
static int fixed_digits(const char *v, int n, char *out)
{
	return digits_only(v, NULL, out, 32) == n;
}

/* no_orgnr: Norwegian organisation number, 9 digits, mod 11 with weights 2..7
 * repeating from the right; a remainder giving 10 is never valid; not all zero. */
static int no_orgnr(const char *v)
{
	char d[32];
	int i, sum = 0, zero = 1;

	if (!fixed_digits(v, 9, d))
		return 0;
	for (i = 7; i >= 0; i--) {
		sum += (d[i] - '0') * ((7 - i) % 6 + 2);
		zero &= d[i] == '0';
	}
	return !(zero && d[8] == '0') && (11 - sum % 11) % 11 == d[8] - '0';
}

/* be_enterprise: Belgian enterprise number (ICD 0208), 10 digits: the last two
 * are 97 minus the first eight modulo 97. */
static int be_enterprise(const char *v)
{
	char d[32];
	long head;

	if (!fixed_digits(v, 10, d))
		return 0;
	head = (long)mod97(d, 0, 8);
	return 97 - head == (d[8] - '0') * 10 + (d[9] - '0');
}

/* se_orgnr: Swedish organisation number, 10 digits, Luhn check digit. */
static int se_orgnr(const char *v)
{
	char d[32];

	return fixed_digits(v, 10, d) && luhn(d);
}

/* it_piva: Italian VAT number (partita IVA), 11 digits, Luhn check digit. */
static int it_piva(const char *v)
{
	char d[32];

	return fixed_digits(v, 11, d) && luhn(d);
}

/* dk_cvr: Danish CVR number, 8 digits (an optional DK prefix is skipped),
 * weights 2,7,6,5,4,3,2,1, weighted sum divisible by 11. */
static int dk_cvr(const char *v)
{
	static const int W[8] = {2, 7, 6, 5, 4, 3, 2, 1};
	char d[32];
	int i, sum = 0;

	if (strncmp(v, "DK", 2) == 0)
		v += 2;
	if (!fixed_digits(v, 8, d) || d[0] == '0')
		return 0;
	for (i = 0; i < 8; i++)
		sum += (d[i] - '0') * W[i];
	return sum % 11 == 0;
}

/* gr_tin: Greek tax number (AFM), 9 digits: weights 256..2 on the first eight,
 * (sum mod 11) mod 10 is the ninth. */
static int gr_tin(const char *v)
{
	char d[32];
	int i, sum = 0;

	if (!fixed_digits(v, 9, d))
		return 0;
	for (i = 0; i < 8; i++)
		sum += (d[i] - '0') << (8 - i);
	return sum % 11 % 10 == d[8] - '0';
}

/* engine__check_digit: dispatch VALUE to the check of SCHEME. */
int engine__check_digit(const char *value, const char *scheme)
{
	static const struct {
		const char *name;
		int (*fn)(const char *);
	} S[] = {
		{"gs1", gs1},   {"gln", gs1},   {"nzbn", gs1},  {"luhn", luhn},
		{"mod97-10", iso7064_97},       {"iban", iban}, {"abn", abn},
		{"nz-ird", nz_ird},             {"nz-gst", nz_ird},
		{"no-orgnr", no_orgnr},         {"be-enterprise", be_enterprise},
		{"se-orgnr", se_orgnr},         {"it-piva", it_piva},
		{"dk-cvr", dk_cvr},             {"gr-tin", gr_tin},
	};
	size_t i;

	for (i = 0; i < sizeof(S) / sizeof(S[0]); i++)
		if (strcmp(S[i].name, scheme) == 0)
			return value != NULL && *value != '\0' ? S[i].fn(value) : 0;
	return SECMX_EINVAL;
}

/* ---- dates ---- */

/* two: the two decimal digits at S as a number, or -1. */
static int two(const char *s)
{
	return isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) ?
		       (s[0] - '0') * 10 + (s[1] - '0') : -1;
}

/* engine__date_parse: see rules_int.h. */
int engine__date_parse(const char *s, long *key)
{
	static const int DAYS[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, m, d, i, leap, tzh, tzm;

	if (s == NULL || strlen(s) < 10)
		return SECMX_EINVAL;
	for (i = 0; i < 4; i++)
		if (!isdigit((unsigned char)s[i]))
			return SECMX_EINVAL;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	if (s[4] != '-' || s[7] != '-' || (m = two(s + 5)) < 1 || m > 12 || (d = two(s + 8)) < 1)
		return SECMX_EINVAL;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (y == 0 || d > DAYS[m - 1] + (m == 2 && leap))
		return SECMX_EINVAL;
	s += 10;
	if (*s == 'Z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		if (strlen(s) != 6 || s[3] != ':' || (tzh = two(s + 1)) < 0 ||
		    (tzm = two(s + 4)) < 0 || tzm > 59 || tzh > 14 || (tzh == 14 && tzm != 0))
			return SECMX_EINVAL;
		s += 6;
	}
	if (*s != '\0')
		return SECMX_EINVAL;
	*key = (long)y * 10000 + m * 100 + d;
	return SECMX_OK;
}

/* ---- code lists ---- */

/* cmp_str: qsort/bsearch comparison of C string pointers. */
static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* engine__codelist_load: read PATH (one code per line) into LIB as list NAME. */
int engine__codelist_load(struct engine__fnlib *lib, const char *name, const char *path, char *err,
			  size_t errlen)
{
	struct codelist cl = {0};
	size_t i, cap = 0, len = 0, nlists = lib->nlists;
	char *p, *line, *save = NULL;
	int rc;

	for (i = 0; i < nlists; i++) {
		if (strcmp(lib->lists[i].name, name) != 0)
			continue;
		if (strcmp(lib->lists[i].path, path) == 0)
			return SECMX_OK;
		secmx_errf(err, errlen, "code list %s: declared from %s and from %s", name,
			   lib->lists[i].path, path);
		return SECMX_ECONFIG;
	}
	if (nlists == CODELIST_MAX) {
		secmx_errf(err, errlen, "code list %s: more than %d code lists", name, CODELIST_MAX);
		return SECMX_ECONFIG;
	}
	if ((rc = secmx_file_read(path, 16u << 20, &cl.blob, &len)) < 0) {
		secmx_errf(err, errlen, "code list %s: cannot read %s", name, path);
		return rc == SECMX_ENOMEM ? rc : SECMX_ECONFIG;
	}
	for (line = strtok_r(cl.blob, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *e;

		while (*line == ' ' || *line == '\t' || *line == '\r')
			line++;
		if ((p = strchr(line, '#')) != NULL)
			*p = '\0';
		e = line + strlen(line);
		while (e > line && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			*--e = '\0';
		if (*line == '\0')
			continue;
		if (cl.n == cap) {
			char **nc = realloc(cl.codes, (cap = cap ? cap * 2 : 256) * sizeof(*nc));
			if (nc == NULL)
				goto oom;
			cl.codes = nc;
		}
		cl.codes[cl.n++] = line;
	}
	if (cl.n > 0)
		qsort(cl.codes, cl.n, sizeof(*cl.codes), cmp_str);
	cl.name = strdup(name);
	cl.path = strdup(path);
	if (cl.name == NULL || cl.path == NULL)
		goto oom;
	/* The slot first, then the count that makes readers look at it. */
	lib->lists[nlists] = cl;
	lib->nlists = nlists + 1;
	return SECMX_OK;
oom:
	free(cl.name);
	free(cl.path);
	free(cl.codes);
	free(cl.blob);
	return SECMX_ENOMEM;
}

/* engine__fnlib_init: an empty library with its regex-cache mutex. */
int engine__fnlib_init(struct engine__fnlib *lib)
{
	memset(lib, 0, sizeof(*lib));
	if ((lib->lists = calloc(CODELIST_MAX, sizeof(*lib->lists))) == NULL)
		return SECMX_ENOMEM;
	if (pthread_mutex_init(&lib->re_lock, NULL) != 0) {
		free(lib->lists);
		lib->lists = NULL;
		return SECMX_EINTERNAL;
	}
	return SECMX_OK;
}

/* engine__fnlib_free: release code lists and cached regular expressions. */
void engine__fnlib_free(struct engine__fnlib *lib)
{
	size_t i;

	for (i = 0; i < lib->nlists; i++) {
		free(lib->lists[i].name);
		free(lib->lists[i].path);
		free(lib->lists[i].codes);
		free(lib->lists[i].blob);
	}
	free(lib->lists);
	for (i = 0; i < lib->nre; i++) {
		free(lib->re[i].pattern);
		xmlRegFreeRegexp(lib->re[i].re);
	}
	pthread_mutex_destroy(&lib->re_lock);
	memset(lib, 0, sizeof(*lib));
}

/* ---- the XPath functions ---- */

#define ST(ctxt) ((struct rules_eval *)(ctxt)->context->funcLookupData)

/* fail: raise an XPath error carrying WHY for the finding. */
static void fail(xmlXPathParserContextPtr ctxt, const char *why)
{
	struct rules_eval *st = ST(ctxt);

	if (st != NULL && st->fn_err[0] == '\0')
		secmx_strlcpy(st->fn_err, why, sizeof(st->fn_err));
	xmlXPathErr(ctxt, XPATH_INVALID_OPERAND);
}

/* pop_str: the top of the stack as a new C string (free with xmlFree); NULL on error. */
static char *pop_str(xmlXPathParserContextPtr ctxt)
{
	return (char *)xmlXPathPopString(ctxt);
}

/* pop_strs: N string arguments in call order into OUT; 0 or -1 (already raised). */
static int pop_strs(xmlXPathParserContextPtr ctxt, int n, char **out)
{
	int i;

	for (i = n - 1; i >= 0; i--)
		out[i] = NULL;
	for (i = n - 1; i >= 0; i--) {
		out[i] = pop_str(ctxt);
		if (out[i] == NULL || ctxt->error) {
			return -1;
		}
	}
	return 0;
}

/* free_strs: xmlFree N strings (NULL entries accepted). */
static void free_strs(char **s, int n)
{
	int i;

	for (i = 0; i < n; i++)
		xmlFree(s[i]);
}

/* push_dec: push D as a string, or "NaN" when not OK. */
static void push_dec(xmlXPathParserContextPtr ctxt, const struct secmx_dec *d, int ok)
{
	char buf[64];

	if (ok)
		engine__dec_format(d, buf, sizeof(buf));
	else
		secmx_strlcpy(buf, "NaN", sizeof(buf));
	xmlXPathReturnString(ctxt, xmlStrdup((const xmlChar *)buf));
}

#define ARITY(lo, hi)                                                                    \
	do {                                                                             \
		if (nargs < (lo) || nargs > (hi)) {                                      \
			xmlXPathSetArityError(ctxt);                                     \
			return;                                                          \
		}                                                                        \
	} while (0)

/* secmx:dec-valid(s): is S a decimal (within range)? */
static void fn_dec_valid(xmlXPathParserContextPtr ctxt, int nargs)
{
	struct secmx_dec d;
	char *s;

	ARITY(1, 1);
	if ((s = pop_str(ctxt)) == NULL)
		return;
	xmlXPathReturnBoolean(ctxt, engine__dec_parse(s, &d) == 0);
	xmlFree(s);
}

/* dec_binop: the shared body of dec-add (variadic), dec-sub and dec-mul. */
static void dec_binop(xmlXPathParserContextPtr ctxt, int nargs, int op)
{
	char *a[16];
	struct secmx_dec acc, x;
	int ok = 1, i;

	if (nargs < 2 || nargs > (op == '+' ? 16 : 2)) {
		xmlXPathSetArityError(ctxt);
		return;
	}
	if (pop_strs(ctxt, nargs, a) < 0)
		goto out;
	ok = engine__dec_parse(a[0], &acc) == 0;
	for (i = 1; ok && i < nargs; i++) {
		ok = engine__dec_parse(a[i], &x) == 0;
		if (ok)
			ok = (op == '+' ? engine__dec_add(&acc, &x, &acc) :
			      op == '-' ? engine__dec_sub(&acc, &x, &acc) :
					  engine__dec_mul(&acc, &x, &acc)) == 0;
	}
	push_dec(ctxt, &acc, ok);
out:
	free_strs(a, nargs);
}

/* secmx:dec-add(a, b, ...). */
static void fn_dec_add(xmlXPathParserContextPtr ctxt, int nargs)
{
	dec_binop(ctxt, nargs, '+');
}

/* secmx:dec-sub(a, b). */
static void fn_dec_sub(xmlXPathParserContextPtr ctxt, int nargs)
{
	dec_binop(ctxt, nargs, '-');
}

/* secmx:dec-mul(a, b). */
static void fn_dec_mul(xmlXPathParserContextPtr ctxt, int nargs)
{
	dec_binop(ctxt, nargs, '*');
}

/* pop_nodeset: pop a node-set argument; libxml2 represents an empty node-set
 * by a NULL set, which becomes an empty set here. NULL only on an error (set).
 * Caller frees the result with xmlXPathFreeNodeSet(). */
static xmlNodeSetPtr pop_nodeset(xmlXPathParserContextPtr ctxt)
{
	xmlXPathObjectPtr obj = valuePop(ctxt);
	xmlNodeSetPtr ns;

	if (obj == NULL || (obj->type != XPATH_NODESET && obj->type != XPATH_XSLT_TREE)) {
		xmlXPathFreeObject(obj);
		xmlXPathSetTypeError(ctxt);
		return NULL;
	}
	ns = obj->nodesetval;
	obj->nodesetval = NULL;
	xmlXPathFreeObject(obj);
	if (ns == NULL && (ns = xmlXPathNodeSetCreate(NULL)) == NULL)
		xmlXPathSetError(ctxt, XPATH_MEMORY_ERROR);
	return ns;
}

/* secmx:dec-sum(node-set): the exact sum of the nodes' string values ("0" if empty). */
static void fn_dec_sum(xmlXPathParserContextPtr ctxt, int nargs)
{
	xmlNodeSetPtr ns;
	struct secmx_dec acc = {0, 0}, x;
	int ok = 1, i;

	ARITY(1, 1);
	if ((ns = pop_nodeset(ctxt)) == NULL)
		return;
	for (i = 0; ok && i < ns->nodeNr; i++) {
		xmlChar *s = xmlXPathCastNodeToString(ns->nodeTab[i]);
		ok = s != NULL && engine__dec_parse((const char *)s, &x) == 0 &&
		     engine__dec_add(&acc, &x, &acc) == 0;
		xmlFree(s);
	}
	xmlXPathFreeNodeSet(ns);
	push_dec(ctxt, &acc, ok);
}

/* secmx:dec-round(a, places [, mode]): A rounded; mode half-up (default),
 * half-even, half-ceiling, down. */
static void fn_dec_round(xmlXPathParserContextPtr ctxt, int nargs)
{
	char *a[3] = {NULL, NULL, NULL};
	struct secmx_dec x, r;
	enum secmx_round mode = SECMX_ROUND_HALF_UP;
	char *end = NULL;
	long places;
	int ok;

	ARITY(2, 3);
	if (pop_strs(ctxt, nargs, a) < 0)
		goto out;
	if (nargs == 3) {
		if (strcmp(a[2], "half-up") == 0)
			mode = SECMX_ROUND_HALF_UP;
		else if (strcmp(a[2], "half-even") == 0)
			mode = SECMX_ROUND_HALF_EVEN;
		else if (strcmp(a[2], "half-ceiling") == 0)
			mode = SECMX_ROUND_HALF_CEILING;
		else if (strcmp(a[2], "down") == 0)
			mode = SECMX_ROUND_DOWN;
		else {
			fail(ctxt, "dec-round: unknown rounding mode");
			goto out;
		}
	}
	places = strtol(a[1], &end, 10);
	if (end == a[1] || *end != '\0' || places < 0 || places > SECMX_DEC_MAX_SCALE) {
		fail(ctxt, "dec-round: places must be an integer 0..30");
		goto out;
	}
	ok = engine__dec_parse(a[0], &x) == 0 &&
	     engine__dec_round(&x, (int)places, mode, &r) == 0;
	push_dec(ctxt, &r, ok);
out:
	free_strs(a, nargs);
}

/* secmx:dec-abs(a): |A|. */
static void fn_dec_abs(xmlXPathParserContextPtr ctxt, int nargs)
{
	struct secmx_dec x;
	char *s;
	int ok;

	ARITY(1, 1);
	if ((s = pop_str(ctxt)) == NULL)
		return;
	ok = engine__dec_parse(s, &x) == 0;
	if (ok && x.m < 0)
		x.m = -x.m;
	push_dec(ctxt, &x, ok);
	xmlFree(s);
}

/* secmx:dec-cmp(a, b): -1, 0 or 1; NaN when either is not a decimal. */
static void fn_dec_cmp(xmlXPathParserContextPtr ctxt, int nargs)
{
	char *a[2];
	struct secmx_dec x, y;
	int c = 0, ok;

	ARITY(2, 2);
	if (pop_strs(ctxt, 2, a) == 0) {
		ok = engine__dec_parse(a[0], &x) == 0 && engine__dec_parse(a[1], &y) == 0 &&
		     engine__dec_cmp(&x, &y, &c) == 0;
		xmlXPathReturnNumber(ctxt, ok ? (double)c : NAN);
	}
	free_strs(a, 2);
}

/* secmx:dec-eq(a, b [, tolerance]): |A - B| <= TOLERANCE (default 0). */
static void fn_dec_eq(xmlXPathParserContextPtr ctxt, int nargs)
{
	char *a[3] = {NULL, NULL, NULL};
	struct secmx_dec x, y, t = {0, 0}, d;
	int c = 1, ok;

	ARITY(2, 3);
	if (pop_strs(ctxt, nargs, a) == 0) {
		ok = engine__dec_parse(a[0], &x) == 0 && engine__dec_parse(a[1], &y) == 0 &&
		     (nargs < 3 || engine__dec_parse(a[2], &t) == 0) &&
		     engine__dec_sub(&x, &y, &d) == 0;
		if (ok) {
			if (d.m < 0)
				d.m = -d.m;
			if (t.m < 0)
				t.m = -t.m;
			ok = engine__dec_cmp(&d, &t, &c) == 0;
		}
		xmlXPathReturnBoolean(ctxt, ok && c <= 0);
	}
	free_strs(a, nargs);
}

/* regex_get: the compiled PATTERN from LIB's cache (compiling it once); NULL if invalid.
 * *OWNED is set when the cache is full and the caller must free the result. */
static xmlRegexpPtr regex_get(struct engine__fnlib *lib, const char *pattern, int *owned)
{
	xmlRegexpPtr re = NULL;
	size_t i;

	*owned = 0;
	pthread_mutex_lock(&lib->re_lock);
	for (i = 0; i < lib->nre; i++)
		if (strcmp(lib->re[i].pattern, pattern) == 0) {
			re = lib->re[i].re;
			break;
		}
	if (re == NULL && (re = xmlRegexpCompile((const xmlChar *)pattern)) != NULL) {
		char *copy = lib->nre < RECACHE_MAX ? strdup(pattern) : NULL;
		if (copy != NULL) {
			lib->re[lib->nre].pattern = copy;
			lib->re[lib->nre++].re = re;
		} else {
			*owned = 1;
		}
	}
	pthread_mutex_unlock(&lib->re_lock);
	return re;
}

/* secmx:matches(s, pattern): does all of S match the XML Schema regular expression? */
static void fn_matches(xmlXPathParserContextPtr ctxt, int nargs)
{
	char *a[2];
	xmlRegexpPtr re;
	int owned = 0, r;

	ARITY(2, 2);
	if (pop_strs(ctxt, 2, a) == 0) {
		re = regex_get(ST(ctxt)->lib, a[1], &owned);
		if (re == NULL) {
			fail(ctxt, "matches: invalid regular expression");
		} else {
			r = xmlRegexpExec(re, (const xmlChar *)a[0]);
			if (r < 0)
				fail(ctxt, "matches: regular expression engine error");
			else
				xmlXPathReturnBoolean(ctxt, r == 1);
			if (owned)
				xmlRegFreeRegexp(re);
		}
	}
	free_strs(a, 2);
}

/* case_map: ASCII upper (UP) or lower case of the argument. */
static void case_map(xmlXPathParserContextPtr ctxt, int nargs, int up)
{
	char *s, *p;

	ARITY(1, 1);
	if ((s = pop_str(ctxt)) == NULL)
		return;
	for (p = s; *p; p++)
		if (up && *p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
		else if (!up && *p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	xmlXPathReturnString(ctxt, (xmlChar *)s);
}

/* secmx:upper-case(s). */
static void fn_upper(xmlXPathParserContextPtr ctxt, int nargs)
{
	case_map(ctxt, nargs, 1);
}

/* secmx:lower-case(s). */
static void fn_lower(xmlXPathParserContextPtr ctxt, int nargs)
{
	case_map(ctxt, nargs, 0);
}

/* secmx:ends-with(s, suffix). */
static void fn_ends_with(xmlXPathParserContextPtr ctxt, int nargs)
{
	char *a[2];
	size_t n, k;

	ARITY(2, 2);
	if (pop_strs(ctxt, 2, a) == 0) {
		n = strlen(a[0]);
		k = strlen(a[1]);
		xmlXPathReturnBoolean(ctxt, k <= n && memcmp(a[0] + n - k, a[1], k) == 0);
	}
	free_strs(a, 2);
}

/* xml_space: is C XML whitespace? */
static int xml_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* secmx:trim(s): S without leading and trailing XML whitespace (inner space kept). */
static void fn_trim(xmlXPathParserContextPtr ctxt, int nargs)
{
	char *s, *b, *e;

	ARITY(1, 1);
	if ((s = pop_str(ctxt)) == NULL)
		return;
	for (b = s; xml_space(*b); b++)
		;
	for (e = b + strlen(b); e > b && xml_space(e[-1]); e--)
		;
	xmlXPathReturnString(ctxt, xmlStrndup((const xmlChar *)b, (int)(e - b)));
	xmlFree(s);
}

/* secmx:string-join(node-set, sep): the string values joined by SEP (for messages). */
static void fn_string_join(xmlXPathParserContextPtr ctxt, int nargs)
{
	xmlNodeSetPtr ns;
	xmlChar *sep, *out = NULL;
	int i;

	ARITY(2, 2);
	if ((sep = xmlXPathPopString(ctxt)) == NULL)
		return;
	if ((ns = pop_nodeset(ctxt)) == NULL) {
		xmlFree(sep);
		return;
	}
	for (i = 0; ns != NULL && i < ns->nodeNr; i++) {
		xmlChar *s = xmlXPathCastNodeToString(ns->nodeTab[i]);
		if (i > 0)
			out = xmlStrcat(out, sep);
		out = xmlStrcat(out, s);
		xmlFree(s);
	}
	xmlXPathFreeNodeSet(ns);
	xmlFree(sep);
	xmlXPathReturnString(ctxt, out ? out : xmlStrdup((const xmlChar *)""));
}

/* empty_leaves_add: add to OUT every element under N (N included) that has no
 * element child and only XML whitespace as text, in document order.
 * XXX deviation from the official rule (every element without children or
 * text, anywhere):
 * an XML-DSig subtree (ds:Signature in the UBL signature extension) is not
 * searched — ds:CanonicalizationMethod, ds:Transform, ds:DigestMethod ... are
 * empty by the XML-DSig schema, and a document secmx signed must still pass
 * its profile (docs/rules-peppol.md). */
static int empty_leaves_add(xmlNodePtr n, xmlNodeSetPtr out)
{
	xmlNodePtr c;
	int leaf = 1, blank = 1;

	if (n->type == XML_ELEMENT_NODE && n->ns != NULL &&
	    xmlStrEqual(n->ns->href, (const xmlChar *)"http://www.w3.org/2000/09/xmldsig#"))
		return 0;

	for (c = n->children; c != NULL; c = c->next) {
		if (c->type == XML_ELEMENT_NODE) {
			leaf = 0;
		} else if (blank && (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) &&
			   c->content != NULL) {
			const xmlChar *t = c->content;
			while (*t == ' ' || *t == '\t' || *t == '\r' || *t == '\n')
				t++;
			blank = *t == '\0';
		}
	}
	if (n->_private == (void *)&engine__pruned_mark)
		leaf = 0; /* a projection dropped its element children */
	if (n->type == XML_ELEMENT_NODE && leaf && blank)
		return xmlXPathNodeSetAdd(out, n);
	for (c = n->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE && empty_leaves_add(c, out) < 0)
			return -1;
	return 0;
}

/* secmx:empty-leaves(node-set): the elements at or under the nodes that have no
 * element child and no text but whitespace (XPath: *[not(*) and
 * not(normalize-space())]), in one C walk instead of an XPath // search. */
static void fn_empty_leaves(xmlXPathParserContextPtr ctxt, int nargs)
{
	xmlNodeSetPtr ns, out;
	int i;

	ARITY(1, 1);
	if ((ns = pop_nodeset(ctxt)) == NULL)
		return;
	if ((out = xmlXPathNodeSetCreate(NULL)) == NULL) {
		xmlXPathFreeNodeSet(ns);
		xmlXPathErr(ctxt, XPATH_MEMORY_ERROR);
		return;
	}
	for (i = 0; i < ns->nodeNr; i++) {
		if (empty_leaves_add(ns->nodeTab[i], out) < 0) {
			xmlXPathFreeNodeSet(out);
			xmlXPathFreeNodeSet(ns);
			xmlXPathErr(ctxt, XPATH_MEMORY_ERROR);
			return;
		}
	}
	xmlXPathFreeNodeSet(ns);
	valuePush(ctxt, xmlXPathWrapNodeSet(out));
}

/* secmx:distinct-count(node-set): how many different string values (XPath 2.0's
 * count(distinct-values(...))). Quadratic; node-sets here are small. */
static void fn_distinct_count(xmlXPathParserContextPtr ctxt, int nargs)
{
	xmlNodeSetPtr ns;
	xmlChar **v;
	int i, j, n = 0;

	ARITY(1, 1);
	if ((ns = pop_nodeset(ctxt)) == NULL)
		return;
	if ((v = calloc((size_t)ns->nodeNr + 1, sizeof(*v))) == NULL) {
		xmlXPathFreeNodeSet(ns);
		xmlXPathErr(ctxt, XPATH_MEMORY_ERROR);
		return;
	}
	for (i = 0; i < ns->nodeNr; i++) {
		xmlChar *s = xmlXPathCastNodeToString(ns->nodeTab[i]);
		for (j = 0; j < n && !xmlStrEqual(v[j], s); j++)
			;
		if (j == n)
			v[n++] = s;
		else
			xmlFree(s);
	}
	for (j = 0; j < n; j++)
		xmlFree(v[j]);
	free(v);
	xmlXPathFreeNodeSet(ns);
	xmlXPathReturnNumber(ctxt, (double)n);
}

/* engine__codelist_index: the index of code list NAME in LIB, or -1. */
int engine__codelist_index(const struct engine__fnlib *lib, const char *name)
{
	size_t i, n = lib->nlists;

	for (i = 0; i < n; i++)
		if (strcmp(lib->lists[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* engine__codelist_has: is VALUE (exactly) a code of list IDX of LIB? 1 or 0. */
int engine__codelist_has(const struct engine__fnlib *lib, size_t idx, const char *value)
{
	const struct codelist *cl = &lib->lists[idx];

	return cl->n > 0 && bsearch(&value, cl->codes, cl->n, sizeof(char *), cmp_str) != NULL;
}

/* secmx:in-codelist(value, list): is VALUE (exactly) a code of the named list? */
static void fn_in_codelist(xmlXPathParserContextPtr ctxt, int nargs)
{
	struct engine__fnlib *lib = ST(ctxt)->lib;
	const struct codelist *cl = NULL;
	char *a[2];
	const char *key;
	size_t i, n = lib->nlists;

	ARITY(2, 2);
	if (pop_strs(ctxt, 2, a) == 0) {
		for (i = 0; i < n && cl == NULL; i++)
			if (strcmp(lib->lists[i].name, a[1]) == 0)
				cl = &lib->lists[i];
		if (cl == NULL) {
			fail(ctxt, "in-codelist: no such code list (declare it with secmx:codelist)");
		} else {
			key = a[0];
			xmlXPathReturnBoolean(ctxt, cl->n > 0 && bsearch(&key, cl->codes, cl->n,
									 sizeof(char *), cmp_str));
		}
	}
	free_strs(a, 2);
}

/* secmx:check-digit(value, scheme): gs1|gln|nzbn|luhn|mod97-10|iban|abn|nz-ird|nz-gst|
 * no-orgnr|be-enterprise|se-orgnr|it-piva|dk-cvr|gr-tin. */
static void fn_check_digit(xmlXPathParserContextPtr ctxt, int nargs)
{
	char *a[2];
	int r;

	ARITY(2, 2);
	if (pop_strs(ctxt, 2, a) == 0) {
		r = engine__check_digit(a[0], a[1]);
		if (r < 0)
			fail(ctxt, "check-digit: unknown scheme");
		else
			xmlXPathReturnBoolean(ctxt, r == 1);
	}
	free_strs(a, 2);
}

/* secmx:date-valid(s): is S a real calendar date YYYY-MM-DD (optionally with a zone)? */
static void fn_date_valid(xmlXPathParserContextPtr ctxt, int nargs)
{
	char *s;
	long k;

	ARITY(1, 1);
	if ((s = pop_str(ctxt)) == NULL)
		return;
	xmlXPathReturnBoolean(ctxt, engine__date_parse(s, &k) == 0);
	xmlFree(s);
}

/* secmx:date-cmp(a, b): -1, 0, 1 comparing the calendar dates (zones ignored); NaN if invalid. */
static void fn_date_cmp(xmlXPathParserContextPtr ctxt, int nargs)
{
	char *a[2];
	long x, y;

	ARITY(2, 2);
	if (pop_strs(ctxt, 2, a) == 0) {
		if (engine__date_parse(a[0], &x) == 0 && engine__date_parse(a[1], &y) == 0)
			xmlXPathReturnNumber(ctxt, x < y ? -1.0 : x > y ? 1.0 : 0.0);
		else
			xmlXPathReturnNumber(ctxt, NAN);
	}
	free_strs(a, 2);
}

/* current(): the context node of the rule being evaluated (as in XSLT). */
static void fn_current(xmlXPathParserContextPtr ctxt, int nargs)
{
	ARITY(0, 0);
	xmlXPathReturnNodeSet(ctxt, xmlXPathNodeSetCreate(ST(ctxt)->current));
}

static const struct {
	const char *name;
	xmlXPathFunction fn;
} FUNCS[] = {
	{"check-digit", fn_check_digit},
	{"date-cmp", fn_date_cmp},
	{"date-valid", fn_date_valid},
	{"dec-abs", fn_dec_abs},
	{"dec-add", fn_dec_add},
	{"dec-cmp", fn_dec_cmp},
	{"dec-eq", fn_dec_eq},
	{"dec-mul", fn_dec_mul},
	{"dec-round", fn_dec_round},
	{"dec-sub", fn_dec_sub},
	{"dec-sum", fn_dec_sum},
	{"dec-valid", fn_dec_valid},
	{"distinct-count", fn_distinct_count},
	{"empty-leaves", fn_empty_leaves},
	{"ends-with", fn_ends_with},
	{"in-codelist", fn_in_codelist},
	{"lower-case", fn_lower},
	{"matches", fn_matches},
	{"string-join", fn_string_join},
	{"trim", fn_trim},
	{"upper-case", fn_upper},
};

/* The XPath 1.0 core functions and node-type tests, for the loader's check. */
static const char *const CORE[] = {
	"boolean", "ceiling", "comment", "concat", "contains", "count", "current", "false",
	"floor", "id", "lang", "last", "local-name", "name", "namespace-uri", "node",
	"normalize-space", "not", "number", "position", "processing-instruction", "round",
	"starts-with", "string", "string-length", "substring", "substring-after",
	"substring-before", "sum", "text", "translate", "true",
};

/* secmx_fn: the C function of secmx:NAME, or NULL. */
static xmlXPathFunction secmx_fn(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(FUNCS) / sizeof(FUNCS[0]); i++)
		if (strcmp(FUNCS[i].name, name) == 0)
			return FUNCS[i].fn;
	return NULL;
}

/* engine__fn_lookup: libxml2's function lookup hook: secmx: functions and current(). */
xmlXPathFunction engine__fn_lookup(void *data, const xmlChar *name, const xmlChar *ns_uri)
{
	(void)data;
	if (ns_uri == NULL)
		return xmlStrEqual(name, (const xmlChar *)"current") ? fn_current : NULL;
	if (!xmlStrEqual(ns_uri, (const xmlChar *)SECMX_FN_NS))
		return NULL;
	return secmx_fn((const char *)name);
}

/* engine__fn_known: for the loader's check of function names. */
int engine__fn_known(const char *ns, const char *name)
{
	size_t i;

	if (ns == NULL) {
		for (i = 0; i < sizeof(CORE) / sizeof(CORE[0]); i++)
			if (strcmp(CORE[i], name) == 0)
				return 1;
		return 0;
	}
	return strcmp(ns, SECMX_FN_NS) == 0 && secmx_fn(name) != NULL;
}
