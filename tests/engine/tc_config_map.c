/*
 * tc_config_map.c — the [engine] configuration table (common/config_engine.c)
 * agrees with the engine: its defaults are engine_config_default()'s, its
 * bounds fit the engine's field types, and a loaded configuration gives an
 * engine that works.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "tests.h"

START_TEST(defaults_agree)
{
	struct engine_config ec;
	struct config_engine ce;
	char err[256] = "";

	engine_config_default(&ec);
	ck_assert_msg(config_defaults(&config_engine_table, &ce, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(ce.max_doc_bytes, ec.limits.max_doc_bytes);
	ck_assert_uint_eq((unsigned long long)ce.max_depth, ec.limits.max_depth);
	ck_assert_uint_eq(ce.max_attr_bytes, ec.limits.max_attr_bytes);
	ck_assert_uint_eq(ce.max_text_bytes, ec.limits.max_text_bytes);
	ck_assert_uint_eq((unsigned long long)ce.max_nodes, ec.limits.max_nodes);
	ck_assert_uint_eq((unsigned long long)ce.max_attrs, ec.limits.max_attrs);
	ck_assert_int_eq(ce.allow_sha1, (ec.flags & ENGINE_CFG_ALLOW_SHA1) != 0);
	ck_assert(ce.schema_dir == NULL && ec.schema_dir == NULL);
	ck_assert(ce.rules_dir == NULL && ec.rules_dir == NULL);
	config_free(&config_engine_table, &ce);
}
END_TEST

START_TEST(bounds_fit)
{
	size_t i;

	/* max_depth and max_attrs are unsigned in struct engine_limits. */
	for (i = 0; i < config_engine_table.nkeys; i++) {
		const struct config_key *k = &config_engine_table.keys[i];

		if (k->type == CONFIG_INT || k->type == CONFIG_SIZE) {
			ck_assert_msg(k->min > 0, "%s has no lower bound", k->name);
			ck_assert_msg(k->max <= UINT_MAX, "%s may not fit an unsigned", k->name);
		}
	}
}
END_TEST

START_TEST(loaded_limits_work)
{
	char path[] = "/tmp/secmx-engine-conf-XXXXXX";
	int fd = mkstemp(path);
	struct config_engine ce;
	struct engine_config ec;
	struct engine *eng = NULL;
	struct engine_doc *doc = NULL;
	struct engine_report *rep;
	char err[512] = "";
	static const char conf[] = "[engine]\nmax_depth = 8\n";
	static const char deep[] =
	    "<a><b><c><d><e><f><g><h><i><j/></i></h></g></f></e></d></c></b></a>";

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, conf, sizeof(conf) - 1), (int)sizeof(conf) - 1);
	close(fd);
	ck_assert_msg(config_load(&config_engine_table, path, &ce, err, sizeof(err)) == 0, "%s",
	              err);
	unlink(path);
	/* The copy the daemon will make: same names, borrowed strings. */
	engine_config_default(&ec);
	ec.schema_dir = ce.schema_dir;
	ec.rules_dir = ce.rules_dir;
	ec.limits.max_doc_bytes = ce.max_doc_bytes;
	ec.limits.max_depth = (unsigned)ce.max_depth;
	ec.limits.max_attr_bytes = ce.max_attr_bytes;
	ec.limits.max_text_bytes = ce.max_text_bytes;
	ec.limits.max_nodes = (size_t)ce.max_nodes;
	ec.limits.max_attrs = (unsigned)ce.max_attrs;
	ec.flags |= ce.allow_sha1 ? ENGINE_CFG_ALLOW_SHA1 : 0;
	ec.flags |= ENGINE_CFG_NO_SCHEMAS;
	ck_assert_msg(engine_new(&ec, &eng, err, sizeof(err)) == 0, "%s", err);
	/* Ten levels are refused by the configured limit of 8; two are fine. */
	rep = engine_report_new();
	ck_assert_ptr_nonnull(rep);
	ck_assert_int_lt(engine_doc_parse(eng, deep, strlen(deep), "deep", &doc, rep), 0);
	ck_assert_ptr_null(doc);
	ck_assert(report_has(rep, "XML-LIMIT-DEPTH"));
	engine_report_clear(rep);
	ck_assert_int_eq(engine_doc_parse(eng, "<a><b/></a>", 11, "flat", &doc, rep), 0);
	engine_doc_free(doc);
	engine_report_free(rep);
	engine_free(eng);
	config_free(&config_engine_table, &ce);
}
END_TEST

/* tc_config_map: the [engine] table against the engine. */
TCase *tc_config_map(void)
{
	TCase *tc = tcase_create("config_map");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, defaults_agree);
	tcase_add_test(tc, bounds_fit);
	tcase_add_test(tc, loaded_limits_work);
	return tc;
}
