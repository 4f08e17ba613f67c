#!/bin/sh
# duplicate.sh — the same business document twice. A supplier's invoice
# (tests/data/invoice-nz.xml) is dropped, then a copy with another note
# under another file name: a new message to the queue (its transport
# identity differs), but the same invoice (type, issuer, id). secmxd
# records the copy in the transaction with a SECMX-DUPLICATE warning that
# names the first message, leaves the transaction's state as it was (the
# match does not count the invoice twice), logs doc.duplicate, and delivers
# the copy with meta.duplicate_of, so an adapter can tell.
# Then a bus SUBMIT's idempotency key, the adapter's promise of the same
# content: the same key again with the same bytes (a retry) is accepted
# with the first message's id; with other bytes it is refused with a reason
# that names the key and the first message, and nothing is stored.
set -eu
. "$SECMX_SRC/tests/daemon/lib.sh"
SECMX="$SECMX_BUILD/cli/secmx"
KEY="order:0088:9429049990003:PO-88120"

test_dir dup
mkdir "$dir/out"
conf="$dir/secmxd.conf"
mkconf "$dir" "$conf" "peek:Invoice"
nz="$SECMX_SRC/tests/data/invoice-nz.xml"

daemon_up "$conf" "$dir/d.log"
$PY "$SECMX_SRC/adapters/examples/python/adapter.py" --endpoint "ipc://$dir/bus.sock" \
	--name peek --pattern Invoice --outdir "$dir/out" --count 2 --timeout 30 \
	>"$dir/peek.log" 2>&1 &
ppid=$!

# txn_json: the transaction as `secmx txn show --json` gives it.
txn_json() {
	id=$("$SECMX" txn list --db "$dir/q.db" --json | $PY -c '
import json, sys
print([t["id"] for t in json.load(sys.stdin) if t["key"] == sys.argv[1]][0])' "$KEY")
	"$SECMX" txn show --db "$dir/q.db" --json "$id"
}

cp "$nz" "$dir/drop/.a.tmp"
mv "$dir/drop/.a.tmp" "$dir/drop/invoice.xml"
wait_for 20 log_has "$dir/d.log" "doc.routed adapter=peek" || fail "the invoice was not routed"
txn_json >"$dir/t1.json"
sed 's|<cbc:Note>Stationery|<cbc:Note>Copy. Stationery|' "$nz" >"$dir/drop/.b.tmp"
mv "$dir/drop/.b.tmp" "$dir/drop/invoice-again.xml"
wait "$ppid" || fail "the adapter did not get both: $(cat "$dir/peek.log"; tail -5 "$dir/d.log")"
txn_json >"$dir/t2.json"

grep -q "doc.duplicate txn=$KEY type=Invoice id=INV-2026-00417 duplicate_of=m1" "$dir/d.log" ||
	fail "no doc.duplicate line: $(grep -E 'doc\.(corr|dup)' "$dir/d.log")"
if grep -q fmt_error "$dir/d.log"; then fail "a log line lost its fields"; fi
$PY - "$dir/t1.json" "$dir/t2.json" <<'PY' || fail "the transaction after the copy"
import json, sys
t1, t2 = (json.load(open(p)) for p in sys.argv[1:3])
assert t2["state"] == t1["state"], (t1["state"], t2["state"])
f = t2["findings"]
assert [x["rule"] for x in f] == ["SECMX-DUPLICATE"], f
assert f[0]["severity"] == "warning" and "received before as message m1" in f[0]["text"], f
assert [d["doc_type"] for d in t2["documents"]] == ["Invoice", "Invoice"], t2["documents"]
print("ok: the copy is recorded with a SECMX-DUPLICATE warning; state %s unchanged"
      % t2["state"])
PY
sqlite3 "file:$dir/q.db?mode=ro" "SELECT m.doc_id, s.detail FROM msg m JOIN step s ON s.msg_id = m.id
	WHERE m.source = 'dropdir' AND s.step = 'correlate' ORDER BY m.id" >"$dir/corr.txt"
grep -q '^invoice.xml@.*|{.*"txn_id"' "$dir/corr.txt" || fail "correlate of the first: $(cat "$dir/corr.txt")"
if grep '^invoice.xml@' "$dir/corr.txt" | grep -q duplicate_of; then fail "the first marked a duplicate"; fi
grep '^invoice-again.xml@' "$dir/corr.txt" | grep -q '"duplicate_of":1' ||
	fail "correlate of the copy: $(cat "$dir/corr.txt")"
sqlite3 "file:$dir/q.db?mode=ro" "SELECT b.body FROM delivery d JOIN msg_body b ON b.msg_id = d.msg_id
	ORDER BY d.id" | grep -c '"duplicate_of":"m1"' >"$dir/n" || true
[ "$(cat "$dir/n")" = 1 ] || fail "want one delivered envelope with meta.duplicate_of m1, got $(cat "$dir/n")"
echo "ok: the copy is delivered with meta.duplicate_of = m1, the first without"

# submit FILE KEY: SUBMIT FILE under KEY with the Python example adapter;
# prints its answer ("submit: accepted mN" or "submit: refused REASON").
submit() {
	$PY "$SECMX_SRC/adapters/examples/python/adapter.py" --endpoint "ipc://$dir/bus.sock" \
		--name submitter --pattern Nothing --outdir "$dir/out" --timeout 0 \
		--submit "$1" --submit-key "$2" 2>>"$dir/submit.err" || fail "adapter.py: $(cat "$dir/submit.err")"
}
sed 's|<cbc:Note>Stationery|<cbc:Note>Changed. Stationery|' "$nz" >"$dir/other.xml"
first=$(submit "$nz" po-key-1)
case $first in "submit: accepted m"*) ;; *) fail "the first SUBMIT: $first" ;; esac
mid=${first#submit: accepted }
other=$(submit "$dir/other.xml" po-key-1)
[ "$other" = "submit: refused idempotency key po-key-1 was used for different content (first: $mid)" ] ||
	fail "other bytes under the same key: $other"
log_has "$dir/d.log" "intake.submit adapter=submitter key=po-key-1 result=key-reused first=$mid" ||
	fail "the refusal is not logged: $(grep intake.submit "$dir/d.log")"
n=$(sqlite3 "file:$dir/q.db?mode=ro" "SELECT count(*) FROM msg WHERE source = 'bus' AND doc_id = 'po-key-1'")
[ "$n" = 1 ] || fail "the queue holds $n messages under the key, not 1"
again=$(submit "$nz" po-key-1)
[ "$again" = "$first" ] || fail "the same bytes again (a retry): $again, not $first"
echo "ok: SUBMIT under a used key: same bytes accepted as $mid, other bytes refused, nothing stored"
daemon_down
echo "ok: duplicate.sh"
