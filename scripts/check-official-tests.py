#!/usr/bin/env python3
"""check-official-tests.py - run VEFA-style rule unit test sets through secmx.

The official EN 16931 and Peppol BIS unit tests are <testSet> files: each
<test> holds an <assert> naming rule ids expected to pass (<success>) or to
fire (<error>, <warning>, <fatal>) and one complete or partial document.
This script splits out every test document, runs

    secmx validate --json --skip-schema --profile PROFILE DOC

and compares the expectation for each named rule with the findings.
It prints one line per mismatch

    FILE  test N  RULE  expected=fires|passes  got=fires|passes|not-implemented

a line "count: expected=N got=M" where the test gives the number of
findings (<error number="N">) and ours differs (informational: secmx reports
some rules once per occurrence where the official rule reports once), and a
summary.  Exit status: 0 when nothing mismatched, 1 otherwise, 2 on
usage errors.  Standard library only; the test files are read, not kept.

Usage: check-official-tests.py [--secmx PATH] [--profile P] [--keep DIR]
                               [-v] FILE_OR_DIR...

Without --profile the profile is guessed per file: files whose path contains
"PEPPOL" (case-insensitive) run under peppol-bis-billing-3, others under
en16931.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import xml.dom.minidom

VEFA_FIRE = ("error", "warning", "fatal")


def local(node):
	"""Local name of a DOM element."""
	return node.localName or node.nodeName.split(":")[-1]


def elements(node):
	"""Child elements of a DOM node."""
	return [c for c in node.childNodes if c.nodeType == c.ELEMENT_NODE]


def in_scope_ns(node):
	"""Namespace declarations visible at node, innermost first wins."""
	decls = {}
	chain = []
	n = node
	while n is not None and n.nodeType == n.ELEMENT_NODE:
		chain.append(n)
		n = n.parentNode
	for el in reversed(chain):
		for i in range(el.attributes.length):
			a = el.attributes.item(i)
			if a.name == "xmlns" or a.name.startswith("xmlns:"):
				decls[a.name] = a.value
	return decls


def split_tests(path):
	"""Yield (index, expectations, xml_text) for each test of a testSet."""
	dom = xml.dom.minidom.parse(path)
	root = dom.documentElement
	if local(root) != "testSet":
		raise ValueError("not a testSet")
	idx = 0
	for test in elements(root):
		if local(test) != "test":
			continue
		idx += 1
		expect = []
		doc = None
		for child in elements(test):
			if local(child) == "assert":
				for a in elements(child):
					kind = local(a)
					rule = "".join(t.data for t in a.childNodes
						       if t.nodeType == t.TEXT_NODE).strip()
					if not rule:
						continue
					num = a.getAttribute("number")
					num = int(num) if num.isdigit() else None
					if kind == "success":
						expect.append((rule, False, None))
					elif kind in VEFA_FIRE:
						expect.append((rule, True, num))
			elif doc is None:
				doc = child
		if doc is None:
			continue
		for name, value in in_scope_ns(doc).items():
			if not doc.hasAttribute(name):
				doc.setAttribute(name, value)
		text = '<?xml version="1.0" encoding="UTF-8"?>\n' + doc.toxml()
		yield idx, expect, text


def implemented_rules(secmx, profile, cache):
	"""Map rule id -> implemented flag for a profile (cached)."""
	if profile in cache:
		return cache[profile]
	out = subprocess.run([secmx, "validate", "--list-rules", profile,
			      "--json"], capture_output=True, text=True,
			     check=False)
	rules = {}
	for line in out.stdout.splitlines():
		try:
			r = json.loads(line)
		except ValueError:
			continue
		rules[r["rule"]] = rules.get(r["rule"], False) or \
			bool(r["implemented"])
	cache[profile] = rules
	return rules


def fired_rules(secmx, profile, text, keep):
	"""Run secmx on one document; return (set of fired ids, errors)."""
	fd, tmp = tempfile.mkstemp(suffix=".xml", dir=keep)
	with os.fdopen(fd, "w", encoding="utf-8") as f:
		f.write(text)
	try:
		out = subprocess.run([secmx, "validate", "--json",
				      "--skip-schema", "--profile", profile, tmp],
				     capture_output=True, text=True, check=False)
	finally:
		if keep is None:
			os.unlink(tmp)
	fired = {}
	errors = []
	for line in out.stdout.splitlines():
		try:
			rep = json.loads(line)
		except ValueError:
			continue
		for f in rep.get("findings", []):
			fired[f["rule"]] = fired.get(f["rule"], 0) + 1
			if f["rule"] == "SECMX-RULE-ERROR":
				errors.append(f.get("message", ""))
	if out.returncode == 2:
		errors.append("secmx exit 2: " + out.stderr.strip())
	return fired, errors


def guess_profile(path):
	"""Profile for a test file from its path."""
	return "peppol-bis-billing-3" if "peppol" in path.lower() else "en16931"


def collect(args):
	"""Expand directories into their .xml files, sorted."""
	files = []
	for a in args:
		if os.path.isdir(a):
			for dp, _, fs in os.walk(a):
				files += [os.path.join(dp, f) for f in fs
					  if f.endswith(".xml")]
		else:
			files.append(a)
	return sorted(files)


def main():
	"""Entry point."""
	ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
	ap.add_argument("--secmx", default="build/cli/secmx")
	ap.add_argument("--profile")
	ap.add_argument("--keep", help="keep split documents in this dir")
	ap.add_argument("-v", "--verbose", action="store_true")
	ap.add_argument("paths", nargs="+")
	args = ap.parse_args()
	if not os.access(args.secmx, os.X_OK):
		print("no secmx at " + args.secmx, file=sys.stderr)
		return 2
	cache = {}
	tests = checks = mismatches = unimpl = bad = counts = 0
	for path in collect(args.paths):
		profile = args.profile or guess_profile(path)
		impl = implemented_rules(args.secmx, profile, cache)
		try:
			cases = list(split_tests(path))
		except Exception as e:  # noqa: BLE001 - report and go on
			print("%s: cannot read: %s" % (path, e))
			bad += 1
			continue
		for idx, expect, text in cases:
			tests += 1
			fired, errors = fired_rules(args.secmx, profile, text,
						    args.keep)
			for msg in errors:
				print("%s\ttest %d\tSECMX-RULE-ERROR\t%s"
				      % (path, idx, msg))
				bad += 1
			for rule, fires, num in expect:
				checks += 1
				exp = "fires" if fires else "passes"
				if rule not in impl:
					got = "unknown-rule"
				elif not impl[rule]:
					got = "not-implemented"
				else:
					got = "fires" if rule in fired else "passes"
				if got == exp and num is not None and \
				   fired.get(rule, 0) != num:
					counts += 1
					print("%s\ttest %d\t%s\tcount: expected=%d\tgot=%d"
					      % (path, idx, rule, num, fired.get(rule, 0)))
				if got == exp:
					if args.verbose:
						print("%s\ttest %d\t%s\tok (%s)"
						      % (path, idx, rule, exp))
					continue
				if got in ("not-implemented", "unknown-rule"):
					unimpl += 1
				else:
					mismatches += 1
				print("%s\ttest %d\t%s\texpected=%s\tgot=%s"
				      % (path, idx, rule, exp, got))
	print("summary: %d files, %d tests, %d checks, %d mismatches, "
	      "%d not implemented/unknown, %d errors, %d finding counts differ"
	      % (len(collect(args.paths)), tests, checks, mismatches, unimpl,
		 bad, counts))
	return 1 if mismatches or bad else 0


if __name__ == "__main__":
	sys.exit(main())
