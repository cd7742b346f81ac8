"""The points rows' baseline: the same redemptions and credits as raw SQL, with the service's driver."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from linli_points.app import MIGRATIONS as POINTS_MIGRATIONS
from linli_points.domain import EntryKind, RedemptionStatus, new_pickup_code
from linli_points.models import Item, PointsAccount, PointsEntry, Volunteer
from linli_shared.clock import utc_now
from linli_shared.database import make_engine, make_session_factory
from tests.bench.points_common import (
    COMMUNITY,
    CREDIT,
    DISTRICT,
    ITEM_NAME,
    PRICE,
    Body,
    FetchValue,
    PointsRun,
    RawConnections,
    Refused,
    verify_credits,
    verify_redemptions,
)
from tests.bench.registry_http import (
    Timing,
    create_schema,
    run_workers,
)

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
