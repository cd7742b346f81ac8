"""Many journal entries in one statement each: the fund's bulk writes.

A batch of donations posts its entries through `post_entries`, which checks each entry as
`ledger.post_entry` does and moves the guarded balances once for the whole batch.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from linli_fund import domain
from linli_fund.domain import EntryKind, Line
from linli_fund.ledger import move_balances
from linli_fund.models import JournalEntry, Posting
from linli_shared.bulk import insert_columns


@dataclass(frozen=True)
class EntryDraft:
    """An entry of a batch, before it has an id."""

    kind: EntryKind
    lines: Sequence[Line]
    narration: str
    posted_at: datetime
    reference: str | None = None


async def post_entries(
    session: AsyncSession, *, district: str, community: str, drafts: Sequence[EntryDraft], actor: str
) -> list[int]:
    """Append many balanced entries at once and return their ids, in the drafts' order.

    Each entry is checked as post_entry checks it. The guarded rows move once, by the sum of all
    the entries' moves: the batch commits whole or not at all, so no one sees a state in between,
    and each row's guard holds for what is committed. One multi-row INSERT writes the entries and
    one the postings, instead of a round trip per row.
    """
    if not drafts:
        return []
    # A batch's gifts mostly share one set of lines (a box of cash to one fund): each set is
    # checked, and moves the balances, once, times the number of entries that post it.
    uses = Counter(id(draft.lines) for draft in drafts)
    distinct = {id(draft.lines): draft.lines for draft in drafts}
    for lines in distinct.values():
        domain.check_balanced(lines)
    totals = [
        Line(line.account, line.amount * uses[key]) for key, lines in distinct.items() for line in lines
    ]
    await move_balances(session, district, community, totals)
    where = {"district": district, "community": community}
    entries: dict[str, list[Any]] = {
        "kind": [draft.kind.value for draft in drafts],
        "narration": [draft.narration for draft in drafts],
        "reference": [draft.reference for draft in drafts],
        "posted_at": [draft.posted_at for draft in drafts],
    }
    by_entry = where | {"reverses_entry_id": None, "posted_by": actor}
    ids = await insert_columns(session, JournalEntry, entries, shared=by_entry, returning_id=True)
    postings = [
        (entry_id, line.account, line.amount)
        for entry_id, draft in zip(ids, drafts, strict=True)
        for line in draft.lines
    ]
    entry_ids, accounts, amounts = (list(column) for column in zip(*postings, strict=True))
    by_line: dict[str, list[Any]] = {"entry_id": entry_ids, "account": accounts, "amount": amounts}
    await insert_columns(session, Posting, by_line, shared=where)
    return ids
