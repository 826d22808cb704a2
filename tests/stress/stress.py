#!/usr/bin/env python3
"""Stress and chaos run of the lock folder: many processes of four kinds contend for a few
resources with random hold times while some are SIGKILLed; an independent checker
(check_holds.py) then reads their log. See tests/stress/README.md.

  stress.py --build build/dev --seconds 25          the short run (CTest: stress.short)
  stress.py --build build/dev --holds 20000         the long run

Kinds of holders, each one process per hold:
  cli    `lockable ... -- stress_holder record`: the command logs the hold
  gtest  stress_probe, a GoogleTest program with the plugin
  api    `stress_holder api`: the C++ API
  py     this script's `py-holder` mode, following py-lockable's protocol to the letter
         (tests/integration/pylockable_protocol.py)

Only the lock folder store runs here. An etcd store would plug in as another value of `--store`
(the cli, gtest and api holders would get its URI instead of `--lock-folder`; py-lockable has no
etcd store, so the py kind would sit that run out).
"""
import argparse
import ctypes
import fcntl
import heapq
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from check_holds import summary  # noqa: E402
HOST = "stress-host"
KINDS = ("cli", "gtest", "api", "py")
PR_SET_CHILD_SUBREAPER = 36
# A py-lockable waiter that has flock()ed a file it opened before the holder released it checks
# only that the PID inside is alive (it cannot see that the file was unlinked). Real holders live
# on long after a release; a holder of this run exits at once, so the driver keeps each exited
# holder as a zombie (alive to py-lockable, dead to us) this long before reaping it.
REAP_DELAY_S = 0.5
QUEUE = ".lockable-queue"  # the waiters' queue in the lock folder (one ticket per waiter)
LEDGER = ".lockable-ledger"  # the usage ledger, checked by check_ledger.py


def held_tickets(queue):
    """The tickets in `queue` that some process still holds an flock on."""
    held = []
    for name in sorted(os.listdir(queue)):
        try:
            fd = os.open(os.path.join(queue, name), os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            held.append(name)
        finally:
            os.close(fd)
    return held


def log_line(path, *fields):
    """One O_APPEND write per line, as the C++ holders do (hold_log.hpp)."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        os.write(fd, (" ".join(str(f) for f in fields) + "\n").encode())
    finally:
        os.close(fd)


def py_holder(folder, ids, timeout):
    """A py-lockable holder: its steps, its 1-by-1 candidate tries, its close-then-unlink."""
    sys.path.insert(0, os.path.join(HERE, "..", "integration"))
    from pylockable_protocol import try_lock  # noqa: E402 (the protocol's steps 1-5)

    log, token = os.environ["STRESS_LOG"], os.environ["STRESS_TOKEN"]
    hold_s = int(os.environ["STRESS_HOLD_MS"]) / 1000
    me = os.getpid()
    log_line(log, "wait", token, "-", time.monotonic_ns(), me)
    deadline = time.monotonic() + float(timeout)
    candidates = ids.split(",")
    while True:
        random.shuffle(candidates)
        for rid in candidates:
            path = os.path.join(folder, rid + ".pid")
            fd = try_lock(path)
            if fd is not None:
                log_line(log, "start", token, rid, time.monotonic_ns(), me)
                print("held %d" % me, flush=True)
                time.sleep(hold_s)
                log_line(log, "end", token, rid, time.monotonic_ns(), me)
                os.close(fd)  # step 6: close, then unlink
                os.unlink(path)
                return 0
        if time.monotonic() >= deadline:
            print("py-holder %s: timed out" % token, file=sys.stderr)
            return 3
        time.sleep(0.02)


class reaper:
    """Reaps exited holders REAP_DELAY_S after they exit, and orphans: a `lockable` killed
    together with its command may leave the command to us (we are a child subreaper)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.tracked = set()  # pids that a Popen object will reap
        self.due = []  # (time, pid, popen)
        self.stop = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def start(self, argv, **kwargs):
        with self.lock:  # so that the sweep never reaps a Popen's child
            p = subprocess.Popen(argv, **kwargs)
            self.tracked.add(p.pid)
        return p

    def reap_now(self, p):
        p.wait()
        with self.lock:
            self.tracked.discard(p.pid)

    def reap_later(self, p):
        with self.lock:
            heapq.heappush(self.due, (time.monotonic() + REAP_DELAY_S, p.pid, p))

    def pending(self):
        with self.lock:
            return len(self.tracked)

    def run(self):
        swept = time.monotonic()
        while not self.stop or self.pending():
            time.sleep(0.1)
            with self.lock:
                while self.due and (self.due[0][0] <= time.monotonic() or self.stop):
                    _, pid, p = heapq.heappop(self.due)
                    p.wait()  # it has exited already: this only reaps
                    self.tracked.discard(pid)
                if self.stop or time.monotonic() - swept >= 1:
                    self.sweep()
                    swept = time.monotonic()

    def sweep(self):
        me = str(os.getpid())
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) in self.tracked:
                continue
            try:
                with open("/proc/%s/stat" % entry) as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if fields[0] == "Z" and fields[1] == me:
                try:
                    os.waitpid(int(entry), os.WNOHANG)
                except ChildProcessError:
                    pass


def exit_status(p):
    """Waits until `p` ends without reaping it; its exit code, or -N for signal N."""
    info = os.waitid(os.P_PID, p.pid, os.WEXITED | os.WNOWAIT)
    return info.si_status if info.si_code == os.CLD_EXITED else -info.si_status


def read_held(p):
    """Reads `p`'s stdout up to its "held <pid>" line; the pid, or None at end of output."""
    for line in p.stdout:
        if line.startswith(b"held "):
            return int(line.split()[1])
    return None


class run:
    def __init__(self, args, workdir):
        self.args = args
        self.log = os.path.join(workdir, "holds.log")
        self.locks = os.path.join(workdir, "locks")
        self.inventory = os.path.join(workdir, "resources.json")
        self.ids = ["s%d" % i for i in range(args.resources)]
        with open(self.inventory, "w") as out:
            out.write("[" + ",".join(
                '{"id": "%s", "hostname": "%s", "online": true, "pool": "stress"}' % (i, HOST)
                for i in self.ids) + "]")
        self.stderr = open(os.path.join(workdir, "stderr.log"), "ab")
        self.reaper = reaper()
        self.counter = threading.Lock()
        self.holds = 0
        self.deadline = time.monotonic() + args.seconds if args.seconds else None
        self.errors = []

    def more(self):
        with self.counter:
            if self.args.holds and self.holds >= self.args.holds:
                return False
        return self.deadline is None or time.monotonic() < self.deadline

    def counted(self, held):
        if held is not None:
            with self.counter:
                self.holds += 1

    def argv(self, kind, want):
        a = self.args
        requirements = "pool=stress" if want == "*" else "id=" + want
        timeout = str(a.wait_timeout)
        if kind == "cli":
            return [a.holder, "exec", a.lockable, "--resources", self.inventory, "--lock-folder",
                    self.locks, "--hostname", HOST, "--requirements", requirements, "--timeout",
                    timeout, "--quiet", "--", a.holder, "record"]
        if kind == "gtest":
            return [a.probe, "--gtest_brief=1", "--lockable_resources=" + self.inventory,
                    "--lockable_lock_folder=" + self.locks, "--lockable_hostname=" + HOST,
                    "--lockable_requirements=" + requirements, "--lockable_timeout=" + timeout]
        if kind == "api":
            return [a.holder, "api", self.inventory, self.locks, HOST, requirements, timeout]
        ids = ",".join(self.ids) if want == "*" else want
        return [sys.executable, os.path.abspath(__file__), "py-holder", self.locks, ids, timeout]

    def slot(self, number):
        rng = random.Random(self.args.seed * 1000 + number)
        spawned = 0
        try:
            while self.more():
                kind = KINDS[(number + spawned) % len(KINDS)]
                self.one_holder(rng, kind, "%s%d-%d" % (kind, number, spawned))
                spawned += 1
        except Exception as e:  # reported, so that the run fails instead of hanging
            self.errors.append("slot %d: %r" % (number, e))

    def one_holder(self, rng, kind, token):
        want = "*" if rng.random() < 0.5 else rng.choice(self.ids)
        r = rng.random()
        hold_ms = rng.randint(0, 5) if r < 0.6 else rng.randint(5, 30) if r < 0.9 else \
            rng.randint(30, 120)
        fate = rng.random()
        fate = "kill_holding" if fate < self.args.kill_share else \
            "kill_anytime" if fate < self.args.kill_share + 0.02 else \
            "orphan" if kind == "cli" and fate < self.args.kill_share + 0.06 else "normal"
        if fate == "kill_holding":
            hold_ms = 10000  # killed long before it would end
        env = dict(os.environ, STRESS_LOG=self.log, STRESS_TOKEN=token,
                   STRESS_HOLD_MS=str(hold_ms), PYTHONDONTWRITEBYTECODE="1")
        env = {k: v for k, v in env.items() if not k.startswith(("LOCKABLE_", "GTEST_"))}
        log_line(self.log, "spawn", token, want, time.monotonic_ns(), kind)
        p = self.reaper.start(self.argv(kind, want), stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=self.stderr, env=env,
                              start_new_session=True)
        if fate == "kill_anytime":
            time.sleep(rng.uniform(0, 0.15))
            if os.waitid(os.P_PID, p.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
                self.kill(p, token)
                self.counted(read_held(p))
                return
        held = read_held(p)
        self.counted(held)
        if held is not None and fate == "kill_holding":
            time.sleep(rng.uniform(0, 0.03))
            self.kill(p, token)
            return
        if held is not None and fate == "orphan":
            # Kill only `lockable`: its command inherited the lock and ends the hold itself.
            log_line(self.log, "orphan", token, "-", time.monotonic_ns(), p.pid)
            os.kill(p.pid, signal.SIGKILL)
            self.reaper.reap_now(p)
            log_line(self.log, "exit", token, p.returncode, time.monotonic_ns(), p.pid)
            p.stdout.read()  # the command holds the pipe until it ends; the sweep reaps it
            return
        p.stdout.read()
        status = exit_status(p)
        log_line(self.log, "exit", token, status, time.monotonic_ns(), p.pid)
        self.reaper.reap_later(p)

    def kill(self, p, token):
        # The time is taken before the signal: the lock is released only after the process died.
        log_line(self.log, "kill", token, "-", time.monotonic_ns(), p.pid)
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.reaper.reap_now(p)
        log_line(self.log, "exit", token, p.returncode, time.monotonic_ns(), p.pid)
        p.stdout.read()

    def stuck(self):
        """The resources that cannot be locked at once after the run; also the lock files left
        once each resource was locked and released (stale files of killed holders are taken
        over on the way)."""
        stuck = []
        for rid in self.ids:
            result = subprocess.run(
                [self.args.lockable, "--resources", self.inventory, "--lock-folder", self.locks,
                 "--hostname", HOST, "--requirements", "id=" + rid, "--timeout", "0", "--quiet",
                 "--", "true"], capture_output=True, text=True)
            if result.returncode != 0:
                stuck.append("%s: exit %d %s" % (rid, result.returncode, result.stderr.strip()))
        left = sorted(os.listdir(self.locks)) if os.path.isdir(self.locks) else []
        if LEDGER in left:
            left.remove(LEDGER)
        # The waiters' queue may keep tickets of killed waiters, but none may still be held:
        # every process of the run has ended.
        if QUEUE in left:
            left.remove(QUEUE)
            left += ["%s/%s (held)" % (QUEUE, t)
                     for t in held_tickets(os.path.join(self.locks, QUEUE))]
        return stuck, left

    def read_ledger(self, workdir):
        """`lockable --history --json` and `--stats --json` of the run, into files for
        check_ledger.py; before the final locks, which would add records of their own."""
        outputs = []
        for mode, name in (("--history", "history.json"), ("--stats", "stats.json")):
            path = os.path.join(workdir, name)
            with open(path, "w") as out, open(path + ".stderr", "w") as err:
                result = subprocess.run(
                    [self.args.lockable, "--resources", self.inventory, "--lock-folder",
                     self.locks, "--hostname", HOST, mode, "--json"], stdout=out, stderr=err)
            if result.returncode != 0:
                self.errors.append("lockable %s exited %d" % (mode, result.returncode))
            outputs += [path, path + ".stderr"]
        return outputs

    def execute(self):
        began = time.monotonic()
        threads = [threading.Thread(target=self.slot, args=(n,)) for n in range(self.args.slots)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.reaper.stop = True
        self.reaper.thread.join()
        elapsed = time.monotonic() - began
        ledger = self.read_ledger(os.path.dirname(self.log))
        stuck, left = self.stuck()
        return elapsed, stuck, left, ledger


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "py-holder":
        return py_holder(*sys.argv[2:5])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", help="a build folder (finds the three programs in it)")
    parser.add_argument("--lockable")
    parser.add_argument("--holder")
    parser.add_argument("--probe")
    parser.add_argument("--seconds", type=float, default=0, help="run this long (0: no limit)")
    parser.add_argument("--holds", type=int, default=0, help="stop after this many holds")
    parser.add_argument("--slots", type=int, default=16, help="holder processes at once")
    parser.add_argument("--resources", type=int, default=3)
    parser.add_argument("--kill-share", type=float, default=0.07,
                        help="share of holders SIGKILLed while they hold")
    parser.add_argument("--wait-timeout", type=float, default=60)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--keep", action="store_true", help="keep the log and lock folder")
    args = parser.parse_args()
    if args.build:
        args.lockable = args.lockable or os.path.join(args.build, "gtest_lockable/cli/lockable")
        args.holder = args.holder or os.path.join(args.build, "tests/stress/stress_holder")
        args.probe = args.probe or os.path.join(args.build, "tests/stress/stress_probe")
    if not (args.lockable and args.holder and args.probe) or not (args.seconds or args.holds):
        parser.error("give --build (or the three programs) and --seconds or --holds")
    if args.slots < 16:
        parser.error("the run needs at least 16 holder processes at once")
    # Orphaned commands (their `lockable` was killed) become our children, so we reap them.
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    workdir = tempfile.mkdtemp(prefix="stress.")
    print("stress: seed %d, %d slots, %d resources, folder %s" % (
        args.seed, args.slots, args.resources, workdir), flush=True)
    r = run(args, workdir)
    elapsed, stuck, left, ledger = r.execute()
    # The checker runs as its own process, on nothing but the log.
    check = subprocess.run([sys.executable, os.path.join(HERE, "check_holds.py"), r.log, "--json"],
                           capture_output=True, text=True)
    report = json.loads(check.stdout) if check.stdout.startswith("{") else None
    print(summary(report) if report else check.stdout + check.stderr)
    print("elapsed %.1f s; stuck resources %d; lock files left %d" % (
        elapsed, len(stuck), len(left)))
    failures = r.errors + ["stuck: " + s for s in stuck]
    failures += ["lock files left after the final locks: %s" % left] if left else []
    failures += ["the checker failed"] if check.returncode != 0 else []
    # Every hold of ours has exactly one complete record in the ledger, which --stats agrees with.
    ledger_check = subprocess.run([sys.executable, os.path.join(HERE, "check_ledger.py"), r.log,
                                   ledger[0], ledger[2], ledger[1]],
                                  capture_output=True, text=True)
    print(ledger_check.stdout.strip() + ledger_check.stderr)
    failures += ["the ledger check failed"] if ledger_check.returncode != 0 else []
    if report:  # the run must have done what it claims
        if report["killed_holding"] < 0.05 * report["holds"]:
            failures.append("fewer than 5 %% of the holds ended by SIGKILL (%d of %d)" % (
                report["killed_holding"], report["holds"]))
        failures += ["no holds by %s holders" % k for k in KINDS
                     if not report["holds_by_kind"].get(k)]
    if failures:
        for f in failures:
            print("FAIL " + f)
        with open(os.path.join(workdir, "stderr.log"), errors="replace") as err:
            print("stderr of the holders (last lines):\n" + "".join(err.readlines()[-20:]))
    if args.keep:
        print("kept %s" % workdir)
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
