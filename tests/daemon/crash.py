#!/usr/bin/env python3
"""crash.py - the crash test (issue 4, "Measured, not guessed").

Feeds DOCS generated documents (orders and the invoices that reference them,
tests/daemon/gen.py's variants, every 10th one invalid) into secmxd's drop
directory while killing secmxd and the two C SDK adapters (fin: Invoice;
records: * and reject:*) with SIGKILL at seeded random moments (KILLS
kills; a killed secmxd is restarted at once and the next kill waits until it
has logged daemon.started, so every kill lands while documents move). Then lets everything finish and checks:

  - every fed file is in the queue, every original message in its final
    state ("done"; "dropped" for a duplicate), none dead or quarantined;
  - every delivery is acknowledged;
  - each adapter's seen-table (the SDK's idempotency table) holds exactly
    the idempotency keys the queue routed to it, and each routed document
    (by its cbc:ID) under exactly one key: fin has every valid invoice
    once, records every document once (the invalid ones as reject:<type>).

The adapters' journals count work done twice inside the SDK's documented
window (killed after the work, before adapter_seen_mark); that is reported,
not failed: the seen-table is the exactly-once record.

    crash.py [--docs 2000] [--kills 50] [--seed 4] [--timeout 300] [--keep]
Needs SECMX_BUILD, SECMX_SRC, SECMX_CORPUS. Exit 0 pass, 1 fail.
"""
import argparse
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


def seen_keys(path):
    if not os.path.exists(path):
        return set()
    db = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=10)
    try:
        return {r[0] for r in db.execute("SELECT key FROM seen")}
    except sqlite3.Error:
        return set()
    finally:
        db.close()


def queue_db(path):
    return sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=10)


def progress(qpath, fin_seen, rec_seen):
    """(originals not final, deliveries not acked, fin seen, records seen)."""
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
    return total, open_msgs, unacked, len(seen_keys(fin_seen)), len(seen_keys(rec_seen))


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
                 "[routing]\nroutes = fin:Invoice, records:*, records:reject:*\n"
                 "[log]\nlevel = notice\n" % (d, d, d, drop, d))
    os.chmod(conf, 0o600)
    ep = "ipc://%s/bus.sock" % d
    ta = os.path.join(build, "tests/test_adapter")
    procs = {
        "secmxd": Proc("secmxd", [os.path.join(build, "cli/secmxd"), "-c", conf],
                       d + "/secmxd.log"),
        "fin": Proc("fin", [ta, "-e", ep, "-n", "fin", "-p", "Invoice", "-s", d + "/fin.db",
                            "-j", d + "/fin.j", "-k", "16"], d + "/fin.log"),
        "records": Proc("records", [ta, "-e", ep, "-n", "records", "-p", "*", "-p",
                                    "reject:*", "-s", d + "/rec.db", "-j", d + "/rec.j",
                                    "-k", "16"], d + "/rec.log"),
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
        st = progress(d + "/q.db", d + "/fin.db", d + "/rec.db")
        if st and st[0] >= a.docs and st[1] == 0 and st[2] == 0 and st[3] >= len(want_fin) \
                and st[4] >= len(want_rec):
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
    routed = {}
    for adapter, key in db.execute("SELECT adapter, idem_key FROM delivery"):
        routed.setdefault(adapter, set()).add(key)
    db.close()
    for name, seen, journal, want in (("fin", "fin.db", "fin.j", want_fin),
                                      ("records", "rec.db", "rec.j", want_rec)):
        keys = seen_keys(os.path.join(d, seen))
        if keys != routed.get(name, set()):
            fails.append("%s: seen-table %d keys, queue routed %d (missing %d, extra %d)"
                         % (name, len(keys), len(routed.get(name, set())),
                            len(routed.get(name, set()) - keys),
                            len(keys - routed.get(name, set()))))
        by_doc, lines = {}, 0
        with open(os.path.join(d, journal)) as fp:
            for line in fp:
                lines += 1
                key, _typ, _size, docid = line.split()[:4]
                by_doc.setdefault(docid, set()).add(key)
        docs_seen = set(by_doc)
        if docs_seen != want:
            fails.append("%s: documents %d, want %d (missing %d, unexpected %d)"
                         % (name, len(docs_seen), len(want), len(want - docs_seen),
                            len(docs_seen - want)))
        multi = [k for k, v in by_doc.items() if len(v) > 1]
        if multi:
            fails.append("%s: %d documents under more than one key (e.g. %s)"
                         % (name, len(multi), multi[0]))
        log("%s: %d documents exactly once in the seen-table; journal %d lines "
            "(%d redone inside the SDK's crash window)" % (name, len(keys), lines, lines - len(keys)))
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
