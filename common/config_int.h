/*
 * config_int.h — what config.c and config_print.c share; not for other files.
 *
 *   struct rkey, struct rtable   a table's keys flattened, included tables
 *                                too, each with its offset from the top.
 *   config__rtable_new()         build one (SECMX_ENOMEM); free rt->keys.
 *   config__is_string_type()     the types stored as a char *.
 *   config__format_size/duration/bound()
 *                                numbers in file syntax (largest exact unit).
 */
#ifndef SECMX_CONFIG_INT_H
#define SECMX_CONFIG_INT_H

#include "common.h"

/* A key of a table with its offset from the top-level struct. */
struct rkey {
	const struct config_key *k;
	size_t off;
};

/* The flattened keys of a table and its included tables. */
struct rtable {
	struct rkey *keys;
	size_t n;
};

int config__rtable_new(const struct config_table *t, struct rtable *rt);
int config__is_string_type(enum config_type type);
void config__format_size(unsigned long long bytes, char *buf, size_t len);
void config__format_duration(long long ms, char *buf, size_t len);
void config__format_bound(const struct config_key *k, long long v, char *buf, size_t len);

#endif
