"""Linli throughput, each figure beside a bare baseline measured in the same run.

Run from the repository root: `make bench` (= `.venv/bin/python -m tests.bench.bench`).
It prints figures and asserts nothing about time. PostgreSQL comes from LINLI_TEST_PG_URL,
else testcontainers, else a throwaway initdb cluster; only databases created here are dropped.
NATS is always a nats-server of its own on a free port, never the machine's one.

Sizes: LINLI_BENCH_RESIDENTS (1000), LINLI_BENCH_WORKERS (8), LINLI_BENCH_EVENTS (5000),
LINLI_BENCH_REDEMPTIONS (500), LINLI_BENCH_CREDITS (500), LINLI_BENCH_DONATIONS (500),
LINLI_BENCH_NOTIFICATIONS (1000); for the HTTP rows measured with wrk: LINLI_BENCH_SECONDS (10),
LINLI_BENCH_WARMUP_SECONDS (2), LINLI_BENCH_SERVICE_WORKERS (1: uvicorn workers of the service and of
its bare baseline alike), LINLI_BENCH_WRK_THREADS (2).

Options: --rows residents,credits,donations (a subset; `make bench ROWS=…`), --json PATH (the
figures for scripts). Row names: residents, credits, donations (wrk, PostgreSQL), registry, points,
fund (httpx and raw drivers, both stores), events, notify, bulk (tests/bench/bulk.py: batches on PostgreSQL),
import (a 5,000-row register workbook, tests/bench/import_register.py), sign_in (password sign-ins and
token refreshes, tests/bench/sign_in.py).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import shutil
import time
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import asyncpg

from linli_shared.testing.postgres import postgres_server
from tests.bench import bulk, import_register, sign_in
from tests.bench.driver_rows import (
    Row,
    fund_rows,
    notify_rows,
    points_rows,
    print_table,
    residents_rows,
    row_figures,
    say,
)
from tests.bench.event_flow import RAW_FETCH_BATCH, linli_event_flow, raw_event_flow, tags_changed_envelopes
from tests.bench.http_report import describe, print_http_rows
from tests.bench.http_rows import HTTP_ROWS, HttpRow
from tests.bench.infra import asyncpg_dsn, machine_basics, pg_database, temp_dir
from tests.bench.method import print_method
from tests.bench.registry_http import Timing
from tests.bench.sizes import (
    EVENTS,
)
from tests.bench.wrk import load_average


async def postgres_version(admin_url: str) -> str:
    connection = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        return str(await connection.fetchval("SHOW server_version"))
    finally:
        await connection.close()


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


Group = Callable[[Path, str | None], Awaitable[list[Row]]]
GROUPS: dict[str, Group] = {
    "registry": residents_rows,
    "points": points_rows,
    "fund": fund_rows,
    "notify": notify_rows,
}
ROWS_OF_THEIR_OWN: dict[str, tuple[Callable[[Path, str], Awaitable[Any]], Callable[[Any], None], str]] = {
    "bulk": (bulk.bulk_rows, bulk.print_rows, "bulk rows"),
    "import": (import_register.import_rows, import_register.print_row, "register import"),
    "sign_in": (sign_in.sign_in_rows, sign_in.print_row, "sign-in"),
}
"""Rows measured and printed in their own shape, on PostgreSQL."""
ROW_NAMES = (*HTTP_ROWS, "registry", "points", "fund", "events", "notify", *ROWS_OF_THEIR_OWN)


async def run_rows(
    root: Path, pg_admin_url: str | None, names: list[str]
) -> tuple[list[HttpRow], list[Row], Timing | None]:
    http: list[HttpRow] = []
    rows: list[Row] = []
    raw_single: Timing | None = None
    for name in names:
        load = load_average()
        if name in HTTP_ROWS:
            if pg_admin_url is None:
                print(f"  (row {name} needs PostgreSQL: skipped)")
                continue
            if shutil.which("wrk") is None:
                print(f"  (row {name} needs wrk: apt-get install -y wrk; skipped)")
                continue
            http.append(await HTTP_ROWS[name](root, pg_admin_url))
        elif name == "events":
            found, raw_single = await events_rows(root, pg_admin_url)
            rows += [dataclasses.replace(row, load=load) for row in found]
        elif name in ROWS_OF_THEIR_OWN:
            if pg_admin_url is None:
                print(f"  (row {name} needs PostgreSQL: skipped)")
                continue
            measure, show, title = ROWS_OF_THEIR_OWN[name]
            print(f"  {title} (load average {load}):")
            show(await measure(root, pg_admin_url))
        else:
            rows += [dataclasses.replace(row, load=load) for row in await GROUPS[name](root, pg_admin_url)]
    return http, rows, raw_single


async def run(root: Path, stack: ExitStack, names: list[str], json_path: Path | None) -> None:
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
    basics.append(("load average", load_average()))
    width = max(len(key) for key, _ in basics)
    for key, value in basics:
        print(f"{key.ljust(width)}  {value}")
    print()
    started = time.perf_counter()
    http, rows, raw_single = await run_rows(root, pg_admin_url, names)
    if http:
        print_http_rows(http)
    if rows:
        print_table(rows, raw_single)
    print_method()
    print(f"\ntotal bench time {time.perf_counter() - started:.1f}s")
    if json_path is not None:
        figures = {
            "machine": dict(basics),
            "rows": [describe(row) for row in http] + [row_figures(row) for row in rows],
        }
        json_path.write_text(json.dumps(figures, indent=2) + "\n")
        print(f"figures written to {json_path}")


def parse_rows(raw: str) -> list[str]:
    names = [name.strip() for name in raw.replace(" ", ",").split(",") if name.strip()]
    unknown = [name for name in names if name not in ROW_NAMES]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown rows {unknown}; choose from {', '.join(ROW_NAMES)}")
    return names


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--rows", type=parse_rows, default=list(ROW_NAMES), help=f"subset of {', '.join(ROW_NAMES)}"
    )
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    with ExitStack() as stack:
        root = stack.enter_context(temp_dir("linli-bench-"))
        asyncio.run(run(root, stack, args.rows, args.json))


if __name__ == "__main__":
    main()
