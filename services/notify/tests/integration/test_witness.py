"""The witness of the fund's 公示: each published hash kept here, once, in public; a second hash for a
period kept as a conflict beside the first; and the hash announced where the community looks."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta

import jwt
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from linli_notify.models import WitnessConflict, WitnessedDisclosure
from linli_shared.auth import ALGORITHM, Role, token_claims
from linli_shared.contracts.fund import (
    DisclosurePublished,
    DisclosureQuestionAnswered,
    DisclosureQuestioned,
    DonationReceived,
)
from linli_shared.testing.communities import Community
from linli_shared.testing.http import TEST_JWT_SECRET

pytestmark = [pytest.mark.integration]

NOON = datetime(2026, 11, 3, 4, 0, tzinfo=UTC)
DONOR_PHONE = "13812345678"


def sha(text_: str) -> str:
    return hashlib.sha256(text_.encode()).hexdigest()


def published(sequence: int, sha256: str, previous: str | None = None) -> DisclosurePublished:
    return DisclosurePublished(
        sequence=sequence,
        first_day=date(2026, 9 + sequence, 1),
        last_day=date(2026, 9 + sequence, 28),
        sha256=sha256,
        previous_sha256=previous,
    )


def conflicts_counted() -> float:
    return REGISTRY.get_sample_value("linli_notify_witness_conflicts_total") or 0


def witness_path(community) -> str:  # noqa: ANN001
    return f"/v1/public/witness/{community.district}/{community.community}"


async def test_each_published_hash_is_witnessed_once_and_listed_in_public_by_sequence(
    notify, client, community
) -> None:
    first, second = sha("period 1"), sha("period 2")
    second_event = notify.wrap(published(2, second, first))
    await notify.feed(second_event, NOON)  # events may come out of order
    await notify.feed(notify.wrap(published(1, first)), NOON)
    assert not await notify.feed(second_event, NOON)  # a redelivery: the inbox drops it
    await notify.feed(notify.wrap(published(2, second, first)), NOON)  # same hash, another event id

    response = await client.get(witness_path(community) + "/disclosures")  # no token: public

    assert response.status_code == 200, response.text
    rows = response.json()
    assert [(r["sequence"], r["sha256"], r["previous_sha256"]) for r in rows] == [
        (1, first, None),
        (2, second, first),
    ]
    assert rows[1]["published_at"] == second_event.occurred_at.isoformat().replace("+00:00", "Z")
    assert rows[1]["witnessed_at"].startswith("2026-11-03T04:00:00")
    assert (rows[0]["timestamp_token"], rows[0]["timestamped_at"]) == (None, None)
    assert (await client.get(witness_path(community) + "/conflicts")).json() == []


async def test_a_second_hash_for_a_witnessed_period_is_kept_as_a_conflict_and_never_replaces_it(
    notify, client, community, caplog
) -> None:
    original, rewritten = sha("¥0"), sha("¥1,000")
    await notify.feed(notify.wrap(published(1, original)), NOON)
    before = conflicts_counted()

    for _ in range(2):  # the rewrite announced twice is one conflict
        await notify.feed(notify.wrap(published(1, rewritten)), NOON)

    rows = (await client.get(witness_path(community) + "/disclosures")).json()
    assert [(r["sequence"], r["sha256"]) for r in rows] == [(1, original)]
    conflicts = (await client.get(witness_path(community) + "/conflicts")).json()
    assert [(c["sequence"], c["sha256"], c["witnessed_sha256"]) for c in conflicts] == [
        (1, rewritten, original)
    ]
    assert conflicts_counted() == before + 1
    assert any("witness conflict" in record.message for record in caplog.records)
    announced = await notify.notifications(template="disclosure_published")
    assert len(announced) == 1  # the rewritten hash is evidence, not an announcement


async def test_the_database_refuses_to_change_or_delete_a_witnessed_hash(notify) -> None:
    await notify.feed(notify.wrap(published(1, sha("kept"))), NOON)
    await notify.feed(notify.wrap(published(1, sha("other"))), NOON)
    for statement in (
        "UPDATE witnessed_disclosure SET sha256 = 'forged'",
        "DELETE FROM witnessed_disclosure",
        "UPDATE witness_conflict SET sha256 = 'forged'",
        "DELETE FROM witness_conflict",
    ):
        async with notify.session_factory() as session:
            with pytest.raises(DBAPIError, match="append-only"):
                await session.exec(text(statement))  # type: ignore[call-overload]
    async with notify.session_factory() as session:
        kept = (await session.exec(select(WitnessedDisclosure))).all()
        assert [row.sha256 for row in kept] == [sha("kept")]
        assert len((await session.exec(select(WitnessConflict))).all()) == 1


async def test_public_witness_refuses_a_place_that_is_not_a_code(client) -> None:
    response = await client.get("/v1/public/witness/Gao%20Qiao/x/disclosures")
    assert response.status_code == 422


async def test_publication_is_announced_to_the_group_channel_and_to_donors_who_asked(
    notify, client, community, receiver
) -> None:
    notify.use_sms_gateway(receiver.sms_url)
    await notify.feed(notify.wrap(donation("dn-1", phone=DONOR_PHONE)), NOON)
    await notify.feed(notify.wrap(donation("dn-2", phone=DONOR_PHONE)), NOON)  # the same donor again
    await notify.feed(notify.wrap(donation("dn-3", phone="13900000003")), NOON)  # did not ask
    worker = community.as_(Role.COMMUNITY_WORKER, "cw-zhang")
    for donation_id in ("dn-1", "dn-2"):  # the donor asked at the desk; the worker notes it
        wants = {"channels": ["sms"], "quiet_start": "22:00", "quiet_end": "07:00", "announcements": True}
        answer = await client.put(f"/v1/contacts/donor:{donation_id}/preferences", json=wants, headers=worker)
        assert answer.status_code == 200, answer.text
        assert answer.json()["announcements"] is True
    await notify.dispatch(NOON)  # the thanks for the gifts go out first
    receiver.received.clear()
    hash_ = "3f2a9c017bde" + sha("report")[12:]

    await notify.feed(notify.wrap(published(1, hash_)), NOON)
    await notify.dispatch(NOON)

    (group,) = receiver.hooks()
    assert "3f2a 9c01 7bde" in str(group["title"])
    body = str(group["message"])
    url = (
        f"/v1/public/funds/{community.district}/{community.community}/disclosures/verification?sha256={hash_}"
    )
    assert hash_ in body and url in body and "2026-10-01" in body
    texts = receiver.texts()
    assert [t["phone"] for t in texts] == [DONOR_PHONE]  # one text for the donor who asked, given twice
    assert "3f2a 9c01 7bde" in str(texts[0]["title"])


async def test_a_question_goes_to_the_fund_officers_and_the_answer_to_the_resident_who_asked(
    notify, client, community
) -> None:
    asked = DisclosureQuestioned(
        sequence=1,
        question_id="q-1",
        line_kind="payment",
        line_ref="2",
        text="这笔医疗救助和发票对不上？",
        asked_at=NOON,
        closes_on=date(2026, 11, 10),
        asker_account_id="acc-7",
    )
    answered = DisclosureQuestionAnswered(
        sequence=1,
        question_id="q-1",
        text="发票已补充公示。",
        correction_entry_id=None,
        answered_at=NOON,
        asker_account_id="acc-7",
        answered_by_account_id="acc-officer",
    )
    await notify.feed(notify.wrap(asked), NOON)
    await notify.feed(notify.wrap(answered), NOON)
    await notify.dispatch(NOON)

    officer = community.as_(Role.FUND_OFFICER, "acc-officer")
    desk = (await client.get("/v1/inbox", headers=officer)).json()["items"]
    assert [n["template"] for n in desk] == ["disclosure_questioned"]
    assert "2026-11-10" in desk[0]["title"] and "发票对不上" in desk[0]["body"]
    assert "r-7" not in desk[0]["body"]  # the asker is not named, even to the officers
    asker = signed_in(community, Role.RESIDENT, subject="r-7", account="acc-7")
    mine = (await client.get("/v1/inbox", headers=asker)).json()["items"]
    assert [(n["template"], n["recipient"]) for n in mine] == [
        ("disclosure_question_answered", "account:acc-7")
    ]
    assert "发票已补充公示" in mine[0]["body"]
    for someone_else in (
        signed_in(community, Role.RESIDENT, subject="r-8", account="acc-8"),
        community.as_(Role.RESIDENT, "r-7"),  # a development token: no account, its subject stands in
    ):
        assert (await client.get("/v1/inbox", headers=someone_else)).json()["items"] == []


def signed_in(community: Community, role: Role, *, subject: str, account: str) -> dict[str, str]:
    """A caller signed in to an account, as the registry's tokens carry it (`acc`)."""
    claims = token_claims(
        role=role,
        district=community.district,
        community=community.community,
        subject=subject,
        lifetime=timedelta(hours=1),
        now=None,
        account=account,
    )
    return {"Authorization": f"Bearer {jwt.encode(claims, TEST_JWT_SECRET, algorithm=ALGORITHM)}"}


def donation(donation_id: str, *, phone: str | None) -> DonationReceived:
    return DonationReceived(
        donation_id=donation_id,
        receipt_number=f"2026-{donation_id}",
        campaign_id=None,
        donor_kind="outsider",
        donor_display="李红亮",
        donor_resident_id=None,
        donor_phone=phone,
        channel="cash",
        fund="general",
        amount_fen=20000,
        entry_id=7,
    )
