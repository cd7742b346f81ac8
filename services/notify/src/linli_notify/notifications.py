"""Events in, notifications out: the contacts read model and the rules applied inside the inbox."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_notify.acklink import ack_line, ack_token
from linli_notify.domain import (
    APPRISE,
    FILE,
    INBOX,
    DeliveryStatus,
    Urgency,
    donor_recipient,
    parse_clock,
    release_time,
    resident_recipient,
    volunteer_recipient,
)
from linli_notify.models import CareGroup, Contact, Delivery, KnownWish, Notification
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


GONE = {
    "registry.resident.died": "the resident died",
    "registry.resident.moved_out": "the resident moved out",
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


async def update_contacts(
    session: AsyncSession,
    envelope: Envelope,
    payload: dict[str, object],
    settings: NotifySettings,
    now: datetime,
) -> None:
    district, community = envelope.district, envelope.community
    if envelope.event_type == "registry.resident.registered":
        contact = await contact_for(
            session,
            district,
            str(payload["community"]),
            resident_recipient(str(payload["resident_id"])),
            now,
            settings,
        )
        contact.display_name = str(payload["full_name"])[:100]
        session.add(contact)
    elif envelope.event_type == "registry.care.group.formed":
        group = await session.get(CareGroup, str(payload["care_group_id"])) or CareGroup(
            care_group_id=str(payload["care_group_id"]),
            district=district,
            community=community,
            resident_id=str(payload["resident_id"]),
            community_worker=str(payload["community_worker"]),
            grid_worker=str(payload["grid_worker"]),
            neighbour_name=str(payload["neighbour_name"]),
        )
        session.add(group)
        for subject in (group.grid_worker, group.community_worker):
            await contact_for(session, district, community, subject, now, settings)
    elif envelope.event_type in GONE:
        await cancel_pending(
            session, district, resident_recipient(str(payload["resident_id"])), GONE[envelope.event_type]
        )
    elif envelope.event_type == "points.volunteer.enrolled":
        contact = await contact_for(
            session, district, community, volunteer_recipient(str(payload["volunteer_id"])), now, settings
        )
        if payload.get("subject"):  # the volunteer reads volunteer:<id> messages with their own token
            contact.token_subject = str(payload["subject"])[:100]
            session.add(contact)
        if payload.get("resident_id"):
            resident = await session.get(Contact, (district, resident_recipient(str(payload["resident_id"]))))
            if resident is not None:
                contact.display_name = resident.display_name
    elif envelope.event_type == "points.wish.posted":
        if await session.get(KnownWish, str(payload["wish_id"])) is None:
            session.add(
                KnownWish(
                    wish_id=str(payload["wish_id"]),
                    district=district,
                    community=community,
                    resident_id=str(payload["resident_id"]),
                    title=str(payload["title"])[:200],
                )
            )
    elif envelope.event_type == "fund.donation.received":
        donor = await contact_for(
            session, district, community, donor_recipient(str(payload["donation_id"])), now, settings
        )
        donor.display_name = str(payload["donor_display"])[:100]
        session.add(donor)


async def cancel_pending(session: AsyncSession, district: str, recipient: str, reason: str) -> None:
    """Messages still held (quiet hours, retries) for someone who is gone are not sent."""
    pending = await session.exec(
        select(Delivery).where(
            Delivery.district == district,
            Delivery.recipient == recipient,
            Delivery.status == DeliveryStatus.PENDING.value,
        )
    )
    for delivery in pending.all():
        delivery.status = DeliveryStatus.CANCELLED.value
        delivery.last_error = f"cancelled: {reason}"
        session.add(delivery)


async def contact_for(
    session: AsyncSession,
    district: str,
    community: str | None,
    recipient: str,
    now: datetime,
    settings: NotifySettings,
) -> Contact:
    """The recipient's contact, made with the defaults (zh, inbox + outside, the deployment's quiet
    hours, 22:00–07:00 unless configured) if new."""
    contact = await session.get(Contact, (district, recipient))
    if contact is None:
        contact = Contact(
            district=district,
            recipient=recipient,
            community=community,
            display_name=recipient.split(":", 1)[-1][:100],
            quiet_start=settings.quiet_start,
            quiet_end=settings.quiet_end,
            updated_at=now,
        )
        session.add(contact)
        await session.flush()
    return contact


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
    data = await template_data(session, envelope.district, payload)
    for recipient in rule.recipients(payload, envelope.community):
        await create_notification(
            session,
            district=envelope.district,
            community=envelope.community,
            source_event_id=envelope.event_id,
            event_type=envelope.event_type,
            recipient=recipient,
            template=rule.template,
            urgency=rule.urgency,
            rung=rule.rung,
            data=data,
            settings=settings,
            now=now,
        )


def channels_for(contact: Contact, settings: NotifySettings, urgent: bool) -> list[str]:
    """The contact's chosen channels that exist here; urgent ones always reach the in-app inbox too;
    with an outbox file configured, every message is also written there."""
    available = {INBOX} | ({APPRISE} if settings.apprise_urls(contact.community) else set())
    chosen = set(contact.channels) | ({INBOX} if urgent else set())
    mirror = [FILE] if settings.outbox_file is not None else []  # the operator's, not the recipient's
    return sorted(chosen & available or {INBOX}) + mirror


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
    rendered = render(template, contact.language, data)
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
    assert notification.id is not None
    if urgent:  # acknowledged in the app, or by the signed link in the message itself
        token = ack_token(settings.jwt_secret.get_secret_value(), notification.id, recipient)
        notification.body = f"{notification.body}\n{ack_line(settings.public_url, token, contact.language)}"
        session.add(notification)
    due = release_time(
        now,
        start=parse_clock(contact.quiet_start),
        end=parse_clock(contact.quiet_end),
        timezone=contact.timezone,
        urgent=urgent,
    )
    for channel in channels_for(contact, settings, urgent):
        session.add(
            Delivery(
                district=district,
                community=community,
                notification_id=notification.id,
                source_event_id=source_event_id,
                recipient=recipient,
                channel=channel,
                urgent=urgent,
                status=DeliveryStatus.PENDING.value,
                next_attempt_at=due,
                created_at=now,
            )
        )
    await session.flush()  # the unique key speaks here, inside the inbox's transaction
    return notification
