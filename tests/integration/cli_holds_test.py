"""Priorities, hold limits and holds through the real `lockable` command (see docs/holds.md):
several lockable processes, a py-lockable-protocol peer, and another user where the test runs as
root. Run as: cli_holds_test.py --lockable PATH [unittest arguments]
"""
import json
import os
import subprocess
import sys
import time
import unittest

import cli_support
from cli_support import HANG_GUARD, clean_environment, lockable_case, read_line

PY_PROTOCOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pylockable_protocol.py")


class holds_case(lockable_case):
    def tickets(self):
        queue = os.path.join(self.locks, ".lockable-queue")
        return [n for n in os.listdir(queue) if not n.startswith(".")] if os.path.isdir(queue) else []

    def wait_for(self, condition, what):
        """Polls `condition` until it holds; only a hang reaches the guard."""
        deadline = time.monotonic() + HANG_GUARD
        while not condition():
            self.assertLess(time.monotonic(), deadline, "no " + what)
            time.sleep(0.01)

    def py_peer_gets(self, resource_id, timeout="0.3"):
        """Whether a process following py-lockable's protocol can lock `resource_id`."""
        peer = subprocess.run([sys.executable, PY_PROTOCOL, self.locks, resource_id, timeout],
                              input="", capture_output=True, text=True, timeout=HANG_GUARD)
        return peer.stdout.startswith("held")

    def make_hold(self, *extra):
        result = self.run_lockable(self.args("--hold", "--requirements", "id=b1", *extra))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, "b1\n")
        return result


class priorities_test(holds_case):
    def test_waiters_get_a_freed_resource_by_priority_then_in_arrival_order(self):
        holder = self.hold("b1")
        order = os.path.join(self.dir, "order")
        waiters = []
        for priority in ["0", "5", "1", "1"]:
            n = len(waiters)
            waiters.append(self.start(self.args(
                "--priority", priority, "--timeout", "30", "--requirements", "id=b1", "--",
                "sh", "-c", "echo %d >> %s" % (n, order))))
            self.wait_for(lambda: len(self.tickets()) == n + 1, "ticket of waiter %d" % n)
        holder.stdin.close()
        for w in [holder] + waiters:
            self.assertEqual(w.wait(HANG_GUARD), 0)
        with open(order) as f:
            self.assertEqual(f.read().split(), ["1", "2", "3", "0"],
                             "priority 5, the two of priority 1 as they came, then priority 0")


class max_hold_test(holds_case):
    def test_a_command_past_its_hold_limit_is_ended_with_its_group_then_released(self):
        gc_file = os.path.join(self.dir, "grandchild")
        started = time.monotonic()
        proc = self.start(self.args("--max-hold", "1", "--requirements", "id=b1", "--", "sh",
                                    "-c", "sleep 30 & echo $! > %s; sleep 30" % gc_file))
        def grandchild():
            with open(gc_file) as f:
                return f.read().strip()
        self.wait_for(lambda: os.path.exists(gc_file) and grandchild(), "grandchild")
        self.assertEqual(proc.wait(HANG_GUARD), 124)
        elapsed = time.monotonic() - started
        stderr = proc.stderr.read().decode()
        self.assertLess(elapsed, 2.5, "ended about 1 s after the hold began")
        self.assertGreater(elapsed, 0.9)
        self.assertFalse(os.path.exists("/proc/%s" % grandchild()), "the grandchild is gone too")
        self.assertIn("longer than --max-hold 1 s: sent SIGTERM to its process group", stderr)
        self.assert_free("b1")

    def test_the_lock_is_released_only_once_the_whole_group_is_gone(self):
        # The grandchild ignores SIGTERM: it lives until the SIGKILL 5 s later, holding b1.
        gc_file = os.path.join(self.dir, "grandchild")
        proc = self.start(self.args(
            "--max-hold", "0.5", "--requirements", "id=b1", "--", "sh", "-c",
            "(trap '' TERM; echo go > %s; sleep 30) & sleep 30" % gc_file))
        self.wait_for(lambda: os.path.exists(gc_file), "grandchild")
        time.sleep(2)  # past the limit, inside the grace period
        self.assertIsNone(proc.poll())
        busy = self.run_lockable(self.args("--timeout", "0", "--requirements", "id=b1", "--",
                                           "true"))
        self.assertEqual(busy.returncode, 75, "b1 stays locked while the group lives")
        self.assertEqual(proc.wait(HANG_GUARD), 124)
        self.assertIn("then SIGKILL 5 s later", proc.stderr.read().decode())
        self.assert_free("b1")


class hold_test(holds_case):
    def test_a_hold_outlives_its_maker_for_us_and_py_lockable_until_it_expires_on_time(self):
        made = time.monotonic()
        result = self.make_hold("--for", "2", "--note", "post-mortem of run 42")
        self.assertLess(time.monotonic() - made, 1.5, "returns at once, stdout closed")
        self.assertIn("until", result.stderr)
        entry = self.status()["b1"]
        self.assertEqual(entry["state"], "held")
        self.assertEqual(entry["hold"]["note"], "post-mortem of run 42")
        self.assertTrue(entry["hold"]["until"].endswith("Z"))
        self.assertIn("user", entry)
        busy = self.run_lockable(self.args("--timeout", "0", "--requirements", "id=b1", "--",
                                           "true"))
        self.assertEqual(busy.returncode, 75)
        self.assertIn("hold of", busy.stderr)
        self.assertFalse(self.py_peer_gets("b1"), "py-lockable sees the hold as busy")
        waiter = self.run_lockable(self.args("--timeout", "10", "--requirements", "id=b1",
                                             "--quiet", "--", "true"))
        self.assertEqual(waiter.returncode, 0, waiter.stderr)
        self.assertAlmostEqual(time.monotonic() - made, 2.0, delta=1.0)
        self.assertTrue(self.py_peer_gets("b1"), "py-lockable gets it after the hold")

    def test_its_owner_releases_a_hold_early_and_nobody_releases_what_is_not_held(self):
        self.make_hold("--for", "1h", "--note", "maintenance")
        result = self.run_lockable(self.args("--release", "b1"))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("released b1 (hold of", result.stderr)
        self.assert_free("b1")
        self.assert_one_error_line(self.run_lockable(self.args("--release", "b1")), 69,
                                   "'b1' is not held", "there is no hold to release")
        holder = self.hold("b2")
        self.assert_one_error_line(self.run_lockable(self.args("--release", "b2")), 69,
                                   "'b2' has no hold", "running lock")
        holder.stdin.close()
        self.assertEqual(holder.wait(HANG_GUARD), 0)

    @unittest.skipUnless(os.geteuid() == 0, "needs root to act as another user")
    def test_another_user_needs_force_and_a_forced_release_is_recorded(self):
        os.makedirs(self.locks)
        os.chmod(self.locks, 0o1777)
        os.chmod(self.dir, 0o755)
        os.chmod(self.inventory, 0o644)
        self.make_hold("--for", "1h", "--note", "keep out")

        def as_nobody(*extra):
            return subprocess.run(self.args(*extra), env=clean_environment(), cwd="/",
                                  preexec_fn=lambda: os.setuid(65534), stdin=subprocess.DEVNULL,
                                  capture_output=True, text=True, timeout=HANG_GUARD)

        refused = as_nobody("--release", "b1")
        self.assert_one_error_line(refused, 77, "the hold of 'b1' is root's",
                                   "add --force to release it anyway")
        self.assertEqual(self.status()["b1"]["state"], "held", "the refused release changed nothing")
        forced = as_nobody("--release", "b1", "--force")
        self.assertEqual(forced.returncode, 0, forced.stderr)
        self.assert_free("b1")
        with open(os.path.join(self.locks, ".lockable-forced-releases")) as f:
            record = json.loads(f.readline())
        self.assertEqual((record["resource_id"], record["owner"], record["note"]),
                         ("b1", "root", "keep out"))
        self.assertNotEqual(record["by"], "root")


class hold_ledger_test(holds_case):
    def history(self):
        result = self.run_lockable(self.args("--history", "--json"))
        self.assertEqual(result.returncode, 0, result.stderr)
        return json.loads(result.stdout)

    def test_a_hold_is_recorded_with_its_length_when_its_keeper_ends_it(self):
        self.make_hold("--for", "1", "--note", "expires")
        [record] = self.history()
        self.assertEqual(record["ending"], "held", "no end record while the hold lasts")
        self.wait_for(lambda: not os.path.exists(self.lock_file("b1")), "the end of the hold")
        self.wait_for(lambda: self.history()[0]["ending"] == "released", "the keeper's record")
        [record] = self.history()
        self.assertEqual((record["outcome"], record["as_hold"]), ("hold", True))
        self.assertAlmostEqual(record["hold"], 1.0, delta=0.2)

    def test_a_released_hold_is_recorded_with_its_length(self):
        self.make_hold("--for", "1h")
        time.sleep(0.3)  # the length of the hold that the ledger should show
        self.assertEqual(self.run_lockable(self.args("--release", "b1")).returncode, 0)
        self.wait_for(lambda: self.history()[0]["ending"] == "released", "the keeper's record")
        [record] = self.history()
        self.assertEqual(record["outcome"], "hold")
        self.assertGreater(record["hold"], 0.25)
        self.assertLess(record["hold"], 5)


    def test_a_ledger_that_cannot_be_written_is_one_warning_and_the_hold_is_made(self):
        os.makedirs(self.locks)
        with open(os.path.join(self.locks, ".lockable-ledger"), "w") as f:
            f.write("not a folder")
        result = self.make_hold("--for", "1h", "--quiet")
        lines = result.stderr.splitlines()
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertTrue(lines[0].startswith("lockable: warning: "), lines[0])
        self.assertIn("locking goes on without the ledger", lines[0])
        self.assertEqual(self.status()["b1"]["state"], "held")


class hostile_test(holds_case):
    def test_bad_values_get_one_line_and_a_documented_status_and_lock_nothing(self):
        cases = [
            (["--hold", "--for", "2d"], "invalid hold duration '2d' from --for"),
            (["--hold", "--for", "0"], "give more than 0"),
            (["--hold", "--for", "721h"], "at most 720h"),
            (["--hold"], "--hold needs --for DURATION"),
            (["--hold", "--for", "1", "--note", "x" * 100000], "--note: the note of a hold is "
             "100000 bytes: give at most 500"),
            (["--hold", "--for", "1", "--note", "a\x1b[31mb"], "control character at byte 2"),
            (["--priority", "-1", "--", "true"], "invalid priority '-1' from --priority"),
            (["--priority", "1001", "--", "true"], "give a whole number from 0"),
            (["--priority", "99999999999999999999", "--", "true"], "invalid priority"),
            (["--max-hold", "0", "--", "true"], "invalid hold limit '0' from --max-hold"),
            (["--max-hold", "soon", "--", "true"], "invalid hold limit 'soon'"),
            (["--release", "../../etc/passwd"], "not a resource id"),
            (["--force", "--", "true"], "--force applies to --release only"),
            (["--note", "x", "--", "true"], "--note applies to --hold only"),
        ]
        for extra, message in cases:
            with self.subTest(args=extra[:3]):
                self.assert_one_error_line(self.run_lockable(self.args(*extra)), 64, message)
        env = clean_environment(LOCKABLE_PRIORITY="high")
        self.assert_one_error_line(self.run_lockable(self.args("--", "true"), env=env), 64,
                                   "invalid priority 'high' from LOCKABLE_PRIORITY")
        self.assertFalse(os.path.exists(self.lock_file("b1")))
        self.assert_free("b1")


if __name__ == "__main__":
    cli_support.main()
