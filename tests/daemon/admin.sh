#!/bin/sh
# admin.sh — what an operator meets around a running secmxd:
#   1. started under umask 022, secmxd still creates its queue database
#      without permissions for other users (it holds every document), and
#      the ipc:// socket is mode 0600;
#   2. bus.ipc_mode = 0660 makes the socket group-accessible (adapters as
#      other users in the daemon's group); a mode other than 0600 or 0660
#      is refused with file and line;
#   3. `secmx queue show|hold|release` take the message ids the logs print
#      (m<queue id>) as well as the bare number.
set -eu
. "$SECMX_SRC/tests/daemon/lib.sh"
SECMX="$SECMX_BUILD/cli/secmx"

dir=$(mktemp -d /tmp/secmxd-admin-XXXXXX)
dpid=""
cleanup() {
	for p in $dpid $(jobs -p); do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM
mkdir "$dir/drop"
mkorg "$dir"
daemon_up() {
	"$SECMXD" -c "$1" 2>"$2" &
	dpid=$!
	wait_for 10 log_has "$2" "daemon.started" || fail "daemon did not start: $(cat "$2")"
}
daemon_down() {
	kill -TERM "$dpid"
	wait "$dpid" || fail "secmxd did not stop cleanly"
	dpid=""
}
# mode FILE: its permission bits in octal.
mode() { stat -c %a "$1"; }

# ---- 1. private files whatever the umask -----------------------------------
mkconf "$dir" "$dir/a.conf" "records:*"
umask 022
daemon_up "$dir/a.conf" "$dir/d1.log"
cp "$SECMX_SRC/tests/data/invoice-nz.xml" "$dir/drop/.i.tmp"
mv "$dir/drop/.i.tmp" "$dir/drop/invoice.xml"
wait_for 10 log_has "$dir/d1.log" "intake.file file=invoice.xml .*result=stored" ||
	fail "the invoice was not stored: $(tail -3 "$dir/d1.log")"
for f in "$dir/q.db" "$dir/q.db-wal"; do
	[ -e "$f" ] || fail "$f was not created"
	m=$(mode "$f")
	case $m in
	*0) ;;
	*) fail "$f is mode $m under umask 022: other users can read the queue" ;;
	esac
done
[ "$(mode "$dir/bus.sock")" = 600 ] || fail "bus.sock is mode $(mode "$dir/bus.sock"), not 600"
echo "ok: queue files $(mode "$dir/q.db"), socket 600 under umask 022"

# ---- 3. the log's message ids work in secmx queue ------------------------
id=$(sed -n 's/.* \(m[0-9][0-9]*\) intake.file file=invoice.xml .*/\1/p' "$dir/d1.log" | head -1)
[ -n "$id" ] || fail "no message id in the log"
"$SECMX" queue --db "$dir/q.db" show "$id" >"$dir/show.out" 2>"$dir/show.err" ||
	fail "queue show $id: $(cat "$dir/show.err")"
num=${id#m}
grep -q "^id  *$num\$" "$dir/show.out" || fail "queue show $id did not show entry $num: $(head -3 "$dir/show.out")"
"$SECMX" queue --db "$dir/q.db" show "$num" >/dev/null || fail "queue show $num"
if "$SECMX" queue --db "$dir/q.db" show "x$num" 2>"$dir/bad.err"; then
	fail "queue show x$num was accepted"
fi
grep -q "x$num" "$dir/bad.err" || fail "the refusal does not name the bad id: $(cat "$dir/bad.err")"
if "$SECMX" queue --db "$dir/q.db" list --limit -1 2>"$dir/lim.err" >/dev/null; then
	fail "queue list --limit -1 was accepted"
fi
echo "ok: queue show $id = show $num; x$num and --limit -1 refused"
daemon_down

# ---- 2. bus.ipc_mode --------------------------------------------------------
mkconf "$dir" "$dir/b.conf" "records:*" "[bus]
ipc_mode = 0660"
daemon_up "$dir/b.conf" "$dir/d2.log"
[ "$(mode "$dir/bus.sock")" = 660 ] || fail "bus.ipc_mode 0660: socket is mode $(mode "$dir/bus.sock")"
daemon_down
mkconf "$dir" "$dir/c.conf" "records:*" "[bus]
ipc_mode = 0666"
if "$SECMXD" -c "$dir/c.conf" --check-config >/dev/null 2>"$dir/c.err"; then
	fail "bus.ipc_mode 0666 was accepted"
fi
grep -q "c.conf:[0-9]*: bus.ipc_mode" "$dir/c.err" || fail "no file:line: $(cat "$dir/c.err")"
echo "ok: bus.ipc_mode 0660 gives a 660 socket; 0666 refused with file and line"
echo "PASS"
