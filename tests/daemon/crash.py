#!/usr/bin/env python3
"""crash.py - the crash test (issue 4, "Measured, not guessed").

Feeds DOCS generated documents (orders and the invoices that reference them,
tests/daemon/gen.py's variants, every 10th one invalid) into secmxd's drop
directory while killing secmxd and the two real adapters with SIGKILL at
seeded random moments (KILLS kills): secmx-finance with a SQLite ledger
(route finance:Invoice) and secmx-records (routes records:* and
records:reject:*). A killed secmxd is restarted at once and the next kill
waits until it has logged daemon.started, so every kill lands while
documents move. Then lets everything finish and checks:

  - every fed file is in the queue, every original message in its final
    state ("done"; "dropped" for a duplicate), none dead or quarantined;
  - every delivery is acknowledged;
  - finance (`secmx-finance list --json`): the ledger holds every valid
    invoice exactly once, and each under the message the queue routed to
    finance (so the adapter has seen every routed document, no other);
  - records (`secmx-records list --json`): one record per routed
    idempotency key, exactly the keys the queue routed to records, every
    fed document once (the invalid ones as reject:Invoice), and
    `secmx-records verify` passes (hash chain and objects intact).

The real adapters are used instead of tests/test_adapter: their own
databases are the exactly-once record (finance's ledger is keyed by the
idempotency key and by (supplier, invoice); records' index by the key),
which is what the issue asks to measure.

    crash.py [--docs 2000] [--kills 50] [--seed 4] [--timeout 300] [--keep]
Needs SECMX_BUILD, SECMX_SRC, SECMX_CORPUS. Exit 0 pass, 1 fail.
"""
import argparse
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time


def log(msg):
    print("crash: " + msg, flush=True)


class Proc:
    """One restartable process; output appended to a log file."""

    def __init__(self, name, argv, logpath):
        self.name, self.argv, self.logpath = name, argv, logpath
        self.p = None
        self.starts = 0

    def start(self):
        with open(self.logpath, "ab") as out:
            self.p = subprocess.Popen(self.argv, stdout=out, stderr=out)
        self.starts += 1

    def kill9(self):
        if self.p and self.p.poll() is None:
            self.p.send_signal(signal.SIGKILL)
        if self.p:
            self.p.wait()

    def term(self, timeout=30):
        if self.p is None or self.p.poll() is not None:
            return self.p.returncode if self.p else 0
        self.p.send_signal(signal.SIGTERM)
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            return -999


def make_docs(src, corpus, count, invalid_every):
    """[(name, text, kind, valid, docid)] like gen.py."""
    inv = open(os.path.join(src, "tests/data/invoice-nz.xml"), encoding="utf-8").read()
    order = open(os.path.join(corpus, "ubl-examples/peppol-ordering3/Order_Example.xml"),
                 encoding="utf-8").read()
    out = []
    for i in range(count):
        po = "PO-C-%d" % (i // 4)
        if i % 4 == 0:
            doc, kind, docid = order.replace("<cbc:ID>34</cbc:ID>", "<cbc:ID>%s</cbc:ID>" % po,
                                             1), "Order", po
        else:
            docid = "INV-C-%d" % i
            doc = inv.replace("INV-2026-00417", docid, 1).replace("PO-88120", po)
            kind = "Invoice"
        valid = i % invalid_every != invalid_every - 1
        if not valid:
            doc = re.sub(r"<cbc:IssueDate>[^<]*</cbc:IssueDate>", "", doc, count=1)
        out.append(("C-%05d.xml" % i, doc, kind, valid, docid))
    return out


def feed(docs, drop, stop):
    """Producer: batches of 10 every 100 ms (so intake overlaps the kills),
    written as .tmp and renamed."""
    for j in range(0, len(docs), 10):
        for name, text, _, _, _ in docs[j:j + 10]:
            tmp = os.path.join(drop, name + ".tmp")
            with open(tmp, "w", encoding="utf-8") as fp:
                fp.write(text)
            os.rename(tmp, os.path.join(drop, name))
        if stop.wait(0.1):
            return


def started(d):
    """How many times secmxd has logged daemon.started."""
    try:
        with open(os.path.join(d, "secmxd.log"), errors="replace") as fp:
            return sum(1 for line in fp if " daemon.started " in line)
    except OSError:
        return 0


def queue_db(path):
    return sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=10)


def progress(qpath):
    """(originals, originals not final, deliveries not acked)."""
    try:
        db = queue_db(qpath)
        open_msgs = db.execute("SELECT COUNT(*) FROM msg WHERE source = 'dropdir'"
                               " AND state NOT IN ('done', 'dropped')").fetchone()[0]
        total = db.execute("SELECT COUNT(*) FROM msg WHERE source = 'dropdir'").fetchone()[0]
        unacked = db.execute("SELECT COUNT(*) FROM delivery WHERE state != 'acked'"
                             ).fetchone()[0]
        db.close()
    except sqlite3.Error:
        return None
    return total, open_msgs, unacked


def run_json(argv):
    """ARGV's stdout as JSON (None and a message when it fails)."""
    r = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        log("%s exited %d: %s" % (" ".join(argv[:3]), r.returncode, r.stderr.strip()[:300]))
        return None
    return json.loads(r.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=2000)
    ap.add_argument("--kills", type=int, default=50)
    ap.add_argument("--seed", type=int, default=4)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--invalid-every", type=int, default=10)
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    build, src = os.environ["SECMX_BUILD"], os.environ["SECMX_SRC"]
    corpus = os.environ.get("SECMX_CORPUS", os.path.join(src, "../shared/corpus"))
    rng = random.Random(a.seed)
    t0 = time.monotonic()
    d = tempfile.mkdtemp(prefix="secmx-crash-")
    drop = os.path.join(d, "drop")
    os.mkdir(drop)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", d + "/org.key", "-out",
                    d + "/org.crt", "-days", "2", "-subj", "/CN=secmxd crash test"],
                   check=True, capture_output=True)
    os.chmod(d + "/org.key", 0o600)
    conf = os.path.join(d, "secmxd.conf")
    with open(conf, "w") as fp:
        fp.write("[engine]\nsign_key = %s/org.key\nsign_cert = %s/org.crt\n"
                 "[queue]\ndb = %s/q.db\nretry_base = 200ms\nretry_max = 2s\n"
                 "[intake]\ndrop_dir = %s\npoll_interval = 20ms\n"
                 "[bus]\nendpoint = ipc://%s/bus.sock\nheartbeat = 300ms\nack_timeout = 3s\n"
                 "drain_timeout = 2s\n[workers]\ncount = 2\n"
                 "[routing]\nroutes = finance:Invoice, records:*, records:reject:*\n"
                 "[log]\nlevel = notice\n" % (d, d, d, drop, d))
    os.chmod(conf, 0o600)
    ep = "ipc://%s/bus.sock" % d
    fin_conf, rec_conf = d + "/finance.ini", d + "/records.ini"
    with open(fin_conf, "w") as fp:
        fp.write("[finance]\nendpoint = %s\nname = finance\npatterns = Invoice\ncredit = 16\n"
                 "sqlite_path = %s/ledger.db\nlog_level = notice\n" % (ep, d))
    with open(rec_conf, "w") as fp:
        fp.write("[records]\nendpoint = %s\nname = records\npatterns = *, reject:*\n"
                 "credit = 16\nstore_dir = %s/archive\norganisation = secmx crash test\n"
                 "log_level = notice\n" % (ep, d))
    fin = os.path.join(build, "adapters/finance/secmx-finance")
    rec = os.path.join(build, "adapters/records/secmx-records")
    procs = {
        "secmxd": Proc("secmxd", [os.path.join(build, "cli/secmxd"), "-c", conf],
                       d + "/secmxd.log"),
        "fin": Proc("fin", [fin, "run", "-c", fin_conf], d + "/fin.log"),
        "records": Proc("records", [rec, "-c", rec_conf, "run"], d + "/rec.log"),
    }
    docs = make_docs(src, corpus, a.docs, a.invalid_every)
    want_fin = {x[4] for x in docs if x[2] == "Invoice" and x[3]}
    want_rec = {x[4] for x in docs}
    for p in procs.values():
        p.start()
    end = time.monotonic() + 20
    while started(d) < 1 and time.monotonic() < end:
        time.sleep(0.02)
    stop = threading.Event()
    feeder = threading.Thread(target=feed, args=(docs, drop, stop))
    feeder.start()
    kills = {"secmxd": 0, "fin": 0, "records": 0}
    deadline = t0 + a.timeout
    victims = ["secmxd", "secmxd", "fin", "records"]
    n = 0
    while n < a.kills and time.monotonic() < deadline:
        time.sleep(rng.uniform(0.05, 0.5))
        v = rng.choice(victims)
        procs[v].kill9()
        kills[v] += 1
        n += 1
        time.sleep(rng.uniform(0.0, 0.1))
        before = started(d)
        procs[v].start()
        if v == "secmxd":
            # Let it finish starting (the engine compiles its schemas), so
            # that every kill lands while documents are moving, not in start-up.
            end = time.monotonic() + 20
            while started(d) <= before and time.monotonic() < end:
                time.sleep(0.02)
    feeder.join()
    t_kills = time.monotonic() - t0
    log("%d kills in %.1f s (secmxd %d, fin %d, records %d); seed %d"
        % (n, t_kills, kills["secmxd"], kills["fin"], kills["records"], a.seed))
    st = None
    while time.monotonic() < deadline:
        st = progress(d + "/q.db")
        if st and st[0] >= a.docs and st[1] == 0 and st[2] == 0:
            break
        time.sleep(0.5)
    t_done = time.monotonic() - t0
    log("settled after %.1f s: progress %s" % (t_done, st))
    rc_d = procs["secmxd"].term()
    for k in ("fin", "records"):
        procs[k].term()
    fails = []
    if rc_d != 0:
        fails.append("secmxd exited %s on SIGTERM" % rc_d)
    db = queue_db(d + "/q.db")
    names = {}
    for doc_id, state in db.execute("SELECT doc_id, state FROM msg WHERE source = 'dropdir'"):
        names.setdefault(doc_id.split("@")[0], []).append(state)
    missing = [x[0] for x in docs if x[0] not in names]
    if missing:
        fails.append("%d files never reached the queue (first %s)" % (len(missing), missing[0]))
    bad = {k: v for k, v in names.items() if any(s not in ("done", "dropped") for s in v)}
    if bad:
        fails.append("%d files not in a final state, e.g. %s" % (len(bad), list(bad.items())[:3]))
    dups = sum(len(v) - 1 for v in names.values())
    dstates = dict(db.execute("SELECT state, COUNT(*) FROM delivery GROUP BY state").fetchall())
    if set(dstates) - {"acked"}:
        fails.append("deliveries not all acknowledged: %s" % dstates)
    routed, routed_msgs = {}, {}
    for adapter, key in db.execute("SELECT adapter, idem_key FROM delivery"):
        routed.setdefault(adapter, set()).add(key)
        # the key is "<message id>-<hash>"; the envelope's message_id is that id
        routed_msgs.setdefault(adapter, set()).add(key.split("-")[0])
    db.close()
    # finance: each valid invoice exactly once, under the routed messages
    ledger = run_json([fin, "list", "-c", fin_conf, "--json"])
    if ledger is None:
        fails.append("secmx-finance list --json failed")
        ledger = []
    inv_ids = [x["invoice_id"] for x in ledger]
    if set(inv_ids) != want_fin or len(inv_ids) != len(want_fin):
        fails.append("finance: ledger %d rows, %d distinct invoices, want %d (missing %d, "
                     "unexpected %d)" % (len(inv_ids), len(set(inv_ids)), len(want_fin),
                                         len(want_fin - set(inv_ids)),
                                         len(set(inv_ids) - want_fin)))
    mids = {x["message_id"] for x in ledger}
    if mids != routed_msgs.get("finance", set()):
        fails.append("finance: ledger names %d messages, the queue routed %d to finance"
                     % (len(mids), len(routed_msgs.get("finance", set()))))
    log("finance: ledger %d invoices, %d distinct, %d deliveries routed"
        % (len(inv_ids), len(set(inv_ids)), len(routed.get("finance", set()))))
    # records: one record per routed key, every document once, verify passes
    recs = run_json([rec, "-c", rec_conf, "list", "--json"])
    if recs is None:
        fails.append("secmx-records list --json failed")
        recs = []
    keys = [x["idempotency_key"] for x in recs]
    if set(keys) != routed.get("records", set()) or len(keys) != len(set(keys)):
        fails.append("records: %d records (%d keys), queue routed %d (missing %d, extra %d)"
                     % (len(keys), len(set(keys)), len(routed.get("records", set())),
                        len(routed.get("records", set()) - set(keys)),
                        len(set(keys) - routed.get("records", set()))))
    titled = {}
    for x in recs:
        # title: "[Rejected ]<type> <cbc:ID> from <sender>"
        words = x["title"].split()
        docid = words[2] if words[0] == "Rejected" else words[1]
        titled[docid] = titled.get(docid, 0) + 1
    if set(titled) != want_rec or any(v != 1 for v in titled.values()):
        fails.append("records: %d documents, want %d once each (missing %d, twice %d)"
                     % (len(titled), len(want_rec), len(want_rec - set(titled)),
                        sum(1 for v in titled.values() if v != 1)))
    rejects = sum(1 for x in recs if x["document_type"].startswith("reject:"))
    if rejects != sum(1 for x in docs if not x[3]):
        fails.append("records: %d rejects, want %d" % (rejects, sum(1 for x in docs if not x[3])))
    vr = subprocess.run([rec, "-c", rec_conf, "verify"], capture_output=True, text=True,
                        timeout=300)
    if vr.returncode != 0:
        fails.append("secmx-records verify exited %d: %s" % (vr.returncode,
                                                             vr.stdout.strip()[-400:]))
    log("records: %d records (%d rejects), verify exit %d"
        % (len(recs), rejects, vr.returncode))
    log("queue: %d files, %d taken twice (duplicate-flagged), deliveries %s" %
        (len(names), dups, dstates))
    log("total %.1f s for %d documents and %d kills" % (time.monotonic() - t0, a.docs, n))
    if n < a.kills:
        fails.append("only %d kills before the timeout" % n)
    for f in fails:
        print("FAIL: " + f, flush=True)
    if fails or a.keep:
        log("kept %s" % d)
    else:
        subprocess.run(["rm", "-rf", d])
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
