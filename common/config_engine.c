/*
 * config_engine.c — the [engine] section of the configuration: one table.
 *
 * Interface (common.h): config_engine_table, for struct config_engine.
 *
 * Why here, in common/ and not in engine/ or cli/: every process that reads
 * a configuration file links common/ (the secmx command, the secmxd daemon
 * whose entry point lives in cli/, and the adapters), and the daemon builds
 * its own table by including this one as a sub-table
 * (struct config_sub { &config_engine_table, offsetof(struct daemon_cfg, engine) }),
 * so the [engine] keys, their bounds and their documentation exist once.
 * The engine library itself stays free of file parsing: its caller copies
 * these values into struct engine_config (engine.h; the limits have the same
 * names and defaults as engine_config_default(), allow_sha1 is
 * ENGINE_CFG_ALLOW_SHA1). The signing keys are for the process that signs.
 *
 * Checks across keys (config_load refuses them at the key's line): sign_key
 * needs sign_cert; sign_key_password_env must name a variable that is set.
 *
 * Limits: the bounds below keep every value within the engine's own types
 * (max_depth and max_attrs fit an unsigned).
 */
#include "common.h"

#include <stddef.h>
#include <stdlib.h>

/* E: the offset of a member, checked against its storage type (common.h). */
#define E(member, type) CONFIG_OFFSET(struct config_engine, member, type)

/* The table: keep docs/configuration.md in step (the config_docs test). */
static const struct config_key engine_keys[] = {
    {"engine", "schema_dir", CONFIG_PATH, 0, NULL, 0, 0, NULL, E(schema_dir, char *),
     "Directory of the UBL schema set (the e-GIF profile: `maindoc/` and `common/`). "
     "Not set: the schema set installed with secmx."},
    {"engine", "rules_dir", CONFIG_PATH, 0, NULL, 0, 0, NULL, E(rules_dir, char *),
     "Directory of the business-rule sets (Schematron-derived). "
     "Not set: the rule sets installed with secmx."},
    {"engine", "max_doc_bytes", CONFIG_SIZE, CONFIG_RELOAD, "10M", 1024, 1LL << 30, NULL,
     E(max_doc_bytes, size_t), "Largest document accepted, in bytes, before parsing starts."},
    {"engine", "max_depth", CONFIG_INT, CONFIG_RELOAD, "64", 8, 1024, NULL, E(max_depth, long long),
     "Deepest element nesting accepted."},
    {"engine", "max_attr_bytes", CONFIG_SIZE, CONFIG_RELOAD, "64k", 256, 16LL << 20, NULL,
     E(max_attr_bytes, size_t), "Longest attribute value accepted."},
    {"engine", "max_text_bytes", CONFIG_SIZE, CONFIG_RELOAD, "8M", 1024, 1LL << 30, NULL,
     E(max_text_bytes, size_t),
     "Longest text node accepted (base64 attachments are the large ones)."},
    {"engine", "max_nodes", CONFIG_INT, CONFIG_RELOAD, "1000000", 1000, 100000000, NULL,
     E(max_nodes, long long), "Most elements, attributes and text nodes in one document."},
    {"engine", "max_attrs", CONFIG_INT, CONFIG_RELOAD, "64", 4, 4096, NULL, E(max_attrs, long long),
     "Most attributes on one element."},
    {"engine", "allow_sha1", CONFIG_BOOL, CONFIG_RELOAD, "no", 0, 0, NULL, E(allow_sha1, bool),
     "Accept SHA-1 digests and signatures when verifying. Only for old archives."},
    {"engine", "sign_key", CONFIG_SECRET_PATH, 0, NULL, 0, 0, NULL, E(sign_key, char *),
     "Private key (PEM) used to sign documents. Only the signing process reads it; "
     "it must be mode 0600 (or stricter) and owned by the service user or root."},
    {"engine", "sign_cert", CONFIG_PATH, 0, NULL, 0, 0, NULL, E(sign_cert, char *),
     "Certificate (PEM) of `sign_key`, included in signatures; required with `sign_key`."},
    {"engine", "sign_key_password_env", CONFIG_STRING, 0, NULL, 0, 0, NULL,
     E(sign_key_password_env, char *),
     "Name of the environment variable holding the password of `sign_key`, if it is "
     "encrypted. The password itself never goes in this file."},
    {"engine", "trust", CONFIG_PATH, CONFIG_RELOAD, NULL, 0, 0, NULL, E(trust, char *),
     "CA certificates (PEM bundle) trusted when verifying signatures."},
    {"engine", "crl", CONFIG_PATH, CONFIG_RELOAD, NULL, 0, 0, NULL, E(crl, char *),
     "Certificate revocation lists (PEM) checked when verifying signatures; needs `trust`."},
};

/*
 * check: a signing key needs its certificate, and the environment variable
 * named for its password must be set (checked here too, not only when the
 * key is loaded, so that --check-config and a reload say so with the line);
 * revocation lists need the trust store they are checked with (without it
 * no signature is verified and the lists would be silently ignored).
 */
static int check(const void *c, struct config_where *w)
{
	const struct config_engine *e = c;

	if (e->sign_key && !e->sign_cert)
		return config_key_refuse(w, "engine", "sign_key", "needs engine.sign_cert");
	if (e->sign_key && e->sign_key_password_env && getenv(e->sign_key_password_env) == NULL)
		return config_key_refuse(w, "engine", "sign_key_password_env",
		                         "%s is not set in the environment",
		                         e->sign_key_password_env);
	if (e->crl && !e->trust)
		return config_key_refuse(w, "engine", "crl",
		                         "needs engine.trust (revocation lists are checked against "
		                         "the trusted CAs; without them nothing is verified)");
	return 0;
}

const struct config_table config_engine_table = {
    .name = "engine",
    .size = sizeof(struct config_engine),
    .keys = engine_keys,
    .nkeys = sizeof(engine_keys) / sizeof(engine_keys[0]),
    .subs = NULL,
    .nsubs = 0,
    .check = check,
};
