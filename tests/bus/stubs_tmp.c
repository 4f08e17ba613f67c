#include <check.h>
TCase *tc_sdk(void){return tcase_create("sdk");}
