"""Rules of the points use cases that need no query, run on the in-memory unit of work."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from linli_points.api.volunteers import TeamIn, VolunteerIn
from linli_points.api.wishes import WishIn
from linli_points.domain import TeamKind
from linli_points.models import KnownResident, PointsAccount, Team, Volunteer, Wish
from linli_points.usecases.volunteers import create_team, enrol_volunteer
from linli_points.usecases.wishes import post_wish
from linli_shared.auth import Caller, Role
from linli_shared.errors import Conflict, Forbidden, Invalid
from linli_shared.idempotency import IdempotentRequest
from linli_shared.residents import MOVED_OUT
from linli_shared.testing.fakes import FakeUnitOfWork

DISTRICT, COMMUNITY = "gaoqiaoying", "donglizhuang"
NOW = datetime(2026, 5, 1, 2, 0, tzinfo=UTC)
WORKER = Caller(subject="worker", role=Role.COMMUNITY_WORKER, district=DISTRICT, community=COMMUNITY)


def keyed(key: str, body: str = "body") -> IdempotentRequest:
    return IdempotentRequest(key=key, scope=f"worker:POST:/v1/{key}", request_hash=body)


def team_in() -> TeamIn:
    return TeamIn(district=DISTRICT, community=COMMUNITY, name="便民服务队", kind=TeamKind.CONVENIENCE)


def resident(uow: FakeUnitOfWork, status: str = "active") -> str:
    row = KnownResident(
        resident_id="r-1",
        district=DISTRICT,
        community=COMMUNITY,
        full_name="王秀英",
        status=status,
        updated_at=NOW,
    )
    uow.rows[(KnownResident, ("r-1",))] = row
    return row.resident_id


def rows_of(uow: FakeUnitOfWork, model: type) -> list[object]:
    return [row for (kind, _), row in uow.rows.items() if kind is model]


async def test_create_team_sent_twice_with_one_key_makes_one_team() -> None:
    uow = FakeUnitOfWork(idempotency=keyed("teams"), clock=lambda: NOW)

    first = await create_team(uow, WORKER, team_in())
    again = await create_team(uow, WORKER, team_in())

    assert again.id == first.id and again.name == first.name
    assert len(rows_of(uow, Team)) == 1 and uow.commits == 1


async def test_one_key_with_another_body_is_a_conflict() -> None:
    uow = FakeUnitOfWork(idempotency=keyed("teams"), clock=lambda: NOW)
    await create_team(uow, WORKER, team_in())
    uow.idempotency = keyed("teams", body="another body")

    with pytest.raises(Conflict, match="different request body"):
        await create_team(uow, WORKER, team_in())
    assert len(rows_of(uow, Team)) == 1


async def test_volunteer_may_not_create_a_team_and_nothing_is_kept() -> None:
    uow = FakeUnitOfWork(clock=lambda: NOW)
    volunteer = Caller(subject="wang", role=Role.VOLUNTEER, district=DISTRICT, community=COMMUNITY)

    with pytest.raises(Forbidden):
        await create_team(uow, volunteer, team_in())
    assert uow.rows == {} and uow.commits == 0


async def test_enrolment_opens_an_empty_account_and_announces_the_volunteer() -> None:
    uow = FakeUnitOfWork(clock=lambda: NOW)
    resident_id = resident(uow)
    data = VolunteerIn(
        district=DISTRICT, community=COMMUNITY, subject="wang", full_name="王", resident_id=resident_id
    )

    volunteer, balance = await enrol_volunteer(uow, WORKER, data)

    assert balance == 0 and volunteer.enrolled_at == NOW
    [account] = rows_of(uow, PointsAccount)
    assert isinstance(account, PointsAccount) and (account.volunteer_id, account.balance) == (volunteer.id, 0)
    [enrolled] = uow.published
    assert enrolled.event_type == "points.volunteer.enrolled" and enrolled.occurred_at == NOW
    assert enrolled.payload["resident_id"] == resident_id


async def test_a_resident_who_moved_out_is_not_enrolled_and_nothing_is_announced() -> None:
    uow = FakeUnitOfWork(clock=lambda: NOW)
    resident_id = resident(uow, status=MOVED_OUT)
    data = VolunteerIn(
        district=DISTRICT, community=COMMUNITY, subject="wang", full_name="王", resident_id=resident_id
    )

    with pytest.raises(Invalid, match="moved_out"):
        await enrol_volunteer(uow, WORKER, data)
    assert rows_of(uow, Volunteer) == [] and uow.published == []


async def test_wish_posted_twice_with_one_key_is_one_wish_and_one_event() -> None:
    uow = FakeUnitOfWork(idempotency=keyed("wishes"), clock=lambda: NOW)
    data = WishIn(resident_id=resident(uow), title="一台轮椅", points_award=30)

    first = await post_wish(uow, WORKER, data)
    again = await post_wish(uow, WORKER, data)

    assert again.id == first.id and first.status == "pending"
    assert len(rows_of(uow, Wish)) == 1
    assert [e.event_type for e in uow.published] == ["points.wish.posted"]


async def test_wish_for_a_resident_of_another_community_is_refused_without_an_event() -> None:
    uow = FakeUnitOfWork(clock=lambda: NOW)
    elsewhere = Caller(subject="worker", role=Role.GRID_WORKER, district=DISTRICT, community="elsewhere")
    data = WishIn(resident_id=resident(uow), title="一台轮椅")

    with pytest.raises(Invalid, match="not known in elsewhere"):
        await post_wish(uow, elsewhere, data)
    assert rows_of(uow, Wish) == [] and uow.published == []
