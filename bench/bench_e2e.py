#!/usr/bin/env python3
"""bench_e2e.py - secmxd end to end: documents per second from drop-in to
adapter ACK, p50/p99 latency and the daemon's peak memory, beside the
engine-only rate (bench_pipeline: the same CPU work, no queue, no bus) in
the same run; at the maximum rate and at half of it. Prints figures; never
fails on time.

    bench_e2e.py BUILD_DIR [--docs 1000] [--workers 2]

The documents are tests/daemon/gen.py's variants (orders and invoices of
the NZ example, all valid), signed by the daemon with a throwaway EC key.
Two C SDK adapters take them: fin (Invoice) and records (everything);
latency is measured to records' journal line, written just before its ACK.
"""
import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(SRC, "tests/daemon"))
import crash  # noqa: E402  (make_docs, Proc)


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


def run(build, docs, workers, rate):
    """One daemon run; RATE 0 = as fast as possible. Returns figures."""
    d = setup(workers)
    ep = "ipc://%s/bus.sock" % d
    ta = os.path.join(build, "tests/test_adapter")
    daemon = crash.Proc("secmxd", [os.path.join(build, "cli/secmxd"), "-c", d + "/secmxd.conf"],
                        d + "/secmxd.log")
    fin = crash.Proc("fin", [ta, "-e", ep, "-n", "fin", "-p", "Invoice", "-s", d + "/fin.db",
                             "-j", d + "/fin.j", "-k", "64"], d + "/fin.log")
    rec = crash.Proc("records", [ta, "-e", ep, "-n", "records", "-p", "*", "-s", d + "/rec.db",
                                 "-j", d + "/rec.j", "-k", "64"], d + "/rec.log")
    daemon.start()
    while not os.path.exists(d + "/bus.sock"):
        time.sleep(0.02)
    fin.start()
    rec.start()
    time.sleep(0.5)
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
        if os.path.exists(d + "/rec.j"):
            for line in open(d + "/rec.j"):
                f = line.split()
                if len(f) >= 5:
                    got[f[3]] = int(f[4]) / 1000.0
        if len(got) >= len(docs):
            break
        time.sleep(0.2)
    peak = peak_kb(daemon.p.pid)
    cpu = {"secmxd": cpu_s(daemon.p.pid), "adapters": cpu_s(fin.p.pid) + cpu_s(rec.p.pid)}
    daemon.term()
    fin.term()
    rec.term()
    lat = [(got[k] - dropped[k]) * 1000.0 for k in got if k in dropped]
    span = max(got.values()) - t0 if got else 0
    subprocess.run(["rm", "-rf", d])
    return {"docs": len(got), "rate": len(got) / span if span else 0,
            "p50": pct(lat, 50) if lat else 0, "p99": pct(lat, 99) if lat else 0,
            "peak_kb": peak, "cpu": cpu}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--docs", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args()
    corpus = os.environ.get("SECMX_CORPUS", os.path.join(SRC, "../shared/corpus"))
    docs = crash.make_docs(SRC, corpus, a.docs, a.docs + 1)  # all valid
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
    full = run(a.build, docs, a.workers, 0)
    print("end-to-end, maximum rate: documents=%d rate=%.1f docs/s p50=%.1f ms p99=%.1f ms "
          "peak_rss=%d KiB (%.0f%% of engine-only)"
          % (full["docs"], full["rate"], full["p50"], full["p99"], full["peak_kb"],
             100.0 * full["rate"] / eng_rate if eng_rate else 0), flush=True)
    print("  CPU per document: secmxd %.2f ms, the two adapters %.2f ms"
          % (1000.0 * full["cpu"]["secmxd"] / max(1, full["docs"]),
             1000.0 * full["cpu"]["adapters"] / max(1, full["docs"])), flush=True)
    half_rate = full["rate"] / 2
    half = run(a.build, docs, a.workers, half_rate)
    print("end-to-end, half rate (%.1f docs/s offered): documents=%d rate=%.1f docs/s "
          "p50=%.1f ms p99=%.1f ms peak_rss=%d KiB"
          % (half_rate, half["docs"], half["rate"], half["p50"], half["p99"],
             half["peak_kb"]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
