#!/usr/bin/env python3
"""docs/compliance.md names a test for every row, and those tests exist.

A row's last cell lists Rust tests as `function_name` and browser tests as e2e "title"."""
import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parent.parent
rust = "\n".join(p.read_text() for p in root.glob("crates/*/tests/**/*.rs"))
rust += "\n".join(p.read_text() for p in root.glob("crates/*/src/**/*.rs"))
e2e = "\n".join(p.read_text() for p in (root / "e2e/tests").glob("*.test.js"))

problems, rows = [], 0
for line in (root / "docs/compliance.md").read_text().splitlines():
    if not line.startswith("|") or line.startswith("|---") or line.startswith("| requirement") or line.startswith("| right"):
        continue
    rows += 1
    cell = line.rstrip("|").split("|")[-1]
    functions = re.findall(r"`([a-z0-9_]+)`", cell)
    titles = re.findall(r'"([^"]+)"', cell)
    if not functions and not titles:
        problems.append(f"no test named: {line[:80]}")
    for f in functions:
        if not re.search(rf"\bfn {re.escape(f)}\(", rust):
            problems.append(f"no Rust test fn {f}")
    for t in titles:
        if f"'{t}'" not in e2e:
            problems.append(f"no browser test titled {t!r}")

if problems:
    print("compliance check FAILED:\n  " + "\n  ".join(problems), file=sys.stderr)
    sys.exit(1)
print(f"compliance: {rows} rows, every named test exists")
