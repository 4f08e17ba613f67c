/*
 * dsig_int.h — private to engine/dsig*.c: the objects behind struct
 * engine_key and struct engine_trust, and the helpers the signing side
 * (dsig.c) shares with the verifying side (dsig_verify.c).
 *
 * Ownership: every pointer in these structures is owned by the structure
 * and released by its _free function. Both objects are immutable after
 * their _load function returns, so one may be shared by many threads.
 */
#ifndef SECMX_DSIG_INT_H
#define SECMX_DSIG_INT_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <xmlsec/keys.h>

#include "engine_int.h"

/* The algorithm family of a key, which picks the signature method. */
enum dsig_key_kind {
	DSIG_KEY_RSA = 1,
	DSIG_KEY_EC = 2,
};

/* Limit on the certificates of a key or a KeyInfo. */
#define DSIG_MAX_CERTS 16

struct engine_key {
	EVP_PKEY *pkey;                      /* the private key */
	EVP_MD *sha256;                      /* fetched once, for every signature */
	char *cert_b64[DSIG_MAX_CERTS];      /* KeyInfo text: leaf first, then chain */
	int ncerts;
	enum dsig_key_kind kind;
	int bits; /* RSA modulus or EC field size */
};

struct engine_trust {
	X509_STORE *store; /* anchors and CRLs; only read after load */
	int have_crls;
};

/* Policy: the smallest RSA modulus accepted, for signing and verifying. */
#define DSIG_RSA_MIN_BITS 2048

/*
 * engine__dsig_key_policy: check PKEY against the key policy (RSA of
 * DSIG_RSA_MIN_BITS or more; EC on P-256, P-384 or P-521). Returns the kind
 * (> 0) or SECMX_EKEY with a reason in WHY.
 */
int engine__dsig_key_policy(EVP_PKEY *pkey, int *bits, char *why, size_t whylen);

/* engine__dsig_last_error: the last xmlsec error on this thread, or "". */
const char *engine__dsig_last_error(void);
/* engine__dsig_clear_error: forget it (before an xmlsec call). */
void engine__dsig_clear_error(void);

#endif
