"""The city topology for the cluster tests: a 3-node hub, PostgreSQL databases, service replicas."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import pytest

from linli_shared.processes import ServiceProcess
from linli_shared.testing.cluster import Hub, service_replica, wait_ready
from linli_shared.testing.http import TEST_JWT_SECRET
from linli_shared.testing.plugin import fresh_pg_database, unavailable


class City:
    """A hub, one PostgreSQL database per service (shared by its replicas), replicas started on demand."""

    def __init__(self, root: Path, hub: Hub, databases: ExitStack, admin_url: str) -> None:
        self.root = root
        self.hub = hub
        self._databases = databases
        self._admin_url = admin_url
        self.database_urls: dict[str, str] = {}
        self.replicas: list[ServiceProcess] = []

    def database_url(self, service: str) -> str:
        if service not in self.database_urls:
            database = fresh_pg_database(self._admin_url)
            with ThreadPoolExecutor(1) as thread:  # it runs its own event loop; the test's is running
                self.database_urls[service] = thread.submit(self._databases.enter_context, database).result()
        return self.database_urls[service]

    def start(
        self, name: str, replicas: int = 1, *, nats_url: str | None = None, **settings: str
    ) -> list[ServiceProcess]:
        """Start `replicas` of a service on its database (started together, then waited for)."""
        started = [
            service_replica(
                name,
                nats_url or self.hub.url,
                self.database_url(name + settings.get("district", "")),
                self.root / "logs",
                jwt_secret=TEST_JWT_SECRET,
                stream_replicas=settings.pop("stream_replicas", "3"),
                **settings,
            )
            for _ in range(replicas)
        ]
        # The first provisions streams and consumers alone: replicas provisioning the same R3 assets
        # at once saw JetStream requests go unanswered for 5 s, and retried in step for up to ~50 s.
        first, *others = started
        first.start()
        self.replicas.append(first)
        wait_ready(first)
        for replica in others:
            replica.start()
            self.replicas.append(replica)
        for replica in others:
            wait_ready(replica)
        return started

    def stop(self) -> None:
        """SIGKILL: a test's replicas need no graceful stop (their databases are dropped next), and
        each would take up to 15 s to drain a bus the test may have broken."""
        for replica in self.replicas:
            replica.kill()


@pytest.fixture
def city(tmp_path: Path, pg_admin_url: str) -> Iterator[City]:
    hub = Hub(tmp_path / "nats")
    with ExitStack() as databases:
        try:
            hub.start()
        except (RuntimeError, TimeoutError) as error:
            hub.stop()
            unavailable(f"cannot start the NATS cluster: {error}")
        topology = City(tmp_path, hub, databases, pg_admin_url)
        try:
            yield topology
        finally:
            topology.stop()
            hub.stop()
