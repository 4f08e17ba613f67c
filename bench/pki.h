/*
 * pki.h — throwaway keys and self-signed certificates for the benchmark and
 * the fuzzer (never for production: the keys live in a temporary directory
 * and are deleted by pki_remove()).
 *
 * pki_make()    generate a key (RSA-2048 or ECDSA P-256) and a self-signed
 *               CA-capable X.509 certificate (valid from now-1h for 1 day)
 *               into DIR/<stem>.key.pem and DIR/<stem>.crt.pem. Returns 0 or
 *               a negative SECMX_E* code; on failure nothing useful is left.
 * pki_remove()  delete the files pki_make wrote for STEM.
 * Thread safety: call from one thread at start-up.
 */
#ifndef SECMX_BENCH_PKI_H
#define SECMX_BENCH_PKI_H

#include <stddef.h>

enum pki_alg { PKI_RSA2048, PKI_P256 };

int pki_make(const char *dir, const char *stem, enum pki_alg alg);
void pki_remove(const char *dir, const char *stem);
/* pki_path: DIR/STEM.SUFFIX into BUF (of LEN bytes); returns BUF. */
const char *pki_path(char *buf, size_t len, const char *dir, const char *stem, const char *suffix);

#endif
