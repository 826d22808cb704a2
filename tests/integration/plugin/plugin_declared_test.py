#!/usr/bin/env python3
"""Requirements declared in code (GTEST_LOCKABLE_REQUIRE*): what each test holds, when, and what
--lockable_list_requirements prints.

  plugin_declared_test.py [-v] PROBE_DECLARED PROBE_DECLARED_BAD
"""
import json
import os
import re
import sys
import unittest
import xml.etree.ElementTree as ElementTree

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from plugin_test import held_resource, plugin_case, write_json  # noqa: E402

PROBE = PROBE_BAD = ""

INVENTORY = [
    {"id": "b1", "hostname": "h", "online": True, "type": "board"},
    {"id": "b2", "hostname": "h", "online": True, "type": "board"},
    {"id": "p1", "hostname": "h", "online": True, "type": "phone"},
    {"id": "q1", "hostname": "h", "online": True, "type": "probe"},
]


class declared_case(plugin_case):
    def setUp(self):
        super().setUp()
        write_json(self.inventory, INVENTORY)

    def run_declared(self, *args, requirements="{}", program=None):
        return self.run_program(self.flags(requirements=requirements) + list(args),
                                program=program or PROBE)

    def uses(self):
        """{test: {name: id}} from the tests' own lines."""
        found = {}
        for test, name, rid in re.findall(r"^(\S+) uses (\S*)=(\S*)$", self.output, re.M):
            found.setdefault(test, {})[name] = rid
        return found

    def holding_lines(self):
        return re.findall(r"\[ LOCKABLE \] holding '(\w+)' .* for (.*)", self.output)


class declared_test(declared_case):
    def test_a_suite_holds_one_resource_from_its_first_test_to_its_last(self):
        result = self.run_declared("--gtest_filter=board_suite.*")
        self.assert_ran(result, "board_suite.first", "board_suite.second")
        uses = self.uses()
        self.assertEqual(uses["board_suite.first"][""], uses["board_suite.second"][""])
        self.assertEqual(self.holding_lines(), [(uses["board_suite.first"][""],
                                                 "suite board_suite")], self.output)
        self.assertEqual(self.output.count("[ LOCKABLE ] released"), 1, self.output)

    def test_named_resources_are_locked_together(self):
        result = self.run_declared("--gtest_filter=probed_suite.*")
        self.assert_ran(result, "probed_suite.both")
        self.assertEqual(self.uses()["probed_suite.both"]["probe"], "q1")
        self.assertIn(self.uses()["probed_suite.both"][""], ("b1", "b2"))

    def test_all_or_nothing_a_busy_probe_leaves_no_board_locked(self):
        with held_resource(self.locks, "q1"):
            result = self.run_declared("--gtest_filter=probed_suite.*")
            self.assertNotEqual(result.returncode, 0, self.output)
            self.assertIn("[  FAILED  ] probed_suite.both", self.output)
            self.assertIn("q1", self.output)
            for board in ("b1", "b2"):  # free: a py-lockable peer can take each
                with held_resource(self.locks, board):
                    pass

    def test_a_test_declaration_replaces_its_suites(self):
        result = self.run_declared("--gtest_filter=override_suite.*")
        self.assert_ran(result, "override_suite.on_board", "override_suite.on_phone")
        self.assertIn(self.uses()["override_suite.on_board"][""], ("b1", "b2"))
        self.assertEqual(self.uses()["override_suite.on_phone"][""], "p1")

    def test_one_selected_test_locks_exactly_what_it_needs(self):
        result = self.run_declared("--gtest_filter=override_suite.on_phone")
        self.assert_ran(result, "override_suite.on_phone")
        self.assertEqual(self.holding_lines(), [("p1", "test override_suite.on_phone")])

    def test_a_parameterized_suite_is_covered_by_its_declaration(self):
        result = self.run_declared("--gtest_filter=two/param_suite.*")
        self.assert_ran(result, "two/param_suite.runs/0", "two/param_suite.runs/1")
        self.assertEqual({u[""] for u in self.uses().values()}, {"p1"})

    def test_tests_without_declarations_lock_nothing(self):
        result = self.run_declared("--gtest_filter=plain_suite.*")
        self.assert_ran(result, "plain_suite.locks_nothing")
        self.assertEqual(self.holding_lines(), [])

    def test_the_flag_narrows_every_declaration(self):
        result = self.run_declared("--gtest_filter=board_suite.*", requirements="id=b2")
        self.assert_ran(result, "board_suite.first")
        self.assertEqual(self.uses()["board_suite.first"][""], "b2")
        result = self.run_declared("--gtest_filter=override_suite.on_phone", requirements="id=b2")
        self.assertNotEqual(result.returncode, 0, self.output)
        self.assertIn("[  FAILED  ] override_suite.on_phone", self.output)

    def test_each_test_case_reports_its_resources_in_the_xml_report(self):
        report = os.path.join(self.dir, "report.xml")
        result = self.run_declared("--gtest_filter=probed_suite.*", f"--gtest_output=xml:{report}")
        self.assert_ran(result, "probed_suite.both")
        case = ElementTree.parse(report).getroot().find(".//testcase[@name='both']")
        properties = {p.get("name"): p.get("value") for p in case.iter("property")}
        self.assertEqual(properties.get("resource_probe_id"), "q1", properties)
        self.assertIn(properties.get("resource_id"), ("b1", "b2"), properties)

    def test_a_bad_declaration_fails_every_test_naming_its_place(self):
        result = self.run_declared(program=PROBE_BAD)
        self.assertNotEqual(result.returncode, 0, self.output)
        self.assertIn("[  FAILED  ] broken_suite.never_runs", self.output)
        self.assertIn("probe_declared_bad.cpp:5", self.output)
        self.assertNotIn("ran without its resource", self.output)


class list_requirements_test(declared_case):
    def test_prints_each_tests_needs_and_locks_nothing(self):
        # No inventory is read: a missing file does not matter.
        os.unlink(self.inventory)
        result = self.run_declared("--lockable_list_requirements")
        self.assertEqual(result.returncode, 0, self.output)
        document = json.loads(result.stdout)
        self.assertTrue(document["per_test"])
        needs = {t["test"]: t["needs"] for t in document["tests"]}
        self.assertEqual([(n["name"], n["requirements"], n["scope"])
                          for n in needs["probed_suite.both"]],
                         [("", {"type": "board"}, "suite"), ("probe", {"type": "probe"}, "suite")])
        self.assertEqual([(n["requirements"], n["scope"]) for n in needs["override_suite.on_phone"]],
                         [({"type": "phone"}, "test")])
        self.assertEqual(needs["plain_suite.locks_nothing"], [])
        self.assertEqual(len(needs["two/param_suite.runs/0"]), 1)
        # Equal requirements share one CTest pool; different ones do not.
        pool = lambda test, i=0: needs[test][i]["pool"]  # noqa: E731
        self.assertEqual(pool("board_suite.first"), pool("probed_suite.both"))
        self.assertNotEqual(pool("board_suite.first"), pool("override_suite.on_phone"))
        self.assertRegex(pool("board_suite.first"), r"^[a-z_][a-z0-9_]*$")
        self.assertFalse(os.path.exists(self.locks))
        self.assertNotIn("[ RUN", self.output)

    def test_a_bad_declaration_is_a_one_line_error(self):
        result = self.run_declared("--lockable_list_requirements", program=PROBE_BAD)
        self.assertEqual(result.returncode, 1, self.output)
        self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)
        self.assertIn("probe_declared_bad.cpp:5", result.stderr)


if __name__ == "__main__":
    PROBE, PROBE_BAD = sys.argv.pop(), sys.argv.pop()
    PROBE, PROBE_BAD = PROBE_BAD, PROBE
    unittest.main()
