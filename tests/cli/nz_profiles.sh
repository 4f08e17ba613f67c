#!/bin/sh
# nz_profiles.sh — secmx's NZ remittance and receipt profiles end to end: the
# example documents are valid UBL 2.1 for xmllint (the official OASIS XSDs)
# and for `secmx validate` (e-GIF XSDs + the profile's rules, no finding at
# all); a broken total or GST number makes them invalid with the rule's id;
# `--list-rules` lists every rule of both profiles as implemented.
set -u
: "${SECMX_BIN:?}" "${SECMX_CORPUS:?}" "${SECMX_SRC:?}"
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }
xsd="$SECMX_CORPUS/ubl21-xsd/xsdrt/maindoc"
rem="$SECMX_SRC/tests/data/remittance-nz.xml"
rec="$SECMX_SRC/tests/data/receipt-nz.xml"

xmllint --noout --schema "$xsd/UBL-RemittanceAdvice-2.1.xsd" "$rem" 2>"$tmp/x" && ok "remittance-nz.xml: OASIS XSD" || { bad "remittance-nz.xml: OASIS XSD"; cat "$tmp/x"; }
xmllint --noout --schema "$xsd/UBL-ReceiptAdvice-2.1.xsd" "$rec" 2>"$tmp/x" && ok "receipt-nz.xml: OASIS XSD" || { bad "receipt-nz.xml: OASIS XSD"; cat "$tmp/x"; }

"$SECMX_BIN" validate --json "$rem" "$rec" >"$tmp/out"; rc=$?
[ "$rc" -eq 0 ] && ok "secmx validate: both valid" || bad "secmx validate exit $rc"
python3 - "$tmp/out" <<'PY' || fail=1
import json, sys
want = {"remittance-nz.xml": ("RemittanceAdvice", "secmx-nz-remittance"),
        "receipt-nz.xml": ("ReceiptAdvice", "secmx-nz-receipt")}
for line in open(sys.argv[1]):
    o = json.loads(line)
    t, p = want[o["file"].rsplit("/", 1)[-1]]
    assert (o["type"], o["profile"], o["valid"], o["findings"]) == (t, p, True, []), o
print("ok: types, profiles, no finding")
PY

# A wrong total and a wrong GST check digit: invalid, with the rules' ids.
sed 's#815.35</cbc:TotalPaymentAmount>#815.30</cbc:TotalPaymentAmount>#; s#136410132#136410133#' "$rem" >"$tmp/bad.xml"
"$SECMX_BIN" validate --json "$tmp/bad.xml" >"$tmp/out"; rc=$?
[ "$rc" -eq 1 ] && ok "broken remittance: exit 1" || bad "broken remittance: exit $rc"
for id in SECMX-NZR-017 SECMX-NZR-023; do
	grep -q "\"rule\":\"$id\",\"severity\":\"fatal\"" "$tmp/out" && ok "broken remittance: $id" || bad "broken remittance: no fatal $id"
done

for p in secmx-nz-remittance secmx-nz-receipt; do
	"$SECMX_BIN" validate --list-rules "$p" >"$tmp/list" || bad "--list-rules $p"
	grep -q "NOT-IMPLEMENTED\|SECMX-RULES-MISSING" "$tmp/list" && bad "$p: a rule is missing or not implemented"
	n=$(grep -c "^SECMX-NZR-" "$tmp/list")
	[ "$n" -ge 14 ] && ok "$p: $n SECMX-NZR rules listed" || bad "$p: only $n SECMX-NZR rules"
done
exit $fail
