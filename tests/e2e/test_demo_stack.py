"""The demo that `make run` loads, on the four services as processes: a newcomer sees the
showcases at once — an overdue visit alert that climbs the ladder, and a published 公示 with money."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from linli_shared.processes import ServiceProcess
from linli_shared.stack import DEMO, demo_loaders
from linli_shared.testing.waiting import eventually
from tests.e2e.conftest import JWT_SECRET

pytestmark = pytest.mark.e2e


def sent_messages(outbox: Path) -> list[dict[str, object]]:
    if not outbox.exists():
        return []
    return [json.loads(line) for line in outbox.read_text().splitlines() if line.strip()]


async def test_the_demo_shows_an_escalated_alert_and_a_published_period(
    start_service: Callable[..., ServiceProcess], nats_url: str, tmp_path: Path
) -> None:
    district, community = DEMO
    outbox = tmp_path / "notify-outbox.jsonl"
    services = {
        "registry": start_service("registry", nats_url, care_check_seconds="1"),
        "points": start_service("points", nats_url),
        "fund": start_service("fund", nats_url),
        "notify": start_service(
            "notify",
            nats_url,
            outbox_file=str(outbox),
            escalate_after_by_community=json.dumps({community: 2}),
            escalation_check_seconds="0.5",
            dispatch_seconds="0.5",
        ),
    }
    urls = {name: service.url for name, service in services.items()}
    loaders = dict(demo_loaders())
    assert list(loaders) == ["registry", "points", "fund"], "found through the linli.demos entry points"
    for load in loaders.values():
        assert load(urls, JWT_SECRET, progress=lambda _: None)

    published = httpx.get(f"{urls['fund']}/v1/public/funds/{district}/{community}/disclosures").json()
    assert len(published) == 1
    report = httpx.get(f"{urls['fund']}/v1/public/funds/{district}/{community}/disclosures/1.json").json()
    assert sum(int(gift["amount_fen"]) for gift in report["report"]["donations"]) > 0
    names = (report["report"]["district_name"], report["report"]["community_name"])
    assert names == ("高桥营街道", "东李庄社区"), "the fund heard the registry's place.named first"
    page = httpx.get(f"{urls['fund']}/v1/public/funds/{district}/{community}/disclosures/1.html").text
    assert "高桥营街道 · 东李庄社区" in page

    async def alert_climbed() -> list[str]:
        alerts = [m for m in sent_messages(outbox) if m["urgent"] and "逾期" in str(m["title"])]
        recipients = [str(m["recipient"]) for m in alerts]
        return recipients if any(r.startswith("community-worker") for r in recipients) else []

    recipients = await eventually(alert_climbed, timeout=60, every=0.2)
    assert any(r.startswith("grid-worker") for r in recipients), "the grid worker was told first"

    for load in loaders.values():
        assert not load(urls, JWT_SECRET, progress=lambda _: None), "a second load makes nothing"
