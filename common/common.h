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
 *   bus wire protocol     the secmx bus message catalogue (BUS_MSG_*,
 *                         BUS_PROTO_VERSION) and its one codec: builders
 *                         (bus_msg_encode, bus_build_*) and a strict reader
 *                         (bus_msg_decode); implemented in bus_proto.c and
 *                         shared by the daemon's bus and the adapter SDK.
 *                         docs/protocol.md is the specification.
 *
 * Nothing here logs or exits: the owning process decides what to do.
 * Everything is thread-safe (no hidden state).
 */
#ifndef SECMX_COMMON_H
#define SECMX_COMMON_H

#include <stdarg.h>
#include <stddef.h>

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

/* ===================================================================== */
/* ==== bus wire protocol (bus_proto.c; specification: docs/protocol.md) */
/* ===================================================================== */
/*
 * A bus message is one ZeroMQ multipart message of 2 or 3 frames (after the
 * ROUTER's routing-id frame, which the codec never sees):
 *   frame 0  header: exactly 4 bytes 'S' 'X' BUS_PROTO_VERSION type
 *   frame 1  body: one JSON object (UTF-8, at most BUS_MAX_BODY bytes),
 *            whose fields are fixed per type (unknown fields are refused)
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

/* bus_id_ok / bus_name_ok / bus_key_ok / bus_pattern_ok: the character-set
 * and length rules of the schema, for callers that make ids and names. */
int bus_id_ok(const char *s);
int bus_name_ok(const char *s);
int bus_key_ok(const char *s);
int bus_pattern_ok(const char *s);
/* bus_pattern_match: does document TYPE match PATTERN ('*' any run, '?' one)? */
int bus_pattern_match(const char *pattern, const char *type);

#endif
