"""The fund demo against the real fund API (a fake registry lists the residents): it loads, shows a
published period with money in it, and a load stopped half-way is finished by the next one."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from linli_fund import demo
from linli_fund.subscribers import REGISTRY, handlers
from linli_shared.auth import Role
from linli_shared.contracts.registry import ResidentRegistered
from linli_shared.events import Envelope
from linli_shared.inbox import apply_once
from linli_shared.testing.http import TEST_JWT_SECRET, bearer

pytestmark = [pytest.mark.integration]

URLS = {"fund": "http://fund.test", "registry": "http://registry.test"}
PEOPLE = [
    {"id": str(uuid.uuid4()), "full_name": name, "birth_date": born, "age": age, "tags": tags}
    for name, born, age, tags in [
        ("张小明", "2016-05-01", 10, ["orphan"]),
        ("李秀英", "1946-02-01", 80, ["bedridden"]),
        ("王建国", "1966-07-01", 60, ["party_member"]),
        ("赵红", "1970-09-01", 56, ["party_member"]),
        ("刘洋", "1990-01-01", 36, []),
        ("陈静", "1988-03-01", 38, []),
    ]
]


class Bridge(httpx.BaseTransport):
    """The loader's (blocking) requests: the registry's answered here, the fund's by the app on the
    test's event loop; after `fail_after` requests the connection drops."""

    def __init__(
        self, client: httpx.AsyncClient, loop: asyncio.AbstractEventLoop, fail_after: int = -1
    ) -> None:
        self.client, self.loop, self.left, self.sent = client, loop, fail_after, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.left == 0:
            raise httpx.ConnectError("the stack went away", request=request)
        self.left -= 1
        self.sent += 1
        if request.url.host == "registry.test":
            tag = request.url.params.get("tag")
            return httpx.Response(200, json={"items": [p for p in PEOPLE if tag is None or tag in p["tags"]]})
        forwarded = self.client.build_request(
            request.method,
            request.url.copy_with(scheme="http", host="service"),
            headers=request.headers,
            content=request.read(),
        )
        answer = asyncio.run_coroutine_threadsafe(self.client.send(forwarded), self.loop).result()
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)


async def learn_residents(client: httpx.AsyncClient) -> None:
    for person in PEOPLE:
        event = ResidentRegistered(
            resident_id=person["id"],
            community=demo.COMMUNITY,
            full_name=person["full_name"],
            birth_date=date.fromisoformat(person["birth_date"]),
            id_number_masked="110105********0011",
            tags=person["tags"],
        )
        envelope = Envelope.wrap(
            event, district=demo.DISTRICT, community=demo.COMMUNITY, occurred_at=datetime.now(UTC)
        )
        assert await apply_once(
            client.app.state.session_factory, REGISTRY.consumer.durable, envelope, handlers
        )  # type: ignore[attr-defined]


async def load(client: httpx.AsyncClient, fail_after: int = -1) -> tuple[bool, int]:
    """Whether it loaded anything, and how many requests it sent."""
    transport = Bridge(client, asyncio.get_running_loop(), fail_after)
    loaded = await asyncio.to_thread(
        demo.load_demo, URLS, TEST_JWT_SECRET, progress=lambda _: None, transport=transport, timeout=5
    )
    return loaded, transport.sent


async def what_is_there(client: httpx.AsyncClient) -> dict[str, Any]:
    auditor = bearer(Role.AUDITOR, demo.DISTRICT)
    fund = (await client.get(f"/v1/funds/{demo.DISTRICT}/{demo.COMMUNITY}", headers=auditor)).json()
    lists = {
        what: (await client.get(f"/v1/{what}", params={"limit": 200}, headers=auditor)).json()["items"]
        for what in ("campaigns", "donations", "commitments", "disbursements")
    }
    public = (await client.get(f"/v1/public/funds/{demo.DISTRICT}/{demo.COMMUNITY}/disclosures")).json()
    return {
        "funds": {line["fund"]: line for line in fund["funds"]},
        "donations": sorted(
            (d["donor_name"], d["amount_fen"], d["received_at"][:10]) for d in lists["donations"]
        ),
        "campaigns": len(lists["campaigns"]),
        "commitments": [(c["status"], c["remaining_fen"]) for c in lists["commitments"]],
        "disbursements": sorted((d["purpose"], d["status"], d["amount_fen"]) for d in lists["disbursements"]),
        "published": [(p["first_day"], p["report"]["income"]["total_fen"]) for p in public],
    }


async def test_the_demo_publishes_last_month_with_its_gifts_and_loads_once(client) -> None:
    await learn_residents(client)
    loaded, sent = await load(client)
    assert loaded and sent > 20

    there = await what_is_there(client)
    last_month = sum(g["amount_fen"] for g in demo.DATA["last_month"])
    [(first_day, income)] = there["published"]
    assert income == last_month > 0, "the public page shows a published period with money in it"
    assert there["funds"]["medical"]["balance_fen"] == 800_000 - 300_000
    assert there["disbursements"] == [("education", "paid", demo.TERM_FEE_FEN), ("medical", "paid", 300_000)]
    assert (await load(client))[0] is False


@pytest.mark.parametrize("stopped_after", [9, 21])  # in the drive's gifts; between approvals
async def test_a_demo_load_stopped_half_way_is_finished_by_the_next(client, stopped_after: int) -> None:
    await learn_residents(client)
    with pytest.raises(demo.DemoLoadError, match="did not answer"):
        await load(client, fail_after=stopped_after)
    assert (await load(client))[0] is True
    there = await what_is_there(client)
    assert there["campaigns"] == 1 and len(there["commitments"]) == 1 and len(there["published"]) == 1
    drive = demo.plan_gifts([p for p in PEOPLE if "party_member" in p["tags"]], PEOPLE)
    assert (
        len(there["donations"]) == len(set(there["donations"])) == len(demo.DATA["last_month"]) + len(drive)
    )
    assert there["disbursements"] == [("education", "paid", demo.TERM_FEE_FEN), ("medical", "paid", 300_000)]
