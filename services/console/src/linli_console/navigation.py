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
        Link("/register", "登记"),
        Link("/care-groups", "关爱小组"),
        Link("/statistics", "统计"),
        Link("/pickup", "超市取货"),
        Link("/stock", "超市库存"),
        Link("/wishes/new", "登记心愿"),
        Link("/wish-review", "审核心愿"),
    ],
    "volunteer": [
        Link("/points", "我的积分"),
        Link("/activities", "活动"),
        Link("/supermarket", "爱心超市"),
        Link("/wishes", "心愿墙"),
        Link("/certificates", "服务证书"),
    ],
    "resident": [Link("/my-wishes", "我的心愿"), Link("/fund/questions", "质询")],
    "district_admin": [Link("/admin/accounts", "账号和角色"), Link("/wish-review", "审核心愿")],
    "city_admin": [Link("/admin/accounts", "账号和角色")],
    "fund_officer": [
        Link("/fund/donation", "登记捐赠"),
        Link("/fund/requests", "审批与支付"),
        Link("/fund/publication", "公示"),
        Link("/fund/questions", "质询"),
    ],
}
"""The pages of each role's day, in menu order; the first is where the role lands."""


SHOWN = 5
"""At most this many of a role's pages in the header: on a phone at someone's door, thirteen links
wrapped to three rows above every page. A role with more shows its first four and 更多, which lists
them all."""
HOME = "/home"


def menu(role: str) -> list[Link]:
    """The header's links: the role's pages, then 我能做什么 (what the role can do); for a role with
    more pages than fit, its first pages and 更多 (the rest, on the same page as 我能做什么)."""
    pages = MENUS.get(role, [])
    if len(pages) <= SHOWN:
        return [*pages, Link(HOME, "我能做什么")]
    return [*pages[: SHOWN - 1], Link(HOME, "更多")]


def all_pages(role: str) -> list[Link]:
    return MENUS.get(role, [])


def landing_path(role: str) -> str:
    return menu(role)[0].path
