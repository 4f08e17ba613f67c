# lib.sh — helpers for the secmxd shell tests (sourced; POSIX sh).
# Needs SECMX_BUILD, SECMX_SRC, SECMX_CORPUS from ctest (secmx_shell_test).

SECMXD="$SECMX_BUILD/cli/secmxd"
TADAPTER="$SECMX_BUILD/tests/test_adapter"
PY=/usr/bin/python3
GEN="$SECMX_SRC/tests/daemon/gen.py"

fail() {
	echo "FAIL: $*"
	exit 1
}

# mkorg DIR: a throwaway organisation key (EC P-256, mode 0600) and certificate.
mkorg() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$1/org.key" -out "$1/org.crt" -days 2 \
		-subj "/O=secmx test/CN=secmxd attestation" 2>/dev/null || fail "openssl req"
	chmod 600 "$1/org.key"
}

# test_dir NAME: a new directory /tmp/secmxd-NAME-XXXXXX in $dir, with
# drop/ and a throwaway organisation key (mkorg); $dpid (secmxd's pid, "")
# and every background job are killed and waited for at exit, and $dir is
# removed unless KEEP is set.
test_dir() {
	dir=$(mktemp -d "/tmp/secmxd-$1-XXXXXX")
	dpid=""
	trap test_cleanup EXIT INT TERM
	mkdir "$dir/drop"
	mkorg "$dir"
}

# test_cleanup: test_dir's exit trap.
test_cleanup() {
	for p in $dpid $(jobs -p); do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	[ -n "${KEEP:-}" ] || rm -rf "$dir"
}

# daemon_up CONF LOG: start secmxd on CONF (standard error to LOG, pid in
# $dpid) and wait for its daemon.started line.
daemon_up() {
	"$SECMXD" -c "$1" 2>"$2" &
	dpid=$!
	wait_for 10 log_has "$2" "daemon.started" || fail "daemon did not start: $(cat "$2")"
}

# daemon_down: SIGTERM to secmxd ($dpid); it must drain and exit 0.
daemon_down() {
	kill -TERM "$dpid"
	wait "$dpid" || fail "secmxd did not stop cleanly"
	dpid=""
}

# mkconf DIR FILE ROUTES [EXTRA]: a daemon configuration (mode 0600).
mkconf() {
	cat >"$2" <<CONF
; secmxd test configuration
[engine]
sign_key = $1/org.key
sign_cert = $1/org.crt

[queue]
db = $1/q.db
retry_base = 200ms
retry_max = 2s

[intake]
drop_dir = $1/drop
poll_interval = 20ms

[bus]
endpoint = ipc://$1/bus.sock
heartbeat = 500ms
ack_timeout = 5s
drain_timeout = 3s

[workers]
count = 2

[routing]
routes = $3
${4:-}
CONF
	chmod 600 "$2"
}

# wait_for SECONDS COMMAND...: poll COMMAND every 0.1 s until it succeeds.
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

# lines FILE: number of lines (0 when missing).
lines() {
	if [ -f "$1" ]; then wc -l <"$1" | tr -d ' '; else echo 0; fi
}

# log_has FILE PATTERN: grep -q wrapper for wait_for.
log_has() {
	grep -q "$2" "$1"
}
