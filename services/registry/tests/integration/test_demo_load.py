"""The demo loaded into a real registry: stopped half-way and resumed, then its overdue showcase."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from linli_registry.app import create_app
from linli_registry.demo import DemoLoadError, load_demo
from linli_registry.models import CareGroup, HealthRecord, Household, Resident, VisitLog
from linli_registry.settings import RegistrySettings
from linli_registry.usecases import care
from linli_shared.outbox import OutboxMessage

pytestmark = [pytest.mark.integration]

URLS = {"registry": "http://testserver"}


@pytest.fixture
def registry(registry_settings: RegistrySettings) -> Iterator[TestClient]:
    with TestClient(create_app(registry_settings)) as client:
        yield client


class StopsAfter(httpx.BaseTransport):
    """The registry until `limit` requests were sent; then it is gone, as after Ctrl-C."""

    def __init__(self, transport: httpx.BaseTransport, limit: int) -> None:
        self.transport, self.limit, self.sent = transport, limit, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent += 1
        if self.sent > self.limit:
            raise httpx.ConnectError("the registry went away", request=request)
        return self.transport.handle_request(request)


def on_record(registry: TestClient) -> dict[str, object]:
    async def count() -> dict[str, object]:
        async with registry.app.state.session_factory() as session:  # type: ignore[attr-defined]
            residents = (await session.exec(select(Resident))).all()
            return {
                "households": len((await session.exec(select(Household))).all()),
                "residents": Counter(r.full_name for r in residents),
                "health": len((await session.exec(select(HealthRecord))).all()),
                "care_groups": Counter(g.resident_id for g in (await session.exec(select(CareGroup))).all()),
                "visits": Counter(
                    (v.resident_id, v.kind, v.visited_at)
                    for v in (await session.exec(select(VisitLog))).all()
                ),
            }

    return registry.portal.call(count)  # type: ignore[union-attr]


def test_a_demo_load_stopped_half_way_is_finished_by_the_next_and_its_visit_is_overdue_at_once(
    registry, test_secrets
) -> None:
    secret = test_secrets["jwt_secret"]
    with pytest.raises(DemoLoadError, match="did not answer"):
        load_demo(URLS, secret, progress=lambda _: None, transport=StopsAfter(registry._transport, 250))
    stopped = on_record(registry)
    assert 0 < sum(stopped["residents"].values()) < 250  # type: ignore[attr-defined]

    lines: list[str] = []
    assert load_demo(URLS, secret, progress=lines.append, transport=registry._transport)
    assert any("overdue" in line for line in lines)
    loaded = on_record(registry)
    assert not load_demo(URLS, secret, progress=lambda _: None, transport=registry._transport)
    assert on_record(registry) == loaded
    assert set(loaded["residents"].values()) == {1}  # type: ignore[attr-defined]
    assert set(loaded["care_groups"].values()) == {1}  # type: ignore[attr-defined]
    assert set(loaded["visits"].values()) == {1}  # type: ignore[attr-defined]
    assert loaded["households"] == 120 and loaded["health"] > 50

    # the showcase group's daily visit is overdue: the first periodic check raises its alert, once
    factory = registry.app.state.session_factory  # type: ignore[attr-defined]
    now = datetime.now(UTC)
    assert registry.portal.call(care.check_overdue_visits, factory, now) == 1  # type: ignore[union-attr]
    assert registry.portal.call(care.check_overdue_visits, factory, now) == 0  # type: ignore[union-attr]

    async def overdue() -> list[dict[str, object]]:
        async with factory() as session:
            rows = (await session.exec(select(OutboxMessage))).all()
        return [json.loads(r.envelope)["payload"] for r in rows if r.subject.endswith("care.visit.overdue")]

    [alert] = registry.portal.call(overdue)  # type: ignore[union-attr]
    assert alert["kind"] == "visit"
