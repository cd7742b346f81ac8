"""Redemptions and credits per second: the points service over HTTP, beside the same effects as raw SQL
(points_raw.py); what both share is in points_common.py."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from linli_shared.auth import Role, issue_token
from tests.bench.infra import Secrets, service_process
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
    check,
    verify_credits,
    verify_redemptions,
)
from tests.bench.points_raw import raw_points, raw_seed, raw_timed
from tests.bench.registry_http import (
    Timing,
    run_workers,
    scalar,
    wait_outbox_drained,
)

__all__ = [  # what the other rows import from here, the baseline's names included
    "CREDIT",
    "PRICE",
    "Body",
    "FetchValue",
    "PointsRun",
    "RawConnections",
    "Refused",
    "Request",
    "check",
    "points_over_http",
    "post_setup",
    "post_timed",
    "raw_points",
    "raw_seed",
    "raw_timed",
    "relay_caught_up",
]

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
