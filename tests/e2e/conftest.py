from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from linli_shared.natsserver import free_port
from linli_shared.processes import ServiceProcess

JWT_SECRET = secrets.token_urlsafe(48)


@pytest.fixture
def start_registry(database_url: str, tmp_path: Path) -> Iterator[Callable[..., ServiceProcess]]:
    """Start the registry as its own process; every one started is stopped after the test."""
    started: list[ServiceProcess] = []
    port = free_port()
    id_key = secrets.token_urlsafe(48)

    def start(nats_url: str, *, relay: bool = True, wait: str = "/healthz") -> ServiceProcess:
        env = {
            "LINLI_JWT_SECRET": JWT_SECRET,
            "LINLI_REGISTRY_ID_HASH_KEY": id_key,
            "LINLI_REGISTRY_DATABASE_URL": database_url,
            "LINLI_NATS_URL": nats_url,
            "LINLI_REGISTRY_RELAY_ENABLED": "true" if relay else "false",
        }
        process = ServiceProcess("registry", port, env, tmp_path / f"registry-{len(started)}.log")
        process.start()
        started.append(process)
        process.wait_healthy(path=wait)
        return process

    yield start
    for process in started:
        process.stop()
