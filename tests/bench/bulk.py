"""Bulk where the work is bulk: ledger postings per second in a batch on PostgreSQL, each row beside
bare asyncpg doing the same inserts in one transaction per batch (multi-row INSERT … SELECT unnest).

- fund: POST /v1/donation-batches, LINLI_BENCH_BATCHES (20) batches of LINLI_BENCH_BATCH_LINES (1000)
  cash gifts to one community (a counted collection box); two postings per gift.
- points: POST /v1/activities/{id}/attendance-batches, LINLI_BENCH_ATTENDANCE_BATCHES (5) activities
  with LINLI_BENCH_ATTENDEES (200) volunteers each; one points entry per attendee.

LINLI_BENCH_BULK_CLIENTS (2) batches are in flight at once, for Linli and the baseline alike. After
each run the books are checked (every entry balanced, the postings sum to zero, receipts 1..N with no
gap, each credit once); a failed check is printed as a warning beside the figure. Setup (volunteers,
sign-ups) goes through the API and is not timed. Run alone: `.venv/bin/python -m tests.bench.bulk`;
bench.py calls `bulk_rows`.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from linli_fund.app import MIGRATIONS as FUND_MIGRATIONS
from linli_fund.domain import CHART, GUARDED, Channel, Fund, donation_lines, guarded_deltas, receipt_year
from linli_points.app import MIGRATIONS as POINTS_MIGRATIONS
from linli_shared.auth import Role, issue_token
from linli_shared.clock import utc_now
from linli_shared.testing.postgres import postgres_server
from tests.bench.infra import Secrets, asyncpg_dsn, nats_server, pg_database, service_process, temp_dir
from tests.bench.registry_http import Timing, create_schema

BATCHES = int(os.environ.get("LINLI_BENCH_BATCHES", "20"))
BATCH_LINES = int(os.environ.get("LINLI_BENCH_BATCH_LINES", "1000"))
ATTENDANCE_BATCHES = int(os.environ.get("LINLI_BENCH_ATTENDANCE_BATCHES", "5"))
ATTENDEES = int(os.environ.get("LINLI_BENCH_ATTENDEES", "200"))
CLIENTS = int(os.environ.get("LINLI_BENCH_BULK_CLIENTS", "2"))
DISTRICT, COMMUNITY = "bench", "c1"
AMOUNT = 5000  # fen per gift, cash into the general fund
POINTS = 10  # per attendee: 60 minutes at 10 points an hour


@dataclass
class BulkRow:
    measurement: str
    unit: str
    linli: Timing
    baseline: Timing
    warnings: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.linli.rate / self.baseline.rate


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


async def fetch_value(database_url: str, sql: str) -> int:
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        return int(await connection.fetchval(sql) or 0)
    finally:
        await connection.close()


async def expect(database_url: str, warnings: list[str], checks: dict[str, tuple[str, int]]) -> None:
    """Untimed: each SQL's value must be the expected one, else a warning beside the figure."""
    for what, (sql, expected) in checks.items():
        if (found := await fetch_value(database_url, sql)) != expected:
            warnings.append(f"{what}: found {found}, expected {expected}")


def fund_checks(gifts: int) -> dict[str, tuple[str, int]]:
    """The books balance to the fen and the receipts run 1..gifts without a gap."""
    return {
        "donations": ("SELECT count(*) FROM donation", gifts),
        "postings": ("SELECT count(*) FROM posting", 2 * gifts),
        "trial balance (sum of all postings)": ("SELECT coalesce(sum(amount), 0) FROM posting", 0),
        "unbalanced entries": (
            "SELECT count(*) FROM (SELECT entry_id FROM posting GROUP BY entry_id HAVING sum(amount) <> 0) u",
            0,
        ),
        "distinct receipt numbers": ("SELECT count(DISTINCT receipt_sequence) FROM donation", gifts),
        "highest receipt number": ("SELECT coalesce(max(receipt_sequence), 0) FROM donation", gifts),
        "lowest receipt number": ("SELECT coalesce(min(receipt_sequence), 0) FROM donation", 1),
        "receipt counter": ("SELECT coalesce(sum(last_number), 0) FROM receipt_counter", gifts),
        "cash on hand": ("SELECT balance FROM guarded_balance WHERE name = 'assets:cash'", gifts * AMOUNT),
    }


def points_checks(credits: int) -> dict[str, tuple[str, int]]:
    return {
        "earned entries": ("SELECT count(*) FROM points_entry WHERE kind = 'earned'", credits),
        "service records": ("SELECT count(*) FROM service_record", credits),
        "balances": ("SELECT coalesce(sum(balance), 0) FROM points_account", credits * POINTS),
        "entries' sum": ("SELECT coalesce(sum(points), 0) FROM points_entry", credits * POINTS),
    }


Post = tuple[str, dict[str, Any], dict[str, str]]


def bearer(keys: Secrets, role: Role) -> dict[str, str]:
    token = issue_token(keys.jwt_secret, role=role, district=DISTRICT, community=COMMUNITY, subject="bench")
    return {"Authorization": f"Bearer {token}"}


async def post_many(client: httpx.AsyncClient, requests: Sequence[Post], clients: int) -> float:
    """Post every request, `clients` at a time; seconds taken. Anything but a 2xx stops the run."""

    async def post(path: str, body: dict[str, Any], headers: dict[str, str]) -> None:
        response = await client.post(path, json=body, headers=headers)
        if response.status_code >= 300:
            raise RuntimeError(f"{path}: {response.status_code} {response.text[:300]}")

    return await at_once([partial(post, *request) for request in requests], clients)


def gift_lines(batch: int, lines: int) -> list[dict[str, Any]]:
    return [
        {"donor_kind": "resident", "donor_name": f"居民 {batch}-{i}", "channel": "cash", "amount_fen": AMOUNT}
        for i in range(lines)
    ]


async def over_http(
    service: str,
    workdir: Path,
    database_url: str,
    nats_url: str,
    requests: Callable[[httpx.AsyncClient, dict[str, str]], Awaitable[list[Post]]],
    clients: int,
) -> float:
    """Seconds to post all but the first of `requests` (made, with any setup, once the service runs;
    the first is a warm-up) to a process of `service`, `clients` at a time."""
    keys = Secrets.random()
    with service_process(service, workdir, database_url=database_url, nats_url=nats_url, keys=keys) as url:
        async with httpx.AsyncClient(base_url=url, timeout=300) as client:
            posts = await requests(client, bearer(keys, Role.COMMUNITY_WORKER))
            await post_many(client, posts[:1], 1)
            return await post_many(client, posts[1:], clients)


async def fund_batches_over_http(
    workdir: Path, database_url: str, nats_url: str, batches: int, lines: int, clients: int
) -> tuple[Timing, list[str]]:
    """Postings per second through the fund's batch endpoint, each batch with its own key."""

    async def requests(_: httpx.AsyncClient, headers: dict[str, str]) -> list[Post]:
        body = {"district": DISTRICT, "community": COMMUNITY}
        key = {**headers, "Idempotency-Key": ""}
        return [
            (
                "/v1/donation-batches",
                {**body, "donations": gift_lines(b, lines)},
                {**key, "Idempotency-Key": f"b{b}"},
            )
            for b in range(batches + 1)
        ]

    seconds = await over_http("fund", workdir, database_url, nats_url, requests, clients)
    warnings: list[str] = []
    await expect(database_url, warnings, fund_checks((batches + 1) * lines))
    return Timing(2 * batches * lines, seconds), warnings


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


async def gathered(jobs: Any, at_once: int = 8) -> list[str]:
    """Run the awaitables, `at_once` at a time, keeping their order."""
    pending = list(jobs)
    gate = asyncio.Semaphore(at_once)

    async def one(job: Awaitable[str]) -> str:
        async with gate:
            return await job

    return list(await asyncio.gather(*(one(job) for job in pending)))


# --- the baselines: bare asyncpg, one transaction per batch, multi-row INSERT … SELECT unnest ---------

BUMP = (
    "UPDATE receipt_counter SET last_number = last_number + $4"
    " WHERE district = $1 AND community = $2 AND year = $3 RETURNING last_number"
)
MOVE = (
    "UPDATE guarded_balance SET balance = balance + $4 WHERE district = $1 AND community = $2 AND name = $3"
)
ENTRIES = (
    "INSERT INTO journal_entry (district, community, kind, narration, reference, posted_by, posted_at)"
    " SELECT $1, $2, 'donation', n, r, 'bench', $3 FROM unnest($4::text[], $5::text[]) AS t(n, r)"
    " RETURNING id, reference"
)
POSTINGS = (
    "INSERT INTO posting (entry_id, district, community, account, amount)"
    " SELECT e, $1, $2, a, m FROM unnest($3::int[], $4::text[], $5::int[]) AS t(e, a, m)"
)
DONATIONS = (
    "INSERT INTO donation (id, district, community, receipt_number, receipt_year, receipt_sequence,"
    " donor_kind, donor_name, anonymous, channel, fund, amount_fen, status, entry_id, recorded_by,"
    " received_at, batch_id) SELECT i, $1, $2, n, $3, s, 'resident', d, false, 'cash', 'general', $4,"
    " 'received', e, 'bench', $5, $6 FROM unnest($7::text[], $8::text[], $9::int[], $10::text[], $11::int[])"
    " AS t(i, n, s, d, e)"
)
OUTBOX = (
    "INSERT INTO outbox_message (event_id, subject, envelope, created_at, attempts, next_attempt_at)"
    " SELECT i, s, v, $1, 0, $1 FROM unnest($2::text[], $3::text[], $4::text[]) AS t(i, s, v)"
)


def envelopes(
    kind: str, payloads: list[dict[str, Any]], now: datetime
) -> tuple[list[str], list[str], list[str]]:
    """Event ids, subjects and JSON envelopes as the outbox holds them."""
    ids = [str(uuid.uuid4()) for _ in payloads]
    subject = f"linli.{DISTRICT}.{kind}"
    bodies = [
        json.dumps({"event_id": i, "event_type": kind, "occurred_at": now.isoformat(), "payload": p})
        for i, p in zip(ids, payloads, strict=True)
    ]
    return ids, [subject] * len(ids), bodies


async def raw_fund_batch(connection: asyncpg.Connection, batch: int, lines: int) -> None:
    now = utc_now()
    stamp = now.replace(tzinfo=None)  # the columns hold naive UTC
    year = receipt_year(now)
    async with connection.transaction():
        last = await connection.fetchval(BUMP, DISTRICT, COMMUNITY, year, lines)
        sequences = list(range(last - lines + 1, last + 1))
        for name, delta in guarded_deltas(donation_lines(Channel.CASH, Fund.GENERAL, AMOUNT)).items():
            await connection.execute(MOVE, DISTRICT, COMMUNITY, name, delta * lines)
        ids = [str(uuid.uuid4()) for _ in range(lines)]
        receipts = [f"{year}-{s:06d}" for s in sequences]
        narrations = [f"donation {r} (resident) to the general fund" for r in receipts]
        rows = await connection.fetch(ENTRIES, DISTRICT, COMMUNITY, stamp, narrations, ids)
        entry_of = {row["reference"]: row["id"] for row in rows}
        entries = [entry_of[i] for i in ids]
        accounts = [line.account for line in donation_lines(Channel.CASH, Fund.GENERAL, AMOUNT)]
        amounts = [line.amount for line in donation_lines(Channel.CASH, Fund.GENERAL, AMOUNT)]
        postings = ([e for e in entries for _ in accounts], accounts * lines, amounts * lines)
        await connection.execute(POSTINGS, DISTRICT, COMMUNITY, *postings)
        donors = [line["donor_name"] for line in gift_lines(batch, lines)]
        columns = (ids, receipts, sequences, donors, entries)
        await connection.execute(
            DONATIONS, DISTRICT, COMMUNITY, year, AMOUNT, stamp, str(uuid.uuid4()), *columns
        )
        payloads = [
            {"donation_id": i, "receipt_number": r, "amount_fen": AMOUNT}
            for i, r in zip(ids, receipts, strict=True)
        ]
        await connection.execute(OUTBOX, stamp, *envelopes("fund.donation.received", payloads, now))


async def raw_fund_batches(
    database_url: str, batches: int, lines: int, clients: int
) -> tuple[Timing, list[str]]:
    """The rows of `batches` donation batches, seeded as the fund's first use seeds them."""
    where = (DISTRICT, COMMUNITY)
    pool = await asyncpg.create_pool(asyncpg_dsn(database_url), min_size=clients, max_size=clients)
    try:
        async with pool.acquire() as connection:
            await connection.executemany(
                "INSERT INTO account (district, community, code, type) VALUES ($1, $2, $3, $4)",
                [(*where, code, kind.value) for code, kind in CHART.items()],
            )
            await connection.executemany(
                "INSERT INTO guarded_balance (district, community, name, balance, reserved)"
                " VALUES ($1, $2, $3, 0, 0)",
                [(*where, name) for name in GUARDED],
            )
            await connection.execute(
                "INSERT INTO receipt_counter (district, community, year, last_number) VALUES ($1, $2, $3, 0)",
                *where,
                receipt_year(utc_now()),
            )

        async def one(batch: int) -> None:
            async with pool.acquire() as connection:
                await raw_fund_batch(connection, batch, lines)

        await one(-1)
        seconds = await at_once([partial(one, b) for b in range(batches)], clients)
    finally:
        await pool.close()
    warnings: list[str] = []
    await expect(database_url, warnings, fund_checks((batches + 1) * lines))
    return Timing(2 * batches * lines, seconds), warnings


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
        await connection.execute(
            RECORDS, *where, activity, day, POINTS, stamp, str(uuid.uuid4()), records, volunteers
        )
        confirmed = [
            {"record_id": r, "volunteer_id": v, "minutes": 60}
            for r, v in zip(records, volunteers, strict=True)
        ]
        earned = [
            {"volunteer_id": v, "points": POINTS, "balance": b}
            for v, b in zip(volunteers, balances, strict=True)
        ]
        await connection.execute(OUTBOX, stamp, *envelopes("points.service.hours_confirmed", confirmed, now))
        await connection.execute(OUTBOX, stamp, *envelopes("points.points.earned", earned, now))


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


async def at_once(jobs: Sequence[Callable[[], Awaitable[None]]], clients: int) -> float:
    """Run the jobs, `clients` at a time; seconds taken."""
    queue = list(reversed(jobs))

    async def worker() -> None:
        while queue:
            await queue.pop()()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return time.perf_counter() - started


Run = Callable[[str], Awaitable[tuple[Timing, list[str]]]]


async def measured(admin_url: str, label: str, migrations: Path, run: Run) -> tuple[Timing, list[str]]:
    """`run` on a database of its own, migrated by the service's migrations, dropped afterwards."""
    async with pg_database(admin_url, label) as database_url:
        await create_schema(database_url, migrations)
        return await run(database_url)


async def bulk_rows(root: Path, admin_url: str) -> list[BulkRow]:
    """The bulk rows on the PostgreSQL server at `admin_url`, with a NATS server of their own."""
    with nats_server(root / "nats-bulk", "bench-bulk") as nats:
        sizes, nats_url = (BATCHES, BATCH_LINES, CLIENTS), nats.url
        attendance = (ATTENDANCE_BATCHES, ATTENDEES, CLIENTS)
        rows: list[tuple[str, str, Path, str, Run, Run]] = [
            (f"fund: donation batches of {BATCH_LINES}", "postings/s", FUND_MIGRATIONS, "fund",
             lambda url: fund_batches_over_http(root, url, nats_url, *sizes),
             lambda url: raw_fund_batches(url, *sizes)),
            (f"points: attendance batches of {ATTENDEES}", "credits/s", POINTS_MIGRATIONS, "points",
             lambda url: attendance_over_http(root, url, nats_url, *attendance),
             lambda url: raw_attendance(root, url, nats_url, *attendance)),
        ]  # fmt: skip
        made = []
        for measurement, unit, migrations, label, linli, bare in rows:
            timing, warnings = await measured(admin_url, f"bulk_{label}", migrations, linli)
            baseline, bare_warnings = await measured(admin_url, f"bulk_{label}_raw", migrations, bare)
            warnings += [f"baseline: {warning}" for warning in bare_warnings]
            made.append(BulkRow(measurement, unit, timing, baseline, warnings))
        return made


def print_rows(rows: list[BulkRow]) -> None:
    print(f"load average (1, 5, 15 min): {load_average()}")
    for row in rows:
        print(
            f"{row.measurement:<38} linli {row.linli.rate:>9,.0f} {row.unit:<11}"
            f" bare asyncpg {row.baseline.rate:>9,.0f}   ratio {row.ratio:.2f}"
            f"   ({row.linli.count:,} in {row.linli.seconds:.2f} s)"
        )
        for warning in row.warnings:
            print(f"    WARNING {warning}")


async def main() -> None:
    with ExitStack() as stack:
        admin_url = os.environ.get("LINLI_TEST_PG_URL") or stack.enter_context(postgres_server())
        workdir = stack.enter_context(temp_dir("linli-bench-bulk-"))
        print(f"bulk bench; load average before: {load_average()}", flush=True)
        rows = await bulk_rows(workdir, admin_url)
        print_rows(rows)


if __name__ == "__main__":
    asyncio.run(main())
