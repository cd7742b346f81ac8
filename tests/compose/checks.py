"""What the compose run checks against the running stack: readiness, an event's trip, NATS, roles."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid

import httpx

from linli_shared.testing.waiting import eventually

from .stack import NATS_NODES, SERVICE_PORTS, ComposeStack, readiness


def token(env: dict[str, str], *args: str) -> dict[str, str]:
    command = [sys.executable, "-m", "linli_shared.cli", "token", *args]
    issued = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60, check=True)
    return {"Authorization": f"Bearer {issued.stdout.strip()}"}


async def all_ready(client: httpx.Client) -> bool:
    codes = readiness(client)
    assert set(codes.values()) == {200}, codes
    return True


async def resident_reaches_points(client: httpx.Client, env: dict[str, str], timeout: float) -> float:
    """Register a resident in a new district; seconds until points knows it (enrolment accepted)."""
    district = f"d{uuid.uuid4().hex[:8]}"
    admin = token(env, "--role", "city_admin")
    worker = token(env, "--role", "community_worker", "--district", district, "--community", "donglizhuang")
    registry, points = (f"http://127.0.0.1:{SERVICE_PORTS[name]}" for name in ("registry", "points"))
    for path, body in (
        ("/v1/districts", {"code": district, "name": "高桥营街道"}),
        ("/v1/communities", {"district": district, "code": "donglizhuang", "name": "东李庄社区"}),
    ):
        answer = client.post(registry + path, json=body, headers=admin, timeout=10)
        assert answer.status_code == 201, answer.text
    resident = client.post(
        registry + "/v1/residents",
        json={
            "district": district,
            "community": "donglizhuang",
            "full_name": "李红亮",
            "gender": "male",
            "id_number": "11010519491231002X",
        },
        headers=worker,
        timeout=10,
    )
    assert resident.status_code == 201, resident.text
    sent = time.monotonic()
    volunteer = {
        "district": district,
        "community": "donglizhuang",
        "subject": f"s-{uuid.uuid4().hex[:8]}",
        "full_name": "李红亮",
        "resident_id": resident.json()["id"],
    }

    async def enrolled() -> bool:
        answer = client.post(points + "/v1/volunteers", json=volunteer, headers=worker, timeout=10)
        assert answer.status_code in (201, 422), answer.text
        return answer.status_code == 201

    await eventually(enrolled, timeout=timeout, every=0.2)
    return time.monotonic() - sent


def stream_leader(stack: ComposeStack, stream_word: str) -> str:
    """The cluster node leading the first stream whose name contains `stream_word`."""
    report = stack.monitoring("nats-1", "jsz?streams=true")
    for account in report.get("account_details", []):
        for stream in account.get("stream_detail", []):
            if stream_word in stream["name"].lower():
                return str(stream["cluster"]["leader"])
    raise AssertionError(f"no stream named like {stream_word!r} in {report}")


def connected_nodes(stack: ComposeStack) -> dict[str, str]:
    """Which cluster node each service's NATS client is connected to."""
    found = {}
    for node in NATS_NODES:
        for connection in stack.monitoring(node, "connz?limit=1024").get("connections", []):
            if str(connection.get("name", "")).startswith("linli-"):
                found[connection["name"].removeprefix("linli-")] = node
    return found


def can_connect(stack: ComposeStack, role: str, database: str) -> bool:
    """Whether `role`, with its own password, may open `database` (over TCP, as a service does)."""
    password = stack.env[f"LINLI_{role.upper()}_DB_PASSWORD"]
    command = ["exec", "-e", f"PGPASSWORD={password}", stack.container("postgres")]
    command += ["psql", "-h", "127.0.0.1", "-U", role, "-d", database, "-Atc", "SELECT 1"]
    try:
        return stack.docker(*command).strip() == "1"
    except RuntimeError as error:
        assert "permission denied for database" in str(error), error
        return False


def leaf_count(stack: ComposeStack) -> int:
    return sum(int(stack.monitoring(node, "leafz").get("leafnodes", 0)) for node in NATS_NODES)
