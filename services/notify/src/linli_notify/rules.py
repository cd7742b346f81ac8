"""Which event notifies whom, with which template and urgency: a table, read top to bottom."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from linli_notify.domain import (
    Urgency,
    account_recipient,
    donor_recipient,
    group_recipient,
    guardian_recipient,
    resident_recipient,
    role_recipient,
    volunteer_recipient,
)
from linli_shared.contracts.fund import (
    CommitmentInstalmentDue,
    DisclosurePublished,
    DisclosureQuestionAnswered,
    DisclosureQuestioned,
    DonationReceived,
)
from linli_shared.contracts.points import PointsRedeemed, StockLow, WishClaimed, WishConfirmed, WishFulfilled
from linli_shared.contracts.registry import UrgentFindingReported, VisitOverdue
from linli_shared.events import Event

Payload = dict[str, object]
Recipients = Callable[[Payload, str | None], list[str]]
ON_THE_LADDER = None


@dataclass(frozen=True)
class Rule:
    contract: type[Event]
    template: str
    urgency: Urgency
    recipients: Recipients | None  # None: the lowest reachable rung of the community's ladder
    known_only: bool = False  # only recipients the contacts read model knows (a guardian on record)
    at_once: tuple[str, ...] = ()  # with recipients None: these rungs all get it now, not the lowest one
    subscribed: bool = False  # also everyone in the community who asked for announcements (preferences)


def _field(name: str, wrap: Callable[[str], str] = str) -> Recipients:
    return lambda payload, _community: [wrap(str(payload[name]))]


def _donor(payload: Payload, _community: str | None) -> list[str]:
    """A donor who is a registered resident reads the thanks in the app; anyone else by the donation."""
    if payload.get("donor_resident_id"):
        return [resident_recipient(str(payload["donor_resident_id"]))]
    return [donor_recipient(str(payload["donation_id"]))]


RULES: list[Rule] = [
    # urgent: goes at once, breaks quiet hours, must be acknowledged, climbs the ladder until it is
    Rule(VisitOverdue, "visit_overdue", Urgency.URGENT, ON_THE_LADDER),
    Rule(  # the elder's guardian, if on record, hears of it too: not on the ladder, not at night
        VisitOverdue,
        "visit_overdue_guardian",
        Urgency.NORMAL,
        _field("resident_id", guardian_recipient),
        known_only=True,
    ),
    Rule(  # a visitor found something that cannot wait: both workers of the care group, at once
        UrgentFindingReported,
        "urgent_finding",
        Urgency.URGENT,
        ON_THE_LADDER,
        at_once=("grid_worker", "community_worker"),
    ),
    Rule(WishClaimed, "wish_claimed", Urgency.NORMAL, _field("resident_id", resident_recipient)),
    Rule(WishFulfilled, "wish_fulfilled", Urgency.NORMAL, _field("resident_id", resident_recipient)),
    Rule(  # the claimant volunteer hears that the fulfilment was confirmed and what it earned them
        WishConfirmed,
        "wish_confirmed",
        Urgency.NORMAL,
        _field("volunteer_id", volunteer_recipient),
    ),
    Rule(
        StockLow,
        "stock_low",
        Urgency.NORMAL,
        lambda _, community: [role_recipient("community_worker", community)],
    ),
    Rule(
        PointsRedeemed,
        "points_redeemed",
        Urgency.NORMAL,
        _field("volunteer_id", volunteer_recipient),
    ),
    Rule(DonationReceived, "donation_thanks", Urgency.NORMAL, _donor),
    Rule(  # the fund officers' desk: a promised term is due, its payment waits for their approval
        CommitmentInstalmentDue,
        "instalment_due",
        Urgency.NORMAL,
        lambda _, community: [role_recipient("fund_officer", community)],
    ),
    Rule(  # a 公示's hash, where the community already looks and to those who asked: a witness each
        DisclosurePublished,
        "disclosure_published",
        Urgency.NORMAL,
        lambda _, community: [group_recipient(community)],
        subscribed=True,
    ),
    Rule(  # a resident questioned a line: the fund officers' desk, to answer within the 公示期
        DisclosureQuestioned,
        "disclosure_questioned",
        Urgency.NORMAL,
        lambda _, community: [role_recipient("fund_officer", community)],
    ),
    Rule(  # the resident who asked reads the answer in the app, signed in to the account that asked
        DisclosureQuestionAnswered,
        "disclosure_question_answered",
        Urgency.NORMAL,
        _field("asker_account_id", account_recipient),
    ),
]

RULES_BY_CONTRACT: dict[type[Event], list[Rule]] = {}
for _rule in RULES:
    RULES_BY_CONTRACT.setdefault(_rule.contract, []).append(_rule)


def rules_for(contract: type[Event]) -> list[Rule]:
    """The rules an event of this contract is notified by, in table order; none for most events."""
    return RULES_BY_CONTRACT.get(contract, [])


SAMPLES: dict[str, Payload] = {
    "visit_overdue": {
        "resident_name": "王秀英",
        "care_group_id": "cg-1",
        "kind": "visit",
        "due_at": "2026-01-01T01:00:00Z",
        "grid_worker": "grid-li",
        "community_worker": "cw-zhang",
        "escalated": False,
        "unacknowledged_by": "邻居 张大妈",
    },
    "urgent_finding": {
        "resident_name": "王秀英",
        "care_group_id": "cg-1",
        "visitor": "grid-li",
        "findings": "老人摔倒，腿肿了",
        "grid_worker": "grid-li",
        "community_worker": "cw-zhang",
        "escalated": False,
        "unacknowledged_by": "李网格",
    },
    "visit_overdue_guardian": {
        "recipient_name": "王强",
        "resident_name": "王秀英",
        "kind": "visit",
        "due_at": "2026-01-01T01:00:00Z",
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
    "instalment_due": {
        "instalment_number": 3,
        "due_on": "2027-09-01",
        "purpose": "education",
        "amount_fen": 50000,
        "disbursement_id": "d-1",
    },
    "disclosure_published": {
        "sequence": 3,
        "first_day": "2026-10-01",
        "last_day": "2026-10-31",
        "sha256": "3f2a9c017bde" + "0" * 52,
        "short_code": "3f2a 9c01 7bde",
        "verification_url": "http://localhost:8103/v1/public/funds/d/c/disclosures/verification?sha256=3f2a",
    },
    "disclosure_questioned": {
        "sequence": 3,
        "line_kind": "payment",
        "line_ref": "2",
        "text": "这笔医疗救助的金额和发票对不上？",
        "closes_on": "2026-11-08",
    },
    "disclosure_question_answered": {
        "recipient_name": "王秀英",
        "sequence": 3,
        "text": "发票已补充公示；多付的 200 元已冲回。",
        "correction_entry_id": 42,
    },
    "donation_thanks": {
        "recipient_name": "李红亮",
        "donor_display": "李红亮",
        "receipt_number": "2026-000042",
        "amount_fen": 50000,
        "fund": "general",
    },
}
