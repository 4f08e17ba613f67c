/*
 * dsig_verify.c — strict XML-DSig verification (engine_doc_verify).
 *
 * Three steps, each able to refuse on its own (docs/signatures.md has the
 * whole profile and the threat list):
 *   1. A structural pre-check in our own code, before any cryptography:
 *      exactly one ds:Signature in the whole document, in the UBL place
 *      (root/ext:UBLExtensions/ext:UBLExtension/ext:ExtensionContent/
 *      sig:UBLDocumentSignatures/sac:SignatureInformation; for a non-UBL root,
 *      a direct child of the root); SignedInfo with exactly one Reference,
 *      URI=""; only the enveloped transform then at most one C14N transform;
 *      no #WithComments; only RSA/ECDSA with SHA-2 (SHA-1 only when allowed);
 *      no Object/Manifest; KeyInfo holding X509Data/X509Certificate only; no
 *      text node split by a comment anywhere in the document.
 *   2. Key selection by us: the leaf certificate (the one that issued none of
 *      the others) must chain to the trust store at the verification time
 *      (with CRLs when the store has them) and meet the key policy. xmlsec is
 *      handed that key (signKey), so it never reads KeyInfo, and it is allowed
 *      only empty-URI references and the transforms named above.
 *   3. The bytes that were digested (the Reference's pre-digest buffer) are
 *      re-parsed with the engine's safe parser and replace the document, and
 *      are kept in doc->signed_bytes: every later stage, and
 *      engine_doc_serialize(), sees exactly what the signer signed.
 *
 * Findings (all fatal): DSIG-COUNT, DSIG-PLACE, DSIG-STRUCT, DSIG-OBJECT,
 * DSIG-REF, DSIG-TRANSFORM, DSIG-COMMENT, DSIG-ALG, DSIG-KEYINFO, DSIG-CHAIN,
 * DSIG-KEY, DSIG-DIGEST, DSIG-SIGNATURE, DSIG-SIGNED.
 * Returns SECMX_ESIG on refusal, SECMX_EINVAL on bad arguments, SECMX_ENOMEM.
 * On refusal the document is left as it was.
 *
 * Limits: at most 16 certificates in KeyInfo.
 */
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <xmlsec/buffer.h>
#include <xmlsec/crypto.h>
#include <xmlsec/list.h>
#include <xmlsec/transforms.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/openssl/x509.h>

#include "dsig_int.h"

#define MAX_CERTS 16

#define ALG_EXC_C14N "http://www.w3.org/2001/10/xml-exc-c14n#"
#define ALG_C14N10 "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
#define ALG_C14N11 "http://www.w3.org/2006/12/xml-c14n11"
#define ALG_WITH_COMMENTS "#WithComments"
#define ALG_ENVELOPED "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
#define ALG_XPATH "http://www.w3.org/TR/1999/REC-xpath-19991116"
#define ALG_XPATH2 "http://www.w3.org/2002/06/xmldsig-filter2"
#define ALG_XSLT "http://www.w3.org/TR/1999/REC-xslt-19991116"
#define NS_EXC_C14N "http://www.w3.org/2001/10/xml-exc-c14n#"

/* Digest and signature methods we may accept; SHA-1 ones need the flag. */
static const struct alg {
	const char *uri;
	const char *name; /* for engine_signer.sig_alg */
	int sha1;
	enum dsig_key_kind kind; /* 0 for digests */
} DIGESTS[] =
    {
        {"http://www.w3.org/2001/04/xmlenc#sha256", "sha256", 0, 0},
        {"http://www.w3.org/2001/04/xmldsig-more#sha384", "sha384", 0, 0},
        {"http://www.w3.org/2001/04/xmlenc#sha512", "sha512", 0, 0},
        {"http://www.w3.org/2000/09/xmldsig#sha1", "sha1", 1, 0},
},
  SIGNATURES[] = {
      {"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", "rsa-sha256", 0, DSIG_KEY_RSA},
      {"http://www.w3.org/2001/04/xmldsig-more#rsa-sha384", "rsa-sha384", 0, DSIG_KEY_RSA},
      {"http://www.w3.org/2001/04/xmldsig-more#rsa-sha512", "rsa-sha512", 0, DSIG_KEY_RSA},
      {"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256", "ecdsa-sha256", 0, DSIG_KEY_EC},
      {"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384", "ecdsa-sha384", 0, DSIG_KEY_EC},
      {"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512", "ecdsa-sha512", 0, DSIG_KEY_EC},
      {"http://www.w3.org/2000/09/xmldsig#rsa-sha1", "rsa-sha1", 1, DSIG_KEY_RSA},
      {"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1", "ecdsa-sha1", 1, DSIG_KEY_EC},
};

/* What the pre-check learnt, for the later steps. */
struct precheck {
	xmlNodePtr sig, signed_info, ref, key_info;
	const struct alg *sig_alg;
	STACK_OF(X509) * certs; /* decoded KeyInfo certificates (owned) */
	int errors;
};

/* bad: one fatal finding at NODE. */
#define bad(pc, rep, rule, node, ...)                                                              \
	do {                                                                                       \
		engine__report_node((rep), (rule), ENGINE_FATAL, (node), __VA_ARGS__);             \
		(pc)->errors++;                                                                    \
	} while (0)

/* ns_is: N is an element in namespace NS. */
static int ns_is(xmlNodePtr n, const char *ns)
{
	return n && n->type == XML_ELEMENT_NODE && n->ns &&
	       strcmp((const char *)n->ns->href, ns) == 0;
}

/* el_is: N is the element NS:NAME. */
static int el_is(xmlNodePtr n, const char *ns, const char *name)
{
	return ns_is(n, ns) && strcmp((const char *)n->name, name) == 0;
}

/* attr: the value of attribute NAME (no namespace) of N, or NULL; borrowed. */
static const char *attr(xmlNodePtr n, const char *name)
{
	xmlAttrPtr a = xmlHasNsProp(n, (const xmlChar *)name, NULL);

	if (a == NULL || a->ns != NULL)
		return NULL;
	return a->children && a->children->type == XML_TEXT_NODE
	           ? (const char *)a->children->content
	           : "";
}

/* blank: S is empty or only XML white space. */
static int blank(const xmlChar *s)
{
	for (; s && *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
			return 0;
	return 1;
}

/* ends_with: S ends with SUF. */
static int ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && strcmp(s + a - b, suf) == 0;
}

/* collect_sigs: every ds:Signature under N, in document order (up to 8). */
static void collect_sigs(xmlNodePtr n, xmlNodePtr *out, size_t *count)
{
	for (; n != NULL; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (el_is(n, NS_DS, "Signature")) {
			if (*count < 8)
				out[*count] = n;
			(*count)++;
		}
		collect_sigs(n->children, out, count);
	}
}

/* comment_tricks: a comment inside an element that also holds real text
 * splits that text into pieces that different readers join differently. */
static void comment_tricks(struct precheck *pc, xmlNodePtr n, struct engine_report *rep)
{
	xmlNodePtr c;

	for (; n != NULL; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		int has_comment = 0, has_text = 0;
		xmlNodePtr first_comment = NULL;
		for (c = n->children; c != NULL; c = c->next) {
			if (c->type == XML_COMMENT_NODE) {
				has_comment = 1;
				if (first_comment == NULL)
					first_comment = c;
			} else if ((c->type == XML_TEXT_NODE ||
			            c->type == XML_CDATA_SECTION_NODE) &&
			           !blank(c->content)) {
				has_text = 1;
			}
		}
		if (has_comment && has_text)
			bad(pc, rep, "DSIG-COMMENT", n,
			    "a comment splits the text of this element (comment trick): refused");
		comment_tricks(pc, n->children, rep);
	}
}

/* check_place: the signature must sit where UBL puts it. */
static void check_place(struct precheck *pc, xmlNodePtr root, xmlNodePtr sig,
                        struct engine_report *rep)
{
	static const struct {
		const char *ns, *name;
	} up[] = {
	    {NS_SAC, "SignatureInformation"}, {NS_SIG, "UBLDocumentSignatures"},
	    {NS_EXT, "ExtensionContent"},     {NS_EXT, "UBLExtension"},
	    {NS_EXT, "UBLExtensions"},
	};
	xmlNodePtr p = sig->parent, first;
	size_t i;

	if (sig == root) {
		bad(pc, rep, "DSIG-PLACE", sig,
		    "the signature is the document (an enveloping signature); only an enveloped "
		    "signature over a whole document is accepted");
		return;
	}
	if (root->ns == NULL ||
	    strncmp((const char *)root->ns->href, NS_UBL_PREFIX, strlen(NS_UBL_PREFIX)) != 0) {
		/* Not a UBL document: the conventional enveloped place. */
		if (p != root)
			bad(pc, rep, "DSIG-PLACE", sig,
			    "the signature must be a child of the document element");
		return;
	}
	for (i = 0; i < sizeof(up) / sizeof(up[0]); i++, p = p->parent) {
		if (!el_is(p, up[i].ns, up[i].name)) {
			bad(pc, rep, "DSIG-PLACE", sig,
			    "the signature must sit in ext:UBLExtensions/ext:UBLExtension/"
			    "ext:ExtensionContent/sig:UBLDocumentSignatures/"
			    "sac:SignatureInformation under the document element");
			return;
		}
	}
	for (first = root->children; first && first->type != XML_ELEMENT_NODE; first = first->next)
		;
	if (p != root || first != sig->parent->parent->parent->parent->parent)
		bad(pc, rep, "DSIG-PLACE", sig,
		    "the signature's ext:UBLExtensions must be the first child of the document "
		    "element");
}

/* c14n_ok: URI names a C14N method we accept; comments refused on the way. */
static int c14n_ok(struct precheck *pc, xmlNodePtr node, const char *uri, struct engine_report *rep)
{
	if (ends_with(uri, ALG_WITH_COMMENTS)) {
		bad(pc, rep, "DSIG-COMMENT", node, "canonicalization %s keeps comments: refused",
		    uri);
		return 1; /* known, but refused */
	}
	return strcmp(uri, ALG_EXC_C14N) == 0 || strcmp(uri, ALG_C14N10) == 0 ||
	       strcmp(uri, ALG_C14N11) == 0;
}

/* only_inclusive_ns: children of a C14N method/transform may only be
 * ec:InclusiveNamespaces (exclusive C14N's prefix list). */
static void only_inclusive_ns(struct precheck *pc, xmlNodePtr node, struct engine_report *rep,
                              const char *rule)
{
	xmlNodePtr c;

	for (c = node->children; c != NULL; c = c->next) {
		if (c->type == XML_TEXT_NODE && blank(c->content))
			continue;
		if (c->type == XML_COMMENT_NODE)
			continue;
		if (!el_is(c, NS_EXC_C14N, "InclusiveNamespaces")) {
			bad(pc, rep, rule, c, "unexpected content in %s", (const char *)node->name);
			return;
		}
	}
}

/* find_alg: the entry of TABLE for URI, or NULL. */
static const struct alg *find_alg(const struct alg *table, size_t n, const char *uri)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(table[i].uri, uri) == 0)
			return &table[i];
	return NULL;
}

/* check_transforms: enveloped-signature, then at most one C14N. */
static void check_transforms(struct precheck *pc, xmlNodePtr tr, struct engine_report *rep)
{
	xmlNodePtr c;
	int n = 0;

	for (c = tr->children; c != NULL; c = c->next) {
		const char *alg;

		if (c->type == XML_TEXT_NODE && blank(c->content))
			continue;
		if (c->type == XML_COMMENT_NODE)
			continue;
		if (!el_is(c, NS_DS, "Transform")) {
			bad(pc, rep, "DSIG-STRUCT", c,
			    "only ds:Transform may appear in ds:Transforms");
			continue;
		}
		alg = attr(c, "Algorithm");
		n++;
		if (alg == NULL) {
			bad(pc, rep, "DSIG-TRANSFORM", c, "ds:Transform without an Algorithm");
		} else if (strcmp(alg, ALG_XPATH) == 0 || strcmp(alg, ALG_XPATH2) == 0) {
			bad(pc, rep, "DSIG-TRANSFORM", c,
			    "XPath transform %s: refused (it can exclude signed content)", alg);
		} else if (strcmp(alg, ALG_XSLT) == 0) {
			bad(pc, rep, "DSIG-TRANSFORM", c,
			    "XSLT transform: refused (arbitrary computation, content rewriting)");
		} else if (n == 1) {
			if (strcmp(alg, ALG_ENVELOPED) != 0)
				bad(pc, rep, "DSIG-TRANSFORM", c,
				    "the first transform must be enveloped-signature, not %s", alg);
			else if (c->children != NULL)
				only_inclusive_ns(pc, c, rep, "DSIG-TRANSFORM");
		} else if (n == 2) {
			if (!c14n_ok(pc, c, alg, rep))
				bad(pc, rep, "DSIG-TRANSFORM", c,
				    "transform %s is not accepted (after enveloped-signature only "
				    "one C14N transform may follow)",
				    alg);
			else
				only_inclusive_ns(pc, c, rep, "DSIG-TRANSFORM");
		} else {
			bad(pc, rep, "DSIG-TRANSFORM", c,
			    "more than two transforms: only enveloped-signature and one C14N "
			    "are accepted");
		}
	}
	if (n == 0)
		bad(pc, rep, "DSIG-TRANSFORM", tr,
		    "no transforms: the enveloped-signature transform is required");
}

/* check_reference: URI="", transforms, digest. */
static void check_reference(struct precheck *pc, xmlNodePtr ref, unsigned allow_sha1,
                            struct engine_report *rep)
{
	const char *uri = attr(ref, "URI"), *type = attr(ref, "Type");
	xmlNodePtr c, transforms = NULL, dm = NULL, dv = NULL;
	const struct alg *a;

	if (uri == NULL)
		bad(pc, rep, "DSIG-REF", ref,
		    "the Reference has no URI attribute; URI=\"\" (the whole document) is "
		    "required");
	else if (*uri != '\0')
		bad(pc, rep, "DSIG-REF", ref,
		    "Reference URI=\"%.100s\": only URI=\"\" (the whole document) is accepted",
		    uri);
	if (type != NULL && strstr(type, "Manifest") != NULL)
		bad(pc, rep, "DSIG-OBJECT", ref, "a Reference to a ds:Manifest is refused");
	for (c = ref->children; c != NULL; c = c->next) {
		if ((c->type == XML_TEXT_NODE && blank(c->content)) || c->type == XML_COMMENT_NODE)
			continue;
		if (el_is(c, NS_DS, "Transforms") && transforms == NULL && dm == NULL)
			transforms = c;
		else if (el_is(c, NS_DS, "DigestMethod") && dm == NULL)
			dm = c;
		else if (el_is(c, NS_DS, "DigestValue") && dm != NULL && dv == NULL)
			dv = c;
		else
			bad(pc, rep, "DSIG-STRUCT", c, "unexpected content in ds:Reference");
	}
	if (transforms == NULL)
		bad(pc, rep, "DSIG-TRANSFORM", ref,
		    "no transforms: the enveloped-signature transform is required");
	else
		check_transforms(pc, transforms, rep);
	if (dm == NULL || dv == NULL) {
		bad(pc, rep, "DSIG-STRUCT", ref, "ds:Reference lacks DigestMethod or DigestValue");
		return;
	}
	if ((uri = attr(dm, "Algorithm")) == NULL)
		uri = "";
	a = find_alg(DIGESTS, sizeof(DIGESTS) / sizeof(DIGESTS[0]), uri);
	if (a == NULL)
		bad(pc, rep, "DSIG-ALG", dm, "digest method %s is not accepted", uri);
	else if (a->sha1 && !allow_sha1)
		bad(pc, rep, "DSIG-ALG", dm, "SHA-1 digest refused (allow it with --allow-sha1)");
}

/* check_signed_info: C14N method, signature method, exactly one Reference. */
static void check_signed_info(struct precheck *pc, xmlNodePtr si, unsigned allow_sha1,
                              struct engine_report *rep)
{
	xmlNodePtr c, cm = NULL, sm = NULL;
	const char *uri;
	int nref = 0;

	for (c = si->children; c != NULL; c = c->next) {
		if ((c->type == XML_TEXT_NODE && blank(c->content)) || c->type == XML_COMMENT_NODE)
			continue;
		if (el_is(c, NS_DS, "CanonicalizationMethod") && cm == NULL && sm == NULL &&
		    nref == 0) {
			cm = c;
		} else if (el_is(c, NS_DS, "SignatureMethod") && cm != NULL && sm == NULL &&
		           nref == 0) {
			sm = c;
		} else if (el_is(c, NS_DS, "Reference") && sm != NULL) {
			if (++nref == 1)
				pc->ref = c;
			else
				bad(pc, rep, "DSIG-REF", c,
				    "a second Reference: exactly one Reference (URI=\"\") is "
				    "accepted");
		} else {
			bad(pc, rep, "DSIG-STRUCT", c, "unexpected content in ds:SignedInfo");
		}
	}
	if (cm == NULL || sm == NULL) {
		bad(pc, rep, "DSIG-STRUCT", si,
		    "ds:SignedInfo lacks CanonicalizationMethod or SignatureMethod");
	} else {
		uri = attr(cm, "Algorithm");
		if (uri == NULL || !c14n_ok(pc, cm, uri, rep))
			bad(pc, rep, "DSIG-ALG", cm, "canonicalization method %s is not accepted",
			    uri ? uri : "(none)");
		else
			only_inclusive_ns(pc, cm, rep, "DSIG-ALG");
		uri = attr(sm, "Algorithm");
		if (uri == NULL)
			uri = "";
		pc->sig_alg = find_alg(SIGNATURES, sizeof(SIGNATURES) / sizeof(SIGNATURES[0]), uri);
		if (strstr(uri, "hmac") != NULL)
			bad(pc, rep, "DSIG-ALG", sm,
			    "HMAC signature method %s: refused (a shared secret proves no signer)",
			    uri);
		else if (pc->sig_alg == NULL)
			bad(pc, rep, "DSIG-ALG", sm, "signature method %s is not accepted", uri);
		else if (pc->sig_alg->sha1 && !allow_sha1)
			bad(pc, rep, "DSIG-ALG", sm,
			    "SHA-1 signature method %s refused (allow it with --allow-sha1)", uri);
		for (c = sm->children; c != NULL; c = c->next)
			if (c->type == XML_ELEMENT_NODE)
				bad(pc, rep, "DSIG-ALG", c,
				    "parameters to the signature method "
				    "(e.g. HMACOutputLength) are refused");
	}
	if (nref == 0)
		bad(pc, rep, "DSIG-REF", si, "no Reference: exactly one (URI=\"\") is required");
	else
		check_reference(pc, pc->ref, allow_sha1, rep);
}

/* decode_cert: one X509Certificate element into CERTS. */
static void decode_cert(struct precheck *pc, xmlNodePtr n, struct engine_report *rep)
{
	xmlChar *b64 = xmlNodeGetContent(n);
	unsigned char *der = NULL;
	const unsigned char *p;
	long len;
	X509 *x = NULL;

	if (b64 == NULL ||
	    (len = secmx_base64_decode((const char *)b64, strlen((const char *)b64), &der)) <= 0) {
		bad(pc, rep, "DSIG-KEYINFO", n, "X509Certificate is not base64");
		goto done;
	}
	p = der;
	if ((x = d2i_X509(NULL, &p, len)) == NULL || p != der + len) {
		bad(pc, rep, "DSIG-KEYINFO", n, "X509Certificate is not one DER certificate");
		goto done;
	}
	if (sk_X509_num(pc->certs) >= MAX_CERTS) {
		bad(pc, rep, "DSIG-KEYINFO", n, "more than %d certificates", MAX_CERTS);
		goto done;
	}
	if (sk_X509_push(pc->certs, x))
		x = NULL;
done:
	ERR_clear_error();
	X509_free(x);
	free(der);
	xmlFree(b64);
}

/* check_key_info: X509Data with certificates, nothing else. */
static void check_key_info(struct precheck *pc, xmlNodePtr ki, struct engine_report *rep)
{
	xmlNodePtr c, d;
	int ndata = 0, errors_before = pc->errors;

	for (c = ki->children; c != NULL; c = c->next) {
		if ((c->type == XML_TEXT_NODE && blank(c->content)) || c->type == XML_COMMENT_NODE)
			continue;
		if (!el_is(c, NS_DS, "X509Data")) {
			bad(pc, rep, "DSIG-KEYINFO", c,
			    "%s in KeyInfo is refused: the key must come from an X.509 "
			    "certificate that chains to the trust store",
			    c->type == XML_ELEMENT_NODE ? (const char *)c->name : "text");
			continue;
		}
		if (++ndata > 1) {
			bad(pc, rep, "DSIG-KEYINFO", c, "more than one ds:X509Data");
			continue;
		}
		for (d = c->children; d != NULL; d = d->next) {
			if ((d->type == XML_TEXT_NODE && blank(d->content)) ||
			    d->type == XML_COMMENT_NODE)
				continue;
			if (el_is(d, NS_DS, "X509Certificate"))
				decode_cert(pc, d, rep);
			else if (!(el_is(d, NS_DS, "X509IssuerSerial") ||
			           el_is(d, NS_DS, "X509SubjectName") ||
			           el_is(d, NS_DS, "X509SKI")))
				bad(pc, rep, "DSIG-KEYINFO", d,
				    "unexpected content in ds:X509Data");
		}
	}
	if (pc->errors == errors_before && sk_X509_num(pc->certs) == 0)
		bad(pc, rep, "DSIG-KEYINFO", ki,
		    "KeyInfo carries no X509Certificate: the signer's certificate is required");
}

/* precheck: step 1, no cryptography. Fills PC; PC->errors counts refusals. */
static void precheck(struct precheck *pc, xmlDocPtr xd, unsigned allow_sha1,
                     struct engine_report *rep)
{
	xmlNodePtr root = xmlDocGetRootElement(xd), sigs[8], c;
	xmlNodePtr si = NULL, sv = NULL;
	size_t nsig = 0, i;

	collect_sigs(root, sigs, &nsig);
	if (nsig == 0) {
		bad(pc, rep, "DSIG-COUNT", root, "the document carries no ds:Signature");
		return;
	}
	if (nsig > 1) {
		for (i = 1; i < nsig && i < 8; i++)
			bad(pc, rep, "DSIG-COUNT", sigs[i],
			    "%zu ds:Signature elements: exactly one is accepted", nsig);
		return;
	}
	pc->sig = sigs[0];
	check_place(pc, root, pc->sig, rep);
	for (c = pc->sig->children; c != NULL; c = c->next) {
		if ((c->type == XML_TEXT_NODE && blank(c->content)) || c->type == XML_COMMENT_NODE)
			continue;
		if (el_is(c, NS_DS, "SignedInfo") && si == NULL) {
			si = c;
		} else if (el_is(c, NS_DS, "SignatureValue") && si != NULL && sv == NULL) {
			sv = c;
		} else if (el_is(c, NS_DS, "KeyInfo") && sv != NULL && pc->key_info == NULL) {
			pc->key_info = c;
		} else if (el_is(c, NS_DS, "Object") || el_is(c, NS_DS, "Manifest")) {
			bad(pc, rep, "DSIG-OBJECT", c,
			    "ds:%s in the signature is refused (content there is never part of an "
			    "enveloped whole-document signature)",
			    (const char *)c->name);
		} else {
			bad(pc, rep, "DSIG-STRUCT", c, "unexpected content in ds:Signature");
		}
	}
	if (si == NULL || sv == NULL) {
		bad(pc, rep, "DSIG-STRUCT", pc->sig,
		    "ds:Signature lacks SignedInfo or SignatureValue");
		return;
	}
	pc->signed_info = si;
	for (c = sv->children; c != NULL; c = c->next)
		if (c->type != XML_TEXT_NODE)
			bad(pc, rep, "DSIG-STRUCT", c, "unexpected content in ds:SignatureValue");
	check_signed_info(pc, si, allow_sha1, rep);
	if (pc->key_info == NULL)
		bad(pc, rep, "DSIG-KEYINFO", pc->sig,
		    "no KeyInfo: the signer's X.509 certificate is required");
	else
		check_key_info(pc, pc->key_info, rep);
	comment_tricks(pc, root, rep);
}

/* find_leaf: the one certificate that issued none of the others. */
static X509 *find_leaf(STACK_OF(X509) * certs, int *nleaf)
{
	X509 *leaf = NULL;
	int i, j;

	*nleaf = 0;
	for (i = 0; i < sk_X509_num(certs); i++) {
		X509 *c = sk_X509_value(certs, i);
		int issuer = 0;
		for (j = 0; j < sk_X509_num(certs) && !issuer; j++)
			if (j != i && X509_check_issued(c, sk_X509_value(certs, j)) == X509_V_OK)
				issuer = 1;
		if (!issuer) {
			leaf = c;
			(*nleaf)++;
		}
	}
	ERR_clear_error();
	return *nleaf == 1 ? leaf : NULL;
}

/* name_str: NAME in RFC 2253 form into BUF. */
static void name_str(const X509_NAME *name, char *buf, size_t len)
{
	BIO *b = BIO_new(BIO_s_mem());
	int n;

	buf[0] = '\0';
	if (b == NULL)
		return;
	if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) >= 0 &&
	    (n = BIO_read(b, buf, (int)len - 1)) > 0)
		buf[n] = '\0';
	BIO_free(b);
}

/* check_chain: step 2; the leaf must chain to TRUST at time AT. */
static X509 *check_chain(struct precheck *pc, const struct engine_trust *trust, time_t at,
                         struct engine_report *rep)
{
	X509_STORE_CTX *ctx = NULL;
	STACK_OF(X509) *untrusted = NULL;
	X509_VERIFY_PARAM *param;
	X509 *leaf, *ok = NULL;
	int nleaf, i, err;
	uint32_t ku;

	if ((leaf = find_leaf(pc->certs, &nleaf)) == NULL) {
		bad(pc, rep, "DSIG-KEYINFO", pc->key_info,
		    "cannot tell the signer's certificate: %d candidates in KeyInfo", nleaf);
		return NULL;
	}
	if ((untrusted = sk_X509_new_null()) == NULL || (ctx = X509_STORE_CTX_new()) == NULL)
		goto done;
	for (i = 0; i < sk_X509_num(pc->certs); i++)
		if (sk_X509_value(pc->certs, i) != leaf)
			sk_X509_push(untrusted, sk_X509_value(pc->certs, i));
	if (X509_STORE_CTX_init(ctx, trust->store, leaf, untrusted) != 1)
		goto done;
	param = X509_STORE_CTX_get0_param(ctx);
	if (at != 0)
		X509_VERIFY_PARAM_set_time(param, at);
	/* Every certificate in the store is an anchor, self-signed or not: a
	 * member may trust an intermediate CA without its root. */
	X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
	if (trust->have_crls)
		X509_VERIFY_PARAM_set_flags(param,
		                            X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
	if (X509_verify_cert(ctx) != 1) {
		char subject[256];
		X509 *bad_cert = X509_STORE_CTX_get_current_cert(ctx);
		err = X509_STORE_CTX_get_error(ctx);
		name_str(X509_get_subject_name(bad_cert ? bad_cert : leaf), subject,
		         sizeof(subject));
		bad(pc, rep, "DSIG-CHAIN", pc->key_info,
		    "the signer's certificate does not chain to the trust store: %s (at depth %d, "
		    "%s)",
		    X509_verify_cert_error_string(err), X509_STORE_CTX_get_error_depth(ctx),
		    subject);
		goto done;
	}
	ku = X509_get_key_usage(leaf);
	if (ku != UINT32_MAX && !(ku & (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION))) {
		bad(pc, rep, "DSIG-CHAIN", pc->key_info,
		    "the signer's certificate is not for signing (key usage)");
		goto done;
	}
	ok = leaf;
done:
	if (ok == NULL && pc->errors == 0)
		bad(pc, rep, "DSIG-CHAIN", pc->key_info, "certificate chain check failed to run");
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	sk_X509_free(untrusted);
	return ok;
}

/* enable: restrict xmlsec to the transforms the profile allows. */
static int enable(xmlSecDSigCtxPtr ctx, unsigned allow_sha1)
{
	xmlSecTransformId ref_ids[] = {
	    xmlSecTransformEnvelopedId,  xmlSecTransformExclC14NId, xmlSecTransformInclC14NId,
	    xmlSecTransformInclC14N11Id, xmlSecTransformSha256Id,   xmlSecTransformSha384Id,
	    xmlSecTransformSha512Id,
	};
	xmlSecTransformId sig_ids[] = {
	    xmlSecTransformExclC14NId,    xmlSecTransformInclC14NId,
	    xmlSecTransformInclC14N11Id,  xmlSecTransformRsaSha256Id,
	    xmlSecTransformRsaSha384Id,   xmlSecTransformRsaSha512Id,
	    xmlSecTransformEcdsaSha256Id, xmlSecTransformEcdsaSha384Id,
	    xmlSecTransformEcdsaSha512Id,
	};
	size_t i;

	for (i = 0; i < sizeof(ref_ids) / sizeof(ref_ids[0]); i++)
		if (xmlSecDSigCtxEnableReferenceTransform(ctx, ref_ids[i]) < 0)
			return -1;
	for (i = 0; i < sizeof(sig_ids) / sizeof(sig_ids[0]); i++)
		if (xmlSecDSigCtxEnableSignatureTransform(ctx, sig_ids[i]) < 0)
			return -1;
	if (allow_sha1 &&
	    (xmlSecDSigCtxEnableReferenceTransform(ctx, xmlSecTransformSha1Id) < 0 ||
	     xmlSecDSigCtxEnableSignatureTransform(ctx, xmlSecTransformRsaSha1Id) < 0 ||
	     xmlSecDSigCtxEnableSignatureTransform(ctx, xmlSecTransformEcdsaSha1Id) < 0))
		return -1;
	ctx->enabledReferenceUris = xmlSecTransformUriTypeEmpty;
	return 0;
}

/* fill_signer: who signed, from the leaf certificate. */
static void fill_signer(struct engine_signer *s, X509 *leaf, const struct alg *a)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(leaf), NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;

	memset(s, 0, sizeof(*s));
	name_str(X509_get_subject_name(leaf), s->subject, sizeof(s->subject));
	name_str(X509_get_issuer_name(leaf), s->issuer, sizeof(s->issuer));
	secmx_strlcpy(s->serial, hex ? hex : "", sizeof(s->serial));
	secmx_strlcpy(s->sig_alg, a ? a->name : "", sizeof(s->sig_alg));
	OPENSSL_free(hex);
	BN_free(bn);
}

/* reset_classification: the tree changed; classify again from it. */
static void reset_classification(struct engine_doc *doc)
{
	free(doc->customization);
	free(doc->profile_id);
	free(doc->id);
	free(doc->ubl_version);
	doc->customization = doc->profile_id = doc->id = doc->ubl_version = NULL;
	doc->type_index = -1;
	doc->profile = NULL;
	doc->variant = NULL;
	doc->profile_named = 0;
	doc->needs_ubl23 = 0;
}

/* engine_doc_verify: see engine.h and the file comment. */
int engine_doc_verify(const struct engine *eng, struct engine_doc *doc,
                      const struct engine_trust *trust, const struct engine_verify_opts *opts,
                      struct engine_report *rep, struct engine_signer *signer)
{
	struct precheck pc;
	xmlSecDSigCtxPtr ctx = NULL;
	xmlSecDSigReferenceCtxPtr refctx = NULL;
	xmlSecKeyDataPtr kdata = NULL;
	xmlSecBufferPtr pre;
	xmlDocPtr signed_doc = NULL;
	char *bytes = NULL;
	X509 *leaf;
	unsigned flags = (eng ? eng->cfg.flags : 0) | (opts ? opts->flags : 0);
	unsigned allow_sha1 = flags & ENGINE_CFG_ALLOW_SHA1;
	char why[256];
	int bits, kind, rc = SECMX_ESIG;

	if (eng == NULL || doc == NULL || doc->xml == NULL || trust == NULL || doc->validate_only)
		return SECMX_EINVAL;
	if ((rc = engine__dsig_need()) < 0)
		return rc;
	memset(&pc, 0, sizeof(pc));
	if ((pc.certs = sk_X509_new_null()) == NULL)
		return SECMX_ENOMEM;
	engine__dsig_clear_error();

	/* 1. structure */
	precheck(&pc, doc->xml, allow_sha1, rep);
	if (pc.errors)
		goto done;

	/* 2. the key: ours to choose, never KeyInfo's bare key */
	if ((leaf = check_chain(&pc, trust, opts ? opts->at : 0, rep)) == NULL)
		goto done;
	kind = engine__dsig_key_policy(X509_get0_pubkey(leaf), &bits, why, sizeof(why));
	if (kind < 0) {
		bad(&pc, rep, "DSIG-KEY", pc.key_info, "the signer's key: %s", why);
		goto done;
	}
	if ((enum dsig_key_kind)kind != pc.sig_alg->kind) {
		bad(&pc, rep, "DSIG-ALG", pc.signed_info,
		    "signature method %s does not fit the certificate's %s key", pc.sig_alg->name,
		    kind == DSIG_KEY_RSA ? "RSA" : "EC");
		goto done;
	}

	/* 3. the cryptography, restricted to what step 1 allowed */
	rc = SECMX_EINTERNAL;
	if ((ctx = xmlSecDSigCtxCreate(NULL)) == NULL || enable(ctx, allow_sha1) < 0)
		goto done;
	ctx->flags |= XMLSEC_DSIG_FLAGS_STORE_SIGNEDINFO_REFERENCES;
	if ((ctx->signKey = xmlSecKeyCreate()) == NULL ||
	    (kdata = xmlSecOpenSSLX509CertGetKey(leaf)) == NULL ||
	    xmlSecKeySetValue(ctx->signKey, kdata) < 0)
		goto done;
	kdata = NULL;
	rc = SECMX_ESIG;
	if (xmlSecDSigCtxVerify(ctx, pc.sig) < 0) {
		bad(&pc, rep, "DSIG-SIGNATURE", pc.sig, "the signature could not be processed: %s",
		    engine__dsig_last_error());
		goto done;
	}
	if (xmlSecPtrListGetSize(&ctx->signedInfoReferences) == 1)
		refctx = xmlSecPtrListGetItem(&ctx->signedInfoReferences, 0);
	if (refctx == NULL) {
		bad(&pc, rep, "DSIG-REF", pc.ref, "the reference was not processed");
		goto done;
	}
	if (refctx->status != xmlSecDSigStatusSucceeded) {
		bad(&pc, rep, "DSIG-DIGEST", pc.ref,
		    "the document does not match the signed digest: it was changed after signing");
		goto done;
	}
	if (ctx->status != xmlSecDSigStatusSucceeded) {
		bad(&pc, rep, "DSIG-SIGNATURE", pc.sig,
		    "the signature value does not verify with the signer's certificate");
		goto done;
	}

	/* 4. from now on the document is exactly the bytes that were signed */
	pre = xmlSecDSigReferenceCtxGetPreDigestBuffer(refctx);
	if (pre == NULL || xmlSecBufferGetSize(pre) == 0) {
		bad(&pc, rep, "DSIG-SIGNED", pc.ref, "the signed bytes are not available");
		goto done;
	}
	if (engine__parse(eng, xmlSecBufferGetData(pre), xmlSecBufferGetSize(pre), doc->name,
	                  &signed_doc, rep) < 0) {
		bad(&pc, rep, "DSIG-SIGNED", NULL, "the signed bytes do not parse");
		goto done;
	}
	{
		xmlNodePtr again[8];
		size_t n = 0;
		collect_sigs(xmlDocGetRootElement(signed_doc), again, &n);
		if (n != 0) {
			bad(&pc, rep, "DSIG-SIGNED", NULL,
			    "the signed bytes still hold a signature");
			goto done;
		}
	}
	if ((bytes = malloc(xmlSecBufferGetSize(pre) + 1)) == NULL) {
		rc = SECMX_ENOMEM;
		goto done;
	}
	memcpy(bytes, xmlSecBufferGetData(pre), xmlSecBufferGetSize(pre));
	bytes[xmlSecBufferGetSize(pre)] = '\0';
	if (signer != NULL)
		fill_signer(signer, leaf, pc.sig_alg);
	xmlFreeDoc(doc->xml);
	doc->xml = signed_doc;
	signed_doc = NULL;
	free(doc->signed_bytes);
	doc->signed_bytes = bytes;
	doc->signed_len = xmlSecBufferGetSize(pre);
	bytes = NULL;
	reset_classification(doc);
	rc = SECMX_OK;
done:
	if (rc == SECMX_EINTERNAL)
		engine__report_node(rep, "DSIG-SIGNATURE", ENGINE_FATAL, pc.sig,
		                    "xmlsec failed: %s", engine__dsig_last_error());
	if (rc == SECMX_OK && pc.errors)
		rc = SECMX_ESIG;
	if (kdata != NULL)
		xmlSecKeyDataDestroy(kdata);
	if (ctx != NULL)
		xmlSecDSigCtxDestroy(ctx);
	if (signed_doc != NULL)
		xmlFreeDoc(signed_doc);
	free(bytes);
	sk_X509_pop_free(pc.certs, X509_free);
	return rc;
}
