"""Two replicas of registry and points on PostgreSQL against a 3-node cluster with R3 streams: every
outbox row published once and every event applied once, with the stream leader or a replica killed."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator

import nats
import pytest
from nats.js import JetStreamContext
from nats.js.api import StreamInfo

from linli_shared.jetstream import ensure_stream, event_stream_config
from linli_shared.processes import ServiceProcess
from linli_shared.testing.cluster import wait_healthy, wait_ready
from linli_shared.testing.waiting import eventually

from .conftest import City
from .effects import ReadinessLog, Registrations, column, count_rows, stream_event_ids

pytestmark = [pytest.mark.cluster, pytest.mark.postgres, pytest.mark.nats]

STREAM = "LINLI_REGISTRY"
CONSUMER = "points-registry"


@pytest.fixture
async def hub_js(city: City) -> AsyncIterator[JetStreamContext]:
    client = await nats.connect(city.hub.url.split(","), max_reconnect_attempts=-1, reconnect_time_wait=0.2)
    yield client.jetstream(timeout=2)
    await client.close()


async def stream_info(js: JetStreamContext) -> StreamInfo | None:
    try:
        return await js.stream_info(STREAM)
    except Exception:  # no leader yet, or our server is the one killed: ask again
        return None


async def assert_each_event_published_and_applied_once(
    city: City, js: JetStreamContext, writes: Registrations
) -> None:
    """Every acknowledged resident is known to points; the registry's outbox rows, the stream and
    points' inbox hold the same events (two per registration), each once."""
    registry_db, points_db = city.database_urls["registry"], city.database_urls["points"]
    residents = len(writes.acknowledged)

    async def all_applied() -> bool:
        known = "SELECT count(*) FROM known_resident WHERE district = $1"
        return await count_rows(points_db, known, writes.district) == residents

    async def all_sent() -> bool:  # a row whose publish failed while the stream had no leader backs off
        unsent = "SELECT count(*) FROM outbox_message WHERE sent_at IS NULL"
        return await count_rows(registry_db, unsent) == 0

    await eventually(all_applied, timeout=90, every=0.5)
    await eventually(all_sent, timeout=90, every=0.5)
    outbox = set(await column(registry_db, "SELECT event_id FROM outbox_message WHERE sent_at IS NOT NULL"))
    assert await count_rows(registry_db, "SELECT count(*) FROM outbox_message") == len(outbox)
    # resident.registered and resident.contact_changed, and place.named for the district and community
    assert len(outbox) == 2 * residents + 2
    published = await stream_event_ids(js, STREAM)
    assert set(published) == outbox, "an outbox row missing from the stream, or an event from nowhere"
    doubled = [event for event, times in published.items() if times > 1]
    assert not doubled, f"stored twice: {doubled}"

    async def inbox_complete() -> set[object] | None:
        inbox = "SELECT event_id FROM inbox_entry WHERE consumer = $1"
        applied = set(await column(points_db, inbox, CONSUMER))
        return applied if applied == outbox else None

    await eventually(inbox_complete, timeout=60, every=0.5)
    known_ids = set(
        await column(points_db, "SELECT resident_id FROM known_resident WHERE district = $1", writes.district)
    )
    assert known_ids == set(writes.acknowledged)

    async def all_acknowledged() -> bool:  # the acks of the last batch follow its commit
        consumer = await js.consumer_info(STREAM, CONSUMER)
        return consumer.num_pending == 0 and consumer.num_ack_pending == 0

    await eventually(all_acknowledged, timeout=60, every=0.5)
    print(
        f"\nCLUSTER {residents} residents written, {len(published)} events published, {len(outbox)} applied, "
        f"0 lost, {sum(published.values()) - len(published)} doubled; writes retried on the other replica: "
        f"{writes.retried}"
    )


def two_replicas_each(city: City) -> tuple[list[ServiceProcess], list[ServiceProcess], Registrations]:
    """Two registry and two points replicas, and registrations spread over the registry's."""
    registry, points = city.start("registry", replicas=2), city.start("points", replicas=2)
    writes = Registrations([replica.url for replica in registry])
    writes.create_places()
    return registry, points, writes


async def test_two_replicas_of_each_service_publish_each_row_once_and_apply_each_event_once(
    city: City, hub_js: JetStreamContext
) -> None:
    registry, _, writes = two_replicas_each(city)
    await asyncio.to_thread(writes.register, 100)
    assert len(writes.acknowledged) == 100 and not writes.refused, writes.refused[:3]

    await assert_each_event_published_and_applied_once(city, hub_js, writes)
    info = await hub_js.stream_info(STREAM)
    assert info.config.num_replicas == 3 and info.cluster is not None
    assert len(info.cluster.replicas or []) == 2 and all(r.current for r in info.cluster.replicas or [])


async def test_stream_leader_killed_mid_writes_loses_and_doubles_nothing(
    city: City, hub_js: JetStreamContext
) -> None:
    registry, _, writes = two_replicas_each(city)
    await asyncio.to_thread(writes.register, 20)
    await eventually(lambda: _stored(hub_js, 40), timeout=30)
    first = await stream_info(hub_js)
    old_leader = first.cluster.leader if first and first.cluster else None
    assert old_leader

    with ReadinessLog(registry[0].url) as readiness:
        writer = threading.Thread(target=writes.register, args=(100,))
        writer.start()
        await eventually(lambda: _acknowledged(writes, 50), timeout=60)
        node = city.hub.node_named(old_leader)
        node.kill()
        killed_at = time.monotonic()

        async def new_leader() -> str | None:
            info = await stream_info(hub_js)
            leader = info.cluster.leader if info and info.cluster else None
            return leader if leader not in (None, old_leader) else None

        elected = await eventually(new_leader, timeout=30, every=0.1)
        election_seconds = time.monotonic() - killed_at
        await asyncio.to_thread(writer.join, 120)
        node.start()
        await asyncio.to_thread(wait_healthy, [node])
        await eventually(lambda: _ready(registry[0].url), timeout=30)

    assert len(writes.acknowledged) == 120 and not writes.refused, writes.refused[:3]
    await assert_each_event_published_and_applied_once(city, hub_js, writes)
    statuses = sorted({status for _, status in readiness.answers})
    assert 503 in statuses, "readiness never noticed the stream without a leader"
    print(
        f"CLUSTER leader {old_leader} killed: {elected} elected in {election_seconds:.1f}s; "
        f"/readyz answered {statuses}, not ready for {readiness.not_ready_seconds():.1f}s in all"
    )


async def test_replicas_killed_mid_flow_leave_nothing_missing_or_doubled(
    city: City, hub_js: JetStreamContext
) -> None:
    registry, points, writes = two_replicas_each(city)
    writer = threading.Thread(target=writes.register, args=(100,))
    writer.start()
    await eventually(lambda: _acknowledged(writes, 30), timeout=60)
    registry[0].kill()  # SIGKILL: perhaps the relay's leader, perhaps mid-request
    points[0].kill()  # perhaps mid-batch: its fetched events are redelivered after the ack wait
    await eventually(lambda: _acknowledged(writes, 60), timeout=60)
    for replica in (registry[0], points[0]):
        replica.start()
    for replica in (registry[0], points[0]):
        await asyncio.to_thread(wait_ready, replica)
    await asyncio.to_thread(writer.join, 120)

    assert len(writes.acknowledged) == 100 and not writes.refused, writes.refused[:3]
    await assert_each_event_published_and_applied_once(city, hub_js, writes)


async def _acknowledged(writes: Registrations, count: int) -> bool:
    return len(writes.acknowledged) >= count


async def _stored(js: JetStreamContext, count: int) -> bool:
    info = await stream_info(js)
    return info is not None and info.state.messages >= count


async def _ready(url: str) -> bool:
    import httpx

    async with httpx.AsyncClient() as client:
        return (await client.get(url + "/readyz", timeout=3)).status_code == 200


async def test_a_changed_replica_count_is_applied_to_an_existing_stream(hub_js: JetStreamContext) -> None:
    """LINLI_STREAM_REPLICAS raised on a running city: the next start-up's ensure_stream updates the
    stream in place (the server adds the copies) rather than ignoring the new count."""
    config = event_stream_config("fund", replicas=1)
    await ensure_stream(hub_js, config)
    assert (await hub_js.stream_info(config.name or "")).config.num_replicas == 1

    await ensure_stream(hub_js, event_stream_config("fund", replicas=3))

    async def three_copies() -> bool:
        info = await hub_js.stream_info(config.name or "")
        return (
            info.config.num_replicas == 3
            and info.cluster is not None
            and len(info.cluster.replicas or []) == 2
        )

    await eventually(three_copies, timeout=30)
