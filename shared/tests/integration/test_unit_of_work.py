"""The unit of work on SQLite and PostgreSQL: one commit for rows, events and key, or none at all."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_shared.auth import Caller, Role
from linli_shared.contracts.registry import ResidentTagsChanged
from linli_shared.errors import Conflict
from linli_shared.idempotency import IdempotentRequest
from linli_shared.outbox import OutboxMessage
from linli_shared.testing.effects import AppliedEffect
from linli_shared.unit_of_work import Made, UnitOfWork, Work, write

pytestmark = pytest.mark.integration

WORKER = Caller(subject="w1", role=Role.COMMUNITY_WORKER, district="d1", community="c1")


async def load_effect(session: AsyncSession, caller: Caller, effect_id: str) -> AppliedEffect:
    effect = await session.get(AppliedEffect, int(effect_id))
    assert effect is not None
    return effect


@write(replay=load_effect)
async def make_effect(uow: Work, caller: Caller, name: str) -> Made[AppliedEffect]:
    taken = (await uow.session.exec(select(AppliedEffect).where(AppliedEffect.event_id == name))).first()
    if taken is not None:
        raise Conflict(f"{name} is made already")
    effect = AppliedEffect(event_id=name)
    uow.session.add(effect)
    await uow.session.flush()
    uow.record(ResidentTagsChanged(resident_id=name, tags=[]), district="d1", community="c1")
    return Made(str(effect.id), effect)


async def count(session_factory, model) -> int:  # noqa: ANN001
    async with session_factory() as session:
        return int((await session.exec(select(func.count()).select_from(model))).one())


async def test_work_not_committed_leaves_no_row_and_no_event(session_factory) -> None:
    async with UnitOfWork(session_factory) as uow:
        uow.session.add(AppliedEffect(event_id="e1"))
        uow.record(ResidentTagsChanged(resident_id="r1", tags=[]), district="d1", community="c1")
        await uow.session.flush()
    assert await count(session_factory, AppliedEffect) == 0
    assert await count(session_factory, OutboxMessage) == 0


async def test_racing_twins_with_one_key_make_one_effect_and_one_event(session_factory) -> None:
    request = IdempotentRequest(key=uuid.uuid4().hex, scope="w1:POST:/x", request_hash="h")
    results = await asyncio.gather(
        *(make_effect(UnitOfWork(session_factory, idempotency=request), WORKER, "e1") for _ in range(4))
    )
    assert len({effect.id for effect in results}) == 1, "every twin answers with the one effect"
    assert await count(session_factory, AppliedEffect) == 1
    assert await count(session_factory, OutboxMessage) == 1


async def test_without_a_key_the_second_request_is_refused(session_factory) -> None:
    await make_effect(UnitOfWork(session_factory), WORKER, "e1")
    with pytest.raises(Conflict):
        await make_effect(UnitOfWork(session_factory), WORKER, "e1")
