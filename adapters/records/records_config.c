/*
 * records_config.c — the [records] section of secmx-records: one typed table
 * (records_config.h). Defaults are documented in docs/records.md.
 */
#include "records_config.h"

#include <stddef.h>

#define R(member, type) CONFIG_OFFSET(struct records_cfg, member, type)

/* In the order of enum records_sync (records.h). */
static const char *const SYNC_VALUES[] = {"files", "filesystem", NULL};

/* The [records] section: keep docs/records.md in step (records_config_doc test). */
static const struct config_key records_keys[] = {
    {"records", "endpoint", CONFIG_ENDPOINT, 0, "ipc:///run/secmx/bus.sock", 0, 0, NULL,
     R(endpoint, char *), "The bus endpoint of secmxd (`ipc://` path or `tcp://host:port`)."},
    {"records", "name", CONFIG_STRING, 0, "records", 0, 0, NULL, R(name, char *),
     "Adapter name said in HELLO; secmxd's subscriptions and CURVE allow-list use it."},
    {"records", "patterns", CONFIG_LIST, 0, "*, reject:*", 1, 32, NULL,
     R(patterns, struct config_list),
     "Document types to subscribe to. `*` is every business document; `reject:*` the "
     "documents secmxd refused (delivered with document type `reject:TYPE`)."},
    {"records", "credit", CONFIG_INT, 0, "1", 1, 1024, NULL, R(credit, long long),
     "Deliveries in flight at most. 1 keeps strict per-transaction order."},
    {"records", "sync", CONFIG_ENUM, 0, "files", 0, 0, SYNC_VALUES, R(sync, int),
     "How a burst's new objects are made durable before its ACKs: `files` fsyncs each object "
     "file and each object directory touched (portable); `filesystem` calls syncfs(2) twice "
     "per burst, whatever its size, and needs Linux 5.8 or later. `filesystem` also writes "
     "back every other dirty file of the store's file system: use it for a store on a file "
     "system of its own."},
    {"records", "server_public_key", CONFIG_PATH, 0, NULL, 0, 0, NULL, R(server_public_key, char *),
     "File with secmxd's Z85 CURVE public key (`bus-server.pub`); required for `tcp://`."},
    {"records", "public_key", CONFIG_PATH, 0, NULL, 0, 0, NULL, R(public_key, char *),
     "File with this adapter's Z85 CURVE public key."},
    {"records", "secret_key", CONFIG_SECRET_PATH, 0, NULL, 0, 0, NULL, R(secret_key, char *),
     "File with this adapter's Z85 CURVE secret key (mode 0600)."},
    {"records", "store_dir", CONFIG_PATH, CONFIG_CREATE | CONFIG_REQUIRED, NULL, 0, 0, NULL,
     R(store_dir, char *),
     "The archive directory: `objects/`, `index.db`, `chain.head`. Created if missing."},
    {"records", "organisation", CONFIG_STRING, CONFIG_REQUIRED, NULL, 0, 0, NULL,
     R(organisation, char *),
     "The organisation whose records these are (BagIt `Source-Organization`)."},
    {"records", "retention", CONFIG_LIST, CONFIG_RELOAD,
     "reject:*=1y, Invoice=7y, CreditNote=7y, Order*=7y, *Advice=7y, *=7y", 0, 64, NULL,
     R(retention, struct config_list),
     "Retention classes `PATTERN=Ny`, first match wins, counted from the legal time of "
     "receipt. A type matching none is kept permanently."},
    {"records", "disposal_two_person", CONFIG_BOOL, 0, "yes", 0, 0, NULL,
     R(disposal_two_person, bool),
     "Separation of duties for disposal: whoever approved a record's disposal (`--by`) may not "
     "also execute it. `no` lets one person do both (both names are in the chain either "
     "way)."},
    {"records", "log_level", CONFIG_ENUM, CONFIG_RELOAD, "info", 0, 0, log_level_names,
     R(log_level, int), "Least severe log level written: err, warning, notice, info, debug."},
};

/* check: the CURVE keys, all three or none, and required on tcp://. */
static int check(const void *c, struct config_where *w)
{
	const struct records_cfg *r = c;

	return config_curve_refuse(w, "records", r->endpoint, "server_public_key",
	                           r->server_public_key, r->public_key, r->secret_key);
}

/* records_config_table: the [records] section (also for the docs test). */
const struct config_table records_config_table = {
    .name = "records",
    .size = sizeof(struct records_cfg),
    .keys = records_keys,
    .nkeys = sizeof(records_keys) / sizeof(records_keys[0]),
    .check = check,
};
