/*
 * helpers.h — shared by the records suite (tests/records/tc_*.c): a fresh
 * store in a temp directory, envelopes, deliveries, SQL on the index as an
 * outside tamperer would, verify output captured in memory.
 */
#ifndef SECMX_TEST_RECORDS_HELPERS_H
#define SECMX_TEST_RECORDS_HELPERS_H

#include <check.h>

#include "records.h"

TCase *tc_store(void);
TCase *tc_chain(void);
TCase *tc_retention(void);
TCase *tc_idem(void);
TCase *tc_config(void);
TCase *tc_batch(void);

/* rt_store: a new empty store directory (path static until the next call)
 * opened into *R with the default retention classes. */
const char *rt_store(struct records **r);
/* rt_rm: remove DIR recursively. */
void rt_rm(const char *dir);
/* rt_deliver: ingest DOC with an envelope made of the arguments
 * (VALID 0: a reject). Returns records_ingest's value; ID gets the record id. */
int rt_deliver(struct records *r, const char *key, const char *type, const char *txn,
               const char *received_at, int valid, const char *doc, char *id, size_t idlen);
/* rt_invoice: an invoice document with ID NUM (static buffer). */
const char *rt_invoice(int num);
/* rt_verify: verify without recording; the report into BUF. Problems count. */
int rt_verify(struct records *r, char *buf, size_t len);
/* rt_sql: run SQL on DIR/index.db with a separate connection; 0 or -1. */
int rt_sql(const char *dir, const char *sql);
/* rt_object: the path of the object of ROLE of record ID into BUF; 0 or -1. */
int rt_object(struct records *r, const char *dir, const char *id, const char *role, char *buf,
              size_t len);
/* rt_count_tmp: temp files (.tmp-*) anywhere under DIR. */
int rt_count_tmp(const char *dir);
/* rt_count_objects: object files (not temp files) under DIR/objects. */
int rt_count_objects(const char *dir);

#endif
