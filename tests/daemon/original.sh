#!/bin/sh
# original.sh — meta.original_b64 is spliced in at send time: a bundle names
# the original bytes ("@original ID SHA256") instead of carrying them as
# base64, and the DELIVER an adapter sees is the same as when the bundle
# carried them (docs/operations.md, "Bundles"):
#   1. two invoices are attested and routed while no adapter is connected;
#      the stored bundles name their original and hold no original_b64;
#   2. one of them is rewritten into the form bundles had before (envelope
#      with original_b64 as meta's last member, no first line), as a store
#      from an earlier version holds it;
#   3. after a restart a Python adapter takes both: in each envelope
#      original_b64 is meta's last member and decodes to exactly the bytes
#      dropped, the rest of the envelope text is the stored one, and the two
#      forms give envelopes of the same shape; then a second adapter takes
#      the same two documents, served from what secmxd made of the bundles
#      for the first (op_next's env_memo): the same envelope and document
#      bytes;
#   4. a bundle whose original no longer matches its digest is not
#      delivered with other bytes: the delivery is dead, the reason logged.
set -eu
. "$SECMX_SRC/tests/daemon/lib.sh"

test_dir orig
mkdir "$dir/out" "$dir/out2"
conf="$dir/secmxd.conf"
mkconf "$dir" "$conf" "peek:Invoice, peek2:Invoice"
nz="$SECMX_SRC/tests/data/invoice-nz.xml"

# ---- 1. attested and routed, nobody connected -------------------------------
"$SECMXD" -c "$conf" 2>"$dir/d1.log" &
dpid=$!
wait_for 10 test -S "$dir/bus.sock" || fail "daemon did not bind: $(cat "$dir/d1.log")"
for i in 1 2 3; do
	sed "s/INV-2026-00417/INV-ORIG-$i/" "$nz" >"$dir/drop/.o$i.xml"
	mv "$dir/drop/.o$i.xml" "$dir/drop/o$i.xml"
done
i=0
while [ "$(grep -c 'doc.routed adapter=peek2' "$dir/d1.log")" -lt 3 ] && [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
[ "$(grep -c 'doc.routed adapter=peek ' "$dir/d1.log")" -eq 3 ] ||
	fail "three invoices were not routed: $(tail -5 "$dir/d1.log")"
kill -TERM "$dpid"
wait "$dpid" || fail "secmxd did not stop cleanly"
dpid=""

# ---- 2. the stored bundles, one rewritten into the earlier form -------------
$PY - "$dir/q.db" <<'PY' || fail "bundles"
import base64, hashlib, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute("SELECT m.id, b.body FROM msg m JOIN msg_body b ON b.msg_id = m.id"
                  " WHERE m.source = 'bundle' ORDER BY m.id").fetchall()
assert len(rows) == 3, rows
for mid, body in rows:
    head, env, doc = body.split(b"\n", 2)
    assert head.startswith(b"@original "), head
    oid, sha = head.split()[1:]
    orig = db.execute("SELECT body FROM msg_body WHERE msg_id = ?", (int(oid),)).fetchone()[0]
    assert hashlib.sha256(orig).hexdigest() == sha.decode(), (oid, sha)
    assert b"original_b64" not in body, mid
    assert env.endswith(b"}}") and doc.startswith(b"<?xml"), mid
# A bundle is no document of its own: duplicate detection keeps no row for it.
assert db.execute("SELECT count(*) FROM seen WHERE sender = 'secmxd'").fetchone()[0] == 0
assert db.execute("SELECT count(*) FROM msg WHERE source = 'bundle' AND doc_id IS NULL"
                  ).fetchone()[0] == 3
# The first one as an earlier version stored it.
mid, body = rows[0]
head, env, doc = body.split(b"\n", 2)
orig = db.execute("SELECT body FROM msg_body WHERE msg_id = ?", (int(head.split()[1]),)).fetchone()[0]
old = env[:-2] + b',"original_b64":"' + base64.b64encode(orig) + b'"}}\n' + doc
db.execute("UPDATE msg_body SET body = ? WHERE msg_id = ?", (old, mid))
db.execute("UPDATE msg SET size = ?, sha256 = ? WHERE id = ?",
           (len(old), hashlib.sha256(old).hexdigest(), mid))
# The third one's original changed under it (its digest no longer matches
# what the bundle names): stored as if it were another message's bytes.
mid3, body3 = rows[2]
oid3 = int(body3.split(b"\n", 1)[0].split()[1])
other = orig.replace(b"INV-ORIG-1", b"INV-ORIG-X")
db.execute("UPDATE msg_body SET body = ? WHERE msg_id = ?", (other, oid3))
db.execute("UPDATE msg SET size = ?, sha256 = ? WHERE id = ?",
           (len(other), hashlib.sha256(other).hexdigest(), oid3))
db.commit()
# What each of the first two must look like on the wire (after the bus's
# own fields): the stored envelope, original_b64 spliced in as meta's last
# member; for the rewritten one that is exactly the text it now stores.
for n, (mid, body) in enumerate(rows[:2]):
    head, env, doc = body.split(b"\n", 2)
    o = db.execute("SELECT body FROM msg_body WHERE msg_id = ?", (int(head.split()[1]),)).fetchone()[0]
    want = env[1:-2] + b',"original_b64":"' + base64.b64encode(o) + b'"}}'
    open("%s.want%d" % (sys.argv[1], n), "wb").write(want)
assert old.split(b"\n")[0][1:] == open(sys.argv[1] + ".want0", "rb").read()
print("ok: bundles name their original; one rewritten into the earlier form")
PY

# ---- 3. delivered after a restart -------------------------------------------
"$SECMXD" -c "$conf" 2>"$dir/d2.log" &
dpid=$!
wait_for 10 test -S "$dir/bus.sock" || fail "daemon did not restart: $(cat "$dir/d2.log")"
cat >"$dir/peek.py" <<'PY'
import os, sys, types
sys.path.insert(0, sys.argv[1])
import adapter
raw = {}
decode = adapter.decode
def keep(frames):
    msg = decode(frames)
    if msg[0] == adapter.DELIVER:
        raw[msg[1]["delivery_id"]] = bytes(frames[-2])
    return msg
adapter.decode = keep
class Peek(adapter.Adapter):
    def handle(self, env, doc):
        n = len(os.listdir(self.args.outdir)) // 2
        open(os.path.join(self.args.outdir, "%d.env" % n), "wb").write(raw[env["delivery_id"]])
        open(os.path.join(self.args.outdir, "%d.xml" % n), "wb").write(doc)
        return adapter.ACK, None
    def done(self):
        return len(os.listdir(self.args.outdir)) >= 4
args = types.SimpleNamespace(endpoint=sys.argv[2], name=sys.argv[4], pattern=["Invoice"],
                             credit=8, outdir=sys.argv[3], count=2, timeout=30.0, crash_after=0,
                             submit=None, submit_key=None, server_key=None, public_key=None,
                             secret_key=None)
sys.exit(Peek(args).run())
PY
$PY "$dir/peek.py" "$SECMX_SRC/adapters/examples/python" "ipc://$dir/bus.sock" "$dir/out" peek ||
	fail "the adapter did not get two deliveries: $(tail -5 "$dir/d2.log")"
# A second adapter takes the same documents: secmxd hands it what it made
# of the bundles for the first (op_next's env_memo) instead of reading them
# back again; the envelope bytes must be the same.
$PY "$dir/peek.py" "$SECMX_SRC/adapters/examples/python" "ipc://$dir/bus.sock" "$dir/out2" \
	peek2 || fail "the second adapter did not get two deliveries: $(tail -5 "$dir/d2.log")"
for out in out out2; do
$PY - "$dir" "$nz" "$out" <<'PY' || fail "the delivered envelopes ($out) differ from the stored ones"
import base64, json, sys
d, nz, out = sys.argv[1], open(sys.argv[2], "rb").read(), sys.argv[3]
wants = [open("%s/q.db.want%d" % (d, n), "rb").read() for n in (0, 1)]
shapes, found = [], []
for n in (0, 1):
    text = open("%s/%s/%d.env" % (d, out, n), "rb").read()
    env = json.loads(text)
    meta = env["meta"]
    assert list(meta)[-1] == "original_b64", list(meta)
    orig = base64.b64decode(meta["original_b64"], validate=True)
    i = orig.index(b"INV-ORIG-") + 9
    assert orig == nz.replace(b"INV-2026-00417", b"INV-ORIG-" + orig[i:i + 1]), "original"
    signed = open("%s/%s/%d.xml" % (d, out, n), "rb").read()
    assert signed != orig, "the signed copy"
    # the same signed document to both adapters
    assert any(open("%s/out/%d.xml" % (d, k), "rb").read() == signed for k in (0, 1)), "doc"
    # The wire text is the idempotency key, the stored envelope (original
    # spliced in; its last '}' is where the bus adds delivery_id, attempt
    # and document_size): no byte of it re-encoded, whichever form the
    # bundle had.
    head = b'{"idempotency_key":"%s",' % env["idempotency_key"].encode()
    assert text.startswith(head), text[:80]
    found.extend(n for n in (0, 1) if text[len(head):].startswith(wants[n][:-1] + b","))
    shapes.append([k for k in env if k not in ("idempotency_key",)] + list(meta))
assert sorted(found) == [0, 1], found
assert shapes[0] == shapes[1], shapes
print("ok (%s): both forms deliver the same envelope, original_b64 last, exactly the bytes"
      " dropped" % out)
PY
done
wait_for 10 log_has "$dir/d2.log" "delivery.dead .*reason=bundle-unreadable error=" ||
	fail "the bundle whose original changed was not refused: $(tail -5 "$dir/d2.log")"
[ "$(ls "$dir/out" | wc -l)" -eq 4 ] || fail "more than two deliveries: $(ls "$dir/out")"
[ "$(ls "$dir/out2" | wc -l)" -eq 4 ] || fail "more than two deliveries: $(ls "$dir/out2")"
[ "$(grep -c "delivery.dead .*reason=bundle-unreadable" "$dir/d2.log")" -eq 2 ] ||
	fail "not one refused delivery per adapter: $(grep delivery.dead "$dir/d2.log")"
echo "ok: a bundle whose original does not match its digest is not delivered"
kill -TERM "$dpid"
wait "$dpid" || fail "secmxd did not stop cleanly"
dpid=""
echo "ok: original.sh"
