"""Services as child processes: for `linli run`, the end-to-end tests and the benchmarks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

SERVER_OPTIONS = ("--loop", "uvloop", "--http", "httptools", "--no-access-log")
"""How every service is served: uvloop's event loop, httptools' HTTP parser, no access log."""


def worker_count(service: str, environ: Mapping[str, str]) -> int:
    """Worker processes for a service: LINLI_<SERVICE>_WORKERS, else LINLI_WORKERS, else 1."""
    raw = environ.get(f"LINLI_{service.upper()}_WORKERS") or environ.get("LINLI_WORKERS") or "1"
    try:
        count = int(raw)
    except ValueError:
        raise ValueError(f"worker count for {service} must be a whole number, not {raw!r}") from None
    if count < 1:
        raise ValueError(f"worker count for {service} must be at least 1, not {count}")
    return count


def uvicorn_command(app: str, *, host: str, port: int, workers: int = 1) -> list[str]:
    """The command that serves `app` (a factory "module:function") as every service is served."""
    command = [sys.executable, "-m", "uvicorn", "--factory", app, "--host", host, "--port", str(port)]
    command += [*SERVER_OPTIONS, "--workers", str(workers)]
    return command


def service_app(name: str) -> str:
    return f"linli_{name}.app:create_app"


class ServiceProcess:
    """One service under uvicorn, with its output in a log file. `app`: another ASGI app factory served
    the same way (the benchmarks' bare baseline); workers come from the environment (worker_count)."""

    def __init__(
        self, name: str, port: int, env: dict[str, str], log_path: Path, *, app: str | None = None
    ) -> None:
        self.name = name
        self.app = app or service_app(name)
        self.port = port
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        environ = {**os.environ, **self.env}
        workers = worker_count(self.name, environ)
        command = uvicorn_command(self.app, host="127.0.0.1", port=self.port, workers=workers)
        with open(self.log_path, "ab") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(
                command,
                env=environ,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches the supervisor, which stops children in order
            )

    def wait_healthy(self, timeout: float = 60.0, path: str = "/healthz") -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see {self.log_path}")
            try:
                if httpx.get(self.url + path, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"{self.name} not healthy at {self.url}{path} in {timeout}s; see {self.log_path}")

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no flush; what a power cut does to the process."""
        if self.process is not None:
            try:  # the whole group: uvicorn's worker processes die with their supervisor
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait()
            self.process = None

    def stop(self, timeout: float = 20.0) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None
