"""The plugin's --lockable_hold_on_failure and --lockable_max_hold, on a real test program.

usage: plugin_holds_test.py [-v] PROBE PY_PROTOCOL
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

PROBE = PY_PROTOCOL = None


class holds_case(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="plugin_holds_test.")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.locks = os.path.join(self.dir, "locks")
        with open(os.path.join(self.dir, "resources.json"), "w") as f:
            json.dump([{"id": "r1", "hostname": "h", "online": True}], f)
        self.addCleanup(self.end_hold)

    def end_hold(self):
        """A hold left by a test ends with its keeper (SIGTERM releases it)."""
        record = self.record()
        if record:
            try:
                os.kill(record[0], signal.SIGTERM)
            except ProcessLookupError:
                pass

    def record(self):
        """The PID and JSON details of r1's lock file, or None."""
        try:
            with open(os.path.join(self.locks, "r1.pid")) as f:
                pid, details = f.readline(), f.readline()
        except FileNotFoundError:
            return None
        return int(pid), json.loads(details or "{}")

    def run_probe(self, *flags, **env):
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("LOCKABLE_", "GTEST_"))}
        clean.update(env)
        args = [PROBE, "--lockable_resources=resources.json",
                "--lockable_lock_folder=" + self.locks, "--lockable_hostname=h", *flags]
        result = subprocess.run(args, cwd=self.dir, env=clean, capture_output=True, text=True,
                                timeout=60)
        self.output = result.stdout + result.stderr
        return result

    def py_peer_gets_r1(self):
        peer = subprocess.run([sys.executable, PY_PROTOCOL, self.locks, "r1", "0.2"], input="",
                              capture_output=True, text=True, timeout=30)
        return peer.stdout.startswith("held")


class hold_on_failure_test(holds_case):
    def test_a_failed_test_leaves_a_hold_naming_the_program_and_the_test(self):
        result = self.run_probe("--lockable_hold_on_failure=1h", PROBE_FAIL="1")
        self.assertEqual(result.returncode, 1, self.output)
        self.assertIn("kept 'r1' as a hold until", self.output)
        pid, details = self.record()
        self.assertIn("1 failed: hold_probe.fails_when_asked", details["note"])
        self.assertIn(os.path.basename(PROBE)[:15], details["note"])
        self.assertTrue(details["hold_until"])
        self.assertNotEqual(pid, os.getpid())
        self.assertFalse(self.py_peer_gets_r1(), "the program ended; its hold keeps r1 busy")
        again = self.run_probe("--lockable_timeout=0")
        self.assertEqual(again.returncode, 1, "our next program cannot have r1 either")
        self.assertIn("hold of", self.output)

    def test_a_program_whose_tests_pass_releases_as_before(self):
        result = self.run_probe("--lockable_hold_on_failure=1h")
        self.assertEqual(result.returncode, 0, self.output)
        self.assertIn("released 'r1'", self.output)
        self.assertIsNone(self.record())
        self.assertTrue(self.py_peer_gets_r1())

    def test_a_bad_duration_fails_every_test_with_one_message(self):
        result = self.run_probe("--lockable_hold_on_failure=2d")
        self.assertEqual(result.returncode, 1)
        self.assertIn("invalid hold duration '2d' from --lockable_hold_on_failure", self.output)
        self.assertIsNone(self.record())


class max_hold_test(holds_case):
    def test_past_the_limit_the_running_and_remaining_tests_fail_naming_it(self):
        started = time.monotonic()
        result = self.run_probe("--lockable_max_hold=1", PROBE_SLEEP_MS="1500")
        self.assertEqual(result.returncode, 1, self.output)
        self.assertLess(time.monotonic() - started, 10)
        self.assertIn("[       OK ] hold_probe.passes", self.output)
        self.assertIn("longer than --lockable_max_hold=1 s while this test ran", self.output)
        self.assertIn("[  FAILED  ] hold_probe.runs_long_when_asked", self.output)
        self.assertIn("longer than --lockable_max_hold=1 s; this test did not run", self.output)
        self.assertIn("[  FAILED  ] hold_probe.last", self.output)
        self.assertIsNone(self.record(), "released after the last test")

    def test_a_hung_test_ends_the_program_and_frees_the_resource(self):
        started = time.monotonic()
        result = self.run_probe("--lockable_max_hold=0.5", PROBE_SLEEP_MS="30000")
        self.assertEqual(result.returncode, 1, self.output)
        self.assertLess(time.monotonic() - started, 15, "ended 5 s after the limit")
        self.assertIn("ending the program to free 'r1'", self.output)
        self.assertTrue(self.py_peer_gets_r1())


if __name__ == "__main__":
    argv = [a for a in sys.argv[1:] if a.startswith("-")]
    PROBE, PY_PROTOCOL = [os.path.abspath(a) for a in sys.argv[1:] if not a.startswith("-")][:2]
    unittest.main(argv=[sys.argv[0], *argv])
