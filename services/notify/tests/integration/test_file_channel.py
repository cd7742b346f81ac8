"""The built-in file channel: with an outbox file set, every message is also one JSON line there."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from linli_notify.domain import FILE
from linli_shared.auth import Role
from linli_shared.contracts.points import WishClaimed

pytestmark = [pytest.mark.integration]

NOON = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


async def test_every_message_is_appended_once_as_a_json_line(notify, client, community, tmp_path) -> None:
    outbox = tmp_path / "not-yet" / "notify-outbox.jsonl"
    notify.settings = notify.settings.model_copy(update={"outbox_file": outbox})
    worker = community.as_(Role.COMMUNITY_WORKER)
    await notify.feed(notify.wrap(notify.registered("r-1", "王秀英")), NOON)
    chosen = {"channels": ["inbox"], "quiet_start": "00:00", "quiet_end": "00:00"}
    assert (await client.put("/v1/contacts/resident:r-1/preferences", json=chosen, headers=worker)).is_success
    await notify.feed(notify.wrap(notify.overdue("r-1", grid_worker="grid-li")), NOON)
    claimed = WishClaimed(wish_id="w-1", resident_id="r-1", volunteer_id="v-1", claim_expires_at=NOON)
    await notify.feed(notify.wrap(claimed), NOON)

    assert await notify.dispatch(NOON) == 5  # alert: inbox, apprise, file; wish: inbox (her choice), file
    assert await notify.dispatch(NOON) == 0

    alert, wish = lines(outbox)
    assert (alert["recipient"], alert["urgent"], alert["community"]) == ("grid-li", True, community.community)
    assert "王秀英" in str(alert["title"]) and alert["body"]
    assert (wish["recipient"], wish["title"]) == ("resident:r-1", "您的心愿已被认领")
    assert {d.channel for d in await notify.deliveries(recipient="resident:r-1")} == {"inbox", FILE}


async def test_an_unwritable_outbox_file_is_a_failed_attempt_that_retries(notify, tmp_path) -> None:
    notify.settings = notify.settings.model_copy(update={"outbox_file": tmp_path})  # a directory
    await notify.feed(notify.wrap(notify.overdue()), NOON)

    assert await notify.dispatch(NOON) == 2
    (delivery,) = await notify.deliveries(channel=FILE)
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert "cannot append to the outbox file" in str(delivery.last_error)
