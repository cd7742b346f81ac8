"""The points ledger: balances move only by conditional updates, and every move is an entry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, text, update
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_points.access import HOLDER_FIELDS, Holder, check_serving, checked_holder, load_holder
from linli_points.domain import EntryKind, NotEnoughPoints
from linli_points.models import PointsAccount, PointsEntry, Volunteer
from linli_shared.auth import Caller, Role
from linli_shared.bulk import table_of
from linli_shared.contracts.points import PointsAdjusted, PointsEarned
from linli_shared.database import flush_changes, on_postgresql
from linli_shared.driver import DriverStatement
from linli_shared.together import Alone
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
HOLDER_COLUMNS = ", ".join(HOLDER_FIELDS)
LOOK_UP_MOVE_AND_APPEND = DriverStatement(
    text(
        f"WITH holder AS (SELECT {HOLDER_COLUMNS} FROM volunteer WHERE id = :volunteer),"
        " moved AS (UPDATE points_account SET balance = balance + :points"
        "  WHERE volunteer_id = :volunteer AND balance + :points >= 0 AND EXISTS (SELECT 1 FROM holder)"
        "  RETURNING balance),"
        " entry AS (INSERT INTO points_entry (district, community, volunteer_id, kind, points,"
        "  balance_after, reason, actor, reference, created_at)"
        "  SELECT holder.district, holder.community, holder.id, :kind, CAST(:points AS INTEGER),"
        "  moved.balance, :reason, :actor, :reference, CAST(:created_at AS TIMESTAMP)"
        "  FROM holder, moved RETURNING id, balance_after)"
        f" SELECT {', '.join(f'holder.{name}' for name in HOLDER_FIELDS)}, entry.id AS entry_id,"
        " entry.balance_after"
        " FROM holder LEFT JOIN entry ON true"
    ).bindparams(bindparam("created_at", type_=ENTRIES.c.created_at.type))
)
"""PostgreSQL only: a volunteer looked up by id, their balance moved and the entry appended, in one
statement; the volunteer's row comes back with the entry's id (none: the balance could not cover
the move) for the caller's checks, made after the move and rolled back with it if they refuse."""


ADJUSTED_ALONE = Alone(
    "holder AS (SELECT id, district, community FROM volunteer WHERE id = :volunteer"
    "  AND district = :district AND community = :community AND (active OR :points < 0)),"
    " moved AS (UPDATE points_account SET balance = balance + :points"
    "  WHERE volunteer_id = (SELECT id FROM holder) AND balance + :points >= 0 RETURNING balance),"
    " made AS (INSERT INTO points_entry (district, community, volunteer_id, kind, points,"
    "  balance_after, reason, actor, reference, created_at)"
    "  SELECT holder.district, holder.community, holder.id, :kind, CAST(:points AS INTEGER),"
    "  moved.balance, :reason, :actor, NULL, CAST(:created_at AS TIMESTAMP)"
    "  FROM holder, moved RETURNING id, balance_after)",
    (bindparam("created_at", type_=ENTRIES.c.created_at.type),),
    result="id",
    payload_from=(("balance", "balance_after"),),
)
"""A community worker's adjustment as one statement (UnitOfWork.commit_alone): the volunteer's
scope and service are conditions of the statement rather than checks of a row read first, so a
refusal makes nothing, and the long way (adjust_holders_points) then says why."""


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


async def adjust_alone(
    uow: Work, caller: Caller, volunteer_id: str, points: int, *, reason: str
) -> PostedEntry | None:
    """A community worker's adjustment made and committed in one statement, or None (nothing made:
    go the long way). Others' scope (a district's, the city's) is not one community: they go the
    long way."""
    district, community = caller.district, caller.community
    if caller.role is not Role.COMMUNITY_WORKER or district is None or community is None:
        return None
    where = {"district": district, "community": community}
    values = {"volunteer": volunteer_id, "points": points, "reason": reason, "actor": caller.subject}
    adjusted = PointsAdjusted(
        volunteer_id=volunteer_id, points=points, balance=0, reason=reason, adjusted_by=caller.subject
    )
    params = where | values | {"kind": EntryKind.ADJUSTED.value, "created_at": uow.now}
    made = await uow.commit_alone(ADJUSTED_ALONE, params, adjusted, district=district, community=community)
    if made is None:
        return None
    return PostedEntry(
        id=made["id"],
        volunteer_id=volunteer_id,
        kind=EntryKind.ADJUSTED.value,
        points=points,
        balance_after=made["balance_after"],
        reason=reason,
        actor=caller.subject,
        reference=None,
        created_at=uow.now,
        district=district,
        community=community,
    )


async def adjust_holders_points(
    session: AsyncSession,
    caller: Caller,
    volunteer_id: str,
    points: int,
    *,
    kind: EntryKind,
    reason: str,
    actor: str,
    now: datetime,
) -> tuple[Holder, PostedEntry]:
    """load_holder, then move_points, for a volunteer a worker reaches (and, crediting, one still
    serving): on PostgreSQL in one statement, the checks made on the row it returns."""
    if not on_postgresql(session):
        holder = await load_holder(session, caller, volunteer_id)
        if points > 0:
            check_serving(holder)
        entry = await move_points(session, holder, points, kind=kind, reason=reason, actor=actor, now=now)
        return holder, entry
    await flush_changes(session)
    values = {"kind": kind.value, "points": points, "reason": reason, "actor": actor, "reference": None}
    row = await LOOK_UP_MOVE_AND_APPEND.row(session, values | {"volunteer": volunteer_id, "created_at": now})
    holder = checked_holder(caller, row)  # a refusal rolls the move back: the work is not committed
    if points > 0:
        check_serving(holder)
    if row is None or row["entry_id"] is None:
        raise not_enough(points)
    return holder, PostedEntry(
        id=row["entry_id"],
        district=holder.district,
        community=holder.community,
        volunteer_id=holder.id,
        kind=kind.value,
        points=points,
        balance_after=row["balance_after"],
        reason=reason,
        actor=actor,
        reference=None,
        created_at=now,
    )


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
