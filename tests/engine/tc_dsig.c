/*
 * tc_dsig.c — XML-DSig: signing in the UBL place and strict verification.
 *
 * A throwaway PKI is made at run time by tests/pki/mkpki.sh (the openssl
 * command) in a temporary directory, once for the TCase, and removed after.
 * Every refusal case starts from a validly signed invoice (which is first
 * shown to verify) and changes one thing, then asserts the specific rule.
 */
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "tests.h"

#define INVOICE "ubl-examples/oasis-ubl21/UBL-Invoice-2.1-Example.xml"
#define PASS "test-pass"

static char pki_dir[256];

/* run: fork/exec ARGV (stdout to /dev/null); the exit status. */
static int run(char *const argv[])
{
	pid_t pid = fork();
	int st = 0;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);
		if (fd >= 0)
			dup2(fd, 1);
		setenv("PKI_PASS", PASS, 1);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* pki_setup: make the test PKI once for the TCase (unchecked fixture). */
static void pki_setup(void)
{
	char script[PATH_MAX];
	char *argv[] = {"sh", script, pki_dir, NULL};

	snprintf(pki_dir, sizeof(pki_dir), "/tmp/secmx-tc-dsig-XXXXXX");
	if (mkdtemp(pki_dir) == NULL) {
		perror("mkdtemp");
		abort();
	}
	snprintf(script, sizeof(script), "%s/tests/pki/mkpki.sh", SECMX_SOURCE_DIR);
	if (run(argv) != 0) {
		fprintf(stderr, "tc_dsig: mkpki.sh failed (see %s/mkpki.log)\n", pki_dir);
		abort();
	}
}

/* pki_teardown: remove it. */
static void pki_teardown(void)
{
	char *argv[] = {"rm", "-rf", pki_dir, NULL};

	if (strncmp(pki_dir, "/tmp/secmx-tc-dsig-", 19) == 0)
		run(argv);
}

/* pki: path of a file in the test PKI (static buffer, two in rotation). */
static const char *pki(const char *name)
{
	static char buf[2][PATH_MAX];
	static int i;

	i ^= 1;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", pki_dir, name);
	return buf[i];
}

/* eng_plain: an engine without schemas (signing needs none). */
static struct engine *eng_plain(void)
{
	return test_engine(NULL, ENGINE_CFG_NO_SCHEMAS);
}

/* key_ok: load a PKI key that must load. */
static struct engine_key *key_ok(const char *key, const char *cert, const char *pw)
{
	struct engine_key *k = NULL;
	char err[512] = "";
	char kp[PATH_MAX], cp[PATH_MAX];
	int rc;

	secmx_strlcpy(kp, pki(key), sizeof(kp));
	if (cert)
		secmx_strlcpy(cp, pki(cert), sizeof(cp));
	rc = engine_key_load(kp, cert ? cp : NULL, pw, &k, err, sizeof(err));
	ck_assert_msg(rc == 0 && k != NULL, "key %s: %s", key, err);
	return k;
}

/* trust_of: a trust store from PKI files that must load. */
static struct engine_trust *trust_of(const char *ca, const char *crl)
{
	struct engine_trust *t = NULL;
	char err[512] = "", cp[PATH_MAX], lp[PATH_MAX];
	int rc;

	secmx_strlcpy(cp, pki(ca), sizeof(cp));
	if (crl)
		secmx_strlcpy(lp, pki(crl), sizeof(lp));
	rc = engine_trust_load(cp, crl ? lp : NULL, &t, err, sizeof(err));
	ck_assert_msg(rc == 0 && t != NULL, "trust %s: %s", ca, err);
	return t;
}

/* sign_doc: parse XML (or the invoice when NULL), sign with KEY, return the
 * serialized signed document (caller frees). */
static char *sign_doc(struct engine *eng, const char *xml, const struct engine_key *key)
{
	struct engine_report *rep = engine_report_new();
	struct engine_doc *doc;
	char *out = NULL;
	size_t len = 0;
	int rc;

	doc = xml ? test_parse_str(eng, xml, rep) : test_parse_file(eng, corpus(INVOICE), rep);
	rc = engine_doc_sign(eng, doc, key, rep);
	ck_assert_msg(rc == 0, "sign: %s (%s)", secmx_strerror(rc),
	              engine_report_count(rep) ? engine_report_at(rep, 0)->message : "");
	ck_assert_int_eq(engine_doc_serialize(doc, &out, &len), 0);
	engine_doc_free(doc);
	engine_report_free(rep);
	return out;
}

/* verify_str: parse and verify XML; returns the code, fills REP (and OUT_DOC
 * when given: the caller then frees it). */
static int verify_str(struct engine *eng, const char *xml, const struct engine_trust *t,
                      const struct engine_verify_opts *o, struct engine_report *rep,
                      struct engine_signer *s, struct engine_doc **out_doc)
{
	struct engine_doc *doc = NULL;
	int rc = engine_doc_parse(eng, xml, strlen(xml), "signed", &doc, rep);

	ck_assert_msg(rc == 0, "parse of the test document failed: %s", secmx_strerror(rc));
	rc = engine_doc_verify(eng, doc, t, o, rep, s);
	if (out_doc)
		*out_doc = doc;
	else
		engine_doc_free(doc);
	return rc;
}

/* refused: XML must be refused with RULE (among the findings). */
static void refused(struct engine *eng, const char *xml, const struct engine_trust *t,
                    const struct engine_verify_opts *o, const char *rule, const char *what)
{
	struct engine_report *rep = engine_report_new();
	struct engine_signer s;
	int rc = verify_str(eng, xml, t, o, rep, &s, NULL);
	char all[2048] = "";
	size_t i;

	for (i = 0; i < engine_report_count(rep); i++) {
		strncat(all, engine_report_at(rep, i)->rule, sizeof(all) - strlen(all) - 1);
		strncat(all, ": ", sizeof(all) - strlen(all) - 1);
		strncat(all, engine_report_at(rep, i)->message, sizeof(all) - strlen(all) - 1);
		strncat(all, "; ", sizeof(all) - strlen(all) - 1);
	}
	ck_assert_msg(rc == SECMX_ESIG, "%s: expected refusal, got %s [%s]", what,
	              secmx_strerror(rc), all);
	ck_assert_msg(report_has(rep, rule), "%s: expected %s, got [%s]", what, rule, all);
	ck_assert_int_ge(engine_report_fatal_count(rep), 1);
	engine_report_free(rep);
}

/* verified: XML must verify; returns nothing, asserts the signer's CN. */
static void verified(struct engine *eng, const char *xml, const struct engine_trust *t,
                     const struct engine_verify_opts *o, const char *cn)
{
	struct engine_report *rep = engine_report_new();
	struct engine_signer s;
	int rc = verify_str(eng, xml, t, o, rep, &s, NULL);

	ck_assert_msg(rc == 0, "expected to verify, got %s: %s %s", secmx_strerror(rc),
	              engine_report_count(rep) ? engine_report_at(rep, 0)->rule : "",
	              engine_report_count(rep) ? engine_report_at(rep, 0)->message : "");
	ck_assert_msg(strstr(s.subject, cn) != NULL, "signer %s, expected %s", s.subject, cn);
	engine_report_free(rep);
}

/* replace: S with the first FROM replaced by TO (new string; FROM must occur). */
static char *replace(const char *s, const char *from, const char *to)
{
	const char *p = strstr(s, from);
	size_t a, b = strlen(from), c = strlen(to), n = strlen(s);
	char *r;

	ck_assert_msg(p != NULL, "test bug: '%.60s' not found", from);
	a = (size_t)(p - s);
	r = malloc(n - b + c + 1);
	ck_assert_ptr_nonnull(r);
	memcpy(r, s, a);
	memcpy(r + a, to, c);
	memcpy(r + a + c, p + b, n - a - b + 1);
	return r;
}

/* span: a new copy of the part of S from the first FROM to the end of the
 * first END after it (inclusive). */
static char *span(const char *s, const char *from, const char *end)
{
	const char *p = strstr(s, from), *q;

	ck_assert_ptr_nonnull(p);
	q = strstr(p, end);
	ck_assert_ptr_nonnull(q);
	return strndup(p, (size_t)(q + strlen(end) - p));
}

/* The fixture every refusal test uses: a signed invoice that verifies. */
struct fx {
	struct engine *eng;
	struct engine_key *key;
	struct engine_trust *trust;
	char *xml;
};

/* fx_open: engine, RSA key, root trust, and a signed invoice that verifies. */
static void fx_open(struct fx *f)
{
	f->eng = eng_plain();
	f->key = key_ok("rsa-full.pem", NULL, NULL);
	f->trust = trust_of("ca.pem", NULL);
	f->xml = sign_doc(f->eng, NULL, f->key);
	verified(f->eng, f->xml, f->trust, NULL, "Signer RSA");
}

/* fx_close: release the fixture. */
static void fx_close(struct fx *f)
{
	free(f->xml);
	engine_key_free(f->key);
	engine_trust_free(f->trust);
	test_engine_free();
}

/* parse_validate_only: XML parsed from a temporary file with
 * ENGINE_PARSE_VALIDATE_ONLY (the caller frees the document). */
static struct engine_doc *parse_validate_only(struct engine *eng, const char *xml)
{
	char path[] = "/tmp/secmx-tc-dsig-vo-XXXXXX";
	struct engine_report *rep = engine_report_new();
	struct engine_doc *doc = NULL;
	size_t len = strlen(xml);
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	unlink(path);
	ck_assert_int_eq(write(fd, xml, len), (ssize_t)len);
	ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
	ck_assert_int_eq(engine_doc_parse_fd(eng, fd, "vo", ENGINE_PARSE_VALIDATE_ONLY, &doc, rep),
			 0);
	close(fd);
	engine_report_free(rep);
	return doc;
}

/* A validate-only document (no ignorable whitespace kept) is never signed or
 * verified: its bytes are not the document's. The same bytes parsed in full
 * verify (fx_open) and sign. */
START_TEST(validate_only_not_signed)
{
	struct engine_report *rep = engine_report_new();
	struct engine_doc *doc;
	struct engine_signer s;
	char *out = NULL;
	size_t len = 0;
	struct fx f;

	fx_open(&f);
	doc = parse_validate_only(f.eng, f.xml);
	ck_assert_int_eq(engine_doc_verify(f.eng, doc, f.trust, NULL, rep, &s), SECMX_EINVAL);
	ck_assert_int_eq(engine_doc_sign(f.eng, doc, f.key, rep), SECMX_EINVAL);
	ck_assert_int_eq(engine_doc_serialize(doc, &out, &len), SECMX_EINVAL);
	ck_assert_ptr_null(out);
	engine_doc_free(doc);
	engine_report_free(rep);
	fx_close(&f);
}
END_TEST

/* ---- signing and verifying ---- */

/* round_trip: sign with KEY, verify with the root CA, expect CN and ALG. */
static void round_trip(struct engine_key *k, const char *cn, const char *alg)
{
	struct engine *eng = eng_plain();
	struct engine_trust *t = trust_of("ca.pem", NULL);
	struct engine_report *rep = engine_report_new();
	struct engine_signer s;
	char *xml = sign_doc(eng, NULL, k);
	int rc = verify_str(eng, xml, t, NULL, rep, &s, NULL);

	ck_assert_msg(rc == 0, "verify: %s %s", secmx_strerror(rc),
	              engine_report_count(rep) ? engine_report_at(rep, 0)->message : "");
	ck_assert_msg(strstr(s.subject, cn) != NULL, "subject %s", s.subject);
	ck_assert_msg(strstr(s.issuer, "Intermediate") != NULL, "issuer %s", s.issuer);
	ck_assert_str_eq(s.sig_alg, alg);
	ck_assert_int_gt(strlen(s.serial), 0);
	/* the layout: UBLExtensions first, the UBL signature path, one Reference URI="" */
	ck_assert_msg(strstr(xml, "<ext:UBLExtensions") < strstr(xml, "<cbc:UBLVersionID"),
	              "ext:UBLExtensions must come first");
	ck_assert_ptr_nonnull(strstr(xml, "<sac:SignatureInformation"));
	ck_assert_ptr_nonnull(strstr(xml, "<ds:Reference URI=\"\">"));
	ck_assert_ptr_nonnull(strstr(xml, "xml-exc-c14n#"));
	ck_assert_ptr_nonnull(strstr(xml, "<ds:X509Certificate>"));
	free(xml);
	engine_report_free(rep);
	engine_trust_free(t);
	engine_key_free(k);
	test_engine_free();
}

START_TEST(rsa_pem_key_and_cert)
{
	eng_plain();
	round_trip(key_ok("rsa.key", "rsa-chain.pem", NULL), "Signer RSA", "rsa-sha256");
}
END_TEST

START_TEST(rsa_pem_one_file)
{
	eng_plain();
	round_trip(key_ok("rsa-full.pem", NULL, NULL), "Signer RSA", "rsa-sha256");
}
END_TEST

START_TEST(rsa_pem_encrypted)
{
	eng_plain();
	round_trip(key_ok("rsa-enc.key", "rsa-chain.pem", PASS), "Signer RSA", "rsa-sha256");
}
END_TEST

START_TEST(rsa_pkcs12)
{
	eng_plain();
	round_trip(key_ok("rsa.p12", NULL, PASS), "Signer RSA", "rsa-sha256");
}
END_TEST

START_TEST(ec_pem)
{
	eng_plain();
	round_trip(key_ok("ec.key", "ec-chain.pem", NULL), "Signer EC", "ecdsa-sha256");
}
END_TEST

START_TEST(ec_pkcs12)
{
	eng_plain();
	round_trip(key_ok("ec.p12", NULL, PASS), "Signer EC", "ecdsa-sha256");
}
END_TEST

/* key_refused: loading must fail with a message containing WHY. */
static void key_refused(const char *key, const char *cert, const char *pw, const char *why)
{
	struct engine_key *k = NULL;
	char err[512] = "", kp[PATH_MAX], cp[PATH_MAX];
	int rc;

	secmx_strlcpy(kp, pki(key), sizeof(kp));
	if (cert)
		secmx_strlcpy(cp, pki(cert), sizeof(cp));
	rc = engine_key_load(kp, cert ? cp : NULL, pw, &k, err, sizeof(err));
	ck_assert_msg(rc == SECMX_EKEY, "%s: expected SECMX_EKEY, got %s", key, secmx_strerror(rc));
	ck_assert_ptr_null(k);
	ck_assert_msg(strstr(err, why) != NULL, "%s: message '%s' lacks '%s'", key, err, why);
}

START_TEST(weak_keys_refused)
{
	eng_plain();
	key_refused("rsa1024.key", "rsa1024.pem", NULL, "1024 bits is too weak");
	key_refused("k1.key", "k1.pem", NULL, "secp256k1");
	key_refused("rsa.p12", NULL, "wrong", "wrong password");
	key_refused("rsa-enc.key", "rsa-chain.pem", NULL, "encrypted");
	key_refused("rsa.key", "ec.pem", NULL, "no certificate matches");
	key_refused("rsa.key", NULL, NULL, "no certificate matches");
	test_engine_free();
}
END_TEST

/* After verify the document is exactly the signed bytes: their SHA-256 is
 * the DigestValue of the signature, and they hold no signature. */
START_TEST(serialize_is_signed_bytes)
{
	struct fx f;
	struct engine_report *rep = engine_report_new();
	struct engine_signer s;
	struct engine_doc *doc = NULL;
	unsigned char md[32], b64[64];
	unsigned int mdlen = 0;
	char *out = NULL, *dv;
	size_t len = 0;

	fx_open(&f);
	ck_assert_int_eq(verify_str(f.eng, f.xml, f.trust, NULL, rep, &s, &doc), 0);
	ck_assert_int_eq(engine_doc_serialize(doc, &out, &len), 0);
	ck_assert_ptr_null(strstr(out, "Signature xmlns:ds"));
	ck_assert_ptr_null(strstr(out, "SignatureValue"));
	ck_assert_ptr_nonnull(strstr(out, "TOSL108"));
	ck_assert_int_eq(EVP_Digest(out, len, md, &mdlen, EVP_sha256(), NULL), 1);
	EVP_EncodeBlock(b64, md, (int)mdlen);
	dv = span(f.xml, "<ds:DigestValue>", "</ds:DigestValue>");
	ck_assert_msg(strstr(dv, (char *)b64) != NULL, "sha256(serialized)=%s, signed %s", b64, dv);
	/* and the document reads as what was signed: the invoice still classifies */
	ck_assert_int_eq(engine_doc_classify(f.eng, doc, rep), 0);
	ck_assert_str_eq(engine_doc_id(doc), "TOSL108");
	free(dv);
	free(out);
	engine_doc_free(doc);
	engine_report_free(rep);
	fx_close(&f);
}
END_TEST

START_TEST(signed_validates_ubl21_xsd)
{
	struct engine *eng = test_engine(corpus("ubl21-xsd/xsdrt"), 0);
	struct engine_key *k = key_ok("ec.p12", NULL, PASS);
	struct engine_report *rep = engine_report_new();
	struct engine_doc *doc;
	char *xml;
	const char *with_ext =
	    "<ext:UBLExtensions xmlns:ext=\"urn:oasis:names:specification:ubl:schema:xsd:"
	    "CommonExtensionComponents-2\"><ext:UBLExtension><ext:ExtensionURI>urn:x-other"
	    "</ext:ExtensionURI><ext:ExtensionContent><x:Thing xmlns:x=\"urn:x\"/>"
	    "</ext:ExtensionContent></ext:UBLExtension></ext:UBLExtensions>\n\t<cbc:UBLVersionID>";
	char *orig = NULL, *pre;
	size_t olen;

	/* a plain invoice, and one that already has an extension */
	xml = sign_doc(eng, NULL, k);
	doc = test_parse_str(eng, xml, rep);
	ck_assert_msg(engine_doc_validate_schema(eng, doc, rep) == 0, "XSD: %s",
	              engine_report_count(rep) ? engine_report_at(rep, 0)->message : "");
	engine_doc_free(doc);
	free(xml);

	ck_assert_int_eq(secmx_file_read(corpus(INVOICE), 1 << 20, &orig, &olen), 0);
	pre = replace(orig, "<cbc:UBLVersionID>", with_ext);
	xml = sign_doc(eng, pre, k);
	ck_assert_ptr_nonnull(strstr(xml, "urn:x-other"));
	ck_assert_ptr_nonnull(strstr(strstr(xml, "urn:x-other"), "<sac:SignatureInformation"));
	doc = test_parse_str(eng, xml, rep);
	ck_assert_msg(engine_doc_validate_schema(eng, doc, rep) == 0, "XSD: %s",
	              engine_report_count(rep) ? engine_report_at(rep, 0)->message : "");
	engine_doc_free(doc);
	{
		struct engine_trust *t = trust_of("ca.pem", NULL);
		verified(eng, xml, t, NULL, "Signer EC");
		engine_trust_free(t);
	}
	free(xml);
	free(pre);
	free(orig);
	engine_report_free(rep);
	engine_key_free(k);
	test_engine_free();
}
END_TEST

START_TEST(sign_refuses_signed_or_foreign)
{
	struct engine *eng = eng_plain();
	struct engine_key *k = key_ok("rsa-full.pem", NULL, NULL);
	struct engine_report *rep = engine_report_new();
	struct engine_doc *doc;

	doc = test_parse_file(eng, corpus("ubl-examples/oasis-ubl21/UBL-Invoice-2.0-Enveloped.xml"),
	                      rep);
	ck_assert_int_eq(engine_doc_sign(eng, doc, k, rep), SECMX_ESIG);
	ck_assert(report_has(rep, "DSIG-COUNT"));
	engine_doc_free(doc);
	engine_report_clear(rep);
	doc = test_parse_str(eng, "<r xmlns=\"urn:x\"><a/></r>", rep);
	ck_assert_int_eq(engine_doc_sign(eng, doc, k, rep), SECMX_ESIG);
	ck_assert(report_has(rep, "DSIG-PLACE"));
	engine_doc_free(doc);
	engine_report_free(rep);
	engine_key_free(k);
	test_engine_free();
}
END_TEST

/* ---- content and trust ---- */

START_TEST(tampered_content)
{
	struct fx f;
	char *bad, *bad2;

	fx_open(&f);
	bad = replace(f.xml, "<cbc:ID>TOSL108</cbc:ID>", "<cbc:ID>TOSL109</cbc:ID>");
	refused(f.eng, bad, f.trust, NULL, "DSIG-DIGEST", "one byte of content changed");
	/* the UBL wrapper of the signature is signed too */
	bad2 = replace(f.xml, "signature:1</cbc:ID>", "signature:2</cbc:ID>");
	refused(f.eng, bad2, f.trust, NULL, "DSIG-DIGEST", "SignatureInformation/cbc:ID changed");
	free(bad);
	free(bad2);
	fx_close(&f);
}
END_TEST

START_TEST(tampered_signature_value)
{
	struct fx f;
	char *sv, *bad, *p;

	fx_open(&f);
	sv = span(f.xml, "<ds:SignatureValue>", "</ds:SignatureValue>");
	p = sv + strlen("<ds:SignatureValue>") + 10;
	*p = *p == 'A' ? 'B' : 'A';
	{
		char *orig = span(f.xml, "<ds:SignatureValue>", "</ds:SignatureValue>");
		bad = replace(f.xml, orig, sv);
		free(orig);
	}
	refused(f.eng, bad, f.trust, NULL, "DSIG-SIGNATURE", "signature value changed");
	free(bad);
	free(sv);
	fx_close(&f);
}
END_TEST

START_TEST(wrong_trust)
{
	struct fx f;
	struct engine_trust *other;
	struct engine_key *k;
	char *xml;

	fx_open(&f);
	other = trust_of("other-ca.pem", NULL);
	refused(f.eng, f.xml, other, NULL, "DSIG-CHAIN", "trusting another CA");
	/* a signer under the other CA, verified with ours */
	k = key_ok("other.key", "other.pem", NULL);
	xml = sign_doc(f.eng, NULL, k);
	refused(f.eng, xml, f.trust, NULL, "DSIG-CHAIN", "signer under an untrusted CA");
	verified(f.eng, xml, other, NULL, "Signer Untrusted");
	free(xml);
	engine_key_free(k);
	engine_trust_free(other);
	fx_close(&f);
}
END_TEST

START_TEST(revoked_with_crl)
{
	struct fx f;
	struct engine_trust *with_crl;
	struct engine_key *k;
	char *xml;

	fx_open(&f);
	with_crl = trust_of("ca.pem", "crl.pem");
	k = key_ok("revoked.key", "revoked-chain.pem", NULL);
	xml = sign_doc(f.eng, NULL, k);
	verified(f.eng, xml, f.trust, NULL, "Signer Revoked"); /* no CRL: unknown */
	refused(f.eng, xml, with_crl, NULL, "DSIG-CHAIN", "revoked, CRL given");
	verified(f.eng, f.xml, with_crl, NULL, "Signer RSA"); /* good one still fine */
	free(xml);
	engine_key_free(k);
	engine_trust_free(with_crl);
	fx_close(&f);
}
END_TEST

START_TEST(expired_and_at)
{
	struct fx f;
	struct engine_key *k;
	struct engine_verify_opts at = {1591012800 /* 2020-06-01 */, 0};
	char *xml;

	fx_open(&f);
	k = key_ok("expired.key", "expired-chain.pem", NULL);
	xml = sign_doc(f.eng, NULL, k);
	refused(f.eng, xml, f.trust, NULL, "DSIG-CHAIN", "expired certificate");
	verified(f.eng, xml, f.trust, &at, "Signer Expired");
	free(xml);
	engine_key_free(k);
	fx_close(&f);
}
END_TEST

/* ---- signature wrapping (XSW 1-8) ---- */

START_TEST(xsw_variants)
{
	struct fx f;
	char *sig, *ext, *root, *v, *t;
	const char *inv_open;

	fx_open(&f);
	sig = span(f.xml, "<ds:Signature ", "</ds:Signature>");
	ext = span(f.xml, "<ext:UBLExtension>", "</ext:UBLExtension>");
	root = span(f.xml, "<Invoice ", "</Invoice>");
	inv_open = "<Invoice xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:Invoice-2\" "
	           "xmlns:cbc=\"urn:oasis:names:specification:ubl:schema:xsd:"
	           "CommonBasicComponents-2\" xmlns:ext=\"urn:oasis:names:specification:ubl:"
	           "schema:xsd:CommonExtensionComponents-2\">";

	/* XSW1: evil content in place, the signed original moved into ds:Object */
	t = replace(f.xml, "<cbc:ID>TOSL108</cbc:ID>", "<cbc:ID>EVIL</cbc:ID>");
	{
		char *signed_part = replace(root, sig, "");
		size_t n = strlen(signed_part) + 64;
		char *obj = malloc(n);
		snprintf(obj, n, "<ds:Object>%s</ds:Object></ds:Signature>", signed_part);
		v = replace(t, "</ds:Signature>", obj);
		free(obj);
		free(signed_part);
	}
	refused(f.eng, v, f.trust, NULL, "DSIG-OBJECT", "XSW1 original in ds:Object");
	free(v);
	free(t);

	/* XSW2: the signature moved out of the UBL place (last child of the root) */
	t = replace(f.xml, sig, "");
	{
		size_t n = strlen(sig) + 16;
		char *s2 = malloc(n);
		snprintf(s2, n, "%s</Invoice>", sig);
		v = replace(t, "</Invoice>", s2);
		free(s2);
	}
	refused(f.eng, v, f.trust, NULL, "DSIG-PLACE", "XSW2 signature moved");
	free(v);
	free(t);

	/* XSW3: the signature duplicated in a second UBLExtension */
	{
		size_t n = strlen(ext) * 2 + 32;
		char *two = malloc(n);
		snprintf(two, n, "%s%s", ext, ext);
		v = replace(f.xml, ext, two);
		free(two);
	}
	refused(f.eng, v, f.trust, NULL, "DSIG-COUNT", "XSW3 duplicated signature");
	free(v);

	/* XSW4: an evil root wrapping the signed original in its extension */
	{
		size_t n = strlen(root) + 1024;
		v = malloc(n);
		snprintf(v, n,
		         "%s<ext:UBLExtensions><ext:UBLExtension><ext:ExtensionContent>%s"
		         "</ext:ExtensionContent></ext:UBLExtension></ext:UBLExtensions>"
		         "<cbc:ID>EVIL</cbc:ID></Invoice>",
		         inv_open, root);
	}
	refused(f.eng, v, f.trust, NULL, "DSIG-PLACE", "XSW4 evil root around the original");
	free(v);

	/* XSW5: the Reference retargeted to an Id on the root */
	t = replace(f.xml, "<ds:Reference URI=\"\">", "<ds:Reference URI=\"#inv\">");
	v = replace(t, "<Invoice ", "<Invoice Id=\"inv\" ");
	refused(f.eng, v, f.trust, NULL, "DSIG-REF", "XSW5 Reference by Id");
	free(v);
	free(t);

	/* XSW6: a second Reference added */
	{
		char *ref = span(f.xml, "<ds:Reference ", "</ds:Reference>");
		size_t n = strlen(ref) * 2 + 8;
		char *two = malloc(n);
		snprintf(two, n, "%s%s", ref, ref);
		v = replace(f.xml, ref, two);
		free(two);
		free(ref);
	}
	refused(f.eng, v, f.trust, NULL, "DSIG-REF", "XSW6 extra Reference");
	free(v);

	/* XSW7: evil content hidden inside the signature (never digested) */
	v = replace(f.xml, "<ds:X509Data>",
	            "<cbc:ID xmlns:cbc=\"urn:oasis:names:specification:ubl:schema:xsd:"
	            "CommonBasicComponents-2\">EVIL</cbc:ID><ds:X509Data>");
	refused(f.eng, v, f.trust, NULL, "DSIG-KEYINFO", "XSW7 content inside KeyInfo");
	free(v);

	/* XSW8: a second signature under another prefix, same namespace */
	{
		char *s2 = replace(sig, "<ds:Signature ",
		                   "<x:Signature xmlns:x=\""
		                   "http://www.w3.org/2000/09/xmldsig#\" ");
		char *s3, *wrapped;
		size_t n;
		s3 = replace(s2, "</ds:Signature>", "</x:Signature>");
		n = strlen(s3) + 64;
		wrapped = malloc(n);
		snprintf(wrapped, n, "%s</cac:Delivery>", s3);
		v = replace(f.xml, "</cac:Delivery>", wrapped);
		free(wrapped);
		free(s3);
		free(s2);
	}
	refused(f.eng, v, f.trust, NULL, "DSIG-COUNT", "XSW8 second signature, other prefix");
	free(v);

	/* also: no signature at all */
	v = replace(f.xml, sig, "");
	refused(f.eng, v, f.trust, NULL, "DSIG-COUNT", "no signature");
	free(v);

	/* and the UBLExtensions moved after other content */
	{
		char *exts = span(f.xml, "<ext:UBLExtensions", "</ext:UBLExtensions>");
		size_t n = strlen(exts) + 64;
		char *moved = malloc(n);
		t = replace(f.xml, exts, "");
		snprintf(moved, n, "%s</Invoice>", exts);
		v = replace(t, "</Invoice>", moved);
		refused(f.eng, v, f.trust, NULL, "DSIG-PLACE", "UBLExtensions not first");
		free(v);
		free(t);
		free(moved);
		free(exts);
	}
	free(sig);
	free(ext);
	free(root);
	fx_close(&f);
}
END_TEST

/* ---- transforms, comments, algorithms, keys ---- */

#define EXC "<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>"

START_TEST(transforms_refused)
{
	struct fx f;
	char *v;

	fx_open(&f);
	v = replace(f.xml, EXC,
	            "<ds:Transform Algorithm=\"http://www.w3.org/TR/1999/REC-xpath-19991116\">"
	            "<ds:XPath>not(ancestor-or-self::cbc:ID)</ds:XPath></ds:Transform>");
	refused(f.eng, v, f.trust, NULL, "DSIG-TRANSFORM", "XPath transform");
	free(v);
	v = replace(f.xml, EXC,
	            "<ds:Transform Algorithm=\"http://www.w3.org/TR/1999/REC-xslt-19991116\">"
	            "<xsl:stylesheet xmlns:xsl=\"http://www.w3.org/1999/XSL/Transform\" "
	            "version=\"1.0\"/></ds:Transform>");
	refused(f.eng, v, f.trust, NULL, "DSIG-TRANSFORM", "XSLT transform");
	free(v);
	v = replace(f.xml, EXC,
	            "<ds:Transform Algorithm=\"http://www.w3.org/2002/06/xmldsig-filter2\"/>");
	refused(f.eng, v, f.trust, NULL, "DSIG-TRANSFORM", "XPath filter 2");
	free(v);
	v = replace(
	    f.xml,
	    "<ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/>",
	    "");
	refused(f.eng, v, f.trust, NULL, "DSIG-TRANSFORM", "no enveloped transform");
	free(v);
	fx_close(&f);
}
END_TEST

START_TEST(comment_tricks)
{
	struct fx f;
	char *v;

	fx_open(&f);
	/* Comments are outside URI="", so the digest still matches: only the
	 * structural rule stops a reader that takes the first text node. */
	v = replace(f.xml, "<cbc:ID>TOSL108</cbc:ID>", "<cbc:ID>TOSL<!---->108</cbc:ID>");
	refused(f.eng, v, f.trust, NULL, "DSIG-COMMENT", "comment splits cbc:ID");
	free(v);
	v = replace(
	    f.xml, EXC,
	    "<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#WithComments\"/>");
	refused(f.eng, v, f.trust, NULL, "DSIG-COMMENT", "WithComments transform");
	free(v);
	v = replace(
	    f.xml,
	    "<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>",
	    "<ds:CanonicalizationMethod "
	    "Algorithm=\"http://www.w3.org/2006/12/xml-c14n11#WithComments\"/>");
	refused(f.eng, v, f.trust, NULL, "DSIG-COMMENT", "WithComments c14n method");
	free(v);
	/* a comment between elements (not splitting text) is harmless */
	v = replace(f.xml, "<cbc:ID>TOSL108</cbc:ID>", "<!-- note --><cbc:ID>TOSL108</cbc:ID>");
	verified(f.eng, v, f.trust, NULL, "Signer RSA");
	free(v);
	fx_close(&f);
}
END_TEST

START_TEST(algorithms_refused)
{
	struct fx f;
	struct engine_verify_opts sha1 = {0, ENGINE_CFG_ALLOW_SHA1};
	char *v;

	fx_open(&f);
	v = replace(f.xml, "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
	            "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256");
	refused(f.eng, v, f.trust, NULL, "DSIG-ALG", "HMAC");
	free(v);
	v = replace(f.xml, "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
	            "http://www.w3.org/2000/09/xmldsig#hmac-sha1");
	refused(f.eng, v, f.trust, &sha1, "DSIG-ALG", "HMAC-SHA1 even with SHA-1 allowed");
	free(v);
	v = replace(f.xml, "http://www.w3.org/2001/04/xmlenc#sha256",
	            "http://www.w3.org/2000/09/xmldsig#sha1");
	refused(f.eng, v, f.trust, NULL, "DSIG-ALG", "SHA-1 digest");
	/* allowed, it passes the profile and fails on the digest (it was SHA-256) */
	refused(f.eng, v, f.trust, &sha1, "DSIG-DIGEST", "SHA-1 digest allowed, wrong value");
	free(v);
	v = replace(f.xml, "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
	            "http://www.w3.org/2000/09/xmldsig#rsa-sha1");
	refused(f.eng, v, f.trust, NULL, "DSIG-ALG", "RSA-SHA1");
	refused(f.eng, v, f.trust, &sha1, "DSIG-SIGNATURE", "RSA-SHA1 allowed, wrong value");
	free(v);
	v = replace(f.xml, "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
	            "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256");
	refused(f.eng, v, f.trust, NULL, "DSIG-ALG", "ECDSA method with an RSA certificate");
	free(v);
	fx_close(&f);
}
END_TEST

START_TEST(keyinfo_refused)
{
	struct fx f;
	char *x509, *v;

	fx_open(&f);
	x509 = span(f.xml, "<ds:X509Data>", "</ds:X509Data>");
	v = replace(f.xml, x509,
	            "<ds:KeyValue><ds:RSAKeyValue><ds:Modulus>AQAB</ds:Modulus>"
	            "<ds:Exponent>AQAB</ds:Exponent></ds:RSAKeyValue></ds:KeyValue>");
	refused(f.eng, v, f.trust, NULL, "DSIG-KEYINFO", "bare KeyValue");
	free(v);
	v = replace(f.xml, "<ds:X509Data>",
	            "<ds:KeyValue><ds:RSAKeyValue><ds:Modulus>AQAB</ds:Modulus>"
	            "<ds:Exponent>AQAB</ds:Exponent></ds:RSAKeyValue></ds:KeyValue><ds:X509Data>");
	refused(f.eng, v, f.trust, NULL, "DSIG-KEYINFO", "KeyValue beside X509Data");
	free(v);
	v = replace(f.xml, x509, "<ds:RetrievalMethod URI=\"http://127.0.0.1:1/key\"/>");
	refused(f.eng, v, f.trust, NULL, "DSIG-KEYINFO", "RetrievalMethod");
	free(v);
	v = replace(f.xml, x509, "<ds:X509Data/>");
	refused(f.eng, v, f.trust, NULL, "DSIG-KEYINFO", "empty X509Data");
	free(v);
	free(x509);
	fx_close(&f);
}
END_TEST

/* Key substitution: a certificate in KeyInfo other than the signer's. */
START_TEST(key_substitution)
{
	struct fx f;
	struct engine_key *k;
	char *xml, *mine, *theirs, *v;

	fx_open(&f);
	/* signed by a key under the untrusted CA, KeyInfo swapped for our trusted
	 * RSA signer's certificates: the chain passes, the signature cannot */
	k = key_ok("other.key", "other.pem", NULL);
	xml = sign_doc(f.eng, NULL, k);
	mine = span(f.xml, "<ds:X509Data>", "</ds:X509Data>");
	theirs = span(xml, "<ds:X509Data>", "</ds:X509Data>");
	v = replace(xml, theirs, mine);
	refused(f.eng, v, f.trust, NULL, "DSIG-SIGNATURE", "KeyInfo of another (trusted) signer");
	free(v);
	engine_key_free(k);
	free(xml);
	free(theirs);
	/* an EC-signed document carrying the RSA signer's certificate */
	k = key_ok("ec.p12", NULL, PASS);
	xml = sign_doc(f.eng, NULL, k);
	theirs = span(xml, "<ds:X509Data>", "</ds:X509Data>");
	v = replace(xml, theirs, mine);
	refused(f.eng, v, f.trust, NULL, "DSIG-ALG", "ECDSA signature with an RSA certificate");
	free(v);
	free(theirs);
	free(mine);
	free(xml);
	engine_key_free(k);
	fx_close(&f);
}
END_TEST

/* An intermediate CA alone is a usable trust anchor; a directory works too. */
START_TEST(trust_forms)
{
	struct fx f;
	struct engine_trust *t;

	fx_open(&f);
	t = trust_of("int.pem", NULL);
	verified(f.eng, f.xml, t, NULL, "Signer RSA");
	engine_trust_free(t);
	t = trust_of("ca.db", NULL); /* a directory: the root CA database (PEM + other files) */
	verified(f.eng, f.xml, t, NULL, "Signer RSA");
	engine_trust_free(t);
	fx_close(&f);
}
END_TEST

struct thread_arg {
	struct engine *eng;
	struct engine_trust *trust;
	const char *good, *bad;
	int errors;
};

/* verify_many: the shared engine and trust from several threads at once. */
static void *verify_many(void *p)
{
	struct thread_arg *a = p;
	int i;

	for (i = 0; i < 20; i++) {
		struct engine_report *rep = engine_report_new();
		struct engine_doc *doc = NULL;
		const char *x = (i & 1) ? a->bad : a->good;
		int rc = engine_doc_parse(a->eng, x, strlen(x), "t", &doc, rep);

		if (rc == 0)
			rc = engine_doc_verify(a->eng, doc, a->trust, NULL, rep, NULL);
		if ((i & 1) ? rc != SECMX_ESIG || !report_has(rep, "DSIG-DIGEST") : rc != 0)
			a->errors++;
		engine_doc_free(doc);
		engine_report_free(rep);
	}
	return NULL;
}

START_TEST(threads)
{
	struct fx f;
	struct thread_arg a[4];
	pthread_t th[4];
	char *bad;
	int i;

	fx_open(&f);
	bad = replace(f.xml, "<cbc:ID>TOSL108</cbc:ID>", "<cbc:ID>TOSL109</cbc:ID>");
	for (i = 0; i < 4; i++) {
		a[i] = (struct thread_arg){f.eng, f.trust, f.xml, bad, 0};
		ck_assert_int_eq(pthread_create(&th[i], NULL, verify_many, &a[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		ck_assert_msg(a[i].errors == 0, "thread %d: %d wrong results", i, a[i].errors);
	}
	free(bad);
	fx_close(&f);
}
END_TEST

/* ---- the signer's own paths: C14N forms, curves, reuse, threads ---- */

/* xmlsec1_verifies: does the real `xmlsec1 --verify` accept XML under CA? */
static int xmlsec1_verifies(const char *xml, const char *ca)
{
	char path[PATH_MAX], cap[PATH_MAX];
	char *argv[] = {"xmlsec1", "--verify", "--trusted-pem", cap, path, NULL};
	FILE *fp;
	pid_t pid;
	int st = 0;

	snprintf(path, sizeof(path), "%s/xmlsec1-check.xml", pki_dir);
	secmx_strlcpy(cap, pki(ca), sizeof(cap));
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	ck_assert_int_eq(fputs(xml, fp) >= 0, 1);
	ck_assert_int_eq(fclose(fp), 0);
	if ((pid = fork()) == 0) {
		int fd = open("/dev/null", O_WRONLY);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* invoice_text: the corpus invoice as a string (caller frees). */
static char *invoice_text(void)
{
	char *buf = NULL;
	size_t len = 0;

	ck_assert_int_eq(secmx_file_read(corpus(INVOICE), 1 << 20, &buf, &len), 0);
	return buf;
}

/* invoice_numbered: the invoice with cbc:ID TOSL108 replaced by TOSL-N. */
static char *invoice_numbered(const char *orig, int n)
{
	char id[64];

	snprintf(id, sizeof(id), "<cbc:ID>TOSL-%d</cbc:ID>", n);
	return replace(orig, "<cbc:ID>TOSL108</cbc:ID>", id);
}

START_TEST(sign_c14n_forms)
{
	/* Content whose canonical form differs from its serialization: the
	 * signer's digest must match what xmlsec1 and our verifier compute. */
	static const char *const forms[] = {
	    /* comments (outside URI="") and a PI, between elements */
	    "<!-- before --><?pi some data?><cbc:ID>TOSL108</cbc:ID><!-- after -->",
	    /* the prolog and the epilog: a PI and a comment around the root */
	    "<?pi-before top?>\n<!-- c -->\n<Invoice xmlns=",
	    "</Invoice>\n<?pi-after end?><!-- e -->",
	    /* CDATA, escapes and character references in text */
	    "<cbc:ID>TOSL108</cbc:ID><cbc:Note><![CDATA[a < b & c > d]]> &amp; &lt; "
	    "&#62; \"q\" 'a' &#x9;tab&#xD;cr \xc3\xa9\xe2\x82\xac</cbc:Note>",
	    /* attributes: order, escapes, xml:lang, a namespaced one */
	    "<cbc:ID>TOSL108</cbc:ID><cbc:Note z=\"1\" xml:lang=\"en\" a=\"&lt;&amp;&quot;&#xA;&#x9;\" "
	    "x:b=\"2\" xmlns:x=\"urn:x\">n</cbc:Note>",
	    /* unused and redeclared namespaces, a default namespace inside */
	    "<cbc:ID xmlns:unused=\"urn:unused\">TOSL108</cbc:ID><x:Ext xmlns:x=\"urn:x\" "
	    "xmlns=\"urn:other\"><Inner xmlns:cbc=\"urn:not-cbc\"><cbc:Y/></Inner>"
	    "<x:Empty></x:Empty></x:Ext>",
	};
	struct engine *eng = eng_plain();
	struct engine_key *rsa = key_ok("rsa-full.pem", NULL, NULL);
	struct engine_key *ec = key_ok("ec.p12", NULL, PASS);
	struct engine_trust *t = trust_of("ca.pem", NULL);
	char *orig = invoice_text();
	size_t i;

	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		const char *from = strncmp(forms[i], "<?pi-before", 11) == 0 ? "<Invoice xmlns="
		                   : strncmp(forms[i], "</Invoice>", 10) == 0 ? "</Invoice>"
		                                                               : "<cbc:ID>TOSL108</cbc:ID>";
		char *in = replace(orig, from, forms[i]);
		char *a = sign_doc(eng, in, rsa), *b = sign_doc(eng, in, ec);

		verified(eng, a, t, NULL, "Signer RSA");
		verified(eng, b, t, NULL, "Signer EC");
		ck_assert_msg(xmlsec1_verifies(a, "ca.pem"), "xmlsec1 refused RSA form %zu", i);
		ck_assert_msg(xmlsec1_verifies(b, "ca.pem"), "xmlsec1 refused EC form %zu", i);
		free(a);
		free(b);
		free(in);
	}
	free(orig);
	engine_trust_free(t);
	engine_key_free(rsa);
	engine_key_free(ec);
	test_engine_free();
}
END_TEST

START_TEST(sign_ec_curves)
{
	/* r || s is padded to the field size: 48 bytes (P-384), 66 (P-521). */
	static const char *const keys[] = {"ec384-full.pem", "ec521-full.pem"};
	static const char *const cns[] = {"Signer EC384", "Signer EC521"};
	struct engine *eng = eng_plain();
	struct engine_trust *t = trust_of("ca.pem", NULL);
	size_t i;

	for (i = 0; i < 2; i++) {
		struct engine_key *k = key_ok(keys[i], NULL, NULL);
		int j;

		for (j = 0; j < 8; j++) { /* several: a short r or s needs padding */
			char *xml = sign_doc(eng, NULL, k);

			verified(eng, xml, t, NULL, cns[i]);
			if (j == 0)
				ck_assert_msg(xmlsec1_verifies(xml, "ca.pem"), "xmlsec1: %s", keys[i]);
			free(xml);
		}
		engine_key_free(k);
	}
	engine_trust_free(t);
	test_engine_free();
}
END_TEST

START_TEST(sign_many_in_a_row)
{
	/* One thread, one loaded key each, 1,000 signatures of different
	 * invoices: every one verifies (ours), some also with xmlsec1. */
	struct engine *eng = eng_plain();
	struct engine_key *rsa = key_ok("rsa-full.pem", NULL, NULL);
	struct engine_key *ec = key_ok("ec.p12", NULL, PASS);
	struct engine_trust *t = trust_of("ca.pem", NULL);
	char *orig = invoice_text();
	int i, bad = 0;

	for (i = 0; i < 1000; i++) {
		char *in = invoice_numbered(orig, i), *xml;
		char want[64];
		struct engine_report *rep = engine_report_new();
		struct engine_doc *doc = NULL;

		xml = sign_doc(eng, in, (i & 1) ? ec : rsa);
		if (verify_str(eng, xml, t, NULL, rep, NULL, &doc) != 0 ||
		    engine_doc_classify(eng, doc, rep) != 0)
			bad++;
		snprintf(want, sizeof(want), "TOSL-%d", i);
		if (doc == NULL || engine_doc_id(doc) == NULL || strcmp(engine_doc_id(doc), want) != 0)
			bad++;
		if (i == 0 || i == 1 || i == 998 || i == 999)
			ck_assert_msg(xmlsec1_verifies(xml, "ca.pem"), "xmlsec1 refused #%d", i);
		engine_doc_free(doc);
		engine_report_free(rep);
		free(xml);
		free(in);
	}
	ck_assert_msg(bad == 0, "%d of 1000 signed invoices did not verify as themselves", bad);
	free(orig);
	engine_trust_free(t);
	engine_key_free(rsa);
	engine_key_free(ec);
	test_engine_free();
}
END_TEST

/* What a signing thread shares and reports. */
struct sign_arg {
	struct engine *eng;
	const struct engine_key *rsa, *ec;
	const struct engine_trust *trust;
	const char *orig;
	int base, count, errors;
	char *last; /* the thread's last signed output, for xmlsec1 */
};

/* sign_many: sign and verify ARG->count invoices with the shared keys. */
static void *sign_many(void *p)
{
	struct sign_arg *a = p;
	int i;

	for (i = 0; i < a->count; i++) {
		char id[64], *in = NULL, *out = NULL;
		const char *at = strstr(a->orig, "<cbc:ID>TOSL108</cbc:ID>");
		struct engine_report *rep = engine_report_new();
		struct engine_doc *doc = NULL;
		size_t len = 0, n = (size_t)(at - a->orig);
		int rc;

		/* no ck_assert off the test's thread: count the errors */
		snprintf(id, sizeof(id), "<cbc:ID>TOSL-%d</cbc:ID>", a->base + i);
		if ((in = malloc(strlen(a->orig) + sizeof(id))) == NULL) {
			a->errors++;
			engine_report_free(rep);
			continue;
		}
		snprintf(in, strlen(a->orig) + sizeof(id), "%.*s%s%s", (int)n, a->orig, id,
		         at + strlen("<cbc:ID>TOSL108</cbc:ID>"));
		rc = engine_doc_parse(a->eng, in, strlen(in), "t", &doc, rep);
		if (rc == 0)
			rc = engine_doc_sign(a->eng, doc, (i & 1) ? a->ec : a->rsa, rep);
		if (rc == 0)
			rc = engine_doc_serialize(doc, &out, &len);
		engine_doc_free(doc);
		doc = NULL;
		if (rc == 0)
			rc = engine_doc_parse(a->eng, out, len, "t", &doc, rep);
		if (rc == 0)
			rc = engine_doc_verify(a->eng, doc, a->trust, NULL, rep, NULL);
		if (rc == 0)
			rc = engine_doc_classify(a->eng, doc, rep);
		snprintf(id, sizeof(id), "TOSL-%d", a->base + i);
		if (rc != 0 || engine_doc_id(doc) == NULL || strcmp(engine_doc_id(doc), id) != 0)
			a->errors++;
		engine_doc_free(doc);
		engine_report_free(rep);
		free(in);
		free(a->last);
		a->last = out;
	}
	return NULL;
}

START_TEST(sign_threads)
{
	/* Four threads sign at once with the same two keys and engine. */
	struct engine *eng = eng_plain();
	struct engine_key *rsa = key_ok("rsa-full.pem", NULL, NULL);
	struct engine_key *ec = key_ok("ec.p12", NULL, PASS);
	struct engine_trust *t = trust_of("ca.pem", NULL);
	char *orig = invoice_text();
	struct sign_arg a[4];
	pthread_t th[4];
	int i;

	for (i = 0; i < 4; i++) {
		a[i] = (struct sign_arg){eng, rsa, ec, t, orig, 1000 * i, 100, 0, NULL};
		ck_assert_int_eq(pthread_create(&th[i], NULL, sign_many, &a[i]), 0);
	}
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < 4; i++) {
		ck_assert_msg(a[i].errors == 0, "thread %d: %d of 100 wrong", i, a[i].errors);
		ck_assert_ptr_nonnull(a[i].last);
		ck_assert_msg(xmlsec1_verifies(a[i].last, "ca.pem"), "xmlsec1, thread %d", i);
		free(a[i].last);
	}
	free(orig);
	engine_trust_free(t);
	engine_key_free(rsa);
	engine_key_free(ec);
	test_engine_free();
}
END_TEST

/* tc_dsig: the TCase, with the PKI made once for all its tests. */
TCase *tc_dsig(void)
{
	TCase *tc = tcase_create("dsig");

	tcase_add_unchecked_fixture(tc, pki_setup, pki_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, rsa_pem_key_and_cert);
	tcase_add_test(tc, rsa_pem_one_file);
	tcase_add_test(tc, rsa_pem_encrypted);
	tcase_add_test(tc, rsa_pkcs12);
	tcase_add_test(tc, ec_pem);
	tcase_add_test(tc, ec_pkcs12);
	tcase_add_test(tc, weak_keys_refused);
	tcase_add_test(tc, serialize_is_signed_bytes);
	tcase_add_test(tc, validate_only_not_signed);
	tcase_add_test(tc, signed_validates_ubl21_xsd);
	tcase_add_test(tc, sign_refuses_signed_or_foreign);
	tcase_add_test(tc, tampered_content);
	tcase_add_test(tc, tampered_signature_value);
	tcase_add_test(tc, wrong_trust);
	tcase_add_test(tc, revoked_with_crl);
	tcase_add_test(tc, expired_and_at);
	tcase_add_test(tc, xsw_variants);
	tcase_add_test(tc, transforms_refused);
	tcase_add_test(tc, comment_tricks);
	tcase_add_test(tc, algorithms_refused);
	tcase_add_test(tc, keyinfo_refused);
	tcase_add_test(tc, key_substitution);
	tcase_add_test(tc, trust_forms);
	tcase_add_test(tc, threads);
	tcase_add_test(tc, sign_c14n_forms);
	tcase_add_test(tc, sign_ec_curves);
	tcase_add_test(tc, sign_many_in_a_row);
	tcase_add_test(tc, sign_threads);
	return tc;
}
