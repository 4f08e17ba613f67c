#!/bin/sh
# txn.sh — `secmx txn` as a user drives it: add documents to a real queue
# file, list and show transactions as text and JSON, exit statuses.
set -u
: "${SECMX_BIN:?}" "${SECMX_SRC:?}"
T() { "$SECMX_BIN" txn "$@"; }
D="$SECMX_SRC/tests/data"
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }
expect_rc() { # expected-rc description command...
	want=$1; what=$2; shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"; got=$?
	if [ "$got" -eq "$want" ]; then ok "$what (exit $got)"; else
		bad "$what: exit $got, wanted $want"; sed 's/^/  | /' "$tmp/out" "$tmp/err" | head -20; fi
}
db="$tmp/queue.db"
export SECMX_QUEUE_DB="$tmp/unused.db"

expect_rc 0 "--help" T --help
expect_rc 2 "no action" T
expect_rc 2 "unknown action" T frobnicate --db "$db"
expect_rc 2 "show without an argument" T show --db "$db"
expect_rc 2 "list refuses a store that does not exist" T list --db "$db"
[ -e "$db" ] && bad "list created the store"
expect_rc 2 "a bad tolerance" T add --db "$db" --price-pct -1 "$D/txn/order.xml"
expect_rc 2 "an unknown state" T list --db "$db" --state nonsense

# The default store comes from $SECMX_QUEUE_DB.
expect_rc 0 "add to the store named by SECMX_QUEUE_DB" T add "$D/txn/order.xml"
[ -e "$tmp/unused.db" ] && ok "SECMX_QUEUE_DB honoured" || bad "SECMX_QUEUE_DB ignored"

# Order, receipt with 8 boxes of paper, the invoice for 10: disputed.
sed 's|>10</cbc:ReceivedQuantity>|>8</cbc:ReceivedQuantity>|' "$D/txn/receipt.xml" > "$tmp/receipt8.xml"
expect_rc 0 "add order and short receipt" T add --db "$db" "$D/txn/order.xml" "$tmp/receipt8.xml"
expect_rc 0 "add the invoice (JSON)" T add --db "$db" --json "$D/invoice-nz.xml"
# Added documents are finished messages: no secmxd worker claims them (a
# pipeline state such as "correlated" would have it sign and route them).
python3 - "$db" <<'PY' || fail=1
import sqlite3, sys
rows = sqlite3.connect(sys.argv[1]).execute("SELECT DISTINCT state FROM msg").fetchall()
assert rows == [("done",)], rows
print("ok: added documents are stored as done")
PY
python3 - "$tmp/out" <<'PY' || fail=1
import json, sys
o = json.loads(open(sys.argv[1]).read())
assert o["key"] == "order:0088:9429049990003:PO-88120", o
assert o["state"] == "disputed" and o["match"] == "three-way", o
f = o["findings"]
assert len(f) == 1 and f[0]["rule"] == "SECMX-MATCH-QTY" and f[0]["severity"] == "fatal", f
assert "line 1 (KOS-A4-5R)" in f[0]["message"] and "received 8" in f[0]["message"], f
print("ok: add --json says disputed with the line named")
PY

# A second invoice without an order, then the remittance paying both.
expect_rc 0 "add invoice 418 and the remittance" T add --db "$db" "$D/txn/invoice-418.xml" "$D/txn/remittance.xml"
grep -q "recorded in 2 transactions" "$tmp/out" && ok "remittance in two transactions" || bad "remittance not in two transactions: $(cat "$tmp/out")"

expect_rc 0 "list" T list --db "$db"
grep -q "^1 .*paid .*order:0088:9429049990003:PO-88120" "$tmp/out" && ok "list shows the order's transaction paid" || bad "list: $(cat "$tmp/out")"
grep -q "^2 transactions" "$tmp/out" && ok "list counts" || bad "list count: $(tail -1 "$tmp/out")"
expect_rc 0 "list --state paid --json" T list --db "$db" --state paid --json
python3 - "$tmp/out" <<'PY' || fail=1
import json, sys
a = json.loads(open(sys.argv[1]).read())
assert [t["key"] for t in a] == ["order:0088:9429049990003:PO-88120",
                                 "invoice:0088:9429041535097:INV-2026-00418"], a
assert a[0]["documents"] == 4 and a[0]["findings"] == 1, a[0]
assert a[1]["documents"] == 2 and a[1]["findings"] == 0, a[1]
print("ok: list --json: keys, document and finding counts")
PY
expect_rc 0 "list --state matched is empty" T list --db "$db" --state matched --json
[ "$(cat "$tmp/out")" = "[]" ] && ok "no matched transactions" || bad "matched: $(cat "$tmp/out")"

expect_rc 0 "show by key" T show --db "$db" "order:0088:9429049990003:PO-88120"
cp "$tmp/out" "$tmp/show-key"
grep -q "disputed -> paid" "$tmp/out" && ok "timeline: disputed -> paid" || bad "no disputed -> paid"
grep -q "\[SECMX-MATCH-QTY\] .*line 1 (KOS-A4-5R)" "$tmp/out" && ok "finding shown" || bad "finding not shown"
grep -q "ReceiptAdvice .*RA-5521" "$tmp/out" && ok "documents shown" || bad "documents not shown"
expect_rc 0 "show by id" T show --db "$db" 1
cmp -s "$tmp/out" "$tmp/show-key" && ok "show by id = show by key" || bad "show by id differs"
expect_rc 0 "show --json" T show --db "$db" 2 --json
python3 - "$tmp/out" <<'PY' || fail=1
import json, sys
t = json.loads(open(sys.argv[1]).read())
assert t["key"] == "invoice:0088:9429041535097:INV-2026-00418" and t["state"] == "paid", t
assert [d["doc_type"] for d in t["documents"]] == ["Invoice", "RemittanceAdvice"], t["documents"]
assert [h["to_state"] for h in t["history"]] == ["invoiced", "invoiced", "paid"], t["history"]
assert t["findings"] == [] and t["deliveries"] == [], t
assert t["documents"][0]["summary"]["lines"][0]["items"] == ["KOS-SVC-1H"], t["documents"][0]
print("ok: show --json: documents, history, findings, deliveries")
PY
expect_rc 1 "show an unknown key" T show --db "$db" "order:nobody:PO-1"
expect_rc 1 "show an unknown id" T show --db "$db" 99

printf '<NotUBL/>\n' > "$tmp/other.xml"
expect_rc 1 "add refuses an unknown document" T add --db "$db" "$tmp/other.xml"
expect_rc 2 "add a missing file" T add --db "$db" "$tmp/missing.xml"

exit $fail
