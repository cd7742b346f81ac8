"""Statements on the driver's own connection, on SQLite and PostgreSQL: in the session's
transaction (begun by them if they come first), converting what SQLAlchemy converts, and
failing as SQLAlchemy fails."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError

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
