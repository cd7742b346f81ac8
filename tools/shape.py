"""Figures on the code's shape: modules over 300 lines, functions over 50, places that commit.

Run `python tools/shape.py` (or `make shape`) from the repository root; it reads only the source
of shared/ and the four services (tests and migrations are not counted).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOTS = [
    "shared/src",
    "services/registry/src",
    "services/points/src",
    "services/fund/src",
    "services/notify/src",
]
MODULE_LINES = 300
FUNCTION_LINES = 50
COMMITTING = {"commit", "commit_once", "commit_or_conflict"}
"""Calls that end a transaction: a commit, and the helpers that used to commit for their caller."""


def receiver(call: ast.Call) -> str:
    """What the call is made on: `uow` for uow.commit(), `session` for self.session.commit()."""
    function = call.func
    if isinstance(function, ast.Attribute):
        target = function.value
        if isinstance(target, ast.Attribute):
            return target.attr
        if isinstance(target, ast.Name):
            return target.id
    return ""


def called_name(call: ast.Call) -> str:
    function = call.func
    if isinstance(function, ast.Attribute):
        return function.attr
    return function.id if isinstance(function, ast.Name) else ""


def sources(root: Path) -> list[Path]:
    return sorted(p for r in ROOTS for p in (root / r).rglob("*.py") if "migrations" not in p.parts)


def main() -> int:
    root = Path.cwd()
    long_modules: list[tuple[int, str]] = []
    long_functions: list[tuple[int, str]] = []
    commits: list[str] = []
    for path in sources(root):
        text = path.read_text()
        name = str(path.relative_to(root))
        lines = text.count("\n")
        if lines > MODULE_LINES:
            long_modules.append((lines, name))
        tree = ast.parse(text)
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > FUNCTION_LINES:
                    long_functions.append((length, f"{name}:{node.lineno} {node.name}"))
            if isinstance(node, ast.Call) and called_name(node) in COMMITTING:
                by_unit_of_work = receiver(node) == "uow"
                commits.append(f"{name}:{node.lineno}{'' if by_unit_of_work else ' (not a unit of work)'}")
    print(f"modules over {MODULE_LINES} lines: {len(long_modules)}")
    for lines, name in sorted(long_modules, reverse=True):
        print(f"  {lines:5d} {name}")
    print(f"functions over {FUNCTION_LINES} lines: {len(long_functions)}")
    for lines, name in sorted(long_functions, reverse=True):
        print(f"  {lines:5d} {name}")
    modules = sorted({c.split(":")[0] for c in commits})
    print(f"calls that commit ({', '.join(sorted(COMMITTING))}): {len(commits)} in {len(modules)} modules")
    for module in modules:
        print(f"  {sum(c.startswith(module + ':') for c in commits):3d} {module}")
    others = [c for c in commits if c.endswith("(not a unit of work)")]
    print(f"of which not through a unit of work (uow.commit): {len(others)}")
    for place in others:
        print(f"  {place}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
