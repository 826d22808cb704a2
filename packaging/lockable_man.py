#!/usr/bin/env python3
"""Writes lockable(1) from what `lockable --help` and `lockable --version` print.

  lockable_man.py --lockable PATH --output lockable.1[.gz]

The help text is the one source: the options, their variables and defaults, the exit status and
the example come from the settings table through the command itself, so the page cannot disagree
with --help. The help's layout is read as it is printed:

  Usage: ...            the synopsis, one line per form (deeper-indented lines continue one)
  paragraph             the description, up to the first heading
  Heading (note):       a line at column 0 ending in ':' starts a section; the note, if any,
                        becomes the section's first paragraph
    --opt ARG  text     an entry: the term, two spaces or more, its text; deeper-indented lines
                        continue it
    other lines         kept as they are (e.g. the example)
"""
import argparse
import gzip
import re
import subprocess
import sys

SECTION_NAMES = {"options": "OPTIONS", "exit status": "EXIT STATUS", "example": "EXAMPLE",
                 "examples": "EXAMPLES"}


def roff(text):
    """Escapes running text for roff: backslashes, hyphens, and a leading dot or quote."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    if text.startswith((".", "'")):
        text = "\\&" + text
    return text


def bold_options(text):
    """Escapes text and sets the options it names in bold."""
    parts = re.split(r"(?<![\w-])(--?[a-z][a-z0-9-]*)", text)
    return "".join("\\fB%s\\fR" % roff(p) if i % 2 else roff(p) for i, p in enumerate(parts))


def parse(help_text):
    lines = help_text.rstrip("\n").split("\n")
    synopsis = []
    i = 0
    while i < len(lines) and lines[i].strip():
        # "Usage: " is 7 wide: a line indented deeper continues the one above.
        if synopsis and lines[i].startswith(" " * 8):
            synopsis[-1] += " " + lines[i].strip()
        else:
            synopsis.append(re.sub(r"^(Usage:)?\s*", "", lines[i]))
        i += 1
    description, sections = [], []
    for line in lines[i:]:
        heading = re.match(r"^(\S[^:]*?)\s*(?:\((.*)\))?:$", line)
        if heading:
            sections.append({"title": heading.group(1), "note": heading.group(2), "items": []})
        elif not sections:
            description.append(line)
        else:
            sections[-1]["items"].append(line)
    return synopsis, " ".join(l.strip() for l in description if l.strip()), sections


def entries(items):
    """Splits a section's lines into (term, [text lines]) entries and verbatim lines."""
    out = []
    for line in items:
        entry = re.match(r"^  (\S(?:\S| (?! ))*)(?:\s{2,}(.*))?$", line)
        if entry and not line.startswith("   "):
            out.append([entry.group(1), [entry.group(2)] if entry.group(2) else []])
        elif line.strip() and out and isinstance(out[-1], list) and line.startswith("   "):
            out[-1][1].append(line.strip())
        else:
            out.append(line)
    return out


def render(help_text, version):
    synopsis, description, sections = parse(help_text)
    out = ['.\\" Generated from `lockable --help` by packaging/lockable_man.py; do not edit.',
           '.TH LOCKABLE 1 "" "%s" "User Commands"' % roff(version),
           ".SH NAME",
           "lockable \\- lock a shared test resource and run a command while it is held",
           ".SH SYNOPSIS", ".nf"]
    out += [bold_options(s.strip()) for s in synopsis]
    out += [".fi", ".SH DESCRIPTION", bold_options(description)]
    for section in sections:
        title = SECTION_NAMES.get(section["title"].lower(), section["title"].upper())
        out.append(".SH " + roff(title))
        if section["note"]:
            out.append(bold_options(section["note"][0].upper() + section["note"][1:] + "."))
        items = entries(section["items"])
        verbatim = all(isinstance(e, str) or not e[1] for e in items)
        if verbatim:
            # No term/text columns (an example): keep the lines as printed.
            out += [".PP", ".nf", ".RS 4"]
            out += [roff(line[2:] if line.startswith("  ") else line)
                    for line in section["items"] if line.strip()]
            out += [".RE", ".fi"]
            continue
        for e in items:
            if isinstance(e, str):
                if e.strip():
                    out += [".PP", bold_options(e.strip())]
                continue
            term, text = e
            out += [".TP", bold_options(term)]
            paragraph = []
            for t in text:
                # The variable and default of a setting start their own line in --help.
                if t.startswith("variable ") and paragraph:
                    out.append(bold_options(" ".join(paragraph)))
                    out.append(".br")
                    paragraph = []
                paragraph.append(t)
            if paragraph:
                out.append(bold_options(" ".join(paragraph)))
    out += [".SH SEE ALSO", "\\fBflock\\fR(1), \\fBctest\\fR(1);",
            "the project's README and docs/command.md"]
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lockable", required=True, help="the lockable command to document")
    parser.add_argument("--output", required=True, help="lockable.1, or lockable.1.gz")
    args = parser.parse_args()
    try:
        help_text = subprocess.run([args.lockable, "--help"], check=True, capture_output=True,
                                   text=True).stdout
        version = subprocess.run([args.lockable, "--version"], check=True, capture_output=True,
                                 text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError) as e:
        sys.exit("lockable_man.py: cannot run %s: %s" % (args.lockable, e))
    if not help_text.startswith("Usage:"):
        sys.exit("lockable_man.py: %s --help does not start with 'Usage:'" % args.lockable)
    version = re.sub(r"^lockable \((.*)\) (.*)$", r"\1 \2", version)
    page = render(help_text, version).encode()
    if args.output.endswith(".gz"):
        # No name and no time in the header: the same help gives the same bytes.
        with open(args.output, "wb") as f, gzip.GzipFile(fileobj=f, mode="wb", mtime=0,
                                                         filename="", compresslevel=9) as gz:
            gz.write(page)
    else:
        with open(args.output, "wb") as f:
            f.write(page)


if __name__ == "__main__":
    main()
