"""The HTTP rows' table and JSON: each Linli write, its bare baseline, the ratio, CPU, memory and load."""

from __future__ import annotations

from typing import Any

from tests.bench.http_rows import CONNECTIONS, SERVICE_WORKERS, HttpRow
from tests.bench.wrk import WrkRun


def describe(row: HttpRow) -> dict[str, Any]:
    """The row's figures for --json."""

    def figures(run: WrkRun) -> dict[str, Any]:
        return {
            "requests": run.requests,
            "seconds": round(run.seconds, 3),
            "per_second": round(run.rate, 1),
            "failed": run.failed,
            "p50_ms": round(run.p50_ms, 2),
            "p99_ms": round(run.p99_ms, 2),
            "cpu_ms_per_request": round(run.cpu_ms_per_request, 3),
            "rss_mb": [round(r, 1) for r in run.rss_mb],
            "load_average": run.load,
        }

    return {
        "row": row.name,
        "store": "PostgreSQL",
        "linli": figures(row.linli),
        "bare": figures(row.bare),
        "bare_hello": figures(row.hello),
        "linli_over_bare": round(row.linli.rate / row.bare.rate, 3),
        "hello_over_linli": round(row.hello.rate / row.linli.rate, 1),
        "relay_lag_seconds": row.relay_lag,
        "warnings": row.warnings,
        "connections": CONNECTIONS,
        "service_workers": int(SERVICE_WORKERS),
    }


def print_http_rows(rows: list[HttpRow]) -> None:
    header = (
        "row",
        "Linli /s",
        "bare /s",
        "Linli÷bare",
        "CPU ms/req L|b",
        "max RSS MB L|b",
        "hello /s",
        "hello÷L",
    )
    lines = [
        (
            row.name,
            f"{row.linli.rate:,.0f}",
            f"{row.bare.rate:,.0f}",
            f"{row.linli.rate / row.bare.rate:.2f}x",
            f"{row.linli.cpu_ms_per_request:.2f} | {row.bare.cpu_ms_per_request:.2f}",
            f"{max(row.linli.rss_mb, default=0):.0f} | {max(row.bare.rss_mb, default=0):.0f}",
            f"{row.hello.rate:,.0f}",
            f"{row.hello.rate / row.linli.rate:.1f}x"
            + ("" if row.hello.rate >= 5 * row.linli.rate else " (<5x!)"),
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
            f"{row.name}: load average at start — Linli {row.linli.load}, bare {row.bare.load},"
            f" hello {row.hello.load};"
            f" p50/p99 ms Linli {row.linli.p50_ms:.1f}/{row.linli.p99_ms:.1f},"
            f" bare {row.bare.p50_ms:.1f}/{row.bare.p99_ms:.1f}"
            + (f"; relay done +{row.relay_lag:.2f}s after the run" if row.relay_lag is not None else "")
        )
        for warning in row.warnings:
            print(f"  ! {warning}")
