"""One process at a time runs a job that must not run twice at once (the outbox relay), however
many workers and replicas serve the same database.

On PostgreSQL the leader holds a session advisory lock on a connection of its own: when that
process stops or dies, the server ends its connection and frees the lock, and the next process
to ask takes over. On SQLite (one machine, one writer) every process leads.
"""

from __future__ import annotations

import hashlib
import logging
import time

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from linli_shared.database import looks_dropped

log = logging.getLogger(__name__)

TAKE = text("SELECT pg_try_advisory_lock(:key)")
STILL_HERE = text("SELECT 1")
GIVE_UP = text("SELECT pg_advisory_unlock(:key)")
PING_SECONDS = 5.0
"""Between passes the lead's connection is checked without a round trip (a server that ended it has
sent its goodbye); a real query confirms it at least this often, for a link that died silently."""


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for the job's name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class Leadership:
    """Whether this process leads, asked before each pass of the job."""

    def __init__(self, engine: AsyncEngine, job: str) -> None:
        self._engine = engine
        self._job = job
        self._key = {"key": lock_key(job)}
        self._connection: AsyncConnection | None = None
        self._next_ping = 0.0

    @property
    def shared(self) -> bool:
        """Whether other processes may run the job on this database (not so on SQLite)."""
        return self._engine.dialect.name == "postgresql"

    async def held(self) -> bool:
        """True if this process leads now: it took the lock, or its connection (and so the lock)
        is still alive. A lost connection loses the lead; it is asked for again next time."""
        if not self.shared:
            return True
        if self._connection is not None:
            if not await self._looks_dropped() and time.monotonic() < self._next_ping:
                return True  # alive as far as can be told without a round trip
            try:
                await self._connection.execute(STILL_HERE)
                self._next_ping = time.monotonic() + PING_SECONDS
                return True
            except (DBAPIError, OSError) as error:
                log.warning("%s: lead lost: %r", self._job, error)
                await self._drop()
                return False
        try:
            connection = await self._engine.connect()
        except (DBAPIError, OSError) as error:
            log.warning("%s: cannot ask for the lead: %r", self._job, error)
            return False
        try:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            taken = await connection.scalar(TAKE, self._key)
        except (DBAPIError, OSError) as error:
            log.warning("%s: cannot ask for the lead: %r", self._job, error)
            await connection.invalidate()
            return False
        if not taken:
            await connection.close()
            return False
        log.info("%s: this process leads", self._job)
        self._connection = connection
        self._next_ping = time.monotonic() + PING_SECONDS
        return True

    async def _looks_dropped(self) -> bool:
        assert self._connection is not None
        raw = await self._connection.get_raw_connection()
        return looks_dropped(raw.dbapi_connection)

    async def release(self) -> None:
        """Hand the lead over (on stop), so another process need not wait for this one to exit."""
        if self._connection is None:
            return
        try:
            await self._connection.execute(GIVE_UP, self._key)
            await self._connection.close()
        except (DBAPIError, OSError):
            await self._drop()
        self._connection = None

    async def _drop(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            await connection.invalidate()  # never back to the pool: the server ends it, and the lock
