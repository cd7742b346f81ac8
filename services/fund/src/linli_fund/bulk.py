"""Many journal entries in one statement each: the fund's bulk writes.

A batch of donations posts its entries through `post_entries`, which checks each entry as
`ledger.post_entry` does and moves the guarded balances once for the whole batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from linli_fund import domain
from linli_fund.domain import EntryKind, Line
from linli_fund.ledger import move_balances
from linli_fund.models import JournalEntry, Posting
from linli_shared.bulk import insert_rows


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
    for draft in drafts:
        domain.check_balanced(draft.lines)
    await move_balances(session, district, community, [line for d in drafts for line in d.lines])
    where = {"district": district, "community": community}
    entries = [
        {
            **where,
            "kind": draft.kind.value,
            "narration": draft.narration,
            "reference": draft.reference,
            "reverses_entry_id": None,
            "posted_by": actor,
            "posted_at": draft.posted_at,
        }
        for draft in drafts
    ]
    ids = await insert_rows(session, JournalEntry, entries, returning_id=True)
    postings = [
        {**where, "entry_id": entry_id, "account": line.account, "amount": line.amount}
        for entry_id, draft in zip(ids, drafts, strict=True)
        for line in draft.lines
    ]
    await insert_rows(session, Posting, postings)
    return ids
