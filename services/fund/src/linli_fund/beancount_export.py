"""The journal as a Beancount file, for accountants' own tools (and as an independent check of the books).

Accounts map one to one: assets:cash → Assets:Cash, income:donations:education →
Income:Donations:Education; amounts are fen written as yuan with two decimals, in CNY; each
transaction is dated by its China day and carries the journal entry's id as metadata.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from linli_fund import domain
from linli_fund.models import JournalEntry, Posting
from linli_shared.clock import china_day
from linli_shared.words import yuan as written_yuan

CURRENCY = "CNY"


def account_name(code: str) -> str:
    return ":".join(part.capitalize() for part in code.split(":"))


def yuan(fen: int) -> str:
    """Fen as an exact decimal string of yuan, as Beancount reads it (1280.50)."""
    return written_yuan(fen, symbol=False, grouped=False)


def quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def render(
    district: str, community: str, entries: Sequence[JournalEntry], postings: dict[int, list[Posting]]
) -> str:
    opened = min((china_day(entry.posted_at) for entry in entries), default=date(2000, 1, 1))
    lines = [
        f'option "title" {quoted(f"Linli love fund {district}/{community}")}',
        f'option "operating_currency" "{CURRENCY}"',
        "",
        *(f"{opened.isoformat()} open {account_name(code)} {CURRENCY}" for code in domain.CHART),
    ]
    for entry in entries:
        assert entry.id is not None
        day = china_day(entry.posted_at).isoformat()
        lines += [
            "",
            f"{day} * {quoted(entry.narration)}",
            f'  entry: "{entry.id}"',
            f'  kind: "{entry.kind}"',
        ]
        if entry.reverses_entry_id is not None:
            lines.append(f'  reverses: "{entry.reverses_entry_id}"')
        lines += postings_lines(postings.get(entry.id, []))
    return "\n".join(lines) + "\n"


def postings_lines(postings: Iterable[Posting]) -> list[str]:
    return [f"  {account_name(p.account)}  {yuan(p.amount)} {CURRENCY}" for p in postings]
