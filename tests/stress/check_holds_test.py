#!/usr/bin/env python3
"""The stress checker on small hand-written logs: it must see an overlap whenever the logged
holds prove one, and only then."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_holds import check, passed  # noqa: E402


def log(*events):
    """Lines from (event, token, field, ns[, kind]) tuples; each token gets a spawn line (it wants
    the resource it holds) and, unless it has one, an exit line with status 0."""
    wants = {e[1]: e[2] for e in events if e[0] == "start"}
    lines, tokens, exits = [], {}, set()
    for event, token, field, ns, *extra in events:
        if token not in tokens:
            tokens[token] = True
            kind = extra[0] if extra else "api"
            lines.append("spawn %s %s 0 %s" % (token, wants.get(token, "*"), kind))
        if event == "exit":
            exits.add(token)
        lines.append("%s %s %s %d 1" % (event, token, field, ns))
    last = max(int(line.split()[3]) for line in lines)
    lines += ["exit %s 0 %d 1" % (t, last + 1) for t in tokens if t not in exits]
    return lines


class check_holds_test(unittest.TestCase):
    def test_back_to_back_holds_pass(self):
        report = check(log(("wait", "a", "-", 1), ("start", "a", "r", 2), ("end", "a", "r", 10),
                           ("wait", "b", "-", 3), ("start", "b", "r", 11), ("end", "b", "r", 20)))
        self.assertTrue(passed(report), report)
        self.assertEqual(report["holds"], 2)

    def test_overlapping_holds_fail(self):
        report = check(log(("start", "a", "r", 2), ("end", "a", "r", 10),
                           ("start", "b", "r", 9), ("end", "b", "r", 20)))
        self.assertEqual(report["overlaps"], 1)
        self.assertFalse(passed(report))

    def test_a_hold_inside_a_longer_one_fails(self):
        report = check(log(("start", "a", "r", 0), ("end", "a", "r", 100),
                           ("start", "b", "r", 10), ("end", "b", "r", 20),
                           ("start", "c", "r", 30), ("end", "c", "r", 40)))
        self.assertEqual(report["overlaps"], 2)

    def test_holds_of_different_resources_may_overlap(self):
        report = check(log(("start", "a", "r", 0), ("end", "a", "r", 10),
                           ("start", "b", "q", 5), ("end", "b", "q", 20)))
        self.assertTrue(passed(report), report)

    def test_a_kill_ends_the_hold(self):
        killed = [("start", "a", "r", 10), ("kill", "a", "-", 20), ("exit", "a", "-9", 21)]
        self.assertTrue(passed(check(log(*killed, ("start", "b", "r", 25),
                                         ("end", "b", "r", 30)))))
        report = check(log(*killed, ("start", "b", "r", 15), ("end", "b", "r", 30)))
        self.assertEqual(report["overlaps"], 1)
        self.assertEqual(report["killed_holding"], 1)

    def test_the_earlier_of_end_and_kill_counts(self):
        report = check(log(("start", "a", "r", 10), ("end", "a", "r", 18), ("kill", "a", "-", 30),
                           ("exit", "a", "-9", 31), ("start", "b", "r", 20), ("end", "b", "r", 40)))
        self.assertTrue(passed(report), report)

    def test_an_orphaned_command_ends_its_own_hold(self):
        report = check(log(("start", "a", "r", 10, "cli"), ("orphan", "a", "-", 12),
                           ("exit", "a", "-9", 13), ("end", "a", "r", 50),
                           ("start", "b", "r", 40), ("end", "b", "r", 60)))
        self.assertEqual(report["overlaps"], 1)
        self.assertEqual(report["orphaned_commands"], 1)

    def test_a_hold_that_never_ends_fails(self):
        report = check(log(("start", "a", "r", 10)))
        self.assertFalse(passed(report))
        self.assertIn("never ended", report["problems"][0])

    def test_a_failed_holder_fails(self):
        report = check(log(("wait", "a", "-", 1), ("exit", "a", "75", 9)))
        self.assertFalse(passed(report))
        self.assertIn("exited with status 75", report["problems"][0])

    def test_idle_counts_only_while_a_waiter_accepts_the_resource(self):
        report = check(log(("start", "a", "r", 0), ("end", "a", "r", 10_000_000),
                           ("wait", "b", "-", 5_000_000), ("start", "b", "r", 30_000_000),
                           ("end", "b", "r", 40_000_000),
                           ("wait", "c", "-", 85_000_000), ("start", "c", "q", 90_000_000),
                           ("end", "c", "q", 95_000_000)))
        self.assertEqual(report["longest_idle_resource"], "r")
        self.assertAlmostEqual(report["longest_idle_ms"], 20.0)

    def test_idle_after_a_kill_and_after_a_release_are_told_apart(self):
        ms = 1_000_000
        report = check(log(("start", "a", "r", 0), ("kill", "a", "-", 10 * ms),
                           ("exit", "a", "-9", 11 * ms),
                           ("start", "b", "r", 30 * ms), ("end", "b", "r", 40 * ms),
                           ("start", "c", "r", 45 * ms), ("end", "c", "r", 50 * ms),
                           ("wait", "w", "-", 0, "cli"), ("start", "w", "r", 55 * ms, "cli"),
                           ("end", "w", "r", 60 * ms, "cli")))
        self.assertAlmostEqual(report["longest_idle_ours_after_kill_ms"], 20.0)
        self.assertAlmostEqual(report["longest_idle_ours_after_release_ms"], 5.0)

    def test_malformed_lines_fail(self):
        self.assertFalse(passed(check(["start a r 10"])))


if __name__ == "__main__":
    unittest.main()
