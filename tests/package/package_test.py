#!/usr/bin/env python3
"""Package tests: consume gtest_lockable as users do and check what CTest sees.

  package_test.py install   --build-dir B --prefix P
  package_test.py consumer  --mode find_package|add_subdirectory|fetchcontent --work W ...
  package_test.py scheduling --prefix P --work W
  package_test.py two_calls  --prefix P --work W
  package_test.py core_only  --prefix P --work W

Each configures, builds and runs a small project with the cmake and ctest that run this script.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def run(cmd, **kwargs):
    print("+ " + " ".join(cmd), flush=True)
    result = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            **kwargs)
    if result.returncode != 0:
        print(result.stdout)
        sys.exit("failed (exit %d): %s" % (result.returncode, " ".join(cmd)))
    return result.stdout


def configure_and_build(args, source, build, defines):
    cmd = [args.cmake, "-S", source, "-B", build, "-G", "Ninja",
           "-DCMAKE_BUILD_TYPE=Debug", "-DCMAKE_CXX_COMPILER=" + args.cxx]
    if args.cxx_flags:
        cmd.append("-DCMAKE_CXX_FLAGS=" + args.cxx_flags)
    cmd += ["-D%s=%s" % item for item in defines.items()]
    run(cmd)
    run([args.cmake, "--build", build, "-j2"])


def expect(condition, message):
    if not condition:
        sys.exit("FAILED: " + message)


def install(args):
    shutil.rmtree(args.prefix, ignore_errors=True)
    run([args.cmake, "--install", args.build_dir, "--prefix", args.prefix])
    for path in ["lib/cmake/gtest_lockable/gtest_lockableConfig.cmake",
                 "lib/cmake/gtest_lockable/gtest_lockableConfigVersion.cmake",
                 "lib/cmake/gtest_lockable/GtestLockable.cmake",
                 "include/gtest_lockable/lockable.hpp", "include/gtest_lockable/gtest.hpp",
                 "bin/lockable"]:
        expect(os.path.exists(os.path.join(args.prefix, path)), "not installed: " + path)


def consumer(args):
    build = os.path.join(args.work, "consumer-" + args.mode)
    shutil.rmtree(build, ignore_errors=True)
    locks = tempfile.mkdtemp(prefix="package_test_locks.")
    try:
        defines = {"MODE": args.mode, "LOCK_FOLDER": locks}
        if args.mode == "find_package":
            defines["CMAKE_PREFIX_PATH"] = args.prefix
        else:
            defines["GTEST_LOCKABLE_SOURCE_DIR"] = args.source_dir
        configure_and_build(args, os.path.join(HERE, "consumer"), build, defines)
        out = run([args.ctest, "--test-dir", build, "-j2", "--output-on-failure"])
        print(out)
        expect("100% tests passed, 0 tests failed out of 4" in out, "consumer suite did not pass")
        if args.mode == "find_package":
            check_show_only(args, build, locks)
    finally:
        shutil.rmtree(locks, ignore_errors=True)


def check_show_only(args, build, locks):
    """What gtest_lockable_discover_tests registered, as `ctest --show-only=json-v1` lists it."""
    listing = json.loads(run([args.ctest, "--test-dir", build, "--show-only=json-v1"]))
    tests = {t["name"]: t for t in listing["tests"]}
    expect("consumer_test.holds_a_board" in tests, "discovered tests missing: %s" % list(tests))
    test = tests["consumer_test.holds_a_board"]
    inventory = os.path.join(HERE, "consumer", "resources.json")
    for arg in ["--gtest_filter=consumer_test.holds_a_board",
                "--lockable_resources=" + inventory, "--lockable_lock_folder=" + locks,
                "--lockable_hostname=localhost", "--lockable_timeout=30"]:
        expect(arg in test["command"], "%s not in %s" % (arg, test["command"]))
    props = {p["name"]: p["value"] for p in test["properties"]}
    expect(props.get("ENVIRONMENT") == ["CONSUMER_A=1", "CONSUMER_B=2"],
           "ENVIRONMENT kept whole: %s" % props.get("ENVIRONMENT"))
    expect(sorted(props.get("LABELS", [])) == ["consumer", "locked"], "LABELS: %s" % props.get("LABELS"))
    expect(props.get("RESOURCE_GROUPS") == [{"requirements": [{".type": "boards", "slots": 1}]}],
           "RESOURCE_GROUPS: %s" % props.get("RESOURCE_GROUPS"))
    with open(os.path.join(build, "gtest_lockable_resource_spec.json")) as f:
        spec = json.load(f)
    expect(spec["local"][0]["boards"] == [{"id": "board_a", "slots": 1},
                                          {"id": "board_b", "slots": 1}],
           "resource spec: %s" % spec)


def two_calls(args):
    """One target, two gtest_lockable_discover_tests calls: each call's tests get its properties."""
    build = os.path.join(args.work, "two_calls")
    shutil.rmtree(build, ignore_errors=True)
    locks = tempfile.mkdtemp(prefix="package_test_locks.")
    try:
        configure_and_build(args, os.path.join(HERE, "two_calls"), build, {
            "CMAKE_PREFIX_PATH": args.prefix, "LOCK_FOLDER": locks})
        listing = json.loads(run([args.ctest, "--test-dir", build, "--show-only=json-v1"]))
        tests = {t["name"]: t for t in listing["tests"]}
        expect(sorted(tests) == ["one.first.gets_the_first_calls_properties",
                                 "two.second.gets_the_second_calls_properties"],
               "registered tests: %s" % sorted(tests))
        one = tests["one.first.gets_the_first_calls_properties"]
        two = tests["two.second.gets_the_second_calls_properties"]
        one_props = {p["name"]: p["value"] for p in one["properties"]}
        two_props = {p["name"]: p["value"] for p in two["properties"]}
        expect(one_props.get("LABELS") == ["call_one"], "call one LABELS: %s" % one_props)
        expect(two_props.get("LABELS") == ["call_two"], "call two LABELS: %s" % two_props)
        expect("RESOURCE_GROUPS" not in one_props, "call one has no pool: %s" % one_props)
        expect(two_props.get("RESOURCE_GROUPS") == [{"requirements": [{".type": "boards",
                                                                       "slots": 1}]}],
               "call two RESOURCE_GROUPS: %s" % two_props.get("RESOURCE_GROUPS"))
        # Without LOCK_FOLDER (and an empty GTEST_LOCKABLE_LOCK_FOLDER) no flag is passed: the
        # plugin's default applies when the test runs.
        expect(not any(a.startswith("--lockable_lock_folder") for a in one["command"]),
               "call one passes a lock folder: %s" % one["command"])
        expect("--lockable_lock_folder=" + locks in two["command"],
               "call two's lock folder: %s" % two["command"])
        out = run([args.ctest, "--test-dir", build, "-j2", "--output-on-failure"])
        print(out)
        expect("100% tests passed, 0 tests failed out of 2" in out, "two-call suite did not pass")

        # A GTEST_LOCKABLE_LOCK_FOLDER the user sets is the folder of every call without one.
        cached = os.path.join(args.work, "two_calls-cached_folder")
        shutil.rmtree(cached, ignore_errors=True)
        configure_and_build(args, os.path.join(HERE, "two_calls"), cached, {
            "CMAKE_PREFIX_PATH": args.prefix, "LOCK_FOLDER": locks,
            "GTEST_LOCKABLE_LOCK_FOLDER": locks})
        listing = json.loads(run([args.ctest, "--test-dir", cached, "--show-only=json-v1"]))
        tests = {t["name"]: t for t in listing["tests"]}
        one = tests["one.first.gets_the_first_calls_properties"]
        expect("--lockable_lock_folder=" + locks in one["command"],
               "GTEST_LOCKABLE_LOCK_FOLDER not passed: %s" % one["command"])
    finally:
        shutil.rmtree(locks, ignore_errors=True)


def core_only(args):
    """A consumer of only the core, configured without GoogleTest, with and without COMPONENTS."""
    locks = tempfile.mkdtemp(prefix="package_test_locks.")
    try:
        for components in ["", "core"]:
            build = os.path.join(args.work, "core_only-" + (components or "default"))
            shutil.rmtree(build, ignore_errors=True)
            configure_and_build(args, os.path.join(HERE, "core_only"), build, {
                "CMAKE_PREFIX_PATH": args.prefix, "LOCK_FOLDER": locks, "COMPONENTS": components,
                "CMAKE_DISABLE_FIND_PACKAGE_GTest": "ON"})
            out = run([args.ctest, "--test-dir", build, "--output-on-failure"])
            print(out)
            expect("100% tests passed, 0 tests failed out of 2" in out,
                   "core-only consumer (COMPONENTS '%s') did not pass" % components)
    finally:
        shutil.rmtree(locks, ignore_errors=True)


def read_holds(path):
    holds = []
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                rid, start, end, queue_ms = line.split()
                holds.append((rid, int(start), int(end), float(queue_ms)))
    return holds


def check_no_overlap(holds):
    by_resource = {}
    for rid, start, end, _ in holds:
        by_resource.setdefault(rid, []).append((start, end))
    for rid, spans in by_resource.items():
        spans.sort()
        for (s1, e1), (s2, e2) in zip(spans, spans[1:]):
            expect(s2 >= e1, "%s held twice at once: %s and %s" % (rid, (s1, e1), (s2, e2)))


def max_concurrency(holds):
    events = sorted([(s, 1) for _, s, _, _ in holds] + [(e, -1) for _, _, e, _ in holds])
    now = peak = 0
    for _, delta in events:
        now += delta
        peak = max(peak, now)
    return peak


def scheduling(args):
    locks = tempfile.mkdtemp(prefix="package_test_locks.")
    builds = [os.path.join(args.work, "scheduling-%d" % i) for i in (1, 2)]
    logs = [os.path.join(args.work, "holds-%d.log" % i) for i in (1, 2)]
    try:
        for build, log in zip(builds, logs):
            shutil.rmtree(build, ignore_errors=True)
            configure_and_build(args, os.path.join(HERE, "scheduling"), build, {
                "CMAKE_PREFIX_PATH": args.prefix, "LOCK_FOLDER": locks, "HOLD_LOG": log,
                "HOLD_MS": "1000",
                "INVENTORY": os.path.join(HERE, "scheduling", "resources.json")})
        for log in logs:
            if os.path.exists(log):
                os.unlink(log)

        # One ctest: CTest runs at most two at once, each on a free board: nobody waits.
        out = run([args.ctest, "--test-dir", builds[0], "-j6", "--output-on-failure"])
        expect("100% tests passed, 0 tests failed out of 6" in out, "scheduled suite failed")
        holds = read_holds(logs[0])
        expect(len(holds) == 6, "expected 6 holds, got %d" % len(holds))
        check_no_overlap(holds)
        expect(max_concurrency(holds) <= 2, "more than two tests ran at once")
        waits = [q for _, _, _, q in holds]
        print("queue times (ms) with one ctest: %s" % ", ".join("%.1f" % q for q in waits))
        # A hold lasts 1000 ms: a test that waited for a lock would have waited about that long.
        expect(max(waits) < 500, "a test waited on a lock: %s" % waits)

        # Two ctests of two build trees at once: CTest cannot see the other, the locks do.
        for log in logs:
            os.unlink(log) if os.path.exists(log) else None
        procs = [subprocess.Popen([args.ctest, "--test-dir", b, "-j6", "--output-on-failure"],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                 for b in builds]
        outs = [p.communicate()[0] for p in procs]
        for out in outs:
            expect("100% tests passed, 0 tests failed out of 6" in out, "concurrent ctest: " + out)
        holds = read_holds(logs[0]) + read_holds(logs[1])
        expect(len(holds) == 12, "expected 12 holds, got %d" % len(holds))
        check_no_overlap(holds)
        expect(max_concurrency(holds) <= 2, "more tests at once than boards")
        print("two ctests: 12 holds, no overlap, at most %d at once" % max_concurrency(holds))
    finally:
        shutil.rmtree(locks, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["install", "consumer", "scheduling", "two_calls",
                                          "core_only"])
    parser.add_argument("--cmake", default="cmake")
    parser.add_argument("--ctest", default="ctest")
    parser.add_argument("--cxx", default="c++")
    parser.add_argument("--cxx-flags", default="", help="the build's sanitizer flags, if any")
    parser.add_argument("--build-dir")
    parser.add_argument("--source-dir")
    parser.add_argument("--prefix")
    parser.add_argument("--work")
    parser.add_argument("--mode")
    args = parser.parse_args()
    {"install": install, "consumer": consumer, "scheduling": scheduling, "two_calls": two_calls,
     "core_only": core_only}[args.what](args)
    print("PASSED")


if __name__ == "__main__":
    main()
