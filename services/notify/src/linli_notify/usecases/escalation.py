"""The escalation ladder: an urgent alert nobody acknowledged climbs one rung per waiting time.

Each notification on the ladder climbs at most once: a conditional UPDATE sets its `escalated_at`
(only while it is still unset and unacknowledged), so of two checks running at once one wins; the
next rung's notification is a new row, unique per (event, recipient), which climbs in its turn.
An acknowledgement of any notification of the alert on the ladder stops the climb.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from prometheus_client import Counter
from sqlalchemy import exists, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_notify.domain import Urgency, rungs_above
from linli_notify.models import Notification
from linli_notify.settings import NotifySettings
from linli_notify.usecases.contacts import ladder_recipients
from linli_notify.usecases.notifications import Message, create_notification
from linli_shared.contracts.notify import NotificationEscalated
from linli_shared.unit_of_work import UnitOfWork, Work

log = logging.getLogger(__name__)

ESCALATED = Counter("linli_notify_escalations_total", "Unacknowledged urgent alerts sent up the ladder.")

_sibling = aliased(Notification)
ACKNOWLEDGED_ON_THE_LADDER = exists().where(
    col(_sibling.source_event_id) == col(Notification.source_event_id),
    col(_sibling.rung).is_not(None),
    col(_sibling.acknowledged_at).is_not(None),
)


async def escalate_unacknowledged(
    session_factory: async_sessionmaker[AsyncSession], *, settings: NotifySettings, now: datetime
) -> int:
    """Send each alert left unacknowledged on its rung past the community's time to the next rung,
    once; return how many climbed."""
    escalated = 0
    for notification_id in await overdue_alerts(session_factory, settings=settings, now=now):
        try:
            escalated += await escalate_one(session_factory, notification_id, settings=settings, now=now)
        except IntegrityError:  # a replica made the same escalation at the same moment: its transaction won
            log.info("notification %s was escalated elsewhere", notification_id)
    ESCALATED.inc(escalated)
    return escalated


async def overdue_alerts(
    session_factory: async_sessionmaker[AsyncSession], *, settings: NotifySettings, now: datetime
) -> list[int]:
    """Urgent alerts on a ladder, unanswered and not yet climbed, older than their community's time."""
    shortest = min([settings.escalate_after_seconds, *settings.escalate_after_by_community.values()])
    cutoff = now - timedelta(seconds=shortest)
    async with session_factory() as session:
        overdue = select(Notification.id, Notification.community, Notification.created_at).where(
            Notification.urgency == Urgency.URGENT.value,
            col(Notification.rung).is_not(None),
            col(Notification.acknowledged_at).is_(None),
            col(Notification.escalated_at).is_(None),
            col(Notification.created_at) <= cutoff,
            ~ACKNOWLEDGED_ON_THE_LADDER,
        )
        return [
            notification_id
            for notification_id, community, created_at in (await session.exec(overdue)).all()
            if notification_id is not None  # a primary key: never None, but typed as the model's field
            and created_at <= now - timedelta(seconds=settings.escalate_after(community))  # per community
        ]


async def escalate_one(
    session_factory: async_sessionmaker[AsyncSession],
    notification_id: int,
    *,
    settings: NotifySettings,
    now: datetime,
) -> int:
    """Climb one rung from this notification, or none if another check took it or it was answered."""
    async with UnitOfWork(session_factory, clock=lambda: now) as uow:
        taken = await uow.session.exec(
            update(Notification)
            .where(
                col(Notification.id) == notification_id,
                col(Notification.escalated_at).is_(None),
                col(Notification.acknowledged_at).is_(None),
                ~ACKNOWLEDGED_ON_THE_LADDER,
            )
            .values(escalated_at=now)
        )
        if not taken.rowcount:
            return 0
        alert = await uow.session.get(Notification, notification_id)
        assert alert is not None
        climbed = await climb(uow, alert, settings)
        if not climbed:
            log.warning("notification %s is at the top of its ladder: nobody left to escalate to", alert.id)
        await uow.commit()  # the climb, or the alert marked as at the top
        return 1 if climbed else 0


async def climb(uow: Work, alert: Notification, settings: NotifySettings) -> bool:
    """Notify the nearest rung above the alert's who has not had it, with an event; False if none."""
    assert alert.id is not None
    reachable = await ladder_recipients(uow.session, settings, alert.district, alert.community, alert.data)
    for rung, recipient in rungs_above(settings.ladder(alert.community), alert.rung, reachable):
        message = Message(
            district=alert.district,
            community=alert.community,
            source_event_id=alert.source_event_id,
            event_type=alert.event_type,
            recipient=recipient,
            template=alert.template,
            urgency=Urgency.URGENT,
            rung=rung,
            data={
                **alert.data,
                "escalated": True,
                "unacknowledged_by": alert.data.get("recipient_name", alert.recipient),
            },
            escalation_of=alert.id,
        )
        escalation = await create_notification(uow, message, settings)
        if escalation is None:
            continue  # this person had the alert already (e.g. on a lower rung)
        assert escalation.id is not None
        uow.record(
            NotificationEscalated(
                notification_id=alert.id,
                escalation_id=escalation.id,
                source_event_id=alert.source_event_id,
                from_recipient=alert.recipient,
                to_recipient=recipient,
                rung=rung,
            ),
            district=alert.district,
            community=alert.community,
        )
        return True
    return False
