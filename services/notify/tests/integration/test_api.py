"""The HTTP API: preferences scoped, previews in both languages, inbox, acknowledgement, delivery log."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from prometheus_client import REGISTRY

from linli_shared.auth import Role
from linli_shared.contracts.fund import CommitmentInstalmentDue, DonationReceived, DonationsReceived
from linli_shared.contracts.points import (
    PointsRedeemed,
    StockLow,
    VolunteerEnrolled,
    WishClaimed,
    WishConfirmed,
    WishFulfilled,
    WishPosted,
)

pytestmark = [pytest.mark.integration]

NOON = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)
PREFERENCES = {"channels": ["inbox"], "language": "en", "quiet_start": "21:30", "quiet_end": "08:00"}


def assert_problem(response, status: int) -> None:  # noqa: ANN001
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"]


async def test_worker_reads_and_changes_own_preferences(client, community) -> None:
    me = community.as_(Role.GRID_WORKER, "grid-li")
    default = await client.get("/v1/contacts/grid-li/preferences", headers=me)
    assert default.status_code == 200, default.text
    assert (default.json()["language"], default.json()["quiet_start"], default.json()["quiet_end"]) == (
        "zh",
        "22:00",
        "07:00",
    )
    assert default.json()["timezone"] == "Asia/Shanghai"

    changed = await client.put("/v1/contacts/grid-li/preferences", json=PREFERENCES, headers=me)
    assert changed.status_code == 200, changed.text
    again = await client.get("/v1/contacts/grid-li/preferences", headers=me)
    assert (again.json()["language"], again.json()["channels"]) == ("en", ["inbox"])


async def test_resident_preferences_change_only_by_a_worker_of_their_community(
    notify, client, community
) -> None:
    await notify.feed(notify.wrap(notify.registered("r-7", "张桂兰")), NOON)
    path = "/v1/contacts/resident:r-7/preferences"

    grid = await client.put(path, json=PREFERENCES, headers=community.as_(Role.GRID_WORKER, "grid-li"))
    assert_problem(grid, 403)
    other = community.__class__(community.district, "elsewhere")
    assert_problem(await client.put(path, json=PREFERENCES, headers=other.as_(Role.COMMUNITY_WORKER)), 404)
    stranger = community.__class__("another-district", community.community)
    assert_problem(await client.get(path, headers=stranger.as_(Role.COMMUNITY_WORKER)), 404)

    worker = await client.put(path, json=PREFERENCES, headers=community.as_(Role.COMMUNITY_WORKER))
    assert worker.status_code == 200, worker.text
    assert worker.json()["display_name"] == "张桂兰" and worker.json()["quiet_end"] == "08:00"


async def test_someone_elses_preferences_are_not_found(client, community) -> None:
    response = await client.get("/v1/contacts/grid-wang/preferences", headers=community.as_(Role.GRID_WORKER))
    assert_problem(response, 404)


@pytest.mark.parametrize(
    "change",
    [
        {"quiet_start": "25:00"},
        {"timezone": "Mars/Olympus"},
        {"channels": []},
        {"channels": ["fax"]},
        {"channels": ["inbox", "apprise", "sms", "inbox"]},
        {"x": 1},
    ],
)
async def test_bad_preferences_are_refused_as_problem_json(client, community, change) -> None:
    me = community.as_(Role.GRID_WORKER, "grid-li")
    response = await client.put(
        "/v1/contacts/grid-li/preferences", json={**PREFERENCES, **change}, headers=me
    )
    assert_problem(response, 422)


async def test_template_preview_in_chinese_and_english(client, community) -> None:
    me = community.as_(Role.COMMUNITY_WORKER)
    zh = await client.post("/v1/templates/wish_claimed/preview", json={}, headers=me)
    en = await client.post(
        "/v1/templates/wish_claimed/preview",
        json={"language": "en", "data": {"wish_title": "A wheelchair"}},
        headers=me,
    )
    assert zh.status_code == en.status_code == 200, (zh.text, en.text)
    assert zh.json()["version"] == en.json()["version"] == 1
    assert zh.json()["title"] == "您的心愿已被认领" and "一台轮椅" in zh.json()["body"]
    assert en.json()["title"] == "Your wish was claimed" and "A wheelchair" in en.json()["body"]


async def test_template_preview_refuses_bad_input(client, community) -> None:
    me = community.as_(Role.COMMUNITY_WORKER)
    assert_problem(await client.post("/v1/templates/no_such/preview", json={}, headers=me), 404)
    assert_problem(
        await client.post("/v1/templates/stock_low/preview", json={"language": "fr"}, headers=me), 422
    )
    assert_problem(await client.post("/v1/templates/Bad-Name/preview", json={}, headers=me), 422)
    assert_problem(await client.post("/v1/templates/stock_low/preview", json={}), 401)


async def test_inbox_shows_own_delivered_alerts_and_acknowledgement_happens_once(
    notify, client, community
) -> None:
    await notify.feed(notify.wrap(notify.overdue(grid_worker="grid-li")), NOON)
    me = community.as_(Role.GRID_WORKER, "grid-li")
    assert (await client.get("/v1/inbox", headers=me)).json()["items"] == [], (
        "not in the inbox before dispatch"
    )

    await notify.dispatch(NOON)
    (item,) = (await client.get("/v1/inbox", headers=me)).json()["items"]
    other = community.as_(Role.GRID_WORKER, "grid-wang")
    assert (await client.get("/v1/inbox", headers=other)).json()["items"] == []
    assert_problem(await client.post(f"/v1/notifications/{item['id']}/acknowledgement", headers=other), 404)

    for _ in range(2):
        ack = await client.post(f"/v1/notifications/{item['id']}/acknowledgement", headers=me)
        assert ack.status_code == 200 and ack.json()["acknowledged_by"] == "grid-li"
    assert len(await notify.outbox_events("notify.notification.acknowledged")) == 1
    read = await client.post(f"/v1/inbox/{item['id']}/read", headers=me)
    assert read.status_code == 200 and read.json()["read_at"]
    assert_problem(await client.post("/v1/inbox/999999/read", headers=me), 404)


@pytest.mark.parametrize(
    "notification_id", ["9223372036854775808", "9223372036854775807", "2147483648", "0", "-1", "1" + "0" * 30]
)
async def test_a_notification_id_outside_a_row_id_is_refused_not_a_server_error(
    client, community, notification_id
) -> None:
    me = community.as_(Role.GRID_WORKER, "grid-li")
    for path in (f"/v1/inbox/{notification_id}/read", f"/v1/notifications/{notification_id}/acknowledgement"):
        response = await client.post(path, headers=me)
        assert response.status_code in (404, 422), response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    for token in (f"{'9' * 18}.abc", f"{2**31}.abc", f"{'9' * 30}.abc"):  # a link naming no notification
        for method in (client.get, client.post):
            assert_problem(await method(f"/v1/acknowledgements/{token}"), 404)


async def test_an_acknowledgement_sent_again_with_its_idempotency_key_answers_alike(
    notify, client, community
) -> None:
    await notify.feed(notify.wrap(notify.overdue(grid_worker="grid-li")), NOON)
    (alert,) = await notify.notifications(recipient="grid-li")
    me = {**community.as_(Role.GRID_WORKER, "grid-li"), "Idempotency-Key": "ack-1"}
    first = await client.post(f"/v1/notifications/{alert.id}/acknowledgement", headers=me)
    again = await client.post(f"/v1/notifications/{alert.id}/acknowledgement", headers=me)
    assert first.status_code == again.status_code == 200, again.text
    assert first.json() == again.json()
    assert len(await notify.outbox_events("notify.notification.acknowledged")) == 1
    elsewhere = await client.post("/v1/inbox/999999/read", headers=me)
    assert_problem(elsewhere, 404)


async def test_low_stock_reaches_the_community_workers_shared_inbox(notify, client, community) -> None:
    await notify.feed(notify.wrap(StockLow(item_id="i-1", item_name="米 5kg", stock=2, threshold=5)), NOON)
    await notify.dispatch(NOON)
    keeper = await client.get("/v1/inbox", headers=community.as_(Role.COMMUNITY_WORKER, "cw-any"))
    (item,) = keeper.json()["items"]
    assert "米 5kg" in item["title"]
    elsewhere = community.__class__(community.district, "elsewhere")
    assert (await client.get("/v1/inbox", headers=elsewhere.as_(Role.COMMUNITY_WORKER))).json()["items"] == []


async def test_resident_reads_messages_addressed_to_them_with_their_registry_id(
    notify, client, community
) -> None:
    await notify.feed(notify.wrap(WishPosted(wish_id="w-1", resident_id="r-7", title="一台轮椅")), NOON)
    claimed = WishClaimed(wish_id="w-1", resident_id="r-7", volunteer_id="v-1", claim_expires_at=NOON)
    await notify.feed(notify.wrap(claimed), NOON)
    await notify.dispatch(NOON)
    (item,) = (await client.get("/v1/inbox", headers=community.as_(Role.RESIDENT, "r-7"))).json()["items"]
    assert item["recipient"] == "resident:r-7" and "心愿" in item["title"]
    assert "“一台轮椅”" in item["body"], "the title is remembered from when the wish was posted"
    assert (await client.get("/v1/inbox", headers=community.as_(Role.RESIDENT, "r-8"))).json()["items"] == []


async def test_a_fulfilled_wish_reaches_the_resident(notify, client, community) -> None:
    await notify.feed(notify.wrap(WishPosted(wish_id="w-3", resident_id="r-7", title="一台轮椅")), NOON)
    fulfilled = WishFulfilled(wish_id="w-3", resident_id="r-7", volunteer_id="v-1", note="已送到家")
    await notify.feed(notify.wrap(fulfilled), NOON)
    await notify.dispatch(NOON)

    (item,) = (await client.get("/v1/inbox", headers=community.as_(Role.RESIDENT, "r-7"))).json()["items"]
    assert (item["recipient"], item["template"]) == ("resident:r-7", "wish_fulfilled")
    assert "一台轮椅" in item["body"] and "已送到家" in item["body"]


async def test_a_workers_own_preferences_start_from_the_configured_quiet_hours(
    notify, client, community
) -> None:
    notify.settings.quiet_start, notify.settings.quiet_end = "23:30", "06:00"
    me = community.as_(Role.GRID_WORKER, "grid-new")
    default = (await client.get("/v1/contacts/grid-new/preferences", headers=me)).json()
    assert (default["quiet_start"], default["quiet_end"]) == ("23:30", "06:00")
    assert default["channels"] == ["inbox", "apprise", "sms"], "a worker: also the community's channels"


async def test_donation_thanks_the_donor_with_the_receipt_number(notify, client, community, receiver) -> None:
    notify.use_sms_gateway(receiver.sms_url)
    donation = DonationReceived(
        donation_id="don-1",
        receipt_number="2026-000042",
        campaign_id=None,
        donor_kind="resident",
        donor_display="李红亮",
        donor_phone="13600000001",
        channel="cash",
        fund="education",
        amount_fen=50000,
        entry_id=1,
    )
    await notify.feed(notify.wrap(donation), NOON)
    assert await notify.dispatch(NOON) == 1
    (text,) = receiver.texts()
    assert "2026-000042" in str(text["title"]) and "李红亮" in str(text["message"])
    assert "500.00" in str(text["message"]) and "助学" in str(text["message"])
    (thanks,) = await notify.notifications(recipient="donor:don-1")
    assert thanks.event_type == "fund.donation.received"
    log = await client.get("/v1/deliveries", headers=community.as_(Role.COMMUNITY_WORKER))
    assert {(d["recipient"], d["channel"], d["status"]) for d in log.json()["items"]} == {
        ("donor:don-1", "sms", "sent")
    }


async def test_each_gift_of_a_batch_is_thanked_once_even_when_the_batch_event_comes_twice(notify) -> None:
    """A collection box's gifts arrive as one donations.received event; a resident who gave twice
    in it is thanked twice (once per receipt), and a redelivered event thanks nobody again."""
    gifts = [
        DonationReceived(
            donation_id=f"box-{index}",
            receipt_number=f"2026-00010{index}",
            campaign_id=None,
            donor_kind="outsider",
            donor_display=name,
            channel="cash",
            fund="general",
            amount_fen=100 * (index + 1),
            entry_id=10 + index,
        )
        for index, name in enumerate(("王芳", "赵强", "王芳"))
    ]
    batch = notify.wrap(DonationsReceived(batch_id="batch-1", donations=gifts))
    await notify.feed(batch, NOON)
    await notify.feed(batch, NOON)
    thanked = [await notify.notifications(recipient=f"donor:box-{index}") for index in range(3)]
    assert [len(found) for found in thanked] == [1, 1, 1]
    assert [found[0].event_type for found in thanked] == ["fund.donation.received"] * 3
    assert "2026-000102" in thanked[2][0].body and "3.00" in thanked[2][0].body


async def test_anonymous_donor_is_thanked_without_a_name(notify) -> None:
    donation = DonationReceived(
        donation_id="don-2",
        receipt_number="2026-000043",
        campaign_id=None,
        donor_kind="outsider",
        donor_display="匿名",
        channel="mobile_payment",
        fund="general",
        amount_fen=1234,
        entry_id=2,
    )
    await notify.feed(notify.wrap(donation), NOON)
    (thanks,) = await notify.notifications(recipient="donor:don-2")
    assert "尊敬的爱心人士" in thanks.body and "12.34" in thanks.body


async def test_delivery_log_is_scoped_and_filtered(notify, client, community, receiver) -> None:
    receiver.status = 500
    await notify.feed(notify.wrap(notify.overdue(grid_worker="grid-li")), NOON)
    await notify.dispatch(NOON)

    worker = await client.get("/v1/deliveries", headers=community.as_(Role.COMMUNITY_WORKER))
    rows = worker.json()["items"]
    assert {(r["channel"], r["status"], r["attempts"]) for r in rows} == {
        ("inbox", "sent", 1),
        ("apprise", "pending", 1),
    }
    assert next(r for r in rows if r["channel"] == "apprise")["last_error"]
    sent = await client.get("/v1/deliveries?status=sent", headers=community.as_(Role.COMMUNITY_WORKER))
    assert [r["channel"] for r in sent.json()["items"]] == ["inbox"]

    elsewhere = community.__class__(community.district, "elsewhere")
    assert (await client.get("/v1/deliveries", headers=elsewhere.as_(Role.COMMUNITY_WORKER))).json()[
        "items"
    ] == []
    volunteer = await client.get("/v1/deliveries", headers=community.as_(Role.VOLUNTEER, "v-9"))
    assert volunteer.json()["items"] == [], "a volunteer sees only deliveries addressed to them"
    assert_problem(
        await client.get("/v1/deliveries?status=lost", headers=community.as_(Role.COMMUNITY_WORKER)), 422
    )


async def test_metrics_count_sent_deliveries(notify, client) -> None:
    sent = {"channel": "apprise"}
    before = REGISTRY.get_sample_value("linli_notify_deliveries_sent_total", sent) or 0
    await notify.feed(notify.wrap(notify.overdue()), NOON)
    await notify.dispatch(NOON)
    assert REGISTRY.get_sample_value("linli_notify_deliveries_sent_total", sent) == before + 1
    metrics = (await client.get("/metrics")).text
    assert 'linli_notify_deliveries_sent_total{channel="apprise"}' in metrics
    assert "linli_notify_deliveries_failed_total" in metrics


async def link_of_the_alert(notify, receiver) -> tuple[int, str]:  # noqa: ANN001
    """An urgent alert to grid-li, sent: its notification id and the token of the link in it."""
    await notify.feed(notify.wrap(notify.overdue(grid_worker="grid-li")), NOON)
    await notify.dispatch(NOON)
    (alert,) = await notify.notifications(recipient="grid-li")
    (hook,) = receiver.received
    link = next(line for line in str(hook["message"]).splitlines() if "/v1/acknowledgements/" in line)
    token = link.rsplit("/", 1)[-1]
    assert token.startswith(f"{alert.id}.")
    assert alert.id is not None
    return alert.id, token


async def test_opening_the_acknowledgement_link_shows_a_page_and_changes_nothing(
    notify, client, receiver
) -> None:
    alert_id, token = await link_of_the_alert(notify, receiver)

    for _ in range(2):  # a chat app's link preview, then a mail scanner: no login, no acknowledgement
        page = await client.get(f"/v1/acknowledgements/{token}")
        assert page.status_code == 200, page.text
        assert page.headers["content-type"].startswith("text/html")
        assert page.headers["cache-control"] == "no-store"
        assert '<form method="post">' in page.text and "确认收到" in page.text, "Chinese by default"
        assert "逾期" in page.text, "the alert's title, so the reader knows what they confirm"
    (alert,) = await notify.notifications(recipient="grid-li")
    assert (alert.acknowledged_at, alert.acknowledged_by, alert.read_at) == (None, None, None)
    assert await notify.outbox_events("notify.notification.acknowledged") == []
    limit = notify.settings.escalate_after_seconds
    assert await notify.escalate(NOON + timedelta(seconds=limit)) == 1, "a mere visit does not stop the climb"


async def test_posting_to_the_acknowledgement_link_acknowledges_once_without_a_login(
    notify, client, community, receiver
) -> None:
    alert_id, token = await link_of_the_alert(notify, receiver)
    tampered = token[:-1] + ("0" if token[-1] != "0" else "1")
    for method in (client.get, client.post):
        assert_problem(await method(f"/v1/acknowledgements/{tampered}"), 404)
        assert_problem(await method(f"/v1/acknowledgements/{alert_id + 1000}.{token.split('.')[1]}"), 404)
    assert await notify.outbox_events("notify.notification.acknowledged") == []

    for _ in range(2):
        answered = await client.post(f"/v1/acknowledgements/{token}")  # no bearer token
        assert answered.status_code == 200, answered.text
        assert answered.json()["notification_id"] == alert_id
    (acked,) = await notify.notifications(recipient="grid-li")
    assert acked.acknowledged_at is not None and acked.acknowledged_by == "link:grid-li"
    (event,) = await notify.outbox_events("notify.notification.acknowledged")
    assert event["payload"]["acknowledged_by"] == "link:grid-li"
    browser = await client.post(f"/v1/acknowledgements/{token}", headers={"Accept": "text/html"})
    assert browser.status_code == 200 and 'id="acknowledged"' in browser.text
    assert "<form" not in (await client.get(f"/v1/acknowledgements/{token}")).text, "nothing left to press"
    api = await client.post(
        f"/v1/notifications/{alert_id}/acknowledgement", headers=community.as_(Role.GRID_WORKER, "grid-li")
    )
    assert api.status_code == 200 and api.json()["acknowledged_by"] == "link:grid-li", "the first one stands"
    assert len(await notify.outbox_events("notify.notification.acknowledged")) == 1
    assert await notify.escalate(NOON.replace(hour=12)) == 0, "an acknowledged alert does not climb"


async def test_the_acknowledgement_page_speaks_the_recipients_language(
    notify, client, community, receiver
) -> None:
    me = community.as_(Role.GRID_WORKER, "grid-li")
    english = {**PREFERENCES, "channels": ["inbox", "apprise"]}
    assert (await client.put("/v1/contacts/grid-li/preferences", json=english, headers=me)).is_success
    _, token = await link_of_the_alert(notify, receiver)
    page = await client.get(f"/v1/acknowledgements/{token}")
    assert page.status_code == 200 and 'lang="en"' in page.text and "Acknowledge</button>" in page.text


async def test_a_normal_message_carries_no_acknowledgement_link(notify) -> None:
    await notify.feed(notify.wrap(StockLow(item_id="i-1", item_name="米 5kg", stock=2, threshold=5)), NOON)
    (message,) = await notify.notifications()
    assert "/v1/acknowledgements/" not in message.body


async def test_a_volunteer_reads_their_messages_with_their_own_token(notify, client, community) -> None:
    enrolled = VolunteerEnrolled(
        volunteer_id="v-1", subject="user-hong", resident_id=None, party_member=False
    )
    await notify.feed(notify.wrap(enrolled), NOON)
    redeemed = PointsRedeemed(
        redemption_id="rd-1", volunteer_id="v-1", item_id="i-1", quantity=1, points=30, balance=70
    )
    await notify.feed(notify.wrap(redeemed), NOON)
    await notify.dispatch(NOON)

    me = community.as_(Role.VOLUNTEER, "user-hong")
    (item,) = (await client.get("/v1/inbox", headers=me)).json()["items"]
    assert item["recipient"] == "volunteer:v-1" and "30" in item["body"]
    read = await client.post(f"/v1/inbox/{item['id']}/read", headers=me)
    assert read.status_code == 200 and read.json()["read_at"]
    assert {d["recipient"] for d in (await client.get("/v1/deliveries", headers=me)).json()["items"]} == {
        "volunteer:v-1"
    }
    preferences = await client.get("/v1/contacts/volunteer:v-1/preferences", headers=me)
    assert preferences.status_code == 200, preferences.text

    other = community.as_(Role.VOLUNTEER, "user-other")
    assert (await client.get("/v1/inbox", headers=other)).json()["items"] == []
    assert_problem(await client.post(f"/v1/inbox/{item['id']}/read", headers=other), 404)
    not_a_volunteer = community.as_(Role.GRID_WORKER, "user-hong")
    assert (await client.get("/v1/inbox", headers=not_a_volunteer)).json()["items"] == []


async def test_each_notification_records_the_template_version_it_was_sent_with(
    notify, client, community
) -> None:
    await notify.feed(notify.wrap(notify.overdue(grid_worker="grid-li")), NOON)
    await notify.dispatch(NOON)
    (alert,) = await notify.notifications(recipient="grid-li")
    assert (alert.template, alert.template_version) == ("visit_overdue", 4)
    (item,) = (await client.get("/v1/inbox", headers=community.as_(Role.GRID_WORKER, "grid-li"))).json()[
        "items"
    ]
    assert item["template_version"] == 4
    preview = await client.post(
        "/v1/templates/visit_overdue/preview", json={}, headers=community.as_(Role.COMMUNITY_WORKER)
    )
    assert preview.json()["version"] == 4


async def test_the_claimant_volunteer_hears_that_the_wish_was_confirmed(notify, client, community) -> None:
    enrolled = VolunteerEnrolled(
        volunteer_id="v-2", subject="user-ming", resident_id=None, party_member=False
    )
    await notify.feed(notify.wrap(enrolled), NOON)
    await notify.feed(notify.wrap(WishPosted(wish_id="w-2", resident_id="r-7", title="一台轮椅")), NOON)
    await notify.feed(notify.wrap(WishConfirmed(wish_id="w-2", volunteer_id="v-2", points_awarded=20)), NOON)
    await notify.dispatch(NOON)
    (item,) = (await client.get("/v1/inbox", headers=community.as_(Role.VOLUNTEER, "user-ming"))).json()[
        "items"
    ]
    assert item["recipient"] == "volunteer:v-2" and "20" in item["title"] and "一台轮椅" in item["body"]


async def test_delivery_log_names_each_messages_template_and_its_version(notify, client, community) -> None:
    await notify.feed(notify.wrap(notify.overdue(grid_worker="grid-li")), NOON)
    await notify.feed(notify.wrap(StockLow(item_id="i-1", item_name="米 5kg", stock=2, threshold=5)), NOON)
    worker = community.as_(Role.COMMUNITY_WORKER)
    rows, cursor = [], None
    while True:  # one row a page: the template is found for every page, not only the first
        page = await client.get(
            "/v1/deliveries", params={"limit": 1, **({"cursor": cursor} if cursor else {})}, headers=worker
        )
        assert page.status_code == 200, page.text
        rows += page.json()["items"]
        if not (cursor := page.json()["next_cursor"]):
            break
    keeper = f"role:{community.community}:community_worker"
    assert sorted((r["recipient"], r["channel"], r["template"], r["template_version"]) for r in rows) == [
        ("grid-li", "apprise", "visit_overdue", 4),
        ("grid-li", "inbox", "visit_overdue", 4),
        (keeper, "apprise", "stock_low", 1),
        (keeper, "inbox", "stock_low", 1),
    ]


async def test_fund_officers_are_reminded_when_a_promised_instalment_falls_due(
    notify, client, community
) -> None:
    due = CommitmentInstalmentDue(
        commitment_id="c-1",
        instalment_number=3,
        due_on=date(2027, 9, 1),
        purpose="education",
        amount_fen=50_000,
        disbursement_id="d-9",
    )
    envelope = notify.wrap(due)
    assert await notify.feed(envelope, NOON)
    assert not await notify.feed(envelope, NOON)  # redelivered: nothing more
    await notify.dispatch(NOON)

    (reminder,) = await notify.notifications(event_type="fund.commitment.instalment_due")
    assert reminder.recipient == f"role:{community.community}:fund_officer"
    assert "第 3 期" in reminder.title and "500.00" in reminder.body and "d-9" in reminder.body
