"""`make test-compose`: the compose stack built and run for real on a private Docker engine.

Build the stand-in images and the services, start the stack, see every /readyz ready, send one
event end to end (registry -> points), pause the registry's NATS node and see writes still
get their events through, start a district leaf node and see it join, then `down -v`, stop the
engine and leave the host's network as it was found. Prints build, start and total times.
Fails (exit 1) with a clear message when Docker cannot start: it never skips.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from linli_shared.testing.waiting import eventually

from .checks import (
    SignedIn,
    all_ready,
    can_connect,
    connected_nodes,
    console_signs_the_admin_in,
    leaf_count,
    only_registry_tokens_pass,
    resident_reaches_points,
    stream_leader,
)
from .engine import DockerEngine, EngineUnavailable, restore_host, snapshot_host
from .images import build_stand_ins, build_wheelhouse
from .stack import DISTRICT, NATS_NODES, SERVICE_PORTS, ComposeStack, fresh_secrets

CACHE = Path(os.environ.get("LINLI_IMAGE_CACHE", Path.home() / ".cache" / "linli"))
# A frozen node must cost seconds, not the NATS client's default 2-minute ping interval.
PAUSED_NODE_BOUND_S = float(os.environ.get("LINLI_COMPOSE_PAUSE_BOUND", "60"))


STEPS = {
    "build": "stand-in images, wheelhouse and the images of the four services and the console build",
    "ready": "every container healthy and every service's /readyz ready",
    "roles": "each service's role opens its own database and no other",
    "sign-in": "the first admin made on the registry signs in; every service takes their token and "
    "refuses a development (HS256) one",
    "console": "the first admin signs in through the console's form and sees their page",
    "event": "a resident registered in the registry reaches points",
    "paused": "with the registry's NATS node paused, an event gets through and all are ready",
    "leaf": f"district leaf {DISTRICT} joins the cluster (a hub node's /leafz)",
}

HOST_STEP = "host left as found: dockerd stopped, docker0 and its iptables rules gone, ip_forward back"


async def scenario(stack: ComposeStack, figures: dict[str, float], step: Callable[[str], None]) -> None:
    """Run the steps after the build in order; `step` names each one as it starts."""
    step("ready")
    started = time.monotonic()
    stack.compose("up", "-d", "--no-build", timeout=600)
    with httpx.Client() as client:

        async def healthy() -> bool:
            health = stack.health()
            assert set(health) >= {*NATS_NODES, "postgres", *SERVICE_PORTS, "console"}, health
            assert set(health.values()) == {"healthy"}, health
            return True

        await eventually(healthy, timeout=240, every=1)
        await eventually(lambda: all_ready(client), timeout=120, every=0.5)
        figures["up_to_all_ready_s"] = time.monotonic() - started

        step("roles")

        services = list(SERVICE_PORTS)
        for role, other in zip(services, services[1:] + services[:1], strict=True):
            assert can_connect(stack, role, role), f"{role} cannot open its own database"
            assert not can_connect(stack, role, other), f"{role} can open {other}'s database"
            assert not can_connect(stack, role, "postgres"), f"{role} can open the postgres database"

        step("sign-in")

        people = SignedIn(stack, client)
        only_registry_tokens_pass(client, people)

        step("console")

        console_signs_the_admin_in(client, people)

        step("event")

        figures["event_end_to_end_s"] = await resident_reaches_points(client, people, timeout=60)

        step("paused")

        # The registry's own node: its client must notice the freeze and move for a write to get
        # through, whichever node leads the stream (where clients sit is random).
        clients = connected_nodes(stack)
        frozen, leader = clients["registry"], stream_leader(stack, "registry")
        on_frozen = sorted(service for service, node in clients.items() if node == frozen)
        print(f"compose: pausing {frozen} (clients: {on_frozen}); the registry stream's leader is {leader}")
        stack.docker("pause", stack.container(frozen))
        try:
            paused = time.monotonic()
            figures["event_with_node_paused_s"] = await resident_reaches_points(
                client, people, timeout=PAUSED_NODE_BOUND_S
            )
            await eventually(lambda: all_ready(client), timeout=PAUSED_NODE_BOUND_S, every=0.5)
            figures["pause_to_event_and_ready_s"] = time.monotonic() - paused
        finally:
            stack.docker("unpause", stack.container(frozen))

        step("leaf")

        stack.compose("--profile", "district", "up", "-d", "--no-build", "nats-district", timeout=300)
        joined = time.monotonic()

        async def leaf_joined() -> bool:
            return leaf_count(stack) >= 1

        await eventually(leaf_joined, timeout=60, every=0.5)
        figures["leaf_join_s"] = time.monotonic() - joined


def main() -> int:
    total_started = time.monotonic()
    engine = DockerEngine(CACHE / "docker", Path("/run/linli-compose-docker"))
    before = snapshot_host()
    reached: list[str] = []  # the steps started, in order; the last one failed if the run did
    failure: str | None = None
    figures: dict[str, float] = {}
    stack: ComposeStack | None = None
    try:
        engine.start()
        reached.append("build")
        build_started = time.monotonic()
        compose_env = build_stand_ins(engine.env)
        build_wheelhouse(engine.env)
        stack = ComposeStack({**engine.env, **compose_env, **fresh_secrets()})
        stack.compose("build", timeout=1800)
        figures["build_s"] = time.monotonic() - build_started
        asyncio.run(scenario(stack, figures, reached.append))
    except EngineUnavailable as error:
        failure = f"Docker cannot start on this machine: {error}"
    except Exception as error:  # report the step that failed, then still tear everything down
        where = STEPS[reached[-1]] if reached else "the Docker engine starts"
        failure = f"{where}: {type(error).__name__}: {error}"
        if stack is not None:
            print(stack.logs(), file=sys.stderr)
    finally:
        try:
            if stack is not None:
                stack.compose("--profile", "district", "down", "-v", "--remove-orphans", timeout=300)
                stack.docker("image", "prune", "--force")  # the cached data root keeps current layers only
        finally:
            engine.stop()
        left = restore_host(before)
    figures["whole_run_s"] = time.monotonic() - total_started
    return report(reached, failure, left, figures)


def report(reached: list[str], failure: str | None, left: list[str], figures: dict[str, float]) -> int:
    """Print each step's outcome, the figures and a closing count; the exit status."""
    outcomes = [(name, "PASS") for name in reached]
    if failure is not None:
        print(f"compose: FAILED: {failure}", file=sys.stderr)
        outcomes[-1:] = [(reached[-1], "FAIL")] if reached else [("engine", "FAIL")]
    outcomes += [(name, "NOT RUN") for name in STEPS if name not in reached]
    for item in left:
        print(f"compose: still changed on the host: {item}", file=sys.stderr)
    outcomes.append(("host", "FAIL" if left else "PASS"))
    descriptions = {**STEPS, "engine": "the Docker engine starts", "host": HOST_STEP}
    for name, outcome in outcomes:
        print(f"{outcome:8} {descriptions[name]}")
    print("compose figures: " + "  ".join(f"{name}={value:.1f}" for name, value in figures.items()))
    failed = sum(1 for _, outcome in outcomes if outcome != "PASS")
    print(f"compose: {len(outcomes) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
