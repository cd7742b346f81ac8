"""`linli run`: NATS and every installed service on this machine, with demo data, until Ctrl-C."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import time
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path
from types import FrameType

from linli_shared.auth import Role, issue_token
from linli_shared.console_demo import console_installed, demo_accounts, print_console, start_console
from linli_shared.natsserver import NatsServer, port_answers
from linli_shared.processes import ServiceProcess

SERVICES = {"registry": 8101, "points": 8102, "fund": 8103, "notify": 8104}
EMBEDDED_NATS_PORT = 4322
"""Our own port for the embedded server, so a NATS already on 4222 never gets in the way."""
DEMO = ("gaoqiaoying", "donglizhuang")
NOTIFY_OUTBOX = "notify-outbox.jsonl"
DEMO_LADDER_SECONDS = 120
DEMO_DISCLOSURE = f"/v1/public/funds/{DEMO[0]}/{DEMO[1]}/disclosures/1.html"


def local_settings(name: str, var: Path) -> dict[str, str]:
    """What a service needs on this machine beyond its database: notify also writes every message
    to a file you can `tail -f` (quiet hours stay the default 22:00–07:00), and in the demo
    community an unacknowledged alert climbs the ladder after two minutes, not hours, so the first
    `make run` shows it. The fund checks its published 公示 hashes against notify's witness."""
    if name == "notify":
        return {
            "LINLI_NOTIFY_OUTBOX_FILE": str((var / NOTIFY_OUTBOX).resolve()),
            "LINLI_NOTIFY_ESCALATE_AFTER_BY_COMMUNITY": json.dumps({DEMO[1]: DEMO_LADDER_SECONDS}),
            "LINLI_NOTIFY_ESCALATION_CHECK_SECONDS": "15",
        }
    if name == "fund":
        return {"LINLI_FUND_WITNESS_URL": f"http://127.0.0.1:{SERVICES['notify']}"}
    return {}


def installed_services() -> dict[str, int]:
    return {name: port for name, port in SERVICES.items() if importlib.util.find_spec(f"linli_{name}.app")}


def demo_loaders() -> list[tuple[str, Callable[..., object]]]:
    """Each installed service's demo loader (entry-point group `linli.demos`), in SERVICES order:
    the registry first, since the others learn its residents. Shared imports no service."""
    found = {entry.name: entry for entry in entry_points(group="linli.demos")}
    return [(name, found[name].load()) for name in SERVICES if name in found]


def load_demos(urls: dict[str, str], secrets: dict[str, str]) -> None:
    """Load every service's demo; a failure is reported and the stack keeps running.

    Each loader resumes where an interrupted load stopped, so the next `make run` completes it."""
    for name, load_demo in demo_loaders():
        if name not in urls:
            continue
        try:
            load_demo(urls, secrets["LINLI_JWT_SECRET"])
        except Exception as error:  # a demo is a convenience: it must never take the stack down
            print(f"{name} demo not loaded: {error}")
            print("  the services keep running; the next `make run` resumes the demo where it stopped")
            return


def nats_for_stack(var: Path) -> tuple[str, NatsServer | None]:
    """LINLI_NATS_URL if a server answers there, else our embedded server with data in var/nats."""
    if url := os.environ.get("LINLI_NATS_URL"):
        host, _, port = url.removeprefix("nats://").split(",")[0].rpartition(":")
        if port_answers(int(port), host or "127.0.0.1"):
            print(f"using the NATS server at {url}")
            return url, None
        print(f"nothing answers at LINLI_NATS_URL={url}; starting the embedded NATS server")
    server = NatsServer(var / "nats", port=EMBEDDED_NATS_PORT, name="linli-dev")
    if port_answers(EMBEDDED_NATS_PORT):
        print(f"a NATS server already answers on {EMBEDDED_NATS_PORT} (an earlier `linli run`?); using it")
        return server.url, None
    server.start()
    print(f"started NATS with JetStream at {server.url} (data in {server.data_dir})")
    return server.url, server


def start_services(var: Path, nats_url: str, secrets: dict[str, str]) -> list[ServiceProcess]:
    """Start every installed service on a SQLite file in var/, each logging to var/logs/."""
    children = []
    jwks_url = f"http://127.0.0.1:{installed_services().get('registry', 8101)}/.well-known/jwks.json"
    for name, port in installed_services().items():
        env = {
            **secrets,
            "LINLI_NATS_URL": nats_url,
            "LINLI_JWKS_URL": jwks_url,  # tokens people get by signing in to the registry
            f"LINLI_{name.upper()}_DATABASE_URL": f"sqlite+aiosqlite:///{(var / f'{name}.db').resolve()}",
            f"LINLI_{name.upper()}_HTTP_PORT": str(port),
            **local_settings(name, var),
        }
        child = ServiceProcess(name, port, env, var / "logs" / f"{name}.log")
        child.start()
        children.append(child)
    return children


def print_welcome(children: list[ServiceProcess], secrets: dict[str, str], var: Path) -> None:
    district, community = DEMO
    token = issue_token(
        secrets["LINLI_JWT_SECRET"],
        role=Role.COMMUNITY_WORKER,
        district=district,
        community=community,
        subject="community-worker-1",
    )
    print(f"\ntoken (community_worker of {community}):\n{token}\n")
    print(f"try: curl -H 'Authorization: Bearer <token>' {children[0].url}/v1/statistics?by=grid")
    print("more tokens: .venv/bin/linli token --role ROLE --district D [--community C]")
    urls = {child.name: child.url for child in children}
    if "fund" in urls:
        print(f"the love fund's public report (公示), no token: {urls['fund']}{DEMO_DISCLOSURE}")
    if "notify" in urls:
        print(f"messages as they are sent: tail -f {var / NOTIFY_OUTBOX}")
        print("  (22:00-07:00 China time, quiet hours hold all but urgent alerts until morning)")
        print(
            "  the demo's overdue visit alerts a grid worker within a minute and, unacknowledged,"
            f" climbs to the community worker {DEMO_LADDER_SECONDS // 60} minutes later"
        )


def run_stack(var: Path, secrets: dict[str, str], *, load_demo: bool) -> int:
    var.mkdir(parents=True, exist_ok=True)
    nats_url, own_nats = nats_for_stack(var)
    children: list[ServiceProcess] = []

    def stop(*_: object) -> None:
        print("\nstopping…")
        for child in reversed(children):
            child.stop()
        if own_nats is not None:
            own_nats.stop()
        print("stopped; data kept in", var)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)  # also when started from a shell that ignores it
    try:
        children.extend(start_services(var, nats_url, secrets))
        for child in children:
            child.wait_healthy()
            print(f"{child.name:<9} {child.url}/docs   (log: {child.log_path})")
        urls = {child.name: child.url for child in children if child.running()}
        if load_demo:
            load_demos(urls, secrets)
        console = None
        if console_installed():
            console = start_console(var, children)
            children.append(console)
            console.wait_healthy()
        print_welcome([c for c in children if c is not console], secrets, var)
        if console is not None:
            print_console(console, demo_accounts(urls, secrets, var, DEMO) if load_demo else None)
        print("Ctrl-C stops everything.")
        while all(child.running() for child in children):
            time.sleep(0.5)
        print("a service exited; see its log under", var / "logs")
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop()
