#!/usr/bin/env python3
"""The usage ledger with real processes (docs/ledger.md): the `lockable` command and a test
program with the plugin write it; `lockable --history`, `--stats`, `--metrics` and `--report`
read it.

usage: ledger_test.py --lockable PATH --probe PATH --out DIR [unittest arguments]
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, HERE)
import cli_support  # noqa: E402
from cli_support import HANG_GUARD, HOST, clean_environment, read_line  # noqa: E402
from ledger_support import synthetic_ledger  # noqa: E402

PROBE = None  # the plugin program with 5 tests, 2 failing
OUT = None  # the build folder of this test: the screenshot goes there


class ledger_case(cli_support.lockable_case):
    resources = [
        {"id": "b1", "hostname": HOST, "online": True, "type": "board"},
        {"id": "b2", "hostname": HOST, "online": True, "type": "board"},
        {"id": "b3", "hostname": HOST, "online": False, "type": "board"},
    ]

    @property
    def ledger(self):
        return os.path.join(self.locks, ".lockable-ledger", "ledger.jsonl")

    def run_ok(self, *extra, env=None):
        result = self.run_lockable(self.args(*extra), env=env)
        self.assertEqual(result.returncode, 0, result.stderr)
        return result

    def history(self, *extra):
        result = self.run_ok("--history", "--json", *extra)
        return json.loads(result.stdout), result.stderr

    def lock_and_run(self, *command, requirements="id=b1", env=None):
        return self.run_lockable(self.args("--requirements", requirements, "--quiet", "--",
                                           *command), env=env)


class outcomes_test(ledger_case):
    def test_command_exit_status_and_signal(self):
        self.assertEqual(self.lock_and_run("true").returncode, 0)
        self.assertEqual(self.lock_and_run("sh", "-c", "exit 3").returncode, 3)
        self.assertEqual(self.lock_and_run("sh", "-c", "kill -TERM $$").returncode, 128 + 15)
        records, err = self.history()
        self.assertEqual(err, "")
        self.assertEqual([r.get("exit") for r in records], [0, 3, None])
        self.assertEqual(records[2]["signal"], 15)
        self.assertEqual([r["failed"] for r in records], [False, True, True])
        for r in records:
            self.assertEqual(r["resource"], "b1")
            self.assertEqual(r["ending"], "released")
            self.assertEqual(r["host"], HOST)
            self.assertLessEqual(r["queued"], r["started"])
            self.assertGreaterEqual(r["hold"], 0)
            self.assertEqual(r["requirements"], {"id": "b1", "hostname": HOST, "online": True})
        table = self.run_ok("--history").stdout
        self.assertIn("exit 3", table)
        self.assertIn("signal 15", table)

    def test_killed_holder_is_closed_as_ended_without_release(self):
        proc = self.start(self.args("--requirements", "id=b1", "--", sys.executable, "-c",
                                    cli_support.RUN_UNTIL_STDIN_CLOSES), start_new_session=True)
        self.assertEqual(read_line(proc.stdout, "ready"), "ready\n")
        records, _ = self.history()
        self.assertEqual([r["ending"] for r in records], ["held"])
        os.killpg(proc.pid, signal.SIGKILL)  # lockable and its command: nobody releases
        proc.wait()
        records, _ = self.history()
        self.assertEqual([r["ending"] for r in records], ["ended without release"])
        self.assertIsNone(records[0]["ended"])
        self.assertTrue(records[0]["failed"])
        # The next holder of b1 bounds the killed one's end.
        self.assertEqual(self.lock_and_run("true").returncode, 0)
        records, _ = self.history()
        self.assertEqual([r["ending"] for r in records], ["ended without release", "released"])
        self.assertEqual(records[0]["ended"], records[1]["started"])

    def test_plugin_records_test_counts_and_failed_names(self):
        result = subprocess.run(
            [PROBE, "--lockable_resources=" + self.inventory, "--lockable_lock_folder=" + self.locks,
             "--lockable_hostname=" + HOST, "--lockable_requirements=type=board"],
            env=clean_environment(), capture_output=True, text=True, timeout=HANG_GUARD)
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        records, _ = self.history()
        self.assertEqual(len(records), 1)
        r = records[0]
        self.assertEqual((r["passed"], r["failed_count"], r["skipped"]), (3, 2, 0))
        self.assertEqual(r["failed_tests"], ["ledger_probe.fails_one", "ledger_probe.fails_two"])
        self.assertTrue(r["failed"])
        self.assertIn("2 of 5 tests failed: ledger_probe.fails_one ledger_probe.fails_two",
                      r["outcome"])

    def test_stats_count_allocations_failures_and_last_failing_runs(self):
        for command in (["true"], ["sh", "-c", "exit 1"], ["true"], ["sh", "-c", "exit 2"]):
            self.lock_and_run(*command)
        self.lock_and_run("true", requirements="id=b2")
        stats = json.loads(self.run_ok("--stats", "--json").stdout)
        by = {s["resource"]: s for s in stats["resources"]}
        self.assertEqual(by["b1"]["allocations"], 4)
        self.assertEqual((by["b1"]["failed"], by["b1"]["judged"]), (2, 4))
        self.assertEqual([f.get("exit") for f in by["b1"]["last_failures"]], [2, 1])
        self.assertEqual((by["b2"]["allocations"], by["b2"]["failed"]), (1, 0))
        self.assertGreater(by["b1"]["utilisation"], 0)
        only = json.loads(self.run_ok("--stats", "--json", "--resource", "b2").stdout)
        self.assertEqual([s["resource"] for s in only["resources"]], ["b2"])
        text = self.run_ok("--stats").stdout
        self.assertRegex(text, r"b1\s+4\s")
        self.assertIn("last failing runs:", text)
        # --since: a period that ends before now holds nothing older.
        self.assertEqual(self.history("--since", "2099-01-01")[0], [])
        self.assertEqual(len(self.history("--since", "1h")[0]), 5)

    def test_ci_job_is_recorded_and_no_other_environment_value(self):
        env = clean_environment(GITHUB_RUN_ID="777", GITHUB_RUN_ATTEMPT="2", GITHUB_JOB="build",
                                SECRET_TOKEN="hunter2-do-not-record")
        self.assertEqual(self.lock_and_run("true", env=env).returncode, 0)
        records, _ = self.history()
        self.assertEqual(records[0]["job"], "github:777/2/build")
        with open(self.ledger) as f:
            self.assertNotIn("hunter2", f.read())

    def test_ledger_off(self):
        env = clean_environment(LOCKABLE_LEDGER="off")
        self.assertEqual(self.lock_and_run("true", env=env).returncode, 0)
        self.assertFalse(os.path.exists(os.path.dirname(self.ledger)))
        self.assert_one_error_line(self.run_lockable(self.args("--ledger", "maybe", "--", "true")),
                                   64, "--ledger", "give on or off")


class hostile_test(ledger_case):
    def prepare(self):
        os.makedirs(os.path.dirname(self.ledger), exist_ok=True)

    def assert_locks_with_one_warning(self, *parts):
        result = self.run_lockable(self.args("--requirements", "id=b1", "--quiet", "--", "true"))
        self.assertEqual(result.returncode, 0, result.stderr)
        lines = result.stderr.splitlines()
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertTrue(lines[0].startswith("lockable: warning: "), lines[0])
        for part in parts:
            self.assertIn(part, lines[0])
        self.assert_free("b1")

    def test_truncated_record_is_skipped_and_the_next_stays_whole(self):
        self.assertEqual(self.lock_and_run("true").returncode, 0)
        with open(self.ledger, "a") as f:
            f.write('{"v":1,"ev":"start","alloc_id":"cut-he')  # a writer died mid-record
        result = self.lock_and_run("sh", "-c", "exit 5")
        self.assertEqual((result.returncode, result.stderr), (5, ""))
        records, err = self.history()
        self.assertEqual([r.get("exit") for r in records], [0, 5])
        self.assertIn("skipped 1 of 5 lines", err)
        self.assertIn("line 3", err)
        self.assertEqual(len(err.splitlines()), 1, err)

    def test_garbage_ledger(self):
        self.prepare()
        with open(self.ledger, "wb") as f:
            f.write(os.urandom(3000) + b"\n\x00\xff{\"ev\":\n" + b"[" * 100000 + b"\n{}\n")
        result = self.lock_and_run("true")
        self.assertEqual((result.returncode, result.stderr), (0, ""))
        records, err = self.history()
        self.assertEqual(len(records), 1)
        self.assertRegex(err, r"skipped \d+ of \d+ lines")
        for mode in (["--stats"], ["--metrics", "-"], ["--report", "-"]):
            result = self.run_lockable(self.args(*mode))
            self.assertEqual(result.returncode, 0, result.stderr)

    def test_ledger_file_is_a_symlink(self):
        self.prepare()
        target = os.path.join(self.dir, "precious")
        with open(target, "w") as f:
            f.write("keep me\n")
        os.symlink(target, self.ledger)
        self.assert_locks_with_one_warning("symbolic link", "LOCKABLE_LEDGER=off")
        with open(target) as f:
            self.assertEqual(f.read(), "keep me\n")
        result = self.run_lockable(self.args("--history"))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("symbolic link", result.stderr)

    def test_ledger_folder_is_a_symlink(self):
        os.makedirs(self.locks)
        os.symlink(self.dir, os.path.dirname(self.ledger))
        self.assert_locks_with_one_warning("is not a folder")
        self.assertFalse(os.path.exists(os.path.join(self.dir, "ledger.jsonl")))

    def test_ledger_is_a_directory(self):
        self.prepare()
        os.mkdir(self.ledger)
        self.assert_locks_with_one_warning("ledger.jsonl")

    @unittest.skipUnless(shutil.which("setpriv") and os.geteuid() == 0, "needs root and setpriv")
    def test_ledger_not_writable_by_this_user(self):
        # As root permission bits do not apply: a lock folder that nobody may write in, with a
        # ledger only root may write.
        os.makedirs(self.locks)
        os.chmod(self.dir, 0o755)
        os.chmod(self.locks, 0o777)
        self.prepare()
        with open(self.ledger, "w"):
            pass
        os.chmod(os.path.dirname(self.ledger), 0o755)
        os.chmod(self.ledger, 0o644)
        os.chmod(self.inventory, 0o644)
        result = subprocess.run(
            ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] +
            self.args("--requirements", "id=b1", "--quiet", "--", "true"),
            env=clean_environment(), capture_output=True, text=True, timeout=HANG_GUARD)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(len(result.stderr.splitlines()), 1, result.stderr)
        self.assertIn("Permission denied", result.stderr)
        self.assert_free("b1")

    def test_bad_reader_options(self):
        self.assert_one_error_line(self.run_lockable(self.args("--history", "--since", "soon")),
                                   64, "--since", "2026-12-01")
        self.assert_one_error_line(self.run_lockable(self.args("--since", "1h", "--", "true")),
                                   64, "--since")
        self.assert_one_error_line(self.run_lockable(self.args("--history", "--stats")), 64,
                                   "cannot be combined")
        self.assert_one_error_line(self.run_lockable(self.args("--report")), 64, "needs a value")
        missing = os.path.join(self.dir, "no", "such", "report.html")
        self.assert_one_error_line(self.run_lockable(self.args("--report", missing)), 64,
                                   "cannot write")


class concurrency_test(ledger_case):
    WRITERS = 8
    LOCKS = 30

    def writers(self, *extra):
        """WRITERS processes, each running LOCKS `lockable` one after another, with its number
        and round in the CI job id (`github:WRITER/ROUND`)."""
        script = ('for i in $(seq %d); do GITHUB_RUN_ID=$W GITHUB_RUN_ATTEMPT=$i "$@" || exit 1; '
                  'done' % self.LOCKS)
        procs = []
        for w in range(self.WRITERS):
            env = clean_environment(W=str(w))
            procs.append(subprocess.Popen(
                ["sh", "-c", script, "sh"] + self.args(
                    "--requirements", "type=board", "--timeout", "60", "--quiet", *extra,
                    "--", "true"), env=env, stderr=subprocess.PIPE, text=True))
        for p in procs:
            _, err = p.communicate(timeout=120)
            self.assertEqual(p.returncode, 0, err)
            self.assertEqual(err, "")

    def test_concurrent_writers_lose_and_tear_nothing(self):
        self.writers()
        records, err = self.history()
        self.assertEqual(err, "", "no line skipped")
        self.assertEqual(len(records), self.WRITERS * self.LOCKS)
        self.assertTrue(all(r["ending"] == "released" and r.get("exit") == 0 for r in records))
        self.assertEqual(sorted(r["job"] for r in records),
                         sorted("github:%d/%d" % (w, i) for w in range(self.WRITERS)
                                for i in range(1, self.LOCKS + 1)))
        # Each resource's holds, as the ledger has them, never overlap.
        for rid in ("b1", "b2"):
            holds = sorted((r["started"], r["ended"]) for r in records if r["resource"] == rid)
            for (_, end), (start, _) in zip(holds, holds[1:]):
                self.assertLessEqual(end, start)

    def test_rotation_with_concurrent_writers(self):
        # 8K: files of 4K, about 8 allocations each; the run rotates some 60 times.
        self.writers("--ledger-size", "8K")
        folder = os.path.dirname(self.ledger)
        self.assertEqual(sorted(os.listdir(folder)), ["ledger.1.jsonl", "ledger.jsonl"])
        for name in os.listdir(folder):
            with open(os.path.join(folder, name)) as f:
                text = f.read()
            self.assertTrue(text.endswith("\n"))
            self.assertLess(len(text), 4096 + 2000, name)
            for line in text.splitlines():
                json.loads(line)  # every line whole
        records, err = self.history("--ledger-size", "8K")
        self.assertNotIn("not a ledger record", err)
        self.assertGreater(len(records), 4)
        # Rotation drops the oldest file only: of each writer, the kept rounds are its newest
        # ones, without a gap (a record written into a file already dropped would make one).
        rounds = {}
        for r in records:
            writer, round_ = map(int, r["job"].split(":")[1].split("/"))
            rounds.setdefault(writer, []).append(round_)
        for writer, kept in rounds.items():
            self.assertEqual(sorted(kept), list(range(self.LOCKS - len(kept) + 1, self.LOCKS + 1)),
                             "writer %d" % writer)


class metrics_test(ledger_case):
    def test_prometheus_text_format(self):
        try:
            from prometheus_client.parser import text_string_to_metric_families
        except ImportError:  # an interpreter of its own (pyenv): Debian's python3-prometheus-client
            sys.path.append("/usr/lib/python3/dist-packages")
            from prometheus_client.parser import text_string_to_metric_families
        self.lock_and_run("true")
        self.lock_and_run("sh", "-c", "exit 1")
        holder = self.hold("b2")
        path = os.path.join(self.dir, "lockable.prom")
        self.run_ok("--metrics", path)
        with open(path) as f:
            text = f.read()
        holder.stdin.close()
        holder.wait()
        families = {f.name: f for f in text_string_to_metric_families(text)}
        samples = {}
        for family in families.values():
            for s in family.samples:
                samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
        state = {(dict(k[1])["resource"], dict(k[1])["state"]): v for k, v in samples.items()
                 if k[0] == "lockable_resource_state"}
        self.assertEqual(state[("b1", "free")], 1)
        self.assertEqual(state[("b2", "held")], 1)
        self.assertEqual(state[("b3", "quarantined")], 1)
        self.assertEqual(samples[("lockable_allocations_total", (("resource", "b1"),))], 2)
        self.assertEqual(samples[("lockable_failures_total", (("resource", "b1"),))], 1)
        self.assertEqual(families["lockable_wait_seconds"].type, "histogram")
        self.assertEqual(samples[("lockable_hold_seconds_count", (("resource", "b1"),))], 2)
        self.assertEqual(samples[("lockable_wait_seconds_bucket", (("le", "+Inf"),
                                                                   ("resource", "b2")))], 1)
        self.assertFalse([n for n in os.listdir(self.dir) if ".tmp." in n], "no temporary left")


class report_test(ledger_case):
    def chromium(self, url, *extra):
        browser = shutil.which("chromium")
        self.assertIsNotNone(browser, "chromium is needed (scripts/install-deps --tests)")
        result = subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr",
             "--v=0", "--user-data-dir=" + os.path.join(self.dir, "chromium")] + list(extra) +
            [url], capture_output=True, text=True, timeout=120)
        self.assertEqual(result.returncode, 0, result.stderr[-2000:])
        console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
        return result.stdout, console

    def test_console_errors_are_seen(self):
        # The check below must be able to fail: a page with a script error shows in it.
        page = os.path.join(self.dir, "broken.html")
        with open(page, "w") as f:
            f.write("<html><body><script>undefined_function()</script></body></html>")
        _, console = self.chromium("file://" + page, "--dump-dom")
        self.assertTrue(any("undefined_function" in line for line in console), console)

    def test_report_of_50_resources_and_10000_allocations(self):
        os.makedirs(os.path.dirname(self.ledger))
        per = synthetic_ledger(self.ledger, resources=50, allocations=10000)
        page = os.path.join(self.dir, "report.html")
        began = time.monotonic()
        self.run_ok("--report", page)
        took = time.monotonic() - began
        with open(page) as f:
            html = f.read()
        # Self-contained: nothing to fetch.
        self.assertIsNone(re.search(r"<(script|link|img|iframe)\b|url\(|@import", html))
        self.assertEqual(re.findall(r"https?://[^\"' ]+", html),
                         ["http://www.w3.org/2000/svg"] * html.count('xmlns="http'))
        dom, console = self.chromium("file://" + page, "--dump-dom")
        self.assertEqual(console, [])
        timeline = dom[dom.index('<svg id="timeline"'):]
        timeline = timeline[:timeline.index("</svg>")]
        self.assertEqual(timeline.count('<rect class="alloc '), sum(per.values()))
        self.assertEqual(len(re.findall(r'<text class="label"[^>]*>board-\d\d</text>', timeline)),
                         50)
        self.assertIn('<table id="stats">', dom)
        shot = os.path.join(OUT, "ledger_report.png")
        if os.path.exists(shot):
            os.unlink(shot)
        self.chromium("file://" + page, "--screenshot=" + shot, "--window-size=1280,1600",
                      "--hide-scrollbars")
        self.assertGreater(os.path.getsize(shot), 10000)
        print("report: %d bytes, written in %.2f s; screenshot %s" % (len(html), took, shot))


def main():
    global PROBE, OUT
    args = sys.argv[1:]
    try:
        exe = args[args.index("--lockable") + 1]
        PROBE = os.path.abspath(args[args.index("--probe") + 1])
        OUT = os.path.abspath(args[args.index("--out") + 1])
    except (ValueError, IndexError):
        sys.exit("usage: %s --lockable PATH --probe PATH --out DIR [unittest arguments]" %
                 sys.argv[0])
    rest = [a for i, a in enumerate(args)
            if a not in ("--lockable", "--probe", "--out") and
            (i == 0 or args[i - 1] not in ("--lockable", "--probe", "--out"))]
    cli_support.lockable_case.exe = os.path.abspath(exe)
    unittest.main(argv=[sys.argv[0]] + rest)


if __name__ == "__main__":
    main()
