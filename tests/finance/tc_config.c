/*
 * tc_config.c — the [finance] configuration: every key documented in
 * docs/finance.md; defaults; a secret password file that others can read is
 * refused; the password comes from the file or the environment.
 */
#include "helpers.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

START_TEST(documented)
{
	char *doc = NULL, missing[1024] = "";
	size_t len;

	ck_assert_int_eq(secmx_file_read(SECMX_SOURCE_DIR "/docs/finance.md", 1 << 20, &doc, &len),
	                 0);
	ck_assert_msg(config_doc_missing(&fin_config_table, doc, missing, sizeof(missing)) == 0,
	              "keys not documented in docs/finance.md: %s", missing);
	free(doc);
}
END_TEST

/* write_file: TEXT to PATH with MODE. */
static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *fp = fopen(path, "w");

	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	fclose(fp);
	ck_assert_int_eq(chmod(path, mode), 0);
}

START_TEST(load_and_password)
{
	char dir[] = "/tmp/secmx-fincfg-XXXXXX", ini[128], pw[128], text[512], err[512] = "";
	struct fin_config c;
	struct ledger_params p;
	char *pass = NULL;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(ini, sizeof(ini), "%s/finance.ini", dir);
	snprintf(pw, sizeof(pw), "%s/pg.pw", dir);
	write_file(pw, "s3cret-pw\n", 0644);
	snprintf(text, sizeof(text),
	         "[finance]\nendpoint = ipc://%s/bus.sock\nledger = postgresql\n"
	         "pg_conninfo = host=/tmp dbname=finance\npg_password_file = %s\n",
	         dir, pw);
	write_file(ini, text, 0600);
	/* The password file is readable by others: refused, with file and line. */
	ck_assert_int_eq(config_load(&fin_config_table, ini, &c, err, sizeof(err)), SECMX_ECONFIG);
	ck_assert_msg(strstr(err, "pg_password_file") != NULL, "%s", err);
	ck_assert_ptr_null(strstr(err, "s3cret"));
	ck_assert_int_eq(chmod(pw, 0600), 0);
	ck_assert_msg(config_load(&fin_config_table, ini, &c, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(c.name, "finance");
	ck_assert_int_eq(c.credit, 1);
	ck_assert_uint_eq(c.patterns.n, 2);
	ck_assert_str_eq(c.patterns.v[1], "CreditNote");
	ck_assert_int_eq(c.submit_timeout_ms, 30000);
	ck_assert_int_eq(fin_config_password(&c, &pass, err, sizeof(err)), 0);
	ck_assert_str_eq(pass, "s3cret-pw");
	fin_config_ledger(&c, pass, &p);
	ck_assert_int_eq(p.kind, LEDGER_POSTGRESQL);
	ck_assert_str_eq(p.pg_conninfo, "host=/tmp dbname=finance");
	free(pass);
	config_free(&fin_config_table, &c);
	/* From the environment instead; unset is an error. */
	snprintf(text, sizeof(text),
	         "[finance]\nendpoint = ipc://%s/bus.sock\npg_password_env = SECMX_TEST_PGPW\n"
	         "frobnicate = 1\n",
	         dir);
	write_file(ini, text, 0600);
	ck_assert_int_eq(config_load(&fin_config_table, ini, &c, err, sizeof(err)), SECMX_ECONFIG);
	ck_assert_msg(strstr(err, ":4:") != NULL, "unknown key not refused with its line: %s", err);
	snprintf(text, sizeof(text),
	         "[finance]\nendpoint = ipc://%s/bus.sock\npg_password_env = SECMX_TEST_PGPW\n",
	         dir);
	write_file(ini, text, 0600);
	ck_assert_int_eq(config_load(&fin_config_table, ini, &c, err, sizeof(err)), 0);
	unsetenv("SECMX_TEST_PGPW");
	ck_assert_int_eq(fin_config_password(&c, &pass, err, sizeof(err)), SECMX_ECONFIG);
	setenv("SECMX_TEST_PGPW", "from-env", 1);
	ck_assert_int_eq(fin_config_password(&c, &pass, err, sizeof(err)), 0);
	ck_assert_str_eq(pass, "from-env");
	free(pass);
	config_free(&fin_config_table, &c);
	unlink(ini);
	unlink(pw);
	rmdir(dir);
}
END_TEST

TCase *tc_config(void)
{
	TCase *tc = tcase_create("config");

	tcase_add_test(tc, documented);
	tcase_add_test(tc, load_and_password);
	return tc;
}
