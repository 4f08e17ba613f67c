#!/bin/sh
# cli.sh — secmx-finance as a clerk meets it, without a bus:
#   1. started under umask 022, it creates the SQLite ledger and a CSV export
#      without permissions for other users;
#   2. --since must be a date YYYY-MM-DD, for list and export: "20/11/2026"
#      was compared as text and silently selected the wrong documents;
#   3. a partial CURVE key set, or tcp:// without one, is refused with the
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

# ---- 3. CURVE keys: all three or none, and tcp:// needs them ---------------
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
