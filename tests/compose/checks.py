"""What the compose run checks against the running stack: readiness, an event's trip, NATS, roles."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
import uuid

import httpx

from linli_shared.testing.waiting import eventually

from .stack import NATS_NODES, SERVICE_PORTS, ComposeStack, readiness

FIRST_ADMIN_PHONE = "13800000001"


class SignedIn:
    """Bearer headers got as people get them: the first city admin made on the registry's
    container, everyone else given an account and a role by an admin; each signs in with a password."""

    def __init__(self, stack: ComposeStack, client: httpx.Client) -> None:
        self.stack, self.client = stack, client
        self.registry = f"http://127.0.0.1:{SERVICE_PORTS['registry']}"
        self.password = secrets.token_urlsafe(16)
        self._admin: dict[str, str] | None = None

    def sign_in(self, phone: str) -> dict[str, str]:
        answer = self.client.post(
            self.registry + "/v1/sign-in", json={"phone": phone, "password": self.password}, timeout=30
        )
        assert answer.status_code == 200 and answer.json()["access_token"], answer.text
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    def admin(self) -> dict[str, str]:
        if self._admin is None:
            self.stack.compose(
                "exec", "-T", "-e", f"LINLI_FIRST_ADMIN_PASSWORD={self.password}", "registry",
                "python", "-m", "linli_registry.first_admin", FIRST_ADMIN_PHONE, "张建国",
            )  # fmt: skip
            self._admin = self.sign_in(FIRST_ADMIN_PHONE)
        return self._admin

    def person(self, role: str, district: str, community: str | None = None) -> dict[str, str]:
        phone = f"139{secrets.randbelow(10**8):08d}"
        place = {"district": district, "community": community}
        account = self.client.post(
            self.registry + "/v1/accounts",
            json={"phone": phone, "display_name": "李红亮", "password": self.password, **place},
            headers=self.admin(),
            timeout=30,
        )
        assert account.status_code == 201, account.text
        granted = self.client.post(
            f"{self.registry}/v1/accounts/{account.json()['id']}/grants",
            json={"role": role, **place},
            headers=self.admin(),
            timeout=30,
        )
        assert granted.status_code == 201, granted.text
        return self.sign_in(phone)


def development_token(secret: str) -> dict[str, str]:
    """A `linli token` (HS256) signed with a secret of our own: what the stack must refuse."""
    command = [sys.executable, "-m", "linli_shared.cli", "token", "--role", "city_admin"]
    environment = {**os.environ, "LINLI_JWT_SECRET": secret}
    issued = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=60, check=True)
    return {"Authorization": f"Bearer {issued.stdout.strip()}"}


def only_registry_tokens_pass(client: httpx.Client, people: SignedIn) -> None:
    """A signed-in admin's token is taken by every service; a development token by none."""
    forged = development_token(secrets.token_hex(32))
    for service, port in SERVICE_PORTS.items():
        path = "/v1/reports/monthly"
        signed = client.get(f"http://127.0.0.1:{port}{path}", headers=people.admin(), timeout=30)
        refused = client.get(f"http://127.0.0.1:{port}{path}", headers=forged, timeout=30)
        assert signed.status_code == 200, (service, signed.text)
        assert refused.status_code == 401, (service, refused.text)


CONSOLE = "http://127.0.0.1:8100"


def console_signs_the_admin_in(client: httpx.Client, people: SignedIn) -> None:
    """The first admin signs in through 邻里工作台's form; the registry's tokens come back as cookies
    only, and the admin's landing page (我能做什么) renders with them."""
    people.admin()  # made on the registry, with people.password
    form = {"phone": FIRST_ADMIN_PHONE, "password": people.password}
    answer = client.post(CONSOLE + "/sign-in", data=form, headers={"Origin": CONSOLE}, timeout=30)
    assert answer.status_code == 303, answer.text
    assert people.password not in answer.text and "access" not in answer.headers.get("location", "")
    cookies = dict(answer.cookies.items())
    assert cookies, "no session cookies"
    landing = client.get(CONSOLE + "/home", cookies=cookies, timeout=30)
    assert landing.status_code == 200 and "我能做什么" in landing.text, landing.text[:500]
    refused = client.post(CONSOLE + "/sign-in", data=form, headers={"Origin": "http://evil.example"})
    assert refused.status_code == 403, "a form posted from another site is refused"


async def all_ready(client: httpx.Client) -> bool:
    codes = readiness(client)
    assert set(codes.values()) == {200}, codes
    return True


async def resident_reaches_points(client: httpx.Client, people: SignedIn, timeout: float) -> float:
    """Register a resident in a new district; seconds until points knows it (enrolment accepted)."""
    district = f"d{uuid.uuid4().hex[:8]}"
    admin = people.admin()
    registry, points = (f"http://127.0.0.1:{SERVICE_PORTS[name]}" for name in ("registry", "points"))
    for path, body in (
        ("/v1/districts", {"code": district, "name": "高桥营街道"}),
        ("/v1/communities", {"district": district, "code": "donglizhuang", "name": "东李庄社区"}),
    ):
        answer = client.post(registry + path, json=body, headers=admin, timeout=10)
        assert answer.status_code == 201, answer.text
    worker = people.person("community_worker", district, "donglizhuang")
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
