"""Deliveries reach a real webhook and a real SMTP server, once, at a kind hour, and escalate once."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from prometheus_client import REGISTRY
from sqlalchemy.exc import IntegrityError

from linli_notify.models import Delivery
from linli_shared.auth import Role
from linli_shared.contracts.points import WishClaimed
from linli_shared.contracts.registry import ResidentDied

pytestmark = [pytest.mark.integration]

SHANGHAI = ZoneInfo("Asia/Shanghai")
AT_23 = datetime(2026, 3, 10, 23, 0, tzinfo=SHANGHAI).astimezone(UTC)
NEXT_7 = datetime(2026, 3, 11, 7, 0, tzinfo=SHANGHAI).astimezone(UTC)
NOON = datetime(2026, 3, 10, 12, 0, tzinfo=SHANGHAI).astimezone(UTC)


def claimed(resident_id: str = "r-1") -> WishClaimed:
    return WishClaimed(wish_id="w-1", resident_id=resident_id, volunteer_id="v-1", claim_expires_at=NEXT_7)


async def test_missed_visit_alert_reaches_the_webhook_and_the_mail_server(notify, receiver, smtp) -> None:
    await notify.feed(notify.wrap(notify.registered("r-1", "王秀英")), NOON)
    assert await notify.feed(notify.wrap(notify.overdue("r-1", grid_worker="grid-li")), NOON)

    assert await notify.dispatch(NOON) == 2  # the in-app inbox and the community's outside channels

    (hook,) = receiver.received
    assert hook["path"] == "/hook" and "王秀英" in str(hook["title"]) and "紧急" in str(hook["title"])
    (mail,) = smtp.messages
    assert b"grid@example.org" in mail
    assert {d.status for d in await notify.deliveries(recipient="grid-li")} == {"sent"}


async def test_failing_receiver_is_retried_with_backoff_then_failed_with_an_event(
    notify, receiver, smtp
) -> None:
    receiver.status = 500
    failed_before = (
        REGISTRY.get_sample_value("linli_notify_deliveries_failed_total", {"channel": "apprise"}) or 0
    )
    await notify.feed(notify.wrap(notify.overdue()), NOON)

    await notify.dispatch(NOON)
    (outside,) = await notify.deliveries(channel="apprise")
    assert (outside.status, outside.attempts) == ("pending", 1)
    assert outside.next_attempt_at > NOON and outside.last_error
    assert await notify.dispatch(NOON) == 0, "not due again before its backoff"
    assert len(receiver.received) == 1

    for hours in (1, 2):
        await notify.dispatch(NOON + timedelta(hours=hours))
    (outside,) = await notify.deliveries(channel="apprise")
    assert (outside.status, outside.attempts) == ("failed", 3)
    assert len(receiver.received) == 3
    (failed,) = await notify.outbox_events("notify.notification.failed")
    assert failed["payload"]["delivery_id"] == outside.id and failed["payload"]["urgent"] is True
    await notify.dispatch(NOON + timedelta(days=1))
    assert len(receiver.received) == 3, "a failed delivery is never tried again"
    assert REGISTRY.get_sample_value("linli_notify_deliveries_failed_total", {"channel": "apprise"}) == (
        failed_before + 1
    )


async def test_duplicated_event_sends_nothing_twice(notify, receiver) -> None:
    envelope = notify.wrap(claimed())
    assert await notify.feed(envelope, NOON) is True
    assert await notify.feed(envelope, NOON) is False
    twin = notify.wrap(claimed(), event_id=envelope.event_id)  # another envelope, same event
    assert await notify.feed(twin, NOON) is False

    assert await notify.dispatch(NOON) == 2
    assert await notify.dispatch(NOON) == 0
    assert len(receiver.received) == 1
    assert len(await notify.deliveries(source_event_id=envelope.event_id)) == 2


async def test_delivery_key_refuses_a_second_row_for_the_same_event_recipient_and_channel(notify) -> None:
    envelope = notify.wrap(claimed())
    await notify.feed(envelope, NOON)
    (first, *_) = await notify.deliveries(source_event_id=envelope.event_id)
    async with notify.session_factory() as session:
        session.add(Delivery(**first.model_dump(exclude={"id"})))
        with pytest.raises(IntegrityError):
            await session.commit()


async def test_dispatchers_running_at_once_send_each_delivery_once(notify, receiver, smtp) -> None:
    for n in range(3):
        await notify.feed(notify.wrap(notify.overdue(f"r-{n}")), NOON)

    counts = await asyncio.gather(notify.dispatch(NOON), notify.dispatch(NOON))

    assert sum(counts) == 6
    assert len(receiver.received) == 3 and len(smtp.messages) == 3


async def test_deployment_without_quiet_hours_sends_at_23_at_once(notify, receiver) -> None:
    notify.settings = notify.settings.model_copy(update={"quiet_start": "00:00", "quiet_end": "00:00"})
    await notify.feed(notify.wrap(claimed()), AT_23)

    assert await notify.dispatch(AT_23) == 2
    assert [str(r["title"]) for r in receiver.received] == ["您的心愿已被认领"]


async def test_non_urgent_at_23_is_held_until_7_and_urgent_is_not(notify, receiver) -> None:
    await notify.feed(notify.wrap(claimed()), AT_23)
    await notify.feed(notify.wrap(notify.overdue()), AT_23)

    assert await notify.dispatch(AT_23) == 2, "the urgent alert goes at once, on both channels"
    assert [r["title"] for r in receiver.received if "心愿" in str(r["title"])] == []
    assert {d.next_attempt_at for d in await notify.deliveries(recipient="resident:r-1")} == {NEXT_7}

    assert await notify.dispatch(NEXT_7 - timedelta(minutes=1)) == 0
    assert await notify.dispatch(NEXT_7) == 2
    assert any("心愿" in str(r["title"]) for r in receiver.received)


async def test_unacknowledged_urgent_alert_escalates_once_to_the_next_rung(notify) -> None:
    source = notify.wrap(notify.overdue(grid_worker="grid-li", community_worker="cw-zhang"))
    await notify.feed(source, NOON)
    limit = timedelta(seconds=notify.settings.escalate_after_seconds)

    assert await notify.escalate(NOON + limit - timedelta(seconds=1)) == 0
    assert sum(await asyncio.gather(notify.escalate(NOON + limit), notify.escalate(NOON + limit))) == 1
    assert await notify.escalate(NOON + limit * 3) == 0, "a later check escalates nothing more"

    alert, escalation = await notify.notifications(source_event_id=source.event_id)
    assert (alert.recipient, escalation.recipient) == ("grid-li", "cw-zhang")
    assert escalation.escalation_of == alert.id and escalation.urgency == "urgent"
    assert "升级" in escalation.title
    assert len(await notify.deliveries(recipient="cw-zhang")) == 2
    assert len(await notify.outbox_events("notify.notification.escalated")) == 1


async def test_acknowledged_alert_does_not_escalate(notify, client, community) -> None:
    await notify.feed(notify.wrap(notify.overdue(grid_worker="grid-li")), NOON)
    (alert,) = await notify.notifications(recipient="grid-li")
    headers = community.as_(Role.GRID_WORKER, "grid-li")
    response = await client.post(f"/v1/notifications/{alert.id}/acknowledgement", headers=headers)
    assert response.status_code == 200, response.text

    assert await notify.escalate(NOON + timedelta(days=1)) == 0
    assert len(await notify.outbox_events("notify.notification.acknowledged")) == 1


async def test_held_message_to_a_resident_who_died_is_cancelled_not_sent(notify, receiver) -> None:
    await notify.feed(notify.wrap(claimed("r-5")), AT_23)
    await notify.feed(notify.wrap(ResidentDied(resident_id="r-5", on=date(2026, 3, 10))), AT_23)

    assert await notify.dispatch(NEXT_7) == 0
    assert receiver.received == []
    assert {d.status for d in await notify.deliveries(recipient="resident:r-5")} == {"cancelled"}


async def test_each_community_sets_how_long_an_alert_waits_before_it_climbs(notify) -> None:
    notify.settings.escalate_after_by_community = {notify.community.community: 120}
    await notify.feed(notify.wrap(notify.overdue()), NOON)
    assert await notify.escalate(NOON + timedelta(seconds=119)) == 0
    assert await notify.escalate(NOON + timedelta(seconds=120)) == 1, "well before the default 900 s"
    notify.settings.escalate_after_by_community = {"elsewhere": 120}
    await notify.feed(notify.wrap(notify.overdue(resident_id="r-2")), NOON)
    assert await notify.escalate(NOON + timedelta(seconds=300)) == 0, (
        "another community's time does not apply"
    )
    assert await notify.escalate(NOON + timedelta(seconds=900)) == 1
