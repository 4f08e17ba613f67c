/*
 * daemon.h — the secmxd daemon core: configuration table, event loop,
 * intake (drop directory, bus SUBMIT), worker pool and the per-message
 * pipeline. cli/secmxd.c is only its entry point; the gateway reuses this
 * core later (DESIGN.md "Processes"). docs/operations.md is the manual.
 *
 * Public interface:
 *   daemon_config_table     the whole secmxd configuration (struct
 *                           daemon_config), [engine] included as a sub-table;
 *                           its check refuses, at the key's line, what the
 *                           types cannot say (routing entries, tcp needs keys).
 *   daemon_new()/daemon_free()
 *                           build the daemon from a loaded configuration:
 *                           engine, queue, bus, worker threads. Free joins
 *                           every thread and closes the queue.
 *   daemon_run()            run the event loop until SIGTERM/SIGINT has been
 *                           handled (drain) or daemon_stop() is called.
 *   daemon_stop()           ask daemon_run() to drain and return (any thread,
 *                           async-signal-safe).
 *   daemon_reload()         apply a configuration file as SIGHUP does.
 *
 * Errors: negative SECMX_E* with the reason in ERR. Logging: log_event()
 * lines, one per event, the message id first (docs/logging.md).
 * Threads: one loop thread (the caller of daemon_run) owns the bus and the
 * intake; [workers] count threads run the pipeline. They share only the
 * queue and immutable, reference-counted snapshots (engine, keys, routes).
 */
#ifndef SECMX_DAEMON_H
#define SECMX_DAEMON_H

#include <stdbool.h>
#include <stddef.h>

#include "common.h"

struct daemon_config {
	struct config_engine engine; /* [engine], config_engine_table */
	/* [queue] */
	char *queue_db;
	bool group_commit;
	long long batch_hold_ms; /* queue_config.group_lazy_us / 1000 */
	long long retry_base_ms;
	long long retry_max_ms;
	long long max_attempts;
	long long max_age_ms;
	long long delivery_max_attempts;
	long long delivery_max_age_ms;
	int duplicates; /* enum queue_dup_policy: accept, reject, drop, flag */
	/* [intake] */
	char *drop_dir;
	long long poll_interval_ms;
	long long intake_inflight;
	/* [bus] */
	char *endpoint;
	char *curve_secret;
	char *allow_list;
	int ipc_mode; /* 0: socket file 0600, 1: 0660 */
	long long heartbeat_ms;
	long long ack_timeout_ms;
	long long drain_timeout_ms;
	/* [workers] */
	long long workers;
	/* [routing] */
	struct config_list routes; /* "adapter:pattern" items */
	/* [log] */
	int log_dest;  /* 0 stderr, 1 syslog */
	int log_level; /* enum log_level */
};

/* daemon_config_table: the secmxd keys for struct daemon_config. config_load
 * also refuses a routing item that is not "adapter:pattern" and tcp:// without
 * the CURVE files, at the line of routes or endpoint (the table's check). */
extern const struct config_table daemon_config_table;

struct daemon;

/*
 * daemon_new: build everything from CFG (deep-copied; CONFIG_FILE is kept
 * for SIGHUP). Locks the queue (QUEUE_DB.lock, flock: one daemon per queue;
 * SECMX_ECONFIG naming the other's pid when it is taken), opens it with
 * recovery, binds the bus, loads the engine and keys, starts the workers.
 * *OUT: free with daemon_free().
 */
int daemon_new(const char *config_file, const struct daemon_config *cfg, struct daemon **out,
               char *err, size_t errlen);
/* daemon_run: the event loop; returns 0 after a clean drain. */
int daemon_run(struct daemon *d);
/* daemon_stop: start the drain (async-signal-safe). */
void daemon_stop(struct daemon *d);
/* daemon_reload: reload the configuration file (as SIGHUP). Loop thread only. */
int daemon_reload(struct daemon *d);
/* daemon_free: join the threads, close queue and bus. NULL is fine. */
void daemon_free(struct daemon *d);

#endif
