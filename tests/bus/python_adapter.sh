#!/bin/sh
# python_adapter.sh — the Python adapter (adapters/examples/python/adapter.py,
# pyzmq only, no C) against a real bus (tests/bus_testserver, in-memory
# queue offering N deliveries): a first run "crashes" after 5 documents
# without ACKing the 5th; a second run gets the unacknowledged deliveries
# again, ACKs the one already filed without writing it twice, SUBMITs a
# document, and files the rest. All N must arrive and be ACKed.
set -eu

# Debian's interpreter: python3-zmq is a Debian package (scripts/setup).
PY=/usr/bin/python3
ADAPTER="$SECMX_SRC/adapters/examples/python/adapter.py"
SERVER="$SECMX_BUILD/tests/bus_testserver"
N=25

if ! "$PY" -c 'import zmq' 2>/dev/null; then
	echo "FAIL: $PY cannot import zmq: run scripts/setup (installs python3-zmq)"
	exit 1
fi

dir=$(mktemp -d /tmp/secmx-pybus-XXXXXX)
spid=""
cleanup() {
	if [ -n "$spid" ]; then kill "$spid" 2>/dev/null || true; fi
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM
ep="ipc://$dir/bus.sock"

"$SERVER" "$ep" "$N" 60000 >"$dir/server.out" 2>"$dir/server.err" &
spid=$!
i=0
while [ ! -S "$dir/bus.sock" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done

rc=0
"$PY" "$ADAPTER" --endpoint "$ep" --name records --pattern 'Invoice' --pattern 'Credit*' \
	--credit 4 --outdir "$dir/out" --crash-after 5 --timeout 20 2>"$dir/run1.err" || rc=$?
if [ "$rc" -ne 3 ]; then
	echo "FAIL: first run should simulate a crash (status 3), got $rc"; cat "$dir/run1.err"; exit 1
fi
[ "$(ls "$dir/out" | grep -c '\.xml$')" -eq 5 ] || { echo "FAIL: first run did not file 5"; exit 1; }

rc=0
"$PY" "$ADAPTER" --endpoint "$ep" --name records --pattern 'Invoice' --credit 4 \
	--outdir "$dir/out" --count "$N" --timeout 30 \
	--submit "$SECMX_SRC/tests/data/invoice-nz.xml" --submit-key nz-invoice-1 \
	>"$dir/run2.out" 2>"$dir/run2.err" || rc=$?
if [ "$rc" -ne 0 ]; then
	echo "FAIL: second run exited $rc"; cat "$dir/run2.err"; exit 1
fi
rc=0
wait "$spid" || rc=$?
spid=""
cat "$dir/server.out"
if [ "$rc" -ne 0 ]; then
	echo "FAIL: the server did not see all $N ACKed (status $rc)"; cat "$dir/server.err"; exit 1
fi

fail=0
i=1
while [ $i -le $N ]; do
	f="$dir/out/k-$i.xml"
	if [ ! -f "$f" ] || ! head -c 40 "$f" | grep -q "^<Invoice><ID>INV-$i</ID></Invoice>"; then
		echo "FAIL: document $i missing or wrong"; fail=1
	fi
	i=$((i + 1))
done
grep -q "^submit: accepted <out-1@secmx.test>" "$dir/run2.out" ||
	{ echo "FAIL: SUBMIT not accepted:"; cat "$dir/run2.out"; fail=1; }
grep -q "already written, ACK" "$dir/run2.err" ||
	{ echo "FAIL: the redelivered, already filed document was not recognised"; fail=1; }
grep -q "acked=$N of=$N" "$dir/server.out" || fail=1
grep -q "submitted=1" "$dir/server.out" || { echo "FAIL: server saw no SUBMIT"; fail=1; }
if grep -q "redelivered=0" "$dir/server.out"; then
	echo "FAIL: nothing was redelivered after the crash"; fail=1
fi
[ $fail -eq 0 ] && echo "python adapter: $N documents filed and ACKed across a crash; SUBMIT accepted"
exit $fail
