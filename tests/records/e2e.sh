#!/bin/sh
# e2e.sh — secmx-records end to end: a real bus (records_busserver, built on
# bus/bus.h) delivers corpus documents (Order, Invoice with original and
# signed copies, ReceiptAdvice, CreditNote, Peppol and A-NZ invoices, a
# reject, and a redelivery of an earlier key) to `secmx-records run`; a
# second adapter run gets the same deliveries again and stores nothing new;
# a third, started before its server, reloads its retention classes on
# SIGHUP and applies them to the next record.
# Then verify, export (date range and transaction) checked by the
# independent Python BagIt checker, disposal on a fake clock (the approver
# refused as executor: the two-person rule), a refused
# configuration, --help on standard output (exit 0) and a usage error on
# standard error (exit 2), and tampering (an object byte, an index row with the
# sqlite3 command) that verify must report.
set -eu
PY=/usr/bin/python3
REC="$SECMX_BUILD/adapters/records/secmx-records"
SERVER="$SECMX_BUILD/tests/records_busserver"
CHECK="$SECMX_SRC/tests/records/bagit_check.py"
C="$SECMX_CORPUS/ubl-examples"

dir=$(mktemp -d /tmp/secmx-records-e2e-XXXXXX)
spid=""
apid=""
cleanup() {
	if [ -n "$apid" ]; then kill "$apid" 2>/dev/null || true; fi
	if [ -n "$spid" ]; then kill "$spid" 2>/dev/null || true; fi
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }

cat >"$dir/records.ini" <<INI
[records]
endpoint = ipc://$dir/bus.sock
name = records
store_dir = $dir/store
organisation = Example Trading Ltd
credit = 1
INI
head -c 700 "$C/oasis-ubl21/UBL-Invoice-2.1-Example.xml" >"$dir/broken.xml"
cat >"$dir/manifest" <<MAN
k-order|Order|t-1|2026-11-20T09:00:00Z|v|$C/oasis-ubl21/UBL-Order-2.1-Example.xml
k-inv|Invoice|t-1|2026-11-21T09:00:00Z|s|$C/oasis-ubl21/UBL-Invoice-2.1-Example.xml
k-rcpt|ReceiptAdvice|t-1|2026-11-22T09:00:00Z|v|$C/oasis-ubl21/UBL-ReceiptAdvice-2.0-Example.xml
k-cn|CreditNote|t-2|2026-11-23T09:00:00Z|v|$C/oasis-ubl21/UBL-CreditNote-2.1-Example.xml
k-peppol|Invoice|t-2|2026-11-24T09:00:00Z|v|$C/peppol-bis-billing3/base-example.xml
k-au|Invoice|t-3|2026-12-02T09:00:00Z|v|$C/pint-aunz/AU-Invoice.xml
k-bad|reject:Invoice|t-4|2026-11-25T09:00:00Z|r|$dir/broken.xml
k-inv|Invoice|t-1|2026-11-21T09:00:00Z|s|$C/oasis-ubl21/UBL-Invoice-2.1-Example.xml
MAN

run_once() { # $1: label
	"$SERVER" "ipc://$dir/bus.sock" 30000 "$dir/manifest" >"$dir/server.$1.out" 2>"$dir/server.$1.err" &
	spid=$!
	i=0
	while [ ! -S "$dir/bus.sock" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	"$REC" -c "$dir/records.ini" run 2>"$dir/adapter.$1.err" &
	apid=$!
	rc=0
	wait "$spid" || rc=$?
	spid=""
	kill -TERM "$apid"
	arc=0
	wait "$apid" || arc=$?
	apid=""
	cat "$dir/server.$1.out"
	[ "$rc" -eq 0 ] || { cat "$dir/server.$1.err" "$dir/adapter.$1.err"; fail "$1: not every delivery was ACKed"; }
	[ "$arc" -eq 0 ] || { cat "$dir/adapter.$1.err"; fail "$1: adapter exited $arc after SIGTERM"; }
	grep -q 'patterns=\*,reject:\*' "$dir/server.$1.err" || fail "$1: HELLO patterns not the defaults"
}

run_once first
grep -q 'deliveries=8 acked=8 nacked=0' "$dir/server.first.out" || fail "first run counts"
n=$("$REC" -c "$dir/records.ini" list | wc -l)
[ "$n" -eq 7 ] || { "$REC" -c "$dir/records.ini" list; fail "want 7 records (8 deliveries, 1 redelivery), got $n"; }
grep -q 'records.duplicate' "$dir/adapter.first.err" || fail "the redelivery was not seen as a duplicate"
grep -q 'stored=7 duplicates=1' "$dir/adapter.first.err" || fail "adapter counts"

# a restarted adapter gets everything again: nothing new is stored
run_once second
grep -q 'stored=0 duplicates=8' "$dir/adapter.second.err" || { cat "$dir/adapter.second.err"; fail "second run stored something"; }
n=$("$REC" -c "$dir/records.ini" list | wc -l)
[ "$n" -eq 7 ] || fail "records after the second run: $n"

# SIGHUP reloads the retention classes: the next record gets the new class
printf 'k-bad2|reject:Order|t-5|2026-11-26T09:00:00Z|r|%s/broken.xml\n' "$dir" >"$dir/manifest3"
"$REC" -c "$dir/records.ini" run 2>"$dir/adapter.third.err" &
apid=$!
sleep 0.3
printf 'retention = reject:*=2y, *=7y\n' >>"$dir/records.ini"
kill -HUP "$apid"
i=0
while ! grep -q 'records.reload status=ok classes=2' "$dir/adapter.third.err" && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
grep -q 'records.reload status=ok classes=2' "$dir/adapter.third.err" || { cat "$dir/adapter.third.err"; fail "SIGHUP reload"; }
"$SERVER" "ipc://$dir/bus.sock" 30000 "$dir/manifest3" >"$dir/server.third.out" 2>"$dir/server.third.err" || { cat "$dir/server.third.err" "$dir/adapter.third.err"; fail "third run"; }
kill -TERM "$apid"
wait "$apid" || fail "adapter exit after SIGHUP and SIGTERM"
apid=""
"$REC" -c "$dir/records.ini" show REC-00000008 | grep -q 'retain_until *2028-11-26' || { "$REC" -c "$dir/records.ini" show REC-00000008; fail "reloaded retention not applied"; }

"$REC" -c "$dir/records.ini" list
"$REC" -c "$dir/records.ini" show REC-00000002 >"$dir/show.txt"
grep -q 'title *Invoice TOSL108 from ap@supplier.example' "$dir/show.txt" || { cat "$dir/show.txt"; fail "show: title"; }
grep -q 'object original' "$dir/show.txt" && grep -q 'object signed' "$dir/show.txt" || fail "show: objects"
"$REC" -c "$dir/records.ini" show REC-00000007 --json | "$PY" -c '
import json,sys
o=json.load(sys.stdin); m=o["metadata"]
assert m["reject"] is True and m["retention_class"]=="reject:*=1y" and m["retain_until"]=="2027-11-25", m
assert "signed" not in o["objects"], o["objects"]
print("reject record ok:", m["title"])'

"$REC" -c "$dir/records.ini" verify >"$dir/verify1" || { cat "$dir/verify1"; fail "verify of a fresh store"; }
cat "$dir/verify1"

# exports, checked by the independent checker
"$REC" -c "$dir/records.ini" export --from 2026-11-01 --to 2026-11-30 -o "$dir/bag-nov" --by archivist
"$PY" "$CHECK" "$dir/bag-nov" || fail "November bag invalid"
[ "$(ls "$dir/bag-nov/data" | grep -c '^REC-')" -eq 7 ] || fail "November bag: want 7 records"
grep -q '^Source-Organization: Example Trading Ltd$' "$dir/bag-nov/bag-info.txt" || fail "bag-info"
grep -q '^External-Identifier: secmx-records-export-' "$dir/bag-nov/bag-info.txt" || fail "bag-info External-Identifier"
cmp "$dir/bag-nov/data/REC-00000002/original.xml" "$C/oasis-ubl21/UBL-Invoice-2.1-Example.xml" || fail "original bytes differ in the bag"
"$REC" -c "$dir/records.ini" export --txn t-1 -o "$dir/bag-t1"
"$PY" "$CHECK" "$dir/bag-t1" || fail "transaction bag invalid"
[ "$(ls "$dir/bag-t1/data" | grep -c '^REC-')" -eq 3 ] || fail "t-1 bag: want 3 records"
if "$REC" -c "$dir/records.ini" export --txn t-1 -o "$dir/bag-t1" 2>/dev/null; then fail "export over an existing bag"; fi
"$REC" -c "$dir/records.ini" show REC-00000001 | grep -q 'exported .* by archivist' || fail "export not recorded as an action"
"$REC" -c "$dir/records.ini" verify --readonly >/dev/null || fail "verify after export"

# disposal on a fake clock: the reject expires after a year
if "$REC" -c "$dir/records.ini" --now 2027-11-24 dispose --approve REC-00000007 --by rm --reason r 2>"$dir/err"; then
	fail "approval before expiry"
fi
grep -q 'must be kept until 2027-11-25' "$dir/err" || fail "refusal reason"
"$REC" -c "$dir/records.ini" --now 2027-11-25 dispose --due | grep -q REC-00000007 || fail "dispose --due"
"$REC" -c "$dir/records.ini" --now 2027-11-25 dispose --approve REC-00000007 --by "records manager" --reason "GDA class expired"
# the two-person rule: the approver may not also execute
if "$REC" -c "$dir/records.ini" --now 2027-11-26 dispose --execute --by "records manager" \
	>"$dir/out" 2>"$dir/err"; then
	fail "the approver disposed of the record"
fi
grep -q 'refused REC-00000007: approved by records manager' "$dir/out" || fail "two-person: $(cat "$dir/out")"
grep -q 'disposal_two_person' "$dir/err" || fail "two-person reason: $(cat "$dir/err")"
"$REC" -c "$dir/records.ini" --now 2027-11-26 dispose --execute --by ops | grep -q 'disposed REC-00000007' || fail "execute"
"$REC" -c "$dir/records.ini" verify || fail "verify after disposal"
"$REC" -c "$dir/records.ini" show REC-00000007 | grep -q 'record REC-00000007 (disposed)' || fail "tombstone"
"$REC" -c "$dir/records.ini" export --txn t-4 -o "$dir/bag-t4"
"$PY" "$CHECK" "$dir/bag-t4" || fail "bag with a disposed record invalid"
[ ! -e "$dir/bag-t4/data/REC-00000007/original.xml" ] || fail "disposed content exported"

# configuration refused with file and line
printf '[records]\nstore_dir = %s/store\norganisation = X\ncolour = blue\n' "$dir" >"$dir/bad.ini"
rc=0
"$REC" -c "$dir/bad.ini" list 2>"$dir/err" >/dev/null || rc=$?
[ "$rc" -eq 2 ] && grep -q 'bad.ini:4' "$dir/err" || { cat "$dir/err"; fail "bad configuration not refused with its line"; }

# --help (and -h): the synopsis on standard output, exit 0; a usage error
# puts it on standard error, exit 2
for h in --help -h; do
	rc=0
	"$REC" $h >"$dir/out" 2>"$dir/err" || rc=$?
	[ "$rc" -eq 0 ] && grep -q '^usage: secmx-records' "$dir/out" && [ ! -s "$dir/err" ] ||
		fail "$h: exit $rc, stdout: $(cat "$dir/out"), stderr: $(cat "$dir/err")"
done
rc=0
"$REC" --bogus >"$dir/out" 2>"$dir/err" || rc=$?
[ "$rc" -eq 2 ] && [ ! -s "$dir/out" ] && grep -q '^usage: secmx-records' "$dir/err" ||
	fail "usage error: exit $rc, stdout: $(cat "$dir/out"), stderr: $(cat "$dir/err")"

# tampering: verify names the entry and exits 1
cp -r "$dir/store" "$dir/store2"
obj=$("$REC" --store "$dir/store2" show REC-00000004 --json | "$PY" -c '
import json,sys; o=json.load(sys.stdin); h=o["objects"]["original"]["sha256"]; print(h[:2]+"/"+h[2:])')
"$PY" -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[100]^=1; open(p,"wb").write(b)' "$dir/store2/objects/$obj"
rc=0
"$REC" --store "$dir/store2" verify >"$dir/v2" || rc=$?
[ "$rc" -eq 1 ] && grep -q 'entry 4 (REC-00000004): object original .* changed on disk' "$dir/v2" || { cat "$dir/v2"; fail "flipped byte not reported"; }
rm -rf "$dir/store2"; cp -r "$dir/store" "$dir/store2"
sqlite3 "$dir/store2/index.db" "UPDATE records SET title = 'nothing to see' WHERE id = 'REC-00000003'"
rc=0
"$REC" --store "$dir/store2" verify >"$dir/v2" || rc=$?
[ "$rc" -eq 1 ] && grep -q 'entry 3 (REC-00000003): index metadata title is "nothing to see"' "$dir/v2" || { cat "$dir/v2"; fail "edited row not reported"; }
cat "$dir/v2"
echo "PASS: records end to end"
