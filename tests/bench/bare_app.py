"""The bare baseline of the HTTP rows: FastAPI + asyncpg doing the same inserts as a Linli write.

Served by the same uvicorn settings and workers as the services (ServiceProcess with another app).
No auth, no ORM, no unit of work: each POST is one transaction of the rows the Linli write leaves —
the effect, its outbox rows and (where the request carries an Idempotency-Key) the key's record —
on a database migrated by that service's own migrations. GET /hello answers without the database:
it shows what the server and the load client can do at all.

Environment: LINLI_BARE_DATABASE_URL (postgresql://…), LINLI_BARE_ID_HASH_KEY, LINLI_BARE_POOL (10).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

import asyncpg
from fastapi import Body, FastAPI, Header, Request

from linli_fund.domain import (
    Channel,
    DonationStatus,
    EntryKind,
    Fund,
    donation_lines,
    guarded_deltas,
    receipt_year,
)
from linli_fund.domain import receipt_number as format_receipt
from linli_points.domain import EntryKind as PointsEntryKind
from linli_registry.domain import birth_date_from_id, hash_id_number, mask_id_number

TAGS: tuple[str, ...] = (
    "living_alone",
    "lonely",
    "disabled",
    "bedridden",
    "dibao",
    "poor_household",
    "orphan",
)
TAGS += ("child_in_difficulty", "veteran", "party_member")
RESIDENT_COLUMNS: tuple[str, ...] = (
    "id",
    "district",
    "community",
    "full_name",
    "gender",
    "birth_date",
    "id_number_hash",
)
RESIDENT_COLUMNS += ("id_number_masked", *TAGS, "status", "registered_at")
RESIDENT = (
    f"INSERT INTO resident ({', '.join(RESIDENT_COLUMNS)})"
    f" VALUES ({', '.join(f'${n}' for n in range(1, len(RESIDENT_COLUMNS) + 1))})"
)
OUTBOX = (
    "INSERT INTO outbox_message (event_id, subject, envelope, created_at, attempts, next_attempt_at)"
    " VALUES ($1, $2, $3, $4, 0, $4)"
)
KEY = (
    "INSERT INTO idempotency_record (scope, key, request_hash, result_id, created_at)"
    " VALUES ($1, $2, $3, $4, $5)"
)
ADD = "UPDATE points_account SET balance = balance + $2 WHERE volunteer_id = $1 RETURNING balance"
ENTRY = (
    "INSERT INTO points_entry (district, community, volunteer_id, kind, points, balance_after, reason, actor,"
    " reference, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, $9) RETURNING id"
)
BUMP_RECEIPT = (
    "UPDATE receipt_counter SET last_number = last_number + 1"
    " WHERE district = $1 AND community = $2 AND year = $3 RETURNING last_number"
)
MOVE_GUARDED = (
    "UPDATE guarded_balance SET balance = balance + $4 WHERE district = $1 AND community = $2 AND name = $3"
)
JOURNAL = (
    "INSERT INTO journal_entry (district, community, kind, narration, reference, reverses_entry_id,"
    " posted_by, posted_at) VALUES ($1, $2, $3, $4, $5, NULL, $6, $7) RETURNING id"
)
POSTING = "INSERT INTO posting (entry_id, district, community, account, amount) VALUES ($1, $2, $3, $4, $5)"
DONATION = (
    "INSERT INTO donation (id, district, community, receipt_number, receipt_year, receipt_sequence,"
    " campaign_id, donor_kind, donor_name, anonymous, channel, restricted_to, fund, amount_fen, status,"
    " entry_id, recorded_by, received_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, $8, false, $9, NULL, $10, $11, $12, $13, 'bare', $14)"
)


JsonBody = Annotated[dict[str, Any], Body()]
KeyHeader = Annotated[str | None, Header(alias="Idempotency-Key")]


def tally_upserts() -> tuple[str, str]:
    """The registry's statistics rollup (where its migrations made one): one upsert per table, adding
    this resident's counts to its grid's row, as linli_registry.tally does in the same transaction."""
    tags = ", ".join(TAGS)
    adds = ", ".join(f"{t} = residenttally.{t} + excluded.{t}" for t in ("population", *TAGS))
    places = "district, community, grid_code"
    tally = (
        f"INSERT INTO residenttally ({places}, population, {tags})"
        f" VALUES ($1, $2, '', 1, {', '.join(f'${n}' for n in range(3, 3 + len(TAGS)))})"
        f" ON CONFLICT ({places}) DO UPDATE SET {adds}"
    )
    births = (
        f"INSERT INTO residentbirthtally ({places}, birth_year, population) VALUES ($1, $2, '', $3, 1)"
        f" ON CONFLICT ({places}, birth_year) DO UPDATE"
        " SET population = residentbirthtally.population + excluded.population"
    )
    return tally, births


TALLY, BIRTHS = tally_upserts()


async def has_tally(pool: asyncpg.Pool) -> bool:
    return bool(await pool.fetchval("SELECT to_regclass('residenttally') IS NOT NULL"))


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)  # stored naive UTC, as UtcDateTime does


async def outbox(connection: asyncpg.Connection, subject: str, payload: dict[str, Any], at: datetime) -> None:
    """An outbox row with an envelope of the usual shape and size."""
    event_id = str(uuid.uuid4())
    envelope = {"event_id": event_id, "subject": subject, "occurred_at": at.isoformat(), "payload": payload}
    await connection.execute(OUTBOX, event_id, subject, json.dumps(envelope), at)


async def remember(
    connection: asyncpg.Connection, path: str, key: str | None, result: str, at: datetime
) -> None:
    if key is not None:
        await connection.execute(KEY, f"bare:POST:{path}", key, "0" * 64, result, at)


def create_app() -> FastAPI:
    dsn = os.environ["LINLI_BARE_DATABASE_URL"]
    id_key = os.environ.get("LINLI_BARE_ID_HASH_KEY", "bare").encode()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = pool = await asyncpg.create_pool(
            dsn, min_size=1, max_size=int(os.environ.get("LINLI_BARE_POOL", "10"))
        )
        app.state.tally = await has_tally(pool)
        yield
        await pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/hello")
    async def hello() -> dict[str, str]:
        return {"hello": "world"}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/residents", status_code=201)
    async def residents(request: Request, body: JsonBody) -> dict[str, str]:
        number, at, resident_id = body["id_number"], now(), str(uuid.uuid4())
        tags = [tag in body.get("tags", ()) for tag in TAGS]
        born = birth_date_from_id(number)
        row: tuple[Any, ...] = (
            resident_id,
            body["district"],
            body["community"],
            body["full_name"],
            body["gender"],
        )
        row += (born, hash_id_number(number, id_key), mask_id_number(number))
        async with request.app.state.pool.acquire() as connection, connection.transaction():
            await connection.execute(RESIDENT, *row, *tags, "active", at)
            if request.app.state.tally:
                await connection.execute(TALLY, body["district"], body["community"], *(int(t) for t in tags))
                await connection.execute(BIRTHS, body["district"], body["community"], born.year)
            payload = {
                "resident_id": resident_id,
                "district": body["district"],
                "community": body["community"],
            }
            await outbox(connection, "registry.resident.registered", payload, at)
            await outbox(connection, "registry.resident.contact_changed", payload, at)
        return {"id": resident_id}

    @app.post("/credits", status_code=201)
    async def credits(
        request: Request,
        body: JsonBody,
        idempotency_key: KeyHeader = None,
    ) -> dict[str, int]:
        volunteer, points, at = body["volunteer_id"], int(body["points"]), now()
        async with request.app.state.pool.acquire() as connection, connection.transaction():
            balance = await connection.fetchval(ADD, volunteer, points)
            kind, reason = PointsEntryKind.ADJUSTED.value, body["reason"]
            entry = await connection.fetchval(
                ENTRY, "bench", "c1", volunteer, kind, points, balance, reason, "bare", at
            )
            payload = {"volunteer_id": volunteer, "points": points, "balance": balance}
            await outbox(connection, "points.points.adjusted", payload, at)
            await remember(connection, "/credits", idempotency_key, str(entry), at)
        return {"id": entry, "balance": balance}

    @app.post("/donations", status_code=201)
    async def donations(
        request: Request,
        body: JsonBody,
        idempotency_key: KeyHeader = None,
    ) -> dict[str, str]:
        async with request.app.state.pool.acquire() as connection, connection.transaction():
            donation_id = await donate(connection, body)
            await remember(connection, "/donations", idempotency_key, donation_id, now())
        return {"id": donation_id}

    return app


async def donate(connection: asyncpg.Connection, body: dict[str, Any]) -> str:
    """The donation's rows, as the fund posts them: receipt number, guarded balances, entry, postings."""
    district, community, amount, at = body["district"], body["community"], int(body["amount_fen"]), now()
    channel, fund, donation_id = Channel(body["channel"]), Fund.GENERAL, str(uuid.uuid4())
    year = receipt_year(datetime.now(UTC))
    sequence = await connection.fetchval(BUMP_RECEIPT, district, community, year)
    receipt = format_receipt(year, int(sequence))
    lines = donation_lines(channel, fund, amount)
    for name, delta in guarded_deltas(lines).items():
        await connection.execute(MOVE_GUARDED, district, community, name, delta)
    narration = f"donation {receipt} ({body['donor_kind']}) to the {fund.value} fund"
    entry_id = await connection.fetchval(
        JOURNAL, district, community, EntryKind.DONATION.value, narration, donation_id, "bare", at
    )
    for line in lines:
        await connection.execute(POSTING, entry_id, district, community, line.account, line.amount)
    await connection.execute(
        DONATION, donation_id, district, community, receipt, year, int(sequence), body["donor_kind"],
        body["donor_name"], channel.value, fund.value, amount, DonationStatus.RECEIVED.value, entry_id, at,
    )  # fmt: skip
    payload = {"donation_id": donation_id, "receipt_number": receipt, "amount_fen": amount}
    await outbox(connection, "fund.donation.recorded", payload, at)
    return donation_id
