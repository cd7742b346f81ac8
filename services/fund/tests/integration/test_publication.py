"""Published disclosures: frozen, hash-chained, public (no token), beneficiaries only as initials."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from contextlib import nullcontext
from datetime import timedelta

import pytest
from sqlalchemy import text, update
from sqlmodel import col

from linli_fund.models import PublishedDisclosure
from linli_shared.auth import Role
from linli_shared.clock import utc_now

from .test_donations import outbox_events

pytestmark = [pytest.mark.integration]


def china_today():
    return (utc_now() + timedelta(hours=8)).date()


async def publish(client, community, first_day, last_day, role: Role = Role.FUND_OFFICER, *, later=None):
    with later() if later else nullcontext():
        return await client.post(
            f"{community.fund_path}/disclosures",
            json={"first_day": str(first_day), "last_day": str(last_day)},
            headers=community.as_(role, "officer-p"),
        )


def public(community) -> str:
    return f"/v1/public/funds/{community.district}/{community.community}/disclosures"


async def pay(client, community, approved, amount_fen: int, purpose: str = "medical") -> dict[str, object]:
    disbursement = await approved(community, amount_fen, purpose, fund="general")
    paid = await client.post(
        f"/v1/disbursements/{disbursement['id']}/payment", json={}, headers=community.as_(Role.FUND_OFFICER)
    )
    assert paid.status_code == 200, paid.text
    return dict(paid.json())


async def test_a_published_period_is_public_in_json_csv_and_html_with_beneficiaries_masked(
    client, community, donate, approved, a_day_later
) -> None:
    campaign = await client.post(
        "/v1/campaigns",
        json={
            "district": community.district,
            "community": community.community,
            "name": "2026年秋季爱心募捐",
            "starts_on": str(china_today() - timedelta(days=10)),
            "ends_on": str(china_today() + timedelta(days=10)),
            "target_fen": 3_000_000,
        },
        headers=community.as_(Role.COMMUNITY_WORKER),
    )
    assert campaign.status_code == 201, campaign.text
    await donate(community, 50_000, campaign_id=campaign.json()["id"], donor_name="王建国")
    await donate(community, 200_000, donor_kind="enterprise", donor_name="<b>爱心企业</b>")
    await donate(community, 10_000, donor_kind="resident", donor_name="李秘密", anonymous=True)
    paid = await pay(client, community, approved, 30_000)

    published = await publish(
        client, community, china_today() - timedelta(days=3), china_today(), later=a_day_later
    )

    assert published.status_code == 201, published.text
    body = published.json()
    assert (body["sequence"], body["previous_sha256"]) == (1, None)
    report = body["report"]
    assert report["income"] == {
        "total_fen": 260_000,
        "by_source": {"enterprise": 200_000, "party_member": 50_000, "resident": 10_000},
        "by_campaign": {"2026年秋季爱心募捐": 50_000, "日常捐赠": 210_000},
    }
    assert report["spending"] == {"total_fen": 30_000, "by_purpose": {"medical": 30_000}}
    assert report["funds_at_end"]["general"] == 230_000
    assert [d["donor"] for d in report["donations"]] == ["王建国", "<b>爱心企业</b>", "匿名"]
    assert report["disbursements"] == [
        {
            "paid_on": str(china_today()),
            "purpose": "medical",
            "beneficiary": "张**",
            "fund": "general",
            "amount_fen": 30_000,
            "reversed": False,
        }
    ]

    # No token on any of the public pages.
    as_json = await client.get(f"{public(community)}/1.json")
    as_csv = await client.get(f"{public(community)}/1.csv")
    as_html = await client.get(f"{public(community)}/1.html")
    listed = await client.get(public(community))
    for response in (as_json, as_csv, as_html, listed):
        assert response.status_code == 200, response.text
        assert str(paid["resident_id"]) not in response.text
        assert "张小明" not in response.text and "李秘密" not in response.text
        assert "110105" not in response.text and "********" not in response.text, "no ID number, even masked"
    assert as_json.json() == body and listed.json() == [body]
    rows = list(csv.reader(io.StringIO(as_csv.text.lstrip("\ufeff"))))
    assert rows[0][0] == "section" and ["payment", str(china_today()), "", "张**", "medical"] == rows[4][:5]
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert 'name="viewport"' in as_html.text and "&lt;b&gt;爱心企业&lt;/b&gt;" in as_html.text
    assert "<b>爱心企业" not in as_html.text, "autoescape is on"
    assert body["sha256"] in as_html.text and "医疗救助 · 张**" in as_html.text


async def test_a_donors_phone_travels_on_the_event_and_is_shown_nowhere(
    client, community, donate, a_day_later
) -> None:
    phone = "+8613912345678"
    gift = await donate(community, 8_800, donor_kind="outsider", donor_name="过路人", donor_phone=phone)
    today = china_today()
    published = await publish(client, community, today - timedelta(days=1), today, later=a_day_later)
    assert published.status_code == 201, published.text

    [event] = await outbox_events(client, ".fund.donation.received")
    assert event["payload"]["donor_phone"] == phone
    reader = community.as_(Role.AUDITOR)
    period = {"first_day": str(today - timedelta(days=1)), "last_day": str(today)}
    answers = [
        published,
        await client.get(f"/v1/donations/{gift['id']}", headers=reader),
        await client.get("/v1/donations", headers=reader),
        await client.get(f"{community.fund_path}/disclosure", params=period, headers=reader),
        await client.get(
            f"{community.fund_path}/donor-statement", params={"donor_name": "过路人"}, headers=reader
        ),
        await client.get(f"{community.fund_path}/entries", headers=reader),
        await client.get(f"{community.fund_path}/ledger.beancount", headers=reader),
        *[await client.get(f"{public(community)}{page}") for page in ("", "/1.json", "/1.csv", "/1.html")],
    ]
    for answer in answers:
        assert answer.status_code in (200, 201), answer.text
        assert gift["receipt_number"] in answer.text, f"{answer.url} does not show the gift at all"
        assert "13912345678" not in answer.text, answer.url
    assert "donor_phone" not in gift


async def test_published_reports_are_frozen_and_chained(client, community, donate, a_day_later) -> None:
    today = china_today()
    await donate(community, 10_000)
    first = await publish(
        client, community, today - timedelta(days=5), today - timedelta(days=1), later=a_day_later
    )
    first = first.json()
    second = await publish(client, community, today, today, later=a_day_later)
    assert second.status_code == 201, second.text
    assert second.json()["previous_sha256"] == first["sha256"]
    assert second.json()["report"]["income"]["total_fen"] == 10_000

    await donate(community, 5_000)  # recorded after publication: the frozen report does not change
    again = await client.get(f"{public(community)}/2.json")
    assert again.json() == second.json()

    verified = await client.get(f"{public(community)}/verification")
    assert verified.json() == {
        "valid": True,
        "chain_valid": True,
        "periods": 2,
        "broken_at": None,
        "problem": None,
        "latest_sha256": second.json()["sha256"],
        "witness": {
            "checked": False,
            "reason": "no witness is configured (LINLI_FUND_WITNESS_URL)",
            "periods": None,
        },
        "lookup": None,
    }


async def test_same_idempotency_key_publishes_a_period_once_and_answers_the_same(
    client, community, donate, a_day_later
) -> None:
    today = china_today()
    await donate(community, 10_000)
    path = f"{community.fund_path}/disclosures"
    body = {"first_day": str(today - timedelta(days=2)), "last_day": str(today)}
    headers = {**community.as_(Role.FUND_OFFICER, "officer-p"), "Idempotency-Key": "notice-board-2026-11"}

    with a_day_later():
        twins = await asyncio.gather(*(client.post(path, json=body, headers=headers) for _ in range(6)))
        again = await client.post(path, json=body, headers=headers)
        other = await client.post(
            path, json={**body, "last_day": str(today + timedelta(days=1))}, headers=headers
        )

    first, *others = twins
    assert [a.status_code for a in [*twins, again]] == [201] * 7, [a.text for a in twins]
    assert all(a.json() == first.json() for a in [*others, again])
    assert len((await client.get(public(community))).json()) == 1
    assert len(await outbox_events(client, ".fund.disclosure.published")) == 1
    assert other.status_code == 409, "the same key with another body is refused"


async def remove_the_append_only_guard(session) -> None:
    """The database refuses edits of a published report: tampering takes an administrator who
    first removes its trigger (the chain is there for them)."""
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        await connection.execute(
            text("ALTER TABLE published_disclosure DISABLE TRIGGER published_disclosure_append_only")
        )
    else:
        await connection.execute(text("DROP TRIGGER published_disclosure_no_update"))
        await connection.execute(text("DROP TRIGGER published_disclosure_no_delete"))


async def test_a_silent_change_to_a_frozen_report_breaks_the_chain(
    client, community, donate, a_day_later
) -> None:
    today = china_today()
    await donate(community, 10_000, donor_name="王建国")
    await publish(client, community, today - timedelta(days=5), today - timedelta(days=1), later=a_day_later)
    await publish(client, community, today, today, later=a_day_later)

    second = (await client.get(f"{public(community)}/2.json")).json()
    tampered = {**second["report"], "income": {**second["report"]["income"], "total_fen": 1_000}}
    async with client.app.state.session_factory() as session:
        await remove_the_append_only_guard(session)
        await session.exec(
            update(PublishedDisclosure)
            .where(
                col(PublishedDisclosure.district) == community.district,
                col(PublishedDisclosure.community) == community.community,
                col(PublishedDisclosure.sequence) == 2,
            )
            .values(report=json.dumps(tampered, ensure_ascii=False, sort_keys=True, separators=(",", ":")))
        )
        await session.commit()

    verified = (await client.get(f"{public(community)}/verification")).json()
    assert (verified["valid"], verified["broken_at"]) == (False, 2)
    assert "no longer matches" in verified["problem"]


@pytest.mark.parametrize(
    ("role", "days", "status"),
    [
        (Role.COMMUNITY_WORKER, (-3, 0), 403),
        (Role.FUND_OFFICER, (0, 1), 422),  # the period has not ended
        (Role.FUND_OFFICER, (-2, 0), 422),  # nor has today
        (Role.FUND_OFFICER, (0, -1), 422),  # backwards
    ],
)
async def test_publication_is_refused(client, community, role, days, status) -> None:
    today = china_today()
    response = await publish(
        client, community, today + timedelta(days=days[0]), today + timedelta(days=days[1]), role
    )
    assert response.status_code == status, response.text


async def test_an_overlapping_period_cannot_be_published(client, community, a_day_later) -> None:
    today = china_today()
    first = await publish(client, community, today - timedelta(days=5), today, later=a_day_later)
    assert first.status_code == 201, first.text
    overlapping = await publish(client, community, today - timedelta(days=1), today, later=a_day_later)
    assert overlapping.status_code == 409


async def test_an_unpublished_period_is_not_public(client, community) -> None:
    response = await client.get(f"{public(community)}/1.html")
    assert response.status_code == 404


async def test_the_public_csv_shows_a_formula_like_donor_name_as_text(
    client, community, donate, a_day_later
) -> None:
    await donate(community, 1_000, donor_kind="outsider", donor_name="=HYPERLINK(1)")
    published = await publish(
        client, community, china_today() - timedelta(days=3), china_today(), later=a_day_later
    )
    assert published.status_code == 201, published.text

    as_csv = await client.get(f"{public(community)}/1.csv")

    [donation] = [
        row for row in csv.reader(io.StringIO(as_csv.text.lstrip("\ufeff"))) if row[0] == "donation"
    ]
    assert donation[3] == "'=HYPERLINK(1)", "a spreadsheet shows it, it does not run it"
