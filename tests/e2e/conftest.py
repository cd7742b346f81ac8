from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from linli_shared.natsserver import NatsServer, free_port
from linli_shared.processes import ServiceProcess

JWT_SECRET = secrets.token_urlsafe(48)
ID_HASH_KEY = secrets.token_urlsafe(48)


@pytest.fixture
def nats_url(own_nats_server: NatsServer) -> str:
    """A NATS of each end-to-end test's own. Services started on fresh databases replay whole streams,
    and the events other tests left on a shared server (thousands, some broken on purpose) would make
    that replay, not the path under test, decide how long the test takes."""
    return own_nats_server.url


@pytest.fixture
def start_service(tmp_path: Path) -> Iterator[Callable[..., ServiceProcess]]:
    """Start a service as its own process (SQLite unless given a database); all are stopped after."""
    started: list[ServiceProcess] = []

    def start(
        name: str, nats_url: str, *, database_url: str | None = None, wait: str = "/readyz", **env: str
    ) -> ServiceProcess:
        prefix = f"LINLI_{name.upper()}_"
        process = ServiceProcess(
            name,
            free_port(),
            {
                "LINLI_JWT_SECRET": JWT_SECRET,
                "LINLI_NATS_URL": nats_url,
                "LINLI_REGISTRY_ID_HASH_KEY": ID_HASH_KEY,
                f"{prefix}DATABASE_URL": database_url or f"sqlite+aiosqlite:///{tmp_path / name}.db",
                **{prefix + key.upper(): value for key, value in env.items()},
            },
            tmp_path / f"{name}-{len(started)}.log",
        )
        process.start()
        started.append(process)
        process.wait_healthy(path=wait)
        return process

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def start_registry(
    start_service: Callable[..., ServiceProcess], database_url: str
) -> Callable[..., ServiceProcess]:
    """The registry on this test's database (SQLite or PostgreSQL), relay on or off."""

    def start(nats_url: str, *, relay: bool = True, wait: str = "/healthz") -> ServiceProcess:
        return start_service(
            "registry", nats_url, database_url=database_url, wait=wait, relay_enabled=str(relay).lower()
        )

    return start
