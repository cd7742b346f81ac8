"""Each service's outbox backlog, read from its database: rows not yet published, the oldest first."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Table, func, make_url, select
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from linli_shared.ops.targets import Unreachable, shown
from linli_shared.outbox import OutboxMessage

QUERY_SECONDS = 5.0

OUTBOX: Table = OutboxMessage.__table__  # type: ignore[attr-defined]

UNSENT = OUTBOX.c.sent_at.is_(None)
COUNT_UNSENT = select(func.count()).select_from(OUTBOX).where(UNSENT)
OLDEST_UNSENT = (
    select(
        OUTBOX.c.position,
        OUTBOX.c.event_id,
        OUTBOX.c.subject,
        OUTBOX.c.created_at,
        OUTBOX.c.attempts,
        OUTBOX.c.last_error,
    )
    .where(UNSENT)
    .order_by(OUTBOX.c.position)
    .limit(1)
)


@dataclass(frozen=True)
class UnsentRow:
    position: int
    event_id: str
    subject: str
    created_at: datetime
    attempts: int
    last_error: str | None


@dataclass(frozen=True)
class OutboxBacklog:
    unsent: int
    oldest: UnsentRow | None

    def oldest_age_seconds(self, now: datetime) -> float | None:
        return None if self.oldest is None else max(0.0, (now - self.oldest.created_at).total_seconds())


async def read_backlog(connection: AsyncConnection) -> OutboxBacklog:
    """The backlog as one connection to the service's database sees it."""
    unsent = int((await connection.execute(COUNT_UNSENT)).scalar_one())
    row = (await connection.execute(OLDEST_UNSENT)).one_or_none()
    return OutboxBacklog(unsent, None if row is None else UnsentRow(**row._asdict()))


async def outbox_backlog(database_url: str) -> OutboxBacklog:
    """Read-only: on SQLite without the service's BEGIN IMMEDIATE, so it never takes the write lock."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").exists():
        raise Unreachable(f"no database file at {url.database}")  # SQLite would make an empty one
    options = {"connect_args": {"timeout": QUERY_SECONDS}} if url.get_backend_name() == "postgresql" else {}
    engine = create_async_engine(url, **options)
    try:
        async with engine.connect() as connection:
            return await asyncio.wait_for(read_backlog(connection), QUERY_SECONDS)
    except Unreachable:
        raise
    except Exception as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise Unreachable(f"database {shown(database_url)}: {type(error).__name__}: {reason[:200]}") from None
    finally:
        await engine.dispose()
