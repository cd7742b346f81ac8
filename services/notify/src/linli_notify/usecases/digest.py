"""The daily digest: once per China-time day, each grid worker gets one message of what happened in
their grid since their last digest.

"Their grid" is what this service knows of it: the alerts addressed to them, and every notification
about a resident of a care group they stand in. A day with nothing to tell sends nothing. Each
digest is a notification whose source event id is derived from (district, grid worker, day), so the
notification table's unique key keeps it to one per grid worker and day, across checks and replicas.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from prometheus_client import Counter
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_notify.domain import DEFAULT_TIMEZONE, Urgency
from linli_notify.models import CareGroup, Notification
from linli_notify.settings import NotifySettings
from linli_notify.usecases.notifications import Message, create_notification
from linli_shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

DIGEST_EVENT = "notify.digest.daily"
DIGEST_TEMPLATE = "daily_digest"
MAX_ITEMS = 30
FIRST_WINDOW = timedelta(days=1)
CHINA = ZoneInfo(DEFAULT_TIMEZONE)

DIGESTS = Counter("linli_notify_digests_total", "Daily digests made for grid workers.")


@dataclass(frozen=True)
class GridWorker:
    district: str
    community: str | None
    subject: str
    residents: frozenset[str]


def digest_day(now: datetime, send_hour: int) -> date | None:
    """The China-time day a digest is due for at `now`, or None before the sending hour."""
    local = now.astimezone(CHINA)
    return local.date() if local.hour >= send_hour else None


def digest_event_id(district: str, subject: str, day: date) -> str:
    """One id per (district, grid worker, day); hashed so any subject fits the 64-character column."""
    key = hashlib.sha256(f"{district}\n{subject}".encode()).hexdigest()[:40]
    return f"digest-{day.isoformat()}-{key}"


async def grid_workers(session: AsyncSession) -> list[GridWorker]:
    residents: dict[tuple[str, str | None, str], set[str]] = {}
    for group in (await session.exec(select(CareGroup))).all():
        residents.setdefault((group.district, group.community, group.grid_worker), set()).add(
            group.resident_id
        )
    return [
        GridWorker(district, community, subject, frozenset(ids))
        for (district, community, subject), ids in sorted(residents.items(), key=lambda item: str(item[0]))
    ]


async def send_digests(
    session_factory: async_sessionmaker[AsyncSession], *, settings: NotifySettings, now: datetime
) -> int:
    """Make today's digest for every grid worker who has none yet; return how many were made."""
    day = digest_day(now, settings.digest_hour)
    if day is None:
        return 0
    async with session_factory() as session:
        workers = await grid_workers(session)
    made = 0
    for worker in workers:
        try:
            made += await digest_for(session_factory, worker, day, settings=settings, now=now)
        except IntegrityError:  # another replica made it at the same moment: its transaction won
            log.info("the digest of %s for %s was made elsewhere", worker.subject, day)
    return made


async def digest_for(
    session_factory: async_sessionmaker[AsyncSession],
    worker: GridWorker,
    day: date,
    *,
    settings: NotifySettings,
    now: datetime,
) -> int:
    """Make the worker's digest for `day` unless made already or nothing happened; 1 if made."""
    event_id = digest_event_id(worker.district, worker.subject, day)
    async with UnitOfWork(session_factory, clock=lambda: now) as uow:
        mine = select(Notification).where(
            Notification.district == worker.district, Notification.recipient == worker.subject
        )
        made = mine.where(Notification.source_event_id == event_id)
        if (await uow.session.exec(made)).first() is not None:
            return 0
        last = (
            await uow.session.exec(
                mine.where(Notification.event_type == DIGEST_EVENT)
                .order_by(col(Notification.created_at).desc())
                .limit(1)
            )
        ).first()
        since = last.created_at if last is not None else now - FIRST_WINDOW
        items = await happenings(uow.session, worker, since=since, until=now)
        if not items:
            return 0
        digest = await create_notification(uow, digest_message(worker, day, event_id, since, items), settings)
        await uow.commit()
    if digest is None:
        return 0
    DIGESTS.inc()
    return 1


def digest_message(
    worker: GridWorker, day: date, event_id: str, since: datetime, items: list[dict[str, str]]
) -> Message:
    return Message(
        district=worker.district,
        community=worker.community,
        source_event_id=event_id,
        event_type=DIGEST_EVENT,
        recipient=worker.subject,
        template=DIGEST_TEMPLATE,
        urgency=Urgency.NORMAL,
        rung=None,
        data={
            "day": day.isoformat(),
            "since": since.astimezone(CHINA).strftime("%Y-%m-%d %H:%M"),
            "count": len(items),
            "items": items[:MAX_ITEMS],
            "more": max(0, len(items) - MAX_ITEMS),
        },
    )


async def happenings(
    session: AsyncSession, worker: GridWorker, *, since: datetime, until: datetime
) -> list[dict[str, str]]:
    """What happened in the worker's grid in [since, until): one line per event, oldest first."""
    statement = (
        select(Notification)
        .where(
            Notification.district == worker.district,
            Notification.community == worker.community,
            Notification.event_type != DIGEST_EVENT,
            col(Notification.created_at) >= since,
            col(Notification.created_at) < until,
        )
        .order_by(col(Notification.created_at), col(Notification.id))
    )
    seen: set[str] = set()
    items: list[dict[str, str]] = []
    for notification in (await session.exec(statement)).all():
        about_grid = str(notification.data.get("resident_id", "")) in worker.residents
        if notification.recipient != worker.subject and not about_grid:
            continue
        if notification.source_event_id in seen:
            continue  # an escalation, or a second recipient, of the same event
        seen.add(notification.source_event_id)
        items.append(
            {
                "at": notification.created_at.astimezone(CHINA).strftime("%m-%d %H:%M"),
                "event": notification.event_type,
                "who": str(notification.data.get("resident_name") or ""),
                "kind": str(notification.data.get("kind") or ""),
                "title": notification.title,  # what the template says for events it has no words for
            }
        )
    return items
