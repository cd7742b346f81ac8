"""The double-entry journal: entries are validated, guarded balances move with them, nothing is edited.

Every entry goes through `post_entry`, which refuses an unbalanced one (domain.check_balanced),
creates the community's chart on first use, and moves each guarded row (funds with their
reserves, asset accounts) in one conditional UPDATE … WHERE balance - reserved >= taken, in the
same transaction as the entry's rows. Two racing payments therefore cannot both spend the same fen: the second
waits for the first's row lock and then finds too little left.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import bindparam, func, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_fund import domain
from linli_fund.domain import EntryKind, Fund, GuardedMove, InsufficientFunds, Line
from linli_fund.domain.labels import GUARDED_LABELS, label
from linli_fund.models import Account, Commitment, GuardedBalance, JournalEntry, Posting
from linli_shared.bulk import insert_rows, table_of
from linli_shared.clock import CHINA_TIME
from linli_shared.database import flush_changes
from linli_shared.driver import DriverStatement
from linli_shared.reference import KnownToExist
from linli_shared.words import yuan


async def insert_missing(session: AsyncSession, model: type[SQLModel], rows: list[dict[str, Any]]) -> None:
    """INSERT … ON CONFLICT DO NOTHING: concurrent first uses both succeed, one of them inserts."""
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    await session.exec(insert(model).values(rows).on_conflict_do_nothing())


CHARTS = KnownToExist()
"""A community's chart of accounts, once complete, stays so: accounts are never deleted."""


async def ensure_chart(session: AsyncSession, district: str, community: str) -> None:
    """Create the community's accounts and guarded balances if this is the fund's first use.

    It looks before it inserts: on PostgreSQL an INSERT … ON CONFLICT waits for whoever is
    updating the conflicting row, which would take a guarded row out of the one lock order.
    Once a committed transaction has found the chart complete, this process never looks again.
    """

    async def complete() -> bool:
        guarded = await session.exec(
            select(func.count()).where(
                GuardedBalance.district == district, GuardedBalance.community == community
            )
        )
        accounts = await session.exec(
            select(func.count()).where(Account.district == district, Account.community == community)
        )
        return guarded.one() == len(domain.GUARDED) and accounts.one() == len(domain.CHART)

    if await CHARTS.exists(session, (district, community), complete):
        return
    where = {"district": district, "community": community}
    await insert_missing(
        session, Account, [{**where, "code": code, "type": kind.value} for code, kind in domain.CHART.items()]
    )
    await insert_missing(session, GuardedBalance, [{**where, "name": name} for name in domain.GUARDED])


async def lock_guarded(session: AsyncSession, district: str, community: str, names: Iterable[str]) -> None:
    """Lock guarded rows in name order, the one order every transaction takes them in (no deadlock)."""
    await session.exec(
        select(GuardedBalance.name)
        .where(
            GuardedBalance.district == district,
            GuardedBalance.community == community,
            col(GuardedBalance.name).in_(sorted(names)),
        )
        .order_by(col(GuardedBalance.name))
        .with_for_update()
    )


async def lock_books(session: AsyncSession, district: str, community: str) -> None:
    """Lock all the community's guarded rows (name order): a publication and a gift booked on an
    earlier day both take them, so one waits for the other and sees what it committed."""
    await lock_guarded(session, district, community, domain.GUARDED)


GUARDED = table_of(GuardedBalance)


@functools.cache
def guarded_update(taking: bool, releasing: bool) -> DriverStatement:
    """UPDATE of one guarded row, built once per kind of move and run on the driver: `taking` adds
    the check that what is available covers it, `releasing` that the reserve does."""
    statement = (
        update(GUARDED)
        .where(GUARDED.c.district == bindparam("of_district"))
        .where(GUARDED.c.community == bindparam("of_community"))
        .where(GUARDED.c.name == bindparam("of_name"))
        .values(
            balance=GUARDED.c.balance + bindparam("add_balance"),
            reserved=GUARDED.c.reserved + bindparam("add_reserved"),
        )
        .returning(GUARDED.c.balance)
    )
    if taking:
        statement = statement.where(GUARDED.c.balance - GUARDED.c.reserved >= bindparam("taken"))
    if releasing:
        statement = statement.where(GUARDED.c.reserved >= bindparam("released"))
    return DriverStatement(statement)


async def move_guarded(
    session: AsyncSession, district: str, community: str, name: str, move: GuardedMove
) -> None:
    """Move one guarded row in one conditional UPDATE: what is available (balance − reserved) may
    shrink only as far as zero, and a release only frees what is reserved."""
    taking, releasing = move.available < 0, move.reserved < 0
    values: dict[str, str | int] = {"of_district": district, "of_community": community, "of_name": name}
    values |= {"add_balance": move.balance, "add_reserved": move.reserved}
    values |= {"taken": -move.available} if taking else {}
    values |= {"released": -move.reserved} if releasing else {}
    if await guarded_update(taking, releasing).row(session, values) is None:
        if move.reserved < 0 and move.balance == 0:
            raise InsufficientFunds(
                f"{name} has less than {-move.reserved} fen reserved",
                zh=f"{label(GUARDED_LABELS, name)}预留的金额不足 {yuan(-move.reserved)}",
            )
        raise InsufficientFunds(
            f"not enough available in {name}: {-move.available} fen needed",
            zh=f"{label(GUARDED_LABELS, name)}可用余额不足：这笔需要 {yuan(-move.available)}",
        )


async def reserve(
    session: AsyncSession,
    commitment: Commitment,
    amount: int,
    *,
    narration: str,
    actor: str,
    now: datetime,
) -> JournalEntry:
    """Post a commitment's reservation entry (negative: a release); the fund's reserve moves with it."""
    return await post_entry(
        session,
        district=commitment.district,
        community=commitment.community,
        kind=EntryKind.RESERVATION,
        lines=domain.reservation_lines(Fund(commitment.fund), amount),
        narration=narration,
        actor=actor,
        now=now,
        reference=commitment.id,
    )


async def post_entry(
    session: AsyncSession,
    *,
    district: str,
    community: str,
    kind: EntryKind,
    lines: Sequence[Line],
    narration: str,
    actor: str,
    now: datetime,
    reference: str | None = None,
    reverses: int | None = None,
) -> JournalEntry:
    """Append a balanced entry and move the guarded balances with it; the caller commits."""
    row = entry_row(district, community, kind, narration, actor, now, reference, reverses)
    entry_id = await post_entry_row(session, row, lines)
    return JournalEntry(id=entry_id, **row)  # what was written: the ledger is append-only


def entry_row(
    district: str,
    community: str,
    kind: EntryKind,
    narration: str,
    actor: str,
    now: datetime,
    reference: str | None = None,
    reverses: int | None = None,
) -> dict[str, Any]:
    return {
        "district": district,
        "community": community,
        "kind": kind.value,
        "narration": narration,
        "reference": reference,
        "reverses_entry_id": reverses,
        "posted_by": actor,
        "posted_at": now,
    }


async def post_entry_row(session: AsyncSession, row: dict[str, Any], lines: Sequence[Line]) -> int:
    """post_entry for a caller that needs only the new entry's id (a donation): no ORM object."""
    district, community, reverses = row["district"], row["community"], row["reverses_entry_id"]
    domain.check_balanced(lines)
    await move_balances(session, district, community, lines)
    await flush_changes(session)  # what the use case staged goes first, as before
    conflict = f"entry {reverses} was already reversed"
    (entry_id,) = await insert_rows(session, JournalEntry, [row], returning_id=True, conflict=conflict)
    postings = [
        {"entry_id": entry_id, "district": district, "community": community, "account": a, "amount": n}
        for a, n in ((line.account, line.amount) for line in lines)
    ]
    await insert_rows(session, Posting, postings)
    return entry_id


async def move_balances(session: AsyncSession, district: str, community: str, lines: Sequence[Line]) -> None:
    """Create the chart on first use, then move each guarded row the lines touch, in name order."""
    await ensure_chart(session, district, community)
    for name, move in domain.guarded_moves(lines).items():  # sorted: locks are taken in one order
        await move_guarded(session, district, community, name, move)


async def lines_of(session: AsyncSession, entry_id: int) -> list[Line]:
    postings = await session.exec(
        select(Posting).where(Posting.entry_id == entry_id).order_by(col(Posting.id))
    )
    return [Line(p.account, p.amount) for p in postings.all()]


def end_of_day(day: date) -> datetime:
    """The first instant after `day`, in China time, where the fund's days are counted."""
    return datetime.combine(day + timedelta(days=1), time(), CHINA_TIME)


async def account_balances(
    session: AsyncSession, district: str, community: str, as_of: date | None = None
) -> dict[str, int]:
    """Every account of the chart with the sum of its postings (up to the end of `as_of`, if given)."""
    statement = (
        select(Posting.account, func.sum(Posting.amount))
        .join(JournalEntry, col(JournalEntry.id) == col(Posting.entry_id))
        .where(Posting.district == district, Posting.community == community)
        .group_by(col(Posting.account))
    )
    if as_of is not None:
        statement = statement.where(col(JournalEntry.posted_at) < end_of_day(as_of))
    sums = {account: int(total) for account, total in (await session.exec(statement)).all()}
    return {account: sums.get(account, 0) for account in domain.CHART}


def fund_balances(balances: dict[str, int]) -> dict[Fund, int]:
    """A fund holds what its income account received less what its expense account paid out."""
    return {
        fund: -(balances[domain.income_account(fund)] + balances[domain.expense_account(fund)])
        for fund in Fund
    }


@dataclass(frozen=True)
class TrialBalanceLine:
    account: str
    type: str
    debit: int
    credit: int


def trial_balance(balances: dict[str, int]) -> list[TrialBalanceLine]:
    return [
        TrialBalanceLine(account, domain.CHART[account].value, max(amount, 0), max(-amount, 0))
        for account, amount in sorted(balances.items())
    ]


async def guarded_balances(session: AsyncSession, district: str, community: str) -> dict[str, GuardedBalance]:
    rows = await session.exec(
        select(GuardedBalance).where(
            GuardedBalance.district == district, GuardedBalance.community == community
        )
    )
    return {row.name: row for row in rows.all()}
