/*
 * check_engine.c — the engine's Check suite: one TCase per concern, each in
 * its own tc_*.c file, plus the helpers they share.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests.h"

static struct engine *shared_engine;

struct engine *test_engine(const char *schema_dir, unsigned flags)
{
	struct engine_config cfg;
	char err[512] = "";
	int rc;

	test_engine_free();
	engine_config_default(&cfg);
	cfg.schema_dir = schema_dir;
	cfg.flags = flags;
	rc = engine_new(&cfg, &shared_engine, err, sizeof(err));
	ck_assert_msg(rc == 0, "engine_new: %s (%s)", secmx_strerror(rc), err);
	return shared_engine;
}

void test_engine_free(void)
{
	engine_free(shared_engine);
	shared_engine = NULL;
}

const char *corpus(const char *rel)
{
	static char buf[4096];
	snprintf(buf, sizeof(buf), "%s/%s", SECMX_CORPUS, rel);
	return buf;
}

const char *testdata(const char *rel)
{
	static char buf[4096];
	snprintf(buf, sizeof(buf), "%s/%s", SECMX_TESTDATA, rel);
	return buf;
}

struct engine_doc *test_parse_file(struct engine *eng, const char *path,
				   struct engine_report *rep)
{
	char *buf = NULL;
	size_t len = 0;
	struct engine_doc *doc = NULL;
	int rc;

	rc = secmx_file_read(path, 64u << 20, &buf, &len);
	ck_assert_msg(rc == 0, "read %s: %s", path, secmx_strerror(rc));
	rc = engine_doc_parse(eng, buf, len, path, &doc, rep);
	free(buf);
	ck_assert_msg(rc == 0, "parse %s: %s", path, secmx_strerror(rc));
	return doc;
}

struct engine_doc *test_parse_str(struct engine *eng, const char *xml, struct engine_report *rep)
{
	struct engine_doc *doc = NULL;
	int rc = engine_doc_parse(eng, xml, strlen(xml), "test", &doc, rep);

	ck_assert_msg(rc == 0, "parse: %s", secmx_strerror(rc));
	return doc;
}

int report_has(const struct engine_report *rep, const char *rule)
{
	size_t i;

	for (i = 0; i < engine_report_count(rep); i++)
		if (strcmp(engine_report_at(rep, i)->rule, rule) == 0)
			return 1;
	return 0;
}

int main(void)
{
	Suite *s = suite_create("engine");
	SRunner *sr;
	int failed;

	if (engine_global_init() != 0) {
		fprintf(stderr, "engine_global_init failed\n");
		return EXIT_FAILURE;
	}
	suite_add_tcase(s, tc_parse());
	suite_add_tcase(s, tc_classify());
	suite_add_tcase(s, tc_dsig());
	suite_add_tcase(s, tc_rules());
	suite_add_tcase(s, tc_rules_ordering());
	suite_add_tcase(s, tc_schema());
	suite_add_tcase(s, tc_threads());
	suite_add_tcase(s, tc_config_map());
	suite_add_tcase(s, tc_inspect());
	suite_add_tcase(s, tc_txn());
	suite_add_tcase(s, tc_path());
	suite_add_tcase(s, tc_memory());
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	engine_global_cleanup();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
