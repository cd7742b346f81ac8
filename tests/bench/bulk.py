"""Bulk where the work is bulk: ledger postings per second in a batch on PostgreSQL, each row beside
bare asyncpg doing the same inserts in one transaction per batch (multi-row INSERT … SELECT unnest).

- fund: POST /v1/donation-batches, LINLI_BENCH_BATCHES (50) batches of LINLI_BENCH_BATCH_LINES (1000)
  cash gifts to one community (a counted collection box); two postings per gift.
- points: POST /v1/activities/{id}/attendance-batches, LINLI_BENCH_ATTENDANCE_BATCHES (25) activities
  with LINLI_BENCH_ATTENDEES (200) volunteers each; one points entry per attendee.

LINLI_BENCH_BULK_CLIENTS (2) batches are in flight at once, for Linli and the baseline alike. After
each run the books are checked (every entry balanced, the postings sum to zero, receipts 1..N with no
gap, each credit once); a failed check is printed as a warning beside the figure. Setup (volunteers,
sign-ups) goes through the API and is not timed. Run alone: `.venv/bin/python -m tests.bench.bulk`;
bench.py calls `bulk_rows`. The rows are in bulk_fund.py and bulk_points.py, what they share in
bulk_common.py.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from pathlib import Path

from linli_fund.app import MIGRATIONS as FUND_MIGRATIONS
from linli_points.app import MIGRATIONS as POINTS_MIGRATIONS
from linli_shared.testing.postgres import postgres_server
from tests.bench.bulk_common import (
    ATTENDANCE_BATCHES,
    ATTENDEES,
    BATCH_LINES,
    BATCHES,
    CLIENTS,
    BulkRow,
    load_average,
)
from tests.bench.bulk_fund import fund_batches_over_http, raw_fund_batches
from tests.bench.bulk_points import attendance_over_http, raw_attendance
from tests.bench.infra import nats_server, pg_database, temp_dir
from tests.bench.registry_http import Timing, create_schema

__all__ = ["BulkRow", "bulk_rows", "print_rows"]


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
