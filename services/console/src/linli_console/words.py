"""People's words: dates and times in China time as a person writes them, and names for codes."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, timedelta

from linli_shared.clock import CHINA_TIME
from linli_shared.words import day_words

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
RESIDENT_STATUS_NAMES = {"moved_out": "已迁出", "deceased": "已去世"}


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


REDEMPTION_STATUS_NAMES = {"reserved": "待取货", "picked_up": "已取货", "cancelled": "已取消"}
ENTRY_KIND_NAMES = {
    "earned": "服务获得",
    "redeemed": "兑换商品",
    "refunded": "取消兑换退回",
    "adjusted": "社区调整",
    "expired": "到期清零",
}
STOCK_SOURCE_NAMES = {"purchase": "采购", "donation": "捐赠", "neighbour": "邻居送来"}
WISH_STATUS_NAMES = {
    "pending": "待审核",
    "open": "可认领",
    "rejected": "未通过",
    "claimed": "已认领",
    "fulfilled": "已完成，待确认",
    "confirmed": "已确认",
    "closed": "已关闭",
}


def fen_of(text: str) -> int | None:
    """What a person types as yuan (200, 12.5, ¥1,200.00, 12.50元) in integer fen; None if it is not
    an amount of money (more than two decimals, letters, nothing). Full-width digits (１２．５) count."""
    cleaned = (
        unicodedata.normalize("NFKC", text)
        .strip()
        .replace(",", "")
        .replace("，", "")
        .removeprefix("¥")
        .removeprefix("￥")
    )
    cleaned = cleaned.removesuffix("元").strip()
    whole, dot, cents = cleaned.partition(".")
    if not (whole.isascii() and whole.isdigit()) or len(whole) > 12:
        return None
    if dot and not (cents.isascii() and cents.isdigit() and len(cents) <= 2):
        return None
    return int(whole) * 100 + int(cents.ljust(2, "0") if dot else "0")


def dates_in(text: str) -> str:
    """A service's sentence with its ISO days (2026-12-02) written as people write them."""
    return _ISO_DAY.sub(lambda found: day_words(found.group(0)), text)


_ISO_DAY = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
FUND_NAMES = {"general": "综合基金", "education": "助学基金", "medical": "医疗基金", "relief": "帮扶基金"}
PURPOSE_NAMES = {"education": "助学", "medical": "医疗救助", "relief": "困难帮扶"}
DONOR_KIND_NAMES = {
    "resident": "居民",
    "party_member": "党员",
    "enterprise": "爱心企业",
    "outsider": "社会人士",
}
CHANNEL_NAMES = {"cash": "现金", "bank_transfer": "银行转账", "mobile_payment": "微信/支付宝"}
