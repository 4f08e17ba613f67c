/*
 * tc_threads.c — one engine shared by several threads: every thread runs
 * the whole pipeline on every corpus document, and each result must equal
 * the single-threaded one.
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

TCase *tc_threads(void)
{
	TCase *tc = tcase_create("threads");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, shared_engine_many_threads);
	return tc;
}
