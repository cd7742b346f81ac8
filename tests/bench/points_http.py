"""Redemptions and credits per second: the points service over HTTP, beside the same effects as raw SQL."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg
import httpx

from linli_points.app import MIGRATIONS as POINTS_MIGRATIONS
from linli_points.domain import EntryKind, RedemptionStatus, new_pickup_code
from linli_points.models import Item, PointsAccount, PointsEntry, Volunteer
from linli_shared.auth import Role, issue_token
from linli_shared.clock import utc_now
from linli_shared.database import make_engine, make_session_factory
from tests.bench.infra import Secrets, asyncpg_dsn, service_process
from tests.bench.registry_http import (
    Timing,
    create_schema,
    run_workers,
    scalar,
    sqlite_connection,
    sqlite_values,
    wait_outbox_drained,
)

DISTRICT = "bench"
COMMUNITY = "c1"
ITEM_NAME = "Bench rice 5 kg"
PRICE = 10  # every volunteer is credited this much beforehand and redeems one item at this price
CREDIT = 5  # points per timed credit


@dataclass
class PointsRun:
    """Both figures from one points process (or one raw database), with what the checks found."""

    redemptions: Timing
    credits: Timing
    redemption_warnings: list[str] = field(default_factory=list)
    credit_warnings: list[str] = field(default_factory=list)
    redemption_relay_lag: float | None = None
    credit_relay_lag: float | None = None


def check(warnings: list[str], what: str, found: int, expected: int) -> None:
    """An untimed check of an effect; a mismatch is printed and kept, not raised."""
    if found != expected:
        message = f"WARNING: {what}: expected {expected}, found {found}"
        print(f"  ! {message}", flush=True)
        warnings.append(message)


async def verify_redemptions(database_url: str, *, volunteers: int, redeemed: int) -> list[str]:
    warnings: list[str] = []
    check(warnings, "redemptions", await scalar(database_url, "SELECT count(*) FROM redemption"), redeemed)
    check(
        warnings,
        "ledger entries of kind redeemed",
        await scalar(database_url, "SELECT count(*) FROM points_entry WHERE kind = 'redeemed'"),
        redeemed,
    )
    check(
        warnings,
        "stock left",
        await scalar(database_url, "SELECT coalesce(sum(stock), 0) FROM item"),
        volunteers - redeemed,
    )
    check(
        warnings,
        "sum of balances",
        await scalar(database_url, "SELECT coalesce(sum(balance), 0) FROM points_account"),
        (volunteers - redeemed) * PRICE,
    )
    return warnings


async def verify_credits(database_url: str, *, volunteers: int, redeemed: int, credited: int) -> list[str]:
    """`credited` timed and warm-up credits on top of the redemption run's state."""
    warnings: list[str] = []
    check(
        warnings,
        "sum of balances",
        await scalar(database_url, "SELECT coalesce(sum(balance), 0) FROM points_account"),
        (volunteers - redeemed) * PRICE + credited * CREDIT,
    )
    check(
        warnings,
        "sum of points in the ledger",
        await scalar(database_url, "SELECT coalesce(sum(points), 0) FROM points_entry"),
        (volunteers - redeemed) * PRICE + credited * CREDIT,
    )
    return warnings


# --- Linli: the points service over HTTP ----------------------------------------------------------

Request = tuple[str, dict[str, Any], dict[str, str]]  # path, JSON body, headers


async def post_all(
    base_url: str, requests: Sequence[Request], workers: int
) -> tuple[float, list[dict[str, Any] | None], list[str]]:
    """POST every request with `workers` clients (one keep-alive connection each).

    Returns the seconds taken, each request's JSON answer (None where it was not 201) and the failures.
    """
    clients = [httpx.AsyncClient(base_url=base_url, timeout=60) for _ in range(workers)]
    answers: list[dict[str, Any] | None] = [None] * len(requests)
    failures: list[str] = []
    try:

        async def send(number: int, indexed: tuple[int, Request]) -> None:
            index, (path, body, headers) = indexed
            response = await clients[number].post(path, json=body, headers=headers)
            if response.status_code == 201:
                answers[index] = response.json()
            else:
                failures.append(f"POST {path} answered {response.status_code}: {response.text[:300]}")

        started = time.perf_counter()
        await run_workers(enumerate(requests), workers, send)
        return time.perf_counter() - started, answers, failures
    finally:
        for client in clients:
            await client.aclose()


async def post_setup(base_url: str, requests: Sequence[Request], workers: int) -> list[dict[str, Any]]:
    """Untimed setup requests: every one must succeed."""
    _, answers, failures = await post_all(base_url, requests, workers)
    if failures:
        raise RuntimeError(f"{len(failures)} setup requests failed, first: {failures[0]}")
    return [answer for answer in answers if answer is not None]


async def post_timed(base_url: str, requests: Sequence[Request], workers: int, warnings: list[str]) -> float:
    seconds, _, failures = await post_all(base_url, requests, workers)
    if failures:
        message = f"WARNING: {len(failures)} of {len(requests)} timed requests failed, first: {failures[0]}"
        print(f"  ! {message}", flush=True)
        warnings.append(message)
    return seconds


async def relay_caught_up(database_url: str) -> float:
    """Seconds until the service's relay has published every outbox row written so far."""
    return await wait_outbox_drained(
        database_url, await scalar(database_url, "SELECT count(*) FROM outbox_message")
    )


async def check_keys(database_url: str, path: str, expected: int, warnings: list[str]) -> None:
    """Each keyed request left its idempotency record (the setup's requests carried no key)."""
    sql = f"SELECT count(*) FROM idempotency_record WHERE scope LIKE '%:POST:{path}'"
    check(warnings, f"idempotency records of POST {path}", await scalar(database_url, sql), expected)


async def points_over_http(
    workdir: Path,
    *,
    database_url: str,
    nats_url: str,
    redemptions: int,
    credits: int,
    warmup: int,
    workers: int,
) -> PointsRun:
    """One points process: volunteers enrolled and credited, an item stocked (untimed); then timed
    redemptions, each by a volunteer with their own token, then timed credits by a worker."""
    keys = Secrets.random()
    worker = {
        "Authorization": "Bearer "
        + issue_token(
            keys.jwt_secret,
            role=Role.COMMUNITY_WORKER,
            district=DISTRICT,
            community=COMMUNITY,
            subject="bench-worker",
        )
    }
    count = warmup + redemptions  # one volunteer per redemption, warm-up ones included
    subjects = [f"bench-volunteer-{i}" for i in range(count)]
    with service_process(
        "points", workdir, database_url=database_url, nats_url=nats_url, keys=keys
    ) as base_url:
        enrolled = await post_setup(
            base_url,
            [
                (
                    "/v1/volunteers",
                    {"district": DISTRICT, "community": COMMUNITY, "subject": s, "full_name": f"Bench {s}"},
                    worker,
                )
                for s in subjects
            ],
            workers,
        )
        volunteer_ids = {answer["subject"]: answer["id"] for answer in enrolled}
        ids = [volunteer_ids[s] for s in subjects]
        await post_setup(
            base_url,
            [
                (
                    "/v1/points/adjustments",
                    {"volunteer_id": v, "points": PRICE, "reason": "bench start"},
                    worker,
                )
                for v in ids
            ],
            workers,
        )
        (item,) = await post_setup(
            base_url,
            [
                (
                    "/v1/items",
                    {"district": DISTRICT, "community": COMMUNITY, "name": ITEM_NAME, "points_price": PRICE},
                    worker,
                )
            ],
            1,
        )
        await post_setup(
            base_url,
            [(f"/v1/items/{item['id']}/intakes", {"quantity": count, "source": "donation"}, worker)],
            1,
        )
        redeem_requests: list[Request] = [
            (
                "/v1/redemptions",
                {"item_id": item["id"]},
                {
                    "Authorization": "Bearer "
                    + issue_token(
                        keys.jwt_secret,
                        role=Role.VOLUNTEER,
                        district=DISTRICT,
                        community=COMMUNITY,
                        subject=s,
                    ),
                    "Idempotency-Key": str(uuid.uuid4()),
                },
            )
            for s in subjects
        ]
        credit_requests: list[Request] = [
            (
                "/v1/points/adjustments",
                {"volunteer_id": ids[i % count], "points": CREDIT, "reason": "bench credit"},
                {**worker, "Idempotency-Key": str(uuid.uuid4())},
            )
            for i in range(warmup + credits)
        ]
        await relay_caught_up(database_url)  # the setup's events are out before any clock starts

        run = PointsRun(Timing(redemptions, 0.0), Timing(credits, 0.0))
        await post_setup(base_url, redeem_requests[:warmup], workers)
        seconds = await post_timed(base_url, redeem_requests[warmup:], workers, run.redemption_warnings)
        run.redemptions = Timing(redemptions, seconds)
        run.redemption_relay_lag = await relay_caught_up(database_url)
        run.redemption_warnings += await verify_redemptions(database_url, volunteers=count, redeemed=count)
        await check_keys(database_url, "/v1/redemptions", count, run.redemption_warnings)

        await post_setup(base_url, credit_requests[:warmup], workers)
        seconds = await post_timed(base_url, credit_requests[warmup:], workers, run.credit_warnings)
        run.credits = Timing(credits, seconds)
        run.credit_relay_lag = await relay_caught_up(database_url)
        run.credit_warnings += await verify_credits(
            database_url, volunteers=count, redeemed=count, credited=warmup + credits
        )
        await check_keys(database_url, "/v1/points/adjustments", warmup + credits, run.credit_warnings)
    return run


# --- Baseline: the same effect as raw SQL ---------------------------------------------------------

DEBIT = (
    "UPDATE points_account SET balance = balance - $2 WHERE volunteer_id = $1 AND balance >= $2"
    " RETURNING balance"
)
ADD = "UPDATE points_account SET balance = balance + $2 WHERE volunteer_id = $1 RETURNING balance"
ENTRY = (
    "INSERT INTO points_entry (district, community, volunteer_id, kind, points, balance_after, reason, actor,"
    " reference, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
)
TAKE_ONE = "UPDATE item SET stock = stock - 1 WHERE id = $1 AND stock >= 1 RETURNING stock"
REDEMPTION = (
    "INSERT INTO redemption (id, district, community, item_id, volunteer_id, quantity, points, status,"
    " pickup_code, redeemed_at, settled_at) VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $8, $9, NULL)"
)

FetchValue = Callable[..., Awaitable[Any]]
"""fetchval(sql, *args): the first column of the first row, or None; SQL written with $n placeholders."""
Body = Callable[[FetchValue], Awaitable[None]]


class RawConnections:
    """`workers` connections with the driver the service uses, one transaction per call of run()."""

    def __init__(self, database_url: str, sqlite_path: Path | None) -> None:
        self.database_url = database_url
        self.sqlite_path = sqlite_path
        self.pg: list[asyncpg.Connection] = []
        self.sqlite: list[aiosqlite.Connection] = []

    async def open(self, workers: int) -> None:
        for _ in range(workers):
            if self.sqlite_path is None:
                self.pg.append(await asyncpg.connect(asyncpg_dsn(self.database_url)))
            else:
                self.sqlite.append(await sqlite_connection(self.sqlite_path))

    async def close(self) -> None:
        for connection in self.pg:
            await connection.close()
        for sqlite in self.sqlite:
            await sqlite.close()

    def value(self, moment: datetime) -> Any:
        """A timestamp as this driver stores it (naive UTC; ISO text in SQLite), made before timing."""
        naive = moment.astimezone(UTC).replace(tzinfo=None)
        return naive if self.sqlite_path is None else sqlite_values((naive,))[0]

    async def run(self, number: int, body: Body) -> None:
        if self.sqlite_path is None:
            connection = self.pg[number]
            async with connection.transaction():
                await body(connection.fetchval)
            return
        sqlite = self.sqlite[number]

        async def fetchval(sql: str, *args: Any) -> Any:
            async with sqlite.execute(sql.replace("$", "?"), args) as cursor:  # ?N: numbered, as $N
                row = await cursor.fetchone()
            return None if row is None else row[0]

        await sqlite.execute("BEGIN IMMEDIATE")  # as make_engine begins every SQLite transaction
        try:
            await body(fetchval)
        except BaseException:
            await sqlite.execute("ROLLBACK")
            raise
        await sqlite.execute("COMMIT")


class Refused(Exception):
    """A conditional update matched no row: not enough points or no stock; the transaction rolls back."""


async def raw_seed(database_url: str, count: int) -> tuple[list[tuple[str, str]], str]:
    """Untimed: `count` volunteers credited PRICE points each (account and ledger entry) and an item with
    `count` in stock, written with the service's own models. Returns (volunteer id, subject) pairs and
    the item's id."""
    engine = make_engine(database_url)
    try:
        now = utc_now()
        volunteers = [
            Volunteer(
                id=str(uuid.uuid4()),
                district=DISTRICT,
                community=COMMUNITY,
                subject=f"bench-volunteer-{i}",
                full_name=f"Bench bench-volunteer-{i}",
                enrolled_at=now,
            )
            for i in range(count)
        ]
        item = Item(
            id=str(uuid.uuid4()),
            district=DISTRICT,
            community=COMMUNITY,
            name=ITEM_NAME,
            points_price=PRICE,
            stock=count,
        )
        async with make_session_factory(engine)() as session:
            session.add_all(volunteers)
            session.add(item)
            await session.flush()
            for v in volunteers:  # as the HTTP setup leaves it: the account and its crediting entry
                session.add(
                    PointsAccount(volunteer_id=v.id, district=DISTRICT, community=COMMUNITY, balance=PRICE)
                )
                session.add(
                    PointsEntry(
                        district=DISTRICT,
                        community=COMMUNITY,
                        volunteer_id=v.id,
                        kind=EntryKind.ADJUSTED.value,
                        points=PRICE,
                        balance_after=PRICE,
                        reason="bench start",
                        actor="bench-worker",
                        created_at=now,
                    )
                )
            await session.commit()
        return [(v.id, v.subject) for v in volunteers], item.id
    finally:
        await engine.dispose()


async def raw_timed(
    connections: RawConnections,
    jobs: Sequence[Any],
    body: Callable[[Any], Body],
    workers: int,
    warnings: list[str],
) -> float:
    refused: list[Refused] = []

    async def one(number: int, job: Any) -> None:
        try:
            await connections.run(number, body(job))
        except Refused as error:
            refused.append(error)

    started = time.perf_counter()
    await run_workers(jobs, workers, one)
    seconds = time.perf_counter() - started
    if refused:
        message = f"WARNING: {len(refused)} of {len(jobs)} raw transactions refused, first: {refused[0]}"
        print(f"  ! {message}", flush=True)
        warnings.append(message)
    return seconds


async def raw_points(
    database_url: str, *, sqlite_path: Path | None, redemptions: int, credits: int, warmup: int, workers: int
) -> PointsRun:
    """The same effects on a database migrated by the points migrations, one transaction each."""
    await create_schema(database_url, POINTS_MIGRATIONS)
    count = warmup + redemptions
    volunteers, item_id = await raw_seed(database_url, count)
    connections = RawConnections(database_url, sqlite_path)
    await connections.open(workers)
    try:
        reason = f"1 × {ITEM_NAME}"
        redeem_jobs = [
            (volunteer_id, subject, str(uuid.uuid4()), new_pickup_code(), connections.value(utc_now()))
            for volunteer_id, subject in volunteers
        ]

        def redeem(job: tuple[str, str, str, str, Any]) -> Body:
            volunteer_id, subject, redemption_id, pickup_code, now = job

            async def body(fetchval: FetchValue) -> None:
                balance = await fetchval(DEBIT, volunteer_id, PRICE)
                if balance is None:
                    raise Refused(f"not enough points: {volunteer_id}")
                await fetchval(
                    ENTRY,
                    DISTRICT,
                    COMMUNITY,
                    volunteer_id,
                    EntryKind.REDEEMED.value,
                    -PRICE,
                    balance,
                    reason,
                    subject,
                    redemption_id,
                    now,
                )
                if await fetchval(TAKE_ONE, item_id) is None:
                    raise Refused(f"out of stock: {item_id}")
                await fetchval(
                    REDEMPTION,
                    redemption_id,
                    DISTRICT,
                    COMMUNITY,
                    item_id,
                    volunteer_id,
                    PRICE,
                    RedemptionStatus.RESERVED.value,
                    pickup_code,
                    now,
                )

            return body

        credit_jobs = [
            (volunteers[i % count][0], connections.value(utc_now())) for i in range(warmup + credits)
        ]

        def credit(job: tuple[str, Any]) -> Body:
            volunteer_id, now = job

            async def body(fetchval: FetchValue) -> None:
                balance = await fetchval(ADD, volunteer_id, CREDIT)
                if balance is None:
                    raise Refused(f"no account: {volunteer_id}")
                await fetchval(
                    ENTRY,
                    DISTRICT,
                    COMMUNITY,
                    volunteer_id,
                    EntryKind.ADJUSTED.value,
                    CREDIT,
                    balance,
                    "bench credit",
                    "bench-worker",
                    None,
                    now,
                )

            return body

        run = PointsRun(Timing(redemptions, 0.0), Timing(credits, 0.0))
        await raw_timed(connections, redeem_jobs[:warmup], redeem, workers, run.redemption_warnings)
        seconds = await raw_timed(connections, redeem_jobs[warmup:], redeem, workers, run.redemption_warnings)
        run.redemptions = Timing(redemptions, seconds)
        run.redemption_warnings += await verify_redemptions(database_url, volunteers=count, redeemed=count)

        await raw_timed(connections, credit_jobs[:warmup], credit, workers, run.credit_warnings)
        seconds = await raw_timed(connections, credit_jobs[warmup:], credit, workers, run.credit_warnings)
        run.credits = Timing(credits, seconds)
        run.credit_warnings += await verify_credits(
            database_url, volunteers=count, redeemed=count, credited=warmup + credits
        )
        return run
    finally:
        await connections.close()
