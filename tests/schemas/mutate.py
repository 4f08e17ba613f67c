#!/usr/bin/env python3
# mutate.py — seeded structural and value mutants of UBL documents, for the
# subset property test (tests/schemas/subset.sh).
#
#   mutate.py --seed N --per-doc K --profile DIR --out DIR FILE...
#
# For each FILE it writes K mutants to OUT/<n>-<stem>-<op>.xml and one line per
# mutant to OUT/manifest.tsv: mutant path, root element name, operator, what
# was changed. The same seed always gives the same mutants (the random stream
# is seeded from the seed and the file's name, not from the order of FILEs).
#
# Operators (each picks its target at random among the places it applies to):
#   drop       remove an element
#   dup        duplicate an element in place
#   swap       swap an element with its next sibling element
#   move       move an element to another position among its siblings
#   empty      empty a leaf's value
#   blank      make a leaf's value a single space
#   date       rewrite a date: bad day, zone suffix, 5-digit year, other formats
#   amount     rewrite a number: plus sign, '.5', '5.', exponent, comma, words
#   code       rewrite a code or identifier: case, length, punctuation
#   bool       rewrite an indicator: 1, 0, TRUE, yes
#   value      copy another leaf's value into a leaf (cross-typed values)
#   attr       change, empty or drop an attribute, or add an unknown one
#   unknown    insert an element UBL does not define
#   extension  add ext:UBLExtensions carrying a UBL element (from the document,
#              one the profile leaves out (EGIF-11), one inside a foreign
#              wrapper, or a foreign element typed with xsi:type), which
#              UBL 2.1 validates laxly
#
# Only the standard library; the output is well-formed XML (prefixes may be
# renamed by ElementTree, which does not change the meaning).

import argparse
import copy
import os
import random
import re
import sys
import xml.etree.ElementTree as ET
import zlib

UBL = "urn:oasis:names:specification:ubl:schema:xsd:"
CBC = UBL + "CommonBasicComponents-2"
CAC = UBL + "CommonAggregateComponents-2"
EXT = UBL + "CommonExtensionComponents-2"
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
NUM = re.compile(r"^-?\d+(\.\d+)?$")

OPS = ["drop", "dup", "swap", "move", "empty", "blank", "date", "amount", "code", "bool",
       "value", "attr", "unknown", "extension"]


def local(tag):
    return tag.split("}", 1)[1] if tag.startswith("{") else tag


def ns(tag):
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def leaves(root):
    return [e for e in root.iter() if e is not root and len(e) == 0 and ns(e.tag) == CBC]


def parents(root):
    return {c: p for p in root.iter() for c in p}


def not_in_profile(profile):
    """Names the profile declares as refused (EGIF-11), by namespace."""
    out = {CBC: [], CAC: []}
    for f, u in (("UBL-CommonBasicComponents-2.1.xsd", CBC),
                 ("UBL-CommonAggregateComponents-2.1.xsd", CAC)):
        with open(os.path.join(profile, "common", f), encoding="utf-8") as fh:
            out[u] = re.findall(r'name="([A-Za-z]+)" type="egif:NotInProfile"', fh.read())
    return out


def mutate(rng, root, op, refused):
    """Apply OP to ROOT in place; return a description, or None if OP has no
    place to apply in this document."""
    par = parents(root)
    elems = [e for e in root.iter() if e is not root]
    lv = leaves(root)

    if op == "drop":
        e = rng.choice(elems)
        par[e].remove(e)
        return "dropped %s" % local(e.tag)
    if op == "dup":
        e = rng.choice(elems)
        p = par[e]
        p.insert(list(p).index(e) + 1, copy.deepcopy(e))
        return "duplicated %s" % local(e.tag)
    if op == "swap":
        cands = [e for e in elems if list(par[e]).index(e) + 1 < len(par[e])]
        cands = [e for e in cands if par[e][list(par[e]).index(e) + 1].tag != e.tag]
        if not cands:
            return None
        e = rng.choice(cands)
        p = par[e]
        i = list(p).index(e)
        nxt = p[i + 1]
        p.remove(nxt)
        p.insert(i, nxt)
        return "swapped %s and %s" % (local(e.tag), local(nxt.tag))
    if op == "move":
        cands = [e for e in elems if len(par[e]) > 2]
        if not cands:
            return None
        e = rng.choice(cands)
        p = par[e]
        p.remove(e)
        j = rng.randrange(len(p) + 1)
        p.insert(j, e)
        return "moved %s to position %d" % (local(e.tag), j)
    if op in ("empty", "blank"):
        if not lv:
            return None
        e = rng.choice(lv)
        e.text = "" if op == "empty" else " "
        return "%s value of %s" % (op, local(e.tag))
    if op == "date":
        cands = [e for e in lv if e.text and DATE.match(e.text.strip())]
        if not cands:
            return None
        e = rng.choice(cands)
        y, m, d = e.text.strip().split("-")
        new = rng.choice(["%s-02-30" % y, "%s-13-01" % y, "%s-%s-%sZ" % (y, m, d),
                          "%s-%s-%s+12:00" % (y, m, d), "1%s-%s-%s" % (y, m, d),
                          "-%s-%s-%s" % (y, m, d), "%s/%s/%s" % (y, m, d),
                          "%s-%s-%sT10:00:00" % (y, m, d), "%s-%s-%s" % (y[2:], m, d),
                          "%s-%s-%s" % (y, m, str(int(d)))])
        old, e.text = e.text, new
        return "date %s: %s -> %s" % (local(e.tag), old.strip(), new)
    if op == "amount":
        cands = [e for e in lv if e.text and NUM.match(e.text.strip())]
        if not cands:
            return None
        e = rng.choice(cands)
        v = e.text.strip()
        new = rng.choice(["+" + v, "." + v.split(".")[-1], v.split(".")[0] + ".", v + "e2",
                          "1,000.00", v + " EUR", "-" + v.lstrip("-"), v + "0000001", "NaN",
                          " %s " % v])
        e.text = new
        return "number %s: %s -> %s" % (local(e.tag), v, new)
    if op == "code":
        cands = [e for e in lv if e.text and e.text.strip() and
                 (local(e.tag).endswith("Code") or local(e.tag).endswith("ID"))]
        if not cands:
            return None
        e = rng.choice(cands)
        v = e.text.strip()
        new = rng.choice([v.lower(), v + "X", v[:1], v + " " + v, "?", v.upper() + "Q",
                          "A" * 40, "%s\t" % v])
        e.text = new
        return "code %s: %s -> %r" % (local(e.tag), v, new)
    if op == "bool":
        cands = [e for e in lv if local(e.tag).endswith("Indicator")]
        if not cands:
            return None
        e = rng.choice(cands)
        new = rng.choice(["1", "0", "TRUE", "yes", "", " false "])
        e.text = new
        return "indicator %s -> %r" % (local(e.tag), new)
    if op == "value":
        if len(lv) < 2:
            return None
        a, b = rng.sample(lv, 2)
        a.text = b.text
        return "value of %s copied into %s" % (local(b.tag), local(a.tag))
    if op == "attr":
        cands = [e for e in elems if e.attrib]
        if not cands or rng.random() < 0.2:
            e = rng.choice(lv or elems)
            e.set("foo", "bar")
            return "unknown attribute on %s" % local(e.tag)
        e = rng.choice(cands)
        k = rng.choice(sorted(e.attrib))
        v = e.attrib[k]
        choice = rng.choice(["lower", "longer", "empty", "drop", "swapcase", "other"])
        if choice == "drop":
            del e.attrib[k]
            return "dropped @%s of %s" % (local(k), local(e.tag))
        new = {"lower": v.lower(), "longer": v + "X", "empty": "",
               "swapcase": v.swapcase(),
               "other": rng.choice(["XXX", "EU", "C", "H87", "text/plain", "pdf", "1", "0088"])}[choice]
        e.set(k, new)
        return "@%s of %s: %r -> %r" % (local(k), local(e.tag), v, new)
    if op == "unknown":
        p = rng.choice([root] + [e for e in elems if len(e)])
        tag = rng.choice(["{%s}NoSuchElement" % CBC, "{%s}NoSuchAggregate" % CAC,
                          "{urn:example:foreign}Thing"])
        n = ET.Element(tag)
        n.text = "x"
        p.insert(rng.randrange(len(p) + 1), n)
        return "inserted %s into %s" % (local(tag), local(p.tag))
    if op == "extension":
        if root.find("{%s}UBLExtensions" % EXT) is not None:
            return None
        kind = rng.choice(["copy", "refused", "wrapped", "wrapped-bad", "foreign", "xsitype"])
        if kind == "copy":
            payload = copy.deepcopy(rng.choice(elems))
        elif kind == "refused":
            u = rng.choice([CBC, CAC])
            payload = ET.Element("{%s}%s" % (u, rng.choice(refused[u])))
            payload.text = rng.choice(["", "true", "1", "x"])
        elif kind in ("wrapped", "wrapped-bad"):
            payload = ET.Element("{urn:example:foreign}Wrapper")
            inner = copy.deepcopy(rng.choice(lv)) if lv else ET.Element("{%s}ID" % CBC)
            if kind == "wrapped-bad":
                inner.text = ""
            payload.append(inner)
        elif kind == "xsitype":
            # An undeclared element typed by xsi:type: UBL validates it against
            # the named type if UBL has it; the profile must be no looser.
            uri, name = rng.choice([
                (UBL + "UnqualifiedDataTypes-2", "DateType"),
                (UBL + "UnqualifiedDataTypes-2", "IndicatorType"),
                (UBL + "UnqualifiedDataTypes-2", "IdentifierType"),
                (UBL + "UnqualifiedDataTypes-2", "AmountType"),
                (CBC, "IssueDateType"), (CBC, "IDType"), (CBC, "ChargeIndicatorType"),
                (CBC, "AcceptedIndicatorType"),
                ("urn:secmx:names:specification:egif:schema:xsd:ProfileTypes-1", "NotInProfile"),
                ("urn:secmx:names:specification:egif:schema:xsd:ProfileTypes-1", "CalendarDate")])
            payload = ET.Element("{urn:example:foreign}Typed")
            payload.set("xmlns:xt", uri)
            payload.set("{http://www.w3.org/2001/XMLSchema-instance}type", "xt:" + name)
            fitting = {"DateType": ["2020-01-01", "2020-01-01Z"], "IssueDateType": ["2020-01-01", "2020-01-01Z"],
                       "CalendarDate": ["2020-01-01"], "IndicatorType": ["true", "1"],
                       "ChargeIndicatorType": ["false", "0"], "AcceptedIndicatorType": ["true", "1"],
                       "AmountType": ["12.50", "+1"], "NotInProfile": ["", "x"]}.get(name, ["X", " "])
            payload.text = rng.choice(fitting if rng.random() < 0.8 else ["2020-01-01", "1", "", "X"])
            if name == "AmountType" and rng.random() < 0.7:
                payload.set("currencyID", rng.choice(["EUR", "eur"]))
        else:
            payload = ET.Element("{urn:example:foreign}Data")
            payload.text = "anything"
        exts = ET.Element("{%s}UBLExtensions" % EXT)
        ext = ET.SubElement(exts, "{%s}UBLExtension" % EXT)
        ET.SubElement(ext, "{%s}ExtensionContent" % EXT).append(payload)
        root.insert(0, exts)
        return "extension (%s) carrying %s" % (kind, local(payload.tag))
    raise ValueError(op)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=20261129)
    ap.add_argument("--per-doc", type=int, default=24)
    ap.add_argument("--profile", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    refused = not_in_profile(a.profile)
    os.makedirs(a.out, exist_ok=True)
    n = 0
    with open(os.path.join(a.out, "manifest.tsv"), "w", encoding="utf-8") as man:
        for f in a.files:
            for p, u in dict(ev[1] for ev in ET.iterparse(f, events=("start-ns",))).items():
                if p and not re.match(r"ns\d+$", p):
                    ET.register_namespace(p, u)
            stem = os.path.splitext(os.path.basename(f))[0]
            rng = random.Random("%d:%s" % (a.seed, os.path.basename(f)))
            made = tries = 0
            while made < a.per_doc and tries < a.per_doc * 20:
                tries += 1
                tree = ET.parse(f)
                root = tree.getroot()
                op = OPS[(made + tries) % len(OPS)] if rng.random() < 0.5 else rng.choice(OPS)
                what = mutate(rng, root, op, refused)
                if what is None:
                    continue
                n += 1
                made += 1
                out = os.path.join(a.out, "%04d-%s-%s.xml" % (n, stem, op))
                tree.write(out, encoding="UTF-8", xml_declaration=True)
                man.write("%s\t%s\t%s\t%s\n" % (out, local(root.tag), op,
                                                what.replace("\t", "\\t").replace("\n", " ")))
    print("mutate.py: %d mutants of %d documents (seed %d)" % (n, len(a.files), a.seed))


if __name__ == "__main__":
    main()
