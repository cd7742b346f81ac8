"""Async engine and sessions: SQLite (embedded default) or PostgreSQL, chosen by URL."""

from __future__ import annotations

import asyncio
import logging
import select
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import aiosqlite
from sqlalchemy import ARRAY, any_, bindparam, event, make_url
from sqlalchemy.exc import DisconnectionError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_shared.errors import Conflict

log = logging.getLogger(__name__)

RECYCLE_SECONDS = 1800
"""PostgreSQL connections older than this are replaced at checkout (before any idle timeout cuts them)."""


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str, **options: Any) -> AsyncEngine:
    """Create an engine; on SQLite every transaction takes the write lock up front.

    A deferred SQLite transaction that reads then writes fails with "database is locked" when
    another writer got there first, whatever busy_timeout says; BEGIN IMMEDIATE queues instead.

    On PostgreSQL no pre-ping (SQLAlchemy's asyncpg ping is 3 round trips per checkout): connections
    are recycled by age, and one the server dropped is replaced at checkout (see `refuse_dropped`).
    """
    if not is_sqlite(url):
        options.setdefault("pool_recycle", RECYCLE_SECONDS)
        # Beyond the pool, as many again for a burst (a request that holds two sessions must never
        # wait on itself); those are closed when given back with no one waiting, so the pool itself
        # must cover the usual number in flight (LINLI_DATABASE_POOL_SIZE).
        options.setdefault("max_overflow", options.get("pool_size", 5))
        engine = create_async_engine(url, **options)
        event.listen(engine.sync_engine, "checkout", refuse_dropped)
        return engine
    options.pop("pool_size", None)  # SQLite: one file, its own pool
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


def refuse_dropped(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Pool checkout hook: a connection the server has dropped is discarded and another one taken.

    Raising DisconnectionError here makes the pool close this connection and check out a fresh one
    (SQLAlchemy's "pessimistic" disconnect handling), but the test costs no round trip: asyncpg marks
    a connection closed once the loop has seen the server's goodbye, and an idle connection whose
    socket is readable has one unread (a terminated backend sends FATAL 57P01, then EOF).
    """
    if looks_dropped(dbapi_connection):
        log.info("pooled PostgreSQL connection was dropped by the server; taking a fresh one")
        raise DisconnectionError("pooled connection dropped by the server")


def looks_dropped(dbapi_connection: Any) -> bool:
    """Whether an idle asyncpg connection (under SQLAlchemy's adapter) is closed or has unread input
    (a server's goodbye), told without a round trip; False where that cannot be told."""
    connection = getattr(dbapi_connection, "_connection", None)
    if connection is None:
        return False
    return bool(connection.is_closed()) or _unread_input(connection)


def _unread_input(connection: Any) -> bool:
    """Whether an idle connection's socket has bytes (or EOF) waiting: a select() with no wait."""
    transport = getattr(connection, "_transport", None)
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is None:
        return False
    try:
        readable, _, _ = select.select([sock.fileno()], [], [], 0)
    except (OSError, ValueError):  # closed under us
        return True
    return bool(readable)


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


def on_postgresql(session: AsyncSession) -> bool:
    """Whether the session's database is PostgreSQL (not the embedded SQLite store)."""
    return session.get_bind().dialect.name == "postgresql"


def among(session: AsyncSession, column: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    """`column IN values`, for a batch's many values. On PostgreSQL it is `column = ANY(array)`, one
    parameter whose statement SQLAlchemy compiles once for any number of values; an IN list binds
    each value apart and is compiled again on every call (a fifth of an attendance batch's CPU)."""
    if on_postgresql(session):
        matched: ColumnElement[bool] = column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
        return matched
    listed: ColumnElement[bool] = column.in_(values)
    return listed


async def flush_changes(session: AsyncSession) -> None:
    """Send what the ORM changed so far (before a driver statement that may depend on it); a
    session with nothing to send skips the flush, which would still cost two greenlet hops."""
    if session.new or session.dirty or session.deleted:
        await session.flush()


async def flush_or_conflict(session: AsyncSession, conflict_detail: str, *, zh: str | None = None) -> None:
    """Flush (to get rows in before rows that refer to them); a unique-key violation becomes a 409
    (`conflict_detail`, and `zh` for a person where the detail is English), which the unit of work's
    `@write` answers with a twin's result where a twin caused it."""
    try:
        await session.flush()
    except IntegrityError as error:  # the unit of work rolls the transaction back
        log.info("integrity error taken for a conflict: %s", error.orig)
        raise Conflict(conflict_detail, zh=zh) from error
