#!/bin/sh
# codelists.sh: runs scripts/check-codelists over schemas/codelists (format,
# order, uniqueness, headers, README counts), then checks that the checker
# rejects broken files, so the test can fail for a real reason.
set -eu
src=${SECMX_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
check="$src/scripts/check-codelists"

python3 "$check" "$src/schemas/codelists"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
hdr='# T: test list\n# Source: test\n# Used by: test\n'
fails=0
# expect_reject NAME CONTENT: the checker must refuse a directory holding T.txt.
expect_reject() {
	rm -f "$tmp"/*.txt
	printf "$2" > "$tmp/T.txt"
	if python3 "$check" "$tmp" > /dev/null 2>&1; then
		echo "FAIL: checker accepted $1"
		fails=$((fails + 1))
	else
		echo "ok: checker rejects $1"
	fi
}
expect_reject "unsorted codes" "${hdr}B\nA\n"
expect_reject "duplicate codes" "${hdr}A\nA\n"
expect_reject "whitespace in a code" "${hdr}A B\n"
expect_reject "an empty line" "${hdr}A\n\nB\n"
expect_reject "no header" "A\nB\n"
expect_reject "a wrong name line" "# U: x\n# Source: s\n# Used by: u\nA\n"
expect_reject "no codes" "${hdr}"
expect_reject "a comment after codes" "${hdr}A\n# late\n"

rm -f "$tmp"/*.txt
printf "${hdr}A\nB\n" > "$tmp/T.txt"
if ! python3 "$check" "$tmp" > /dev/null 2>&1; then
	echo "FAIL: checker rejected a good file"
	fails=$((fails + 1))
else
	echo "ok: checker accepts a good file"
fi
printf '| `T.txt` | test | 3 |\n' > "$tmp/README.md"
if python3 "$check" "$tmp" > /dev/null 2>&1; then
	echo "FAIL: checker accepted a wrong README count"
	fails=$((fails + 1))
else
	echo "ok: checker rejects a wrong README count"
fi

[ "$fails" -eq 0 ] || { echo "$fails checker self-test(s) failed"; exit 1; }
echo "codelists: all checks passed"
