#!/bin/sh
# intake.sh — the drop directory is watched (inotify), not only polled:
#   1. with intake.poll_interval at its maximum (1 minute), a file renamed
#      into the drop directory is taken and stored within seconds, and a
#      file still being written (NAME.tmp) is left alone;
#   2. the poll remains the fallback: with a watch that cannot see a file
#      written in place (IN_MOVED_TO only), a copied-in file is taken by
#      the next poll (poll_interval 1 s here).
#   3. only regular files are documents: a symbolic link to the daemon's
#      own signing key and a FIFO put into the drop directory are moved to
#      .failed as they are (the link not followed, the FIFO not opened),
#      each with an intake.not-regular line; a subdirectory is left alone;
#      a regular file dropped after them is still taken; no stored message
#      holds the key.
set -eu
. "$SECMX_SRC/tests/daemon/lib.sh"

test_dir intake
nz="$SECMX_SRC/tests/data/invoice-nz.xml"

# ---- 1. a rename is taken at once, whatever the poll interval ---------------
mkconf "$dir" "$dir/slow.conf" "records:*" "[log]
level = info"
sed -i 's/^poll_interval = .*/poll_interval = 1m/' "$dir/slow.conf"
grep -q '^poll_interval = 1m$' "$dir/slow.conf" || fail "config not rewritten"
daemon_up "$dir/slow.conf" "$dir/d1.log"
sleep 0.5 # the start-up scan is over; the next poll is a minute away
cp "$nz" "$dir/drop/a.xml.tmp"
mv "$dir/drop/a.xml.tmp" "$dir/drop/a.xml"
wait_for 5 log_has "$dir/d1.log" "intake.file file=a.xml .*result=stored" ||
	fail "a renamed file was not taken within 5 s: $(tail -3 "$dir/d1.log")"
cp "$nz" "$dir/drop/b.xml.tmp"
sleep 1
[ -f "$dir/drop/b.xml.tmp" ] || fail "a .tmp file was taken"
mv "$dir/drop/b.xml.tmp" "$dir/drop/b.xml"
wait_for 5 log_has "$dir/d1.log" "intake.file file=b.xml .*result=stored" ||
	fail "the second renamed file was not taken: $(tail -3 "$dir/d1.log")"
daemon_down
grep -q "intake.no-inotify" "$dir/d1.log" && fail "inotify was not available"
echo "ok: renamed files are taken at once with a one-minute poll; .tmp files are left"

# ---- 2. the poll still takes what inotify does not report --------------------
mkconf "$dir" "$dir/poll.conf" "records:*" "[log]
level = info"
sed -i 's/^poll_interval = .*/poll_interval = 1s/' "$dir/poll.conf"
daemon_up "$dir/poll.conf" "$dir/d2.log"
sed 's/INV-2026-00417/INV-INPLACE-1/' "$nz" >"$dir/drop/c.xml" # written in place: no IN_MOVED_TO
wait_for 5 log_has "$dir/d2.log" "intake.file file=c.xml .*result=stored" ||
	fail "the poll did not take a file written in place: $(tail -3 "$dir/d2.log")"
daemon_down
echo "ok: the poll takes a file written in place"

# ---- 3. links, FIFOs and subdirectories are not documents --------------------
daemon_up "$dir/poll.conf" "$dir/d3.log"
ln -s "$dir/org.key" "$dir/drop/key.xml"
mkfifo "$dir/drop/pipe.xml"
mkdir "$dir/drop/sub"
wait_for 5 log_has "$dir/d3.log" 'intake.not-regular file=key.xml error="symbolic link" moved_to=.failed' ||
	fail "a symbolic link was not set aside: $(tail -3 "$dir/d3.log")"
wait_for 5 log_has "$dir/d3.log" 'intake.not-regular file=pipe.xml error=FIFO moved_to=.failed' ||
	fail "a FIFO was not set aside: $(tail -3 "$dir/d3.log")"
[ -L "$dir/drop/.failed/key.xml" ] || fail "the link is not in .failed as a link"
[ -p "$dir/drop/.failed/pipe.xml" ] || fail "the FIFO is not in .failed as a FIFO"
[ -d "$dir/drop/sub" ] || fail "a subdirectory was moved"
sed 's/INV-2026-00417/INV-AFTER-FIFO/' "$nz" >"$dir/drop/d.xml.tmp"
mv "$dir/drop/d.xml.tmp" "$dir/drop/d.xml"
wait_for 5 log_has "$dir/d3.log" "intake.file file=d.xml .*result=stored" ||
	fail "the intake stopped after the FIFO: $(tail -3 "$dir/d3.log")"
daemon_down
/usr/bin/python3 - "$dir/q.db" <<'PY' || fail "the signing key was stored as a message"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
n = db.execute("SELECT COUNT(*) FROM msg_body WHERE instr(body, CAST('PRIVATE KEY' AS BLOB)) > 0"
               " OR instr(body, CAST('UFJJVkFURSBLRVk' AS BLOB)) > 0").fetchone()[0]
total = db.execute("SELECT COUNT(*) FROM msg WHERE source = 'dropdir'").fetchone()[0]
print("stored from the drop directory: %d messages, %d holding the key" % (total, n))
sys.exit(1 if n or total != 4 else 0)
PY
echo "ok: a link and a FIFO are set aside, a subdirectory is left, the intake goes on"
