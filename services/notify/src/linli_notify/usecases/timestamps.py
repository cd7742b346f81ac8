"""Time-stamping witnessed hashes with the operator's RFC 3161 authority, apart from the events.

A pass finds witnessed hashes without a token whose next try is due, asks the authority outside any
transaction, and records each outcome in a short unit of work of its own: an authority that is down
only delays the stamps (retried with backoff, never given up), it never holds an event back.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable
from datetime import datetime

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_notify.domain import retry_delay
from linli_notify.models import DisclosureTimestamp, WitnessedDisclosure
from linli_notify.settings import NotifySettings
from linli_notify.timestamping import Stamp, TimestampError
from linli_notify.usecases.witness import its_timestamp
from linli_shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

Stamper = Callable[[str], Awaitable[Stamp]]
STAMPED = Counter("linli_notify_disclosures_timestamped_total", "Witnessed hashes time-stamped (RFC 3161).")
STAMP_FAILURES = Counter(
    "linli_notify_timestamp_failures_total", "Time-stamp requests that failed and will be tried again."
)
BATCH = 50


async def timestamp_witnessed(
    session_factory: async_sessionmaker[AsyncSession],
    stamp: Stamper,
    *,
    settings: NotifySettings,
    now: datetime,
    jitter: Callable[[], float] = random.random,
) -> int:
    """Stamp the witnessed hashes that have no token yet and are due; how many were stamped."""
    stamped = 0
    for witness_id, sha256 in await due_for_timestamp(session_factory, now):
        try:
            result = await stamp(sha256)
        except TimestampError as error:
            STAMP_FAILURES.inc()
            log.warning("time-stamp of witnessed hash %s failed: %s", sha256, error)
            await record_attempt(session_factory, witness_id, now, settings, jitter(), error=str(error))
        else:
            STAMPED.inc()
            stamped += 1
            await record_attempt(session_factory, witness_id, now, settings, jitter(), stamp=result)
    return stamped


async def due_for_timestamp(
    session_factory: async_sessionmaker[AsyncSession], now: datetime
) -> list[tuple[int, str]]:
    """(witness id, hash) of witnessed hashes without a token: never tried, or their retry is due."""
    async with session_factory() as session:
        statement = (
            select(WitnessedDisclosure.id, WitnessedDisclosure.sha256)
            .join(DisclosureTimestamp, its_timestamp(), isouter=True)
            .where(
                or_(
                    col(DisclosureTimestamp.witness_id).is_(None),
                    (col(DisclosureTimestamp.token).is_(None))
                    & (col(DisclosureTimestamp.next_attempt_at) <= now),
                )
            )
            .order_by(col(WitnessedDisclosure.id))
            .limit(BATCH)
        )
        rows = (await session.exec(statement)).all()
    return [(witness_id, sha256) for witness_id, sha256 in rows if witness_id is not None]


async def record_attempt(
    session_factory: async_sessionmaker[AsyncSession],
    witness_id: int,
    now: datetime,
    settings: NotifySettings,
    jitter: float,
    *,
    stamp: Stamp | None = None,
    error: str | None = None,
) -> None:
    """The token and its time, or one more failed try and when to try next; a stamp, once kept, stays."""
    async with UnitOfWork(session_factory, clock=lambda: now) as uow:
        row = await uow.session.get(DisclosureTimestamp, witness_id) or DisclosureTimestamp(
            witness_id=witness_id, next_attempt_at=now
        )
        if row.token is not None:
            return  # stamped meanwhile (an operator's manual pass beside the leader's)
        row.attempts += 1
        if stamp is not None:
            row.token, row.timestamped_at, row.last_error = stamp.token, stamp.at, None
        else:
            delay = retry_delay(
                row.attempts,
                base_seconds=settings.retry_base_seconds,
                cap_seconds=settings.retry_cap_seconds,
                jitter=jitter,
            )
            row.next_attempt_at, row.last_error = now + delay, (error or "")[:1000]
        uow.session.add(row)
        await uow.commit()
