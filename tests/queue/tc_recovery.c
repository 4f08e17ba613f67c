/*
 * tc_recovery.c — crashes. A child process puts messages from several
 * threads (group commit on) and claims and steps others, telling the parent
 * through a pipe each time a put or a step was acknowledged to it. The
 * parent SIGKILLs the child at different points, reopens the store with
 * recovery, and checks: every acknowledged message is there with its
 * bytes, every acknowledged step is recorded, no lease survives, the file
 * is intact, and work continues. (SIGKILL keeps the OS page cache, so this
 * proves atomicity and recovery, not fsync; fsync is SQLite's promise under
 * synchronous=FULL, see docs/queue.md.)
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests.h"

#define PUTTERS 4
#define MAX_ACKS 4096

static int pipe_w = -1;
static struct queue *child_q;

/* say: one line to the parent (atomic: shorter than PIPE_BUF). */
static void say(const char *line)
{
	size_t n = strlen(line);

	if (write(pipe_w, line, n) != (ssize_t)n)
		_exit(3);
}

static void *child_putter(void *arg)
{
	int tid = (int)(intptr_t)arg;
	char text[64], line[128];
	int i;

	for (i = 0;; i++) {
		struct queue_msg_in in = {0};
		struct queue_put_result r;

		snprintf(text, sizeof(text), "m-%d-%d", tid, i);
		in.data = text;
		in.len = strlen(text);
		if (queue_msg_put(child_q, &in, &r) == 0) {
			snprintf(line, sizeof(line), "P %lld %s\n", (long long)r.id, text);
			say(line);
		}
	}
	return NULL;
}

static void *child_worker(void *arg)
{
	char line[64];
	int first = 1;

	(void)arg;
	for (;;) {
		struct queue_lease l;

		if (queue_claim(child_q, "new", 600000, &l, NULL) != 1) {
			usleep(500);
			continue;
		}
		if (first) {
			/* A stuck worker: this lease is never given back, so
			 * every kill leaves at least one for recovery. */
			first = 0;
			snprintf(line, sizeof(line), "L %lld\n", (long long)l.msg_id);
			say(line);
			continue;
		}
		usleep(200); /* hold the lease a while, so kills catch some */
		if (queue_step_record(child_q, &l, "first", "ok", NULL, "one") == 0) {
			snprintf(line, sizeof(line), "S %lld\n", (long long)l.msg_id);
			say(line);
		}
	}
	return NULL;
}

/* child: run until killed. */
static void child(void)
{
	struct queue_config cfg;
	pthread_t t;
	char err[256];
	int i;

	queue_config_default(&cfg);
	if (queue_open(test_db(), &cfg, &child_q, err, sizeof(err)) != 0)
		_exit(2);
	for (i = 0; i < PUTTERS; i++)
		if (pthread_create(&t, NULL, child_putter, (void *)(intptr_t)i) != 0)
			_exit(2);
	if (pthread_create(&t, NULL, child_worker, NULL) != 0)
		_exit(2);
	for (;;)
		pause();
}

struct ack {
	char kind;
	long long id;
	char text[32];
};

static struct ack acks[MAX_ACKS * 4];
static size_t n_acks;

/* crash_round: start a child, let it acknowledge at least WANT puts and
 * WANT / 10 steps, kill it, and collect every acknowledgement it managed to
 * send. */
static void crash_round(size_t want)
{
	int fds[2];
	pid_t pid;
	FILE *in;
	char line[160];
	size_t puts = 0, steps = 0;
	int status, killed = 0;

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(fds[0]);
		pipe_w = fds[1];
		child();
	}
	close(fds[1]);
	in = fdopen(fds[0], "r");
	ck_assert_ptr_nonnull(in);
	while (fgets(line, sizeof(line), in) != NULL) {
		struct ack *a = &acks[n_acks];

		if (n_acks >= sizeof(acks) / sizeof(acks[0]))
			break;
		if (sscanf(line, "%c %lld %31s", &a->kind, &a->id, a->text) < 2)
			continue;
		n_acks++;
		if (a->kind == 'P')
			puts++;
		else if (a->kind == 'S')
			steps++;
		if (puts >= want && steps >= want / 10 && !killed) {
			kill(pid, SIGKILL);
			killed = 1; /* keep reading what it said before dying */
		}
	}
	fclose(in);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	              "child ended by itself (status %d) before the kill", status);
}

/* verify: everything acknowledged so far is in the store. */
static void verify(struct queue *q)
{
	size_t i, steps = 0;

	for (i = 0; i < n_acks; i++) {
		struct queue_msg_info info;

		if (acks[i].kind == 'P') {
			void *data = NULL;
			size_t len = 0;
			int rc = queue_msg_get(q, acks[i].id, &data, &len);

			ck_assert_msg(rc == 0, "acknowledged message %lld: %s", acks[i].id,
			              secmx_strerror(rc));
			ck_assert_uint_eq(len, strlen(acks[i].text));
			ck_assert(memcmp(data, acks[i].text, len) == 0);
			free(data);
		} else if (acks[i].kind == 'S') {
			ck_assert_int_eq(queue_msg_info(q, acks[i].id, &info), 0);
			ck_assert_str_eq(info.state, "one");
			steps++;
		}
	}
	ck_assert_int_gt(steps, 0);
}

START_TEST(kill_and_recover)
{
	struct queue_config cfg;
	struct queue *q;
	struct queue_recovery rec;
	struct queue_lease l;
	static const size_t kill_after[] = {40, 150, 400};
	size_t r, total_leases = 0;
	char err[256];

	n_acks = 0;
	test_db(); /* make the directory here, not in each child */
	for (r = 0; r < sizeof(kill_after) / sizeof(kill_after[0]); r++) {
		crash_round(kill_after[r]);
		total_leases +=
		    (size_t)test_sql_int("SELECT count(*) FROM msg WHERE lease_token IS NOT NULL");
		queue_config_default(&cfg);
		cfg.recover = 1;
		q = NULL;
		ck_assert_int_eq(queue_open(test_db(), &cfg, &q, err, sizeof(err)), 0);
		ck_assert_int_eq(test_sql_int("SELECT count(*) FROM msg WHERE lease_token IS NOT "
		                              "NULL"),
		                 0);
		verify(q);
		queue_close(q);
		ck_assert_int_eq(test_sql_int("SELECT count(*) FROM pragma_integrity_check WHERE "
		                              "integrity_check = 'ok'"),
		                 1);
	}
	/* Work continues: every message left in "new" can be claimed. */
	queue_config_default(&cfg);
	cfg.group_commit = 0;
	q = NULL;
	ck_assert_int_eq(queue_open(test_db(), &cfg, &q, err, sizeof(err)), 0);
	ck_assert_int_eq(queue_recover(q, 1, &rec), 0);
	ck_assert_uint_eq(rec.leases_released, 0);
	{
		int64_t left = test_sql_int("SELECT count(*) FROM msg WHERE state = 'new'");
		int64_t claimed = 0;

		while (queue_claim(q, "new", 0, &l, NULL) == 1)
			claimed++;
		ck_assert_int_eq(claimed, left);
	}
	queue_close(q);
	/* Each child held at least its stuck worker's lease when killed. */
	ck_assert_uint_ge(total_leases, 3);
	printf("crash recovery: %zu acknowledgements over 3 kills, %zu leases found held "
	       "after kills\n",
	       n_acks, total_leases);
}
END_TEST

TCase *tc_recovery(void)
{
	TCase *tc = tcase_create("recovery");

	tcase_add_checked_fixture(tc, NULL, test_cleanup);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, kill_and_recover);
	return tc;
}
