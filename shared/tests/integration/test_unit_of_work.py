"""The unit of work on SQLite and PostgreSQL: one commit for rows, events and key, or none at all."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_shared.auth import Caller, Role
from linli_shared.clock import utc_now
from linli_shared.contracts.registry import ResidentTagsChanged
from linli_shared.errors import Conflict
from linli_shared.idempotency import IdempotentRequest
from linli_shared.inbox import InboxEntry
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


@write(replay=load_effect)
async def make_effect_blindly(uow: Work, caller: Caller, name: str) -> Made[AppliedEffect]:
    """Makes its effect without looking: a second time, its own unique row fails the flush."""
    effect = AppliedEffect(event_id=name)
    uow.session.add(effect)
    uow.session.add(InboxEntry(consumer="blind", event_id=name, applied_at=utc_now()))
    await uow.session.flush()
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


async def test_a_new_key_costs_no_look_up_before_the_work(
    session_factory,  # noqa: ANN001
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The key's INSERT at commit is its check: a first request never looks its key up; a repeat
    does, after its work failed on the key, and answers with the first."""
    look_ups: list[str] = []
    look_up = UnitOfWork.previous

    async def noting(uow: UnitOfWork) -> str | None:
        look_ups.append(uow.idempotency.key if uow.idempotency else "")
        return await look_up(uow)

    monkeypatch.setattr(UnitOfWork, "previous", noting)
    request = IdempotentRequest(key=uuid.uuid4().hex, scope="w1:POST:/x", request_hash="h")
    first = await make_effect(UnitOfWork(session_factory, idempotency=request), WORKER, "e1")
    assert look_ups == []
    again = await make_effect(UnitOfWork(session_factory, idempotency=request), WORKER, "e1")
    assert again.id == first.id and look_ups == [request.key]
    assert await count(session_factory, OutboxMessage) == 1


async def test_a_repeat_whose_own_effect_fails_its_flush_answers_with_the_first(session_factory) -> None:
    """A repeat decides again: the unique row it makes fails inside the work, and the key answers."""
    request = IdempotentRequest(key=uuid.uuid4().hex, scope="w1:POST:/x", request_hash="h")
    first = await make_effect_blindly(UnitOfWork(session_factory, idempotency=request), WORKER, "e1")
    again = await make_effect_blindly(UnitOfWork(session_factory, idempotency=request), WORKER, "e1")
    assert again.id == first.id
    assert await count(session_factory, AppliedEffect) == 1
    other = IdempotentRequest(key=uuid.uuid4().hex, scope="w1:POST:/x", request_hash="h")
    with pytest.raises(IntegrityError):  # a new key explains nothing: the error reaches the caller
        await make_effect_blindly(UnitOfWork(session_factory, idempotency=other), WORKER, "e1")


async def test_a_taken_key_keeps_the_second_works_event_out(session_factory) -> None:
    """The key and the work's one event go together (one statement on PostgreSQL): when the key is
    taken, the twin's event is not kept and the twin answers with the first work's id."""
    request = IdempotentRequest(key=uuid.uuid4().hex, scope="w1:POST:/x", request_hash="h")
    async with UnitOfWork(session_factory, idempotency=request) as first:
        kept = first.record(ResidentTagsChanged(resident_id="r1", tags=[]), district="d1", community="c1")
        assert await first.commit("first") is None
    async with UnitOfWork(session_factory, idempotency=request) as twin:
        twin.record(ResidentTagsChanged(resident_id="r2", tags=[]), district="d1", community="c1")
        assert await twin.commit("twin") == "first"
    async with session_factory() as session:
        events = (await session.exec(select(OutboxMessage.event_id))).all()
    assert list(events) == [kept.event_id]
