#!/usr/bin/env python3
"""gen.py - generate document variants for the daemon tests, the way a
producer must drop them (docs/operations.md "The drop directory"): each file
is written as NAME.tmp, fsynced, and renamed to NAME.

    gen.py SRCDIR OUTDIR COUNT [--start N] [--invalid-every K] [--tag T]
           [--lines N]

Documents cycle through: an Order (PO-<T>-<k>) and invoices that reference
it (tests/data/invoice-nz.xml with a unique cbc:ID and OrderReference), so
deliveries are ordered per transaction. Every K-th document (K > 0) is made
invalid (cbc:IssueDate removed: an XSD error) and must go to rejects only.
--lines N gives every invoice N lines (invoice_lines: the first line
copied, totals and GST recomputed; still valid), for large documents.
Prints one line per document: NAME TYPE VALID.
"""
import argparse
import os
import re
import sys


def invoice_lines(doc, n):
    """Invoice DOC (tests/data/invoice-nz.xml's variant) with N lines:
    lines 3..N are copies of line 1 (10 x 45.00 = 450.00, GST 15%) with
    their own cbc:ID and no order line reference; totals and GST follow.
    Amounts are kept in cents so that the sums are exact."""
    if n <= 2:
        return doc
    start = doc.index("<cac:InvoiceLine>")
    end = doc.index("</cac:InvoiceLine>", start) + len("</cac:InvoiceLine>")
    first = re.sub(r"\s*<cac:OrderLineReference>.*?</cac:OrderLineReference>", "",
                   doc[start:end], count=1, flags=re.S)
    extra = "".join("\n  " + first.replace("<cbc:ID>1</cbc:ID>", "<cbc:ID>%d</cbc:ID>" % k, 1)
                    for k in range(3, n + 1))
    close = doc.rindex("</cac:InvoiceLine>") + len("</cac:InvoiceLine>")
    doc = doc[:close] + extra + doc[close:]
    net = 70900 + 45000 * (n - 2)
    gst = (net * 15 + 50) // 100
    money = {"70900": net, "10635": gst, "81535": net + gst}

    def fix(m):
        cents = m.group(2).replace(".", "")
        if cents not in money:
            return m.group(0)
        v = money[cents]
        return "%s%d.%02d%s" % (m.group(1), v // 100, v % 100, m.group(3))

    head, tail = doc[:start], doc[start:]  # the lines keep their own amounts
    return re.sub(r'(currencyID="NZD">)(\d+\.\d\d)(<)', fix, head) + tail


def main():
    p = argparse.ArgumentParser()
    p.add_argument("src")
    p.add_argument("out")
    p.add_argument("count", type=int)
    p.add_argument("--start", type=int, default=0)
    p.add_argument("--invalid-every", type=int, default=0)
    p.add_argument("--tag", default="T")
    p.add_argument("--lines", type=int, default=2)
    a = p.parse_args()
    inv = open(os.path.join(a.src, "tests/data/invoice-nz.xml"), encoding="utf-8").read()
    order = None  # read when an order is due: invoices alone need no corpus
    for i in range(a.start, a.start + a.count):
        k = i // 4
        po = "PO-%s-%d" % (a.tag, k)
        if i % 4 == 0:
            if order is None:
                order = open(os.path.join(os.environ.get("SECMX_CORPUS",
                                                         a.src + "/../shared/corpus"),
                                          "ubl-examples/peppol-ordering3/Order_Example.xml"),
                             encoding="utf-8").read()
            doc = order.replace("<cbc:ID>34</cbc:ID>", "<cbc:ID>%s</cbc:ID>" % po, 1)
            kind = "Order"
        else:
            doc = inv.replace("INV-2026-00417", "INV-%s-%d" % (a.tag, i), 1)
            doc = invoice_lines(doc.replace("PO-88120", po), a.lines)
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
