"""Linli throughput, each figure beside a bare baseline measured in the same run.

Run from the repository root: `make bench` (= `.venv/bin/python -m tests.bench.bench`).
It prints figures and asserts nothing about time. PostgreSQL comes from LINLI_TEST_PG_URL,
else testcontainers, else a throwaway initdb cluster; only databases created here are dropped.
NATS is always a nats-server of its own on a free port, never the machine's one.

Sizes: LINLI_BENCH_RESIDENTS (1000), LINLI_BENCH_WORKERS (8), LINLI_BENCH_EVENTS (5000),
LINLI_BENCH_REDEMPTIONS (500), LINLI_BENCH_CREDITS (500), LINLI_BENCH_DONATIONS (500),
LINLI_BENCH_NOTIFICATIONS (1000).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from linli_shared.testing.postgres import postgres_server
from tests.bench.event_flow import RAW_FETCH_BATCH, linli_event_flow, raw_event_flow, tags_changed_envelopes
from tests.bench.fund_http import AMOUNT, FundRun, fund_over_http, raw_donations
from tests.bench.infra import asyncpg_dsn, machine_basics, nats_server, pg_database, temp_dir
from tests.bench.notify_flow import (
    NOTIFY_ENV,
    VOLUNTEERS,
    NotifyRun,
    notify_flow,
    raw_notify_flow,
    redeemed_envelopes,
)
from tests.bench.points_http import CREDIT, PRICE, PointsRun, points_over_http, raw_points
from tests.bench.registry_http import Timing, raw_inserts, registry_over_http

RESIDENTS = int(os.environ.get("LINLI_BENCH_RESIDENTS", "1000"))
WORKERS = int(os.environ.get("LINLI_BENCH_WORKERS", "8"))
EVENTS = int(os.environ.get("LINLI_BENCH_EVENTS", "5000"))
REDEMPTIONS = int(os.environ.get("LINLI_BENCH_REDEMPTIONS", "500"))
CREDITS = int(os.environ.get("LINLI_BENCH_CREDITS", "500"))
DONATIONS = int(os.environ.get("LINLI_BENCH_DONATIONS", "500"))
NOTIFICATIONS = int(os.environ.get("LINLI_BENCH_NOTIFICATIONS", "1000"))
WARMUP = 2 * WORKERS


@dataclass(frozen=True)
class Row:
    measurement: str
    store: str
    linli: Timing
    baseline: Timing
    note: str = ""


def say(message: str) -> None:
    print(f"  … {message}", flush=True)


async def postgres_version(admin_url: str) -> str:
    connection = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        return str(await connection.fetchval("SHOW server_version"))
    finally:
        await connection.close()


async def residents_rows(root: Path, pg_admin_url: str | None) -> list[Row]:
    rows: list[Row] = []
    if pg_admin_url is not None:
        say(f"registry over HTTP on PostgreSQL: {RESIDENTS} residents, {WORKERS} clients")
        with nats_server(root / "nats-http-pg", "bench-http-pg") as server:
            async with pg_database(pg_admin_url, "registry") as url:
                http = await registry_over_http(
                    root / "registry-pg",
                    database_url=url,
                    nats_url=server.url,
                    count=RESIDENTS,
                    warmup=WARMUP,
                    workers=WORKERS,
                )
        say("raw asyncpg inserts on PostgreSQL")
        async with pg_database(pg_admin_url, "raw") as url:
            raw = await raw_inserts(url, sqlite_path=None, count=RESIDENTS, warmup=WARMUP, workers=WORKERS)
        note = f"relay done +{http.relay_lag_seconds:.2f}s after last response"
        rows.append(Row("residents/s (HTTP)", "PostgreSQL", http.timing, raw, note))

    say(f"registry over HTTP on SQLite: {RESIDENTS} residents, {WORKERS} clients")
    registry_db = root / "registry.db"
    with nats_server(root / "nats-http-sqlite", "bench-http-sqlite") as server:
        http = await registry_over_http(
            root / "registry-sqlite",
            database_url=f"sqlite+aiosqlite:///{registry_db}",
            nats_url=server.url,
            count=RESIDENTS,
            warmup=WARMUP,
            workers=WORKERS,
        )
    say("raw aiosqlite inserts on SQLite")
    raw_db = root / "raw.db"
    raw = await raw_inserts(
        f"sqlite+aiosqlite:///{raw_db}", sqlite_path=raw_db, count=RESIDENTS, warmup=WARMUP, workers=WORKERS
    )
    note = f"relay done +{http.relay_lag_seconds:.2f}s after last response"
    rows.append(Row("residents/s (HTTP)", "SQLite", http.timing, raw, note))
    return rows


def points_table_rows(store: str, http: PointsRun, raw: PointsRun) -> list[Row]:
    def note(lag: float | None, *warnings: list[str]) -> str:
        parts = [f"relay done +{lag:.2f}s after last response"] if lag is not None else []
        return "; ".join(parts + [w for found in warnings for w in found])

    return [
        Row(
            "redemptions/s (HTTP)",
            store,
            http.redemptions,
            raw.redemptions,
            note(http.redemption_relay_lag, http.redemption_warnings, raw.redemption_warnings),
        ),
        Row(
            "points credited/s (HTTP)",
            store,
            http.credits,
            raw.credits,
            note(http.credit_relay_lag, http.credit_warnings, raw.credit_warnings),
        ),
    ]


async def points_rows(root: Path, pg_admin_url: str | None) -> list[Row]:
    sizes = {"redemptions": REDEMPTIONS, "credits": CREDITS, "warmup": WARMUP, "workers": WORKERS}
    rows: list[Row] = []
    if pg_admin_url is not None:
        say(f"points over HTTP on PostgreSQL: {REDEMPTIONS} redemptions, {CREDITS} credits")
        with nats_server(root / "nats-points-pg", "bench-points-pg") as server:
            async with pg_database(pg_admin_url, "points") as url:
                http = await points_over_http(
                    root / "points-pg", database_url=url, nats_url=server.url, **sizes
                )
        say("raw asyncpg redemptions and credits on PostgreSQL")
        async with pg_database(pg_admin_url, "points_raw") as url:
            raw = await raw_points(url, sqlite_path=None, **sizes)
        rows += points_table_rows("PostgreSQL", http, raw)

    say(f"points over HTTP on SQLite: {REDEMPTIONS} redemptions, {CREDITS} credits")
    with nats_server(root / "nats-points-sqlite", "bench-points-sqlite") as server:
        http = await points_over_http(
            root / "points-sqlite",
            database_url=f"sqlite+aiosqlite:///{root / 'points.db'}",
            nats_url=server.url,
            **sizes,
        )
    say("raw aiosqlite redemptions and credits on SQLite")
    raw_db = root / "points-raw.db"
    raw = await raw_points(f"sqlite+aiosqlite:///{raw_db}", sqlite_path=raw_db, **sizes)
    rows += points_table_rows("SQLite", http, raw)
    return rows


def fund_row(store: str, http: FundRun, raw: FundRun) -> Row:
    parts = [f"relay done +{http.relay_lag:.2f}s after last response"] if http.relay_lag is not None else []
    return Row(
        "journal entries/s (HTTP)",
        store,
        http.donations,
        raw.donations,
        "; ".join(parts + http.warnings + raw.warnings),
    )


async def fund_rows(root: Path, pg_admin_url: str | None) -> list[Row]:
    sizes = {"donations": DONATIONS, "warmup": WARMUP, "workers": WORKERS}
    rows: list[Row] = []
    if pg_admin_url is not None:
        say(f"fund over HTTP on PostgreSQL: {DONATIONS} donations, {WORKERS} clients")
        with nats_server(root / "nats-fund-pg", "bench-fund-pg") as server:
            async with pg_database(pg_admin_url, "fund") as url:
                http = await fund_over_http(root / "fund-pg", database_url=url, nats_url=server.url, **sizes)
        say("raw asyncpg donations on PostgreSQL")
        async with pg_database(pg_admin_url, "fund_raw") as url:
            raw = await raw_donations(url, sqlite_path=None, **sizes)
        rows.append(fund_row("PostgreSQL", http, raw))

    say(f"fund over HTTP on SQLite: {DONATIONS} donations, {WORKERS} clients")
    with nats_server(root / "nats-fund-sqlite", "bench-fund-sqlite") as server:
        http = await fund_over_http(
            root / "fund-sqlite",
            database_url=f"sqlite+aiosqlite:///{root / 'fund.db'}",
            nats_url=server.url,
            **sizes,
        )
    say("raw aiosqlite donations on SQLite")
    raw_db = root / "fund-raw.db"
    raw = await raw_donations(f"sqlite+aiosqlite:///{raw_db}", sqlite_path=raw_db, **sizes)
    rows.append(fund_row("SQLite", http, raw))
    return rows


def notify_row(store: str, linli: NotifyRun, raw: NotifyRun) -> Row:
    parts = [
        f"last publish acked at {linli.published_at:.2f}s (bare {raw.published_at:.2f}s)"
        if linli.published_at is not None and raw.published_at is not None
        else ""
    ]
    note = "; ".join(p for p in parts + linli.warnings + raw.warnings if p)
    return Row("notifications/s events→sent", store, linli.timing, raw.timing, note)


async def notify_rows(root: Path, pg_admin_url: str | None) -> list[Row]:
    envelopes = redeemed_envelopes(WARMUP + NOTIFICATIONS)
    sizes = {"envelopes": envelopes[WARMUP:], "warmup": envelopes[:WARMUP]}
    if pg_admin_url is not None:
        store = "PostgreSQL"
        say(f"JetStream → notify → in-app deliveries sent on PostgreSQL: {NOTIFICATIONS} events")
        async with pg_database(pg_admin_url, "notify") as url:
            linli = await notify_flow(root / "notify-pg", database_url=url, **sizes)
        say(f"raw nats-py publish + pull consumer (fetch {RAW_FETCH_BATCH}) + asyncpg insert each")
        async with pg_database(pg_admin_url, "notify_raw") as url:
            raw = await raw_notify_flow(root / "notify-raw", database_url=url, sqlite_path=None, **sizes)
    else:
        store = "SQLite"
        say(f"JetStream → notify → in-app deliveries sent on SQLite (no PostgreSQL): {NOTIFICATIONS} events")
        linli = await notify_flow(
            root / "notify-sqlite", database_url=f"sqlite+aiosqlite:///{root / 'notify.db'}", **sizes
        )
        say(f"raw nats-py publish + pull consumer (fetch {RAW_FETCH_BATCH}) + aiosqlite insert each")
        raw_db = root / "notify-raw.db"
        raw = await raw_notify_flow(
            root / "notify-raw", database_url=f"sqlite+aiosqlite:///{raw_db}", sqlite_path=raw_db, **sizes
        )
    return [notify_row(store, linli, raw)]


async def events_rows(root: Path, pg_admin_url: str | None) -> tuple[list[Row], Timing]:
    envelopes = tags_changed_envelopes(EVENTS)
    if pg_admin_url is not None:
        store = "PostgreSQL"
        say(f"outbox → JetStream → inbox on PostgreSQL: {EVENTS} events")
        async with (
            pg_database(pg_admin_url, "outbox") as producer_url,
            pg_database(pg_admin_url, "inbox") as consumer_url,
        ):
            linli, relay_done = await linli_event_flow(
                root, producer_url=producer_url, consumer_url=consumer_url, envelopes=envelopes
            )
    else:
        store = "SQLite"
        say(f"outbox → JetStream → inbox on SQLite (no PostgreSQL): {EVENTS} events")
        linli, relay_done = await linli_event_flow(
            root,
            producer_url=f"sqlite+aiosqlite:///{root / 'outbox.db'}",
            consumer_url=f"sqlite+aiosqlite:///{root / 'inbox.db'}",
            envelopes=envelopes,
        )
    say(f"raw nats-py publish + pull consumer (fetch {RAW_FETCH_BATCH}): {EVENTS} messages")
    raw = await raw_event_flow(root, envelopes=envelopes)
    say("raw nats-py publish + pull consumer (fetch 1), for reference")
    raw_single = await raw_event_flow(root, envelopes=envelopes, fetch_batch=1)
    note = f"relay done at {relay_done:.2f}s"
    return [Row("events/s outbox→JS→inbox", store, linli, raw, note)], raw_single


def print_table(rows: list[Row], raw_single: Timing) -> None:
    header = ("measurement", "store", "N", "Linli s", "Linli /s", "bare s", "bare /s", "bare÷Linli")
    lines = [
        (
            row.measurement,
            row.store,
            str(row.linli.count),
            f"{row.linli.seconds:.2f}",
            f"{row.linli.rate:,.0f}",
            f"{row.baseline.seconds:.2f}",
            f"{row.baseline.rate:,.0f}",
            f"{row.baseline.rate / row.linli.rate:.1f}x",
        )
        for row in rows
    ]
    widths = [max(len(cell) for cell in column) for column in zip(header, *lines, strict=True)]
    print()
    for cells in (header, tuple("-" * w for w in widths), *lines):
        print("  ".join(cell.ljust(w) for cell, w in zip(cells, widths, strict=True)).rstrip())
    print()
    for row in rows:
        if row.note:
            print(f"{row.measurement} on {row.store}: {row.note}")
    events = next((row for row in rows if row.measurement.startswith("events")), None)
    if events is not None:
        print(
            f"reference, bare nats-py with fetch batch 1 (what subscribe_inbox uses): "
            f"{raw_single.seconds:.2f}s, {raw_single.rate:,.0f}/s "
            f"({raw_single.rate / events.linli.rate:.1f}x Linli)"
        )


def print_method() -> None:
    print(
        f"""
How it was measured (time.perf_counter; nothing asserted on time):
- residents/s (HTTP): the registry runs as its own uvicorn process (ServiceProcess: no access
  log; the clock starts only once /readyz answers) with its own nats-server; {WORKERS}
  httpx.AsyncClient workers POST /v1/residents as a community worker, {WARMUP} warm-up requests
  first, untimed. Bare: the same resident rows (hash, mask, uuid made beforehand) inserted raw
  into a database migrated by the registry's own migrations, one transaction per row, {WORKERS}
  connections, same driver (asyncpg / aiosqlite; SQLite with the same WAL, synchronous=FULL and
  BEGIN IMMEDIATE as make_engine).
- redemptions/s (HTTP): the points service runs as its own process (as above) with its own
  nats-server and database. Untimed setup: {REDEMPTIONS + WARMUP} volunteers enrolled (POST
  /v1/volunteers), each credited {PRICE} points (POST /v1/points/adjustments), one item at {PRICE} points
  created and stocked with one per volunteer; the relay is let drain. Then {WARMUP} warm-up and
  {REDEMPTIONS} timed POST /v1/redemptions, each by a different volunteer with their own token
  (role volunteer) and its own Idempotency-Key, from {WORKERS} httpx clients; all hit the same item
  row. Bare: the same effect as raw SQL on a database migrated by the points migrations, seeded the
  same way (untimed), one transaction per redemption over {WORKERS} connections, same driver:
  UPDATE points_account … WHERE balance >= price RETURNING balance, INSERT points_entry, UPDATE
  item … WHERE stock >= 1 RETURNING stock, INSERT redemption. Not in the bare path: the token,
  the idempotency record, the outbox row, the volunteer/item lookups and the monthly-limit query.
- points credited/s (HTTP): on the same process after the redemptions, {WARMUP} warm-up and
  {CREDITS} timed POST /v1/points/adjustments of +{CREDIT} as a community worker, each with its own
  Idempotency-Key, spread round-robin over the volunteers, {WORKERS} clients. Bare: UPDATE
  points_account SET balance = balance + {CREDIT} RETURNING balance, INSERT points_entry, one
  transaction each, {WORKERS} connections.
  After each timed run (untimed) the effects are checked: redemptions, redeemed entries, stock
  left, sum of balances, sum of the ledger; a mismatch prints a WARNING and shows under the table.
- journal entries/s (HTTP): the fund runs as its own process (as above) with its own nats-server and
  database. {WARMUP} warm-up and {DONATIONS} timed POST /v1/donations as a community worker, each
  with its own Idempotency-Key, from {WORKERS} httpx clients: {AMOUNT} fen in cash to the general
  fund; each takes the next receipt number and posts one balanced entry (assets:cash against
  income:donations:general), so all of them queue on the same receipt counter and guarded rows.
  Bare: the same rows as raw SQL on a database migrated by the fund migrations, the community's
  chart, guarded rows and receipt counter made beforehand (untimed), one transaction per donation
  over {WORKERS} connections, same driver: UPDATE receipt_counter … RETURNING last_number, UPDATE
  guarded_balance … RETURNING balance for assets:cash and funds:general (in name order, as
  post_entry), INSERT journal_entry … RETURNING id, two INSERT posting, INSERT donation. Not in the
  bare path: the token, the idempotency record, the outbox row, the receipt-counter and chart
  look-ups (insert_missing, ensure_chart). After each run (untimed): donations, entries and
  postings counted, the trial balance (sum of all postings) and every entry sum to zero, receipt
  sequences are 1..N with N distinct numbers, the guarded balances hold N × {AMOUNT}.
- events/s: {EVENTS} ResidentTagsChanged envelopes staged in the outbox beforehand (untimed); the
  clock runs from starting OutboxRelay.run() (publishing through Bus) until the consumer's
  inbox_entry table holds all of them, written by subscribe_inbox → Inbox → apply_once. Producer
  and consumer each have a database of their own on the same server; both run in this process.
  Bare: a fresh nats-server with the same stream and consumer configuration, await js.publish of
  the same subjects, payloads and Nats-Msg-Id one by one, while a pull consumer fetches
  (batch {RAW_FETCH_BATCH}) and acks; clock stops at the last ack.
- notifications/s: a notify process (as above) on its own database and nats-server, with dispatch
  every {NOTIFY_ENV["LINLI_NOTIFY_DISPATCH_SECONDS"]} s, no quiet hours (start = end = 00:00), no
  outside channels and no outbox file (in-app inbox only), the daily digest off. {WARMUP} warm-up events
  first, until delivered (untimed). Then {NOTIFICATIONS} points.points.redeemed envelopes (Envelope.wrap,
  {VOLUNTEERS} volunteers round-robin) go straight to JetStream by await js.publish one by one with
  Nats-Msg-Id; the clock runs from the first publish until the delivery table holds a sent row for
  every event (polled every 20 ms): notify's subscribe_inbox → rules → notification + delivery, then
  the dispatcher marks it sent. Afterwards (untimed): inbox entries, notifications, deliveries, all
  sent, all on the inbox channel. Bare: a fresh nats-server with the same stream and a pull
  consumer of the same filter; the same messages published the same way while the consumer
  fetches (batch {RAW_FETCH_BATCH}), inserts one row per message in its own transaction (same driver,
  one connection) and acks; clock stops at the last commit and ack.
- bare÷Linli: how many times the bare baseline's rate exceeds Linli's."""
    )


async def run(root: Path, stack: ExitStack) -> None:
    print("Linli benchmark")
    pg_admin_url: str | None
    try:
        pg_admin_url = stack.enter_context(postgres_server())
    except LookupError as error:
        pg_admin_url = None
        print(f"  (no PostgreSQL: {error}; PostgreSQL figures skipped)")
    basics = machine_basics()
    if pg_admin_url is not None:
        basics.append(("postgresql", await postgres_version(pg_admin_url)))
    width = max(len(key) for key, _ in basics)
    for key, value in basics:
        print(f"{key.ljust(width)}  {value}")
    print()
    started = time.perf_counter()
    rows = await residents_rows(root, pg_admin_url)
    rows += await points_rows(root, pg_admin_url)
    rows += await fund_rows(root, pg_admin_url)
    event_rows, raw_single = await events_rows(root, pg_admin_url)
    rows += event_rows
    rows += await notify_rows(root, pg_admin_url)
    print_table(rows, raw_single)
    print_method()
    print(f"\ntotal bench time {time.perf_counter() - started:.1f}s")


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    with ExitStack() as stack:
        root = stack.enter_context(temp_dir("linli-bench-"))
        asyncio.run(run(root, stack))


if __name__ == "__main__":
    main()
