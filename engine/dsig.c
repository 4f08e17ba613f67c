/*
 * dsig.c — XML-DSig signing and strict verification. PLACEHOLDER being
 * replaced in this session; do not build on it.
 */
#include "engine_int.h"

int engine__dsig_init(void)
{
	return SECMX_OK;
}

void engine__dsig_cleanup(void)
{
}
