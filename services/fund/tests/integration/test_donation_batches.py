"""A batch of donations in one request, on SQLite and PostgreSQL: each gift its own receipt, all or
none, gapless beside single donations, the books balanced, the same key recording once."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from sqlmodel import col, func, select

from linli_fund.models import Donation, GuardedBalance, JournalEntry, Posting
from linli_fund.usecases import donation_batches
from linli_shared.auth import Role
from linli_shared.clock import utc_now
from linli_shared.outbox import OutboxMessage

pytestmark = [pytest.mark.integration]

RECEIVED = ".fund.donations.received"


def china_today():
    return (utc_now() + timedelta(hours=8)).date()


def box(community, amounts: list[int], **extra: object) -> dict[str, object]:
    """A counted collection box: one cash gift per amount."""
    lines = [
        {"donor_kind": "resident", "donor_name": f"居民{i}", "channel": "cash", "amount_fen": amount}
        for i, amount in enumerate(amounts)
    ]
    return {"district": community.district, "community": community.community, "donations": lines, **extra}


async def post_batch(client, community, body, **headers: str):
    return await client.post(
        "/v1/donation-batches", json=body, headers={**community.as_(Role.COMMUNITY_WORKER), **headers}
    )


async def received_events(client, community) -> list[dict[str, object]]:
    async with client.app.state.session_factory() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.position)))).all()
    events = [json.loads(r.envelope) for r in rows if r.subject.endswith(RECEIVED)]
    return [e for e in events if e["community"] == community.community]


def gifts_of(events: list[dict[str, object]]) -> list[dict[str, object]]:
    """Each gift as a single donation's event announces it, from the batch events."""
    return [gift for event in events for gift in event["payload"]["donations"]]  # type: ignore[index]


async def books(client, community) -> tuple[list[int], int, int, int]:
    """Receipt sequences (sorted), entries, postings' sum, and entries whose postings do not balance."""
    async with client.app.state.session_factory() as session:
        where = (Donation.district == community.district, Donation.community == community.community)
        sequences = (await session.exec(select(Donation.receipt_sequence).where(*where))).all()
        entries = (
            await session.exec(select(func.count()).where(JournalEntry.community == community.community))
        ).one()
        total = (
            await session.exec(
                select(func.coalesce(func.sum(Posting.amount), 0)).where(
                    Posting.community == community.community
                )
            )
        ).one()
        per_entry = (
            select(Posting.entry_id)
            .where(Posting.community == community.community)
            .group_by(col(Posting.entry_id))
            .having(func.sum(Posting.amount) != 0)
        )
        unbalanced = len((await session.exec(per_entry)).all())
    return sorted(sequences), int(entries), int(total), unbalanced


async def trial(client, community) -> dict[str, object]:
    response = await client.get(f"{community.fund_path}/trial-balance", headers=community.as_(Role.AUDITOR))
    assert response.status_code == 200, response.text
    return dict(response.json())


async def guarded(client, community) -> dict[str, int]:
    async with client.app.state.session_factory() as session:
        where = (
            GuardedBalance.district == community.district,
            GuardedBalance.community == community.community,
        )
        rows = (await session.exec(select(GuardedBalance).where(*where))).all()
    return {row.name: row.balance for row in rows if row.balance}


async def test_a_mixed_batch_moves_each_balance_by_its_own_gifts(client, community) -> None:
    """Gifts alike share their lines and move the balances once for all of them: the sums must
    still be each channel's and each fund's own, as if every gift had come alone."""
    gifts = [
        ("cash", None, 500),
        ("cash", None, 500),
        ("bank_transfer", "education", 500),
        ("cash", "education", 700),
        ("mobile_payment", None, 500),
        ("cash", None, 500),
        ("bank_transfer", "education", 500),
        ("mobile_payment", "medical", 1200),
    ]
    lines = [
        {"donor_kind": "resident", "donor_name": f"居民{i}", "channel": channel, "amount_fen": amount}
        | ({"restricted_to": purpose} if purpose else {})
        for i, (channel, purpose, amount) in enumerate(gifts)
    ]
    body = {"district": community.district, "community": community.community, "donations": lines}

    answer = await post_batch(client, community, body)

    assert answer.status_code == 201, answer.text
    assert await guarded(client, community) == {
        "assets:cash": 500 + 500 + 700 + 500,
        "assets:bank": 500 + 500,
        "assets:mobile": 500 + 1200,
        "funds:general": 500 + 500 + 500 + 500,
        "funds:education": 500 + 700 + 500,
        "funds:medical": 1200,
    }
    assert await books(client, community) == (list(range(1, 9)), 8, 0, 0)


async def test_a_batch_receipts_posts_and_announces_every_gift(client, community) -> None:
    amounts = [100 * (i + 1) for i in range(25)]

    answer = await post_batch(client, community, box(community, amounts))

    assert answer.status_code == 201, answer.text
    batch = answer.json()
    assert (batch["count"], batch["total_fen"]) == (25, sum(amounts))
    numbers = [d["receipt_number"] for d in batch["donations"]]
    assert numbers[0].endswith("-000001") and numbers[-1].endswith("-000025")
    assert (batch["first_receipt_number"], batch["last_receipt_number"]) == (numbers[0], numbers[-1])
    assert [d["amount_fen"] for d in batch["donations"]] == amounts
    assert len({d["entry_id"] for d in batch["donations"]}) == 25
    assert await books(client, community) == (list(range(1, 26)), 25, 0, 0)
    balances = await trial(client, community)
    assert balances["total_debit"] == balances["total_credit"] == sum(amounts)
    events = await received_events(client, community)
    assert len(events) == 1, "25 gifts: one event"
    gifts = gifts_of(events)
    assert [g["receipt_number"] for g in gifts] == numbers
    by_receipt = {d["receipt_number"]: d for d in batch["donations"]}
    assert all(g["entry_id"] == by_receipt[g["receipt_number"]]["entry_id"] for g in gifts)
    single = await post_batch(client, community, box(community, [7]))
    assert single.json()["first_receipt_number"].endswith("-000026")


async def test_two_batches_and_single_gifts_racing_get_gapless_unique_receipts(
    client, community, donate
) -> None:
    first, second = box(community, [101] * 40), box(community, [202] * 30)

    answers = await asyncio.gather(
        post_batch(client, community, first),
        post_batch(client, community, second),
        *(donate(community, 303) for _ in range(10)),
    )

    assert [a.status_code for a in answers[:2]] == [201, 201], [a.text for a in answers[:2]]
    sequences, entries, total, unbalanced = await books(client, community)
    assert sequences == list(range(1, 81)) and entries == 80 and total == 0 and unbalanced == 0
    for batch in (answers[0].json(), answers[1].json()):
        mine = [int(d["receipt_number"].split("-")[1]) for d in batch["donations"]]
        assert mine == list(range(mine[0], mine[0] + len(mine)))  # one batch, one run of numbers
    balances = await trial(client, community)
    assert balances["total_debit"] == balances["total_credit"] == 40 * 101 + 30 * 202 + 10 * 303
    assert len(gifts_of(await received_events(client, community))) == 70  # the ten single gifts: theirs


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        ({"received_on": "2999-01-01"}, "收款日期不能晚于今天"),
        ({"donor_resident_id": "no-such-resident"}, "还没有居民 no-such-resident"),
        ({"campaign_id": "no-such-campaign"}, "没有募捐活动 no-such-campaign"),
    ],
    ids=["future", "unknown-resident", "unknown-campaign"],
)
async def test_a_bad_line_refuses_the_whole_batch_and_names_it(client, community, donate, bad, says) -> None:
    body = box(community, [500, 600, 700, 800])
    body["donations"][2] |= bad  # type: ignore[index]

    answer = await post_batch(client, community, body)

    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    detail = answer.json()["detail"]
    assert detail.startswith("第 3 笔捐赠（居民2，¥7.00）：") and says in detail
    assert await books(client, community) == ([], 0, 0, 0)
    assert await received_events(client, community) == []
    after = await donate(community, 900)
    assert after["receipt_number"].endswith("-000001")  # the refused batch took no number


async def test_a_batch_failing_after_its_entries_are_written_keeps_nothing_and_leaves_no_gap(
    client, community, donate, monkeypatch
) -> None:
    """All or none in the database itself: the numbers taken, the balances moved and the entries and
    postings written are all undone when a later statement of the batch fails."""
    real_insert = donation_batches.insert_rows

    async def insert_failing_for_donations(session, model, rows, **options):
        if model is Donation:  # the last insert of the batch, after numbers, balances and entries
            raise RuntimeError("the disk is full")
        return await real_insert(session, model, rows, **options)

    monkeypatch.setattr(donation_batches, "insert_rows", insert_failing_for_donations)
    with pytest.raises(RuntimeError, match="the disk is full"):
        await post_batch(client, community, box(community, [500, 600, 700]))
    monkeypatch.undo()

    assert await books(client, community) == ([], 0, 0, 0)
    assert await received_events(client, community) == []
    balances = await trial(client, community)
    assert balances["total_debit"] == balances["total_credit"] == 0
    after = await post_batch(client, community, box(community, [800, 900]))
    assert after.status_code == 201, after.text
    assert after.json()["first_receipt_number"].endswith("-000001")  # the failed batch's numbers came back
    single = await donate(community, 100)
    assert single["receipt_number"].endswith("-000003")
    assert await books(client, community) == ([1, 2, 3], 3, 0, 0)
    async with client.app.state.session_factory() as session:
        cash = await session.get(GuardedBalance, (community.district, community.community, "assets:cash"))
    assert cash is not None and cash.balance == 800 + 900  # the failed box moved nothing (the gift: not cash)


async def test_a_batch_can_book_earlier_days_and_each_gift_is_booked_on_its_own_day(
    client, community
) -> None:
    body = box(community, [1_000, 2_000, 3_000])
    yesterday = china_today() - timedelta(days=1)
    body["donations"][1]["received_on"] = str(yesterday)  # type: ignore[index]

    answer = await post_batch(client, community, body)

    assert answer.status_code == 201, answer.text
    days = [d["received_at"] for d in answer.json()["donations"]]
    assert days[1] == f"{yesterday}T12:00:00+08:00"  # noon, China time, of the day it came in
    assert days[0] == days[2] != days[1]


async def test_the_same_key_records_a_batch_once_and_answers_the_same(client, community) -> None:
    body = box(community, [1_100, 2_200, 3_300])
    key = {"Idempotency-Key": "box-2026-12-01"}

    racing = await asyncio.gather(*(post_batch(client, community, body, **key) for _ in range(4)))
    again = await post_batch(client, community, body, **key)

    answers = [*racing, again]
    assert {a.status_code for a in answers} == {201}, [a.text for a in answers]
    assert len({json.dumps(a.json(), sort_keys=True) for a in answers}) == 1
    assert await books(client, community) == ([1, 2, 3], 3, 0, 0)
    events = await received_events(client, community)
    assert len(events) == 1 and len(gifts_of(events)) == 3
    other = await post_batch(client, community, box(community, [1]), **key)
    assert other.status_code == 409, other.text


async def test_a_batch_is_refused_outside_the_callers_community_and_beyond_its_size(
    client, community
) -> None:
    elsewhere = box(community, [100])
    elsewhere["community"] = "c-elsewhere"
    assert (await post_batch(client, community, elsewhere)).status_code == 404  # as a single gift
    empty = await post_batch(client, community, box(community, []))
    too_many = await post_batch(client, community, box(community, [1] * 5001))
    assert (empty.status_code, too_many.status_code) == (422, 422)
    assert await books(client, community) == ([], 0, 0, 0)


async def test_a_full_batch_with_every_field_filled_passes_the_body_limit(client, community) -> None:
    """5,000 gifts with their donors' names and phones are more than the 1 MB other routes take."""
    body = box(community, [100] * 5000)
    for index, line in enumerate(body["donations"]):  # type: ignore[union-attr]
        line.update(
            donor_name=f"爱心人士第{index:04d}号（东李庄社区三号楼）",
            donor_phone="13800138000",
            anonymous=False,
        )
    content = json.dumps(body).encode()
    assert len(content) > client.app.state.settings.max_body_bytes

    headers = {**community.as_(Role.COMMUNITY_WORKER), "Content-Type": "application/json"}
    response = await client.post("/v1/donation-batches", content=content, headers=headers)
    too_large = await client.post("/v1/donations", content=content, headers=headers)

    assert response.status_code == 201, response.text[:500]
    assert len(response.json()["donations"]) == 5000
    assert too_large.status_code == 413 and too_large.headers["content-type"] == "application/problem+json"


async def test_a_large_batch_is_announced_in_events_of_at_most_200_gifts(client, community) -> None:
    answer = await post_batch(client, community, box(community, [100] * 450))

    assert answer.status_code == 201, answer.text
    events = await received_events(client, community)
    assert [len(e["payload"]["donations"]) for e in events] == [200, 200, 50]
    assert len({e["event_id"] for e in events}) == 3
    numbers = [d["receipt_number"] for d in answer.json()["donations"]]
    assert [g["receipt_number"] for g in gifts_of(events)] == numbers
