"""Shared set-up of the `lockable` integration tests, which run the real executable as
subprocesses. Each cli_*_test.py script is run as: SCRIPT --lockable PATH [unittest arguments]
"""
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

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

    exe = None  # the lockable executable, set by main()

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
        return [self.exe, "--resources", self.inventory, "--lock-folder", self.locks,
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


def main():
    args = sys.argv[1:]
    if len(args) < 2 or args[0] != "--lockable":
        sys.exit("usage: %s --lockable PATH [unittest arguments]" % sys.argv[0])
    lockable_case.exe = os.path.abspath(args[1])
    # A signal ignored by whoever started us would stay ignored in lockable (nohup semantics).
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(number) == signal.SIG_IGN:
            signal.signal(number, signal.SIG_DFL)
    unittest.main(argv=[sys.argv[0], "-v"] + args[2:])
