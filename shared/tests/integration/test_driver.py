"""Statements on the driver's own connection, on SQLite and PostgreSQL: in the session's
transaction (begun by them if they come first), converting what SQLAlchemy converts, and
failing as SQLAlchemy fails."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError

from linli_shared.bulk import insert_rows
from linli_shared.driver import DriverStatement
from linli_shared.idempotency import KEYS, IdempotencyRecord

pytestmark = pytest.mark.integration

REMEMBER = DriverStatement(insert(KEYS))
FIND = DriverStatement(select(KEYS.c.result_id).where(KEYS.c.key == bindparam("key")))
AT = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)


def record(key: str, result: str = "r1") -> dict[str, object]:
    return {"scope": "s", "key": key, "request_hash": "h", "result_id": result, "created_at": AT}


async def test_a_first_statement_begins_the_session_transaction_and_rolls_back_with_it(
    session_factory,  # noqa: ANN001
) -> None:
    async with session_factory() as session:
        await REMEMBER.run(session, record("k1"))  # the transaction's first statement
        assert await FIND.value(session, {"key": "k1"}) == "r1"
        await session.rollback()
    async with session_factory() as session:
        assert await FIND.value(session, {"key": "k1"}) is None


async def test_it_shares_the_transaction_with_the_session_both_ways(session_factory) -> None:  # noqa: ANN001
    async with session_factory() as session:
        session.add(IdempotencyRecord(**record("k1", "from the session")))  # type: ignore[arg-type]
        await session.flush()
        assert await FIND.value(session, {"key": "k1"}) == "from the session"
        await REMEMBER.run(session, record("k2", "from the driver"))
        stored = await session.get(IdempotencyRecord, ("s", "k2"))
        assert stored is not None and stored.result_id == "from the driver"
        assert stored.created_at == AT, "a UTC instant is converted as SQLAlchemy converts it"
        await session.commit()
    async with session_factory() as session:
        assert await FIND.value(session, {"key": "k2"}) == "from the driver"


async def test_a_unique_violation_is_an_integrity_error(session_factory) -> None:  # noqa: ANN001
    async with session_factory() as session:
        await REMEMBER.run(session, record("k1"))
        with pytest.raises(IntegrityError):
            await REMEMBER.run(session, record("k1", "again"))


async def test_the_held_connection_serves_one_transaction_only(session_factory) -> None:  # noqa: ANN001
    """After a commit or a rollback the next statement runs in a new transaction, never on a
    connection the pool has taken back: what it writes rolls back with that new transaction."""
    async with session_factory() as session:
        await REMEMBER.run(session, record("k1"))
        await session.commit()
        await REMEMBER.run(session, record("k2"))  # a new transaction, begun by this statement
        await session.rollback()
        await REMEMBER.run(session, record("k3"))
        await session.commit()
    async with session_factory() as session:
        found = [await FIND.value(session, {"key": key}) for key in ("k1", "k2", "k3")]
    assert found == ["r1", None, "r1"]


async def test_a_batch_stores_shared_and_varying_values_alike(session_factory) -> None:  # noqa: ANN001
    """Values every row shares go once (None and UTC instants too); rows alike in every column
    are still each a row."""
    later = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
    rows = [record(f"k{i}", result="same") | {"created_at": AT if i % 2 else later} for i in range(5)]
    alike = [record("twin") | {"scope": f"scope {i}"} for i in range(3)]
    async with session_factory() as session:
        await insert_rows(session, IdempotencyRecord, rows)
        await insert_rows(session, IdempotencyRecord, alike)
        await session.commit()
    async with session_factory() as session:
        ordered = select(IdempotencyRecord).order_by(KEYS.c.scope, KEYS.c.key)
        stored = (await session.execute(ordered)).scalars().all()
    assert [(r.scope, r.key, r.result_id, r.created_at) for r in stored] == [
        *(("s", f"k{i}", "same", AT if i % 2 else later) for i in range(5)),
        *((f"scope {i}", "twin", "r1", AT) for i in range(3)),
    ]
