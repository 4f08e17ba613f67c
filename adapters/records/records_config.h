/*
 * records_config.h — the [records] configuration section of secmx-records.
 *
 * Interface: struct records_cfg (the values) and records_config_table (the
 * typed table for config_load/config_doc in common.h). Load with
 * config_load(&records_config_table, FILE, &cfg, ...), free with
 * config_free(). docs/records.md documents every key (checked by a test).
 */
#ifndef SECMX_RECORDS_CONFIG_H
#define SECMX_RECORDS_CONFIG_H

#include <stdbool.h>

#include "common.h"

struct records_cfg {
	char *endpoint;
	char *name;
	struct config_list patterns;
	long long credit;
	int sync; /* enum records_sync: the index in SYNC_VALUES */
	char *server_public_key;
	char *public_key;
	char *secret_key;
	char *store_dir;
	char *organisation;
	struct config_list retention;
	bool disposal_two_person;
	int log_level; /* enum log_level */
};

/* records_config_table: the [records] keys, for struct records_cfg. */
extern const struct config_table records_config_table;

#endif
