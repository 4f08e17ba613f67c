#!/bin/sh
# e2e_curve.sh — secmx-records over tcp://127.0.0.1 with CURVE, keys made by
# `secmx bus keygen` and read from the [records] configuration: an adapter
# whose key is not on the server's allow-list stores nothing; the listed key
# stores every delivered corpus document, and the store verifies. Also: a
# secret key file readable by others is refused by the configuration.
set -eu
REC="$SECMX_BUILD/adapters/records/secmx-records"
SERVER="$SECMX_BUILD/tests/records_busserver"
KEYGEN="$SECMX_BIN"
C="$SECMX_CORPUS/ubl-examples"

dir=$(mktemp -d /tmp/secmx-records-curve-XXXXXX)
spid=""
cleanup() {
	if [ -n "$spid" ]; then kill "$spid" 2>/dev/null || true; fi
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }

"$KEYGEN" bus keygen --out "$dir/server" >/dev/null
"$KEYGEN" bus keygen --out "$dir/records" >/dev/null
"$KEYGEN" bus keygen --out "$dir/stranger" >/dev/null
{ echo "# test allow-list"; echo "$(cat "$dir/records.pub") records"; } >"$dir/allow"
cat >"$dir/manifest" <<MAN
c-order|Order|t-1|2026-11-20T09:00:00Z|v|$C/oasis-ubl21/UBL-Order-2.1-Example.xml
c-inv|Invoice|t-1|2026-11-21T09:00:00Z|v|$C/oasis-ubl21/UBL-Invoice-2.1-Example.xml
c-au|Invoice|t-2|2026-11-22T09:00:00Z|v|$C/pint-aunz/AU-Invoice.xml
MAN

"$SERVER" "tcp://127.0.0.1:*" 30000 "$dir/manifest" "$dir/server.key" "$dir/allow" \
	>"$dir/server.out" 2>"$dir/server.err" &
spid=$!
i=0
while ! grep -q '^endpoint=' "$dir/server.out" && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
ep=$(sed -n 's/^endpoint=//p' "$dir/server.out")
case "$ep" in tcp://127.0.0.1:[0-9]*) ;; *) cat "$dir/server.err"; fail "no endpoint";; esac

conf() { # $1 file, $2 key base, $3 store
	cat >"$1" <<INI
[records]
endpoint = $ep
store_dir = $3
organisation = Example Trading Ltd
server_public_key = $dir/server.pub
public_key = $dir/$2.pub
secret_key = $dir/$2.key
INI
}
conf "$dir/stranger.ini" stranger "$dir/store-stranger"
conf "$dir/records.ini" records "$dir/store"

# without a tcp key the configuration is refused before connecting
printf '[records]\nendpoint = %s\nstore_dir = %s/x\norganisation = X\n' "$ep" "$dir" >"$dir/nokey.ini"
rc=0
"$REC" -c "$dir/nokey.ini" run --timeout 500 2>"$dir/err" || rc=$?
[ "$rc" -eq 2 ] && grep -qF "$dir/nokey.ini:2: records.endpoint: tcp:// needs CURVE: records.server_public_key, records.public_key and records.secret_key" "$dir/err" ||
	{ cat "$dir/err"; fail "tcp without keys"; }
# two of the three keys: refused at the first one set, by every command
printf '[records]\nendpoint = %s\nstore_dir = %s/x\norganisation = X\npublic_key = %s/records.pub\nsecret_key = %s/records.key\n' \
	"$ep" "$dir" "$dir" "$dir" >"$dir/partial.ini"
chmod 600 "$dir/partial.ini"
rc=0
"$REC" -c "$dir/partial.ini" list 2>"$dir/err" || rc=$?
[ "$rc" -eq 2 ] && grep -qF "$dir/partial.ini:5: records.public_key: CURVE needs all three of records.server_public_key, records.public_key and records.secret_key" "$dir/err" ||
	{ cat "$dir/err"; fail "a partial CURVE key set"; }
# an unknown log level: refused with the file and line, naming the levels
printf '[records]\nstore_dir = %s/x\norganisation = X\nlog_level = loud\n' "$dir" >"$dir/level.ini"
rc=0
"$REC" -c "$dir/level.ini" list 2>"$dir/err" || rc=$?
[ "$rc" -eq 2 ] && grep -qF "$dir/level.ini:4: records.log_level" "$dir/err" ||
	{ cat "$dir/err"; fail "an unknown log level"; }
# a secret key others can read is refused
cp "$dir/records.key" "$dir/loose.key"; chmod 0644 "$dir/loose.key"
sed "s|$dir/records.key|$dir/loose.key|" "$dir/records.ini" >"$dir/loose.ini"
rc=0
"$REC" -c "$dir/loose.ini" list 2>"$dir/err" || rc=$?
[ "$rc" -eq 2 ] && grep -q 'secret_key' "$dir/err" || { cat "$dir/err"; fail "a readable secret key was accepted"; }

"$REC" -c "$dir/stranger.ini" run --timeout 2000 2>"$dir/stranger.err"
n=$("$REC" -c "$dir/stranger.ini" list | wc -l)
[ "$n" -eq 0 ] || fail "an unlisted key stored $n records"

"$REC" -c "$dir/records.ini" run --timeout 20000 2>"$dir/records.err" &
apid=$!
rc=0
wait "$spid" || rc=$?
spid=""
kill -TERM "$apid" 2>/dev/null || true
wait "$apid" || true
cat "$dir/server.out"
[ "$rc" -eq 0 ] || { cat "$dir/server.err" "$dir/records.err"; fail "not every delivery ACKed over CURVE"; }
grep -q "event=curve-refused" "$dir/server.err" || fail "the stranger's handshake was not refused"
n=$("$REC" -c "$dir/records.ini" list | wc -l)
[ "$n" -eq 3 ] || fail "want 3 records over CURVE, got $n"
"$REC" -c "$dir/records.ini" verify || fail "verify"
echo "PASS: records over CURVE: listed key stored 3, unlisted key refused"
