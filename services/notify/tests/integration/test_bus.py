"""Through a real NATS JetStream: an alert published by the registry reaches the webhook by itself."""

from __future__ import annotations

from datetime import UTC, datetime

import nats
import pytest
from nats.js.errors import NotFoundError

from linli_notify.app import create_app
from linli_notify.settings import NotifySettings
from linli_shared.contracts.registry import VisitOverdue
from linli_shared.events import Envelope
from linli_shared.jetstream import stream_name
from linli_shared.natsserver import NatsServer
from linli_shared.testing.http import running_app
from linli_shared.testing.waiting import eventually

pytestmark = [pytest.mark.integration, pytest.mark.nats]


async def test_published_missed_visit_is_consumed_and_dispatched_without_help(
    notify_settings: NotifySettings, own_nats_server: NatsServer, receiver, smtp, community
) -> None:
    """On a NATS server of its own, so its durable consumers meet no other test's events."""
    settings = notify_settings.model_copy(
        update={"background_jobs": True, "dispatch_seconds": 0.1, "nats_url": own_nats_server.url}
    )
    alert = VisitOverdue(
        care_group_id="cg-9",
        resident_id="r-9",
        kind="call",
        due_at=datetime.now(UTC),
        grid_worker="grid-li",
        community_worker="cw-zhang",
    )
    envelope = Envelope.wrap(
        alert, district=community.district, community=community.community, occurred_at=datetime.now(UTC)
    )
    client = await nats.connect(own_nats_server.url)
    jetstream = client.jetstream()
    async with running_app(create_app(settings)):

        async def stream_ready() -> bool:
            try:
                await jetstream.stream_info(stream_name("registry"))
            except NotFoundError:
                return False
            return True

        await eventually(stream_ready)
        for _ in range(2):  # a publisher retry: JetStream and the inbox keep it to one
            await jetstream.publish(
                envelope.subject,
                envelope.model_dump_json().encode(),
                stream=stream_name("registry"),
                headers={"Nats-Msg-Id": envelope.event_id},
            )

        async def delivered() -> bool:
            return len(receiver.received) >= 1 and len(smtp.messages) >= 1

        await eventually(delivered)
    await client.drain()
    assert len(receiver.received) == 1 and len(smtp.messages) == 1
    assert "r-9" in str(receiver.received[0]["title"])
