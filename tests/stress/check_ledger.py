#!/usr/bin/env python3
"""Checks the usage ledger after a stress run against the run's own log (check_holds.py reads
the same log): every hold of our holders has exactly one complete ledger record, with the right
resource and outcome; killed holders' records are closed as "ended without release"; no record
is torn or left over; and `lockable --stats` counts what `--history` lists.

usage: check_ledger.py LOG HISTORY_JSON STATS_JSON HISTORY_STDERR [--json]   (exit 1 on a violation)

HISTORY_JSON and STATS_JSON are the outputs of `lockable --history --json` and
`lockable --stats --json` on the run's lock folder; HISTORY_STDERR what --history said on
stderr (it must not have skipped a line).
"""
import collections
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_holds import OUR_KINDS, parse  # noqa: E402

RELEASED, ABANDONED = "released", "ended without release"


def check(log_lines, history, stats, history_err):
    holders, problems = parse(log_lines)
    if history_err.strip():
        problems.append("--history reported: %s" % history_err.strip())
    by_alloc = collections.defaultdict(list)
    for record in history:
        by_alloc[record["alloc_id"]].append(record)
    by_pid = {h.pid: h for h in holders.values() if h.pid is not None}
    counts = collections.Counter()
    matched = set()
    for h in holders.values():
        if h.kind not in OUR_KINDS or h.at("start") is None:
            continue
        counts["logged holds"] += 1
        records = by_alloc.get(h.alloc_id, [])
        if len(records) != 1:
            problems.append("hold of %s (%s) has %d ledger records" % (
                h.token, h.alloc_id, len(records)))
            continue
        record = records[0]
        matched.add(h.alloc_id)
        if record["resource"] != h.resource:
            problems.append("%s held %s, the ledger says %s" % (
                h.token, h.resource, record["resource"]))
        killed = h.at("kill") is not None or h.at("orphan") is not None
        if record["ending"] not in (RELEASED, ABANDONED):
            problems.append("%s's record is not closed: %s" % (h.token, record["ending"]))
        elif killed:
            counts["killed holds"] += 1
            if record["ending"] == ABANDONED:
                counts["closed as ended without release"] += 1
        elif record["ending"] != RELEASED:
            problems.append("%s released normally, the ledger says %s" % (
                h.token, record["ending"]))
        else:
            counts["released"] += 1
            expected = {"cli": {"exit": 0}, "gtest": {"passed": 1, "failed_count": 0},
                        "api": {}}[h.kind]
            got = {k: record.get(k) for k in ("exit", "signal", "passed", "failed_count")
                   if record.get(k) is not None}
            if got != expected:
                problems.append("%s (%s) ended with %s, the ledger says %s" % (
                    h.token, h.kind, expected, got))
    # Records without a logged hold: only of holders killed between taking the lock and logging.
    for alloc_id, records in by_alloc.items():
        if alloc_id in matched:
            continue
        for record in records:
            h = by_pid.get(record["pid"])
            if h is None or h.at("kill") is None or record["ending"] != ABANDONED:
                problems.append("ledger record %s of PID %s matches no hold of the run" % (
                    alloc_id, record["pid"]))
            else:
                counts["killed before logging its hold"] += 1
    # --stats counts what --history lists.
    per_resource = collections.Counter(r["resource"] for r in history)
    failed = collections.Counter(r["resource"] for r in history if r["failed"])
    for s in stats["resources"]:
        if s["allocations"] != per_resource[s["resource"]]:
            problems.append("--stats counts %d allocations of %s, --history lists %d" % (
                s["allocations"], s["resource"], per_resource[s["resource"]]))
        if s["failed"] != failed[s["resource"]]:
            problems.append("--stats counts %d failed of %s, --history %d" % (
                s["failed"], s["resource"], failed[s["resource"]]))
    if sorted(s["resource"] for s in stats["resources"]) != sorted(per_resource):
        problems.append("--stats and --history list different resources")
    counts["ledger records"] = len(history)
    return dict(counts), problems


def main(argv):
    if len(argv) < 5:
        sys.exit(__doc__)
    with open(argv[1]) as f:
        lines = f.readlines()
    with open(argv[2]) as f:
        history = json.load(f)
    with open(argv[3]) as f:
        stats = json.load(f)
    with open(argv[4]) as f:
        history_err = f.read()
    counts, problems = check(lines, history, stats, history_err)
    if "--json" in argv:
        print(json.dumps({"counts": counts, "problems": problems}))
    else:
        print("ledger: %s" % ", ".join("%s %d" % kv for kv in sorted(counts.items())))
        for p in problems[:20]:
            print("LEDGER FAIL " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
