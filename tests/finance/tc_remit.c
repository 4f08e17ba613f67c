/*
 * tc_remit.c — the RemittanceAdvice secmx-finance sends on payment: built
 * from a real invoice, then judged by two real peers: `secmx validate`
 * (build/cli/secmx: the UBL 2.1 schema and rules) and xmllint against the
 * official UBL 2.1 XSD from the shared corpus. Also: deterministic bytes,
 * escaping of names, refusal of what XML cannot carry.
 */
#include "helpers.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SECMX SECMX_BINARY_DIR "/cli/secmx"
#define XSD SECMX_CORPUS "/ubl21-xsd/xsdrt/maindoc/UBL-RemittanceAdvice-2.1.xsd"

static const struct fin_org org = {
    "Department of Examples", "9429049990003", "0088", "136410132", "NZ", NULL};

/* paid_doc: our NZ invoice, marked paid. */
static void paid_doc(struct fin_doc *d)
{
	read_doc(SECMX_TESTDATA "/invoice-nz.xml", "{\"idempotency_key\":\"k\"}", d);
	fin_set(&d->paid_date, "2026-12-01");
	fin_set(&d->paid_amount, "815.35");
	fin_set(&d->remit_id, "RA-INV-2026-00417-1");
}

/* write_tmp: XML to a temp file; its path into PATH. */
static void write_tmp(const char *xml, size_t len, char *path, size_t pathlen)
{
	int fd;

	snprintf(path, pathlen, "/tmp/secmx-remit-XXXXXX.xml");
	fd = mkstemps(path, 4);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, xml, len), (ssize_t)len);
	close(fd);
}

/* validate: secmx validate and xmllint --schema on PATH; both must pass. */
static void validate(const char *path)
{
	char log[300], *out = NULL;
	size_t len;
	char *v[] = {SECMX, "validate", (char *)path, NULL};
	char *x[] = {"xmllint", "--noout", "--nonet", "--schema", XSD, (char *)path, NULL};
	int rc;

	snprintf(log, sizeof(log), "%s.log", path);
	rc = run_cmd(v, log);
	ck_assert_int_eq(secmx_file_read(log, 1 << 20, &out, &len), 0);
	ck_assert_msg(rc == 0, "secmx validate exit %d:\n%s", rc, out);
	ck_assert_msg(strstr(out, "valid (RemittanceAdvice") != NULL, "%s", out);
	free(out);
	unlink(log);
	rc = run_cmd(x, log);
	ck_assert_int_eq(secmx_file_read(log, 1 << 20, &out, &len), 0);
	ck_assert_msg(rc == 0, "xmllint --schema exit %d:\n%s", rc, out);
	free(out);
	unlink(log);
}

START_TEST(valid_remittance)
{
	struct fin_doc d;
	char *xml = NULL, *again = NULL, err[256], path[64];
	size_t len, len2;

	paid_doc(&d);
	ck_assert_int_eq(fin_remit_build(&d, &org, &xml, &len, err, sizeof(err)), 0);
	ck_assert_uint_eq(strlen(xml), len);
	ck_assert_ptr_nonnull(strstr(xml, "<cac:InvoiceDocumentReference>\n"
	                                  "        <cbc:ID>INV-2026-00417</cbc:ID>"));
	ck_assert_ptr_nonnull(strstr(xml, "<cbc:TotalPaymentAmount currencyID=\"NZD\">815.35<"));
	ck_assert_ptr_null(strstr(xml, "CustomizationID"));
	ck_assert_int_eq(fin_remit_build(&d, &org, &again, &len2, err, sizeof(err)), 0);
	ck_assert_uint_eq(len, len2);
	ck_assert_int_eq(memcmp(xml, again, len), 0); /* deterministic */
	write_tmp(xml, len, path, sizeof(path));
	validate(path);
	unlink(path);
	free(xml);
	free(again);
	fin_doc_clear(&d);
}
END_TEST

/* Names with markup characters are escaped and still validate; a control
 * character is refused; an unpaid invoice has no remittance. */
START_TEST(escaping)
{
	struct fin_org o2 = org;
	struct fin_doc d;
	char *xml = NULL, err[256], path[64];
	size_t len;

	paid_doc(&d);
	fin_set(&d.supplier_name, "Smith & Sons <\"Ōtautahi\">");
	o2.customization_id = "urn:secmx:test:remittance";
	ck_assert_int_eq(fin_remit_build(&d, &o2, &xml, &len, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(xml, "Smith &amp; Sons &lt;&quot;Ōtautahi&quot;&gt;"));
	ck_assert_ptr_nonnull(
	    strstr(xml, "<cbc:CustomizationID>urn:secmx:test:remittance</cbc:CustomizationID>"));
	write_tmp(xml, len, path, sizeof(path));
	{
		char log[300];
		char *x[] = {"xmllint", "--noout", "--nonet", "--schema", XSD, path, NULL};

		snprintf(log, sizeof(log), "%s.log", path);
		ck_assert_int_eq(run_cmd(x, log), 0);
		unlink(log);
	}
	unlink(path);
	free(xml);
	fin_set(&d.supplier_name, "bad\001name");
	ck_assert_int_eq(fin_remit_build(&d, &org, &xml, &len, err, sizeof(err)), SECMX_EINVAL);
	ck_assert_ptr_null(xml);
	fin_set(&d.supplier_name, "ok");
	fin_set(&d.paid_date, NULL);
	ck_assert_int_eq(fin_remit_build(&d, &org, &xml, &len, err, sizeof(err)), SECMX_EINVAL);
	fin_doc_clear(&d);
}
END_TEST

TCase *tc_remit(void)
{
	TCase *tc = tcase_create("remit");

	tcase_add_test(tc, valid_remittance);
	tcase_add_test(tc, escaping);
	return tc;
}
