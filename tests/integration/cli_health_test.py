#!/usr/bin/env python3
"""Lab health through the real `lockable` command: probes before hand-out, resets before release,
quarantine by hand and automatic, and hostile probes (docs/lab-health.md).
usage: cli_health_test.py --lockable PATH [unittest arguments]
"""
import json
import os
import resource
import subprocess
import sys
import time

import unittest

import etcd_support
from cli_support import HANG_GUARD, HOST, lockable_case, main, read_line

PY_PROTOCOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pylockable_protocol.py")


def board(rid, **health):
    entry = {"id": rid, "hostname": HOST, "online": True, "type": "board"}
    if health:
        entry["health"] = health
    return entry


def wait_for_file(path):
    """Waits for a file that a child process writes; a bound only a hang reaches."""
    deadline = time.monotonic() + HANG_GUARD
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise AssertionError("%s did not appear within %d s" % (path, HANG_GUARD))
        time.sleep(0.01)


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


class health_case(lockable_case):
    resources = [board("b1"), board("b2")]

    def lock(self, *extra, command=("true",)):
        return self.run_lockable(self.args(*extra, "--") + list(command))

    def pylockable_try(self, rid):
        """A py-lockable-protocol peer's single try: 'held' or 'busy'."""
        proc = subprocess.run([sys.executable, PY_PROTOCOL, self.locks, rid, "0"],
                              input="", capture_output=True, text=True, timeout=HANG_GUARD)
        return proc.stdout.split()[0]

    def assert_released(self, rid):
        """No lock of `rid` is left: no lock file, and a py-lockable peer takes it."""
        self.assertFalse(os.path.exists(self.lock_file(rid)), "lock file of %s left" % rid)
        self.assertEqual(self.pylockable_try(rid), "held")


class probe_test(health_case):
    def test_a_failing_probe_on_b1_gives_every_lock_b2_and_quarantines_b1_after_3(self):
        self.write_inventory([board("b1", probe=["sh", "-c", "echo broken >&2; exit 3"]),
                              board("b2", probe=["true"])])
        # Candidates are tried in random order: lock until b1 has been tried three times.
        for _ in range(200):
            result = self.lock("--requirements", "type=board", command=(
                "sh", "-c", "echo $LOCKABLE_RESOURCE_ID"))
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertEqual(result.stdout, "b2\n")
            if self.status()["b1"].get("quarantined"):
                break
        # Another process sees it (every --status is one).
        status = self.status()
        self.assertTrue(status["b1"]["quarantined"], status["b1"])
        self.assertIn("probe failed 3 times in a row, last: exited with status 3",
                      status["b1"]["health"])
        self.assertIn("broken", status["b1"]["health_output"])
        self.assertEqual(status["b2"]["health"], "ok")
        table = self.run_lockable(self.args("--status")).stdout
        self.assertIn("quarantined automatically by", table)
        listed = json.loads(self.run_lockable(self.args("--list", "--requirements", "{}")).stdout)
        self.assertIn("quarantined automatically by", listed[0]["lockable_health"])
        self.assertEqual(listed[1]["lockable_health"], "ok")
        # Never handed out, and a timeout names it.
        result = self.lock("--requirements", "id=b1", "--timeout", "0.2")
        self.assert_one_error_line(result, 75, "1 matching resource is quarantined: b1 (",
                                   "probe failed 3 times")
        self.assert_released("b1")

    def test_the_probe_gets_the_resource_variables_and_a_failure_is_counted(self):
        self.write_inventory([board("b1", probe=[
            sys.executable, "-c",
            "import os, sys; sys.exit(0 if os.environ['ID'] == 'b1' and "
            "os.environ['TYPE'] == 'board' and os.environ['LOCKABLE_RESOURCE_ID'] == 'b1' "
            "else 1)"])])
        result = self.lock("--requirements", "id=b1")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.write_inventory([board("b1", probe=["false"])])
        result = self.lock("--requirements", "id=b1", "--timeout", "0")
        self.assert_one_error_line(result, 75, "probe failed: b1 (probe exited with status 1, "
                                   "failing 1 of 3)")
        self.assertEqual(self.status()["b1"]["health"],
                         "failing 1 of 3: probe exited with status 1")
        self.assert_released("b1")


class defaults_test(health_case):
    def test_defaults_by_requirement_apply_to_entries_without_their_own(self):
        # A plain py-lockable inventory (no health fields) and a lab file of defaults.
        self.write_inventory([board("b1"), board("b2", probe=["true"]),
                              {"id": "p1", "hostname": HOST, "online": True, "type": "phone"}])
        defaults = os.path.join(self.dir, "health.json")
        with open(defaults, "w") as f:
            json.dump([{"match": "type=board", "probe": ["sh", "-c", "exit 4"]},
                       {"match": {"type": "phone"}, "reset": ["sh", "-c", "exit 5"]}], f)
        given = ["--health-defaults", defaults]
        # b1 takes the board default (its probe fails); b2 keeps its own, which passes.
        result = self.lock(*given, "--requirements", "id=b1", "--timeout", "0")
        self.assert_one_error_line(result, 75, "probe failed: b1 (probe exited with status 4")
        result = self.lock(*given, "--requirements", "id=b2")
        self.assertEqual(result.returncode, 0, result.stderr)
        # The phone takes the second default: its reset runs at release.
        result = self.lock(*given, "--requirements", "id=p1")
        self.assertIn("reset", result.stderr)
        status = self.status()
        self.assertIn("reset exited with status 5", status["p1"]["health"])
        # Without the file, nothing of it applies.
        result = self.lock("--requirements", "id=b1")
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_a_bad_defaults_file_is_one_line_naming_it(self):
        defaults = os.path.join(self.dir, "health.json")
        for text, why in (("{", "is not valid JSON"),
                          ('{"match": "type=board"}', "not a JSON array"),
                          ('[{"probe": ["true"]}]', 'item 1: no "match"'),
                          ('[{"match": "type=board", "probe": "true"}]', "item 1:")):
            with open(defaults, "w") as f:
                f.write(text)
            result = self.lock("--health-defaults", defaults)
            self.assert_one_error_line(result, 64, defaults, why)
        result = self.lock("--health-defaults", os.path.join(self.dir, "missing.json"))
        self.assert_one_error_line(result, 64, "cannot read health defaults")


class reset_test(health_case):
    def test_a_1s_reset_runs_between_two_holders_while_the_lock_stays_held(self):
        reset = ("import os, time\n"
                 "def mark(name):\n"
                 "    with open(name + '.tmp', 'w') as f: f.write(repr(time.time()))\n"
                 "    os.replace(name + '.tmp', name)\n"
                 "mark('reset.start'); time.sleep(1); mark('reset.end')\n")
        self.write_inventory([board("b1", reset=[sys.executable, "-c", reset])])
        first = self.hold("b1")
        second = self.start(self.args("--requirements", "id=b1", "--timeout", "30", "--",
                                      sys.executable, "-c", "import time; print(repr(time.time()))"))
        first.stdin.close()
        wait_for_file(os.path.join(self.dir, "reset.start"))
        # During the reset a py-lockable peer finds the resource busy.
        self.assertEqual(self.pylockable_try("b1"), "busy")
        self.assertEqual(first.wait(HANG_GUARD), 0)
        with open(os.path.join(self.dir, "reset.end")) as f:
            reset_end = float(f.read())  # before the second holder's own reset rewrites it
        out, err = second.communicate(timeout=HANG_GUARD)
        self.assertEqual(second.returncode, 0, err)
        self.assertGreaterEqual(float(out.decode()), reset_end)
        self.assert_released("b1")

    def test_a_failing_reset_is_said_and_counted(self):
        self.write_inventory([board("b1", reset=["sh", "-c", "echo stuck; exit 2"])])
        result = self.lock("--requirements", "id=b1", "--quiet")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("reset of b1 exited with status 2; its output ends: stuck", result.stderr)
        self.assertEqual(self.status()["b1"]["health"],
                         "failing 1 of 3: reset exited with status 2")
        self.assert_released("b1")


class quarantine_test(health_case):
    def test_manual_quarantine_and_unquarantine(self):
        result = self.run_lockable(self.args("--quarantine", "b1", "--reason", "fan broken"))
        self.assertEqual(result.returncode, 0, result.stderr)
        status = self.status()
        self.assertTrue(status["b1"]["quarantined"])
        self.assertIn("fan broken", status["b1"]["health"])
        for _ in range(4):
            got = self.lock("--requirements", "type=board", command=("sh", "-c", "echo $ID"))
            self.assertEqual(got.stdout, "b2\n", got.stderr)
        result = self.lock("--requirements", "id=b1", "--timeout", "0")
        self.assert_one_error_line(result, 75, "is quarantined: b1 (quarantined by ",
                                   ": fan broken)")
        result = self.run_lockable(self.args("--unquarantine", "b1"))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("ended the quarantine of b1", result.stderr)
        self.assertNotIn("health", self.status()["b1"])
        self.assertEqual(self.lock("--requirements", "id=b1").returncode, 0)

    def test_a_passing_recheck_ends_an_automatic_quarantine_only(self):
        broken = os.path.join(self.dir, "broken")
        open(broken, "w").close()
        self.write_inventory([board("b1", probe=["sh", "-c", 'test ! -e "$0"', broken])])
        result = self.lock("--requirements", "id=b1", "--timeout", "0",
                           "--quarantine-after", "1")
        self.assertEqual(result.returncode, 75, result.stderr)
        self.assertTrue(self.status()["b1"]["quarantined"])
        # Still failing: the recheck keeps it quarantined.
        result = self.lock("--requirements", "id=b1", "--timeout", "0", "--recheck-every", "0")
        self.assert_one_error_line(result, 75, "checked again: exited with status 1")
        # Not due yet: not checked at all, even though it would pass now.
        os.unlink(broken)
        result = self.lock("--requirements", "id=b1", "--timeout", "0")
        self.assert_one_error_line(result, 75, "is quarantined: b1")
        result = self.lock("--requirements", "id=b1", "--timeout", "0", "--recheck-every", "0",
                           command=("sh", "-c", "echo $ID"))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, "b1\n")
        self.assertEqual(self.status()["b1"]["health"], "ok")
        # A recheck that finds it busy (a py-lockable job holds it) waits, it does not spin.
        open(broken, "w").close()
        self.lock("--requirements", "id=b1", "--timeout", "0", "--quarantine-after", "1")
        self.assertTrue(self.status()["b1"]["quarantined"])
        os.unlink(broken)
        peer = self.start([sys.executable, PY_PROTOCOL, self.locks, "b1", "10"])
        self.assertEqual(read_line(peer.stdout, "held from the peer").split()[0], "held")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        result = self.lock("--requirements", "id=b1", "--timeout", "2", "--recheck-every", "0")
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.assertEqual(result.returncode, 75, result.stderr)
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        self.assertLess(cpu, 1.0, "a 2 s wait for a busy quarantined resource took %.2f s of CPU"
                        % cpu)
        peer.stdin.close()
        self.assertEqual(peer.wait(HANG_GUARD), 0)
        # A quarantine by hand stays, whatever the probe says.
        self.run_lockable(self.args("--quarantine", "b1", "--reason", "keep out"))
        result = self.lock("--requirements", "id=b1", "--timeout", "0", "--recheck-every", "0")
        self.assert_one_error_line(result, 75, "keep out")
        self.assertTrue(self.status()["b1"]["quarantined"])


class hostile_test(health_case):
    def failing_probe(self, probe, *parts, timeout=None):
        health = {"probe": probe}
        if timeout is not None:
            health["timeout"] = timeout
        self.write_inventory([{"id": "b1", "hostname": HOST, "online": True, "health": health}])
        started = time.monotonic()
        result = self.lock("--requirements", "id=b1", "--timeout", "0")
        self.assert_one_error_line(result, 75, "probe failed: b1 (probe ", *parts)
        self.assert_released("b1")
        return time.monotonic() - started

    def test_a_probe_that_does_not_exist(self):
        self.failing_probe(["/no/such/probe"],
                           "cannot run '/no/such/probe': No such file or directory")

    def test_a_probe_killed_by_a_signal(self):
        self.failing_probe(["sh", "-c", "kill -KILL $$"], "was killed by signal 9 (SIGKILL)")

    def test_a_hanging_probe_is_killed_with_its_children(self):
        child = os.path.join(self.dir, "child.pid")
        took = self.failing_probe(["sh", "-c", 'sleep 300 & echo $! > "$0"; sleep 300', child],
                                  "did not end within 0.5 s: killed it and its process group",
                                  timeout=0.5)
        self.assertLess(took, HANG_GUARD)
        with open(child) as f:
            pid = int(f.read())
        # SIGKILLed with its group: gone, or a zombie for init to reap, once the kernel ran it.
        deadline = time.monotonic() + HANG_GUARD
        while alive(pid):
            self.assertLess(time.monotonic(), deadline, "the probe's child %d lives on" % pid)
            time.sleep(0.01)

    def test_a_probe_that_prints_10_mb(self):
        self.failing_probe([sys.executable, "-c",
                            "import sys; sys.stdout.write('x' * 10_000_000); sys.exit(1)"],
                           "exited with status 1")
        self.assertLessEqual(len(self.status()["b1"]["health_output"]), 1000)

    def test_a_malformed_health_field(self):
        self.write_inventory([board("b1", probe="not an argv")])
        result = self.lock("--requirements", "id=b1", "--timeout", "0")
        self.assert_one_error_line(result, 65, "resource 'b1': \"health\".probe is not a "
                                   "non-empty array of strings")
        self.assert_released("b1")

    def test_validate_only_reports_every_malformed_health_field(self):
        self.write_inventory([board("b1", probe=[]), board("b2", reset=["x"], timeout=-1)])
        result = self.run_lockable(self.args("--validate-only"))
        self.assertEqual(result.returncode, 65, result.stderr)
        lines = result.stderr.splitlines()
        self.assertEqual(len(lines), 2, result.stderr)
        self.assertIn("resource 'b1': \"health\".probe is not a non-empty array", lines[0])
        self.assertIn("resource 'b2': \"health\".timeout is not a number of seconds", lines[1])

    def test_a_reason_with_control_characters(self):
        result = self.run_lockable(self.args("--quarantine", "b1", "--reason", "a\x1b[2Jb"))
        self.assert_one_error_line(result, 64, "--reason has a control character at byte 2 "
                                   "(\\x1b)")
        self.assertNotIn("health", self.status()["b1"])

    def test_an_id_that_is_not_in_the_inventory(self):
        for mode in (("--quarantine", "nope", "--reason", "x"), ("--unquarantine", "nope")):
            result = self.run_lockable(self.args(*mode))
            self.assert_one_error_line(result, 69, "'nope' is not in inventory")

    def test_unquarantine_of_a_healthy_resource(self):
        result = self.run_lockable(self.args("--unquarantine", "b1"))
        self.assert_one_error_line(result, 69, "'b1' is not quarantined")


@unittest.skipUnless(etcd_support.available(), "install Debian's etcd-server to run these tests")
class etcd_health_test(health_case):
    """The same semantics with the locks and the health records in a real etcd."""

    def setUp(self):
        super().setUp()
        self.etcd = etcd_support.etcd_server()
        self.addCleanup(self.etcd.close)

    def args(self, *extra):
        return super().args("--lock-server", self.etcd.uri(), *extra)

    def other_host_status(self):
        """--status from a process with another --hostname, over every host's resources."""
        args = [self.exe, "--resources", self.inventory, "--lock-server", self.etcd.uri(),
                "--hostname", "another-host", "--status", "--json", "--requirements",
                '{"hostname": null}']
        result = self.run_lockable(args)
        self.assertEqual(result.returncode, 0, result.stderr)
        return {entry["id"]: entry for entry in json.loads(result.stdout)}

    def test_a_failing_probe_on_b1_quarantines_it_for_every_host(self):
        self.write_inventory([board("b1", probe=["false"]), board("b2", probe=["true"])])
        for _ in range(200):
            result = self.lock("--requirements", "type=board", command=("sh", "-c", "echo $ID"))
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertEqual(result.stdout, "b2\n")
            if self.other_host_status()["b1"].get("quarantined"):
                break
        status = self.other_host_status()
        self.assertTrue(status["b1"]["quarantined"], status["b1"])
        self.assertIn("probe failed 3 times in a row", status["b1"]["health"])
        self.assertFalse(os.path.exists(self.locks), "the lock folder is not used")

    def test_manual_quarantine_and_unquarantine(self):
        result = self.run_lockable(self.args("--quarantine", "b1", "--reason", "fan broken"))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertTrue(self.other_host_status()["b1"]["quarantined"])
        result = self.lock("--requirements", "id=b1", "--timeout", "0")
        self.assert_one_error_line(result, 75, "is quarantined: b1 (quarantined by ",
                                   ": fan broken)")
        result = self.run_lockable(self.args("--unquarantine", "b1"))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertNotIn("health", self.other_host_status()["b1"])
        self.assertEqual(self.lock("--requirements", "id=b1").returncode, 0)

    def test_a_passing_recheck_ends_an_automatic_quarantine(self):
        broken = os.path.join(self.dir, "broken")
        open(broken, "w").close()
        self.write_inventory([board("b1", probe=["sh", "-c", 'test ! -e "$0"', broken])])
        result = self.lock("--requirements", "id=b1", "--timeout", "0", "--quarantine-after", "1")
        self.assertEqual(result.returncode, 75, result.stderr)
        self.assertTrue(self.other_host_status()["b1"]["quarantined"])
        os.unlink(broken)
        result = self.lock("--requirements", "id=b1", "--timeout", "0", "--recheck-every", "0")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(self.other_host_status()["b1"]["health"], "ok")


if __name__ == "__main__":
    main()
