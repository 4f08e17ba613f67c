/*
 * common.h — the small utilities every secmx module may use.
 *
 * Public interface:
 *   secmx error codes     one convention everywhere: 0 or positive is success,
 *                         a negative SECMX_E* value is failure.
 *   secmx_strerror()      a short, static English text for an error code.
 *   secmx_file_read()     read a whole file (or standard input for "-") into
 *                         memory, refusing anything larger than a given limit.
 *   secmx_strlcpy()       bounded copy that always terminates; returns the
 *                         length it wanted to write (truncation when >= size).
 *   secmx_vsnprintf_err() write a formatted message into a caller's buffer.
 *   config_*()            (section CONFIGURATION, common/config.c and
 *                         common/config_print.c) a typed,
 *                         table-driven INI loader on libinih: all or nothing,
 *                         errors as "FILE:LINE: section.key: reason".
 *   config_engine_table   (common/config_engine.c) the [engine] section.
 *   log_*()               (section LOGGING, common/log.c) one line per event:
 *                         "<id> <event> key=value ...", escaped, to stderr,
 *                         a file descriptor or syslog.
 *
 * Nothing here exits. Only the log functions write anything, and only where
 * the owning process told log_open() to. Everything is thread-safe except
 * log_open(), log_open_fd() and log_close(), which must not race with
 * logging (call them at start-up, or while no other thread logs).
 */
#ifndef SECMX_COMMON_H
#define SECMX_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define SECMX_VERSION "0.1.0"

/* Error codes. Keep secmx_strerror() in step when adding one. */
enum secmx_err {
	SECMX_OK = 0,
	SECMX_EINVAL = -1,      /* a caller passed a bad argument */
	SECMX_ENOMEM = -2,      /* out of memory */
	SECMX_EIO = -3,         /* reading or writing a file failed (see errno) */
	SECMX_ELIMIT = -4,      /* input exceeds a configured limit */
	SECMX_EPARSE = -5,      /* input is not well-formed */
	SECMX_EUNKNOWN = -6,    /* document type not recognised */
	SECMX_EUNSUPPORTED = -7,/* recognised, but this configuration cannot handle it */
	SECMX_EINVALID = -8,    /* document failed validation (report says why) */
	SECMX_ESIG = -9,        /* signature refused (report says why) */
	SECMX_EKEY = -10,       /* key or certificate unusable */
	SECMX_ECONFIG = -11,    /* configuration unusable */
	SECMX_EINTERNAL = -12,  /* a library we use failed unexpectedly */
};

/* secmx_strerror: a static description of an error code; never NULL. */
const char *secmx_strerror(int err);

/*
 * secmx_file_read: read all of PATH ("-" means standard input) into a new
 * buffer, NUL-terminated for convenience (the NUL is not counted in *LEN).
 * Refuses, with SECMX_ELIMIT, input larger than MAX bytes without reading
 * more than MAX + 1 bytes of it. On success the caller owns *OUT and frees it
 * with free(). On failure *OUT is NULL and errno tells the I/O cause.
 */
int secmx_file_read(const char *path, size_t max, char **out, size_t *len);

/* secmx_strlcpy: copy SRC into DST of SIZE bytes, always terminated. */
size_t secmx_strlcpy(char *dst, const char *src, size_t size);

/* secmx_errf: format a message into ERR (of ERRLEN bytes, may be NULL/0). */
void secmx_errf(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* secmx_base64_decode: decode base64 (whitespace ignored) into a new buffer.
 * Returns the length, or SECMX_EPARSE / SECMX_ENOMEM. Caller frees *OUT. */
long secmx_base64_decode(const char *in, size_t inlen, unsigned char **out);

/* ======================================================================
 * CONFIGURATION (common/config.c, common/config_print.c, common/config_engine.c)
 *
 * A program describes its configuration as a table of struct config_key:
 * section, name, type, default, bounds, whether it may change at runtime
 * (CONFIG_RELOAD), and where the value lives in a struct of the caller's
 * (offsetof). A table may include other tables at an offset (subs), which
 * is how the daemon reuses config_engine_table for its [engine] section.
 *
 * Storage by type (the field at OFFSET must have exactly this C type):
 *   CONFIG_STRING, CONFIG_PATH, CONFIG_SECRET_PATH, CONFIG_ENDPOINT  char *
 *                  (NULL when unset; owned by the struct, see config_free)
 *   CONFIG_BOOL     bool
 *   CONFIG_INT      long long
 *   CONFIG_SIZE     size_t, in bytes ("64k", "10M", "1G"; k = 1024)
 *   CONFIG_DURATION long long, in milliseconds ("250ms", "30s", "5m", "2h",
 *                  "7d"; a unit is required)
 *   CONFIG_ENUM     int, the index of the value in key->values
 *   CONFIG_LIST     struct config_list (comma-separated, items trimmed)
 *
 * Secrets: CONFIG_SECRET marks a value that must never be printed or
 * logged (config_dump, config_value_format and error messages show
 * "(secret)"); a file that sets one must not be readable by group or
 * others. CONFIG_SECRET_PATH names a file holding a secret (a private key):
 * it must exist, be a regular file owned by the running user or root, and
 * have no group/other permission bits; its contents are never read here.
 * ====================================================================== */

enum config_type {
	CONFIG_STRING,
	CONFIG_PATH,        /* absolute; must exist unless CONFIG_CREATE */
	CONFIG_SECRET_PATH, /* absolute; regular file, mode & 077 == 0 */
	CONFIG_BOOL,        /* yes/no, true/false, on/off, 1/0 */
	CONFIG_INT,         /* decimal, within [min, max] */
	CONFIG_SIZE,        /* bytes with an optional k/M/G unit, within [min, max] */
	CONFIG_DURATION,    /* ms/s/m/h/d, stored in ms, within [min, max] */
	CONFIG_ENUM,        /* one of values[] */
	CONFIG_ENDPOINT,    /* ipc:///abs/path or tcp://host:port */
	CONFIG_LIST,        /* a,b,c; item count within [min, max] (max 0: any) */
};

/* Flags for struct config_key.flags. */
#define CONFIG_RELOAD 0x1u   /* may change on reload (SIGHUP) without a restart */
#define CONFIG_SECRET 0x2u   /* the value itself is secret: never printed */
#define CONFIG_REQUIRED 0x4u /* must be set (no default) */
#define CONFIG_CREATE 0x8u   /* CONFIG_PATH: need not exist yet */

struct config_list {
	size_t n;
	char **v;               /* n strings, owned with the list */
};

struct config_key {
	const char *section;    /* "engine" */
	const char *name;       /* "max_depth" */
	enum config_type type;
	unsigned flags;         /* CONFIG_RELOAD | CONFIG_SECRET | ... */
	const char *def;        /* default in file syntax ("10M"); NULL: unset */
	long long min, max;     /* INT/SIZE/DURATION bounds (bytes, ms); LIST item
				   counts (max 0: any). Both 0: no bounds. */
	const char *const *values; /* CONFIG_ENUM: allowed values, NULL-terminated */
	size_t offset;          /* offsetof(caller's struct, field) */
	const char *doc;        /* one or two sentences for docs/configuration.md */
};

/*
 * CONFIG_OFFSET: offsetof(S, M) that fails to compile unless member M of
 * struct S has type T (the storage type above), so a table cannot point a
 * CONFIG_SIZE key at an unsigned field by mistake.
 */
#define CONFIG_OFFSET(S, M, T) _Generic(((S *)0)->M, T: offsetof(S, M))

struct config_table;

/* A table included in another at OFFSET (its struct embedded there). */
struct config_sub {
	const struct config_table *table;
	size_t offset;
};

struct config_table {
	const char *name;              /* "engine", "secmxd": for documentation */
	size_t size;                   /* sizeof the caller's struct */
	const struct config_key *keys; /* nkeys entries */
	size_t nkeys;
	const struct config_sub *subs; /* nsubs included tables (may be NULL) */
	size_t nsubs;
};

/* Files larger than this are refused (a configuration, not a data set). */
#define CONFIG_FILE_MAX (1024u * 1024u)

/*
 * config_defaults: fill OUT (table->size bytes, overwritten without being
 * freed) with the defaults. Returns 0, or SECMX_ENOMEM, or SECMX_EINTERNAL
 * when the table's own default is invalid (a bug, described in ERR).
 * On failure OUT is left zeroed. Free with config_free().
 */
int config_defaults(const struct config_table *t, void *out, char *err, size_t errlen);

/*
 * config_load: parse FILE against table T, all or nothing. Unknown sections
 * and keys, duplicates, bad values, out-of-bounds values and unusable paths
 * are refused with "FILE:LINE: section.key: reason" in ERR and
 * SECMX_ECONFIG (SECMX_EIO when FILE cannot be read, SECMX_ENOMEM). Keys not
 * in the file take their defaults. On success OUT (table->size bytes; its
 * old contents are overwritten, not freed) owns the new values: release
 * them with config_free(). On failure OUT is untouched.
 * Lines are limited to 196 bytes (libinih as built by Debian), files to
 * CONFIG_FILE_MAX. Leading blanks and a UTF-8 BOM are ignored; there are no
 * continuation lines; ';' after a blank starts a comment, as does '#' or
 * ';' at the start of a line.
 */
int config_load(const struct config_table *t, const char *file, void *out, char *err,
		size_t errlen);

/*
 * config_reload: load FILE (all or nothing, as config_load) into NEXT,
 * taking reloadable keys from the file and all others from CUR (deep
 * copies; CUR is not changed). The names ("section.key") of the
 * non-reloadable keys whose value in the file differs from CUR are written,
 * space-separated, into RESTART (may be NULL/0): they need a restart.
 * Returns how many there are (>= 0), or a negative error as config_load
 * (NEXT untouched). On success free NEXT with config_free().
 */
int config_reload(const struct config_table *t, const char *file, const void *cur, void *next,
		  char *restart, size_t restartlen, char *err, size_t errlen);

/* config_free: free what config_load/defaults/reload put in CFG; NULL is fine.
 * Pointers are set to NULL, so calling it twice is harmless. */
void config_free(const struct config_table *t, void *cfg);

/*
 * config_value_format: the value of KEY (at BASE + key->offset) in file
 * syntax into BUF (always terminated; "" when unset). Secret values
 * (CONFIG_SECRET) come out as "(secret)". Returns the length wanted, like
 * snprintf. Use this, never the raw field, to log a configuration value.
 */
size_t config_value_format(const struct config_key *key, const void *base, char *buf,
			   size_t len);

/* config_dump: print the effective configuration of CFG as an INI file
 * that config_load accepts again (secret values replaced by a comment). */
void config_dump(const struct config_table *t, const void *cfg, FILE *fp);

/* config_doc: write table T as a Markdown reference (one table per section). */
void config_doc(const struct config_table *t, FILE *fp);

/*
 * config_doc_missing: the keys of T that DOC (a Markdown text) does not
 * mention as `section.key`; their names go space-separated into MISSING
 * (may be NULL/0). Returns how many are missing (0: all documented).
 */
int config_doc_missing(const struct config_table *t, const char *doc, char *missing,
		       size_t missinglen);

/* The [engine] section: the engine's limits and the signing material. */
struct config_engine {
	char *schema_dir;          /* NULL: the built-in e-GIF schema set */
	char *rules_dir;           /* NULL: the built-in rule sets */
	size_t max_doc_bytes;
	long long max_depth;
	size_t max_attr_bytes;
	size_t max_text_bytes;
	long long max_nodes;
	long long max_attrs;
	bool allow_sha1;
	char *sign_key;            /* private key (PEM), a secret file */
	char *sign_cert;           /* its certificate (PEM) */
	char *sign_key_password_env; /* name of the environment variable with the password */
	char *trust;               /* CA bundle (PEM) for verifying signatures */
	char *crl;                 /* CRL (PEM) */
};

/* config_engine_table: the [engine] keys, for struct config_engine. */
extern const struct config_table config_engine_table;

/* ======================================================================
 * LOGGING (common/log.c)
 *
 * One line per event: "<id> <event> key=value key=\"value with spaces\" ...".
 * ID is the transaction or message id ("-" when there is none), EVENT a
 * dotted name ("smtp.connect"); ids, events and keys are reduced to
 * [A-Za-z0-9._:@/+-] (anything else becomes '_').
 *
 * Values are escaped so that nothing a client sent can forge a line. A value
 * is written bare only when it is non-empty printable ASCII without space,
 * '"', '\\' or '='. Otherwise it is quoted, '"' and '\\' are backslashed, and
 * every byte outside printable ASCII (newline, other controls, DEL, UTF-8)
 * is written as \xNN. A value takes at most LOG_VALUE_MAX bytes of the
 * line: a longer one is cut and ends with the marker \... before its
 * closing quote (escaping never produces it: a real backslash is always
 * doubled). A line is at most LOG_LINE_MAX bytes; fields that do not fit
 * are dropped whole and counted in a final dropped=N field.
 *
 * On stderr or a file descriptor each line starts with an ISO 8601 UTC
 * timestamp, the level and ident[pid]; syslog gets the line with the
 * level mapped to its priority (facility LOG_MAIL). Each line is one
 * write(2) of at most LOG_LINE_MAX (<= PIPE_BUF) bytes, so lines from many
 * threads or processes sharing a pipe never interleave.
 *
 * The rule on secrets: never pass a secret (a password, a key, a session
 * token, a configuration value marked CONFIG_SECRET) to a log function.
 * Log configuration values only through config_value_format(), which
 * hides secret ones.
 * ====================================================================== */

enum log_level {
	LOGL_ERR = 0,
	LOGL_WARNING,
	LOGL_NOTICE,
	LOGL_INFO,
	LOGL_DEBUG,
};

enum log_dest {
	LOG_DEST_STDERR,
	LOG_DEST_SYSLOG,
	LOG_DEST_FD,            /* log_open_fd(): an fd the caller owns */
};

#define LOG_LINE_MAX 4096       /* whole line with newline; <= PIPE_BUF */
#define LOG_VALUE_MAX 1024      /* bytes one value may take in a line, escaped */

/* log_open: log as IDENT (copied) to DEST from level MIN on (more severe or
 * equal). Until called, logging goes to stderr at LOGL_INFO as "secmx". */
void log_open(const char *ident, enum log_dest dest, enum log_level min);
/* log_open_fd: as log_open, to file descriptor FD (borrowed, not closed). */
void log_open_fd(const char *ident, int fd, enum log_level min);
/* log_set_level: change the minimum level (safe from any thread). */
void log_set_level(enum log_level min);
/* log_close: close syslog if open; logging falls back to stderr. */
void log_close(void);
/* log_level_parse: "err", "warning", "notice", "info", "debug" -> level, or -1. */
int log_level_parse(const char *name);
/* log_level_name: the name of a level ("info"); never NULL. */
const char *log_level_name(enum log_level level);

/* A bounded key=value buffer: build it with log_kv_*() on the stack, then
 * pass it to log_kv_event(). Fields that do not fit are counted, not cut. */
struct log_kv {
	char buf[LOG_LINE_MAX];
	size_t len;
	unsigned dropped;
};

/* log_kv_init: empty KV. */
void log_kv_init(struct log_kv *kv);
/* log_kv_str: add KEY=VALUE, VALUE escaped (NULL shows as -). */
void log_kv_str(struct log_kv *kv, const char *key, const char *value);
/* log_kv_strn: add KEY=VALUE for LEN bytes (may hold NULs) of VALUE. */
void log_kv_strn(struct log_kv *kv, const char *key, const char *value, size_t len);
/* log_kv_int / log_kv_uint: add KEY=number. */
void log_kv_int(struct log_kv *kv, const char *key, long long value);
void log_kv_uint(struct log_kv *kv, const char *key, unsigned long long value);

/* log_kv_event: write one line "<id> <event> <kv fields>" (KV may be NULL). */
void log_kv_event(enum log_level level, const char *id, const char *event,
		  const struct log_kv *kv);

/*
 * log_event: write one line; FMT lists the fields as "key=%s key=%d ...":
 * space-separated key=CONVERSION pairs, where CONVERSION is one of %s,
 * %.*s (int length, then bytes), %d %i %u %x with an optional l, ll or z
 * (e.g. %zu, %lld). The compiler checks the argument types; every %s is
 * escaped. Anything else in FMT is a bug and shows as fmt_error=1.
 */
void log_event(enum log_level level, const char *id, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* log_format_line: the body of a log_event() line (no timestamp, no newline)
 * into BUF of LEN bytes; for tests and for callers with their own sink. */
void log_format_line(char *buf, size_t len, const char *id, const char *event,
		     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
