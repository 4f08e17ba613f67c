#!/bin/sh
# run-local.sh — try the whole system on one machine: secmxd, secmx-finance
# and secmx-records on ipc:// in a fresh temporary directory, configured by
# examples/secmxd.ini, finance.ini and records.ini (their prefix
# /tmp/secmx-local rewritten to the temporary directory).
#
#   examples/run-local.sh [--build DIR] [--demo] [--keep]
#
# --build DIR  the build directory (default: $SECMX_BUILD, else ../build
#              next to this script)
# --demo       instead of waiting for Ctrl-C: drop an order, its receipt and
#              the invoice (tests/data), wait until the transaction is
#              "matched", pay the invoice (secmx-finance pay → RemittanceAdvice
#              SUBMIT), wait for "paid", verify the archive, stop. Exit 0 when
#              all of that happened, 1 otherwise.
# --keep       keep the temporary directory afterwards (default: removed)
#
# Without --demo it prints what to try and runs until Ctrl-C or SIGTERM,
# then stops the three with SIGTERM. A throwaway organisation key
# (EC P-256) is made for the session with openssl. Needs sqlite3 and python3
# only for --demo. See docs/operations.md "Running the whole system".
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
build=${SECMX_BUILD:-$src/build}
demo=0
keep=0
while [ $# -gt 0 ]; do
	case $1 in
	--build) build=$2; shift 2 ;;
	--demo) demo=1; shift ;;
	--keep) keep=1; shift ;;
	*) echo "usage: run-local.sh [--build DIR] [--demo] [--keep]" >&2; exit 2 ;;
	esac
done
SECMXD=$build/cli/secmxd
SECMX=$build/cli/secmx
FIN=$build/adapters/finance/secmx-finance
REC=$build/adapters/records/secmx-records
for b in "$SECMXD" "$SECMX" "$FIN" "$REC"; do
	[ -x "$b" ] || { echo "run-local: $b is not built (cmake -S . -B build && make -C build)" >&2; exit 2; }
done

dir=$(mktemp -d /tmp/secmx-local-XXXXXX)
chmod 700 "$dir"
pids=""
stop() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	for p in $pids; do wait "$p" 2>/dev/null || true; done
	pids=""
	if [ "$keep" = 1 ]; then echo "run-local: kept $dir"; else rm -rf "$dir"; fi
}
trap stop EXIT
trap 'exit 130' INT TERM

mkdir "$dir/drop"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$dir/org.key" -out "$dir/org.crt" -days 30 \
	-subj "/O=secmx local trial/CN=secmxd attestation" 2>/dev/null
chmod 600 "$dir/org.key"
for f in secmxd finance records; do
	sed "s|/tmp/secmx-local|$dir|g" "$here/$f.ini" >"$dir/$f.ini"
	chmod 600 "$dir/$f.ini"
done

"$SECMXD" -c "$dir/secmxd.ini" 2>"$dir/secmxd.log" &
pids="$pids $!"
"$FIN" run -c "$dir/finance.ini" 2>"$dir/finance.log" &
pids="$pids $!"
"$REC" -c "$dir/records.ini" run 2>"$dir/records.log" &
pids="$pids $!"

# wait_for SECONDS COMMAND...: until COMMAND succeeds.
wait_for() {
	_t=$(($1 * 10))
	shift
	while [ "$_t" -gt 0 ]; do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 0.1
		_t=$((_t - 1))
	done
	return 1
}
wait_for 30 grep -q " daemon.started " "$dir/secmxd.log" ||
	{ echo "run-local: secmxd did not start:" >&2; tail -5 "$dir/secmxd.log" >&2; exit 1; }

if [ "$demo" = 0 ]; then
	cat <<EOF
secmxd, secmx-finance and secmx-records are running in $dir
(logs: secmxd.log, finance.log, records.log). Try:

  cp $src/tests/data/txn/order.xml $dir/drop/.o.tmp && mv $dir/drop/.o.tmp $dir/drop/order.xml
  cp $src/tests/data/txn/receipt.xml $dir/drop/.r.tmp && mv $dir/drop/.r.tmp $dir/drop/receipt.xml
  cp $src/tests/data/invoice-nz.xml $dir/drop/.i.tmp && mv $dir/drop/.i.tmp $dir/drop/invoice.xml
  $SECMX txn list --db $dir/queue.db
  $FIN list -c $dir/finance.ini
  $FIN pay -c $dir/finance.ini INV-2026-00417
  $SECMX txn list --db $dir/queue.db
  $REC -c $dir/records.ini list
  $REC -c $dir/records.ini verify

Ctrl-C stops all three.
EOF
	while :; do sleep 1; done
fi

# --demo: the payment loop.
state() {
	"$SECMX" txn list --db "$dir/queue.db" --json | python3 -c '
import json, sys
print(" ".join(t["state"] for t in json.load(sys.stdin)))'
}
state_is() { [ "$(state)" = "$1" ]; }
put() {
	cp "$1" "$dir/drop/.$2.tmp"
	mv "$dir/drop/.$2.tmp" "$dir/drop/$2"
}
put "$src/tests/data/txn/order.xml" order.xml
wait_for 20 state_is ordered || { echo "run-local: order: $(state)"; exit 1; }
put "$src/tests/data/txn/receipt.xml" receipt.xml
wait_for 20 state_is receipted || { echo "run-local: receipt: $(state)"; exit 1; }
put "$src/tests/data/invoice-nz.xml" invoice.xml
wait_for 20 state_is matched || { echo "run-local: invoice: $(state)"; exit 1; }
echo "run-local: order, receipt, invoice: transaction matched"
wait_for 20 sh -c "\"$FIN\" list -c \"$dir/finance.ini\" --status approved | grep -q INV-2026-00417" ||
	{ echo "run-local: the invoice is not approved in the ledger"; exit 1; }
"$FIN" pay -c "$dir/finance.ini" INV-2026-00417 || exit 1
wait_for 20 state_is paid || { echo "run-local: after pay: $(state)"; exit 1; }
echo "run-local: remittance validated and correlated: transaction paid"
wait_for 20 sh -c "[ \$(\"$REC\" -c \"$dir/records.ini\" list | wc -l) -eq 4 ]" ||
	{ echo "run-local: the archive does not hold 4 records"; exit 1; }
"$REC" -c "$dir/records.ini" verify || exit 1
"$SECMX" txn list --db "$dir/queue.db"
echo "run-local: demo passed"
