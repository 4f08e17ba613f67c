#!/bin/sh
# keygen.sh — `secmx bus keygen`: two files, the secret one mode 0600 and
# never overwritten, the public key printed and equal to the .pub file, the
# secret key never printed.
set -eu
BIN="$SECMX_BIN"
dir=$(mktemp -d /tmp/secmx-keygen-XXXXXX)
trap 'rm -rf "$dir"' EXIT

"$BIN" bus keygen --out "$dir/finance" >"$dir/out"
pub=$(sed -n 's/^public key: //p' "$dir/out")
[ "${#pub}" -eq 40 ] || { echo "FAIL: no 40-character public key printed"; cat "$dir/out"; exit 1; }
[ "$(cat "$dir/finance.pub")" = "$pub" ] || { echo "FAIL: .pub differs from the printed key"; exit 1; }
mode=$(stat -c %a "$dir/finance.key")
[ "$mode" = "600" ] || { echo "FAIL: secret key mode $mode"; exit 1; }
[ "$(wc -c <"$dir/finance.key")" -eq 41 ] || { echo "FAIL: secret key file size"; exit 1; }
if grep -qF "$(cat "$dir/finance.key")" "$dir/out"; then echo "FAIL: secret key printed"; exit 1; fi
before=$(cat "$dir/finance.key")
rc=0
"$BIN" bus keygen --out "$dir/finance" >/dev/null 2>"$dir/err" || rc=$?
[ "$rc" -eq 2 ] || { echo "FAIL: overwriting a key pair should fail with 2, got $rc"; exit 1; }
[ "$(cat "$dir/finance.key")" = "$before" ] || { echo "FAIL: secret key overwritten"; exit 1; }
rc=0
"$BIN" bus frobnicate >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || { echo "FAIL: unknown subcommand should exit 2"; exit 1; }
echo "keygen: $pub; secret key 0600, not overwritten, not printed"
