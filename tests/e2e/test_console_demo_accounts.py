"""The console's demo accounts that `make run` prints, on the registry and points as processes: one
per role, the volunteer and the resident linked to the demo's records (the volunteer with a
certificate of their hours), each signing in under the name printed; made once however often run."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from linli_shared.auth import Role
from linli_shared.console_demo import DEMO_ACCOUNTS, DemoSignIns, demo_accounts
from linli_shared.processes import ServiceProcess
from linli_shared.stack import DEMO, demo_loaders
from linli_shared.testing.signing import jwks_of, new_signing_key_pem
from tests.e2e.conftest import JWT_SECRET

pytestmark = pytest.mark.e2e


def signed_in(registry: str, phone: str, password: str) -> dict[str, Any]:
    answer = httpx.post(f"{registry}/v1/sign-in", json={"phone": phone, "password": password}, timeout=30)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_every_demo_role_signs_in_and_the_volunteer_has_a_certificate(
    start_service: Callable[..., ServiceProcess],
    nats_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pem = new_signing_key_pem()
    monkeypatch.setenv("LINLI_JWKS", json.dumps(jwks_of(pem)))  # points trusts the registry's key
    urls = {
        "registry": start_service("registry", nats_url, signing_key=pem).url,
        "points": start_service("points", nats_url).url,
    }
    for name, load in demo_loaders():
        if name in urls:
            assert load(urls, JWT_SECRET, progress=lambda _: None)

    made = demo_accounts(urls, {"LINLI_JWT_SECRET": JWT_SECRET}, tmp_path, DEMO)
    assert isinstance(made, DemoSignIns)
    assert [role for role, _, _ in made.people] == [r for r, _, _ in DEMO_ACCOUNTS] + [
        Role.VOLUNTEER,
        Role.RESIDENT,
    ]
    for role, phone, name in made.people:
        answer = signed_in(urls["registry"], phone, made.password)
        assert (answer["grant"]["role"], answer["display_name"]) == (role.value, name)

    volunteer_phone, volunteer_name = made.people[-2][1:]
    token = signed_in(urls["registry"], volunteer_phone, made.password)["access_token"]
    as_volunteer = {"Authorization": f"Bearer {token}"}
    me = httpx.get(f"{urls['points']}/v1/volunteers/me", headers=as_volunteer, timeout=30).json()
    assert me["full_name"] == volunteer_name
    path = f"{urls['points']}/v1/volunteers/{me['id']}/certificates"
    (certificate,) = httpx.get(path, headers=as_volunteer, timeout=30).json()["items"]
    assert certificate["total_minutes"] > 0

    token = signed_in(urls["registry"], made.people[-1][1], made.password)["access_token"]
    wishes = httpx.get(
        f"{urls['points']}/v1/wishes", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert wishes.status_code == 200 and wishes.json()["items"], "the resident has a wish to follow"

    again = demo_accounts(urls, {"LINLI_JWT_SECRET": JWT_SECRET}, tmp_path, DEMO)
    assert again == made, "a second run makes nothing new"
    assert len(httpx.get(path, headers=as_volunteer, timeout=30).json()["items"]) == 1
