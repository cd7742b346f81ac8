"""Service hours as plain rules: points from minutes, the daily cap, certificate serials. No I/O."""

from __future__ import annotations

import base64
import enum
import re
from datetime import datetime

MAX_ACTIVITY_MINUTES = 24 * 60
SERIAL_ENTROPY_BYTES = 10  # 80 bits, 16 base32 characters: a serial cannot be guessed
SERIAL_PATTERN = re.compile(r"^LL-[A-Z0-9]{1,12}-[0-9]{4}-[A-Z2-7]{16}$")


class Rounding(enum.StrEnum):
    """How minutes become whole hours before the points per hour apply."""

    DOWN = "down"
    NEAREST = "nearest"
    UP = "up"


class SignUpStatus(enum.StrEnum):
    """signed_up → attended (hours confirmed) or cancelled (the place freed); never back."""

    SIGNED_UP = "signed_up"
    ATTENDED = "attended"
    CANCELLED = "cancelled"


def whole_hours(minutes: int, rounding: Rounding) -> int:
    """Whole hours in the minutes: down drops a started hour, up counts it, nearest from 30 minutes."""
    if minutes < 0:
        raise ValueError("minutes cannot be negative")
    full, rest = divmod(minutes, 60)
    if rounding is Rounding.DOWN:
        return full
    if rounding is Rounding.UP:
        return full + (1 if rest else 0)
    return full + (1 if rest >= 30 else 0)


def points_for(minutes: int, points_per_hour: int, rounding: Rounding) -> int:
    """The points a rule gives for the minutes, before any daily cap."""
    if points_per_hour < 0:
        raise ValueError("points per hour cannot be negative")
    return whole_hours(minutes, rounding) * points_per_hour


def capped(points: int, *, already_today: int, daily_cap: int | None) -> int:
    """What may still be awarded today: never more than the cap minus what the day already earned."""
    if daily_cap is None:
        return points
    return max(0, min(points, daily_cap - already_today))


def window_minutes(starts_at: datetime, ends_at: datetime) -> int:
    return int((ends_at - starts_at).total_seconds() // 60)


def check_window(starts_at: datetime, ends_at: datetime) -> None:
    """An activity ends after it starts and lasts at most a day (longer ones are published per day)."""
    if ends_at <= starts_at:
        raise ValueError("ends_at must be after starts_at")
    if window_minutes(starts_at, ends_at) > MAX_ACTIVITY_MINUTES:
        raise ValueError("an activity lasts at most 24 hours; publish longer ones day by day")


def hours_of(minutes: int) -> float:
    """Minutes as hours for people to read, to two decimals; minutes stay the record."""
    return round(minutes / 60, 2)


def certificate_serial(community: str, year: int, entropy: bytes) -> str:
    """LL-<COMMUNITY>-<year>-<16 base32 characters>, at most 37 characters."""
    if len(entropy) != SERIAL_ENTROPY_BYTES:
        raise ValueError(f"a serial needs {SERIAL_ENTROPY_BYTES} random bytes")
    code = re.sub(r"[^A-Z0-9]", "", community.upper())[:12] or "X"
    return f"LL-{code}-{year:04d}-{base64.b32encode(entropy).decode()}"


def normal_serial(text: str) -> str | None:
    """The serial as issued, however it was typed (case, spaces), or None if it cannot be one."""
    serial = text.strip().upper()
    return serial if SERIAL_PATTERN.match(serial) else None


def mask_name(full_name: str) -> str:
    """The first character, the rest starred: enough to check against a paper, not to identify."""
    name = full_name.strip()
    if not name:
        return "*"
    return name[0] + "*" * max(1, len(name) - 1)
