"""The wish wall over HTTP, on SQLite and PostgreSQL: the lifecycle, races, lapsed claims, closing."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import col, select

from linli_points.api.wishes import FulfilmentIn
from linli_points.domain.wishes import WrongWishState
from linli_points.models import CommunityRules, PointsEntry, Wish
from linli_points.subscribers import REGISTRY, handlers
from linli_points.usecases import expiry, wishes
from linli_shared.auth import Caller, Role
from linli_shared.contracts.registry import ResidentDied, ResidentMovedOut
from linli_shared.events import Envelope
from linli_shared.inbox import apply_once
from linli_shared.outbox import OutboxMessage
from linli_shared.testing.waiting import eventually
from linli_shared.unit_of_work import UnitOfWork

pytestmark = [pytest.mark.integration]


async def outbox_events(client, suffix: str, wish_id: str | None = None) -> list[dict[str, object]]:
    async with client.app.state.session_factory() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.position)))).all()
    events = [json.loads(r.envelope) for r in rows if r.subject.endswith(suffix)]
    return [e for e in events if wish_id is None or e["payload"].get("wish_id") == wish_id]


async def balance(client, community, volunteer_id: str) -> int:
    response = await client.get(
        f"/v1/volunteers/{volunteer_id}", headers=community.as_(Role.COMMUNITY_WORKER)
    )
    assert response.status_code == 200, response.text
    return int(response.json()["balance"])


async def earned_entries(client, wish_id: str) -> list[PointsEntry]:
    async with client.app.state.session_factory() as session:
        return list((await session.exec(select(PointsEntry).where(PointsEntry.reference == wish_id))).all())


async def post_wish(client, community, resident: str, *, role=Role.COMMUNITY_WORKER, **extra: object):
    body = {"resident_id": resident, "title": "一台轮椅", "description": "腿脚不便", "points_award": 30}
    return await client.post("/v1/wishes", json={**body, **extra}, headers=community.as_(role))


async def review(client, community, wish_id: str, approve: bool = True, note: str = ""):
    return await client.post(
        f"/v1/wishes/{wish_id}/review",
        json={"approve": approve, "note": note},
        headers=community.as_(Role.COMMUNITY_WORKER),
    )


async def claim(client, community, wish_id: str, subject: str):
    return await client.post(f"/v1/wishes/{wish_id}/claim", headers=community.as_(Role.VOLUNTEER, subject))


async def fulfil(client, community, wish_id: str, subject: str, note: str = "送去了一台轮椅"):
    return await client.post(
        f"/v1/wishes/{wish_id}/fulfilment",
        json={"note": note},
        headers=community.as_(Role.VOLUNTEER, subject),
    )


async def confirm(client, community, wish_id: str, **headers: str):
    return await client.post(
        f"/v1/wishes/{wish_id}/confirmation", headers={**community.as_(Role.COMMUNITY_WORKER), **headers}
    )


async def get_wish(client, community, wish_id: str, role=Role.COMMUNITY_WORKER, subject: str = "tester"):
    return await client.get(f"/v1/wishes/{wish_id}", headers=community.as_(role, subject))


@pytest.fixture
def open_wish(client, known_resident):
    """A wish posted for a fresh resident and approved by the branch: on the wall, open."""

    async def make(community, *, points: int = 30, resident_id: str | None = None) -> dict[str, object]:
        resident_id = resident_id or await known_resident(community)
        posted = await post_wish(client, community, resident_id, points_award=points)
        assert posted.status_code == 201, posted.text
        approved = await review(client, community, posted.json()["id"])
        assert approved.status_code == 200, approved.text
        return dict(approved.json())

    return make


@pytest.fixture
def claimed_wish(client, open_wish, enrol):
    async def make(community, subject: str = "wang", *, points: int = 30) -> tuple[dict[str, object], dict]:
        volunteer = await enrol(community, subject=subject)
        wish = await open_wish(community, points=points)
        claimed = await claim(client, community, wish["id"], subject)
        assert claimed.status_code == 200, claimed.text
        return dict(claimed.json()), volunteer

    return make


def resident_event(community, event) -> Envelope:
    return Envelope.wrap(
        event, district=community.district, community=community.community, occurred_at=datetime.now(UTC)
    )


async def test_wish_lifecycle_awards_the_claimants_points_once(
    client, community, known_resident, enrol
) -> None:
    resident_id = await known_resident(community)
    volunteer = await enrol(community, subject="wang")

    posted = await post_wish(client, community, resident_id, role=Role.GRID_WORKER, points_award=30)
    assert posted.status_code == 201, posted.text
    wish = posted.json()
    assert (wish["status"], wish["resident_id"], wish["claimant_id"]) == ("pending", resident_id, None)
    assert (wish["district"], wish["community"]) == (community.district, community.community)

    approved = await review(client, community, wish["id"], note="支部同意")
    assert approved.status_code == 200 and approved.json()["status"] == "open"

    claimed = await claim(client, community, wish["id"], "wang")
    assert claimed.status_code == 200, claimed.text
    assert (claimed.json()["status"], claimed.json()["claimant_id"]) == ("claimed", volunteer["id"])
    claimed_at = datetime.fromisoformat(claimed.json()["claimed_at"])
    expires_at = datetime.fromisoformat(claimed.json()["claim_expires_at"])
    assert expires_at - claimed_at == timedelta(days=14), "the default when a community set no rule"

    fulfilled = await fulfil(client, community, wish["id"], "wang", note="轮椅已送到")
    assert fulfilled.status_code == 200, fulfilled.text
    assert (fulfilled.json()["status"], fulfilled.json()["fulfilment_note"]) == ("fulfilled", "轮椅已送到")
    assert await balance(client, community, volunteer["id"]) == 0, "no points before confirmation"

    confirmed = await confirm(client, community, wish["id"])
    assert confirmed.status_code == 200, confirmed.text
    assert (confirmed.json()["status"], confirmed.json()["confirmed_by"]) == ("confirmed", "tester")
    assert await balance(client, community, volunteer["id"]) == 30
    [entry] = await earned_entries(client, wish["id"])
    assert (entry.kind, entry.points, entry.volunteer_id) == ("earned", 30, volunteer["id"])

    again = await confirm(client, community, wish["id"])
    assert again.status_code == 409 and again.headers["content-type"] == "application/problem+json"
    assert await balance(client, community, volunteer["id"]) == 30

    kinds = ["posted", "reviewed", "claimed", "fulfilled", "confirmed"]
    found = {kind: await outbox_events(client, f".points.wish.{kind}", wish["id"]) for kind in kinds}
    assert {kind: len(events) for kind, events in found.items()} == dict.fromkeys(kinds, 1)
    assert found["confirmed"][0]["payload"] == {
        "wish_id": wish["id"],
        "volunteer_id": volunteer["id"],
        "points_awarded": 30,
    }
    earned = [
        e
        for e in await outbox_events(client, ".points.points.earned")
        if e["community"] == community.community
    ]
    assert [(e["payload"]["volunteer_id"], e["payload"]["points"]) for e in earned] == [(volunteer["id"], 30)]


async def test_rejected_wish_never_reaches_the_wall(client, community, known_resident, enrol) -> None:
    await enrol(community, subject="wang")
    wish = (await post_wish(client, community, await known_resident(community))).json()

    no_reason = await review(client, community, wish["id"], approve=False)
    assert no_reason.status_code == 422 and "原因" in no_reason.json()["detail"]
    rejected = await review(client, community, wish["id"], approve=False, note="区里已统一配发")
    assert rejected.status_code == 200
    assert (rejected.json()["status"], rejected.json()["review_note"]) == ("rejected", "区里已统一配发")

    assert (await review(client, community, wish["id"])).status_code == 409, "a rejection is final"
    assert (await claim(client, community, wish["id"], "wang")).status_code == 404
    wall = await client.get("/v1/wishes", headers=community.as_(Role.VOLUNTEER, "wang"))
    assert wall.status_code == 200 and wall.json()["items"] == []
    assert len(await outbox_events(client, ".points.wish.reviewed", wish["id"])) == 1


async def test_pending_wish_cannot_be_claimed_before_review(client, community, known_resident, enrol) -> None:
    await enrol(community, subject="wang")
    wish = (await post_wish(client, community, await known_resident(community))).json()
    assert (await claim(client, community, wish["id"], "wang")).status_code == 404
    assert (await get_wish(client, community, wish["id"])).json()["status"] == "pending"


async def test_twenty_racing_claims_give_the_wish_exactly_one_claimant(
    client, community, open_wish, enrol
) -> None:
    volunteers = {f"v{i}": await enrol(community, subject=f"v{i}") for i in range(20)}
    wish = await open_wish(community)

    answers = await asyncio.gather(*(claim(client, community, wish["id"], subject) for subject in volunteers))

    assert sorted(a.status_code for a in answers) == [200] + [409] * 19, [a.text for a in answers]
    [winner] = [subject for subject, a in zip(volunteers, answers, strict=True) if a.status_code == 200]
    now = (await get_wish(client, community, wish["id"])).json()
    assert (now["status"], now["claimant_id"]) == ("claimed", volunteers[winner]["id"])
    events = await outbox_events(client, ".points.wish.claimed", wish["id"])
    assert [e["payload"]["volunteer_id"] for e in events] == [volunteers[winner]["id"]]


async def test_racing_confirmations_credit_the_claimant_once(client, community, claimed_wish) -> None:
    wish, volunteer = await claimed_wish(community, points=25)
    assert (await fulfil(client, community, wish["id"], "wang")).status_code == 200

    answers = await asyncio.gather(*(confirm(client, community, wish["id"]) for _ in range(10)))

    assert sorted(a.status_code for a in answers) == [200] + [409] * 9, [a.text for a in answers]
    assert await balance(client, community, volunteer["id"]) == 25
    assert len(await earned_entries(client, wish["id"])) == 1
    assert len(await outbox_events(client, ".points.wish.confirmed", wish["id"])) == 1


async def test_same_idempotency_key_confirms_once_and_answers_the_same(
    client, community, claimed_wish
) -> None:
    wish, volunteer = await claimed_wish(community, points=40)
    assert (await fulfil(client, community, wish["id"], "wang")).status_code == 200
    key = {"Idempotency-Key": f"confirm-{wish['id']}"}

    answers = await asyncio.gather(*(confirm(client, community, wish["id"], **key) for _ in range(5)))
    later = await confirm(client, community, wish["id"], **key)

    assert [a.status_code for a in [*answers, later]] == [200] * 6, [a.text for a in answers]
    assert len({json.dumps(a.json(), sort_keys=True) for a in [*answers, later]}) == 1
    assert await balance(client, community, volunteer["id"]) == 40
    assert len(await earned_entries(client, wish["id"])) == 1


async def test_confirming_a_wish_worth_no_points_moves_no_points(client, community, claimed_wish) -> None:
    wish, volunteer = await claimed_wish(community, points=0)
    assert (await fulfil(client, community, wish["id"], "wang")).status_code == 200
    confirmed = await confirm(client, community, wish["id"])
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
    assert await balance(client, community, volunteer["id"]) == 0
    assert await earned_entries(client, wish["id"]) == []


async def test_wish_can_be_confirmed_only_once_fulfilled(client, community, claimed_wish) -> None:
    wish, volunteer = await claimed_wish(community)
    early = await confirm(client, community, wish["id"])
    assert early.status_code == 409 and "已认领" in early.json()["detail"]
    assert await balance(client, community, volunteer["id"]) == 0


async def test_unfulfilled_claim_lapses_back_to_open_once(client, community, claimed_wish, enrol) -> None:
    wish, volunteer = await claimed_wish(community)
    deadline = datetime.fromisoformat(str(wish["claim_expires_at"]))
    factory = client.app.state.session_factory

    assert await expiry.expire_claims(factory, deadline - timedelta(seconds=1)) == 0
    assert (await get_wish(client, community, wish["id"])).json()["status"] == "claimed"
    assert await expiry.expire_claims(factory, deadline + timedelta(seconds=1)) == 1
    assert await expiry.expire_claims(factory, deadline + timedelta(seconds=2)) == 0

    reopened = (await get_wish(client, community, wish["id"])).json()
    assert (reopened["status"], reopened["claimant_id"], reopened["claim_expires_at"]) == ("open", None, None)
    events = await outbox_events(client, ".points.wish.claim_expired", wish["id"])
    assert [e["payload"]["volunteer_id"] for e in events] == [volunteer["id"]]
    assert (await fulfil(client, community, wish["id"], "wang")).status_code == 409
    await enrol(community, subject="li")
    assert (await claim(client, community, wish["id"], "li")).status_code == 200


async def sessions_waiting_on_a_lock(factory) -> int:
    async with factory() as session:
        connection = await session.connection()
        waiting = await connection.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
        )
    return int(waiting or 0)


async def test_racing_deadline_checks_expire_a_claim_once(client, community, claimed_wish) -> None:
    wish, _ = await claimed_wish(community)
    late = datetime.fromisoformat(str(wish["claim_expires_at"])) + timedelta(minutes=1)
    factory = client.app.state.session_factory

    async with factory() as blocker:  # holds the row so all four checks read "claimed" before any writes
        await blocker.exec(select(Wish).where(Wish.id == wish["id"]).with_for_update())
        runs = [asyncio.create_task(expiry.expire_claims(factory, late)) for _ in range(4)]
        if blocker.bind.dialect.name == "postgresql":

            async def all_four_wait() -> bool:
                return await sessions_waiting_on_a_lock(factory) >= 4

            await eventually(all_four_wait)
        await blocker.rollback()
    counts = await asyncio.gather(*runs)

    assert sorted(counts) == [0, 0, 0, 1]
    assert len(await outbox_events(client, ".points.wish.claim_expired", wish["id"])) == 1


async def test_deadline_check_leaves_a_fresh_claim_alone(client, community, claimed_wish, enrol) -> None:
    wish, _ = await claimed_wish(community, "wang")
    first_deadline = datetime.fromisoformat(str(wish["claim_expires_at"]))
    factory = client.app.state.session_factory
    assert await expiry.expire_claims(factory, first_deadline) == 1, "due at the deadline itself"
    await enrol(community, subject="li")
    reclaimed = await claim(client, community, wish["id"], "li")
    assert reclaimed.status_code == 200

    assert await expiry.expire_claims(factory, first_deadline) == 0
    assert (await get_wish(client, community, wish["id"])).json()["claimant_id"] == reclaimed.json()[
        "claimant_id"
    ]


async def test_claim_lasts_the_communitys_set_number_of_days(client, community, open_wish, enrol) -> None:
    async with client.app.state.session_factory() as session:
        session.add(
            CommunityRules(district=community.district, community=community.community, wish_claim_days=3)
        )
        await session.commit()
    await enrol(community, subject="wang")
    wish = await open_wish(community)

    claimed = (await claim(client, community, wish["id"], "wang")).json()

    claimed_at = datetime.fromisoformat(claimed["claimed_at"])
    assert datetime.fromisoformat(claimed["claim_expires_at"]) - claimed_at == timedelta(days=3)


async def test_fulfilment_after_the_deadline_is_refused(client, community, claimed_wish) -> None:
    wish, _ = await claimed_wish(community)
    deadline = datetime.fromisoformat(str(wish["claim_expires_at"]))
    wang = Caller(
        subject="wang", role=Role.VOLUNTEER, district=community.district, community=community.community
    )

    at_the_deadline = UnitOfWork(client.app.state.session_factory, clock=lambda: deadline)
    with pytest.raises(WrongWishState, match="lapsed"):
        await wishes.fulfil_wish(at_the_deadline, wang, str(wish["id"]), FulfilmentIn(note="late"))

    assert (await get_wish(client, community, wish["id"])).json()["status"] == "claimed"


async def test_volunteer_cannot_fulfil_someone_elses_claim(client, community, claimed_wish, enrol) -> None:
    wish, _ = await claimed_wish(community, "wang")
    await enrol(community, subject="li")

    response = await fulfil(client, community, wish["id"], "li")

    assert response.status_code == 403 and response.headers["content-type"] == "application/problem+json"
    still = (await get_wish(client, community, wish["id"])).json()
    assert (still["status"], still["fulfilment_note"]) == ("claimed", "")


async def test_volunteer_cannot_claim_their_own_wish(
    client, community, known_resident, open_wish, enrol
) -> None:
    resident_id = await known_resident(community)
    await enrol(community, subject="wang", resident_id=resident_id)
    wish = await open_wish(community, resident_id=resident_id)
    assert (await claim(client, community, wish["id"], "wang")).status_code == 403


async def test_death_closes_the_residents_unfinished_wishes(
    client, community, known_resident, enrol, claimed_wish, open_wish
) -> None:
    factory = client.app.state.session_factory
    resident_id = await known_resident(community)
    await enrol(community, subject="wang")
    pending = (await post_wish(client, community, resident_id)).json()
    rejected = (await post_wish(client, community, resident_id)).json()
    assert (await review(client, community, rejected["id"], approve=False, note="no")).status_code == 200
    claimed = await open_wish(community, resident_id=resident_id)
    assert (await claim(client, community, claimed["id"], "wang")).status_code == 200
    done = await open_wish(community, resident_id=resident_id)
    assert (await claim(client, community, done["id"], "wang")).status_code == 200
    assert (await fulfil(client, community, done["id"], "wang")).status_code == 200
    assert (await confirm(client, community, done["id"])).status_code == 200
    someone_else = await open_wish(community)

    async def apply_death(uow, envelope) -> None:  # as the inbox will: one transaction for both
        await handlers(uow, envelope)
        await wishes.close_wishes_of(uow, resident_id, "the resident died", uow.now)

    died = resident_event(community, ResidentDied(resident_id=resident_id, on=date.today()))
    assert await apply_once(factory, REGISTRY.consumer.durable, died, apply_death)

    statuses = {w: (await get_wish(client, community, w)).json() for w in (pending["id"], claimed["id"])}
    assert {(w["status"], w["closed_reason"]) for w in statuses.values()} == {("closed", "the resident died")}
    assert (await get_wish(client, community, rejected["id"])).json()["status"] == "rejected"
    assert (await get_wish(client, community, done["id"])).json()["status"] == "confirmed"
    assert (await get_wish(client, community, someone_else["id"])).json()["status"] == "open"
    closed = [e["payload"]["wish_id"] for e in await outbox_events(client, ".points.wish.closed")]
    assert sorted(closed) == sorted([pending["id"], claimed["id"]])
    assert (await fulfil(client, community, claimed["id"], "wang")).status_code == 409
    assert (await post_wish(client, community, resident_id)).status_code == 422
    async with UnitOfWork(factory) as uow:
        assert await wishes.close_wishes_of(uow, resident_id, "again", uow.now) == 0


async def test_close_wishes_of_leaves_the_commit_to_its_caller(client, community, open_wish) -> None:
    wish = await open_wish(community)
    factory = client.app.state.session_factory

    async with UnitOfWork(factory) as uow:
        assert await wishes.close_wishes_of(uow, str(wish["resident_id"]), "moved out", uow.now) == 1
        await uow.rollback()
    assert (await get_wish(client, community, wish["id"])).json()["status"] == "open"
    assert await outbox_events(client, ".points.wish.closed", wish["id"]) == []

    async with UnitOfWork(factory) as uow:
        assert await wishes.close_wishes_of(uow, str(wish["resident_id"]), "moved out", uow.now) == 1
        await uow.commit()
    assert (await get_wish(client, community, wish["id"])).json()["status"] == "closed"
    assert len(await outbox_events(client, ".points.wish.closed", wish["id"])) == 1


@pytest.mark.parametrize("where", ["unknown", "other_community", "moved_out"])
async def test_wish_for_a_resident_not_active_here_is_refused(
    client, community, known_resident, where
) -> None:
    if where == "unknown":
        resident_id = str(uuid.uuid4())
    elif where == "other_community":
        elsewhere = type(community)(community.district, f"c{uuid.uuid4().hex[:8]}")
        resident_id = await known_resident(elsewhere)
    else:
        resident_id = await known_resident(community)
        moved = resident_event(community, ResidentMovedOut(resident_id=resident_id, on=date.today()))
        factory = client.app.state.session_factory
        assert await apply_once(factory, REGISTRY.consumer.durable, moved, handlers)

    response = await post_wish(client, community, resident_id)

    assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"
    listed = await client.get("/v1/wishes", headers=community.as_(Role.COMMUNITY_WORKER))
    assert listed.json()["items"] == []


@pytest.mark.parametrize(
    "body",
    [
        {"points_award": -1},
        {"points_award": 10_001},
        {"points_award": "many"},
        {"title": ""},
        {"title": "x" * 201},
        {"resident_id": "r" * 37},
        {"surprise": True},
    ],
)
async def test_bad_wish_gets_a_422_and_posts_nothing(client, community, known_resident, body) -> None:
    response = await post_wish(client, community, await known_resident(community), **body)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    listed = await client.get("/v1/wishes", headers=community.as_(Role.COMMUNITY_WORKER))
    assert listed.json()["items"] == []


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("review", {"approve": "yes"}),
        ("review", {"note": "no decision"}),
        ("fulfilment", {}),
        ("fulfilment", {"note": ""}),
    ],
)
async def test_bad_step_bodies_get_a_422(client, community, claimed_wish, path, body) -> None:
    wish, _ = await claimed_wish(community)
    role = Role.VOLUNTEER if path == "fulfilment" else Role.COMMUNITY_WORKER
    response = await client.post(
        f"/v1/wishes/{wish['id']}/{path}", json=body, headers=community.as_(role, "wang")
    )
    assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"


async def test_each_step_belongs_to_its_role(client, community, known_resident, claimed_wish) -> None:
    resident_id = await known_resident(community)
    wish, _ = await claimed_wish(community, "wang")
    assert (await post_wish(client, community, resident_id, role=Role.VOLUNTEER)).status_code == 403
    assert (await post_wish(client, community, resident_id, role=Role.AUDITOR)).status_code == 403
    pending = (await post_wish(client, community, resident_id)).json()
    by_grid = await client.post(
        f"/v1/wishes/{pending['id']}/review", json={"approve": True}, headers=community.as_(Role.GRID_WORKER)
    )
    assert by_grid.status_code == 403
    by_district = await client.post(
        f"/v1/wishes/{pending['id']}/review",
        json={"approve": True},
        headers=community.as_(Role.DISTRICT_ADMIN),
    )
    assert by_district.status_code == 200, "the branch reviews at district level too"
    by_worker = await client.post(
        f"/v1/wishes/{pending['id']}/claim", headers=community.as_(Role.COMMUNITY_WORKER)
    )
    assert by_worker.status_code == 403
    assert (await fulfil(client, community, wish["id"], "wang")).status_code == 200
    by_volunteer = await client.post(
        f"/v1/wishes/{wish['id']}/confirmation", headers=community.as_(Role.VOLUNTEER, "wang")
    )
    assert by_volunteer.status_code == 403, "a claimant cannot confirm their own work"
    assert (await get_wish(client, community, wish["id"])).json()["status"] == "fulfilled"


async def test_another_communitys_wish_is_not_found(client, community, open_wish, enrol) -> None:
    wish = await open_wish(community)
    elsewhere = type(community)(community.district, f"c{uuid.uuid4().hex[:8]}")
    await enrol(elsewhere, subject="zhao")

    assert (await get_wish(client, elsewhere, wish["id"])).status_code == 404
    assert (await claim(client, elsewhere, wish["id"], "zhao")).status_code == 404
    assert (await review(client, elsewhere, wish["id"])).status_code == 404
    listed = await client.get("/v1/wishes", headers=elsewhere.as_(Role.COMMUNITY_WORKER))
    assert listed.json()["items"] == []
    assert (
        await client.get("/v1/wishes/no-such-wish", headers=community.as_(Role.COMMUNITY_WORKER))
    ).status_code == 404


async def test_wall_lists_by_status_in_pages_and_hides_unreviewed_wishes_from_volunteers(
    client, community, known_resident, open_wish, enrol
) -> None:
    await enrol(community, subject="wang")
    opened = {str((await open_wish(community))["id"]) for _ in range(3)}
    pending = (await post_wish(client, community, await known_resident(community))).json()

    seen: set[str] = set()
    cursor = None
    while True:
        params = {"status": "open", "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = await client.get("/v1/wishes", params=params, headers=community.as_(Role.COMMUNITY_WORKER))
        assert page.status_code == 200, page.text
        seen |= {w["id"] for w in page.json()["items"]}
        if not (cursor := page.json()["next_cursor"]):
            break
    assert seen == opened

    as_volunteer = await client.get("/v1/wishes", headers=community.as_(Role.VOLUNTEER, "wang"))
    assert {w["id"] for w in as_volunteer.json()["items"]} == opened
    assert (await get_wish(client, community, pending["id"], Role.VOLUNTEER, "wang")).status_code == 404
    for params in ({"status": "lost"}, {"cursor": "%%%"}, {"limit": 0}):
        bad = await client.get("/v1/wishes", params=params, headers=community.as_(Role.COMMUNITY_WORKER))
        assert bad.status_code == 422, params


async def test_same_idempotency_key_posts_one_wish(client, community, known_resident) -> None:
    resident_id = await known_resident(community)
    headers = {**community.as_(Role.COMMUNITY_WORKER), "Idempotency-Key": "wish-1"}
    body = {"resident_id": resident_id, "title": "合唱团老师"}
    answers = [await client.post("/v1/wishes", json=body, headers=headers) for _ in range(3)]
    assert {a.status_code for a in answers} == {201} and len({a.json()["id"] for a in answers}) == 1
    listed = await client.get("/v1/wishes", headers=community.as_(Role.COMMUNITY_WORKER))
    assert len(listed.json()["items"]) == 1


async def test_a_resident_posts_their_own_wish_and_it_waits_for_review(
    client, community, known_resident, enrol
) -> None:
    resident_id = await known_resident(community)
    await enrol(community, subject="wang")
    as_resident = community.as_(Role.RESIDENT, resident_id)
    body = {"resident_id": resident_id, "title": "想学用智能手机", "description": "周末下午在家"}

    posted = await client.post("/v1/wishes", json=body, headers=as_resident)

    assert posted.status_code == 201, posted.text
    wish = posted.json()
    assert (wish["status"], wish["resident_id"], wish["posted_by"]) == ("pending", resident_id, resident_id)
    assert (wish["district"], wish["community"], wish["points_award"]) == (
        community.district,
        community.community,
        0,
    )
    [event] = await outbox_events(client, ".points.wish.posted", wish["id"])
    assert event["payload"] == {"wish_id": wish["id"], "resident_id": resident_id, "title": "想学用智能手机"}
    mine = await client.get("/v1/wishes", headers=as_resident)
    assert [(w["id"], w["status"]) for w in mine.json()["items"]] == [(wish["id"], "pending")]
    waiting = await client.get(
        "/v1/wishes", params={"status": "pending"}, headers=community.as_(Role.COMMUNITY_WORKER)
    )
    assert [w["id"] for w in waiting.json()["items"]] == [wish["id"]], "the branch reviews it as any other"
    assert (await claim(client, community, wish["id"], "wang")).status_code == 404, "not before review"
    approved = await review(client, community, wish["id"])
    assert approved.status_code == 200 and approved.json()["status"] == "open"


async def test_a_resident_may_not_post_a_wish_for_someone_else(client, community, known_resident) -> None:
    resident_id, neighbour_id = await known_resident(community), await known_resident(community)
    body = {"resident_id": neighbour_id, "title": "一台轮椅"}

    refused = await client.post("/v1/wishes", json=body, headers=community.as_(Role.RESIDENT, resident_id))

    assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["detail"] == "居民只能为自己登记心愿"
    listed = await client.get("/v1/wishes", headers=community.as_(Role.COMMUNITY_WORKER))
    assert listed.json()["items"] == []
    posted = await outbox_events(client, ".points.wish.posted")
    assert [e for e in posted if e["community"] == community.community] == []


@pytest.mark.parametrize("where", ["unknown", "other_community", "moved_out"])
async def test_a_residents_own_wish_is_refused_when_they_are_not_active_here(
    client, community, known_resident, where
) -> None:
    """The token alone is not enough: points must know the resident as living in the community."""
    caller = community
    if where == "unknown":
        resident_id = str(uuid.uuid4())
    elif where == "other_community":
        resident_id = await known_resident(community)
        caller = type(community)(community.district, f"c{uuid.uuid4().hex[:8]}")
    else:
        resident_id = await known_resident(community)
        moved = resident_event(community, ResidentMovedOut(resident_id=resident_id, on=date.today()))
        factory = client.app.state.session_factory
        assert await apply_once(factory, REGISTRY.consumer.durable, moved, handlers)
    body = {"resident_id": resident_id, "title": "一台轮椅"}

    response = await client.post("/v1/wishes", json=body, headers=caller.as_(Role.RESIDENT, resident_id))

    assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"
    for place in (community, caller):
        listed = await client.get("/v1/wishes", headers=place.as_(Role.COMMUNITY_WORKER))
        assert listed.json()["items"] == []


async def test_a_residents_wish_sent_twice_with_one_key_is_posted_once(
    client, community, known_resident
) -> None:
    resident_id = await known_resident(community)
    headers = {**community.as_(Role.RESIDENT, resident_id), "Idempotency-Key": "my-wish-1"}
    body = {"resident_id": resident_id, "title": "想有人陪我下棋"}

    answers = [await client.post("/v1/wishes", json=body, headers=headers) for _ in range(3)]

    assert {a.status_code for a in answers} == {201} and len({a.json()["id"] for a in answers}) == 1
    listed = await client.get("/v1/wishes", headers=community.as_(Role.COMMUNITY_WORKER))
    assert len(listed.json()["items"]) == 1
    assert len(await outbox_events(client, ".points.wish.posted", answers[0].json()["id"])) == 1


async def test_the_resident_confirms_their_own_wish_and_nobody_elses(client, community, claimed_wish) -> None:
    wish, volunteer = await claimed_wish(community)
    assert (await fulfil(client, community, wish["id"], "wang")).status_code == 200
    path = f"/v1/wishes/{wish['id']}/confirmation"

    stranger = await client.post(path, headers=community.as_(Role.RESIDENT, "some-other-resident"))
    assert stranger.status_code == 404
    own = await client.post(path, headers=community.as_(Role.RESIDENT, wish["resident_id"]))

    assert own.status_code == 200, own.text
    assert own.json()["confirmed_by"] == wish["resident_id"]
    assert await balance(client, community, volunteer["id"]) == wish["points_award"]
