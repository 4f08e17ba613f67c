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
	SECMX_ENOTFOUND = -13,  /* no such entry (queue message, delivery, transaction) */
	SECMX_ECORRUPT = -14,   /* stored data failed its digest check (quarantined) */
	SECMX_EDUPLICATE = -15, /* refused as a duplicate of an earlier message */
	SECMX_ESTATE = -16,     /* not allowed in the entry's current state (or lease lost) */
};
/* The most negative error code, for loops over all of them. */
#define SECMX_ELAST SECMX_ESTATE

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

#endif
