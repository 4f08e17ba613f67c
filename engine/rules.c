/*
 * rules.c — the business-rule stage. PLACEHOLDER being replaced in this
 * session by the Schematron-subset rule engine; do not build on it.
 */
#include "engine_int.h"

int engine__rules_load(struct engine *eng, char *err, size_t errlen)
{
	(void)eng, (void)err, (void)errlen;
	return SECMX_OK;
}

void engine__rules_free(struct engine *eng)
{
	(void)eng;
}

int engine_doc_validate_rules(const struct engine *eng, struct engine_doc *doc,
			      const char *profile, struct engine_report *rep)
{
	(void)eng, (void)doc, (void)profile, (void)rep;
	return SECMX_OK;
}
