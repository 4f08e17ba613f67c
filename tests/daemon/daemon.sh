#!/bin/sh
# daemon.sh — secmxd end to end, as an operator runs it:
#   1. --help on stdout (exit 0), a usage error on stderr (exit 2);
#      --check-config: the effective configuration; refusals with FILE:LINE,
#      checks across keys (routes, tcp:// without CURVE, sign_key without
#      sign_cert) too, at start-up as well; a world-readable signing key
#      refused.
#   2. drop-directory intake of the corpus examples, tests/data/invoice-nz.xml
#      and three bad documents, with the Python adapter (pyfin, Invoice, via
#      HELLO) and two C SDK adapters (cfin: Invoice, records: * and reject:*,
#      via [routing]); the Python adapter also SUBMITs an invoice.
#      Invoices reach pyfin and cfin, signed with our key (xmlsec1 verifies
#      one against our certificate); everything reaches records; the bad
#      documents reach records only, as reject:<type>.
#   3. SIGHUP: a new route applies; a key that needs a restart is named; a
#      broken file is refused and the daemon keeps running.
#   4. SIGTERM while documents arrive: exit 0; after a restart every
#      document is delivered once.
#   5. kill -9 while documents arrive: after a restart every document is
#      delivered once and every message is in its final state.
set -eu
. "$SECMX_SRC/tests/daemon/lib.sh"

test_dir test
mkdir "$dir/py"
conf="$dir/secmxd.conf"
mkconf "$dir" "$conf" "cfin:Invoice, records:*, records:reject:*"

# ---- 1. configuration ------------------------------------------------------
"$SECMXD" --help >"$dir/help.out" 2>"$dir/help.err" && grep -q '^usage: secmxd' "$dir/help.out" &&
	[ ! -s "$dir/help.err" ] || fail "secmxd --help: not the synopsis on stdout with exit 0"
rc=0
"$SECMXD" --bogus >"$dir/help.out" 2>"$dir/help.err" || rc=$?
[ "$rc" -eq 2 ] && [ ! -s "$dir/help.out" ] && grep -q '^usage: secmxd' "$dir/help.err" ||
	fail "secmxd --bogus: exit $rc, wanted the synopsis on stderr and 2"
"$SECMXD" -c "$conf" --check-config >"$dir/check.out" || fail "--check-config refused a good file"
grep -q "^routes = cfin:Invoice, records:\*, records:reject:\*$" "$dir/check.out" ||
	fail "--check-config did not print the routes"
grep -q "^max_attempts = 20$" "$dir/check.out" || fail "--check-config did not print defaults"
grep -q "^\[engine\]$" "$dir/check.out" || fail "no [engine] section in the dump"

printf '[queue]\ndb = %s/q.db\n\n[bus]\nendpoint = ipc://%s/b.sock\nbogus = 1\n' "$dir" "$dir" \
	>"$dir/bad.conf"
rc=0
"$SECMXD" -c "$dir/bad.conf" --check-config >/dev/null 2>"$dir/bad.err" || rc=$?
[ "$rc" -eq 1 ] || fail "unknown key: exit $rc, wanted 1"
grep -q "^$dir/bad.conf:6: bus.bogus: " "$dir/bad.err" || fail "unknown key not located: $(cat "$dir/bad.err")"

printf '[queue]\ndb = %s/q.db\n[bus]\nendpoint = ipc://%s/b.sock\n[workers]\ncount = 0\n' "$dir" "$dir" \
	>"$dir/bad2.conf"
rc=0
"$SECMXD" -c "$dir/bad2.conf" --check-config >/dev/null 2>"$dir/bad2.err" || rc=$?
[ "$rc" -eq 1 ] && grep -q "bad2.conf:6: workers.count: " "$dir/bad2.err" ||
	fail "out-of-bounds value not refused with its line: $(cat "$dir/bad2.err")"

# Checks across keys: refused at the line of the key, by --check-config and
# at start-up alike (exit 1, nothing started).
refused_at() { # FILE LINE TEXT: both modes refuse FILE with "FILE:LINE: TEXT"
	for mode in --check-config --foreground; do
		rc=0
		timeout 20 "$SECMXD" -c "$1" $mode >/dev/null 2>"$1.err" || rc=$?
		[ "$rc" -eq 1 ] || fail "$1 ($mode): exit $rc, wanted 1: $(cat "$1.err")"
		grep -qF "$1:$2: $3" "$1.err" ||
			fail "$1 ($mode): wanted \"$1:$2: $3\", got: $(cat "$1.err")"
	done
}
printf '[queue]\ndb = %s/q.db\n[bus]\nendpoint = ipc://%s/b.sock\n[routing]\nroutes = fin:Invoice, nocolon\n' \
	"$dir" "$dir" >"$dir/bad3.conf"
refused_at "$dir/bad3.conf" 6 'routing.routes: "nocolon" is not adapter:pattern'

printf '[queue]\ndb = %s/q.db\n\n[bus]\nendpoint = tcp://127.0.0.1:5999\n' "$dir" >"$dir/tcp.conf"
refused_at "$dir/tcp.conf" 5 "bus.endpoint: tcp:// needs bus.curve_secret and bus.allow_list"

printf '[queue]\ndb = %s/q.db\n[engine]\n; no sign_cert\nsign_key = %s/org.key\n[bus]\nendpoint = ipc://%s/b.sock\n' \
	"$dir" "$dir" "$dir" >"$dir/nocert.conf"
refused_at "$dir/nocert.conf" 5 "engine.sign_key: needs engine.sign_cert"
printf '[queue]\ndb = %s/q.db\nretry_base = 2h\nretry_max = 1h\n[bus]\nendpoint = ipc://%s/b.sock\n' \
	"$dir" "$dir" >"$dir/retry.conf"
refused_at "$dir/retry.conf" 3 "queue.retry_base: 7200000 ms is above queue.retry_max (3600000 ms)"
[ ! -e "$dir/q.db" ] && [ ! -e "$dir/b.sock" ] || fail "a refused configuration started something"

chmod 644 "$dir/org.key"
rc=0
"$SECMXD" -c "$conf" --check-config >/dev/null 2>"$dir/mode.err" || rc=$?
[ "$rc" -eq 1 ] && grep -q "engine.sign_key" "$dir/mode.err" ||
	fail "a signing key readable by others was accepted ($rc): $(cat "$dir/mode.err")"
chmod 600 "$dir/org.key"
echo "ok: --check-config (dump, unknown key, bound, route, tcp without keys, key without cert, located at start-up too, secret file mode)"

# ---- 2. intake and delivery -------------------------------------------------
"$SECMXD" -c "$conf" 2>"$dir/d.log" &
dpid=$!
wait_for 10 test -S "$dir/bus.sock" || fail "daemon did not bind: $(cat "$dir/d.log")"

# Expected: 6 invoices in the drop dir (5 corpus, 1 NZ) + 1 submitted = 7;
# records gets all 15 corpus + NZ + submitted + 3 rejects = 19.
"$TADAPTER" -e "ipc://$dir/bus.sock" -n cfin -p Invoice -s "$dir/cfin.db" -j "$dir/cfin.j" \
	-c 7 -t 60000 >"$dir/cfin.out" 2>&1 &
cfin=$!
"$TADAPTER" -e "ipc://$dir/bus.sock" -n records -p '*' -p 'reject:*' -s "$dir/rec.db" \
	-j "$dir/rec.j" -c 19 -t 60000 >"$dir/rec.out" 2>&1 &
rec=$!
"$PY" "$SECMX_SRC/adapters/examples/python/adapter.py" --endpoint "ipc://$dir/bus.sock" \
	--name pyfin --pattern Invoice --outdir "$dir/py" --count 7 --timeout 60 \
	--submit "$SECMX_SRC/tests/data/invoice-nz.xml" --submit-key nz-submit-1 \
	>"$dir/py.out" 2>"$dir/py.err" &
py=$!
wait_for 10 log_has "$dir/d.log" "bus.hello adapter=pyfin" || fail "pyfin never said HELLO"

for f in "$SECMX_CORPUS"/ubl-examples/*/*.xml "$SECMX_SRC/tests/data/invoice-nz.xml"; do
	cp "$f" "$dir/drop/.$(basename "$f")"
	mv "$dir/drop/.$(basename "$f")" "$dir/drop/$(basename "$f")"
done
printf '<Invoice><cbc:ID' >"$dir/drop/broken.xml"
printf '<note>not a business document</note>\n' >"$dir/drop/note.xml"
sed 's|<cbc:IssueDate>2026-11-20</cbc:IssueDate>||; s|INV-2026-00417|INV-BAD-1|' \
	"$SECMX_SRC/tests/data/invoice-nz.xml" >"$dir/drop/nz-invalid.xml.tmp"
mv "$dir/drop/nz-invalid.xml.tmp" "$dir/drop/nz-invalid.xml"
truncate -s 65M "$dir/drop/huge.xml.tmp" # sparse: over the 64 MiB intake bound
mv "$dir/drop/huge.xml.tmp" "$dir/drop/huge.xml"

wait "$cfin" || fail "cfin did not get its 7 invoices: $(cat "$dir/cfin.out")"
wait "$rec" || fail "records did not get its 19 documents: $(cat "$dir/rec.out")"
wait "$py" || fail "pyfin did not get its 7 invoices: $(cat "$dir/py.err" | tail -5)"

[ "$(lines "$dir/cfin.j")" -eq 7 ] || fail "cfin processed $(lines "$dir/cfin.j") documents, wanted 7"
[ "$(grep -c ' Invoice ' "$dir/cfin.j")" -eq 7 ] || fail "cfin got something other than invoices"
[ "$(lines "$dir/rec.j")" -eq 19 ] || fail "records processed $(lines "$dir/rec.j"), wanted 19"
[ "$(grep -c ' reject:' "$dir/rec.j")" -eq 3 ] || fail "records did not get exactly 3 rejects"
grep -q ' reject:Invoice ' "$dir/rec.j" || fail "the invalid invoice is not reject:Invoice"
[ "$(grep -c ' reject:unknown ' "$dir/rec.j")" -eq 2 ] || fail "broken/unknown are not reject:unknown"
[ "$(ls "$dir/py" | grep -c '\.xml$')" -eq 7 ] || fail "pyfin filed $(ls "$dir/py" | wc -l), wanted 7"
grep -q "^submit: accepted m" "$dir/py.out" || fail "SUBMIT not accepted: $(cat "$dir/py.out")"
if grep -l 'INV-BAD-1' "$dir/py"/*.xml >/dev/null 2>&1; then fail "a reject reached pyfin"; fi
nz=$(grep -l 'INV-2026-00417' "$dir/py"/*.xml | head -1)
[ -n "$nz" ] || fail "the NZ invoice did not reach pyfin"
grep -q 'SignatureValue' "$nz" || fail "the NZ invoice was delivered unsigned"
xmlsec1 --verify --trusted-pem "$dir/org.crt" "$nz" >/dev/null 2>"$dir/xmlsec.err" ||
	fail "xmlsec1 does not verify our attestation: $(cat "$dir/xmlsec.err")"
# The adapters have all they wait for, but the intake may still be moving the
# oversize file to .failed (it is taken, sized and refused on the loop): give
# the drop directory up to 20 s to settle before judging it.
i=0
while [ $i -lt 200 ] && { [ -n "$(ls -A "$dir/drop" | grep -v '^\.taking$\|^\.failed$')" ] ||
	[ -n "$(ls -A "$dir/drop/.taking")" ]; }; do
	sleep 0.1
	i=$((i + 1))
done
[ -z "$(ls -A "$dir/drop" | grep -v '^\.taking$\|^\.failed$')" ] ||
	fail "drop dir not empty: $(ls -A "$dir/drop")"
[ -z "$(ls -A "$dir/drop/.taking")" ] || fail ".taking not empty: $(ls -A "$dir/drop/.taking")"
[ -f "$dir/drop/.failed/huge.xml" ] && grep -q 'intake.read-failed file=huge.xml .*moved_to=.failed' "$dir/d.log" ||
	fail "a file over 64 MiB was not set aside in .failed"
grep -q '^m[0-9]* doc.validated type=Invoice valid=0' "$dir/d.log" >/dev/null 2>&1 ||
	grep -q 'doc.validated type=Invoice valid=0' "$dir/d.log" || fail "no log line for the reject"
# The same SUBMIT again (a retry after a lost reply): the same answer, no new delivery.
"$PY" "$SECMX_SRC/adapters/examples/python/adapter.py" --endpoint "ipc://$dir/bus.sock" \
	--name pyfin --pattern Invoice --outdir "$dir/py" --count 7 --timeout 20 \
	--submit "$SECMX_SRC/tests/data/invoice-nz.xml" --submit-key nz-submit-1 \
	>"$dir/py2.out" 2>"$dir/py2.err" || fail "second SUBMIT run failed"
[ "$(cat "$dir/py.out")" = "$(cat "$dir/py2.out")" ] ||
	fail "a repeated SUBMIT got another answer: $(cat "$dir/py.out") / $(cat "$dir/py2.out")"
wait_for 10 log_has "$dir/d.log" "doc.routed adapter=pyfin type=Invoice idem=.* duplicate=1" ||
	fail "the repeated SUBMIT was not recognised as the same document"
[ "$(grep -c 'doc.routed adapter=records .*duplicate=0' "$dir/d.log")" -eq 19 ] ||
	fail "records was routed something twice"
echo "ok: intake (a file over 64 MiB set aside), validation, attestation (xmlsec1 verifies), routing, rejects, SUBMIT (and its retry)"

# ---- 3. SIGHUP --------------------------------------------------------------
mkconf "$dir" "$conf" "cfin:Invoice, cfin:CreditNote, records:*, records:reject:*"
sed -i 's/^count = 2$/count = 3/' "$conf"
kill -HUP "$dpid"
wait_for 10 log_has "$dir/d.log" "config.reloaded.*restart_needed=workers.count" ||
	fail "reload not logged with the key that needs a restart"
sed 's|<cbc:ID>018304 / 28865</cbc:ID>|<cbc:ID>CN-RELOAD-1</cbc:ID>|' \
	"$SECMX_CORPUS/ubl-examples/en16931-cen/ubl-tc434-creditnote1.xml" >"$dir/drop/.cn"
mv "$dir/drop/.cn" "$dir/drop/cn-reload.xml"
"$TADAPTER" -e "ipc://$dir/bus.sock" -n cfin -p Invoice -s "$dir/cfin.db" -j "$dir/cfin.j" \
	-c 8 -t 30000 >"$dir/cfin.out" 2>&1 || fail "cfin did not get the credit note after reload"
grep -q ' CreditNote ' "$dir/cfin.j" || fail "the reloaded route did not apply"
printf '[queue]\nnonsense\n' >"$dir/broken.conf"
cp "$conf" "$dir/good.conf"
cp "$dir/broken.conf" "$conf"
kill -HUP "$dpid"
wait_for 10 log_has "$dir/d.log" "config.reload-refused" || fail "a broken reload was not refused"
kill -0 "$dpid" || fail "the daemon died on a broken reload"
cp "$dir/good.conf" "$conf"
echo "ok: SIGHUP (route applied, restart key named, broken file refused)"

# ---- 4. SIGTERM drain and restart -------------------------------------------
"$PY" "$GEN" "$SECMX_SRC" "$dir/drop" 40 --tag TERM >/dev/null
sleep 0.3
kill -TERM "$dpid"
rc=0
wait "$dpid" || rc=$?
dpid=""
[ "$rc" -eq 0 ] || fail "SIGTERM: exit $rc, wanted 0"
grep -q "daemon.drained" "$dir/d.log" || fail "no drain logged"
"$SECMXD" -c "$conf" 2>>"$dir/d.log" &
dpid=$!
# records: 19 + 1 credit note + 40 = 60
"$TADAPTER" -e "ipc://$dir/bus.sock" -n records -p '*' -p 'reject:*' -s "$dir/rec.db" \
	-j "$dir/rec.j" -c 60 -t 60000 >"$dir/rec.out" 2>&1 ||
	fail "after SIGTERM and restart records has $(lines "$dir/rec.j") of 60"
[ "$(lines "$dir/rec.j")" -eq 60 ] || fail "records processed $(lines "$dir/rec.j"), wanted 60"
[ "$(cut -d' ' -f1 "$dir/rec.j" | sort -u | wc -l)" -eq 60 ] || fail "a key was processed twice"
echo "ok: SIGTERM drains (exit 0); after restart all 60 delivered once"

# ---- 5. kill -9 mid-flight and restart --------------------------------------
"$PY" "$GEN" "$SECMX_SRC" "$dir/drop" 30 --tag KILL >/dev/null
sleep 0.3
kill -KILL "$dpid"
wait "$dpid" 2>/dev/null || true
"$SECMXD" -c "$conf" 2>>"$dir/d.log" &
dpid=$!
"$TADAPTER" -e "ipc://$dir/bus.sock" -n records -p '*' -p 'reject:*' -s "$dir/rec.db" \
	-j "$dir/rec.j" -c 90 -t 60000 >"$dir/rec.out" 2>&1 ||
	fail "after kill -9 and restart records has $(lines "$dir/rec.j") of 90"
[ "$(cut -d' ' -f1 "$dir/rec.j" | sort -u | wc -l)" -eq 90 ] || fail "a key was processed twice"
[ "$(cut -d' ' -f4 "$dir/rec.j" | grep -c '^INV-KILL-\|^PO-KILL-')" -eq 30 ] ||
	fail "the KILL documents are not all there"
grep -q "queue.recovered" "$dir/d.log" || fail "no recovery logged"
sleep 0.5
kill -TERM "$dpid"
rc=0
wait "$dpid" || rc=$?
dpid=""
[ "$rc" -eq 0 ] || fail "last SIGTERM: exit $rc"
notdone=$(SECMX_QUEUE_DB="$dir/q.db" "$SECMX_BIN" queue list --json |
	"$PY" -c 'import json,sys; m=json.load(sys.stdin); print(sum(1 for x in m if x["source"] != "bundle" and x["state"] != "done"))')
[ "$notdone" -eq 0 ] || fail "$notdone messages not in their final state"
echo "ok: kill -9 mid-flight: after restart all 90 delivered once; every message final"
