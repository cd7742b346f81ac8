"""The fund's bulk row: POST /v1/donation-batches, LINLI_BENCH_BATCHES (50) batches of
LINLI_BENCH_BATCH_LINES (1000) cash gifts to one community (a counted collection box), two postings
per gift, beside bare asyncpg writing the same rows in one transaction per batch (multi-row
INSERT … SELECT unnest). The books are checked after each: every entry balanced, the postings summing
to zero, receipts 1..N with no gap."""

from __future__ import annotations

import uuid
from functools import partial
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from linli_fund.domain import CHART, GUARDED, Channel, Fund, donation_lines, guarded_deltas, receipt_year
from linli_shared.clock import utc_now
from linli_shared.contracts.fund import GIFTS_PER_EVENT
from tests.bench.bulk_common import (
    COMMUNITY,
    DISTRICT,
    OUTBOX,
    Post,
    at_once,
    envelopes,
    expect,
    over_http,
)
from tests.bench.infra import asyncpg_dsn
from tests.bench.registry_http import Timing

AMOUNT = 5000  # fen per gift, cash into the general fund


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


def gift_lines(batch: int, lines: int) -> list[dict[str, Any]]:
    return [
        {"donor_kind": "resident", "donor_name": f"居民 {batch}-{i}", "channel": "cash", "amount_fen": AMOUNT}
        for i in range(lines)
    ]


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


# --- the baseline: bare asyncpg, one transaction per batch, multi-row INSERT … SELECT unnest -----------

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
        gifts = [
            {"donation_id": i, "receipt_number": r, "amount_fen": AMOUNT}
            for i, r in zip(ids, receipts, strict=True)
        ]
        payloads = [  # as the fund announces a batch: up to GIFTS_PER_EVENT gifts to an event
            {"batch_id": ids[0], "donations": gifts[start : start + GIFTS_PER_EVENT]}
            for start in range(0, len(gifts), GIFTS_PER_EVENT)
        ]
        await connection.execute(OUTBOX, stamp, *envelopes("fund.donations.received", payloads, now))


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
