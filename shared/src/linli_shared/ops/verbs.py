"""The ops verbs of `linli` as command-line syntax only, so that `linli token` loads none of
what they need (NATS, rich, database drivers): linli_shared.ops.commands runs them."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any


def nats_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--nats",
        help="NATS URL (default LINLI_NATS_URL, else the `linli run` server if var/nats exists, else :4222)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")
    parser.set_defaults(url=None, db=None)


def where_options(parser: argparse.ArgumentParser, *, json: bool = True) -> None:
    parser.add_argument(
        "--nats",
        help="NATS URL (default LINLI_NATS_URL, else the `linli run` server if var/nats exists, else :4222)",
    )
    parser.add_argument(
        "--url",
        action="append",
        metavar="NAME=URL",
        help="a service's HTTP URL (repeat; default all four locally)",
    )
    parser.add_argument(
        "--db",
        action="append",
        metavar="NAME=URL",
        help="a service's database (default LINLI_<NAME>_DATABASE_URL)",
    )
    if json:
        parser.add_argument("--json", action="store_true", help="print JSON for scripts")


def register(verbs: Any, run: Callable[[argparse.Namespace], int]) -> None:
    """Add the ops verbs to `linli`'s sub-commands; `run` is called with the parsed arguments."""
    status = verbs.add_parser("status", help="health, readiness, consumer lag, outbox backlog, dead letters")
    where_options(status)
    status.add_argument(
        "--stale-after", type=float, default=60.0, help="seconds an unsent outbox row may wait"
    )
    status.add_argument("--max-pending", type=int, help="a consumer further behind is unhealthy")
    status.set_defaults(handler=run, ops="status")
    outbox = verbs.add_parser(
        "outbox", help="each service's unsent outbox rows: how many, the oldest, its age"
    )
    where_options(outbox)
    outbox.set_defaults(handler=run, ops="outbox")
    dlq = verbs.add_parser("dlq", help="list, show and replay dead letters")
    dlq_verbs = dlq.add_subparsers(dest="dlq_verb", required=True)
    listing = dlq_verbs.add_parser("list", help="dead letters, oldest first")
    listing.add_argument("--consumer", help="only this durable consumer's")
    listing.add_argument("--limit", type=int, default=100)
    show = dlq_verbs.add_parser("show", help="one dead letter: its headers (error, traceback) and body")
    show.add_argument("sequence", type=int, metavar="SEQ")
    replay = dlq_verbs.add_parser("replay", help="republish to the original subject, then delete the letter")
    replay.add_argument("sequence", type=int, nargs="?", metavar="SEQ")
    replay.add_argument("--consumer", help="replay every dead letter of this durable consumer")
    for parser, verb in (
        (listing, "dlq list"),
        (show, "dlq show"),
        (replay, "dlq replay"),
    ):
        nats_options(parser)
        parser.set_defaults(handler=run, ops=verb)
    hub = verbs.add_parser(
        "hub", help="on the city hub: make or update each service's city-wide stream sourcing the districts"
    )
    hub.add_argument("districts", nargs="+", metavar="DISTRICT", help="every district site, by its domain")
    hub.add_argument("--replicas", type=int, default=3, help="copies of each city stream (3 on the hub)")
    nats_options(hub)
    hub.set_defaults(handler=run, ops="hub")
    demo = verbs.add_parser("demo", help="load the demo community into a running stack")
    where_options(demo, json=False)
    demo.set_defaults(handler=run, ops="demo")
