"""Commitments: a promise over time (an orphan's school fees until 18) that reserves money in a fund.

Making one reserves its total in the fund's guarded balance (UPDATE … WHERE balance - reserved >=
total), so ordinary payments can no longer spend it; disbursements linked to it draw it down
(reservations.draw); releasing it frees what is left. Reservations are not journal entries: no
money moves until a payment does, and the journal records only money that moved.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_fund import domain, ledger, schemas
from linli_fund.domain import CommitmentStatus, Fund
from linli_fund.models import Commitment, KnownResident
from linli_fund.usecases import OFFICERS, READERS, check_fund_scope, replay_or_raise
from linli_shared.auth import Caller
from linli_shared.contracts.fund import CommitmentMade, CommitmentReleased
from linli_shared.errors import Conflict, DomainError, Invalid, NotFound
from linli_shared.idempotency import IdempotentRequest, commit_once, previous_result
from linli_shared.outbox import record_event
from linli_shared.paging import Page, page_of
from linli_shared.scoping import in_scope


async def check_beneficiary(session: AsyncSession, district: str, community: str, resident_id: str) -> None:
    """Only an active resident the registry announced in this community can receive help."""
    resident = await session.get(KnownResident, resident_id)
    if resident is None or (resident.district, resident.community) != (district, community):
        raise Invalid(f"resident {resident_id} is not known in {community}")
    if resident.status != "active":
        raise Invalid(f"resident {resident_id} is {resident.status}")


async def load_commitment(session: AsyncSession, caller: Caller, commitment_id: str) -> Commitment:
    commitment = await session.get(Commitment, commitment_id)
    if commitment is None:
        raise NotFound("commitment not found")
    check_fund_scope(caller, commitment.district, commitment.community)
    return commitment


async def list_commitments(
    session: AsyncSession, caller: Caller, *, cursor: str | None, limit: int
) -> Page[Commitment]:
    caller.check_role(*READERS)
    statement = in_scope(select(Commitment), Commitment, caller)
    return await page_of(session, statement, col(Commitment.id), cursor=cursor, limit=limit)


async def make_commitment(
    session: AsyncSession,
    caller: Caller,
    data: schemas.CommitmentIn,
    *,
    idempotency: IdempotentRequest | None,
    now: datetime,
) -> Commitment:
    """Promise money over time and reserve it now; refused if the fund has not that much available."""
    check_fund_scope(caller, data.district, data.community, *OFFICERS)
    if idempotency and (previous := await previous_result(session, idempotency)):
        return await load_commitment(session, caller, previous)
    fund = data.fund or Fund(data.purpose.value)
    domain.check_fund_fits_purpose(data.purpose, fund)
    if data.until < now.astimezone(domain.CHINA_TIME).date():
        raise Invalid("a commitment cannot end in the past")
    await check_beneficiary(session, data.district, data.community, data.resident_id)
    await ledger.ensure_chart(session, data.district, data.community)
    await ledger.reserve(session, data.district, data.community, domain.fund_key(fund), data.total_fen)
    commitment = Commitment(
        id=str(uuid.uuid4()),
        district=data.district,
        community=data.community,
        resident_id=data.resident_id,
        purpose=data.purpose.value,
        fund=fund.value,
        total_fen=data.total_fen,
        remaining_fen=data.total_fen,
        until=data.until,
        reason=data.reason,
        made_by=caller.subject,
        made_at=now,
    )
    session.add(commitment)
    record_event(
        session,
        CommitmentMade(
            commitment_id=commitment.id,
            purpose=commitment.purpose,
            fund=commitment.fund,
            amount_fen=commitment.total_fen,
            until=commitment.until,
        ),
        district=commitment.district,
        community=commitment.community,
        now=now,
    )
    return await commit_once(
        session, idempotency, commitment.id, lambda found: load_commitment(session, caller, found), commitment
    )


async def release_commitment(
    session: AsyncSession,
    caller: Caller,
    commitment_id: str,
    *,
    idempotency: IdempotentRequest | None,
    now: datetime,
) -> Commitment:
    """End a commitment early: what it still reserves becomes available again, once."""
    caller.check_role(*OFFICERS)
    if idempotency and (previous := await previous_result(session, idempotency)):
        return await load_commitment(session, caller, previous)
    commitment = await load_commitment(session, caller, commitment_id)
    try:
        released = (
            await session.exec(  # type: ignore[call-overload]
                update(Commitment)
                .where(
                    col(Commitment.id) == commitment.id,
                    col(Commitment.status).in_(
                        [CommitmentStatus.ACTIVE.value, CommitmentStatus.FULFILLED.value]
                    ),
                )
                .values(status=CommitmentStatus.RELEASED.value, released_by=caller.subject, released_at=now)
                .returning(col(Commitment.remaining_fen))
            )
        ).scalar_one_or_none()
        if released is None:
            raise Conflict("this commitment was already released")
        if released:
            key = domain.fund_key(Fund(commitment.fund))
            await ledger.reserve(session, commitment.district, commitment.community, key, -released)
            await session.exec(  # type: ignore[call-overload]
                update(Commitment).where(col(Commitment.id) == commitment.id).values(remaining_fen=0)
            )
        await session.refresh(commitment)
    except DomainError as error:
        return await replay_or_raise(
            session, idempotency, error, lambda found: load_commitment(session, caller, found)
        )
    record_event(
        session,
        CommitmentReleased(
            commitment_id=commitment.id, released_fen=int(released), released_by=caller.subject
        ),
        district=commitment.district,
        community=commitment.community,
        now=now,
    )
    return await commit_once(
        session, idempotency, commitment.id, lambda found: load_commitment(session, caller, found), commitment
    )
