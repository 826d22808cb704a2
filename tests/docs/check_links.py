#!/usr/bin/env python3
"""Checks the relative links of README.md, SECURITY.md and docs/*.md: each names a file of the
source tree and, for a Markdown file, a heading of it (as GitHub makes anchors from headings).

  check_links.py --source-dir S
"""
import argparse
import glob
import os
import re
import sys


def slug(heading):
    heading = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return heading.replace(" ", "-")


def outside_fences(path):
    fence = False
    with open(path) as f:
        for number, line in enumerate(f, 1):
            if line.startswith("```"):
                fence = not fence
            elif not fence:
                yield number, line


def anchors(path):
    return {slug(m.group(1)) for _, line in outside_fences(path)
            for m in [re.match(r"^#+ (.*)$", line)] if m}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source-dir", required=True)
    args = parser.parse_args()
    os.chdir(args.source_dir)
    pages = ["README.md", "SECURITY.md"] + sorted(glob.glob("docs/*.md"))
    problems, count = [], 0
    for page in pages:
        for number, line in outside_fences(page):
            # Inline code may hold text that looks like a link.
            for target in re.findall(r"\]\(([^)\s]+)\)", re.sub(r"`[^`]*`", "", line)):
                if re.match(r"^[a-z]+://|^mailto:", target):
                    continue
                count += 1
                path, _, anchor = target.partition("#")
                file = os.path.normpath(os.path.join(os.path.dirname(page), path)) if path else page
                if not os.path.exists(file):
                    problems.append("%s:%d: %s: no such file" % (page, number, target))
                elif anchor and file.endswith(".md") and anchor not in anchors(file):
                    problems.append("%s:%d: %s: no such heading in %s" % (page, number, target,
                                                                          file))
    for problem in problems:
        print(problem)
    if problems:
        sys.exit("FAILED: %d of %d links are broken" % (len(problems), count))
    print("PASSED: %d links in %d pages" % (count, len(pages)))


if __name__ == "__main__":
    main()
