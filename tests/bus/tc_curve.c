/*
 * tc_curve.c — the bus over tcp://127.0.0.1 with CURVE: keys made by
 * bus_keygen, an allow-list enforced by the ZAP handler (listed key in,
 * unknown key and plain-text peer out, a key bound to a name keeps to it),
 * and the key files' modes.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"

/* keypair: bus_keygen into DIR/NAME, secret read back into SEC. */
static void keypair(const char *dir, const char *name, char pub[41], char sec[41])
{
	char base[300], path[320], err[256] = "";

	snprintf(base, sizeof(base), "%s/%s", dir, name);
	ck_assert_msg(bus_keygen(base, pub, err, sizeof(err)) == 0, "%s", err);
	snprintf(path, sizeof(path), "%s.key", base);
	ck_assert_msg(bus_key_read(path, 1, sec, err, sizeof(err)) == 0, "%s", err);
}

/* silent: no reply at all within MS. */
static void silent(struct bus *b, void *s, int ms)
{
	struct tmsg t;

	ck_assert_msg(t_recv(b, s, ms, &t) < 0, "a refused peer got %s", bus_msg_name(t.m.type));
}

START_TEST(allow_list_enforced)
{
	char dir[128], spub[41], ssec[41], p1[41], s1[41], p2[41], s2[41], p3[41], s3[41];
	char allow[300], skey[300], err[256] = "";
	struct bus_config cfg;
	struct memops mo;
	struct bus_ops ops = memops_ops(&mo);
	struct bus_stats st;
	struct bus *b = NULL;
	const char *pats[] = {"*"};
	struct bus_wire w;
	void *ctx, *c1, *c2, *c3, *plain;
	FILE *fp;

	t_tmpdir(dir, sizeof(dir));
	keypair(dir, "server", spub, ssec);
	keypair(dir, "listed", p1, s1);
	keypair(dir, "unknown", p2, s2);
	keypair(dir, "bound", p3, s3);
	snprintf(allow, sizeof(allow), "%s/allow", dir);
	fp = fopen(allow, "w");
	ck_assert_ptr_nonnull(fp);
	fprintf(fp, "# adapters allowed on the bus\n\n%s\n  %s finance   \n", p1, p3);
	fclose(fp);
	snprintf(skey, sizeof(skey), "%s/server.key", dir);

	memops_init(&mo, 1, 64);
	mo.quiet = 1;
	bus_config_default(&cfg);
	cfg.endpoint = "tcp://127.0.0.1:*";
	cfg.curve_secret_file = skey;
	cfg.allow_list_file = allow;
	ck_assert_msg(bus_new(&cfg, &ops, &b, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(strncmp(bus_endpoint(b), "tcp://127.0.0.1:", 16) == 0 &&
			      strcmp(bus_endpoint(b), "tcp://127.0.0.1:*") != 0,
		      "%s", bus_endpoint(b));

	ctx = zmq_ctx_new();
	c1 = t_dealer(ctx, bus_endpoint(b), spub, p1, s1);
	t_hello(b, c1, "records", 1);
	t_expect_deliver(b, c1, "d1", 1);

	c2 = t_dealer(ctx, bus_endpoint(b), spub, p2, s2);
	ck_assert_int_eq(bus_build_hello(&w, "intruder", pats, 1, 1, err, sizeof(err)), 0);
	t_send(c2, &w);
	silent(b, c2, 700);
	plain = t_dealer(ctx, bus_endpoint(b), NULL, NULL, NULL);
	ck_assert_int_eq(bus_build_hello(&w, "plain", pats, 1, 1, err, sizeof(err)), 0);
	t_send(plain, &w);
	silent(b, plain, 300);
	bus_stats_get(b, &st);
	ck_assert_uint_ge(st.zap_refused, 1);
	ck_assert_uint_eq(st.adapters, 1);

	/* a key bound to "finance" may not say HELLO as anything else */
	c3 = t_dealer(ctx, bus_endpoint(b), spub, p3, s3);
	ck_assert_int_eq(bus_build_hello(&w, "records", pats, 1, 1, err, sizeof(err)), 0);
	t_send(c3, &w);
	{
		struct tmsg t;

		ck_assert_int_eq(t_recv(b, c3, 3000, &t), 0);
		ck_assert_int_eq(t.m.type, BUS_MSG_ERROR);
		ck_assert_str_eq(t.m.u.error.code, "refused");
		t_free(&t);
	}
	t_hello(b, c3, "finance", 1);

	zmq_close(c1);
	zmq_close(c2);
	zmq_close(c3);
	zmq_close(plain);
	zmq_ctx_term(ctx);
	bus_free(b);
	printf("curve: listed key accepted, unknown key and plain peer refused (zap_refused=%lu)\n",
	       st.zap_refused);
}
END_TEST

START_TEST(key_files)
{
	char dir[128], base[200], path[220], pub[41], sec[41], err[256] = "";
	struct stat sb;

	t_tmpdir(dir, sizeof(dir));
	snprintf(base, sizeof(base), "%s/k", dir);
	ck_assert_int_eq(bus_keygen(base, pub, err, sizeof(err)), 0);
	ck_assert_uint_eq(strlen(pub), 40);
	snprintf(path, sizeof(path), "%s.key", base);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 0777, 0600);
	ck_assert_int_eq(bus_key_read(path, 1, sec, err, sizeof(err)), 0);
	{
		char derived[41];

		ck_assert_int_eq(zmq_curve_public(derived, sec), 0);
		ck_assert_str_eq(derived, pub); /* the pair belongs together */
	}
	/* never overwrite a secret key */
	ck_assert_int_eq(bus_keygen(base, pub, err, sizeof(err)), SECMX_EIO);
	/* a secret key others can read is refused */
	ck_assert_int_eq(chmod(path, 0644), 0);
	ck_assert_int_eq(bus_key_read(path, 1, sec, err, sizeof(err)), SECMX_ECONFIG);
	ck_assert_msg(strstr(err, "readable") != NULL, "%s", err);
	/* a public key file is not secret */
	snprintf(path, sizeof(path), "%s.pub", base);
	ck_assert_int_eq(bus_key_read(path, 0, sec, err, sizeof(err)), 0);
	ck_assert_str_eq(sec, pub);
}
END_TEST

START_TEST(bad_allow_list_refused)
{
	char dir[128], allow[200], skey[200], pub[41], err[256] = "";
	struct bus_config cfg;
	struct memops mo;
	struct bus_ops ops = memops_ops(&mo);
	struct bus *b = NULL;
	FILE *fp;

	t_tmpdir(dir, sizeof(dir));
	snprintf(skey, sizeof(skey), "%s/server", dir);
	ck_assert_int_eq(bus_keygen(skey, pub, err, sizeof(err)), 0);
	snprintf(skey, sizeof(skey), "%s/server.key", dir);
	snprintf(allow, sizeof(allow), "%s/allow", dir);
	fp = fopen(allow, "w");
	fprintf(fp, "%s\nnot-a-key\n", pub);
	fclose(fp);
	memops_init(&mo, 0, 64);
	bus_config_default(&cfg);
	cfg.endpoint = "tcp://127.0.0.1:*";
	cfg.curve_secret_file = skey;
	cfg.allow_list_file = allow;
	ck_assert_int_eq(bus_new(&cfg, &ops, &b, err, sizeof(err)), SECMX_ECONFIG);
	ck_assert_msg(strstr(err, ":2:") != NULL, "%s", err);
	ck_assert_ptr_null(b);
}
END_TEST

TCase *tc_curve(void)
{
	TCase *tc = tcase_create("curve");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, allow_list_enforced);
	tcase_add_test(tc, key_files);
	tcase_add_test(tc, bad_allow_list_refused);
	return tc;
}
