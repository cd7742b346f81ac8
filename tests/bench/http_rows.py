"""The HTTP write rows, honestly: each Linli write beside a bare FastAPI + asyncpg endpoint doing the same
inserts, both served by the same uvicorn settings and workers and loaded by the same wrk client.

Rows (PostgreSQL only): residents (POST /v1/residents), credits (POST /v1/points/adjustments),
donations (POST /v1/donations). Each row also loads the bare server's GET /hello, to show the client
is not the ceiling (it should run at least 5x the Linli rate).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import httpx

from linli_fund.app import MIGRATIONS as FUND_MIGRATIONS
from linli_fund.domain import receipt_year
from linli_points.app import MIGRATIONS as POINTS_MIGRATIONS
from linli_registry.app import MIGRATIONS as REGISTRY_MIGRATIONS
from linli_shared.auth import Role, issue_token
from linli_shared.clock import utc_now
from linli_shared.processes import ServiceProcess
from tests.bench.fund_http import raw_seed as seed_fund
from tests.bench.fund_http import verify_donations
from tests.bench.infra import Secrets, bare_service, nats_server, pg_database, served_service
from tests.bench.points_http import RawConnections, post_setup, relay_caught_up
from tests.bench.points_http import raw_seed as seed_points
from tests.bench.registry_http import create_schema, post, scalar
from tests.bench.wrk import WrkRun, lua_script, run_wrk

SECONDS = float(os.environ.get("LINLI_BENCH_SECONDS", "12"))
WARMUP_SECONDS = float(os.environ.get("LINLI_BENCH_WARMUP_SECONDS", "2"))
CONNECTIONS = int(os.environ.get("LINLI_BENCH_WORKERS", "8"))
SERVICE_WORKERS = os.environ.get("LINLI_BENCH_SERVICE_WORKERS", "1")
VOLUNTEERS = 64  # credits go round-robin over this many accounts
DISTRICT, COMMUNITY = "bench", "c1"
ROUNDS = int(os.environ.get("LINLI_BENCH_ROUNDS", "3"))
ROUND_OFFSET = 1_000_000  # round k's requests number from k million, the warm-up's from WARMUP_OFFSET:
WARMUP_OFFSET = 5_000_000  # no ID number and no key twice

RESIDENT_BODY = (
    'string.format(\'{"district": "bench", "community": "c1", "full_name": "Bench Resident %d", '
    '"gender": "%s", "id_number": "%s", "tags": [%s]}\', n, (n % 2 == 0) and \'male\' or \'female\', '
    "id_number(n), (n % 4 == 0) and '\"veteran\"' or '')"
)
CREDIT_BODY = (
    'string.format(\'{"volunteer_id": "%s", "points": 5, "reason": "bench credit"}\', '
    f"volunteers[n % {VOLUNTEERS} + 1])"
)
RESIDENTS = "SELECT count(*) FROM resident"
CREDITS = "SELECT count(*) FROM points_entry WHERE reason = 'bench credit'"
DONATIONS = "SELECT count(*) FROM donation"
DONATION_BODY = (
    'string.format(\'{"district": "bench", "community": "c1", "donor_kind": "resident", '
    '"donor_name": "Bench donor %d", "channel": "cash", "amount_fen": 5000}\', n)'
)


@dataclass
class HttpRow:
    """One write measured both ways, with the bare hello as the client's proof."""

    name: str
    linli: WrkRun
    bare: WrkRun
    hello: WrkRun
    warnings: list[str] = field(default_factory=list)
    relay_lag: float | None = None


@dataclass(frozen=True)
class Load:
    """What wrk sends to one server: the path, headers and body of request n."""

    path: str
    body: str
    headers: dict[str, str]
    keyed: bool = False
    prelude: str = ""


def say(message: str) -> None:
    print(f"  … {message}", flush=True)


def env() -> dict[str, str]:
    return {"LINLI_WORKERS": SERVICE_WORKERS}


@dataclass(frozen=True)
class Side:
    """One server under load: Linli's service or its bare baseline. `settle` waits, untimed, until
    the server has done what a round left it (Linli's relay publishing the round's events)."""

    process: ServiceProcess
    load: Load
    run: str
    settle: Callable[[], Awaitable[float]] | None = None


@dataclass
class Loaded:
    run: WrkRun
    answered: int  # 2xx answers, the warm-up's included, to check against the rows written
    settled: float | None = None  # how long the last settle took


def load_once(side: Side, workdir: Path, offset: int, seconds: float) -> WrkRun:
    """One wrk run of `seconds`, its requests numbered from `offset` (no ID number or key twice)."""
    load = side.load
    script = load.prelude + lua_script(
        method="POST",
        path=load.path,
        headers={"Content-Type": "application/json", **load.headers},
        body=load.body,
        keyed=load.keyed,
        run=f"{side.run}-{offset}",
        offset=offset,
    )
    return run_wrk(
        side.process.url,
        script,
        workdir,
        seconds=seconds,
        connections=CONNECTIONS,
        server_pid=pid(side.process),
    )


async def alternate(linli: Side, bare: Side, workdir: Path) -> tuple[Loaded, Loaded]:
    """Warm both servers up, then ROUNDS rounds of Linli then bare, SECONDS / ROUNDS each: when the
    machine's speed drifts (a neighbour's load, a slower minute), both sides feel it alike, where
    ten seconds of one and then ten of the other gave ratios ±0.1 apart from one run to the next."""
    runs: dict[str, list[WrkRun]] = {linli.run: [], bare.run: []}
    answered = {linli.run: 0, bare.run: 0}
    settled: float | None = None
    plan = [(WARMUP_OFFSET, WARMUP_SECONDS, False)]
    plan += [(number * ROUND_OFFSET, SECONDS / ROUNDS, True) for number in range(ROUNDS)]
    for offset, seconds, timed in plan:
        for side in (linli, bare):
            run = await asyncio.to_thread(load_once, side, workdir, offset, seconds)
            answered[side.run] += run.requests - run.failed
            if timed:
                runs[side.run].append(run)
            if side.settle is not None:
                settled = await side.settle()
    return (
        Loaded(WrkRun.of_rounds(runs[linli.run]), answered[linli.run], settled),
        Loaded(WrkRun.of_rounds(runs[bare.run]), answered[bare.run]),
    )


def load_hello(process: ServiceProcess, workdir: Path) -> WrkRun:
    script = lua_script(method="GET", path="/hello", headers={}, body="nil", keyed=False, run="h", offset=0)
    return run_wrk(
        process.url, script, workdir, seconds=SECONDS / 2, connections=CONNECTIONS, server_pid=pid(process)
    )


def pid(process: ServiceProcess) -> int:
    assert process.process is not None
    return process.process.pid


def check_effects(row: HttpRow, what: str, found: int, run: WrkRun, answered: int) -> None:
    """Every 2xx answer left its row; a request still in flight when wrk stopped may add one more."""
    if run.failed:
        row.warnings.append(f"WARNING: {what}: {run.failed} of {run.requests} timed requests failed")
    if not 0 <= found - answered <= (ROUNDS + 1) * CONNECTIONS:  # in flight as each wrk run stopped
        row.warnings.append(f"WARNING: {what}: {found} rows for {answered} successful answers")


@dataclass(frozen=True)
class Bare:
    """The bare baseline of a row: a database migrated by the service's migrations, seeded by `seed`
    (which gives the load to send), and the count of the rows its requests leave."""

    row: str  # the row's name in the table
    name: str
    migrations: Path
    seed: Callable[[str], Awaitable[Load]]
    count_sql: str


async def beside_bare(linli: Side, bare: Bare, workdir: Path, pg_admin_url: str) -> tuple[Loaded, HttpRow]:
    """The bare server started beside Linli's, both loaded in alternate rounds, the bare hello
    after; the row's bare side checked."""
    async with pg_database(pg_admin_url, f"bare_{bare.name}") as url:
        await create_schema(url, bare.migrations)
        load = await bare.seed(url)
        with bare_service(workdir / "bare", database_url=url, extra_env=env()) as process:
            say(f"bare FastAPI + asyncpg {load.path}, {CONNECTIONS} connections, {SERVICE_WORKERS} worker(s)")
            linli_loaded, bare_loaded = await alternate(
                linli, Side(process, load, f"bare-{bare.name}"), workdir
            )
            say("bare GET /hello")
            hello = await asyncio.to_thread(load_hello, process, workdir)
        row = HttpRow(bare.row, linli_loaded.run, bare_loaded.run, hello, relay_lag=linli_loaded.settled)
        found = await scalar(url, bare.count_sql)
        check_effects(row, f"bare {bare.name}", found, bare_loaded.run, bare_loaded.answered)
    return linli_loaded, row


def worker_headers(keys: Secrets) -> dict[str, str]:
    token = issue_token(
        keys.jwt_secret, role=Role.COMMUNITY_WORKER, district=DISTRICT, community=COMMUNITY, subject="bench"
    )
    return {"Authorization": f"Bearer {token}"}


async def residents_row(root: Path, pg_admin_url: str) -> HttpRow:
    workdir, keys = root / "http-residents", Secrets.random()
    headers = worker_headers(keys)
    load = Load("/v1/residents", RESIDENT_BODY, headers)
    say(
        f"registry POST /v1/residents with wrk: {SECONDS:g}s in {ROUNDS} rounds, {CONNECTIONS} connections,"
        f" {SERVICE_WORKERS} worker(s)"
    )

    async def seed(_url: str) -> Load:
        return Load("/residents", RESIDENT_BODY, {})

    with nats_server(workdir / "nats", "bench-http-residents") as server:
        async with pg_database(pg_admin_url, "registry") as url:
            with served_service(
                "registry", workdir, database_url=url, nats_url=server.url, keys=keys, extra_env=env()
            ) as process:
                admin = issue_token(
                    keys.jwt_secret, role=Role.CITY_ADMIN, district=None, subject="bench-admin"
                )
                async with httpx.AsyncClient(
                    base_url=process.url, headers={"Authorization": f"Bearer {admin}"}, timeout=30
                ) as client:
                    await post(client, "/v1/districts", {"code": DISTRICT, "name": "Bench district"})
                    body = {"district": DISTRICT, "code": COMMUNITY, "name": "Bench community"}
                    await post(client, "/v1/communities", body)
                linli = Side(process, load, "linli-residents", settle=partial(relay_caught_up, url))
                bare = Bare("residents/s (HTTP, wrk)", "residents", REGISTRY_MIGRATIONS, seed, RESIDENTS)
                loaded, row = await beside_bare(linli, bare, workdir, pg_admin_url)
            check_effects(row, "Linli residents", await scalar(url, RESIDENTS), loaded.run, loaded.answered)
    return row


def volunteer_prelude(ids: list[str]) -> str:
    return "volunteers = {" + ", ".join(f'"{v}"' for v in ids) + "}\n"


async def credits_row(root: Path, pg_admin_url: str) -> HttpRow:
    workdir, keys = root / "http-credits", Secrets.random()
    headers = worker_headers(keys)
    say(
        f"points POST /v1/points/adjustments with wrk: {SECONDS:g}s in {ROUNDS} rounds,"
        f" {VOLUNTEERS} accounts round-robin"
    )

    async def seed(bare_url: str) -> Load:
        volunteers, _item = await seed_points(bare_url, VOLUNTEERS)
        prelude = volunteer_prelude([v for v, _ in volunteers])
        return Load("/credits", CREDIT_BODY, {}, keyed=True, prelude=prelude)

    with nats_server(workdir / "nats", "bench-http-credits") as server:
        async with pg_database(pg_admin_url, "points") as url:
            with served_service(
                "points", workdir, database_url=url, nats_url=server.url, keys=keys, extra_env=env()
            ) as process:
                enrolled = await post_setup(
                    process.url,
                    [
                        (
                            "/v1/volunteers",
                            {
                                "district": DISTRICT,
                                "community": COMMUNITY,
                                "subject": f"v{i}",
                                "full_name": f"V {i}",
                            },
                            headers,
                        )
                        for i in range(VOLUNTEERS)
                    ],
                    4,
                )
                ids = [answer["id"] for answer in enrolled]
                start = {"points": 10, "reason": "bench start"}
                await post_setup(
                    process.url,
                    [("/v1/points/adjustments", {"volunteer_id": v, **start}, headers) for v in ids],
                    4,
                )
                await relay_caught_up(url)
                load = Load(
                    "/v1/points/adjustments", CREDIT_BODY, headers, keyed=True, prelude=volunteer_prelude(ids)
                )
                linli = Side(process, load, "linli-credits", settle=partial(relay_caught_up, url))
                bare = Bare("points credited/s (HTTP, wrk)", "credits", POINTS_MIGRATIONS, seed, CREDITS)
                loaded, row = await beside_bare(linli, bare, workdir, pg_admin_url)
            check_effects(row, "Linli credits", await scalar(url, CREDITS), loaded.run, loaded.answered)
    return row


async def donations_row(root: Path, pg_admin_url: str) -> HttpRow:
    workdir, keys = root / "http-donations", Secrets.random()
    load = Load("/v1/donations", DONATION_BODY, worker_headers(keys), keyed=True)
    say(f"fund POST /v1/donations with wrk: {SECONDS:g}s in {ROUNDS} rounds, {CONNECTIONS} connections")

    async def seed(bare_url: str) -> Load:
        connections = RawConnections(bare_url, None)
        await connections.open(1)
        try:
            await seed_fund(connections, receipt_year(utc_now()))
        finally:
            await connections.close()
        return Load("/donations", DONATION_BODY, {}, keyed=True)

    with nats_server(workdir / "nats", "bench-http-donations") as server:
        async with pg_database(pg_admin_url, "fund") as url:
            with served_service(
                "fund", workdir, database_url=url, nats_url=server.url, keys=keys, extra_env=env()
            ) as process:
                linli = Side(process, load, "linli-donations", settle=partial(relay_caught_up, url))
                bare = Bare("journal entries/s (HTTP, wrk)", "donations", FUND_MIGRATIONS, seed, DONATIONS)
                loaded, row = await beside_bare(linli, bare, workdir, pg_admin_url)
            posted = await scalar(url, DONATIONS)
            row.warnings += await verify_donations(url, posted=posted)
            check_effects(row, "Linli donations", posted, loaded.run, loaded.answered)
    return row


HTTP_ROWS: dict[str, Callable[[Path, str], Awaitable[HttpRow]]] = {
    "residents": residents_row,
    "credits": credits_row,
    "donations": donations_row,
}
