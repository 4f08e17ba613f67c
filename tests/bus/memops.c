/*
 * memops.c — in-memory bus_ops for tests (see memops.h).
 */
#include "memops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* memops_init: N deliveries of DOC_SIZE bytes, nothing recorded yet. */
void memops_init(struct memops *mo, int n, size_t doc_size)
{
	memset(mo, 0, sizeof(*mo));
	mo->n = n < MEMOPS_MAX ? n : MEMOPS_MAX;
	mo->doc_size = doc_size < 64 ? 64 : doc_size;
}

/* memops_doc: deterministic document for index I. */
void memops_doc(const struct memops *mo, int i, char *buf, size_t size)
{
	snprintf(buf, size, "<Invoice><ID>INV-%d</ID></Invoice>", i + 1);
	(void)mo;
}

/* memops_acked: distinct deliveries ACKed. */
int memops_acked(const struct memops *mo)
{
	int i, n = 0;

	for (i = 0; i < mo->n; i++)
		n += mo->acks[i] > 0;
	return n;
}

/* idx: "dN" → N-1, or -1. */
static int idx(const struct memops *mo, const char *id)
{
	long v;
	char *end;

	if (!id || id[0] != 'd')
		return -1;
	v = strtol(id + 1, &end, 10);
	if (*end || v < 1 || v > mo->n)
		return -1;
	return (int)v - 1;
}

static int on_hello(void *arg, const char *adapter, const char *const *patterns, size_t n,
		    char *reason, size_t reasonlen)
{
	struct memops *mo = arg;

	(void)adapter;
	(void)patterns;
	(void)n;
	if (mo->refuse_hello) {
		snprintf(reason, reasonlen, "no such subscription");
		return -1;
	}
	return 0;
}

static int next_delivery(void *arg, const char *adapter, struct bus_delivery *d)
{
	struct memops *mo = arg;
	char *doc;
	int i;

	(void)adapter;
	if (mo->nrequeue > 0) {
		i = mo->requeue[0];
		memmove(mo->requeue, mo->requeue + 1, (size_t)--mo->nrequeue * sizeof(int));
	} else if (mo->next < mo->n) {
		i = mo->next++;
	} else {
		return 0;
	}
	d->delivery_id = malloc(32);
	d->envelope = malloc(1024);
	doc = malloc(mo->doc_size);
	if (!d->delivery_id || !d->envelope || !doc)
		abort();
	snprintf(d->delivery_id, 32, "d%d", i + 1);
	if (mo->bad_envelope_at == i + 1)
		snprintf(d->envelope, 1024, "{\"idempotency_key\":\"k-%d\"}", i + 1);
	else if (mo->odd_meta)
		snprintf(d->envelope, 1024,
			 "{\"idempotency_key\":\"k-%d\",\"message_id\":\"<m%d@test.example>\","
			 "\"document_type\":\"Invoice\",\"received_at\":\"2026-11-29T01:02:03Z\","
			 "\"meta\":{%s\"document_id\":\"INV\\n%d\"}}",
			 i + 1, i + 1, mo->odd_meta == 2 ? "\"odd\\tkey\":true," : "", i + 1);
	else
		snprintf(d->envelope, 1024,
			 "{\"idempotency_key\":\"k-%d\",\"message_id\":\"<m%d@test.example>\","
			 "\"transaction_id\":\"t-%d\",\"document_type\":\"Invoice\","
			 "\"profile\":\"peppol-bis-billing-3\",\"sender\":\"ap@supplier.example\","
			 "\"received_at\":\"2026-11-29T01:02:03Z\","
			 "\"validation\":{\"valid\":true,\"errors\":0,\"warnings\":1}}",
			 i + 1, i + 1, i % 3);
	memset(doc, ' ', mo->doc_size);
	memops_doc(mo, i, doc, mo->doc_size);
	doc[strlen(doc)] = ' ';
	d->doc = (unsigned char *)doc;
	d->doc_len = mo->doc_size;
	d->attempt = ++mo->attempts[i];
	return 1;
}

static void on_ack(void *arg, const char *adapter, const char *id)
{
	struct memops *mo = arg;
	int i = idx(mo, id);

	(void)adapter;
	if (i < 0)
		return;
	if (mo->acks[i]++ == 0 && mo->nack_order < MEMOPS_MAX)
		mo->ack_order[mo->nack_order++] = i;
}

static void on_nack(void *arg, const char *adapter, const char *id, int kind, const char *reason)
{
	struct memops *mo = arg;
	int i = idx(mo, id);

	(void)adapter;
	if (i < 0)
		return;
	if (kind == BUS_NACK_PERMANENT) {
		mo->dead[i] = 1;
		snprintf(mo->dead_reason, sizeof(mo->dead_reason), "%s", reason);
	} else {
		mo->nacks_transient++;
		if (mo->nrequeue < MEMOPS_MAX)
			mo->requeue[mo->nrequeue++] = i;
	}
}

static int on_submit(void *arg, const char *adapter, const struct bus_submit *s,
		     char *message_id, size_t idlen, char *reason, size_t reasonlen)
{
	struct memops *mo = arg;
	int i;

	(void)adapter;
	if (mo->submit_pending) {
		snprintf(mo->pending_request, sizeof(mo->pending_request), "%s", s->request_id);
		return BUS_SUBMIT_PENDING;
	}
	if (s->doc_len == 0) {
		snprintf(reason, reasonlen, "empty document");
		return BUS_SUBMIT_REFUSED;
	}
	for (i = 0; i < mo->nsubmit; i++) {
		if (strcmp(mo->submit_keys[i], s->idempotency_key) == 0) {
			snprintf(message_id, idlen, "<out-%d@secmx.test>", i + 1);
			return BUS_SUBMIT_ACCEPTED; /* the same answer for the same key */
		}
	}
	if (mo->nsubmit >= 64) {
		snprintf(reason, reasonlen, "test store full");
		return BUS_SUBMIT_REFUSED;
	}
	snprintf(mo->submit_keys[mo->nsubmit], sizeof(mo->submit_keys[0]), "%s",
		 s->idempotency_key);
	snprintf(mo->last_submit_doc, sizeof(mo->last_submit_doc), "%.*s",
		 (int)(s->doc_len < 255 ? s->doc_len : 255), (const char *)s->doc);
	mo->nsubmit++;
	snprintf(message_id, idlen, "<out-%d@secmx.test>", mo->nsubmit);
	return BUS_SUBMIT_ACCEPTED;
}

static void log_line(void *arg, int level, const char *line)
{
	struct memops *mo = arg;

	mo->nlog++;
	if (level >= BUS_LOG_WARNING)
		mo->nwarn++;
	if (!mo->quiet && level >= BUS_LOG_INFO)
		fprintf(stderr, "bus: %s\n", line);
}

/* memops_ops: the ops table over MO. */
struct bus_ops memops_ops(struct memops *mo)
{
	struct bus_ops ops = {mo,      on_hello,  next_delivery, on_ack,
	                      on_nack, on_submit, log_line,      NULL};

	return ops;
}
