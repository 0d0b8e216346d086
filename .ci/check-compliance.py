#!/usr/bin/env python3
"""docs/compliance.md and docs/threat-model.md name a test for every row, and those tests exist
and run; docs/compliance.md has a row for every requirement the certification guideline and the
data-subject rights ask for.

A row's last cell lists Rust tests as `function_name`, CI scripts as `.ci/name`, and browser tests
as e2e "title". A Rust name counts only if it runs as a test: a `#[test]` function, a scenario in
an `app_tests!`/`db_tests!` list, or a scenario a `#[test]` function calls as `super::name(` (a
helper of the same name does not count). A browser title counts only as the title of a `test(...)` that is not
skipped."""
import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parent.parent

# Every requirement that must have a row of its own (the first cell), in the words of the doc.
REQUIRED_ROWS = {
    "docs/compliance.md": [
        "controls which recipients get which data for which purpose",
        "view the provision history",
        "stop provision",
        "Deletion",
        "Vetting of recipients",
        "Ethics review",
        "No onward transfer",
        "Security",
        "Access",
        "Portability",
        "Erasure",
        "Objection",
    ],
    "docs/threat-model.md": [],
}


def rust_tests():
    names = set()
    for path in root.glob("crates/*/**/*.rs"):
        text = path.read_text()
        # A #[test] (possibly with more attributes or a doc comment between) and its function.
        names.update(re.findall(r"#\[(?:[\w:]+::)?test\](?:\s*(?:#\[[^\]]*\]|///[^\n]*))*\s*(?:pub\s+)?fn\s+(\w+)", text))
        for body in re.findall(r"\b(?:app|db)_tests!\(([^)]*)\)", text):
            names.update(n for n in re.findall(r"\w+", body))
        # A scenario run by hand from a #[test] (a `mod x { #[test] fn sqlite() { super::name(..) } }`).
        names.update(re.findall(r"#\[test\]\s*fn\s+\w+\(\)\s*\{[^}]*?\bsuper::(\w+)\(", text))
    return names


def e2e_titles():
    titles = set()
    for path in (root / "e2e/tests").glob("*.test.js"):
        for quote, title in re.findall(r"(?<![.\w])test\(\s*(['\"`])(.+?)\1\s*,", path.read_text()):
            titles.add(title)
    return titles


def cells(line):
    """The cells of a Markdown table row, split on the pipes that are not escaped."""
    parts = re.split(r"(?<!\\)\|", line.strip())
    return [p.strip() for p in parts[1:-1]]


tests, titles = rust_tests(), e2e_titles()
problems, counted = [], []
for doc, required in REQUIRED_ROWS.items():
    rows = 0
    firsts = []
    width = None  # the number of cells of the table being read; None outside a mapped table
    for line in (root / doc).read_text().splitlines():
        if not line.startswith("|"):
            width = None
            continue
        if re.match(r"^\|[-| :]+\|$", line):
            continue
        row = cells(line)
        if row[0] in ("requirement", "right", "threat"):  # the header of a table with a test column
            width = len(row)
            continue
        if width is None:  # another table (the threat model's assets)
            continue
        rows += 1
        if len(row) != width:
            problems.append(f"{doc}: a row with {len(row)} cells under a header of {width}: {line[:80]}")
            continue
        firsts.append(row[0])
        cell = row[-1]
        functions = re.findall(r"`([a-z0-9_]+)`", cell)
        scripts = re.findall(r"`(\.ci/[\w.-]+)`", cell)
        named = re.findall(r'"([^"]+)"', cell)
        if not functions and not scripts and not named:
            problems.append(f"{doc}: no test named: {line[:80]}")
        for f in functions:
            if f not in tests:
                problems.append(f"{doc}: no Rust test {f} (a #[test] fn or a scenario of app_tests!/db_tests!)")
        for s in scripts:
            if not (root / s).is_file():
                problems.append(f"{doc}: no CI script {s}")
        for t in named:
            if t not in titles:
                problems.append(f"{doc}: no browser test titled {t!r}")
    for requirement in required:
        if not any(requirement.lower() in first.lower() for first in firsts):
            problems.append(f"{doc}: no row for {requirement!r}")
    counted.append(f"{doc} {rows} rows")

if problems:
    print("compliance check FAILED:\n  " + "\n  ".join(problems), file=sys.stderr)
    sys.exit(1)
print(f"compliance: {', '.join(counted)}; every named test exists and runs")
