#!/bin/sh
# python_curve.sh — the Python adapter over tcp://127.0.0.1 with CURVE, keys
# made by `secmx bus keygen`: a key on the server's allow-list gets all N
# documents; a key not on it gets nothing (no WELCOME) and the server logs
# the refused handshake.
set -eu
PY=/usr/bin/python3
ADAPTER="$SECMX_SRC/adapters/examples/python/adapter.py"
SERVER="$SECMX_BUILD/tests/bus_testserver"
KEYGEN="$SECMX_BIN"
N=10

"$PY" -c 'import zmq; assert zmq.has("curve")' 2>/dev/null ||
	{ echo "FAIL: $PY has no zmq with CURVE: run scripts/setup"; exit 1; }
dir=$(mktemp -d /tmp/secmx-pycurve-XXXXXX)
spid=""
cleanup() {
	if [ -n "$spid" ]; then kill "$spid" 2>/dev/null || true; fi
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM

"$KEYGEN" bus keygen --out "$dir/server" >/dev/null
"$KEYGEN" bus keygen --out "$dir/records" >/dev/null
"$KEYGEN" bus keygen --out "$dir/stranger" >/dev/null
{ echo "# test allow-list"; echo "$(cat "$dir/records.pub") records"; } >"$dir/allow"

"$SERVER" "tcp://127.0.0.1:*" "$N" 60000 60000 "$dir/server.key" "$dir/allow" \
	>"$dir/server.out" 2>"$dir/server.err" &
spid=$!
i=0
while ! grep -q '^endpoint=' "$dir/server.out" && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
ep=$(sed -n 's/^endpoint=//p' "$dir/server.out")
case "$ep" in tcp://127.0.0.1:[0-9]*) ;; *) echo "FAIL: no endpoint"; cat "$dir/server.err"; exit 1;; esac

rc=0
"$PY" "$ADAPTER" --endpoint "$ep" --name records --pattern 'Invoice' --outdir "$dir/bad" \
	--count 1 --timeout 2 --server-key "$dir/server.pub" --public-key "$dir/stranger.pub" \
	--secret-key "$dir/stranger.key" 2>"$dir/bad.err" || rc=$?
[ "$rc" -eq 1 ] || { echo "FAIL: a stranger's key should get nothing (status $rc)"; exit 1; }
[ -z "$(ls "$dir/bad" 2>/dev/null)" ] || { echo "FAIL: a stranger received documents"; exit 1; }
if grep -q "session " "$dir/bad.err"; then echo "FAIL: a stranger got a WELCOME"; exit 1; fi

rc=0
"$PY" "$ADAPTER" --endpoint "$ep" --name records --pattern 'Invoice' --outdir "$dir/out" \
	--count "$N" --timeout 30 --server-key "$dir/server.pub" --public-key "$dir/records.pub" \
	--secret-key "$dir/records.key" 2>"$dir/good.err" || rc=$?
[ "$rc" -eq 0 ] || { echo "FAIL: the listed key did not get its documents"; cat "$dir/good.err"; exit 1; }
rc=0
wait "$spid" || rc=$?
spid=""
tail -1 "$dir/server.out"
[ "$rc" -eq 0 ] || { echo "FAIL: server saw status $rc"; cat "$dir/server.err"; exit 1; }
grep -q "event=curve-refused" "$dir/server.err" ||
	{ echo "FAIL: the refused handshake was not logged"; cat "$dir/server.err"; exit 1; }
[ "$(ls "$dir/out" | grep -c '\.xml$')" -eq "$N" ] || { echo "FAIL: not $N documents"; exit 1; }
echo "python over CURVE: listed key got $N documents, unlisted key refused"
