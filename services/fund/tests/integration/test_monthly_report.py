"""The fund's section of the monthly report: each figure equals a count of the rows themselves, the
disclosure of the month and the trial balance at its end, in two communities and two months."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

import pytest
from sqlmodel import select

from linli_fund.models import Disbursement, Donation, JournalEntry
from linli_shared.auth import Role
from linli_shared.clock import china_day, utc_now
from linli_shared.monthly_report import Month
from linli_shared.testing.http import bearer

from ..conftest import Community

pytestmark = [pytest.mark.integration]

THIS = Month.parse(f"{china_day(utc_now()):%Y-%m}")
LAST = Month.parse(f"{THIS.first_day - timedelta(days=1):%Y-%m}")
FUNDS = ["general", "education", "medical", "relief"]


@pytest.fixture
def places() -> tuple[Community, Community]:
    one = Community.new()
    return one, Community(one.district, one.community + "b")


async def pay(client, place: Community, disbursement: dict[str, object]) -> None:
    response = await client.post(
        f"/v1/disbursements/{disbursement['id']}/payment",
        json={"channel": "bank_transfer"},
        headers=place.as_(Role.FUND_OFFICER, "officer-a"),
    )
    assert response.status_code == 200, response.text


async def build_records(client, donate, approved, writes_later, places) -> None:
    """Gifts, payments and a reversal in two communities, last month and this one."""
    one, two = places
    last_month_day = LAST.first_day + timedelta(days=9)  # the 10th of last month
    await donate(one, 500_00, received_on=(LAST.first_day + timedelta(days=1)).isoformat())
    reversed_later = await donate(
        one, 80_00, received_on=last_month_day.isoformat(), restricted_to="education"
    )
    await donate(one, 12_00)  # today
    await donate(two, 3_000_00, received_on=LAST.last_day.isoformat(), restricted_to="medical")
    await donate(two, 50_00)
    with writes_later(LAST.start + timedelta(days=15, hours=3) - utc_now()):  # paid on last month's 16th
        payment = await approved(one, 100_00, purpose="relief", fund="general")
        await pay(client, one, payment)
    payment = await approved(two, 1_000_00, purpose="medical")
    await pay(client, two, payment)
    reversal = await client.post(
        f"/v1/entries/{reversed_later['entry_id']}/reversal",
        json={"reason": "记错了社区"},
        headers=one.as_(Role.FUND_OFFICER, "officer-a"),
    )
    assert reversal.status_code == 201, reversal.text


async def counted_from_rows(client, month: Month) -> dict[tuple[str, str], dict[str, int]]:
    """Gifts and payments of the month not reversed by its end, counted from the rows."""
    found: defaultdict[tuple[str, str], defaultdict[str, int]] = defaultdict(lambda: defaultdict(int))
    async with client.app.state.session_factory() as session:
        reversed_by_end = {
            e.reverses_entry_id
            for e in (await session.exec(select(JournalEntry))).all()
            if e.reverses_entry_id is not None and e.posted_at < month.end
        }
        for d in (await session.exec(select(Donation))).all():
            if month.holds(d.received_at) and d.entry_id not in reversed_by_end:
                found[(d.district, d.community)]["donations"] += 1
                found[(d.district, d.community)]["donations_fen"] += d.amount_fen
        for p in (await session.exec(select(Disbursement))).all():
            if month.holds(p.paid_at) and p.entry_id not in reversed_by_end:
                found[(p.district, p.community)]["disbursements"] += 1
                found[(p.district, p.community)]["disbursements_fen"] += p.amount_fen
    return {place: dict(counts) for place, counts in found.items()}


@pytest.mark.parametrize("which", ["this", "last"])
async def test_every_figure_equals_the_rows_the_disclosure_and_the_trial_balance(
    client, donate, approved, writes_later, places, which
) -> None:
    month = THIS if which == "this" else LAST
    await build_records(client, donate, approved, writes_later, places)
    one, two = places
    response = await client.get(
        f"/v1/reports/monthly?month={month.label}", headers=bearer(Role.DISTRICT_ADMIN, one.district)
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["month"] == month.label
    got = {(e["district"], e["community"]): e for e in report["communities"]}
    assert sorted(got) == sorted([(one.district, one.community), (two.district, two.community)])
    expected = await counted_from_rows(client, month)
    for place, entry in got.items():
        counted = expected.get(place, {})
        for figure in ("donations", "donations_fen", "disbursements", "disbursements_fen"):
            assert entry[figure] == counted.get(figure, 0), (place, figure)
        path = f"/v1/funds/{place[0]}/{place[1]}"
        disclosure = await client.get(
            f"{path}/disclosure?first_day={month.first_day}&last_day={month.last_day}",
            headers=bearer(Role.DISTRICT_ADMIN, place[0]),
        )
        assert disclosure.status_code == 200, disclosure.text
        disclosed = disclosure.json()
        assert entry["donations_fen"] == disclosed["received_fen"]
        assert entry["disbursements_fen"] == disclosed["paid_fen"]
        assert entry["funds_at_end"] == disclosed["funds_at_end"]
        trial = await client.get(
            f"{path}/trial-balance?as_of={month.last_day}", headers=bearer(Role.AUDITOR, place[0])
        )
        assert trial.status_code == 200, trial.text
        assert entry["funds_at_end"] == trial.json()["funds"]
        assert entry["balance_at_end_fen"] == sum(entry["funds_at_end"].values())
        if month is THIS:  # at this month's end (nothing later yet) the balances are today's
            now = (await client.get(path, headers=bearer(Role.AUDITOR, place[0]))).json()
            assert entry["funds_at_end"] == {f["fund"]: f["balance_fen"] for f in now["funds"]}
    first, second = got[(one.district, one.community)], got[(two.district, two.community)]
    if which == "last":  # the gift reversed this month still counts in last month's report
        assert (first["donations"], first["donations_fen"], first["disbursements_fen"]) == (2, 580_00, 100_00)
        assert first["funds_at_end"] == {"general": 400_00, "education": 80_00, "medical": 0, "relief": 0}
        assert (second["donations_fen"], second["disbursements"], second["balance_at_end_fen"]) == (
            3_000_00,
            0,
            3_000_00,
        )
    else:
        assert (first["donations"], first["donations_fen"], first["disbursements"]) == (1, 12_00, 0)
        assert first["funds_at_end"] == {"general": 412_00, "education": 0, "medical": 0, "relief": 0}
        assert (second["donations_fen"], second["disbursements_fen"]) == (50_00, 1_000_00)
        assert second["funds_at_end"]["medical"] == 2_000_00


async def test_each_role_sees_its_scope(client, donate, places) -> None:
    one, two = places
    await donate(one, 10_00)
    await donate(two, 20_00)
    path = f"/v1/reports/monthly?month={THIS.label}"
    for role in (Role.COMMUNITY_WORKER, Role.FUND_OFFICER):
        own = (await client.get(path, headers=one.as_(role))).json()["communities"]
        assert [(e["community"], e["donations_fen"]) for e in own] == [(one.community, 10_00)]
    other = await client.get(f"{path}&community={two.community}", headers=one.as_(Role.COMMUNITY_WORKER))
    assert other.status_code == 404
    assert other.headers["content-type"] == "application/problem+json"
    for role in (Role.DISTRICT_ADMIN, Role.AUDITOR):
        both = (await client.get(path, headers=bearer(role, one.district))).json()["communities"]
        assert [e["community"] for e in both] == sorted([one.community, two.community])
    city = await client.get(f"{path}&district={one.district}", headers=bearer(Role.CITY_ADMIN, None))
    assert [e["donations_fen"] for e in city.json()["communities"]] == [10_00, 20_00]
    no_district = await client.get(f"{path}&community={one.community}", headers=bearer(Role.CITY_ADMIN, None))
    assert no_district.status_code == 422
    for role in (Role.GRID_WORKER, Role.VOLUNTEER, Role.RESIDENT):
        refused = await client.get(path, headers=one.as_(role))
        assert refused.status_code == 403, role
        assert refused.headers["content-type"] == "application/problem+json"
