/*
 * pki.c — throwaway keys and self-signed certificates (see pki.h), made with
 * OpenSSL 3's EVP and X509 API so no external command is needed.
 */
#include <stdio.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common.h"
#include "pki.h"

/* pki_path: see pki.h. */
const char *pki_path(char *buf, size_t len, const char *dir, const char *stem, const char *suffix)
{
	snprintf(buf, len, "%s/%s.%s", dir, stem, suffix);
	return buf;
}

/* add_ext: add one v3 extension (NID, text value) to the self-signed CERT. */
static int add_ext(X509 *cert, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		return 0;
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

/* pki_make: see pki.h. */
int pki_make(const char *dir, const char *stem, enum pki_alg alg)
{
	char path[4096];
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	X509_NAME *name;
	FILE *fp = NULL;
	int rc = SECMX_EINTERNAL;

	key = alg == PKI_RSA2048 ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048)
				 : EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (key == NULL || (cert = X509_new()) == NULL)
		goto done;
	if (!X509_set_version(cert, 2) || !ASN1_INTEGER_set(X509_get_serialNumber(cert), 1) ||
	    !X509_gmtime_adj(X509_getm_notBefore(cert), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(cert), 86400) || !X509_set_pubkey(cert, key))
		goto done;
	name = X509_get_subject_name(cert);
	if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
					(const unsigned char *)"secmx throwaway", -1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)stem,
					-1, -1, 0) ||
	    !X509_set_issuer_name(cert, name))
		goto done;
	if (!add_ext(cert, NID_basic_constraints, "critical,CA:TRUE") ||
	    !add_ext(cert, NID_key_usage, "critical,digitalSignature,keyCertSign,cRLSign") ||
	    !add_ext(cert, NID_subject_key_identifier, "hash"))
		goto done;
	if (!X509_sign(cert, key, EVP_sha256()))
		goto done;
	rc = SECMX_EIO;
	if ((fp = fopen(pki_path(path, sizeof(path), dir, stem, "key.pem"), "w")) == NULL ||
	    !PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL, NULL))
		goto done;
	if (fclose(fp) != 0) {
		fp = NULL;
		goto done;
	}
	if ((fp = fopen(pki_path(path, sizeof(path), dir, stem, "crt.pem"), "w")) == NULL ||
	    !PEM_write_X509(fp, cert))
		goto done;
	if (fclose(fp) != 0) {
		fp = NULL;
		goto done;
	}
	fp = NULL;
	rc = SECMX_OK;
done:
	if (fp != NULL)
		fclose(fp);
	X509_free(cert);
	EVP_PKEY_free(key);
	return rc;
}

/* pki_remove: see pki.h. */
void pki_remove(const char *dir, const char *stem)
{
	char path[4096];

	unlink(pki_path(path, sizeof(path), dir, stem, "key.pem"));
	unlink(pki_path(path, sizeof(path), dir, stem, "crt.pem"));
}
