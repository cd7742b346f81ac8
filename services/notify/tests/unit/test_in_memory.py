"""Rules that need no query, on the in-memory unit of work: contacts learnt from events, read marks
replayed by their Idempotency-Key, refusals that change nothing, and the contract → handler map."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

import pytest

from linli_notify.models import CareGroup, Contact, KnownWish, Notification
from linli_notify.rules import RULES
from linli_notify.settings import NotifySettings
from linli_notify.subscribers import applying, handlers
from linli_notify.usecases.inbox import mark_read, record_acknowledgement
from linli_shared.auth import Caller, Role
from linli_shared.contracts.points import PointsEarned, VolunteerChanged, VolunteerEnrolled, WishPosted
from linli_shared.contracts.registry import (
    CareGroupChanged,
    CareGroupFormed,
    ResidentContactChanged,
    ResidentRegistered,
)
from linli_shared.errors import Conflict, NotFound
from linli_shared.events import Envelope, Event
from linli_shared.idempotency import IdempotentRequest
from linli_shared.inbox import PermanentEventError
from linli_shared.testing.fakes import FakeUnitOfWork
from linli_shared.testing.http import TEST_JWT_SECRET

Row = TypeVar("Row")
NOON = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)
DISTRICT, COMMUNITY = "d1", "c1"
GRID = Caller(subject="grid-li", role=Role.GRID_WORKER, district=DISTRICT, community=COMMUNITY)


@pytest.fixture
def settings() -> NotifySettings:
    return NotifySettings(jwt_secret=TEST_JWT_SECRET, background_jobs=False, quiet_start="21:00")


def wrap(event: Event, occurred_at: datetime = NOON) -> Envelope:
    return Envelope.wrap(event, district=DISTRICT, community=COMMUNITY, occurred_at=occurred_at)


async def apply(uow: FakeUnitOfWork, envelope: Envelope, settings: NotifySettings) -> None:
    """What the inbox does with a delivery: the handlers inside one unit of work, then commit."""
    async with uow:
        await applying(settings)(uow, envelope)
        await uow.commit()


def registered(resident_id: str = "r-1", full_name: str = "王秀英") -> ResidentRegistered:
    return ResidentRegistered(
        resident_id=resident_id,
        community=COMMUNITY,
        full_name=full_name,
        birth_date=date(1944, 3, 8),
        id_number_masked="110105********002X",
        tags=["living_alone"],
    )


def contact_changed(phone: str | None, guardian_phone: str | None = None) -> ResidentContactChanged:
    return ResidentContactChanged(
        resident_id="r-1",
        community=COMMUNITY,
        full_name="王秀英",
        phone=phone,
        guardian_name="王强" if guardian_phone else None,
        guardian_phone=guardian_phone,
    )


def stored(uow: FakeUnitOfWork, model: type[Row]) -> list[Row]:
    return [row for (kind, _), row in uow.rows.items() if kind is model]


def test_every_contract_the_rules_table_names_has_a_handler() -> None:
    assert {rule.contract for rule in RULES} <= set(handlers.contracts)
    assert handlers.producers() == {"registry", "points", "fund"}


async def test_a_registered_resident_becomes_a_contact_with_the_deployments_quiet_hours(settings) -> None:
    uow = FakeUnitOfWork()
    await apply(uow, wrap(registered(full_name="张桂兰")), settings)

    (contact,) = stored(uow, Contact)
    assert (contact.recipient, contact.display_name, contact.community) == (
        "resident:r-1",
        "张桂兰",
        COMMUNITY,
    )
    assert (contact.quiet_start, contact.channels) == ("21:00", ["inbox", "sms"])
    assert uow.commits == 1 and uow.published == [], "learning a contact tells nobody"


async def test_a_contact_statement_older_than_the_one_applied_changes_nothing(settings) -> None:
    uow = FakeUnitOfWork()
    await apply(uow, wrap(contact_changed("13800000002", guardian_phone="13900000000")), settings)
    await apply(uow, wrap(contact_changed("13800000001"), occurred_at=NOON - timedelta(hours=1)), settings)

    async with uow:
        found = await uow.session.get(Contact, (DISTRICT, "resident:r-1"))
        guardian = await uow.session.get(Contact, (DISTRICT, "guardian:r-1"))
    assert found is not None and found.phone == "13800000002"
    assert guardian is not None and (guardian.phone, guardian.channels) == ("13900000000", ["sms"])


async def test_a_care_group_and_a_wish_are_remembered_for_later_messages(settings) -> None:
    uow = FakeUnitOfWork()
    group = CareGroupFormed(
        care_group_id="cg-1",
        resident_id="r-1",
        community_worker="cw-zhang",
        grid_worker="grid-li",
        neighbour_name="张大妈",
        neighbour_phone=" 13800000003 ",
        visit_every_hours=24,
        call_every_days=1,
    )
    await apply(uow, wrap(group), settings)
    await apply(uow, wrap(WishPosted(wish_id="w-1", resident_id="r-1", title="一台轮椅")), settings)

    assert [g.grid_worker for g in stored(uow, CareGroup)] == ["grid-li"]
    assert [w.title for w in stored(uow, KnownWish)] == ["一台轮椅"]
    recipients = {c.recipient: c for c in stored(uow, Contact)}
    assert set(recipients) == {"grid-li", "cw-zhang", "neighbour:cg-1"}
    assert recipients["neighbour:cg-1"].phone == "13800000003", "trimmed as the registry wrote it"


async def test_a_changed_care_group_is_followed_its_new_neighbour_reached(settings) -> None:
    uow = FakeUnitOfWork()
    facts = {
        "care_group_id": "cg-1",
        "resident_id": "r-1",
        "community_worker": "cw-zhang",
        "grid_worker": "grid-li",
        "visit_every_hours": 24,
        "call_every_days": 1,
    }
    await apply(
        uow, wrap(CareGroupFormed(**facts, neighbour_name="张大妈", neighbour_phone="13800000003")), settings
    )
    moved = CareGroupChanged(
        **{**facts, "grid_worker": "grid-zhao"},
        neighbour_name="王阿姨",
        neighbour_phone="13900000004",
        version=2,
        changed=["grid_worker", "neighbour_name", "neighbour_phone"],
    )
    await apply(uow, wrap(moved), settings)

    [group] = stored(uow, CareGroup)
    assert (group.grid_worker, group.neighbour_name) == ("grid-zhao", "王阿姨")
    recipients = {c.recipient: c for c in stored(uow, Contact)}
    assert "grid-zhao" in recipients
    assert (recipients["neighbour:cg-1"].display_name, recipients["neighbour:cg-1"].phone) == (
        "王阿姨",
        "13900000004",
    )


async def test_a_corrected_volunteer_is_addressed_by_the_new_name(settings) -> None:
    uow = FakeUnitOfWork()
    enrolled = VolunteerEnrolled(volunteer_id="v-1", subject="v-sub", resident_id=None, party_member=False)
    await apply(uow, wrap(enrolled), settings)
    facts = {"volunteer_id": "v-1", "subject": "v-sub", "party_member": False, "skills": []}
    corrected = VolunteerChanged(**facts, full_name="李红亮", active=True, version=2, changed=["full_name"])

    await apply(uow, wrap(corrected), settings)

    [contact] = [c for c in stored(uow, Contact) if c.recipient == "volunteer:v-1"]
    assert (contact.display_name, contact.token_subject) == ("李红亮", "v-sub")


async def test_an_event_nobody_here_handles_is_ignored_and_a_broken_one_is_poison(settings) -> None:
    uow = FakeUnitOfWork()
    await apply(uow, wrap(PointsEarned(volunteer_id="v-1", points=5, balance=5, reason="x")), settings)
    assert uow.rows == {} and uow.commits == 1

    broken = wrap(registered()).model_copy(update={"payload": {"resident_id": "r-1"}})
    with pytest.raises(PermanentEventError, match="breaks its contract"):
        await apply(uow, broken, settings)
    assert uow.rows == {} and uow.commits == 1, "nothing of it was kept"


def alert(recipient: str = "grid-li", notification_id: int = 7) -> Notification:
    return Notification(
        id=notification_id,
        district=DISTRICT,
        community=COMMUNITY,
        source_event_id="e-1",
        event_type="registry.care.visit.overdue",
        recipient=recipient,
        template="visit_overdue",
        language="zh",
        urgency="urgent",
        rung="grid_worker",
        title="【紧急】",
        body="…",
        created_at=NOON,
    )


async def seeded(uow: FakeUnitOfWork, *rows: object) -> FakeUnitOfWork:
    """The rows, committed without the key the unit of work will carry for the test."""
    idempotency, uow.idempotency = uow.idempotency, None
    async with uow:
        for row in rows:
            uow.session.add(row)
        await uow.commit()
    uow.idempotency = idempotency
    return uow


def key(name: str, body: str = "") -> IdempotentRequest:
    return IdempotentRequest(key=name, scope="grid-li:POST:/v1/inbox/7/read", request_hash=body or "h")


async def test_a_read_mark_sent_again_with_its_key_is_replayed_keeping_the_first_time() -> None:
    hours = itertools.count()  # each unit of work opens an hour after the one before
    uow = await seeded(
        FakeUnitOfWork(idempotency=key("k-1"), clock=lambda: NOON + timedelta(hours=next(hours))), alert()
    )

    first = await mark_read(uow, GRID, 7)
    again = await mark_read(uow, GRID, 7)

    assert first.read_at == again.read_at == NOON + timedelta(hours=1)
    assert uow.commits == 2, "the seed and the first mark: the replay commits nothing"
    uow.idempotency = key("k-1", body="another body")
    with pytest.raises(Conflict):
        await mark_read(uow, GRID, 7)


async def test_someone_elses_message_cannot_be_marked_and_nothing_is_recorded() -> None:
    uow = await seeded(FakeUnitOfWork(), alert(recipient="grid-wang"))
    with pytest.raises(NotFound):
        await mark_read(uow, GRID, 7)
    with pytest.raises(NotFound):
        await mark_read(uow, GRID.model_copy(update={"community": "c2"}), 7)
    assert uow.commits == 1 and uow.published == []
    (notification,) = stored(uow, Notification)
    assert notification.read_at is None


async def test_only_the_first_acknowledgement_counts_and_records_one_event() -> None:
    uow = await seeded(FakeUnitOfWork(), alert())
    for by in ("grid-li", "link:grid-li"):
        async with uow:
            notification = await uow.session.get(Notification, 7)
            assert notification is not None
            record_acknowledgement(uow, notification, by)
            await uow.commit()

    (event,) = uow.published
    assert event.event_type == "notify.notification.acknowledged"
    assert event.payload["acknowledged_by"] == "grid-li"
    (notification,) = stored(uow, Notification)
    assert notification.acknowledged_by == "grid-li" and notification.read_at == notification.acknowledged_at
