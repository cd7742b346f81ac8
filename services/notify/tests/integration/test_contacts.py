"""Contacts from the registry's events: each person's phone reaches the community's SMS gateway, the
guardian hears of a missed visit, and a donor who is a resident reads the thanks in the app."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from prometheus_client import REGISTRY

from linli_shared.auth import Role
from linli_shared.contracts.fund import DonationReceived
from linli_shared.contracts.points import (
    PointsRedeemed,
    VolunteerEnrolled,
    WishClaimed,
    WishFulfilled,
    WishPosted,
)
from linli_shared.contracts.registry import ResidentDied
from linli_shared.events import Envelope

pytestmark = [pytest.mark.integration]

NOON = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)
AT_23 = datetime(2026, 3, 10, 23, 0, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(UTC)
NEXT_7 = AT_23 + timedelta(hours=8)

GUARDIAN = "13712345678"  # a whole number: a random community code may hold three of its digits


def sample(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0


def claimed(resident_id: str, wish_id: str = "w-1") -> WishClaimed:
    return WishClaimed(wish_id=wish_id, resident_id=resident_id, volunteer_id="v-1", claim_expires_at=NOON)


def donation(donation_id: str, donor_resident_id: str | None, display: str = "李红亮") -> DonationReceived:
    return DonationReceived(
        donation_id=donation_id,
        receipt_number="2026-000077",
        campaign_id=None,
        donor_kind="resident",
        donor_display=display,
        donor_resident_id=donor_resident_id,
        channel="cash",
        fund="general",
        amount_fen=20000,
        entry_id=7,
    )


async def test_sms_gateway_gets_the_phone_of_the_person_the_message_is_for(notify, receiver) -> None:
    notify.use_sms_gateway(receiver.sms_url + "?:sender=linli")
    await notify.feed(notify.wrap(notify.contact("r-1", "王秀英", phone="13800000001")), NOON)
    await notify.feed(notify.wrap(notify.contact("r-2", "张桂兰", phone="+8613900000002")), NOON)
    await notify.feed(notify.wrap(WishPosted(wish_id="w-2", resident_id="r-2", title="一台轮椅")), NOON)
    await notify.feed(notify.wrap(claimed("r-2", "w-2")), NOON)

    assert await notify.dispatch(NOON) == 2, "in-app and her own phone, not the community's group channel"
    (text,) = receiver.texts()
    assert text["phone"] == "+8613900000002" and text["sender"] == "linli", "the gateway's own fields stay"
    assert text["title"] == "您的心愿已被认领" and "张桂兰" in str(text["message"])
    assert receiver.hooks() == []


async def test_no_phone_or_no_gateway_means_no_sms_delivery(notify, receiver) -> None:
    await notify.feed(notify.wrap(notify.contact("r-1", phone="13800000001")), NOON)
    await notify.feed(notify.wrap(claimed("r-1")), NOON)  # no gateway in this community yet
    notify.use_sms_gateway(receiver.sms_url)
    await notify.feed(notify.wrap(notify.contact("r-2", phone=None)), NOON)
    await notify.feed(notify.wrap(claimed("r-2", "w-2")), NOON)
    await notify.dispatch(NOON)
    assert receiver.texts() == []
    assert {d.channel for d in await notify.deliveries()} == {"inbox"}, "in-app, never the group channel"


async def test_a_changed_phone_is_used_and_a_removed_guardian_hears_nothing(notify, receiver) -> None:
    notify.use_sms_gateway(receiver.sms_url)
    await notify.feed(notify.wrap(notify.contact("r-1", phone="13800000001")), AT_23)
    await notify.feed(notify.wrap(claimed("r-1")), AT_23)  # held until 7 by quiet hours
    await notify.feed(notify.wrap(notify.contact("r-1", phone="13800000009")), AT_23)
    await notify.dispatch(NEXT_7)
    assert [text["phone"] for text in receiver.texts()] == ["13800000009"], "read when it is sent"

    await notify.feed(notify.wrap(notify.contact("r-1", guardian_name="王强", guardian_phone="137")), NOON)
    await notify.feed(notify.wrap(notify.contact("r-1", guardian_name=None, guardian_phone=None)), NOON)
    await notify.feed(notify.wrap(notify.overdue("r-1")), NOON)
    assert await notify.notifications(recipient="guardian:r-1") == []


async def test_the_guardian_hears_of_a_missed_visit_by_sms_not_at_night_and_once(notify, receiver) -> None:
    notify.use_sms_gateway(receiver.sms_url)
    contact = notify.contact("r-1", "王秀英", guardian_name="王强", guardian_phone="13700000007")
    await notify.feed(notify.wrap(contact), AT_23)
    alert = notify.wrap(notify.overdue("r-1"))
    assert await notify.feed(alert, AT_23) is True
    assert await notify.feed(alert, AT_23) is False, "applied once"

    (guardian,) = await notify.notifications(recipient="guardian:r-1")
    assert (guardian.template, guardian.urgency, guardian.rung) == ("visit_overdue_guardian", "normal", None)
    assert await notify.dispatch(AT_23) == 2, "only the grid worker's urgent alert goes at night"
    assert receiver.texts() == []
    assert await notify.dispatch(NEXT_7) == 1, "the guardian has no login: SMS only, at 7"
    (text,) = receiver.texts()
    assert text["phone"] == "13700000007" and "王强" in str(text["message"])
    assert "王秀英" in str(text["title"])
    assert await notify.dispatch(NEXT_7 + timedelta(hours=1)) == 0
    assert len(receiver.texts()) == 1


async def test_held_message_to_the_guardian_of_a_resident_who_died_is_cancelled(notify, receiver) -> None:
    notify.use_sms_gateway(receiver.sms_url)
    await notify.feed(notify.wrap(notify.contact("r-5", guardian_name="王强", guardian_phone="137")), AT_23)
    await notify.feed(notify.wrap(notify.overdue("r-5")), AT_23)
    await notify.feed(notify.wrap(ResidentDied(resident_id="r-5", on=AT_23.date())), AT_23)
    await notify.dispatch(NEXT_7)
    assert receiver.texts() == []
    assert {d.status for d in await notify.deliveries(recipient="guardian:r-5")} == {"cancelled"}


async def test_guardian_preferences_stay_scoped_and_never_show_the_phone(notify, client, community) -> None:
    await notify.feed(notify.wrap(notify.contact("r-1", guardian_name="王强", guardian_phone=GUARDIAN)), NOON)
    path = "/v1/contacts/guardian:r-1/preferences"
    worker = await client.get(path, headers=community.as_(Role.COMMUNITY_WORKER))
    assert worker.status_code == 200, worker.text
    assert worker.json()["display_name"] == "王强" and worker.json()["channels"] == ["sms"]
    assert GUARDIAN not in worker.text and "phone" not in worker.json()

    grid = await client.get(path, headers=community.as_(Role.GRID_WORKER, "grid-li"))
    assert grid.status_code == 403 and grid.headers["content-type"].startswith("application/problem+json")
    elsewhere = community.__class__(community.district, "elsewhere")
    assert (await client.get(path, headers=elsewhere.as_(Role.COMMUNITY_WORKER))).status_code == 404
    resident = await client.get(path, headers=community.as_(Role.RESIDENT, "r-1"))
    assert resident.status_code == 403, "the elder does not manage the guardian's preferences"


async def test_a_donor_who_is_a_resident_reads_the_thanks_in_the_app_and_by_sms(
    notify, client, community, receiver
) -> None:
    notify.use_sms_gateway(receiver.sms_url)
    await notify.feed(notify.wrap(notify.contact("r-3", "李红亮", phone="13600000003")), NOON)
    await notify.feed(notify.wrap(donation("don-7", "r-3")), NOON)
    await notify.dispatch(NOON)

    (item,) = (await client.get("/v1/inbox", headers=community.as_(Role.RESIDENT, "r-3"))).json()["items"]
    assert item["recipient"] == "resident:r-3" and "2026-000077" in item["title"]
    (text,) = receiver.texts()
    assert text["phone"] == "13600000003" and "200.00" in str(text["message"])
    assert await notify.notifications(recipient="donor:don-7") == []
    other = await client.get("/v1/inbox", headers=community.as_(Role.RESIDENT, "r-4"))
    assert other.json()["items"] == []


async def test_a_donor_without_a_phone_is_recorded_unreachable_not_sent(
    notify, client, community, receiver
) -> None:
    notify.use_sms_gateway(receiver.sms_url)
    unreachable_before = sample("linli_notify_deliveries_unreachable_total", {"channel": "sms"})
    await notify.feed(notify.wrap(donation("don-8", None, "匿名")), NOON)

    assert await notify.dispatch(NOON) == 0, "no login to read an inbox, no phone: nothing can reach them"
    (thanks,) = await notify.notifications(recipient="donor:don-8")
    assert thanks.template == "donation_thanks" and "尊敬的爱心人士" in thanks.body
    (delivery,) = await notify.deliveries(recipient="donor:don-8")
    assert (delivery.channel, delivery.status, delivery.sent_at) == ("sms", "unreachable", None)
    assert "no phone" in str(delivery.last_error)
    assert receiver.received == []
    log = await client.get("/v1/deliveries?status=unreachable", headers=community.as_(Role.COMMUNITY_WORKER))
    assert [(d["recipient"], d["status"]) for d in log.json()["items"]] == [("donor:don-8", "unreachable")]
    assert sample("linli_notify_deliveries_unreachable_total", {"channel": "sms"}) == unreachable_before + 1
    assert 'linli_notify_deliveries_unreachable_total{channel="sms"}' in (await client.get("/metrics")).text


async def test_a_guardian_without_a_phone_is_unreachable_and_never_sent_to_an_inbox(notify, receiver) -> None:
    notify.use_sms_gateway(receiver.sms_url)
    await notify.feed(notify.wrap(notify.contact("r-1", guardian_name="王强", guardian_phone=None)), NOON)
    await notify.feed(notify.wrap(notify.overdue("r-1")), NOON)
    await notify.dispatch(NOON)
    (delivery,) = await notify.deliveries(recipient="guardian:r-1")
    assert (delivery.channel, delivery.status) == ("sms", "unreachable")
    assert receiver.texts() == []


async def test_an_outside_donor_who_gave_a_phone_is_thanked_by_sms(notify, receiver) -> None:
    notify.use_sms_gateway(receiver.sms_url)
    outsider = donation("don-9", None, "赵先生").model_copy(
        update={"donor_kind": "outsider", "donor_phone": " 13500000005 "}
    )
    await notify.feed(notify.wrap(outsider), NOON)

    assert await notify.dispatch(NOON) == 1
    (text,) = receiver.texts()
    assert text["phone"] == "13500000005" and "2026-000077" in str(text["title"])
    assert "赵先生" in str(text["message"]) and "200.00" in str(text["message"])
    assert receiver.hooks() == [], "a donor's thanks is not posted to the community's group channel"
    (delivery,) = await notify.deliveries(recipient="donor:don-9")
    assert (delivery.channel, delivery.status) == ("sms", "sent")


async def test_a_contact_stated_earlier_but_delivered_late_changes_nothing(notify, receiver) -> None:
    notify.use_sms_gateway(receiver.sms_url)
    where = {"district": notify.community.district, "community": notify.community.community}
    newer = Envelope.wrap(notify.contact("r-1", phone="13800000009"), occurred_at=NOON, **where)
    older = Envelope.wrap(
        notify.contact("r-1", phone="13800000001", guardian_name="王强", guardian_phone="137"),
        occurred_at=NOON - timedelta(minutes=5),
        **where,
    )
    assert await notify.feed(newer, NOON)
    assert await notify.feed(older, NOON), "applied (once), as a no-op"
    await notify.feed(notify.wrap(claimed("r-1")), NOON)
    await notify.dispatch(NOON)

    assert [text["phone"] for text in receiver.texts()] == ["13800000009"]
    (resident,) = [c for c in await notify.contacts() if c.recipient == "resident:r-1"]
    assert resident.contact_as_of == NOON
    assert [c for c in await notify.contacts() if c.recipient == "guardian:r-1"] == []


async def test_a_residents_own_messages_stay_off_the_community_channel_a_grid_workers_alert_does_not(
    notify, receiver, smtp
) -> None:
    await notify.feed(notify.wrap(notify.registered("r-1", "王秀英")), NOON)
    await notify.feed(notify.wrap(WishPosted(wish_id="w-1", resident_id="r-1", title="一台轮椅")), NOON)
    await notify.feed(notify.wrap(claimed("r-1")), NOON)
    fulfilled = WishFulfilled(wish_id="w-1", resident_id="r-1", volunteer_id="v-1", note="已送到家")
    await notify.feed(notify.wrap(fulfilled), NOON)
    enrolled = VolunteerEnrolled(
        volunteer_id="v-1", subject="user-hong", resident_id="r-1", party_member=False
    )
    await notify.feed(notify.wrap(enrolled), NOON)
    redeemed = PointsRedeemed(
        redemption_id="rd-1", volunteer_id="v-1", item_id="i-1", quantity=1, points=30, balance=70
    )
    await notify.feed(notify.wrap(redeemed), NOON)
    await notify.feed(notify.wrap(donation("don-1", "r-1")), NOON)
    await notify.feed(notify.wrap(notify.overdue("r-1", grid_worker="grid-li")), NOON)

    await notify.dispatch(NOON)

    (hook,) = receiver.hooks()
    assert "紧急" in str(hook["title"]) and "王秀英" in str(hook["title"]), "only the grid worker's alert"
    assert len(smtp.messages) == 1
    assert {d.recipient for d in await notify.deliveries(channel="apprise")} == {"grid-li"}
    personal = {"resident:r-1", "volunteer:v-1"}
    assert {d.recipient for d in await notify.deliveries(channel="inbox", status="sent")} >= personal
    channels = {c.recipient: c.channels for c in await notify.contacts()}
    assert channels["resident:r-1"] == channels["volunteer:v-1"] == ["inbox", "sms"]
    assert "apprise" in channels["grid-li"]
