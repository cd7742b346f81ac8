"""The points ledger: balances move only by conditional updates, and every move is an entry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_points.access import Holder
from linli_points.domain import EntryKind, NotEnoughPoints
from linli_points.models import PointsAccount, PointsEntry, Volunteer
from linli_shared.bulk import table_of
from linli_shared.contracts.points import PointsEarned
from linli_shared.database import flush_changes, on_postgresql
from linli_shared.driver import DriverStatement
from linli_shared.unit_of_work import Work

ACCOUNTS, ENTRIES = table_of(PointsAccount), table_of(PointsEntry)
# Built once and run on the driver: every credit, debit and redemption runs them. A debit needs the
# balance to cover it.
MOVE = (
    update(ACCOUNTS)
    .where(ACCOUNTS.c.volunteer_id == bindparam("volunteer"))
    .where(ACCOUNTS.c.balance + bindparam("points") >= 0)
    .values(balance=ACCOUNTS.c.balance + bindparam("points"))
    .returning(ACCOUNTS.c.balance)
)
MOVE_BALANCE = DriverStatement(MOVE)
APPEND_ENTRY = DriverStatement(insert(ENTRIES).returning(ENTRIES.c.id))
ENTRY_COLUMNS = [column.name for column in ENTRIES.columns if column.name not in ("id", "balance_after")]
_moved = MOVE.cte("moved")
MOVE_AND_APPEND = DriverStatement(
    insert(ENTRIES)
    .from_select(
        [*ENTRY_COLUMNS, "balance_after"],
        select(
            *(bindparam(f"entry_{name}", type_=ENTRIES.c[name].type) for name in ENTRY_COLUMNS),
            _moved.c.balance,
        ),
    )
    .returning(ENTRIES.c.id, ENTRIES.c.balance_after)
)
"""PostgreSQL only (SQLite has no UPDATE in a WITH): the balance's move and its entry in one
statement, one round trip fewer for every move. No row back: the balance could not cover it."""


@dataclass(frozen=True, slots=True)
class PostedEntry:
    """A ledger entry as it was written: the ledger is append-only, so the answer to a move needs no
    ORM object (building one was a few per cent of a credit's CPU)."""

    id: int
    district: str
    community: str
    volunteer_id: str
    kind: str
    points: int
    balance_after: int
    reason: str
    actor: str
    reference: str | None
    created_at: datetime


async def move_points(
    session: AsyncSession,
    volunteer: Volunteer | Holder,
    points: int,
    *,
    kind: EntryKind,
    reason: str,
    actor: str,
    now: datetime,
    reference: str | None = None,
) -> PostedEntry:
    """Add (or with a negative number, take) points and append the ledger entry, which it returns.

    The balance changes in one UPDATE … WHERE balance + points >= 0, so two racing debits cannot both
    pass a check made before either wrote: the second finds the row changed and fails. It also
    takes the account's row lock, which serialises whatever else the transaction checks for
    this volunteer (a monthly limit, say) until it commits.
    """
    await flush_changes(session)  # what the use case changed so far goes first, as with ORM statements
    row: dict[str, Any] = {
        "district": volunteer.district,
        "community": volunteer.community,
        "volunteer_id": volunteer.id,
        "kind": kind.value,
        "points": points,
        "reason": reason,
        "actor": actor,
        "reference": reference,
        "created_at": now,
    }
    move = {"volunteer": volunteer.id, "points": points}
    if on_postgresql(session):
        posted = await MOVE_AND_APPEND.row(session, move | {f"entry_{name}": v for name, v in row.items()})
        if posted is None:
            raise not_enough(points)
        return PostedEntry(id=posted["id"], balance_after=posted["balance_after"], **row)
    balance = await MOVE_BALANCE.value(session, move)
    if balance is None:
        raise not_enough(points)
    row["balance_after"] = balance
    return PostedEntry(id=await APPEND_ENTRY.value(session, row), **row)


def not_enough(points: int) -> NotEnoughPoints:
    return NotEnoughPoints(f"not enough points: {-points} needed", zh=f"积分不足：需要 {-points} 积分")


async def earn_points(
    uow: Work, volunteer: Volunteer, points: int, *, reason: str, actor: str, reference: str
) -> PostedEntry:
    """Credit points earned (service, a wish, a visit) and announce them; the unit of work commits."""
    entry = await move_points(
        uow.session,
        volunteer,
        points,
        kind=EntryKind.EARNED,
        reason=reason,
        actor=actor,
        now=uow.now,
        reference=reference,
    )
    uow.record(
        PointsEarned(volunteer_id=volunteer.id, points=points, balance=entry.balance_after, reason=reason),
        district=volunteer.district,
        community=volunteer.community,
    )
    return entry
