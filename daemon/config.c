/*
 * config.c — the secmxd configuration: one typed table (common.h,
 * CONFIGURATION) with [engine] included from config_engine_table.
 *
 * Interface (daemon.h): daemon_config_table. Its check refuses, at the line
 * of the key, what the types cannot say (routing items, tcp:// without
 * CURVE, a first back-off above the longest).
 * Keep docs/configuration.md in step (the config_docs test checks it).
 */
#include "daemon.h"

#include <stddef.h>
#include <string.h>

/* D: the offset of a member, checked against its storage type. */
#define D(member, type) CONFIG_OFFSET(struct daemon_config, member, type)

static const char *const DUP_VALUES[] = {"accept", "reject", "drop", "flag", NULL};
static const char *const IPC_MODE_VALUES[] = {"0600", "0660", NULL};
static const char *const DEST_VALUES[] = {"stderr", "syslog", NULL};

static const struct config_key daemon_keys[] = {
    {"queue", "db", CONFIG_PATH, CONFIG_REQUIRED | CONFIG_CREATE, NULL, 0, 0, NULL,
     D(queue_db, char *),
     "The queue's SQLite database file (created when missing). The one source of truth."},
    {"queue", "group_commit", CONFIG_BOOL, 0, "yes", 0, 0, NULL, D(group_commit, bool),
     "Let concurrent puts share one commit (one fsync for many documents)."},
    {"queue", "batch_hold", CONFIG_DURATION, 0, "10ms", 0, 1000, NULL, D(batch_hold_ms, long long),
     "Under load, how long the workers' writes may wait for the documents still being "
     "processed before their batch is committed and synced (fewer commits and fsyncs per "
     "document; deliveries go out up to this much later). 0ms: after 1 ms, as without it."},
    {"queue", "retry_base", CONFIG_DURATION, 0, "60s", 10, 86400000LL, NULL,
     D(retry_base_ms, long long),
     "First back-off delay after a transient failure of a step; at most `retry_max`."},
    {"queue", "retry_max", CONFIG_DURATION, 0, "4h", 10, 7 * 86400000LL, NULL,
     D(retry_max_ms, long long), "Longest single back-off delay."},
    {"queue", "max_attempts", CONFIG_INT, 0, "20", 0, 1000, NULL, D(max_attempts, long long),
     "A message is dead-lettered after this many failed attempts (0: no limit)."},
    {"queue", "max_age", CONFIG_DURATION, 0, "5d", 0, 365 * 86400000LL, NULL,
     D(max_age_ms, long long),
     "A message still failing after this long is dead-lettered (0ms: no limit)."},
    {"queue", "delivery_max_attempts", CONFIG_INT, 0, "50", 0, 1000, NULL,
     D(delivery_max_attempts, long long),
     "A delivery an adapter keeps refusing (transient NACK) is dead-lettered with the reason "
     "once it has been sent this many times (0: no limit); a permanent NACK dead-letters it "
     "at once. `secmx queue retry ID` offers it again."},
    {"queue", "delivery_max_age", CONFIG_DURATION, 0, "7d", 0, 365 * 86400000LL, NULL,
     D(delivery_max_age_ms, long long),
     "A delivery still failing (transient NACK, or no ACK within `bus.ack_timeout`) this long "
     "after it was made is dead-lettered with a reason that says so (0ms: no limit). "
     "`secmx queue retry ID` offers it again, its age counted afresh."},
    {"queue", "duplicates", CONFIG_ENUM, 0, "flag", 0, 0, DUP_VALUES, D(duplicates, int),
     "What to do with a message whose (sender, id, type) was seen before: `accept`, "
     "`reject`, `drop` or `flag` (processed, marked, and never delivered twice). "
     "Intake idempotency (a file taken again after a crash) needs reject, drop or flag."},
    {"intake", "drop_dir", CONFIG_PATH, 0, NULL, 0, 0, NULL, D(drop_dir, char *),
     "Directory documents are dropped into (see the producer contract in "
     "docs/operations.md). Not set: no drop-directory intake."},
    {"intake", "poll_interval", CONFIG_DURATION, CONFIG_RELOAD, "200ms", 10, 60000, NULL,
     D(poll_interval_ms, long long),
     "How often the drop directory is scanned besides its inotify watch (files renamed in are "
     "taken at once)."},
    {"intake", "max_inflight", CONFIG_INT, CONFIG_RELOAD, "256", 1, 4096, NULL,
     D(intake_inflight, long long),
     "Most documents taken and not yet committed at once (bounds memory)."},
    {"bus", "endpoint", CONFIG_ENDPOINT, CONFIG_REQUIRED, NULL, 0, 0, NULL, D(endpoint, char *),
     "Where adapters connect: `ipc:///path` or `tcp://host:port`."},
    {"bus", "curve_secret", CONFIG_SECRET_PATH, 0, NULL, 0, 0, NULL, D(curve_secret, char *),
     "The server's CURVE secret key file (`secmx bus keygen`); required for tcp://."},
    {"bus", "allow_list", CONFIG_PATH, 0, NULL, 0, 0, NULL, D(allow_list, char *),
     "File of adapter public keys allowed to connect over tcp:// (docs/protocol.md); required "
     "for tcp://."},
    {"bus", "ipc_mode", CONFIG_ENUM, 0, "0600", 0, 0, IPC_MODE_VALUES, D(ipc_mode, int),
     "Mode of the ipc:// socket file: `0600` (only the daemon's user may connect) or `0660` "
     "(also its group: adapters running as other users in the daemon's group). Not used "
     "for tcp://."},
    {"bus", "heartbeat", CONFIG_DURATION, 0, "5s", 100, 600000, NULL, D(heartbeat_ms, long long),
     "Heartbeat after this much silence; a peer silent for three "
     "heartbeats is gone."},
    {"bus", "ack_timeout", CONFIG_DURATION, 0, "60s", 100, 86400000LL, NULL,
     D(ack_timeout_ms, long long), "A delivery not acknowledged this long is offered again."},
    {"bus", "drain_timeout", CONFIG_DURATION, CONFIG_RELOAD, "5s", 0, 600000, NULL,
     D(drain_timeout_ms, long long),
     "On SIGTERM, how long to wait for adapters to acknowledge deliveries in flight."},
    {"workers", "count", CONFIG_INT, 0, "2", 1, 64, NULL, D(workers, long long),
     "Worker threads running the pipeline (parse, validate, verify, sign, route)."},
    {"routing", "routes", CONFIG_LIST, CONFIG_RELOAD, NULL, 0, 0, NULL,
     D(routes, struct config_list),
     "Durable subscriptions, `adapter:pattern` items (`finance:Invoice, records:*, "
     "records:reject:*`). A pattern starting with `reject:` receives invalid documents "
     "(`reject:<type>`); other patterns never do."},
    {"log", "destination", CONFIG_ENUM, 0, "stderr", 0, 0, DEST_VALUES, D(log_dest, int),
     "`stderr` or `syslog` (facility mail)."},
    {"log", "level", CONFIG_ENUM, CONFIG_RELOAD, "info", 0, 0, log_level_names, D(log_level, int),
     "Least severe level logged: err, warning, notice, info, debug."},
};

/*
 * check: what the table cannot express, refused at the line of the key
 * (config_key_refuse): a routing item that is not adapter:pattern, tcp://
 * without the CURVE files, queue.retry_base above queue.retry_max.
 * [engine]'s own check is config_engine.c's.
 */
static int check(const void *c, struct config_where *w)
{
	const struct daemon_config *cfg = c;
	size_t i;

	for (i = 0; i < cfg->routes.n; i++) {
		const char *item = cfg->routes.v[i], *colon = strchr(item, ':');
		char name[BUS_MAX_ID + 1];
		size_t n = colon ? (size_t)(colon - item) : 0;

		if (colon == NULL || n == 0 || n > BUS_MAX_ID || !bus_pattern_ok(colon + 1))
			return config_key_refuse(w, "routing", "routes",
			                         "\"%s\" is not adapter:pattern", item);
		memcpy(name, item, n);
		name[n] = '\0';
		if (!bus_name_ok(name))
			return config_key_refuse(w, "routing", "routes", "\"%s\": bad adapter name",
			                         item);
	}
	if (strncmp(cfg->endpoint, "tcp://", 6) == 0 && (!cfg->curve_secret || !cfg->allow_list))
		return config_key_refuse(w, "bus", "endpoint",
		                         "tcp:// needs bus.curve_secret and bus.allow_list");
	if (cfg->retry_base_ms > cfg->retry_max_ms)
		return config_key_refuse(w, "queue", "retry_base",
		                         "%lld ms is above queue.retry_max (%lld ms)",
		                         cfg->retry_base_ms, cfg->retry_max_ms);
	return 0;
}

static const struct config_sub daemon_subs[] = {
    {&config_engine_table, offsetof(struct daemon_config, engine)},
};

const struct config_table daemon_config_table = {
    .name = "secmxd",
    .size = sizeof(struct daemon_config),
    .keys = daemon_keys,
    .nkeys = sizeof(daemon_keys) / sizeof(daemon_keys[0]),
    .subs = daemon_subs,
    .nsubs = 1,
    .check = check,
};
