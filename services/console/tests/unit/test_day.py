"""The day's list, worked out as the registry's overdue check counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from linli_console.day import Urgency, elder_of, plan_day

NOW = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)  # 10:00 in China


def group(formed: datetime, every_hours: int = 24, every_days: int = 7) -> dict[str, Any]:
    return {
        "resident_id": "r1",
        "formed_at": formed.isoformat(),
        "visit_every_hours": every_hours,
        "call_every_days": every_days,
        "neighbour_name": "赵大妈",
    }


def visit(at: datetime, kind: str = "visit") -> dict[str, Any]:
    return {"visited_at": at.isoformat(), "kind": kind}


RESIDENT = {"full_name": "王秀英", "age": 82, "tags": ["living_alone", "dibao"]}


def test_visit_is_overdue_when_the_period_since_the_last_visit_has_passed() -> None:
    elder = elder_of(group(NOW - timedelta(days=3)), RESIDENT, [visit(NOW - timedelta(hours=25))], NOW)
    assert elder.urgency is Urgency.OVERDUE and elder.first.kind == "visit"
    assert elder.first.at == NOW - timedelta(hours=1)
    assert elder.tags == ["独居", "低保"] and elder.name == "王秀英"


def test_visit_due_later_the_same_china_day_is_today() -> None:
    elder = elder_of(group(NOW - timedelta(hours=20)), RESIDENT, [], NOW)
    assert elder.urgency is Urgency.TODAY  # due 14:00 China time


def test_visit_due_after_china_midnight_is_later() -> None:
    elder = elder_of(group(NOW - timedelta(hours=6)), RESIDENT, [], NOW)  # due 04:00 tomorrow China time
    assert elder.urgency is Urgency.LATER


def test_a_visit_counts_as_a_call() -> None:
    elder = elder_of(
        group(NOW - timedelta(days=10), every_days=7), RESIDENT, [visit(NOW - timedelta(days=1))], NOW
    )
    assert elder.call.at == NOW + timedelta(days=6)
    assert elder.last_call is None and elder.last_visit == NOW - timedelta(days=1)


def test_a_call_does_not_count_as_a_visit() -> None:
    elder = elder_of(
        group(NOW - timedelta(hours=30)), RESIDENT, [visit(NOW - timedelta(hours=1), "call")], NOW
    )
    assert elder.visit.urgency is Urgency.OVERDUE and elder.call.urgency is Urgency.LATER


def test_visits_before_the_group_was_formed_do_not_count() -> None:
    elder = elder_of(group(NOW - timedelta(hours=2)), RESIDENT, [visit(NOW - timedelta(days=2))], NOW)
    assert elder.last_visit is None and elder.visit.at == NOW + timedelta(hours=22)


def test_a_resident_the_caller_may_not_read_is_named_as_such() -> None:
    assert elder_of(group(NOW), None, [], NOW).name == "（无权查看的居民）"


def test_day_puts_the_longest_overdue_first_then_today_then_later() -> None:
    later = elder_of(group(NOW - timedelta(hours=6)), {**RESIDENT, "full_name": "甲"}, [], NOW)
    today = elder_of(group(NOW - timedelta(hours=20)), {**RESIDENT, "full_name": "乙"}, [], NOW)
    overdue = elder_of(group(NOW - timedelta(hours=25)), {**RESIDENT, "full_name": "丙"}, [], NOW)
    longer = elder_of(group(NOW - timedelta(hours=30)), {**RESIDENT, "full_name": "丁"}, [], NOW)
    assert [e.name for e in plan_day([later, today, overdue, longer])] == ["丁", "丙", "乙", "甲"]
