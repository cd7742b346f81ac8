"""The city topology on this machine, without containers: a 3-node JetStream cluster (the hub), a
district site as a leaf node in its own JetStream domain, and services as processes. On loopback
ports of their own, `nats-server` from the wheel; for `make cluster` and tests/cluster.

The NATS servers run the shipped configurations (infra/nats/) with loopback ports and folders of
their own: the same domains, authenticated leaf link, ping interval and deny rules."""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from linli_shared.natsserver import free_port, nats_server_binary, stop_process
from linli_shared.processes import ServiceProcess

SHIPPED = Path(__file__).resolve().parents[4] / "infra" / "nats"
"""The configurations deployments use; the topology runs them with loopback ports and its own folders."""
LEAF_USER = "linli-leaf"
Replacement = str | Callable[[re.Match[str]], str]


def shipped_config(name: str, changes: Mapping[str, Replacement]) -> str:
    """A shipped configuration with each pattern (a regular expression, per line) replaced; a pattern
    that no longer matches fails loudly, so the tests never quietly drift from what is shipped."""
    text = (SHIPPED / name).read_text()
    for pattern, replacement in changes.items():
        text, found = re.subn(pattern, replacement, text, flags=re.MULTILINE)
        if not found:
            raise LookupError(f"{name} no longer has a line matching {pattern!r}")
    return text


def local(client: int, monitor: int, store: Path) -> dict[str, Replacement]:
    """Loopback ports and a data folder of its own instead of 4222, 8222 and /data."""
    return {
        r"^port: 4222$": f"listen: 127.0.0.1:{client}",
        r"^http_port: 8222$": f"http: 127.0.0.1:{monitor}",
        r'store_dir: "/data/jetstream"': f'store_dir: "{store}"',
    }


@dataclass
class NatsNode:
    """One nats-server of the topology; it can be killed (SIGKILL) and started again on its data."""

    name: str
    root: Path
    config: str
    monitor: int
    client: int
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.client}"

    @property
    def log_path(self) -> Path:
        return self.root / f"{self.name}.log"

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / f"{self.name}.conf"
        path.write_text(self.config)
        with open(self.log_path, "ab") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(
                [nats_server_binary(), "-c", str(path)],
                env={**os.environ, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def monitoring(self, path: str) -> httpx.Response:
        return httpx.get(f"http://127.0.0.1:{self.monitor}{path}", timeout=2)

    def healthy(self) -> bool:
        """Listening, and JetStream current (on a cluster: with a meta leader)."""
        if self.process is None or self.process.poll() is not None:
            last_lines = self.log_path.read_text(errors="replace").splitlines()[-5:]
            raise RuntimeError(f"{self.name} is not running; see {self.log_path}: " + " | ".join(last_lines))
        try:
            return self.monitoring("/healthz").status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        """SIGKILL: no flush, no leadership hand-over; what a power cut does."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None


def wait_healthy(nodes: list[NatsNode], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not all(node.healthy() for node in nodes):
        if time.monotonic() > deadline:
            raise TimeoutError(f"NATS not healthy in {timeout}s: see the logs in {nodes[0].root}")
        time.sleep(0.2)


class Hub:
    """The city's 3-node JetStream cluster; district leaf links authenticate with a generated password."""

    def __init__(self, root: Path, size: int = 3) -> None:
        # nats-server reads an environment value as a config token: one starting with a digit is
        # taken for a number and the server refuses to start (seen: "Expected a digit but got 'b'")
        self.leaf_password = "leaf" + secrets.token_hex(24)
        routes = [free_port() for _ in range(size)]
        self.leaf_ports = [free_port() for _ in range(size)]
        env = {"LINLI_LEAF_USER": LEAF_USER, "LINLI_LEAF_PASSWORD": self.leaf_password}
        self.nodes = []
        for index in range(size):
            name, client, monitor = f"nats-{index + 1}", free_port(), free_port()
            config = shipped_config(
                f"cluster-{index + 1}.conf",
                {
                    **local(client, monitor, root / name),
                    r"listen: 0\.0\.0\.0:6222": f"listen: 127.0.0.1:{routes[index]}",
                    r"nats-route://nats-(\d):6222": lambda m: (
                        f"nats-route://127.0.0.1:{routes[int(m[1]) - 1]}"
                    ),
                    # a district knows only the leaf addresses it was given (the tests' link proxies)
                    r"^  port: 7422$": f"  listen: 127.0.0.1:{self.leaf_ports[index]}\n  no_advertise: true",
                },
            )
            self.nodes.append(NatsNode(name, root, config, monitor, client, env))

    @property
    def url(self) -> str:
        """Every node's address, as services take them (LINLI_NATS_URL)."""
        return ",".join(node.url for node in self.nodes)

    def leaf_urls(self, ports: list[int] | None = None) -> list[str]:
        """The leaf addresses a district dials, credentials included (the hub's, or proxies')."""
        return [
            f"nats-leaf://{LEAF_USER}:{self.leaf_password}@127.0.0.1:{p}" for p in ports or self.leaf_ports
        ]

    def node_named(self, name: str) -> NatsNode:
        return next(node for node in self.nodes if node.name == name)

    def start(self, timeout: float = 60.0) -> None:
        for node in self.nodes:
            node.start()
        wait_healthy(self.nodes, timeout)

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


def district_site(root: Path, district: str, hub_leaf_urls: list[str]) -> NatsNode:
    """A district's own nats-server (the shipped district-leaf.conf): JetStream domain = the
    district, linked to the hub as a leaf at `hub_leaf_urls` (credentials in them)."""
    client, monitor = free_port(), free_port()
    config = shipped_config("district-leaf.conf", local(client, monitor, root / district))
    env = {"LINLI_DISTRICT": district, "LINLI_HUB_LEAF_URLS": json.dumps(hub_leaf_urls)}
    return NatsNode(district, root, config, monitor, client, env)


def service_replica(
    name: str, nats_url: str, database_url: str, log_dir: Path, *, jwt_secret: str, **settings: str
) -> ServiceProcess:
    """One replica of a service on a free port; `settings` become LINLI_* variables (LINLI_DISTRICT…)."""
    env = {
        "LINLI_JWT_SECRET": jwt_secret,
        "LINLI_NATS_URL": nats_url,
        "LINLI_REGISTRY_ID_HASH_KEY": "cluster-id-hash-key-" + "z" * 32,
        f"LINLI_{name.upper()}_DATABASE_URL": database_url,
        **{f"LINLI_{key.upper()}": value for key, value in settings.items()},
    }
    port = free_port()
    return ServiceProcess(name, port, env, log_dir / f"{name}-{port}.log")


def stop_replicas(replicas: list[ServiceProcess]) -> None:
    """SIGTERM every replica at once, then wait for each: their graceful shutdowns overlap."""
    for replica in replicas:
        if replica.process is not None and replica.process.poll() is None:
            replica.process.send_signal(signal.SIGTERM)
    for replica in replicas:
        replica.stop()


def wait_ready(replica: ServiceProcess, timeout: float = 120.0) -> None:
    """Until /readyz answers 200. Its JetStream check may itself take 2 s on a busy machine, so each
    probe waits longer than that; a replica that exits or never gets ready fails with its log's tail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not replica.running():
            break
        try:
            if httpx.get(replica.url + "/readyz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    tail = (
        replica.log_path.read_text(errors="replace").splitlines()[-15:] if replica.log_path.exists() else []
    )
    state = "running" if replica.running() else "exited"
    raise TimeoutError(
        f"{replica.name} at {replica.url} not ready in {timeout}s ({state}):\n" + "\n".join(tail)
    )
