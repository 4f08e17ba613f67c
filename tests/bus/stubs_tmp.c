#include <check.h>
TCase *tc_curve(void){return tcase_create("curve");}
TCase *tc_sdk(void){return tcase_create("sdk");}
