/*
 * tc_threads.c — one engine shared by several threads: every thread runs
 * the whole pipeline on every corpus document, and each result must equal
 * the single-threaded one. Also with ENGINE_CFG_RULES_ON_DEMAND: a fresh
 * engine whose threads start on different documents, so different profiles'
 * rule sets and code lists load while other threads evaluate, must give
 * exactly the findings (rule, severity, line, path, message) of an engine
 * that loaded every rule set at start.
 */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests.h"

#define N_THREADS 4
#define ROUNDS 5
#define MAX_DOCS 64

struct sample {
	char *buf;
	size_t len;
	char path[512];
	int rc;                 /* single-threaded engine_doc_validate result */
	size_t findings;
	char type[64];
	unsigned long long digest;  /* of every finding, eager engine */
};

static struct sample samples[MAX_DOCS];
static size_t n_samples;
static struct engine *shared;

static void load_samples(void)
{
	static const char *dirs[] = {"ubl-examples/oasis-ubl21", "ubl-examples/peppol-bis-billing3",
				     "ubl-examples/pint-aunz", "ubl-examples/en16931-cen",
				     "ubl-examples/peppol-ordering3"};
	size_t d;

	n_samples = 0;
	for (d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++) {
		DIR *dir = opendir(corpus(dirs[d]));
		struct dirent *de;

		ck_assert_msg(dir != NULL, "corpus directory %s", dirs[d]);
		while ((de = readdir(dir)) != NULL && n_samples < MAX_DOCS) {
			struct sample *s = &samples[n_samples];
			size_t n = strlen(de->d_name);

			if (n < 4 || strcmp(de->d_name + n - 4, ".xml") != 0)
				continue;
			snprintf(s->path, sizeof(s->path), "%s/%s", corpus(dirs[d]), de->d_name);
			ck_assert_int_eq(secmx_file_read(s->path, 1u << 26, &s->buf, &s->len), 0);
			n_samples++;
		}
		closedir(dir);
	}
	ck_assert_uint_ge(n_samples, 10);
}

/* run_one: the pipeline on one sample; returns the validate result. */
static int run_one(const struct sample *s, size_t *findings, char *type, size_t typelen)
{
	struct engine_report *rep = engine_report_new();
	struct engine_doc *doc = NULL;
	int rc = engine_doc_parse(shared, s->buf, s->len, s->path, &doc, rep);

	if (rc == 0)
		rc = engine_doc_validate(shared, doc, 0, NULL, rep);
	*findings = engine_report_count(rep);
	if (type)
		snprintf(type, typelen, "%s", doc && engine_doc_type(doc) ?
					 engine_doc_type(doc)->name : "-");
	if (doc) {
		/* serialization and inspection must also be thread-safe */
		char *out = NULL;
		size_t len = 0;
		json_t *sum = engine_doc_inspect(doc);
		if (engine_doc_serialize(doc, &out, &len) != 0)
			rc = -1000;
		free(out);
		json_decref(sum);
	}
	engine_doc_free(doc);
	engine_report_free(rep);
	return rc;
}

static void *worker(void *arg)
{
	size_t mismatches = 0, r, i, start = (size_t)(long)arg;

	for (r = 0; r < ROUNDS; r++)
		for (i = 0; i < n_samples; i++) {
			const struct sample *s = &samples[(i + start) % n_samples];
			size_t findings;
			char type[64];
			int rc = run_one(s, &findings, type, sizeof(type));

			if (rc != s->rc || findings != s->findings || strcmp(type, s->type) != 0)
				mismatches++;
		}
	return (void *)mismatches;
}

START_TEST(shared_engine_many_threads)
{
	pthread_t th[N_THREADS];
	size_t i, total = 0;

	load_samples();
	shared = test_engine(NULL, 0);
	for (i = 0; i < n_samples; i++)
		samples[i].rc = run_one(&samples[i], &samples[i].findings, samples[i].type,
					sizeof(samples[i].type));
	for (i = 0; i < N_THREADS; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, worker, (void *)(long)i), 0);
	for (i = 0; i < N_THREADS; i++) {
		void *res;
		pthread_join(th[i], &res);
		total += (size_t)res;
	}
	ck_assert_msg(total == 0, "%zu results differed from the single-threaded run", total);
	for (i = 0; i < n_samples; i++)
		free(samples[i].buf);
	test_engine_free();
}
END_TEST

/* fnv: fold the bytes of S (and a separator) into H (FNV-1a). */
static unsigned long long fnv(unsigned long long h, const char *s)
{
	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return (h ^ 0xffu) * 1099511628211ull;
}

/* digest_of: validate S with ENG; a digest of every finding and the result. */
static unsigned long long digest_of(struct engine *eng, const struct sample *s)
{
	struct engine_report *rep = engine_report_new();
	struct engine_doc *doc = NULL;
	unsigned long long h = 14695981039346656037ull;
	char num[64];
	size_t i;
	int rc = engine_doc_parse(eng, s->buf, s->len, s->path, &doc, rep);

	if (rc == 0)
		rc = engine_doc_validate(eng, doc, 0, NULL, rep);
	for (i = 0; i < engine_report_count(rep); i++) {
		const struct engine_finding *f = engine_report_at(rep, i);

		snprintf(num, sizeof(num), "%d %ld", (int)f->severity, f->line);
		h = fnv(fnv(fnv(fnv(h, f->rule), num), f->path), f->message);
	}
	snprintf(num, sizeof(num), "rc %d", rc);
	h = fnv(h, num);
	engine_doc_free(doc);
	engine_report_free(rep);
	return h;
}

static struct engine *on_demand;

static void *on_demand_worker(void *arg)
{
	size_t mismatches = 0, i, start = (size_t)(long)arg * n_samples / N_THREADS;

	for (i = 0; i < n_samples; i++) {
		const struct sample *s = &samples[(i + start) % n_samples];

		if (digest_of(on_demand, s) != s->digest)
			mismatches++;
	}
	return (void *)mismatches;
}

START_TEST(on_demand_rules_many_threads)
{
	struct engine_config cfg;
	pthread_t th[N_THREADS];
	size_t i, total = 0;
	char err[512] = "";
	const char *profs[] = {"peppol-bis-billing-3", "peppol-ordering-3", "pint-aunz-billing"};

	load_samples();
	shared = test_engine(NULL, 0);
	for (i = 0; i < n_samples; i++)
		samples[i].digest = digest_of(shared, &samples[i]);
	/* Listings equal too: every rule of a profile, in order. */
	engine_config_default(&cfg);
	cfg.flags = ENGINE_CFG_RULES_ON_DEMAND;
	ck_assert_int_eq(engine_new(&cfg, &on_demand, err, sizeof(err)), 0);
	for (i = 0; i < sizeof(profs) / sizeof(profs[0]); i++) {
		size_t k, n = engine_rules_count(shared, profs[i]);

		ck_assert_uint_gt(n, 0);
		ck_assert_uint_eq(engine_rules_count(on_demand, profs[i]), n);
		for (k = 0; k < n; k++)
			ck_assert_str_eq(engine_rules_at(on_demand, profs[i], k)->id,
					 engine_rules_at(shared, profs[i], k)->id);
	}
	engine_free(on_demand);
	/* A fresh engine: nothing loaded when the threads start. */
	ck_assert_int_eq(engine_new(&cfg, &on_demand, err, sizeof(err)), 0);
	for (i = 0; i < N_THREADS; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, on_demand_worker, (void *)(long)i), 0);
	for (i = 0; i < N_THREADS; i++) {
		void *res;
		pthread_join(th[i], &res);
		total += (size_t)res;
	}
	ck_assert_msg(total == 0, "%zu on-demand results differed from the eager engine's", total);
	engine_free(on_demand);
	on_demand = NULL;
	for (i = 0; i < n_samples; i++)
		free(samples[i].buf);
	test_engine_free();
}
END_TEST

TCase *tc_threads(void)
{
	TCase *tc = tcase_create("threads");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, shared_engine_many_threads);
	tcase_add_test(tc, on_demand_rules_many_threads);
	return tc;
}
