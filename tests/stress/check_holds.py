#!/usr/bin/env python3
"""Checks a stress log: no two holds of one resource overlap, every hold ended, every holder
ended as expected; and measures the longest time a resource was free while someone waited for it.

usage: check_holds.py LOG [--json]      (exit 1 on a violation)

The log has one line per event, `EVENT TOKEN FIELD NS PID_OR_KIND`, NS in CLOCK_MONOTONIC ns:

  spawn  TOKEN WANT   NS KIND  driver: about to start holder TOKEN (KIND: cli, gtest, api, py),
                               which accepts resource WANT (an id, or * for any)
  wait   TOKEN -      NS PID   holder: starts trying to lock
  alloc  TOKEN ID     NS PID   holder: its allocation id ID (ours only, before `start`)
  start  TOKEN RES    NS PID   holder: holds RES (written after the lock was taken)
  end    TOKEN RES    NS PID   holder: about to release RES (written before the release)
  kill   TOKEN -      NS PID   driver: about to SIGKILL the holder's whole process group
  orphan TOKEN -      NS PID   driver: about to SIGKILL only `lockable`, whose command keeps
                               the lock and ends the hold itself
  exit   TOKEN STATUS NS PID   driver: the holder ended (STATUS: exit code, or -N for signal N)

Why the check is sound: a logged hold [start, end] lies inside the real one, since `start` is
written after the lock is taken and `end` before it is released. A killed holder cannot write its
end, so the driver's `kill` time (taken before the signal is sent; the kernel releases the lock
only after the process is gone) ends it instead; when both exist, the earlier counts. So two
logged holds that overlap prove two real holders at once. The idle time is measured between
logged holds, so it is an upper bound: it includes the release, the waiter's wake-up, and (for
the CLI) starting the command that logs the hold.
"""
import collections
import json
import sys

OUR_KINDS = ("cli", "gtest", "api")  # the holders that lock through gtest_lockable


class holder:
    def __init__(self, token):
        self.token = token
        self.kind = None
        self.want = None
        self.events = {}
        self.resource = None
        self.alloc_id = None
        self.pid = None

    def at(self, name):
        return self.events.get(name)


def parse(lines):
    holders = {}
    problems = []
    for number, line in enumerate(lines, 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 5 or not parts[3].isdigit():
            problems.append("line %d is malformed: %r" % (number, line))
            continue
        event, token, field, ns, extra = parts
        h = holders.setdefault(token, holder(token))
        if event in h.events and event != "kill":
            problems.append("line %d: %s of %s logged twice" % (number, event, token))
        h.events[event] = int(ns)
        if event == "spawn":
            h.want, h.kind = field, extra
        elif event == "alloc":
            h.alloc_id = field
        elif event == "wait":
            h.pid = int(extra)
        elif event in ("start", "end"):
            if h.resource not in (None, field):
                problems.append("%s started on %s but ended on %s" % (token, h.resource, field))
            h.resource = field
        elif event == "exit":
            h.status = int(field)
    return holders, problems


def hold_intervals(holders, problems):
    """Per resource, the logged holds as (start, end, token), sorted by start."""
    by_resource = collections.defaultdict(list)
    for h in holders.values():
        start = h.at("start")
        if start is None:
            continue
        ends = [t for t in (h.at("end"), h.at("kill")) if t is not None]
        if not ends:
            problems.append("the hold of %s on %s never ended" % (h.token, h.resource))
            continue
        by_resource[h.resource].append((start, max(start, min(ends)), h.token))
    for holds in by_resource.values():
        holds.sort()
    return by_resource


def find_overlaps(by_resource):
    overlaps = []
    for resource, holds in sorted(by_resource.items()):
        latest = None  # the hold that ends last among those seen so far
        for hold in holds:
            if latest is not None and hold[0] < latest[1]:
                overlaps.append((resource, latest, hold))
            if latest is None or hold[1] > latest[1]:
                latest = hold
    return overlaps


def merged(intervals):
    out = []
    for begin, end in sorted(intervals):
        if out and begin <= out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([begin, end])
    return out


def ended_by_kill(h):
    return h.at("kill") is not None and (h.at("end") is None or h.at("kill") < h.at("end"))


def longest_idle(holders, by_resource, run_end, kinds, after_kill=None):
    """The longest time a resource was free while a holder of `kinds` that accepts it waited:
    (ns, resource, at). With `after_kill` True (False), only gaps that follow a hold ended by
    SIGKILL (by a release) count."""
    best = (0, None, None)
    resources = set(by_resource) | {h.want for h in holders.values() if h.want not in (None, "*")}
    for resource in sorted(resources):
        waits = []
        for h in holders.values():
            began = h.at("wait")
            if began is None or h.kind not in kinds or h.want not in ("*", resource):
                continue
            ended = [t for t in (h.at("start"), h.at("kill"), h.at("exit")) if t is not None]
            waits.append((began, min(ended) if ended else run_end))
        free, at, last = [], None, None  # gaps between holds, and the hold before each
        for begin, end, token in by_resource.get(resource, []):
            if at is not None and begin <= at:
                if end > at:
                    at, last = end, token
                continue
            free.append((at if at is not None else 0, begin, last))
            at, last = end, token
        free.append((at if at is not None else 0, run_end, last))
        if after_kill is not None:
            free = [f for f in free if f[2] is not None and
                    ended_by_kill(holders[f[2]]) == after_kill]
        waiting = merged(waits)
        i = j = 0
        while i < len(free) and j < len(waiting):  # intersect two sorted interval lists
            begin = max(free[i][0], waiting[j][0])
            end = min(free[i][1], waiting[j][1])
            if end - begin > best[0]:
                best = (end - begin, resource, begin)
            if free[i][1] < waiting[j][1]:
                i += 1
            else:
                j += 1
    return best


def check(lines):
    holders, problems = parse(lines)
    by_resource = hold_intervals(holders, problems)
    overlaps = find_overlaps(by_resource)
    run_end = max((t for h in holders.values() for t in h.events.values()), default=0)
    counts = collections.Counter()
    per_kind = collections.Counter()
    for h in holders.values():
        if h.kind is None:
            problems.append("%s has no spawn line" % h.token)
            continue
        counts["holders"] += 1
        started, ended, killed = h.at("start"), h.at("end"), h.at("kill")
        status = getattr(h, "status", None)
        if started is not None:
            counts["holds"] += 1
            per_kind[h.kind] += 1
        if killed is not None:
            counts["kills"] += 1
            if started is not None and ended is None and started <= killed:
                counts["killed_holding"] += 1
            elif started is None:
                counts["killed_waiting"] += 1
        if h.at("orphan") is not None:
            counts["orphaned_commands"] += 1
        if status is None:
            problems.append("%s (%s) has no exit line" % (h.token, h.kind))
        elif killed is None and h.at("orphan") is None and status != 0:
            problems.append("%s (%s) exited with status %d" % (h.token, h.kind, status))
        elif killed is None and started is None:
            problems.append("%s (%s) ended without holding" % (h.token, h.kind))
    idle = longest_idle(holders, by_resource, run_end, ("cli", "gtest", "api", "py"))
    idle_ours = longest_idle(holders, by_resource, run_end, OUR_KINDS)
    idle_ours_release = longest_idle(holders, by_resource, run_end, OUR_KINDS, after_kill=False)
    idle_ours_kill = longest_idle(holders, by_resource, run_end, OUR_KINDS, after_kill=True)
    return {
        "holders": counts["holders"],
        "holds": counts["holds"],
        "holds_by_kind": dict(sorted(per_kind.items())),
        "kills": counts["kills"],
        "killed_holding": counts["killed_holding"],
        "killed_waiting": counts["killed_waiting"],
        "orphaned_commands": counts["orphaned_commands"],
        "overlaps": len(overlaps),
        "overlap_examples": [
            "%s: %s [%d, %d] and %s [%d, %d]" % (r, a[2], a[0], a[1], b[2], b[0], b[1])
            for r, a, b in overlaps[:10]
        ],
        "problems": problems[:20],
        "problem_count": len(problems),
        "longest_idle_ms": idle[0] / 1e6,
        "longest_idle_resource": idle[1],
        "longest_idle_ours_ms": idle_ours[0] / 1e6,
        "longest_idle_ours_after_release_ms": idle_ours_release[0] / 1e6,
        "longest_idle_ours_after_kill_ms": idle_ours_kill[0] / 1e6,
    }


def summary(report):
    lines = [
        "holders %(holders)d, holds %(holds)d %(holds_by_kind)s" % report,
        "kills %(kills)d (%(killed_holding)d mid-hold, %(killed_waiting)d while waiting), "
        "commands whose lockable was killed %(orphaned_commands)d" % report,
        "overlaps %(overlaps)d, problems %(problem_count)d" % report,
        "longest idle while waiting %(longest_idle_ms).1f ms (on %(longest_idle_resource)s); "
        "with one of our waiters (cli, gtest, api) %(longest_idle_ours_ms).1f ms: "
        "%(longest_idle_ours_after_release_ms).1f ms after a release, "
        "%(longest_idle_ours_after_kill_ms).1f ms after a SIGKILL" % report,
    ]
    lines += ["OVERLAP " + text for text in report["overlap_examples"]]
    lines += ["PROBLEM " + text for text in report["problems"]]
    return "\n".join(lines)


def passed(report):
    return report["overlaps"] == 0 and report["problem_count"] == 0 and report["holds"] > 0


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1], encoding="ascii") as log:
        report = check(log.read().splitlines())
    print(json.dumps(report, indent=2) if "--json" in argv else summary(report))
    return 0 if passed(report) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
