#!/usr/bin/env python3
"""bagit_check.py — an independent BagIt (RFC 8493) validator, for tests only.

    bagit_check.py BAGDIR        exit 0 if valid, 1 if not (reasons on stdout)

Written from RFC 8493 alone (standard library only), not from secmx code:
  2.1.1  bagit.txt: exactly "BagIt-Version: M.N" then
         "Tag-File-Character-Encoding: ENC"; nothing else.
  2.1.2  the payload directory data/ exists.
  2.1.3  at least one payload manifest manifest-ALG.txt; each line
         "CHECKSUM<whitespace>FILEPATH"; paths relative, under data/, no "..",
         percent-encoded %0A %0D %25; every payload file listed in every
         payload manifest exactly once; every listed file exists; checksums
         match.
  2.2.1  tagmanifest-ALG.txt: lists tag files only (never data/), checksums
         match; we also require it to list bagit.txt, bag-info.txt and the
         payload manifests (SHOULD in the RFC).
  2.2.2  bag-info.txt: "Label: Value" lines, continuation lines start with
         whitespace; Payload-Oxum "OCTETS.STREAMS" equals the payload;
         Bagging-Date YYYY-MM-DD; Bag-Count "N of T" or "N of ?".
  2.3    fetch.txt absent (a complete bag is expected here).
  Tag files: UTF-8, one line-ending convention per file (LF, CRLF or CR),
  the last line terminated.
"""
import hashlib
import os
import re
import sys

ALGS = {"md5": 32, "sha1": 40, "sha256": 64, "sha512": 128}


class Bag:
    def __init__(self, root):
        self.root = root
        self.errors = []

    def err(self, msg):
        self.errors.append(msg)

    def read_lines(self, name):
        """Lines of a tag file, checking encoding and line endings."""
        path = os.path.join(self.root, name)
        with open(path, "rb") as f:
            raw = f.read()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            self.err(f"{name}: not UTF-8")
            return []
        if text.startswith("\ufeff"):
            self.err(f"{name}: starts with a byte-order mark")
        if not text:
            return []
        kinds = set()
        for m in re.finditer(r"\r\n|\r|\n", text):
            kinds.add(m.group(0))
        if len(kinds) > 1:
            self.err(f"{name}: mixed line endings {sorted(map(repr, kinds))}")
        if not (text.endswith("\n") or text.endswith("\r")):
            self.err(f"{name}: last line not terminated")
        return re.split(r"\r\n|\r|\n", text)[:-1]

    def decode_path(self, name, lineno, p):
        if re.search(r"%(?![0-9A-Fa-f]{2})", p):
            self.err(f"{name}:{lineno}: bad percent-encoding in {p!r}")
        dec = re.sub(r"%(0A|0a|0D|0d|25)", lambda m: chr(int(m.group(1), 16)), p)
        if dec.startswith("/") or ".." in dec.split("/") or dec.startswith("~"):
            self.err(f"{name}:{lineno}: path escapes the bag: {p!r}")
        return dec

    def manifest(self, name, alg):
        """{path: checksum} from a (tag)manifest."""
        entries = {}
        for i, line in enumerate(self.read_lines(name), 1):
            m = re.fullmatch(r"([0-9A-Fa-f]+)[ \t]+(.+)", line)
            if not m:
                self.err(f"{name}:{i}: not 'CHECKSUM FILEPATH': {line!r}")
                continue
            csum, p = m.group(1).lower(), self.decode_path(name, i, m.group(2))
            if len(csum) != ALGS[alg]:
                self.err(f"{name}:{i}: {alg} checksum of wrong length")
            if p in entries:
                self.err(f"{name}:{i}: {p} listed twice")
            entries[p] = csum
        return entries

    def digest(self, rel, alg):
        h = hashlib.new(alg)
        with open(os.path.join(self.root, rel), "rb") as f:
            for chunk in iter(lambda: f.read(65536), b""):
                h.update(chunk)
        return h.hexdigest()

    def check(self):
        root = self.root
        if not os.path.isfile(os.path.join(root, "bagit.txt")):
            self.err("bagit.txt missing")
            return
        lines = self.read_lines("bagit.txt")
        if len(lines) != 2 or not re.fullmatch(r"BagIt-Version: \d+\.\d+", lines[0]) \
                or not re.fullmatch(r"Tag-File-Character-Encoding: \S+", lines[1]):
            self.err(f"bagit.txt: want exactly the two declaration lines, got {lines!r}")
        elif lines[1].split(": ")[1].upper() not in ("UTF-8", "UTF8"):
            self.err("bagit.txt: this checker reads UTF-8 tag files only")
        if not os.path.isdir(os.path.join(root, "data")):
            self.err("data/ missing")
            return
        if os.path.exists(os.path.join(root, "fetch.txt")):
            self.err("fetch.txt present: bag not complete")

        payload = []
        octets = 0
        for d, _, files in os.walk(os.path.join(root, "data")):
            for fn in files:
                full = os.path.join(d, fn)
                payload.append(os.path.relpath(full, root).replace(os.sep, "/"))
                octets += os.path.getsize(full)
        payload_set = set(payload)

        names = sorted(os.listdir(root))
        manifests = [n for n in names if re.fullmatch(r"manifest-(\w+)\.txt", n)]
        tagmanifests = [n for n in names if re.fullmatch(r"tagmanifest-(\w+)\.txt", n)]
        if not manifests:
            self.err("no payload manifest")
        for n in manifests:
            alg = n[len("manifest-"):-4]
            if alg not in ALGS:
                self.err(f"{n}: unknown algorithm")
                continue
            ent = self.manifest(n, alg)
            for p, csum in ent.items():
                if not p.startswith("data/"):
                    self.err(f"{n}: {p} is not in the payload directory")
                elif p not in payload_set:
                    self.err(f"{n}: {p} listed but missing")
                elif self.digest(p, alg) != csum:
                    self.err(f"{n}: {p} checksum mismatch")
            for p in payload_set - set(ent):
                self.err(f"{n}: payload file {p} not listed")
        tag_files = [n for n in names if os.path.isfile(os.path.join(root, n))
                     and n not in tagmanifests]
        for n in tagmanifests:
            alg = n[len("tagmanifest-"):-4]
            if alg not in ALGS:
                self.err(f"{n}: unknown algorithm")
                continue
            ent = self.manifest(n, alg)
            for p, csum in ent.items():
                if p.startswith("data/"):
                    self.err(f"{n}: lists payload file {p}")
                elif not os.path.isfile(os.path.join(root, p)):
                    self.err(f"{n}: {p} listed but missing")
                elif self.digest(p, alg) != csum:
                    self.err(f"{n}: {p} checksum mismatch")
            for t in tag_files:
                if t not in ent:
                    self.err(f"{n}: tag file {t} not listed")

        if os.path.isfile(os.path.join(root, "bag-info.txt")):
            info = {}
            label = None
            for i, line in enumerate(self.read_lines("bag-info.txt"), 1):
                if line[:1] in (" ", "\t") and label:
                    info[label][-1] += " " + line.strip()
                    continue
                m = re.fullmatch(r"([^:\s][^:]*?)\s*:\s(.*)", line)
                if not m:
                    self.err(f"bag-info.txt:{i}: not 'Label: Value': {line!r}")
                    continue
                label = m.group(1)
                info.setdefault(label, []).append(m.group(2))
            for lab in ("Payload-Oxum", "Bagging-Date", "Bag-Count", "Bag-Size"):
                if len(info.get(lab, [])) > 1:
                    self.err(f"bag-info.txt: {lab} repeated")
            ox = info.get("Payload-Oxum", [None])[0]
            if ox is not None:
                m = re.fullmatch(r"(\d+)\.(\d+)", ox)
                if not m:
                    self.err(f"bag-info.txt: Payload-Oxum {ox!r} malformed")
                elif (int(m.group(1)), int(m.group(2))) != (octets, len(payload)):
                    self.err(f"bag-info.txt: Payload-Oxum {ox} but payload is "
                             f"{octets}.{len(payload)}")
            bd = info.get("Bagging-Date", [None])[0]
            if bd is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", bd):
                self.err(f"bag-info.txt: Bagging-Date {bd!r} not YYYY-MM-DD")
            bc = info.get("Bag-Count", [None])[0]
            if bc is not None and not re.fullmatch(r"\d+ of (\d+|\?)", bc):
                self.err(f"bag-info.txt: Bag-Count {bc!r} malformed")
            self.info = info
        else:
            self.info = {}


def main():
    if len(sys.argv) != 2:
        print("usage: bagit_check.py BAGDIR")
        return 2
    b = Bag(sys.argv[1])
    b.check()
    for e in b.errors:
        print("INVALID:", e)
    if b.errors:
        return 1
    print("VALID bag", sys.argv[1], "Payload-Oxum",
          b.info.get("Payload-Oxum", ["-"])[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
