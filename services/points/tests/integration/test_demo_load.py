"""The points demo against the real points service: interrupted, resumed and loaded again."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import select

from linli_points.app import create_app
from linli_points.demo import COMMUNITY, DISTRICT, DemoLoadError, load_demo
from linli_points.models import (
    Activity,
    HelpMatch,
    Item,
    PointsEntry,
    Redemption,
    ServiceRecord,
    SignUp,
    StockIntake,
    Team,
    Volunteer,
    Wish,
)
from linli_points.settings import PointsSettings
from linli_points.subscribers import REGISTRY, handlers
from linli_shared.contracts.registry import ResidentRegistered
from linli_shared.events import Envelope
from linli_shared.inbox import apply_once
from linli_shared.testing.http import TEST_JWT_SECRET, running_app

pytestmark = [pytest.mark.integration]

URLS = {"points": "http://points.test", "registry": "http://registry.test"}
COUNTED = (Team, Volunteer, Activity, SignUp, ServiceRecord, PointsEntry, Item, StockIntake, Redemption)


def residents() -> list[dict[str, Any]]:
    """Forty residents of the demo community, as the registry lists them; every third a party member."""
    people = []
    for number in range(1, 41):
        tags = ["party_member"] if number % 3 == 0 else []
        tags += ["living_alone"] if number % 7 == 0 else []
        people.append(
            {
                "id": f"00000000-0000-4000-8000-{number:012d}",
                "full_name": f"居民{number}",
                "age": 20 + number,
                "tags": tags,
                "grid_code": f"zone-{number % 5 + 1}",
            }
        )
    return people


class Bridge(httpx.BaseTransport):
    """The demo's blocking calls, answered by the registry's list here and by the points app in its loop."""

    def __init__(self, client: httpx.AsyncClient, loop: asyncio.AbstractEventLoop, people: list[Any]) -> None:
        self.client, self.loop, self.people = client, loop, people

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        if request.url.host == "registry.test":
            tag = request.url.params.get("tag")
            return httpx.Response(
                200, json={"items": [p for p in self.people if tag is None or tag in p["tags"]]}
            )
        return asyncio.run_coroutine_threadsafe(self.forward(request), self.loop).result()

    async def forward(self, request: httpx.Request) -> httpx.Response:
        answer = await self.client.request(
            request.method,
            request.url.path,
            params=request.url.params,
            headers=request.headers,
            content=request.content,
        )
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)


class LostAfter(httpx.BaseTransport):
    """Passes the first `requests` on; the answer to the last of them is lost, then nothing answers."""

    def __init__(self, transport: httpx.BaseTransport, requests: int) -> None:
        self.transport, self.left = transport, requests

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.left <= 0:
            raise httpx.ConnectError("the stack stopped", request=request)
        self.left -= 1
        answer = self.transport.handle_request(request)
        if self.left == 0:
            raise httpx.ReadError("the answer was lost", request=request)
        return answer


async def counts(factory: Any) -> dict[str, int]:
    async with factory() as session:
        found = {
            model.__name__: int((await session.exec(select(func.count()).select_from(model))).one())
            for model in (*COUNTED, Wish, HelpMatch)
        }
        found["stock"] = int((await session.exec(select(func.sum(Item.stock)))).one() or 0)
    return found


async def load(transport: httpx.BaseTransport) -> bool:
    return await asyncio.to_thread(
        load_demo, URLS, TEST_JWT_SECRET, transport=transport, progress=lambda _: None
    )


async def test_interrupted_demo_resumes_and_a_second_load_adds_nothing(tmp_path: Path) -> None:
    settings = PointsSettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'points.db'}",
        nats_url="nats://127.0.0.1:9",
        jwt_secret=TEST_JWT_SECRET,
    )
    people = residents()
    async with running_app(create_app(settings)) as client:
        factory = client.app.state.session_factory  # type: ignore[attr-defined]
        for person in people:
            event = ResidentRegistered(
                resident_id=person["id"],
                community=COMMUNITY,
                full_name=person["full_name"],
                birth_date=date(2006 - person["age"], 1, 1),
                id_number_masked="110105********002X",
                tags=person["tags"],
            )
            envelope = Envelope.wrap(
                event, district=DISTRICT, community=COMMUNITY, occurred_at=datetime.now(UTC)
            )
            assert await apply_once(factory, REGISTRY.consumer.durable, envelope, handlers)
        bridge = Bridge(client, asyncio.get_running_loop(), people)

        with pytest.raises(DemoLoadError, match="ReadError"):
            await load(LostAfter(bridge, 25))  # in the middle of the enrolments
        part = await counts(factory)
        assert await load(bridge) is True
        whole = await counts(factory)
        assert await load(bridge) is False, "all is there: it says so and loads nothing"
        again = await counts(factory)

    assert part["Volunteer"] < whole["Volunteer"], "the first load stopped part-way"
    assert again == whole, "a second load makes nothing new"
    assert (whole["Team"], whole["Activity"], whole["Item"], whole["Redemption"]) == (6, 7, 6, 2)
    assert (whole["Wish"], whole["HelpMatch"]) == (3, 1)
    assert whole["ServiceRecord"] > 0 and whole["SignUp"] > whole["ServiceRecord"]
