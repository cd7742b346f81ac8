"""The day's list, from the dues the registry counts: overdue, due today (China's day), later."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from linli_console.day import Urgency, elder_of, plan_day

NOW = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)  # 10:00 in China


def group(
    visit_due: datetime,
    call_due: datetime | None = None,
    *,
    name: str = "王秀英",
    last_visit: datetime | None = None,
    last_call: datetime | None = None,
) -> dict[str, Any]:
    return {
        "resident_id": "r1",
        "neighbour_name": "赵大妈",
        "resident_name": name,
        "resident_age": 82,
        "resident_tags": ["living_alone", "dibao"],
        "last_visit_at": last_visit.isoformat() if last_visit else None,
        "last_call_at": last_call.isoformat() if last_call else None,
        "next_visit_due_at": visit_due.isoformat().replace("+00:00", "Z"),
        "next_call_due_at": (call_due or NOW + timedelta(days=6)).isoformat(),
    }


def test_a_due_time_passed_is_overdue() -> None:
    elder = elder_of(group(NOW - timedelta(hours=1), last_visit=NOW - timedelta(hours=25)), NOW)
    assert elder.urgency is Urgency.OVERDUE and elder.first.kind == "visit"
    assert elder.name == "王秀英" and elder.age == 82 and elder.tags == ["独居", "低保"]
    assert elder.last_visit == NOW - timedelta(hours=25) and elder.last_call is None


def test_due_later_the_same_china_day_is_today() -> None:
    assert elder_of(group(NOW + timedelta(hours=4)), NOW).urgency is Urgency.TODAY


def test_due_after_china_midnight_is_later() -> None:
    assert elder_of(group(NOW + timedelta(hours=18)), NOW).urgency is Urgency.LATER  # 04:00 tomorrow


def test_the_more_pressing_of_visit_and_call_comes_first() -> None:
    elder = elder_of(group(NOW + timedelta(days=1), NOW - timedelta(minutes=5)), NOW)
    assert elder.first.kind == "call" and elder.urgency is Urgency.OVERDUE


def test_a_resident_the_list_does_not_name_is_named_as_such() -> None:
    assert elder_of({**group(NOW), "resident_name": None}, NOW).name == "（无权查看的居民）"


def test_day_puts_the_longest_overdue_first_then_today_then_later() -> None:
    later = elder_of(group(NOW + timedelta(hours=18), name="甲"), NOW)
    today = elder_of(group(NOW + timedelta(hours=4), name="乙"), NOW)
    overdue = elder_of(group(NOW - timedelta(hours=1), name="丙"), NOW)
    longer = elder_of(group(NOW - timedelta(hours=6), name="丁"), NOW)
    assert [e.name for e in plan_day([later, today, overdue, longer])] == ["丁", "丙", "乙", "甲"]
