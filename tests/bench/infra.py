"""What the benchmarks run on: their own databases, NATS servers and service processes, all removed after."""

from __future__ import annotations

import os
import platform
import secrets
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from linli_shared.natsserver import NatsServer, free_port, nats_server_binary
from linli_shared.processes import ServiceProcess
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

    def env(self) -> dict[str, str]:
        """Both secrets as every service reads them (each ignores what is not its own)."""
        return {"LINLI_JWT_SECRET": self.jwt_secret, "LINLI_REGISTRY_ID_HASH_KEY": self.id_hash_key}


def log_tail(path: Path, size: int = 3000) -> str:
    return path.read_text(errors="replace")[-size:] if path.exists() else "(no log)"


@contextmanager
def service_process(
    name: str,
    workdir: Path,
    *,
    database_url: str,
    nats_url: str,
    keys: Secrets,
    timeout: float = 60.0,
    extra_env: dict[str, str] | None = None,
) -> Iterator[str]:
    """Run linli_<name> as its own uvicorn process until /readyz (database and bus) answers 200;
    yield its base URL, then stop it. `extra_env`: further settings of the service (LINLI_<NAME>_…)."""
    with served_service(
        name,
        workdir,
        database_url=database_url,
        nats_url=nats_url,
        keys=keys,
        timeout=timeout,
        extra_env=extra_env,
    ) as process:
        yield process.url


@contextmanager
def served_service(
    name: str,
    workdir: Path,
    *,
    database_url: str,
    nats_url: str,
    keys: Secrets,
    timeout: float = 60.0,
    extra_env: dict[str, str] | None = None,
) -> Iterator[ServiceProcess]:
    """As service_process, yielding the running ServiceProcess (its pid: for CPU and memory)."""
    port = free_port()
    prefix = f"LINLI_{name.upper()}_"
    env = {
        **keys.env(),
        f"{prefix}DATABASE_URL": database_url,
        f"{prefix}HTTP_PORT": str(port),
        "LINLI_NATS_URL": nats_url,
        **(extra_env or {}),
    }
    with running(ServiceProcess(name, port, env, workdir / f"{name}.log"), "/readyz", timeout) as process:
        yield process


@contextmanager
def bare_service(
    workdir: Path, *, database_url: str, extra_env: dict[str, str] | None = None
) -> Iterator[ServiceProcess]:
    """The HTTP rows' bare baseline (tests.bench.bare_app) under the same uvicorn settings."""
    env = {"LINLI_BARE_DATABASE_URL": asyncpg_dsn(database_url), **(extra_env or {})}
    process = ServiceProcess(
        "bare", free_port(), env, workdir / "bare.log", app="tests.bench.bare_app:create_app"
    )
    with running(process, "/healthz", 60.0) as started:
        yield started


@contextmanager
def running(process: ServiceProcess, ready_path: str, timeout: float) -> Iterator[ServiceProcess]:
    try:
        process.start()
        try:
            process.wait_healthy(timeout=timeout, path=ready_path)
        except (RuntimeError, TimeoutError) as error:
            raise RuntimeError(f"{error}:\n{log_tail(process.log_path)}") from error
        yield process
    finally:
        process.stop()


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
