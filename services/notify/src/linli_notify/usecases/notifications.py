"""Events in, notifications out: the rules table applied inside a unit of work, one message per
recipient, rendered once, with one delivery per channel that can reach them."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from prometheus_client import Counter
from sqlmodel import select

from linli_notify.acklink import ack_line, ack_token
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
    role_recipient,
    rungs_above,
)
from linli_notify.models import Contact, Delivery, KnownWish, Notification
from linli_notify.rendering import render
from linli_notify.rules import Rule, rules_for
from linli_notify.settings import NotifySettings
from linli_notify.usecases.contacts import announcement_subscribers, contact_for, ladder_recipients
from linli_shared.events import Envelope, Event
from linli_shared.unit_of_work import Work
from linli_shared.words import short_code

log = logging.getLogger(__name__)

UNREACHABLE = Counter(
    "linli_notify_deliveries_unreachable_total",
    "Messages recorded as unreachable: none of the recipient's channels can reach them.",
    ["channel"],
)


@dataclass(frozen=True)
class Message:
    """What one notification says and to whom, before it is rendered for its recipient."""

    district: str
    community: str | None
    source_event_id: str
    event_type: str
    recipient: str
    template: str
    urgency: Urgency
    rung: str | None
    data: dict[str, object]
    escalation_of: int | None = None


async def notify_by_rules(uow: Work, event: Event, envelope: Envelope, settings: NotifySettings) -> None:
    """Notify whom the rules table names for this event's contract (nobody, for most events)."""
    payload = event.model_dump(mode="json")
    for rule in rules_for(type(event)):
        await notify_by_rule(uow, envelope, payload, rule, settings)


async def template_data(
    uow: Work, envelope: Envelope, payload: dict[str, object], settings: NotifySettings
) -> dict[str, object]:
    district, community = envelope.district, envelope.community
    data: dict[str, object] = {"escalated": False, **payload}
    if sha256 := payload.get("sha256"):  # a 公示's hash: its short code and where to check it
        data.setdefault("short_code", short_code(str(sha256)))
        data.setdefault("verification_url", settings.verification_url(district, community, str(sha256)))
    if resident_id := payload.get("resident_id"):
        resident = await uow.session.get(Contact, (district, resident_recipient(str(resident_id))))
        data.setdefault("resident_name", resident.display_name if resident else str(resident_id))
    if wish_id := payload.get("wish_id"):
        wish = await uow.session.get(KnownWish, str(wish_id))
        if wish is not None:
            data.setdefault("wish_title", wish.title)
    return data


async def notify_by_rule(
    uow: Work, envelope: Envelope, payload: dict[str, object], rule: Rule, settings: NotifySettings
) -> None:
    district, community = envelope.district, envelope.community
    data = await template_data(uow, envelope, payload, settings)
    targets: list[tuple[str | None, str]]
    if rule.recipients is None:  # the lowest rung of the community's ladder on which someone is reached
        reachable = await ladder_recipients(uow.session, settings, district, community, data)
        lowest = rungs_above(settings.ladder(community), None, reachable)[:1]
        targets = [(rung, recipient) for rung, recipient in lowest]
        if rule.at_once:  # these rungs all at once; a community worker's desk if the alert names nobody
            targets = [(rung, reachable[rung]) for rung in rule.at_once if rung in reachable] or [
                ("community_worker", role_recipient("community_worker", community))
            ]
        if not targets:
            log.warning("event %s: nobody on the ladder of %s can be reached", envelope.event_id, community)
    else:
        targets = [(None, recipient) for recipient in rule.recipients(payload, community)]
    if rule.subscribed:
        targets += [(None, r) for r in await announcement_subscribers(uow.session, district, community)]
    for rung, recipient in targets:
        if rule.known_only and await uow.session.get(Contact, (district, recipient)) is None:
            continue  # e.g. a resident with no guardian on record
        message = Message(
            district=district,
            community=community,
            source_event_id=envelope.event_id,
            event_type=envelope.event_type,
            recipient=recipient,
            template=rule.template,
            urgency=rule.urgency,
            rung=rung,
            data=data,
        )
        await create_notification(uow, message, settings)


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


async def create_notification(uow: Work, message: Message, settings: NotifySettings) -> Notification | None:
    """Render the message and stage one delivery per channel; None if this recipient had it already."""
    session, now = uow.session, uow.now
    already = await session.exec(
        select(Notification).where(
            Notification.source_event_id == message.source_event_id,
            Notification.recipient == message.recipient,
        )
    )
    if already.first() is not None:
        return None
    contact = await contact_for(
        session, message.district, message.community, message.recipient, now, settings
    )
    notification = await store_rendered(uow, message, contact, settings)
    stage_deliveries(uow, notification, contact, settings)
    await session.flush()  # the unique key speaks here, inside the unit of work
    return notification


async def store_rendered(
    uow: Work, message: Message, contact: Contact, settings: NotifySettings
) -> Notification:
    """The notification in the contact's language and zone; an urgent one ends with its signed link."""
    data = {**message.data, "recipient_name": contact.display_name}
    rendered = render(message.template, contact.language, data, timezone=contact.timezone)
    notification = Notification(
        district=message.district,
        community=message.community,
        source_event_id=message.source_event_id,
        event_type=message.event_type,
        recipient=message.recipient,
        template=message.template,
        template_version=rendered.version,
        language=contact.language,
        urgency=message.urgency.value,
        rung=message.rung,
        title=rendered.title,
        body=rendered.body,
        data=data,
        created_at=uow.now,
        escalation_of=message.escalation_of,
    )
    uow.session.add(notification)
    await uow.session.flush()
    assert notification.id is not None  # flushed: the database gave it its id
    if message.urgency is Urgency.URGENT:  # acknowledged in the app, or by the signed link in the message
        token = ack_token(settings.ack_key(), notification.id, message.recipient)
        notification.body = f"{notification.body}\n{ack_line(settings.public_url, token, contact.language)}"
        uow.session.add(notification)
    return notification


def stage_deliveries(
    uow: Work, notification: Notification, contact: Contact, settings: NotifySettings
) -> None:
    """One pending delivery per channel that reaches the contact, due after their quiet hours unless
    urgent; or one `unreachable` row (in the log and the metrics, never counted as sent)."""
    now, urgent = uow.now, notification.urgency == Urgency.URGENT.value
    due = release_time(
        now,
        start=parse_clock(contact.quiet_start),
        end=parse_clock(contact.quiet_end),
        timezone=contact.timezone,
        urgent=urgent,
    )
    reach = reach_of(contact, settings, urgent)

    def delivery(channel: str, status: DeliveryStatus, next_attempt_at: datetime) -> Delivery:
        assert notification.id is not None  # stored before its deliveries
        return Delivery(
            district=notification.district,
            community=notification.community,
            notification_id=notification.id,
            source_event_id=notification.source_event_id,
            recipient=notification.recipient,
            channel=channel,
            urgent=urgent,
            status=status.value,
            next_attempt_at=next_attempt_at,
            created_at=now,
        )

    for channel in reach.channels:
        uow.session.add(delivery(channel, DeliveryStatus.PENDING, due))
    if reach.unreachable is not None:
        unreachable = delivery(reach.unreachable, DeliveryStatus.UNREACHABLE, now)
        unreachable.last_error = reach.reason
        uow.session.add(unreachable)
        UNREACHABLE.labels(reach.unreachable).inc()
        log.warning("notification %s: %s %s", notification.id, notification.recipient, reach.reason)
