#!/bin/sh
# cli.sh — secmx-finance as a clerk meets it, without a bus:
#   1. started under umask 022, it creates the SQLite ledger and a CSV export
#      without permissions for other users;
#   2. --since must be a date YYYY-MM-DD, for list and export: "20/11/2026"
#      was compared as text and silently selected the wrong documents;
#   3. export into a directory that does not exist (export_dir, or the -o
#      path's) fails naming that directory, not the temporary file; a good
#      export is renamed into place and its directory fsynced after the
#      rename (strace, when installed);
#   4. a partial CURVE key set, or tcp:// without one, is refused with the
#      file and the line, by every command.
set -eu
: "${SECMX_BUILD:?}" "${SECMX_SRC:?}"
FIN="$SECMX_BUILD/adapters/finance/secmx-finance"

dir=$(mktemp -d /tmp/secmx-fincli-XXXXXX)
. "$SECMX_SRC/tests/finance/lib.sh"
fin_trap
cat >"$dir/finance.ini" <<CONF
[finance]
endpoint = ipc://$dir/bus.sock
sqlite_path = $dir/ledger.db
export_dir = $dir
CONF

# ---- 1. private files whatever the umask -----------------------------------
umask 022
"$FIN" list -c "$dir/finance.ini" >/dev/null || fail "list on a new ledger"
[ -e "$dir/ledger.db" ] || fail "the ledger was not created"
"$FIN" export -c "$dir/finance.ini" -o out.csv 2>/dev/null || fail "export"
for f in "$dir/ledger.db" "$dir/out.csv"; do
	m=$(stat -c %a "$f")
	case $m in
	*0) ;;
	*) fail "$f is mode $m under umask 022: other users can read it" ;;
	esac
done
echo "ok: ledger $(stat -c %a "$dir/ledger.db"), export $(stat -c %a "$dir/out.csv") under umask 022"

# ---- 2. --since is a date ---------------------------------------------------
for cmd in "list" "export -o x.csv"; do
	set +e
	# shellcheck disable=SC2086
	"$FIN" $cmd -c "$dir/finance.ini" --since 20/11/2026 >/dev/null 2>"$dir/err"
	rc=$?
	set -e
	[ "$rc" = 2 ] || fail "$cmd --since 20/11/2026: exit $rc, not 2"
	grep -q '"20/11/2026" is not a date YYYY-MM-DD' "$dir/err" ||
		fail "$cmd: the refusal does not say why: $(cat "$dir/err")"
done
"$FIN" list -c "$dir/finance.ini" --since 2026-11-20 >/dev/null || fail "list --since 2026-11-20"
echo "ok: --since 20/11/2026 refused with the reason (list, export)"

# ---- 3. export: the directory named; fsynced after the rename -----------------
sed "s|^export_dir = .*|export_dir = $dir/no-such-dir|" "$dir/finance.ini" >"$dir/nodir.ini"
for args in "-c $dir/nodir.ini -o out.csv" "-c $dir/finance.ini -o $dir/gone/out.csv"; do
	set +e
	# shellcheck disable=SC2086
	"$FIN" export $args >/dev/null 2>"$dir/err"
	rc=$?
	set -e
	[ "$rc" = 1 ] || fail "export $args: exit $rc, not 1"
	case $args in
	*nodir.ini*) want="the directory $dir/no-such-dir does not exist (finance.export_dir)" ;;
	*) want="the directory $dir/gone does not exist (the -o path)" ;;
	esac
	grep -qF "secmx-finance: export: $want" "$dir/err" ||
		fail "export $args: the error does not name the directory: $(cat "$dir/err")"
	if grep -q '\.tmp\.' "$dir/err"; then fail "export $args: names its temp file: $(cat "$dir/err")"; fi
done
echo "ok: export into a missing directory names it (export_dir, -o)"
if command -v strace >/dev/null 2>&1 && strace -o /dev/null true 2>/dev/null; then
	# LeakSanitizer cannot run under ptrace: off for the traced run only
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		strace -f -e trace=openat,rename,fsync -o "$dir/strace" \
		"$FIN" export -c "$dir/finance.ini" -o synced.csv 2>"$dir/err" ||
		fail "export synced.csv: $(cat "$dir/err")"
	python3 - "$dir" "$dir/strace" <<'PY' || fail "the export's directory is not fsynced after the rename"
import re, sys
d, lines = sys.argv[1], open(sys.argv[2]).read().splitlines()
ren = [i for i, l in enumerate(lines) if re.search(r'rename\(".*\.tmp\.\d+", "%s/synced\.csv"\) = 0' % re.escape(d), l)]
assert ren, "no rename into place"
fds = {}
for i, l in enumerate(lines):
    m = re.search(r'openat\(AT_FDCWD, "%s", O_RDONLY[^)]*O_DIRECTORY[^)]*\) = (\d+)' % re.escape(d), l)
    if m and i > ren[0]:
        fds[m.group(1)] = i
synced = [i for i, l in enumerate(lines) for fd in fds
          if re.search(r'fsync\(%s\) += 0' % fd, l) and i > fds[fd]]
assert synced, "no fsync of %s after the rename" % d
PY
	echo "ok: the export is renamed into place and its directory fsynced after"
else
	echo "skip: no usable strace: the directory fsync is not checked"
fi

# ---- 4. CURVE keys: all three or none, and tcp:// needs them ---------------
echo "0123456789012345678901234567890123456789" >"$dir/s.pub"
printf '[finance]\nendpoint = ipc://%s/bus.sock\nsqlite_path = %s/ledger.db\nserver_key = %s/s.pub\n' \
	"$dir" "$dir" "$dir" >"$dir/partial.ini"
printf '[finance]\nendpoint = tcp://127.0.0.1:5999\nsqlite_path = %s/ledger.db\n' "$dir" >"$dir/tcp.ini"
for c in "partial.ini:4: finance.server_key: CURVE needs all three of finance.server_key, finance.public_key and finance.secret_key" \
	"tcp.ini:2: finance.endpoint: tcp:// needs CURVE: finance.server_key, finance.public_key and finance.secret_key"; do
	f=${c%%:*}
	set +e
	"$FIN" list -c "$dir/$f" >/dev/null 2>"$dir/err"
	rc=$?
	set -e
	[ "$rc" = 2 ] || fail "$f: exit $rc, not 2"
	grep -qF "$dir/$c" "$dir/err" || fail "$f: wanted \"$dir/$c\", got: $(cat "$dir/err")"
done
echo "ok: a partial CURVE key set and tcp:// without keys refused at the key's line"
echo "PASS"
