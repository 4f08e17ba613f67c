#!/usr/bin/env python3
"""durable_order.py MODE STRACE_LOG — check, from an strace log of
`secmx-records run` (strace -f -y -e trace=write,pwrite64,fsync,fdatasync,
syncfs,rename,renameat,renameat2), that every object of a burst was
durable before it got its name, and that every name was durable before
the index COMMIT that references it (records.sync = MODE, docs/records.md
section 3):

  files       each .tmp-* file is fsynced after its last write and before
              its rename; each object directory that received a rename is
              fsynced after it and before the index's next sync;
  filesystem  a syncfs comes after a .tmp-* file's last write and before
              its rename, another after the burst's last rename and
              before the index's next sync; no object file is fsynced.

The index's sync is the fsync/fdatasync of index.db-wal (the COMMIT of
SQLite in WAL mode with synchronous=FULL). Prints what it counted; exits 1
with the first violation, or when no burst was seen (nothing proved).
"""
import re
import sys

CALL = re.compile(r'^(\d+)\s+(\w+)\((.*)\)\s+=\s+(-?\d+)')
# a call interrupted in the log by another thread's, and its completion
UNFINISHED = re.compile(r'^(\d+)\s+(\w+)\((.*)\s+<unfinished \.\.\.>$')
RESUMED = re.compile(r'^(\d+)\s+<\.\.\. (\w+) resumed>.*\)\s+=\s+(-?\d+)')
FD_PATH = re.compile(r'^\d+<([^>]*)>')
STR = re.compile(r'"((?:[^"\\]|\\.)*)"')


def obj_tmp(path):
    """Is PATH a temp file of the object store (not chain.head's)?"""
    return "/objects/" in path and "/.tmp-" in path


def calls(log):
    """(line number, name, arguments) of each successful call, in the
    order the calls completed; an interrupted call is joined to its
    completion."""
    pending = {}
    for n, line in enumerate(open(log, errors="replace"), 1):
        line = line.strip()
        m = CALL.match(line)
        if m:
            if int(m.group(4)) >= 0:
                yield n, m.group(2), m.group(3)
            continue
        m = UNFINISHED.match(line)
        if m:
            pending[m.group(1)] = (m.group(2), m.group(3))
            continue
        m = RESUMED.match(line)
        if m and m.group(1) in pending:
            call, args = pending.pop(m.group(1))
            if call == m.group(2) and int(m.group(3)) >= 0:
                yield n, call, args


def main():
    mode, log = sys.argv[1], sys.argv[2]
    if mode not in ("files", "filesystem"):
        sys.exit("usage: durable_order.py files|filesystem STRACE_LOG")
    dirty = set()        # .tmp files written and not yet made durable
    durable = set()      # .tmp files made durable (fsync, or a syncfs after)
    renamed_dirs = set()  # object dirs with a rename not yet made durable
    pending_fs = False   # a rename not yet followed by a syncfs
    commits = renames = syncfs = fsyncs = 0

    def fail(n, why):
        print("durable_order: line %d: %s" % (n, why))
        sys.exit(1)

    for n, call, args in calls(log):
        fdp = FD_PATH.match(args)
        path = fdp.group(1) if fdp else ""
        if call in ("write", "pwrite64") and obj_tmp(path):
            dirty.add(path)
            durable.discard(path)
        elif call in ("fsync", "fdatasync"):
            if obj_tmp(path):
                fsyncs += 1
                if mode == "filesystem":
                    fail(n, "an object file fsynced in filesystem mode: " + path)
                dirty.discard(path)
                durable.add(path)
            elif path.endswith("index.db-wal"):
                if mode == "files" and renamed_dirs:
                    fail(n, "index synced before object directories were: %s"
                         % sorted(renamed_dirs))
                if mode == "filesystem" and pending_fs:
                    fail(n, "index synced before a syncfs after the renames")
                if renames:
                    commits += 1
            elif mode == "files" and path in renamed_dirs:
                renamed_dirs.discard(path)
        elif call == "syncfs":
            syncfs += 1
            if mode == "filesystem":
                durable |= dirty
                dirty.clear()
                pending_fs = False
        elif call.startswith("rename"):
            names = STR.findall(args)
            if len(names) < 2 or not obj_tmp(names[0]):
                continue
            tmp, obj = names[0], names[1]
            if tmp not in durable:
                fail(n, "renamed before it was durable: %s -> %s" % (tmp, obj))
            durable.discard(tmp)
            renames += 1
            renamed_dirs.add(obj.rsplit("/", 1)[0])
            pending_fs = True
    print("durable_order: mode=%s renames=%d index_commits_after_renames=%d syncfs=%d "
          "object_fsyncs=%d" % (mode, renames, commits, syncfs, fsyncs))
    if renames == 0 or commits == 0:
        print("durable_order: no burst with new objects in the log: nothing proved")
        sys.exit(1)


if __name__ == "__main__":
    main()
