"""The day in China: what receipts, campaigns, schedules and service days count by."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from linli_shared.clock import china_day


def test_the_day_in_china_starts_at_16_00_utc() -> None:
    assert china_day(datetime(2026, 3, 1, 23, 30, tzinfo=UTC)) == date(2026, 3, 2)
    assert china_day(datetime(2026, 3, 1, 15, 59, tzinfo=UTC)) == date(2026, 3, 1)
    with pytest.raises(ValueError):
        china_day(datetime(2026, 3, 1, 12, 0))
