/*
 * pgserver.c — a throwaway PostgreSQL server for the finance tests, and the
 * small helpers of helpers.h. See helpers.h for the contract.
 *
 * Why a real server: the ledger's SQL must be portable, and only the real
 * engine says whether it is. The server listens on a unix socket in its own
 * temp dir only (listen_addresses empty), so parallel test runs never meet.
 * Failures are loud: the caller fails the test with the reason and the log.
 */
#define _GNU_SOURCE
#include "helpers.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>

/* run_cmd: fork, redirect, exec, wait. */
int run_cmd(char *const argv[], const char *log)
{
	pid_t pid;
	int st, fd;

	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (log && (fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644)) >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* tail: the last ~1500 bytes of PATH appended to ERR. */
static void tail(const char *path, char *err, size_t errlen)
{
	char buf[1600];
	size_t n, len = strlen(err);
	FILE *fp = fopen(path, "r");

	if (!fp)
		return;
	fseek(fp, 0, SEEK_END);
	if (ftell(fp) > 1500)
		fseek(fp, -1500, SEEK_END);
	else
		fseek(fp, 0, SEEK_SET);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	snprintf(err + len, errlen - len, "\n--- %s ---\n%s", path, buf);
}

/* pg_cmd: run a PostgreSQL tool as the server's user. */
static int pg_cmd(struct pgserver *s, const char *tool, char *const args[], const char *log)
{
	char path[512];
	char *argv[32];
	int n = 0, i;

	snprintf(path, sizeof(path), "%s/%s", s->bindir, tool);
	if (s->as_postgres) {
		argv[n++] = "runuser";
		argv[n++] = "-u";
		argv[n++] = "postgres";
		argv[n++] = "--";
	}
	argv[n++] = path;
	for (i = 0; args[i] && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	return run_cmd(argv, log);
}

/* find_bindir: $SECMX_PG_BINDIR or the newest /usr/lib/postgresql/N/bin. */
static int find_bindir(struct pgserver *s)
{
	const char *e = getenv("SECMX_PG_BINDIR");
	glob_t g;
	int rc = -1;

	if (e && *e) {
		snprintf(s->bindir, sizeof(s->bindir), "%s", e);
		return 0;
	}
	if (glob("/usr/lib/postgresql/*/bin/initdb", 0, NULL, &g) == 0 && g.gl_pathc > 0) {
		snprintf(s->bindir, sizeof(s->bindir), "%s", g.gl_pathv[g.gl_pathc - 1]);
		*strrchr(s->bindir, '/') = '\0';
		rc = 0;
	}
	globfree(&g);
	return rc;
}

/* pgserver_start: see helpers.h. */
int pgserver_start(struct pgserver *s, char *err, size_t errlen)
{
	char data[300], pwfile[300], log[300], ilog[300], opts[600], pwopt[320], sock[320];
	struct passwd *pw = NULL;
	unsigned char rnd[16];
	FILE *fp;
	int fd, i, rc;

	memset(s, 0, sizeof(*s));
	if (find_bindir(s) < 0) {
		secmx_errf(err, errlen,
		           "no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/"
		           "initdb): run scripts/setup (installs postgresql)");
		return -1;
	}
	snprintf(s->dir, sizeof(s->dir), "/tmp/secmx-pg-XXXXXX");
	if (!mkdtemp(s->dir)) {
		secmx_errf(err, errlen, "mkdtemp: %s", strerror(errno));
		return -1;
	}
	if (geteuid() == 0) {
		if (!(pw = getpwnam("postgres"))) {
			secmx_errf(err, errlen,
			           "running as root and there is no postgres user to "
			           "run the server as (install postgresql)");
			goto fail;
		}
		s->as_postgres = 1;
		if (chown(s->dir, pw->pw_uid, pw->pw_gid) != 0) {
			secmx_errf(err, errlen, "chown %s: %s", s->dir, strerror(errno));
			goto fail;
		}
	}
	/* A random password: the server uses scram-sha-256, so the ledger's
	 * password path is exercised for real. */
	if ((fd = open("/dev/urandom", O_RDONLY)) < 0 ||
	    read(fd, rnd, sizeof(rnd)) != sizeof(rnd)) {
		secmx_errf(err, errlen, "/dev/urandom: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		goto fail;
	}
	close(fd);
	for (i = 0; i < 16; i++)
		snprintf(s->password + 2 * i, 3, "%02x", rnd[i]);
	snprintf(pwfile, sizeof(pwfile), "%s/pw", s->dir);
	snprintf(data, sizeof(data), "%s/data", s->dir);
	snprintf(log, sizeof(log), "%s/server.log", s->dir); /* written by the server's user */
	snprintf(ilog, sizeof(ilog), "%s/initdb.log", s->dir);
	if (!(fp = fopen(pwfile, "w")) || fprintf(fp, "%s\n", s->password) < 0) {
		secmx_errf(err, errlen, "%s: %s", pwfile, strerror(errno));
		if (fp)
			fclose(fp);
		goto fail;
	}
	fclose(fp);
	if (pw && chown(pwfile, pw->pw_uid, pw->pw_gid) != 0)
		goto fail;
	snprintf(pwopt, sizeof(pwopt), "--pwfile=%s", pwfile);
	{
		char *args[] = {"-D",
		                data,
		                "-U",
		                "secmx_test",
		                pwopt,
		                "-A",
		                "scram-sha-256",
		                "-E",
		                "UTF8",
		                "--locale=C",
		                "--no-sync",
		                "--no-instructions",
		                NULL};

		rc = pg_cmd(s, "initdb", args, ilog);
	}
	unlink(pwfile);
	if (rc != 0) {
		secmx_errf(err, errlen, "initdb failed (status %d)", rc);
		tail(ilog, err, errlen);
		goto fail;
	}
	s->port = 5432;
	snprintf(opts, sizeof(opts),
	         "-k %s -c listen_addresses= -p %d -c fsync=off -c synchronous_commit=off "
	         "-c full_page_writes=off -c max_connections=40",
	         s->dir, s->port);
	snprintf(sock, sizeof(sock), "%s/start.log", s->dir);
	{
		char *args[] = {"-D", data, "-l", log, "-w", "-t", "60", "-o", opts, "start", NULL};

		rc = pg_cmd(s, "pg_ctl", args, sock);
	}
	if (rc != 0) {
		secmx_errf(err, errlen, "pg_ctl start failed (status %d)", rc);
		tail(sock, err, errlen);
		tail(log, err, errlen);
		goto fail;
	}
	s->started = 1;
	snprintf(s->conninfo, sizeof(s->conninfo), "host=%s port=%d user=secmx_test", s->dir,
	         s->port);
	return 0;
fail:
	pgserver_stop(s);
	return -1;
}

/* pgserver_stop: stop the server (immediate) and remove its directory. */
void pgserver_stop(struct pgserver *s)
{
	char data[300];

	if (!s->dir[0])
		return;
	if (s->started) {
		char *args[] = {"-D", data, "-m", "immediate", "-w", "stop", NULL};

		snprintf(data, sizeof(data), "%s/data", s->dir);
		pg_cmd(s, "pg_ctl", args, "/dev/null");
		s->started = 0;
	}
	{
		char *rm[] = {"rm", "-rf", s->dir, NULL};

		run_cmd(rm, NULL);
	}
	s->dir[0] = '\0';
}

/* pgserver_restart: stop (fast) and start again with the same options. */
int pgserver_restart(struct pgserver *s)
{
	char data[300], log[300];
	char *args[] = {"-D", data, "-m", "fast", "-w", "-t", "60", "restart", NULL};

	snprintf(data, sizeof(data), "%s/data", s->dir);
	snprintf(log, sizeof(log), "%s/restart.log", s->dir);
	return pg_cmd(s, "pg_ctl", args, log) == 0 ? 0 : -1;
}

/* pgserver_newdb: CREATE DATABASE t_<pid>_<n> for one test. */
int pgserver_newdb(struct pgserver *s, char *db, size_t dblen, char *err, size_t errlen)
{
	static int n;
	const char *keys[] = {"host", "port", "user", "password", "dbname", NULL};
	char port[16], sql[128];
	const char *vals[6];
	PGconn *c;
	PGresult *r;
	int rc = -1;

	snprintf(port, sizeof(port), "%d", s->port);
	vals[0] = s->dir;
	vals[1] = port;
	vals[2] = "secmx_test";
	vals[3] = s->password;
	vals[4] = "postgres";
	vals[5] = NULL;
	snprintf(db, dblen, "t_%ld_%d", (long)getpid(), n++);
	c = PQconnectdbParams(keys, vals, 0);
	if (!c || PQstatus(c) != CONNECTION_OK) {
		secmx_errf(err, errlen, "connect: %s", c ? PQerrorMessage(c) : "no memory");
		goto out;
	}
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", db);
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		secmx_errf(err, errlen, "%s: %s", sql, PQerrorMessage(c));
	else
		rc = 0;
	PQclear(r);
out:
	PQfinish(c);
	return rc;
}

/* read_doc: a file through fin_ubl_read and fin_envelope_apply. */
void read_doc(const char *path, const char *envelope, struct fin_doc *d)
{
	char *buf = NULL, err[256] = "";
	size_t len = 0;
	int rc;

	ck_assert_msg(secmx_file_read(path, FIN_DOC_MAX, &buf, &len) == 0, "read %s", path);
	rc = fin_ubl_read(buf, len, d, err, sizeof(err));
	free(buf);
	ck_assert_msg(rc == 0, "%s: %s (%d)", path, err, rc);
	rc = fin_envelope_apply(d, envelope, err, sizeof(err));
	ck_assert_msg(rc == 0, "%s: envelope: %s", path, err);
}
