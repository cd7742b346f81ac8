"""Time in one place: aware UTC datetimes, stored naive-UTC so SQLite and PostgreSQL agree; and the
calendar day in China, which receipts, campaigns, schedules and service days count by."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

CHINA_TIME = timezone(timedelta(hours=8), "CST")  # one zone for the whole country, no daylight saving


def utc_now() -> datetime:
    return datetime.now(UTC)


def china_day(moment: datetime) -> date:
    """The calendar day in China at this instant."""
    if moment.tzinfo is None:
        raise ValueError("an instant needs a timezone to fall on a day in China")
    return moment.astimezone(CHINA_TIME).date()


class UtcDateTime(TypeDecorator[datetime]):
    """Accepts aware datetimes only, stores them as UTC, returns them aware."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)
