/*
 * common.c — error texts, whole-file reads with a limit, directory fsync,
 * bounded strings.
 *
 * See common.h for the interface. No function here keeps state, logs or exits.
 */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <openssl/evp.h>

/* secmx_strerror: text for an error code. */
const char *secmx_strerror(int err)
{
	switch (err) {
	case SECMX_OK: return "success";
	case SECMX_EINVAL: return "invalid argument";
	case SECMX_ENOMEM: return "out of memory";
	case SECMX_EIO: return "input/output error";
	case SECMX_ELIMIT: return "limit exceeded";
	case SECMX_EPARSE: return "not well-formed";
	case SECMX_EUNKNOWN: return "unknown document type";
	case SECMX_EUNSUPPORTED: return "unsupported document";
	case SECMX_EINVALID: return "document is not valid";
	case SECMX_ESIG: return "signature refused";
	case SECMX_EKEY: return "key or certificate unusable";
	case SECMX_ECONFIG: return "configuration error";
	case SECMX_EINTERNAL: return "internal library error";
	case SECMX_ENOTFOUND: return "no such entry";
	case SECMX_ECORRUPT: return "stored data is damaged";
	case SECMX_EDUPLICATE: return "duplicate refused";
	case SECMX_ESTATE: return "not allowed in the current state";
	case SECMX_ECONFLICT: return "key already used for different content";
	default: return "unknown error";
	}
}

/* secmx_file_read: whole file into memory, at most MAX bytes. */
int secmx_file_read(const char *path, size_t max, char **out, size_t *len)
{
	FILE *fp = NULL;
	char *buf = NULL;
	size_t cap = 0, used = 0;
	int rc = SECMX_EIO;

	*out = NULL;
	*len = 0;
	if (strcmp(path, "-") == 0)
		fp = stdin;
	else if ((fp = fopen(path, "rb")) == NULL)
		return SECMX_EIO;

	for (;;) {
		size_t n;

		/* Grow while there is no room for one more byte and the NUL:
		 * reading 0 bytes into a full buffer would look like EOF. */
		if (used + 1 >= cap) {
			size_t ncap = cap ? cap * 2 : 65536;
			char *nbuf;

			if (ncap > max + 2)
				ncap = max + 2;
			if (ncap <= cap) {
				rc = SECMX_ELIMIT;
				goto done;
			}
			if ((nbuf = realloc(buf, ncap)) == NULL) {
				rc = SECMX_ENOMEM;
				goto done;
			}
			buf = nbuf;
			cap = ncap;
		}
		n = fread(buf + used, 1, cap - used - 1, fp);
		used += n;
		if (used > max) {
			rc = SECMX_ELIMIT;
			goto done;
		}
		if (n == 0) {
			if (ferror(fp))
				goto done;
			break;
		}
	}
	if (buf == NULL && (buf = malloc(1)) == NULL) {
		rc = SECMX_ENOMEM;
		goto done;
	}
	buf[used] = '\0';
	*out = buf;
	*len = used;
	buf = NULL;
	rc = SECMX_OK;
done:
	if (fp != NULL && fp != stdin) {
		int saved = errno;
		fclose(fp);
		errno = saved;
	}
	free(buf);
	return rc;
}

/* secmx_strlcpy: bounded, always-terminated copy. */
size_t secmx_strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (size > 0) {
		size_t k = n < size - 1 ? n : size - 1;
		memcpy(dst, src, k);
		dst[k] = '\0';
	}
	return n;
}

/* secmx_printable: control and non-ASCII bytes become '?'. */
void secmx_printable(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			*s = '?';
}

/* secmx_errf: formatted message into an optional buffer. */
void secmx_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* secmx_base64_decode: strict base64 decode, whitespace skipped. */
long secmx_base64_decode(const char *in, size_t inlen, unsigned char **out)
{
	char *clean = NULL;
	unsigned char *dec = NULL;
	size_t i, n = 0;
	int dlen;
	long rc = SECMX_ENOMEM;

	*out = NULL;
	if ((clean = malloc(inlen + 1)) == NULL)
		return SECMX_ENOMEM;
	for (i = 0; i < inlen; i++) {
		char c = in[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		clean[n++] = c;
	}
	if (n % 4 != 0 || n > 0x7fffffff) {
		rc = SECMX_EPARSE;
		goto done;
	}
	if ((dec = malloc(n / 4 * 3 + 1)) == NULL)
		goto done;
	dlen = EVP_DecodeBlock(dec, (const unsigned char *)clean, (int)n);
	if (dlen < 0) {
		rc = SECMX_EPARSE;
		goto done;
	}
	/* EVP_DecodeBlock counts padding as zero bytes: take them off. */
	if (n >= 1 && clean[n - 1] == '=')
		dlen--;
	if (n >= 2 && clean[n - 2] == '=')
		dlen--;
	*out = dec;
	dec = NULL;
	rc = dlen;
done:
	free(clean);
	free(dec);
	return rc;
}

/* secmx_thread_name: see common.h. */
void secmx_thread_name(const char *name)
{
	char buf[16];

	secmx_strlcpy(buf, name, sizeof(buf));
	(void)prctl(PR_SET_NAME, (unsigned long)buf, 0UL, 0UL, 0UL);
}

/* secmx_fsync_dir: see common.h. */
int secmx_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc, saved;

	if (fd < 0)
		return SECMX_EIO;
	rc = fsync(fd) == 0 ? 0 : SECMX_EIO;
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}
