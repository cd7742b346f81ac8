"""Which event notifies whom, with which template and urgency: a table, read top to bottom."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from linli_notify.domain import (
    Urgency,
    donor_recipient,
    resident_recipient,
    role_recipient,
    volunteer_recipient,
)

Payload = dict[str, object]


@dataclass(frozen=True)
class Rule:
    event_type: str
    template: str
    urgency: Urgency
    recipients: Callable[[Payload, str | None], list[str]]
    rung: str | None = None  # where the recipient stands on the escalation ladder


def _field(name: str, wrap: Callable[[str], str] = str) -> Callable[[Payload, str | None], list[str]]:
    return lambda payload, _community: [wrap(str(payload[name]))]


RULES: list[Rule] = [
    Rule(
        "registry.care.visit.overdue", "visit_overdue", Urgency.URGENT, _field("grid_worker"), "grid_worker"
    ),
    Rule("points.wish.claimed", "wish_claimed", Urgency.NORMAL, _field("resident_id", resident_recipient)),
    Rule(
        "points.wish.fulfilled", "wish_fulfilled", Urgency.NORMAL, _field("resident_id", resident_recipient)
    ),
    Rule(  # the claimant volunteer hears that the fulfilment was confirmed and what it earned them
        "points.wish.confirmed",
        "wish_confirmed",
        Urgency.NORMAL,
        _field("volunteer_id", volunteer_recipient),
    ),
    Rule(
        "points.stock.low",
        "stock_low",
        Urgency.NORMAL,
        lambda _, community: [role_recipient("community_worker", community)],
    ),
    Rule(
        "points.points.redeemed",
        "points_redeemed",
        Urgency.NORMAL,
        _field("volunteer_id", volunteer_recipient),
    ),
    Rule("fund.donation.received", "donation_thanks", Urgency.NORMAL, _field("donation_id", donor_recipient)),
]

RULES_BY_EVENT: dict[str, list[Rule]] = {}
for _rule in RULES:
    RULES_BY_EVENT.setdefault(_rule.event_type, []).append(_rule)


def rules_for(event_type: str) -> list[Rule]:
    return RULES_BY_EVENT.get(event_type, [])


SAMPLES: dict[str, Payload] = {
    "visit_overdue": {
        "resident_name": "王秀英",
        "care_group_id": "cg-1",
        "kind": "visit",
        "due_at": "2026-01-01 09:00",
        "grid_worker": "grid-li",
        "community_worker": "cw-zhang",
        "escalated": False,
    },
    "wish_claimed": {"recipient_name": "王秀英", "wish_title": "一台轮椅"},
    "wish_fulfilled": {"recipient_name": "王秀英", "wish_title": "一台轮椅", "note": "已送到家"},
    "wish_confirmed": {"recipient_name": "李红亮", "wish_title": "一台轮椅", "points_awarded": 20},
    "stock_low": {"item_name": "米 5kg", "stock": 2, "threshold": 5},
    "points_redeemed": {"recipient_name": "李红亮", "points": 30, "quantity": 1, "balance": 70},
    "daily_digest": {
        "recipient_name": "李网格",
        "day": "2026-03-11",
        "since": "2026-03-10 07:00",
        "count": 2,
        "items": [
            {
                "at": "03-10 09:12",
                "event": "registry.care.visit.overdue",
                "who": "王秀英",
                "kind": "visit",
                "title": "【紧急】王秀英的走访已逾期",
            },
            {
                "at": "03-10 15:40",
                "event": "points.wish.claimed",
                "who": "王秀英",
                "kind": "",
                "title": "您的心愿已被认领",
            },
        ],
        "more": 0,
    },
    "donation_thanks": {
        "recipient_name": "李红亮",
        "donor_display": "李红亮",
        "receipt_number": "2026-000042",
        "amount_fen": 50000,
        "fund": "general",
    },
}
