/*
 * fuzz_engine.c — libFuzzer harness for the document engine.
 *
 * Each input goes through what a received document meets: parse (with the
 * engine's limits), classify, inspect, validate (XSD and business rules),
 * signature verification against a throwaway trust store, serialize, and
 * the report's JSON form. Return codes are ignored: only crashes, sanitizer
 * findings, leaks and timeouts count, plus two properties checked here
 * (a failure traps, so libFuzzer saves the input):
 *   - engine_doc_inspect() of a parsed document never returns NULL (it
 *     fails only when out of memory, which libFuzzer does not simulate);
 *   - what engine_doc_serialize() writes parses again under the same
 *     limits (checked for inputs under 1/8 of the size limit, since
 *     escaping may make the output up to a few times larger).
 *
 * LLVMFuzzerInitialize builds one engine (schema set: $SECMX_FUZZ_SCHEMAS,
 * else the build-time SECMX_FUZZ_SCHEMA_DIR) and one trust store: a fresh
 * self-signed P-256 CA in a temporary directory, removed again at once
 * after loading.
 * Ownership: the engine and trust store live for the process.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "engine.h"
#include "pki.h"

#ifndef SECMX_FUZZ_SCHEMA_DIR
#define SECMX_FUZZ_SCHEMA_DIR "schemas/egif"
#endif

static struct engine *eng;
static struct engine_trust *trust;
static size_t max_doc_bytes;

/* make_trust: a throwaway CA as the trust store; NULL when unavailable. */
static struct engine_trust *make_trust(void)
{
	char dir[] = "/tmp/secmx-fuzz-XXXXXX", path[4096], err[256] = "";
	struct engine_trust *t = NULL;

	if (mkdtemp(dir) == NULL)
		return NULL;
	if (pki_make(dir, "ca", PKI_P256) == 0 &&
	    engine_trust_load(pki_path(path, sizeof(path), dir, "ca", "crt.pem"), NULL, &t, err,
			      sizeof(err)) < 0)
		fprintf(stderr, "fuzz_engine: trust store: %s\n", err);
	pki_remove(dir, "ca");
	rmdir(dir);
	return t;
}

/* LLVMFuzzerInitialize: one engine and one trust store for the process. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct engine_config cfg;
	const char *schemas = getenv("SECMX_FUZZ_SCHEMAS");
	char err[512] = "";
	int rc;

	(void)argc, (void)argv;
	if (engine_global_init() < 0) {
		fprintf(stderr, "fuzz_engine: engine_global_init failed\n");
		exit(1);
	}
	engine_config_default(&cfg);
	cfg.schema_dir = schemas ? schemas : SECMX_FUZZ_SCHEMA_DIR;
	max_doc_bytes = cfg.limits.max_doc_bytes;
	if ((rc = engine_new(&cfg, &eng, err, sizeof(err))) < 0) {
		fprintf(stderr, "fuzz_engine: engine_new(%s): %s: %s\n", cfg.schema_dir,
			secmx_strerror(rc), err);
		exit(1);
	}
	trust = make_trust();
	fprintf(stderr, "fuzz_engine: schemas %s; verify %s\n", cfg.schema_dir,
		trust ? "on (throwaway P-256 CA)" :
			"OFF (engine_trust_load/engine_doc_verify not in this build)");
	return 0;
}

/* LLVMFuzzerTestOneInput: one input through every stage. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct engine_report *rep = engine_report_new();
	struct engine_doc *doc = NULL;
	struct engine_signer signer;
	struct engine_verify_opts opts = {0, 0};
	char *out = NULL;
	size_t outlen = 0;
	json_t *j;

	if (rep == NULL)
		return 0;
	if (engine_doc_parse(eng, data, size, "fuzz", &doc, rep) == 0) {
		(void)engine_doc_classify(eng, doc, rep);
		if ((j = engine_doc_inspect(doc)) == NULL)
			__builtin_trap();
		json_decref(j);
		(void)engine_doc_validate(eng, doc, 0, NULL, rep);
		if (trust != NULL)
			(void)engine_doc_verify(eng, doc, trust, &opts, rep, &signer);
		if (engine_doc_serialize(doc, &out, &outlen) == 0) {
			struct engine_doc *again = NULL;

			if (size < max_doc_bytes / 8 &&
			    engine_doc_parse(eng, out, outlen, "fuzz-again", &again, rep) < 0)
				__builtin_trap();
			engine_doc_free(again);
			free(out);
		}
	}
	j = engine_report_json(rep);
	json_decref(j);
	engine_doc_free(doc);
	engine_report_free(rep);
	return 0;
}
