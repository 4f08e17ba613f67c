#!/usr/bin/env python3
"""gen-ordering-structure.py - write the Peppol Ordering structure rules
(PEPPOL-Tnn-B*, "generated" rules upstream) and their test cases from the
compact structure files schemas/rules/ordering-structure/<Tnn>.txt.

Usage: scripts/gen-ordering-structure.py      (from anywhere; paths are the tree's)

Input:  schemas/rules/ordering-structure/codelists.txt  (code list names)
        schemas/rules/ordering-structure/T*.txt         (one per transaction; format
                                                         in the header of T01.txt)
Output: schemas/rules/peppol-ordering-3-structure.sch   (one pattern per transaction)
        tests/rules/peppol-ordering-3-structure/<RULE-ID>/{fires,passes}-*.xml
        tests/rules/peppol-ordering-3-structure/PROFILE

Rule numbering, as upstream: the lines of a structure file (elements and
attributes) are numbered 1, 2, ... in order (num=N skips to N where the data
model has lines no rule names); rule PEPPOL-Tnn-BNNNkk is the
kk-th assert of line NNN's element: first one per mandatory child element
("must be provided"), then the element's own value check (fixed value or code
list), then per attribute its presence (when mandatory) and code list, then
(root only) no xsi:schemaLocation, last (an element with element children,
unless "open") "no element outside the data model". Upstream checks that
with a rule on <path>/* after the (empty) rules of the allowed children, so
first match leaves it the foreign elements; here it is an assert on the
element's own rule, not(*[not(self::a or self::b ...)]): one finding per
parent instead of one per foreign element, but no wildcard rule that the
matcher would have to try at every element of the document (measured: the
206 wildcard rules tripled the rule stage on the 15.9 KB Order example).

Test cases: for each rule a small document holding the path to the rule's
element (each ancestor with its mandatory children) and the element with
every child of its data model (each with its own mandatory content);
passes-branch.xml is that document, fires-*.xml the same with one change (a mandatory child left out, a wrong value, an attribute left out
or wrong, a foreign child added, xsi:schemaLocation on the root).

Header lines of a structure file: "transaction ID ROOT", "namespace P URI",
"let NAME XPATH" (a global let, e.g. to tell transactions sharing a root
apart), "rootpred [XPATH]" (a predicate on the root step of every context),
"ubl23" (the transaction binds to UBL 2.3: its cases are named profile-fires-* /
profile-passes-*, see tests/engine/tc_rules_ordering.c),
"unreachable RULE-ID REASON" (the rule is written but listed as not
implemented, with REASON, and gets no cases).

Python 3 standard library only. The outputs are committed: edit the inputs,
run this, commit all.
"""
import os
import re
import shutil
import sys
from xml.sax.saxutils import escape, quoteattr

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SDIR = os.path.join(TOP, "schemas/rules/ordering-structure")
OUT_SCH = os.path.join(TOP, "schemas/rules/peppol-ordering-3-structure.sch")
CASES = os.path.join(TOP, "tests/rules/peppol-ordering-3-structure")
PROFILE = "peppol-ordering-3"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
WRONG = "SECMX-WRONG"
FOREIGN = "cbc:SecmxNotInModel"
# Preferred sample codes (must be in the list); otherwise the list's first code.
PREFERRED = {"ISO4217": "EUR", "ISO3166": "NO", "EAS": "0088", "ICD": "0088",
             "UNECERec20": "EA", "UNCL5305-T01": "S", "MIMECODE-T01": "application/pdf",
             "UNCL1001-T01": "220", "TRUEFALSE": "false", "UNCL7143": "STI",
             "UNCL5189": "95", "UNCL7161": "FC", "UNCL4343-T76": "CA", "UNCL1229-T76": "5", "UNECERec21-PLAIN": "PK", "UNECERec19": "3", "UNCL6313-T16": "AAB", "UNCL8273": "ADR", "UNCL4343-T111": "RE", "OPStatusReason": "REF", "ClarificationListID": "OPStatusReason", "UNCL1001": "380", "UNCL4343-T71": "AP", "MLRSTATUSREASON": "SV"}


class Node:
    def __init__(self, name, lo, hi, opts, line):
        self.name, self.lo, self.hi, self.opts, self.line = name, lo, hi, opts, line
        self.children = []  # elements and attributes, in file order
        self.parent = None
        self.num = 0

    @property
    def attr(self):
        return self.name.startswith("@")

    def elems(self):
        return [c for c in self.children if not c.attr]

    def attrs(self):
        return [c for c in self.children if c.attr]

    def path(self):
        if self.parent is None:
            return self.name + getattr(self, "pred", "")
        return self.parent.path() + "/" + self.name

    def local(self):
        return self.name.split(":")[-1].lstrip("@/")


def die(msg):
    sys.exit("gen-ordering-structure: " + msg)


def read_codelists():
    lists = {}
    with open(os.path.join(SDIR, "codelists.txt"), encoding="utf-8") as f:
        for ln, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            kind, rest = line.split(None, 1)
            if kind == "file":
                name, href, title = rest.split(None, 2)
                path = os.path.normpath(os.path.join(TOP, "schemas/rules", href))
                with open(path, encoding="utf-8") as g:
                    codes = [c.strip() for c in g if c.strip() and not c.lstrip().startswith("#")]
                lists[name] = {"href": href, "title": title, "codes": codes}
            elif kind == "prefixed":
                # the codes of a list file, without a prefix its codes carry
                name, prefix, href, title = rest.split(None, 3)
                path = os.path.normpath(os.path.join(TOP, "schemas/rules", href))
                with open(path, encoding="utf-8") as g:
                    codes = [c.strip()[len(prefix):] for c in g
                             if c.strip().startswith(prefix) and not c.lstrip().startswith("#")]
                lists[name] = {"href": href, "title": title, "codes": codes, "prefix": prefix}
            elif kind == "values":
                codes, title = rest.split(" -- ", 1)
                name, *codes = codes.split()
                lists[name] = {"href": None, "title": title, "codes": codes}
            else:
                die("codelists.txt:%d: unknown line kind %s" % (ln, kind))
    return lists


def read_structure(path):
    meta, ns = {}, None
    root, stack = None, []
    with open(path, encoding="utf-8") as f:
        for ln, raw in enumerate(f, 1):
            if not raw.strip() or raw.lstrip().startswith("#"):
                continue
            if raw.startswith("transaction "):
                _, meta["id"], meta["root"] = raw.split()
                continue
            if raw.startswith("namespace "):
                _, p, uri = raw.split()
                ns = (p, uri)
                continue
            if raw.startswith("let "):
                _, lname, lvalue = raw.rstrip("\n").split(" ", 2)
                meta.setdefault("lets", []).append((lname, lvalue))
                continue
            if raw.startswith("rootpred "):
                meta["rootpred"] = raw.rstrip("\n").split(" ", 1)[1]
                continue
            if raw.rstrip("\n") == "ubl23":
                meta["ubl23"] = True
                continue
            if raw.startswith("unreachable "):
                _, uid, why = raw.rstrip("\n").split(" ", 2)
                meta.setdefault("unreachable", {})[uid] = why
                continue
            indent = len(raw) - len(raw.lstrip(" "))
            if indent % 2:
                die("%s:%d: odd indent" % (path, ln))
            depth = indent // 2
            words = raw.split()
            name, card = words[0], words[1]
            m = re.fullmatch(r"([01])\.\.([1n])", card)
            if not m:
                die("%s:%d: bad cardinality %s" % (path, ln, card))
            opts = {}
            for w in words[2:]:
                k, _, v = w.partition("=")
                opts[k] = v if _ else True
            node = Node(name, int(m.group(1)), m.group(2), opts, ln)
            if depth == 0:
                if root is not None:
                    die("%s:%d: a second root" % (path, ln))
                root = node
                stack = [node]
                continue
            if depth > len(stack) or stack[depth - 1].attr:
                die("%s:%d: indent without a parent element" % (path, ln))
            stack = stack[:depth]
            node.parent = stack[-1]
            stack[-1].children.append(node)
            stack.append(node)
    if root is None or ns is None or "id" not in meta:
        die(path + ": needs transaction, namespace and a root line")
    root.pred = meta.get("rootpred", "")
    n = 0

    def number(nd):
        nonlocal n
        n += 1
        if "num" in nd.opts:
            want = int(nd.opts["num"])
            if want < n:
                die("%s:%d: num=%d goes backwards (next is %d)" % (path, nd.line, want, n))
            n = want
        nd.num = n
        for c in nd.children:
            number(c)
    number(root)
    return meta, ns, root


def code_test(expr, codes_spec, lists):
    parts = []
    for name in codes_spec.split("|"):
        if name not in lists:
            die("unknown code list " + name)
        cl = lists[name]
        if cl["href"] is None:
            parts += ["%s = '%s'" % (expr, c) for c in cl["codes"]]
        elif cl.get("prefix"):
            parts.append("secmx:in-codelist(concat('%s', %s), 'ORDS-%s')" % (cl["prefix"], expr, name))
        else:
            parts.append("secmx:in-codelist(%s, 'ORDS-%s')" % (expr, name))
    return " or ".join(parts)


def code_title(codes_spec, lists):
    return " or ".join(lists[n]["title"] for n in codes_spec.split("|"))


def asserts_for(tid, nd, lists, rootname):
    """The asserts of element ND: list of dicts (id, test, message xml, mutation)."""
    out = []
    k = 0

    def add(test, msg, mut):
        nonlocal k
        k += 1
        out.append({"id": "PEPPOL-%s-B%03d%02d" % (tid, nd.num, k), "test": test,
                    "msg": msg, "mut": mut, "node": nd})
    for c in nd.elems():
        if c.lo == 1:
            add(c.name, "%s must contain a %s element." % (nd.name.lstrip("/"), c.name),
                ("omit", c))
    if not nd.elems():
        if "fixed" in nd.opts:
            v = nd.opts["fixed"]
            add("normalize-space(.) = '%s'" % v,
                "%s must be '%s', not '<value-of select=\"normalize-space(.)\"/>'." % (nd.name, escape(v)),
                ("value", nd))
        if "code" in nd.opts:
            add(code_test("normalize-space(.)", nd.opts["code"], lists),
                "%s '<value-of select=\"normalize-space(.)\"/>' is not in the code list of %s." % (
                    nd.name, escape(code_title(nd.opts["code"], lists))),
                ("value", nd))
    for a in nd.attrs():
        an = a.name
        if a.lo == 1:
            add(an, "%s needs the attribute %s." % (nd.name, an[1:]), ("noattr", a))
        if "code" in a.opts:
            add("not(%s) or %s" % (an, code_test(an, a.opts["code"], lists)),
                "%s %s '<value-of select=\"%s\"/>' is not in the code list of %s." % (
                    nd.name, an[1:], an, escape(code_title(a.opts["code"], lists))),
                ("attrvalue", a))
    if nd.parent is None and nd.opts.get("noschemalocation"):
        add("not(@*[local-name() = 'schemaLocation'])",
            "The document must not name a schema location (xsi:schemaLocation).",
            ("schemaloc", nd))
    return out


def foreign_assert(tid, nd, k):
    """The "not part of the data model" assert, on ND's own rule: no child
    element other than those of ND's data model (one finding per parent)."""
    allowed = " or ".join("self::%s" % c.name for c in nd.elems())
    foreign = "*[not(%s)]" % allowed
    return {"id": "PEPPOL-%s-B%03d%02d" % (tid, nd.num, k), "test": "not(%s)" % foreign,
            "msg": "%s contains <value-of select=\"count(%s)\"/> element(s) that are not part "
                   "of its data model, the first <value-of select=\"name(%s[1])\"/>." % (
                       nd.name.lstrip("/"), foreign, foreign),
            "mut": ("foreign", nd), "node": nd}


def rules_for(tid, nd, lists, rules):
    """Append (context, asserts) for ND and its subtree, upstream order;
    an element without asserts gets no rule (contexts are absolute paths,
    so no rule of the pattern can take another's node)."""
    asserts = asserts_for(tid, nd, lists, None)
    if nd.elems() and not nd.opts.get("open"):
        asserts.append(foreign_assert(tid, nd, len(asserts) + 1))
    if asserts:
        rules.append((nd.path(), asserts))
    for c in nd.elems():
        rules_for(tid, c, lists, rules)


# ---- test documents ----

def sample(nd, lists):
    if "fixed" in nd.opts:
        return nd.opts["fixed"]
    if "sample" in nd.opts:
        return nd.opts["sample"]
    if "code" in nd.opts:
        first = nd.opts["code"].split("|")[0]
        pref = PREFERRED.get(first)
        codes = lists[first]["codes"]
        return pref if pref in codes else codes[0]
    ln = nd.local()
    if ln.endswith("Date"):
        return "2026-11-10"
    if ln.endswith("Amount"):
        return "100.00"
    if ln.endswith("Quantity"):
        return "1"
    if ln in ("Percent", "MultiplierFactorNumeric"):
        return "10"
    return "Example " + ln


def render(nd, lists, depth, mode, target, mut, ns):
    """XML text of ND: its mandatory children, the branch towards TARGET, and
    for TARGET itself every child of its data model (each with its own
    mandatory content), with the change MUT applied."""
    ind = "  " * depth
    name = nd.name.lstrip("/")
    if nd.parent is None:
        name = nd.name.lstrip("/").split(":")[1]
    kind, mnode = mut if mut else (None, None)
    attrs = []
    if nd.parent is None:
        attrs.append('xmlns="%s"' % ns[1])
        attrs.append('xmlns:cac="%s"' % CAC)
        attrs.append('xmlns:cbc="%s"' % CBC)
        if kind == "schemaloc":
            attrs.append('xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"')
            attrs.append('xsi:schemaLocation="%s UBL-%s-2.1.xsd"' % (ns[1], name))
    for a in nd.attrs():
        if kind == "noattr" and mnode is a:
            continue
        v = WRONG if kind == "attrvalue" and mnode is a else sample(a, lists)
        attrs.append("%s=%s" % (a.name[1:], quoteattr(v)))
    head = "<%s%s>" % (name, "".join(" " + a for a in attrs))
    elems = nd.elems()
    if not elems:
        v = WRONG if kind == "value" and mnode is nd else sample(nd, lists)
        return "%s%s%s</%s>\n" % (ind, head, escape(v), name)
    full = nd is target  # the rule's element: every child of its data model
    on_path = [c for c in elems if is_ancestor(c, target) or c is target]
    s = ind + head + "\n"
    shown = [c for c in elems if full or c.lo == 1 or c in on_path]
    if not shown:
        shown = elems[:1]  # no mandatory child: show one, so the aggregate is not empty
    for c in shown:
        if kind == "omit" and mnode is c:
            continue
        s += render(c, lists, depth + 1, "branch", target, mut, ns)
    if kind == "foreign" and mnode is nd:
        s += "%s  <%s>not in the model</%s>\n" % (ind, FOREIGN, FOREIGN)
    return s + ind + "</%s>\n" % name


def is_ancestor(a, b):
    """Is A a proper ancestor of B?"""
    if a is None or b is None:
        return False
    p = b.parent
    while p is not None:
        if p is a:
            return True
        p = p.parent
    return False


def case_doc(root, lists, ns, target, mut, comment):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<!-- %s\n     Generated by '
            'scripts/gen-ordering-structure.py; edit its inputs, not this file. -->\n' % comment
            + render(root, lists, 0, "branch", target, mut, ns))


MUT_NAMES = {"omit": "missing-%s", "value": "wrong-value", "noattr": "no-%s",
             "attrvalue": "wrong-%s", "schemaloc": "schema-location", "foreign": "foreign-element"}


def mut_desc(a):
    kind, n = a["mut"]
    el = a["node"].path()
    if kind == "omit":
        return "fires-missing-%s" % n.local(), "%s without %s" % (el, n.name)
    if kind == "value":
        return "fires-wrong-value", "%s with the value %s" % (el, WRONG)
    if kind == "noattr":
        return "fires-no-%s" % n.local(), "%s without the attribute %s" % (el, n.name)
    if kind == "attrvalue":
        return "fires-wrong-%s" % n.local(), "%s with %s=%s" % (el, n.name, WRONG)
    if kind == "schemaloc":
        return "fires-schema-location", "the root with xsi:schemaLocation"
    return "fires-foreign-element", "%s with a child %s outside the data model" % (el, FOREIGN)


# ---- the rule file ----

def write_sch(trans, lists, used_lists):
    o = []
    o.append('<?xml version="1.0" encoding="UTF-8"?>\n<!--\n'
             '  peppol-ordering-3-structure.sch - the structure rules (PEPPOL-Tnn-B*) of the\n'
             '  Peppol Ordering transactions: mandatory elements and attributes, fixed\n'
             '  values, code lists, and no element outside the transaction\'s data model.\n\n'
             '  GENERATED by scripts/gen-ordering-structure.py from\n'
             '  schemas/rules/ordering-structure/*.txt: do not edit, edit those and rerun.\n'
             '  Ids and flags as upstream; messages ours. docs/rules-ordering.md.\n-->\n')
    o.append('<schema xmlns="http://purl.oclc.org/dsdl/schematron"\n'
             '        xmlns:secmx="urn:secmx:functions"\n        queryBinding="xpath">\n')
    o.append('  <title>Peppol Ordering structure rules (generated)</title>\n\n')
    o.append('  <ns prefix="cbc" uri="%s"/>\n  <ns prefix="cac" uri="%s"/>\n' % (CBC, CAC))
    seen_ns = {}
    for meta, ns, root, rules in trans:
        if seen_ns.get(ns[0], ns[1]) != ns[1]:
            die("prefix %s bound to two namespaces" % ns[0])
        if ns[0] not in seen_ns:
            o.append('  <ns prefix="%s" uri="%s"/>\n' % ns)
        seen_ns[ns[0]] = ns[1]
    o.append("\n")
    for name in sorted(used_lists):
        if lists[name]["href"]:
            o.append('  <secmx:codelist name="ORDS-%s" href="%s"/>\n' % (name, lists[name]["href"]))
    seen_lets = {}
    for meta, ns, root, rules in trans:
        for lname, lvalue in meta.get("lets", []):
            if seen_lets.get(lname, lvalue) != lvalue:
                die("let %s declared twice with different values" % lname)
            if lname not in seen_lets:
                o.append('  <let name="%s" value=%s/>\n' % (lname, quoteattr(lvalue)))
            seen_lets[lname] = lvalue
    for meta, ns, root, rules in trans:
        o.append('\n  <!-- %s %s: %d lines, %d asserts -->\n' % (
            meta["id"], meta["root"], count_nodes(root), sum(len(a) for _, a in rules)))
        o.append('  <pattern id="structure-%s">\n' % meta["id"])
        for ctx, asserts in rules:
            if not asserts:
                o.append('    <rule context="%s"/>\n' % ctx)
                continue
            o.append('    <rule context="%s">\n' % ctx)
            for a in asserts:
                why = meta.get("unreachable", {}).get(a["id"])
                status = ' secmx:status="not-implemented" secmx:reason=%s' % quoteattr(why) if why else ""
                o.append('      <assert id="%s" flag="fatal"%s test=%s>%s</assert>\n' % (
                    a["id"], status, quoteattr(a["test"]), a["msg"]))
            o.append('    </rule>\n')
        o.append('  </pattern>\n')
    o.append('</schema>\n')
    with open(OUT_SCH, "w", encoding="utf-8") as f:
        f.write("".join(o))


def count_nodes(nd):
    return 1 + sum(count_nodes(c) for c in nd.children)


def main():
    lists = read_codelists()
    trans = []
    used = set()
    files = sorted(f for f in os.listdir(SDIR) if re.fullmatch(r"T\d+\.txt", f))
    for fn in sorted(files, key=lambda f: int(f[1:-4])):
        meta, ns, root = read_structure(os.path.join(SDIR, fn))
        rules = []
        rules_for(meta["id"], root, lists, rules)
        for _, asserts in rules:
            for a in asserts:
                for nd in [a["node"]] + a["node"].attrs():
                    if "code" in nd.opts:
                        used.update(nd.opts["code"].split("|"))
        trans.append((meta, ns, root, rules))
    write_sch(trans, lists, used)
    # cases: the directory is rewritten from scratch
    if os.path.isdir(CASES):
        shutil.rmtree(CASES)
    os.makedirs(CASES)
    with open(os.path.join(CASES, "PROFILE"), "w", encoding="utf-8") as f:
        f.write(PROFILE + "\n")
    n_asserts = n_files = 0
    ids = set()
    for meta, ns, root, rules in trans:
        for _, asserts in rules:
            for a in asserts:
                if a["id"] in ids:
                    die("duplicate rule id " + a["id"])
                ids.add(a["id"])
                if a["id"] in meta.get("unreachable", {}):
                    continue  # listed as not implemented, with its reason: no cases
                n_asserts += 1
                d = os.path.join(CASES, a["id"])
                os.makedirs(d)
                target = a["node"]
                fname, what = mut_desc(a)
                # A UBL 2.3 transaction is refused without 2.3 schemas (SECMX-UBL23):
                # its cases are profile-* ones, which tests/engine/tc_rules_ordering.c
                # runs after classification whatever its verdict.
                pre = "profile-" if meta.get("ubl23") else ""
                with open(os.path.join(d, pre + fname + ".xml"), "w", encoding="utf-8") as f:
                    f.write(case_doc(root, lists, ns, target, a["mut"],
                                     "%s fires: %s." % (a["id"], what)))
                with open(os.path.join(d, pre + "passes-branch.xml"), "w", encoding="utf-8") as f:
                    f.write(case_doc(root, lists, ns, target, None,
                                     "%s passes: %s complete, with every element and "
                                     "attribute of its data model." % (a["id"], target.path())))
                n_files += 2
    print("%s: %d transactions, %d asserts; %d case files" % (
        os.path.relpath(OUT_SCH, TOP), len(trans), n_asserts, n_files))


if __name__ == "__main__":
    main()
