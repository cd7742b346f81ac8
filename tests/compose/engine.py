"""A private Docker engine for the compose run: started by hand, stopped, and the host put back.

dockerd changes the host it runs on: it adds docker0 (and a bridge per compose network), its own
iptables chains and rules, sets the FORWARD policy to DROP and turns on ip_forward. The snapshot
taken before it starts is what `restore_host` puts back, touching only what Docker added and
named, so links and firewall rules other programs add meanwhile are left alone.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

IP_FORWARD = Path("/proc/sys/net/ipv4/ip_forward")
FIREWALLS = ("iptables", "ip6tables")
TABLES = ("filter", "nat")
# What dockerd names: its chains, its default bridge, and a bridge per compose network (br-<id>).
# dockerd and its containerd make these whatever their exec root; removed again if they made them.
RUNTIME_DIRS = (Path("/run/docker"), Path("/run/containerd"))
DOCKER_MARK = re.compile(r"DOCKER|docker0|\bbr-[0-9a-f]{12}\b")


class EngineUnavailable(RuntimeError):
    """Docker cannot run on this machine: the compose run fails with this message."""


@dataclass
class HostNetwork:
    ip_forward: str
    links: set[str]
    rules: dict[tuple[str, str], list[str]] = field(default_factory=dict)


def firewall_rules(command: str, table: str) -> list[str]:
    result = subprocess.run([command, "-t", table, "-S"], capture_output=True, text=True, timeout=30)
    return result.stdout.splitlines() if result.returncode == 0 else []


def network_links() -> set[str]:
    return set(os.listdir("/sys/class/net"))


def snapshot_host() -> HostNetwork:
    rules = {
        (command, table): firewall_rules(command, table)
        for command in FIREWALLS
        if shutil.which(command)
        for table in TABLES
    }
    return HostNetwork(IP_FORWARD.read_text().strip(), network_links(), rules)


def restore_host(before: HostNetwork) -> list[str]:
    """Undo what dockerd added since `before`; returns what still differs (empty: as found)."""
    for (command, table), old in before.rules.items():
        now = firewall_rules(command, table)
        for rule in now:
            if rule.startswith("-A ") and rule not in old and DOCKER_MARK.search(rule):
                subprocess.run(
                    [command, "-t", table, "-D", *rule.split()[1:]], capture_output=True, timeout=30
                )
        for rule in now:
            if rule.startswith("-N ") and rule not in old and DOCKER_MARK.search(rule):
                chain = rule.split()[1]
                subprocess.run([command, "-t", table, "-F", chain], capture_output=True, timeout=30)
                subprocess.run([command, "-t", table, "-X", chain], capture_output=True, timeout=30)
        for rule in old:
            if rule.startswith("-P ") and rule not in firewall_rules(command, table):
                subprocess.run([command, "-t", table, *rule.split()], capture_output=True, timeout=30)
    for link in network_links() - before.links:
        if DOCKER_MARK.fullmatch(link):  # other programs' links (a test's veth pairs) are theirs
            subprocess.run(["ip", "link", "delete", link], capture_output=True, timeout=30)
    IP_FORWARD.write_text(before.ip_forward + "\n")
    return differences(before, snapshot_host())


def differences(before: HostNetwork, after: HostNetwork) -> list[str]:
    found = []
    if after.ip_forward != before.ip_forward:
        found.append(f"ip_forward {before.ip_forward} -> {after.ip_forward}")
    found += [
        f"link {link} left behind"
        for link in sorted(after.links - before.links)
        if DOCKER_MARK.fullmatch(link)
    ]
    for key, rules in after.rules.items():
        added = [rule for rule in rules if rule not in before.rules.get(key, [])]
        found += [
            f"{key[0]} -t {key[1]}: {rule}"
            for rule in added
            if rule.startswith("-P ") or DOCKER_MARK.search(rule)
        ]
    return found


class DockerEngine:
    """dockerd with its own data root, exec root and socket; never the machine's default one."""

    def __init__(self, data_root: Path, exec_root: Path) -> None:
        self.data_root = data_root
        self.exec_root = exec_root
        self.socket = exec_root / "docker.sock"
        self.log = data_root.parent / "dockerd.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.made_dirs = [path for path in RUNTIME_DIRS if not path.exists()]

    @property
    def env(self) -> dict[str, str]:
        """The environment for docker and docker-compose: this engine, the classic builder."""
        return {
            **os.environ,
            "DOCKER_HOST": f"unix://{self.socket}",
            "DOCKER_BUILDKIT": "0",
            "COMPOSE_DOCKER_CLI_BUILD": "0",
        }

    def start(self, timeout: float = 60) -> None:
        for tool in ("dockerd", "docker", "docker-compose"):
            if not shutil.which(tool):
                raise EngineUnavailable(
                    f"{tool} not found: apt-get install -y docker.io docker-compose debootstrap"
                )
        if os.geteuid() != 0:
            raise EngineUnavailable("dockerd needs root here (no rootless setup on these machines)")
        self.data_root.mkdir(parents=True, exist_ok=True)
        self.exec_root.mkdir(parents=True, exist_ok=True)
        command = [
            "dockerd",
            f"--data-root={self.data_root}",
            f"--exec-root={self.exec_root}",
            f"--pidfile={self.exec_root / 'dockerd.pid'}",
            f"--host=unix://{self.socket}",
        ]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise EngineUnavailable(f"dockerd exited with {self.process.returncode}:\n{self.log_tail()}")
            probe = subprocess.run(["docker", "version"], capture_output=True, env=self.env, timeout=30)
            if probe.returncode == 0:
                return
            time.sleep(0.2)  # polling the engine's socket until it answers, bounded by the deadline
        raise EngineUnavailable(f"dockerd did not answer within {timeout}s:\n{self.log_tail()}")

    def stop(self, timeout: float = 60) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        for path in self.made_dirs:
            shutil.rmtree(path, ignore_errors=True)

    def log_tail(self, lines: int = 20) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])
