#!/usr/bin/env python3
"""Integration tests of `lockable --lock-server`: locks kept in a real etcd on 127.0.0.1, and what
happens to the command when etcd goes away while it runs."""
import json
import os
import signal
import sys
import time
import unittest

import etcd_support
from cli_support import (HANG_GUARD, SIGNAL_REPORTER, RUN_UNTIL_STDIN_CLOSES, clean_environment,
                         lockable_case, main, read_line)


@unittest.skipUnless(etcd_support.available(), "install Debian's etcd-server to run these tests")
class lock_server_test(lockable_case):
    def setUp(self):
        super().setUp()
        self.etcd = etcd_support.etcd_server()
        self.addCleanup(self.etcd.close)

    def server_args(self, *extra, **params):
        return self.args("--lock-server", self.etcd.uri(**params), *extra)

    def hold_through_etcd(self, child_script, **params):
        proc = self.start(self.server_args("--requirements", "id=b1", "--",
                                           sys.executable, "-c", child_script, **params))
        self.assertEqual(read_line(proc.stdout, "ready from the holder"), "ready\n")
        return proc

    def test_lock_excludes_other_lockables_and_status_shows_the_holder(self):
        holder = self.hold_through_etcd(RUN_UNTIL_STDIN_CLOSES)
        busy = self.run_lockable(self.server_args("--timeout", "0", "--requirements", "id=b1",
                                                  "--", "true"))
        self.assertEqual(busy.returncode, 75, busy.stderr)
        self.assertIn("b1 (held by PID %d on test-host since " % holder.pid, busy.stderr)
        status = self.run_lockable(self.server_args("--status", "--json"))
        self.assertEqual(status.returncode, 0, status.stderr)
        states = {entry["id"]: entry for entry in json.loads(status.stdout)}
        self.assertEqual(states["b1"]["state"], "held")
        self.assertEqual((states["b1"]["pid"], states["b1"]["host"]), (holder.pid, "test-host"))
        self.assertEqual(states["b2"]["state"], "free")
        table = self.run_lockable(self.server_args("--status"))
        self.assertRegex(table.stdout, r"\nb1 +held +%d +test-host +\d{4}-" % holder.pid)
        # The lock folder is not used at all.
        self.assertFalse(os.path.exists(self.locks))
        holder.stdin.close()
        self.assertEqual(holder.wait(timeout=HANG_GUARD), 0)
        after = self.run_lockable(self.server_args("--timeout", "0", "--requirements", "id=b1",
                                                   "--", "true"))
        self.assertEqual(after.returncode, 0, after.stderr)

    def test_variable_selects_the_lock_server(self):
        holder = self.hold_through_etcd(RUN_UNTIL_STDIN_CLOSES)
        env = clean_environment(LOCKABLE_LOCK_SERVER=self.etcd.uri())
        busy = self.run_lockable(self.args("--timeout", "0", "--requirements", "id=b1",
                                           "--", "true"), env=env)
        self.assertEqual(busy.returncode, 75, busy.stderr)
        self.assertIn("held by PID %d" % holder.pid, busy.stderr)

    def test_lost_lease_sends_sigterm_to_the_command_and_exits_76(self):
        holder = self.hold_through_etcd(SIGNAL_REPORTER, ttl=2, timeout=1)
        self.etcd.stop()
        out, err = holder.communicate(timeout=HANG_GUARD)
        self.assertEqual(holder.returncode, 76, err)
        self.assertEqual(out, b"got 15\n", "the command got SIGTERM")
        last = err.decode().splitlines()[-1]
        self.assertTrue(last.startswith("lockable: lost the lock of 'b1': "), last)
        self.assertIn("cannot reach etcd at 127.0.0.1:%d" % self.etcd.client_port, last)
        self.assertTrue(last.endswith("; sent SIGTERM to the command's process group"), last)

    def test_a_cut_off_holder_ends_its_command_before_another_client_gets_the_resource(self):
        # The holder reaches etcd through a proxy that is then cut; its command ignores SIGTERM,
        # so only the SIGKILL before the lease can expire ends it. A second client, connected
        # directly, takes the resource once etcd expires the lease, and checks at once that no
        # process of the first command's group is left.
        proxy = etcd_support.cuttable_proxy(self.etcd.client_port)
        self.addCleanup(proxy.close)
        through_proxy = "etcd://127.0.0.1:%d/test/locks?ttl=2&timeout=0.5" % proxy.port
        stubborn = ("import os, signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN);"
                    " print(os.getpgrp(), flush=True); time.sleep(60)")
        checker = ("import os, sys, time\n"
                   "try:\n    os.killpg(int(sys.argv[1]), 0); print('alive', time.monotonic())\n"
                   "except ProcessLookupError:\n    print('gone', time.monotonic())\n")
        gaps = []
        for _ in range(3):
            holder = self.start(self.args("--lock-server", through_proxy, "--requirements",
                                          "id=b1", "--", sys.executable, "-c", stubborn))
            group = int(read_line(holder.stdout, "the command's process group"))
            proxy.cut()
            cut_at = time.monotonic()
            contender = self.run_lockable(self.server_args(
                "--timeout", "30", "--requirements", "id=b1", "--",
                sys.executable, "-c", checker, str(group)))
            self.assertEqual(contender.returncode, 0, contender.stderr)
            state, started = contender.stdout.split()
            self.assertEqual(state, "gone", "the first command still ran when the second started")
            _, err = holder.communicate(timeout=HANG_GUARD)
            self.assertEqual(holder.returncode, 76, err)
            self.assertIn("; sent SIGTERM to the command's process group, then SIGKILL 0.6 s later",
                          err.decode())
            gaps.append(float(started) - cut_at)
            proxy.heal()
        print("second command started %s s after the cut" % ", ".join("%.2f" % g for g in gaps))

    def test_a_paused_holder_is_fenced_by_a_higher_token(self):
        printer = ("import os, sys; print(os.environ['LOCKABLE_FENCING_TOKEN'], flush=True);"
                   " sys.stdin.read()")
        holder = self.start(self.server_args("--requirements", "id=b1", "--",
                                             sys.executable, "-c", printer, ttl=2))
        first = int(read_line(holder.stdout, "the holder's token"))
        # lockable itself is paused (not its command): it renews nothing, its lease expires, and
        # a second client gets the resource while the first command still runs.
        os.kill(holder.pid, signal.SIGSTOP)
        try:
            second = self.run_lockable(self.server_args(
                "--timeout", "30", "--requirements", "id=b1", "--", sys.executable, "-c",
                "import os; print(os.environ['LOCKABLE_FENCING_TOKEN'])"))
        finally:
            os.kill(holder.pid, signal.SIGCONT)
        self.assertEqual(second.returncode, 0, second.stderr)
        self.assertGreater(int(second.stdout), first, "a service that keeps the highest token "
                                                      "seen refuses the paused holder")
        holder.stdin.close()
        self.assertEqual(holder.wait(timeout=HANG_GUARD), 76, "it learns that it lost the lock")
        # The lock folder gives none: a paused holder keeps its flock.
        plain = self.run_lockable(self.args("--", sys.executable, "-c",
                                            "import os; print('LOCKABLE_FENCING_TOKEN' in os.environ)"))
        self.assertEqual(plain.stdout, "False\n", plain.stderr)

    def test_signal_while_waiting_gives_up_holding_nothing(self):
        holder = self.hold_through_etcd(RUN_UNTIL_STDIN_CLOSES)
        waiter = self.start(self.server_args("--timeout", "60", "--requirements", "id=b1",
                                             "--", "true"))
        self.assertIn("lockable: waiting for ", read_line(waiter.stderr, "the waiting line"))
        sent = time.monotonic()
        waiter.send_signal(signal.SIGTERM)
        self.assertEqual(waiter.wait(timeout=HANG_GUARD), 128 + signal.SIGTERM)
        # Measured, not asserted: the etcd store waits in an HTTP read that a signal does not
        # interrupt, so only the handler's exit makes this immediate.
        print("waiter gone %.3f s after SIGTERM" % (time.monotonic() - sent))
        holder.stdin.close()
        self.assertEqual(holder.wait(timeout=HANG_GUARD), 0)
        after = self.run_lockable(self.server_args("--timeout", "0", "--requirements", "id=b1",
                                                   "--", "true"))
        self.assertEqual(after.returncode, 0, after.stderr)

    def test_unreachable_server_is_reported_with_the_endpoint(self):
        self.etcd.stop()
        result = self.run_lockable(self.server_args("--", "true", timeout=0.3))
        self.assert_one_error_line(result, 74, "cannot reach etcd at 127.0.0.1:%d (cannot connect)"
                                   % self.etcd.client_port)
        status = self.run_lockable(self.server_args("--status", timeout=0.3))
        self.assert_one_error_line(status, 74, "cannot reach etcd")

    def test_bad_uri_is_a_usage_error(self):
        result = self.run_lockable(self.args("--lock-server", "etcd://h:99999", "--", "true"))
        self.assert_one_error_line(result, 64, "invalid lock server URI 'etcd://h:99999'",
                                   "not a number from 1 to 65535")


if __name__ == "__main__":
    main()
