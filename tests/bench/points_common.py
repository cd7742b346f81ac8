"""What the points rows share: sizes, the run's figures, the untimed checks of its effects, and the
baseline's connections (the fund and notify rows use them too)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg

from tests.bench.infra import asyncpg_dsn
from tests.bench.registry_http import (
    Timing,
    scalar,
    sqlite_connection,
    sqlite_values,
)

DISTRICT = "bench"
COMMUNITY = "c1"
ITEM_NAME = "Bench rice 5 kg"
PRICE = 10  # every volunteer is credited this much beforehand and redeems one item at this price
CREDIT = 5  # points per timed credit


@dataclass
class PointsRun:
    """Both figures from one points process (or one raw database), with what the checks found."""

    redemptions: Timing
    credits: Timing
    redemption_warnings: list[str] = field(default_factory=list)
    credit_warnings: list[str] = field(default_factory=list)
    redemption_relay_lag: float | None = None
    credit_relay_lag: float | None = None


def check(warnings: list[str], what: str, found: int, expected: int) -> None:
    """An untimed check of an effect; a mismatch is printed and kept, not raised."""
    if found != expected:
        message = f"WARNING: {what}: expected {expected}, found {found}"
        print(f"  ! {message}", flush=True)
        warnings.append(message)


async def verify_redemptions(database_url: str, *, volunteers: int, redeemed: int) -> list[str]:
    warnings: list[str] = []
    check(warnings, "redemptions", await scalar(database_url, "SELECT count(*) FROM redemption"), redeemed)
    check(
        warnings,
        "ledger entries of kind redeemed",
        await scalar(database_url, "SELECT count(*) FROM points_entry WHERE kind = 'redeemed'"),
        redeemed,
    )
    check(
        warnings,
        "stock left",
        await scalar(database_url, "SELECT coalesce(sum(stock), 0) FROM item"),
        volunteers - redeemed,
    )
    check(
        warnings,
        "sum of balances",
        await scalar(database_url, "SELECT coalesce(sum(balance), 0) FROM points_account"),
        (volunteers - redeemed) * PRICE,
    )
    return warnings


async def verify_credits(database_url: str, *, volunteers: int, redeemed: int, credited: int) -> list[str]:
    """`credited` timed and warm-up credits on top of the redemption run's state."""
    warnings: list[str] = []
    check(
        warnings,
        "sum of balances",
        await scalar(database_url, "SELECT coalesce(sum(balance), 0) FROM points_account"),
        (volunteers - redeemed) * PRICE + credited * CREDIT,
    )
    check(
        warnings,
        "sum of points in the ledger",
        await scalar(database_url, "SELECT coalesce(sum(points), 0) FROM points_entry"),
        (volunteers - redeemed) * PRICE + credited * CREDIT,
    )
    return warnings


# --- the baseline's connections, shared with the fund and notify rows --------------------------------

FetchValue = Callable[..., Awaitable[Any]]
"""fetchval(sql, *args): the first column of the first row, or None; SQL written with $n placeholders."""
Body = Callable[[FetchValue], Awaitable[None]]


class RawConnections:
    """`workers` connections with the driver the service uses, one transaction per call of run()."""

    def __init__(self, database_url: str, sqlite_path: Path | None) -> None:
        self.database_url = database_url
        self.sqlite_path = sqlite_path
        self.pg: list[asyncpg.Connection] = []
        self.sqlite: list[aiosqlite.Connection] = []

    async def open(self, workers: int) -> None:
        for _ in range(workers):
            if self.sqlite_path is None:
                self.pg.append(await asyncpg.connect(asyncpg_dsn(self.database_url)))
            else:
                self.sqlite.append(await sqlite_connection(self.sqlite_path))

    async def close(self) -> None:
        for connection in self.pg:
            await connection.close()
        for sqlite in self.sqlite:
            await sqlite.close()

    def value(self, moment: datetime) -> Any:
        """A timestamp as this driver stores it (naive UTC; ISO text in SQLite), made before timing."""
        naive = moment.astimezone(UTC).replace(tzinfo=None)
        return naive if self.sqlite_path is None else sqlite_values((naive,))[0]

    async def run(self, number: int, body: Body) -> None:
        if self.sqlite_path is None:
            connection = self.pg[number]
            async with connection.transaction():
                await body(connection.fetchval)
            return
        sqlite = self.sqlite[number]

        async def fetchval(sql: str, *args: Any) -> Any:
            async with sqlite.execute(sql.replace("$", "?"), args) as cursor:  # ?N: numbered, as $N
                row = await cursor.fetchone()
            return None if row is None else row[0]

        await sqlite.execute("BEGIN IMMEDIATE")  # as make_engine begins every SQLite transaction
        try:
            await body(fetchval)
        except BaseException:
            await sqlite.execute("ROLLBACK")
            raise
        await sqlite.execute("COMMIT")


class Refused(Exception):
    """A conditional update matched no row: not enough points or no stock; the transaction rolls back."""
