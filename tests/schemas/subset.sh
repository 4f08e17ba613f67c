#!/bin/sh
# subset.sh — the e-GIF profile is a strict subset of UBL 2.1, tested by
# seeded mutation with the real xmllint as the judge.
#
#  1. Every restriction id in schemas/egif/common/EGIF-ProfileTypes-1.0.xsd is
#     explained in docs/schemas.md, and schemas/egif is exactly what
#     scripts/gen-egif-profile makes from the official schemas.
#  2. Every example in the corpus (ubl-examples/, all of it) validates under
#     the profile and under the official UBL 2.1 maindoc schema.
#  3. tests/schemas/mutate.py makes a few hundred mutants of those examples
#     (fixed seed); each is validated with `xmllint --noout --schema` against
#     the profile and against the official schema of its root. A mutant valid
#     under the profile but invalid under UBL 2.1 fails the test. The counts
#     show how many mutants the profile refused that UBL accepted.
#
# Environment (set by secmx_shell_test): SECMX_SRC, SECMX_CORPUS.
# SUBSET_SEED and SUBSET_PER_DOC override the seed (20261129) and the number
# of mutants per document (30). Needs python3 and xmllint (scripts/setup).
set -eu
LC_ALL=C
export LC_ALL

SRC=${SECMX_SRC:?SECMX_SRC not set}
CORPUS=${SECMX_CORPUS:?SECMX_CORPUS not set}
PROFILE=$SRC/schemas/egif
OFFICIAL=$CORPUS/ubl21-xsd/xsdrt
SEED=${SUBSET_SEED:-20261129}
PER_DOC=${SUBSET_PER_DOC:-30}

for tool in python3 xmllint; do
	command -v $tool >/dev/null 2>&1 || { echo "subset.sh: $tool is required (scripts/setup)"; exit 1; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/secmx-subset.XXXXXX")
trap 'rm -rf "$WORK"' EXIT INT TERM
fail=0

# ---- 1. restrictions documented ----
ids=$(grep -o 'EGIF-[0-9][0-9]' "$PROFILE/common/EGIF-ProfileTypes-1.0.xsd" | sort -u)
[ -n "$ids" ] || { echo "FAIL: no EGIF ids in the profile types"; exit 1; }
for id in $ids; do
	if ! grep -q "$id" "$SRC/docs/schemas.md"; then
		echo "FAIL: $id is not explained in docs/schemas.md"
		fail=1
	fi
done
echo "restrictions documented: $(echo $ids | wc -w)"

# ---- 1b. the committed profile is what the generator makes ----
python3 "$SRC/scripts/gen-egif-profile" --ubl "$OFFICIAL" --out "$WORK/gen" >/dev/null
if ! diff -r "$WORK/gen" "$PROFILE" >"$WORK/gen.diff"; then
	echo "FAIL: schemas/egif differs from scripts/gen-egif-profile's output (regenerate):"
	sed -n 1,20p "$WORK/gen.diff"
	fail=1
else
	echo "schemas/egif matches scripts/gen-egif-profile output"
fi

# ---- 2. the corpus under both schema sets ----
find "$CORPUS/ubl-examples" -name '*.xml' | sort >"$WORK/examples"
n_ex=$(wc -l <"$WORK/examples")
[ "$n_ex" -ge 14 ] || { echo "FAIL: only $n_ex corpus examples found"; exit 1; }
while read -r f; do
	python3 -c 'import sys, xml.etree.ElementTree as E
print(E.parse(sys.argv[1]).getroot().tag.split("}")[1])' "$f" >"$WORK/root"
	root=$(cat "$WORK/root")
	for set in "$PROFILE" "$OFFICIAL"; do
		if ! xmllint --noout --schema "$set/maindoc/UBL-$root-2.1.xsd" "$f" >"$WORK/out" 2>&1; then
			echo "FAIL: $f does not validate under $set"
			sed -n 1,5p "$WORK/out"
			fail=1
		fi
	done
done <"$WORK/examples"
echo "corpus examples valid under the profile and UBL 2.1: $n_ex"

# ---- 3. mutants ----
# shellcheck disable=SC2046
python3 "$SRC/tests/schemas/mutate.py" --seed "$SEED" --per-doc "$PER_DOC" \
	--profile "$PROFILE" --out "$WORK/m" $(cat "$WORK/examples")

# verdicts SET: "path<TAB>ok|bad" for every mutant, one xmllint per root type
# (the schema is compiled once per run, the mutants validated in one go).
verdicts() {
	cut -f2 "$WORK/m/manifest.tsv" | sort -u | while read -r root; do
		awk -F'\t' -v r="$root" '$2 == r { print $1 }' "$WORK/m/manifest.tsv" >"$WORK/list"
		# shellcheck disable=SC2046
		xmllint --noout --schema "$1/maindoc/UBL-$root-2.1.xsd" $(cat "$WORK/list") 2>&1 |
			sed -n -e 's/^\(.*\) validates$/\1	ok/p' -e 's/^\(.*\) fails to validate$/\1	bad/p'
	done | sort
}
verdicts "$PROFILE" >"$WORK/profile.tsv"
verdicts "$OFFICIAL" >"$WORK/official.tsv"

total=$(wc -l <"$WORK/m/manifest.tsv")
for v in profile official; do
	got=$(wc -l <"$WORK/$v.tsv")
	if [ "$got" -ne "$total" ]; then
		echo "FAIL: xmllint gave a verdict on $got of $total mutants under $v"
		exit 1
	fi
done
join -t '	' "$WORK/profile.tsv" "$WORK/official.tsv" >"$WORK/both.tsv"
both_ok=$(awk -F'\t' '$2 == "ok" && $3 == "ok"' "$WORK/both.tsv" | wc -l)
both_bad=$(awk -F'\t' '$2 == "bad" && $3 == "bad"' "$WORK/both.tsv" | wc -l)
tighter=$(awk -F'\t' '$2 == "bad" && $3 == "ok"' "$WORK/both.tsv" | wc -l)
awk -F'\t' '$2 == "ok" && $3 == "bad" { print $1 }' "$WORK/both.tsv" >"$WORK/violations"
violations=$(wc -l <"$WORK/violations")

echo "mutants: $total (seed $SEED, $PER_DOC per document)"
echo "  valid under both:                      $both_ok"
echo "  refused by both:                       $both_bad"
echo "  refused by the profile, UBL 2.1 valid: $tighter"
echo "  valid under the profile, UBL invalid:  $violations (must be 0)"
echo "profile-only refusals by operator:"
awk -F'\t' '$2 == "bad" && $3 == "ok" { print $1 }' "$WORK/both.tsv" >"$WORK/tight"
grep -F -f "$WORK/tight" "$WORK/m/manifest.tsv" | cut -f3 | sort | uniq -c | sed 's/^/  /'

if [ "$violations" -ne 0 ]; then
	echo "FAIL: the profile accepted documents UBL 2.1 refuses:"
	grep -F -f "$WORK/violations" "$WORK/m/manifest.tsv" | cut -f1,3,4
	fail=1
fi
# The run must exercise both sides, or it proves nothing.
if [ "$total" -lt 200 ] || [ "$both_ok" -eq 0 ] || [ "$both_bad" -eq 0 ] || [ "$tighter" -eq 0 ]; then
	echo "FAIL: the mutants do not exercise the property (see the counts above)"
	fail=1
fi
[ "$fail" -eq 0 ] && echo "PASS: the e-GIF profile is a subset of UBL 2.1 on every mutant"
exit "$fail"
