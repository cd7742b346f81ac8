"""A write's rows and its events together, on SQLite and PostgreSQL: all kept, in the order
recorded, or none; on PostgreSQL in one statement."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from linli_shared.bulk import table_of
from linli_shared.clock import utc_now
from linli_shared.contracts.registry import ResidentTagsChanged
from linli_shared.database import on_postgresql
from linli_shared.driver import DriverStatement
from linli_shared.events import Envelope
from linli_shared.idempotency import KEYS, IdempotencyRecord, IdempotentRequest
from linli_shared.outbox import OutboxMessage
from linli_shared.testing.effects import AppliedEffect
from linli_shared.together import JOINED_EVENTS, Alone, Part
from linli_shared.unit_of_work import UnitOfWork

pytestmark = pytest.mark.integration

EFFECTS = table_of(AppliedEffect)


def key_row(key: str) -> dict[str, object]:
    return {"scope": "s", "key": key, "request_hash": "h", "result_id": "r", "created_at": utc_now()}


def stage(uow: UnitOfWork, count: int) -> list[str]:
    """Record `count` events; their ids in the order recorded."""
    return [
        uow.record(ResidentTagsChanged(resident_id=f"r{n}", tags=[]), district="d1", community="c1").event_id
        for n in range(count)
    ]


async def stored(session_factory, model, column) -> list[object]:  # noqa: ANN001
    async with session_factory() as session:
        order = OutboxMessage.position if model is OutboxMessage else column
        return list((await session.exec(select(column).order_by(col(order)))).all())


@pytest.mark.parametrize("events", [0, 2, JOINED_EVENTS, JOINED_EVENTS + 3])
async def test_parts_and_events_are_kept_together_in_the_order_recorded(
    session_factory,  # noqa: ANN001
    monkeypatch: pytest.MonkeyPatch,
    events: int,
) -> None:
    statements: list[str] = []
    run = DriverStatement.rows

    async def counted(self: DriverStatement, on, params):  # noqa: ANN001, ANN202
        statements.append(str(self.statement))
        return await run(self, on, params)

    monkeypatch.setattr(DriverStatement, "rows", counted)
    async with UnitOfWork(session_factory) as uow:
        recorded = stage(uow, events)
        await uow.write_with_events(
            Part.insert(EFFECTS, {"event_id": "e1"}, "a_"), Part.insert(KEYS, key_row("k1"), "k_")
        )
        postgresql = on_postgresql(uow.session)
        await uow.commit()
    assert await stored(session_factory, AppliedEffect, AppliedEffect.event_id) == ["e1"]
    assert await stored(session_factory, IdempotencyRecord, IdempotencyRecord.key) == ["k1"]
    assert await stored(session_factory, OutboxMessage, OutboxMessage.event_id) == recorded
    if postgresql:  # the parts and a write's few events in one statement; a batch's events after it
        assert len(statements) == (1 if events <= JOINED_EVENTS else 2)


async def test_a_failing_part_keeps_no_part_and_no_event(session_factory) -> None:  # noqa: ANN001
    async with UnitOfWork(session_factory) as uow:
        uow.session.add(IdempotencyRecord(**key_row("taken")))  # type: ignore[arg-type]
        await uow.commit()
    async with UnitOfWork(session_factory) as uow:
        stage(uow, 2)
        with pytest.raises(IntegrityError):
            await uow.write_with_events(
                Part.insert(EFFECTS, {"event_id": "e1"}, "a_"), Part.insert(KEYS, key_row("taken"), "k_")
            )
    assert await stored(session_factory, AppliedEffect, AppliedEffect.event_id) == []
    assert await stored(session_factory, OutboxMessage, OutboxMessage.event_id) == []


async def test_a_taken_key_keeps_none_of_the_twins_events(session_factory) -> None:  # noqa: ANN001
    """The key goes in the statement of the work's last events: taken, it undoes all of them."""
    request = IdempotentRequest(key=uuid.uuid4().hex, scope="w1:POST:/x", request_hash="h")
    async with UnitOfWork(session_factory, idempotency=request) as first:
        kept = stage(first, 3)
        assert await first.commit("first") is None
    async with UnitOfWork(session_factory, idempotency=request) as twin:
        stage(twin, 3)
        assert await twin.commit("twin") == "first"
    assert await stored(session_factory, OutboxMessage, OutboxMessage.event_id) == kept


# --- a write sent alone (UnitOfWork.commit_alone) ---------------------------------------------------

MADE_ALONE = Alone(
    "made AS (INSERT INTO test_applied_effect (event_id) SELECT :effect WHERE :make RETURNING id, event_id)",
    (),
    result="id",
    payload_from=(("resident_id", "event_id"),),
)
"""An effect whose id and text only the statement knows: the key remembers its id, the event's
payload takes its text."""


def placeholder() -> ResidentTagsChanged:
    return ResidentTagsChanged(resident_id="set by the statement", tags=[])


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_write_sent_alone_keeps_its_effect_event_and_key_in_one_statement(
    session_factory,  # noqa: ANN001
    sent_to_postgresql: Callable[[], list[str]],
) -> None:
    sent = sent_to_postgresql()
    keyed = IdempotentRequest(key="k-alone", scope="s", request_hash="h")
    async with UnitOfWork(session_factory, idempotency=keyed) as uow:
        made = await uow.commit_alone(
            MADE_ALONE, {"effect": "e-alone", "make": True}, placeholder(), district="d1", community="c1"
        )
        assert made is not None and made["event_id"] == "e-alone"
        assert await uow.commit("not this") is None  # committed already: nothing more is sent
    assert len(sent) == 1, sent  # no BEGIN, no COMMIT
    assert await stored(session_factory, AppliedEffect, AppliedEffect.event_id) == ["e-alone"]
    assert await stored(session_factory, IdempotencyRecord, IdempotencyRecord.result_id) == [str(made["id"])]
    (envelope,) = await stored(session_factory, OutboxMessage, OutboxMessage.envelope)
    announced = Envelope.model_validate_json(str(envelope)).open(ResidentTagsChanged)  # as consumers read it
    assert announced == ResidentTagsChanged(resident_id="e-alone", tags=[])


async def test_a_write_that_cannot_go_alone_keeps_nothing_and_goes_the_long_way(
    session_factory,  # noqa: ANN001
) -> None:
    """Nothing made (a refusal), events already staged, or SQLite: None, nothing kept, and the same
    unit of work then does the work the long way."""
    async with UnitOfWork(session_factory) as uow:
        refused = {"effect": "e-refused", "make": False}
        assert (
            await uow.commit_alone(MADE_ALONE, refused, placeholder(), district="d1", community="c1") is None
        )
        recorded = stage(uow, 1)
        made = {"effect": "e-staged", "make": True}
        assert await uow.commit_alone(MADE_ALONE, made, placeholder(), district="d1", community="c1") is None
        await uow.write_with_events(Part.insert(EFFECTS, {"event_id": "e-long"}, "a_"))
        await uow.commit()
    assert await stored(session_factory, AppliedEffect, AppliedEffect.event_id) == ["e-long"]
    assert await stored(session_factory, OutboxMessage, OutboxMessage.event_id) == recorded
