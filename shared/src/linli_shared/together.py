"""A write's rows and its outbox rows in one statement: one round trip for the whole effect.

A registration inserts its row, adds it to the statistics rollup and stages its events; as
statements of their own that is three round trips and three passes through the driver. On
PostgreSQL the parts go as data-modifying WITH queries of one statement, the outbox rows last,
in the order recorded (one multi-row VALUES, so their positions ascend in that order). SQLite has
no INSERT in a WITH: there each part runs as its own statement, then the outbox rows.

The parts must write different rows: PostgreSQL runs the WITH queries of one statement on the
same snapshot, so two of them cannot see or change each other's rows.

A write whose every check can be a condition of its statement (a community worker's adjustment of
points) can go further: `Alone` is that statement with its event and its key's row, sent with no
transaction begun (UnitOfWork.commit_alone), so PostgreSQL commits it on its own, with no BEGIN and
COMMIT round trips. What only the statement knows (the balance after the move, the entry's id) goes
into the event and the key from its last query, `made`; the event's JSON passes through jsonb on
the way, which reorders its keys (consumers parse it, so none minds).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, bindparam, text
from sqlalchemy.sql.elements import BindParameter, TextClause
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_shared.bulk import values_sql
from linli_shared.database import on_postgresql
from linli_shared.driver import DriverStatement
from linli_shared.events import Envelope
from linli_shared.idempotency import KEYS
from linli_shared.outbox import OUTBOX, insert_events, note_outbox_written, outbox_row

Binds = tuple[BindParameter[Any], ...]


@dataclass(frozen=True)
class Part:
    """One data-modifying statement of a write, its binds named apart from every other part's."""

    sql: str
    binds: Binds
    params: Mapping[str, Any]

    @classmethod
    def insert(cls, table: Table, row: Mapping[str, Any], prefix: str) -> Part:
        """INSERT of one row (the columns it names), its binds typed as the columns."""
        sql, binds = row_insert(table, tuple(row), prefix)
        return cls(sql, binds, {f"{prefix}{name}": value for name, value in row.items()})

    def clause(self) -> TextClause:
        return text(self.sql).bindparams(*self.binds)


@functools.lru_cache(maxsize=64)
def row_insert(table: Table, names: tuple[str, ...], prefix: str) -> tuple[str, Binds]:
    sql, binds = values_sql(table, names, prefix)
    return sql, tuple(binds)


def events_part(envelopes: Sequence[Envelope]) -> Part:
    """The outbox rows of these events, in one INSERT, their positions in the order given."""
    rows = [outbox_row(envelope) for envelope in envelopes]
    sql, binds = events_insert(tuple(rows[0]), len(rows))
    params = {f"e{index}_{name}": value for index, row in enumerate(rows) for name, value in row.items()}
    return Part(sql, binds, params)


@functools.lru_cache(maxsize=16)
def events_insert(names: tuple[str, ...], count: int) -> tuple[str, Binds]:
    sql, binds = values_sql(OUTBOX, names, *(f"e{index}_" for index in range(count)))
    return sql, tuple(binds)


_COMBINED: dict[tuple[str, ...], DriverStatement] = {}
"""Each combination of parts, compiled once: its text depends only on the parts' texts."""


def combined(parts: Sequence[Part]) -> DriverStatement:
    key = tuple(part.sql for part in parts)
    if (statement := _COMBINED.get(key)) is None:
        *first, last = parts
        queries = ", ".join(f"part_{index} AS ({part.sql})" for index, part in enumerate(first))
        sql = f"WITH {queries} {last.sql}" if first else last.sql
        binds = [bind for part in parts for bind in part.binds]
        statement = _COMBINED[key] = DriverStatement(text(sql).bindparams(*binds))
    return statement


JOINED_EVENTS = 8
"""Up to this many events go in the write's own statement (six binds each); more, as a batch
stages, go after it as one unnest INSERT (linli_shared.outbox.insert_events), whose binds do not
grow with the rows."""


async def write_together(session: AsyncSession, parts: Sequence[Part], events: Sequence[Envelope]) -> None:
    """Write the parts, then the events' outbox rows, in the session's transaction."""
    if not on_postgresql(session):
        connection = await session.connection()  # the session's own transaction
        for part in parts:
            await connection.execute(part.clause(), dict(part.params))
    elif parts or 0 < len(events) <= JOINED_EVENTS:
        if 0 < len(events) <= JOINED_EVENTS:
            parts, events = [*parts, events_part(events)], []
            note_outbox_written(session)
        params: dict[str, Any] = {}
        for part in parts:
            params.update(part.params)
        await combined(parts).run(session, params)
    await insert_events(session, events)


@dataclass(frozen=True)
class Alone:
    """A write that one statement makes whole, sent alone (UnitOfWork.commit_alone): the service's
    WITH queries, the last named `made` and giving one row (none: nothing was made); which of its
    columns is the result the Idempotency-Key remembers; and which fields of the event's payload
    are made's columns (known only once made: a balance after the move)."""

    queries: str
    binds: Binds
    result: str
    payload_from: tuple[tuple[str, str], ...] = ()


def alone_part(alone: Alone, event: Envelope, key: Mapping[str, Any] | None) -> Part:
    """The whole write: the service's queries, then the event's outbox row and the key's row (if
    the request has a key), both taking from `made` what only it knows."""
    announced = outbox_row(event)
    params = {f"e_{name}": value for name, value in announced.items()}
    kept = {} if key is None else {name: value for name, value in key.items() if name != "result_id"}
    params |= {f"key_{name}": value for name, value in kept.items()}
    sql, binds = alone_sql(alone, tuple(announced), tuple(kept))
    return Part(sql, binds, params)


@functools.lru_cache(maxsize=32)
def alone_sql(alone: Alone, announced: tuple[str, ...], kept: tuple[str, ...]) -> tuple[str, Binds]:
    envelope = "CAST(:e_envelope AS JSONB)"
    for field, column in alone.payload_from:
        envelope = f"jsonb_set({envelope}, '{{payload,{field}}}', to_jsonb(made.{column}))"
    chosen = [f"CAST({envelope} AS TEXT)" if name == "envelope" else f":e_{name}" for name in announced]
    sql = (
        f"WITH {alone.queries}, announced AS (INSERT INTO {OUTBOX.name} ({', '.join(announced)})"
        f" SELECT {', '.join(chosen)} FROM made)"
    )
    binds = [bindparam(f"e_{name}", type_=OUTBOX.c[name].type) for name in announced if name != "envelope"]
    binds.append(bindparam("e_envelope", type_=OUTBOX.c.envelope.type))
    if kept:
        values = ", ".join(f":key_{name}" for name in kept)
        sql += (
            f", kept AS (INSERT INTO {KEYS.name} ({', '.join(kept)}, result_id)"
            f" SELECT {values}, CAST(made.{alone.result} AS TEXT) FROM made)"
        )
        binds += [bindparam(f"key_{name}", type_=KEYS.c[name].type) for name in kept]
    return f"{sql} SELECT * FROM made", (*alone.binds, *binds)
