"""The registry as its own process: every registration publishes each of its events once, whatever fails."""

from __future__ import annotations

import uuid
from datetime import date

import httpx
import nats
import pytest
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from sqlalchemy import func
from sqlmodel import col, select

from linli_registry.domain import id_check_char
from linli_shared.auth import Role, issue_token
from linli_shared.contracts.registry import ResidentRegistered
from linli_shared.database import make_engine, make_session_factory
from linli_shared.events import Envelope
from linli_shared.jetstream import stream_name
from linli_shared.outbox import OutboxMessage
from linli_shared.testing.waiting import eventually

from .conftest import JWT_SECRET

pytestmark = [pytest.mark.e2e, pytest.mark.nats]

ID_NUMBER_BODY = "11010519520817123"
ID_NUMBER = ID_NUMBER_BODY + id_check_char(ID_NUMBER_BODY)


def setup_place(url: str) -> tuple[str, dict[str, str]]:
    district = f"d{uuid.uuid4().hex[:10]}"
    admin = {"Authorization": f"Bearer {issue_token(JWT_SECRET, role=Role.CITY_ADMIN, district=None)}"}
    for path, body in (
        ("/v1/districts", {"code": district, "name": "高桥营街道"}),
        ("/v1/communities", {"district": district, "code": "donglizhuang", "name": "东李庄社区"}),
    ):
        response = httpx.post(url + path, json=body, headers=admin, timeout=10)
        assert response.status_code == 201, response.text
    token = issue_token(JWT_SECRET, role=Role.COMMUNITY_WORKER, district=district, community="donglizhuang")
    return district, {"Authorization": f"Bearer {token}"}


REGISTRATION_EVENTS = ("resident.registered", "resident.contact_changed")  # one commit, both events
PLACE_EVENTS = 2  # setup_place's district and community, each announced once as place.named


def register(url: str, district: str, auth: dict[str, str]) -> dict[str, object]:
    response = httpx.post(
        url + "/v1/residents",
        json={
            "district": district,
            "community": "donglizhuang",
            "full_name": "刘立民",
            "gender": "male",
            "id_number": ID_NUMBER,
            "tags": ["living_alone"],
        },
        headers=auth,
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def events_for(js: JetStreamContext, district: str) -> dict[str, int]:
    """How many messages the registry's stream holds on each subject of this district."""
    try:
        info = await js.stream_info(stream_name("registry"), subjects_filter=f"linli.{district}.>")
    except NotFoundError:
        return {}
    return dict(info.state.subjects or {})


async def unsent_rows(database_url: str, *, places: bool = True) -> int:
    """Rows the relay has not published yet; the registration's alone when `places` is False."""
    engine = make_engine(database_url)
    try:
        async with make_session_factory(engine)() as session:
            statement = (
                select(func.count()).select_from(OutboxMessage).where(col(OutboxMessage.sent_at).is_(None))
            )
            if not places:
                statement = statement.where(col(OutboxMessage.subject).not_like("%.registry.place.named"))
            return int((await session.exec(statement)).one())
    finally:
        await engine.dispose()


async def published_once(js: JetStreamContext, database_url: str, district: str) -> None:
    """Wait until the outbox is drained; then each event of the registration is there exactly once."""
    await eventually(lambda: events_for(js, district))

    async def drained() -> bool:
        return await unsent_rows(database_url) == 0

    await eventually(drained)
    assert await events_for(js, district) == {
        **{f"linli.{district}.registry.{name}": 1 for name in REGISTRATION_EVENTS},
        f"linli.{district}.registry.place.named": PLACE_EVENTS,
    }


async def test_registration_over_http_produces_each_of_its_events_exactly_once(
    start_registry, nats_url, database_url
) -> None:
    registry = start_registry(nats_url, wait="/readyz")
    district, auth = setup_place(registry.url)
    resident = register(registry.url, district, auth)

    client = await nats.connect(nats_url)
    try:
        js = client.jetstream()
        await published_once(js, database_url, district)
        subject = f"linli.{district}.registry.resident.registered"
        message = await js.get_last_msg(stream_name("registry"), subject)
    finally:
        await client.drain()

    envelope = Envelope.model_validate_json(message.data)
    assert message.headers and message.headers["Nats-Msg-Id"] == envelope.event_id
    assert (envelope.event_type, envelope.producer, envelope.schema_version) == (
        "registry.resident.registered",
        "registry",
        1,
    )
    assert (envelope.district, envelope.community) == (district, "donglizhuang")
    event = envelope.open(ResidentRegistered)
    assert event.resident_id == resident["id"] and event.birth_date == date(1952, 8, 17)
    assert event.id_number_masked == ID_NUMBER[:6] + "********" + ID_NUMBER[-4:]
    assert ID_NUMBER not in message.data.decode() and ID_NUMBER_BODY not in message.data.decode()


async def test_registry_killed_between_commit_and_publish_publishes_after_restart_once(
    start_registry, nats_url, database_url
) -> None:
    # With the relay off the write commits and nothing publishes: the state a SIGKILL right
    # after the commit leaves behind.
    registry = start_registry(nats_url, relay=False)
    district, auth = setup_place(registry.url)
    register(registry.url, district, auth)
    assert await unsent_rows(database_url) == len(REGISTRATION_EVENTS) + PLACE_EVENTS
    registry.kill()

    client = await nats.connect(nats_url)
    try:
        js = client.jetstream()
        assert await events_for(js, district) == {}
        start_registry(nats_url)
        await published_once(js, database_url, district)
    finally:
        await client.drain()


async def test_writes_succeed_while_nats_is_down_and_their_events_follow(
    start_registry, own_nats_server, database_url
) -> None:
    registry = start_registry(own_nats_server.url, wait="/readyz")
    district, auth = setup_place(registry.url)
    own_nats_server.stop()

    async def not_ready() -> bool:
        return httpx.get(registry.url + "/readyz", timeout=5).status_code == 503

    await eventually(not_ready)
    register(registry.url, district, auth)
    assert await unsent_rows(database_url, places=False) == len(REGISTRATION_EVENTS)

    own_nats_server.start()
    client = await nats.connect(own_nats_server.url)
    try:
        await published_once(client.jetstream(), database_url, district)
    finally:
        await client.drain()
