"""The 公示 rules: when a period's questions close, which line a question is about, and how the chain
the fund keeps compares with the hashes a witness outside the fund saw published."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

QUESTION_DAYS = 7
"""A published period is open for questions this many days after the day it was published."""

LINE_KINDS = ("donation", "payment")


def canonical(report: dict[str, Any]) -> str:
    """A report as the text its hash is taken of: keys sorted, no spaces, characters as they are."""
    return json.dumps(report, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def chained_hash(previous_sha256: str | None, report_json: str) -> str:
    """The link of one period: its report's canonical JSON, bound to the previous period's hash."""
    return hashlib.sha256(f"{previous_sha256 or ''}\n{report_json}".encode()).hexdigest()


@dataclass(frozen=True)
class Link:
    """One period of a chain as someone holds it: its number and its hash."""

    sequence: int
    sha256: str


@dataclass(frozen=True)
class Break:
    sequence: int
    problem: str


def questions_close_on(published_on: date, question_days: int) -> date:
    """The last day (China time) residents may question a period published on `published_on`."""
    return published_on + timedelta(days=question_days)


def line_exists(report: dict[str, Any], line_kind: str, line_ref: str) -> bool:
    """Whether the frozen report shows this line: a donation by its receipt number, a payment by its
    number in the period's list of payments (1, 2, …, as the page numbers them)."""
    if line_kind == "donation":
        return any(d.get("receipt_number") == line_ref for d in report.get("donations", []))
    if line_kind == "payment" and line_ref.isdigit():
        return 1 <= int(line_ref) <= len(report.get("disbursements", []))
    return False


def witness_break(chain: Sequence[Link], witnessed: Sequence[Link]) -> Break | None:
    """Where the fund's chain departs from the witness: the first period whose hash is not the one
    witnessed, or the first the witness saw published that the fund no longer shows. A period
    published but not yet witnessed (the event still on its way) is no break."""
    seen = {link.sequence: link.sha256 for link in witnessed}
    for link in chain:
        if link.sequence in seen and seen[link.sequence] != link.sha256:
            return Break(link.sequence, "its hash is not the one witnessed when it was published")
    shown = {link.sequence for link in chain}
    if missing := sorted(set(seen) - shown):
        return Break(missing[0], f"the witness saw {len(seen)} periods, the fund shows {len(shown)}")
    return None
