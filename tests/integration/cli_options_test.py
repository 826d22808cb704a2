#!/usr/bin/env python3
"""Integration tests of `lockable`: options, variables, defaults and bad input."""
import functools
import http.server
import os
import socket
import stat
import sys
import threading

from cli_support import HANG_GUARD, HOST, clean_environment, lockable_case, main


class options_test(lockable_case):
    def test_defaults_are_resources_json_and_lock_folder_in_current_directory(self):
        script = "import os; print(sorted(os.listdir('.')))"
        result = self.run_lockable([self.exe, "--hostname", HOST, "--", sys.executable, "-c",
                                    script])
        self.assertEqual(result.returncode, 0, result.stderr)
        # While the command runs, the lock file of the first free resource is in "."; the usage
        # ledger's folder stays.
        self.assertRegex(result.stdout.strip(),
                         r"^\['\.lockable-ledger', 'b[12]\.pid', 'resources\.json'\]$")
        self.assertEqual(sorted(os.listdir(self.dir)), [".lockable-ledger", "resources.json"])

    def test_hostname_defaults_to_this_host(self):
        self.write_inventory([{"id": "mine", "hostname": socket.gethostname(), "online": True},
                              {"id": "other", "hostname": HOST, "online": True}])
        result = self.run_lockable([self.exe, "--resources", self.inventory, "--lock-folder",
                                    self.locks, "--", "sh", "-c", 'echo "$ID"'])
        self.assertEqual((result.returncode, result.stdout), (0, "mine\n"), result.stderr)

    def test_environment_variables_configure_every_option(self):
        other = os.path.join(self.dir, "other-locks")
        env = clean_environment(LOCKABLE_RESOURCES=self.inventory, LOCKABLE_LOCK_FOLDER=other,
                                LOCKABLE_HOSTNAME=HOST, LOCKABLE_REQUIREMENTS="type=phone",
                                LOCKABLE_TIMEOUT="0.5")
        script = 'echo "$ID"; ls "$LOCKABLE_LOCK_FOLDER"'
        result = self.run_lockable([self.exe, "--", "sh", "-c", script], env=env)
        self.assertEqual((result.returncode, result.stdout), (0, "b2\nb2.pid\n"), result.stderr)
        # LOCKABLE_TIMEOUT is used: with b2 held, a waiting lockable gives up with a timeout.
        holder = self.hold("b2")
        env["LOCKABLE_LOCK_FOLDER"] = self.locks
        result = self.run_lockable([self.exe, "--", "true"], env=env)
        self.assert_one_error_line(result, 75, "timed out after 0.5 s", "b2")
        holder.stdin.close()
        self.assertEqual(holder.wait(HANG_GUARD), 0)

    def test_command_line_wins_over_environment(self):
        env = clean_environment(LOCKABLE_RESOURCES="/nonexistent/resources.json",
                                LOCKABLE_LOCK_FOLDER="/nonexistent/locks",
                                LOCKABLE_HOSTNAME="elsewhere", LOCKABLE_REQUIREMENTS="type=phone",
                                LOCKABLE_TIMEOUT="not-a-number")
        result = self.run_lockable(self.args("--requirements", "type=board", "--timeout", "0",
                                             "--", "sh", "-c", 'echo "$ID"'), env=env)
        self.assertEqual((result.returncode, result.stdout), (0, "b1\n"), result.stderr)

    def test_empty_variable_counts_as_unset(self):
        env = clean_environment(LOCKABLE_TIMEOUT="", LOCKABLE_REQUIREMENTS="")
        result = self.run_lockable(self.args("--", "true"), env=env)
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_option_value_after_equals_sign(self):
        result = self.run_lockable([self.exe, "--resources=" + self.inventory,
                                    "--lock-folder=" + self.locks, "--hostname=" + HOST,
                                    "--requirements=type=phone", "--timeout=0.5", "--", "sh",
                                    "-c", 'echo "$ID"'])
        self.assertEqual((result.returncode, result.stdout), (0, "b2\n"), result.stderr)

    def test_json_requirements(self):
        result = self.run_lockable(self.args("--requirements", '{"type": "phone"}', "--", "sh",
                                             "-c", 'echo "$ID"'))
        self.assertEqual((result.returncode, result.stdout), (0, "b2\n"), result.stderr)

    def test_options_end_at_double_dash_or_at_the_command(self):
        for args in (["--", "printf", "%s\n", "--timeout", "x"],
                     ["printf", "%s\n", "--timeout", "x"]):
            result = self.run_lockable(self.args(*args))
            self.assertEqual((result.returncode, result.stdout), (0, "--timeout\nx\n"),
                             result.stderr)

    def test_help_lists_every_option_with_variable_default_example_and_exit_codes(self):
        result = self.run_lockable([self.exe, "--help"])
        self.assertEqual(result.returncode, 0)
        text = result.stdout
        for option, variable, default in (
                ("--requirements R", "LOCKABLE_REQUIREMENTS", "default {}"),
                ("--resources FILE", "LOCKABLE_RESOURCES", "default ./resources.json"),
                ("--lock-folder DIR", "LOCKABLE_LOCK_FOLDER", "default ."),
                ("--lock-server URI", "LOCKABLE_LOCK_SERVER", "default none"),
                ("--timeout DURATION", "LOCKABLE_TIMEOUT", "default 1"),
                ("--hostname NAME", "LOCKABLE_HOSTNAME", "default this host's name")):
            self.assertIn(option, text)
            self.assertIn("variable %s, %s\n" % (variable, default), text)
        for option in ("--list", "--status", "--json", "--validate-only", "--quiet",
                       "--version", "Example:", "Exit status:"):
            self.assertIn(option, text)
        for code in ("64", "65", "69", "74", "75", "76", "126", "127", "128+N"):
            self.assertRegex(text, r"\n  %s +\w" % code.replace("+", r"\+"))
        self.assertEqual(self.run_lockable([self.exe, "-h"]).stdout, text)

    def test_version(self):
        result = self.run_lockable([self.exe, "--version"])
        self.assertEqual(result.returncode, 0)
        self.assertRegex(result.stdout, r"^lockable \(gtest_lockable\) \d+\.\d+\.\d+\n$")


class errors_test(lockable_case):
    def test_unknown_option(self):
        self.assert_one_error_line(self.run_lockable(self.args("--bogus", "true")), 64,
                                   "unknown option '--bogus'", "lockable --help")

    def test_missing_command(self):
        self.assert_one_error_line(self.run_lockable(self.args()), 64, "missing command")
        self.assert_one_error_line(self.run_lockable(self.args("--")), 64, "missing command")

    def test_option_without_value(self):
        self.assert_one_error_line(self.run_lockable(self.args("--timeout")), 64,
                                   "--timeout needs a value")

    def test_switch_with_value(self):
        self.assert_one_error_line(self.run_lockable(self.args("--quiet=yes", "true")), 64,
                                   "--quiet takes no value")

    def test_bad_timeouts(self):
        for bad in ("abc", "-1", "nan", "1d", ""):
            with self.subTest(timeout=bad):
                self.assert_one_error_line(
                    self.run_lockable(self.args("--timeout", bad, "--", "true")), 64,
                    "invalid timeout '%s' from --timeout" % bad)
        env = clean_environment(LOCKABLE_TIMEOUT="-0.5")
        self.assert_one_error_line(self.run_lockable(self.args("true"), env=env), 64,
                                   "invalid timeout '-0.5' from LOCKABLE_TIMEOUT")

    def test_timeout_with_a_unit(self):
        result = self.run_lockable(self.args("--timeout", "1m", "--", "sh", "-c", "echo $ID"))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn(result.stdout.strip(), ("b1", "b2"))

    def test_command_not_found_is_reported_like_a_shell_and_nothing_stays_locked(self):
        self.assert_one_error_line(
            self.run_lockable(self.args("--", "no-such-command-xyz", "arg")), 127,
            "lockable: no-such-command-xyz: command not found")
        self.assert_one_error_line(self.run_lockable(self.args("--", "./missing")), 127,
                                   "lockable: ./missing: No such file or directory")
        self.assert_free("b1")
        self.assert_free("b2")

    def test_command_not_executable_gives_126_after_releasing(self):
        script = os.path.join(self.dir, "not-executable.sh")
        with open(script, "w") as f:
            f.write("#!/bin/sh\necho ran\n")
        os.chmod(script, stat.S_IRUSR | stat.S_IWUSR)
        if os.access(script, os.X_OK):
            self.skipTest("running as a user who may execute anything")
        result = self.run_lockable(self.args("--", script))
        self.assertEqual(result.returncode, 126, result.stderr)
        self.assertIn("lockable: %s: Permission denied\n" % script, result.stderr)
        self.assertEqual(result.stdout, "")
        self.assert_free("b1")
        self.assert_free("b2")

    def test_unreadable_inventory(self):
        missing = os.path.join(self.dir, "missing.json")
        self.assert_one_error_line(
            self.run_lockable([self.exe, "--resources", missing, "--", "true"]), 65,
            "cannot read inventory '%s'" % missing)
        malformed = os.path.join(self.dir, "malformed.json")
        with open(malformed, "w") as f:
            f.write('[{"id": "a",}]')
        self.assert_one_error_line(
            self.run_lockable([self.exe, "--resources", malformed, "--", "true"]), 65,
            malformed, "line 1")
        self.assert_one_error_line(
            self.run_lockable([self.exe, "--resources", self.dir, "--", "true"]), 65,
            "cannot read inventory '%s'" % self.dir)
        os.chmod(self.inventory, 0)
        if not os.access(self.inventory, os.R_OK):  # not when running as root
            self.assert_one_error_line(self.run_lockable(self.args("--", "true")), 65,
                                       "cannot read inventory", "Permission denied")

    def test_invalid_requirements(self):
        self.assert_one_error_line(
            self.run_lockable(self.args("--requirements", "type=", "--", "true")), 65,
            "--requirements: invalid requirements")

    def test_regex_requirements(self):
        result = self.run_lockable(self.args("--requirements", '{"type": {"$regex": "^PH", '
                                             '"$options": "i"}}', "--", "sh", "-c", 'echo "$ID"'))
        self.assertEqual((result.returncode, result.stdout), (0, "b2\n"), result.stderr)

    def test_missing_regex_module_is_one_clear_line(self):
        env = clean_environment(LOCKABLE_REGEX_MODULE="/nonexistent/libgtest_lockable_regex.so")
        result = self.run_lockable(self.args("--requirements", '{"type": {"$regex": "^ph"}}', "--",
                                             "true"), env=env)
        self.assert_one_error_line(result, 65, "regex support module cannot be loaded",
                                   "/nonexistent/libgtest_lockable_regex.so",
                                   "set LOCKABLE_REGEX_MODULE")
        self.assertEqual(self.run_lockable(self.args("--", "true"), env=env).returncode, 0,
                         "without $regex the module is not needed")

    def test_http_inventory(self):
        # The HTTP module is loaded at run time next to a command that may link the C++ runtime
        # statically: standard types cross that boundary.
        class handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):
                pass

        served = functools.partial(handler, directory=self.dir)
        with http.server.ThreadingHTTPServer(("127.0.0.1", 0), served) as server:
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            uri = "http://127.0.0.1:%d/resources.json" % server.server_address[1]
            result = self.run_lockable([self.exe, "--resources", uri, "--lock-folder",
                                        self.locks, "--hostname", HOST, "--requirements",
                                        "type=phone", "--", "sh", "-c", 'echo "$ID"'])
            missing = self.run_lockable([self.exe, "--resources", uri + ".missing",
                                         "--lock-folder", self.locks, "--hostname", HOST, "--",
                                         "true"], env=clean_environment(LOCKABLE_HTTP_RETRIES="0"))
            server.shutdown()
        self.assertEqual((result.returncode, result.stdout), (0, "b2\n"), result.stderr)
        self.assert_one_error_line(missing, 65, "404")

    def test_no_matching_resource(self):
        self.assert_one_error_line(
            self.run_lockable(self.args("--requirements", "type=toaster", "--", "true")), 69,
            "no resource in", "matches")

    def test_lock_folder_problem(self):
        not_a_folder = os.path.join(self.dir, "file")
        open(not_a_folder, "w").close()
        self.assert_one_error_line(
            self.run_lockable([self.exe, "--resources", self.inventory, "--hostname", HOST,
                               "--lock-folder", not_a_folder, "--", "true"]), 74,
            "lock folder '%s'" % not_a_folder)


if __name__ == "__main__":
    main()
