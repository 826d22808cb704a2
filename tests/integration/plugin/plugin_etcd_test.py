#!/usr/bin/env python3
"""The plugin with --lockable_lock_server: test programs lock through a real etcd on 127.0.0.1,
and fail their running and remaining tests when etcd goes away while they hold the lock."""
import json
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import etcd_support  # noqa: E402
from plugin_test import PLAIN, PROBE_MAIN, plugin_case  # noqa: E402

HANG_GUARD = 30  # seconds: a bound that only a hang reaches, never a timing assertion


def wait_for_line(path, prefix):
    """Waits (bounded) until file `path` has a line starting with `prefix`."""
    deadline = time.monotonic() + HANG_GUARD
    while time.monotonic() < deadline:
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                if any(line.startswith(prefix) for line in f.read().splitlines()):
                    return
        time.sleep(0.02)  # polling a file another process writes; bounded by the deadline
    raise AssertionError("no line starting %r in %s within %d s" % (prefix, path, HANG_GUARD))


@unittest.skipUnless(etcd_support.available(), "install Debian's etcd-server to run these tests")
class lock_server_test(plugin_case):
    def setUp(self):
        super().setUp()
        self.etcd = etcd_support.etcd_server()
        self.addCleanup(self.etcd.close)
        self.log = os.path.join(self.dir, "probe.log")

    def start_program(self, args, env=None):
        clean = {k: v for k, v in os.environ.items()
                 if not k.startswith("LOCKABLE_") and not k.startswith("GTEST_")}
        proc = subprocess.Popen([PROBE_MAIN, *args], cwd=self.dir,
                                env={**clean, "PROBE_LOG": self.log, **(env or {})},
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.addCleanup(lambda: proc.poll() is None and (proc.kill(), proc.wait()))
        return proc

    def test_a_failed_test_leaves_a_hold_in_etcd(self):
        server = f"--lockable_lock_server={self.etcd.uri()}"
        probe = os.environ["PROBE_HOLDS"]
        failed = self.run_program(self.flags() + [server, "--lockable_hold_on_failure=1h"],
                                  program=probe, env={"PROBE_FAIL": "1"})
        self.assertEqual(failed.returncode, 1, self.output)
        self.assertIn("kept 'r1' as a hold until", self.output)
        # The program has ended; its hold keeps r1 for the next one, seen through etcd.
        status = subprocess.run([os.environ["LOCKABLE"], "--resources", self.inventory,
                                 "--hostname", "h", "--lock-server", self.etcd.uri(),
                                 "--status", "--json"], capture_output=True, text=True, timeout=30)
        self.assertEqual(status.returncode, 0, status.stderr)
        held = {e["id"]: e for e in json.loads(status.stdout)}["r1"]
        self.assertIn("1 failed: hold_probe.fails_when_asked", json.dumps(held))
        again = self.run_program(self.flags() + [server], program=probe)
        self.assertEqual(again.returncode, 1, "the next program cannot have r1")
        self.assertIn("hold of", self.output)
        # A program whose tests pass releases as before.
        released = subprocess.run([os.environ["LOCKABLE"], "--resources", self.inventory,
                                   "--hostname", "h", "--lock-server", self.etcd.uri(),
                                   "--release", "r1"], capture_output=True, text=True, timeout=30)
        self.assertEqual(released.returncode, 0, released.stderr)
        passed = self.run_program(self.flags() + [server, "--lockable_hold_on_failure=1h"],
                                  program=probe)
        self.assertEqual(passed.returncode, 0, self.output)
        self.assertIn("released 'r1'", self.output)

    def test_programs_exclude_each_other_through_etcd(self):
        server = f"--lockable_lock_server={self.etcd.uri()}"
        holder = self.start_program(self.flags() + [server, "--gtest_filter=*logs_hold_interval"])
        wait_for_line(self.log, "begin ")
        busy = self.run_program(self.flags() + [server, f"--gtest_filter={PLAIN}"])
        self.assertEqual(busy.returncode, 1, self.output)
        self.assertIn(f"busy: r1 (held by PID {holder.pid} on h since ", self.output)
        self.assertIn(f"[  FAILED  ] {PLAIN}", self.output)
        with open(self.log, "a", encoding="utf-8") as out:
            out.write("launched\n")  # lets the holder finish
        output = holder.communicate(timeout=HANG_GUARD)[0]
        self.assertEqual(holder.returncode, 0, output)
        self.assertIn("[ LOCKABLE ] released 'r1'", output)
        self.assertFalse(os.path.exists(self.locks), "the lock folder is not used")
        # The variable works as the flag does, and the lock is free again.
        after = self.run_program(self.flags() + [f"--gtest_filter={PLAIN}"],
                                 env={"LOCKABLE_LOCK_SERVER": self.etcd.uri()})
        self.assert_ran(after, PLAIN)

    def test_lost_lease_fails_the_running_and_remaining_tests(self):
        server = f"--lockable_lock_server={self.etcd.uri(ttl=2, timeout=1)}"
        program = self.start_program(
            self.flags() + [server, "--gtest_filter=*runs_until_lock_lost:plain_test.second"])
        wait_for_line(self.log, "holding r1")
        self.etcd.stop()
        output = program.communicate(timeout=HANG_GUARD)[0]
        self.assertEqual(program.returncode, 1, output)
        self.assertIn("the test body ended; held: no", output)
        self.assertIn("a lock was lost while this test ran: lost the lock of 'r1': ", output)
        self.assertIn("[  FAILED  ] board_test.runs_until_lock_lost", output)
        self.assertIn("the lock on 'r1' was lost (etcd lock server ", output)
        self.assertIn("this test did not run", output)
        self.assertNotIn("second test ran", output)
        self.assertIn("[  FAILED  ] plain_test.second", output)
        self.assertIn("[ LOCKABLE ] lost 'r1'", output)


if __name__ == "__main__":
    unittest.main()
