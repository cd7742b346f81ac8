"""The public 公示 page in people's words: days and times as people write them in China time, money in
yuan, the place named, and a layout that fits a phone."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest

from linli_fund.pages import day_words, moment_words, place_words

from .test_publication import china_today, public, publish

pytestmark = [pytest.mark.integration]
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


async def test_the_page_writes_days_times_and_money_for_people(
    client, community, donate, writes_later
) -> None:
    gift = await donate(community, 1_234_550, donor_kind="enterprise", donor_name="东李庄超市")
    today = china_today()
    published = await publish(
        client, community, today - timedelta(days=3), today, later=lambda: writes_later(timedelta(days=1))
    )
    assert published.status_code == 201, published.text

    page = (await client.get(f"{public(community)}/1.html")).text
    body = page.split("<body>", 1)[1]

    first = today - timedelta(days=3)
    assert f"第 1 期：{first.year}年{first.month}月{first.day}日 至 " in body
    assert f"<td>{today.month}月{today.day}日</td>" in body or f"<td>{today.year}年" in body
    stamped = published.json()["published_at"]
    assert f"公示于 {moment_words(stamped)}（北京时间）" in body
    assert "¥12,345.50" in body and gift["receipt_number"] in body
    assert f"{community.district} · {community.community}" in body, "codes until the fund knows names"
    assert not ISO_DAY.search(body.split("<footer>", 1)[0]), "no ISO day in what a person reads"
    assert "T" not in re.sub(r"[^0-9T:]", " ", body.split("公示于", 1)[1].split("。", 1)[0]).strip()
    assert 'name="viewport"' in page and "overflow-wrap: anywhere" in page


def test_moments_are_written_in_china_time() -> None:
    assert moment_words("2026-12-02T05:15:20+00:00") == "2026年12月2日 13:15"
    assert moment_words("2026-12-02T13:15:20+08:00") == "2026年12月2日 13:15"
    assert moment_words(datetime(2026, 12, 31, 16, 30, tzinfo=UTC)) == "2027年1月1日 00:30"
    assert day_words("2026-11-30") == "2026年11月30日"
    assert day_words(date(2026, 11, 3), year=False) == "11月3日"


def test_the_place_is_named_when_the_report_carries_names() -> None:
    assert (
        place_words({"district": "gaoqiaoying", "community": "donglizhuang"}) == "gaoqiaoying · donglizhuang"
    )
    named = {"district": "g", "community": "d", "district_name": "高桥营街道", "community_name": "东李庄社区"}
    assert place_words(named) == "高桥营街道 · 东李庄社区"
