"""Human output as rich tables; `--json` output as plain data for scripts."""

from __future__ import annotations

import json
from dataclasses import asdict, is_dataclass
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table

from linli_shared.ops.dlq import DeadLetter, Replayed
from linli_shared.ops.status import OutboxStatus, Status

OK, BAD = "[green]ok[/green]", "[red]no[/red]"


def as_json(value: object) -> str:
    return json.dumps(value, default=_plain, ensure_ascii=False, indent=2)


def _plain(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def letter_json(letter: DeadLetter, *, with_body: bool) -> dict[str, Any]:
    found = asdict(letter)
    if not with_body:
        del found["data"], found["headers"]
    return found


def _count(value: int | None) -> str:
    return "-" if value is None else str(value)


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def outbox_table(outboxes: list[OutboxStatus]) -> Table:
    table = Table(title="Outbox backlog")
    for column in ("service", "unsent", "oldest unsent", "age", "attempts", "last error"):
        table.add_column(column)
    for box in outboxes:
        if box.error:
            table.add_row(box.service, "[red]?[/red]", f"[red]{box.error}[/red]", "", "", "")
            continue
        oldest = box.oldest
        table.add_row(
            box.service,
            _count(box.unsent),
            f"#{oldest.position} {oldest.subject}" if oldest else "-",
            _age(box.oldest_age_seconds),
            str(oldest.attempts) if oldest else "-",
            (oldest.last_error or "")[:80] if oldest else "",
        )
    return table


def status_tables(status: Status) -> list[Table]:
    services = Table(title="Services")
    for column in ("service", "url", "alive", "ready", "detail"):
        services.add_column(column)
    for health in status.services:
        services.add_row(
            health.name, health.url, OK if health.alive else BAD, OK if health.ready else BAD, health.detail
        )
    consumers = Table(title=f"Consumers ({status.nats_url})")
    consumers.add_column("consumer", no_wrap=True)  # a name to copy into `linli dlq`, never cut
    consumers.add_column("stream", no_wrap=True)
    for column in ("pending", "ack pending", "redelivered", "dead letters"):
        consumers.add_column(column)
    for consumer in status.consumers:
        letters = f"[red]{consumer.dead_letters}[/red]" if consumer.dead_letters else "0"
        consumers.add_row(
            consumer.durable,
            consumer.stream or "(gone)",
            _count(consumer.pending),
            _count(consumer.ack_pending),
            _count(consumer.redelivered),
            letters,
        )
    if status.nats_error:
        consumers.add_row(f"[red]{status.nats_error}[/red]", "", "", "", "", "")
    return [services, consumers, outbox_table(status.outboxes)]


def letters_table(letters: list[DeadLetter]) -> Table:
    table = Table(title="Dead letters")
    table.add_column("seq", no_wrap=True)
    table.add_column("consumer", no_wrap=True)
    for column in ("original subject", "stored at", "deliveries", "error"):
        table.add_column(column)
    for letter in letters:
        stored = letter.stored_at.isoformat(timespec="seconds") if letter.stored_at else "-"
        deliveries = _count(letter.deliveries)
        table.add_row(
            str(letter.sequence),
            letter.consumer,
            letter.original_subject,
            stored,
            deliveries,
            letter.error[:80],
        )
    return table


def print_letter(console: Console, letter: DeadLetter) -> None:
    table = Table(title=f"Dead letter {letter.sequence}", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    table.add_row("consumer", letter.consumer)
    for name, value in letter.headers.items():
        table.add_row(name, value)
    console.print(table)
    console.print(letter.data.decode("utf-8", "replace"), markup=False, highlight=False)


def replayed_table(replays: list[Replayed]) -> Table:
    table = Table(title="Replayed")
    for column in ("dead letter", "consumer", "republished on", "as"):
        table.add_column(column)
    for replay in replays:
        table.add_row(
            str(replay.sequence),
            replay.consumer,
            replay.subject,
            f"{replay.stream} #{replay.stream_sequence}",
        )
    return table


def hub_table(streams: list[dict[str, Any]]) -> Table:
    table = Table(title="city streams on the hub")
    for column in ("stream", "sources (district domains)", "replicas"):
        table.add_column(column)
    for stream in streams:
        table.add_row(stream["stream"], ", ".join(stream["sources"]), str(stream["replicas"]))
    return table
