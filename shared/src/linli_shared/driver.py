"""Hot statements run on the database driver's own connection, in the session's transaction.

SQLAlchemy's execution layer costs about 0.2 ms of CPU per statement over the driver's own call
(measured here: 320 µs against 113 µs for one UPDATE … RETURNING on asyncpg), and a write runs five
or six statements, so on PostgreSQL the statements every write runs (its outbox rows, its key) and
the hot writes' own (a credit, a donation) skip it: each is a Core statement, compiled once for the
dialect, whose text and binds go straight to asyncpg on the connection the session already holds,
inside its transaction. Elsewhere (SQLite, the embedded store) the statement runs through
SQLAlchemy as usual, so one statement serves both stores and tests on both prove it.

What comes back is the driver's values, unconverted: keep these statements to plain columns
(numbers, text, ids), not to types whose results SQLAlchemy converts (UTC instants, JSON).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import Dialect
from sqlalchemy.engine import Compiled
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import SessionTransaction
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import BindParameter, ClauseElement
from sqlmodel.ext.asyncio.session import AsyncSession

Row = Mapping[str, Any]


class DriverStatement:
    """A Core statement that, on PostgreSQL, runs on the asyncpg connection itself."""

    def __init__(self, statement: Executable) -> None:
        assert isinstance(statement, ClauseElement)
        self.statement = statement
        self._compiled: dict[tuple[str, ...], tuple[str, list[Bind]]] = {}

    async def rows(self, on: AsyncSession | AsyncConnection, params: Mapping[str, Any]) -> list[Row]:
        held = held_driver(on) if isinstance(on, AsyncSession) else None
        if held is None:
            connection = await on.connection() if isinstance(on, AsyncSession) else on
            if connection.dialect.name != "postgresql":
                result = await connection.execute(self.statement, dict(params))
                return [dict(row) for row in result.mappings()] if result.returns_rows else []
            held = Held(await driver_connection(connection), connection.dialect)
            if isinstance(on, AsyncSession):
                hold_driver(on, held)
        return await self.rows_on(held, params)

    async def rows_on(self, held: Held, params: Mapping[str, Any]) -> list[Row]:
        """The rows, from this driver connection as it stands (see unbegun_driver)."""
        driver, dialect = held
        sql, binds = self._compile(dialect, tuple(params))
        arguments = [bind.value(params) for bind in binds]
        try:
            return list(await driver.fetch(sql, *arguments))
        except asyncpg.IntegrityConstraintViolationError as error:  # what the unit of work expects
            raise IntegrityError(sql, arguments, error) from error
        except asyncpg.PostgresError as error:
            raise DBAPIError(sql, arguments, error) from error

    async def row(self, on: AsyncSession | AsyncConnection, params: Mapping[str, Any]) -> Row | None:
        rows = await self.rows(on, params)
        return rows[0] if rows else None

    async def value(self, on: AsyncSession | AsyncConnection, params: Mapping[str, Any]) -> Any:
        """The first column of the first row, or None when there is no row."""
        row = await self.row(on, params)
        return None if row is None else next(iter(row.values()))

    async def run(self, on: AsyncSession | AsyncConnection, params: Mapping[str, Any]) -> None:
        await self.rows(on, params)

    def _compile(self, dialect: Dialect, names: tuple[str, ...]) -> tuple[str, list[Bind]]:
        """The statement's text and its binds in order, made once for each set of parameter names
        (an INSERT's columns are the names it is given)."""
        if (compiled := self._compiled.get(names)) is None:
            made: Compiled = self.statement.compile(dialect=dialect, column_keys=list(names))
            binds = made.binds  # type: ignore[attr-defined]
            order: Sequence[str] = made.positiontup or []  # type: ignore[attr-defined]
            compiled = self._compiled[names] = (
                made.string,
                [Bind.of(binds[name], dialect) for name in order],
            )
        return compiled


@dataclass(frozen=True)
class Bind:
    """One of a statement's parameters: given by name, or a value the statement holds (the 0 of
    `balance + :points >= 0`), turned into what the driver takes as SQLAlchemy would turn it."""

    name: str
    fixed: Any
    convert: Callable[[Any], Any] | None

    @classmethod
    def of(cls, parameter: BindParameter[Any], dialect: Dialect) -> Bind:
        fixed = None if parameter.required else parameter.effective_value
        return cls(parameter.key, fixed, parameter.type.dialect_impl(dialect).bind_processor(dialect))

    def value(self, params: Mapping[str, Any]) -> Any:
        value = params[self.name] if self.name in params else self.fixed
        return value if self.convert is None else self.convert(value)


class Held(tuple[asyncpg.Connection, Dialect]):
    """A session transaction's asyncpg connection and its dialect."""

    __slots__ = ()

    def __new__(cls, driver: asyncpg.Connection, dialect: Dialect) -> Held:
        return super().__new__(cls, (driver, dialect))


_HELD: weakref.WeakKeyDictionary[SessionTransaction, Held] = weakref.WeakKeyDictionary()
"""Each open session transaction's driver connection, found once: asking the session for it again
cost two greenlet hops per statement. A transaction's connection is fixed until it ends, and an
ended transaction is no longer the session's, so it is never asked for again."""


def held_driver(session: AsyncSession) -> Held | None:
    transaction = session.sync_session.get_transaction()
    if transaction is None or not transaction.is_active:
        return None
    return _HELD.get(transaction)


def hold_driver(session: AsyncSession, held: Held) -> None:
    if (transaction := session.sync_session.get_transaction()) is not None:
        _HELD[transaction] = held


async def driver_connection(connection: AsyncConnection) -> asyncpg.Connection:
    """The asyncpg connection under this SQLAlchemy connection, its transaction begun.

    SQLAlchemy's asyncpg adapter begins a transaction only at its first statement; a statement sent
    past it must begin it the same way, or it would run outside the transaction (autocommit). That
    adapter method is private, so a test (test_driver.py) proves the rows roll back with the rest."""
    raw = await connection.get_raw_connection()
    adapted = raw.dbapi_connection
    if adapted._transaction is None:  # type: ignore[union-attr]
        await adapted._start_transaction()  # type: ignore[union-attr]
    driver = raw.driver_connection
    assert isinstance(driver, asyncpg.Connection)
    return driver


async def unbegun_driver(session: AsyncSession) -> Held | None:
    """The session's asyncpg connection while nothing has begun on it, or None (begun, or not
    PostgreSQL). A statement sent on it runs alone, in PostgreSQL's implicit transaction of its own:
    no BEGIN or COMMIT round trip. The session's commit then sends nothing, as the adapter's commit
    does nothing when it began no transaction (test_supermarket.py counts what a lone credit sends)."""
    connection = await session.connection()
    if connection.dialect.name != "postgresql":
        return None
    raw = await connection.get_raw_connection()
    if raw.dbapi_connection._transaction is not None:  # type: ignore[union-attr]
        return None
    driver = raw.driver_connection
    assert isinstance(driver, asyncpg.Connection)
    return Held(driver, connection.dialect)
