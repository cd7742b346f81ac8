"""Through a real NATS JetStream: a 公示 the fund publishes is witnessed, time-stamped by the local
authority and announced on the community's group channel, by the running service alone."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime

import nats
import pytest
from nats.js.errors import NotFoundError

from linli_notify.app import create_app
from linli_notify.settings import NotifySettings
from linli_shared.contracts.fund import DisclosurePublished
from linli_shared.events import Envelope
from linli_shared.jetstream import stream_name
from linli_shared.natsserver import NatsServer
from linli_shared.testing.http import running_app
from linli_shared.testing.waiting import eventually

pytestmark = [pytest.mark.integration, pytest.mark.nats]


async def test_published_disclosure_is_witnessed_stamped_and_announced_without_help(
    notify_settings: NotifySettings, own_nats_server: NatsServer, receiver, tsa, community
) -> None:
    settings = notify_settings.model_copy(
        update={
            "background_jobs": True,
            "dispatch_seconds": 0.1,
            "timestamp_seconds": 0.1,
            "tsa_url": tsa.url,
            "nats_url": own_nats_server.url,
            "quiet_start": "00:00",  # no quiet hours: a normal message goes now whatever the hour
            "quiet_end": "00:00",
        }
    )
    sha256 = hashlib.sha256(b"the fund's period 1").hexdigest()
    event = DisclosurePublished(
        sequence=1,
        first_day=date(2026, 10, 1),
        last_day=date(2026, 10, 31),
        sha256=sha256,
        previous_sha256=None,
    )
    envelope = Envelope.wrap(
        event, district=community.district, community=community.community, occurred_at=datetime.now(UTC)
    )
    client = await nats.connect(own_nats_server.url)
    jetstream = client.jetstream()
    async with running_app(create_app(settings)) as http:

        async def stream_ready() -> bool:
            try:
                await jetstream.stream_info(stream_name("fund"))
            except NotFoundError:
                return False
            return True

        await eventually(stream_ready)
        await jetstream.publish(
            envelope.subject,
            envelope.model_dump_json().encode(),
            stream=stream_name("fund"),
            headers={"Nats-Msg-Id": envelope.event_id},
        )

        async def stamped() -> list[dict[str, object]]:
            response = await http.get(
                f"/v1/public/witness/{community.district}/{community.community}/disclosures"
            )
            rows: list[dict[str, object]] = response.json()
            return rows if rows and rows[0]["timestamp_token"] else []

        async def announced() -> bool:
            return bool(receiver.hooks())

        (row,) = await eventually(stamped)
        await eventually(announced)
    await client.drain()
    assert row["sha256"] == sha256
    (hook,) = receiver.hooks()
    assert sha256[:4] in str(hook["title"])
