#!/bin/sh
# validate.sh — `secmx validate` and `secmx inspect` as a user drives them:
# exit statuses, JSON lines, standard input, progress only on a terminal.
set -u
: "${SECMX_BIN:?}" "${SECMX_CORPUS:?}" "${SECMX_SRC:?}"
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }
expect_rc() { # expected-rc description command...
	want=$1; what=$2; shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"; got=$?
	if [ "$got" -eq "$want" ]; then ok "$what (exit $got)"; else
		bad "$what: exit $got, wanted $want"; sed 's/^/  | /' "$tmp/out" "$tmp/err" | head -20; fi
}

examples=$(ls "$SECMX_CORPUS"/ubl-examples/*/*.xml)
n=$(echo "$examples" | wc -l)

expect_rc 0 "help" "$SECMX_BIN" --help
expect_rc 2 "unknown command" "$SECMX_BIN" frobnicate
expect_rc 2 "validate without files" "$SECMX_BIN" validate
expect_rc 0 "validate --help" "$SECMX_BIN" validate --help

# shellcheck disable=SC2086
expect_rc 0 "every corpus example is valid" "$SECMX_BIN" validate $examples
[ -s "$tmp/err" ] && bad "progress or noise on a non-terminal stderr: $(head -c 200 "$tmp/err")"

# shellcheck disable=SC2086
expect_rc 0 "validate --json" "$SECMX_BIN" validate --json $examples
python3 - "$tmp/out" "$n" <<'PY' || fail=1
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == int(sys.argv[2]), f"{len(lines)} lines for {sys.argv[2]} files"
for l in lines:
    o = json.loads(l)
    assert set(o) >= {"file", "type", "profile", "valid", "findings"}, o.keys()
    assert o["valid"] is True and o["type"] and o["profile"], o
    for f in o["findings"]:
        assert f["severity"] in ("fatal", "warning") and f["rule"], f
print("ok: JSON lines well formed")
PY

inv="$SECMX_SRC/tests/data/invoice-nz.xml"
expect_rc 0 "standard input" sh -c "\"$SECMX_BIN\" validate - < \"$inv\""

sed 's|<cbc:IssueDate>2026-11-20|<cbc:IssueDate>2026-13-20|' "$inv" > "$tmp/baddate.xml"
expect_rc 1 "an impossible date is invalid" "$SECMX_BIN" validate --json "$tmp/baddate.xml"
python3 - "$tmp/out" <<'PY' || fail=1
import json, sys
o = json.loads(open(sys.argv[1]).read())
assert o["valid"] is False
f = [f for f in o["findings"] if f["severity"] == "fatal"]
assert f and f[0]["line"] > 0 and "IssueDate" in f[0]["path"], f
print("ok: the finding has a line and an XPath:", f[0]["rule"], f[0]["line"], f[0]["path"])
PY

expect_rc 1 "valid + invalid is 1" "$SECMX_BIN" validate "$inv" "$tmp/baddate.xml"
expect_rc 2 "an unreadable file is 2" "$SECMX_BIN" validate "$inv" "$tmp/missing.xml"

printf '<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<r>&x;</r>\n' > "$tmp/xxe.xml"
expect_rc 1 "XXE is refused" "$SECMX_BIN" validate "$tmp/xxe.xml"
grep -q "XML-DTD" "$tmp/out" && ok "XXE refusal names XML-DTD" || bad "no XML-DTD finding"
grep -q "root:" "$tmp/out" && bad "file content leaked"

cat > "$tmp/change.xml" <<'XML'
<OrderChange xmlns="urn:oasis:names:specification:ubl:schema:xsd:OrderChange-2"
 xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
<cbc:CustomizationID>urn:fdc:peppol.eu:poacc:trns:order_change:3</cbc:CustomizationID>
<cbc:ID>1</cbc:ID></OrderChange>
XML
expect_rc 1 "Peppol Advanced Ordering without a UBL 2.3 schema set" "$SECMX_BIN" validate "$tmp/change.xml"
grep -q "SECMX-UBL23" "$tmp/out" && ok "refusal names SECMX-UBL23" || bad "no SECMX-UBL23"

expect_rc 0 "--list-profiles" "$SECMX_BIN" validate --list-profiles
for p in en16931 peppol-bis-billing-3 pint-aunz-billing pint-aunz-selfbilling peppol-ordering-3 ubl-2.1; do
	grep -q "^$p " "$tmp/out" || bad "profile $p not listed"
done
expect_rc 0 "--list-rules" "$SECMX_BIN" validate --list-rules ubl-2.1
grep -q "^SECMX-UBL-001 .*implemented" "$tmp/out" && ok "rules listed with their status" || bad "--list-rules output"
grep -q "^# profile ubl-2.1: [0-9]* rules, [0-9]* implemented" "$tmp/out" && ok "rule count line" || bad "no count line"
expect_rc 0 "--list-rules --json" "$SECMX_BIN" validate --list-rules peppol-bis-billing-3 --json
python3 -c "import json,sys; [json.loads(l) for l in open(sys.argv[1])]" "$tmp/out" && ok "--list-rules JSON lines" || bad "--list-rules JSON"
expect_rc 2 "--list-rules of an unknown profile" "$SECMX_BIN" validate --list-rules nope
expect_rc 2 "unknown --profile" "$SECMX_BIN" validate --profile nope "$inv"
# Forcing EN 16931 on the NZ (GST) invoice applies the EN rules: its tax
# categories are not VAT, so BR-CO-04 fires.
expect_rc 1 "--profile forces a rule set" "$SECMX_BIN" validate --profile en16931 "$inv"
grep -q "BR-CO-04" "$tmp/out" && ok "the forced profile's rules ran" || bad "no BR-CO-04 under --profile en16931"
expect_rc 0 "--skip-schema" "$SECMX_BIN" validate --skip-schema "$inv"
expect_rc 0 "--schemas with the official UBL 2.1 set" "$SECMX_BIN" validate --schemas "$SECMX_CORPUS/ubl21-xsd/xsdrt" "$inv"
expect_rc 2 "--schemas with a directory that is no schema set" "$SECMX_BIN" validate --schemas "$tmp" "$inv"

# Progress shows on a terminal (script(1) gives the command one) and only there.
if command -v script >/dev/null 2>&1; then
	script -qec "\"$SECMX_BIN\" validate -q $inv $inv $inv" /dev/null > "$tmp/tty" 2>&1
	grep -q "\[3/3\]" "$tmp/tty" && ok "progress on a terminal" || bad "no progress on a terminal"
else
	echo "skip: progress on a terminal (script(1) not installed)"
fi

# A document secmx signed still passes its profile's rules (the XML-DSig
# elements are empty by design and must not trip the empty-element rules).
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=validate.sh" \
	-keyout "$tmp/k.pem" -out "$tmp/c.pem" >/dev/null 2>&1
expect_rc 0 "sign the NZ invoice" "$SECMX_BIN" sign --key "$tmp/k.pem" --cert "$tmp/c.pem" -o "$tmp/signed.xml" "$inv"
expect_rc 0 "the signed invoice is valid under pint-aunz-billing" "$SECMX_BIN" validate "$tmp/signed.xml"
sed 's|<cbc:CustomizationID>[^<]*<|<cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0<|' \
	"$SECMX_CORPUS/ubl-examples/peppol-bis-billing3/base-example.xml" > "$tmp/peppol.xml"
expect_rc 0 "sign the Peppol example" "$SECMX_BIN" sign --key "$tmp/k.pem" --cert "$tmp/c.pem" -o "$tmp/signed-peppol.xml" "$tmp/peppol.xml"
"$SECMX_BIN" validate --json "$tmp/signed-peppol.xml" > "$tmp/out" 2>&1
grep -q '"PEPPOL-EN16931-R008"' "$tmp/out" && bad "a signed Peppol invoice trips R008" || ok "a signed Peppol invoice passes R008"

expect_rc 0 "inspect --json" "$SECMX_BIN" inspect --json "$inv"
python3 -c "import json,sys; o=json.load(open(sys.argv[1])); assert o['type']=='Invoice', o" "$tmp/out" \
	&& ok "inspect JSON names the type" || bad "inspect JSON"
expect_rc 1 "inspect of a non-document" "$SECMX_BIN" inspect "$tmp/xxe.xml"

# One file per run takes another path than several (the engine with the
# schema set is freed after the XSD stage and a rules-only engine runs the
# rules: docs/memory.md); what it prints must be the same, valid or not.
base="$SECMX_CORPUS/ubl-examples/peppol-bis-billing3/base-example.xml"
sed 's|<cbc:IssueDate>|<cbc:Bogus/><cbc:IssueDate>|' "$base" > "$tmp/bad-xsd.xml"
sed 's|<cbc:DocumentCurrencyCode>EUR|<cbc:DocumentCurrencyCode>XXX|' "$base" > "$tmp/bad-rule.xml"
head -c 3000 "$base" > "$tmp/truncated.xml"
printf '<root/>' > "$tmp/not-ubl.xml"
# shellcheck disable=SC2086
set -- $examples "$tmp/bad-xsd.xml" "$tmp/bad-rule.xml" "$tmp/truncated.xml" "$tmp/not-ubl.xml" "$tmp/signed.xml"
for mode in "" --json "--profile en16931"; do
	# shellcheck disable=SC2086
	"$SECMX_BIN" validate $mode "$@" > "$tmp/many" 2>&1
	: > "$tmp/one"
	for f in "$@"; do
		# shellcheck disable=SC2086
		"$SECMX_BIN" validate $mode "$f" >> "$tmp/one" 2>&1
	done
	if cmp -s "$tmp/many" "$tmp/one" && grep -q 'XSD' "$tmp/one" && grep -q 'BR-' "$tmp/one"; then
		ok "validate ${mode:-(text)}: one file per run prints what one run for all prints"
	else
		bad "validate ${mode:-(text)}: one file per run differs from one run for all"
		diff "$tmp/many" "$tmp/one" | head -20 | sed 's/^/  | /'
	fi
done

[ "$fail" -eq 0 ] && echo "validate.sh: all passed"
exit "$fail"
