/*
 * tests.h — the common suite's TCase list. Each concern lives in its own
 * tc_<concern>.c and offers one tc_<concern>() returning its TCase;
 * check_common.c puts them in the suite.
 */
#ifndef SECMX_TESTS_COMMON_H
#define SECMX_TESTS_COMMON_H

#include <check.h>

TCase *tc_config(void);
TCase *tc_log(void);

#endif
