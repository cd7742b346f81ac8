"""Points and the love supermarket over HTTP, on SQLite and PostgreSQL: races included."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlmodel import col, select

from linli_points.models import PointsEntry
from linli_shared.auth import Role
from linli_shared.outbox import OutboxMessage

pytestmark = [pytest.mark.integration]


async def balance(client, community, volunteer_id: str) -> int:
    response = await client.get(
        f"/v1/volunteers/{volunteer_id}", headers=community.as_(Role.COMMUNITY_WORKER)
    )
    return int(response.json()["balance"])


async def stock(client, community, item_id: str) -> int:
    items = (await client.get("/v1/items", headers=community.as_(Role.COMMUNITY_WORKER))).json()["items"]
    return next(int(i["stock"]) for i in items if i["id"] == item_id)


async def outbox_events(client, suffix: str) -> list[dict[str, object]]:
    async with client.app.state.session_factory() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.position)))).all()
    return [json.loads(r.envelope) for r in rows if r.subject.endswith(suffix)]


async def test_volunteer_must_be_a_known_resident_of_the_community(
    client, community, known_resident, enrol
) -> None:
    unknown = await client.post(
        "/v1/volunteers",
        json={
            "district": community.district,
            "community": community.community,
            "subject": "v1",
            "full_name": "王",
            "resident_id": "no-such-resident",
        },
        headers=community.as_(Role.COMMUNITY_WORKER),
    )
    assert unknown.status_code == 422 and "查不到居民" in unknown.json()["detail"]
    resident_id = await known_resident(community)
    volunteer = await enrol(community, resident_id=resident_id)
    assert volunteer["resident_id"] == resident_id and volunteer["balance"] == 0


async def test_enrolling_one_subject_twice_conflicts(client, community, enrol) -> None:
    await enrol(community, subject="wang")
    again = await client.post(
        "/v1/volunteers",
        json={
            "district": community.district,
            "community": community.community,
            "subject": "wang",
            "full_name": "王",
        },
        headers=community.as_(Role.COMMUNITY_WORKER),
    )
    assert again.status_code == 409


async def test_redeem_debits_points_takes_stock_and_gives_a_pickup_code(
    client, community, enrol, credit, stocked_item
) -> None:
    volunteer = await enrol(community, subject="wang")
    await credit(community, volunteer["id"], 100)
    item = await stocked_item(community, price=30, stock=5)

    response = await client.post(
        "/v1/redemptions",
        json={"item_id": item["id"], "quantity": 2},
        headers=community.as_(Role.VOLUNTEER, "wang"),
    )

    assert response.status_code == 201, response.text
    redemption = response.json()
    assert (redemption["points"], redemption["status"], len(redemption["pickup_code"])) == (60, "reserved", 6)
    assert await balance(client, community, volunteer["id"]) == 40
    assert await stock(client, community, item["id"]) == 3
    wrong = await client.post(
        f"/v1/redemptions/{redemption['id']}/pickup",
        json={"pickup_code": "000000" if redemption["pickup_code"] != "000000" else "111111"},
        headers=community.as_(Role.COMMUNITY_WORKER),
    )
    assert wrong.status_code == 409
    picked = await client.post(
        f"/v1/redemptions/{redemption['id']}/pickup",
        json={"pickup_code": redemption["pickup_code"]},
        headers=community.as_(Role.COMMUNITY_WORKER),
    )
    assert picked.json()["status"] == "picked_up"


async def test_cancellation_refunds_and_restocks_exactly_once(
    client, community, enrol, credit, stocked_item
) -> None:
    volunteer = await enrol(community, subject="wang")
    await credit(community, volunteer["id"], 50)
    item = await stocked_item(community, price=50, stock=1)
    redemption = (
        await client.post(
            "/v1/redemptions", json={"item_id": item["id"]}, headers=community.as_(Role.VOLUNTEER, "wang")
        )
    ).json()

    path = f"/v1/redemptions/{redemption['id']}/cancellation"
    answers = await asyncio.gather(
        *(client.post(path, headers=community.as_(Role.VOLUNTEER, "wang")) for _ in range(5))
    )

    assert sorted(a.status_code for a in answers) == [200, 409, 409, 409, 409]
    assert await balance(client, community, volunteer["id"]) == 50
    assert await stock(client, community, item["id"]) == 1


async def test_fifty_racing_redemptions_of_the_last_item_succeed_once(
    client, community, enrol, credit, stocked_item
) -> None:
    item = await stocked_item(community, price=10, stock=1)
    volunteers = [await enrol(community, subject=f"v{i}") for i in range(50)]
    for volunteer in volunteers:
        await credit(community, volunteer["id"], 10)

    answers = await asyncio.gather(
        *(
            client.post(
                "/v1/redemptions",
                json={"item_id": item["id"]},
                headers=community.as_(Role.VOLUNTEER, f"v{i}"),
            )
            for i in range(50)
        )
    )

    assert sorted(a.status_code for a in answers) == [201] + [409] * 49
    assert await stock(client, community, item["id"]) == 0
    balances = [await balance(client, community, v["id"]) for v in volunteers]
    assert sorted(balances) == [0] + [10] * 49, "the losers' points were never taken"


async def test_fifty_racing_spends_never_take_a_balance_below_zero(
    client, community, enrol, credit, stocked_item
) -> None:
    volunteer = await enrol(community, subject="wang")
    await credit(community, volunteer["id"], 100)
    item = await stocked_item(community, price=10, stock=1000)

    answers = await asyncio.gather(
        *(
            client.post(
                "/v1/redemptions", json={"item_id": item["id"]}, headers=community.as_(Role.VOLUNTEER, "wang")
            )
            for _ in range(50)
        )
    )

    assert sorted(a.status_code for a in answers) == [201] * 10 + [409] * 40
    assert await balance(client, community, volunteer["id"]) == 0
    async with client.app.state.session_factory() as session:
        entries = (
            await session.exec(select(PointsEntry).where(PointsEntry.volunteer_id == volunteer["id"]))
        ).all()
    assert sum(e.points for e in entries) == 0 and min(e.balance_after for e in entries) == 0


async def test_same_idempotency_key_redeems_once_and_answers_the_same(
    client, community, enrol, credit, stocked_item
) -> None:
    volunteer = await enrol(community, subject="wang")
    await credit(community, volunteer["id"], 100)
    item = await stocked_item(community, price=10, stock=10)
    headers = {**community.as_(Role.VOLUNTEER, "wang"), "Idempotency-Key": "pay-rice-1"}

    answers = await asyncio.gather(
        *(client.post("/v1/redemptions", json={"item_id": item["id"]}, headers=headers) for _ in range(10))
    )

    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["id"] for a in answers}) == 1
    assert await balance(client, community, volunteer["id"]) == 90
    assert await stock(client, community, item["id"]) == 9
    other_body = await client.post(
        "/v1/redemptions", json={"item_id": item["id"], "quantity": 2}, headers=headers
    )
    assert other_body.status_code == 409


async def test_twins_of_a_redemption_only_one_can_afford_all_answer_with_it(
    client, community, enrol, credit, stocked_item
) -> None:
    """A twin that waits for the first one's lock finds the points spent: it answers with the first
    one's redemption, not with "not enough points"."""
    volunteer = await enrol(community, subject="wang")
    await credit(community, volunteer["id"], 10)
    item = await stocked_item(community, price=10, stock=1)
    headers = {**community.as_(Role.VOLUNTEER, "wang"), "Idempotency-Key": "the-last-bag"}

    answers = await asyncio.gather(
        *(client.post("/v1/redemptions", json={"item_id": item["id"]}, headers=headers) for _ in range(10))
    )

    assert [a.status_code for a in answers] == [201] * 10, [a.text for a in answers if a.status_code != 201]
    assert len({a.json()["id"] for a in answers}) == 1
    assert await balance(client, community, volunteer["id"]) == 0
    assert await stock(client, community, item["id"]) == 0


async def test_same_idempotency_key_adjusts_once(client, community, enrol) -> None:
    volunteer = await enrol(community)
    headers = {**community.as_(Role.COMMUNITY_WORKER), "Idempotency-Key": "k1"}
    body = {"volunteer_id": volunteer["id"], "points": 25, "reason": "first-aid training"}
    first = await client.post("/v1/points/adjustments", json=body, headers=headers)
    again = await client.post("/v1/points/adjustments", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert await balance(client, community, volunteer["id"]) == 25


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_workers_adjustment_on_postgresql_is_one_statement_sent_alone(
    client, community, enrol, sent_to_postgresql
) -> None:
    """The move, the entry, the event and the key in one statement, with no BEGIN or COMMIT: the
    event still carries the balance after the move, and the key still answers a repeat."""
    volunteer = await enrol(community)
    headers = {**community.as_(Role.COMMUNITY_WORKER), "Idempotency-Key": "alone"}
    body = {"volunteer_id": volunteer["id"], "points": 30, "reason": "first-aid training"}
    sent = sent_to_postgresql()
    answer = await client.post("/v1/points/adjustments", json=body, headers=headers)
    alone = list(sent)

    assert answer.status_code == 201, answer.text
    assert len(alone) == 1, "\n".join(alone)
    assert all(table in alone[0] for table in ("points_account", "points_entry", "outbox", "idempotency"))
    taken = {"volunteer_id": volunteer["id"], "points": -12, "reason": "credited twice by mistake"}
    headers_taken = {**community.as_(Role.COMMUNITY_WORKER), "Idempotency-Key": "alone-2"}
    assert (await client.post("/v1/points/adjustments", json=taken, headers=headers_taken)).status_code == 201
    events = await outbox_events(client, ".points.adjusted")
    assert [(e["payload"]["points"], e["payload"]["balance"]) for e in events] == [(30, 30), (-12, 18)]
    again = await client.post("/v1/points/adjustments", json=body, headers=headers)
    assert again.json() == answer.json() and answer.json()["balance_after"] == 30
    assert await balance(client, community, volunteer["id"]) == 18


async def test_racing_deductions_never_take_a_balance_below_zero_and_each_is_announced_once(
    client, community, enrol, credit
) -> None:
    """Twenty workers' deductions of 10 from 50, each with its own key (on PostgreSQL each sent
    alone): five are made, fifteen refused; one event for each made, with the balance it left."""
    volunteer = await enrol(community)
    await credit(community, volunteer["id"], 50)
    body = {"volunteer_id": volunteer["id"], "points": -10, "reason": "returned a voucher"}

    answers = await asyncio.gather(
        *(
            client.post(
                "/v1/points/adjustments",
                json=body,
                headers={**community.as_(Role.COMMUNITY_WORKER), "Idempotency-Key": f"take-{n}"},
            )
            for n in range(20)
        )
    )

    assert sorted(a.status_code for a in answers) == [201] * 5 + [409] * 15
    assert await balance(client, community, volunteer["id"]) == 0
    made = sorted(a.json()["balance_after"] for a in answers if a.status_code == 201)
    assert made == [0, 10, 20, 30, 40]
    events = await outbox_events(client, ".points.adjusted")
    taken = sorted(e["payload"]["balance"] for e in events if e["payload"]["points"] == -10)
    assert taken == made


async def test_twins_of_a_deduction_only_one_balance_allows_all_answer_with_it(
    client, community, enrol, credit
) -> None:
    volunteer = await enrol(community)
    await credit(community, volunteer["id"], 25)
    headers = {**community.as_(Role.COMMUNITY_WORKER), "Idempotency-Key": "k-take-back"}
    body = {"volunteer_id": volunteer["id"], "points": -25, "reason": "credited twice by mistake"}

    answers = await asyncio.gather(
        *(client.post("/v1/points/adjustments", json=body, headers=headers) for _ in range(10))
    )

    assert [a.status_code for a in answers] == [201] * 10, [a.text for a in answers if a.status_code != 201]
    assert len({a.json()["id"] for a in answers}) == 1
    assert await balance(client, community, volunteer["id"]) == 0


async def test_volunteer_cannot_spend_or_see_another_volunteers_points(
    client, community, enrol, credit, stocked_item
) -> None:
    await enrol(community, subject="wang")
    li = await enrol(community, subject="li")
    await credit(community, li["id"], 100)
    item = await stocked_item(community, price=10, stock=5)
    as_wang = community.as_(Role.VOLUNTEER, "wang")

    spend = await client.post(
        "/v1/redemptions", json={"item_id": item["id"], "volunteer_id": li["id"]}, headers=as_wang
    )
    look = await client.get(f"/v1/volunteers/{li['id']}", headers=as_wang)

    assert spend.status_code == 403 and look.status_code == 403
    assert await balance(client, community, li["id"]) == 100
    assert await stock(client, community, item["id"]) == 5


async def test_monthly_limit_per_person_is_enforced(client, community, enrol, credit, stocked_item) -> None:
    volunteer = await enrol(community, subject="wang")
    await credit(community, volunteer["id"], 100)
    item = await stocked_item(community, price=10, stock=10, monthly_limit=2)
    as_wang = community.as_(Role.VOLUNTEER, "wang")
    assert (
        await client.post("/v1/redemptions", json={"item_id": item["id"], "quantity": 2}, headers=as_wang)
    ).status_code == 201
    over = await client.post("/v1/redemptions", json={"item_id": item["id"]}, headers=as_wang)
    assert over.status_code == 409 and "每月限兑" in over.json()["detail"]
    assert await balance(client, community, volunteer["id"]) == 80


async def test_stock_low_is_announced_once_when_stock_falls_to_the_threshold(
    client, community, enrol, credit, stocked_item
) -> None:
    volunteer = await enrol(community, subject="wang")
    await credit(community, volunteer["id"], 100)
    item = await stocked_item(community, price=1, stock=4, low_stock_threshold=2)
    for _ in range(4):
        response = await client.post(
            "/v1/redemptions", json={"item_id": item["id"]}, headers=community.as_(Role.VOLUNTEER, "wang")
        )
        assert response.status_code == 201
    events = await outbox_events(client, ".points.stock.low")
    assert [e["payload"]["stock"] for e in events] == [2]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"quantity": -1}, 422),
        ({"quantity": 0}, 422),
        ({"item_id": "no-such-item"}, 404),
        ({"quantity": "many"}, 422),
        ({"surprise": True}, 422),
    ],
)
async def test_bad_redemption_gets_a_4xx_and_changes_nothing(
    client, community, enrol, credit, stocked_item, body, status
) -> None:
    volunteer = await enrol(community, subject="wang")
    await credit(community, volunteer["id"], 100)
    item = await stocked_item(community, price=10, stock=5)
    response = await client.post(
        "/v1/redemptions", json={"item_id": item["id"], **body}, headers=community.as_(Role.VOLUNTEER, "wang")
    )
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert await balance(client, community, volunteer["id"]) == 100
    assert await stock(client, community, item["id"]) == 5


async def test_a_refused_adjustment_moves_no_points_and_writes_no_entry(
    client, community, enrol, credit
) -> None:
    """On PostgreSQL the volunteer is looked up, the balance moved and the entry appended in one
    statement, the checks made after it: each refusal must leave the balance and ledger as they were."""
    volunteer = await enrol(community)
    await credit(community, volunteer["id"], 10)
    await client.post(
        f"/v1/volunteers/{volunteer['id']}/cancel", json={}, headers=community.as_(Role.COMMUNITY_WORKER)
    )
    other = type(community).new()
    cases = [
        (other.as_(Role.COMMUNITY_WORKER), volunteer["id"], 5, 404),  # another community's worker
        (community.as_(Role.VOLUNTEER, "someone-else"), volunteer["id"], 5, 403),  # not an organiser
        (community.as_(Role.COMMUNITY_WORKER), volunteer["id"], 5, 409),  # credit to one who left
        (community.as_(Role.COMMUNITY_WORKER), volunteer["id"], -11, 409),  # more than the balance
        (community.as_(Role.COMMUNITY_WORKER), "no-such-volunteer", 5, 404),
    ]
    for headers, volunteer_id, points, status in cases:
        body = {"volunteer_id": volunteer_id, "points": points, "reason": "check"}
        answer = await client.post("/v1/points/adjustments", json=body, headers=headers)
        assert answer.status_code == status, (points, answer.text)
    assert await balance(client, community, volunteer["id"]) == 10
    async with client.app.state.session_factory() as session:
        entries = (await session.exec(select(PointsEntry.points))).all()
    assert list(entries) == [10]
    taken_back = {"volunteer_id": volunteer["id"], "points": -10, "reason": "left: balance returned"}
    answer = await client.post(
        "/v1/points/adjustments", json=taken_back, headers=community.as_(Role.COMMUNITY_WORKER)
    )
    assert answer.status_code == 201 and answer.json()["balance_after"] == 0, answer.text
