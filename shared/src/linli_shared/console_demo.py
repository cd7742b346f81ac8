"""`linli run`'s console: 邻里工作台 started in front of the services, and demo accounts to sign
in with (one per role), made through the registry's API as this development stack's city admin."""

from __future__ import annotations

import importlib.util
import json
import secrets as token_source
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from linli_shared.auth import Role, issue_token
from linli_shared.processes import ServiceProcess

CONSOLE_PORT = 8100
"""邻里工作台 (services/console): not in SERVICES, which lists the services that keep data and publish."""
DEMO_ACCOUNTS_FILE = "demo-accounts.json"
DEMO_ACCOUNTS = [
    (Role.COMMUNITY_WORKER, "10000000001", "张社工"),
    (Role.GRID_WORKER, "10000000002", "李网格"),
    (Role.FUND_OFFICER, "10000000003", "王会计"),
    (Role.DISTRICT_ADMIN, "10000000004", "赵主任"),
    (Role.AUDITOR, "10000000005", "孙审计"),
]
"""Who can sign in to the demo console, one account per role that needs no link to a resident or a
volunteer. The numbers start with 100, which no real mobile number does."""
VOLUNTEER_PHONE, RESIDENT_PHONE = "10000000006", "10000000007"
"""The demo volunteer (the one with most points) and a resident whose wish is on the wall: linked
to their records in points and the registry, so named as those records name them."""
WISH_ORDER = ("claimed", "fulfilled", "open", "pending")


@dataclass(frozen=True)
class DemoSignIns:
    """The demo accounts' password and who signs in with it: role, phone, name."""

    password: str
    people: list[tuple[Role, str, str]]


def console_installed() -> bool:
    return importlib.util.find_spec("linli_console.app") is not None


def start_console(var: Path, children: list[ServiceProcess]) -> ServiceProcess:
    """The console in front of the services just started; plain HTTP here, so cookies are not Secure."""
    urls = {child.name: child.url for child in children}
    env = {f"LINLI_CONSOLE_{name.upper()}_URL": url for name, url in urls.items()}
    env |= {"LINLI_CONSOLE_HTTP_PORT": str(CONSOLE_PORT), "LINLI_CONSOLE_COOKIE_SECURE": "false"}
    console = ServiceProcess("console", CONSOLE_PORT, env, var / "logs" / "console.log")
    console.start()
    return console


def demo_password(var: Path) -> str:
    """The demo accounts' password: made once on this machine, kept in var/ (never in the repo)."""
    path = var / DEMO_ACCOUNTS_FILE
    if path.exists():
        return str(json.loads(path.read_text())["password"])
    password = token_source.token_urlsafe(9)
    path.write_text(json.dumps({"password": password}))
    path.chmod(0o600)
    return password


def make_demo_accounts(
    registry_url: str, secrets: dict[str, str], password: str, place: tuple[str, str]
) -> dict[Role, str]:
    """An account with the demo password for each role of DEMO_ACCOUNTS, made once through the
    registry's API as a city admin of this development stack; their ids by role."""
    district, community = place
    admin = bearer(issue_token(secrets["LINLI_JWT_SECRET"], role=Role.CITY_ADMIN, district=None))
    made: dict[Role, str] = {}
    with httpx.Client(base_url=registry_url, headers=admin, timeout=30) as client:
        for role, phone, name in DEMO_ACCOUNTS:
            scope = {"district": district, "community": None if role in DISTRICT_ROLES else community}
            body = {"phone": phone, "display_name": name, "password": password, **scope}
            made[role] = str(ensure_account(client, role, body)["id"])
    return made


def ensure_account(client: httpx.Client, role: Role, body: dict[str, Any]) -> dict[str, Any]:
    """The account with the body's phone, made from the body if missing, holding the role in the
    body's place; as the registry answers it."""
    found = client.get("/v1/accounts", params={"phone": body["phone"]}).raise_for_status().json()["items"]
    account = found[0] if found else client.post("/v1/accounts", json=body).raise_for_status().json()
    grants = client.get("/v1/grants", params={"account_id": account["id"]}).raise_for_status().json()
    if not any(g["role"] == role.value and not g["withdrawn_at"] for g in grants["items"]):
        scope = {"district": body["district"], "community": body["community"]}
        client.post(f"/v1/accounts/{account['id']}/grants", json={"role": role.value, **scope})
    return dict(account)


def make_linked_demo_accounts(
    urls: dict[str, str], secrets: dict[str, str], password: str, place: tuple[str, str]
) -> list[tuple[Role, str, str]]:
    """The demo volunteer (with a certificate of their hours) and a resident with a wish, made once
    through the registry's API and linked to their records; role, phone and name of each."""
    district, community = place
    secret = secrets["LINLI_JWT_SECRET"]
    admin = issue_token(secret, role=Role.CITY_ADMIN, district=None)
    worker = issue_token(secret, role=Role.COMMUNITY_WORKER, district=district, community=community)
    scope = {"district": district, "community": community}
    with (
        httpx.Client(base_url=urls["registry"], headers=bearer(admin), timeout=30) as registry,
        httpx.Client(base_url=urls["points"], headers=bearer(worker), timeout=30) as points,
    ):
        volunteers = every_item(points, "/v1/volunteers", {})
        richest = max(volunteers, key=lambda v: (v["balance"], v["subject"]))
        body = {"phone": VOLUNTEER_PHONE, "display_name": richest["full_name"], "password": password}
        volunteer = ensure_account(
            registry, Role.VOLUNTEER, {**body, **scope, "volunteer_id": richest["subject"]}
        )
        certify_hours(points, secret, place, volunteer["volunteer_id"], volunteers)
        wish = min(every_item(points, "/v1/wishes", {}), key=wish_rank)
        elder = registry.get(f"/v1/residents/{wish['resident_id']}", headers=bearer(worker))
        body = {"phone": RESIDENT_PHONE, "display_name": elder.raise_for_status().json()["full_name"]}
        resident = ensure_account(
            registry,
            Role.RESIDENT,
            {**body, "password": password, **scope, "resident_id": wish["resident_id"]},
        )
    return [
        (Role.VOLUNTEER, VOLUNTEER_PHONE, str(volunteer["display_name"])),
        (Role.RESIDENT, RESIDENT_PHONE, str(resident["display_name"])),
    ]


def wish_rank(wish: dict[str, Any]) -> int:
    """A wish still in progress first: its resident has something to follow on their page."""
    status = str(wish["status"])
    return WISH_ORDER.index(status) if status in WISH_ORDER else len(WISH_ORDER)


def certify_hours(
    points: httpx.Client, secret: str, place: tuple[str, str], subject: str, volunteers: list[dict[str, Any]]
) -> None:
    """A certificate of the hours the demo volunteer served, asked for by them, unless they have one."""
    volunteer_id = next(v["id"] for v in volunteers if v["subject"] == subject)
    token = issue_token(secret, role=Role.VOLUNTEER, district=place[0], community=place[1], subject=subject)
    path = f"/v1/volunteers/{volunteer_id}/certificates"
    if not points.get(path, headers=bearer(token)).raise_for_status().json()["items"]:
        points.post(path, headers={**bearer(token), "Idempotency-Key": f"demo-certificate-{subject}"})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


DISTRICT_ROLES = {Role.DISTRICT_ADMIN, Role.AUDITOR}


def give_grid_worker_a_day(
    registry_url: str, secrets: dict[str, str], accounts: dict[Role, str], place: tuple[str, str]
) -> None:
    """Two elders without a care group join the demo grid worker's: one to visit within the hour,
    one whose visit was missed (its alert reaches the grid worker, and climbs if not acknowledged).

    Done once: a grid worker who has groups already keeps them as they are."""
    district, community = place
    secret = secrets["LINLI_JWT_SECRET"]
    grid_worker, community_worker = accounts[Role.GRID_WORKER], accounts[Role.COMMUNITY_WORKER]
    worker = issue_token(
        secret, role=Role.COMMUNITY_WORKER, district=district, community=community, subject=community_worker
    )
    with httpx.Client(base_url=registry_url, headers=bearer(worker), timeout=30) as client:
        groups = every_item(client, "/v1/care-groups", {})
        if any(g["grid_worker"] == grid_worker for g in groups):
            return
        in_groups = {g["resident_id"] for g in groups}
        elders = [
            r for r in every_item(client, "/v1/residents", {}) if r["age"] >= 60 and r["id"] not in in_groups
        ]
        now = datetime.now(UTC)
        plans = ((24, now - timedelta(hours=23, minutes=30)), (1, now - timedelta(hours=3)))
        for elder, (every_hours, formed_at) in zip(elders, plans, strict=False):
            body = {
                "resident_id": elder["id"],
                "community_worker": community_worker,
                "grid_worker": grid_worker,
                "neighbour_name": "赵大妈",
                "visit_every_hours": every_hours,
                "formed_at": formed_at.isoformat(),
            }
            client.post("/v1/care-groups", json=body).raise_for_status()


def every_item(client: httpx.Client, path: str, params: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    query: dict[str, str | int] = {**params, "limit": 500}
    while True:
        page = client.get(path, params=query).raise_for_status().json()
        items.extend(page["items"])
        if not page.get("next_cursor"):
            return items
        query["cursor"] = page["next_cursor"]


def demo_accounts(
    urls: dict[str, str], secrets: dict[str, str], var: Path, place: tuple[str, str]
) -> DemoSignIns | None:
    """The demo's console accounts and the grid worker's day; who signs in, or None if not made."""
    if "registry" not in urls:
        print("demo accounts not made: the registry is not running")
        return None
    password = demo_password(var)
    try:
        accounts = make_demo_accounts(urls["registry"], secrets, password, place)
        give_grid_worker_a_day(urls["registry"], secrets, accounts, place)
    except (httpx.HTTPError, KeyError, ValueError) as error:  # a convenience: never takes the stack down
        print(f"demo accounts not made: {error}")
        return None
    people = list(DEMO_ACCOUNTS)
    try:
        if "points" in urls:
            people += make_linked_demo_accounts(urls, secrets, password, place)
    except (httpx.HTTPError, KeyError, ValueError, StopIteration) as error:  # none made: still a stack
        print(f"demo volunteer and resident not made: {error}")
    return DemoSignIns(password, people)


def print_console(console: ServiceProcess, sign_ins: DemoSignIns | None) -> None:
    print(f"\n邻里工作台 (the console): {console.url}/")
    if sign_ins is None:
        return
    print(f"  demo accounts, password {sign_ins.password} (kept in var/{DEMO_ACCOUNTS_FILE}):")
    for role, phone, name in sign_ins.people:
        print(f"    {role.value:<17} {phone}  {name}")
