"""Books anyone can re-add: every published page's totals are the sums of its own public rows, in its
CSV and in its Beancount file (which bean-check accepts), to the fen."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from beancount import loader
from beancount.core.data import Transaction

from linli_fund.pages import yuan
from linli_shared.auth import Role

from .test_publication import china_today, pay, public, publish

pytestmark = [pytest.mark.integration]


def fen(amount: str) -> int:
    return int(Decimal(amount.replace(",", "")) * 100)


async def reverse(client, community, entry_id: int) -> None:
    officer = community.as_(Role.FUND_OFFICER, "officer-d")
    reversal = await client.post(
        f"/v1/entries/{entry_id}/reversal", json={"reason": "录入错误"}, headers=officer
    )
    assert reversal.status_code == 201, reversal.text


async def two_published_periods(client, community, donate, approved, writes_later) -> None:
    """Gifts and payments, some reversed the same day, one gift corrected in the next period."""
    today = china_today()
    await donate(community, 50_000, donor_name="王建国")
    corrected = await donate(community, 20_000, donor_kind="resident", donor_name="李秘密", anonymous=True)
    await donate(community, 100_000, donor_kind="enterprise", donor_name='爱心"企业"')
    wrong = await donate(community, 5_000, channel="cash")
    await reverse(client, community, int(wrong["entry_id"]))
    await pay(client, community, approved, 30_000)
    mistaken = await pay(client, community, approved, 8_000, "relief")
    await reverse(client, community, int(mistaken["entry_id"]))
    with writes_later(timedelta(days=1)):
        first = await publish(client, community, today - timedelta(days=2), today)
    with writes_later(timedelta(days=2)):
        await reverse(client, community, int(corrected["entry_id"]))
    with writes_later(timedelta(days=3)):
        second = await publish(client, community, today + timedelta(days=1), today + timedelta(days=2))
    assert (first.status_code, second.status_code) == (201, 201), first.text + second.text


async def test_every_published_pages_totals_are_the_sums_of_its_own_csv_rows(
    client, community, donate, approved, writes_later
) -> None:
    await two_published_periods(client, community, donate, approved, writes_later)

    periods = (await client.get(public(community))).json()

    assert len(periods) == 2
    assert periods[1]["report"]["corrections"], "period 2 shows the correction of period 1"
    for period in periods:
        report, sequence = period["report"], period["sequence"]
        rows = list(
            csv.reader(
                io.StringIO((await client.get(f"{public(community)}/{sequence}.csv")).text.lstrip("\ufeff"))
            )
        )
        sums: Counter[str] = Counter()
        for section, *_, amount, reversed_ in rows[1:]:
            if section in ("donation", "payment") and reversed_ != "yes":
                sums[section] += fen(amount)
            elif section in ("income_by_source", "spending_by_purpose"):
                sums[section] += fen(amount)
        assert sums["donation"] == sums["income_by_source"] == report["income"]["total_fen"]
        assert sums["payment"] == sums["spending_by_purpose"] == report["spending"]["total_fen"]
        html = (await client.get(f"{public(community)}/{sequence}.html")).text
        assert f"本期收入<strong>¥{yuan(report['income']['total_fen'])}</strong>" in html
        assert f"本期支出<strong>¥{yuan(report['spending']['total_fen'])}</strong>" in html
    assert (periods[0]["report"]["income"]["total_fen"], periods[0]["report"]["spending"]["total_fen"]) == (
        170_000,
        30_000,
    )


async def test_bean_check_accepts_every_periods_beancount_file_and_it_re_adds_to_the_page(
    client, community, donate, approved, writes_later, tmp_path: Path
) -> None:
    await two_published_periods(client, community, donate, approved, writes_later)

    for period in (await client.get(public(community))).json():
        response = await client.get(f"{public(community)}/{period['sequence']}.beancount")
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
        ledger = tmp_path / f"{period['sequence']}.beancount"
        ledger.write_text(response.text, encoding="utf-8")
        checked = subprocess.run(
            [Path(sys.executable).parent / "bean-check", ledger], capture_output=True, text=True, check=False
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
        entries, errors, _ = loader.load_file(str(ledger))
        assert errors == []
        sums: Counter[str] = Counter()
        for entry in entries:
            if isinstance(entry, Transaction):
                for posting in entry.postings:
                    sums[posting.account.split(":")[0]] += int(posting.units.number * 100)
        report = period["report"]
        assert -sums["Income"] == report["income"]["total_fen"]
        assert sums["Expenses"] == report["spending"]["total_fen"]
        assert "李秘密" not in response.text, "masked as on the page"
        assert period["sha256"] in response.text
