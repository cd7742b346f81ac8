"""Reading the ledger: balances at a date, and who may read or write what."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from linli_fund.ledger import end_of_day
from linli_shared.auth import Role
from linli_shared.clock import utc_now
from linli_shared.testing.http import bearer

pytestmark = [pytest.mark.integration]


async def test_trial_balance_at_a_date_counts_only_entries_posted_by_its_end(
    client, community, donate
) -> None:
    await donate(community, 12_345, channel="cash")
    today = (utc_now() + timedelta(hours=8)).date()  # the fund's days are China days
    path = f"{community.fund_path}/trial-balance"
    headers = community.as_(Role.AUDITOR)

    before = (
        await client.get(path, params={"as_of": str(today - timedelta(days=1))}, headers=headers)
    ).json()
    now = (await client.get(path, params={"as_of": str(today)}, headers=headers)).json()

    assert before["total_debit"] == before["total_credit"] == 0
    assert now["total_debit"] == now["total_credit"] == 12_345
    cash = next(line for line in now["lines"] if line["account"] == "assets:cash")
    assert (cash["debit"], cash["credit"]) == (12_345, 0)


def test_a_day_ends_at_midnight_china_time() -> None:
    assert end_of_day(date(2026, 1, 1)).isoformat() == "2026-01-02T00:00:00+08:00"


@pytest.mark.parametrize("role", [Role.DISTRICT_ADMIN, Role.AUDITOR, Role.CITY_ADMIN, Role.FUND_OFFICER])
async def test_readers_of_the_district_see_the_ledger(client, community, donate, role) -> None:
    await donate(community, 500)
    headers = bearer(role, community.district, community.community)
    trial = await client.get(f"{community.fund_path}/trial-balance", headers=headers)
    entries = await client.get(f"{community.fund_path}/entries", headers=headers)
    assert trial.status_code == entries.status_code == 200
    assert trial.json()["total_debit"] == 500 and len(entries.json()["items"]) == 1


async def test_readers_of_another_district_see_nothing(client, community, donate) -> None:
    await donate(community, 500)
    headers = bearer(Role.AUDITOR, f"{community.district}x")
    assert (await client.get(f"{community.fund_path}/trial-balance", headers=headers)).status_code == 404
    assert (await client.get("/v1/donations", headers=headers)).json()["items"] == []


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.DISTRICT_ADMIN, Role.VOLUNTEER, Role.GRID_WORKER])
async def test_only_workers_and_officers_record_donations(client, community, role) -> None:
    body = {
        "district": community.district,
        "community": community.community,
        "donor_kind": "resident",
        "donor_name": "王",
        "channel": "cash",
        "amount_fen": 100,
    }
    response = await client.post(
        "/v1/donations", json=body, headers=bearer(role, community.district, community.community)
    )
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
