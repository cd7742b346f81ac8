"""The Chinese a person reads for the points service's states and records, where a refusal names them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

CHINA_TIME = timezone(timedelta(hours=8))  # as linli_shared.clock has it, without its database imports

STATUS_NAMES: dict[str, str] = {
    # wishes
    "pending": "待审核",
    "open": "开放中",
    "rejected": "已驳回",
    "claimed": "已认领",
    "fulfilled": "已完成",
    "confirmed": "已确认",
    "closed": "已关闭",
    # neighbour help
    "matched": "已对接",
    "handed_over": "已交接",
    "withdrawn": "已撤回",
    # the love supermarket
    "reserved": "待取货",
    "picked_up": "已取货",
    # activities and sign-ups
    "published": "已发布",
    "signed_up": "已报名",
    "attended": "已参加",
    "cancelled": "已取消",
    # residents, as the registry announced them
    "active": "在册",
    "moved_out": "已迁出",
    "deceased": "已去世",
}
"""The Chinese name of each status value a refusal may name (the value itself where none is known)."""

POSTING_NAMES: dict[str, str] = {"offer": "帮扶供给", "request": "帮扶需求"}
"""The Chinese names of a neighbour-help offer and request."""


def status_zh(status: str) -> str:
    """The status as a person reads it: 「已撤回」 for `withdrawn`."""
    return STATUS_NAMES.get(status, status)


def china_minute(moment: datetime) -> str:
    """A moment as a person in China reads it, to the minute: 2026-03-01 18:30."""
    return f"{moment.astimezone(CHINA_TIME):%Y-%m-%d %H:%M}"
