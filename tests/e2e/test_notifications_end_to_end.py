"""Registry, points, fund and notify as real processes on a real NATS: the right message reaches the
right person once, even when the bus delivers it again to a restarted notify service.

The community's outside channel is a real HTTP receiver in this test process (Apprise's json://).
The community's escalation time is two seconds, so the unacknowledged alert climbs from the grid
worker to the community worker (the neighbour has no SMS gateway here, so that rung is skipped).
A care group's first visit is due `visit_every_hours` (at least 1) after it was formed, by the
registry's server clock; rather than wait an hour, the test moves `formed_at` back in the registry's
own database, and the registry's periodic check (every second here) raises the alert by itself.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import nats
import pytest

from linli_shared.auth import Role, issue_token
from linli_shared.jetstream import stream_name
from linli_shared.testing.waiting import eventually

from .conftest import JWT_SECRET

pytestmark = [pytest.mark.e2e, pytest.mark.nats]

NOTIFY_DURABLES = {"registry": "notify-registry", "points": "notify-points", "fund": "notify-fund"}


@dataclass
class Webhook:
    url: str = ""
    received: list[dict[str, object]] = field(default_factory=list)

    def titles(self) -> list[str]:
        return [str(hit.get("title")) for hit in self.received]


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    """A real local HTTP server standing in for the community's webhook."""
    found = Webhook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server name
            length = int(self.headers.get("Content-Length", 0))
            found.received.append(json.loads(self.rfile.read(length) or b"{}"))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    # Apprise waits 4 s for an answer by default; a loaded CI machine (this server shares the test
    # process's GIL) has answered later than that, and a send it took as failed was sent again.
    found.url = f"json://127.0.0.1:{server.server_address[1]}/hook?cto=30&rto=30"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield found
    server.shutdown()
    server.server_close()


def bearer(role: Role, district: str | None, community: str | None, subject: str = "dev") -> dict[str, str]:
    token = issue_token(JWT_SECRET, role=role, district=district, community=community, subject=subject)
    return {"Authorization": f"Bearer {token}"}


def created(response: httpx.Response) -> dict[str, object]:
    assert response.status_code == 201, response.text
    return dict(response.json())


def inbox(url: str, headers: dict[str, str]) -> list[dict[str, object]]:
    response = httpx.get(url + "/v1/inbox", headers=headers)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def backdate_care_group(database: Path, care_group_id: str, hours: float) -> None:
    """Make the group look formed `hours` ago, as if nobody had visited since (UtcDateTime: naive UTC)."""
    formed = (datetime.now(UTC) - timedelta(hours=hours)).replace(tzinfo=None)
    with sqlite3.connect(database) as connection:
        changed = connection.execute(
            "UPDATE caregroup SET formed_at = ? WHERE id = ?",
            (formed.strftime("%Y-%m-%d %H:%M:%S.%f"), care_group_id),
        ).rowcount
    assert changed == 1


async def test_alerts_wishes_and_donations_reach_their_people_once_across_a_restart(
    start_service, nats_url, webhook, tmp_path
) -> None:
    district, community = f"d{uuid.uuid4().hex[:8]}", f"c{uuid.uuid4().hex[:8]}"
    notify_env = {
        "channels": json.dumps({community: [webhook.url]}),
        "dispatch_seconds": "0.2",
        "quiet_start": "00:00",  # no quiet hours: the test must pass at any hour of the day
        "quiet_end": "00:00",
        "digest_enabled": "false",  # its hour is wall-clock time; the digest has its own tests
        "escalate_after_by_community": json.dumps({community: 2}),
        "escalation_check_seconds": "0.5",
        "outbox_file": str(tmp_path / "notify-outbox.jsonl"),  # as `make run` shows messages flowing
    }
    registry = start_service("registry", nats_url, care_check_seconds="1")
    points = start_service("points", nats_url)
    fund = start_service("fund", nats_url)
    notify = start_service("notify", nats_url, **notify_env)

    admin = bearer(Role.CITY_ADMIN, None, None)
    worker = bearer(Role.COMMUNITY_WORKER, district, community, "cw-zhang")
    grid_worker = bearer(Role.GRID_WORKER, district, community, "grid-li")
    created(
        httpx.post(
            registry.url + "/v1/districts", json={"code": district, "name": "高桥营街道"}, headers=admin
        )
    )
    created(
        httpx.post(
            registry.url + "/v1/communities",
            json={"district": district, "code": community, "name": "东李庄社区"},
            headers=admin,
        )
    )
    resident = created(
        httpx.post(
            registry.url + "/v1/residents",
            json={
                "district": district,
                "community": community,
                "full_name": "王秀英",
                "gender": "female",
                "id_number": "110105194403080027",
                "tags": ["living_alone"],
            },
            headers=worker,
        )
    )
    resident_id = str(resident["id"])
    group = created(
        httpx.post(
            registry.url + "/v1/care-groups",
            json={
                "resident_id": resident_id,
                "community_worker": "cw-zhang",
                "grid_worker": "grid-li",
                "neighbour_name": "赵大妈",
                "visit_every_hours": 1,  # the smallest period the registry allows
                "call_every_days": 1,
            },
            headers=worker,
        )
    )

    # (a) a missed visit: the registry's own check raises it, notify alerts the grid worker
    # 2.5 h, not a whole number: a check that took its clock just before the backdate would find an
    # earlier missed slot than the next check, and a whole number puts a slot on "now" (two alerts)
    backdate_care_group(tmp_path / "registry.db", str(group["id"]), hours=2.5)

    async def alerted() -> list[dict[str, object]]:
        return inbox(notify.url, grid_worker)

    (alert,) = await eventually(alerted, timeout=60, every=0.2)
    assert alert["event_type"] == "registry.care.visit.overdue" and alert["urgency"] == "urgent"
    assert "王秀英" in str(alert["title"]) and "逾期" in str(alert["title"])

    async def alert_hook() -> bool:
        return any("王秀英" in title for title in webhook.titles())

    await eventually(alert_hook, timeout=30, every=0.1)

    # (a') nobody acknowledges it: two seconds later it climbs to the community worker, once
    async def climbed() -> list[dict[str, object]]:
        return inbox(notify.url, worker)

    (escalation,) = await eventually(climbed, timeout=30, every=0.2)
    assert (escalation["rung"], escalation["escalation_of"]) == ("community_worker", alert["id"])
    assert "升级" in str(escalation["title"]) and "grid-li" in str(escalation["body"])

    async def escalation_written() -> bool:
        return "cw-zhang" in (tmp_path / "notify-outbox.jsonl").read_text(encoding="utf-8")

    await eventually(escalation_written, timeout=30, every=0.1)

    # (b) a claimed wish reaches the resident, who reads it with their own token
    async def enrolled() -> bool:
        response = httpx.post(
            points.url + "/v1/volunteers",
            json={"district": district, "community": community, "subject": "vol-wang", "full_name": "王志愿"},
            headers=worker,
        )
        assert response.status_code == 201, response.text
        return True

    await eventually(enrolled, timeout=30, every=0.2)

    async def posted() -> dict[str, object] | None:
        response = httpx.post(
            points.url + "/v1/wishes", json={"resident_id": resident_id, "title": "一台轮椅"}, headers=worker
        )
        assert response.status_code in (201, 422), response.text
        return dict(response.json()) if response.status_code == 201 else None  # 422 until points knows her

    wish = await eventually(posted, timeout=30, every=0.2)
    reviewed = httpx.post(
        f"{points.url}/v1/wishes/{wish['id']}/review", json={"approve": True}, headers=worker
    )
    assert reviewed.status_code == 200, reviewed.text
    volunteer = bearer(Role.VOLUNTEER, district, community, "vol-wang")
    claimed = httpx.post(f"{points.url}/v1/wishes/{wish['id']}/claim", headers=volunteer)
    assert claimed.status_code == 200, claimed.text
    me = bearer(Role.RESIDENT, district, community, resident_id)

    async def told() -> list[dict[str, object]]:
        return inbox(notify.url, me)

    (news,) = await eventually(told, timeout=30, every=0.2)
    assert news["event_type"] == "points.wish.claimed" and news["recipient"] == f"resident:{resident_id}"
    assert "王秀英" in str(news["body"]) and "一台轮椅" in str(news["body"])

    # (c) a donation: the donor, a registered resident, reads the thanks and the receipt number in the app
    async def donated() -> dict[str, object] | None:
        response = httpx.post(
            fund.url + "/v1/donations",
            json={
                "district": district,
                "community": community,
                "donor_kind": "resident",
                "donor_name": "王秀英",
                "donor_resident_id": resident_id,
                "channel": "cash",
                "amount_fen": 50000,
            },
            headers=worker,
        )
        assert response.status_code in (201, 422), response.text
        return dict(response.json()) if response.status_code == 201 else None  # 422 until the fund knows her

    donation = await eventually(donated, timeout=30, every=0.2)

    async def thanked() -> list[dict[str, object]]:
        return [item for item in inbox(notify.url, me) if item["event_type"] == "fund.donation.received"]

    (thanks,) = await eventually(thanked, timeout=30, every=0.2)
    assert str(donation["receipt_number"]) in str(thanks["title"]) and "500.00" in str(thanks["body"])

    async def thanks_written() -> bool:  # a resident's thanks stays off the community's group channel
        written = (tmp_path / "notify-outbox.jsonl").read_text(encoding="utf-8")
        return str(donation["receipt_number"]) in written

    await eventually(thanks_written, timeout=30, every=0.1)
    assert len(webhook.received) == 2, webhook.titles()  # the grid worker's alert and its escalation

    # (d) restart notify and deliver every event again: nothing goes out twice
    notify.stop()
    client = await nats.connect(nats_url)
    jetstream = client.jetstream()
    for producer, durable in NOTIFY_DURABLES.items():
        await jetstream.delete_consumer(stream_name(producer), durable)  # replay all from the start
    for subject in (
        f"linli.{district}.registry.care.visit.overdue",
        f"linli.{district}.points.wish.claimed",
        f"linli.{district}.fund.donation.received",
    ):  # and a publisher's retry of each, past JetStream's duplicate window (a fresh message id)
        original = await jetstream.get_last_msg(stream_name(subject.split(".")[2]), subject)
        assert json.loads(original.data)["district"] == district
        await jetstream.publish(subject, original.data, headers={"Nats-Msg-Id": uuid.uuid4().hex})
    notify = start_service("notify", nats_url, **notify_env)

    async def all_applied() -> bool:
        for producer, durable in NOTIFY_DURABLES.items():
            stream = await jetstream.stream_info(stream_name(producer))
            consumer = await jetstream.consumer_info(stream_name(producer), durable)
            if consumer.delivered.stream_seq < stream.state.last_seq or consumer.num_ack_pending:
                return False
        return True

    await eventually(all_applied, timeout=60, every=0.2)
    await client.drain()
    second = created(
        httpx.post(
            fund.url + "/v1/donations",
            json={
                "district": district,
                "community": community,
                "donor_kind": "outsider",
                "donor_name": "某公司",
                "anonymous": True,
                "channel": "bank_transfer",
                "amount_fen": 1000,
            },
            headers=worker,
        )
    )

    async def sentinel() -> bool:  # the dispatcher has run after every replayed event was applied
        written = (tmp_path / "notify-outbox.jsonl").read_text(encoding="utf-8")
        return str(second["receipt_number"]) in written

    await eventually(sentinel, timeout=30, every=0.1)
    assert len(webhook.received) == 2, webhook.titles()
    assert (
        len(inbox(notify.url, grid_worker)) == 1 and len(inbox(notify.url, me)) == 2
    )  # the wish, the thanks
    assert len(inbox(notify.url, worker)) == 1, "the replayed alert does not climb again"

    async def mirrored() -> list[dict[str, object]]:
        # this test's district only, should the server ever be shared again
        lines = (tmp_path / "notify-outbox.jsonl").read_text(encoding="utf-8").splitlines()
        ours = [line for line in map(json.loads, lines) if line["district"] == district]
        return ours if len(ours) >= 5 else []

    written = await eventually(mirrored, timeout=30, every=0.1)
    assert [line["recipient"] for line in written] == [
        "grid-li",
        "cw-zhang",
        f"resident:{resident_id}",
        f"resident:{resident_id}",
        f"donor:{second['id']}",
    ]
