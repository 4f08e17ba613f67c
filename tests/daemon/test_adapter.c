/*
 * test_adapter.c — a C SDK adapter for the daemon's tests and the crash
 * test: takes the document types given with -p, and for every delivery
 * whose idempotency key its seen-table (adapter_seen_*) does not hold yet,
 * appends "KEY TYPE SIZE DOCID" to a journal (DOCID is the envelope's
 * meta.document_id, the document's own cbc:ID, or "-"; then the wall-clock
 * time in ms, for bench_e2e.py's latencies) and marks the key in the open
 * batch. Deliveries come by bursts (adapter_run_batch): at the end of each
 * burst the journal is fsync'ed, then the batch of marks committed, and
 * only then are the burst's ACKs sent. A crash before that commit loses
 * the marks and the ACKs together: the deliveries come again and are
 * journalled again (a key may then appear twice in the journal, as it could
 * before batching when a crash fell between the journal and the mark).
 * A redelivery of a key already marked is ACKed without work.
 *
 *   test_adapter -e ENDPOINT -n NAME -p PATTERN... -s SEEN.db -j JOURNAL
 *                [-c COUNT] [-t TIMEOUT_MS] [-k CREDIT]
 *
 * -c: exit 0 once COUNT distinct keys are in the seen-table (1 on timeout).
 * Exit: 0 done, 1 timeout or error, 2 usage.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "secmx_adapter.h"

struct state {
	struct adapter *a;
	struct adapter_seen *seen;
	int journal;
	long count, target;
	long burst; /* keys journalled and marked since the last flush */
};

static struct adapter *g_adapter;

/* secmx_strlcpy_local: bounded, terminated copy (the SDK side links no common/). */
static void secmx_strlcpy_local(char *dst, const char *src, size_t size)
{
	snprintf(dst, size, "%s", src);
}

/* on_term: stop adapter_run at the next delivery boundary. */
static void on_term(int sig)
{
	(void)sig;
	if (g_adapter)
		adapter_stop(g_adapter);
}

/* deliver: the work (see the file comment). */
static int deliver(void *arg, const struct adapter_delivery *dl, char *reason, size_t reasonlen)
{
	struct state *st = arg;
	char line[512];
	int rc, n;

	if ((rc = adapter_seen_check(st->seen, dl->idempotency_key)) < 0) {
		snprintf(reason, reasonlen, "seen table failed");
		return ADAPTER_NACK_TRANSIENT;
	}
	if (rc == 0) {
		const char *docid = adapter_delivery_string(dl, "meta", "document_id");
		char id[128];
		struct timespec ts;
		size_t i;

		secmx_strlcpy_local(id, docid ? docid : "-", sizeof(id));
		for (i = 0; id[i]; i++)
			if (id[i] == ' ' || id[i] == '\n')
				id[i] = '_';
		clock_gettime(CLOCK_REALTIME, &ts);
		n = snprintf(line, sizeof(line), "%s %s %zu %s %lld\n", dl->idempotency_key,
		             dl->document_type, dl->doc_len, id,
		             (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
		if (write(st->journal, line, (size_t)n) != n || adapter_seen_begin(st->seen) < 0 ||
		    adapter_seen_mark(st->seen, dl->idempotency_key) < 0) {
			snprintf(reason, reasonlen, "journal failed");
			return ADAPTER_NACK_TRANSIENT;
		}
		st->burst++;
	}
	if (st->target > 0 && st->count + st->burst >= st->target)
		adapter_stop(st->a);
	return ADAPTER_ACK;
}

/* flush: the burst's journal lines durable, then its marks; the SDK sends
 * the ACKs after this returns 0 (transient NACKs otherwise). */
static int flush(void *arg)
{
	struct state *st = arg;
	long n = st->burst;

	st->burst = 0;
	if (n > 0 && fsync(st->journal) < 0) {
		adapter_seen_rollback(st->seen);
		return -1;
	}
	if (adapter_seen_commit(st->seen) < 0)
		return -1;
	st->count += n;
	return 0;
}

/* seen_count: distinct keys already in the seen-table at start. */
static long seen_count(const char *path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	long n = 0;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM seen", -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

int main(int argc, char **argv)
{
	struct adapter_config cfg;
	struct state st;
	const char *patterns[16], *seen = NULL, *journal = NULL;
	char err[256];
	long timeout = -1;
	int opt, np = 0, rc;

	memset(&st, 0, sizeof(st));
	adapter_config_default(&cfg);
	while ((opt = getopt(argc, argv, "e:n:p:s:j:c:t:k:")) != -1) {
		switch (opt) {
		case 'e':
			cfg.endpoint = optarg;
			break;
		case 'n':
			cfg.name = optarg;
			break;
		case 'p':
			if (np < 16)
				patterns[np++] = optarg;
			break;
		case 's':
			seen = optarg;
			break;
		case 'j':
			journal = optarg;
			break;
		case 'c':
			st.target = strtol(optarg, NULL, 10);
			break;
		case 't':
			timeout = strtol(optarg, NULL, 10);
			break;
		case 'k':
			cfg.credit = (int)strtol(optarg, NULL, 10);
			break;
		default:
			return 2;
		}
	}
	if (!cfg.endpoint || !cfg.name || np == 0 || !seen || !journal) {
		fprintf(stderr, "usage: test_adapter -e EP -n NAME -p PAT... -s SEEN -j JOURNAL "
		                "[-c COUNT] [-t MS] [-k CREDIT]\n");
		return 2;
	}
	cfg.patterns = patterns;
	cfg.npatterns = (size_t)np;
	if ((st.journal = open(journal, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) < 0 ||
	    adapter_seen_open(seen, &st.seen, err, sizeof(err)) < 0) {
		fprintf(stderr, "test_adapter: cannot open journal or seen table\n");
		return 1;
	}
	st.count = seen_count(seen);
	if (adapter_new(&cfg, &st.a, err, sizeof(err)) < 0) {
		fprintf(stderr, "test_adapter: %s\n", err);
		return 1;
	}
	g_adapter = st.a;
	signal(SIGTERM, on_term);
	rc = 0;
	if (st.target == 0 || st.count < st.target)
		rc = adapter_run_batch(st.a, deliver, flush, &st, (int)timeout);
	adapter_free(st.a);
	adapter_seen_close(st.seen);
	close(st.journal);
	printf("test_adapter: name=%s processed=%ld\n", cfg.name, st.count);
	if (rc < 0)
		return 1;
	return st.target > 0 && st.count < st.target ? 1 : 0;
}
