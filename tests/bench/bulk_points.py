"""The points bulk row: POST /v1/activities/{id}/attendance-batches, LINLI_BENCH_ATTENDANCE_BATCHES
(25) activities with LINLI_BENCH_ATTENDEES (200) volunteers each, one points entry per attendee, beside
bare asyncpg writing the same rows in one transaction per batch. Setup (volunteers, sign-ups) goes
through the API and is not timed; each credit is checked to be there once after the run."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from linli_shared.auth import Role
from linli_shared.clock import utc_now
from linli_shared.contracts.points import ATTENDEES_PER_EVENT
from tests.bench.bulk_common import (
    COMMUNITY,
    DISTRICT,
    OUTBOX,
    Post,
    at_once,
    bearer,
    envelopes,
    expect,
    gathered,
    over_http,
)
from tests.bench.infra import Secrets, asyncpg_dsn, service_process
from tests.bench.registry_http import Timing

POINTS = 10  # per attendee: 60 minutes at 10 points an hour


def points_checks(credits: int) -> dict[str, tuple[str, int]]:
    return {
        "earned entries": ("SELECT count(*) FROM points_entry WHERE kind = 'earned'", credits),
        "service records": ("SELECT count(*) FROM service_record", credits),
        "balances": ("SELECT coalesce(sum(balance), 0) FROM points_account", credits * POINTS),
        "entries' sum": ("SELECT coalesce(sum(points), 0) FROM points_entry", credits * POINTS),
    }


async def attendance_over_http(
    workdir: Path, database_url: str, nats_url: str, batches: int, attendees: int, clients: int
) -> tuple[Timing, list[str]]:
    """Credits per second through the attendance batch endpoint; setup through the API, untimed."""

    async def requests(client: httpx.AsyncClient, headers: dict[str, str]) -> list[Post]:
        volunteers, activities = await points_setup(client, headers, batches + 1, attendees)
        body = {"attendees": [{"volunteer_id": v, "minutes": 60} for v in volunteers]}
        return [
            (f"/v1/activities/{a}/attendance-batches", body, {**headers, "Idempotency-Key": a})
            for a in activities
        ]

    seconds = await over_http("points", workdir, database_url, nats_url, requests, clients)
    warnings: list[str] = []
    await expect(database_url, warnings, points_checks((batches + 1) * attendees))
    return Timing(batches * attendees, seconds), warnings


async def points_setup(
    client: httpx.AsyncClient, headers: dict[str, str], activities: int, attendees: int
) -> tuple[list[str], list[str]]:
    """`attendees` volunteers, each signed up for every one of `activities` activities under way."""

    async def made(path: str, body: dict[str, Any]) -> str:
        response = await client.post(path, json=body, headers=headers)
        if response.status_code != 201:
            raise RuntimeError(f"{path}: {response.status_code} {response.text[:300]}")
        return str(response.json()["id"])

    where = {"district": DISTRICT, "community": COMMUNITY}
    now = datetime.now(UTC)
    volunteers = await gathered(
        made("/v1/volunteers", {**where, "subject": f"v{i}", "full_name": f"志愿者{i}"})
        for i in range(attendees)
    )
    activity = {
        **where,
        "title": "义诊 free clinic",
        "kind": "clinic",
        "place": "活动室",
        "starts_at": (now - timedelta(minutes=5)).isoformat(),
        "ends_at": (now + timedelta(hours=3)).isoformat(),
        "capacity": attendees,
        "points_per_hour": POINTS,
    }
    ids = [await made("/v1/activities", activity) for _ in range(activities)]
    await gathered(made(f"/v1/activities/{a}/sign-ups", {"volunteer_id": v}) for a in ids for v in volunteers)
    return volunteers, ids


# --- the baseline: bare asyncpg, one transaction per batch ---------------------------------------------

SIGNED = (
    "UPDATE sign_up SET status = 'attended'"
    " WHERE activity_id = $1 AND volunteer_id = ANY($2::text[]) AND status = 'signed_up'"
)


CREDIT = (
    "UPDATE points_account AS p SET balance = p.balance + $2 FROM unnest($1::text[]) AS v(id)"
    " WHERE p.volunteer_id = v.id RETURNING p.volunteer_id, p.balance"
)


POINTS_ENTRIES = (
    "INSERT INTO points_entry (district, community, volunteer_id, kind, points, balance_after, reason,"
    " actor, reference, created_at) SELECT $1, $2, v, 'earned', $3, b, 'free clinic: 1.0 h', 'bench', r, $4"
    " FROM unnest($5::text[], $6::int[], $7::text[]) AS t(v, b, r)"
)


RECORDS = (
    "INSERT INTO service_record (id, district, community, volunteer_id, activity_id, served_on, minutes,"
    " earns_points, points_awarded, note, recorded_by, recorded_at, batch_id) SELECT r, $1, $2, v, $3, $4,"
    " 60, true, $5, '', 'bench', $6, $7 FROM unnest($8::text[], $9::text[]) AS t(r, v)"
)


async def raw_attendance_batch(connection: asyncpg.Connection, activity: str, volunteers: list[str]) -> None:
    now = utc_now()
    stamp = now.replace(tzinfo=None)  # the columns hold naive UTC
    where = (DISTRICT, COMMUNITY)
    async with connection.transaction():
        marked = await connection.execute(SIGNED, activity, volunteers)
        if marked != f"UPDATE {len(volunteers)}":
            raise RuntimeError(f"sign-ups marked: {marked}")
        balance = dict(await connection.fetch(CREDIT, volunteers, POINTS))
        records = [str(uuid.uuid4()) for _ in volunteers]
        balances = [balance[v] for v in volunteers]
        await connection.execute(POINTS_ENTRIES, *where, POINTS, stamp, volunteers, balances, records)
        day = (now + timedelta(hours=8)).date()
        batch = str(uuid.uuid4())
        await connection.execute(RECORDS, *where, activity, day, POINTS, stamp, batch, records, volunteers)
        attendees = [
            {"record_id": r, "volunteer_id": v, "minutes": 60, "points_awarded": POINTS, "balance": b}
            for r, v, b in zip(records, volunteers, balances, strict=True)
        ]
        announced = [  # as Linli announces them: one event a chunk of attendees
            {"batch_id": batch, "activity_id": activity, "attendees": attendees[i : i + ATTENDEES_PER_EVENT]}
            for i in range(0, len(attendees), ATTENDEES_PER_EVENT)
        ]
        await connection.execute(
            OUTBOX, stamp, *envelopes("points.service.attendance_confirmed", announced, now)
        )


async def raw_attendance(
    workdir: Path, database_url: str, nats_url: str, batches: int, attendees: int, clients: int
) -> tuple[Timing, list[str]]:
    """The rows of `batches` attendance batches; volunteers and sign-ups made through the API first."""
    keys = Secrets.random()
    with service_process("points", workdir, database_url=database_url, nats_url=nats_url, keys=keys) as url:
        async with httpx.AsyncClient(base_url=url, timeout=300) as client:
            volunteers, activities = await points_setup(
                client, bearer(keys, Role.COMMUNITY_WORKER), batches + 1, attendees
            )
    pool = await asyncpg.create_pool(asyncpg_dsn(database_url), min_size=clients, max_size=clients)
    try:

        async def one(activity: str) -> None:
            async with pool.acquire() as connection:
                await raw_attendance_batch(connection, activity, volunteers)

        await one(activities[0])
        seconds = await at_once([partial(one, a) for a in activities[1:]], clients)
    finally:
        await pool.close()
    warnings: list[str] = []
    await expect(database_url, warnings, points_checks((batches + 1) * attendees))
    return Timing(batches * attendees, seconds), warnings
