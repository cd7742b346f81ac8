"""`linli status` gathered: every figure, and the problems that make the exit status non-zero."""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from linli_shared.clock import utc_now
from linli_shared.ops.broker import ConsumerLag, consumer_lags, dead_letter_counts, jetstream
from linli_shared.ops.outbox import OutboxBacklog, UnsentRow, outbox_backlog
from linli_shared.ops.services import ServiceHealth, probe_services
from linli_shared.ops.targets import Targets, Unreachable, shown


@dataclass(frozen=True)
class Limits:
    stale_outbox_seconds: float = 60.0
    """an unsent outbox row older than this means the relay is stuck"""
    max_pending: int | None = None
    """a consumer further behind than this is a problem (unset: lag is only reported)"""


@dataclass(frozen=True)
class OutboxStatus:
    service: str
    database: str
    unsent: int | None = None
    oldest: UnsentRow | None = None
    oldest_age_seconds: float | None = None
    error: str | None = None

    @classmethod
    def of(cls, service: str, database_url: str, backlog: OutboxBacklog, now: datetime) -> OutboxStatus:
        age = backlog.oldest_age_seconds(now)
        return cls(service, shown(database_url), backlog.unsent, backlog.oldest, age)


@dataclass(frozen=True)
class ConsumerStatus:
    durable: str
    stream: str | None
    pending: int | None
    ack_pending: int | None
    redelivered: int | None
    dead_letters: int


@dataclass
class Status:
    nats_url: str
    nats_error: str | None = None
    services: list[ServiceHealth] = field(default_factory=list)
    consumers: list[ConsumerStatus] = field(default_factory=list)
    outboxes: list[OutboxStatus] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.problems

    def as_json(self) -> dict[str, Any]:
        return {"healthy": self.healthy, **asdict(self)}


def consumers_with_letters(lags: list[ConsumerLag], letters: dict[str, int]) -> list[ConsumerStatus]:
    """One row per durable consumer, and one for a consumer gone from JetStream that left letters."""
    rows = [
        ConsumerStatus(
            lag.durable,
            lag.stream,
            lag.pending,
            lag.ack_pending,
            lag.redelivered,
            letters.get(lag.durable, 0),
        )
        for lag in lags
    ]
    known = {lag.durable for lag in lags}
    rows += [
        ConsumerStatus(name, None, None, None, None, n) for name, n in letters.items() if name not in known
    ]
    return rows


async def outbox_statuses(databases: dict[str, str]) -> list[OutboxStatus]:
    async def one(service: str, url: str) -> OutboxStatus:
        try:
            return OutboxStatus.of(service, url, await outbox_backlog(url), utc_now())
        except Unreachable as error:
            return OutboxStatus(service, shown(url), error=str(error))

    return list(await asyncio.gather(*(one(s, u) for s, u in databases.items())))


def outbox_problems(outboxes: list[OutboxStatus], limits: Limits) -> list[str]:
    problems = []
    for box in outboxes:
        if box.error:
            problems.append(f"{box.service} outbox: {box.error}")
        elif box.oldest_age_seconds is not None and box.oldest_age_seconds > limits.stale_outbox_seconds:
            problems.append(
                f"{box.service} outbox: {box.unsent} unsent, the oldest {box.oldest_age_seconds:.0f} s old"
            )
    return problems


async def gather_status(targets: Targets, limits: Limits) -> Status:
    status = Status(targets.nats_url)
    services, outboxes = await asyncio.gather(
        probe_services(targets.services), outbox_statuses(targets.databases)
    )
    status.services, status.outboxes = services, outboxes
    for service in services:
        if not (service.alive and service.ready):
            status.problems.append(f"{service.name} at {service.url}: {service.detail or 'not alive'}")
    try:
        async with jetstream(targets.nats_url) as js:
            status.consumers = consumers_with_letters(await consumer_lags(js), await dead_letter_counts(js))
    except Unreachable as error:
        status.nats_error = str(error)
    except Exception as error:  # connected, yet JetStream did not answer (no quorum, frozen node)
        status.nats_error = f"JetStream at {targets.nats_url} does not answer ({type(error).__name__})"
    if status.nats_error:
        status.problems.append(status.nats_error)
    for consumer in status.consumers:
        if consumer.dead_letters:
            status.problems.append(f"{consumer.durable}: {consumer.dead_letters} dead letters")
        if limits.max_pending is not None and (consumer.pending or 0) > limits.max_pending:
            status.problems.append(f"{consumer.durable}: {consumer.pending} pending")
    status.problems += outbox_problems(outboxes, limits)
    return status
