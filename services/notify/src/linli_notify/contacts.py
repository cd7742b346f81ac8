"""The contacts read model: who can be reached, by which address, built from registry, points and fund
events inside the inbox's transaction; and who stands on each rung of an alert's ladder."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_notify.domain import (
    SMS,
    DeliveryStatus,
    default_channels,
    donor_recipient,
    guardian_recipient,
    neighbour_recipient,
    resident_recipient,
    volunteer_recipient,
)
from linli_notify.models import CareGroup, Contact, Delivery, KnownWish
from linli_notify.settings import NotifySettings
from linli_shared.events import Envelope

GONE = {
    "registry.resident.died": "the resident died",
    "registry.resident.moved_out": "the resident moved out",
}
ANONYMOUS = "匿名"


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
    elif envelope.event_type == "registry.resident.contact_changed":
        await record_resident_contact(session, envelope, payload, settings, now)
    elif envelope.event_type == "registry.care.group.formed":
        await record_care_group(session, envelope, payload, settings, now)
    elif envelope.event_type in GONE:
        resident_id = str(payload["resident_id"])
        for recipient in (resident_recipient(resident_id), guardian_recipient(resident_id)):
            await cancel_pending(session, district, recipient, GONE[envelope.event_type])
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
        await record_donor(session, envelope, payload, settings, now)


def phone_of(value: object) -> str | None:
    """A phone as the registry wrote it, trimmed; None (or blank) means none on record."""
    phone = str(value).strip() if value is not None else ""
    return phone[:30] or None


async def record_resident_contact(
    session: AsyncSession,
    envelope: Envelope,
    payload: dict[str, object],
    settings: NotifySettings,
    now: datetime,
) -> None:
    """The event states the whole contact: a missing phone or guardian is removed, not kept.

    Events may arrive out of order (a retried delivery comes after a later one): a statement older
    than the one already applied changes nothing.
    """
    district, stated_at = envelope.district, envelope.occurred_at
    resident_id, community = str(payload["resident_id"]), str(payload["community"])
    resident = await contact_for(session, district, community, resident_recipient(resident_id), now, settings)
    if resident.contact_as_of is not None and resident.contact_as_of > stated_at:
        return
    resident.contact_as_of = stated_at
    resident.display_name = str(payload["full_name"])[:100]
    resident.phone = phone_of(payload.get("phone"))
    resident.updated_at = now
    session.add(resident)
    recipient = guardian_recipient(resident_id)
    name, phone = payload.get("guardian_name"), phone_of(payload.get("guardian_phone"))
    if name or phone:
        guardian = await contact_for(session, district, community, recipient, now, settings, channels=[SMS])
        guardian.display_name = str(name or f"{payload['full_name']}的家属")[:100]
        guardian.phone = phone
        guardian.updated_at = now
        session.add(guardian)
    elif (former := await session.get(Contact, (district, recipient))) is not None:
        await cancel_pending(session, district, recipient, "the guardian is no longer on record")
        await session.delete(former)


async def record_care_group(
    session: AsyncSession,
    envelope: Envelope,
    payload: dict[str, object],
    settings: NotifySettings,
    now: datetime,
) -> None:
    """The group (who to escalate to) and its neighbour, who has no login: a contact reached by phone."""
    district, community = envelope.district, envelope.community
    care_group_id = str(payload["care_group_id"])
    group = await session.get(CareGroup, care_group_id) or CareGroup(
        care_group_id=care_group_id,
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
    neighbour = await contact_for(
        session, district, community, neighbour_recipient(care_group_id), now, settings, channels=[SMS]
    )
    neighbour.display_name = str(payload["neighbour_name"])[:100]
    neighbour.phone = phone_of(payload.get("neighbour_phone"))
    neighbour.updated_at = now
    session.add(neighbour)


async def record_donor(
    session: AsyncSession,
    envelope: Envelope,
    payload: dict[str, object],
    settings: NotifySettings,
    now: datetime,
) -> None:
    """A registered resident is thanked as resident:<id>; anyone else by the donation (donor:<id>),
    by SMS if they gave a phone for it (a resident's own phone comes from the registry)."""
    district, community = envelope.district, envelope.community
    display = str(payload["donor_display"])[:100]
    if resident_id := payload.get("donor_resident_id"):
        resident = await contact_for(
            session, district, community, resident_recipient(str(resident_id)), now, settings
        )
        if resident.display_name == str(resident_id)[:100] and display != ANONYMOUS:
            resident.display_name = display  # not registered here yet: the name the fund was given
            session.add(resident)
        return
    donor = await contact_for(
        session, district, community, donor_recipient(str(payload["donation_id"])), now, settings
    )
    donor.display_name = display
    donor.phone = phone_of(payload.get("donor_phone"))
    donor.updated_at = now
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
    *,
    channels: list[str] | None = None,
) -> Contact:
    """The recipient's contact, made with the defaults (see new_contact) or the given channels if new."""
    contact = await session.get(Contact, (district, recipient))
    if contact is None:
        contact = new_contact(district, community, recipient, now, settings)
        if channels is not None:
            contact.channels = channels
        session.add(contact)
        await session.flush()
    return contact


def new_contact(
    district: str, community: str | None, recipient: str, now: datetime, settings: NotifySettings
) -> Contact:
    """A contact with the defaults, not yet stored: Chinese, the deployment's quiet hours (22:00–07:00
    unless configured), and a person's own channels (in-app and SMS) or, for workers and role
    mailboxes, the community's outside channels too."""
    return Contact(
        district=district,
        recipient=recipient,
        community=community,
        display_name=recipient.split(":", 1)[-1][:100],
        channels=default_channels(recipient),
        quiet_start=settings.quiet_start,
        quiet_end=settings.quiet_end,
        updated_at=now,
    )


async def ladder_recipients(
    session: AsyncSession,
    settings: NotifySettings,
    district: str,
    community: str | None,
    alert: dict[str, object],
) -> dict[str, str]:
    """Rung → who can be reached on it for this alert. The workers are named by the alert itself; the
    care group's neighbour only counts with a phone on record and an SMS gateway in the community."""
    reachable = {rung: str(alert[rung]) for rung in ("grid_worker", "community_worker") if alert.get(rung)}
    if alert.get("care_group_id") and settings.sms_url(community):
        neighbour = await session.get(Contact, (district, neighbour_recipient(str(alert["care_group_id"]))))
        if neighbour is not None and neighbour.phone:
            reachable["neighbour"] = neighbour.recipient
    return reachable
