"""Deliveries reach a real webhook and a real SMTP server, once, at a kind hour, and escalate once."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from prometheus_client import REGISTRY
from sqlalchemy.exc import IntegrityError

from linli_notify.channels import AppriseSender, Claimed
from linli_notify.models import Delivery
from linli_notify.usecases.dispatch import claim_due, dispatch_due, record_outcome
from linli_shared.auth import Role
from linli_shared.contracts.points import StockLow, WishClaimed
from linli_shared.contracts.registry import ResidentDied

pytestmark = [pytest.mark.integration]

SHANGHAI = ZoneInfo("Asia/Shanghai")
AT_23 = datetime(2026, 3, 10, 23, 0, tzinfo=SHANGHAI).astimezone(UTC)
NEXT_7 = datetime(2026, 3, 11, 7, 0, tzinfo=SHANGHAI).astimezone(UTC)
NOON = datetime(2026, 3, 10, 12, 0, tzinfo=SHANGHAI).astimezone(UTC)


def claimed(resident_id: str = "r-1") -> WishClaimed:
    return WishClaimed(wish_id="w-1", resident_id=resident_id, volunteer_id="v-1", claim_expires_at=NEXT_7)


def low_stock() -> StockLow:
    return StockLow(item_id="i-1", item_name="米 5kg", stock=2, threshold=5)


async def resident_with_a_phone(notify, receiver, resident_id: str = "r-1") -> None:  # noqa: ANN001
    """Her own channels are the inbox and her phone: the community's SMS gateway is the receiver."""
    notify.use_sms_gateway(receiver.sms_url)
    await notify.feed(notify.wrap(notify.contact(resident_id, phone="13800000001")), NOON)


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
    envelope = notify.wrap(low_stock())  # to the community workers' mailbox: in-app and the group channel
    assert await notify.feed(envelope, NOON) is True
    assert await notify.feed(envelope, NOON) is False
    twin = notify.wrap(low_stock(), event_id=envelope.event_id)  # another envelope, same event
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
    await resident_with_a_phone(notify, receiver)
    await notify.feed(notify.wrap(claimed()), AT_23)

    assert await notify.dispatch(AT_23) == 2
    assert [str(r["title"]) for r in receiver.texts()] == ["您的心愿已被认领"]


async def test_non_urgent_at_23_is_held_until_7_and_urgent_is_not(notify, receiver) -> None:
    await resident_with_a_phone(notify, receiver)
    await notify.feed(notify.wrap(claimed()), AT_23)
    await notify.feed(notify.wrap(notify.overdue()), AT_23)

    assert await notify.dispatch(AT_23) == 2, "the urgent alert goes at once, on both channels"
    assert [r["title"] for r in receiver.received if "心愿" in str(r["title"])] == []
    assert {d.next_attempt_at for d in await notify.deliveries(recipient="resident:r-1")} == {NEXT_7}

    assert await notify.dispatch(NEXT_7 - timedelta(minutes=1)) == 0
    assert await notify.dispatch(NEXT_7) == 2
    assert any("心愿" in str(r["title"]) for r in receiver.texts())


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


def metric(text: str, name: str) -> float:
    """One unlabelled sample from the /metrics page."""
    (line,) = [line for line in text.splitlines() if line.startswith(f"{name} ")]
    return float(line.split()[1])


def shanghai(hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 3, 10, hour, minute, second, tzinfo=SHANGHAI).astimezone(UTC)


async def test_a_failed_normal_message_retries_after_the_recipients_own_quiet_hours(
    notify, client, community, receiver
) -> None:
    receiver.status = 500
    before_quiet = shanghai(11, 59, 30)
    await notify.feed(notify.wrap(low_stock()), before_quiet)  # due at once: quiet hours not begun
    await notify.feed(notify.wrap(notify.overdue()), before_quiet)
    keeper = f"role:{community.community}:community_worker"
    lunch = {"channels": ["inbox", "apprise"], "quiet_start": "12:00", "quiet_end": "14:00"}
    changed = await client.put(
        f"/v1/contacts/{keeper}/preferences", json=lunch, headers=community.as_(Role.COMMUNITY_WORKER)
    )
    assert changed.status_code == 200, changed.text

    await notify.dispatch(before_quiet)  # both fail; the first retry would come 45 s later, at 12:00:15

    (stock,) = await notify.deliveries(recipient=keeper, channel="apprise")
    assert (stock.status, stock.attempts, stock.next_attempt_at) == ("pending", 1, shanghai(14))
    (alert,) = await notify.deliveries(recipient="grid-li", channel="apprise")
    assert alert.next_attempt_at == before_quiet + timedelta(seconds=45), "an urgent retry is not held"
    await notify.dispatch(shanghai(13, 59))
    assert sum("米" in str(h["title"]) for h in receiver.hooks()) == 1, "held through its quiet hours"
    assert len(receiver.hooks()) == 3, "while the urgent alert was tried again"
    await notify.dispatch(shanghai(14))
    assert sum("米" in str(h["title"]) for h in receiver.hooks()) == 2


async def test_a_contacts_own_quiet_hours_hold_a_message_not_the_default_ones(
    notify, client, community
) -> None:
    await notify.feed(notify.wrap(notify.registered("r-1", "王秀英")), NOON)
    nap = {"channels": ["inbox"], "quiet_start": "12:30", "quiet_end": "14:00"}
    changed = await client.put(
        "/v1/contacts/resident:r-1/preferences", json=nap, headers=community.as_(Role.COMMUNITY_WORKER)
    )
    assert changed.status_code == 200, changed.text
    await notify.feed(notify.wrap(claimed()), shanghai(13))  # 13:00 is not in the default 22:00–07:00

    assert {d.next_attempt_at for d in await notify.deliveries(recipient="resident:r-1")} == {shanghai(14)}
    assert await notify.dispatch(shanghai(13, 59)) == 0
    assert await notify.dispatch(shanghai(14)) == 1


async def test_a_contact_who_reads_english_gets_the_english_message_with_times_in_their_zone(
    notify, client, community, receiver
) -> None:
    me = community.as_(Role.GRID_WORKER, "grid-li")
    english = {
        "channels": ["inbox", "apprise"],
        "language": "en",
        "quiet_start": "22:00",
        "quiet_end": "07:00",
    }
    london = {**english, "timezone": "Europe/London"}
    assert (await client.put("/v1/contacts/grid-li/preferences", json=london, headers=me)).is_success
    await notify.feed(notify.wrap(notify.registered("r-1", "王秀英")), NOON)
    await notify.feed(notify.wrap(notify.overdue("r-1", grid_worker="grid-li")), NOON)  # due 01:00 UTC
    await notify.dispatch(NOON)

    (alert,) = await notify.notifications(recipient="grid-li")
    assert alert.language == "en" and alert.title == "[Urgent] 王秀英: visit overdue"
    assert "was due by 2026-01-01 01:00 and" in alert.body, "in the reader's zone, not ISO UTC"
    (hook,) = receiver.hooks()
    assert hook["title"] == alert.title and "Or acknowledge with this link" in str(hook["message"])


async def test_due_times_are_written_in_china_time_by_default(notify) -> None:
    await notify.feed(notify.wrap(notify.overdue("r-1", grid_worker="grid-li")), NOON)  # due 01:00 UTC
    (alert,) = await notify.notifications(recipient="grid-li")
    assert "应于 2026-01-01 09:00 前完成" in alert.body and "T01:00" not in alert.body


async def test_dispatcher_health_gauges_show_what_waits_and_how_long_the_oldest_has_been_due(
    notify, client
) -> None:
    await notify.feed(notify.wrap(low_stock()), NOON - timedelta(minutes=10))  # two deliveries, due then
    await notify.feed(notify.wrap(claimed()), AT_23)  # the resident's, held until 7 the next morning

    assert await notify.dispatch(NOON) == 2
    page = (await client.get("/metrics")).text
    assert metric(page, "linli_notify_deliveries_pending") == 3
    assert metric(page, "linli_notify_deliveries_due") == 2
    assert metric(page, "linli_notify_oldest_due_delivery_age_seconds") == 600
    assert metric(page, "linli_notify_dispatch_last_pass_timestamp_seconds") == NOON.timestamp()

    await notify.dispatch(NOON + timedelta(seconds=1))
    page = (await client.get("/metrics")).text
    assert metric(page, "linli_notify_deliveries_pending") == 1
    assert metric(page, "linli_notify_deliveries_due") == 0
    assert metric(page, "linli_notify_oldest_due_delivery_age_seconds") == 0


async def test_a_pass_that_outlived_its_claim_neither_marks_nor_sends_what_another_pass_took(
    notify, receiver
) -> None:
    await notify.feed(notify.wrap(low_stock()), NOON)  # each: the mailbox's inbox and the group channel
    await notify.feed(notify.wrap(StockLow(item_id="i-2", item_name="油 5L", stock=1, threshold=5)), NOON)
    later = NOON + timedelta(seconds=notify.settings.claim_seconds + 1)
    clock = [NOON]
    real = AppriseSender(notify.settings)
    taken: list[Claimed] = []

    class Stalled:
        """The first send hangs past the claim period; meanwhile another pass claims everything again."""

        async def send(self, message: Claimed) -> None:
            if clock[0] == NOON:
                clock[0] = later
                taken.extend(await claim_due(notify.session_factory, settings=notify.settings, now=later))
            await real.send(message)

    lost = REGISTRY.get_sample_value("linli_notify_delivery_claims_lost_total", {"channel": "apprise"}) or 0
    stalled = await dispatch_due(
        notify.session_factory,
        Stalled(),
        settings=notify.settings,
        now=NOON,
        jitter=lambda: 0.5,
        clock=lambda: clock[0],
    )

    assert (stalled, len(taken)) == (0, 4), "its claims were taken over: it records nothing"
    assert {(d.status, d.attempts) for d in await notify.deliveries()} == {("pending", 2)}
    assert REGISTRY.get_sample_value("linli_notify_delivery_claims_lost_total", {"channel": "apprise"}) == (
        lost + 1
    )
    for claim in taken:  # the other pass goes on with what it claimed
        await real.send(claim)
        await record_outcome(
            notify.session_factory, claim, None, settings=notify.settings, now=later, jitter=0.5
        )
    assert {(d.status, d.attempts, d.sent_at) for d in await notify.deliveries()} == {("sent", 2, later)}
    titles = [str(h["title"]) for h in receiver.hooks()]
    assert sum("油 5L" in t for t in titles) == 1, "the stalled pass did not go on to send the rest"
    assert await notify.dispatch(later + timedelta(days=1)) == 0


async def test_a_pass_hands_back_what_it_cannot_start_within_half_the_claim_period(notify, receiver) -> None:
    await notify.feed(notify.wrap(low_stock()), NOON)
    half = timedelta(seconds=notify.settings.claim_seconds / 2)
    times = iter([NOON, NOON + half])  # the first send starts at once, the second too late

    sent = await dispatch_due(
        notify.session_factory,
        AppriseSender(notify.settings),
        settings=notify.settings,
        now=NOON,
        jitter=lambda: 0.5,
        clock=lambda: next(times),
    )

    assert sent == 1
    first, second = await notify.deliveries()
    assert (first.status, first.attempts) == ("sent", 1)
    assert (second.status, second.attempts, second.next_attempt_at) == ("pending", 0, NOON), "due as before"
    assert await notify.dispatch(NOON + timedelta(seconds=1)) == 1
