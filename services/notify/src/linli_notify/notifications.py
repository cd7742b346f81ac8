"""Events in, notifications out: the contacts read model and the rules applied inside the inbox."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from prometheus_client import Counter
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_notify.acklink import ack_line, ack_token
from linli_notify.contacts import contact_for, ladder_recipients, update_contacts
from linli_notify.domain import (
    APPRISE,
    FILE,
    INBOX,
    SMS,
    DeliveryStatus,
    Urgency,
    parse_clock,
    reads_the_inbox,
    release_time,
    resident_recipient,
    rungs_above,
)
from linli_notify.models import Contact, Delivery, KnownWish, Notification
from linli_notify.rendering import render
from linli_notify.rules import Rule, rules_for
from linli_notify.settings import NotifySettings
from linli_shared.clock import utc_now
from linli_shared.contracts import fund as fund_contracts  # noqa: F401 - registers them
from linli_shared.contracts import points as points_contracts  # noqa: F401 - registers them
from linli_shared.contracts import registry as registry_contracts  # noqa: F401 - registers them
from linli_shared.events import Envelope, Event, events_of
from linli_shared.inbox import ApplyEvent
from linli_shared.jetstream import DurableConsumer, stream_name

log = logging.getLogger(__name__)

UNREACHABLE = Counter(
    "linli_notify_deliveries_unreachable_total",
    "Messages recorded as unreachable: none of the recipient's channels can reach them.",
    ["channel"],
)

REGISTRY_CONSUMER = DurableConsumer(
    stream=stream_name("registry"), durable="notify-registry", filter_subject="linli.*.registry.>"
)
POINTS_CONSUMER = DurableConsumer(
    stream=stream_name("points"), durable="notify-points", filter_subject="linli.*.points.>"
)
FUND_CONSUMER = DurableConsumer(
    stream=stream_name("fund"), durable="notify-fund", filter_subject="linli.*.fund.>"
)
CONSUMERS = {"registry": REGISTRY_CONSUMER, "points": POINTS_CONSUMER, "fund": FUND_CONSUMER}

CONTRACTS: dict[str, type[Event]] = {
    f"{event.service}.{event.name}": event
    for event in [*events_of("registry"), *events_of("points"), *events_of("fund")]
}


def event_applier(settings: NotifySettings) -> ApplyEvent:
    """The inbox's apply function: the clock is read here, everything below takes `now`."""

    async def apply(session: AsyncSession, envelope: Envelope) -> None:
        await on_event(session, envelope, settings=settings, now=utc_now())

    return apply


async def on_event(
    session: AsyncSession, envelope: Envelope, *, settings: NotifySettings, now: datetime
) -> None:
    """Apply one event (inside the inbox's transaction): update contacts, then notify by the rules."""
    contract = CONTRACTS.get(envelope.event_type)
    if contract is None:
        return  # not an event this service knows; nothing to say about it
    payload = envelope.open(contract).model_dump(mode="json")  # a bad payload raises: dead letter
    await update_contacts(session, envelope, payload, settings, now)
    for rule in rules_for(envelope.event_type):
        await notify_by_rule(session, envelope, payload, rule, settings=settings, now=now)


async def template_data(
    session: AsyncSession, district: str, payload: dict[str, object]
) -> dict[str, object]:
    data: dict[str, object] = {"escalated": False, **payload}
    if resident_id := payload.get("resident_id"):
        resident = await session.get(Contact, (district, resident_recipient(str(resident_id))))
        data.setdefault("resident_name", resident.display_name if resident else str(resident_id))
    if wish_id := payload.get("wish_id"):
        wish = await session.get(KnownWish, str(wish_id))
        if wish is not None:
            data.setdefault("wish_title", wish.title)
    return data


async def notify_by_rule(
    session: AsyncSession,
    envelope: Envelope,
    payload: dict[str, object],
    rule: Rule,
    *,
    settings: NotifySettings,
    now: datetime,
) -> None:
    district, community = envelope.district, envelope.community
    data = await template_data(session, district, payload)
    targets: list[tuple[str | None, str]]
    if rule.recipients is None:  # the lowest rung of the community's ladder on which someone is reached
        reachable = await ladder_recipients(session, settings, district, community, data)
        lowest = rungs_above(settings.ladder(community), None, reachable)[:1]
        targets = [(rung, recipient) for rung, recipient in lowest]
        if not targets:
            log.warning("event %s: nobody on the ladder of %s can be reached", envelope.event_id, community)
    else:
        targets = [(None, recipient) for recipient in rule.recipients(payload, community)]
    for rung, recipient in targets:
        if rule.known_only and await session.get(Contact, (district, recipient)) is None:
            continue  # e.g. a resident with no guardian on record
        await create_notification(
            session,
            district=district,
            community=community,
            source_event_id=envelope.event_id,
            event_type=envelope.event_type,
            recipient=recipient,
            template=rule.template,
            urgency=rule.urgency,
            rung=rung,
            data=data,
            settings=settings,
            now=now,
        )


@dataclass(frozen=True)
class Reach:
    """How a message reaches its recipient: the channels to send on, or, if none can reach them, the
    channel they would want and why it cannot (recorded as an `unreachable` delivery, never as sent)."""

    channels: list[str]
    unreachable: str | None = None
    reason: str = ""


def reach_of(contact: Contact, settings: NotifySettings, urgent: bool) -> Reach:
    """The contact's chosen channels that exist here (SMS: a phone on record and the community's
    gateway); urgent ones always reach the in-app inbox too. Someone with a login falls back to the
    in-app inbox; someone without one (donor, guardian, neighbour) never gets an in-app delivery, and
    is unreachable if no other channel works. With an outbox file configured, every message is also
    written there (the operator's channel, not the recipient's)."""
    available = {INBOX} | ({APPRISE} if settings.apprise_urls(contact.community) else set())
    if contact.phone and settings.sms_url(contact.community):
        available.add(SMS)
    chosen = set(contact.channels) | ({INBOX} if urgent else set())
    mirror = [FILE] if settings.outbox_file is not None else []
    usable = chosen & available
    if reads_the_inbox(contact.recipient):
        return Reach(sorted(usable or {INBOX}) + mirror)
    if usable - {INBOX}:
        return Reach(sorted(usable - {INBOX}) + mirror)
    wanted = sorted(set(contact.channels) - {INBOX}) or [INBOX]
    return Reach(mirror, unreachable=wanted[0], reason=why_unreachable(contact, settings, wanted[0]))


def why_unreachable(contact: Contact, settings: NotifySettings, channel: str) -> str:
    if channel == SMS and not contact.phone:
        return "unreachable: no phone on record, and no login to read the in-app inbox"
    if channel == SMS:
        return "unreachable: no SMS gateway in this community, and no login to read the in-app inbox"
    if channel == APPRISE:
        return "unreachable: no outside channel in this community, and no login to read the in-app inbox"
    return "unreachable: no login to read the in-app inbox, and no other channel chosen"


async def create_notification(
    session: AsyncSession,
    *,
    district: str,
    community: str | None,
    source_event_id: str,
    event_type: str,
    recipient: str,
    template: str,
    urgency: Urgency,
    rung: str | None,
    data: dict[str, object],
    settings: NotifySettings,
    now: datetime,
    escalation_of: int | None = None,
) -> Notification | None:
    """Render the message and stage one delivery per channel; None if this recipient had it already."""
    already = await session.exec(
        select(Notification).where(
            Notification.source_event_id == source_event_id, Notification.recipient == recipient
        )
    )
    if already.first() is not None:
        return None
    contact = await contact_for(session, district, community, recipient, now, settings)
    data = {**data, "recipient_name": contact.display_name}
    rendered = render(template, contact.language, data, timezone=contact.timezone)
    urgent = urgency is Urgency.URGENT
    notification = Notification(
        district=district,
        community=community,
        source_event_id=source_event_id,
        event_type=event_type,
        recipient=recipient,
        template=template,
        template_version=rendered.version,
        language=contact.language,
        urgency=urgency.value,
        rung=rung,
        title=rendered.title,
        body=rendered.body,
        data=data,
        created_at=now,
        escalation_of=escalation_of,
    )
    session.add(notification)
    await session.flush()
    notification_id = notification.id
    assert notification_id is not None
    if urgent:  # acknowledged in the app, or by the signed link in the message itself
        token = ack_token(settings.jwt_secret.get_secret_value(), notification_id, recipient)
        notification.body = f"{notification.body}\n{ack_line(settings.public_url, token, contact.language)}"
        session.add(notification)
    due = release_time(
        now,
        start=parse_clock(contact.quiet_start),
        end=parse_clock(contact.quiet_end),
        timezone=contact.timezone,
        urgent=urgent,
    )
    reach = reach_of(contact, settings, urgent)

    def delivery(channel: str, status: DeliveryStatus, next_attempt_at: datetime) -> Delivery:
        return Delivery(
            district=district,
            community=community,
            notification_id=notification_id,
            source_event_id=source_event_id,
            recipient=recipient,
            channel=channel,
            urgent=urgent,
            status=status.value,
            next_attempt_at=next_attempt_at,
            created_at=now,
        )

    for channel in reach.channels:
        session.add(delivery(channel, DeliveryStatus.PENDING, due))
    if reach.unreachable is not None:  # in the delivery log and the metrics, never counted as sent
        unreachable = delivery(reach.unreachable, DeliveryStatus.UNREACHABLE, now)
        unreachable.last_error = reach.reason
        session.add(unreachable)
        UNREACHABLE.labels(reach.unreachable).inc()
        log.warning("notification %s: %s %s", notification.id, recipient, reach.reason)
    await session.flush()  # the unique key speaks here, inside the inbox's transaction
    return notification
