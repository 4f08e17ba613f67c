/*
 * log.c — one line per event: "<id> <event> key=value ...", escaped.
 *
 * Interface (common.h, section LOGGING):
 *   log_open(), log_open_fd()  where lines go and from which level on.
 *   log_set_level()            change the level at runtime (any thread).
 *   log_close()                back to stderr.
 *   log_kv_init/str/strn/int/uint, log_kv_event()
 *                              build fields in a bounded buffer, then log.
 *   log_event()                the same from a "key=%s key=%d" format whose
 *                              %s values are always escaped.
 *   log_format_line()          the line body into a buffer (tests, sinks).
 *   log_level_parse(), log_level_name().
 *
 * Errors: none are returned. A write that fails is dropped (there is no
 * better place to report it). A format log_event() cannot read is a bug and
 * shows as fmt_error=1 in the line.
 *
 * Thread safety: every line is built in a buffer on the caller's stack and
 * written with one write(2) of at most LOG_LINE_MAX (<= PIPE_BUF) bytes, so
 * concurrent lines never interleave on a pipe or an O_APPEND file. syslog(3)
 * is thread-safe in glibc. log_open()/log_open_fd()/log_close() change the
 * destination and must not race with logging (call them at start-up or
 * while no other thread logs); the level is atomic.
 *
 * Secrets: the rule is in common.h. Nothing here can tell a secret from
 * other text, so the callers keep to it; configuration values go through
 * config_value_format(), which hides CONFIG_SECRET ones.
 */
#include "common.h"

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

_Static_assert(LOG_LINE_MAX <= PIPE_BUF, "a log line must be one atomic pipe write");

static char log_ident[64] = "secmx";
static enum log_dest log_dest = LOG_DEST_STDERR;
static int log_fd = 2;
static atomic_int log_min = LOGL_INFO;

/* In the order of enum log_level, NULL-terminated (a config enum's values). */
const char *const log_level_names[] = {"err", "warning", "notice", "info", "debug", NULL};

/* Room kept at the end of a line for " dropped=N" and the newline. */
#define LOG_RESERVE 24

/* log_open: choose the destination and the level. */
void log_open(const char *ident, enum log_dest dest, enum log_level min)
{
	if (log_dest == LOG_DEST_SYSLOG)
		closelog();
	secmx_strlcpy(log_ident, ident ? ident : "secmx", sizeof(log_ident));
	log_dest = dest;
	log_fd = 2;
	atomic_store(&log_min, (int)min);
	if (dest == LOG_DEST_SYSLOG)
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

/* log_open_fd: log to a descriptor the caller owns. */
void log_open_fd(const char *ident, int fd, enum log_level min)
{
	log_open(ident, LOG_DEST_FD, min);
	log_fd = fd;
}

/* log_set_level: the minimum level, atomically. */
void log_set_level(enum log_level min)
{
	atomic_store(&log_min, (int)min);
}

/* log_close: close syslog; back to stderr. */
void log_close(void)
{
	if (log_dest == LOG_DEST_SYSLOG)
		closelog();
	log_dest = LOG_DEST_STDERR;
	log_fd = 2;
}

/* log_level_parse: a level's name to its value, or -1. */
int log_level_parse(const char *name)
{
	int i;

	for (i = 0; i <= LOGL_DEBUG; i++)
		if (strcmp(name, log_level_names[i]) == 0)
			return i;
	return -1;
}

/* log_level_name: a level's name. */
const char *log_level_name(enum log_level level)
{
	if ((int)level < 0 || level > LOGL_DEBUG)
		return "?";
	return log_level_names[level];
}

/* is_token: may C appear bare in an id, an event or a key? */
static int is_token(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == ':' || c == '@' || c == '/' || c == '+' || c == '-';
}

/* is_bare: may C appear in an unquoted value? */
static int is_bare(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '=';
}

/* put_token: S as a token ([A-Za-z0-9._:@/+-], others '_', at most 128 bytes). */
static size_t put_token(char *buf, size_t len, size_t at, const char *s)
{
	size_t i;

	if (s == NULL || *s == '\0')
		s = "-";
	for (i = 0; s[i] != '\0' && i < 128 && at + 1 < len; i++)
		buf[at++] = is_token((unsigned char)s[i]) ? s[i] : '_';
	buf[at] = '\0';
	return at;
}

/*
 * escape_value: write V (N bytes) as a value into OUT (room for
 * LOG_VALUE_MAX bytes); returns the length, at most LOG_VALUE_MAX. Bare when
 * every byte may be bare, quoted otherwise; when the escaped value would
 * not fit, it is cut and ends with the marker \... before the closing quote.
 */
static size_t escape_value(char *out, const char *v, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;
	int bare = n > 0 && n <= LOG_VALUE_MAX;

	for (i = 0; bare && i < n; i++)
		if (!is_bare((unsigned char)v[i]))
			bare = 0;
	if (bare) {
		memcpy(out, v, n);
		return n;
	}
	out[o++] = '"';
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		char e[4];
		size_t elen;

		if (c == '"' || c == '\\') {
			e[0] = '\\';
			e[1] = (char)c;
			elen = 2;
		} else if (c < 0x20 || c >= 0x7f) {
			e[0] = '\\';
			e[1] = 'x';
			e[2] = hex[c >> 4];
			e[3] = hex[c & 15];
			elen = 4;
		} else {
			e[0] = (char)c;
			elen = 1;
		}
		/* Keep room for the marker (4) and the closing quote (1). */
		if (o + elen + 5 > LOG_VALUE_MAX) {
			memcpy(out + o, "\\...", 4);
			o += 4;
			break;
		}
		memcpy(out + o, e, elen);
		o += elen;
	}
	out[o++] = '"';
	return o;
}

/* log_kv_init: an empty field buffer. */
void log_kv_init(struct log_kv *kv)
{
	kv->buf[0] = '\0';
	kv->len = 0;
	kv->dropped = 0;
}

/* kv_add: append " key=" and the already-formatted VAL, or count a drop. */
static void kv_add(struct log_kv *kv, const char *key, const char *val, size_t vlen)
{
	char k[130];
	size_t klen = put_token(k, sizeof(k), 0, key);

	/* Keep room for the id, the event and the tail of the line. */
	if (kv->len + 1 + klen + 1 + vlen + 1 > sizeof(kv->buf) - 512) {
		kv->dropped++;
		return;
	}
	kv->buf[kv->len++] = ' ';
	memcpy(kv->buf + kv->len, k, klen);
	kv->len += klen;
	kv->buf[kv->len++] = '=';
	memcpy(kv->buf + kv->len, val, vlen);
	kv->len += vlen;
	kv->buf[kv->len] = '\0';
}

/* log_kv_strn: KEY and LEN bytes of VALUE, escaped. */
void log_kv_strn(struct log_kv *kv, const char *key, const char *value, size_t len)
{
	char esc[LOG_VALUE_MAX];

	if (value == NULL) {
		kv_add(kv, key, "-", 1);
		return;
	}
	kv_add(kv, key, esc, escape_value(esc, value, len));
}

/* log_kv_str: KEY and VALUE, escaped. */
void log_kv_str(struct log_kv *kv, const char *key, const char *value)
{
	log_kv_strn(kv, key, value, value ? strlen(value) : 0);
}

/* log_kv_int: KEY and a signed number. */
void log_kv_int(struct log_kv *kv, const char *key, long long value)
{
	char num[32];
	int n = snprintf(num, sizeof(num), "%lld", value);

	kv_add(kv, key, num, (size_t)n);
}

/* log_kv_uint: KEY and an unsigned number. */
void log_kv_uint(struct log_kv *kv, const char *key, unsigned long long value)
{
	char num[32];
	int n = snprintf(num, sizeof(num), "%llu", value);

	kv_add(kv, key, num, (size_t)n);
}

/* body: "<id> <event><fields>[ dropped=N]" into BUF (LEN >= 2*130). */
static size_t body(char *buf, size_t len, const char *id, const char *event,
                   const struct log_kv *kv)
{
	size_t at = put_token(buf, len, 0, id);

	if (at + 1 < len)
		buf[at++] = ' ';
	at = put_token(buf, len, at, event);
	if (kv != NULL && kv->len > 0 && at + kv->len + LOG_RESERVE < len) {
		memcpy(buf + at, kv->buf, kv->len);
		at += kv->len;
	}
	if (kv != NULL && kv->dropped > 0 && at + LOG_RESERVE < len)
		at += (size_t)snprintf(buf + at, len - at, " dropped=%u", kv->dropped);
	buf[at] = '\0';
	return at;
}

/* write_line: one write(2) of the whole line, or syslog. */
static void write_line(enum log_level level, const char *msg, size_t mlen)
{
	static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG};
	char line[LOG_LINE_MAX];
	struct timespec ts;
	struct tm tm;
	size_t at;
	int n;

	if (log_dest == LOG_DEST_SYSLOG) {
		syslog(LOG_MAIL | prio[level], "%s", msg);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	at = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line + at, sizeof(line) - at, ".%03ldZ %s %s[%ld] ", ts.tv_nsec / 1000000,
	             log_level_names[level], log_ident, (long)getpid());
	at += (size_t)n;
	if (mlen > sizeof(line) - at - 1)
		mlen = sizeof(line) - at - 1;
	memcpy(line + at, msg, mlen);
	at += mlen;
	line[at++] = '\n';
	/* One write: a pipe takes it whole (at most PIPE_BUF); retry on EINTR only. */
	while (write(log_dest == LOG_DEST_FD ? log_fd : 2, line, at) < 0 && errno == EINTR)
		;
}

/* log_kv_event: one line from an id, an event and built fields. */
void log_kv_event(enum log_level level, const char *id, const char *event, const struct log_kv *kv)
{
	char msg[LOG_LINE_MAX];
	size_t n;
	int saved = errno;

	if ((int)level < 0 || level > LOGL_DEBUG)
		level = LOGL_ERR;
	if ((int)level > atomic_load(&log_min))
		return;
	/* Leave room for the timestamp, level and ident on stderr. */
	n = body(msg, sizeof(msg) - 128, id, event, kv);
	write_line(level, msg, n);
	errno = saved;
}

/*
 * kv_fmt: fields from a "key=%conv ..." format into KV. Returns 0, or -1
 * when the format holds anything else (a bug: the caller adds fmt_error=1).
 */
static int kv_fmt(struct log_kv *kv, const char *fmt, va_list ap)
{
	const char *p = fmt;

	for (;;) {
		char key[128];
		size_t klen = 0;
		int lng = 0, sz = 0, prec = -1;
		char conv;

		while (*p == ' ')
			p++;
		if (*p == '\0')
			return 0;
		while (*p != '\0' && *p != '=' && *p != ' ' && klen < sizeof(key) - 1)
			key[klen++] = *p++;
		key[klen] = '\0';
		if (klen == 0 || p[0] != '=' || p[1] != '%')
			return -1;
		p += 2;
		if (p[0] == '.' && p[1] == '*') {
			prec = 1;
			p += 2;
		}
		while (*p == 'l' && lng < 2) {
			lng++;
			p++;
		}
		if (*p == 'z') {
			sz = 1;
			p++;
		}
		conv = *p++;
		if (conv == 's') {
			if (lng || sz)
				return -1;
			if (prec >= 0) {
				int n = va_arg(ap, int);
				const char *s = va_arg(ap, const char *);
				size_t len = 0;

				/* %.*s: at most N bytes, stopping at a NUL as printf does. */
				if (s != NULL && n > 0)
					len = strnlen(s, (size_t)n);
				log_kv_strn(kv, key, s, len);
			} else {
				log_kv_str(kv, key, va_arg(ap, const char *));
			}
		} else if (prec >= 0) {
			return -1;
		} else if (conv == 'd' || conv == 'i') {
			long long v;

			if (sz)
				v = (long long)va_arg(ap, ssize_t);
			else if (lng == 2)
				v = va_arg(ap, long long);
			else if (lng == 1)
				v = (long long)va_arg(ap, long);
			else
				v = (long long)va_arg(ap, int);
			log_kv_int(kv, key, v);
		} else if (conv == 'u' || conv == 'x') {
			unsigned long long v;

			if (sz)
				v = (unsigned long long)va_arg(ap, size_t);
			else if (lng == 2)
				v = va_arg(ap, unsigned long long);
			else if (lng == 1)
				v = (unsigned long long)va_arg(ap, unsigned long);
			else
				v = (unsigned long long)va_arg(ap, unsigned);
			if (conv == 'x') {
				char num[24];
				int n = snprintf(num, sizeof(num), "0x%llx", v);

				kv_add(kv, key, num, (size_t)n);
			} else {
				log_kv_uint(kv, key, v);
			}
		} else {
			return -1;
		}
		if (*p != ' ' && *p != '\0')
			return -1;
	}
}

/* log_event: one line from a key=%conv format. */
void log_event(enum log_level level, const char *id, const char *event, const char *fmt, ...)
{
	struct log_kv kv;
	va_list ap;
	int saved = errno;

	if ((int)level < 0 || level > LOGL_DEBUG)
		level = LOGL_ERR;
	if ((int)level > atomic_load(&log_min))
		return;
	log_kv_init(&kv);
	va_start(ap, fmt);
	if (fmt != NULL && kv_fmt(&kv, fmt, ap) < 0)
		kv_add(&kv, "fmt_error", "1", 1);
	va_end(ap);
	log_kv_event(level, id, event, &kv);
	errno = saved;
}

/* log_format_line: a line's body into BUF, without writing it. */
void log_format_line(char *buf, size_t len, const char *id, const char *event, const char *fmt, ...)
{
	struct log_kv kv;
	char msg[LOG_LINE_MAX];
	va_list ap;

	if (len == 0)
		return;
	log_kv_init(&kv);
	va_start(ap, fmt);
	if (fmt != NULL && kv_fmt(&kv, fmt, ap) < 0)
		kv_add(&kv, "fmt_error", "1", 1);
	va_end(ap);
	body(msg, sizeof(msg) - 128, id, event, &kv);
	secmx_strlcpy(buf, msg, len);
}
