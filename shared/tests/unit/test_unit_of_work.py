"""The shape of every write, proved on the in-memory unit of work: replay, decide, record, commit."""

from __future__ import annotations

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_shared.auth import Caller, Role
from linli_shared.contracts.registry import ResidentTagsChanged
from linli_shared.errors import Conflict, Forbidden
from linli_shared.idempotency import IdempotentRequest
from linli_shared.testing.effects import AppliedEffect
from linli_shared.testing.fakes import FakeUnitOfWork
from linli_shared.unit_of_work import Made, Work, write

WORKER = Caller(subject="w1", role=Role.COMMUNITY_WORKER, district="d1", community="c1")


def key(body: str = "{}") -> IdempotentRequest:
    return IdempotentRequest(key="k1", scope="w1:POST:/v1/effects", request_hash=body)


async def load_effect(session: AsyncSession, caller: Caller, effect_id: str) -> AppliedEffect:
    effect = await session.get(AppliedEffect, int(effect_id))
    assert effect is not None
    return effect


@write(replay=load_effect)
async def make_effect(uow: Work, caller: Caller, name: str, *, refuse: bool = False) -> Made[AppliedEffect]:
    """A write as every use case has it: decide, record an event, say what was made."""
    caller.check_role(Role.COMMUNITY_WORKER)
    if refuse:
        raise Conflict("the effect is there already")
    effect = AppliedEffect(id=len(uow.session._committed) + 1, event_id=name)  # type: ignore[attr-defined]
    uow.session.add(effect)
    uow.record(ResidentTagsChanged(resident_id=name, tags=[]), district="d1", community="c1")
    return Made(str(effect.id), effect)


async def test_a_write_commits_its_rows_and_events_together() -> None:
    uow = FakeUnitOfWork()
    effect = await make_effect(uow, WORKER, "e1")
    assert effect.event_id == "e1"
    assert uow.commits == 1
    assert [envelope.event_type for envelope in uow.published] == ["registry.resident.tags_changed"]


async def test_a_refused_write_keeps_nothing_and_records_no_event() -> None:
    uow = FakeUnitOfWork()
    with pytest.raises(Conflict):
        await make_effect(uow, WORKER, "e1", refuse=True)
    assert uow.commits == 0
    assert uow.published == []
    assert uow.rows == {}


async def test_the_same_key_twice_makes_one_effect_and_answers_alike() -> None:
    uow = FakeUnitOfWork(idempotency=key())
    first = await make_effect(uow, WORKER, "e1")
    again = await make_effect(uow, WORKER, "e1")
    assert again == first
    assert uow.commits == 1
    assert len(uow.published) == 1


async def test_a_domain_error_after_a_twin_committed_answers_with_the_twin_result() -> None:
    uow = FakeUnitOfWork(idempotency=key())
    first = await make_effect(uow, WORKER, "e1")
    # what a racing twin sees: the state already shows the effect, so deciding refuses
    uow.keys.clear()
    uow.keys[(key().scope, key().key)] = (key().request_hash, str(first.id))
    assert await make_effect(uow, WORKER, "e1", refuse=True) == first


async def test_the_same_key_with_another_body_is_a_conflict() -> None:
    uow = FakeUnitOfWork(idempotency=key("{}"))
    await make_effect(uow, WORKER, "e1")
    uow.idempotency = key('{"other": 1}')
    with pytest.raises(Conflict, match="different request body"):
        await make_effect(uow, WORKER, "e1")


async def test_an_error_that_no_twin_explains_reaches_the_caller() -> None:
    volunteer = Caller(subject="v1", role=Role.VOLUNTEER, district="d1", community="c1")
    uow = FakeUnitOfWork(idempotency=key())
    with pytest.raises(Forbidden):
        await make_effect(uow, volunteer, "e1")
    assert uow.rows == {} and uow.published == []
