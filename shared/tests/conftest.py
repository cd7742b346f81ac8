from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_shared.database import make_engine, make_session_factory
from linli_shared.idempotency import IdempotencyRecord
from linli_shared.inbox import InboxEntry
from linli_shared.outbox import OutboxMessage
from linli_shared.testing.effects import AppliedEffect


@pytest.fixture
async def session_factory(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(database_url)
    async with engine.begin() as connection:
        await connection.run_sync(
            SQLModel.metadata.create_all,
            tables=[
                OutboxMessage.__table__,
                InboxEntry.__table__,
                IdempotencyRecord.__table__,
                AppliedEffect.__table__,
            ],
        )
    yield make_session_factory(engine)
    await engine.dispose()


@pytest.fixture
def district() -> str:
    """A district of this test's own, so tests sharing a NATS server never see each other's events."""
    return f"d{uuid.uuid4().hex[:10]}"
