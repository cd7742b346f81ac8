"""Where each role lands and what its menu holds: one line per page, kept here so a new page for a
role is one line, not an edit of the shared layout."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Link:
    path: str
    label: str


MENUS: dict[str, list[Link]] = {
    "grid_worker": [Link("/today", "今天"), Link("/alerts", "提醒"), Link("/wishes/new", "登记心愿")],
    "community_worker": [
        Link("/today", "今天"),
        Link("/alerts", "提醒"),
        Link("/residents", "居民"),
        Link("/overdue", "逾期"),
        Link("/pickup", "超市取货"),
        Link("/stock", "超市库存"),
        Link("/wishes/new", "登记心愿"),
    ],
    "volunteer": [
        Link("/points", "我的积分"),
        Link("/activities", "活动"),
        Link("/supermarket", "爱心超市"),
        Link("/wishes", "心愿墙"),
    ],
    "resident": [Link("/my-wishes", "我的心愿")],
    "fund_officer": [
        Link("/fund/donation", "登记捐赠"),
        Link("/fund/requests", "审批与支付"),
        Link("/fund/publication", "公示"),
    ],
}
"""The pages of each role's day, in menu order; the first is where the role lands."""


def menu(role: str) -> list[Link]:
    """The role's pages, then 我能做什么 (what the role can do), for every role."""
    return [*MENUS.get(role, []), Link("/home", "我能做什么")]


def landing_path(role: str) -> str:
    return menu(role)[0].path
