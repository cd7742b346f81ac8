"""The whole stack for the browser tests: NATS from the wheel, the registry, notify, points and fund as
processes (on SQLite or PostgreSQL, each service on a database of its own), the console in front of
them, and Debian's Chromium driven by Playwright.

The registry signs people in with a key made for this run; the other services trust its public half
(LINLI_JWKS).
An HS256 development secret lets the test itself set up the community as an admin would."""

from __future__ import annotations

import json
import secrets
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

from linli_shared.auth import COMMUNITY_LEVEL, Role, issue_token
from linli_shared.clock import CHINA_TIME
from linli_shared.natsserver import NatsServer, free_port
from linli_shared.processes import ServiceProcess
from linli_shared.testing.plugin import fresh_pg_database
from linli_shared.testing.signing import jwks_of, new_signing_key_pem

CHROMIUM = "/usr/bin/chromium"
ARTEFACTS = Path(__file__).resolve().parents[2] / "var" / "browser"
JWT_SECRET = secrets.token_urlsafe(48)
ID_HASH_KEY = secrets.token_urlsafe(48)
PHONE = (390, 844)
DESKTOP = (1280, 800)


@dataclass
class Stack:
    registry: ServiceProcess
    notify: ServiceProcess
    console: ServiceProcess
    database: str
    points: ServiceProcess
    fund: ServiceProcess
    district: str = field(default_factory=lambda: f"d{uuid.uuid4().hex[:8]}")
    community: str = field(default_factory=lambda: f"c{uuid.uuid4().hex[:8]}")

    def bearer(self, role: Role, subject: str) -> dict[str, str]:
        district = None if role is Role.CITY_ADMIN else self.district
        community = self.community if role in COMMUNITY_LEVEL else None
        token = issue_token(JWT_SECRET, role=role, district=district, community=community, subject=subject)
        return {"Authorization": f"Bearer {token}", "Accept-Language": "zh"}

    def post(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        response = httpx.post(self.registry.url + path, json=body, headers=headers, timeout=30)
        assert response.status_code == 201, response.text
        return dict(response.json())


def service_env(name: str, nats_url: str, database_url: str, **own: str) -> dict[str, str]:
    prefix = f"LINLI_{name.upper()}_"
    return {
        "LINLI_JWT_SECRET": JWT_SECRET,
        "LINLI_NATS_URL": nats_url,
        "LINLI_REGISTRY_ID_HASH_KEY": ID_HASH_KEY,
        f"{prefix}DATABASE_URL": database_url,
        **{prefix + key.upper(): value for key, value in own.items()},
    }


def stop_together(processes: list[ServiceProcess], timeout: float = 20.0) -> None:
    """SIGTERM to every service at once, then each waited for (killed if it will not end): five
    services shutting down one after another made each test's teardown the slowest part of it."""
    for process in processes:
        if process.process is not None and process.process.poll() is None:
            process.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for process in processes:
        if process.process is not None:
            try:
                process.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
        process.stop()


@pytest.fixture
def stack(
    request: pytest.FixtureRequest, database_url: str, own_nats_server: NatsServer, tmp_path: Path
) -> Iterator[Stack]:
    """Registry, notify, points, fund and the console, each its own process and (but the console,
    which keeps no data) its own database; all started at once, then each waited for."""
    with ExitStack() as cleanup:

        def own_database(name: str) -> str:
            if database_url.startswith("postgresql"):
                return cleanup.enter_context(fresh_pg_database(request.getfixturevalue("pg_admin_url")))
            return f"sqlite+aiosqlite:///{tmp_path / f'{name}.db'}"

        pem = new_signing_key_pem()
        trusted = {"LINLI_JWKS": json.dumps(jwks_of(pem))}

        databases = {name: own_database(name) for name in ("notify", "points", "fund")}
        started: list[ServiceProcess] = []
        cleanup.callback(stop_together, started)  # before the databases are dropped

        def start(name: str, env: dict[str, str]) -> ServiceProcess:
            process = ServiceProcess(name, free_port(), env, tmp_path / f"{name}.log")
            started.append(process)
            process.start()
            return process

        nats = own_nats_server.url
        registry = start(
            "registry",
            service_env("registry", nats, database_url, signing_key=pem, care_check_seconds="1"),
        )
        district, community = f"d{uuid.uuid4().hex[:8]}", f"c{uuid.uuid4().hex[:8]}"
        notify = start(
            "notify",
            {
                **service_env(
                    "notify",
                    nats,
                    databases["notify"],
                    dispatch_seconds="0.2",
                    quiet_start="00:00",  # no quiet hours: the test passes at any hour
                    quiet_end="00:00",
                    digest_enabled="false",
                    escalate_after_by_community=json.dumps({community: 3600}),
                    escalation_check_seconds="0.5",
                ),
                **trusted,
            },
        )
        points = start("points", {**service_env("points", nats, databases["points"]), **trusted})
        fund = start("fund", {**service_env("fund", nats, databases["fund"]), **trusted})
        console = start(
            "console",
            {
                "LINLI_CONSOLE_REGISTRY_URL": registry.url,
                "LINLI_CONSOLE_NOTIFY_URL": notify.url,
                "LINLI_CONSOLE_POINTS_URL": points.url,
                "LINLI_CONSOLE_FUND_URL": fund.url,
                "LINLI_CONSOLE_COOKIE_SECURE": "false",  # plain HTTP on this machine
            },
        )
        for process in (registry, notify, points, fund):
            process.wait_healthy(path="/readyz")
        console.wait_healthy(path="/healthz")
        yield Stack(
            registry,
            notify,
            console,
            "postgresql" if database_url.startswith("postgresql") else "sqlite",
            points,
            fund,
            district=district,
            community=community,
        )


@dataclass(frozen=True)
class Journey:
    """A community as the test sets it up: a grid worker who signs in, and two elders in their care."""

    phone: str
    password: str
    grid_worker: str  # the account id: the subject of the grid worker's tokens
    due_elder: str
    due_elder_id: str
    missed_elder: str
    missed_elder_id: str


def register_elder(stack: Stack, worker: dict[str, str], name: str, id_number: str) -> str:
    resident = stack.post(
        "/v1/residents",
        {
            "district": stack.district,
            "community": stack.community,
            "full_name": name,
            "gender": "female",
            "id_number": id_number,
            "tags": ["living_alone"],
        },
        worker,
    )
    return str(resident["id"])


def due_soon(now: datetime) -> timedelta:
    """How long until the first elder's visit falls due: ten minutes, but still today in China."""
    local = now.astimezone(CHINA_TIME)
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(timedelta(seconds=30), min(timedelta(minutes=10), midnight - local - timedelta(minutes=1)))


@pytest.fixture
def journey(stack: Stack) -> Journey:
    admin = stack.bearer(Role.CITY_ADMIN, "admin")
    stack.post("/v1/districts", {"code": stack.district, "name": "高桥营街道"}, admin)
    stack.post(
        "/v1/communities", {"district": stack.district, "code": stack.community, "name": "东李庄社区"}, admin
    )
    phone, password = f"100{uuid.uuid4().int % 10**8:08d}", secrets.token_urlsafe(12)
    account = stack.post(
        "/v1/accounts",
        {
            "phone": phone,
            "display_name": "李网格",
            "password": password,
            "district": stack.district,
            "community": stack.community,
        },
        admin,
    )
    stack.post(
        f"/v1/accounts/{account['id']}/grants",
        {"role": "grid_worker", "district": stack.district, "community": stack.community},
        admin,
    )
    worker = stack.bearer(Role.COMMUNITY_WORKER, "cw-zhang")
    due_id = register_elder(stack, worker, "王秀英", "110105194403080027")
    missed_id = register_elder(stack, worker, "李桂兰", "110105194001010042")
    now = datetime.now(UTC)
    for resident_id, every, formed in (
        (due_id, 24, now - timedelta(hours=24) + due_soon(now)),  # due later today
        (missed_id, 1, now - timedelta(hours=3)),  # missed: the registry's check raises the alert
    ):
        stack.post(
            "/v1/care-groups",
            {
                "resident_id": resident_id,
                "community_worker": "cw-zhang",
                "grid_worker": str(account["id"]),
                "neighbour_name": "赵大妈",
                "visit_every_hours": every,
                "call_every_days": 1,
                "formed_at": formed.isoformat(),
            },
            worker,
        )
    return Journey(phone, password, str(account["id"]), "王秀英", due_id, "李桂兰", missed_id)


@pytest.fixture
def playwright_driver(stack: Stack) -> Iterator[Playwright]:
    """Started after the stack (and so stopped before it): its loop must not be running while the
    stack's teardown drops a PostgreSQL database."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    launched = playwright_driver.chromium.launch(executable_path=CHROMIUM)
    yield launched
    launched.close()


@pytest.fixture
def artefacts() -> Path:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    return ARTEFACTS
