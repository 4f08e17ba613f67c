/*
 * tests.h — the engine suite's shared helpers and the TCase list.
 * Each concern lives in its own tc_<concern>.c and offers one tc_<concern>()
 * returning its TCase; check_engine.c puts them in the suite.
 */
#ifndef SECMX_TESTS_ENGINE_H
#define SECMX_TESTS_ENGINE_H

#include <check.h>

#include "engine.h"

TCase *tc_parse(void);
TCase *tc_classify(void);
TCase *tc_dsig(void);
TCase *tc_rules(void);
TCase *tc_rules_ordering(void);
TCase *tc_schema(void);
TCase *tc_threads(void);
TCase *tc_config_map(void);
TCase *tc_inspect(void);
TCase *tc_txn(void);
TCase *tc_path(void);
TCase *tc_memory(void);

/* A shared engine for a test (built with the default, built-in schema set
 * unless SCHEMA_DIR is given); freed by test_engine_free(). */
struct engine *test_engine(const char *schema_dir, unsigned flags);
void test_engine_free(void);
/* Path of a file in the shared corpus / tests/data (static buffer). */
const char *corpus(const char *rel);
const char *testdata(const char *rel);
/* Parse a file or a string; fails the test on error unless EXPECT_FAIL. */
struct engine_doc *test_parse_file(struct engine *eng, const char *path,
				   struct engine_report *rep);
struct engine_doc *test_parse_str(struct engine *eng, const char *xml, struct engine_report *rep);
/* Does REP hold a finding with RULE? */
int report_has(const struct engine_report *rep, const char *rule);

#endif
