#!/bin/sh
# payment.sh — the payment loop end to end: secmxd + secmx-finance (SQLite
# ledger) + secmx-records on ipc://, all real processes.
#
#  1. Drop the order (tests/data/txn/order.xml, PO-88120), its receipt
#     (tests/data/txn/receipt.xml) and the invoice that references it
#     (tests/data/invoice-nz.xml): one transaction, three-way match clean
#     → `secmx txn show --json` says "matched"; the finance ledger holds the
#     invoice once, approved, match status "matched".
#  2. `secmx-finance pay` marks it paid and SUBMITs a RemittanceAdvice under
#     the NZ remittance profile (the default remittance_customization):
#     secmxd validates it as secmx-nz-remittance with no finding, correlates
#     it into the same transaction → "paid"; every delivery is acknowledged
#     (the pay session subscribes to nothing, so no delivery waits for it).
#  3. The records archive holds the four documents (one record each, under
#     the transaction), with secmxd's version in their metadata, and
#     `secmx-records verify` passes.
#  4. A second transaction with a short receipt (8 boxes for 10 invoiced) is
#     "disputed", and its invoice is pending in the ledger, not approved.
set -eu
. "$SECMX_SRC/tests/daemon/lib.sh"
FIN="$SECMX_BUILD/adapters/finance/secmx-finance"
REC="$SECMX_BUILD/adapters/records/secmx-records"
SECMX="$SECMX_BUILD/cli/secmx"
DATA="$SECMX_SRC/tests/data"

dir=$(mktemp -d /tmp/secmx-payment-XXXXXX)
dpid=""
fpid=""
rpid=""
cleanup() {
	for p in $dpid $fpid $rpid; do kill "$p" 2>/dev/null || true; done
	for p in $dpid $fpid $rpid; do wait "$p" 2>/dev/null || true; done
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $dir"; else rm -rf "$dir"; fi
}
trap cleanup EXIT INT TERM
mkdir "$dir/drop"
mkorg "$dir"
mkconf "$dir" "$dir/secmxd.ini" "finance:Invoice, finance:CreditNote, records:*, records:reject:*"
cat >"$dir/finance.ini" <<EOF
[finance]
endpoint = ipc://$dir/bus.sock
sqlite_path = $dir/ledger.db
org_name = Kowhai Stationers Ltd
org_id = 9429049990003
submit_timeout = 10s
EOF
cat >"$dir/records.ini" <<EOF
[records]
endpoint = ipc://$dir/bus.sock
store_dir = $dir/archive
organisation = secmx payment test
EOF

"$SECMXD" -c "$dir/secmxd.ini" 2>"$dir/secmxd.log" &
dpid=$!
"$FIN" run -c "$dir/finance.ini" 2>"$dir/finance.log" &
fpid=$!
"$REC" -c "$dir/records.ini" run 2>"$dir/records.log" &
rpid=$!
wait_for 30 log_has "$dir/secmxd.log" " daemon.started " || fail "secmxd did not start"

# drop FILE NAME: into the drop directory atomically (temp name, rename).
drop() {
	cp "$1" "$dir/drop/.$2.tmp"
	mv "$dir/drop/.$2.tmp" "$dir/drop/$2"
}
# txn_state KEY: the state of transaction KEY per `secmx txn list --json`.
txn_state() {
	"$SECMX" txn list --db "$dir/q.db" --json | $PY -c '
import json, sys
for t in json.load(sys.stdin):
    if t["key"] == sys.argv[1]:
        print(t["state"])' "$1"
}
# state_is KEY STATE: for wait_for.
state_is() {
	[ "$(txn_state "$1")" = "$2" ]
}
# all_acked: every delivery in the queue is acknowledged and some exist.
all_acked() {
	sqlite3 "file:$dir/q.db?mode=ro" \
		"SELECT COUNT(*) = SUM(state = 'acked') AND COUNT(*) > 0 FROM delivery" | grep -qx 1
}

KEY="order:0088:9429049990003:PO-88120"
# In order: an invoice before its receipt would be matched two-way first.
drop "$DATA/txn/order.xml" order.xml
wait_for 20 state_is "$KEY" ordered || fail "order: $(txn_state "$KEY")"
drop "$DATA/txn/receipt.xml" receipt.xml
wait_for 20 state_is "$KEY" receipted || fail "receipt: $(txn_state "$KEY")"
drop "$DATA/invoice-nz.xml" invoice.xml
wait_for 20 state_is "$KEY" matched || fail "invoice: state $(txn_state "$KEY"), want matched"
id=$("$SECMX" txn list --db "$dir/q.db" --json | $PY -c '
import json, sys
print([t["id"] for t in json.load(sys.stdin) if t["key"] == sys.argv[1]][0])' "$KEY")
"$SECMX" txn show --db "$dir/q.db" --json "$id" >"$dir/show1.json"
$PY - "$dir/show1.json" <<'PY' || fail "txn show after the invoice"
import json, sys
t = json.load(open(sys.argv[1]))
assert t["state"] == "matched", t["state"]
assert t["findings"] == [], t["findings"]
assert [d["doc_type"] for d in t["documents"]] == ["Order", "ReceiptAdvice", "Invoice"], t
assert any("three-way match" in h.get("note", "") for h in t["history"]), t["history"]
print("ok: transaction matched three-way, no findings")
PY
echo "ok: order, receipt, invoice → $KEY matched"

# The ledger: the invoice once, approved and matched.
wait_for 20 all_acked || fail "deliveries not acknowledged"
"$FIN" list -c "$dir/finance.ini" --json >"$dir/ledger1.json"
$PY - "$dir/ledger1.json" <<'PY' || fail "ledger after the invoice: $(cat "$dir/ledger1.json")"
import json, sys
l = json.load(open(sys.argv[1]))
assert len(l) == 1, l
i = l[0]
assert i["invoice_id"] == "INV-2026-00417", i
assert i["status"] == "approved" and i["match_status"] == "matched", i
assert i["transaction_id"] == "order:0088:9429049990003:PO-88120", i
print("ok: ledger holds INV-2026-00417 once, approved, matched")
PY

# Pay: the remittance is SUBMITted as finance-pay, validated under the NZ
# remittance profile, correlated into the same transaction → paid.
"$FIN" pay -c "$dir/finance.ini" INV-2026-00417 >"$dir/pay.out" 2>>"$dir/finance.log" ||
	{ cat "$dir/pay.out"; tail -5 "$dir/finance.log"; fail "pay"; }
cat "$dir/pay.out"
mid=$(sed -n 's/.* accepted as \(m[0-9]*\)$/\1/p' "$dir/pay.out")
[ -n "$mid" ] || fail "pay did not print the message id"
wait_for 20 state_is "$KEY" paid || fail "remittance: state $(txn_state "$KEY"), want paid"
grep -q " $mid intake.submit adapter=finance-pay " "$dir/secmxd.log" ||
	fail "secmxd did not log the SUBMIT from finance-pay"
grep " $mid doc.validated " "$dir/secmxd.log" | grep -q "type=RemittanceAdvice valid=1 errors=0 warnings=0" ||
	fail "remittance validation: $(grep " $mid doc.validated " "$dir/secmxd.log")"
num=${mid#m}
sqlite3 "file:$dir/q.db?mode=ro" "SELECT detail FROM step WHERE msg_id = $num AND step = 'validate'" \
	>"$dir/validate.json"
$PY - "$dir/validate.json" <<'PY' || fail "remittance profile: $(cat "$dir/validate.json")"
import json, sys
v = json.load(open(sys.argv[1]))
assert v["type"] == "RemittanceAdvice" and v["profile"] == "secmx-nz-remittance", v
assert v["valid"] is True and v["errors"] == 0 and v["warnings"] == 0 and v["report"] == [], v
print("ok: remittance %s valid under secmx-nz-remittance, no finding" % v["id"])
PY
"$SECMX" txn show --db "$dir/q.db" --json "$id" >"$dir/show2.json"
$PY - "$dir/show2.json" <<'PY' || fail "txn show after pay"
import json, sys
t = json.load(open(sys.argv[1]))
assert t["state"] == "paid", t["state"]
assert [d["doc_type"] for d in t["documents"]] == \
    ["Order", "ReceiptAdvice", "Invoice", "RemittanceAdvice"], t["documents"]
assert t["history"][-1]["from_state"] == "matched" and t["history"][-1]["to_state"] == "paid"
print("ok: transaction paid, four documents")
PY
"$FIN" list -c "$dir/finance.ini" --json --status paid >"$dir/ledger2.json"
$PY - "$dir/ledger2.json" "$mid" <<'PY' || fail "ledger after pay: $(cat "$dir/ledger2.json")"
import json, sys
l = json.load(open(sys.argv[1]))
assert len(l) == 1 and l[0]["remittance_state"] == "sent", l
assert l[0]["remittance_message_id"] == sys.argv[2], l
print("ok: ledger says paid, remittance sent as " + sys.argv[2])
PY
# Nothing waits for the pay session: every delivery is acknowledged.
wait_for 20 all_acked ||
	fail "deliveries left: $(sqlite3 "$dir/q.db" "SELECT adapter, state FROM delivery WHERE state != 'acked'")"
n=$(sqlite3 "file:$dir/q.db?mode=ro" "SELECT COUNT(*) FROM delivery WHERE adapter = 'finance-pay'")
[ "$n" = 0 ] || fail "$n deliveries routed to the pay session"
echo "ok: every delivery acknowledged, none for finance-pay"

# The archive: four records in the transaction, secmxd's version recorded, verify.
"$REC" -c "$dir/records.ini" list --json >"$dir/records.json"
$PY - "$dir/records.json" "$KEY" <<'PY' || fail "records: $(cat "$dir/records.json")"
import json, sys
r = json.load(open(sys.argv[1]))
types = sorted(x["document_type"] for x in r if x["transaction_id"] == sys.argv[2])
assert types == ["Invoice", "Order", "ReceiptAdvice", "RemittanceAdvice"], r
assert len(r) == 4 and len({x["idempotency_key"] for x in r}) == 4, r
print("ok: the archive holds the four documents of the transaction")
PY
rid=$($PY -c 'import json,sys; print([x["id"] for x in json.load(open(sys.argv[1])) if x["document_type"] == "RemittanceAdvice"][0])' "$dir/records.json")
"$REC" -c "$dir/records.ini" show --json "$rid" >"$dir/remit-record.json"
ver=$(sed -n 's/^#define SECMX_VERSION "\(.*\)"$/\1/p' "$SECMX_SRC/common/common.h")
grep -q "\"gateway\": \"secmxd $ver\"" "$dir/remit-record.json" ||
	fail "the record does not name secmxd $ver: $(grep -i gateway "$dir/remit-record.json")"
# The original bytes (meta.original_b64) are kept beside the signed document:
# the original's SHA-256 is the one in the idempotency key, the signed differs.
$PY - "$dir/remit-record.json" <<'PY' || fail "record objects: $(cat "$dir/remit-record.json")"
import json, sys
r = json.load(open(sys.argv[1]))
d = r["actions"][0]["detail"]
o, key = d["objects"], d["record"]["idempotency_key"]
assert o["original"]["sha256"].startswith(key.split("-")[1]), (o, key)
assert o["signed"]["sha256"] != o["original"]["sha256"], o
assert o["signed"]["size"] > o["original"]["size"], o
print("ok: the archive keeps the original remittance and the one signed by secmxd")
PY
"$REC" -c "$dir/records.ini" verify >"$dir/verify.out" || fail "verify: $(cat "$dir/verify.out")"
echo "ok: records verify passes; the gateway software is recorded"

# A disputed transaction: the receipt is short, so the invoice is pending.
sed -e 's|PO-88120|PO-88121|g' -e 's|RA-5521|RA-5522|' "$DATA/txn/order.xml" >"$dir/order2.xml"
sed -e 's|PO-88120|PO-88121|g' -e 's|RA-5521|RA-5522|' \
	-e 's|>10</cbc:ReceivedQuantity>|>8</cbc:ReceivedQuantity>|' "$DATA/txn/receipt.xml" >"$dir/receipt2.xml"
sed -e 's|PO-88120|PO-88121|g' -e 's|INV-2026-00417|INV-2026-00419|g' "$DATA/invoice-nz.xml" >"$dir/invoice2.xml"
KEY2="order:0088:9429049990003:PO-88121"
drop "$dir/order2.xml" order2.xml
wait_for 20 state_is "$KEY2" ordered || fail "order 2: $(txn_state "$KEY2")"
drop "$dir/receipt2.xml" receipt2.xml
wait_for 20 state_is "$KEY2" receipted || fail "receipt 2: $(txn_state "$KEY2")"
drop "$dir/invoice2.xml" invoice2.xml
wait_for 20 state_is "$KEY2" disputed || fail "invoice 2: state $(txn_state "$KEY2"), want disputed"
wait_for 20 all_acked || fail "deliveries of transaction 2 not acknowledged"
"$FIN" list -c "$dir/finance.ini" --json --status pending >"$dir/ledger3.json"
$PY - "$dir/ledger3.json" <<'PY' || fail "disputed invoice: $(cat "$dir/ledger3.json")"
import json, sys
l = json.load(open(sys.argv[1]))
assert len(l) == 1 and l[0]["invoice_id"] == "INV-2026-00419", l
assert l[0]["match_status"] == "disputed" and "disputed" in l[0]["reason"], l
print("ok: the disputed invoice is pending: " + l[0]["reason"])
PY
if "$FIN" pay -c "$dir/finance.ini" INV-2026-00419 >"$dir/pay2.out" 2>&1; then
	fail "a pending (disputed) invoice was paid: $(cat "$dir/pay2.out")"
fi
echo "ok: pay refuses the disputed invoice: $(head -1 "$dir/pay2.out")"

# Every delivery's line keeps its fields (a held "%s" line lost them all and
# logged fmt_error=1 instead).
grep -q " finance.recorded kind=Invoice id=INV-2026-00417 " "$dir/finance.log" ||
	fail "no finance.recorded line for INV-2026-00417: $(grep finance.recorded "$dir/finance.log" | head -2)"
grep -q " records.stored record=REC-[0-9]* type=Invoice delivery=" "$dir/records.log" ||
	fail "no records.stored line for the invoice: $(grep records.stored "$dir/records.log" | head -2)"
if grep -h fmt_error "$dir/secmxd.log" "$dir/finance.log" "$dir/records.log"; then
	fail "a log line lost its fields (fmt_error)"
fi
echo "ok: finance.recorded and records.stored lines carry their fields"

# SIGTERM: everything stops cleanly.
for p in $fpid $rpid $dpid; do kill "$p"; done
rc=0
wait "$dpid" || rc=$?
dpid=""
[ "$rc" -eq 0 ] || fail "secmxd exited $rc on SIGTERM"
echo "payment loop: order → receipt → invoice (matched) → pay → remittance (paid); archive verified"
