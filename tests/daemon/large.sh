#!/bin/sh
# large.sh — a document larger than a bus body, delivered signed. The
# envelope of a document signed by secmxd carries the bytes received as
# meta.original_b64, so its DELIVER body is larger than 64 KiB whenever the
# document is larger than about 48 KB (docs/protocol.md, DELIVER). A
# 500 KB invoice (700 lines, gen.py --lines) goes through secmxd to three
# adapters: the C SDK's test adapter, the Python example adapter and
# secmx-records. Each must take it (none refused as "body larger than
# 65536 bytes", which dead-lettered every such delivery before), the
# Python adapter must see original_b64 decode to exactly the bytes dropped,
# and the archive must keep those bytes as the original and the signed
# copy beside them, in a bag the independent checker accepts.
set -eu
. "$SECMX_SRC/tests/daemon/lib.sh"
REC="$SECMX_BUILD/adapters/records/secmx-records"
ADAPTER_PY="$SECMX_SRC/adapters/examples/python"

test_dir large
mkdir "$dir/stage" "$dir/py"
conf="$dir/secmxd.conf"
mkconf "$dir" "$conf" "tada:Invoice, py:Invoice, records:Invoice"
$PY "$GEN" "$SECMX_SRC" "$dir/stage" 1 --start 1 --lines 700 --tag BIG >/dev/null
doc="$dir/stage/BIG-00001.xml"
size=$(wc -c <"$doc")
[ "$size" -gt 400000 ] || fail "the generated invoice is only $size bytes"
cat >"$dir/records.ini" <<INI
[records]
endpoint = ipc://$dir/bus.sock
name = records
store_dir = $dir/store
organisation = secmx test
credit = 4
INI
chmod 600 "$dir/records.ini"

daemon_up "$conf" "$dir/d.log"
"$TADAPTER" -e "ipc://$dir/bus.sock" -n tada -p Invoice -s "$dir/tada.db" -j "$dir/tada.j" \
	-c 1 -t 60000 >"$dir/tada.out" 2>&1 &
tpid=$!
cat >"$dir/peek.py" <<'PY'
import base64, sys, types
sys.path.insert(0, sys.argv[1])
import adapter
class Peek(adapter.Adapter):
    def handle(self, env, doc):
        open(sys.argv[3] + "/original", "wb").write(
            base64.b64decode(env["meta"]["original_b64"], validate=True))
        open(sys.argv[3] + "/signed", "wb").write(doc)
        return adapter.ACK, None
    def done(self):
        return len(__import__("os").listdir(sys.argv[3])) >= 2
args = types.SimpleNamespace(endpoint=sys.argv[2], name="py", pattern=["Invoice"], credit=8,
                             outdir=sys.argv[3], count=1, timeout=60.0, crash_after=0,
                             submit=None, submit_key=None, server_key=None, public_key=None,
                             secret_key=None)
sys.exit(Peek(args).run())
PY
$PY "$dir/peek.py" "$ADAPTER_PY" "ipc://$dir/bus.sock" "$dir/py" >"$dir/py.out" 2>&1 &
ppid=$!
"$REC" -c "$dir/records.ini" run 2>"$dir/rec.log" &
rpid=$!
cp "$doc" "$dir/drop/.big.tmp"
mv "$dir/drop/.big.tmp" "$dir/drop/big.xml"

wait "$tpid" || fail "the C SDK adapter did not take the invoice: $(cat "$dir/tada.out"; tail -5 "$dir/d.log")"
wait "$ppid" || fail "the Python adapter did not take the invoice: $(cat "$dir/py.out"; tail -5 "$dir/d.log")"
wait_for 60 log_has "$dir/d.log" "delivery.acked adapter=records" ||
	fail "secmx-records did not take the invoice: $(tail -5 "$dir/rec.log"; tail -5 "$dir/d.log")"
if grep -E "bad-envelope|delivery.dead|delivery.nacked" "$dir/d.log"; then
	fail "a delivery was refused"
fi
[ "$(grep -c "delivery.acked" "$dir/d.log")" -eq 3 ] || fail "not three ACKs: $(grep delivery "$dir/d.log")"
echo "ok: a $size-byte invoice delivered signed to the C, Python and records adapters"

cmp "$dir/py/original" "$doc" || fail "original_b64 is not the bytes dropped"
grep -q "SignatureValue" "$dir/py/signed" || fail "the document frame is not the signed copy"
awk -v s="$size" '$3 <= s { exit 1 }' "$dir/tada.j" || fail "the C adapter's document is smaller than the original"
echo "ok: original_b64 decodes to the bytes dropped; the document is the signed copy"

kill -TERM "$rpid"
wait "$rpid" || fail "secmx-records did not stop cleanly"
"$REC" -c "$dir/records.ini" verify >"$dir/verify" || { cat "$dir/verify"; fail "verify"; }
"$REC" -c "$dir/records.ini" export --from 2000-01-01 --to 2100-01-01 -o "$dir/bag" --by test >/dev/null
$PY "$SECMX_SRC/tests/records/bagit_check.py" "$dir/bag" || fail "the bag is not valid"
cmp "$dir/bag/data/REC-00000001/original.xml" "$doc" || fail "the archive's original is not the bytes dropped"
cmp "$dir/bag/data/REC-00000001/signed.xml" "$dir/py/signed" || fail "the archive's signed copy differs"
echo "ok: the archive keeps the bytes received and the signed copy"

daemon_down
echo "ok: large.sh"
