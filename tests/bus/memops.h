/*
 * memops.h — in-memory bus_ops for the bus tests and bus_testserver: offers
 * N deliveries (ids d1..dN) to every adapter, records ACKs, NACKs and
 * SUBMITs. Transient NACKs are offered again (attempt + 1) before new
 * deliveries; permanent NACKs are recorded as dead letters. Single-threaded
 * unless the caller locks LOCK around the bus calls.
 */
#ifndef SECMX_TEST_MEMOPS_H
#define SECMX_TEST_MEMOPS_H

#include <pthread.h>

#include "bus.h"

#define MEMOPS_MAX 4096

struct memops {
	int n;                  /* deliveries to offer */
	size_t doc_size;        /* bytes of each document (>= 64) */
	int next;               /* next never-offered index */
	int requeue[MEMOPS_MAX];/* transient-NACKed indexes to offer again */
	int nrequeue;
	int attempts[MEMOPS_MAX];
	int acks[MEMOPS_MAX];   /* ACK count per index */
	int ack_order[MEMOPS_MAX];
	int nack_order;
	int nacks_transient;
	int dead[MEMOPS_MAX];   /* 1 if dead-lettered */
	char dead_reason[256];
	int refuse_hello;
	int bad_envelope_at;    /* 1-based index offered with a broken envelope, 0 none */
	int odd_meta;           /* 1: meta.document_id "INV\nN" (an escape in a value);
				 * 2: plus a key with an escape (the SDK's strict path) */
	int submit_pending;     /* answer SUBMIT with BUS_SUBMIT_PENDING */
	char pending_request[64];
	int nsubmit;
	char submit_keys[64][64];
	char last_submit_doc[256];
	int nlog, nwarn;
	int quiet;
};

void memops_init(struct memops *mo, int n, size_t doc_size);
struct bus_ops memops_ops(struct memops *mo);
/* memops_doc: the document bytes of index I (0-based) into BUF. */
void memops_doc(const struct memops *mo, int i, char *buf, size_t size);
/* memops_acked: how many distinct deliveries were ACKed. */
int memops_acked(const struct memops *mo);

#endif
