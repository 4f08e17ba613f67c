#!/bin/sh
# run_local.sh — examples/run-local.sh --demo works as documented: the example
# configurations (examples/*.ini) start secmxd, secmx-finance and
# secmx-records, and the payment loop goes through (order → receipt →
# invoice matched → pay → paid, archive verified).
set -eu
: "${SECMX_BUILD:?}" "${SECMX_SRC:?}"
exec sh "$SECMX_SRC/examples/run-local.sh" --build "$SECMX_BUILD" --demo
