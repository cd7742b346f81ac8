"""Two replicas of fund and of notify on a 3-node cluster, one of each SIGKILLed while donations flow:
every acknowledged donation is thanked exactly once."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator

import nats
import pytest
from nats.js import JetStreamContext

from linli_shared.auth import Role
from linli_shared.testing.cluster import wait_ready
from linli_shared.testing.http import bearer
from linli_shared.testing.waiting import eventually

from .conftest import City
from .effects import Writes, column, count_rows, stream_event_ids

pytestmark = [pytest.mark.cluster, pytest.mark.postgres, pytest.mark.nats]

DONATIONS = 60
THANKS = "SELECT count(*) FROM notification WHERE event_type = 'fund.donation.received'"


@pytest.fixture
async def hub_js(city: City) -> AsyncIterator[JetStreamContext]:
    client = await nats.connect(city.hub.url.split(","), max_reconnect_attempts=-1, reconnect_time_wait=0.2)
    yield client.jetstream(timeout=2)
    await client.close()


def donate(writes: Writes, district: str, count: int) -> None:
    worker = bearer(Role.COMMUNITY_WORKER, district, "donglizhuang")
    for index in range(count):
        body = {
            "district": district,
            "community": "donglizhuang",
            "donor_kind": "outsider",
            "donor_name": f"爱心人士{index}",
            "channel": "cash",
            "amount_fen": 10000 + index,
        }
        writes.send("/v1/donations", body, worker, first=index)


async def test_fund_and_notify_replicas_killed_mid_flow_thank_every_donation_once(
    city: City, hub_js: JetStreamContext
) -> None:
    fund = city.start("fund", replicas=2)
    notify = city.start("notify", replicas=2, notify_dispatch_seconds="0.5")
    writes = Writes([replica.url for replica in fund])
    district = f"d{uuid.uuid4().hex[:8]}"
    writer = threading.Thread(target=donate, args=(writes, district, DONATIONS))
    writer.start()
    await eventually(lambda: _acknowledged(writes, 15), timeout=60)
    fund[0].kill()  # SIGKILL: perhaps the relay's leader, perhaps mid-request
    notify[0].kill()  # perhaps mid-batch: what it fetched comes back after the ack wait
    await eventually(lambda: _acknowledged(writes, 35), timeout=60)
    for replica in (fund[0], notify[0]):
        replica.start()
    for replica in (fund[0], notify[0]):
        await asyncio.to_thread(wait_ready, replica)
    await asyncio.to_thread(writer.join, 120)
    assert len(writes.acknowledged) == DONATIONS and not writes.refused, writes.refused[:3]

    fund_db, notify_db = city.database_urls["fund"], city.database_urls["notify"]

    async def all_thanked() -> bool:
        return await count_rows(notify_db, THANKS) >= DONATIONS

    await eventually(all_thanked, timeout=90, every=0.5)
    outbox = set(await column(fund_db, "SELECT event_id FROM outbox_message WHERE sent_at IS NOT NULL"))
    assert await count_rows(fund_db, "SELECT count(*) FROM outbox_message") == len(outbox)
    published = await stream_event_ids(hub_js, "LINLI_FUND")
    assert set(published) == outbox and set(published.values()) == {1}
    thanked = await column(
        notify_db, "SELECT source_event_id FROM notification WHERE event_type = $1", "fund.donation.received"
    )
    assert len(thanked) == len(set(thanked)) == DONATIONS
    assert set(thanked) <= outbox
    print(
        f"\nCLUSTER {DONATIONS} donations, {len(outbox)} fund events published once each, "
        f"{len(thanked)} thanked once each; writes retried on the other fund replica: {writes.retried}"
    )


async def _acknowledged(writes: Writes, count: int) -> bool:
    return len(writes.acknowledged) >= count
