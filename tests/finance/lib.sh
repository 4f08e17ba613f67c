# lib.sh — shared by tests/finance/*.sh (sourced after `dir` is made): the
# clean-up trap, fail(), and a real PostgreSQL server for the ledger.
#
#   fin_trap          on exit: SIGKILL the adapter ($apid), stop the bus
#                     server ($spid), stop PostgreSQL (if pg_start ran),
#                     remove $dir
#   fail MESSAGE      print "FAIL: MESSAGE" and exit 1
#   pg_start          initdb and start a PostgreSQL server on a unix socket
#                     in $dir/pg (as the postgres user when run as root; no
#                     TCP listener, fsync off: a throwaway server), with a
#                     random password for user "finance". Sets PGBIN, pgdir,
#                     pw and conninfo, writes $dir/pg.pw (mode 0600) and
#                     appends the ledger keys to $dir/finance.ini. A server
#                     that cannot start FAILS the test.
spid=""
apid=""
pgdata=""
AS=""

fin_cleanup() {
	[ -n "$apid" ] && kill -9 "$apid" 2>/dev/null || true
	[ -n "$spid" ] && kill "$spid" 2>/dev/null || true
	if [ -n "$pgdata" ]; then
		$AS "$PGBIN/pg_ctl" -D "$pgdata" -m immediate -w stop >/dev/null 2>&1 || true
	fi
	rm -rf "$dir"
}

fin_trap() {
	trap fin_cleanup EXIT INT TERM
}

fail() {
	echo "FAIL: $*"
	exit 1
}

pg_start() {
	PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | tail -1)
	[ -x "$PGBIN/initdb" ] || fail "no PostgreSQL server binaries: run scripts/setup"
	pgdir="$dir/pg"
	mkdir "$pgdir"
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres: "$pgdir" || fail "no postgres user to run the server as"
		AS="runuser -u postgres --"
	fi
	pw=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
	printf '%s\n' "$pw" >"$pgdir/pw"
	[ -n "$AS" ] && chown postgres: "$pgdir/pw"
	$AS "$PGBIN/initdb" -D "$pgdir/data" -U finance --pwfile="$pgdir/pw" -A scram-sha-256 \
		-E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log"; fail "initdb"; }
	pgdata="$pgdir/data"
	$AS "$PGBIN/pg_ctl" -D "$pgdata" -l "$pgdir/server.log" -w -t 60 \
		-o "-k $pgdir -c listen_addresses= -p 5432 -c fsync=off" start >"$dir/pgctl.log" 2>&1 ||
		{ cat "$dir/pgctl.log" "$pgdir/server.log"; fail "PostgreSQL did not start"; }
	cp "$pgdir/pw" "$dir/pg.pw"
	chmod 600 "$dir/pg.pw"
	conninfo="host=$pgdir port=5432 dbname=postgres user=finance"
	cat >>"$dir/finance.ini" <<EOF
ledger = postgresql
pg_conninfo = $conninfo
pg_password_file = $dir/pg.pw
EOF
}
