#!/bin/sh
# admin.sh — what an operator meets around a running secmxd:
#   1. started under umask 022, secmxd still creates its queue database
#      without permissions for other users (it holds every document), and
#      the ipc:// socket is mode 0600;
#   2. bus.ipc_mode = 0660 makes the socket group-accessible (adapters as
#      other users in the daemon's group); a mode other than 0600 or 0660
#      is refused with file and line;
#   3. `secmx queue show|hold|release` take the message ids the logs print
#      (m<queue id>) as well as the bare number; text output shows control
#      bytes of stored names as \xNN;
#   4. queue.delivery_max_attempts: an adapter (Python, pyzmq) that NACKs
#      every delivery transiently gets it twice with the limit 2, then the
#      delivery is dead with the reason, `secmx queue list --state dead`
#      lists its message, and `secmx queue retry` sends it again;
#   5. a second secmxd on the same queue refuses to start (exit 3, naming
#      the first one's pid) and leaves the first one's bus socket alone: it
#      used to start, take over the in-flight work, rebind the socket, and
#      on stopping remove it, leaving the first daemon unreachable;
#   6. queue.delivery_max_age: with no attempts limit, a delivery the
#      adapter keeps NACKing transiently, or never answers (ack timeout),
#      is sent again and again until it is 1.5 s old, then dead with a
#      reason that says the age limit was exceeded, and not sent again.
set -eu
. "$SECMX_SRC/tests/daemon/lib.sh"
SECMX="$SECMX_BUILD/cli/secmx"

test_dir admin
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
# A file named with an ESC sequence: `queue list` and `show` print it as
# \x1b, never the byte (it would drive the operator's terminal).
esc=$(printf 'e\033[31mred.xml')
cp "$SECMX_SRC/tests/data/invoice-nz.xml" "$dir/drop/.e.tmp"
mv "$dir/drop/.e.tmp" "$dir/drop/$esc"
wait_for 10 log_has "$dir/d1.log" 'intake.file file="e\\x1b\[31mred.xml"' ||
	fail "the ESC-named file was not stored: $(grep intake.file "$dir/d1.log" | tail -2)"
"$SECMX" queue --db "$dir/q.db" list >"$dir/list.out"
ebyte=$(printf '\033')
grep -q "$ebyte" "$dir/list.out" && fail "queue list printed an ESC byte"
grep -q 'e\\x1b\[31mred.xml@' "$dir/list.out" || fail "queue list: $(cat "$dir/list.out")"
eid=$(grep 'e\\x1b' "$dir/list.out" | cut -d' ' -f1)
"$SECMX" queue --db "$dir/q.db" show "$eid" >"$dir/eshow.out"
grep -q "$ebyte" "$dir/eshow.out" && fail "queue show printed an ESC byte"
echo "ok: queue show $id = show $num; x$num and --limit -1 refused; ESC shown as \\x1b"
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
# ---- 4. queue.delivery_max_attempts ---------------------------------------
rm -f "$dir"/q.db*
mkconf "$dir" "$dir/d.conf" "nacker:Invoice" "[queue]
delivery_max_attempts = 2"
sed -i 's/^retry_base = .*/retry_base = 10ms/; s/^retry_max = .*/retry_max = 20ms/' "$dir/d.conf"
cat >"$dir/nacker.py" <<'PY'
import json, sys, time, zmq
ctx = zmq.Context()
s = ctx.socket(zmq.DEALER)
s.setsockopt(zmq.LINGER, 0)
s.connect(sys.argv[1])
H = lambda t: bytes([0x53, 0x58, 1, t])
s.send_multipart([H(1), b'{"name":"nacker","patterns":["Invoice"],"credit":1}'])
end = time.time() + float(sys.argv[2])
beat = time.time()
while time.time() < end:
    if time.time() - beat > 0.2:  # a sign of life even when answering nothing
        s.send_multipart([H(8), b'{}'])
        beat = time.time()
    if s.poll(100):
        f = s.recv_multipart()
        if f[0][3] == 3:
            env = json.loads(f[1])
            print(env["delivery_id"], env["attempt"], flush=True)
            if len(sys.argv) > 3 and sys.argv[3] == "silent":
                continue
            s.send_multipart([H(5), json.dumps({"delivery_id": env["delivery_id"],
                "kind": "transient", "reason": "ledger locked"}).encode()])
PY
daemon_up "$dir/d.conf" "$dir/d4.log"
"$PY" "$dir/nacker.py" "ipc://$dir/bus.sock" 4 >"$dir/nacker.out" &
npid=$!
sleep 0.5
cp "$SECMX_SRC/tests/data/invoice-nz.xml" "$dir/drop/.n.tmp"
mv "$dir/drop/.n.tmp" "$dir/drop/n.xml"
wait_for 10 log_has "$dir/d4.log" "delivery.nacked .*result=dead" ||
	fail "the delivery did not die after 2 attempts: $(grep delivery.nacked "$dir/d4.log" | tail -3)"
wait "$npid" || fail "nacker"
[ "$(wc -l <"$dir/nacker.out")" -eq 2 ] || fail "sent $(wc -l <"$dir/nacker.out") times, not 2"
"$SECMX" queue --db "$dir/q.db" list --state dead --json >"$dir/dead.json"
dead=$("$PY" -c 'import json,sys; print(" ".join(str(m["id"]) for m in json.load(open(sys.argv[1]))))' "$dir/dead.json")
[ -n "$dead" ] || fail "queue list --state dead does not list the dead delivery's message"
"$SECMX" queue --db "$dir/q.db" show "$dead" | grep -q "last_error  *ledger locked" ||
	fail "queue show $dead does not give the reason"
"$PY" "$dir/nacker.py" "ipc://$dir/bus.sock" 3 >"$dir/nacker2.out" &
npid=$!
sleep 0.5
"$SECMX" queue --db "$dir/q.db" retry "$dead" >/dev/null || fail "queue retry $dead"
wait "$npid" || fail "nacker"
[ -s "$dir/nacker2.out" ] || fail "queue retry $dead did not send the delivery again"
daemon_down
echo "ok: delivery_max_attempts 2: sent twice, dead with the reason, listed as dead, retried"

# ---- 5. one daemon per queue ------------------------------------------------
daemon_up "$dir/a.conf" "$dir/d5.log"
ino=$(stat -c %i "$dir/bus.sock")
set +e
# (timeout: without the lock the second one runs until stopped)
timeout 10 "$SECMXD" -c "$dir/a.conf" 2>"$dir/second.log"
rc=$?
set -e
[ "$rc" = 3 ] || fail "a second secmxd on the same queue: exit $rc, not 3: $(cat "$dir/second.log")"
grep -q "daemon.failed .*another secmxd (pid $dpid) is running on $dir/q.db" "$dir/second.log" ||
	fail "the refusal does not name the running daemon: $(cat "$dir/second.log")"
[ -S "$dir/bus.sock" ] && [ "$(stat -c %i "$dir/bus.sock")" = "$ino" ] ||
	fail "the second secmxd replaced or removed the first one's bus socket"
daemon_down
echo "ok: a second secmxd on the same queue refused (exit 3, pid named); socket untouched"

# ---- 6. queue.delivery_max_age ----------------------------------------------
# age_case NAME MODE LOGPATTERN REASON: a fresh queue, an adapter in MODE
# (nack or silent), one invoice; the delivery dies of age with REASON.
age_case() {
	rm -f "$dir"/q.db*
	mkconf "$dir" "$dir/g.conf" "nacker:Invoice" "[queue]
delivery_max_attempts = 0
delivery_max_age = 1500ms"
	sed -i 's/^retry_base = .*/retry_base = 100ms/; s/^retry_max = .*/retry_max = 200ms/;
		s/^ack_timeout = .*/ack_timeout = 300ms/' "$dir/g.conf"
	daemon_up "$dir/g.conf" "$dir/g-$1.log"
	"$PY" "$dir/nacker.py" "ipc://$dir/bus.sock" 5 "$2" >"$dir/g-$1.out" &
	npid=$!
	sleep 0.5
	cp "$SECMX_SRC/tests/data/invoice-nz.xml" "$dir/drop/.g.tmp"
	mv "$dir/drop/.g.tmp" "$dir/drop/g.xml"
	wait_for 10 log_has "$dir/g-$1.log" "$3" ||
		fail "$1: the delivery did not die of age: $(grep 'delivery\.' "$dir/g-$1.log" | tail -3)"
	sent=$(wc -l <"$dir/g-$1.out")
	[ "$sent" -ge 3 ] || fail "$1: sent $sent times before it died, expected at least 3"
	sleep 1
	[ "$(wc -l <"$dir/g-$1.out")" -eq "$sent" ] || fail "$1: sent again after it died"
	"$SECMX" queue --db "$dir/q.db" list --state dead --json >"$dir/g-$1.json"
	gid=$("$PY" -c 'import json,sys; print(" ".join(str(m["id"]) for m in json.load(open(sys.argv[1]))))' "$dir/g-$1.json")
	[ -n "$gid" ] || fail "$1: queue list --state dead does not list it"
	"$SECMX" queue --db "$dir/q.db" show "$gid" >"$dir/g-$1.show"
	grep -q "last_error  *delivery age limit exceeded ([0-9]*ms old, limit 1500ms); last error: $4" \
		"$dir/g-$1.show" || fail "$1: queue show does not give the age reason: $(grep last_error "$dir/g-$1.show")"
	wait "$npid" || fail "nacker"
	daemon_down
	echo "ok: delivery_max_age 1500ms, $1: sent $sent times, then dead with the age reason"
}
age_case nack nack "delivery.nacked .*result=dead" "ledger locked"
age_case silent silent "delivery.timeout .*result=dead" "no ACK within 300 ms"
echo "PASS"
