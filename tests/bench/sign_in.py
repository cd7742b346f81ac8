"""Sign-in on PostgreSQL: password sign-ins/s and refreshes/s against the registry running as its own
process (NATS of its own, one uvicorn worker), LINLI_BENCH_WORKERS (8) requests in flight, beside
Argon2id verification alone in one thread (the floor a password sign-in cannot beat on one core: each
checks one hash). Each sign-in is a different account (LINLI_BENCH_SIGN_INS, 200), each refresh uses
the token the last one gave. Run alone: `.venv/bin/python -m tests.bench.sign_in`; bench.py calls
`sign_in_rows`.
"""

from __future__ import annotations

import asyncio
import os
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from pwdlib import PasswordHash

from linli_shared.auth import Role, issue_token
from linli_shared.testing.postgres import postgres_server
from linli_shared.testing.signing import new_signing_key_pem
from tests.bench.bulk_common import load_average
from tests.bench.infra import Secrets, nats_server, pg_database, service_process, temp_dir

SIGN_INS = int(os.environ.get("LINLI_BENCH_SIGN_INS", "200"))
IN_FLIGHT = int(os.environ.get("LINLI_BENCH_WORKERS", "8"))
DISTRICT, COMMUNITY = "bench", "c1"
PASSWORD = "bench-password-1"


@dataclass
class SignInRow:
    sign_ins: int
    sign_in_seconds: float
    refreshes: int
    refresh_seconds: float
    verify_per_second: float
    warnings: list[str] = field(default_factory=list)


async def in_flight(count: int, call: object) -> float:
    """Seconds to make `count` calls of `call(n)`, IN_FLIGHT at a time."""
    queue = iter(range(count))

    async def worker() -> None:
        for n in queue:
            await call(n)  # type: ignore[operator]

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
    return time.perf_counter() - started


async def set_up(client: httpx.AsyncClient, admin: dict[str, str], count: int) -> list[str]:
    for path, body in (
        ("/v1/districts", {"code": DISTRICT, "name": "Bench district"}),
        ("/v1/communities", {"district": DISTRICT, "code": COMMUNITY, "name": "Bench community"}),
    ):
        (await client.post(path, json=body, headers=admin)).raise_for_status()
    phones = [f"1380000{n:04d}" for n in range(count)]

    async def make(n: int) -> None:
        body = {"phone": phones[n], "display_name": f"Bench {n}", "password": PASSWORD,
                "district": DISTRICT, "community": COMMUNITY}  # fmt: skip
        made = await client.post("/v1/accounts", json=body, headers=admin)
        made.raise_for_status()
        role = {"role": Role.GRID_WORKER.value, "district": DISTRICT, "community": COMMUNITY}
        (
            await client.post(f"/v1/accounts/{made.json()['id']}/grants", json=role, headers=admin)
        ).raise_for_status()

    await in_flight(count, make)
    return phones


async def measure(url: str, admin: dict[str, str], warnings: list[str]) -> tuple[float, float]:
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        phones = await set_up(client, admin, SIGN_INS)
        tokens: list[str] = [""] * SIGN_INS

        async def sign_in(n: int) -> None:
            answer = await client.post("/v1/sign-in", json={"phone": phones[n], "password": PASSWORD})
            if answer.status_code != 200:
                warnings.append(f"sign-in {n}: {answer.status_code} {answer.text[:200]}")
                return
            tokens[n] = answer.json()["refresh_token"]

        sign_in_seconds = await in_flight(SIGN_INS, sign_in)

        async def refresh(n: int) -> None:
            account = n % SIGN_INS
            answer = await client.post("/v1/tokens/refresh", json={"refresh_token": tokens[account]})
            if answer.status_code != 200:
                warnings.append(f"refresh {n}: {answer.status_code} {answer.text[:200]}")
                return
            tokens[account] = answer.json()["refresh_token"]

        # an account comes round again only after SIGN_INS others: its last refresh has answered
        refresh_seconds = await in_flight(SIGN_INS * 5, refresh)
    return sign_in_seconds, refresh_seconds


def verify_rate(seconds: float = 2.0) -> float:
    hasher = PasswordHash.recommended()
    stored = hasher.hash(PASSWORD)
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        hasher.verify(PASSWORD, stored)
        count += 1
    return count / (time.perf_counter() - started)


async def sign_in_rows(root: Path, admin_url: str) -> SignInRow:
    keys = Secrets.random()
    admin = {"Authorization": f"Bearer {issue_token(keys.jwt_secret, role=Role.CITY_ADMIN, district=None)}"}
    env = {
        "LINLI_REGISTRY_SIGNING_KEY": new_signing_key_pem(),
        "LINLI_REGISTRY_SIGN_IN_FAILURES_PER_ADDRESS": "1000",
    }
    warnings: list[str] = []
    with nats_server(root / "nats-sign-in", "bench-sign-in") as nats:
        async with pg_database(admin_url, "sign_in") as database_url:
            with service_process(
                "registry", root, database_url=database_url, nats_url=nats.url, keys=keys, extra_env=env
            ) as url:
                sign_in_seconds, refresh_seconds = await measure(url, admin, warnings)
    return SignInRow(SIGN_INS, sign_in_seconds, SIGN_INS * 5, refresh_seconds, verify_rate(), warnings[:5])


def print_row(row: SignInRow) -> None:
    sign_ins = row.sign_ins / row.sign_in_seconds
    print(
        f"password sign-ins: {sign_ins:,.1f}/s ({row.sign_ins} in {row.sign_in_seconds:.2f} s, {IN_FLIGHT}"
        f" in flight); Argon2id verification alone, one thread: {row.verify_per_second:,.1f}/s"
    )
    refreshes = row.refreshes / row.refresh_seconds
    print(f"refreshes: {refreshes:,.0f}/s ({row.refreshes} in {row.refresh_seconds:.2f} s)")
    for warning in row.warnings:
        print(f"    WARNING {warning}")


async def main() -> None:
    with ExitStack() as stack:
        admin_url = os.environ.get("LINLI_TEST_PG_URL") or stack.enter_context(postgres_server())
        workdir = stack.enter_context(temp_dir("linli-bench-sign-in-"))
        print(f"sign-in bench; load average before: {load_average()}", flush=True)
        print_row(await sign_in_rows(workdir, admin_url))


if __name__ == "__main__":
    asyncio.run(main())
