"""Async engine and sessions: SQLite (embedded default) or PostgreSQL, chosen by URL."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any

import aiosqlite
from sqlalchemy import event, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_shared.errors import Conflict

log = logging.getLogger(__name__)


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str, **options: Any) -> AsyncEngine:
    """Create an engine; on SQLite every transaction takes the write lock up front.

    A deferred SQLite transaction that reads then writes fails with "database is locked" when
    another writer got there first, whatever busy_timeout says; BEGIN IMMEDIATE queues instead.
    """
    if not is_sqlite(url):
        options.setdefault("pool_pre_ping", True)
        return create_async_engine(url, **options)
    engine = create_async_engine(url, async_creator=sqlite_connector(url), **options)

    @event.listens_for(engine.sync_engine, "connect")
    def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let the "begin" hook below issue BEGIN
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin_immediate(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


class SQLiteConnection(aiosqlite.Connection):
    """An aiosqlite connection that tells its worker thread to stop once, however often asked.

    When a query is cancelled SQLAlchemy closes the connection gracefully and, if cancelled again
    meanwhile, stops it by force. aiosqlite 0.22 queues one "stop" per call and the first ends the
    worker thread, so the graceful close then awaited the second for ever and shutdown hung.
    """

    _stop_requested: asyncio.Future[Any] | None = None
    _stopping = False

    def stop(self) -> asyncio.Future[Any] | None:
        if not self._stopping:
            self._stopping = True
            self._stop_requested = super().stop()
        return self._stop_requested


def sqlite_connector(url: str) -> Callable[[], Awaitable[aiosqlite.Connection]]:
    """What SQLAlchemy's aiosqlite dialect would open for `url`, as a SQLiteConnection."""
    path = make_url(url).database or ":memory:"

    def open_database() -> sqlite3.Connection:
        # the connection is used from aiosqlite's worker thread, not the one that opened it
        return sqlite3.connect(path, timeout=30, check_same_thread=False)

    async def connect() -> aiosqlite.Connection:
        connection = SQLiteConnection(open_database, iter_chunk_size=64)
        connection._thread.daemon = True  # as SQLAlchemy does: a forgotten connection never blocks exit
        return await connection

    return connect


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded values after commit, so reading them never does hidden I/O."""
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


async def flush_or_conflict(session: AsyncSession, conflict_detail: str) -> None:
    """Flush (to get rows in before rows that refer to them); a unique-key violation becomes a 409,
    which the unit of work's `@write` answers with a twin's result where a twin caused it."""
    try:
        await session.flush()
    except IntegrityError as error:  # the unit of work rolls the transaction back
        log.info("integrity error taken for a conflict: %s", error.orig)
        raise Conflict(conflict_detail) from error
