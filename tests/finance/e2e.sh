#!/bin/sh
# e2e.sh [sqlite|postgresql] — secmx-finance end to end against a real bus
# (fin_busserver, built on bus/bus.h) delivering real documents: our NZ
# invoice, the corpus invoices and credit notes, an invalid and a disputed
# invoice, a document with a DOCTYPE, a redelivery of the same key, the
# same invoice under a new key, and 120 generated invoices, while the
# adapter is killed with SIGKILL several times and restarted. Afterwards the
# ledger holds each invoice exactly once. Then list, approve, export (CSV
# read back by Python's csv module) and pay: first with the bus down (paid,
# remittance unsent, exit 1), then again: a SUBMIT reaches the bus and its
# RemittanceAdvice is valid by `secmx validate`.
# With "postgresql" the ledger is a real PostgreSQL server started here on a
# unix socket in the temp dir (as the postgres user when run as root); if it
# cannot start, the test FAILS.
set -eu
: "${SECMX_BUILD:?}" "${SECMX_SRC:?}" "${SECMX_CORPUS:?}" "${SECMX_BIN:?}"
BACKEND=${1:-sqlite}
FIN="$SECMX_BUILD/adapters/finance/secmx-finance"
SERVER="$SECMX_BUILD/tests/fin_busserver"
EX="$SECMX_CORPUS/ubl-examples"
NGEN=120

dir=$(mktemp -d /tmp/secmx-fine2e-XXXXXX)
chmod 755 "$dir"
. "$SECMX_SRC/tests/finance/lib.sh"
fin_trap

ep="ipc://$dir/bus.sock"
cat >"$dir/finance.ini" <<EOF
[finance]
endpoint = $ep
sqlite_path = $dir/ledger.db
export_dir = $dir
org_name = Department of Examples
org_id = 9429049990003
org_tax_id = 136410132
submit_timeout = 3s
EOF

if [ "$BACKEND" = postgresql ]; then
	pg_start
fi
chmod 600 "$dir/finance.ini"
cfg="-c $dir/finance.ini"

# The documents.
nz="$SECMX_SRC/tests/data/invoice-nz.xml"
sed 's/INV-2026-00417/INV-2026-00418/' "$nz" >"$dir/inv418.xml"
sed 's/INV-2026-00417/INV-2026-00419/' "$nz" >"$dir/inv419.xml"
{ echo '<!DOCTYPE Invoice [<!ENTITY x SYSTEM "file:///etc/passwd">]>'; sed 1d "$nz"; } >"$dir/doctype.xml"
set -- "k-nz,Invoice,1,-,$nz" \
	"k-c1,Invoice,1,-,$EX/oasis-ubl21/UBL-Invoice-2.1-Example.xml" \
	"k-c2,CreditNote,1,-,$EX/oasis-ubl21/UBL-CreditNote-2.1-Example.xml" \
	"k-c3,Invoice,1,matched,$EX/en16931-cen/ubl-tc434-example1.xml" \
	"k-c4,CreditNote,1,-,$EX/en16931-cen/ubl-tc434-creditnote1.xml" \
	"k-c5,Invoice,1,-,$EX/peppol-bis-billing3/base-example.xml" \
	"k-c6,Invoice,1,-,$EX/pint-aunz/AU-Invoice.xml" \
	"k-inv,Invoice,0,-,$dir/inv418.xml" \
	"k-disp,Invoice,1,disputed,$dir/inv419.xml" \
	"k-bad,Invoice,1,-,$dir/doctype.xml" \
	"k-nz,Invoice,1,-,$nz" \
	"k-nz-resent,Invoice,1,-,$nz"
i=1
while [ $i -le $NGEN ]; do
	sed "s/INV-2026-00417/INV-GEN-$i/" "$nz" >"$dir/gen$i.xml"
	set -- "$@" "k-g$i,Invoice,1,-,$dir/gen$i.xml"
	i=$((i + 1))
done
nspec=$#
t0=$(date +%s)
phase() { echo "phase: $1 at $(( $(date +%s) - t0 )) s"; }
want=$((9 + NGEN)) # distinct documents: nz, 6 corpus, 418, 419, generated

mkdir "$dir/srv"
FIN_BUS_PACE_MS=20 "$SERVER" "$ep" "$dir/srv" 120000 0 "$@" >"$dir/server.out" 2>"$dir/server.err" &
spid=$!
i=0
while [ ! -S "$dir/bus.sock" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
[ -S "$dir/bus.sock" ] || fail "bus did not start: $(cat "$dir/server.err")"

# Kill the adapter with SIGKILL while it works: the bus offers one new
# document per 20 ms (FIN_BUS_PACE_MS), and each round lets the adapter run
# until a target number of deliveries is answered, plus a random 0-15 ms,
# then kills it; the next round starts a new adapter.
progress() { cat "$dir/srv/progress" 2>/dev/null || echo 0; }
kills=0
midstream=0
for target in 10 30 50 70 90 110; do
	kill -0 "$spid" 2>/dev/null || break
	"$FIN" run $cfg 2>>"$dir/adapter.log" &
	apid=$!
	i=0
	while [ "$(progress)" -lt "$target" ] && [ $i -lt 1000 ]; do sleep 0.01; i=$((i + 1)); done
	ms=$(awk -v s="$$$target" 'BEGIN { srand(s); printf "%d", rand() * 15 }')
	sleep "0.$(printf '%03d' "$ms")"
	at=$(progress)
	kill -9 "$apid" 2>/dev/null && kills=$((kills + 1))
	wait "$apid" 2>/dev/null || true
	apid=""
	if [ "$at" -ge "$target" ] && [ "$at" -lt "$nspec" ]; then
		midstream=$((midstream + 1))
		echo "kill $kills at $at of $nspec answered"
	fi
done
echo "killed the adapter $kills times, $midstream of them in mid-stream"
[ "$midstream" -ge 4 ] || fail "fewer than 4 kills landed in mid-stream; the test proves nothing"

phase kills
# A last run to the end; SIGTERM stops it cleanly.
starts=$(grep -c finance.start "$dir/adapter.log" || true)
"$FIN" run $cfg 2>>"$dir/adapter.log" &
apid=$!
rc=0
wait "$spid" || rc=$?
spid=""
i=0
while [ "$(grep -c finance.start "$dir/adapter.log")" -le "$starts" ] && [ $i -lt 200 ]; do
	sleep 0.05; i=$((i + 1))
done
kill -TERM "$apid"
arc=0
wait "$apid" || arc=$?
apid=""
cat "$dir/server.out"
[ "$rc" -eq 0 ] || { tail -20 "$dir/server.err"; tail -20 "$dir/adapter.log"; fail "not every delivery was answered"; }
[ "$arc" -eq 0 ] || fail "adapter exit $arc after SIGTERM"
grep -q "finance.stop status=ok" "$dir/adapter.log" || fail "no clean finance.stop"
grep -q "dead=1 of=$nspec" "$dir/server.out" || fail "the DOCTYPE document was not dead-lettered alone"
grep -q "NACK k-bad permanent" "$dir/server.err" || fail "no permanent NACK for the DOCTYPE document"
grep -q "k-nz finance.duplicate" "$dir/adapter.log" || fail "the redelivered key was not recognised"

phase "all answered"
# Exactly once.
"$FIN" list $cfg --json >"$dir/list.json" || fail "list --json"
python3 - "$dir/list.json" "$want" "$NGEN" <<'PY' || fail "ledger contents"
import json, sys
docs = json.load(open(sys.argv[1]))
want, ngen = int(sys.argv[2]), int(sys.argv[3])
keys = [(d["supplier_key"], d["type"], d["invoice_id"]) for d in docs]
assert len(keys) == len(set(keys)), "a document is recorded twice"
assert len(docs) == want, f"{len(docs)} documents, wanted {want}"
ids = [d["invoice_id"] for d in docs]
assert ids.count("INV-2026-00417") == 1, ids.count("INV-2026-00417")
for i in range(1, ngen + 1):
    assert ids.count(f"INV-GEN-{i}") == 1, f"INV-GEN-{i}"
nz = [d for d in docs if d["invoice_id"] == "INV-2026-00417"][0]
assert len(nz["lines"]) == 2, "lines doubled"
assert nz["payable"] == "815.35" and nz["status"] == "approved", nz
st = {d["invoice_id"]: (d["status"], d["match_status"]) for d in docs}
assert st["INV-2026-00418"] == ("pending", "invalid"), st["INV-2026-00418"]
assert st["INV-2026-00419"] == ("pending", "disputed"), st["INV-2026-00419"]
assert st["12115118"] == ("approved", "matched"), st["12115118"]
print(f"ledger: {len(docs)} documents, each exactly once")
PY

# The approval list, approve, export.
"$FIN" list $cfg --status pending >"$dir/pending.txt"
grep -q "INV-2026-00418.*validation failed" "$dir/pending.txt" || fail "approval list: $(cat "$dir/pending.txt")"
rc=0
"$FIN" pay $cfg INV-2026-00418 >/dev/null 2>"$dir/pay.err" || rc=$?
[ "$rc" -eq 1 ] && grep -q "approve it first" "$dir/pay.err" || fail "paying a pending invoice: $rc"
"$FIN" approve $cfg INV-2026-00418 | grep -q "^approved Invoice INV-2026-00418" || fail "approve"
"$FIN" export $cfg -o out.csv 2>/dev/null || fail "export"
python3 - "$dir/out.csv" "$want" <<'PY' || fail "CSV"
import csv, sys
raw = open(sys.argv[1], "rb").read()
assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b""), "records end in CRLF"
rows = list(csv.reader(open(sys.argv[1], newline="", encoding="utf-8")))
head, body = rows[0], rows[1:]
assert head[:6] == ["type", "supplier_name", "supplier_id", "supplier_id_scheme",
                    "supplier_tax_id", "invoice_id"], head
assert all(len(r) == len(head) for r in body)
by = {r[5]: dict(zip(head, r)) for r in body}
assert "INV-2026-00418" in by and "INV-2026-00419" not in by
assert by["INV-2026-00417"]["payable"] == "815.35" and by["INV-2026-00417"]["tax"] == "106.35"
assert by["INV-2026-00417"]["supplier_name"] == "Kauri Office Supplies"
assert all(r["status"] in ("approved", "paid") for r in by.values())
print(f"export: {len(body)} approved documents in {len(head)} columns")
PY

phase "export"
# A payment of 0 or less is refused before anything is recorded.
rc=0
"$FIN" pay $cfg --amount -5 INV-2026-00417 >/dev/null 2>"$dir/payneg.err" || rc=$?
[ "$rc" -eq 1 ] && grep -q "a payment is a decimal above 0" "$dir/payneg.err" ||
	fail "pay --amount -5: $rc $(cat "$dir/payneg.err")"
# pay with the bus down: marked paid, remittance unsent, exit 1; the
# message says why the SUBMIT failed (not only "limit exceeded").
rc=0
"$FIN" pay $cfg --date 2026-12-01 INV-2026-00417 >/dev/null 2>"$dir/pay0.err" || rc=$?
[ "$rc" -eq 1 ] && grep -q "not sent yet" "$dir/pay0.err" || fail "pay with no bus: $rc $(cat "$dir/pay0.err")"
grep -q "SUBMIT failed: .*: no SUBMIT_RESULT within" "$dir/pay0.err" ||
	fail "pay with no bus does not say why: $(cat "$dir/pay0.err")"
"$FIN" list $cfg --json --status paid | grep -q '"remittance_state": "unsent"' || fail "not unsent"

# pay again: a SUBMIT with a valid RemittanceAdvice reaches the bus (the
# payment date kept from the first attempt).
mkdir "$dir/srv2"
"$SERVER" "$ep" "$dir/srv2" 30000 1 >"$dir/server2.out" 2>"$dir/server2.err" &
spid=$!
i=0
while [ ! -S "$dir/bus.sock" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
"$FIN" pay $cfg INV-2026-00417 >"$dir/pay.out" 2>>"$dir/adapter.log" ||
	{ cat "$dir/pay.out"; tail -5 "$dir/adapter.log"; fail "pay"; }
rc=0
wait "$spid" || rc=$?
spid=""
[ "$rc" -eq 0 ] || fail "the bus saw no SUBMIT: $(cat "$dir/server2.err")"
cat "$dir/pay.out"
grep -q "accepted as <remit-1@secmx.test>" "$dir/pay.out" || fail "pay output"
grep -q "SUBMIT from finance-pay key remit:INV-2026-00417:" "$dir/server2.err" || fail "SUBMIT key"
"$SECMX_BIN" validate "$dir/srv2/submit-1.xml" >"$dir/validate.out" 2>&1 ||
	{ cat "$dir/validate.out"; fail "the remittance is not valid"; }
grep -q "valid (RemittanceAdvice" "$dir/validate.out" || fail "$(cat "$dir/validate.out")"
python3 - "$dir/srv2/submit-1.xml" <<'PY' || fail "remittance content"
import sys, xml.etree.ElementTree as ET
ns = {"cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
      "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"}
r = ET.parse(sys.argv[1]).getroot()
assert r.tag.endswith("}RemittanceAdvice")
ref = r.find("cac:RemittanceAdviceLine/cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID", ns)
assert ref is not None and ref.text == "INV-2026-00417"
assert r.find("cbc:TotalPaymentAmount", ns).text == "815.35"
assert r.find("cbc:IssueDate", ns).text == "2026-12-01"
PY
"$FIN" list $cfg --json --status paid | grep -q '"remittance_state": "sent"' || fail "not recorded as sent"
"$FIN" pay $cfg INV-2026-00417 | grep -q "already paid" || fail "second pay"
echo "finance e2e ($BACKEND): $want documents exactly once across $kills kills; remittance valid"
