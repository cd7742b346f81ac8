"""The contacts read model: who can be reached, by which address, learnt from registry, points and fund
events inside the inbox's unit of work; and who stands on each rung of an alert's ladder."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select
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
from linli_shared.contracts.fund import DonationReceived
from linli_shared.contracts.points import VolunteerChanged, VolunteerEnrolled, WishPosted
from linli_shared.contracts.registry import CareGroupFacts, ResidentContactChanged, ResidentRegistered
from linli_shared.events import Envelope
from linli_shared.unit_of_work import Work

ANONYMOUS = "匿名"


async def learn_resident(
    uow: Work, event: ResidentRegistered, envelope: Envelope, settings: NotifySettings
) -> None:
    """A registered resident becomes a contact under their name."""
    recipient = resident_recipient(event.resident_id)
    contact = await contact_for(uow.session, envelope.district, event.community, recipient, uow.now, settings)
    contact.display_name = event.full_name[:100]
    uow.session.add(contact)


async def record_resident_contact(
    uow: Work, event: ResidentContactChanged, envelope: Envelope, settings: NotifySettings
) -> None:
    """The event states the whole contact: a missing phone or guardian is removed, not kept.

    Events may arrive out of order (a retried delivery comes after a later one): a statement older
    than the one already applied changes nothing.
    """
    session, now = uow.session, uow.now
    district, stated_at, community = envelope.district, envelope.occurred_at, event.community
    resident = await contact_for(
        session, district, community, resident_recipient(event.resident_id), now, settings
    )
    if resident.contact_as_of is not None and resident.contact_as_of > stated_at:
        return
    resident.contact_as_of = stated_at
    resident.display_name = event.full_name[:100]
    resident.phone = phone_of(event.phone)
    resident.updated_at = now
    session.add(resident)
    recipient = guardian_recipient(event.resident_id)
    name, phone = event.guardian_name, phone_of(event.guardian_phone)
    if name or phone:
        guardian = await contact_for(session, district, community, recipient, now, settings, channels=[SMS])
        guardian.display_name = (name or f"{event.full_name}的家属")[:100]
        guardian.phone = phone
        guardian.updated_at = now
        session.add(guardian)
    elif (former := await session.get(Contact, (district, recipient))) is not None:
        await cancel_pending(session, district, recipient, "the guardian is no longer on record")
        await session.delete(former)


async def record_care_group(
    uow: Work, event: CareGroupFacts, envelope: Envelope, settings: NotifySettings
) -> None:
    """The group (who to escalate to) and its neighbour, who has no login: a contact reached by phone.
    As formed, and again as it stands after each change."""
    session, now = uow.session, uow.now
    district, community = envelope.district, envelope.community
    group = await session.get(CareGroup, event.care_group_id) or CareGroup(
        care_group_id=event.care_group_id,
        district=district,
        community=community,
        resident_id=event.resident_id,
        community_worker=event.community_worker,
        grid_worker=event.grid_worker,
        neighbour_name=event.neighbour_name,
    )
    group.community_worker, group.grid_worker = event.community_worker, event.grid_worker
    group.neighbour_name = event.neighbour_name
    session.add(group)
    for subject in (group.grid_worker, group.community_worker):
        await contact_for(session, district, community, subject, now, settings)
    neighbour = await contact_for(
        session, district, community, neighbour_recipient(event.care_group_id), now, settings, channels=[SMS]
    )
    neighbour.display_name = event.neighbour_name[:100]
    neighbour.phone = phone_of(event.neighbour_phone)
    neighbour.updated_at = now
    session.add(neighbour)


async def forget_resident(uow: Work, resident_id: str, envelope: Envelope, reason: str) -> None:
    """Messages still held for a resident who is gone, or for their guardian, are not sent."""
    for recipient in (resident_recipient(resident_id), guardian_recipient(resident_id)):
        await cancel_pending(uow.session, envelope.district, recipient, reason)


async def record_volunteer(
    uow: Work, event: VolunteerEnrolled, envelope: Envelope, settings: NotifySettings
) -> None:
    """A volunteer's address, read with their own token, under their name as a resident if they are one."""
    session, district = uow.session, envelope.district
    contact = await contact_for(
        session, district, envelope.community, volunteer_recipient(event.volunteer_id), uow.now, settings
    )
    if event.subject:  # the volunteer reads volunteer:<id> messages with their own token
        contact.token_subject = event.subject[:100]
        session.add(contact)
    if event.resident_id:
        resident = await session.get(Contact, (district, resident_recipient(event.resident_id)))
        if resident is not None:
            contact.display_name = resident.display_name


async def follow_volunteer(uow: Work, event: VolunteerChanged, envelope: Envelope) -> None:
    """A corrected volunteer is addressed by their name as it now stands; nothing still held is sent
    to one who left."""
    recipient = volunteer_recipient(event.volunteer_id)
    contact = await uow.session.get(Contact, (envelope.district, recipient))
    if contact is not None and "full_name" in event.changed:
        contact.display_name = event.full_name[:100]
        uow.session.add(contact)
    if not event.active:
        await cancel_pending(uow.session, envelope.district, recipient, "the volunteer left")


async def record_wish(uow: Work, event: WishPosted, envelope: Envelope) -> None:
    """A wish's title, which later wish events do not repeat."""
    if await uow.session.get(KnownWish, event.wish_id) is None:
        uow.session.add(
            KnownWish(
                wish_id=event.wish_id,
                district=envelope.district,
                community=envelope.community,
                resident_id=event.resident_id,
                title=event.title[:200],
            )
        )


async def record_donor(
    uow: Work, event: DonationReceived, envelope: Envelope, settings: NotifySettings
) -> None:
    """A registered resident is thanked as resident:<id>; anyone else by the donation (donor:<id>),
    by SMS if they gave a phone for it (a resident's own phone comes from the registry)."""
    session, now = uow.session, uow.now
    district, community = envelope.district, envelope.community
    display = event.donor_display[:100]
    if resident_id := event.donor_resident_id:
        resident = await contact_for(
            session, district, community, resident_recipient(resident_id), now, settings
        )
        if resident.display_name == resident_id[:100] and display != ANONYMOUS:
            resident.display_name = display  # not registered here yet: the name the fund was given
            session.add(resident)
        return
    donor = await contact_for(session, district, community, donor_recipient(event.donation_id), now, settings)
    donor.display_name = display
    donor.phone = phone_of(event.donor_phone)
    donor.updated_at = now
    session.add(donor)


def phone_of(value: object) -> str | None:
    """A phone as the registry wrote it, trimmed; None (or blank) means none on record."""
    phone = str(value).strip() if value is not None else ""
    return phone[:30] or None


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


async def announcement_subscribers(session: AsyncSession, district: str, community: str | None) -> list[str]:
    """Everyone in the community who asked for its public announcements, one address per phone (a
    donor who gave twice is two donor:<donation> contacts, and hears it once)."""
    statement = (
        select(Contact)
        .where(Contact.district == district, Contact.community == community, col(Contact.announcements))
        .order_by(col(Contact.recipient))
    )
    chosen: list[str] = []
    phones: set[str] = set()
    for contact in (await session.exec(statement)).all():
        if contact.phone and contact.phone in phones:
            continue
        chosen.append(contact.recipient)
        phones |= {contact.phone} if contact.phone else set()
    return chosen
