"""`linli token` prints tokens that a running service accepts, with the scope asked for."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from .conftest import JWT_SECRET

pytestmark = [pytest.mark.e2e, pytest.mark.nats]

LINLI = str(Path(sys.executable).with_name("linli"))


def linli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LINLI_JWT_SECRET": JWT_SECRET}
    return subprocess.run([LINLI, *args], capture_output=True, text=True, env=env, timeout=30)


def test_token_from_the_command_is_accepted_by_the_registry(start_registry, nats_url) -> None:
    registry = start_registry(nats_url)
    admin = linli("token", "--role", "city_admin").stdout.strip()
    created = httpx.post(
        registry.url + "/v1/districts",
        json={"code": "cli", "name": "c"},
        headers={"Authorization": f"Bearer {admin}"},
    )
    assert created.status_code == 201, created.text

    worker = linli(
        "token", "--role", "community_worker", "--district", "cli", "--community", "c1"
    ).stdout.strip()
    listing = httpx.get(registry.url + "/v1/districts", headers={"Authorization": f"Bearer {worker}"})
    assert listing.status_code == 200
    assert [d["code"] for d in listing.json()] == ["cli"]


def test_token_for_a_community_role_without_community_is_refused() -> None:
    result = linli("token", "--role", "grid_worker", "--district", "d1")
    assert result.returncode == 2
    assert "needs a community" in result.stderr
    assert result.stdout == ""
