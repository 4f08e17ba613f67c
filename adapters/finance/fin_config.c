/*
 * fin_config.c — the [finance] section of secmx-finance's configuration:
 * one typed table (common.h, CONFIGURATION), and the two helpers that turn
 * it into what the ledger needs.
 *
 * Interface (finance.h): fin_config_table, fin_config_password,
 * fin_config_ledger.
 * Secrets: the CURVE secret key and the PostgreSQL password file are
 * CONFIG_SECRET_PATH (the loader refuses them when group or others can read
 * them); the password itself is read only here, never logged, and wiped by
 * the caller after use. docs/finance.md documents every key (tested).
 * Errors: SECMX_EIO (password file), SECMX_ECONFIG (environment variable
 * named but unset), SECMX_ENOMEM.
 */
#include "finance.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define F(member, type) CONFIG_OFFSET(struct fin_config, member, type)

static const char *const backends[] = {"sqlite", "postgresql", NULL};

static const struct config_key finance_keys[] = {
    {"finance", "endpoint", CONFIG_ENDPOINT, CONFIG_REQUIRED, NULL, 0, 0, NULL, F(endpoint, char *),
     "The secmx bus: `ipc:///run/secmx/bus.sock` or `tcp://host:port` "
     "(tcp needs the three key files below)."},
    {"finance", "name", CONFIG_STRING, 0, "finance", 0, 0, NULL, F(name, char *),
     "Adapter name said in HELLO; secmxd's subscriptions refer to it."},
    {"finance", "submit_name", CONFIG_STRING, 0, "finance-pay", 0, 0, NULL, F(submit_name, char *),
     "Adapter name `secmx-finance pay` connects under to SUBMIT a remittance, so that it "
     "never takes over the running adapter's session."},
    {"finance", "patterns", CONFIG_LIST, 0, "Invoice,CreditNote", 1, BUS_MAX_PATTERNS, NULL,
     F(patterns, struct config_list), "Document types subscribed to in HELLO."},
    {"finance", "credit", CONFIG_INT, 0, "1", 1, 1024, NULL, F(credit, long long),
     "Deliveries in flight at most. 1 keeps strict per-transaction order."},
    {"finance", "server_key", CONFIG_PATH, 0, NULL, 0, 0, NULL, F(server_key, char *),
     "File with the bus server's Z85 public key (CURVE, for tcp://)."},
    {"finance", "public_key", CONFIG_PATH, 0, NULL, 0, 0, NULL, F(public_key, char *),
     "File with this adapter's Z85 public key (`secmx bus keygen --out finance` writes "
     "`finance.pub`)."},
    {"finance", "secret_key", CONFIG_SECRET_PATH, 0, NULL, 0, 0, NULL, F(secret_key, char *),
     "File with this adapter's Z85 secret key (`finance.key`, mode 0600)."},
    {"finance", "ledger", CONFIG_ENUM, 0, "sqlite", 0, 0, backends, F(ledger, int),
     "Ledger backend: `sqlite` or `postgresql`."},
    {"finance", "sqlite_path", CONFIG_PATH, CONFIG_CREATE, "/var/lib/secmx/finance.db", 0, 0, NULL,
     F(sqlite_path, char *), "The SQLite ledger file (created if missing)."},
    {"finance", "pg_conninfo", CONFIG_STRING, 0, NULL, 0, 0, NULL, F(pg_conninfo, char *),
     "libpq connection string for the PostgreSQL ledger (`host=db.example dbname=finance "
     "user=secmx`), without the password."},
    {"finance", "pg_password_file", CONFIG_SECRET_PATH, 0, NULL, 0, 0, NULL,
     F(pg_password_file, char *),
     "File holding the PostgreSQL password (first line; mode 0600). Never logged."},
    {"finance", "pg_password_env", CONFIG_STRING, 0, NULL, 0, 0, NULL, F(pg_password_env, char *),
     "Name of an environment variable holding the PostgreSQL password instead."},
    {"finance", "export_dir", CONFIG_PATH, CONFIG_CREATE, NULL, 0, 0, NULL, F(export_dir, char *),
     "Directory where `export` writes when `-o` is a bare file name."},
    {"finance", "export_formula_guard", CONFIG_BOOL, 0, "yes", 0, 0, NULL,
     F(export_formula_guard, bool),
     "Write a text field that a spreadsheet would run as a formula (it begins with `=`, `+`, "
     "`-`, `@`, TAB or CR and is not a plain number) with a leading apostrophe. Supplier "
     "names come from outside: an invoice from `=HYPERLINK(...)` Ltd opened in a spreadsheet "
     "is an attack. Turn off only for an importer that never meets a spreadsheet."},
    {"finance", "submit_timeout", CONFIG_DURATION, 0, "30s", 100, 600000, NULL,
     F(submit_timeout_ms, long long),
     "How long `pay` waits for the bus to accept the "
     "remittance."},
    {"finance", "org_name", CONFIG_STRING, 0, NULL, 0, 0, NULL, F(org_name, char *),
     "Our organisation's name, the payer in remittances."},
    {"finance", "org_id", CONFIG_STRING, 0, NULL, 0, 0, NULL, F(org_id, char *),
     "Our organisation's identifier (NZBN, ABN) in remittances."},
    {"finance", "org_id_scheme", CONFIG_STRING, 0, "0088", 0, 0, NULL, F(org_id_scheme, char *),
     "Scheme of `org_id` (ISO 6523 ICD: 0088 GLN/NZBN, 0151 ABN)."},
    {"finance", "org_tax_id", CONFIG_STRING, 0, NULL, 0, 0, NULL, F(org_tax_id, char *),
     "Our GST number in remittances."},
    {"finance", "org_country", CONFIG_STRING, 0, "NZ", 0, 0, NULL, F(org_country, char *),
     "Our country (ISO 3166-1 alpha-2)."},
    {"finance", "remittance_customization", CONFIG_STRING, 0, "urn:secmx:nz:remittance:1", 0, 0,
     NULL, F(remittance_customization, char *),
     "cbc:CustomizationID put in remittances: by default the secmx NZ remittance profile "
     "(docs/profile-nz-remittance.md); empty: plain UBL 2.1."},
    {"finance", "log_level", CONFIG_ENUM, CONFIG_RELOAD, "info", 0, 0, log_level_names,
     F(log_level, int), "Least severe log level written to stderr."},
};

/* check: the CURVE keys, all three or none, and required on tcp://. */
static int check(const void *c, struct config_where *w)
{
	const struct fin_config *f = c;

	return config_curve_refuse(w, "finance", f->endpoint, "server_key", f->server_key,
	                           f->public_key, f->secret_key);
}

const struct config_table fin_config_table = {
    .name = "finance",
    .size = sizeof(struct fin_config),
    .keys = finance_keys,
    .nkeys = sizeof(finance_keys) / sizeof(finance_keys[0]),
    .subs = NULL,
    .nsubs = 0,
    .check = check,
};

/* fin_config_password: the password from the file or the environment. */
int fin_config_password(const struct fin_config *c, char **out, char *err, size_t errlen)
{
	const char *v;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	if (c->pg_password_file) {
		rc = secmx_file_read(c->pg_password_file, 4096, &buf, &len);
		if (rc < 0) {
			secmx_errf(err, errlen, "%s: cannot read the password file",
			           c->pg_password_file);
			return rc == SECMX_ELIMIT ? SECMX_ECONFIG : SECMX_EIO;
		}
		buf[strcspn(buf, "\r\n")] = '\0';
		*out = buf;
		return 0;
	}
	if (c->pg_password_env) {
		v = getenv(c->pg_password_env);
		if (!v) {
			secmx_errf(err, errlen,
			           "environment variable %s (finance.pg_password_env) "
			           "is not set",
			           c->pg_password_env);
			return SECMX_ECONFIG;
		}
		if (!(*out = strdup(v)))
			return SECMX_ENOMEM;
	}
	return 0;
}

/* fin_config_ledger: the ledger parameters of C. */
void fin_config_ledger(const struct fin_config *c, const char *password, struct ledger_params *p)
{
	memset(p, 0, sizeof(*p));
	p->kind = c->ledger == 1 ? LEDGER_POSTGRESQL : LEDGER_SQLITE;
	p->sqlite_path = c->sqlite_path;
	p->pg_conninfo = c->pg_conninfo;
	p->pg_password = password;
}
