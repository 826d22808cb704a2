#!/usr/bin/env python3
"""Priorities, hold limits, holds and the usage ledger with the etcd lock store (docs/holds.md,
docs/ledger.md), through the real `lockable` command and a real etcd on 127.0.0.1: several
lockable processes, and another user where the test runs as root.
Run as: cli_etcd_holds_test.py --lockable PATH [unittest arguments]; LOCK_TOOL names
tests/integration/lock_tool for the starvation bound.
"""
import json
import os
import signal
import subprocess
import sys
import time
import unittest

import etcd_support
from cli_support import (HANG_GUARD, RUN_UNTIL_STDIN_CLOSES, clean_environment, lockable_case,
                         main, read_line)

PREFIX = "/test/locks"


@unittest.skipUnless(etcd_support.available(), "install Debian's etcd-server to run these tests")
class etcd_case(lockable_case):
    params = {}

    def setUp(self):
        super().setUp()
        self.etcd = etcd_support.etcd_server()
        self.addCleanup(self.etcd.close)

    def server_args(self, *extra):
        return self.args("--lock-server", self.etcd.uri(PREFIX, **self.params), *extra)

    def hold(self, resource_id):
        proc = self.start(self.server_args("--requirements", "id=" + resource_id, "--",
                                           sys.executable, "-c", RUN_UNTIL_STDIN_CLOSES))
        self.assertEqual(read_line(proc.stdout, "ready from the holder"), "ready\n")
        return proc

    def tickets(self):
        return self.etcd.keys(PREFIX + ".queue/")

    def wait_for(self, condition, what):
        """Polls `condition` until it holds; only a hang reaches the guard."""
        deadline = time.monotonic() + HANG_GUARD
        while not condition():
            self.assertLess(time.monotonic(), deadline, "no " + what)
            time.sleep(0.01)

    def status(self):
        result = self.run_lockable(self.server_args("--status", "--json", "--requirements", "{}"))
        self.assertEqual(result.returncode, 0, result.stderr)
        return {entry["id"]: entry for entry in json.loads(result.stdout)}

    def history(self, *extra):
        result = self.run_lockable(self.server_args("--history", "--json", *extra))
        self.assertEqual(result.returncode, 0, result.stderr)
        return json.loads(result.stdout)

    def lock_now(self, resource_id="b1"):
        return self.run_lockable(self.server_args("--timeout", "0", "--requirements",
                                                  "id=" + resource_id, "--", "true"))

    def assert_free(self, resource_id):
        self.assertEqual(self.etcd.keys("%s/%s" % (PREFIX, resource_id)), [])
        result = self.lock_now(resource_id)
        self.assertEqual(result.returncode, 0, result.stderr)

    def make_hold(self, *extra):
        result = self.run_lockable(self.server_args("--hold", "--requirements", "id=b1", *extra))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, "b1\n")
        return result


class etcd_priorities_test(etcd_case):
    def test_waiters_get_a_freed_resource_by_priority_then_in_arrival_order(self):
        holder = self.hold("b1")
        order = os.path.join(self.dir, "order")
        waiters = []
        for priority in ["0", "5", "1", "1"]:
            n = len(waiters)
            waiters.append(self.start(self.server_args(
                "--priority", priority, "--timeout", "30", "--requirements", "id=b1", "--",
                "sh", "-c", "echo %d >> %s" % (n, order))))
            self.wait_for(lambda: len(self.tickets()) == n + 1, "ticket of waiter %d" % n)
        holder.stdin.close()
        for w in [holder] + waiters:
            self.assertEqual(w.wait(HANG_GUARD), 0)
        with open(order) as f:
            self.assertEqual(f.read().split(), ["1", "2", "3", "0"],
                             "priority 5, the two of priority 1 as they came, then priority 0")
        self.assertEqual(self.tickets(), [], "every waiter left the queue")

    def test_a_killed_waiter_of_this_host_holds_nobody_back(self):
        holder = self.hold("b1")
        waiter = self.start(self.server_args("--timeout", "30", "--requirements", "id=b1", "--",
                                             "true"))
        self.wait_for(lambda: len(self.tickets()) == 1, "the waiter's ticket")
        waiter.send_signal(signal.SIGKILL)
        waiter.wait(HANG_GUARD)
        holder.stdin.close()
        self.assertEqual(holder.wait(HANG_GUARD), 0)
        self.assertEqual(len(self.tickets()), 1, "its ticket lives on until its lease expires")
        result = self.lock_now()
        self.assertEqual(result.returncode, 0, result.stderr)

    @unittest.skipUnless(os.environ.get("LOCK_TOOL"), "needs LOCK_TOOL")
    def test_a_higher_priority_passes_only_those_that_came_less_than_its_head_start_before(self):
        # With a step of 1 s, priority 2 counts as 2 s of waiting: a priority-2 waiter that comes
        # at once goes first, one that comes 3 s later does not.
        log = os.path.join(self.dir, "holds.log")

        def tool(*extra):
            return self.start([os.environ["LOCK_TOOL"], "--resources", self.inventory,
                               "--lock-server", self.etcd.uri(PREFIX), "--hostname", "test-host",
                               "--requirements", "id=b1", "--log", log, "--timeout", "30"]
                              + list(extra))

        holder = tool("--hold-until-eof", "1")
        self.assertTrue(read_line(holder.stdout, "held").startswith("held b1 "))

        def waiter(priority):
            w = tool("--say-waiting", "1", "--hold-ms", "5", "--priority-step", "1",
                     "--priority", priority)
            self.assertEqual(read_line(w.stdout, "waiting"), "waiting\n")
            return w

        low = waiter("0")
        soon = waiter("2")
        time.sleep(3)  # what is tested is the passing of time itself: more than the head start
        late = waiter("2")
        holder.stdin.close()
        for w in (holder, low, soon, late):
            self.assertEqual(w.wait(HANG_GUARD), 0)
        with open(log) as f:
            pids = [int(line.split()[3]) for line in sorted(f, key=lambda l: int(l.split()[1]))]
        self.assertEqual(pids, [holder.pid, soon.pid, low.pid, late.pid],
                         "priority 2 at once passes priority 0; 3 s later it does not")


class etcd_max_hold_test(etcd_case):
    def test_a_command_past_its_hold_limit_is_ended_with_its_group_then_released(self):
        gc_file = os.path.join(self.dir, "grandchild")
        started = time.monotonic()
        proc = self.start(self.server_args("--max-hold", "1", "--requirements", "id=b1", "--",
                                           "sh", "-c", "sleep 30 & echo $! > %s; sleep 30"
                                           % gc_file))

        def grandchild():
            with open(gc_file) as f:
                return f.read().strip()

        self.wait_for(lambda: os.path.exists(gc_file) and grandchild(), "grandchild")
        self.assertEqual(len(self.etcd.keys(PREFIX + "/b1")), 1, "held while it runs")
        self.assertEqual(proc.wait(HANG_GUARD), 124)
        elapsed = time.monotonic() - started
        print("--max-hold 1 with etcd: ended after %.3f s" % elapsed)
        self.assertLess(elapsed, 2.5, "ended about 1 s after the hold began")
        self.assertGreater(elapsed, 0.9)
        self.assertFalse(os.path.exists("/proc/%s" % grandchild()), "the grandchild is gone too")
        self.assertIn("longer than --max-hold 1 s: sent SIGTERM to its process group",
                      proc.stderr.read().decode())
        self.assert_free("b1")


class etcd_hold_test(etcd_case):
    def test_a_hold_outlives_its_maker_and_expires_on_time(self):
        made = time.monotonic()
        result = self.make_hold("--for", "2", "--note", "post-mortem of run 42")
        self.assertLess(time.monotonic() - made, 1.5, "returns at once")
        self.assertIn("until", result.stderr)
        entry = self.status()["b1"]
        self.assertEqual(entry["state"], "held")
        self.assertEqual(entry["hold"]["note"], "post-mortem of run 42")
        self.assertTrue(entry["hold"]["until"].endswith("Z"))
        self.assertEqual(entry["host"], "test-host")
        self.assertIn("user", entry)
        table = self.run_lockable(self.server_args("--status"))
        self.assertIn("hold of %s until " % entry["user"], table.stdout)
        busy = self.lock_now()
        self.assertEqual(busy.returncode, 75)
        self.assertIn("b1 (hold of %s until %s: 'post-mortem of run 42')"
                      % (entry["user"], entry["hold"]["until"]), busy.stderr)
        # The hold is its own lease of the hold's length, which nobody renews.
        [key] = self.etcd.keys(PREFIX + "/b1")
        granted, _ = self.etcd.lease_ttl(key["lease"])
        self.assertIn(granted, (2, 3), "a lease of the hold's length (etcd's minimum is 2 s)")
        waiter = self.run_lockable(self.server_args("--timeout", "10", "--requirements", "id=b1",
                                                    "--quiet", "--", "true"))
        self.assertEqual(waiter.returncode, 0, waiter.stderr)
        print("a 2 s etcd hold: the waiter got it %.3f s after the hold was made"
              % (time.monotonic() - made))
        self.assertAlmostEqual(time.monotonic() - made, 2.0, delta=1.0)

    def test_a_short_hold_ends_on_time_although_etcd_keeps_its_lease_longer(self):
        made = time.monotonic()
        self.make_hold("--for", "0.5")
        waiter = self.run_lockable(self.server_args("--timeout", "10", "--requirements", "id=b1",
                                                    "--quiet", "--", "true"))
        self.assertEqual(waiter.returncode, 0, waiter.stderr)
        self.assertAlmostEqual(time.monotonic() - made, 0.5, delta=0.5)

    def test_its_owner_releases_a_hold_early_and_nobody_releases_what_is_not_held(self):
        self.make_hold("--for", "1h", "--note", "maintenance")
        result = self.run_lockable(self.server_args("--release", "b1"))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("released b1 (hold of", result.stderr)
        self.assert_free("b1")
        self.assert_one_error_line(self.run_lockable(self.server_args("--release", "b1")), 69,
                                   "'b1' is not held", "there is no hold to release")
        holder = self.hold("b2")
        self.assert_one_error_line(self.run_lockable(self.server_args("--release", "b2")), 69,
                                   "'b2' has no hold", "running lock")
        holder.stdin.close()
        self.assertEqual(holder.wait(HANG_GUARD), 0)

    @unittest.skipUnless(os.geteuid() == 0, "needs root to act as another user")
    def test_another_user_needs_force_and_a_forced_release_is_recorded(self):
        os.chmod(self.dir, 0o755)
        os.chmod(self.inventory, 0o644)
        self.make_hold("--for", "1h", "--note", "keep out")

        def as_nobody(*extra):
            return subprocess.run(self.server_args(*extra), env=clean_environment(), cwd="/",
                                  preexec_fn=lambda: os.setuid(65534), stdin=subprocess.DEVNULL,
                                  capture_output=True, text=True, timeout=HANG_GUARD)

        refused = as_nobody("--release", "b1")
        self.assert_one_error_line(refused, 77, "the hold of 'b1' is root's",
                                   "add --force to release it anyway")
        self.assertEqual(self.status()["b1"]["state"], "held", "the refused release changed nothing")
        forced = as_nobody("--release", "b1", "--force")
        self.assertEqual(forced.returncode, 0, forced.stderr)
        self.assert_free("b1")
        [entry] = self.etcd.keys(PREFIX + ".forced-releases/")
        record = json.loads(entry["value"])
        self.assertEqual((record["resource_id"], record["owner"], record["note"]),
                         ("b1", "root", "keep out"))
        self.assertNotEqual(record["by"], "root")
        [rec] = [r for r in self.history() if r.get("as_hold")]
        self.assertEqual((rec["released_by"], rec["forced"]), (record["by"], True))

    def test_a_dead_server_is_one_line_and_locks_nothing(self):
        self.etcd.stop()
        uri = self.etcd.uri(PREFIX, timeout=0.3)
        for extra in (["--hold", "--for", "1h", "b1"], ["--release", "b1"], ["--history"],
                      ["--stats"]):
            with self.subTest(args=extra):
                result = self.run_lockable(self.args("--lock-server", uri, *extra))
                self.assert_one_error_line(result, 74, "cannot reach etcd at 127.0.0.1:%d"
                                           % self.etcd.client_port)


class etcd_ledger_test(etcd_case):
    def test_exit_status_and_signal_are_recorded_and_read_back(self):
        for script in ("exit 0", "exit 3", "kill -9 $$"):
            self.run_lockable(self.server_args("--requirements", "id=b1", "--", "sh", "-c",
                                               script))
        records = self.history()
        self.assertEqual([(r["resource"], r["outcome"]) for r in records],
                         [("b1", "exit 0"), ("b1", "exit 3"), ("b1", "signal 9")])
        self.assertTrue(all(r["ending"] == "released" and r["hold"] >= 0 for r in records))
        self.assertEqual(len(self.etcd.keys(PREFIX + ".ledger/")), 6, "a start and an end each")
        stats = self.run_lockable(self.server_args("--stats"))
        self.assertEqual(stats.returncode, 0, stats.stderr)
        self.assertRegex(stats.stdout, r"\nb1 +3 ")

    def test_killed_holder_is_closed_as_ended_without_release(self):
        self.params = {"ttl": 2}
        holder = self.hold("b1")
        [record] = self.history()
        self.assertEqual(record["ending"], "held")
        holder.send_signal(signal.SIGKILL)
        holder.wait(HANG_GUARD)
        self.wait_for(lambda: not self.etcd.keys(PREFIX + "/b1"), "expiry of the killed lease")
        [record] = self.history()
        self.assertEqual((record["ending"], record["outcome"]),
                         ("ended without release", "ended without release"))

    def test_a_hold_is_recorded_with_its_end_not_as_0_s(self):
        self.make_hold("--for", "1h", "--note", "maintenance")
        [record] = self.history()
        self.assertEqual((record["ending"], record["outcome"]), ("held", "held"))
        time.sleep(0.3)  # the length of the hold that the ledger should show
        self.assertEqual(self.run_lockable(self.server_args("--release", "b1")).returncode, 0)
        [record] = self.history()
        self.assertEqual((record["ending"], record["outcome"], record["as_hold"]),
                         ("released", "hold released by " + record["user"], True))
        self.assertGreater(record["hold"], 0.25)
        self.assertLess(record["hold"], 5)

    def test_an_expired_hold_ends_at_its_planned_time(self):
        self.make_hold("--for", "1")
        self.wait_for(lambda: self.lock_now().returncode == 0, "the end of the hold")
        records = self.history()
        self.assertEqual([r["outcome"] for r in records], ["hold", "exit 0"])
        self.assertAlmostEqual(records[0]["hold"], 1.0, delta=0.1)

    def test_records_are_dropped_after_the_retention(self):
        self.params = {"retention": "3s"}
        self.lock_now()
        keys = self.etcd.keys(PREFIX + ".ledger/")
        self.assertEqual(len(keys), 2)
        self.assertEqual(len({k["lease"] for k in keys}), 1, "one lease for the period")
        granted, _ = self.etcd.lease_ttl(keys[0]["lease"])
        self.assertEqual(granted, 4, "the retention and one period (a tenth, at least 1 s)")
        self.wait_for(lambda: not self.etcd.keys(PREFIX + ".ledger/"), "expiry of the records")
        self.assertEqual(self.history(), [])

    def test_ledger_off_records_nothing(self):
        self.run_lockable(self.server_args("--ledger", "off", "--requirements", "id=b1", "--",
                                           "true"))
        self.assertEqual(self.etcd.keys(PREFIX + ".ledger/"), [])

    def test_bad_retention_is_a_usage_error(self):
        result = self.run_lockable(self.args("--lock-server", self.etcd.uri(PREFIX, retention="1"),
                                             "--", "true"))
        self.assert_one_error_line(result, 64, "invalid etcd ledger retention of 1 s")
        result = self.run_lockable(self.args("--lock-server",
                                             self.etcd.uri(PREFIX, retention="soon"), "--", "true"))
        self.assert_one_error_line(result, 64, "parameter retention needs a number of seconds")


if __name__ == "__main__":
    main()
