"""Quiet hours, backoff, the ladder and the rules table: pure functions, no fixtures."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linli_notify.domain import (
    Urgency,
    in_quiet_hours,
    next_rung,
    release_time,
    retry_delay,
    rungs_above,
)
from linli_notify.rules import rules_for
from linli_shared.contracts.fund import DonationReceived
from linli_shared.contracts.points import StockLow, VolunteerEnrolled, WishClaimed
from linli_shared.contracts.registry import VisitOverdue

SHANGHAI = ZoneInfo("Asia/Shanghai")
NIGHT = {"start": time(22), "end": time(7), "timezone": "Asia/Shanghai"}


def shanghai(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


def test_non_urgent_at_23_is_held_until_7_next_morning() -> None:
    assert release_time(shanghai(10, 23), urgent=False, **NIGHT) == shanghai(11, 7)


def test_non_urgent_after_midnight_is_held_until_7_same_morning() -> None:
    assert release_time(shanghai(11, 2, 30), urgent=False, **NIGHT) == shanghai(11, 7)


def test_urgent_at_night_goes_at_once() -> None:
    assert release_time(shanghai(11, 2), urgent=True, **NIGHT) == shanghai(11, 2)


@pytest.mark.parametrize("hour, minute", [(7, 0), (12, 0), (21, 59)])
def test_daytime_goes_at_once(hour: int, minute: int) -> None:
    assert release_time(shanghai(10, hour, minute), urgent=False, **NIGHT) == shanghai(10, hour, minute)


def test_quiet_hours_may_lie_within_one_day_or_be_off() -> None:
    assert in_quiet_hours(time(13, 30), time(13), time(14))
    assert not in_quiet_hours(time(14), time(13), time(14))
    assert not in_quiet_hours(time(3), time(0), time(0))


def test_retry_delay_doubles_is_capped_and_jittered_within_half_to_full() -> None:
    delays = [
        retry_delay(n, base_seconds=30, cap_seconds=600, jitter=0.999999).total_seconds() for n in (1, 2, 3)
    ]
    assert [round(d) for d in delays] == [30, 60, 120]
    assert retry_delay(20, base_seconds=30, cap_seconds=600, jitter=0) == timedelta(seconds=300)
    with pytest.raises(ValueError):
        retry_delay(1, base_seconds=30, cap_seconds=600, jitter=1)


def test_ladder_goes_up_from_the_current_rung() -> None:
    ladder = ["neighbour", "grid_worker", "community_worker"]
    assert next_rung(ladder, "grid_worker") == ["community_worker"]
    assert next_rung(ladder, "community_worker") == []
    assert next_rung(ladder, None) == ladder


def test_ladder_skips_rungs_nobody_can_be_reached_on() -> None:
    ladder = ["neighbour", "grid_worker", "community_worker"]
    everyone = {"neighbour": "neighbour:cg-1", "grid_worker": "grid-li", "community_worker": "cw"}
    no_phone = {"grid_worker": "grid-li", "community_worker": "cw"}
    assert rungs_above(ladder, None, everyone)[0] == ("neighbour", "neighbour:cg-1")
    assert rungs_above(ladder, None, no_phone)[0] == ("grid_worker", "grid-li")
    assert rungs_above(ladder, "neighbour", everyone) == [
        ("grid_worker", "grid-li"),
        ("community_worker", "cw"),
    ]
    assert rungs_above(ladder, "community_worker", everyone) == []
    assert rungs_above(["grid_worker"], None, {"community_worker": "cw"}) == []


def test_missed_visit_climbs_the_ladder_and_tells_a_known_guardian_and_wish_claim_the_resident() -> None:
    payload = {"grid_worker": "grid-li", "community_worker": "cw", "resident_id": "r-9"}
    visit, guardian = rules_for(VisitOverdue)
    (wish,) = rules_for(WishClaimed)
    (stock,) = rules_for(StockLow)
    assert (visit.urgency, visit.recipients) == (Urgency.URGENT, None), "on the ladder"
    assert guardian.urgency is Urgency.NORMAL and guardian.known_only
    assert guardian.recipients is not None and guardian.recipients(payload, "c1") == ["guardian:r-9"]
    assert (wish.urgency, wish.recipients(payload, "c1")) == (Urgency.NORMAL, ["resident:r-9"])
    assert stock.recipients({}, "c1") == ["role:c1:community_worker"]
    assert rules_for(VolunteerEnrolled) == []


def test_donation_thanks_a_registered_resident_in_the_app_and_anyone_else_by_the_donation() -> None:
    (thanks,) = rules_for(DonationReceived)
    assert thanks.recipients is not None
    assert thanks.recipients({"donation_id": "don-1", "donor_resident_id": "r-3"}, "c1") == ["resident:r-3"]
    assert thanks.recipients({"donation_id": "don-1", "donor_resident_id": None}, "c1") == ["donor:don-1"]


@settings(max_examples=300, deadline=None)
@given(
    moment=st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
    ),
    start=st.times(),
    end=st.times(),
)
def test_a_held_delivery_is_released_within_a_day_at_a_time_outside_quiet_hours(
    moment: datetime, start: time, end: time
) -> None:
    start, end = start.replace(second=0, microsecond=0), end.replace(second=0, microsecond=0)
    released = release_time(moment, start=start, end=end, timezone="Asia/Shanghai", urgent=False)
    assert moment <= released <= moment + timedelta(days=1)
    local = released.astimezone(SHANGHAI).time().replace(tzinfo=None)
    assert not in_quiet_hours(local, start, end)
    assert (released == moment) == (not in_quiet_hours(moment.astimezone(SHANGHAI).time(), start, end))
