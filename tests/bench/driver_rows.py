"""The rows measured with httpx and raw drivers, on PostgreSQL and SQLite, and their table."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.bench.event_flow import RAW_FETCH_BATCH
from tests.bench.fund_http import FundRun, fund_over_http, raw_donations
from tests.bench.infra import nats_server, pg_database
from tests.bench.notify_flow import NotifyRun, notify_flow, raw_notify_flow, redeemed_envelopes
from tests.bench.points_http import PointsRun, points_over_http, raw_points
from tests.bench.registry_http import Timing, raw_inserts, registry_over_http
from tests.bench.sizes import CREDITS, DONATIONS, NOTIFICATIONS, REDEMPTIONS, RESIDENTS, WARMUP, WORKERS


@dataclass(frozen=True)
class Row:
    measurement: str
    store: str
    linli: Timing
    baseline: Timing
    note: str = ""
    load: str = ""  # the load average as its group of runs began


def say(message: str) -> None:
    print(f"  … {message}", flush=True)


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


def print_table(rows: list[Row], raw_single: Timing | None) -> None:
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
        print(
            f"{row.measurement} on {row.store}: load average {row.load}"
            + (f"; {row.note}" if row.note else "")
        )
    events = next((row for row in rows if row.measurement.startswith("events")), None)
    if events is not None and raw_single is not None:
        print(
            f"reference, bare nats-py with fetch batch 1 (for reference): "
            f"{raw_single.seconds:.2f}s, {raw_single.rate:,.0f}/s "
            f"({raw_single.rate / events.linli.rate:.1f}x Linli)"
        )


def row_figures(row: Row) -> dict[str, Any]:
    return {
        "row": row.measurement,
        "store": row.store,
        "linli": {
            "count": row.linli.count,
            "seconds": round(row.linli.seconds, 3),
            "per_second": row.linli.rate,
        },
        "bare": {
            "count": row.baseline.count,
            "seconds": round(row.baseline.seconds, 3),
            "per_second": row.baseline.rate,
        },
        "linli_over_bare": round(row.linli.rate / row.baseline.rate, 3),
        "load_average": row.load,
        "note": row.note,
    }
