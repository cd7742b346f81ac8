"""The compose project under test: docker-compose commands, container health, HTTP readiness."""

from __future__ import annotations

import json
import secrets
import subprocess
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet

from linli_shared.testing.signing import new_signing_key_pem

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "linli-compose-test"
SERVICE_PORTS = {"registry": 8101, "points": 8102, "fund": 8103, "notify": 8104}
NATS_NODES = ("nats-1", "nats-2", "nats-3")
DISTRICT = "district-north"


def fresh_secrets() -> dict[str, str]:
    """Fresh values for every secret the compose file asks for: nothing real, nothing kept."""
    names = [
        "LINLI_REGISTRY_ID_HASH_KEY",
        "LINLI_NOTIFY_LINK_KEY",
        "LINLI_POSTGRES_PASSWORD",
    ]
    names += [f"LINLI_{service.upper()}_DB_PASSWORD" for service in SERVICE_PORTS]
    keys = {
        # one line, as .env.example says to write it
        "LINLI_REGISTRY_SIGNING_KEY": new_signing_key_pem().replace("\n", "\\n"),
        "LINLI_SIGN_IN_CODE_KEY": Fernet.generate_key().decode(),
    }
    # nats-server takes a value starting with a digit for a number: the leaf password starts with a letter
    keys["LINLI_LEAF_PASSWORD"] = "leaf" + secrets.token_hex(32)
    return {**{name: secrets.token_hex(32) for name in names}, **keys}


class ComposeStack:
    def __init__(self, env: dict[str, str]) -> None:
        # the console over plain HTTP here: its cookies would otherwise need TLS in front
        local = {"LINLI_BIND_ADDRESS": "127.0.0.1", "LINLI_DISTRICT": DISTRICT}
        local["LINLI_CONSOLE_COOKIE_SECURE"] = "false"
        self.env = {**env, **local}

    def compose(self, *args: str, timeout: float = 600) -> str:
        command = ["docker-compose", "-p", PROJECT, "-f", str(ROOT / "docker-compose.yml"), *args]
        result = subprocess.run(
            command, capture_output=True, text=True, env=self.env, timeout=timeout, cwd=ROOT
        )
        if result.returncode != 0:
            tail = "\n".join((result.stdout + result.stderr).splitlines()[-30:])
            raise RuntimeError(f"docker-compose {' '.join(args)} failed ({result.returncode}):\n{tail}")
        return result.stdout

    def docker(self, *args: str, timeout: float = 120) -> str:
        result = subprocess.run(
            ["docker", *args], capture_output=True, text=True, env=self.env, timeout=timeout
        )
        if result.returncode != 0:
            raise RuntimeError(f"docker {' '.join(args)} failed: {result.stderr.strip()}")
        return result.stdout

    def container(self, service: str) -> str:
        return self.compose("--profile", "district", "ps", "-q", service).strip()

    def health(self) -> dict[str, str]:
        """Each running container's health status by compose service name."""
        ids = self.compose("ps", "-q").split()
        states = json.loads(self.docker("inspect", *ids)) if ids else []
        return {
            state["Config"]["Labels"]["com.docker.compose.service"]: state["State"]
            .get("Health", {})
            .get("Status", state["State"]["Status"])
            for state in states
        }

    def monitoring(self, node: str, endpoint: str) -> dict[str, Any]:
        """A NATS node's monitoring endpoint, read from inside its container (no port published)."""
        url = f"http://127.0.0.1:8222/{endpoint}"
        return json.loads(self.docker("exec", self.container(node), "wget", "-q", "-O", "-", url))  # type: ignore[no-any-return]

    def logs(self) -> str:
        return self.compose("--profile", "district", "logs", "--no-color", "--tail", "40", timeout=120)


def readiness(client: httpx.Client) -> dict[str, int]:
    """Each service's /readyz status code (0: no answer)."""
    codes = {}
    for service, port in SERVICE_PORTS.items():
        try:
            codes[service] = client.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code
        except httpx.HTTPError:
            codes[service] = 0
    return codes
