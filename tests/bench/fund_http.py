"""Journal entries posted per second: POST /v1/donations to a fund process, beside the same rows as raw
SQL."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from linli_fund.app import MIGRATIONS as FUND_MIGRATIONS
from linli_fund.domain import (
    CHART,
    GUARDED,
    Channel,
    DonationStatus,
    DonorKind,
    EntryKind,
    Fund,
    donation_lines,
    guarded_deltas,
    receipt_number,
    receipt_year,
)
from linli_shared.auth import Role, issue_token
from linli_shared.clock import utc_now
from tests.bench.infra import Secrets, service_process
from tests.bench.points_http import (
    Body,
    FetchValue,
    RawConnections,
    Refused,
    Request,
    check,
    post_setup,
    post_timed,
    raw_timed,
    relay_caught_up,
)
from tests.bench.registry_http import Timing, create_schema, scalar

DISTRICT = "bench"
COMMUNITY = "c1"
AMOUNT = 5000  # fen per donation: cash into the general fund
CHANNEL = Channel.CASH
FUND = Fund.GENERAL
DONOR_KIND = DonorKind.RESIDENT


@dataclass
class FundRun:
    donations: Timing
    warnings: list[str] = field(default_factory=list)
    relay_lag: float | None = None


async def verify_donations(database_url: str, *, posted: int) -> list[str]:
    """Untimed: every donation posted one balanced entry, the trial balance is zero, receipts are 1..N."""
    warnings: list[str] = []

    async def found(sql: str) -> int:
        return await scalar(database_url, sql)

    check(warnings, "donations", await found("SELECT count(*) FROM donation"), posted)
    check(warnings, "journal entries", await found("SELECT count(*) FROM journal_entry"), posted)
    check(warnings, "postings", await found("SELECT count(*) FROM posting"), 2 * posted)
    check(
        warnings,
        "trial balance (sum of all postings)",
        await found("SELECT coalesce(sum(amount), 0) FROM posting"),
        0,
    )
    check(
        warnings,
        "unbalanced entries",
        await found(
            "SELECT count(*) FROM (SELECT entry_id FROM posting GROUP BY entry_id"
            " HAVING sum(amount) <> 0) AS unbalanced"
        ),
        0,
    )
    check(
        warnings,
        "distinct receipt numbers",
        await found("SELECT count(DISTINCT receipt_number) FROM donation"),
        posted,
    )
    check(
        warnings,
        "lowest receipt sequence",
        await found("SELECT coalesce(min(receipt_sequence), 0) FROM donation"),
        1,
    )
    check(
        warnings,
        "highest receipt sequence",
        await found("SELECT coalesce(max(receipt_sequence), 0) FROM donation"),
        posted,
    )
    check(
        warnings,
        "receipt counter",
        await found("SELECT coalesce(sum(last_number), 0) FROM receipt_counter"),
        posted,
    )
    for name, delta in guarded_deltas(donation_lines(CHANNEL, FUND, AMOUNT)).items():
        check(
            warnings,
            f"guarded balance {name}",
            await found(f"SELECT coalesce(sum(balance), 0) FROM guarded_balance WHERE name = '{name}'"),
            posted * delta,
        )
    return warnings


# --- Linli: the fund over HTTP ---------------------------------------------------------------------


def donation_body(index: int) -> dict[str, Any]:
    return {
        "district": DISTRICT,
        "community": COMMUNITY,
        "donor_kind": DONOR_KIND.value,
        "donor_name": f"Bench donor {index}",
        "channel": CHANNEL.value,
        "amount_fen": AMOUNT,
    }


async def fund_over_http(
    workdir: Path, *, database_url: str, nats_url: str, donations: int, warmup: int, workers: int
) -> FundRun:
    """One fund process; `warmup` then `donations` timed POST /v1/donations by a community worker,
    each with its own Idempotency-Key, from `workers` clients."""
    keys = Secrets.random()
    token = issue_token(
        keys.jwt_secret,
        role=Role.COMMUNITY_WORKER,
        district=DISTRICT,
        community=COMMUNITY,
        subject="bench-worker",
    )
    requests: list[Request] = [
        (
            "/v1/donations",
            donation_body(i),
            {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())},
        )
        for i in range(warmup + donations)
    ]
    run = FundRun(Timing(donations, 0.0))
    with service_process(
        "fund", workdir, database_url=database_url, nats_url=nats_url, keys=keys
    ) as base_url:
        await post_setup(base_url, requests[:warmup], workers)
        await relay_caught_up(database_url)  # the warm-up's events are out before the clock starts
        seconds = await post_timed(base_url, requests[warmup:], workers, run.warnings)
        run.donations = Timing(donations, seconds)
        run.relay_lag = await relay_caught_up(database_url)
        run.warnings += await verify_donations(database_url, posted=warmup + donations)
        sql = "SELECT count(*) FROM idempotency_record WHERE scope LIKE '%:POST:/v1/donations'"
        check(
            run.warnings,
            "idempotency records of POST /v1/donations",
            await scalar(database_url, sql),
            warmup + donations,
        )
    return run


# --- Baseline: the same rows as raw SQL ------------------------------------------------------------

BUMP_RECEIPT = (
    "UPDATE receipt_counter SET last_number = last_number + 1"
    " WHERE district = $1 AND community = $2 AND year = $3 RETURNING last_number"
)
MOVE_GUARDED = (
    "UPDATE guarded_balance SET balance = balance + $4"
    " WHERE district = $1 AND community = $2 AND name = $3 RETURNING balance"
)
ENTRY = (
    "INSERT INTO journal_entry (district, community, kind, narration, reference, reverses_entry_id,"
    " posted_by, posted_at) VALUES ($1, $2, $3, $4, $5, NULL, $6, $7) RETURNING id"
)
POSTING = "INSERT INTO posting (entry_id, district, community, account, amount) VALUES ($1, $2, $3, $4, $5)"
DONATION = (
    "INSERT INTO donation (id, district, community, receipt_number, receipt_year, receipt_sequence,"
    " campaign_id, donor_kind, donor_name, anonymous, channel, restricted_to, fund, amount_fen, status,"
    " entry_id, recorded_by, received_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, $8, $9, $10, NULL, $11, $12, $13, $14, $15, $16)"
)


async def raw_seed(connections: RawConnections, year: int) -> None:
    """Untimed: the community's chart, guarded rows and receipt counter, as the service's first use
    makes them."""

    async def body(fetchval: FetchValue) -> None:
        for code, kind in CHART.items():
            await fetchval(
                "INSERT INTO account (district, community, code, type) VALUES ($1, $2, $3, $4)",
                DISTRICT,
                COMMUNITY,
                code,
                kind.value,
            )
        for name in GUARDED:
            await fetchval(
                "INSERT INTO guarded_balance (district, community, name, balance, reserved)"
                " VALUES ($1, $2, $3, 0, 0)",
                DISTRICT,
                COMMUNITY,
                name,
            )
        await fetchval(
            "INSERT INTO receipt_counter (district, community, year, last_number) VALUES ($1, $2, $3, 0)",
            DISTRICT,
            COMMUNITY,
            year,
        )

    await connections.run(0, body)


async def raw_donations(
    database_url: str, *, sqlite_path: Path | None, donations: int, warmup: int, workers: int
) -> FundRun:
    """The donation's rows on a database migrated by the fund's migrations, one transaction each."""
    await create_schema(database_url, FUND_MIGRATIONS)
    connections = RawConnections(database_url, sqlite_path)
    await connections.open(workers)
    try:
        now = utc_now()
        year = receipt_year(now)
        await raw_seed(connections, year)
        lines = donation_lines(CHANNEL, FUND, AMOUNT)
        moves = list(guarded_deltas(lines).items())  # sorted by name: the service's lock order
        stamp = connections.value(now)
        anonymous = False if sqlite_path is None else 0
        jobs = [(str(uuid.uuid4()), f"Bench donor {i}") for i in range(warmup + donations)]

        def donate(job: tuple[str, str]) -> Body:
            donation_id, donor_name = job

            async def body(fetchval: FetchValue) -> None:
                sequence = await fetchval(BUMP_RECEIPT, DISTRICT, COMMUNITY, year)
                if sequence is None:
                    raise Refused(f"no receipt counter for {year}")
                receipt = receipt_number(year, int(sequence))
                for name, delta in moves:
                    if await fetchval(MOVE_GUARDED, DISTRICT, COMMUNITY, name, delta) is None:
                        raise Refused(f"no guarded row {name}")
                narration = f"donation {receipt} ({DONOR_KIND.value}) to the {FUND.value} fund"
                entry_id = await fetchval(
                    ENTRY,
                    DISTRICT,
                    COMMUNITY,
                    EntryKind.DONATION.value,
                    narration,
                    donation_id,
                    "bench-worker",
                    stamp,
                )
                for line in lines:
                    await fetchval(POSTING, entry_id, DISTRICT, COMMUNITY, line.account, line.amount)
                await fetchval(
                    DONATION,
                    donation_id,
                    DISTRICT,
                    COMMUNITY,
                    receipt,
                    year,
                    int(sequence),
                    DONOR_KIND.value,
                    donor_name,
                    anonymous,
                    CHANNEL.value,
                    FUND.value,
                    AMOUNT,
                    DonationStatus.RECEIVED.value,
                    entry_id,
                    "bench-worker",
                    stamp,
                )

            return body

        run = FundRun(Timing(donations, 0.0))
        await raw_timed(connections, jobs[:warmup], donate, workers, run.warnings)
        seconds = await raw_timed(connections, jobs[warmup:], donate, workers, run.warnings)
        run.donations = Timing(donations, seconds)
        run.warnings += await verify_donations(database_url, posted=warmup + donations)
        return run
    finally:
        await connections.close()
