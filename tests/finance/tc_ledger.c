/*
 * tc_ledger.c — the finance ledger on both backends: every test runs twice
 * (loop index 0: SQLite in a temp file, 1: PostgreSQL, a real server that
 * the unchecked fixture starts once for the TCase on a unix socket in a
 * temp dir, with a fresh database per test). If the server cannot start,
 * every PostgreSQL run FAILS with the reason; nothing is skipped.
 * The batch_* tests are secmx-finance's bursts: one transaction, a
 * document refused by the database in the middle, death inside the flush
 * (SIGKILL before and after the commit), a connection lost mid-burst.
 */
#include "helpers.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#define NZ SECMX_TESTDATA "/invoice-nz.xml"
#define ENV_OK                                                                                     \
	"{\"idempotency_key\":\"k-1\",\"message_id\":\"<m1@x>\",\"transaction_id\":\"t-1\","       \
	"\"received_at\":\"2026-11-29T01:02:03Z\",\"validation\":{\"valid\":true}}"
#define ENV_BAD "{\"idempotency_key\":\"k-bad\",\"validation\":{\"valid\":false,\"errors\":3}}"

struct pgserver *test_pg;
char test_pg_error[2048];
static struct pgserver pg;

/* The per-test ledger parameters (backend I). */
static char sqlite_dir[64], sqlite_path[128], pg_conninfo[700];

/* pg_setup / pg_teardown: the unchecked fixture (runs in the parent): the
 * PostgreSQL server and the directory of the SQLite ledgers. */
static void pg_setup(void)
{
	snprintf(sqlite_dir, sizeof(sqlite_dir), "/tmp/secmx-fin-XXXXXX");
	if (!mkdtemp(sqlite_dir))
		sqlite_dir[0] = '\0';
	if (pgserver_start(&pg, test_pg_error, sizeof(test_pg_error)) == 0)
		test_pg = &pg;
	else
		fprintf(stderr, "tc_ledger: PostgreSQL server did not start: %s\n", test_pg_error);
}

static void pg_teardown(void)
{
	char *rm[] = {"rm", "-rf", sqlite_dir, NULL};

	if (test_pg)
		pgserver_stop(test_pg);
	test_pg = NULL;
	if (sqlite_dir[0])
		run_cmd(rm, NULL);
}

/* params: ledger_params for backend I; a fresh database each call. */
static void params(int i, struct ledger_params *p)
{
	char err[512] = "", db[64];

	memset(p, 0, sizeof(*p));
	if (i == 0) {
		ck_assert_msg(sqlite_dir[0], "no temp dir for the SQLite ledgers");
		snprintf(sqlite_path, sizeof(sqlite_path), "%s/l%ld.db", sqlite_dir,
		         (long)getpid());
		unlink(sqlite_path);
		p->kind = LEDGER_SQLITE;
		p->sqlite_path = sqlite_path;
		return;
	}
	ck_assert_msg(test_pg != NULL, "PostgreSQL server did not start: %s", test_pg_error);
	ck_assert_msg(pgserver_newdb(test_pg, db, sizeof(db), err, sizeof(err)) == 0, "%s", err);
	snprintf(pg_conninfo, sizeof(pg_conninfo), "%s dbname=%s", test_pg->conninfo, db);
	p->kind = LEDGER_POSTGRESQL;
	p->pg_conninfo = pg_conninfo;
	p->pg_password = test_pg->password;
}

/* open_ledger: a fresh ledger on backend I. */
static struct ledger *open_ledger(int i, struct ledger_params *p)
{
	struct ledger *l = NULL;
	char err[512] = "";

	params(i, p);
	ck_assert_msg(ledger_open(p, &l, err, sizeof(err)) == 0, "open: %s", err);
	ck_assert_str_eq(ledger_backend_name(l), i ? "postgresql" : "sqlite");
	return l;
}

/* Recording a real invoice and reading it back: every field and line. */
START_TEST(record_and_get)
{
	struct ledger_params p;
	struct ledger *l = open_ledger(_i, &p);
	struct fin_doc d, g;
	char err[512] = "";

	read_doc(NZ, ENV_OK, &d);
	ck_assert_int_eq(ledger_record(l, &d, err, sizeof(err)), 1);
	ck_assert_int_eq(ledger_count(l, err, sizeof(err)), 1);
	ck_assert_int_eq(ledger_get(l, NULL, NULL, "INV-2026-00417", &g, err, sizeof(err)), 0);
	ck_assert_str_eq(g.kind, "Invoice");
	ck_assert_str_eq(g.supplier_key, "0088:9429041535097");
	ck_assert_str_eq(g.supplier_name, "Kauri Office Supplies");
	ck_assert_str_eq(g.supplier_tax_id, "49091850");
	ck_assert_str_eq(g.issue_date, "2026-11-20");
	ck_assert_str_eq(g.due_date, "2026-12-20");
	ck_assert_str_eq(g.currency, "NZD");
	ck_assert_str_eq(g.order_ref, "PO-88120");
	ck_assert_str_eq(g.net, "709.00");
	ck_assert_str_eq(g.tax, "106.35");
	ck_assert_str_eq(g.gross, "815.35");
	ck_assert_str_eq(g.payable, "815.35");
	ck_assert_str_eq(g.status, FIN_APPROVED);
	ck_assert_str_eq(g.match_status, FIN_MATCH_OK);
	ck_assert_str_eq(g.transaction_id, "t-1");
	ck_assert_uint_eq(g.nlines, 2);
	ck_assert_str_eq(g.lines[0].description, "A4 copier paper, box of 5 reams");
	ck_assert_str_eq(g.lines[1].unit_price, "129.50");
	ck_assert_str_eq(g.lines[1].quantity, "2");
	ck_assert_str_eq(g.lines[1].unit_code, "EA");
	fin_doc_clear(&g);
	ck_assert_int_eq(ledger_get(l, NULL, NULL, "INV-404", &g, err, sizeof(err)),
	                 SECMX_ENOTFOUND);
	fin_doc_clear(&g);
	fin_doc_clear(&d);
	ledger_close(l);
}
END_TEST

/* Exactly once: the same key again, and the same invoice under a new key. */
START_TEST(idempotent)
{
	struct ledger_params p;
	struct ledger *l = open_ledger(_i, &p);
	struct fin_doc d, g;
	char err[512] = "";

	read_doc(NZ, ENV_OK, &d);
	ck_assert_int_eq(ledger_seen(l, "k-1", err, sizeof(err)), 0);
	ck_assert_int_eq(ledger_record(l, &d, err, sizeof(err)), 1);
	ck_assert_int_eq(ledger_seen(l, "k-1", err, sizeof(err)), 1);
	ck_assert_int_eq(ledger_record(l, &d, err, sizeof(err)), 0);
	ck_assert_int_eq(fin_set(&d.idem_key, "k-resent"), 0);
	ck_assert_int_eq(ledger_record(l, &d, err, sizeof(err)), 0);
	ck_assert_int_eq(ledger_seen(l, "k-resent", err, sizeof(err)), 1);
	ck_assert_int_eq(ledger_count(l, err, sizeof(err)), 1);
	ck_assert_int_eq(ledger_get(l, NULL, "Invoice", "INV-2026-00417", &g, err, sizeof(err)), 0);
	ck_assert_uint_eq(g.nlines, 2); /* lines not doubled */
	ck_assert_str_eq(g.idem_key, "k-1");
	fin_doc_clear(&g);
	fin_doc_clear(&d);
	ledger_close(l);
}
END_TEST

/* collect_ids: a ledger_list callback appending "id;" to a buffer. */
static int collect_ids(void *arg, const struct fin_doc *d)
{
	char *buf = arg;

	strncat(buf, d->doc_id, 1023 - strlen(buf));
	strncat(buf, ";", 1023 - strlen(buf));
	return 0;
}

/* The approval list: invalid → pending; pay refused; approve; pay once. */
START_TEST(approval_and_pay)
{
	struct ledger_params p;
	struct ledger *l = open_ledger(_i, &p);
	struct fin_doc d, g;
	const char *const pending[] = {FIN_PENDING, NULL};
	char err[512] = "", buf[1024] = "";

	read_doc(NZ, ENV_BAD, &d);
	ck_assert_str_eq(d.status, FIN_PENDING);
	ck_assert_str_eq(d.match_status, FIN_MATCH_INVALID);
	ck_assert_int_eq(ledger_record(l, &d, err, sizeof(err)), 1);
	ck_assert_int_eq(ledger_list(l, pending, NULL, false, collect_ids, buf, err, sizeof(err)),
	                 1);
	ck_assert_str_eq(buf, "INV-2026-00417;");
	ck_assert_int_eq(ledger_pay(l, &d, "2026-12-01", "815.35", "RA-1", err, sizeof(err)),
	                 SECMX_ESTATE);
	ck_assert_msg(strstr(err, "approval list") != NULL, "%s", err);
	ck_assert_int_eq(ledger_approve(l, &d, err, sizeof(err)), 1);
	ck_assert_int_eq(ledger_approve(l, &d, err, sizeof(err)), 0);
	ck_assert_int_eq(ledger_get(l, NULL, NULL, "INV-2026-00417", &g, err, sizeof(err)), 0);
	ck_assert_str_eq(g.status, FIN_APPROVED);
	ck_assert_ptr_nonnull(g.approved_at);
	/* Not a payment: refused, nothing recorded (it used to be final). */
	ck_assert_int_eq(ledger_pay(l, &g, "2026-12-01", "-5", "RA-1", err, sizeof(err)),
	                 SECMX_EINVAL);
	ck_assert_int_eq(ledger_pay(l, &g, "2026-12-01", "0.00", "RA-1", err, sizeof(err)),
	                 SECMX_EINVAL);
	ck_assert_int_eq(ledger_pay(l, &g, "2026-12-01", "800.00", "RA-1", err, sizeof(err)), 1);
	ck_assert_int_eq(ledger_pay(l, &g, "2026-12-09", "1.00", "RA-2", err, sizeof(err)), 0);
	fin_doc_clear(&g);
	ck_assert_int_eq(ledger_get(l, NULL, NULL, "INV-2026-00417", &g, err, sizeof(err)), 0);
	ck_assert_str_eq(g.status, FIN_PAID);
	ck_assert_str_eq(g.paid_date, "2026-12-01");
	ck_assert_str_eq(g.paid_amount, "800.00");
	ck_assert_str_eq(g.remit_id, "RA-1");
	ck_assert_str_eq(g.remit_state, "unsent");
	ck_assert_int_eq(ledger_remit_sent(l, &g, "<out-1@x>", err, sizeof(err)), 0);
	fin_doc_clear(&g);
	ck_assert_int_eq(ledger_get(l, NULL, NULL, "INV-2026-00417", &g, err, sizeof(err)), 0);
	ck_assert_str_eq(g.remit_state, "sent");
	ck_assert_str_eq(g.remit_message_id, "<out-1@x>");
	fin_doc_clear(&g);
	fin_doc_clear(&d);
	ledger_close(l);
}
END_TEST

/* add: record NZ with ID, DATE, SUPPLIER and envelope ENV. */
static void add(struct ledger *l, const char *id, const char *date, const char *supplier,
                const char *key, const char *env)
{
	struct fin_doc d;
	char err[512] = "";

	read_doc(NZ, env, &d);
	ck_assert_int_eq(fin_set(&d.doc_id, id), 0);
	ck_assert_int_eq(fin_set(&d.issue_date, date), 0);
	ck_assert_int_eq(fin_set(&d.idem_key, key), 0);
	if (supplier) {
		ck_assert_int_eq(fin_set(&d.supplier_key, supplier), 0);
		ck_assert_int_eq(fin_set(&d.supplier_name, supplier), 0);
	}
	ck_assert_msg(ledger_record(l, &d, err, sizeof(err)) == 1, "%s: %s", id, err);
	fin_doc_clear(&d);
}

/* Listing by status and date, in date order; an id shared by suppliers. */
START_TEST(list_and_ambiguous)
{
	struct ledger_params p;
	struct ledger *l = open_ledger(_i, &p);
	const char *const approved[] = {FIN_APPROVED, NULL};
	const char *const pending[] = {FIN_PENDING, NULL};
	struct fin_doc g;
	char buf[1024] = "", err[512] = "";

	add(l, "B-2", "2026-02-01", NULL, "k2", ENV_OK);
	add(l, "A-1", "2026-01-15", NULL, "k1", ENV_OK);
	add(l, "C-3", "2026-03-01", NULL, "k3", ENV_BAD);
	add(l, "A-1", "2026-01-20", "name:Ōtautahi \"Café\", Ltd", "k4", ENV_OK);
	ck_assert_int_eq(ledger_list(l, NULL, NULL, false, collect_ids, buf, err, sizeof(err)), 4);
	ck_assert_str_eq(buf, "A-1;A-1;B-2;C-3;");
	buf[0] = '\0';
	ck_assert_int_eq(
	    ledger_list(l, approved, "2026-01-18", true, collect_ids, buf, err, sizeof(err)), 2);
	ck_assert_str_eq(buf, "A-1;B-2;");
	buf[0] = '\0';
	/* Not a date: refused, not compared as text (which selected all four). */
	ck_assert_int_eq(
	    ledger_list(l, NULL, "18/01/2026", false, collect_ids, buf, err, sizeof(err)),
	    SECMX_EINVAL);
	ck_assert_str_eq(buf, "");
	ck_assert_ptr_nonnull(strstr(err, "18/01/2026"));
	ck_assert_int_eq(ledger_list(l, NULL, "2026-01", false, collect_ids, buf, err, sizeof(err)),
	                 SECMX_EINVAL);
	ck_assert_int_eq(ledger_list(l, pending, NULL, false, collect_ids, buf, err, sizeof(err)),
	                 1);
	ck_assert_str_eq(buf, "C-3;");
	ck_assert_int_eq(ledger_get(l, NULL, NULL, "A-1", &g, err, sizeof(err)), SECMX_EDUPLICATE);
	ck_assert_int_eq(
	    ledger_get(l, "name:Ōtautahi \"Café\", Ltd", NULL, "A-1", &g, err, sizeof(err)), 0);
	ck_assert_str_eq(g.supplier_name, "name:Ōtautahi \"Café\", Ltd"); /* bytes kept */
	ck_assert_str_eq(g.issue_date, "2026-01-20");
	fin_doc_clear(&g);
	ledger_close(l);
}
END_TEST

/* Several processes record the same 20 invoices under different keys at
 * once: the ledger holds each exactly once (the database's constraints,
 * not luck, decide). */
START_TEST(concurrent_once)
{
	struct ledger_params p;
	struct ledger *l = open_ledger(_i, &p);
	char err[512] = "", id[32], key[32];
	pid_t kids[4];
	int k, j, st, fails = 0;

	ledger_close(l); /* the tables exist; children open their own */
	for (k = 0; k < 4; k++) {
		kids[k] = fork();
		ck_assert_int_ge(kids[k], 0);
		if (kids[k] == 0) {
			struct ledger *cl = NULL;
			struct fin_doc d;
			int bad = 0;

			if (ledger_open(&p, &cl, err, sizeof(err)) < 0)
				_exit(10);
			for (j = 0; j < 20; j++) {
				read_doc(NZ, ENV_OK, &d);
				snprintf(id, sizeof(id), "INV-%d", j);
				snprintf(key, sizeof(key), "p%d-k%d", k, j);
				fin_set(&d.doc_id, id);
				fin_set(&d.idem_key, key);
				if (ledger_record(cl, &d, err, sizeof(err)) < 0)
					bad++;
				fin_doc_clear(&d);
			}
			ledger_close(cl);
			_exit(bad ? 11 : 0);
		}
	}
	for (k = 0; k < 4; k++) {
		ck_assert_int_eq(waitpid(kids[k], &st, 0), kids[k]);
		fails += !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	ck_assert_int_eq(fails, 0);
	ck_assert_int_eq(ledger_open(&p, &l, err, sizeof(err)), 0);
	ck_assert_int_eq(ledger_count(l, err, sizeof(err)), 20);
	ck_assert_int_eq(ledger_seen(l, "p3-k19", err, sizeof(err)), 1);
	ledger_close(l);
}
END_TEST

/* PostgreSQL only: the password is really required, and refused in the
 * conninfo (it belongs in a secret file). */
START_TEST(pg_password)
{
	struct ledger_params p;
	struct ledger *l = NULL;
	char err[512] = "", ci[800];

	params(1, &p);
	p.pg_password = NULL;
	ck_assert_int_eq(ledger_open(&p, &l, err, sizeof(err)), SECMX_EIO);
	ck_assert_ptr_null(l);
	ck_assert_msg(strstr(err, "password") != NULL, "%s", err);
	snprintf(ci, sizeof(ci), "%s password=%s", p.pg_conninfo, test_pg->password);
	p.pg_conninfo = ci;
	ck_assert_int_eq(ledger_open(&p, &l, err, sizeof(err)), SECMX_ECONFIG);
	ck_assert_ptr_eq(strstr(err, test_pg->password), NULL); /* not echoed */
}
END_TEST

/* PostgreSQL only: the server restarts under a running adapter; the next
 * query reconnects and the ledger goes on (a delivery in between would have
 * been NACKed transiently, never lost). */
START_TEST(pg_reconnect)
{
	struct ledger_params p;
	struct ledger *l = open_ledger(1, &p);
	struct fin_doc d;
	char err[512] = "";

	read_doc(NZ, ENV_OK, &d);
	ck_assert_int_eq(ledger_record(l, &d, err, sizeof(err)), 1);
	ck_assert_int_eq(pgserver_restart(test_pg), 0);
	ck_assert_msg(ledger_seen(l, "k-1", err, sizeof(err)) == 1, "after restart: %s", err);
	ck_assert_int_eq(fin_set(&d.doc_id, "INV-after-restart"), 0);
	ck_assert_int_eq(fin_set(&d.idem_key, "k-2"), 0);
	ck_assert_msg(ledger_record(l, &d, err, sizeof(err)) == 1, "%s", err);
	ck_assert_int_eq(ledger_count(l, err, sizeof(err)), 2);
	fin_doc_clear(&d);
	ledger_close(l);
}
END_TEST

/* ---- batches: one transaction per burst (secmx-finance run) ---- */

/* raw_sql: run SQL on the ledger of P through a separate connection (the
 * database as an operator would change it). 0 or -1 (reason in ERR). */
static int raw_sql(const struct ledger_params *p, const char *sql, char *err, size_t errlen)
{
	int rc = -1;

	if (p->kind == LEDGER_SQLITE) {
		sqlite3 *db = NULL;
		char *msg = NULL;

		if (sqlite3_open(p->sqlite_path, &db) == SQLITE_OK &&
		    sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
			rc = 0;
		else
			snprintf(err, errlen, "%s", msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		sqlite3_close(db);
	} else {
		const char *keys[] = {"dbname", "password", NULL};
		const char *vals[] = {p->pg_conninfo, p->pg_password, NULL};
		PGconn *c = PQconnectdbParams(keys, vals, 1);
		PGresult *r = PQstatus(c) == CONNECTION_OK ? PQexec(c, sql) : NULL;

		if (r && PQresultStatus(r) == PGRES_COMMAND_OK)
			rc = 0;
		else
			snprintf(err, errlen, "%s", PQerrorMessage(c));
		PQclear(r);
		PQfinish(c);
	}
	return rc;
}

/* refuse_poison: a trigger that refuses any document with id INV-POISON,
 * as an operator's policy or constraint would. */
static void refuse_poison(const struct ledger_params *p)
{
	char err[512] = "";
	const char *sql =
	    p->kind == LEDGER_SQLITE
	        ? "CREATE TRIGGER fin_refuse BEFORE INSERT ON fin_document"
	          " WHEN NEW.doc_id = 'INV-POISON' BEGIN SELECT RAISE(ABORT, 'refused by policy');"
	          " END"
	        : "CREATE FUNCTION fin_refuse() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN"
	          " IF NEW.doc_id = 'INV-POISON' THEN RAISE EXCEPTION 'refused by policy' USING"
	          " ERRCODE = 'check_violation'; END IF; RETURN NEW; END $f$;"
	          " CREATE TRIGGER fin_refuse BEFORE INSERT ON fin_document FOR EACH ROW"
	          " EXECUTE FUNCTION fin_refuse()";

	ck_assert_msg(raw_sql(p, sql, err, sizeof(err)) == 0, "trigger: %s", err);
}

/* count_row_cb: sqlite3_exec callback keeping the first column. */
static int count_row_cb(void *arg, int n, char **v, char **names)
{
	(void)names;
	*(long *)arg = n > 0 && v[0] ? strtol(v[0], NULL, 10) : -1;
	return 0;
}

/* count_other: documents in the ledger as another connection sees them
 * (a plain SELECT: ledger_open's DDL would wait for the open burst). */
static long count_other(const struct ledger_params *p)
{
	long n = -1;

	if (p->kind == LEDGER_SQLITE) {
		sqlite3 *db = NULL;

		if (sqlite3_open(p->sqlite_path, &db) == SQLITE_OK)
			sqlite3_exec(db, "SELECT COUNT(*) FROM fin_document", count_row_cb, &n,
			             NULL);
		sqlite3_close(db);
	} else {
		const char *keys[] = {"dbname", "password", NULL};
		const char *vals[] = {p->pg_conninfo, p->pg_password, NULL};
		PGconn *c = PQconnectdbParams(keys, vals, 1);
		PGresult *r = PQstatus(c) == CONNECTION_OK
		                  ? PQexec(c, "SELECT COUNT(*) FROM fin_document")
		                  : NULL;

		if (r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
			n = strtol(PQgetvalue(r, 0, 0), NULL, 10);
		PQclear(r);
		PQfinish(c);
	}
	ck_assert_msg(n >= 0, "cannot count the ledger from another connection");
	return n;
}

/* record_n: record invoices INV-B<FROM>..INV-B<TO-1> under keys kb<N>; the
 * return values must all be WANT. */
static void record_n(struct ledger *l, int from, int to, int want)
{
	struct fin_doc d;
	char id[32], key[32], err[512] = "";
	int j;

	for (j = from; j < to; j++) {
		read_doc(NZ, ENV_OK, &d);
		snprintf(id, sizeof(id), "INV-B%d", j);
		snprintf(key, sizeof(key), "kb%d", j);
		ck_assert_int_eq(fin_set(&d.doc_id, id), 0);
		ck_assert_int_eq(fin_set(&d.idem_key, key), 0);
		ck_assert_msg(ledger_record(l, &d, err, sizeof(err)) == want, "%s: %s", id, err);
		fin_doc_clear(&d);
	}
}

/* A burst in one transaction: nothing visible to another connection before
 * the commit, everything after it; a key repeated inside the burst is seen
 * (the open batch's keys count) and recorded once. */
START_TEST(batch_once)
{
	struct ledger_params p;
	struct ledger *l = open_ledger(_i, &p);
	char err[512] = "";

	ck_assert_int_eq(ledger_batch_begin(l, err, sizeof(err)), 0);
	ck_assert_int_eq(ledger_batch_begin(l, err, sizeof(err)), 0); /* open: no-op */
	record_n(l, 0, 10, 1);
	ck_assert_int_eq(ledger_seen(l, "kb3", err, sizeof(err)), 1);
	record_n(l, 3, 5, 0); /* redelivered inside the burst */
	ck_assert_int_eq(ledger_count(l, err, sizeof(err)), 10);
	ck_assert_int_eq(count_other(&p), 0); /* not committed: invisible */
	ck_assert_int_eq(ledger_batch_commit(l, err, sizeof(err)), 0);
	ck_assert_int_eq(count_other(&p), 10);
	ck_assert_int_eq(ledger_batch_commit(l, err, sizeof(err)), 0); /* none open */
	/* the next burst: all redeliveries */
	ck_assert_int_eq(ledger_batch_begin(l, err, sizeof(err)), 0);
	record_n(l, 0, 10, 0);
	ck_assert_int_eq(ledger_batch_commit(l, err, sizeof(err)), 0);
	ck_assert_int_eq(count_other(&p), 10);
	/* a rolled-back burst leaves nothing */
	ck_assert_int_eq(ledger_batch_begin(l, err, sizeof(err)), 0);
	record_n(l, 10, 13, 1);
	ledger_batch_rollback(l);
	ck_assert_int_eq(ledger_seen(l, "kb10", err, sizeof(err)), 0);
	ck_assert_int_eq(count_other(&p), 10);
	ledger_close(l);
}
END_TEST

/* A document the database refuses for its data (a trigger) in the middle
 * of a burst: SECMX_EINVALID for it alone (rolled back to its savepoint),
 * the others before and after it are committed; its key is not kept, so a
 * redelivery is refused again rather than ACKed as done. */
START_TEST(batch_poison_in_middle)
{
	struct ledger_params p;
	struct ledger *l = open_ledger(_i, &p);
	struct fin_doc d, g;
	char err[512] = "";

	refuse_poison(&p);
	ck_assert_int_eq(ledger_batch_begin(l, err, sizeof(err)), 0);
	record_n(l, 0, 5, 1);
	read_doc(NZ, ENV_OK, &d);
	ck_assert_int_eq(fin_set(&d.doc_id, "INV-POISON"), 0);
	ck_assert_int_eq(fin_set(&d.idem_key, "k-poison"), 0);
	ck_assert_int_eq(ledger_record(l, &d, err, sizeof(err)), SECMX_EINVALID);
	ck_assert_msg(strstr(err, "refused by policy") != NULL, "%s", err);
	record_n(l, 5, 10, 1);
	ck_assert_int_eq(ledger_batch_commit(l, err, sizeof(err)), 0);
	ck_assert_int_eq(count_other(&p), 10);
	ck_assert_int_eq(ledger_seen(l, "k-poison", err, sizeof(err)), 0);
	ck_assert_int_eq(ledger_get(l, NULL, NULL, "INV-POISON", &g, err, sizeof(err)),
	                 SECMX_ENOTFOUND);
	ck_assert_int_eq(ledger_get(l, NULL, NULL, "INV-B9", &g, err, sizeof(err)), 0);
	ck_assert_uint_eq(g.nlines, 2);
	fin_doc_clear(&g);
	/* outside a batch the refusal is permanent too */
	ck_assert_int_eq(ledger_record(l, &d, err, sizeof(err)), SECMX_EINVALID);
	fin_doc_clear(&d);
	ledger_close(l);
}
END_TEST

/* burst_child: in a new process, record INV-B<FROM>..<TO-1> in one batch,
 * commit if COMMIT, then die by SIGKILL (before any ACK could leave). */
static pid_t burst_child(const struct ledger_params *p, int from, int to, int commit)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct ledger *cl = NULL;
		char err[512];

		if (ledger_open(p, &cl, err, sizeof(err)) < 0 ||
		    ledger_batch_begin(cl, err, sizeof(err)) < 0)
			_exit(10);
		record_n(cl, from, to, 1);
		if (commit && ledger_batch_commit(cl, err, sizeof(err)) < 0)
			_exit(11);
		raise(SIGKILL);
		_exit(12);
	}
	return pid;
}

/* Death inside the flush: killed before the commit, the burst left
 * nothing (the queue delivers it again and it is recorded then); killed
 * after the commit but before the ACKs, the redelivery finds every key
 * and records nothing twice. */
START_TEST(batch_killed)
{
	struct ledger_params p;
	struct ledger *l = open_ledger(_i, &p);
	char err[512] = "";
	struct fin_doc g;
	int st;

	ledger_close(l);
	ck_assert_int_eq(waitpid(burst_child(&p, 0, 6, 0), &st, 0) > 0, 1);
	ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "child status %d", st);
	ck_assert_int_eq(count_other(&p), 0);
	ck_assert_int_eq(waitpid(burst_child(&p, 0, 6, 1), &st, 0) > 0, 1);
	ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "child status %d", st);
	ck_assert_int_eq(count_other(&p), 6);
	/* the redelivery of the committed but unACKed burst */
	ck_assert_int_eq(ledger_open(&p, &l, err, sizeof(err)), 0);
	ck_assert_int_eq(ledger_batch_begin(l, err, sizeof(err)), 0);
	record_n(l, 0, 6, 0);
	ck_assert_int_eq(ledger_batch_commit(l, err, sizeof(err)), 0);
	ck_assert_int_eq(ledger_count(l, err, sizeof(err)), 6);
	ck_assert_int_eq(ledger_get(l, NULL, NULL, "INV-B5", &g, err, sizeof(err)), 0);
	ck_assert_uint_eq(g.nlines, 2); /* lines not doubled */
	fin_doc_clear(&g);
	ledger_close(l);
}
END_TEST

/* PostgreSQL only: the server restarts in the middle of a burst. The
 * records made before are gone with the transaction, so the batch must not
 * go on in a fresh one (that would ACK lost records): the next record and
 * the commit fail, and the next burst works on the new connection. */
START_TEST(batch_pg_lost)
{
	struct ledger_params p;
	struct ledger *l = open_ledger(1, &p);
	char err[512] = "";

	ck_assert_int_eq(ledger_batch_begin(l, err, sizeof(err)), 0);
	record_n(l, 0, 3, 1);
	ck_assert_int_eq(pgserver_restart(test_pg), 0);
	ck_assert_int_eq(ledger_seen(l, "kb0", err, sizeof(err)), 0); /* reconnected: gone */
	record_n(l, 3, 4, SECMX_EIO);
	ck_assert_int_eq(ledger_batch_commit(l, err, sizeof(err)), SECMX_EIO);
	ck_assert_int_eq(count_other(&p), 0);
	ck_assert_int_eq(ledger_batch_begin(l, err, sizeof(err)), 0);
	record_n(l, 0, 4, 1);
	ck_assert_int_eq(ledger_batch_commit(l, err, sizeof(err)), 0);
	ck_assert_int_eq(count_other(&p), 4);
	ledger_close(l);
}
END_TEST

TCase *tc_ledger(void)
{
	TCase *tc = tcase_create("ledger");

	tcase_add_unchecked_fixture(tc, pg_setup, pg_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, record_and_get, 0, 2);
	tcase_add_loop_test(tc, idempotent, 0, 2);
	tcase_add_loop_test(tc, approval_and_pay, 0, 2);
	tcase_add_loop_test(tc, list_and_ambiguous, 0, 2);
	tcase_add_loop_test(tc, concurrent_once, 0, 2);
	tcase_add_test(tc, pg_password);
	tcase_add_test(tc, pg_reconnect);
	tcase_add_loop_test(tc, batch_once, 0, 2);
	tcase_add_loop_test(tc, batch_poison_in_middle, 0, 2);
	tcase_add_loop_test(tc, batch_killed, 0, 2);
	tcase_add_test(tc, batch_pg_lost);
	return tc;
}
