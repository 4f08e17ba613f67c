#!/usr/bin/env python3
"""bench_e2e.py - secmxd end to end: documents per second from drop-in to
adapter ACK, p50/p99 latency and the daemon's peak memory, beside the
engine-only rate (bench_pipeline: the same CPU work, no queue, no bus) in
the same run; at the maximum rate and at half of it. Prints figures; never
fails on time.

    bench_e2e.py BUILD_DIR [--docs 1000] [--workers 2] [--adapters test|real|none]
                 [--real-build DIR] [--rate R] [--records-sync files|filesystem]
                 [--lines N]

The documents are tests/daemon/gen.py's variants (orders and invoices of
the NZ example, all valid), signed by the daemon with a throwaway EC key.
Two adapters take them: fin (Invoice) and records (everything), credit 64.

--adapters test (the default): the C SDK test adapter (tests/test_adapter)
for both; latency is measured to records' journal line, written just
before its ACK (the line is written before the burst's fsync).
--adapters real: the real adapters, secmx-finance (SQLite ledger) and
secmx-records (an archive store), with throwaway configurations in the
temp dir; latency is measured to the moment secmxd took records' ACK: the
queue's delivery.acked_at (milliseconds, secmxd's clock, set when the ACK
is processed), read from the queue database. --real-build DIR takes
secmx-finance and secmx-records from another build directory (default
BUILD_DIR), to compare two builds of the adapters under the same secmxd.
--adapters none: no adapter connects; a document counts once secmxd has
routed it (its queue state is done, read from the queue database, time
from msg.updated_at), so the figures are the engine's and the queue's
work without the bus's and the adapters'.
--lines N: the invoices carry N lines (default 2, the example's own):
lines beyond the second are copies of the first with their own line id
and no order line reference, and the totals and GST are recomputed, so
every document stays valid; to see how the figures move with document
size. The engine-only run takes the same documents.
--rate R offers the second run at R docs/s instead of half the maximum, so
that two builds' latencies are compared at the same load.
--records-sync sets secmx-records' records.sync (docs/records.md section
3; default files, the adapter's own default): filesystem makes a burst's
objects durable by two syncfs calls instead of an fsync per file and per
directory. The bench's store shares the file system of the temp dir.
CPU per document is given for secmxd and for each adapter: CPU seconds of
the process over the documents of the run, without the start-up (the CPU
each process had used half a second after they all started) and with it;
bench_pipeline gives the engine's the same two ways. The CPU budget line
gives what 80% of the engine-only rate would leave per document for all
processes together: the machine's cores over 0.8 times that rate (the
engine-only run keeps every core busy), beside what this run used. The queue's COMMITs
and syncs per 1,000 documents come from secmxd's queue.stats log line.
"""
import argparse
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(SRC, "tests/daemon"))
import crash  # noqa: E402  (make_docs, Proc)
import gen  # noqa: E402  (invoice_lines)


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def peak_kb(pid):
    try:
        for line in open("/proc/%d/status" % pid):
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_s(pid):
    """user + system CPU seconds of PID so far."""
    try:
        f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / float(os.sysconf("SC_CLK_TCK"))
    except (OSError, IndexError, ValueError):
        return 0.0


def queue_stats(log):
    """The fields of secmxd's last queue.stats line (logged when it has
    drained at SIGTERM) as {name: int}; {} when there is none."""
    out = {}
    try:
        for line in open(log, errors="replace"):
            if " queue.stats " in line:
                out = {k: int(v) for k, v in
                       (f.split("=", 1) for f in line.split() if "=" in f)
                       if v.isdigit()}
    except OSError:
        pass
    return out


def setup(workers):
    d = tempfile.mkdtemp(prefix="secmx-bench-")
    os.mkdir(d + "/drop")
    os.mkdir(d + "/stage")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", d + "/org.key", "-out",
                    d + "/org.crt", "-days", "2", "-subj", "/CN=secmxd bench"],
                   check=True, capture_output=True)
    os.chmod(d + "/org.key", 0o600)
    with open(d + "/secmxd.conf", "w") as fp:
        fp.write("[engine]\nsign_key = %s/org.key\nsign_cert = %s/org.crt\n"
                 "[queue]\ndb = %s/q.db\n[intake]\ndrop_dir = %s/drop\npoll_interval = 10ms\n"
                 "max_inflight = 512\n[bus]\nendpoint = ipc://%s/bus.sock\n"
                 "[workers]\ncount = %d\n"
                 "[routing]\nroutes = fin:Invoice, records:*, records:reject:*\n"
                 "[log]\nlevel = notice\n" % (d, d, d, d, d, workers))
    os.chmod(d + "/secmxd.conf", 0o600)
    return d


def real_adapters(d, ep, real_bin, records_sync):
    """secmx-finance and secmx-records with throwaway configurations in D."""
    with open(d + "/fin.ini", "w") as fp:
        fp.write("[finance]\nendpoint = %s\nname = fin\npatterns = Invoice\ncredit = 64\n"
                 "sqlite_path = %s/ledger.db\nlog_level = notice\n" % (ep, d))
    with open(d + "/rec.ini", "w") as fp:
        fp.write("[records]\nendpoint = %s\nname = records\npatterns = *\ncredit = 64\n"
                 "store_dir = %s/archive\norganisation = secmx bench\nlog_level = notice\n"
                 "sync = %s\n" % (ep, d, records_sync))
    os.chmod(d + "/fin.ini", 0o600)
    os.chmod(d + "/rec.ini", 0o600)
    fin = crash.Proc("fin", [os.path.join(real_bin["finance"], "secmx-finance"), "run", "-c",
                             d + "/fin.ini"], d + "/fin.log")
    rec = crash.Proc("records", [os.path.join(real_bin["records"], "secmx-records"), "-c",
                                 d + "/rec.ini", "run"], d + "/rec.log")
    return fin, rec


def acked(d, name_to_id):
    """{document id: records' ACK time (s)} from the queue's delivery.acked_at.
    The delivery's message is a bundle whose first line is "@original ID
    SHA256" (docs/operations.md, bundles), ID the original message, whose
    doc_id is the dropped file's "NAME@SHA256"; NAME_TO_ID maps the file name
    to the document's id (the key of the drop times)."""
    try:
        db = sqlite3.connect("file:%s/q.db?mode=ro" % d, uri=True, timeout=10)
        rows = db.execute("SELECT substr(b.body, 1, 40), d.acked_at FROM delivery d"
                          " JOIN msg_body b ON b.msg_id = d.msg_id WHERE d.adapter = 'records'"
                          " AND d.state = 'acked' AND d.acked_at IS NOT NULL").fetchall()
        orig = dict(db.execute("SELECT id, doc_id FROM msg WHERE source = 'dropdir'"))
        db.close()
    except sqlite3.Error:
        return {}
    out = {}
    for head, t in rows:
        try:
            head = bytes(head).decode("ascii", "replace").split()
            if head[0] != "@original":
                continue
            name = orig[int(head[1])].split("@")[0]
            out[name_to_id[name]] = t / 1000.0
        except (KeyError, ValueError):
            pass
    return out


def routed(d, name_to_id):
    """{document id: the time (s) secmxd finished routing it} from the
    queue's msg.updated_at (ms) of the dropped documents in state done;
    doc_id is the dropped file's "NAME@SHA256" (see acked)."""
    try:
        db = sqlite3.connect("file:%s/q.db?mode=ro" % d, uri=True, timeout=10)
        rows = db.execute("SELECT doc_id, updated_at FROM msg WHERE source = 'dropdir'"
                          " AND state = 'done'").fetchall()
        db.close()
    except sqlite3.Error:
        return {}
    return {name_to_id[n.split("@")[0]]: t / 1000.0 for n, t in rows
            if n and n.split("@")[0] in name_to_id}


def run(build, docs, workers, rate, adapters="test", real_bin=None, records_sync="files"):
    """One daemon run; RATE 0 = as fast as possible. Returns figures."""
    d = setup(workers)
    ep = "ipc://%s/bus.sock" % d
    ta = os.path.join(build, "tests/test_adapter")
    daemon = crash.Proc("secmxd", [os.path.join(build, "cli/secmxd"), "-c", d + "/secmxd.conf"],
                        d + "/secmxd.log")
    if adapters == "real":
        fin, rec = real_adapters(d, ep, real_bin, records_sync)
    elif adapters == "none":
        fin = rec = None
    else:
        fin = crash.Proc("fin", [ta, "-e", ep, "-n", "fin", "-p", "Invoice", "-s",
                                 d + "/fin.db", "-j", d + "/fin.j", "-k", "64"], d + "/fin.log")
        rec = crash.Proc("records", [ta, "-e", ep, "-n", "records", "-p", "*", "-s",
                                     d + "/rec.db", "-j", d + "/rec.j", "-k", "64"],
                         d + "/rec.log")
    daemon.start()
    while not os.path.exists(d + "/bus.sock"):
        time.sleep(0.02)
    adapter = {"fin": fin, "records": rec}
    for p in adapter.values():
        if p:
            p.start()
    time.sleep(0.5)

    def cpu_all():
        out = {"secmxd": cpu_s(daemon.p.pid)}
        for k, p in adapter.items():
            out[k] = cpu_s(p.p.pid) if p else 0.0
        out["adapters"] = out["fin"] + out["records"]
        return out
    # CPU spent before the first document: start-up (schemas, rules, keys)
    cpu0 = cpu_all()
    for name, text, _, _, _ in docs:
        with open(os.path.join(d, "stage", name), "w") as fp:
            fp.write(text)
    dropped = {}
    t0 = time.time()
    for i, (name, _, _, _, docid) in enumerate(docs):
        if rate:
            wait = t0 + i / rate - time.time()
            if wait > 0:
                time.sleep(wait)
        dropped[docid] = time.time()
        os.rename(os.path.join(d, "stage", name), os.path.join(d, "drop", name))
    got = {}
    deadline = time.time() + 600
    while time.time() < deadline:
        got = {}
        if adapters == "real":
            got = acked(d, {name: docid for name, _, _, _, docid in docs})
        elif adapters == "none":
            got = routed(d, {name: docid for name, _, _, _, docid in docs})
        elif os.path.exists(d + "/rec.j"):
            for line in open(d + "/rec.j"):
                f = line.split()
                if len(f) >= 5:
                    got[f[3]] = int(f[4]) / 1000.0
        if len(got) >= len(docs):
            break
        time.sleep(0.2)
    peak = peak_kb(daemon.p.pid)
    cpu = cpu_all()
    daemon.term()
    for p in adapter.values():
        if p:
            p.term()
    qstats = queue_stats(d + "/secmxd.log")
    lat = [(got[k] - dropped[k]) * 1000.0 for k in got if k in dropped]
    span = max(got.values()) - t0 if got else 0
    subprocess.run(["rm", "-rf", d])
    return {"docs": len(got), "rate": len(got) / span if span else 0,
            "p50": pct(lat, 50) if lat else 0, "p99": pct(lat, 99) if lat else 0,
            "peak_kb": peak, "cpu": cpu, "cpu0": cpu0, "queue": qstats}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--docs", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--adapters", choices=("test", "real", "none"), default="test")
    ap.add_argument("--lines", type=int, default=2,
                    help="lines per invoice (the example has 2)")
    ap.add_argument("--rate", type=float, default=0,
                    help="offer the second run at this rate (docs/s) instead of half the "
                    "maximum, to compare latencies of two builds at the same load")
    ap.add_argument("--records-sync", choices=("files", "filesystem"), default="files",
                    help="records.sync of secmx-records (--adapters real)")
    ap.add_argument("--real-build", default=None,
                    help="build directory whose adapters/ the real adapters come from")
    a = ap.parse_args()
    rb = a.real_build or a.build
    real_bin = {"finance": os.path.join(rb, "adapters/finance"),
                "records": os.path.join(rb, "adapters/records")}
    print("load average: %s; adapters: %s%s" % (
        " ".join(open("/proc/loadavg").read().split()[:3]), a.adapters,
        " from %s, records.sync = %s" % (rb, a.records_sync) if a.adapters == "real" else ""),
        flush=True)
    corpus = os.environ.get("SECMX_CORPUS", os.path.join(SRC, "../shared/corpus"))
    docs = [(name, gen.invoice_lines(text, a.lines) if kind == "Invoice" else text, kind,
             valid, docid)
            for name, text, kind, valid, docid in
            crash.make_docs(SRC, corpus, a.docs, a.docs + 1)]  # all valid
    print("documents: %d, %.1f KB on average (invoices of %d lines)"
          % (len(docs), sum(len(t.encode()) for _, t, _, _, _ in docs) / 1024.0 / len(docs),
             max(2, a.lines)), flush=True)
    # Engine only: the same documents, the same threads, no queue, no bus.
    d = setup(a.workers)
    listing = []
    for name, text, _, _, _ in docs[:400]:
        path = os.path.join(d, "stage", name)
        with open(path, "w") as fp:
            fp.write(text)
        listing.append(path)
    out = subprocess.run([os.path.join(a.build, "bench/bench_pipeline"), str(a.workers),
                          str(max(1, a.docs // len(listing))), d + "/org.key", d + "/org.crt"],
                         input="\n".join(listing) + "\n", capture_output=True, text=True)
    subprocess.run(["rm", "-rf", d])
    print(out.stdout.strip() or out.stderr.strip(), flush=True)
    eng_rate = float(out.stdout.split("rate=")[1].split()[0]) if "rate=" in out.stdout else 0
    full = run(a.build, docs, a.workers, 0, a.adapters, real_bin, a.records_sync)
    print("end-to-end, maximum rate: documents=%d rate=%.1f docs/s p50=%.1f ms p99=%.1f ms "
          "peak_rss=%d KiB (%.0f%% of engine-only)"
          % (full["docs"], full["rate"], full["p50"], full["p99"], full["peak_kb"],
             100.0 * full["rate"] / eng_rate if eng_rate else 0), flush=True)
    n = max(1, full["docs"])
    run_ms = {k: 1000.0 * (full["cpu"][k] - full["cpu0"][k]) / n for k in full["cpu"]}
    print("  CPU per document: secmxd %.2f ms, the two adapters %.2f ms (fin %.2f, records %.2f);"
          " with start-up: secmxd %.2f ms, adapters %.2f ms"
          % (run_ms["secmxd"], run_ms["adapters"], run_ms["fin"], run_ms["records"],
             1000.0 * full["cpu"]["secmxd"] / n, 1000.0 * full["cpu"]["adapters"] / n),
          flush=True)
    if eng_rate:
        cores = os.cpu_count() or 1
        used = 1000.0 * (full["cpu"]["secmxd"] + full["cpu"]["adapters"]) / n
        print("  CPU budget at 80%% of engine-only: %.2f ms per document for all processes"
              " (%d cores / %.1f docs/s); this run used %.2f ms (secmxd and adapters, with"
              " start-up), the cores %.0f%% busy with them"
              % (cores * 1000.0 / (0.8 * eng_rate), cores, 0.8 * eng_rate, used,
                 100.0 * used * full["rate"] / (cores * 1000.0)), flush=True)
    q = full["queue"]
    if "commits" in q:
        print("  queue, per 1,000 documents: %.0f COMMITs, %.0f syncs, %.0f operations"
              " (largest batch %d operations)"
              % (1000.0 * q["commits"] / n, 1000.0 * q.get("syncs", 0) / n,
                 1000.0 * q.get("operations", 0) / n, q.get("max_batch", 0)), flush=True)
    half_rate = a.rate or full["rate"] / 2
    half = run(a.build, docs, a.workers, half_rate, a.adapters, real_bin, a.records_sync)
    print("end-to-end, %s (%.1f docs/s offered): documents=%d rate=%.1f docs/s "
          "p50=%.1f ms p99=%.1f ms peak_rss=%d KiB"
          % ("fixed rate" if a.rate else "half rate", half_rate, half["docs"], half["rate"],
             half["p50"], half["p99"],
             half["peak_kb"]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
