#!/usr/bin/env python3
"""Runs the shell blocks of README.md and docs/*.md that are marked runnable.

  run_blocks.py --source-dir S --build-dir B [--list] [FILE...]

A block is runnable when the line before its opening fence is `<!-- runnable -->`:

    <!-- runnable -->
    ```sh
    lockable --resources examples/resources.json --list
    ```

Each file's blocks run in order, each with `bash -euo pipefail`, in a fresh copy of the source
tree (no build/, no .git) where build/dev is the build tree under test: as in a clone after the
Quick start's first command, and TMPDIR is a folder of that run's own. LOCKABLE_* variables of
the caller's environment are dropped. A block that exits non-zero fails the run with its file,
line and output.
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

MARK = "<!-- runnable -->"


def blocks(path):
    """(line number of the fence, text) of each runnable block of a Markdown file."""
    with open(path) as f:
        lines = f.read().split("\n")
    found = []
    i = 0
    while i < len(lines):
        if lines[i].strip() == MARK:
            fence = i + 1
            if fence >= len(lines) or not re.match(r"^```(sh|bash)\s*$", lines[fence]):
                sys.exit("%s:%d: %s is not followed by a ```sh block" % (path, i + 1, MARK))
            end = fence + 1
            while end < len(lines) and lines[end] != "```":
                end += 1
            if end == len(lines):
                sys.exit("%s:%d: the block never ends" % (path, fence + 1))
            found.append((fence + 1, "\n".join(lines[fence + 1:end]) + "\n"))
            i = end
        i += 1
    return found


def fresh_copy(source_dir, build_dir, work):
    root = os.path.join(work, "clone")
    shutil.copytree(source_dir, root, symlinks=True,
                    ignore=shutil.ignore_patterns(".git", "build", "build-*", "__pycache__"))
    os.makedirs(os.path.join(root, "build"))
    os.symlink(os.path.abspath(build_dir), os.path.join(root, "build", "dev"))
    return root


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--build-dir", required=True, help="stands for build/dev")
    parser.add_argument("--list", action="store_true", help="print the blocks, run nothing")
    parser.add_argument("files", nargs="*", help="default: README.md and docs/*.md")
    args = parser.parse_args()
    files = args.files or ["README.md"] + sorted(
        os.path.relpath(p, args.source_dir)
        for p in glob.glob(os.path.join(args.source_dir, "docs", "*.md")))

    env = {k: v for k, v in os.environ.items() if not k.startswith("LOCKABLE_")}
    total = 0
    for name in files:
        found = blocks(os.path.join(args.source_dir, name))
        if args.list:
            for line, text in found:
                print("%s:%d:\n%s" % (name, line, text))
            continue
        if not found:
            continue
        work = tempfile.mkdtemp(prefix="run_blocks.")
        try:
            root = fresh_copy(args.source_dir, args.build_dir, work)
            # What blocks put in the temporary folder (lock folders) goes with the copy.
            env["TMPDIR"] = os.path.join(work, "tmp")
            os.makedirs(env["TMPDIR"])
            for line, text in found:
                try:
                    result = subprocess.run(["bash", "-euo", "pipefail", "-c", text], cwd=root,
                                            env=env, stdout=subprocess.PIPE,
                                            stderr=subprocess.STDOUT, text=True, timeout=120)
                except subprocess.TimeoutExpired:
                    sys.exit("FAILED: %s:%d: the block did not finish in 120 s" % (name, line))
                print("--- %s:%d (exit %d)\n%s" % (name, line, result.returncode, result.stdout))
                if result.returncode != 0:
                    sys.exit("FAILED: %s:%d: the block exits %d" % (name, line,
                                                                    result.returncode))
                total += 1
        finally:
            shutil.rmtree(work, ignore_errors=True)
    if not args.list:
        if total == 0:
            sys.exit("FAILED: no runnable block in %s" % ", ".join(files))
        print("PASSED: %d runnable blocks" % total)


if __name__ == "__main__":
    main()
