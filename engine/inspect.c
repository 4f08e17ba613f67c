/*
 * inspect.c — document summaries. PLACEHOLDER being replaced in this session.
 */
#include "engine_int.h"

json_t *engine_doc_inspect(const struct engine_doc *doc)
{
	(void)doc;
	return json_object();
}
