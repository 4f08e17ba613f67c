#!/bin/sh
# bagit_checker.sh — the Python BagIt checker (bagit_check.py) can fail: it
# accepts a bag made by hand with sha256sum (no secmx code involved) and
# rejects each kind of damage: a changed payload byte, an unlisted payload
# file, a listed file missing, a wrong Payload-Oxum, mixed line endings, a
# bad bagit.txt, a path escaping the bag, a stale tag manifest.
set -eu
PY=/usr/bin/python3
CHECK="$SECMX_SRC/tests/records/bagit_check.py"
dir=$(mktemp -d /tmp/secmx-bagcheck-XXXXXX)
trap 'rm -rf "$dir"' EXIT INT TERM

mkbag() {
	rm -rf "$dir/bag"
	mkdir -p "$dir/bag/data/a"
	printf 'hello\n' >"$dir/bag/data/a/one.txt"
	printf '<x/>' >"$dir/bag/data/two.xml"
	printf 'BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n' >"$dir/bag/bagit.txt"
	(cd "$dir/bag" && sha256sum data/a/one.txt data/two.xml >manifest-sha256.txt)
	printf 'Source-Organization: Hand Made\nBagging-Date: 2026-11-29\nPayload-Oxum: 10.2\nBag-Count: 1 of 1\nExternal-Description: a long\n  continued value\n' >"$dir/bag/bag-info.txt"
	retag
}
retag() {
	(cd "$dir/bag" && sha256sum bagit.txt bag-info.txt manifest-sha256.txt >tagmanifest-sha256.txt)
}
expect_valid() {
	if ! "$PY" "$CHECK" "$dir/bag" >"$dir/out"; then
		echo "FAIL: $1: valid bag refused"; cat "$dir/out"; exit 1
	fi
}
expect_invalid() {
	if "$PY" "$CHECK" "$dir/bag" >"$dir/out"; then
		echo "FAIL: $1: damaged bag accepted"; exit 1
	fi
	if ! grep -q "$2" "$dir/out"; then
		echo "FAIL: $1: expected \"$2\" in:"; cat "$dir/out"; exit 1
	fi
	echo "ok: $1 -> $(head -1 "$dir/out")"
}

mkbag; expect_valid "hand-made bag"
mkbag; printf 'hellO\n' >"$dir/bag/data/a/one.txt"; expect_invalid "payload byte" "checksum mismatch"
mkbag; printf 'x' >"$dir/bag/data/extra"; expect_invalid "unlisted file" "not listed"
mkbag; rm "$dir/bag/data/two.xml"; expect_invalid "missing file" "listed but missing"
mkbag; sed -i 's/Payload-Oxum: 10.2/Payload-Oxum: 11.2/' "$dir/bag/bag-info.txt"; retag
expect_invalid "Payload-Oxum" "Payload-Oxum 11.2 but payload is 10.2"
mkbag; printf 'BagIt-Version: 1.0\r\nTag-File-Character-Encoding: UTF-8\n' >"$dir/bag/bagit.txt"; retag
expect_invalid "mixed line endings" "mixed line endings"
mkbag; printf 'BagIt-Version: 1.0\n' >"$dir/bag/bagit.txt"; retag
expect_invalid "bagit.txt" "bagit.txt: want exactly"
mkbag; printf '%s  data/../../etc/passwd\n' "$(printf x | sha256sum | cut -c1-64)" >>"$dir/bag/manifest-sha256.txt"; retag
expect_invalid "path traversal" "escapes the bag"
mkbag; printf 'Contact-Name: someone\n' >>"$dir/bag/bag-info.txt"; expect_invalid "stale tagmanifest" "bag-info.txt checksum mismatch"
mkbag; rm "$dir/bag/tagmanifest-sha256.txt"; rm "$dir/bag/manifest-sha256.txt"; expect_invalid "no manifest" "no payload manifest"
echo "PASS: BagIt checker accepts a good bag and rejects 9 kinds of damage"
