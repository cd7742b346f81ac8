"""What the benchmarks run on: their own databases, NATS servers and registry process, all removed after."""

from __future__ import annotations

import os
import platform
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

from linli_shared.natsserver import NatsServer, free_port, nats_server_binary
from linli_shared.testing.postgres import async_url


@contextmanager
def temp_dir(prefix: str) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def asyncpg_dsn(url: str) -> str:
    """A plain postgresql:// DSN for asyncpg from either URL form."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _admin(admin_url: str, sql: str) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@asynccontextmanager
async def pg_database(admin_url: str, label: str) -> AsyncIterator[str]:
    """A database of our own on the server, dropped afterwards; yields its postgresql+asyncpg URL."""
    name = f"linli_bench_{label}_{uuid.uuid4().hex[:8]}"
    await _admin(admin_url, f'CREATE DATABASE "{name}"')
    try:
        yield async_url(admin_url, name)
    finally:
        await _admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def nats_server(data_dir: Path, name: str) -> Iterator[NatsServer]:
    """A JetStream server of our own (never the machine's one on 4222), stopped afterwards."""
    server = NatsServer(data_dir, name=name)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@dataclass(frozen=True)
class Secrets:
    jwt_secret: str
    id_hash_key: str

    @classmethod
    def random(cls) -> Secrets:
        return cls(jwt_secret=secrets.token_urlsafe(36), id_hash_key=secrets.token_urlsafe(36))  # 48 chars


@contextmanager
def registry_process(
    workdir: Path, *, database_url: str, nats_url: str, keys: Secrets, timeout: float = 60.0
) -> Iterator[str]:
    """Run the registry as its own uvicorn process until ready; yield its base URL, then stop it."""
    port = free_port()
    env = {
        **os.environ,
        "LINLI_JWT_SECRET": keys.jwt_secret,
        "LINLI_REGISTRY_ID_HASH_KEY": keys.id_hash_key,
        "LINLI_REGISTRY_DATABASE_URL": database_url,
        "LINLI_REGISTRY_HTTP_PORT": str(port),
        "LINLI_NATS_URL": nats_url,
    }
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / "registry.log"
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "linli_registry.app:create_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    with open(log_path, "ab") as log:
        process = subprocess.Popen(command, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(process, base_url, log_path, timeout)
        yield base_url
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_ready(process: subprocess.Popen[bytes], base_url: str, log_path: Path, timeout: float) -> None:
    """Poll /readyz (database and bus) until it answers 200."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"registry exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            response = httpx.get(f"{base_url}/readyz", timeout=2)
            if response.status_code == 200:
                return
            last = f"{response.status_code} {response.text[:200]}"
        except httpx.HTTPError as error:
            last = repr(error)
        time.sleep(0.1)
    raise TimeoutError(f"registry not ready within {timeout}s ({last}):\n{log_path.read_text()[-3000:]}")


def machine_basics() -> list[tuple[str, str]]:
    version = subprocess.run([nats_server_binary(), "--version"], capture_output=True, text=True, check=False)
    cpu_model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    return [
        ("cpus", f"{os.cpu_count()}" + (f" ({cpu_model})" if cpu_model else "")),
        ("python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("nats-server", (version.stdout or version.stderr).strip()),
        ("platform", platform.platform()),
    ]
