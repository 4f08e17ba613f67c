#!/bin/sh
# large.sh — the large-document mode of `secmx validate` (docs/memory.md)
# gives byte for byte what the whole-tree stages give: the same output (text
# and --json, with and without --skip-schema and --profile) and exit status
# with the mode forced (--large-over 0) as without it (--large-over never),
# on the ~10 MiB invoice of bench/bench_engine.c and tc_memory.c, on a
# ~2.6 MiB invoice (two batches of lines) with errors injected in its first,
# a middle and its last line and in its header, on the corpus's XML files
# and on a sample of the XML files under tests/. It also checks that the
# mode did run (not silently hand everything to the whole-tree stages) on
# the inputs it is meant for, and that it hands over the ones it must
# (schema errors: the XSD findings come from the whole-tree stage).
set -u
: "${SECMX_BIN:?}" "${SECMX_CORPUS:?}" "${SECMX_SRC:?}"
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }
same=0
ran=0
# Under the sanitizers (scripts/test --sanitize sets ASAN_OPTIONS) every
# process is several times slower: the 10 MiB invoice and the variants are
# compared one way (text), the corpus one way, and every 100th file of
# tests/ instead of every 25th; every input kind is still covered.
quick=0
[ -n "${ASAN_OPTIONS:-}" ] && quick=1
# compare OPTS... -- FILE...: one process each way; counts the files the
# mode answered for (stderr of SECMX_LARGE_WHY names those it did not).
compare() {
	opts=""
	while [ "$1" != "--" ]; do opts="$opts $1"; shift; done
	shift
	# shellcheck disable=SC2086
	"$SECMX_BIN" validate $opts --large-over never "$@" >"$tmp/a" 2>/dev/null; ra=$?
	# shellcheck disable=SC2086
	SECMX_LARGE_WHY=1 "$SECMX_BIN" validate $opts --large-over 0 "$@" >"$tmp/b" 2>"$tmp/why"; rb=$?
	if [ "$ra" -eq "$rb" ] && cmp -s "$tmp/a" "$tmp/b"; then
		same=$((same + 1))
	else
		bad "differs:$opts ${*} (exit $ra / $rb)"
		diff "$tmp/a" "$tmp/b" | head -10 | sed 's/^/  | /'
	fi
	ran=$(( $# - $(grep -c 'large-document mode not used' "$tmp/why") ))
}

base="$SECMX_CORPUS/ubl-examples/peppol-bis-billing3/base-example.xml"
python3 - "$base" "$tmp" <<'PY' || exit 1
import os, re, sys
base = open(sys.argv[1]).read()
out = sys.argv[2]
def grow(mx):
    # tests/engine/tc_memory.c make_big_invoice: the first line repeated as
    # +/- pairs (quantity and amount negated in the second), ids renumbered
    l0 = base.index("<cac:InvoiceLine>")
    end = "</cac:InvoiceLine>"
    at = base.rindex(end) + len(end)
    line = base[l0:base.index(end, l0) + len(end)]
    def val(tag, neg):
        i = line.index("<" + tag); v = line.index(">", i)
        return ">%s%s</%s>" % ("-" if neg else "", line[v + 1:line.index("<", v + 1)], tag)
    neg = line.replace(val("cbc:InvoicedQuantity", 0), val("cbc:InvoicedQuantity", 1), 1)
    neg = neg.replace(val("cbc:LineExtensionAmount", 0), val("cbc:LineExtensionAmount", 1), 1)
    halves = []
    for l in (line, neg):
        o = l.index("<cbc:ID>") + len("<cbc:ID>")
        halves.append((l[:o], l[l.index("</cbc:ID>", o):]))
    pair = len(line) + len(neg) + 24
    parts = [base[:at]]; n = at; i = 1000
    while n + pair + len(base) - at <= mx:
        for h in halves:
            i += 1
            s = "\n" + h[0] + str(i) + h[1]
            parts.append(s); n += len(s)
    parts.append(base[at:])
    return "".join(parts)
huge = grow(10 * 1024 * 1024)
open(os.path.join(out, "huge.xml"), "w").write(huge)
src = grow(2600000)
starts = [m.start() for m in re.finditer(r"<cac:InvoiceLine>", src)]
def edit(i, f):
    s = starts[i]; e = src.index("</cac:InvoiceLine>", s)
    return src[:s] + f(src[s:e]) + src[e:]
def w(name, text):
    open(os.path.join(out, name), "w").write(text)
amount = lambda t: re.sub(r'(<cbc:LineExtensionAmount currencyID= ?"EUR">)(-?\d+)',
                          lambda m: m.group(1) + str(int(m.group(2)) + 7), t, count=1)
for k, i in (("first", 0), ("middle", len(starts) // 2), ("last", len(starts) - 1)):
    w("amount-%s.xml" % k, edit(i, amount))
    w("noid-%s.xml" % k, edit(i, lambda t: re.sub(r"<cbc:ID>[^<]*</cbc:ID>\s*", "", t, count=1)))
    w("dupid-%s.xml" % k, edit(i, lambda t: re.sub(r"<cbc:ID>[^<]*</cbc:ID>", "<cbc:ID>1001</cbc:ID>", t, count=1)))
    w("currency-%s.xml" % k, edit(i, lambda t: re.sub(r'currencyID= ?"EUR"', 'currencyID="USD"', t, count=1)))
    w("xsd-%s.xml" % k, edit(i, lambda t: t.replace("<cac:Item>", "<cac:Item><cbc:Bogus>x</cbc:Bogus>", 1)))
    w("empty-%s.xml" % k, edit(i, lambda t: t.replace("<cbc:Name>item name</cbc:Name>", "<cbc:Name></cbc:Name>", 1)))
h = starts[0]
w("hdr-currency.xml", src[:h].replace(">EUR</cbc:DocumentCurrencyCode>", ">USD</cbc:DocumentCurrencyCode>", 1) + src[h:])
w("hdr-total.xml", re.sub(r'(<cac:LegalMonetaryTotal>\s*<cbc:LineExtensionAmount currencyID="EUR">)', r"\g<1>9", src, count=1))
w("hdr-xsd.xml", src[:h].replace("<cbc:DocumentCurrencyCode>", "<cbc:Bogus>1</cbc:Bogus><cbc:DocumentCurrencyCode>", 1) + src[h:])
w("many-errors.xml", src.replace('currencyID="EUR"', 'currencyID="XXX"'))
w("valid.xml", src)
# A line allowance in every line: BR-CO-07 (not implemented) applies in the
# line phase of every batch and is still counted once (SECMX-RULES-PARTIAL).
ac = ('<cac:AllowanceCharge><cbc:ChargeIndicator>false</cbc:ChargeIndicator>'
      '<cbc:AllowanceChargeReasonCode>95</cbc:AllowanceChargeReasonCode>'
      '<cbc:AllowanceChargeReason>Discount</cbc:AllowanceChargeReason>'
      '<cbc:Amount currencyID="EUR">0.00</cbc:Amount></cac:AllowanceCharge>')
w("line-allowance.xml", src.replace("<cac:Item>", ac + "<cac:Item>"))
PY
ls "$tmp"/*.xml >/dev/null || exit 1

# The 10 MiB invoice, and the mode ran for it.
for o in "" "--json" "--skip-schema" "--json --profile peppol-bis-billing-3"; do
	[ "$quick" -eq 1 ] && [ -n "$o" ] && continue
	# shellcheck disable=SC2086
	compare $o -- "$tmp/huge.xml"
	[ "$ran" -eq 1 ] || bad "the mode did not run for the 10 MiB invoice ($o): $(cat "$tmp/why")"
done

# The variants, one process per file (the path that swaps engines).
for f in "$tmp"/amount-*.xml "$tmp"/dupid-*.xml "$tmp"/currency-*.xml "$tmp"/empty-*.xml \
	"$tmp"/hdr-total.xml "$tmp"/valid.xml "$tmp"/line-allowance.xml; do
	compare -- "$f"
	[ "$ran" -eq 1 ] || bad "the mode did not run for $(basename "$f"): $(cat "$tmp/why")"
	[ "$quick" -eq 1 ] || compare --json --skip-schema -- "$f"
done
grep -q "2 rule(s) of en16931-model.sch apply" "$tmp/a" ||
	bad "line-allowance.xml: not one SECMX-RULES-PARTIAL for BR-CO-05 and BR-CO-07: $(cat "$tmp/a")"
# A wrong document currency gives a finding per amount, more than the
# per-document limit: the whole-tree stage answers (and says how many).
compare -- "$tmp/hdr-currency.xml"
[ "$ran" -eq 0 ] || bad "the mode answered for hdr-currency.xml (over the findings limit)"
compare --json --skip-schema -- "$tmp/hdr-currency.xml"
for f in "$tmp"/noid-*.xml "$tmp"/xsd-*.xml "$tmp"/hdr-xsd.xml "$tmp"/many-errors.xml; do
	compare --json -- "$f"
	[ "$ran" -eq 0 ] || bad "the mode answered for $(basename "$f"), which the schema refuses"
	compare --skip-schema -- "$f"
done

# The corpus and a sample of tests/ (several files per process).
xmls=$(find "$SECMX_CORPUS" -name '*.xml' | sort)
every=25
[ "$quick" -eq 1 ] && every=100
sample=$(find "$SECMX_SRC/tests" -name '*.xml' | sort | awk -v n="$every" 'NR % n == 1')
for o in "" "--json" "--skip-schema" "--json --profile ubl-2.1"; do
	[ "$quick" -eq 1 ] && [ -n "$o" ] && continue
	# shellcheck disable=SC2086
	compare $o -- $xmls
	# shellcheck disable=SC2086
	compare $o -- $sample
done

echo "$same comparisons identical"
[ "$fail" -eq 0 ] && ok "large-document mode = whole-tree stages"
exit "$fail"
