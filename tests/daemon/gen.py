#!/usr/bin/env python3
"""gen.py - generate document variants for the daemon tests, the way a
producer must drop them (docs/operations.md "The drop directory"): each file
is written as NAME.tmp, fsynced, and renamed to NAME.

    gen.py SRCDIR OUTDIR COUNT [--start N] [--invalid-every K] [--tag T]

Documents cycle through: an Order (PO-<T>-<k>) and invoices that reference
it (tests/data/invoice-nz.xml with a unique cbc:ID and OrderReference), so
deliveries are ordered per transaction. Every K-th document (K > 0) is made
invalid (cbc:IssueDate removed: an XSD error) and must go to rejects only.
Prints one line per document: NAME TYPE VALID.
"""
import argparse
import os
import re
import sys


def main():
    p = argparse.ArgumentParser()
    p.add_argument("src")
    p.add_argument("out")
    p.add_argument("count", type=int)
    p.add_argument("--start", type=int, default=0)
    p.add_argument("--invalid-every", type=int, default=0)
    p.add_argument("--tag", default="T")
    a = p.parse_args()
    inv = open(os.path.join(a.src, "tests/data/invoice-nz.xml"), encoding="utf-8").read()
    order = open(os.path.join(os.environ.get("SECMX_CORPUS", a.src + "/../shared/corpus"),
                              "ubl-examples/peppol-ordering3/Order_Example.xml"),
                 encoding="utf-8").read()
    for i in range(a.start, a.start + a.count):
        k = i // 4
        po = "PO-%s-%d" % (a.tag, k)
        if i % 4 == 0:
            doc = order.replace("<cbc:ID>34</cbc:ID>", "<cbc:ID>%s</cbc:ID>" % po, 1)
            kind = "Order"
        else:
            doc = inv.replace("INV-2026-00417", "INV-%s-%d" % (a.tag, i), 1)
            doc = doc.replace("PO-88120", po)
            kind = "Invoice"
        valid = not (a.invalid_every and i % a.invalid_every == a.invalid_every - 1)
        if not valid:
            doc = re.sub(r"<cbc:IssueDate>[^<]*</cbc:IssueDate>", "", doc, count=1)
        name = "%s-%05d.xml" % (a.tag, i)
        tmp = os.path.join(a.out, name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as fp:
            fp.write(doc)
            fp.flush()
            os.fsync(fp.fileno())
        os.rename(tmp, os.path.join(a.out, name))
        print(name, kind, "valid" if valid else "invalid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
