"""Disbursements and commitments: who may approve, what a fund may pay for, instalment schedules."""

from __future__ import annotations

import calendar
import enum
from collections.abc import Sequence
from datetime import date

from linli_fund.domain.labels import FUND_LABELS, PURPOSE_LABELS, label
from linli_fund.domain.ledger import Fund, Purpose
from linli_shared.errors import Forbidden, Invalid


class DisbursementStatus(enum.StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    PAID = "paid"
    REVERSED = "reversed"


class CommitmentStatus(enum.StrEnum):
    ACTIVE = "active"
    FULFILLED = "fulfilled"
    RELEASED = "released"
    SUSPENDED = "suspended"


def check_fund_fits_purpose(purpose: Purpose, fund: Fund) -> None:
    """Restricted money goes only to its own purpose; general money to any."""
    if fund not in (Fund.GENERAL, Fund(purpose.value)):
        raise Invalid(
            f"the {fund.value} fund cannot pay for {purpose.value}",
            zh=f"{label(FUND_LABELS, fund.value)}不能用于{label(PURPOSE_LABELS, purpose.value)}",
        )


def approvals_needed(amount: int, second_approval_above: int) -> int:
    return 2 if amount > second_approval_above else 1


def falls_below(before: int, after: int, threshold: int) -> bool:
    """True once, when available money goes from at or above the threshold to below it, not while low."""
    return before >= threshold > after


def check_approver(requested_by: str, approved_by: Sequence[str], approver: str) -> None:
    """Nobody approves their own request, and the second approval must come from a third person."""
    if approver == requested_by:
        raise Forbidden("a requester cannot approve their own request", zh="申请人不能审批自己的申请")
    if approver in approved_by:
        raise Forbidden(
            "the second approval must come from a different person", zh="第二次审批须由另一人进行"
        )


MAX_INSTALMENTS = 240


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day if it is shorter (31 Aug + 6 → 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def due_dates(first_due_on: date, months_between: int, until: date) -> list[date]:
    """When a commitment's instalments fall due: from the first, every few months, up to its last day."""
    if months_between < 1:
        raise Invalid("instalments must be at least a month apart", zh="每期之间至少间隔一个月")
    if first_due_on > until:
        raise Invalid(
            "the first instalment must fall due before the commitment ends",
            zh="首期日期不能晚于资助承诺的截止日期",
        )
    dates: list[date] = []
    while (due := add_months(first_due_on, months_between * len(dates))) <= until:
        dates.append(due)
        if len(dates) > MAX_INSTALMENTS:
            raise Invalid(
                f"a commitment has at most {MAX_INSTALMENTS} instalments",
                zh=f"一项资助承诺最多分 {MAX_INSTALMENTS} 期",
            )
    return dates


def check_schedule(total_fen: int, instalment_fen: int, dates: Sequence[date]) -> None:
    """A schedule's instalments add up to exactly what the commitment reserves."""
    if instalment_fen * len(dates) != total_fen:
        raise Invalid(
            f"{len(dates)} instalments of {instalment_fen} fen make {instalment_fen * len(dates)} fen, "
            f"not the {total_fen} fen committed",
            zh=f"{len(dates)} 期、每期 {instalment_fen} 分，合计 {instalment_fen * len(dates)} 分，"
            f"与承诺总额 {total_fen} 分不符",
        )


def instalment_states(
    dates: Sequence[date], instalment_fen: int, paid_fen: int, running: bool, today: date
) -> list[str]:
    """paid (covered by payments so far, in order), then due or upcoming, or cancelled once it stopped."""
    paid = paid_fen // instalment_fen
    return [
        "paid" if number < paid else "cancelled" if not running else "due" if due <= today else "upcoming"
        for number, due in enumerate(dates)
    ]
