#!/usr/bin/env python3
"""Runs test programs built with the gtest_lockable plugin as subprocesses and checks what their
users see: the console, exit codes, lock files, XML reports and CTest's verdicts.

The programs come from the environment: PROBE_MAIN (links gtest_lockable::main), PROBE_INIT (its
own main calls gtest_lockable::init) and PROBE_UNLOCKED (links the plugin but uses gtest_main).
Run one group with `plugin_test.py <group>_test`, as CTest does.
"""
import fcntl
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from http_support import served_folder  # noqa: E402  (tests/integration/http_support.py)
import xml.etree.ElementTree as ElementTree

PROBE_MAIN = os.environ.get("PROBE_MAIN", "")
PROBE_INIT = os.environ.get("PROBE_INIT", "")
PROBE_UNLOCKED = os.environ.get("PROBE_UNLOCKED", "")

# Two resources on host "h"; most tests ask for type "a" and so can get only r1.
RESOURCES = [
    {"id": "r1", "hostname": "h", "online": True, "type": "a", "address": "10.0.0.1"},
    {"id": "r2", "hostname": "h", "online": True, "type": "b"},
]

PLAIN = "plain_test.free_accessor_sees_resource"
FIXTURE = "board_test.fixture_sees_resource"


def write_json(path, value):
    with open(path, "w", encoding="utf-8") as out:
        json.dump(value, out)
    return path


class held_resource:
    """Holds resource `rid` in `folder` exactly as py-lockable does (flock, then our PID)."""

    def __init__(self, folder, rid):
        self.path = os.path.join(folder, rid + ".pid")
        os.makedirs(folder, exist_ok=True)

    def __enter__(self):
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o666)
        fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.ftruncate(self.fd, 0)
        os.write(self.fd, f"{os.getpid()}\n".encode())
        return self

    def __exit__(self, *_):
        os.unlink(self.path)
        os.close(self.fd)


class plugin_case(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="plugin_test.")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.locks = os.path.join(self.dir, "locks")
        self.inventory = write_json(os.path.join(self.dir, "resources.json"), RESOURCES)

    def flags(self, requirements="type=a", timeout="0", **more):
        """The usual flags: our inventory and lock folder, host "h", no waiting."""
        args = [
            f"--lockable_resources={self.inventory}",
            f"--lockable_lock_folder={self.locks}",
            "--lockable_hostname=h",
            f"--lockable_timeout={timeout}",
            f"--lockable_requirements={requirements}",
        ]
        return args + [f"--lockable_{name}={value}" for name, value in more.items()]

    def run_program(self, args, program=None, env=None, cwd=None):
        clean = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("LOCKABLE_") and not k.startswith("GTEST_")
        }
        clean.update(env or {})
        result = subprocess.run(
            [program or PROBE_MAIN, *args],
            cwd=cwd or self.dir,
            env=clean,
            capture_output=True,
            text=True,
            timeout=60,
        )
        self.output = result.stdout + result.stderr
        return result

    def assert_ran(self, result, *names):
        self.assertEqual(result.returncode, 0, self.output)
        for name in names:
            self.assertIn(f"[       OK ] {name}", self.output)


class flags_test(plugin_case):
    def test_flag_selects_the_resource(self):
        self.assert_ran(self.run_program(self.flags("type=b") + [f"--gtest_filter={PLAIN}"]), PLAIN)
        self.assertIn("plain saw r2", self.output)

    def test_environment_variable_is_the_fallback(self):
        args = [a for a in self.flags() if not a.startswith("--lockable_requirements")]
        result = self.run_program(args + [f"--gtest_filter={PLAIN}"],
                                  env={"LOCKABLE_REQUIREMENTS": "type=b"})
        self.assert_ran(result, PLAIN)
        self.assertIn("plain saw r2", self.output)

    def test_flag_wins_over_environment_variable(self):
        result = self.run_program(self.flags("type=b") + [f"--gtest_filter={PLAIN}"],
                                  env={"LOCKABLE_REQUIREMENTS": "type=a", "LOCKABLE_TIMEOUT": "x"})
        self.assert_ran(result, PLAIN)
        self.assertIn("plain saw r2", self.output)

    def test_value_may_follow_as_next_argument(self):
        result = self.run_program(["--lockable_requirements", '{"type": "b"}'] + self.flags()[:-1]
                                  + [f"--gtest_filter={PLAIN}"])
        self.assert_ran(result, PLAIN)
        self.assertIn("plain saw r2", self.output)

    def test_every_setting_has_an_environment_variable(self):
        elsewhere = os.path.join(self.dir, "elsewhere")
        os.mkdir(elsewhere)  # no resources.json here: the variable must be used
        env = {
            "LOCKABLE_RESOURCES": self.inventory,
            "LOCKABLE_LOCK_FOLDER": self.locks,
            "LOCKABLE_HOSTNAME": "h",
            "LOCKABLE_TIMEOUT": "0",
            "LOCKABLE_REQUIREMENTS": "type=b",
            "LOCKABLE_ON_UNAVAILABLE": "skip",
        }
        result = self.run_program([f"--gtest_filter={PLAIN}"], env=env, cwd=elsewhere)
        self.assert_ran(result, PLAIN)
        self.assertIn("plain saw r2", self.output)
        self.assertTrue(os.path.isdir(self.locks), "the lock folder must be the variable's")
        with held_resource(self.locks, "r2"):
            result = self.run_program([f"--gtest_filter={PLAIN}"], env=env, cwd=elsewhere)
        self.assertEqual(result.returncode, 0, self.output)
        self.assertIn(f"[  SKIPPED ] {PLAIN}", self.output, "LOCKABLE_ON_UNAVAILABLE=skip")

    def test_hostname_defaults_to_this_host(self):
        here = dict(RESOURCES[0], hostname=socket.gethostname())
        write_json(self.inventory, [here])
        args = [a for a in self.flags() if not a.startswith("--lockable_hostname")]
        self.assert_ran(self.run_program(args + [f"--gtest_filter={PLAIN}"]), PLAIN)
        self.assertIn("plain saw r1", self.output)

    def test_timeout_limits_the_wait(self):
        with held_resource(self.locks, "r1"):
            start = time.monotonic()
            result = self.run_program(self.flags(timeout="0.3") + [f"--gtest_filter={PLAIN}"])
            print(f"timed out after {time.monotonic() - start:.3f} s with --lockable_timeout=0.3")
        self.assertNotEqual(result.returncode, 0, self.output)
        self.assertIn("timed out after 0.3 s", self.output)

    def test_bad_values_fail_before_any_test(self):
        cases = [
            (["--lockable_timeout=abc"], {}, "invalid timeout 'abc' from --lockable_timeout"),
            ([], {"LOCKABLE_TIMEOUT": "-1"}, "invalid timeout '-1' from LOCKABLE_TIMEOUT"),
            (["--lockable_on_unavailable=maybe"], {},
             "invalid value 'maybe' from --lockable_on_unavailable: give fail or skip"),
            (["--lockable_requirements=type"], {}, "--lockable_requirements"),
            (["--lockable_nonsense=1"], {}, "unknown flag '--lockable_nonsense'"),
            (["--lockable_resources="], {}, "--lockable_resources is empty"),
            # Copied before its depth was checked, this crashed the program (stack overflow).
            (["--lockable_requirements={\"a\": " + "[" * 60000 + "]" * 60000 + "}"], {},
             "nested more than 100 levels deep"),
        ]
        for extra, env, message in cases:
            with self.subTest(extra=extra, env=env):
                base = [a for a in self.flags() if not a.startswith("--lockable_timeout")]
                result = self.run_program(base + extra + [f"--gtest_filter={PLAIN}:{FIXTURE}"],
                                          env=env)
                self.assertEqual(result.returncode, 1, self.output)
                self.assertIn(message, self.output)
                self.assertEqual(self.output.count("[ LOCKABLE ] ERROR"), 1, self.output)
                self.assertIn(f"[  FAILED  ] {PLAIN}", self.output)
                self.assertNotRegex(self.output, r"(fixture|plain) saw ", "no test body may run")
        result = self.run_program(self.flags() + [f"--gtest_filter={PLAIN}", "--lockable_timeout"])
        self.assertIn("flag '--lockable_timeout' needs a value", self.output)

    def test_flags_are_removed_from_argv(self):
        args = ["--lockable_requirements", "type=b", "mine", *self.flags()[:-1],
                "--", "--lockable_x"]
        result = self.run_program(args, program=PROBE_INIT)
        self.assert_ran(result, "init_test.sees_resource")
        self.assertIn("argv: mine -- --lockable_x\n", self.output)
        self.assertIn("init saw r2", self.output)

    def test_help_lists_our_flags_after_gtest_help(self):
        for flag in ["--help", "--gtest_no_such_flag"]:
            with self.subTest(flag=flag):
                result = self.run_program([flag, *self.flags()])
                self.assertEqual(result.returncode, 0, self.output)
                gtest_help = self.output.find("--gtest_list_tests")
                ours = self.output.find("--lockable_requirements=REQUIREMENTS")
                self.assertGreaterEqual(gtest_help, 0, self.output)
                self.assertGreater(ours, gtest_help, "our flags come after gtest's help")
                for name in ["requirements", "resources", "lock_folder", "lock_server", "timeout",
                             "hostname", "on_unavailable"]:
                    self.assertIn(f"--lockable_{name}=", self.output)
                    self.assertIn(f"LOCKABLE_{name.upper()}", self.output)
                self.assertNotIn("[ LOCKABLE ]", self.output)


class accessors_test(plugin_case):
    def test_fixture_and_plain_tests_see_the_resource(self):
        result = self.run_program(self.flags() + [f"--gtest_filter={PLAIN}:{FIXTURE}"])
        self.assert_ran(result, PLAIN, FIXTURE)
        self.assertIn('fixture saw r1 {"address":"10.0.0.1","hostname":"h","id":"r1",'
                      '"online":true,"type":"a"}', self.output)
        self.assertIn("plain saw r1", self.output)
        print(re.findall(r"\[ LOCKABLE \].*", self.output))

    def test_inventory_from_an_http_uri(self):
        with served_folder(self.dir) as server:
            flags = [f for f in self.flags() if not f.startswith("--lockable_resources=")]
            result = self.run_program(flags + [f"--lockable_resources={server.url('resources.json')}",
                                               f"--gtest_filter={PLAIN}"])
        self.assert_ran(result, PLAIN)
        self.assertIn("plain saw r1", self.output)

    def test_init_entry_point_locks_too(self):
        result = self.run_program(self.flags(), program=PROBE_INIT)
        self.assert_ran(result, "init_test.sees_resource")
        self.assertIn("init saw r1", self.output)

    def test_test_takes_an_extra_resource_for_its_scope(self):
        result = self.run_program(self.flags() + ["--gtest_filter=*extra_resource_in_scope"],
                                  env={"PROBE_EXTRA": "type=b"})
        self.assert_ran(result, "board_test.extra_resource_in_scope")
        self.assertIn("extra r2\nextra again r2", self.output)
        self.assertFalse(os.path.exists(os.path.join(self.locks, "r2.pid")))

    def test_program_that_does_not_ask_is_unchanged(self):
        # No inventory and no lock folder exist; our flags are plain leftover arguments to it.
        result = self.run_program(["--gtest_filter=unlocked_test.*", "--lockable_timeout=abc"],
                                  program=PROBE_UNLOCKED,
                                  env={"LOCKABLE_RESOURCES": "/nonexistent.json"})
        self.assert_ran(result, "unlocked_test.runs_without_resource")
        self.assertNotIn("LOCKABLE", self.output)

    def test_fixture_without_a_lock_fails_clearly(self):
        result = self.run_program(["--gtest_filter=unlocked_fixture.*"], program=PROBE_UNLOCKED)
        self.assertEqual(result.returncode, 1, self.output)
        self.assertIn("the program holds no resource: link gtest_lockable::main", self.output)
        self.assertNotIn("fixture body ran", self.output)


class no_lock_test(plugin_case):
    """Nothing may touch the inventory or the lock folder when no test will run."""

    def setUp(self):
        super().setUp()
        self.missing = [f"--lockable_resources={self.dir}/missing.json",
                        f"--lockable_lock_folder={self.locks}"]

    def assert_untouched(self, result):
        self.assertEqual(result.returncode, 0, self.output)
        self.assertFalse(os.path.exists(self.locks), "the lock folder must not be created")
        self.assertNotIn("[ LOCKABLE ]", self.output)

    def test_list_tests_takes_no_lock(self):
        self.assert_untouched(self.run_program(["--gtest_list_tests", *self.missing]))
        self.assertIn("fixture_sees_resource", self.output)

    def test_discovery_survives_bad_settings_in_the_environment(self):
        # gtest_discover_tests lists at build time with the build's environment and no flags.
        result = self.run_program(["--gtest_list_tests"], env={"LOCKABLE_TIMEOUT": "abc"})
        self.assert_untouched(result)

    def test_help_takes_no_lock(self):
        self.assert_untouched(self.run_program(["--help", *self.missing]))

    def test_filter_selecting_nothing_takes_no_lock(self):
        self.assert_untouched(self.run_program(["--gtest_filter=no_such.test", *self.missing]))

    def test_resource_is_released_after_the_run(self):
        self.assert_ran(self.run_program(self.flags() + [f"--gtest_filter={PLAIN}"]), PLAIN)
        self.assertEqual([n for n in os.listdir(self.locks) if n != ".lockable-ledger"], [],
                         "the lock file is removed on release (the usage ledger stays)")
        with held_resource(self.locks, "r1"):  # another process locks it at once
            pass
        self.assert_ran(self.run_program(self.flags() + [f"--gtest_filter={PLAIN}"]), PLAIN)


class outcomes_test(plugin_case):
    SELECTED = [f"--gtest_filter={PLAIN}:{FIXTURE}"]

    def assert_failed(self, result, message):
        self.assertEqual(result.returncode, 1, self.output)
        self.assertIn(f"[  FAILED  ] {PLAIN}", self.output)
        self.assertIn(f"[  FAILED  ] {FIXTURE}", self.output)
        self.assertNotIn("SKIPPED", self.output)
        self.assertEqual(self.output.count("[ LOCKABLE ] ERROR"), 1)
        self.assertIn(message, self.output)
        self.assertNotRegex(self.output, r"(fixture|plain) saw ", "no test body may run")

    def assert_skipped(self, result, message):
        self.assertEqual(result.returncode, 0, self.output)
        self.assertIn(f"[  SKIPPED ] {PLAIN}", self.output)
        self.assertIn(f"[  SKIPPED ] {FIXTURE}", self.output)
        self.assertNotIn("FAILED", self.output)
        self.assertIn(message, self.output)
        self.assertNotRegex(self.output, r"(fixture|plain) saw ", "no test body may run")

    def test_busy_resource_fails_by_default(self):
        with held_resource(self.locks, "r1"):
            result = self.run_program(self.flags() + self.SELECTED)
        self.assert_failed(result, f"busy: r1 (held by PID {os.getpid()})")
        self.assertIn('waiting for [{"hostname":"h","online":true,"type":"a"}]', self.output)

    def test_busy_resource_skips_with_skip_policy(self):
        with held_resource(self.locks, "r1"):
            result = self.run_program(self.flags(on_unavailable="skip") + self.SELECTED)
        self.assert_skipped(result, f"busy: r1 (held by PID {os.getpid()})")

    def test_no_match_follows_the_policy(self):
        message = 'matches {"hostname":"h","online":true,"type":"c"}'
        self.assert_failed(self.run_program(self.flags("type=c") + self.SELECTED), message)
        result = self.run_program(self.flags("type=c", on_unavailable="skip") + self.SELECTED)
        self.assert_skipped(result, message)

    def test_invalid_inventory_fails_whatever_the_policy(self):
        with open(self.inventory, "w", encoding="utf-8") as out:
            out.write('[{"id": "r1"}, {"id": "r1"}]')
        result = self.run_program(self.flags(on_unavailable="skip") + self.SELECTED)
        self.assert_failed(result, "invalid inventory")
        os.unlink(self.inventory)
        result = self.run_program(self.flags(on_unavailable="skip") + self.SELECTED)
        self.assert_failed(result, "(give the inventory file with --lockable_resources)")

    def test_unusable_lock_folder_fails_whatever_the_policy(self):
        with open(self.locks, "w", encoding="utf-8"):
            pass  # a file where the folder should be
        result = self.run_program(self.flags(on_unavailable="skip") + self.SELECTED)
        self.assert_failed(result, "(choose a writable folder with --lockable_lock_folder)")

    def test_invalid_requirements_fail_whatever_the_policy(self):
        result = self.run_program(self.flags("=x", on_unavailable="skip") + self.SELECTED)
        self.assert_failed(result, "--lockable_requirements")


class xml_test(plugin_case):
    def read_report(self, result_args):
        report = os.path.join(self.dir, "report.xml")
        result = self.run_program(result_args + [f"--gtest_output=xml:{report}"])
        return result, ElementTree.parse(report).getroot()

    def test_resource_fields_are_testsuites_properties(self):
        result, root = self.read_report(self.flags() + [f"--gtest_filter={PLAIN}"])
        self.assert_ran(result, PLAIN)
        self.assertEqual(root.tag, "testsuites")
        for name, value in [("resource_id", "r1"), ("resource_address", "10.0.0.1"),
                            ("resource_hostname", "h"), ("resource_online", "true"),
                            ("resource_type", "a")]:
            self.assertEqual(root.get(name), value, name)

    def test_skipped_run_reports_the_reason(self):
        with held_resource(self.locks, "r1"):
            result, root = self.read_report(self.flags(on_unavailable="skip")
                                            + [f"--gtest_filter={PLAIN}"])
        self.assertEqual(result.returncode, 0, self.output)
        self.assertIn("busy: r1", root.get("lockable_error"))
        self.assertIsNone(root.get("resource_id"))
        case = root.find(".//testcase[@name='free_accessor_sees_resource']")
        self.assertEqual(case.get("result"), "skipped")

    def test_a_probe_that_ran_is_on_the_lockable_line_and_in_the_report(self):
        probed = [dict(RESOURCES[0], health={"probe": ["true"]}), RESOURCES[1]]
        write_json(self.inventory, probed)
        result, root = self.read_report(self.flags() + [f"--gtest_filter={PLAIN}"])
        self.assert_ran(result, PLAIN)
        self.assertRegex(self.output, r"\[ LOCKABLE \] holding 'r1' \(waited [0-9.]+ s; probe "
                                      r"passed in [0-9.]+ s\)")
        self.assertRegex(root.get("lockable_probe"), r"^probe passed in [0-9.]+ s$")


class death_test_test(plugin_case):
    def test_threadsafe_death_test_child_takes_no_second_lock(self):
        # One resource and no waiting: a second lock in the child would fail the death test.
        write_json(self.inventory, RESOURCES[:1])
        result = self.run_program(self.flags() + ["--gtest_filter=*death_test_child*"])
        self.assert_ran(result, "board_test.death_test_child_sees_parent_resource")
        self.assertEqual(self.output.count("[ LOCKABLE ] holding"), 1, self.output)

    def test_forked_child_exit_keeps_the_parent_lock(self):
        result = self.run_program(self.flags() + ["--gtest_filter=*forked_child_exit*"])
        self.assert_ran(result, "board_test.forked_child_exit_keeps_parent_lock")


class concurrency_test(plugin_case):
    def test_programs_sharing_one_resource_run_one_after_the_other(self):
        log = os.path.join(self.dir, "hold.log")
        env = {"PROBE_LOG": log}
        args = self.flags(timeout="30") + ["--gtest_filter=*logs_hold_interval"]
        clean = {k: v for k, v in os.environ.items() if not k.startswith("LOCKABLE_")}
        procs = [subprocess.Popen([PROBE_MAIN, *args], cwd=self.dir, env={**clean, **env},
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                 for _ in range(3)]
        with open(log, "a", encoding="utf-8") as out:  # every program has started
            out.write("launched\n")
        outputs = [p.communicate(timeout=90)[0] for p in procs]
        for p, output in zip(procs, outputs):
            self.assertEqual(p.returncode, 0, output)
            print(re.findall(r"\[ LOCKABLE \] holding.*", output))
        with open(log, encoding="utf-8") as f:
            events = [line.split() for line in f.read().splitlines() if line != "launched"]
        self.assertEqual(len(events), 6, events)
        for i in range(0, 6, 2):
            begin, end = events[i], events[i + 1]
            self.assertEqual((begin[0], end[0]), ("begin", "end"), f"overlap: {events}")
            self.assertEqual(begin[1:], end[1:], f"overlap: {events}")
            self.assertEqual(begin[2], "r1")
        self.assertEqual(len({events[i][1] for i in range(0, 6, 2)}), 3)


class ctest_verdict_test(plugin_case):
    """CTest's verdict on tests registered by gtest_discover_tests, for each outcome."""

    PROJECT = """cmake_minimum_required(VERSION 3.25)
project(verdict C)
enable_testing()
include(GoogleTest)
# gtest_discover_tests needs a target it builds: a C program that becomes the probe.
add_executable(probe wrapper.c)
target_compile_definitions(probe PRIVATE "PROBE=\\"{probe}\\"")
set(common --lockable_lock_folder={locks} --lockable_hostname=h --lockable_timeout=0)
foreach(case IN ITEMS {cases})
  string(REPLACE "|" ";" args "${{case}}")
  list(POP_FRONT args prefix)
  gtest_discover_tests(probe TEST_PREFIX ${{prefix}}. TEST_FILTER "{filter}"
                       EXTRA_ARGS ${{common}} ${{args}})
endforeach()
"""
    WRAPPER = """#include <unistd.h>
int main(int argc, char** argv) { (void)argc; execv(PROBE, argv); return 127; }
"""

    def test_ctest_verdict_follows_the_policy(self):
        free = write_json(os.path.join(self.dir, "free.json"), RESOURCES)
        busy = write_json(os.path.join(self.dir, "busy.json"), RESOURCES[:1])
        bad = os.path.join(self.dir, "bad.json")
        with open(bad, "w", encoding="utf-8") as out:
            out.write("[{")
        cases = {
            "free": ([f"--lockable_resources={free}"], "Passed"),
            "busy_fail": ([f"--lockable_resources={busy}"], "Failed"),
            "busy_skip": ([f"--lockable_resources={busy}", "--lockable_on_unavailable=skip"],
                          "Skipped"),
            "nomatch_fail": ([f"--lockable_resources={free}", "--lockable_requirements=type=c"],
                             "Failed"),
            "nomatch_skip": ([f"--lockable_resources={free}", "--lockable_requirements=type=c",
                              "--lockable_on_unavailable=skip"], "Skipped"),
            "invalid_skip": ([f"--lockable_resources={bad}", "--lockable_on_unavailable=skip"],
                             "Failed"),
        }
        source = os.path.join(self.dir, "project")
        os.mkdir(source)
        with open(os.path.join(source, "wrapper.c"), "w", encoding="utf-8") as out:
            out.write(self.WRAPPER)
        case_list = " ".join('"' + "|".join([name, *args]) + '"'
                             for name, (args, _) in cases.items())
        with open(os.path.join(source, "CMakeLists.txt"), "w", encoding="utf-8") as out:
            out.write(self.PROJECT.format(probe=PROBE_MAIN, locks=self.locks, cases=case_list,
                                          filter=f"{PLAIN}:{FIXTURE}"))
        build = os.path.join(self.dir, "build")
        cmake = os.environ.get("CMAKE_COMMAND", "cmake")
        generator = os.environ.get("CMAKE_GENERATOR", "Ninja")
        for step in ([cmake, "-S", source, "-B", build, "-G", generator],
                     [cmake, "--build", build]):
            done = subprocess.run(step, capture_output=True, text=True, timeout=120)
            self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        # Discovery ran the probe at build time with no flags: it must have locked nothing.
        self.assertFalse(os.path.exists(self.locks))
        with held_resource(self.locks, "r1"):
            done = subprocess.run([os.environ.get("CTEST_COMMAND", "ctest"), "--test-dir", build],
                                  capture_output=True, text=True, timeout=120)
        verdicts = dict(re.findall(r"Test +#\d+: (\S+) \.*\** *(Passed|Failed|Skipped|Not Run)",
                                   done.stdout))
        print(done.stdout)
        self.assertEqual(len(verdicts), 2 * len(cases), done.stdout)
        for name, (_, expected) in cases.items():
            for test in (PLAIN, FIXTURE):
                self.assertEqual(verdicts.get(f"{name}.{test}"), expected, f"{name}.{test}")


if __name__ == "__main__":
    unittest.main()
