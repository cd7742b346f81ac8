"""Every refusal a person can be shown has Chinese words: a DomainError made with an English detail
carries `zh=` (linli_shared.errors), so the caller reads Chinese unless they ask for English."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [ROOT / "shared" / "src", *(ROOT / "services").glob("*/src")]
REFUSALS = {"DomainError", "Invalid", "Conflict", "NotFound", "Forbidden", "Unauthorized"}
CHINESE = re.compile(r"[\u4e00-\u9fff]")
LETTERS = re.compile(r"[A-Za-z]{2,}")


def modules() -> Iterator[tuple[Path, ast.Module]]:
    for source in SOURCES:
        for path in sorted(source.rglob("*.py")):
            if "migrations" not in path.parts:
                yield path, ast.parse(path.read_text(), filename=str(path))


def name_of(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def refusal_classes(trees: list[tuple[Path, ast.Module]]) -> set[str]:
    """DomainError and every class that derives from it, however far down."""
    known = set(REFUSALS)
    while True:
        found = {
            node.name
            for _, tree in trees
            for node in ast.walk(tree)
            if isinstance(node, ast.ClassDef) and any(name_of(base) in known for base in node.bases)
        }
        if found <= known:
            return known
        known |= found


def words_of(node: ast.expr) -> str | None:
    """The literal text of a string or f-string argument; None for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)
        )
    return None


def english_only(node: ast.Call) -> bool:
    if not node.args or any(keyword.arg == "zh" for keyword in node.keywords):
        return False
    words = words_of(node.args[0])
    return words is not None and not CHINESE.search(words) and bool(LETTERS.search(words))


def test_every_refusal_made_in_english_says_it_in_chinese_too() -> None:
    trees = list(modules())
    classes = refusal_classes(trees)
    english = [
        f"{path.relative_to(ROOT)}:{node.lineno} {name_of(node.func)}({ast.unparse(node.args[0])[:60]})"
        for path, tree in trees
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and name_of(node.func) in classes and english_only(node)
    ]
    assert not english, "refusals with no zh=:\n" + "\n".join(english)


def test_the_check_finds_an_english_refusal_and_passes_a_translated_one() -> None:
    english = ast.parse('raise Invalid("the date is in the future")').body[0]
    translated = ast.parse('raise Invalid("the date is in the future", zh="日期不能晚于今天")').body[0]
    chinese = ast.parse('raise Conflict(f"志愿者{name}已离开")').body[0]
    calls = [statement.exc for statement in (english, translated, chinese)]  # type: ignore[attr-defined]
    assert [english_only(call) for call in calls] == [True, False, False]
