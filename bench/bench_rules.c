/*
 * bench_rules.c — time the business-rule stage alone: parse a document once,
 * then run engine_doc_validate_rules() on it N times (single thread), and
 * print documents per second. Also prints the findings of one run and the
 * load average at the start (the machine is shared: compare runs only at
 * similar loads, or alternate the builds being compared).
 * Usage: bench_rules FILE [N] [RULES_DIR]. Prints figures; never fails on time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "engine.h"

/* now: CPU seconds of this process (robust on a shared, loaded machine). */
static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct engine_config cfg;
	struct engine *eng = NULL;
	struct engine_report *rep = NULL;
	struct engine_doc *doc = NULL;
	char err[512] = "", *buf = NULL;
	size_t len = 0;
	long n = argc > 2 ? strtol(argv[2], NULL, 10) : 2000, i;
	double t0, t1, tp, load[3] = {-1, -1, -1};
	int rc = EXIT_FAILURE;

	if (argc < 2) {
		fprintf(stderr, "usage: bench_rules FILE [N] [RULES_DIR]\n");
		return EXIT_FAILURE;
	}
	if (getloadavg(load, 3) < 0)
		load[0] = -1;
	engine_config_default(&cfg);
	cfg.flags = 0x100u; /* no XSD stage: time the rules only */
	cfg.rules_dir = argc > 3 ? argv[3] : NULL;
	if (engine_new(&cfg, &eng, err, sizeof(err)) < 0) {
		fprintf(stderr, "engine_new: %s\n", err);
		return EXIT_FAILURE;
	}
	if (secmx_file_read(argv[1], 64u << 20, &buf, &len) < 0 || (rep = engine_report_new()) == NULL)
		goto out;
	t0 = now();
	for (i = 0; i < n; i++) {
		engine_doc_free(doc);
		doc = NULL;
		if (engine_doc_parse(eng, buf, len, argv[1], &doc, rep) < 0)
			goto out;
	}
	tp = now() - t0;
	engine_doc_validate_rules(eng, doc, NULL, rep);
	engine_report_print(rep, argv[1], stdout);
	t0 = now();
	for (i = 0; i < n; i++) {
		engine_report_clear(rep);
		engine_doc_validate_rules(eng, doc, NULL, rep);
	}
	t1 = now() - t0;
	printf("%s: %zu bytes, %zu rules in profile %s\n", argv[1], len,
	       engine_rules_count(eng, engine_doc_profile(doc)), engine_doc_profile(doc));
	printf("parse only:  %.0f docs/s (%.1f us/doc)\n", n / tp, tp / n * 1e6);
	printf("rules only:  %.0f docs/s (%.1f us/doc), %ld runs; load average %.2f at start\n",
	       n / t1, t1 / n * 1e6, n, load[0]);
	rc = EXIT_SUCCESS;
out:
	engine_doc_free(doc);
	engine_report_free(rep);
	free(buf);
	engine_free(eng);
	return rc;
}
