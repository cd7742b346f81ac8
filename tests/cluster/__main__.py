"""`make cluster`: the city topology for a human, until Ctrl-C. A 3-node hub with two replicas of each
service on PostgreSQL (R3 streams), the district site "north" as a leaf node with its own registry and
points, and the hub's city-wide streams sourcing the district. Everything lives in var/cluster/."""

from __future__ import annotations

import asyncio
import secrets
import shutil
import signal
import threading
from contextlib import ExitStack
from pathlib import Path

import nats

from linli_shared.auth import Role, issue_token
from linli_shared.jetstream import city_stream_config
from linli_shared.processes import ServiceProcess
from linli_shared.testing.cluster import (
    Hub,
    district_site,
    service_replica,
    stop_replicas,
    wait_healthy,
    wait_ready,
)
from linli_shared.testing.plugin import fresh_pg_database
from linli_shared.testing.postgres import postgres_server

ROOT = Path("var/cluster")
SERVICES = ("registry", "points", "fund", "notify")
DISTRICT = "north"
DISTRICT_SERVICES = ("registry", "points")


async def source_district(hub_url: str) -> None:
    client = await nats.connect(hub_url.split(","))
    try:
        for service in DISTRICT_SERVICES:
            await client.jetstream().add_stream(city_stream_config(service, [DISTRICT]))
    finally:
        await client.close()


def run(stack: ExitStack) -> None:
    admin_url = stack.enter_context(postgres_server())
    hub = Hub(ROOT / "nats")
    stack.callback(hub.stop)
    hub.start()
    site = district_site(ROOT / "nats", DISTRICT, hub.leaf_urls())
    stack.callback(site.stop)
    site.start()
    wait_healthy([site])

    secret = secrets.token_urlsafe(48)
    replicas: list[ServiceProcess] = []
    for service in SERVICES:
        database = stack.enter_context(fresh_pg_database(admin_url))
        for _ in range(2):
            replicas.append(
                service_replica(
                    service, hub.url, database, ROOT / "logs", jwt_secret=secret, stream_replicas="3"
                )
            )
    for service in DISTRICT_SERVICES:
        database = stack.enter_context(fresh_pg_database(admin_url))
        replicas.append(
            service_replica(service, site.url, database, ROOT / "logs", jwt_secret=secret, district=DISTRICT)
        )
    stack.callback(stop_replicas, replicas)  # registered last: stopped before the databases and NATS
    # One replica of each service first, provisioning its streams alone (see tests/cluster/conftest.py).
    firsts = [
        replica
        for index, replica in enumerate(replicas)
        if replica.name not in {r.name for r in replicas[:index]}
    ]
    for group in (firsts, [replica for replica in replicas if replica not in firsts]):
        for replica in group:
            replica.start()
        for replica in group:
            wait_ready(replica)
    asyncio.run(source_district(hub.url))

    print(
        f"hub (domain central): {hub.url}   monitoring: "
        + " ".join(f"http://127.0.0.1:{n.monitor}" for n in hub.nodes)
    )
    print(
        f"district {DISTRICT} (leaf, domain {DISTRICT}): {site.url}   monitoring: http://127.0.0.1:{site.monitor}"
    )
    for replica in replicas:
        where = DISTRICT if replica.env["LINLI_NATS_URL"] == site.url else "hub"
        print(f"  {replica.name:<9} {where:<6} {replica.url}/docs   log: {replica.log_path}")
    print(f"city admin token: {issue_token(secret, role=Role.CITY_ADMIN, district=None)}")
    print("Ctrl-C stops the services, then NATS, and drops the databases.")
    threading.Event().wait()


def interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> None:
    # Ctrl-C, and SIGTERM from a supervisor, stop everything in order (even when started in the
    # background, where the shell would have SIGINT ignored).
    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    shutil.rmtree(ROOT, ignore_errors=True)
    with ExitStack() as stack:
        try:
            run(stack)
        except KeyboardInterrupt:
            print("\nstopping")


if __name__ == "__main__":
    main()
