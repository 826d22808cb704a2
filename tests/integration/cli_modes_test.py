#!/usr/bin/env python3
"""Integration tests of `lockable`: --list, --ctest-resources, --status and --validate-only."""
import json
import os
import subprocess

from cli_support import HANG_GUARD, HOST, lockable_case, main
from http_support import served_folder


class modes_test(lockable_case):
    resources = [
        {"id": "b1", "hostname": HOST, "online": True, "type": "board"},
        {"id": "x", "hostname": HOST, "online": False, "type": "board"},
        {"id": "b3", "hostname": "elsewhere", "online": True, "type": "board"},
        {"id": "b2", "hostname": HOST, "online": True, "type": "board"},
        {"id": "b4", "hostname": HOST, "online": True, "type": "board"},
        {"id": "p1", "hostname": HOST, "online": True, "type": "phone"},
    ]

    def test_inventory_from_an_http_uri_is_read_and_locked(self):
        with served_folder(self.dir) as server:
            args = [self.exe, "--resources", server.url("resources.json"), "--lock-folder",
                    self.locks, "--hostname", HOST, "--requirements", "type=phone", "--",
                    "sh", "-c", 'echo "$ID"']
            result = self.run_lockable(args)
        self.assertEqual((result.returncode, result.stdout), (0, "p1\n"), result.stderr)
        self.assertFalse(os.path.exists(self.lock_file("p1")), "released after the command")

    def test_list_prints_selected_entries_in_inventory_order_and_locks_nothing(self):
        result = self.run_lockable(self.args("--list", "--requirements", "type=board"))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(json.loads(result.stdout),
                         [self.resources[0], self.resources[3], self.resources[4]])
        self.assertFalse(os.path.exists(self.locks))
        result = self.run_lockable(self.args("--list", "--requirements", "type=none"))
        self.assertEqual((result.returncode, json.loads(result.stdout)), (0, []))

    def test_ctest_resources_prints_the_selected_entries_as_ctest_resources(self):
        result = self.run_lockable(self.args("--ctest-resources", "--requirements", "type=board"))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(json.loads(result.stdout), [{"id": "b1", "slots": 1},
                                                     {"id": "b2", "slots": 1},
                                                     {"id": "b4", "slots": 1}])
        self.assertFalse(os.path.exists(self.locks))

    def test_ctest_plan_and_spec_schedule_what_tests_declare(self):
        ctest_file = os.path.join(self.dir, "prog[1]_tests.cmake")
        with open(ctest_file, "w") as f:
            f.write("add_test([=[s.board]=] /p [==[--gtest_filter=s.board]==])\n"
                    "add_test([=[s.both]=] /p [==[--gtest_filter=s.both]==])\n"
                    "add_test([=[s.none]=] /p [==[--gtest_filter=s.none]==])\n")
        need = lambda req, pool: {"name": "", "requirements": req, "pool": pool}  # noqa: E731
        listed = {"version": 1, "per_test": True, "resources": self.inventory, "hostname": HOST,
                  "tests": [{"test": "s.board", "needs": [need({"type": "board"}, "boards")]},
                            {"test": "s.both", "needs": [need({"type": "board"}, "boards"),
                                                         need({"type": "phone"}, "phones")]},
                            {"test": "s.none", "needs": []}]}
        list_file = os.path.join(self.dir, "list.json")
        with open(list_file, "w") as f:
            json.dump(listed, f)
        pools = os.path.join(self.dir, "pools")
        result = self.run_lockable([self.exe, "--ctest-plan", list_file, ctest_file,
                                    os.path.join(pools, "prog.1"), "prog_TESTS"])
        self.assertEqual(result.returncode, 0, result.stderr)
        with open(ctest_file) as f:
            text = f.read()
        self.assertIn('set_tests_properties([=[s.board]=] PROPERTIES RESOURCE_GROUPS "boards:1")',
                      text)
        self.assertIn('[=[s.both]=] PROPERTIES RESOURCE_GROUPS "boards:1;phones:1")', text)
        self.assertNotIn("[=[s.none]=] PROPERTIES", text)
        spec_file = os.path.join(self.dir, "spec.json")
        result = self.run_lockable([self.exe, "--ctest-spec", pools, spec_file])
        self.assertEqual((result.returncode, result.stderr), (0, ""))
        with open(spec_file) as f:
            spec = json.load(f)
        self.assertEqual(spec["local"][0], {
            "boards": [{"id": "b1", "slots": 1}, {"id": "b2", "slots": 1},
                       {"id": "b4", "slots": 1}],
            "phones": [{"id": "p1", "slots": 1}]})

    def test_ctest_plan_rejects_what_is_not_a_requirements_list(self):
        not_a_list = os.path.join(self.dir, "list.json")
        with open(not_a_list, "w") as f:
            f.write("thousand.\n  test_1\n")  # what --gtest_list_tests prints
        result = self.run_lockable([self.exe, "--ctest-plan", not_a_list, not_a_list,
                                    os.path.join(self.dir, "pools"), "T"])
        self.assertNotEqual(result.returncode, 0)
        self.assertEqual(len(result.stderr.splitlines()), 1, result.stderr)
        self.assertIn("link gtest_lockable::main or call gtest_lockable::init", result.stderr)

    def test_status_shows_free_held_and_stale(self):
        holder = self.hold("b1")
        dead = subprocess.Popen(["true"])
        dead.wait()
        with open(self.lock_file("b2"), "w") as f:
            f.write('%d\n{"host":"gone-host","alloc_id":"a1","since":"2020-01-02T03:04:05.000Z"}\n'
                    % dead.pid)
        table = self.run_lockable(self.args("--status", "--requirements", "type=board"))
        self.assertEqual(table.returncode, 0, table.stderr)
        rows = [line.split() for line in table.stdout.splitlines()]
        self.assertEqual(rows[0], ["RESOURCE", "STATE", "PID", "HOST", "SINCE"])
        self.assertEqual(rows[1][:4], ["b1", "held", str(holder.pid), HOST])
        self.assertRegex(rows[1][4], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertEqual(rows[2], ["b2", "stale", str(dead.pid), "gone-host",
                                   "2020-01-02T03:04:05.000Z"])
        self.assertEqual(rows[3], ["b4", "free", "-", "-", "-"])
        self.assertEqual(len(rows), 4)

        as_json = self.run_lockable(self.args("--status", "--json", "--requirements",
                                              "type=board"))
        self.assertEqual(as_json.returncode, 0, as_json.stderr)
        entries = json.loads(as_json.stdout)
        self.assertEqual([(e["id"], e["state"]) for e in entries],
                         [("b1", "held"), ("b2", "stale"), ("b4", "free")])
        self.assertEqual((entries[0]["pid"], entries[0]["host"]), (holder.pid, HOST))
        self.assertEqual(entries[1], {"id": "b2", "state": "stale", "pid": dead.pid,
                                      "host": "gone-host", "alloc_id": "a1",
                                      "since": "2020-01-02T03:04:05.000Z"})
        holder.stdin.close()
        self.assertEqual(holder.wait(HANG_GUARD), 0)

    def test_status_table_escapes_control_characters_of_lock_files(self):
        """A lock file is anyone's to write: what it says is printed, never obeyed by the
        terminal, and stays on its row."""
        dead = subprocess.Popen(["true"])
        dead.wait()
        os.makedirs(self.locks)
        with open(self.lock_file("b2"), "w") as f:
            f.write('%d\n{"host":"evil\\u001b[2J\\nhost","since":"s\\r"}\n' % dead.pid)
        table = self.run_lockable(self.args("--status", "--requirements", "id=b2"))
        self.assertEqual(table.returncode, 0, table.stderr)
        self.assertEqual(table.stdout.splitlines()[1].split(),
                         ["b2", "stale", str(dead.pid), "evil\\x1b[2J\\x0ahost", "s\\x0d"])
        self.assertNotIn("\x1b", table.stdout)

    def test_validate_only_accepts_a_valid_inventory_without_a_command(self):
        result = self.run_lockable(self.args("--validate-only", "--requirements", "type=board"))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("is valid: 6 resources, 3 matching", result.stdout)
        self.assertFalse(os.path.exists(self.locks))

    def test_validate_only_prints_every_problem(self):
        self.write_inventory([{"id": "a"}, {"id": "a"}, {"name": "no id"}])
        result = self.run_lockable(self.args("--validate-only", "--requirements", "broken"))
        self.assertEqual((result.returncode, result.stdout), (65, ""))
        lines = result.stderr.splitlines()
        self.assertEqual(len(lines), 2, result.stderr)
        self.assertIn(self.inventory, lines[0])
        self.assertIn("duplicate ids", lines[0])
        self.assertIn("--requirements: invalid requirements", lines[1])

    def test_modes_take_no_command_and_do_not_combine(self):
        for args in (["--list", "--", "true"], ["--status", "echo"], ["--validate-only", "x"]):
            self.assert_one_error_line(self.run_lockable(self.args(*args)), 64, "take no command")
        self.assert_one_error_line(self.run_lockable(self.args("--list", "--status")), 64,
                                   "cannot be combined")
        self.assert_one_error_line(self.run_lockable(self.args("--list", "--json")), 64,
                                   "--json applies to --status, --history and --stats only")


if __name__ == "__main__":
    main()
