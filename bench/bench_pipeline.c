/*
 * bench_pipeline.c — the engine-only rate to set beside the end-to-end one
 * (bench_e2e.py): THREADS threads each take documents from a list of files
 * and run the daemon's CPU work on them — parse, classify, validate (XSD +
 * rules), sign with KEY/CERT when given, serialize — with no queue and no
 * bus. Prints documents per second (wall clock) and CPU per document,
 * without and with the start-up (engine_new). Never fails on time.
 *
 *   bench_pipeline THREADS ROUNDS [KEY CERT] < LIST   (LIST: one file per line)
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/resource.h>

#include "engine.h"

#define MAXDOCS 4096

struct work {
	const struct engine *eng;
	const struct engine_key *key;
	char *buf[MAXDOCS];
	size_t len[MAXDOCS];
	size_t ndocs;
	long total;
	atomic_long next;
	atomic_long done, invalid;
};

/* now: wall-clock seconds. */
static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* cpu_s: user + system seconds of RU. */
static double cpu_s(const struct rusage *ru)
{
	return (double)ru->ru_utime.tv_sec + ru->ru_utime.tv_usec / 1e6 +
	       (double)ru->ru_stime.tv_sec + ru->ru_stime.tv_usec / 1e6;
}

/* run: one thread's share. */
static void *run(void *arg)
{
	struct work *w = arg;
	struct engine_report *rep = engine_report_new();
	long i;

	while ((i = atomic_fetch_add(&w->next, 1)) < w->total) {
		struct engine_doc *doc = NULL;
		size_t k = (size_t)i % w->ndocs, olen;
		char *out = NULL;
		int rc;

		engine_report_clear(rep);
		if (engine_doc_parse(w->eng, w->buf[k], w->len[k], "bench", &doc, rep) < 0 ||
		    engine_doc_classify(w->eng, doc, rep) < 0 ||
		    (rc = engine_doc_validate(w->eng, doc, 0, NULL, rep)) < 0) {
			atomic_fetch_add(&w->invalid, 1);
		} else if (w->key && engine_doc_sign(w->eng, doc, w->key, rep) == 0) {
			engine_doc_serialize(doc, &out, &olen);
		}
		free(out);
		engine_doc_free(doc);
		atomic_fetch_add(&w->done, 1);
	}
	engine_report_free(rep);
	return NULL;
}

int main(int argc, char **argv)
{
	static struct work w;
	struct engine_config cfg;
	struct engine *eng = NULL;
	struct engine_key *key = NULL;
	pthread_t th[64];
	char line[4096], err[512] = "";
	int nth = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 2, i;
	long rounds = argc > 2 ? strtol(argv[2], NULL, 10) : 5;
	struct rusage ru0, ru;
	double t0, t1, done;

	if (nth < 1 || nth > 64 || rounds < 1) {
		fprintf(stderr, "usage: bench_engine THREADS ROUNDS [KEY CERT] < LIST\n");
		return 2;
	}
	while (w.ndocs < MAXDOCS && fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] &&
		    secmx_file_read(line, 64u << 20, &w.buf[w.ndocs], &w.len[w.ndocs]) == 0)
			w.ndocs++;
	}
	if (w.ndocs == 0 || engine_global_init() < 0)
		return 2;
	engine_config_default(&cfg);
	if (engine_new(&cfg, &eng, err, sizeof(err)) < 0 ||
	    (argc > 4 && engine_key_load(argv[3], argv[4], NULL, &key, err, sizeof(err)) < 0)) {
		fprintf(stderr, "bench_engine: %s\n", err);
		return 2;
	}
	w.eng = eng;
	w.key = key;
	w.total = (long)w.ndocs * rounds;
	getrusage(RUSAGE_SELF, &ru0); /* after start-up: the schemas and rules loaded */
	t0 = now();
	for (i = 0; i < nth; i++)
		pthread_create(&th[i], NULL, run, &w);
	for (i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	t1 = now();
	getrusage(RUSAGE_SELF, &ru);
	done = (double)(atomic_load(&w.done) ? atomic_load(&w.done) : 1);
	printf("engine-only: threads=%d documents=%ld invalid=%ld seconds=%.3f rate=%.1f docs/s%s"
	       " cpu_per_doc=%.2f ms (%.2f ms with start-up)\n",
	       nth, (long)atomic_load(&w.done), (long)atomic_load(&w.invalid), t1 - t0,
	       (double)atomic_load(&w.done) / (t1 - t0), key ? " (signing)" : "",
	       1000.0 * (cpu_s(&ru) - cpu_s(&ru0)) / done, 1000.0 * cpu_s(&ru) / done);
	for (i = 0; i < (int)w.ndocs; i++)
		free(w.buf[i]);
	engine_key_free(key);
	engine_free(eng);
	engine_global_cleanup();
	return 0;
}
