"""Many journal entries, or many rows, in one statement each: the fund's bulk writes.

A batch of donations posts its entries through `post_entries`, which checks each entry as
`ledger.post_entry` does and moves the guarded balances once for the whole batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, insert, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import SQLModel, col
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_fund import domain
from linli_fund.domain import EntryKind, Line
from linli_fund.ledger import move_balances
from linli_fund.models import JournalEntry, Posting


def table_of(model: type[SQLModel]) -> Table:
    """A model's table, for Core statements: a multi-row INSERT of plain dicts, no ORM objects."""
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table


async def insert_rows(session: AsyncSession, model: type[SQLModel], rows: Sequence[dict[str, Any]]) -> None:
    """Insert many rows (each with the same keys) in one statement, not a round trip per row.

    On PostgreSQL: INSERT … SELECT FROM unnest(one array per column), whose cost hardly grows with
    the rows; elsewhere an executemany.
    """
    table = table_of(model)
    bind = session.get_bind()
    if not rows:
        return
    if bind.dialect.name != "postgresql":
        await session.exec(insert(table), params=list(rows))
        return
    columns = [column for column in table.columns if column.name in rows[0]]
    arrays = ", ".join(
        f"CAST(:{column.name} AS {column.type.compile(dialect=bind.dialect)}[])" for column in columns
    )
    names = ", ".join(column.name for column in columns)
    statement = text(f"INSERT INTO {table.name} ({names}) SELECT * FROM unnest({arrays})").bindparams(
        *(bindparam(column.name, type_=ARRAY(column.type)) for column in columns)
    )
    connection = await session.connection()  # the session's own transaction
    await connection.execute(statement, {c.name: [row[c.name] for row in rows] for c in columns})


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
    inserted = await session.exec(
        insert(table_of(JournalEntry)).returning(col(JournalEntry.id), sort_by_parameter_order=True),
        params=entries,
    )
    ids: list[int] = list(inserted.scalars().all())
    postings = [
        {**where, "entry_id": entry_id, "account": line.account, "amount": line.amount}
        for entry_id, draft in zip(ids, drafts, strict=True)
        for line in draft.lines
    ]
    await insert_rows(session, Posting, postings)
    return ids
