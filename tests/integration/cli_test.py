#!/usr/bin/env python3
"""Integration tests of the `lockable` command: they run the real executable as subprocesses.

Usage: cli_test.py --lockable PATH [unittest arguments, e.g. a test class name]
"""
import json
import os
import select
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import unittest

LOCKABLE = None  # set from --lockable
HOST = "test-host"  # the hostname every test passes, so that tests do not depend on this machine
HANG_GUARD = 30  # seconds: a bound that only a hang reaches, never a timing assertion

# A child that reports SIGINT, SIGTERM and SIGHUP on stdout and exits 40 after the first.
SIGNAL_REPORTER = r"""
import signal, sys
def report(number, frame):
    print("got %d" % number, flush=True)
    sys.exit(40)
for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(s, report)
print("ready", flush=True)
while True:
    signal.pause()
"""

# A child that says it is ready, then runs until its stdin is closed.
RUN_UNTIL_STDIN_CLOSES = "import sys; print('ready', flush=True); sys.stdin.read()"


def clean_environment(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOCKABLE_")}
    env.update(extra)
    return env


def read_line(stream, what="a line"):
    """Reads one line from an unbuffered pipe, failing instead of hanging."""
    import selectors

    line = b""
    deadline = time.monotonic() + HANG_GUARD
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(left):
                raise AssertionError("no %s within %d s (got %r)" % (what, HANG_GUARD, line))
            chunk = os.read(stream.fileno(), 1)
            if not chunk:
                raise AssertionError("end of output before %s (got %r)" % (what, line))
            line += chunk
    return line.decode()


class lockable_case(unittest.TestCase):
    """A temporary folder with an inventory (`resources.json`) and a lock folder (`locks`)."""

    resources = [
        {"id": "b1", "hostname": HOST, "online": True, "type": "board"},
        {"id": "b2", "hostname": HOST, "online": True, "type": "phone"},
    ]

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="lockable_cli_test.")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.inventory = os.path.join(self.dir, "resources.json")
        self.locks = os.path.join(self.dir, "locks")
        self.write_inventory(self.resources)
        self.children = []
        self.addCleanup(self.end_children)

    def end_children(self):
        for proc in self.children:
            for pipe in (proc.stdin, proc.stdout, proc.stderr):
                if pipe:
                    pipe.close()
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    def write_inventory(self, resources, path=None):
        with open(path or self.inventory, "w") as f:
            json.dump(resources, f)

    def args(self, *extra):
        return [LOCKABLE, "--resources", self.inventory, "--lock-folder", self.locks,
                "--hostname", HOST] + list(extra)

    def run_lockable(self, args, env=None, cwd=None):
        return subprocess.run(args, env=env or clean_environment(), cwd=cwd or self.dir,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=HANG_GUARD)

    def start(self, args, env=None, **kwargs):
        proc = subprocess.Popen(args, env=env or clean_environment(), cwd=self.dir, bufsize=0,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, **kwargs)
        self.children.append(proc)
        return proc

    def hold(self, resource_id):
        """Starts a lockable that holds `resource_id` until its stdin closes."""
        proc = self.start(self.args("--requirements", "id=" + resource_id, "--",
                                    sys.executable, "-c", RUN_UNTIL_STDIN_CLOSES))
        self.assertEqual(read_line(proc.stdout, "ready from the holder"), "ready\n")
        return proc

    def lock_file(self, resource_id):
        return os.path.join(self.locks, resource_id + ".pid")

    def holder_pid(self, resource_id):
        with open(self.lock_file(resource_id)) as f:
            return int(f.readline())

    def status(self):
        result = self.run_lockable(self.args("--status", "--json", "--requirements", "{}"))
        self.assertEqual(result.returncode, 0, result.stderr)
        return {entry["id"]: entry for entry in json.loads(result.stdout)}

    def assert_free(self, resource_id):
        """The resource is free: no lock file, and a lockable that does not wait gets it."""
        self.assertFalse(os.path.exists(self.lock_file(resource_id)),
                         "lock file of %s left behind" % resource_id)
        result = self.run_lockable(self.args("--timeout", "0", "--requirements",
                                             "id=" + resource_id, "--", "true"))
        self.assertEqual(result.returncode, 0, result.stderr)

    def assert_one_error_line(self, result, code, *parts):
        """`lockable` failed with exit status `code` and one stderr line containing `parts`."""
        self.assertEqual(result.returncode, code, result.stderr)
        self.assertEqual(result.stdout, "", "nothing of ours on stdout")
        lines = result.stderr.splitlines()
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertTrue(lines[0].startswith("lockable: "), lines[0])
        for part in parts:
            self.assertIn(part, lines[0])


class options_test(lockable_case):
    def test_defaults_are_resources_json_and_lock_folder_in_current_directory(self):
        script = "import os; print(sorted(os.listdir('.')))"
        result = self.run_lockable([LOCKABLE, "--hostname", HOST, "--", sys.executable, "-c",
                                    script])
        self.assertEqual(result.returncode, 0, result.stderr)
        # While the command runs, the lock file of the first free resource is in ".".
        self.assertRegex(result.stdout.strip(), r"^\['b[12]\.pid', 'resources\.json'\]$")
        self.assertEqual(sorted(os.listdir(self.dir)), ["resources.json"])

    def test_hostname_defaults_to_this_host(self):
        import socket

        self.write_inventory([{"id": "mine", "hostname": socket.gethostname(), "online": True},
                              {"id": "other", "hostname": HOST, "online": True}])
        result = self.run_lockable([LOCKABLE, "--resources", self.inventory, "--lock-folder",
                                    self.locks, "--", "sh", "-c", 'echo "$ID"'])
        self.assertEqual((result.returncode, result.stdout), (0, "mine\n"), result.stderr)

    def test_environment_variables_configure_every_option(self):
        other = os.path.join(self.dir, "other-locks")
        env = clean_environment(LOCKABLE_RESOURCES=self.inventory, LOCKABLE_LOCK_FOLDER=other,
                                LOCKABLE_HOSTNAME=HOST, LOCKABLE_REQUIREMENTS="type=phone",
                                LOCKABLE_TIMEOUT="0.5")
        script = 'echo "$ID"; ls "$LOCKABLE_LOCK_FOLDER"'
        result = self.run_lockable([LOCKABLE, "--", "sh", "-c", script], env=env)
        self.assertEqual((result.returncode, result.stdout), (0, "b2\nb2.pid\n"), result.stderr)
        # LOCKABLE_TIMEOUT is used: with b2 held, a waiting lockable gives up with a timeout.
        holder = self.hold("b2")
        env["LOCKABLE_LOCK_FOLDER"] = self.locks
        result = self.run_lockable([LOCKABLE, "--", "true"], env=env)
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
        result = self.run_lockable([LOCKABLE, "--resources=" + self.inventory,
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
        result = self.run_lockable([LOCKABLE, "--help"])
        self.assertEqual(result.returncode, 0)
        text = result.stdout
        for option, variable, default in (
                ("--requirements R", "LOCKABLE_REQUIREMENTS", "default {}"),
                ("--resources FILE", "LOCKABLE_RESOURCES", "default ./resources.json"),
                ("--lock-folder DIR", "LOCKABLE_LOCK_FOLDER", "default ."),
                ("--timeout SECONDS", "LOCKABLE_TIMEOUT", "default 1"),
                ("--hostname NAME", "LOCKABLE_HOSTNAME", "default this host's name")):
            self.assertIn(option, text)
            self.assertIn("variable %s, %s\n" % (variable, default), text)
        for option in ("--list", "--status", "--json", "--validate-only", "--quiet",
                       "--version", "Example:", "Exit status:"):
            self.assertIn(option, text)
        for code in ("64", "65", "69", "74", "75", "126", "127", "128+N"):
            self.assertRegex(text, r"\n  %s +\w" % code.replace("+", r"\+"))
        self.assertEqual(self.run_lockable([LOCKABLE, "-h"]).stdout, text)

    def test_version(self):
        result = self.run_lockable([LOCKABLE, "--version"])
        self.assertEqual(result.returncode, 0)
        self.assertRegex(result.stdout, r"^lockable \(gtest_lockable\) \d+\.\d+\.\d+\n$")


class run_test(lockable_case):
    resources = [{"id": "b1", "hostname": HOST, "online": True, "ip": "10.0.0.7",
                  "ports": [22, 80], "nested": {"a": 1}, "weird-key.x": "w", "1st": "first",
                  "text": "two words 'and' \"quotes\""}]

    def test_resource_fields_and_allocation_are_exported(self):
        script = "import json, os; print(json.dumps(dict(os.environ)))"
        env = clean_environment(KEEP_ME="kept", ID="overwritten")
        result = self.run_lockable(self.args("--", sys.executable, "-c", script), env=env)
        self.assertEqual(result.returncode, 0, result.stderr)
        child = json.loads(result.stdout)
        expected = {"ID": "b1", "HOSTNAME": HOST, "ONLINE": "true", "IP": "10.0.0.7",
                    "PORTS": "[22,80]", "NESTED": '{"a":1}', "WEIRD_KEY_X": "w", "_1ST": "first",
                    "TEXT": "two words 'and' \"quotes\"", "LOCKABLE_RESOURCE_ID": "b1",
                    "KEEP_ME": "kept"}
        self.assertEqual({k: child.get(k) for k in expected}, expected)
        self.assertEqual(json.loads(child["LOCKABLE_RESOURCE_INFO"]), self.resources[0])
        self.assertRegex(child["LOCKABLE_ALLOC_ID"], r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-")
        self.assertEqual(child["PATH"], os.environ["PATH"])

    def test_alloc_id_is_the_one_in_the_lock_file(self):
        script = 'sed -n 2p "$0"; echo "$LOCKABLE_ALLOC_ID"'
        result = self.run_lockable(self.args("--", "sh", "-c", script, self.lock_file("b1")))
        self.assertEqual(result.returncode, 0, result.stderr)
        details, alloc_id = result.stdout.splitlines()
        self.assertEqual(json.loads(details)["alloc_id"], alloc_id)

    def test_arguments_reach_the_command_intact(self):
        words = ["two words", "it's", '"quoted"', "$HOME", "*", "", "back\\slash", "new\nline",
                 "; rm -rf /", "--requirements", "tab\there", "ünïcode"]
        script = "import json, sys; print(json.dumps(sys.argv[1:]))"
        result = self.run_lockable(self.args("--", sys.executable, "-c", script, *words))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(json.loads(result.stdout), words)

    def test_stdout_belongs_to_the_command_and_one_line_says_what_is_held(self):
        result = self.run_lockable(self.args("--", "printf", "hello"))
        self.assertEqual((result.returncode, result.stdout), (0, "hello"))
        self.assertRegex(result.stderr, r"^lockable: holding b1 \(allocation [0-9a-f-]{36}, "
                                        r"waited \d+\.\d\d s\)\n$")
        quiet = self.run_lockable(self.args("--quiet", "--", "printf", "hello"))
        self.assertEqual((quiet.returncode, quiet.stdout, quiet.stderr), (0, "hello", ""))

    def test_exit_status_of_the_command_is_passed_through(self):
        for code in (0, 1, 7, 64, 75, 127, 255):
            result = self.run_lockable(self.args("--", "sh", "-c", "exit %d" % code))
            self.assertEqual(result.returncode, code, result.stderr)
        result = self.run_lockable(self.args("--", "sh", "-c", "kill -TERM $$"))
        self.assertEqual(result.returncode, 128 + signal.SIGTERM, result.stderr)
        self.assert_free("b1")

    def test_resource_is_held_while_the_command_runs_and_released_after(self):
        nested = " ".join(["'%s'" % a for a in self.args("--timeout", "0", "--", "true")])
        result = self.run_lockable(self.args("--", "sh", "-c", nested + '; echo "nested=$?"'))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, "nested=75\n")
        self.assertIn("timed out", result.stderr)
        self.assert_free("b1")

    def test_waiting_line_names_the_busy_resource_and_its_holder(self):
        holder = self.hold("b1")
        waiter = self.start(self.args("--timeout", "30", "--", "sh", "-c", 'echo "got $ID"'))
        line = read_line(waiter.stderr, "the waiting line")
        self.assertIn("lockable: waiting for ", line)
        self.assertIn("b1 (held by PID %d on %s since " % (holder.pid, HOST), line)
        started = time.monotonic()
        holder.stdin.close()
        self.assertEqual(holder.wait(HANG_GUARD), 0)
        self.assertEqual(waiter.wait(HANG_GUARD), 0)
        print("\nhandover after the holder ended: %.3f s" % (time.monotonic() - started))
        self.assertEqual(waiter.stdout.read(), b"got b1\n")
        self.assertRegex(waiter.stderr.read().decode(), r"^lockable: holding b1 ")

    def test_quiet_silences_the_waiting_line(self):
        holder = self.hold("b1")
        result = self.run_lockable(self.args("--quiet", "--timeout", "1.2", "--", "true"))
        self.assert_one_error_line(result, 75, "timed out after 1.2 s", "b1 (held by PID %d"
                                   % holder.pid)
        holder.stdin.close()
        self.assertEqual(holder.wait(HANG_GUARD), 0)


class signals_test(lockable_case):
    def test_signals_are_forwarded_and_the_resource_released_after(self):
        for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            with self.subTest(signal=number.name):
                proc = self.start(self.args("--", sys.executable, "-c", SIGNAL_REPORTER))
                self.assertEqual(read_line(proc.stdout, "ready"), "ready\n")
                proc.send_signal(number)
                self.assertEqual(proc.wait(HANG_GUARD), 40, proc.stderr.read())
                self.assertEqual(proc.stdout.read(), b"got %d\n" % number)
                self.assert_free("b1")

    def test_command_killed_by_a_forwarded_signal_gives_128_plus_its_number(self):
        proc = self.start(self.args("--", sys.executable, "-c",
                                    "import signal; print('ready', flush=True); signal.pause()"))
        self.assertEqual(read_line(proc.stdout, "ready"), "ready\n")
        proc.terminate()
        self.assertEqual(proc.wait(HANG_GUARD), 128 + signal.SIGTERM, proc.stderr.read())
        self.assert_free("b1")

    def test_a_terminal_interrupt_reaches_the_command_once(self):
        # ^C on a terminal signals the whole foreground process group, lockable and the command
        # alike: lockable must not send the command a second SIGINT. lockable is stopped while
        # the command takes the terminal's SIGINT, so that a forwarded copy would come after it
        # (not merge with it). The command then asks lockable, with SIGTERM, to be ended: a
        # SIGINT that lockable forwards first has a lower number and is counted before it.
        command = r"""
import os, signal, sys
count = 0
def on_int(number, frame):
    global count
    count += 1
    if count == 1:
        os.kill(os.getppid(), signal.SIGTERM)
        print("interrupted", flush=True)
def on_term(number, frame):
    print("interrupts: %d" % count, flush=True)
    sys.exit(5)
signal.signal(signal.SIGINT, on_int)
signal.signal(signal.SIGTERM, on_term)
print("ready", flush=True)
while True:
    signal.pause()
"""
        import pty

        pid, terminal = pty.fork()
        if pid == 0:  # a new session whose controlling terminal is `terminal`
            try:
                args = self.args("--", sys.executable, "-c", command)
                os.execve(args[0], args, clean_environment())
            finally:
                os._exit(99)
        output = b""
        deadline = time.monotonic() + HANG_GUARD

        def read_until(text):
            nonlocal output
            while text not in output and time.monotonic() < deadline:
                if select.select([terminal], [], [], 1)[0]:
                    try:
                        chunk = os.read(terminal, 1024)
                    except OSError:  # EIO: the terminal's last user is gone
                        return
                    if not chunk:
                        return
                    output += chunk

        try:
            read_until(b"ready")
            self.assertIn(b"ready", output)
            os.kill(pid, signal.SIGSTOP)
            while not self.stopped(pid) and time.monotonic() < deadline:
                time.sleep(0.01)  # polls for a state change, bounded by the deadline
            os.write(terminal, b"\x03")  # ^C
            read_until(b"interrupted")
            os.kill(pid, signal.SIGCONT)
            read_until(b"will not come")
        finally:
            os.close(terminal)
            done, status = os.waitpid(pid, os.WNOHANG)
            if done == 0:  # still running after the deadline: a failure, but not a hang
                os.kill(pid, signal.SIGKILL)
                _, status = os.waitpid(pid, 0)
        self.assertIn(b"interrupts: 1\r\n", output)
        self.assertEqual(os.waitstatus_to_exitcode(status), 5, output)
        self.assert_free("b1")

    @staticmethod
    def stopped(pid):
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "T"

    def test_resource_stays_locked_while_the_command_runs_after_lockable_is_killed(self):
        holder = self.hold("b1")
        holder.kill()  # SIGKILL: lockable cannot release; its command keeps the lock descriptor
        holder.wait(HANG_GUARD)
        result = self.run_lockable(self.args("--timeout", "0", "--requirements", "id=b1", "--",
                                             "true"))
        self.assert_one_error_line(result, 75, "timed out", "b1 (held")
        self.assertEqual(self.status()["b1"]["state"], "held")
        holder.stdin.close()  # the orphaned command ends...
        result = self.run_lockable(self.args("--timeout", "20", "--requirements", "id=b1", "--",
                                             "true"))
        self.assertEqual(result.returncode, 0, result.stderr)  # ...and the resource is free
        self.assert_free("b1")

    def test_signal_while_waiting_aborts_without_taking_the_resource(self):
        holder = self.hold("b1")
        marker = os.path.join(self.dir, "ran")
        for number in (signal.SIGINT, signal.SIGTERM):
            with self.subTest(signal=number.name):
                waiter = self.start(self.args("--requirements", "id=b1", "--timeout", "30", "--",
                                              "touch", marker))
                self.assertIn("waiting for", read_line(waiter.stderr, "the waiting line"))
                waiter.send_signal(number)
                self.assertEqual(waiter.wait(HANG_GUARD), 128 + number)
                self.assertFalse(os.path.exists(marker), "the command must not run")
                self.assertEqual(self.holder_pid("b1"), holder.pid, "the holder keeps b1")
        holder.stdin.close()
        self.assertEqual(holder.wait(HANG_GUARD), 0)
        self.assert_free("b1")


class modes_test(lockable_case):
    resources = [
        {"id": "b1", "hostname": HOST, "online": True, "type": "board"},
        {"id": "x", "hostname": HOST, "online": False, "type": "board"},
        {"id": "b3", "hostname": "elsewhere", "online": True, "type": "board"},
        {"id": "b2", "hostname": HOST, "online": True, "type": "board"},
        {"id": "b4", "hostname": HOST, "online": True, "type": "board"},
        {"id": "p1", "hostname": HOST, "online": True, "type": "phone"},
    ]

    def test_list_prints_selected_entries_in_inventory_order_and_locks_nothing(self):
        result = self.run_lockable(self.args("--list", "--requirements", "type=board"))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(json.loads(result.stdout),
                         [self.resources[0], self.resources[3], self.resources[4]])
        self.assertFalse(os.path.exists(self.locks))
        result = self.run_lockable(self.args("--list", "--requirements", "type=none"))
        self.assertEqual((result.returncode, json.loads(result.stdout)), (0, []))

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
                                   "--json applies to --status only")


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
        for bad in ("abc", "-1", "nan", "1s", ""):
            with self.subTest(timeout=bad):
                self.assert_one_error_line(
                    self.run_lockable(self.args("--timeout", bad, "--", "true")), 64,
                    "invalid timeout '%s' from --timeout" % bad)
        env = clean_environment(LOCKABLE_TIMEOUT="-0.5")
        self.assert_one_error_line(self.run_lockable(self.args("true"), env=env), 64,
                                   "invalid timeout '-0.5' from LOCKABLE_TIMEOUT")

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
            self.run_lockable([LOCKABLE, "--resources", missing, "--", "true"]), 65,
            "cannot read inventory '%s'" % missing)
        malformed = os.path.join(self.dir, "malformed.json")
        with open(malformed, "w") as f:
            f.write('[{"id": "a",}]')
        self.assert_one_error_line(
            self.run_lockable([LOCKABLE, "--resources", malformed, "--", "true"]), 65,
            malformed, "line 1")
        self.assert_one_error_line(
            self.run_lockable([LOCKABLE, "--resources", self.dir, "--", "true"]), 65,
            "cannot read inventory '%s'" % self.dir)
        os.chmod(self.inventory, 0)
        if not os.access(self.inventory, os.R_OK):  # not when running as root
            self.assert_one_error_line(self.run_lockable(self.args("--", "true")), 65,
                                       "cannot read inventory", "Permission denied")

    def test_invalid_requirements(self):
        self.assert_one_error_line(
            self.run_lockable(self.args("--requirements", "type=", "--", "true")), 65,
            "--requirements: invalid requirements")

    def test_no_matching_resource(self):
        self.assert_one_error_line(
            self.run_lockable(self.args("--requirements", "type=toaster", "--", "true")), 69,
            "no resource in", "matches")

    def test_lock_folder_problem(self):
        not_a_folder = os.path.join(self.dir, "file")
        open(not_a_folder, "w").close()
        self.assert_one_error_line(
            self.run_lockable([LOCKABLE, "--resources", self.inventory, "--hostname", HOST,
                               "--lock-folder", not_a_folder, "--", "true"]), 74,
            "lock folder '%s'" % not_a_folder)


def main():
    global LOCKABLE
    args = sys.argv[1:]
    if len(args) < 2 or args[0] != "--lockable":
        sys.exit(__doc__)
    LOCKABLE = os.path.abspath(args[1])
    # A signal ignored by whoever started us would stay ignored in lockable (nohup semantics).
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(number) == signal.SIG_IGN:
            signal.signal(number, signal.SIG_DFL)
    unittest.main(argv=[sys.argv[0], "-v"] + args[2:])


if __name__ == "__main__":
    main()
