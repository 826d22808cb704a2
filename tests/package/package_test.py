#!/usr/bin/env python3
"""Package tests: consume gtest_lockable as users do and check what CTest sees.

  package_test.py install   --build-dir B --prefix P
  package_test.py consumer  --mode find_package|add_subdirectory|fetchcontent --work W ...
  package_test.py scheduling --prefix P --work W
  package_test.py two_calls  --prefix P --work W
  package_test.py core_only  --prefix P --work W
  package_test.py per_test   --prefix P --work W
  package_test.py man        --lockable L --page lockable.1.gz
  package_test.py completion --bindir D --script lockable.bash
  package_test.py deb        --build-dir B --cpack CPACK --work W
  package_test.py install_deps --source-dir S

Each configures, builds and runs a small project with the cmake and ctest that run this script.
"""
import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

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


def cache_value(build_dir, name):
    with open(os.path.join(build_dir, "CMakeCache.txt")) as f:
        for line in f:
            key, _, value = line.rstrip("\n").partition("=")
            if key.split(":")[0] == name:
                return value
    sys.exit("FAILED: %s not in %s/CMakeCache.txt" % (name, build_dir))


def installed_files(build_dir):
    """What an installation of build_dir has, relative to its prefix."""
    libdir = cache_value(build_dir, "CMAKE_INSTALL_LIBDIR")
    cmakedir = cache_value(build_dir, "GTEST_LOCKABLE_INSTALL_CMAKEDIR")
    return [cmakedir + "/gtest_lockableConfig.cmake",
            cmakedir + "/gtest_lockableConfigVersion.cmake",
            cmakedir + "/GtestLockable.cmake",
            libdir + "/libgtest_lockable_core.a",
            libdir + "/libgtest_lockable_http.so", libdir + "/libgtest_lockable_regex.so",
            libdir + "/pkgconfig/gtest_lockable.pc",
            "include/gtest_lockable/lockable.hpp", "include/gtest_lockable/gtest.hpp",
            "bin/lockable", "share/man/man1/lockable.1.gz",
            "share/bash-completion/completions/lockable"]


def install(args):
    shutil.rmtree(args.prefix, ignore_errors=True)
    run([args.cmake, "--install", args.build_dir, "--prefix", args.prefix])
    for path in installed_files(args.build_dir):
        expect(os.path.exists(os.path.join(args.prefix, path)), "not installed: " + path)


def consumer(args, name=None):
    build = os.path.join(args.work, name or "consumer-" + args.mode)
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
        expect("--lockable_timeout=30s" in two["command"],
               "call two's timeout with a unit: %s" % two["command"])
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

def install_deps(args):
    """scripts/install-deps with apt-get, dpkg-query and sudo faked: what it would install."""
    fake = tempfile.mkdtemp(prefix="package_test_apt.")
    try:
        log = os.path.join(fake, "apt.log")
        for name, body in [("dpkg-query", "exit 1"),  # nothing is installed
                           ("apt-get", 'echo "$@" >> "%s"' % log), ("sudo", 'exec "$@"')]:
            with open(os.path.join(fake, name), "w") as f:
                f.write("#!/bin/sh\n%s\n" % body)
            os.chmod(os.path.join(fake, name), 0o755)
        env = dict(os.environ, PATH=fake + os.pathsep + os.environ["PATH"])
        script = os.path.join(args.source_dir, "scripts", "install-deps")

        def requested(*flags):
            if os.path.exists(log):
                os.unlink(log)
            run(["bash", script] + list(flags), env=env)
            with open(log) as f:
                return [w for line in f if "install" in line.split() for w in line.split()
                        if not w.startswith("-") and w != "install"]
        main_job = requested()
        for p in ["cmake", "libgtest-dev", "nlohmann-json3-dev", "dpkg-dev", "file"]:
            expect(p in main_job, "install-deps does not install %s: %s" % (p, main_job))
        for p in ["etcd-server", "etcd-client", "man-db", "openssl", "libbenchmark-dev"]:
            expect(p not in main_job, "install-deps without --tests installs %s" % p)
        tests = requested("--tests")
        expect({"etcd-server", "etcd-client", "man-db", "openssl"} <= set(tests),
               "install-deps --tests: %s" % tests)
        expect("libbenchmark-dev" in requested("--bench"), "install-deps --bench")
        bad = subprocess.run(["bash", script, "--frobnicate"], env=env, capture_output=True,
                             text=True)
        expect(bad.returncode == 64 and len(bad.stderr.splitlines()) == 1 and
               "--frobnicate" in bad.stderr, "install-deps --frobnicate: %r" % (bad,))
        with open(os.path.join(args.source_dir, ".ci", "run")) as f:
            expect("bash scripts/install-deps --tests\n" in f.read(), ".ci/run passes no --tests")
        print("install-deps: %d packages, %d with --tests" % (len(main_job), len(tests)))
    finally:
        shutil.rmtree(fake, ignore_errors=True)


def help_options(help_text):
    return re.findall(r"^  (--?[a-z][a-z0-9-]*)", help_text, re.M)


def man(args, lockable=None, page=None):
    """`man -l` renders lockable(1), and the page says what `lockable --help` says."""
    lockable, page = lockable or args.lockable, page or args.page
    help_text = run([lockable, "--help"])
    env = dict(os.environ, MANWIDTH="100", MANPAGER="cat", PAGER="cat", LC_ALL="C.UTF-8")
    rendered = run(["man", "-l", page], env=env)
    # Words groff hyphenated at a line end, joined again.
    rendered = re.sub("\u2010\n\\s*", "", rendered)
    for section in ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "EXAMPLE"]:
        expect(re.search("^" + section + "$", rendered, re.M), "no %s in the page" % section)
    options = help_options(help_text)
    expect(len(options) >= 10, "--help lists no options: %s" % options)
    page_options = set(re.findall(r"^ {7}(--?[a-z][a-z0-9-]*)", rendered, re.M))
    expect(set(options) == page_options,
           "options: --help has %s, the page %s" % (sorted(options), sorted(page_options)))
    # Every word of --help (but its headings) is in the page.
    body = [line for line in help_text.splitlines() if not re.match(r"^\S.*:$", line)]
    words = set(re.findall(r"\S+", "\n".join(body).replace("Usage:", "")))
    missing = words - set(re.findall(r"\S+", rendered))
    expect(not missing, "words of --help not in the page: %s" % sorted(missing))
    print("man -l: %d options, %d words of --help, all in the page" % (len(options), len(words)))


def completion(args, bindir=None, script=None):
    """The bash completion, run under bash with the lockable it completes for on PATH."""
    bindir, script = bindir or args.bindir, script or args.script
    inventory = os.path.join(args.source_dir, "examples", "resources.json")
    with open(inventory) as f:
        ids = sorted(r["id"] for r in json.load(f))
    driver = r"""
set -u
source "$1"
complete -p lockable
t() {  # prints what completing the line gives, one candidate a line, after a ':' line
  COMP_LINE=$1; COMP_POINT=${#1}; COMPREPLY=()
  read -r -a COMP_WORDS <<<"$1"; [[ $1 == *' ' ]] && COMP_WORDS+=('')
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  _lockable lockable
  echo ":$1"; printf '%s\n' "${COMPREPLY[@]}"
}
"""
    lines = ["lockable --req", "lockable --sta", "lockable --quiet --js",
             "lockable --resources %s --requirements id=" % inventory,
             "lockable --resources=%s --requirements type=board&id=example_board_" % inventory,
             "lockable --requirements=id=example_board_2", "lockable --timeout 3 -- ech"]
    driver += "".join("t %s\n" % shlex.quote(line) for line in lines)
    env = dict(os.environ, PATH=bindir + os.pathsep + os.environ["PATH"],
               LOCKABLE_RESOURCES=inventory)
    out = run(["bash", "--norc", "--noprofile", "-c", driver, "completion_test", script], env=env)
    got, current = {}, None
    for line in out.splitlines():
        if line.startswith(":"):
            current = line[1:]
            got[current] = []
        elif current is not None and line:
            got[current].append(line)
    def check(line, want):
        expect(got.get(line) == want, "completing %r: %s, not %s" % (line, got.get(line), want))
    check(lines[0], ["--requirements"])
    check(lines[1], ["--status", "--stats"])
    check(lines[2], ["--json"])
    check(lines[3], ids)
    check(lines[4], [i for i in ids if i.startswith("example_board_")])
    check(lines[5], ["example_board_2"])
    expect("echo" in got.get(lines[6], []), "the command is not completed: %s" % got.get(lines[6]))
    print("bash completion: --req -> --requirements, ids after id=, the command after --")


def deb(args):
    """cpack -G DEB over the build tree; the .deb's fields and files; unpacked and used."""
    # What `cmake --workflow --preset deb` runs: a /usr tree without tests, packaged as a DEB.
    with open(os.path.join(args.source_dir, "CMakePresets.json")) as f:
        presets = json.load(f)
    configure = {p["name"]: p for p in presets["configurePresets"]}["deb"]
    expect(configure["cacheVariables"].get("CMAKE_INSTALL_PREFIX") == "/usr" and
           configure["cacheVariables"].get("GTEST_LOCKABLE_BUILD_TESTS") == "OFF",
           "configure preset deb: %s" % configure)
    package_preset = {p["name"]: p for p in presets["packagePresets"]}["deb"]
    expect(package_preset.get("generators") == ["DEB"] and
           package_preset.get("configurePreset") == "deb", "package preset deb: %s" % package_preset)
    workflow = {p["name"]: p for p in presets["workflowPresets"]}["deb"]
    expect([(s["type"], s["name"]) for s in workflow["steps"]] ==
           [("configure", "deb"), ("build", "deb"), ("package", "deb")],
           "workflow preset deb: %s" % workflow)

    out = os.path.join(args.work, "deb")
    shutil.rmtree(out, ignore_errors=True)
    start = time.monotonic()
    run([args.cpack, "-G", "DEB", "--config", os.path.join(args.build_dir, "CPackConfig.cmake"),
         "-B", out])
    print("cpack: %.1f s" % (time.monotonic() - start))
    version = cache_value(args.build_dir, "CMAKE_PROJECT_VERSION")
    prefix = cache_value(args.build_dir, "CMAKE_INSTALL_PREFIX").rstrip("/")
    libdir = cache_value(args.build_dir, "CMAKE_INSTALL_LIBDIR")
    arch = run(["dpkg", "--print-architecture"]).strip()
    package = os.path.join(out, "gtest-lockable_%s_%s.deb" % (version, arch))
    expect(os.path.exists(package), "no %s in %s: %s" % (os.path.basename(package), out,
                                                         os.listdir(out)))
    print("%s: %d bytes" % (os.path.basename(package), os.path.getsize(package)))

    info = run(["dpkg-deb", "--info", package])
    print(info)
    fields = {}
    for line in info.splitlines():
        m = re.match(r"^ ([A-Z][A-Za-z-]*): (.*)$", line)
        if m:
            fields[m.group(1)] = m.group(2)
    expect(fields.get("Package") == "gtest-lockable", "Package: %s" % fields.get("Package"))
    expect(fields.get("Version") == version, "Version: %s" % fields.get("Version"))
    expect(fields.get("Architecture") == arch, "Architecture: %s" % fields.get("Architecture"))
    depends = {d.strip().split()[0] for d in fields.get("Depends", "").split(",") if d.strip()}
    expect({"libc6", "nlohmann-json3-dev"} <= depends, "Depends: %s" % fields.get("Depends"))

    contents = run(["dpkg-deb", "--contents", package])
    listed = {line.split()[-1].lstrip(".") for line in contents.splitlines() if line.strip()}
    for path in installed_files(args.build_dir):
        expect(prefix + "/" + path in listed, "not in the package: %s/%s" % (prefix, path))

    root = os.path.join(out, "root")
    run(["dpkg", "-x", package, root])
    usr = root + prefix
    lib = os.path.join(usr, libdir)
    # Depends names the package of every shared library the command and the modules link.
    for elf in [os.path.join(usr, "bin", "lockable"), os.path.join(lib, "libgtest_lockable_http.so"),
                os.path.join(lib, "libgtest_lockable_regex.so")]:
        needed = re.findall(r"^\s*NEEDED\s+(\S+)$", run(["objdump", "-p", elf]), re.M)
        listing = run(["ldd", elf])
        resolved = dict(re.findall(r"^\s*(\S+) => (/\S+)", listing, re.M))
        # The dynamic loader, listed by its path alone.
        resolved.update((os.path.basename(p), p) for p in re.findall(r"^\s*(/\S+) \(", listing, re.M))
        expect(needed and set(needed) <= set(resolved), "%s: NEEDED %s, ldd %s"
               % (elf, needed, resolved))
        for path in [resolved[n] for n in needed]:
            owner = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True)
            if owner.returncode != 0:  # merged /usr: dpkg may know the other spelling
                other = path[4:] if path.startswith("/usr/") else "/usr" + path
                owner = subprocess.run(["dpkg", "-S", other], capture_output=True, text=True)
            expect(owner.returncode == 0, "no package owns %s (linked by %s)" % (path, elf))
            name = owner.stdout.split(":")[0]
            expect(name in depends, "%s needs %s of %s, not in Depends: %s"
                   % (os.path.basename(elf), path, name, fields.get("Depends")))

    # The unpacked command, with the unpacked regex module.
    lockable = os.path.join(usr, "bin", "lockable")
    expect(version in run([lockable, "--version"]), "lockable --version")
    listed_ids = json.loads(run([lockable, "--list", "--resources",
                                 os.path.join(args.source_dir, "examples", "resources.json"),
                                 "--hostname", "localhost", "--requirements",
                                 '{"id": {"$regex": "_2$"}}'],
                                env=dict(os.environ, LOCKABLE_REGEX_MODULE=os.path.join(
                                    lib, "libgtest_lockable_regex.so"))))
    expect([r["id"] for r in listed_ids] == ["example_board_2"], "--list: %s" % listed_ids)
    man(args, lockable, os.path.join(usr, "share", "man", "man1", "lockable.1.gz"))
    completion(args, os.path.join(usr, "bin"),
               os.path.join(usr, "share", "bash-completion", "completions", "lockable"))

    # pkg-config: the core library from the unpacked tree, without CMake.
    locks = tempfile.mkdtemp(prefix="package_test_locks.")
    try:
        env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(lib, "pkgconfig"))
        flags = run(["pkg-config", "--cflags", "--libs", "gtest_lockable"], env=env).split()
        expect(any(f.startswith("-I" + usr) for f in flags), "pkg-config flags: %s" % flags)
        program = os.path.join(out, "core_user")
        run([args.cxx, "-std=c++17"] + args.cxx_flags.split() +
            [os.path.join(HERE, "consumer", "core_user.cpp"), "-o", program] + flags)
        print(run([program, os.path.join(HERE, "consumer", "resources.json"), locks]))
    finally:
        shutil.rmtree(locks, ignore_errors=True)

    # find_package from the unpacked tree: the consumer project, built and run.
    args.prefix, args.mode = usr, "find_package"
    consumer(args, "consumer-deb")


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


def read_named_holds(path):
    """per_test's log: (test, resource id, start ns, end ns, queue ms) per resource per test."""
    with open(path) as f:
        return [(t, rid, int(s), int(e), float(q))
                for t, rid, s, e, q in (line.split() for line in f)]


def check_per_test_run(log, tests, hold_ms, scheduled=True):
    holds = read_named_holds(log)
    check_no_overlap([(rid, s, e, q) for _, rid, s, e, q in holds])
    kinds = {}
    for test, rid, s, e, _ in holds:
        kinds.setdefault(test.split(".")[0].split("/")[-1], set()).add(rid)
    expect(kinds.get("board_test") == {"board-1", "board-2"}, "board tests: %s" % kinds)
    expect(kinds.get("phone_test") == {"phone-1"}, "phone tests: %s" % kinds)
    expect(kinds.get("probed_board_test", set()) >= {"probe-1"}, "probed tests: %s" % kinds)
    expect(len(holds) == tests, "expected %d holds, got %d" % (tests, len(holds)))
    by_test = {}
    for test, rid, s, e, _ in holds:
        by_test.setdefault(test, []).append(rid)
    for test, ids in by_test.items():
        if "probed_board_test" in test:
            expect(sorted(i[:5] for i in ids) == ["board", "probe"], "%s held %s" % (test, ids))
    phones = [(s, e) for _, rid, s, e, _ in holds if rid == "phone-1"]
    boards = [(s, e) for _, rid, s, e, _ in holds if rid.startswith("board")]
    expect(any(ps < be and bs < pe for ps, pe in phones for bs, be in boards),
           "no phone test ran beside a board test")
    worst = max(q for *_, q in holds)
    if scheduled:
        # CTest starts a test only once its resources are free: it takes them at once. A test
        # that had to wait for a lock waited for a whole hold of hold_ms.
        expect(worst < hold_ms / 2, "a test waited %.1f ms for a lock: CTest did not schedule" % worst)
    return worst


def per_test(args):
    """Requirements declared per suite in code, scheduled per test by ctest -j, in a project
    that finds gtest_lockable in a subdirectory (like yaml-cpp)."""
    locks = tempfile.mkdtemp(prefix="package_test_locks.")
    source = os.path.join(HERE, "per_test")
    builds = [os.path.join(args.work, "per_test-%d" % i) for i in (1, 2)]
    logs = [os.path.join(args.work, "per_test-holds-%d.log" % i) for i in (1, 2)]
    hold_ms = 200
    all_tests = "100% tests passed, 0 tests failed out of 204"
    holds_per_run = 80 + 60 + 2 * 20  # board, phone, board+probe (two lines each)
    try:
        for build, log in zip(builds, logs):
            shutil.rmtree(build, ignore_errors=True)
            cmd = [args.cmake, "-S", source, "-B", build, "-G", "Ninja",
                   "-DCMAKE_BUILD_TYPE=Debug", "-DCMAKE_CXX_COMPILER=" + args.cxx,
                   "-DCMAKE_PREFIX_PATH=" + args.prefix, "-DLOCK_FOLDER=" + locks,
                   "-DHOLD_LOG=" + log, "-DHOLD_MS=%d" % hold_ms,
                   "-DINVENTORY=" + os.path.join(source, "resources.json")]
            if args.cxx_flags:
                cmd.append("-DCMAKE_CXX_FLAGS=" + args.cxx_flags)
            run(cmd)
            out = run([args.cmake, "--build", build, "-j2"])
            # A POOL that matches nothing is said at build time, naming its requirements.
            expect('warning: no resource of ' in out and '{"type":"nothing"}' in out
                   and "pool nothing" in out, "no warning of the empty pool:\n" + out)

        def ctest(test_dir, log):
            if os.path.exists(log):
                os.unlink(log)
            return run([args.ctest, "--test-dir", test_dir, "-j4", "--output-on-failure"])

        # From the top of the build tree and from the subdirectory with the tests.
        for test_dir in (builds[0], os.path.join(builds[0], "test")):
            out = ctest(test_dir, logs[0])
            expect(all_tests in out, "ctest --test-dir %s:\n%s" % (test_dir, out))
            worst = check_per_test_run(logs[0], holds_per_run, hold_ms)
            print("ctest -j4 in %s: %d holds, no overlap, longest lock wait %.1f ms"
                  % (test_dir, holds_per_run, worst))

        # Two ctests of two build trees at once: CTest cannot see the other, the locks do.
        for log in logs:
            if os.path.exists(log):
                os.unlink(log)
        procs = [subprocess.Popen([args.ctest, "--test-dir", b, "-j4", "--output-on-failure"],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                 for b in builds]
        for out in [p.communicate()[0] for p in procs]:
            expect(all_tests in out, "concurrent ctest:\n" + out)
        for log in logs:
            check_per_test_run(log, holds_per_run, hold_ms, scheduled=False)
        both = read_named_holds(logs[0]) + read_named_holds(logs[1])
        check_no_overlap([(rid, s, e, q) for _, rid, s, e, q in both])
        print("two ctests: %d holds, no overlap" % len(both))

        # The resource's fields reach an XML report when one is asked for.
        xml_dir = os.path.join(args.work, "per_test-xml")
        shutil.rmtree(xml_dir, ignore_errors=True)
        run([args.ctest, "--test-dir", builds[0], "-R", "keeps_its_cxx_standard"],
            env=dict(os.environ, GTEST_OUTPUT="xml:%s/" % xml_dir))
        reports = "".join(open(os.path.join(xml_dir, f)).read() for f in os.listdir(xml_dir))
        expect('resource_type="board"' in reports, "no resource_type in the XML report")
    finally:
        shutil.rmtree(locks, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["install", "consumer", "scheduling", "per_test", "two_calls",
                                          "core_only", "man", "completion", "deb",
                                          "install_deps"])
    parser.add_argument("--cmake", default="cmake")
    parser.add_argument("--ctest", default="ctest")
    parser.add_argument("--cxx", default="c++")
    parser.add_argument("--cxx-flags", default="", help="the build's sanitizer flags, if any")
    parser.add_argument("--build-dir")
    parser.add_argument("--source-dir")
    parser.add_argument("--prefix")
    parser.add_argument("--work")
    parser.add_argument("--mode")
    parser.add_argument("--cpack", default="cpack")
    parser.add_argument("--lockable", help="man: the lockable command")
    parser.add_argument("--page", help="man: its page, lockable.1.gz")
    parser.add_argument("--bindir", help="completion: the folder of the lockable to complete for")
    parser.add_argument("--script", help="completion: the completion script")
    args = parser.parse_args()
    {"install": install, "consumer": consumer, "scheduling": scheduling, "per_test": per_test,
     "two_calls": two_calls,
     "core_only": core_only, "man": man, "completion": completion, "deb": deb,
     "install_deps": install_deps}[args.what](args)
    print("PASSED")


if __name__ == "__main__":
    main()
