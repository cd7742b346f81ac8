"""`linli run`: NATS and every installed service on this machine, with demo data, until Ctrl-C."""

from __future__ import annotations

import importlib.util
import os
import signal
import time
from pathlib import Path
from types import FrameType

from linli_shared.auth import Role, issue_token
from linli_shared.natsserver import NatsServer, port_answers
from linli_shared.processes import ServiceProcess

SERVICES = {"registry": 8101, "points": 8102, "fund": 8103, "notify": 8104}
EMBEDDED_NATS_PORT = 4322
"""Our own port for the embedded server, so a NATS already on 4222 never gets in the way."""
DEMO = ("gaoqiaoying", "donglizhuang")
NOTIFY_OUTBOX = "notify-outbox.jsonl"


def local_settings(name: str, var: Path) -> dict[str, str]:
    """What a service needs on this machine beyond its database: notify also writes every message
    to a file you can `tail -f` (quiet hours stay the default 22:00–07:00)."""
    if name == "notify":
        return {"LINLI_NOTIFY_OUTBOX_FILE": str((var / NOTIFY_OUTBOX).resolve())}
    return {}


def installed_services() -> dict[str, int]:
    return {name: port for name, port in SERVICES.items() if importlib.util.find_spec(f"linli_{name}.app")}


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
        for name, port in installed_services().items():
            env = {
                **secrets,
                "LINLI_NATS_URL": nats_url,
                f"LINLI_{name.upper()}_DATABASE_URL": f"sqlite+aiosqlite:///{(var / f'{name}.db').resolve()}",
                f"LINLI_{name.upper()}_HTTP_PORT": str(port),
                **local_settings(name, var),
            }
            child = ServiceProcess(name, port, env, var / "logs" / f"{name}.log")
            child.start()
            children.append(child)
        for child in children:
            child.wait_healthy()
            print(f"{child.name:<9} {child.url}/docs   (log: {child.log_path})")
        if load_demo and "registry" in installed_services():
            from linli_registry.demo import load_demo as load_registry_demo

            load_registry_demo(children[0].url, secrets["LINLI_JWT_SECRET"])
            urls = {child.name: child.url for child in children if child.running()}
            if "points" in urls:
                from linli_points.demo import load_demo as load_points_demo

                load_points_demo(urls["points"], urls["registry"], secrets["LINLI_JWT_SECRET"])
            if "fund" in urls:
                from linli_fund.demo import load_demo as load_fund_demo

                load_fund_demo(urls["fund"], urls["registry"], secrets["LINLI_JWT_SECRET"])
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
        if "notify" in installed_services():
            print(f"messages as they are sent: tail -f {var / NOTIFY_OUTBOX}")
            print("  (22:00-07:00 China time, quiet hours hold all but urgent alerts until morning)")
        print("Ctrl-C stops everything.")
        while all(child.running() for child in children):
            time.sleep(0.5)
        print("a service exited; see its log under", var / "logs")
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop()
