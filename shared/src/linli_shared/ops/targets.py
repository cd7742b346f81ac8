"""Where the ops tool looks: the services' URLs, their databases and NATS, from the same environment
variables the services read (LINLI_NATS_URL, LINLI_<SERVICE>_HTTP_PORT, LINLI_<SERVICE>_DATABASE_URL),
or from the command line."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import make_url

SERVICE_PORTS = {"registry": 8101, "points": 8102, "fund": 8103, "notify": 8104}
DEFAULT_NATS_URL = "nats://127.0.0.1:4222"  # what a service uses when LINLI_NATS_URL is unset
LOCAL_STACK_NATS_URL = "nats://127.0.0.1:4322"  # the server `linli run` starts, its data in var/nats


class Unreachable(Exception):
    """A service, a database or NATS did not answer; the message is one line for the operator."""


@dataclass(frozen=True)
class Targets:
    nats_url: str
    services: dict[str, str] = field(default_factory=dict)
    """service name → base URL of its HTTP API"""
    databases: dict[str, str] = field(default_factory=dict)
    """service name → database URL (SQLAlchemy form, as the service is given it)"""


def parse_pairs(pairs: list[str] | None, option: str) -> dict[str, str]:
    """`name=value` options into a mapping; a malformed one is a ValueError naming the option."""
    found: dict[str, str] = {}
    for pair in pairs or []:
        name, sign, value = pair.partition("=")
        if not sign or not name or not value:
            raise ValueError(f"{option} wants NAME=VALUE, got {pair!r}")
        found[name] = value
    return found


def service_urls(environ: Mapping[str, str]) -> dict[str, str]:
    """Every service on this machine at the port it is told (LINLI_<SERVICE>_HTTP_PORT) or its own."""
    return {
        name: f"http://127.0.0.1:{environ.get(f'LINLI_{name.upper()}_HTTP_PORT', port)}"
        for name, port in SERVICE_PORTS.items()
    }


def database_urls(environ: Mapping[str, str], var: Path) -> dict[str, str]:
    """Each service's LINLI_<SERVICE>_DATABASE_URL, else the SQLite file `linli run` keeps in var/."""
    found = {}
    for name in SERVICE_PORTS:
        if url := environ.get(f"LINLI_{name.upper()}_DATABASE_URL"):
            found[name] = url
        elif (var / f"{name}.db").exists():
            found[name] = f"sqlite+aiosqlite:///{(var / f'{name}.db').resolve()}"
    return found


def default_nats_url(var: Path) -> str:
    """The server of `linli run` if this directory holds its data, else the services' own default."""
    return LOCAL_STACK_NATS_URL if (var / "nats").is_dir() else DEFAULT_NATS_URL


def targets_from(
    *,
    nats_url: str | None,
    urls: list[str] | None,
    databases: list[str] | None,
    var: Path,
    environ: Mapping[str, str] = os.environ,
) -> Targets:
    """Options given win; a kind of target not given on the command line comes from the environment."""
    return Targets(
        nats_url=nats_url or environ.get("LINLI_NATS_URL") or default_nats_url(var),
        services=parse_pairs(urls, "--url") or service_urls(environ),
        databases=parse_pairs(databases, "--db") or database_urls(environ, var),
    )


def shown(database_url: str) -> str:
    """A database URL fit to print: its password hidden."""
    return make_url(database_url).render_as_string(hide_password=True)
