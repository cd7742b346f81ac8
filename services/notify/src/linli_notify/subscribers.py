"""What notify does on others' events: learn contacts, then notify whom the rules table names.

Each handler runs inside the inbox's unit of work and never commits. The deployment's settings (channels,
ladders, quiet hours) are bound when the app builds its subscriptions, with `applying(settings)`.
"""

from __future__ import annotations

from contextvars import ContextVar

from linli_notify.settings import NotifySettings
from linli_notify.usecases.contacts import (
    follow_volunteer,
    forget_resident,
    learn_resident,
    record_care_group,
    record_donor,
    record_resident_contact,
    record_volunteer,
    record_wish,
)
from linli_notify.usecases.notifications import notify_by_rules
from linli_notify.usecases.sign_in_codes import send_sign_in_code
from linli_notify.usecases.witness import witness_disclosure
from linli_shared.contracts.fund import (
    CommitmentInstalmentDue,
    DisclosurePublished,
    DisclosureQuestionAnswered,
    DisclosureQuestioned,
    DonationReceived,
    DonationsReceived,
)
from linli_shared.contracts.points import (
    PointsRedeemed,
    StockLow,
    VolunteerChanged,
    VolunteerEnrolled,
    WishClaimed,
    WishConfirmed,
    WishFulfilled,
    WishPosted,
)
from linli_shared.contracts.registry import (
    CareGroupChanged,
    CareGroupFormed,
    ResidentContactChanged,
    ResidentDied,
    ResidentMovedOut,
    ResidentRegistered,
    SignInCodeRequested,
    UrgentFindingReported,
    VisitOverdue,
)
from linli_shared.events import Envelope, Event
from linli_shared.inbox import ApplyEvent
from linli_shared.subscribers import EventHandlers
from linli_shared.unit_of_work import Work

handlers = EventHandlers()

_settings: ContextVar[NotifySettings] = ContextVar("linli_notify_settings")
"""EventHandlers calls a handler with (uow, event, envelope) only, so the settings travel beside the
call: one value per task, so two apps in one process (as in the tests) never see each other's."""


def applying(settings: NotifySettings) -> ApplyEvent:
    """The handlers, with this deployment's settings bound: what each subscription applies."""

    async def apply(uow: Work, envelope: Envelope) -> None:
        token = _settings.set(settings)
        try:
            await handlers(uow, envelope)
        finally:
            _settings.reset(token)

    return apply


def bound_settings() -> NotifySettings:
    """The settings `applying` bound for the event being applied."""
    return _settings.get()


@handlers.on(SignInCodeRequested)
async def on_sign_in_code_requested(uow: Work, event: SignInCodeRequested, envelope: Envelope) -> None:
    """Sent at once, kept nowhere: the code never enters a notification, a delivery or a log."""
    await send_sign_in_code(event, bound_settings())


@handlers.on(ResidentRegistered)
async def on_resident_registered(uow: Work, event: ResidentRegistered, envelope: Envelope) -> None:
    await learn_resident(uow, event, envelope, bound_settings())


@handlers.on(ResidentContactChanged)
async def on_resident_contact_changed(uow: Work, event: ResidentContactChanged, envelope: Envelope) -> None:
    await record_resident_contact(uow, event, envelope, bound_settings())


@handlers.on(CareGroupFormed)
async def on_care_group_formed(uow: Work, event: CareGroupFormed, envelope: Envelope) -> None:
    await record_care_group(uow, event, envelope, bound_settings())


@handlers.on(CareGroupChanged)
async def on_care_group_changed(uow: Work, event: CareGroupChanged, envelope: Envelope) -> None:
    await record_care_group(uow, event, envelope, bound_settings())


@handlers.on(ResidentDied)
async def on_resident_died(uow: Work, event: ResidentDied, envelope: Envelope) -> None:
    await forget_resident(uow, event.resident_id, envelope, "the resident died")


@handlers.on(ResidentMovedOut)
async def on_resident_moved_out(uow: Work, event: ResidentMovedOut, envelope: Envelope) -> None:
    await forget_resident(uow, event.resident_id, envelope, "the resident moved out")


@handlers.on(VolunteerEnrolled)
async def on_volunteer_enrolled(uow: Work, event: VolunteerEnrolled, envelope: Envelope) -> None:
    await record_volunteer(uow, event, envelope, bound_settings())


@handlers.on(VolunteerChanged)
async def on_volunteer_changed(uow: Work, event: VolunteerChanged, envelope: Envelope) -> None:
    await follow_volunteer(uow, event, envelope)


@handlers.on(WishPosted)
async def on_wish_posted(uow: Work, event: WishPosted, envelope: Envelope) -> None:
    await record_wish(uow, event, envelope)


@handlers.on(DonationReceived)
async def on_donation_received(uow: Work, event: DonationReceived, envelope: Envelope) -> None:
    await record_donor(uow, event, envelope, bound_settings())
    await notify_by_rules(uow, event, envelope, bound_settings())


@handlers.on(DonationsReceived)
async def on_donations_received(uow: Work, event: DonationsReceived, envelope: Envelope) -> None:
    """A batch's gifts, each thanked as a single gift is: in an envelope of its own whose id is the
    batch event's and the gift's place in it (so each thanks is made once, however often the
    batch event is delivered)."""
    for index, gift in enumerate(event.donations):
        alone = Envelope.wrap(
            gift,
            district=envelope.district,
            community=envelope.community,
            occurred_at=envelope.occurred_at,
            correlation_id=envelope.correlation_id,
            event_id=f"{envelope.event_id}.{index}",
        )
        await on_donation_received(uow, gift, alone)


@handlers.on(DisclosurePublished)
async def on_disclosure_published(uow: Work, event: DisclosurePublished, envelope: Envelope) -> None:
    """Witness the hash, then announce it; a hash for a period already witnessed is not announced."""
    if await witness_disclosure(uow, event, envelope):
        await notify_by_rules(uow, event, envelope, bound_settings())


@handlers.on(
    VisitOverdue,
    UrgentFindingReported,
    WishClaimed,
    WishFulfilled,
    WishConfirmed,
    StockLow,
    PointsRedeemed,
    CommitmentInstalmentDue,
    DisclosureQuestioned,
    DisclosureQuestionAnswered,
)
async def on_notable_event(uow: Work, event: Event, envelope: Envelope) -> None:
    """Events that only notify: whom, with which template, is the rules table's answer."""
    await notify_by_rules(uow, event, envelope, bound_settings())
