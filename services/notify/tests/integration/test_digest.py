"""The daily digest: one per grid worker and China-time day, of what happened in their grid since."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from linli_notify.usecases.digest import DIGEST_EVENT, digest_day
from linli_shared.auth import Role
from linli_shared.contracts.points import WishClaimed
from linli_shared.contracts.registry import CareGroupFormed

pytestmark = [pytest.mark.integration]

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


def formed(group: str, resident_id: str, grid_worker: str) -> CareGroupFormed:
    return CareGroupFormed(
        care_group_id=group,
        resident_id=resident_id,
        community_worker="cw-zhang",
        grid_worker=grid_worker,
        neighbour_name="赵大妈",
        visit_every_hours=24,
        call_every_days=7,
    )


def claimed(resident_id: str, wish_id: str) -> WishClaimed:
    return WishClaimed(
        wish_id=wish_id, resident_id=resident_id, volunteer_id="v-1", claim_expires_at=local(20, 12)
    )


def test_digest_is_due_from_the_configured_china_time_hour() -> None:
    assert digest_day(local(11, 6, 59), 7) is None
    assert digest_day(local(11, 7), 7) == datetime(2026, 3, 11).date()
    assert digest_day(datetime(2026, 3, 10, 23, 30, tzinfo=UTC), 7) == datetime(2026, 3, 11).date()


async def feed_grids(notify) -> None:  # noqa: ANN001
    now = local(10, 9)
    await notify.feed(notify.wrap(notify.registered("r-1", "王秀英")), now)
    await notify.feed(notify.wrap(notify.registered("r-2", "张桂兰")), now)
    await notify.feed(notify.wrap(formed("cg-1", "r-1", "grid-li")), now)
    await notify.feed(notify.wrap(formed("cg-2", "r-2", "grid-wang")), now)


async def test_each_grid_worker_gets_one_digest_a_day_of_their_own_grid(notify, client, community) -> None:
    await feed_grids(notify)
    await notify.feed(notify.wrap(notify.overdue("r-1", grid_worker="grid-li")), local(10, 10))
    await notify.feed(notify.wrap(claimed("r-1", "w-1")), local(10, 15))
    await notify.feed(notify.wrap(claimed("r-2", "w-2")), local(10, 16))
    assert await notify.escalate(local(10, 12)) == 1, "an escalation is the same happening, not another"

    assert await notify.digest(local(11, 6, 59)) == 0, "not before the hour"
    assert await notify.digest(local(11, 7)) == 2
    assert await notify.digest(local(11, 8)) == 0, "once a day"

    (mine,) = await notify.notifications(recipient="grid-li", event_type=DIGEST_EVENT)
    assert mine.title == "网格日报 2026-03-11：2 件事"
    assert mine.body.splitlines()[1:] == [
        "- 03-10 10:00 王秀英：上门走访逾期（紧急）",
        "- 03-10 15:00 王秀英：心愿已被认领",
    ]
    (theirs,) = await notify.notifications(recipient="grid-wang", event_type=DIGEST_EVENT)
    assert theirs.body.splitlines()[1:] == ["- 03-10 16:00 张桂兰：心愿已被认领"]

    await notify.dispatch(local(11, 7))
    items = (await client.get("/v1/inbox", headers=community.as_(Role.GRID_WORKER, "grid-li"))).json()[
        "items"
    ]
    assert [i["event_type"] for i in items if i["event_type"] == DIGEST_EVENT] == [DIGEST_EVENT]


async def test_next_digest_tells_only_what_happened_since_and_a_quiet_day_sends_nothing(notify) -> None:
    await feed_grids(notify)
    await notify.feed(notify.wrap(notify.overdue("r-1", grid_worker="grid-li")), local(10, 10))
    assert await notify.digest(local(11, 7)) == 1
    await notify.feed(notify.wrap(claimed("r-1", "w-3")), local(11, 12))

    assert await notify.digest(local(12, 7, 5)) == 1, "grid-wang's grid was quiet"
    latest = (await notify.notifications(recipient="grid-li", event_type=DIGEST_EVENT))[-1]
    assert latest.data["count"] == 1 and "逾期" not in latest.body and "心愿" in latest.body
    assert await notify.notifications(recipient="grid-wang", event_type=DIGEST_EVENT) == []


async def test_digest_checks_running_at_once_make_one_digest(notify) -> None:
    await feed_grids(notify)
    await notify.feed(notify.wrap(notify.overdue("r-1", grid_worker="grid-li")), local(10, 10))
    now = local(11, 7)

    counts = await asyncio.gather(notify.digest(now), notify.digest(now + timedelta(seconds=1)))

    assert sum(counts) == 1
    assert len(await notify.notifications(recipient="grid-li", event_type=DIGEST_EVENT)) == 1
