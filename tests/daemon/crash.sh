#!/bin/sh
# crash.sh — the crash test (tests/daemon/crash.py says what it checks):
# CRASH_DOCS documents, CRASH_KILLS SIGKILLs of secmxd and the adapters,
# seed CRASH_SEED. CI runs the defaults, 2000 documents and 50 kills.
set -eu
exec /usr/bin/python3 "$SECMX_SRC/tests/daemon/crash.py" --docs "${CRASH_DOCS:-2000}" \
	--kills "${CRASH_KILLS:-50}" --seed "${CRASH_SEED:-4}" --timeout "${CRASH_TIMEOUT:-400}"
