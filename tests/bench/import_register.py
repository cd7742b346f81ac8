"""The register import on PostgreSQL: a LINLI_BENCH_IMPORT_ROWS (5,000) row workbook, checked by a
dry run and then imported by `POST /v1/communities/{district}/{community}/import` to the registry
running as its own process (NATS of its own), beside openpyxl reading the same file alone (the floor
the import cannot go under: it reads every cell once). After the import the registry must hold every
resident and household, two outbox rows per resident and the rollup's population; a failed check is
printed as a warning. Run alone: `.venv/bin/python -m tests.bench.import_register`; bench.py calls
`import_rows`.
"""

from __future__ import annotations

import asyncio
import io
import os
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import httpx
from openpyxl import Workbook

from linli_registry import register_workbook
from linli_registry.domain import id_check_char
from linli_shared.auth import Role, issue_token
from linli_shared.testing.postgres import postgres_server
from tests.bench.bulk_common import expect, load_average
from tests.bench.infra import Secrets, nats_server, pg_database, service_process, temp_dir

ROWS = int(os.environ.get("LINLI_BENCH_IMPORT_ROWS", "5000"))
DISTRICT, COMMUNITY, GRIDS = "bench", "c1", ("zone-1", "zone-2", "zone-3")
TAGS = ("", "独居", "低保;残疾", "", "党员", "退役军人", "", "孤寡;失能")


@dataclass
class ImportRow:
    rows: int
    file_bytes: int
    read_seconds: float
    dry_run_seconds: float
    import_seconds: float
    warnings: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.rows / self.import_seconds


def register_file(rows: int) -> bytes:
    """A community's register: two or three residents to a household, every column filled in."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append([column.header for column in register_workbook.COLUMNS])
    born = date(1935, 1, 1)
    for index in range(rows):
        birth = born + timedelta(days=(index * 37) % 30000)
        first17 = f"110105{birth:%Y%m%d}{index % 1000:03d}"
        household = index // 3 if index % 5 else index // 2 + rows
        sheet.append(
            [f"H{household}", f"东李庄{household}号院", f"居民{index}", "男女"[index % 2],
             first17 + id_check_char(first17), None, GRIDS[index % 3], f"138{index:08d}",
             "李建国" if index % 4 == 0 else None, "儿子" if index % 4 == 0 else None,
             f"139{index:08d}" if index % 4 == 0 else None, TAGS[index % len(TAGS)]]
        )  # fmt: skip
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def unique_ids(rows: int) -> None:
    """The file's ID numbers must differ: the serial is the row modulo 1000, the birth day varies."""
    seen = {((index * 37) % 30000, index % 1000) for index in range(rows)}
    if len(seen) != rows:
        raise ValueError(f"{rows} rows repeat an ID number; use at most 30,000")


async def import_over_http(
    workdir: Path, database_url: str, nats_url: str, content: bytes
) -> tuple[float, float]:
    """Seconds of the dry run and of the import of `content`, to a registry process of its own."""
    keys = Secrets.random()
    admin = issue_token(keys.jwt_secret, role=Role.CITY_ADMIN, district=None, subject="bench-admin")
    worker = issue_token(
        keys.jwt_secret, role=Role.COMMUNITY_WORKER, district=DISTRICT, community=COMMUNITY, subject="bench"
    )
    with service_process("registry", workdir, database_url=database_url, nats_url=nats_url, keys=keys) as url:
        async with httpx.AsyncClient(base_url=url, timeout=300) as client:
            setup = [
                ("/v1/districts", {"code": DISTRICT, "name": "Bench district"}),
                ("/v1/communities", {"district": DISTRICT, "code": COMMUNITY, "name": "Bench community"}),
            ] + [
                ("/v1/grids", {"district": DISTRICT, "community": COMMUNITY, "code": grid, "name": grid})
                for grid in GRIDS
            ]
            for path, body in setup:
                answer = await client.post(path, json=body, headers={"Authorization": f"Bearer {admin}"})
                answer.raise_for_status()
            headers = {"Authorization": f"Bearer {worker}", "Content-Type": register_workbook.XLSX}
            path = f"/v1/communities/{DISTRICT}/{COMMUNITY}/import"
            timings = []
            for query, status in (("?dry_run=true", 200), ("", 201)):
                started = time.perf_counter()
                answer = await client.post(path + query, content=content, headers=headers)
                timings.append(time.perf_counter() - started)
                if answer.status_code != status:
                    raise RuntimeError(f"{path}{query}: {answer.status_code} {answer.text[:500]}")
    return timings[0], timings[1]


def import_checks(rows: int) -> dict[str, tuple[str, int]]:
    households = len({f"H{i // 3 if i % 5 else i // 2 + rows}" for i in range(rows)})
    return {
        "residents": ("SELECT count(*) FROM resident", rows),
        "households": ("SELECT count(*) FROM household", households),
        "events (registered + contact_changed)": (  # not the setup's place.named
            "SELECT count(*) FROM outbox_message WHERE subject LIKE '%.resident.%'",
            2 * rows,
        ),
        "rollup population": ("SELECT coalesce(sum(population), 0) FROM residenttally", rows),
        "birth-year rollup population": ("SELECT coalesce(sum(population), 0) FROM residentbirthtally", rows),
    }


async def import_rows(root: Path, admin_url: str) -> ImportRow:
    """The import row on the PostgreSQL server at `admin_url`, with a NATS server of its own."""
    unique_ids(ROWS)
    content = register_file(ROWS)
    started = time.perf_counter()
    sheet = register_workbook.read(content)
    read_seconds = time.perf_counter() - started
    assert len(sheet.rows) == ROWS, len(sheet.rows)
    with nats_server(root / "nats-import", "bench-import") as nats:
        async with pg_database(admin_url, "import_register") as database_url:
            dry_run, imported = await import_over_http(root, database_url, nats.url, content)
            warnings: list[str] = []
            await expect(database_url, warnings, import_checks(ROWS))
    return ImportRow(ROWS, len(content), read_seconds, dry_run, imported, warnings)


def print_row(row: ImportRow) -> None:
    print(
        f"register import of {row.rows:,} rows ({row.file_bytes / 1024:,.0f} kB .xlsx):"
        f" {row.rate:,.0f} rows/s, import {row.import_seconds:.2f} s, dry run {row.dry_run_seconds:.2f} s;"
        f" openpyxl reading the file alone {row.read_seconds:.2f} s"
    )
    for warning in row.warnings:
        print(f"    WARNING {warning}")


async def main() -> None:
    with ExitStack() as stack:
        admin_url = os.environ.get("LINLI_TEST_PG_URL") or stack.enter_context(postgres_server())
        workdir = stack.enter_context(temp_dir("linli-bench-import-"))
        print(f"register import bench; load average before: {load_average()}", flush=True)
        print_row(await import_rows(workdir, admin_url))


if __name__ == "__main__":
    asyncio.run(main())
