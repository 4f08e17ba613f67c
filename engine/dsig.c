/*
 * dsig.c — XML-DSig: xmlsec1 start-up (for the verifier), signing keys,
 * trust stores, and enveloped signing in the UBL place with libxml2's
 * exclusive C14N and OpenSSL (xmlsec's signing context cost several times
 * the key operation; docs/signatures.md, "How a signature is made").
 * The strict verifier (xmlsec1 behind our checks) is in dsig_verify.c.
 *
 * Functions
 *   engine__dsig_init / engine__dsig_need / engine__dsig_cleanup   xmlsec +
 *       crypto start-up, once, on first use (engine__dsig_need, under
 *       pthread_once, from the key, trust, sign and verify entry points).
 *       Refuses an xmlsec library whose ABI does not match the headers we
 *       were built with.
 *   engine_key_load / engine_key_free   a private key and its certificates
 *       from PEM or PKCS#12. The key is checked against the key policy (RSA
 *       2048+, EC P-256/P-384/P-521) and against its certificate before it
 *       is accepted. struct engine_key is the one door every XML-DSig private
 *       key use goes through, so that keys can later move into a key-holder
 *       process without changing callers.
 *   engine_trust_load / engine_trust_free   trust anchors (PEM or DER file,
 *       or a directory of them) and optional CRLs, in an X509_STORE.
 *   engine_doc_sign   an enveloped signature in ext:UBLExtensions (see
 *       docs/signatures.md for the layout): exclusive C14N, SHA-256,
 *       RSA-SHA256 or ECDSA-SHA256 by key type, one Reference URI="" with the
 *       enveloped and exc-c14n transforms, the certificates in KeyInfo.
 *       The digest is taken before ds:Signature is inserted; SignedInfo is
 *       built and signed in a small document of its own, then copied in.
 *       Keys are only read, so one key may sign on many threads at once.
 *
 * Errors: SECMX_EKEY (key/certificate unusable; ERR says why), SECMX_EIO,
 * SECMX_ECONFIG (trust store unusable), SECMX_ESIG (a document cannot be
 * signed; the report says why), SECMX_EINTERNAL (xmlsec start-up, C14N or
 * the private-key operation failed; signing reports it as DSIG-SIGN).
 * xmlsec's own error output is silenced; the last message is kept per thread
 * for the findings. Nothing here logs, prints or exits.
 *
 * Limits: key and certificate files up to 1 MiB; at most 16 certificates.
 */
#define _GNU_SOURCE /* memmem */
#include <dirent.h>
#include <pthread.h>
#include <strings.h>
#include <string.h>
#include <sys/stat.h>

#include <libxml/c14n.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>

#include <xmlsec/crypto.h>
#include <xmlsec/errors.h>
#include <xmlsec/templates.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/xmltree.h>

#include "dsig_int.h"

#define KEYFILE_MAX (1u << 20)
#define MAX_CERTS DSIG_MAX_CERTS

#define UBL_DSIG_EXTENSION_URI "urn:oasis:names:specification:ubl:dsig:enveloped"
#define UBL_SIGNATURE_ID "urn:oasis:names:specification:ubl:signature:1"

static int dsig_ready;
static pthread_once_t dsig_once = PTHREAD_ONCE_INIT;
static int dsig_rc = SECMX_EINTERNAL;

static _Thread_local char last_error[256];

/* on_xmlsec_error: keep xmlsec's message for the caller instead of printing. */
static void on_xmlsec_error(const char *file, int line, const char *func, const char *obj,
                            const char *subj, int reason, const char *msg)
{
	(void)file, (void)line, (void)obj;
	snprintf(last_error, sizeof(last_error), "%s%s%s: %s (reason %d)", func ? func : "xmlsec",
	         subj ? " " : "", subj ? subj : "", msg && *msg ? msg : "error", reason);
}

/* engine__dsig_last_error: this thread's last xmlsec message. */
const char *engine__dsig_last_error(void)
{
	return last_error;
}

/* engine__dsig_clear_error: forget this thread's last xmlsec message. */
void engine__dsig_clear_error(void)
{
	last_error[0] = '\0';
}

/* engine__dsig_init: xmlsec and its OpenSSL backend, once per process. */
int engine__dsig_init(void)
{
	/* The headers and the library must agree on the ABI (XMLSEC_NO_SIZE_T
	 * changes structure layouts, so a mismatch would corrupt memory). */
	if (xmlSecCheckVersion() != 1)
		return SECMX_EINTERNAL;
	xmlSecErrorsSetCallback(on_xmlsec_error);
	if (xmlSecInit() < 0)
		return SECMX_EINTERNAL;
	xmlSecErrorsSetCallback(on_xmlsec_error);
	if (xmlSecCryptoAppInit(NULL) < 0) {
		xmlSecShutdown();
		return SECMX_EINTERNAL;
	}
	if (xmlSecCryptoInit() < 0) {
		xmlSecCryptoAppShutdown();
		xmlSecShutdown();
		return SECMX_EINTERNAL;
	}
	dsig_ready = 1;
	return SECMX_OK;
}

/* dsig_init_once: engine__dsig_init for pthread_once. */
static void dsig_init_once(void)
{
	dsig_rc = engine__dsig_init();
}

/* engine__dsig_need: xmlsec and OpenSSL started (once per process, from any
 * thread, on first use: a process that never signs or verifies, such as
 * `secmx validate`, never pays for them); 0 or SECMX_EINTERNAL. */
int engine__dsig_need(void)
{
	pthread_once(&dsig_once, dsig_init_once);
	return dsig_rc;
}

/* engine__dsig_cleanup: undo engine__dsig_init (only if it succeeded). */
void engine__dsig_cleanup(void)
{
	if (!dsig_ready)
		return;
	xmlSecCryptoShutdown();
	xmlSecCryptoAppShutdown();
	xmlSecShutdown();
	dsig_ready = 0;
}

/* ---- keys ---- */

/* engine__dsig_key_policy: RSA 2048+ or EC on a NIST prime curve we accept. */
int engine__dsig_key_policy(EVP_PKEY *pkey, int *bits, char *why, size_t whylen)
{
	char curve[64] = "";
	size_t clen = 0;

	*bits = EVP_PKEY_get_bits(pkey);
	switch (EVP_PKEY_get_base_id(pkey)) {
	case EVP_PKEY_RSA:
		if (*bits < DSIG_RSA_MIN_BITS) {
			secmx_errf(why, whylen,
			           "RSA key of %d bits is too weak (at least %d required)", *bits,
			           DSIG_RSA_MIN_BITS);
			return SECMX_EKEY;
		}
		return DSIG_KEY_RSA;
	case EVP_PKEY_EC:
		if (EVP_PKEY_get_utf8_string_param(pkey, "group", curve, sizeof(curve), &clen) != 1)
			curve[0] = '\0';
		if (strcmp(curve, "prime256v1") == 0 || strcmp(curve, "P-256") == 0 ||
		    strcmp(curve, "secp384r1") == 0 || strcmp(curve, "P-384") == 0 ||
		    strcmp(curve, "secp521r1") == 0 || strcmp(curve, "P-521") == 0)
			return DSIG_KEY_EC;
		secmx_errf(why, whylen,
		           "EC key on curve %s is not accepted (P-256, P-384 or P-521)",
		           curve[0] ? curve : "(explicit or unknown)");
		return SECMX_EKEY;
	default:
		secmx_errf(why, whylen, "key type %s is not accepted (RSA or EC only)",
		           OBJ_nid2sn(EVP_PKEY_get_base_id(pkey)));
		return SECMX_EKEY;
	}
}

/* no_prompt: OpenSSL's password callback; never asks on a terminal. */
static int no_prompt(char *buf, int size, int rwflag, void *u)
{
	const char *pw = u;
	size_t n;

	(void)rwflag;
	if (pw == NULL || size <= 0)
		return -1;
	n = strlen(pw);
	if (n > (size_t)size)
		return -1;
	memcpy(buf, pw, n);
	return (int)n;
}

/* read_pem_certs: append every certificate in BUF (PEM) to CERTS. */
static int read_pem_certs(const char *buf, size_t len, STACK_OF(X509) * certs)
{
	BIO *bio = BIO_new_mem_buf(buf, (int)len);
	X509 *x;
	int n = 0;

	if (bio == NULL)
		return SECMX_ENOMEM;
	while ((x = PEM_read_bio_X509(bio, NULL, no_prompt, NULL)) != NULL) {
		if (sk_X509_num(certs) >= MAX_CERTS || !sk_X509_push(certs, x)) {
			X509_free(x);
			break;
		}
		n++;
	}
	ERR_clear_error();
	BIO_free(bio);
	return n;
}

/* is_pem: BUF holds a PEM block somewhere. */
static int is_pem(const char *buf, size_t len)
{
	return len > 10 && memmem(buf, len, "-----BEGIN ", 11) != NULL;
}

/* has_suffix: S ends with SUF, ignoring case. */
static int has_suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && strcasecmp(s + a - b, suf) == 0;
}

/* load_pkcs12: key, leaf and chain from a PKCS#12 file in BUF. */
static int load_pkcs12(const char *buf, size_t len, const char *password, EVP_PKEY **pkey,
                       STACK_OF(X509) * certs, char *err, size_t errlen)
{
	const unsigned char *p = (const unsigned char *)buf;
	PKCS12 *p12 = d2i_PKCS12(NULL, &p, (long)len);
	X509 *leaf = NULL;
	STACK_OF(X509) *ca = NULL;
	int rc = SECMX_EKEY;

	if (p12 == NULL) {
		secmx_errf(err, errlen, "not a PKCS#12 file");
		goto done;
	}
	if (!PKCS12_parse(p12, password ? password : "", pkey, &leaf, &ca) &&
	    (password != NULL || !PKCS12_parse(p12, NULL, pkey, &leaf, &ca))) {
		unsigned long e = ERR_peek_last_error();
		secmx_errf(err, errlen, "PKCS#12: %s",
		           ERR_GET_REASON(e) == PKCS12_R_MAC_VERIFY_FAILURE
		               ? "wrong password (MAC verify failed)"
		           : ERR_reason_error_string(e) ? ERR_reason_error_string(e)
		                                        : "cannot parse");
		goto done;
	}
	if (leaf != NULL) {
		sk_X509_push(certs, leaf);
		leaf = NULL;
	}
	while (ca != NULL && sk_X509_num(ca) > 0 && sk_X509_num(certs) < MAX_CERTS)
		sk_X509_push(certs, sk_X509_shift(ca));
	rc = SECMX_OK;
done:
	ERR_clear_error();
	X509_free(leaf);
	sk_X509_pop_free(ca, X509_free);
	PKCS12_free(p12);
	return rc;
}

/* load_pem_key: the first private key in BUF (PEM), decrypted with PASSWORD. */
static int load_pem_key(const char *buf, size_t len, const char *password, EVP_PKEY **pkey,
                        char *err, size_t errlen)
{
	BIO *bio = BIO_new_mem_buf(buf, (int)len);
	unsigned long e;

	if (bio == NULL)
		return SECMX_ENOMEM;
	*pkey = PEM_read_bio_PrivateKey(bio, NULL, no_prompt, (void *)password);
	BIO_free(bio);
	if (*pkey != NULL) {
		ERR_clear_error();
		return SECMX_OK;
	}
	e = ERR_peek_last_error();
	if (password == NULL && memmem(buf, len, "ENCRYPTED", 9) != NULL)
		secmx_errf(err, errlen, "the private key is encrypted and no password was given");
	else
		secmx_errf(err, errlen, "no usable private key (%s)",
		           ERR_reason_error_string(e) ? ERR_reason_error_string(e) : "not found");
	ERR_clear_error();
	return SECMX_EKEY;
}

/*
 * b64_lines: BUF as base64 in lines of 64 characters joined by '\n', with a
 * final '\n' when TRAIL (xmlsec's layout). Returns a malloc'd string, or NULL.
 */
static char *b64_lines(const unsigned char *buf, size_t len, int trail)
{
	size_t lines = len / 48 + 1, i;
	char *out = malloc(lines * 65 + 2), *p = out;

	if (out == NULL)
		return NULL;
	for (i = 0; i < len; i += 48) {
		size_t n = len - i < 48 ? len - i : 48;

		if (i > 0)
			*p++ = '\n';
		p += EVP_EncodeBlock((unsigned char *)p, buf + i, (int)n);
	}
	if (trail)
		*p++ = '\n';
	*p = '\0';
	return out;
}

/* cert_base64: X's DER in base64 lines, as KeyInfo carries it (malloc'd). */
static char *cert_base64(X509 *x)
{
	unsigned char *der = NULL;
	int n = i2d_X509(x, &der);
	char *b64;

	if (n <= 0)
		return NULL;
	b64 = b64_lines(der, (size_t)n, 1);
	OPENSSL_free(der);
	return b64;
}

/* engine_key_load: see engine.h. On failure *OUT is NULL and ERR says why. */
int engine_key_load(const char *key_path, const char *cert_path, const char *password,
                    struct engine_key **out, char *err, size_t errlen)
{
	char *kbuf = NULL, *cbuf = NULL;
	size_t klen = 0, clen = 0;
	EVP_PKEY *pkey = NULL;
	STACK_OF(X509) *certs = NULL;
	struct engine_key *key = NULL;
	X509 *leaf = NULL;
	char why[256];
	int i, rc;

	*out = NULL;
	if (key_path == NULL)
		return SECMX_EINVAL;
	if (engine__dsig_need() < 0) {
		secmx_errf(err, errlen, "xmlsec/OpenSSL start-up failed");
		return SECMX_EINTERNAL;
	}
	if ((certs = sk_X509_new_null()) == NULL)
		return SECMX_ENOMEM;
	if ((rc = secmx_file_read(key_path, KEYFILE_MAX, &kbuf, &klen)) < 0) {
		secmx_errf(err, errlen, "%s: cannot read key file", key_path);
		goto done;
	}
	if (has_suffix(key_path, ".p12") || has_suffix(key_path, ".pfx") || !is_pem(kbuf, klen)) {
		if ((rc = load_pkcs12(kbuf, klen, password, &pkey, certs, why, sizeof(why))) < 0) {
			secmx_errf(err, errlen, "%s: %s", key_path, why);
			goto done;
		}
	} else {
		if ((rc = load_pem_key(kbuf, klen, password, &pkey, why, sizeof(why))) < 0) {
			secmx_errf(err, errlen, "%s: %s", key_path, why);
			goto done;
		}
		read_pem_certs(kbuf, klen, certs);
	}
	if (cert_path != NULL) {
		if ((rc = secmx_file_read(cert_path, KEYFILE_MAX, &cbuf, &clen)) < 0) {
			secmx_errf(err, errlen, "%s: cannot read certificate file", cert_path);
			goto done;
		}
		if (read_pem_certs(cbuf, clen, certs) <= 0) {
			secmx_errf(err, errlen, "%s: no PEM certificate found", cert_path);
			rc = SECMX_EKEY;
			goto done;
		}
	}
	rc = SECMX_EKEY;
	if (pkey == NULL) {
		secmx_errf(err, errlen, "%s: no private key found", key_path);
		goto done;
	}
	if ((key = calloc(1, sizeof(*key))) == NULL) {
		rc = SECMX_ENOMEM;
		goto done;
	}
	if ((i = engine__dsig_key_policy(pkey, &key->bits, why, sizeof(why))) < 0) {
		secmx_errf(err, errlen, "%s: %s", key_path, why);
		goto done;
	}
	key->kind = (enum dsig_key_kind)i;
	/* The signing certificate is the one whose public key is ours. */
	for (i = 0; i < sk_X509_num(certs); i++)
		if (X509_check_private_key(sk_X509_value(certs, i), pkey) == 1) {
			leaf = sk_X509_delete(certs, i);
			break;
		}
	ERR_clear_error();
	if (leaf == NULL) {
		secmx_errf(err, errlen, "%s: no certificate matches the private key%s", key_path,
		           cert_path ? "" : " (give one with the key or as --cert)");
		goto done;
	}
	/* What every signature needs, made once: KeyInfo's text for the
	 * leaf and then the rest of the chain, and the digest method. */
	rc = SECMX_ENOMEM;
	if ((key->cert_b64[key->ncerts] = cert_base64(leaf)) == NULL)
		goto done;
	key->ncerts++;
	while (sk_X509_num(certs) > 0 && key->ncerts < MAX_CERTS) {
		X509 *x = sk_X509_shift(certs);
		key->cert_b64[key->ncerts] = cert_base64(x);
		X509_free(x);
		if (key->cert_b64[key->ncerts] == NULL)
			goto done;
		key->ncerts++;
	}
	rc = SECMX_EINTERNAL;
	if ((key->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL) {
		secmx_errf(err, errlen, "OpenSSL has no SHA-256");
		goto done;
	}
	key->pkey = pkey;
	pkey = NULL;
	*out = key;
	key = NULL;
	rc = SECMX_OK;
done:
	ERR_clear_error();
	engine_key_free(key);
	X509_free(leaf);
	EVP_PKEY_free(pkey);
	sk_X509_pop_free(certs, X509_free);
	if (kbuf != NULL)
		OPENSSL_cleanse(kbuf, klen);
	free(kbuf);
	free(cbuf);
	return rc;
}

/* engine_key_free: NULL accepted. */
void engine_key_free(struct engine_key *key)
{
	int i;

	if (key == NULL)
		return;
	for (i = 0; i < key->ncerts; i++)
		free(key->cert_b64[i]);
	EVP_MD_free(key->sha256);
	EVP_PKEY_free(key->pkey);
	free(key);
}

/* ---- trust ---- */

/* add_certs_file: every certificate (PEM or one DER) in PATH to STORE. */
static int add_certs_file(X509_STORE *store, const char *path, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	STACK_OF(X509) *certs = sk_X509_new_null();
	int n = 0, i, rc;

	if (certs == NULL)
		return SECMX_ENOMEM;
	if ((rc = secmx_file_read(path, KEYFILE_MAX, &buf, &len)) < 0) {
		secmx_errf(err, errlen, "%s: cannot read", path);
		goto done;
	}
	if (is_pem(buf, len)) {
		read_pem_certs(buf, len, certs);
	} else {
		const unsigned char *p = (const unsigned char *)buf;
		X509 *x = d2i_X509(NULL, &p, (long)len);
		if (x != NULL && !sk_X509_push(certs, x))
			X509_free(x);
	}
	for (i = 0; i < sk_X509_num(certs); i++)
		if (X509_STORE_add_cert(store, sk_X509_value(certs, i)) == 1)
			n++;
	ERR_clear_error();
	rc = n;
done:
	sk_X509_pop_free(certs, X509_free);
	free(buf);
	return rc;
}

/* add_crls_file: every CRL (PEM or one DER) in PATH to STORE. */
static int add_crls_file(X509_STORE *store, const char *path, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	BIO *bio = NULL;
	X509_CRL *crl;
	int n = 0, rc;

	if ((rc = secmx_file_read(path, 16u * KEYFILE_MAX, &buf, &len)) < 0) {
		secmx_errf(err, errlen, "%s: cannot read", path);
		return rc;
	}
	if (is_pem(buf, len)) {
		if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL) {
			free(buf);
			return SECMX_ENOMEM;
		}
		while ((crl = PEM_read_bio_X509_CRL(bio, NULL, no_prompt, NULL)) != NULL) {
			if (X509_STORE_add_crl(store, crl) == 1)
				n++;
			X509_CRL_free(crl);
		}
		BIO_free(bio);
	} else {
		const unsigned char *p = (const unsigned char *)buf;
		if ((crl = d2i_X509_CRL(NULL, &p, (long)len)) != NULL) {
			if (X509_STORE_add_crl(store, crl) == 1)
				n++;
			X509_CRL_free(crl);
		}
	}
	ERR_clear_error();
	free(buf);
	if (n == 0)
		secmx_errf(err, errlen, "%s: no CRL found", path);
	return n;
}

/* engine_trust_load: see engine.h. On failure *OUT is NULL and ERR says why. */
int engine_trust_load(const char *ca_path, const char *crl_path, struct engine_trust **out,
                      char *err, size_t errlen)
{
	struct engine_trust *t = NULL;
	struct stat st;
	DIR *dir = NULL;
	struct dirent *de;
	char path[4096];
	int n = 0, rc;

	*out = NULL;
	if (ca_path == NULL)
		return SECMX_EINVAL;
	if (engine__dsig_need() < 0) {
		secmx_errf(err, errlen, "xmlsec/OpenSSL start-up failed");
		return SECMX_EINTERNAL;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL || (t->store = X509_STORE_new()) == NULL) {
		rc = SECMX_ENOMEM;
		goto done;
	}
	if (stat(ca_path, &st) != 0) {
		secmx_errf(err, errlen, "%s: not found", ca_path);
		rc = SECMX_EIO;
		goto done;
	}
	if (S_ISDIR(st.st_mode)) {
		if ((dir = opendir(ca_path)) == NULL) {
			secmx_errf(err, errlen, "%s: cannot open directory", ca_path);
			rc = SECMX_EIO;
			goto done;
		}
		while ((de = readdir(dir)) != NULL) {
			struct stat fst;
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", ca_path, de->d_name);
			if (stat(path, &fst) != 0 || !S_ISREG(fst.st_mode))
				continue;
			if ((rc = add_certs_file(t->store, path, err, errlen)) < 0)
				goto done;
			n += rc;
		}
	} else {
		if ((rc = add_certs_file(t->store, ca_path, err, errlen)) < 0)
			goto done;
		n = rc;
	}
	if (n == 0) {
		secmx_errf(err, errlen, "%s: no trust anchor certificate found", ca_path);
		rc = SECMX_ECONFIG;
		goto done;
	}
	if (crl_path != NULL) {
		if ((rc = add_crls_file(t->store, crl_path, err, errlen)) <= 0) {
			if (rc == 0)
				rc = SECMX_ECONFIG;
			goto done;
		}
		t->have_crls = 1;
	}
	*out = t;
	t = NULL;
	rc = n;
done:
	if (dir != NULL)
		closedir(dir);
	engine_trust_free(t);
	return rc < 0 ? rc : SECMX_OK;
}

/* engine_trust_free: NULL accepted. */
void engine_trust_free(struct engine_trust *trust)
{
	if (trust == NULL)
		return;
	X509_STORE_free(trust->store);
	free(trust);
}

/* ---- signing ---- */

/* ns_for: a namespace for HREF usable at NODE: in scope, or declared on NODE. */
static xmlNsPtr ns_for(xmlDocPtr doc, xmlNodePtr node, const char *href, const char *prefix)
{
	xmlNsPtr ns = xmlSearchNsByHref(doc, node, (const xmlChar *)href);

	if (ns == NULL)
		ns = xmlNewNs(node, (const xmlChar *)href, (const xmlChar *)prefix);
	return ns;
}

/* new_el: a new element PREFIX:NAME in HREF as the last child of PARENT. */
static xmlNodePtr new_el(xmlDocPtr doc, xmlNodePtr parent, const char *href, const char *prefix,
                         const char *name, const char *text)
{
	xmlNodePtr n = xmlNewDocNode(doc, NULL, (const xmlChar *)name, NULL);

	if (n == NULL)
		return NULL;
	xmlAddChild(parent, n);
	xmlSetNs(n, ns_for(doc, n, href, prefix));
	if (n->ns == NULL)
		return NULL;
	if (text != NULL) {
		xmlNodeAddContent(n, (const xmlChar *)text);
		if (n->children == NULL)
			return NULL;
	}
	return n;
}

/* is_ds: N is the XML-DSig element NAME. */
static int is_ds(xmlNodePtr n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && n->ns &&
	       strcmp((const char *)n->ns->href, NS_DS) == 0 &&
	       strcmp((const char *)n->name, name) == 0;
}

/* find_ds_signature: the first ds:Signature under NODE (document order). */
static xmlNodePtr find_ds_signature(xmlNodePtr node)
{
	xmlNodePtr c, r;

	for (c = node; c != NULL; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (is_ds(c, "Signature"))
			return c;
		if ((r = find_ds_signature(c->children)) != NULL)
			return r;
	}
	return NULL;
}

/* first_element: the first child element of PARENT, or NULL. */
static xmlNodePtr first_element(xmlNodePtr parent)
{
	xmlNodePtr c;

	for (c = parent->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			return c;
	return NULL;
}

/* build_place: ext:UBLExtension/.../sac:SignatureInformation for a new
 * signature, into *INFO; *ADDED is the subtree to unlink if signing fails.
 * Returns 0, SECMX_ESIG (reported) or SECMX_ENOMEM. */
static int build_place(struct engine_doc *doc, xmlNodePtr root, xmlNodePtr *added, xmlNodePtr *info,
                       struct engine_report *rep)
{
	xmlDocPtr xd = doc->xml;
	xmlNodePtr first = first_element(root), exts, ext, content, sigs;
	xmlNodePtr other = engine__child(root, NS_EXT, "UBLExtensions");
	xmlNodePtr cac_sig = engine__child(root, NS_CAC, "Signature");
	char *ref_id = cac_sig ? engine__text(engine__child(cac_sig, NS_CBC, "ID")) : NULL;
	int rc = SECMX_ENOMEM;

	*added = NULL;
	*info = NULL;
	if (other != NULL && other != first) {
		engine__report_node(rep, "DSIG-PLACE", ENGINE_FATAL, other,
		                    "ext:UBLExtensions must be the first child of the root");
		rc = SECMX_ESIG;
		goto done;
	}
	exts = other;
	if (exts == NULL) {
		if ((exts = xmlNewDocNode(xd, NULL, (const xmlChar *)"UBLExtensions", NULL)) ==
		    NULL)
			goto done;
		if (first != NULL)
			xmlAddPrevSibling(first, exts);
		else
			xmlAddChild(root, exts);
		*added = exts;
		xmlSetNs(exts, ns_for(xd, exts, NS_EXT, "ext"));
	}
	if ((ext = xmlNewDocNode(xd, NULL, (const xmlChar *)"UBLExtension", NULL)) == NULL)
		goto done;
	xmlAddChild(exts, ext);
	if (*added == NULL)
		*added = ext;
	xmlSetNs(ext, ns_for(xd, ext, NS_EXT, "ext"));
	/* The signature's own UBL wrapper: UBL 2.1 section 5 conventions. */
	if (exts->ns == NULL || ext->ns == NULL ||
	    new_el(xd, ext, NS_EXT, "ext", "ExtensionURI", UBL_DSIG_EXTENSION_URI) == NULL ||
	    (content = new_el(xd, ext, NS_EXT, "ext", "ExtensionContent", NULL)) == NULL ||
	    (sigs = new_el(xd, content, NS_SIG, "sig", "UBLDocumentSignatures", NULL)) == NULL ||
	    (*info = new_el(xd, sigs, NS_SAC, "sac", "SignatureInformation", NULL)) == NULL ||
	    new_el(xd, *info, NS_CBC, "cbc", "ID", UBL_SIGNATURE_ID) == NULL ||
	    (ref_id != NULL && *ref_id != '\0' &&
	     new_el(xd, *info, NS_SBC, "sbc", "ReferencedSignatureID", ref_id) == NULL)) {
		*info = NULL;
		goto done;
	}
	rc = SECMX_OK;
done:
	free(ref_id);
	return rc;
}

/* Where canonical bytes go: a digest, or a signature being computed. */
struct c14n_sink {
	EVP_MD_CTX *md;
	int sign; /* EVP_DigestSignUpdate rather than EVP_DigestUpdate */
};

/* sink_write: xmlOutputBuffer write callback; feeds the bytes to the sink. */
static int sink_write(void *ctx, const char *buf, int len)
{
	struct c14n_sink *k = ctx;
	int ok = k->sign ? EVP_DigestSignUpdate(k->md, buf, (size_t)len)
	                 : EVP_DigestUpdate(k->md, buf, (size_t)len);

	return ok == 1 ? len : -1;
}

/* in_subtree: C14N visibility: NODE (for a namespace: its element PARENT)
 * lies in the subtree at TOP. */
static int in_subtree(void *top, xmlNodePtr node, xmlNodePtr parent)
{
	xmlNodePtr n = node->type == XML_NAMESPACE_DECL ? parent : node;

	for (; n != NULL; n = n->parent)
		if (n == top)
			return 1;
	return 0;
}

/*
 * c14n_to: exclusive C14N 1.0 without comments of D (TOP NULL: the whole
 * document, every node visible) or of the subtree at TOP, streamed into K.
 */
static int c14n_to(xmlDocPtr d, xmlNodePtr top, struct c14n_sink *k)
{
	xmlOutputBufferPtr ob = xmlOutputBufferCreateIO(sink_write, NULL, k, NULL);
	int n, closed;

	if (ob == NULL)
		return SECMX_ENOMEM;
	n = xmlC14NExecute(d, top != NULL ? in_subtree : NULL, top, XML_C14N_EXCLUSIVE_1_0, NULL, 0,
	                   ob);
	closed = xmlOutputBufferClose(ob);
	return n < 0 || closed < 0 ? SECMX_EINTERNAL : SECMX_OK;
}

/* ecdsa_raw: a DER ECDSA-Sig-Value as XML-DSig's r || s, N bytes each,
 * into OUT (2 * N bytes). Returns 2 * N or -1. */
static int ecdsa_raw(const unsigned char *der, size_t len, int n, unsigned char *out)
{
	const unsigned char *p = der;
	ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)len);
	const BIGNUM *r, *s;
	int rc = -1;

	if (es == NULL)
		return -1;
	ECDSA_SIG_get0(es, &r, &s);
	if (BN_bn2binpad(r, out, n) == n && BN_bn2binpad(s, out + n, n) == n)
		rc = 2 * n;
	ECDSA_SIG_free(es);
	return rc;
}

/*
 * doc_digest: base64 SHA-256 of DOC's exclusive canonical form without
 * comments, into B64 (45 bytes). Called before ds:Signature is in the
 * document, this is what the Reference URI="" with the enveloped and
 * exc-c14n transforms digests once the signature is there.
 */
static int doc_digest(const struct engine_key *key, xmlDocPtr doc, char *b64)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	struct c14n_sink k = {md, 0};
	unsigned char dv[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	int rc = SECMX_EINTERNAL;

	if (md == NULL)
		return SECMX_ENOMEM;
	if (EVP_DigestInit_ex(md, key->sha256, NULL) != 1 || (rc = c14n_to(doc, NULL, &k)) < 0 ||
	    EVP_DigestFinal_ex(md, dv, &dlen) != 1 || dlen != 32) {
		if (rc == SECMX_OK)
			rc = SECMX_EINTERNAL;
		goto done;
	}
	EVP_EncodeBlock((unsigned char *)b64, dv, 32);
	rc = SECMX_OK;
done:
	EVP_MD_CTX_free(md);
	return rc;
}

/*
 * sign_info: sign the canonical form of the SignedInfo at SI (in D) with
 * KEY (RSA PKCS#1 v1.5 or ECDSA, SHA-256); the SignatureValue text
 * (malloc'd, caller frees) into *OUT.
 */
static int sign_info(const struct engine_key *key, xmlDocPtr d, xmlNodePtr si, char **out)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	struct c14n_sink k = {md, 1};
	unsigned char *der = NULL, raw[2 * 66];
	size_t len = 0;
	int n, rc = SECMX_EINTERNAL;

	*out = NULL;
	if (md == NULL)
		return SECMX_ENOMEM;
	if (EVP_DigestSignInit(md, NULL, key->sha256, NULL, key->pkey) != 1 ||
	    (rc = c14n_to(d, si, &k)) < 0 || EVP_DigestSignFinal(md, NULL, &len) != 1) {
		if (rc == SECMX_OK)
			rc = SECMX_EINTERNAL;
		goto done;
	}
	rc = SECMX_EINTERNAL;
	if ((der = OPENSSL_malloc(len)) == NULL || EVP_DigestSignFinal(md, der, &len) != 1)
		goto done;
	if (key->kind == DSIG_KEY_EC) {
		n = (key->bits + 7) / 8;
		if (n > 66 || ecdsa_raw(der, len, n, raw) < 0)
			goto done;
		*out = b64_lines(raw, 2 * (size_t)n, 0);
	} else {
		*out = b64_lines(der, len, 0);
	}
	rc = *out != NULL ? SECMX_OK : SECMX_ENOMEM;
done:
	ERR_clear_error();
	OPENSSL_free(der);
	EVP_MD_CTX_free(md);
	return rc;
}

/*
 * make_signature: the complete ds:Signature for a document whose digest is
 * DIGEST (base64), built and signed in a small document of its own (so the
 * SignedInfo's canonicalisation walks a few nodes, not the whole invoice),
 * then copied under INFO in DOC. xmlsec's template functions give it the
 * layout xmlsec itself writes.
 */
static int make_signature(const struct engine_key *key, xmlDocPtr doc, xmlNodePtr info,
                          const char *digest)
{
	xmlDocPtr d = xmlNewDoc((const xmlChar *)"1.0");
	xmlNodePtr sig, ref, si, sv, dv, kinfo, x509, cert, copy;
	xmlSecTransformId method =
	    key->kind == DSIG_KEY_EC ? xmlSecTransformEcdsaSha256Id : xmlSecTransformRsaSha256Id;
	char *value = NULL;
	int i, rc = SECMX_ENOMEM;

	if (d == NULL)
		return SECMX_ENOMEM;
	sig = xmlSecTmplSignatureCreateNsPref(d, xmlSecTransformExclC14NId, method, NULL,
	                                      (const xmlChar *)"ds");
	if (sig == NULL)
		goto done;
	xmlDocSetRootElement(d, sig);
	if ((ref = xmlSecTmplSignatureAddReference(sig, xmlSecTransformSha256Id, NULL,
	                                           (const xmlChar *)"", NULL)) == NULL ||
	    xmlSecTmplReferenceAddTransform(ref, xmlSecTransformEnvelopedId) == NULL ||
	    xmlSecTmplReferenceAddTransform(ref, xmlSecTransformExclC14NId) == NULL ||
	    (kinfo = xmlSecTmplSignatureEnsureKeyInfo(sig, NULL)) == NULL ||
	    (x509 = xmlSecTmplKeyInfoAddX509Data(kinfo)) == NULL)
		goto done;
	rc = SECMX_EINTERNAL;
	if ((si = engine__child(sig, NS_DS, "SignedInfo")) == NULL ||
	    (sv = engine__child(sig, NS_DS, "SignatureValue")) == NULL ||
	    (dv = engine__child(ref, NS_DS, "DigestValue")) == NULL)
		goto done;
	xmlNodeAddContent(dv, (const xmlChar *)digest);
	for (i = 0; i < key->ncerts; i++) {
		if ((cert = xmlSecAddChild(x509, (const xmlChar *)"X509Certificate",
		                           (const xmlChar *)NS_DS)) == NULL)
			goto done;
		xmlNodeAddContent(cert, (const xmlChar *)key->cert_b64[i]);
	}
	if ((rc = sign_info(key, d, si, &value)) < 0)
		goto done;
	xmlNodeAddContent(sv, (const xmlChar *)value);
	rc = SECMX_ENOMEM;
	if ((copy = xmlDocCopyNode(sig, doc, 1)) == NULL)
		goto done;
	xmlAddChild(info, copy);
	rc = SECMX_OK;
done:
	free(value);
	xmlFreeDoc(d);
	return rc;
}

/* engine_doc_sign: see engine.h. On failure the document is unchanged. */
int engine_doc_sign(const struct engine *eng, struct engine_doc *doc, const struct engine_key *key,
                    struct engine_report *rep)
{
	xmlNodePtr root, info, sig, added = NULL;
	char digest[48];
	int rc;

	(void)eng;
	if (doc == NULL || key == NULL || doc->xml == NULL || doc->validate_only)
		return SECMX_EINVAL;
	if ((rc = engine__dsig_need()) < 0)
		return rc;
	root = xmlDocGetRootElement(doc->xml);
	if (root == NULL || root->ns == NULL ||
	    strncmp((const char *)root->ns->href, NS_UBL_PREFIX, strlen(NS_UBL_PREFIX)) != 0) {
		engine__report_node(rep, "DSIG-PLACE", ENGINE_FATAL, root,
		                    "only UBL documents are signed (the signature goes in "
		                    "ext:UBLExtensions)");
		return SECMX_ESIG;
	}
	if ((sig = find_ds_signature(root)) != NULL) {
		engine__report_node(rep, "DSIG-COUNT", ENGINE_FATAL, sig,
		                    "the document already carries a ds:Signature; "
		                    "one signature per document");
		return SECMX_ESIG;
	}
	if ((rc = build_place(doc, root, &added, &info, rep)) < 0)
		goto done;
	/* The digest first: the document as it will be, minus ds:Signature. */
	if ((rc = doc_digest(key, doc->xml, digest)) < 0 ||
	    (rc = make_signature(key, doc->xml, info, digest)) < 0) {
		if (rc != SECMX_ENOMEM)
			engine__report_node(rep, "DSIG-SIGN", ENGINE_FATAL, root,
			                    "signing failed (canonicalisation or the private key "
			                    "operation)");
		goto done;
	}
	/* The tree changed: any verified bytes no longer describe it. */
	free(doc->signed_bytes);
	doc->signed_bytes = NULL;
	doc->signed_len = 0;
	added = NULL;
	rc = SECMX_OK;
done:
	if (added != NULL) {
		xmlUnlinkNode(added);
		xmlFreeNode(added);
	}
	return rc;
}
