"""A district site (a leaf node in its own JetStream domain, with its own registry and points) keeps
working while its link to the hub is cut or silently dropped, and the hub's city-wide stream, which
sources the district's stream, catches up with every event exactly once when the link returns."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from functools import partial

import nats
import pytest
from nats.js import JetStreamContext

from linli_shared.cli import main as linli
from linli_shared.jetstream import city_stream_name, stream_name
from linli_shared.processes import ServiceProcess
from linli_shared.testing.cluster import (
    NatsNode,
    district_site,
    wait_healthy,
)
from linli_shared.testing.waiting import eventually

from .conftest import City
from .effects import Registrations, count_rows, stream_event_ids
from .link import LinkProxy

pytestmark = [pytest.mark.cluster, pytest.mark.postgres, pytest.mark.nats]


@dataclass
class District:
    name: str
    site: NatsNode
    links: list[LinkProxy]  # one per hub node: the district dials only these
    registry: ServiceProcess
    points: ServiceProcess

    def cut(self) -> None:
        for link in self.links:
            link.cut()

    def silence(self) -> None:
        for link in self.links:
            link.silence()

    def restore(self) -> None:
        for link in self.links:
            link.restore()

    def linked(self) -> bool:
        return bool(self.site.monitoring("/leafz").json()["leafnodes"])


@pytest.fixture
def district(city: City) -> Iterator[District]:
    name = f"d{uuid.uuid4().hex[:8]}"
    links = [LinkProxy(port) for port in city.hub.leaf_ports]
    for link in links:
        link.start()
    site = district_site(city.root / "nats", name, city.hub.leaf_urls([link.port for link in links]))
    try:
        site.start()
        wait_healthy([site])
        (registry,) = city.start("registry", nats_url=site.url, district=name, stream_replicas="1")
        (points,) = city.start("points", nats_url=site.url, district=name, stream_replicas="1")
        yield District(name, site, links, registry, points)
    finally:
        city.stop()  # the district's services first, while their NATS is still there
        site.stop()
        for link in links:
            link.stop()


@pytest.fixture
async def jetstreams(
    city: City, district: District
) -> AsyncIterator[tuple[JetStreamContext, JetStreamContext]]:
    """The hub's JetStream (with the city-wide stream sourcing the district) and the district's own."""
    hub = await nats.connect(city.hub.url.split(","))
    site = await nats.connect(district.site.url)
    hub_js = hub.jetstream(timeout=5)
    # as an operator adds a district: `linli hub` gives every service a city stream sourcing it
    command = ["hub", district.name, "--nats", city.hub.url.split(",")[0], "--json"]
    assert await asyncio.to_thread(linli, command) == 0
    yield hub_js, site.jetstream(timeout=5)
    await hub.close()
    await site.close()


async def stored(js: JetStreamContext, stream: str, count: int) -> bool:
    try:
        return (await js.stream_info(stream)).state.messages >= count
    except Exception:  # asked across a link that is coming back: ask again
        return False


async def test_district_writes_through_a_cut_and_a_silent_link_and_the_hub_catches_up_exactly_once(
    city: City, district: District, jetstreams: tuple[JetStreamContext, JetStreamContext]
) -> None:
    hub_js, site_js = jetstreams
    city_stream, site_stream = city_stream_name("registry"), stream_name("registry")
    writes = Registrations([district.registry.url], district=district.name)
    writes.create_places()
    await asyncio.to_thread(writes.register, 20)
    await eventually(lambda: stored(hub_js, city_stream, 42), timeout=30)  # 2 a resident, 2 place.named
    figures: list[str] = []

    for outage, drop in (("hard cut", district.cut), ("silent drop", district.silence)):
        dropped_at = time.monotonic()
        drop()
        await eventually(lambda: _unlinked(district), timeout=30, every=0.1)
        noticed = time.monotonic() - dropped_at
        before = len(writes.acknowledged)
        await asyncio.to_thread(writes.register, 30)
        assert len(writes.acknowledged) == before + 30 and not writes.refused, writes.refused[:3]
        events = 2 * len(writes.acknowledged) + 2  # and place.named for the district and community
        await eventually(partial(stored, site_js, site_stream, events), timeout=30)  # acknowledged locally
        await eventually(lambda: _known_to_district_points(city, district, writes), timeout=60, every=0.5)
        assert not await stored(hub_js, city_stream, events)  # nothing reached the hub meanwhile

        restored_at = time.monotonic()
        district.restore()
        # The hub re-creates a failed source after 10 s × failures, at most 2 minutes (nats-server's
        # retry backoff for sources), so the longer the outage the later it looks again.
        await eventually(partial(stored, hub_js, city_stream, events), timeout=150, every=0.1)
        caught_up = time.monotonic() - restored_at
        figures.append(
            f"{outage}: noticed in {noticed:.1f}s, {events} events caught up {caught_up:.1f}s after"
        )

    district_events = await stream_event_ids(site_js, site_stream)
    city_events = await stream_event_ids(hub_js, city_stream)
    assert city_events == district_events, "the city stream differs from the district's"
    assert set(city_events.values()) == {1}, "an event stored twice"
    print(f"\nCLUSTER district {len(city_events)} events, each once at the hub; " + "; ".join(figures))


async def _unlinked(district: District) -> bool:
    return not district.linked()


async def _known_to_district_points(city: City, district: District, writes: Registrations) -> bool:
    database = city.database_urls["points" + district.name]
    known = await count_rows(
        database, "SELECT count(*) FROM known_resident WHERE district = $1", district.name
    )
    return known == len(writes.acknowledged)
