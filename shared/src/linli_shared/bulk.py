"""Many rows in one statement: for batches (a collection box's gifts, an activity's attendance)
and for a transaction's outbox rows, with no ORM object per row."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Column, DateTime, Dialect, Table, bindparam, insert, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.types import TypeEngine
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_shared.clock import UtcDateTime
from linli_shared.driver import DriverStatement
from linli_shared.errors import Conflict


def table_of(model: type[SQLModel]) -> Table:
    """A model's table, for Core statements."""
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table


async def insert_rows(
    session: AsyncSession,
    model: type[SQLModel],
    rows: Sequence[dict[str, Any]],
    *,
    returning_id: bool = False,
    conflict: str | None = None,
    conflict_zh: str | None = None,
) -> list[int]:
    """Insert many rows (each with the same keys) in the session's transaction, in one statement;
    with `returning_id`, return the ids the database gave them, in the rows' order. With `conflict`,
    a unique-key violation is a 409 saying it (and `conflict_zh` to a person, where `conflict` is
    English), as `flush_or_conflict` makes it.

    On PostgreSQL: INSERT … SELECT FROM unnest(one array per column), whose cost hardly grows with
    the rows and whose text is the same for any number of them (a single row goes as plain values);
    elsewhere an executemany.
    """
    if not rows:
        return []
    names = [column.name for column in table_of(model).columns if column.name in rows[0]]
    columns = {name: [row[name] for row in rows] for name in names}
    return await insert_columns(
        session, model, columns, returning_id=returning_id, conflict=conflict, conflict_zh=conflict_zh
    )


async def insert_columns(
    session: AsyncSession,
    model: type[SQLModel],
    columns: dict[str, list[Any]],
    *,
    shared: Mapping[str, Any] | None = None,
    returning_id: bool = False,
    conflict: str | None = None,
    conflict_zh: str | None = None,
) -> list[int]:
    """insert_rows for rows given column by column (each list one value a row, all of one length),
    and `shared`, the values every row has (a batch's community, its clerk): what a batch builds,
    with no dict made per row."""
    count = len(next(iter(columns.values())))
    if count == 0:
        return []
    columns = columns | {name: [value] * count for name, value in (shared or {}).items()}
    try:
        return await _insert(session, table_of(model), columns, count, returning_id)
    except IntegrityError as error:  # the unit of work rolls the transaction back
        if conflict is None:
            raise
        raise Conflict(conflict, zh=conflict_zh) from error


async def _insert(
    session: AsyncSession, table: Table, columns: dict[str, list[Any]], count: int, returning_id: bool
) -> list[int]:
    dialect = session.get_bind().dialect
    names = tuple(column.name for column in table.columns if column.name in columns)
    if dialect.name != "postgresql":
        connection = await session.connection()  # the session's own transaction
        statement = insert(table)
        if returning_id:
            statement = statement.returning(table.c.id, sort_by_parameter_order=True)
        rows = [
            dict(zip(names, values, strict=True)) for values in zip(*(columns[n] for n in names), strict=True)
        ]
        result = await connection.execute(statement, rows)
        return list(result.scalars().all()) if returning_id else []
    if count == 1:  # one row: plain values, no array to encode per column
        single = values_insert(table, names, returning_id)
        inserted = await single.rows(session, {name: columns[name][0] for name in names})
        return [inserted[0]["id"]] if returning_id else []
    # A value every row shares (a batch's community, its kind, its clerk) goes once, not as an array
    # of copies: asyncpg checks each element of an array it encodes, and the server unnests it.
    shared = tuple(name for name in names if columns[name].count(columns[name][0]) == count)
    varying = tuple(name for name in names if name not in shared) or shared[:1]
    shared = tuple(name for name in shared if name not in varying)
    unnested = unnest_insert(table, varying, dialect, returning_id, shared)
    params = {name: array_values(table.c[name], columns[name]) for name in varying}
    inserted = await unnested.rows(session, params | {name: columns[name][0] for name in shared})
    return sorted(row["id"] for row in inserted) if returning_id else []


@functools.lru_cache(maxsize=256)
def values_insert(table: Table, names: tuple[str, ...], returning_id: bool) -> DriverStatement:
    """INSERT … VALUES of these columns only, as the unnest form lists them (the rest take the
    table's server defaults)."""
    sql, binds = values_sql(table, names)
    return DriverStatement(text(sql + (" RETURNING id" if returning_id else "")).bindparams(*binds))


def values_sql(table: Table, names: tuple[str, ...], *prefixes: str) -> tuple[str, list[BindParameter[Any]]]:
    """The text of INSERT … VALUES of these columns, one row per prefix (none: one row), and its
    binds, typed as the columns and named prefix + column (so that rows, and statements, can share
    one statement)."""
    prefixes = prefixes or ("",)
    rows = ", ".join("(" + ", ".join(f":{prefix}{name}" for name in names) + ")" for prefix in prefixes)
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES {rows}"
    return sql, [
        bindparam(f"{prefix}{name}", type_=table.c[name].type) for prefix in prefixes for name in names
    ]


@functools.lru_cache(maxsize=256)
def unnest_insert(
    table: Table, names: tuple[str, ...], dialect: Dialect, returning_id: bool, shared: tuple[str, ...] = ()
) -> DriverStatement:
    """INSERT … SELECT FROM unnest(…) of these columns, with the `shared` ones given once for all rows,
    built once for each table and set of columns (so SQLAlchemy's statement cache knows it) rather
    than on every call."""
    columns = [table.c[name] for name in names]
    arrays = ", ".join(f"CAST(:{c.name} AS {c.type.compile(dialect=dialect)}[])" for c in columns)
    once = [f"CAST(:{name} AS {table.c[name].type.compile(dialect=dialect)})" for name in shared]
    # Serial ids (an outbox row's position, an entry's id) come from the table's sequence, drawn in
    # the order the SELECT yields its rows: ORDER BY the arrays' ordinality and they ascend in the
    # rows' order (the returned ids are sorted by the caller, as RETURNING promises no order).
    ordinal = "linli_row_number"
    listed = ", ".join(names)
    sql = (
        f"INSERT INTO {table.name} ({', '.join([*names, *shared])}) SELECT {', '.join([*names, *once])}"
        f" FROM unnest({arrays}) WITH ORDINALITY AS t({listed}, {ordinal}) ORDER BY {ordinal}"
    ) + (" RETURNING id" if returning_id else "")
    binds = [bindparam(c.name, type_=ARRAY(array_type(c))) for c in columns]
    binds += [bindparam(name, type_=table.c[name].type) for name in shared]
    return DriverStatement(text(sql).bindparams(*binds))


def array_type(column: Column[Any]) -> TypeEngine[Any]:
    """The type an array of the column's values is bound as: UTC instants go as the plain
    timestamps they are stored as (converted by array_values), not through a decorator per value."""
    return DateTime() if isinstance(column.type, UtcDateTime) else column.type


def array_values(column: Column[Any], values: list[Any]) -> list[Any]:
    """A column's values as array_type binds them; a batch's instants repeat, so each is converted once."""
    if not isinstance(column.type, UtcDateTime):
        return values
    converted: dict[datetime, datetime | None] = {}
    for value in values:
        if value is not None and value not in converted:
            converted[value] = column.type.process_bind_param(value, None)
    return [None if value is None else converted[value] for value in values]
