#!/usr/bin/env python3
"""Hostile and broken inputs, one table: each case runs through the `lockable` command and
through a GoogleTest program with the plugin, and must end with the expected exit status and
message: never a crash, a hang, an internal error, or a lock left behind.

usage: hostile_inputs_test.py --lockable PATH --probe PATH [unittest arguments]

The probe is tests/integration/plugin/probe_main.cpp; its test PLAIN asserts that it holds the
resource and prints "plain saw <id>". Resource r1 is on host "h".
"""
import fcntl
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import unittest

LOCKABLE = PROBE = None
PLAIN = "plain_test.free_accessor_sees_resource"
HANG_GUARD = 120  # seconds: only a hang reaches it (the 50 MB cases take a few in a Debug build)
NOBODY = 65534
R1 = {"id": "r1", "hostname": "h", "online": True}
ROOT = os.getuid() == 0


def nested(levels):
    return "[" * levels + "]" * levels


class case:
    """One hostile input.

    inventory: the inventory's content (bytes, str, or a value to write as JSON), or a function
    of the case folder that creates it and returns its path. folder: the lock folder, relative to
    the case folder. lock_file: a function of the lock folder that plants r1.pid. cli, plugin:
    (exit status, message substring), None where it does not apply. left: the lock folder's
    entries after the run (only what the case planted and must leave alone). unprivileged: run
    as an unprivileged user (the case is about permissions, which root bypasses).
    """

    def __init__(self, name, cli, plugin, inventory=None, requirements="", timeout="0",
                 hostname="h", folder="locks", lock_file=None, left=(), unprivileged=False):
        self.name, self.cli, self.plugin = name, cli, plugin
        self.inventory = [R1] if inventory is None else inventory
        self.requirements, self.timeout, self.hostname = requirements, timeout, hostname
        self.folder, self.lock_file, self.left = folder, lock_file, set(left)
        self.unprivileged = unprivileged


def ok(resource="r1"):
    """Runs with `resource`: the command prints it, the probe reports it."""
    return (0, "held " + resource), (0, "plain saw " + resource)


def refused(status, message):
    """Fails with `status` (the plugin fails every test: exit 1) and `message` in both."""
    return (status, message), (1, message)


def write_big(folder):
    """A valid 50 MB inventory (2,000 resources with 25 KB of notes each); r1 comes last."""
    path = os.path.join(folder, "big.json")
    entries = [dict(R1, id="x%d" % i, notes="n" * 25000) for i in range(2000)] + [R1]
    with open(path, "w") as out:
        json.dump(entries, out)
    return path


def write_random(folder):
    path = os.path.join(folder, "random.json")
    with open(path, "wb") as out:
        out.write(os.urandom(50 << 20))
    return path


def write_sparse(folder):
    """A 30 GiB inventory that takes no disk space."""
    path = os.path.join(folder, "sparse.json")
    with open(path, "wb") as out:
        out.truncate(30 << 30)
    return path


def special(kind):
    """An inventory that is a directory or a FIFO (reading a FIFO would hang)."""
    def make(folder):
        path = os.path.join(folder, "inventory")
        (os.mkdir if kind == "dir" else os.mkfifo)(path)
        return path
    return make


def plant(content=None, symlink=None, directory=False, fifo=False, mode=None):
    def make(locks):
        path = os.path.join(locks, "r1.pid")
        if symlink is not None:
            os.symlink(symlink, path)
        elif directory:
            os.mkdir(path)
        elif fifo:
            os.mkfifo(path)
        else:
            with open(path, "wb") as out:
                out.write(content if isinstance(content, bytes) else content.encode())
            if mode is not None:
                os.chmod(path, mode)
    return make


def held_by_us(locks):
    """r1.pid flocked by this test process, as py-lockable holds it."""
    fd = os.open(os.path.join(locks, "r1.pid"), os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.write(fd, b"%d\n" % os.getpid())
    held_by_us.fds.append(fd)  # closed at the end of the case


held_by_us.fds = []
BUSY = "timed out after 0 s"

CASES = [
    # Inventories.
    case("empty inventory", *refused(65, "parse error at line 1, column 1"), inventory=b""),
    case("truncated inventory", *refused(65, "parse error at line 1, column 25"),
         inventory=b'[{"id": "r1", "hostname"'),
    case("non-UTF-8 inventory", *refused(65, "ill-formed UTF-8 byte"),
         inventory=b'[{"id": "r\xff1", "hostname": "h", "online": true}]'),
    case("50 MB inventory", *ok(), inventory=write_big, requirements="id=r1"),
    # Random bytes may start with whitespace and newlines: the error's line is not fixed.
    case("50 MB of random bytes", *refused(65, "parse error at line "), inventory=write_random),
    case("30 GiB sparse inventory", *refused(65, "larger than 256 MiB"), inventory=write_sparse),
    case("inventory is a directory", *refused(65, "not a regular file"),
         inventory=special("dir")),
    case("inventory is a FIFO", *refused(65, "not a regular file"), inventory=special("fifo")),
    case("inventory is missing",
         (65, "No such file or directory (give the inventory file with --resources)"),
         (1, "No such file or directory (give the inventory file with --lockable_resources)"),
         inventory=lambda folder: os.path.join(folder, "missing.json")),
    case("inventory is an object", *refused(65, "must be a JSON array of resources"),
         inventory=R1),
    case("inventory nested 100,000 levels",
         *refused(65, "entry 0 nests objects and arrays more than 100 levels deep"),
         inventory='[{"id": "r1", "hostname": "h", "online": true, "x": %s}]' % nested(100000)),
    # Ids.
    case("id is a number", *ok("7"), inventory=[dict(R1, id=7)]),
    case("id is the largest integer", *ok("18446744073709551615"),
         inventory='[{"id": 18446744073709551615, "hostname": "h", "online": true}]'),
    case("id is a float", *refused(65, "entry 0 has an id that is a fraction"),
         inventory=[dict(R1, id=1.5)]),
    case("id is an object", *refused(65, "entry 0 has an id that is object"),
         inventory=[dict(R1, id={"a": 1})]),
    case("id is ../x", *refused(65, "which contains '/'"), inventory=[dict(R1, id="../x")]),
    case("id is a/b", *refused(65, "which contains '/'"), inventory=[dict(R1, id="a/b")]),
    case("id is .", *refused(65, "which is '.'"), inventory=[dict(R1, id=".")]),
    case("id is ..", *refused(65, "which is '..'"), inventory=[dict(R1, id="..")]),
    case("id is empty", *refused(65, "which is empty"), inventory=[dict(R1, id="")]),
    case("id has a NUL", *refused(65, "which contains a NUL character"),
         inventory=[dict(R1, id="r\u00001")]),
    case("id longer than NAME_MAX", *refused(65, "which is longer than 251 bytes"),
         inventory=[dict(R1, id="i" * 256)]),
    case("id as long as a lock file name may be", *ok("i" * 251),
         inventory=[dict(R1, id="i" * 251)]),
    case("duplicate ids", *refused(65, "duplicate ids: 'r1' (entries 0 1)"),
         inventory=[R1, dict(R1)]),
    case("integer and string ids naming one file", *refused(65, "duplicate ids: '1'"),
         inventory=[dict(R1, id=1), dict(R1, id="1")]),
    # Requirements.
    case("unknown operator", *refused(65, "unknown operator '$foo' at 'id'"),
         requirements='{"id": {"$foo": 1}}'),
    case("requirements nested 10,000 levels", *refused(65, "nested more than 100 levels deep"),
         requirements='{"a": ' * 10000 + "1" + "}" * 10000),
    case("requirements nested 60,000 levels", *refused(65, "nested more than 100 levels deep"),
         requirements='{"a": %s}' % nested(60000)),
    case("dotted key 10,000 levels", *refused(65, "nested more than 100 levels deep"),
         requirements="a." * 10000 + "a=1"),
    case("huge $in array", *ok(),
         requirements=json.dumps({"id": {"$in": ["x%d" % i for i in range(6000)] + ["r1"]}})),
    case("huge array value", *refused(69, "no resource in inventory"),
         requirements=json.dumps({"tags": list(range(20000))})),
    case("100 KB of requirements matching nothing", *refused(69, '"x00029","... (90045 bytes)'),
         requirements=json.dumps({"id": {"$in": ["x%05d" % i for i in range(10000)]}})),
    case("non-UTF-8 requirements", *refused(69, "no resource in inventory"),
         requirements=b"id=r\xff"),
    case("non-UTF-8 host name", *refused(69, "no resource in inventory"), hostname=b"h\xff"),
    case("regex beyond RE2's limits", *refused(65, "invalid repetition size"),
         requirements='{"id": {"$regex": "((a{100}){100}){100}"}}'),
    # Lock folders.
    case("lock folder is a file",
         (74, "cannot use: Not a directory (choose a writable folder with --lock-folder)"),
         (1, "cannot use: Not a directory (choose a writable folder with --lockable_lock_folder)"),
         folder="afile"),
    case("lock folder under a file", *refused(74, "cannot create: Not a directory"),
         folder="afile/locks"),
    case("lock folder with missing parents", *ok(), folder="a/b/c/locks"),
    case("lock folder with spaces", *ok(), folder="lock folder/with spaces"),
    # Root may write where the mode bits say no one may: documented, not a failure.
    case("read-only lock folder as root", *ok(), folder="read-only") if ROOT else
    case("read-only lock folder", *refused(74, "cannot write: Permission denied"),
         folder="read-only"),
    case("read-only lock folder, unprivileged", *refused(74, "cannot write: Permission denied"),
         folder="read-only", unprivileged=True),
    # Lock files.
    case("lock file is a symlink", *refused(75, "is a symbolic link; remove it"),
         lock_file=plant(symlink="/etc/passwd"), left={"r1.pid"}),
    case("lock file is a dangling symlink", *refused(75, "is a symbolic link; remove it"),
         lock_file=plant(symlink="nowhere"), left={"r1.pid"}),
    case("lock file is a directory", *refused(75, "is not a regular file; remove it"),
         lock_file=plant(directory=True), left={"r1.pid"}),
    case("lock file is a FIFO", *refused(75, "is not a regular file; remove it"),
         lock_file=plant(fifo=True), left={"r1.pid"}),
    # Root reads a mode-0 file, finds no PID in it and takes it over; others may not open it.
    case("unreadable lock file as root", *ok(), lock_file=plant("junk", mode=0)) if ROOT else
    case("unreadable lock file", *refused(75, "Permission denied; remove it"),
         lock_file=plant("junk", mode=0), left={"r1.pid"}),
    case("unreadable lock file, unprivileged", *refused(75, "Permission denied; remove it"),
         lock_file=plant("junk", mode=0), left={"r1.pid"}, unprivileged=True),
    case("lock file holds garbage", *ok(), lock_file=plant("not a pid\n")),
    case("lock file holds binary garbage", *ok(), lock_file=plant(os.urandom(4096) + b"\0")),
    case("lock file holds a negative PID", *ok(), lock_file=plant("-5\n")),
    case("lock file holds a huge PID", *ok(), lock_file=plant("99999999999999999999999\n")),
    case("lock file holds 2^32+1 (PID 1 if truncated)", *ok(), lock_file=plant("4294967297\n")),
    case("lock file names a live process", *refused(75, "r1 (held by PID 1)"),
         lock_file=plant("1\n"), left={"r1.pid"}),
    case("lock file details of the wrong types", *refused(75, "r1 (held by PID 1)"),
         lock_file=plant('1\n{"host": 5, "since": [1], "alloc_id": {}}\n'), left={"r1.pid"}),
    case("lock file details with control characters",
         *refused(75, "r1 (held by PID 1 on evil\\x1b[2J\\x0aline"),
         lock_file=plant('1\n{"host": "evil\\u001b[2J\\nline"}\n'), left={"r1.pid"}),
    case("lock file held with flock", *refused(75, "r1 (held by PID %d)" % os.getpid()),
         lock_file=held_by_us, left={"r1.pid"}),
    # Timeouts.
    case("timeout -1", *refused(64, "invalid timeout '-1'"), timeout="-1"),
    case("timeout nan", *refused(64, "invalid timeout 'nan'"), timeout="nan"),
    case("timeout 1e309", *refused(64, "invalid timeout '1e309'"), timeout="1e309"),
    case("timeout inf", *refused(64, "invalid timeout 'inf'"), timeout="inf"),
    case("timeout 0x10", *refused(64, "invalid timeout '0x10'"), timeout="0x10"),
    case("timeout empty", *refused(64, "invalid timeout ''"), timeout=""),
    # The environment a command gets: one variable may hold at most 128 KiB (MAX_ARG_STRLEN).
    case("resource field over 128 KiB", (126, "too large: one variable may hold at most 128 KiB"),
         ok()[1],
         inventory=[dict(R1, notes="n" * (200 << 10))]),
]


def unprivileged(argv):
    """`argv` run as user nobody, or None when that is not possible."""
    if not ROOT:
        return argv
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    return [setpriv, "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups", "--"] + argv


def as_bytes(text):
    return text if isinstance(text, bytes) else text.encode()


class hostile_inputs_test(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="hostile_inputs_test.")
        self.addCleanup(shutil.rmtree, self.dir, True)
        os.chmod(self.dir, 0o755)  # an unprivileged run must reach the case folders

    def prepare(self, c, front):
        """A fresh folder for `c` run by `front`: (inventory path, lock folder)."""
        folder = os.path.join(self.dir, "%s %s" % (front, c.name.replace("/", "_")))
        os.mkdir(folder)
        os.chmod(folder, 0o755)  # an unprivileged run must reach it
        with open(os.path.join(folder, "afile"), "w") as out:
            out.write("a file, not a folder\n")
        os.mkdir(os.path.join(folder, "read-only"), 0o555)
        os.chmod(os.path.join(folder, "read-only"), 0o555)  # whatever the umask
        if callable(c.inventory):
            inventory = c.inventory(folder)
        else:
            inventory = os.path.join(folder, "resources.json")
            content = c.inventory
            if not isinstance(content, (bytes, str)):
                content = json.dumps(content)
            with open(inventory, "wb") as out:
                out.write(as_bytes(content))
        locks = os.path.join(folder, c.folder)
        if c.lock_file is not None:
            os.makedirs(locks, 0o777)
            os.chmod(locks, 0o777)  # an unprivileged run may create files beside ours
            c.lock_file(locks)
        return inventory, locks

    def command(self, c, front, inventory, locks):
        if front == "cli":
            return [LOCKABLE, "--resources", inventory, "--lock-folder", locks,
                    b"--hostname=" + as_bytes(c.hostname), "--timeout=" + c.timeout,
                    b"--requirements=" + as_bytes(c.requirements), "--",
                    "sh", "-c", 'echo "held $LOCKABLE_RESOURCE_ID"']
        return [PROBE, "--gtest_filter=" + PLAIN, "--lockable_resources=" + inventory,
                "--lockable_lock_folder=" + locks,
                b"--lockable_hostname=" + as_bytes(c.hostname), "--lockable_timeout=" + c.timeout,
                b"--lockable_requirements=" + as_bytes(c.requirements)]

    def check_left(self, c, locks, output):
        left = set(os.listdir(locks)) if os.path.isdir(locks) else set()
        left.discard(".lockable-ledger")  # the usage ledger stays, as it should
        self.assertEqual(left, c.left, "lock folder after the run\n" + output)
        for name in left:
            path = os.path.join(locks, name)
            if os.path.islink(path) or not os.path.isfile(path) or not os.access(path, os.R_OK):
                continue
            fd = os.open(path, os.O_RDONLY)
            try:  # no process of the run may still hold it (ours was closed after the run)
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            finally:
                os.close(fd)

    def check_status(self, argv, locks, env):
        """`lockable --status --json` reads a planted lock file without failing or changing it."""
        before = sorted(os.listdir(locks))
        status = argv[:argv.index("--", argv.index(LOCKABLE))] + ["--status", "--json"]
        result = subprocess.run(status, capture_output=True, env=env, timeout=HANG_GUARD)
        self.assertEqual(result.returncode, 0, result.stderr.decode(errors="replace"))
        states = json.loads(result.stdout)
        self.assertEqual([s["id"] for s in states], ["r1"])
        self.assertIn(states[0]["state"], ("free", "held", "stale"))
        self.assertEqual(sorted(os.listdir(locks)), before)

    def run_case(self, c, front):
        expected = c.cli if front == "cli" else c.plugin
        if expected is None:
            return
        inventory, locks = self.prepare(c, front)
        argv = self.command(c, front, inventory, locks)
        if c.unprivileged:
            argv = unprivileged(argv)
            if argv is None:
                self.skipTest("needs setpriv to run as an unprivileged user")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LOCKABLE_", "GTEST_"))}
        try:
            if front == "cli" and c.lock_file is not None:
                self.check_status(argv, locks, env)
            result = subprocess.run(argv, capture_output=True, env=env, timeout=HANG_GUARD,
                                    cwd=self.dir)
        finally:
            for fd in held_by_us.fds:
                os.close(fd)
            held_by_us.fds.clear()
        output = (result.stdout + result.stderr).decode(errors="replace")
        shown = output if len(output) < 4000 else output[:2000] + "\n...\n" + output[-2000:]
        self.assertGreaterEqual(result.returncode, 0, "killed by a signal\n" + shown)
        self.assertNotIn("internal error", output)
        self.assertNotIn("unexpected error", output)
        status, message = expected
        self.assertEqual(result.returncode, status, shown)
        self.assertIn(message, output)
        if front == "cli" and status in (64, 65, 69, 74, 75):
            self.assertEqual(output.count("lockable: "), 1, "one line of error\n" + shown)
            self.assertEqual(output.count("\n"), 1, "one line of error\n" + shown)
            self.assertLess(len(output), 1000, "an error that can be read\n" + shown)
        self.check_left(c, locks, shown)

    def test_table(self):
        self.assertGreaterEqual(len(CASES), 30)
        for c in CASES:
            for front in ("cli", "plugin"):
                with self.subTest(case=c.name, front=front):
                    self.run_case(c, front)

    def test_symlink_target_is_never_touched(self):
        target = os.path.join(self.dir, "target")
        with open(target, "w") as out:
            out.write("precious\n")
        c = case("symlink to a file of ours", *refused(75, "is a symbolic link"),
                 lock_file=plant(symlink=target), left={"r1.pid"})
        mode = os.stat(target).st_mode
        for front in ("cli", "plugin"):
            with self.subTest(front=front):
                self.run_case(c, front)
                with open(target) as f:
                    self.assertEqual(f.read(), "precious\n")
                self.assertEqual(os.stat(target).st_mode, mode)

    def test_lock_folder_made_read_only_while_waiting(self):
        """An unprivileged waiter whose folder became read-only after it looked: the file it
        must create cannot be, which is the folder's fault (exit 74), not a busy resource."""
        inventory, locks = self.prepare(case("waiting", None, None), "cli")
        os.makedirs(locks, 0o777)
        os.chmod(locks, 0o777)
        argv = unprivileged([LOCKABLE, "--resources", inventory, "--lock-folder", locks,
                             "--hostname", "h", "--timeout", "30", "--", "true"])
        if argv is None:
            self.skipTest("needs setpriv to run as an unprivileged user")
        held_by_us(locks)
        waiter = subprocess.Popen(argv, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                  env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
        try:
            # After a second: "waiting for ...". A hang fails here instead of blocking.
            ready, _, _ = select.select([waiter.stderr], [], [], HANG_GUARD)
            line = waiter.stderr.readline().decode() if ready else "(nothing)"
            self.assertIn("lockable: waiting for", line)
            os.chmod(locks, 0o555)
            os.unlink(os.path.join(locks, "r1.pid"))
            os.close(held_by_us.fds.pop())  # the waiter wakes to a free resource
            _, err = waiter.communicate(timeout=HANG_GUARD)
        finally:
            if waiter.poll() is None:
                waiter.kill()
                waiter.wait()
            for fd in held_by_us.fds:
                os.close(fd)
            held_by_us.fds.clear()
        self.assertEqual(waiter.returncode, 74, err.decode(errors="replace"))
        self.assertIn("cannot create '%s/r1.pid': Permission denied" % locks, err.decode())
        # The waiter's ticket is gone; the empty queue folder stays, as the folder is read-only.
        self.assertEqual(os.listdir(locks), [".lockable-queue"])
        self.assertEqual(os.listdir(os.path.join(locks, ".lockable-queue")), [])


def main():
    global LOCKABLE, PROBE
    args = sys.argv[1:]
    for flag in ("--lockable", "--probe"):
        i = args.index(flag)
        value = args[i + 1]
        del args[i:i + 2]
        if flag == "--lockable":
            LOCKABLE = os.path.abspath(value)
        else:
            PROBE = os.path.abspath(value)
    unittest.main(argv=[sys.argv[0]] + args)


if __name__ == "__main__":
    main()
