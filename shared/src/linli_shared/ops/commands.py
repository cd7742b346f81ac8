"""What the ops verbs of `linli` do: status, outbox, dlq list|show|replay, demo."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from rich.console import Console

from linli_shared.jetstream import city_stream_config, ensure_stream
from linli_shared.ops import render
from linli_shared.ops.broker import jetstream
from linli_shared.ops.dlq import (
    list_dead_letters,
    replay_consumer_letters,
    replay_dead_letter,
    show_dead_letter,
)
from linli_shared.ops.status import Limits, gather_status, outbox_statuses
from linli_shared.ops.targets import Targets, Unreachable, targets_from
from linli_shared.stack import SERVICES

Handler = Callable[[argparse.Namespace, Targets, Console], Coroutine[Any, Any, int]]


def emit(args: argparse.Namespace, console: Console, data: object, *tables: Any) -> None:
    if args.json:
        print(render.as_json(data))
    else:
        for table in tables:
            console.print(table)


async def command_status(args: argparse.Namespace, targets: Targets, console: Console) -> int:
    status = await gather_status(targets, Limits(args.stale_after, args.max_pending))
    emit(args, console, status.as_json(), *render.status_tables(status))
    for problem in status.problems:
        print(f"linli status: {problem}", file=sys.stderr)
    return 0 if status.healthy else 1


async def command_outbox(args: argparse.Namespace, targets: Targets, console: Console) -> int:
    if not targets.databases:
        print(
            "linli outbox: no database given (--db NAME=URL or LINLI_<SERVICE>_DATABASE_URL)", file=sys.stderr
        )
        return 2
    outboxes = await outbox_statuses(targets.databases)
    emit(args, console, outboxes, render.outbox_table(outboxes))
    for box in outboxes:
        if box.error:
            print(f"linli outbox: {box.service}: {box.error}", file=sys.stderr)
    return 1 if any(box.error for box in outboxes) else 0


async def command_dlq_list(args: argparse.Namespace, targets: Targets, console: Console) -> int:
    async with jetstream(targets.nats_url) as js:
        letters = await list_dead_letters(js, consumer=args.consumer, limit=args.limit)
    emit(
        args,
        console,
        [render.letter_json(x, with_body=False) for x in letters],
        render.letters_table(letters),
    )
    return 0


async def command_dlq_show(args: argparse.Namespace, targets: Targets, console: Console) -> int:
    async with jetstream(targets.nats_url) as js:
        letter = await show_dead_letter(js, args.sequence)
    if args.json:
        print(render.as_json(render.letter_json(letter, with_body=True)))
    else:
        render.print_letter(console, letter)
    return 0


async def command_dlq_replay(args: argparse.Namespace, targets: Targets, console: Console) -> int:
    if (args.sequence is None) == (args.consumer is None):
        print("linli dlq replay: give a dead letter's SEQ or --consumer NAME, not both", file=sys.stderr)
        return 2
    async with jetstream(targets.nats_url) as js:
        if args.sequence is not None:
            replays = [await replay_dead_letter(js, args.sequence)]
        else:
            replays = await replay_consumer_letters(js, args.consumer)
    emit(args, console, replays, render.replayed_table(replays))
    return 0


async def command_hub(args: argparse.Namespace, targets: Targets, console: Console) -> int:
    """Give the hub one R3 stream per service that sources that service's stream from every
    district's domain (a new district: run it again with the whole list)."""
    streams = []
    async with jetstream(targets.nats_url) as js:
        for service in SERVICES:  # the four that publish
            config = city_stream_config(service, args.districts, replicas=args.replicas)
            await ensure_stream(js, config)
            streams.append({"stream": config.name, "sources": args.districts, "replicas": args.replicas})
    emit(args, console, streams, render.hub_table(streams))
    return 0


def command_demo(targets: Targets, jwt_secret: Callable[[], str]) -> int:
    """Each installed service's demo, loaded through the HTTP APIs of a running stack."""
    from linli_shared.stack import demo_loaders

    for name, load_demo in demo_loaders():
        if name in targets.services:
            try:
                load_demo(targets.services, jwt_secret())
            except Exception as error:  # a refused connection, a 4xx: one line, no traceback
                print(f"linli demo: {name} demo not loaded: {one_line(error)}", file=sys.stderr)
                return 1
    return 0


def one_line(error: BaseException) -> str:
    if isinstance(error, Unreachable):  # says what did not answer already
        return str(error)
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0][:300]}" if text else type(error).__name__


def run_verb(args: argparse.Namespace, var: Path, jwt_secret: Callable[[], str]) -> int:
    """Run one ops verb; whatever it cannot reach is said in one line on stderr, never a traceback."""
    verb = f"linli {args.verb}" + (f" {args.dlq_verb}" if args.verb == "dlq" else "")
    try:
        targets = targets_from(nats_url=args.nats, urls=args.url, databases=args.db, var=var)
    except ValueError as error:
        print(f"{verb}: {error}", file=sys.stderr)
        return 2
    if args.verb == "demo":
        return command_demo(targets, jwt_secret)
    handler = HANDLERS[args.ops]
    try:
        return asyncio.run(handler(args, targets, Console(soft_wrap=False)))
    except Exception as error:
        print(f"{verb}: {one_line(error)}", file=sys.stderr)
        return 1


HANDLERS: dict[str, Handler] = {
    "status": command_status,
    "outbox": command_outbox,
    "dlq list": command_dlq_list,
    "dlq show": command_dlq_show,
    "dlq replay": command_dlq_replay,
    "hub": command_hub,
}
