/*
 * tc_config.c — the configuration loader: every type with good and bad
 * values and bounds, errors with the right line, all or nothing, secret
 * files, reload, dump, documentation, and the [engine] table.
 *
 * Each test works in its own temporary directory (removed at the end).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "tests.h"

/* A struct with a field of every type, and the engine's section embedded. */
struct tcfg {
	char *name;
	char *dir;
	char *key;
	bool flag;
	long long n;
	size_t sz;
	long long dur;
	int mode;
	char *ep;
	struct config_list list;
	char *pw;
	long long any;
	struct config_engine engine;
};

#define T(m, type) CONFIG_OFFSET(struct tcfg, m, type)
static const char *const modes[] = {"fast", "safe", "paranoid", NULL};

static const struct config_key tkeys[] = {
    {"main", "name", CONFIG_STRING, CONFIG_RELOAD, "gw", 0, 0, NULL, T(name, char *), "A name."},
    {"main", "dir", CONFIG_PATH, 0, NULL, 0, 0, NULL, T(dir, char *), "A directory."},
    {"main", "key", CONFIG_SECRET_PATH, 0, NULL, 0, 0, NULL, T(key, char *), "A key file."},
    {"main", "flag", CONFIG_BOOL, CONFIG_RELOAD, "no", 0, 0, NULL, T(flag, bool), "A flag."},
    {"main", "n", CONFIG_INT, CONFIG_RELOAD, "10", -5, 100, NULL, T(n, long long), "A number."},
    {"main", "sz", CONFIG_SIZE, 0, "64k", 1024, 1LL << 30, NULL, T(sz, size_t), "A size."},
    {"main", "dur", CONFIG_DURATION, CONFIG_RELOAD, "30s", 100, 86400000, NULL, T(dur, long long),
     "A duration."},
    {"main", "mode", CONFIG_ENUM, 0, "safe", 0, 0, modes, T(mode, int), "A mode."},
    {"main", "ep", CONFIG_ENDPOINT, 0, "ipc:///run/secmx/bus", 0, 0, NULL, T(ep, char *),
     "An endpoint."},
    {"main", "list", CONFIG_LIST, CONFIG_RELOAD, "a, b", 1, 4, NULL, T(list, struct config_list),
     "A list."},
    {"main", "pw", CONFIG_STRING, CONFIG_SECRET, NULL, 0, 0, NULL, T(pw, char *), "A password."},
    {"main", "any", CONFIG_INT, 0, "0", 0, 0, NULL, T(any, long long), "Any number (no bounds)."},
};

static const struct config_sub tsubs[] = {{&config_engine_table, T(engine, struct config_engine)}};

static const struct config_table ttable = {
    "test", sizeof(struct tcfg), tkeys, sizeof(tkeys) / sizeof(tkeys[0]), tsubs, 1, NULL,
};

static char dir[64];
static char path[128];
static char err[1024];

/* setup: a fresh temporary directory for the test's files. */
static void setup(void)
{
	secmx_strlcpy(dir, "/tmp/secmx-config-XXXXXX", sizeof(dir));
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/t.conf", dir);
	err[0] = '\0';
}

/* teardown: remove the directory and what the test left in it. */
static void teardown(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[512];

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

/* put: write TEXT to file NAME in the test directory with MODE; its path. */
static const char *put(const char *name, const char *text, mode_t mode)
{
	static char p[4][256];
	static int which;
	char *out = p[which++ % 4];
	FILE *fp;

	snprintf(out, 256, "%s/%s", dir, name);
	fp = fopen(out, "w");
	ck_assert_ptr_nonnull(fp);
	ck_assert_int_eq(fputs(text, fp) >= 0, 1);
	ck_assert_int_eq(fclose(fp), 0);
	ck_assert_int_eq(chmod(out, mode), 0);
	return out;
}

/* load: write TEXT as the config file (mode 0600) and load it into C. */
static int load(const char *text, struct tcfg *c)
{
	put("t.conf", text, 0600);
	return config_load(&ttable, path, c, err, sizeof(err));
}

START_TEST(defaults)
{
	struct tcfg c;

	ck_assert_int_eq(config_defaults(&ttable, &c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.name, "gw");
	ck_assert_ptr_null(c.dir);
	ck_assert_ptr_null(c.key);
	ck_assert(!c.flag);
	ck_assert_int_eq(c.n, 10);
	ck_assert_uint_eq(c.sz, 65536);
	ck_assert_int_eq(c.dur, 30000);
	ck_assert_int_eq(c.mode, 1);
	ck_assert_str_eq(c.ep, "ipc:///run/secmx/bus");
	ck_assert_uint_eq(c.list.n, 2);
	ck_assert_str_eq(c.list.v[0], "a");
	ck_assert_str_eq(c.list.v[1], "b");
	ck_assert_ptr_null(c.pw);
	/* The engine's defaults are those of engine_config_default(). */
	ck_assert_uint_eq(c.engine.max_doc_bytes, 10u * 1024 * 1024);
	ck_assert_int_eq(c.engine.max_depth, 64);
	ck_assert_uint_eq(c.engine.max_attr_bytes, 64u * 1024);
	ck_assert_uint_eq(c.engine.max_text_bytes, 8u * 1024 * 1024);
	ck_assert_int_eq(c.engine.max_nodes, 1000000);
	ck_assert_int_eq(c.engine.max_attrs, 64);
	ck_assert(!c.engine.allow_sha1);
	ck_assert_ptr_null(c.engine.schema_dir);
	config_free(&ttable, &c);
	ck_assert_ptr_null(c.name);
	config_free(&ttable, &c); /* twice is harmless */
}
END_TEST

START_TEST(good_values)
{
	struct tcfg c;
	char text[2048];
	char key[256];

	secmx_strlcpy(key, put("key.pem", "not really a key\n", 0600), sizeof(key));

	snprintf(text, sizeof(text),
	         "; a comment\n"
	         "# another\n"
	         "[main]\n"
	         "name = gateway one\n"
	         "dir = %s\n"
	         "key = %s\n"
	         "flag = Yes\n"
	         "n = -5\n"
	         "sz = 10M\n"
	         "dur = 250ms\n"
	         "mode = paranoid\n"
	         "ep = tcp://[::1]:5555\n"
	         "list = x , y,z\n"
	         "pw = hunter2\n"
	         "[engine]\n"
	         "max_depth = 128 ; inline comment\n"
	         "max_doc_bytes = 1G\n"
	         "allow_sha1 = on\n"
	         "sign_key_password_env = SECMX_KEY_PASSWORD\n",
	         dir, key);
	ck_assert_msg(load(text, &c) == 0, "%s", err);
	ck_assert_str_eq(c.name, "gateway one");
	ck_assert_str_eq(c.dir, dir);
	ck_assert_str_eq(c.key, key);
	ck_assert(c.flag);
	ck_assert_int_eq(c.n, -5);
	ck_assert_uint_eq(c.sz, 10u << 20);
	ck_assert_int_eq(c.dur, 250);
	ck_assert_int_eq(c.mode, 2);
	ck_assert_str_eq(c.ep, "tcp://[::1]:5555");
	ck_assert_uint_eq(c.list.n, 3);
	ck_assert_str_eq(c.list.v[0], "x");
	ck_assert_str_eq(c.list.v[1], "y");
	ck_assert_str_eq(c.list.v[2], "z");
	ck_assert_str_eq(c.pw, "hunter2");
	ck_assert_int_eq(c.engine.max_depth, 128);
	ck_assert_uint_eq(c.engine.max_doc_bytes, 1u << 30);
	ck_assert(c.engine.allow_sha1);
	ck_assert_str_eq(c.engine.sign_key_password_env, "SECMX_KEY_PASSWORD");
	ck_assert_int_eq(c.engine.max_attrs, 64); /* default kept */
	config_free(&ttable, &c);
}
END_TEST

/* One value of one key and what it must give. */
struct vcase {
	const char *line; /* in [main] unless it starts with '[' */
	int ok;
	const char *want; /* ok: the value as config_value_format shows it;
	                     bad: a substring of the error */
};

static const struct vcase vcases[] = {
    {"flag = TRUE", 1, "yes"},
    {"flag = off", 1, "no"},
    {"flag = 0", 1, "no"},
    {"flag = maybe", 0, "main.flag: \"maybe\" is not yes/no"},
    {"n = 100", 1, "100"},
    {"n = -5", 1, "-5"},
    {"n = 101", 0, "main.n: \"101\" is above the maximum 100"},
    {"n = -6", 0, "main.n: \"-6\" is below the minimum -5"},
    {"n = 12x", 0, "is not a whole number"},
    {"n = +3", 0, "is not a whole number"},
    {"n = ", 0, "is not a whole number"},
    {"n = 99999999999999999999", 0, "is too large"},
    {"sz = 1k", 1, "1k"},
    {"sz = 1024", 1, "1k"},
    {"sz = 1536", 1, "1536"},
    {"sz = 3M", 1, "3M"},
    {"sz = 1G", 1, "1G"},
    {"sz = 1023", 0, "main.sz: \"1023\" is below the minimum 1k"},
    {"sz = 2G", 0, "is above the maximum 1G"},
    {"sz = 10X", 0, "has an unknown unit (use k, M or G)"},
    {"sz = 10MB", 0, "has an unknown unit"},
    {"sz = M", 0, "is not a size"},
    {"sz = -1k", 0, "is not a size"},
    {"sz = 99999999999999999G", 0, "is too large"},
    {"dur = 100ms", 1, "100ms"},
    {"dur = 90s", 1, "90s"},
    {"dur = 120s", 1, "2m"},
    {"dur = 2h", 1, "2h"},
    {"dur = 1d", 1, "1d"},
    {"dur = 30", 0, "main.dur: \"30\" needs a unit: ms, s, m, h or d"},
    {"dur = 5ss", 0, "needs a unit"},
    {"dur = 99ms", 0, "is below the minimum 100ms"},
    {"dur = 25h", 0, "is above the maximum 1d"},
    {"dur = s", 0, "is not a duration"},
    {"mode = fast", 1, "fast"},
    {"mode = Fast", 0, "\"Fast\" is not one of: fast, safe, paranoid"},
    {"ep = ipc:///run/secmx/x.sock", 1, "ipc:///run/secmx/x.sock"},
    {"ep = tcp://127.0.0.1:5555", 1, "tcp://127.0.0.1:5555"},
    {"ep = tcp://*:1", 1, "tcp://*:1"},
    {"ep = tcp://mx.example.org:65535", 1, "tcp://mx.example.org:65535"},
    {"ep = http://example.org/", 0, "expected ipc:///path or tcp://host:port"},
    {"ep = ipc://run/x", 0, "an ipc:// endpoint needs an absolute path"},
    {"ep = tcp://host", 0, "expected tcp://host:port"},
    {"ep = tcp://bad_host:25", 0, "expected tcp://host:port"},
    {"ep = tcp://host:0", 0, "the port must be a number from 1 to 65535"},
    {"ep = tcp://host:65536", 0, "the port must be a number from 1 to 65535"},
    {"ep = tcp://host:25x", 0, "the port must be"},
    {"ep = ", 0, "main.ep: empty value"},
    {"list = one", 1, "one"},
    {"list = a,b,c,d", 1, "a, b, c, d"},
    {"list = a,,b", 0, "main.list: empty item in the list"},
    {"list = a,b,", 0, "empty item"},
    {"list = a,b,c,d,e", 0, "5 items; between 1 and 4 are allowed"},
    {"list = ", 0, "0 items"},
    {"name = ", 1, ""},
    {"dir = relative/dir", 0, "main.dir: \"relative/dir\" is not an absolute path"},
    {"dir = /nonexistent/secmx/dir", 0, "No such file or directory"},
    {"key = /nonexistent/key.pem", 0, "main.key: /nonexistent/key.pem: No such file"},
    {"key = /tmp", 0, "/tmp is not a regular file"},
    {"[engine]\nmax_depth = 1025", 0, "engine.max_depth: \"1025\" is above the maximum 1024"},
    {"[engine]\nmax_nodes = 999", 0, "engine.max_nodes: \"999\" is below the minimum 1000"},
    {"[engine]\nmax_text_bytes = 16M", 1, ""},
    {"[engine]\ntrust = nowhere.pem", 0, "engine.trust: \"nowhere.pem\" is not an absolute path"},
    {"any = 9223372036854775807", 1, "9223372036854775807"},
    {"any = -100000000000", 1, "-100000000000"},
    {"any = 9223372036854775808", 0, "is too large"},
};

/* value_of: the value of key NAME (in tkeys) in C as config_value_format shows it. */
static const char *value_of(const struct tcfg *c, const char *name)
{
	static char buf[256];
	size_t i;

	for (i = 0; i < sizeof(tkeys) / sizeof(tkeys[0]); i++)
		if (strcmp(tkeys[i].name, name) == 0) {
			config_value_format(&tkeys[i], c, buf, sizeof(buf));
			return buf;
		}
	return NULL;
}

START_TEST(each_value)
{
	const struct vcase *vc = &vcases[_i];
	struct tcfg c, before;
	char text[512], key[32], want[640];
	int rc, line;

	memset(&c, 0x5a, sizeof(c));
	before = c;
	if (vc->line[0] == '[') {
		snprintf(text, sizeof(text), "%s\n", vc->line);
		line = 2;
	} else {
		snprintf(text, sizeof(text), "[main]\n%s\n", vc->line);
		line = 2;
	}
	rc = load(text, &c);
	if (!vc->ok) {
		ck_assert_msg(rc == SECMX_ECONFIG, "%s: accepted", vc->line);
		snprintf(want, sizeof(want), "%s:%d: ", path, line);
		ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s: %s", vc->line, err);
		ck_assert_msg(strstr(err, vc->want) != NULL, "%s: got \"%s\", want \"%s\"",
		              vc->line, err, vc->want);
		ck_assert_msg(memcmp(&c, &before, sizeof(c)) == 0, "output changed on failure");
		return;
	}
	ck_assert_msg(rc == 0, "%s: %s", vc->line, err);
	if (vc->line[0] != '[') {
		size_t klen = strcspn(vc->line, " =");

		snprintf(key, sizeof(key), "%.*s", (int)klen, vc->line);
		ck_assert_str_eq(value_of(&c, key), vc->want);
	}
	config_free(&ttable, &c);
}
END_TEST

/* load_fails_at: TEXT is refused with an error starting "FILE:LINE: WHAT". */
static void load_fails_at(const char *text, int line, const char *what)
{
	struct tcfg c;
	char want[512];

	ck_assert_int_eq(load(text, &c), SECMX_ECONFIG);
	snprintf(want, sizeof(want), "%s:%d: %s", path, line, what);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "got \"%s\", want \"%s...\"", err,
	              want);
}

START_TEST(errors_name_the_line)
{
	load_fails_at("[main]\nname = x\n\n; comment\nbogus = 1\n", 5, "main.bogus: unknown key");
	load_fails_at("[main]\nn = 1\n[nope]\n", 3, "[nope]: unknown section");
	load_fails_at("[main]\nn = 1\n[nope]\nx = 1\n", 3, "[nope]: unknown section");
	load_fails_at("[main]\nn = 1\nname = a\n# c\nn = 2\n", 5,
	              "main.n: duplicate key (first set on line 2)");
	load_fails_at("[main]\nn = 1\n[engine]\nmax_depth = 9\n[main]\nn = 2\n", 6,
	              "main.n: duplicate key (first set on line 2)");
	load_fails_at("n = 1\n[main]\n", 1, "n: key outside any [section]");
	load_fails_at("[main]\nn = 1\njust words\n", 3, "line: syntax error");
	load_fails_at("[main\nn = 1\n", 1, "line: syntax error");
	load_fails_at("[engine]\nmax_depth = 9\nmax_attr = 5\n", 3, "engine.max_attr: unknown key");
	/* Windows line ends are fine, and do not shift the count. */
	load_fails_at("[main]\r\nn = 1\r\n\r\nn = 3\r\n", 4, "main.n: duplicate key");
}
END_TEST

START_TEST(long_lines_and_nul)
{
	struct tcfg c;
	char text[512];
	char val[400];

	memset(val, 'a', sizeof(val) - 1);
	val[sizeof(val) - 1] = '\0';
	/* A value that fits: 196 bytes in the line. */
	snprintf(text, sizeof(text), "[main]\nname = %.189s\n", val);
	ck_assert_msg(load(text, &c) == 0, "%s", err);
	ck_assert_uint_eq(strlen(c.name), 189);
	config_free(&ttable, &c);
	/* One more byte is refused, not split into two lines. */
	snprintf(text, sizeof(text), "[main]\nname = %.190s\n", val);
	load_fails_at(text, 2, "line: line longer than 196 bytes");
	snprintf(text, sizeof(text), "[main]\nn = 1\nname = %.300s\n", val);
	load_fails_at(text, 3, "line: line longer than 196 bytes");
	/* A NUL byte inside the file. */
	{
		FILE *fp = fopen(path, "w");

		ck_assert_ptr_nonnull(fp);
		fwrite("[main]\nn = 1\nname = a\0b\n", 1, 24, fp);
		fclose(fp);
		ck_assert_int_eq(config_load(&ttable, path, &c, err, sizeof(err)), SECMX_ECONFIG);
		ck_assert_msg(strstr(err, ":3: line: contains a NUL byte") != NULL, "%s", err);
	}
}
END_TEST

START_TEST(indented_and_unreadable)
{
	struct tcfg c;
	char missing[256];

	/* Indented keys are keys, not continuations of the line above. */
	ck_assert_msg(load("[main]\n  n = 7\n\tsz = 2k\n    [engine]\n  max_depth = 9\n", &c) == 0,
	              "%s", err);
	ck_assert_int_eq(c.n, 7);
	ck_assert_uint_eq(c.sz, 2048);
	ck_assert_int_eq(c.engine.max_depth, 9);
	config_free(&ttable, &c);
	/* A UTF-8 byte order mark before the first line is not an error. */
	ck_assert_msg(load("\xef\xbb\xbf[main]\nn = 3\n", &c) == 0, "%s", err);
	ck_assert_int_eq(c.n, 3);
	config_free(&ttable, &c);
	/* An empty file gives the defaults. */
	ck_assert_msg(load("", &c) == 0, "%s", err);
	ck_assert_int_eq(c.n, 10);
	config_free(&ttable, &c);
	snprintf(missing, sizeof(missing), "%s/none.conf", dir);
	ck_assert_int_eq(config_load(&ttable, missing, &c, err, sizeof(err)), SECMX_EIO);
	ck_assert_msg(strstr(err, "none.conf: No such file or directory") != NULL, "%s", err);
}
END_TEST

START_TEST(all_or_nothing)
{
	struct tcfg c, before;

	ck_assert_msg(load("[main]\nn = 42\nname = first\nlist = p, q\n", &c) == 0, "%s", err);
	before = c;
	/* Good values first, one bad value on the last line. */
	load_fails_at("[main]\nn = 1\nname = second\nsz = 2M\nlist = r\nmode = fast\n"
	              "[engine]\nmax_depth = 100\nmax_attrs = 100000\n",
	              9, "engine.max_attrs: \"100000\" is above the maximum 4096");
	ck_assert(memcmp(&c, &before, sizeof(c)) == 0);
	ck_assert_int_eq(c.n, 42);
	ck_assert_str_eq(c.name, "first");
	ck_assert_str_eq(c.list.v[1], "q");
	/* A bad path is found after parsing: still nothing changes. */
	load_fails_at("[main]\nn = 3\ndir = /nonexistent/x\n", 3, "main.dir: /nonexistent/x");
	ck_assert(memcmp(&c, &before, sizeof(c)) == 0);
	config_free(&ttable, &c);
}
END_TEST

START_TEST(secret_files)
{
	struct tcfg c;
	char text[512], key[256];

	secmx_strlcpy(key, put("key.pem", "-----BEGIN PRIVATE KEY-----\n", 0644), sizeof(key));
	snprintf(text, sizeof(text), "[main]\nn = 1\nkey = %s\n", key);
	load_fails_at(text, 3, "main.key: ");
	ck_assert_msg(strstr(err, "mode 0644") != NULL, "%s", err);
	ck_assert_msg(strstr(err, "run: chmod 600 ") != NULL, "%s", err);
	ck_assert_msg(strstr(err, key) != NULL, "%s", err);
	/* Group-readable is refused too, and so is world-writable. */
	ck_assert_int_eq(chmod(key, 0640), 0);
	load_fails_at(text, 3, "main.key: ");
	ck_assert_msg(strstr(err, "mode 0640") != NULL, "%s", err);
	ck_assert_int_eq(chmod(key, 0602), 0);
	load_fails_at(text, 3, "main.key: ");
	ck_assert_int_eq(chmod(key, 0600), 0);
	ck_assert_msg(load(text, &c) == 0, "%s", err);
	ck_assert_str_eq(c.key, key);
	config_free(&ttable, &c);
	ck_assert_int_eq(chmod(key, 0400), 0);
	ck_assert_msg(load(text, &c) == 0, "%s", err);
	config_free(&ttable, &c);
	/* The same rule through the [engine] table. */
	ck_assert_int_eq(chmod(key, 0644), 0);
	snprintf(text, sizeof(text), "[engine]\nsign_key = %s\n", key);
	load_fails_at(text, 2, "engine.sign_key: ");
	ck_assert_msg(strstr(err, "mode 0644") != NULL, "%s", err);
}
END_TEST

START_TEST(secret_values)
{
	struct tcfg c;
	char *text = NULL;
	size_t len = 0;
	FILE *mem;

	/* A file that sets a secret value must not be readable by others. */
	put("t.conf", "[main]\npw = hunter2\n", 0644);
	ck_assert_int_eq(config_load(&ttable, path, &c, err, sizeof(err)), SECMX_ECONFIG);
	ck_assert_msg(strstr(err, ":2: main.pw: a secret is set in a file with mode 0644") != NULL,
	              "%s", err);
	ck_assert(strstr(err, "hunter2") == NULL);
	ck_assert_msg(load("[main]\npw = hunter2\n", &c) == 0, "%s", err);
	ck_assert_str_eq(c.pw, "hunter2");
	ck_assert_str_eq(value_of(&c, "pw"), "(secret)");
	mem = open_memstream(&text, &len);
	config_dump(&ttable, &c, mem);
	fclose(mem);
	ck_assert_msg(strstr(text, "hunter2") == NULL, "%s", text);
	ck_assert(strstr(text, "# pw = (secret, not shown)\n") != NULL);
	free(text);
	config_free(&ttable, &c);
}
END_TEST

START_TEST(reload)
{
	struct tcfg cur, next, before;
	char restart[256];
	char text[512];
	int rc;

	snprintf(text, sizeof(text),
	         "[main]\nname = a\nn = 1\nsz = 1k\nmode = safe\ndir = %s\nlist = x\n", dir);
	ck_assert_msg(load(text, &cur) == 0, "%s", err);
	before = cur;
	/* Change two reloadable keys (name, n) and three that are not (sz, mode,
	 * dir removed), leave list and dur alone. */
	put("t.conf", "[main]\nname = b\nn = 2\nsz = 2k\nmode = fast\nlist = x\n", 0600);
	rc = config_reload(&ttable, path, &cur, &next, restart, sizeof(restart), err, sizeof(err));
	ck_assert_msg(rc == 3, "rc %d: %s", rc, err);
	ck_assert_str_eq(restart, "main.dir main.sz main.mode");
	ck_assert_str_eq(next.name, "b");
	ck_assert_int_eq(next.n, 2);
	ck_assert_uint_eq(next.sz, 1024);
	ck_assert_int_eq(next.mode, 1);
	ck_assert_str_eq(next.dir, dir);
	ck_assert(next.dir != cur.dir); /* a copy, not shared */
	ck_assert_str_eq(next.list.v[0], "x");
	ck_assert(memcmp(&cur, &before, sizeof(cur)) == 0);
	ck_assert_str_eq(cur.name, "a");
	config_free(&ttable, &next);
	/* Nothing that needs a restart: 0 and an empty list. */
	snprintf(text, sizeof(text), "[main]\nname = c\nsz = 1k\ndir = %s\ndur = 1m\n", dir);
	put("t.conf", text, 0600);
	rc = config_reload(&ttable, path, &cur, &next, restart, sizeof(restart), err, sizeof(err));
	ck_assert_msg(rc == 0, "rc %d: %s", rc, err);
	ck_assert_str_eq(restart, "");
	ck_assert_int_eq(next.dur, 60000);
	ck_assert_int_eq(next.n, 10); /* reloadable and absent: its default */
	config_free(&ttable, &next);
	/* A bad file: an error, NEXT untouched. */
	put("t.conf", "[main]\nname = d\nn = 1000\n", 0600);
	memset(&next, 0x33, sizeof(next));
	before = next;
	rc = config_reload(&ttable, path, &cur, &next, restart, sizeof(restart), err, sizeof(err));
	ck_assert_int_eq(rc, SECMX_ECONFIG);
	ck_assert(strstr(err, ":3: main.n: ") != NULL);
	ck_assert(memcmp(&next, &before, sizeof(next)) == 0);
	config_free(&ttable, &cur);
}
END_TEST

START_TEST(dump_round_trip)
{
	struct tcfg c, d;
	char text[1024];
	char *out = NULL;
	size_t len = 0;
	FILE *mem;
	char key[256];

	secmx_strlcpy(key, put("key.pem", "k\n", 0600), sizeof(key));

	snprintf(text, sizeof(text),
	         "[main]\nname = two words\ndir = %s\nkey = %s\nflag = yes\nn = -3\nsz = 1536\n"
	         "dur = 90s\nmode = fast\nep = tcp://*:25\nlist = a,b , c\n"
	         "[engine]\nmax_depth = 99\nmax_doc_bytes = 3M\n",
	         dir, key);
	ck_assert_msg(load(text, &c) == 0, "%s", err);
	mem = open_memstream(&out, &len);
	config_dump(&ttable, &c, mem);
	fclose(mem);
	ck_assert(strstr(out, "[main]\nname = two words\n") != NULL);
	ck_assert(strstr(out, "sz = 1536\n") != NULL);
	ck_assert(strstr(out, "dur = 90s\n") != NULL);
	ck_assert(strstr(out, "list = a, b, c\n") != NULL);
	ck_assert(strstr(out, "# schema_dir is not set\n") != NULL);
	ck_assert(strstr(out, "[engine]\n") != NULL);
	ck_assert(strstr(out, "max_doc_bytes = 3M\n") != NULL);
	put("t.conf", out, 0600);
	free(out);
	ck_assert_msg(config_load(&ttable, path, &d, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(d.name, c.name);
	ck_assert_str_eq(d.dir, c.dir);
	ck_assert_str_eq(d.key, c.key);
	ck_assert(d.flag == c.flag);
	ck_assert_int_eq(d.n, c.n);
	ck_assert_uint_eq(d.sz, c.sz);
	ck_assert_int_eq(d.dur, c.dur);
	ck_assert_int_eq(d.mode, c.mode);
	ck_assert_str_eq(d.ep, c.ep);
	ck_assert_uint_eq(d.list.n, 3);
	ck_assert_str_eq(d.list.v[2], "c");
	ck_assert_int_eq(d.engine.max_depth, 99);
	ck_assert_uint_eq(d.engine.max_doc_bytes, c.engine.max_doc_bytes);
	config_free(&ttable, &c);
	config_free(&ttable, &d);
}
END_TEST

START_TEST(doc_and_doc_check)
{
	char *out = NULL;
	size_t len = 0;
	char missing[256];
	FILE *mem = open_memstream(&out, &len);
	char *cut;

	config_doc(&ttable, mem);
	fclose(mem);
	ck_assert(strstr(out, "### [main]\n") != NULL);
	ck_assert(strstr(out, "### [engine]\n") != NULL);
	ck_assert_msg(strstr(out, "| `main.n` | integer | `10` | -5 to 100 | yes | A number. |"),
	              "%s", out);
	ck_assert(strstr(out, "| `main.any` | integer | `0` | any | restart |") != NULL);
	ck_assert(strstr(out, "| `main.pw` | string | not set | any text | restart |") != NULL);
	ck_assert(strstr(out, "| `main.sz` | size | `64k` | 1k to 1G | restart |") != NULL);
	ck_assert(strstr(out, "`fast`, `safe`, `paranoid`") != NULL);
	ck_assert(strstr(out, "(Secret: never shown.)") != NULL);
	ck_assert_int_eq(config_doc_missing(&ttable, out, missing, sizeof(missing)), 0);
	ck_assert_str_eq(missing, "");
	/* Take two keys out of the text: both are reported. */
	cut = strstr(out, "`main.dur`");
	cut[1] = 'X';
	cut = strstr(out, "`engine.crl`");
	cut[1] = 'X';
	ck_assert_int_eq(config_doc_missing(&ttable, out, missing, sizeof(missing)), 2);
	ck_assert_str_eq(missing, "main.dur engine.crl");
	free(out);
}
END_TEST

START_TEST(engine_table)
{
	struct config_engine e;
	char text[512];

	/* Every default in the table parses, and the bounds admit it. */
	ck_assert_msg(config_defaults(&config_engine_table, &e, err, sizeof(err)) == 0, "%s", err);
	config_free(&config_engine_table, &e);
	snprintf(text, sizeof(text),
	         "[engine]\nschema_dir = %s\nrules_dir = %s\ntrust = %s\nmax_nodes = 5000\n"
	         "allow_sha1 = no\nmax_text_bytes = 64M\n",
	         dir, dir, dir);
	put("t.conf", text, 0600);
	ck_assert_msg(config_load(&config_engine_table, path, &e, err, sizeof(err)) == 0, "%s",
	              err);
	ck_assert_str_eq(e.schema_dir, dir);
	ck_assert_int_eq(e.max_nodes, 5000);
	ck_assert_uint_eq(e.max_text_bytes, 64u << 20);
	config_free(&config_engine_table, &e);
	/* Its own keys only: the test table's section is unknown here. */
	put("t.conf", "[main]\nn = 1\n", 0600);
	ck_assert_int_eq(config_load(&config_engine_table, path, &e, err, sizeof(err)),
	                 SECMX_ECONFIG);
	ck_assert_msg(strstr(err, ":1: [main]: unknown section") != NULL, "%s", err);
}
END_TEST

/* A second table: a required key and a path the program creates. */
struct rcfg {
	char *spool;
	long long workers;
};

static const struct config_key rkeys[] = {
    {"daemon", "spool", CONFIG_PATH, CONFIG_CREATE, "/nonexistent/secmx/spool", 0, 0, NULL,
     offsetof(struct rcfg, spool), "Created at start-up."},
    {"daemon", "workers", CONFIG_INT, CONFIG_REQUIRED, NULL, 1, 64, NULL,
     offsetof(struct rcfg, workers), "Required."},
};

static const struct config_table rtable = {"daemon", sizeof(struct rcfg), rkeys, 2, NULL, 0, NULL};

START_TEST(required_create_and_size)
{
	struct rcfg r;
	char *big;
	FILE *fp;

	put("t.conf", "[daemon]\nspool = /nonexistent/other\n", 0600);
	ck_assert_int_eq(config_load(&rtable, path, &r, err, sizeof(err)), SECMX_ECONFIG);
	ck_assert_msg(strstr(err, "t.conf: daemon.workers (default): required, but not set"), "%s",
	              err);
	put("t.conf", "[daemon]\nworkers = 4\n", 0600);
	ck_assert_msg(config_load(&rtable, path, &r, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(r.spool, "/nonexistent/secmx/spool"); /* need not exist */
	ck_assert_int_eq(r.workers, 4);
	config_free(&rtable, &r);
	/* A file over CONFIG_FILE_MAX is refused without being parsed. */
	big = malloc(CONFIG_FILE_MAX + 2);
	ck_assert_ptr_nonnull(big);
	memset(big, '\n', CONFIG_FILE_MAX + 1);
	big[CONFIG_FILE_MAX + 1] = '\0';
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fputs(big, fp);
	fclose(fp);
	free(big);
	ck_assert_int_eq(config_load(&rtable, path, &r, err, sizeof(err)), SECMX_ECONFIG);
	ck_assert_msg(strstr(err, "t.conf: larger than 1048576 bytes") != NULL, "%s", err);
}
END_TEST

/* A table with a check across its keys, and [engine] (whose check runs too). */
struct ccfg {
	long long low, high;
	struct config_engine engine;
};

static const struct config_key ckeys[] = {
    {"range", "low", CONFIG_INT, CONFIG_RELOAD, "0", 0, 0, NULL, offsetof(struct ccfg, low),
     "Low."},
    {"range", "high", CONFIG_INT, CONFIG_RELOAD, "10", 0, 0, NULL, offsetof(struct ccfg, high),
     "High."},
};

static const struct config_sub csubs[] = {{&config_engine_table, offsetof(struct ccfg, engine)}};

/* ccheck: range.low may not be above range.high. */
static int ccheck(const void *c, struct config_where *w)
{
	const struct ccfg *x = c;

	if (x->low > x->high)
		return config_key_refuse(w, "range", "low", "%lld is above range.high (%lld)",
		                         x->low, x->high);
	return 0;
}

static const struct config_table ctable = {"range", sizeof(struct ccfg), ckeys, 2, csubs, 1,
                                           ccheck};

/* cload_fails_at: TEXT is refused by a check with "PATH:LINE: WANT". */
static void cload_fails_at(const char *text, int line, const char *want)
{
	struct ccfg c;
	char expect[512];

	put("t.conf", text, 0600);
	memset(&c, 0x5a, sizeof(c));
	ck_assert_int_eq(config_load(&ctable, path, &c, err, sizeof(err)), SECMX_ECONFIG);
	if (line > 0)
		snprintf(expect, sizeof(expect), "%s:%d: %s", path, line, want);
	else
		snprintf(expect, sizeof(expect), "%s: %s", path, want);
	ck_assert_str_eq(err, expect);
	ck_assert_int_eq(c.low, 0x5a5a5a5a5a5a5a5aLL); /* untouched */
}

START_TEST(checks_name_the_line)
{
	struct ccfg c, next;
	char text[512];
	const char *key = put("k.pem", "not really a key\n", 0600);
	const char *crt = put("c.pem", "not really a cert\n", 0644);

	/* The table's check blames a key: the line it is set on. */
	cload_fails_at("[range]\nhigh = 5\n\n; c\nlow = 7\n", 5,
	               "range.low: 7 is above range.high (5)");
	/* Not set in the file: named as the default, without a line. */
	cload_fails_at("[range]\nhigh = -1\n", 0,
	               "range.low (default): 0 is above range.high (-1)");
	/* An included table's check runs on its own part: [engine]'s. */
	snprintf(text, sizeof(text), "[range]\nlow = 1\n[engine]\nmax_depth = 9\nsign_key = %s\n",
	         key);
	cload_fails_at(text, 5, "engine.sign_key: needs engine.sign_cert");
	snprintf(text, sizeof(text), "[engine]\n\ncrl = %s\n", crt);
	cload_fails_at(text, 3,
	               "engine.crl: needs engine.trust (revocation lists are checked against "
	               "the trusted CAs; without them nothing is verified)");
	unsetenv("SECMX_TC_CONFIG_PW");
	snprintf(text, sizeof(text),
	         "[engine]\nsign_key = %s\nsign_cert = %s\nsign_key_password_env = "
	         "SECMX_TC_CONFIG_PW\n",
	         key, crt);
	cload_fails_at(text, 4,
	               "engine.sign_key_password_env: SECMX_TC_CONFIG_PW is not set in the "
	               "environment");
	/* Both satisfied: loaded. */
	setenv("SECMX_TC_CONFIG_PW", "x", 1);
	ck_assert_msg(config_load(&ctable, path, &c, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(c.engine.sign_key, key);
	unsetenv("SECMX_TC_CONFIG_PW");
	/* A reload runs the checks on the file too, and refuses it located. */
	put("t.conf", "[range]\nlow = 3\nhigh = 2\n", 0600);
	ck_assert_int_eq(config_reload(&ctable, path, &c, &next, NULL, 0, err, sizeof(err)),
	                 SECMX_ECONFIG);
	ck_assert_msg(strstr(err, "t.conf:2: range.low: 3 is above range.high (2)") != NULL, "%s",
	              err);
	config_free(&ctable, &c);
}
END_TEST

/* Fragments random files are made of: good, bad and odd lines. */
static const char *const frags[] = {
    "[main]\n",
    "[engine]\n",
    "[nope]\n",
    "[main\n",
    "n = 5\n",
    "n = 500\n",
    "sz = 10M\n",
    "sz = 10Q\n",
    "dur = 5m\n",
    "dur = 5\n",
    "mode = fast\n",
    "list = a,b\n",
    "list = ,\n",
    "ep = tcp://h:1\n",
    "ep = tcp://:1\n",
    "flag = on\n",
    "max_depth = 10\n",
    "; c\n",
    "# c\n",
    "\n",
    "   \t\n",
    "  name = x ; y\n",
    "=\n",
    ":\n",
    "name\n",
    "name = \xff\xfe\n",
    "\r\n",
    "[]\n",
    "[ main ]\n",
    "name: colon\n",
    "\xef\xbb\xbf[main]\n",
};

START_TEST(random_files)
{
	unsigned long state = 777;
	int i, ok = 0, refused = 0;

	/* Whatever the file, the answer is a configuration or a located
	 * refusal, never a crash (run under ASan in CI) and never a leak. */
	for (i = 0; i < 400; i++) {
		char text[4096];
		size_t len = 0;
		int lines = (int)((state = state * 6364136223846793005UL + 1) >> 60), j, rc;
		struct tcfg c;
		FILE *fp;

		for (j = 0; j < lines + 1; j++) {
			unsigned long r =
			    (state = state * 6364136223846793005UL + 1442695040888963407UL) >> 33;
			const char *f = frags[r % (sizeof(frags) / sizeof(frags[0]))];

			if (r % 97 == 0) {
				/* A run of random bytes, NULs included. */
				size_t k, n = (r >> 8) % 300;

				for (k = 0; k < n && len < sizeof(text); k++)
					text[len++] =
					    (char)((state = state * 6364136223846793005UL + 1) >>
					           56);
				continue;
			}
			if (len + strlen(f) < sizeof(text)) {
				memcpy(text + len, f, strlen(f));
				len += strlen(f);
			}
		}
		fp = fopen(path, "w");
		ck_assert_ptr_nonnull(fp);
		ck_assert_uint_eq(fwrite(text, 1, len, fp), len);
		fclose(fp);
		rc = config_load(&ttable, path, &c, err, sizeof(err));
		if (rc == 0) {
			ok++;
			config_free(&ttable, &c);
			continue;
		}
		refused++;
		ck_assert_msg(rc == SECMX_ECONFIG, "case %d: rc %d: %s", i, rc, err);
		ck_assert_msg(strncmp(err, path, strlen(path)) == 0 && err[strlen(path)] == ':',
		              "case %d: %s", i, err);
	}
	ck_assert_int_gt(ok, 0);
	ck_assert_int_gt(refused, 0);
}
END_TEST

START_TEST(table_bugs)
{
	static const struct config_key twice[] = {
	    {"s", "a", CONFIG_INT, 0, "1", 0, 9, NULL, 0, ""},
	    {"s", "a", CONFIG_INT, 0, "1", 0, 9, NULL, 0, ""},
	};
	static const struct config_key bad_default[] = {
	    {"s", "a", CONFIG_INT, 0, "10", 0, 9, NULL, 0, ""},
	};
	static const struct config_key no_values[] = {
	    {"s", "a", CONFIG_ENUM, 0, NULL, 0, 0, NULL, 0, ""},
	};
	const struct config_table t1 = {"t", sizeof(long long), twice, 2, NULL, 0, NULL};
	const struct config_table t2 = {"t", sizeof(long long), bad_default, 1, NULL, 0, NULL};
	const struct config_table t3 = {"t", sizeof(int), no_values, 1, NULL, 0, NULL};
	long long v = 5;

	ck_assert_int_eq(config_defaults(&t1, &v, err, sizeof(err)), SECMX_EINTERNAL);
	ck_assert_str_eq(err, "s.a: bad table: listed twice");
	ck_assert_int_eq(config_defaults(&t2, &v, err, sizeof(err)), SECMX_EINTERNAL);
	ck_assert_str_eq(err, "s.a: bad default in the table: \"10\" is above the maximum 9");
	ck_assert_int_eq(v, 0); /* zeroed on failure, as documented */
	put("t.conf", "[s]\na = 3\n", 0600);
	ck_assert_int_eq(config_load(&t3, path, &v, err, sizeof(err)), SECMX_EINTERNAL);
	ck_assert_str_eq(err, "s.a: bad table: an enum without values");
}
END_TEST

/* tc_config: the configuration loader's TCase. */
TCase *tc_config(void)
{
	TCase *tc = tcase_create("config");

	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, good_values);
	tcase_add_loop_test(tc, each_value, 0, (int)(sizeof(vcases) / sizeof(vcases[0])));
	tcase_add_test(tc, errors_name_the_line);
	tcase_add_test(tc, checks_name_the_line);
	tcase_add_test(tc, long_lines_and_nul);
	tcase_add_test(tc, indented_and_unreadable);
	tcase_add_test(tc, all_or_nothing);
	tcase_add_test(tc, secret_files);
	tcase_add_test(tc, secret_values);
	tcase_add_test(tc, reload);
	tcase_add_test(tc, dump_round_trip);
	tcase_add_test(tc, doc_and_doc_check);
	tcase_add_test(tc, engine_table);
	tcase_add_test(tc, required_create_and_size);
	tcase_add_test(tc, table_bugs);
	tcase_add_test(tc, random_files);
	return tc;
}
