"""Registry rules as plain functions: no database, no broker, no clock of their own."""

from __future__ import annotations

import enum
import hashlib
import hmac
from datetime import date, datetime, timedelta

from linli_shared.errors import Conflict, DomainError, Invalid


class RegistryError(DomainError):
    """Base of the registry's errors."""


class Tag(enum.StrEnum):
    """Care attributes from the reports; each is a column of the resident."""

    LIVING_ALONE = "living_alone"  # 独居
    LONELY = "lonely"  # 孤寡
    DISABLED = "disabled"  # 残疾
    BEDRIDDEN = "bedridden"  # 失能/卧床
    DIBAO = "dibao"  # 低保
    POOR_HOUSEHOLD = "poor_household"  # 贫困户
    ORPHAN = "orphan"  # 孤儿
    CHILD_IN_DIFFICULTY = "child_in_difficulty"  # 困境儿童
    VETERAN = "veteran"  # 退役军人
    PARTY_MEMBER = "party_member"  # 党员


class Status(enum.StrEnum):
    ACTIVE = "active"
    MOVED_OUT = "moved_out"
    DECEASED = "deceased"


STATUS_NAMES = {Status.MOVED_OUT.value: "已迁出", Status.DECEASED.value: "已去世"}
"""What a person is told a resident's status is, where it stops a change."""


class VisitKind(enum.StrEnum):
    VISIT = "visit"
    CALL = "call"


ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"


def id_check_char(first17: str) -> str:
    """GB 11643 check character of an 18-character resident identity number."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11]


def normalise_id_number(raw: str) -> str:
    """Upper-case and validate an 18-character national ID number, or raise Invalid."""
    number = raw.strip().upper()
    if len(number) != 18 or not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise Invalid(
            "id_number must be 18 characters: 17 digits and a digit or X",
            zh="身份证号应为18位：17位数字加1位数字或X",
        )
    if id_check_char(number[:17]) != number[17]:
        raise Invalid("id_number check character does not match", zh="身份证号校验位不对，请核对号码")
    try:
        birth_date_from_id(number)
    except ValueError as error:
        raise Invalid("id_number holds no valid birth date", zh="身份证号中的出生日期不存在") from error
    return number


def birth_date_from_id(number: str) -> date:
    return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def hash_id_number(number: str, key: bytes) -> str:
    """Keyed hash: equal numbers match, the number cannot be read back without the key."""
    return hmac.new(key, number.encode(), hashlib.sha256).hexdigest()


def mask_id_number(number: str) -> str:
    """Keep the region (6) and the last 4 characters, as printed on Chinese forms."""
    return f"{number[:6]}{'*' * 8}{number[-4:]}"


def age_on(birth_date: date, today: date) -> int:
    before_birthday = (today.month, today.day) < (birth_date.month, birth_date.day)
    return today.year - birth_date.year - int(before_birthday)


def age_band(birth_date: date, today: date) -> str:
    """Bands the reports count by: under 18, 18-59, 60-69, 70-79, 80+."""
    age = age_on(birth_date, today)
    if age < 18:
        return "0-17"
    if age < 60:
        return "18-59"
    if age < 70:
        return "60-69"
    if age < 80:
        return "70-79"
    return "80+"


def check_birth_date(birth_date: date, today: date) -> None:
    if birth_date > today:
        raise Invalid("birth_date is in the future", zh="出生日期不能晚于今天")
    if age_on(birth_date, today) > 130:
        raise Invalid("birth_date is more than 130 years ago", zh="出生日期不能早于130年前")


def check_can_change_status(current: str) -> None:
    if current != Status.ACTIVE.value:
        raise Conflict(
            f"resident is already {current}",
            zh=f"这位居民{STATUS_NAMES.get(current, current)}，不能再做这项操作",
        )


def latest_missed_due(since: datetime, every: timedelta, now: datetime) -> datetime | None:
    """End of the latest period, counted from `since`, that ended with no visit; None if none.

    `since` is the last visit (or when the group was formed). Periods end at since + k·every;
    the latest one that has passed is the one to alert on, so an alert is raised once per
    missed period and never again for it.
    """
    if now < since + every:
        return None
    periods = (now - since) // every
    return since + periods * every


VISIT_CLOCK_SKEW = timedelta(minutes=5)
"""How far ahead of our clock a caller's clock may run: a visit 'now' on their phone is not refused."""
LATEST_BACKDATED_GROUP = timedelta(days=31)
"""How long ago a care group may be entered as formed: one set up on paper last month, not older."""


def check_visited_at(visited_at: datetime, now: datetime) -> datetime:
    """A visit happened at a moment with a timezone, not in the future."""
    if visited_at.tzinfo is None:
        raise Invalid("visited_at needs a timezone", zh="走访时间须带时区（如 +08:00）")
    if visited_at > now + VISIT_CLOCK_SKEW:
        raise Invalid("visited_at is in the future", zh="走访时间不能晚于现在")
    return visited_at


def check_formed_at(formed_at: datetime, now: datetime) -> datetime:
    """A care group entered late keeps the day it was formed: not in the future, at most 31 days ago."""
    if formed_at.tzinfo is None:
        raise Invalid("formed_at needs a timezone", zh="成立时间须带时区（如 +08:00）")
    if formed_at > now + VISIT_CLOCK_SKEW:
        raise Invalid("formed_at is in the future", zh="成立时间不能晚于现在")
    if formed_at < now - LATEST_BACKDATED_GROUP:
        raise Invalid("formed_at is more than 31 days ago", zh="成立时间最早只能补记到31天前")
    return min(formed_at, now)


def birth_date_at_most(today: date, years: int) -> date:
    """Latest birth date of someone who is `years` old or more on `today`."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)
