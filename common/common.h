/*
 * common.h — the small utilities every secmx module may use.
 *
 * Public interface:
 *   secmx error codes     one convention everywhere: 0 or positive is success,
 *                         a negative SECMX_E* value is failure.
 *   secmx_strerror()      a short, static English text for an error code.
 *   secmx_file_read()     read a whole file (or standard input for "-") into
 *                         memory, refusing anything larger than a given limit.
 *   secmx_fsync_dir()     make a directory's entries (a rename, a new file)
 *                         durable.
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
 *   bus wire protocol     the secmx bus message catalogue (BUS_MSG_*,
 *                         BUS_PROTO_VERSION) and its one codec: builders
 *                         (bus_msg_encode, bus_build_*) and a strict reader
 *                         (bus_msg_decode); implemented in bus_proto.c and
 *                         shared by the daemon's bus and the adapter SDK.
 *                         docs/protocol.md is the specification.
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
	SECMX_ENOTFOUND = -13,  /* no such entry (queue message, delivery, transaction) */
	SECMX_ECORRUPT = -14,   /* stored data failed its digest check (quarantined) */
	SECMX_EDUPLICATE = -15, /* refused as a duplicate of an earlier message */
	SECMX_ESTATE = -16,     /* not allowed in the entry's current state (or lease lost) */
	SECMX_ECONFLICT = -17,  /* a key seen before, now with different content */
};
/* The most negative error code, for loops over all of them. */
#define SECMX_ELAST SECMX_ECONFLICT

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

/* secmx_fsync_dir: fsync directory DIR, so that a rename or a file created
 * in it survives a crash. 0, or SECMX_EIO with errno telling why. */
int secmx_fsync_dir(const char *dir);

/* secmx_strlcpy: copy SRC into DST of SIZE bytes, always terminated. */
size_t secmx_strlcpy(char *dst, const char *src, size_t size);

/* secmx_printable: replace every byte of S outside printable ASCII with '?',
 * in place, so text from a peer can be written as one log line. */
void secmx_printable(char *s);

/* secmx_errf: format a message into ERR (of ERRLEN bytes, may be NULL/0). */
void secmx_errf(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* secmx_thread_name: name the calling thread (at most 15 bytes are kept),
 * so that `top -H`, `ps -L` and perf show which of a daemon's threads is
 * which. Best effort: nothing is reported. */
void secmx_thread_name(const char *name);

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
struct config_where;

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
	/*
	 * check (may be NULL): what the keys' types and bounds cannot say, such
	 * as one key that needs another. Called by config_load/config_reload
	 * after every key has parsed, with the file's values (this table's
	 * struct, CFG); refuses through config_key_refuse(), which names the
	 * file and the line of the key it blames. Returns 0 or that refusal.
	 * An included table's check runs too, on its part of the struct.
	 */
	int (*check)(const void *cfg, struct config_where *w);
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
 * and keys, duplicates, bad values, out-of-bounds values, unusable paths
 * and whatever the tables' checks refuse (struct config_table.check) are
 * refused with "FILE:LINE: section.key: reason" in ERR and
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

/*
 * config_key_refuse: from a table's check, refuse the file because of key
 * SECTION.NAME: records "FILE:LINE: section.name: REASON" (LINE: where the
 * key is set; "FILE: section.name (default): REASON" when the file does not
 * set it) as the load's error, the first refusal winning. Returns
 * SECMX_ECONFIG, for the check to return.
 */
int config_key_refuse(struct config_where *w, const char *section, const char *name,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * config_curve_refuse: the CURVE key settings of an adapter's section SECTION
 * (the server's public key file under key SERVER_NAME, PUBLIC_NAME,
 * SECRET_NAME; their values SERVER, PUB, SEC, NULL when unset): all three
 * or none, and none on a tcp:// ENDPOINT is refused (the bus requires CURVE
 * on TCP). Refuses through config_key_refuse at the first key set (or the
 * endpoint); 0 when the settings are whole.
 */
int config_curve_refuse(struct config_where *w, const char *section, const char *endpoint,
			const char *server_name, const char *server, const char *pub,
			const char *sec);

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
/* log_level_names: the levels' names in enum log_level's order, NULL-terminated
 * (the values of a CONFIG_ENUM log level key). */
extern const char *const log_level_names[];
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
/* ===================================================================== */
/* ==== bus wire protocol (bus_proto.c; specification: docs/protocol.md) */
/* ===================================================================== */
/*
 * A bus message is one ZeroMQ multipart message of 2 or 3 frames (after the
 * ROUTER's routing-id frame, which the codec never sees):
 *   frame 0  header: exactly 4 bytes 'S' 'X' BUS_PROTO_VERSION type
 *   frame 1  body: one JSON object (UTF-8, at most bus_max_body() bytes:
 *            BUS_MAX_BODY, more for DELIVER), whose fields are fixed per
 *            type (unknown fields are refused)
 *   frame 2  document bytes (DELIVER and SUBMIT only, at most the
 *            negotiated maximum, never above BUS_MAX_DOC)
 * Bump BUS_PROTO_VERSION on every change to the catalogue or a schema.
 */
#define BUS_PROTO_VERSION 1
#define BUS_MAGIC0 'S'
#define BUS_MAGIC1 'X'
#define BUS_HEAD_LEN 4
#define BUS_MAX_FRAMES 3
#define BUS_MAX_BODY (64 * 1024)
#define BUS_MAX_DOC (16 * 1024 * 1024)
#define BUS_MAX_ID 64         /* delivery, request, session ids; adapter name */
#define BUS_MAX_KEY 256       /* idempotency keys, message ids */
#define BUS_MAX_TEXT 512      /* reasons, error messages */
#define BUS_MAX_PATTERNS 32
#define BUS_MAX_PATTERN 128
#define BUS_MAX_CREDIT 1024

/* The catalogue. Values are the type byte on the wire; never reuse one. */
enum bus_msg_type {
	BUS_MSG_HELLO = 1,         /* adapter → server: name, patterns, credit */
	BUS_MSG_WELCOME = 2,       /* server → adapter: HELLO accepted, timers */
	BUS_MSG_DELIVER = 3,       /* server → adapter: envelope + document */
	BUS_MSG_ACK = 4,           /* adapter → server: delivery done */
	BUS_MSG_NACK = 5,          /* adapter → server: transient or permanent */
	BUS_MSG_SUBMIT = 6,        /* adapter → server: outbound document */
	BUS_MSG_SUBMIT_RESULT = 7, /* server → adapter: accepted or refused */
	BUS_MSG_HEARTBEAT = 8,     /* both ways */
	BUS_MSG_ERROR = 9,         /* server → adapter: a refused message */
	BUS_MSG_BYE = 10,          /* both ways: orderly end of a session */
	BUS_MSG__MAX = 10,
};

/* Who sent a message: the reader refuses types the other side cannot send. */
enum bus_side { BUS_FROM_ADAPTER = 1, BUS_FROM_SERVER = 2 };

/* Protocol error codes, carried by ERROR as their bus_err_name() string. */
enum bus_err {
	BUS_ERR_NONE = 0,
	BUS_ERR_FRAMES,   /* "frames": wrong number of frames for the type */
	BUS_ERR_SIZE,     /* "size": a frame is larger than allowed */
	BUS_ERR_HEADER,   /* "header": header frame malformed (length, magic) */
	BUS_ERR_VERSION,  /* "version": protocol version not spoken */
	BUS_ERR_TYPE,     /* "type": unknown type, or not allowed from this side */
	BUS_ERR_JSON,     /* "json": body is not one JSON object */
	BUS_ERR_SCHEMA,   /* "schema": a field missing, unknown, mistyped, out of range */
	BUS_ERR_STATE,    /* "state": message not allowed now (e.g. before HELLO) */
	BUS_ERR_REFUSED,  /* "refused": HELLO refused (name, patterns, key) */
	BUS_ERR_BUSY,     /* "busy": too many adapters */
	BUS_ERR_REPLACED, /* "replaced": a newer session took this adapter name */
	BUS_ERR_INTERNAL, /* "internal": the server failed; try again later */
	BUS_ERR__MAX = BUS_ERR_INTERNAL,
};

/* NACK kinds. */
enum bus_nack_kind { BUS_NACK_TRANSIENT = 1, BUS_NACK_PERMANENT = 2 };

/* One received frame: borrowed bytes, valid while the caller keeps them. */
struct bus_frame {
	const void *data;
	size_t len;
};

struct json_t;

/*
 * A decoded message. BODY is owned (freed by bus_msg_clear); every string in
 * the typed view U points into BODY; DOC points into the caller's frame 2.
 */
struct bus_msg {
	int type;
	struct json_t *body;
	const unsigned char *doc;
	size_t doc_len;
	union {
		struct {
			const char *name;
			const char *patterns[BUS_MAX_PATTERNS];
			size_t npatterns;
			long credit;
		} hello;
		struct {
			const char *session;
			long heartbeat_ms, dead_ms, ack_timeout_ms, credit, max_document_bytes;
		} welcome;
		struct {
			const char *delivery_id, *idempotency_key, *document_type;
			long attempt;
		} deliver;
		struct {
			const char *delivery_id;
		} ack;
		struct {
			const char *delivery_id, *reason;
			int kind; /* enum bus_nack_kind */
		} nack;
		struct {
			const char *request_id, *idempotency_key, *document_type;
		} submit;
		struct {
			const char *request_id, *message_id, *reason;
			int accepted;
		} submit_result;
		struct {
			const char *code, *message, *ref;
		} error;
		struct {
			const char *reason;
		} bye;
	} u;
};

/* An encoded message ready to send: NFRAMES frames (2 or 3). BODY is owned
 * (free with bus_wire_free); DOC is borrowed from the builder's caller. */
struct bus_wire {
	unsigned char head[BUS_HEAD_LEN];
	char *body;
	size_t body_len;
	const void *doc;
	size_t doc_len;
	int nframes;
};

/* bus_msg_name / bus_err_name: static names ("HELLO", "schema"); never NULL. */
const char *bus_msg_name(int type);
const char *bus_err_name(int code);
/* bus_err_from_name: the code for a name, or BUS_ERR_INTERNAL if unknown. */
int bus_err_from_name(const char *name);

/*
 * bus_max_body: the largest body frame of a message of TYPE in a session
 * whose documents may be MAX_DOC bytes (0 or above BUS_MAX_DOC: BUS_MAX_DOC).
 * BUS_MAX_BODY for every type but DELIVER; a DELIVER's envelope may carry
 * meta.original_b64, the bytes received of a document delivered signed
 * (never more than a document), so its body may be BUS_MAX_BODY plus the
 * base64 length of MAX_DOC.
 */
size_t bus_max_body(int type, size_t max_doc);

/*
 * bus_msg_decode: the strict reader. Checks frame count and sizes, header,
 * version, type (and that FROM may send it), then parses the body as exactly
 * one JSON object (no trailing bytes, no duplicate keys, no NUL) and checks
 * it against the type's schema: every required field present, no unknown
 * field, types, lengths, character sets and ranges. MAX_DOC (0 = BUS_MAX_DOC)
 * bounds frame 2. On success returns 0 and fills *M (release with
 * bus_msg_clear). On failure returns SECMX_EPARSE or SECMX_ELIMIT (SECMX_ENOMEM
 * if memory ran out), sets *CODE to the bus_err, writes the reason to ERR,
 * and leaves *M cleared. Never reads beyond the frames given.
 */
int bus_msg_decode(const struct bus_frame *frames, size_t nframes, int from, size_t max_doc,
		   struct bus_msg *m, int *code, char *err, size_t errlen);
/* bus_msg_clear: release a decoded message (NULL or cleared is fine). */
void bus_msg_clear(struct bus_msg *m);

/*
 * bus_msg_encode: the builder. Takes BODY (a JSON object; the reference is
 * stolen, even on failure), sets "document_size" for DELIVER and SUBMIT,
 * checks the result with the same schema the reader uses (we never send what
 * we would refuse) and serialises it into *W (release with bus_wire_free).
 * DOC is borrowed and must outlive *W. Returns 0, or SECMX_EINVAL/ELIMIT
 * with the reason in ERR.
 */
int bus_msg_encode(int type, struct json_t *body, const void *doc, size_t doc_len,
		   struct bus_wire *w, char *err, size_t errlen);
/* bus_wire_free: release an encoded message's body (NULL is fine). */
void bus_wire_free(struct bus_wire *w);

/* Typed builders over bus_msg_encode (same return values and ownership). */
int bus_build_hello(struct bus_wire *w, const char *name, const char *const *patterns,
		    size_t npatterns, long credit, char *err, size_t errlen);
int bus_build_ack(struct bus_wire *w, const char *delivery_id, char *err, size_t errlen);
int bus_build_nack(struct bus_wire *w, const char *delivery_id, int kind, const char *reason,
		   char *err, size_t errlen);
int bus_build_heartbeat(struct bus_wire *w, char *err, size_t errlen);
int bus_build_bye(struct bus_wire *w, const char *reason, char *err, size_t errlen);
int bus_build_error(struct bus_wire *w, int code, const char *message, const char *ref,
		    char *err, size_t errlen);
/* SUBMIT: METADATA (optional JSON object text) is parsed and copied. */
int bus_build_submit(struct bus_wire *w, const char *request_id, const char *idempotency_key,
		     const char *document_type, const char *metadata_json, const void *doc,
		     size_t doc_len, char *err, size_t errlen);
int bus_build_submit_result(struct bus_wire *w, const char *request_id, int accepted,
			    const char *message_id, const char *reason, char *err,
			    size_t errlen);

/*
 * bus_build_deliver: DELIVER with ENVELOPE (ELEN bytes of a JSON object text
 * holding the envelope fields except delivery_id, attempt and
 * document_size), DELIVERY_ID, ATTEMPT and DOC. When bus_envelope_fast_ok()
 * accepts ENVELOPE, the body is ENVELOPE with the three fields appended as
 * text (no parse, no re-serialisation); otherwise the envelope is parsed,
 * completed and checked exactly as bus_msg_encode does (the same refusals
 * and reasons). Same returns and ownership as bus_msg_encode.
 */
int bus_build_deliver(struct bus_wire *w, const char *envelope, size_t elen,
		      const char *delivery_id, long attempt, const void *doc, size_t doc_len,
		      char *err, size_t errlen);
/* bus_envelope_fast_ok: 1 if the scanner is sure that ENVELOPE (LEN bytes)
 * is one JSON object that the strict reader parses (valid UTF-8, no NUL,
 * no duplicate key at any depth) and that, once delivery_id, attempt and
 * document_size are added, fits the DELIVER schema; 0 when it is not sure
 * (which includes every invalid envelope). Never allocates. */
int bus_envelope_fast_ok(const char *envelope, size_t len);

/* The typed fields of a DELIVER read by bus_deliver_fast_decode (copies). */
struct bus_deliver_view {
	char delivery_id[BUS_MAX_ID + 1];
	char idempotency_key[BUS_MAX_KEY + 1];
	char document_type[BUS_MAX_ID + 1];
	long attempt;
};
/*
 * bus_deliver_fast_decode: the same scanner on a received message: 1 and
 * *V filled when it is sure that FRAMES (from the server) are a DELIVER that
 * bus_msg_decode(..., BUS_FROM_SERVER, MAX_DOC, ...) accepts; 0 when it is
 * not sure (then call bus_msg_decode, which decides and gives the reason).
 * Builds no tree and allocates nothing.
 */
int bus_deliver_fast_decode(const struct bus_frame *frames, size_t nframes, size_t max_doc,
			    struct bus_deliver_view *v);
/*
 * bus_json_string: in TEXT (LEN bytes, a JSON object the strict reader has
 * accepted), the string member FIELD of the top-level object, or of its
 * member object OBJECT when OBJECT is not NULL. 1: *VAL and *VLEN give its
 * bytes inside TEXT (borrowed; not NUL-terminated); 0: absent or not a
 * string; -1: not sure (an escape in it or in a key on the way): parse
 * TEXT with jansson instead.
 */
int bus_json_string(const char *text, size_t len, const char *object, const char *field,
		    const char **val, size_t *vlen);

/* bus_id_ok / bus_name_ok / bus_key_ok / bus_pattern_ok: the character-set
 * and length rules of the schema, for callers that make ids and names. */
int bus_id_ok(const char *s);
int bus_name_ok(const char *s);
int bus_key_ok(const char *s);
int bus_pattern_ok(const char *s);
/* bus_pattern_match: does document TYPE match PATTERN ('*' any run, '?' one)? */
int bus_pattern_match(const char *pattern, const char *type);

#endif
