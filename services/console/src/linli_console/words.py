"""People's words: dates and times in China time as a person writes them, and names for codes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from linli_shared.clock import CHINA_TIME

TAG_NAMES = {
    "living_alone": "独居",
    "lonely": "孤寡",
    "disabled": "残疾",
    "bedridden": "失能卧床",
    "dibao": "低保",
    "poor_household": "困难家庭",
    "orphan": "孤儿",
    "child_in_difficulty": "困境儿童",
    "veteran": "退役军人",
    "party_member": "党员",
}
KIND_NAMES = {"visit": "上门走访", "call": "电话问候"}
RUNG_NAMES = {"neighbour": "邻居", "grid_worker": "网格员", "community_worker": "社区工作者"}
GENDER_NAMES = {"female": "女", "male": "男"}


def parse_moment(text: str | datetime) -> datetime:
    """A service's ISO time (with a zone, or naive UTC) as an aware datetime."""
    moment = text if isinstance(text, datetime) else datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def local_day(moment: datetime) -> date:
    return moment.astimezone(CHINA_TIME).date()


def when(moment: datetime | str | None, now: datetime) -> str:
    """12月2日 14:05, or 今天 14:05 / 昨天 14:05 / 明天 14:05; the year only when it is not this one."""
    if moment is None or moment == "":
        return ""
    local = parse_moment(moment).astimezone(CHINA_TIME)
    today = now.astimezone(CHINA_TIME).date()
    clock = f"{local.hour:02d}:{local.minute:02d}"
    names = {today: "今天", today - timedelta(days=1): "昨天", today + timedelta(days=1): "明天"}
    if local.date() in names:
        return f"{names[local.date()]} {clock}"
    if local.year != today.year:
        return f"{local.year}年{local.month}月{local.day}日 {clock}"
    return f"{local.month}月{local.day}日 {clock}"


def full_when(moment: datetime | str | None) -> str:
    """12月2日 14:05 always (for a machine-readable <time> title or a record that must not shift)."""
    if moment is None or moment == "":
        return ""
    local = parse_moment(moment).astimezone(CHINA_TIME)
    return f"{local.year}年{local.month}月{local.day}日 {local.hour:02d}:{local.minute:02d}"


def span(seconds: float) -> str:
    """3天2小时, 5小时, 20分钟: how long, in the largest units that matter."""
    minutes = int(abs(seconds) // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days}天{hours}小时" if hours else f"{days}天"
    if hours:
        return f"{hours}小时{minutes}分钟" if minutes and hours < 3 else f"{hours}小时"
    return f"{max(minutes, 1)}分钟"
