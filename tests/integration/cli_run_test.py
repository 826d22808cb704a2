#!/usr/bin/env python3
"""Integration tests of `lockable`: running the command, its environment, its exit status and
signals."""
import json
import os
import pty
import select
import signal
import sys
import time

from cli_support import (HANG_GUARD, HOST, SIGNAL_REPORTER, clean_environment, lockable_case,
                         main, read_line)


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
        # The lock file names lockable's PID, which has ended: the message says who holds it.
        self.assert_one_error_line(result, 75, "timed out",
                                   "b1 (held by a process that PID %d started; PID %d has ended)"
                                   % (holder.pid, holder.pid))
        status = self.status()["b1"]
        self.assertEqual((status["state"], status["pid"]), ("held", holder.pid))
        self.assertIn("has ended", status["note"])
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


if __name__ == "__main__":
    main()
