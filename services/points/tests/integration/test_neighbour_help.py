"""Neighbour help over HTTP, on SQLite and PostgreSQL: offers, requests, matches, hand-overs, races."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime

import pytest
from sqlmodel import col, select

from linli_points.models import HelpMatch, HelpOffer
from linli_points.subscribers import REGISTRY, handlers
from linli_shared.auth import Role
from linli_shared.contracts.registry import ResidentMovedOut
from linli_shared.events import Envelope
from linli_shared.inbox import apply_once
from linli_shared.outbox import OutboxMessage

pytestmark = [pytest.mark.integration]


async def post(client, community, kind: str, resident_id: str, *, role=Role.COMMUNITY_WORKER, **extra):
    body = {
        "district": community.district,
        "community": community.community,
        "resident_id": resident_id,
        "goods": "轮椅",
        **extra,
    }
    return await client.post(f"/v1/help-{kind}", json=body, headers=community.as_(role))


async def posted(client, community, kind: str, resident_id: str, **extra) -> dict[str, object]:
    response = await post(client, community, kind, resident_id, **extra)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def match(client, community, offer_id: str, request_id: str):
    return await client.post(
        "/v1/help-matches",
        json={"offer_id": offer_id, "request_id": request_id},
        headers=community.as_(Role.COMMUNITY_WORKER),
    )


async def status_of(client, community, kind: str, posting_id: str) -> str:
    response = await client.get(f"/v1/help-{kind}/{posting_id}", headers=community.as_(Role.COMMUNITY_WORKER))
    assert response.status_code == 200, response.text
    return str(response.json()["status"])


async def outbox_events(client, suffix: str) -> list[dict[str, object]]:
    async with client.app.state.session_factory() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.position)))).all()
    return [json.loads(r.envelope) for r in rows if r.subject.endswith(suffix)]


async def test_offer_is_matched_to_a_request_and_handed_over(client, community, known_resident) -> None:
    giver, receiver = await known_resident(community), await known_resident(community)
    offer = await posted(
        client, community, "offers", giver, role=Role.GRID_WORKER, description="九成新, 可折叠"
    )
    request = await posted(client, community, "requests", receiver, goods="轮椅 (老人术后)")
    assert (offer["status"], request["status"]) == ("open", "open")
    listed = await client.get(
        "/v1/help-offers", params={"status": "open"}, headers=community.as_(Role.GRID_WORKER)
    )
    assert [o["id"] for o in listed.json()["items"]] == [offer["id"]]

    matched = await match(client, community, offer["id"], request["id"])

    assert matched.status_code == 201, matched.text
    help_match = matched.json()
    assert (help_match["offer_id"], help_match["request_id"]) == (offer["id"], request["id"])
    assert help_match["handed_over_at"] is None
    assert await status_of(client, community, "offers", offer["id"]) == "matched"
    assert await status_of(client, community, "requests", request["id"]) == "matched"

    handed = await client.post(
        f"/v1/help-matches/{help_match['id']}/hand-over",
        json={"note": "网格员送到家中"},
        headers=community.as_(Role.GRID_WORKER),
    )

    assert handed.status_code == 200, handed.text
    assert handed.json()["handed_over_at"] is not None and handed.json()["hand_over_note"] == "网格员送到家中"
    assert await status_of(client, community, "offers", offer["id"]) == "handed_over"
    assert await status_of(client, community, "requests", request["id"]) == "fulfilled"
    done = await client.get(
        "/v1/help-matches", params={"handed_over": "true"}, headers=community.as_(Role.COMMUNITY_WORKER)
    )
    assert [m["id"] for m in done.json()["items"]] == [help_match["id"]]
    [matched_event] = await outbox_events(client, ".points.help.matched")
    assert matched_event["payload"] == {
        "match_id": help_match["id"],
        "offer_id": offer["id"],
        "request_id": request["id"],
        "goods": "轮椅",
    }
    [handed_event] = await outbox_events(client, ".points.help.handed_over")
    assert handed_event["payload"] == {"match_id": help_match["id"]}
    assert handed_event["district"] == community.district


async def test_ten_racing_matches_of_one_offer_succeed_once(client, community, known_resident) -> None:
    offer = await posted(client, community, "offers", await known_resident(community))
    requests = [
        await posted(client, community, "requests", await known_resident(community)) for _ in range(10)
    ]

    answers = await asyncio.gather(*(match(client, community, offer["id"], r["id"]) for r in requests))

    assert sorted(a.status_code for a in answers) == [201] + [409] * 9
    [winner] = [a.json() for a in answers if a.status_code == 201]
    assert all(
        a.headers["content-type"] == "application/problem+json" for a in answers if a.status_code == 409
    )
    assert await status_of(client, community, "offers", offer["id"]) == "matched"
    statuses = {r["id"]: await status_of(client, community, "requests", r["id"]) for r in requests}
    assert statuses.pop(winner["request_id"]) == "matched"
    assert set(statuses.values()) == {"open"}, "the losing requests stay open to be matched again"
    async with client.app.state.session_factory() as session:
        matches = (await session.exec(select(HelpMatch).where(HelpMatch.offer_id == offer["id"]))).all()
    assert [m.id for m in matches] == [winner["id"]]
    assert [e["payload"]["match_id"] for e in await outbox_events(client, ".points.help.matched")] == [
        winner["id"]
    ]


async def test_offer_withdrawn_while_being_matched_ends_either_matched_or_withdrawn(
    client, community, known_resident
) -> None:
    for _ in range(5):
        offer = await posted(client, community, "offers", await known_resident(community))
        request = await posted(client, community, "requests", await known_resident(community))

        matched, withdrawn = await asyncio.gather(
            match(client, community, offer["id"], request["id"]),
            client.post(
                f"/v1/help-offers/{offer['id']}/withdrawal", headers=community.as_(Role.COMMUNITY_WORKER)
            ),
        )

        assert sorted((matched.status_code, withdrawn.status_code)) in ([200, 409], [201, 409])
        final = await status_of(client, community, "offers", offer["id"])
        request_final = await status_of(client, community, "requests", request["id"])
        if matched.status_code == 201:
            assert (final, request_final) == ("matched", "matched")
        else:
            assert (final, request_final) == ("withdrawn", "open")


async def test_hand_over_is_recorded_once(client, community, known_resident) -> None:
    offer = await posted(client, community, "offers", await known_resident(community))
    request = await posted(client, community, "requests", await known_resident(community))
    help_match = (await match(client, community, offer["id"], request["id"])).json()
    path = f"/v1/help-matches/{help_match['id']}/hand-over"
    worker = community.as_(Role.COMMUNITY_WORKER)

    answers = await asyncio.gather(
        *(client.post(path, json={"note": f"n{i}"}, headers=worker) for i in range(5))
    )
    again = await client.post(path, json={"note": "again"}, headers=worker)

    assert sorted(a.status_code for a in answers) == [200, 409, 409, 409, 409]
    assert again.status_code == 409 and again.headers["content-type"] == "application/problem+json"
    [winner] = [a.json() for a in answers if a.status_code == 200]
    stored = (await client.get(f"/v1/help-matches/{help_match['id']}", headers=worker)).json()
    assert stored["hand_over_note"] == winner["hand_over_note"]
    assert stored["handed_over_at"] == winner["handed_over_at"]
    assert len(await outbox_events(client, ".points.help.handed_over")) == 1


async def test_second_match_refused_by_the_database_is_a_conflict_not_an_error(
    client, community, known_resident
) -> None:
    offer = await posted(client, community, "offers", await known_resident(community))
    first = await posted(client, community, "requests", await known_resident(community))
    second = await posted(client, community, "requests", await known_resident(community))
    assert (await match(client, community, offer["id"], first["id"])).status_code == 201
    async with client.app.state.session_factory() as session:  # as if a bug had reopened the offer
        reopened = await session.get(HelpOffer, offer["id"])
        reopened.status = "open"
        session.add(reopened)
        await session.commit()

    again = await match(client, community, offer["id"], second["id"])

    assert again.status_code == 409 and "已经对接过了" in again.json()["detail"]
    assert await status_of(client, community, "requests", second["id"]) == "open"
    assert len(await outbox_events(client, ".points.help.matched")) == 1


@pytest.mark.parametrize("kind", ["offers", "requests"])
@pytest.mark.parametrize("who", ["unknown", "of_another_community", "moved_out"])
async def test_posting_for_a_resident_not_living_here_is_rejected(
    client, community, known_resident, kind, who
) -> None:
    if who == "unknown":
        resident_id = "no-such-resident"
    elif who == "of_another_community":
        resident_id = await known_resident(type(community)(community.district, "elsewhere"))
    else:
        resident_id = await known_resident(community)
        moved = Envelope.wrap(
            ResidentMovedOut(resident_id=resident_id, on=date.today()),
            district=community.district,
            community=community.community,
            occurred_at=datetime.now(UTC),
        )
        factory = client.app.state.session_factory
        assert await apply_once(factory, REGISTRY.consumer.durable, moved, handlers)

    response = await post(client, community, kind, resident_id)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert resident_id in response.json()["detail"]
    listed = await client.get(f"/v1/help-{kind}", headers=community.as_(Role.COMMUNITY_WORKER))
    assert listed.json()["items"] == []


async def test_worker_of_another_community_sees_and_touches_nothing(
    client, community, known_resident
) -> None:
    offer = await posted(client, community, "offers", await known_resident(community))
    request = await posted(client, community, "requests", await known_resident(community))
    other = type(community)(community.district, "other-community")
    outsider = other.as_(Role.COMMUNITY_WORKER)

    answers = [
        await client.get(f"/v1/help-offers/{offer['id']}", headers=outsider),
        await client.post(f"/v1/help-offers/{offer['id']}/withdrawal", headers=outsider),
        await client.post(f"/v1/help-requests/{request['id']}/withdrawal", headers=outsider),
        await match(client, other, offer["id"], request["id"]),
        await client.post(
            "/v1/help-offers",
            json={
                "district": community.district,
                "community": community.community,
                "resident_id": offer["resident_id"],
                "goods": "被褥",
            },
            headers=outsider,
        ),
    ]

    assert [a.status_code for a in answers] == [404] * 5
    assert (await client.get("/v1/help-offers", headers=outsider)).json()["items"] == []
    assert (await client.get("/v1/help-requests", headers=outsider)).json()["items"] == []
    help_match = (await match(client, community, offer["id"], request["id"])).json()
    hand_over = await client.post(
        f"/v1/help-matches/{help_match['id']}/hand-over", json={"note": "x"}, headers=outsider
    )
    assert hand_over.status_code == 404
    assert (await client.get("/v1/help-matches", headers=outsider)).json()["items"] == []
    assert await status_of(client, community, "offers", offer["id"]) == "matched"


async def test_offer_and_request_of_one_resident_cannot_be_matched(client, community, known_resident) -> None:
    resident_id = await known_resident(community)
    offer = await posted(client, community, "offers", resident_id)
    request = await posted(client, community, "requests", resident_id)

    response = await match(client, community, offer["id"], request["id"])

    assert response.status_code == 422 and "不能互相对接" in response.json()["detail"]
    assert await status_of(client, community, "offers", offer["id"]) == "open"
    assert await status_of(client, community, "requests", request["id"]) == "open"


async def test_withdrawn_offer_can_be_neither_matched_nor_withdrawn_again(
    client, community, known_resident
) -> None:
    offer = await posted(client, community, "offers", await known_resident(community))
    request = await posted(client, community, "requests", await known_resident(community))
    path = f"/v1/help-offers/{offer['id']}/withdrawal"
    worker = community.as_(Role.GRID_WORKER)

    withdrawn = await client.post(path, headers=worker)
    again = await client.post(path, headers=worker)
    matched = await match(client, community, offer["id"], request["id"])

    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    assert again.status_code == 409 and "已撤回" in again.json()["detail"]
    assert matched.status_code == 409 and "已撤回" in matched.json()["detail"]
    assert await status_of(client, community, "requests", request["id"]) == "open"
    assert await outbox_events(client, ".points.help.matched") == []


async def test_matched_request_cannot_be_withdrawn(client, community, known_resident) -> None:
    offer = await posted(client, community, "offers", await known_resident(community))
    request = await posted(client, community, "requests", await known_resident(community))
    assert (await match(client, community, offer["id"], request["id"])).status_code == 201

    response = await client.post(
        f"/v1/help-requests/{request['id']}/withdrawal", headers=community.as_(Role.COMMUNITY_WORKER)
    )

    assert response.status_code == 409 and "已对接" in response.json()["detail"]


async def test_only_community_workers_match_and_only_workers_record(
    client, community, known_resident
) -> None:
    offer = await posted(client, community, "offers", await known_resident(community))
    request = await posted(client, community, "requests", await known_resident(community))

    by_grid_worker = await client.post(
        "/v1/help-matches",
        json={"offer_id": offer["id"], "request_id": request["id"]},
        headers=community.as_(Role.GRID_WORKER),
    )
    by_volunteer = await post(client, community, "offers", offer["resident_id"], role=Role.VOLUNTEER)

    assert by_grid_worker.status_code == 403 and by_volunteer.status_code == 403
    assert await status_of(client, community, "offers", offer["id"]) == "open"


async def test_lists_filter_by_status_and_page_with_a_cursor(client, community, known_resident) -> None:
    offers = [await posted(client, community, "offers", await known_resident(community)) for _ in range(3)]
    worker = community.as_(Role.COMMUNITY_WORKER)
    await client.post(f"/v1/help-offers/{offers[0]['id']}/withdrawal", headers=worker)

    first = (await client.get("/v1/help-offers", params={"limit": 2}, headers=worker)).json()
    second = (
        await client.get(
            "/v1/help-offers", params={"limit": 2, "cursor": first["next_cursor"]}, headers=worker
        )
    ).json()
    still_open = (await client.get("/v1/help-offers", params={"status": "open"}, headers=worker)).json()

    seen = [o["id"] for o in first["items"] + second["items"]]
    assert sorted(seen) == sorted(o["id"] for o in offers) and second["next_cursor"] is None
    assert sorted(o["id"] for o in still_open["items"]) == sorted(o["id"] for o in offers[1:])


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("post", "/v1/help-offers", {"goods": ""}, 422),
        ("post", "/v1/help-offers", {"goods": "轮" * 201}, 422),
        ("post", "/v1/help-requests", {"resident_id": None}, 422),
        ("post", "/v1/help-requests", {"surprise": True}, 422),
        ("post", "/v1/help-requests", {"description": "x" * 1001}, 422),
        ("get", "/v1/help-offers?status=lost", None, 422),
        ("get", "/v1/help-requests?cursor=!!", None, 422),
        ("post", "/v1/help-matches", {"offer_id": "no-such-offer", "request_id": "x"}, 404),
        ("post", "/v1/help-matches", {"offer_id": "only"}, 422),
        ("post", "/v1/help-matches/no-such-match/hand-over", {"note": "x"}, 404),
        ("post", "/v1/help-offers/no-such-offer/withdrawal", None, 404),
    ],
)
async def test_bad_input_gets_a_4xx_problem_and_changes_nothing(
    client, community, known_resident, method, path, body, status
) -> None:
    resident_id = await known_resident(community)
    if body is not None and path in ("/v1/help-offers", "/v1/help-requests"):
        body = {
            "district": community.district,
            "community": community.community,
            "resident_id": resident_id,
            "goods": "被褥",
            **body,
        }
    worker = community.as_(Role.COMMUNITY_WORKER)

    response = await client.request(method, path, json=body, headers=worker)

    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    for kind in ("offers", "requests"):
        assert (await client.get(f"/v1/help-{kind}", headers=worker)).json()["items"] == []
