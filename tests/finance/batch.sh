#!/bin/sh
# batch.sh [sqlite|postgresql] — secmx-finance by bursts (adapter_run_batch,
# credit 16) against a real bus (fin_busserver), every ACK checked at
# arrival against the ledger through a separate connection (FIN_BUS_LEDGER
# for SQLite, FIN_BUS_PG for PostgreSQL: an ACK whose key is not committed
# yet counts as early). With "postgresql" the ledger is a real PostgreSQL
# server started here as in e2e.sh (unix socket in the temp dir); if it
# cannot start, the test FAILS.
#  1. 80 invoices with, in the middle, one the database refuses (a trigger,
#     as an operator's policy would) and a redelivered key: bursts of more
#     than one delivery happen; only the refused one is NACKed, permanent;
#     no ACK is early; the ledger holds each invoice exactly once.
#  2. 300 more invoices, offered as fast as the adapter takes them, while
#     the adapter is killed with SIGKILL 5 times (wherever it is: in a
#     burst, in the commit, between the commit and the ACKs) and restarted:
#     every delivery ends ACKed, none early, each invoice once.
set -eu
: "${SECMX_BUILD:?}" "${SECMX_SRC:?}"
FIN="$SECMX_BUILD/adapters/finance/secmx-finance"
SERVER="$SECMX_BUILD/tests/fin_busserver"
PY=/usr/bin/python3
BACKEND=${1:-sqlite}
N1=80
N2=300

dir=$(mktemp -d /tmp/secmx-finbatch-XXXXXX)
chmod 755 "$dir"
. "$SECMX_SRC/tests/finance/lib.sh"
fin_trap

ep="ipc://$dir/bus.sock"
cat >"$dir/finance.ini" <<EOF2
[finance]
endpoint = $ep
sqlite_path = $dir/ledger.db
credit = 16
EOF2
chmod 600 "$dir/finance.ini"
cfg="-c $dir/finance.ini"
check_env="FIN_BUS_LEDGER=$dir/ledger.db"
if [ "$BACKEND" = postgresql ]; then
	pg_start
	export PGPASSWORD="$pw"
	check_env="FIN_BUS_PG=$conninfo"
fi
"$FIN" list $cfg >/dev/null || fail "cannot create the ledger"
# a trigger that refuses one document, as an operator's policy would
if [ "$BACKEND" = postgresql ]; then
	"$PGBIN/psql" -q -v ON_ERROR_STOP=1 "$conninfo" >/dev/null <<'SQL' || fail "trigger"
CREATE FUNCTION fin_refuse() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN
  IF NEW.doc_id = 'INV-POISON' THEN
    RAISE EXCEPTION 'refused by policy' USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $f$;
CREATE TRIGGER fin_refuse BEFORE INSERT ON fin_document FOR EACH ROW EXECUTE FUNCTION fin_refuse();
SQL
else
	$PY - "$dir/ledger.db" <<'PY' || fail "trigger"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("CREATE TRIGGER fin_refuse BEFORE INSERT ON fin_document WHEN NEW.doc_id = "
           "'INV-POISON' BEGIN SELECT RAISE(ABORT, 'refused by policy'); END")
db.commit()
PY
fi

nz="$SECMX_SRC/tests/data/invoice-nz.xml"
gen() { # $1 prefix, $2 count: invoices $1-1..$1-N as specs k-$1-i
	i=1
	while [ "$i" -le "$2" ]; do
		sed "s/INV-2026-00417/$1-$i/" "$nz" >"$dir/$1-$i.xml"
		printf 'k-%s-%d,Invoice,1,-,%s/%s-%d.xml\n' "$1" "$i" "$dir" "$1" "$i"
		i=$((i + 1))
	done
}
sed 's/INV-2026-00417/INV-POISON/' "$nz" >"$dir/poison.xml"
gen INV-A "$N1" >"$dir/specs1"
{ head -40 "$dir/specs1"; echo "k-poison,Invoice,1,-,$dir/poison.xml"; sed -n '41,$p' "$dir/specs1"
  sed -n 5p "$dir/specs1"; } >"$dir/specs1b"
n1=$(wc -l <"$dir/specs1b")

serve() { # $1 label, $2 specs file; the server in the background
	mkdir -p "$dir/srv.$1"
	# shellcheck disable=SC2046
	env "$check_env" "$SERVER" "$ep" "$dir/srv.$1" 120000 0 $(cat "$2") \
		>"$dir/server.$1.out" 2>"$dir/server.$1.err" &
	spid=$!
	i=0
	while [ ! -S "$dir/bus.sock" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	[ -S "$dir/bus.sock" ] || fail "bus did not start: $(cat "$dir/server.$1.err")"
}
finish() { # $1 label: wait for the server, stop the adapter with SIGTERM
	rc=0
	wait "$spid" || rc=$?
	spid=""
	kill -TERM "$apid"
	arc=0
	wait "$apid" || arc=$?
	apid=""
	cat "$dir/server.$1.out"
	[ "$rc" -eq 0 ] || { tail -20 "$dir/server.$1.err"; tail -20 "$dir/adapter.log"; fail "$1: not every delivery was answered"; }
	[ "$arc" -eq 0 ] || fail "$1: adapter exit $arc after SIGTERM"
	grep -q " early=0$" "$dir/server.$1.out" || { grep EARLY "$dir/server.$1.err" | head; fail "$1: an ACK left before its commit"; }
}
ledger_once() { # $1 number of documents wanted: each once, no INV-POISON
	"$FIN" list $cfg --json >"$dir/list.json" || fail "list --json"
	$PY - "$dir/list.json" "$1" <<'PY' || fail "ledger contents"
import json, sys
docs = json.load(open(sys.argv[1]))
ids = [d["invoice_id"] for d in docs]
assert len(ids) == len(set(ids)), "a document is recorded twice"
assert len(ids) == int(sys.argv[2]), f"{len(ids)} documents, wanted {sys.argv[2]}"
assert "INV-POISON" not in ids
assert all(len(d["lines"]) == 2 for d in docs), "lines doubled or lost"
print(f"ledger: {len(ids)} documents, each exactly once")
PY
}

# 1. bursts, a refused document in the middle, a redelivery
serve one "$dir/specs1b"
"$FIN" run $cfg 2>>"$dir/adapter.log" &
apid=$!
finish one
grep -q "dead=1 of=$n1 " "$dir/server.one.out" || fail "not exactly one dead letter of $n1"
grep -q "NACK k-poison permanent finance: the ledger refused INV-POISON" "$dir/server.one.err" ||
	{ grep NACK "$dir/server.one.err"; fail "no permanent NACK for the refused document"; }
[ "$(grep -c 'NACK' "$dir/server.one.err")" -eq 1 ] || { grep NACK "$dir/server.one.err"; fail "other NACKs"; }
grep -q "k-INV-A-5 finance.duplicate" "$dir/adapter.log" || fail "the redelivered key was not recognised"
big=$(sed -n 's/.*finance.committed deliveries=\([0-9]*\).*/\1/p' "$dir/adapter.log" | sort -n | tail -1)
echo "largest burst committed at once: ${big:-none}"
[ "${big:-0}" -ge 2 ] || fail "no burst of more than one delivery: the test proves nothing"
grep -q "finance.stop status=ok recorded=$N1 duplicates=1 refused=1 failed=0" "$dir/adapter.log" ||
	{ grep finance.stop "$dir/adapter.log"; fail "adapter counts"; }
ledger_once "$N1"

# 2. SIGKILLs while bursts flow
gen INV-K "$N2" >"$dir/specs2"
serve two "$dir/specs2"
progress() { cat "$dir/srv.two/progress" 2>/dev/null || echo 0; }
kills=0
midstream=0
for target in 20 70 120 170 220; do
	"$FIN" run $cfg 2>>"$dir/adapter.log" &
	apid=$!
	i=0
	while [ "$(progress)" -lt "$target" ] && [ $i -lt 1000 ]; do sleep 0.01; i=$((i + 1)); done
	at=$(progress)
	kill -9 "$apid" 2>/dev/null && kills=$((kills + 1))
	wait "$apid" 2>/dev/null || true
	apid=""
	if [ "$at" -lt "$N2" ]; then
		midstream=$((midstream + 1))
		echo "kill $kills at $at of $N2 answered"
	fi
done
[ "$midstream" -ge 3 ] || fail "fewer than 3 kills landed in mid-stream; the test proves nothing"
"$FIN" run $cfg 2>>"$dir/adapter.log" &
apid=$!
finish two
grep -q "acked=$N2 dead=0 of=$N2 " "$dir/server.two.out" || fail "not all $N2 ACKed"
ledger_once $((N1 + N2))
echo "finance batch ($BACKEND): bursts up to $big, one refusal NACKed alone, $kills SIGKILLs, no early ACK, each invoice once"
