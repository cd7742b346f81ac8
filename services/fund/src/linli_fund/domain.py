"""Love-fund rules as plain functions: no database, no broker, no clock of their own.

The chart of accounts (one per community, created on first use):

    assets:cash                      money in the cash box               (debit-normal)
    assets:bank                      money in the fund's bank account    (debit-normal)
    assets:mobile                    money in the mobile-payment wallet  (debit-normal)
    income:donations:general         unrestricted donations              (credit-normal)
    income:donations:<purpose>       donations restricted to education, medical or relief
    expenses:disbursements:<fund>    payments out of the general or a restricted fund
    equity:reserved:<fund>           reserved commitments: money promised over time  (credit-normal)
    equity:unreserved:<fund>         the other side of every reservation              (debit-normal)

Postings carry integer fen: positive is a debit, negative a credit, and the postings of every
entry sum to zero, so the trial balance sums to zero too. A fund (general, education, medical,
relief) is not an account but a view: its balance is what its income account holds less what its
expense account has spent, i.e. minus the sum of both accounts' postings. Funds and asset accounts
are "guarded": each has a balance row that the database keeps at or above zero (and at or above
what is reserved), moved in the same transaction as the entry that moves it.

A commitment sets money aside without spending it: a reservation entry credits
equity:reserved:<fund> and debits equity:unreserved:<fund> (a release does the opposite), the way
an accountant designates part of a fund's net assets. The pair sums to zero, so funds and the
trial balance are untouched, while minus the balance of equity:reserved:<fund> is what the fund
holds for its commitments: the same figure as its guarded row's `reserved`, moved by the same entry.
"""

from __future__ import annotations

import calendar
import enum
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from linli_shared.clock import CHINA_TIME
from linli_shared.errors import Conflict, DomainError, Forbidden, Invalid

ANONYMOUS = "匿名"


class FundError(DomainError):
    """Base of the fund service's errors."""


class Unbalanced(FundError, Invalid):
    """An entry whose postings do not sum to zero, or that has fewer than two."""


class InsufficientFunds(FundError, Conflict):
    """More would leave a fund or an asset account than it holds beyond what is reserved."""


class AlreadyReversed(FundError, Conflict):
    """An entry is reversed at most once."""


class AccountType(enum.StrEnum):
    ASSET = "asset"
    INCOME = "income"
    EXPENSE = "expense"
    EQUITY = "equity"


class Fund(enum.StrEnum):
    GENERAL = "general"
    EDUCATION = "education"
    MEDICAL = "medical"
    RELIEF = "relief"


class Purpose(enum.StrEnum):
    EDUCATION = "education"
    MEDICAL = "medical"
    RELIEF = "relief"


class Channel(enum.StrEnum):
    CASH = "cash"
    BANK_TRANSFER = "bank_transfer"
    MOBILE_PAYMENT = "mobile_payment"


class DonorKind(enum.StrEnum):
    RESIDENT = "resident"
    PARTY_MEMBER = "party_member"
    ENTERPRISE = "enterprise"
    OUTSIDER = "outsider"


class EntryKind(enum.StrEnum):
    DONATION = "donation"
    DISBURSEMENT = "disbursement"
    RESERVATION = "reservation"
    REVERSAL = "reversal"


class DonationStatus(enum.StrEnum):
    RECEIVED = "received"
    REVERSED = "reversed"


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


ASSET_OF_CHANNEL = {
    Channel.CASH: "assets:cash",
    Channel.BANK_TRANSFER: "assets:bank",
    Channel.MOBILE_PAYMENT: "assets:mobile",
}


def income_account(fund: Fund) -> str:
    return f"income:donations:{fund.value}"


def expense_account(fund: Fund) -> str:
    return f"expenses:disbursements:{fund.value}"


def reserved_account(fund: Fund) -> str:
    return f"equity:reserved:{fund.value}"


def unreserved_account(fund: Fund) -> str:
    return f"equity:unreserved:{fund.value}"


def fund_key(fund: Fund) -> str:
    """The name of a fund's guarded balance row."""
    return f"funds:{fund.value}"


CHART: dict[str, AccountType] = {
    **dict.fromkeys(ASSET_OF_CHANNEL.values(), AccountType.ASSET),
    **{income_account(fund): AccountType.INCOME for fund in Fund},
    **{expense_account(fund): AccountType.EXPENSE for fund in Fund},
    **{reserved_account(fund): AccountType.EQUITY for fund in Fund},
    **{unreserved_account(fund): AccountType.EQUITY for fund in Fund},
}
GUARDED = [*ASSET_OF_CHANNEL.values(), *(fund_key(fund) for fund in Fund)]
FUND_OF_ACCOUNT = {income_account(f): f for f in Fund} | {expense_account(f): f for f in Fund}
FUND_OF_RESERVE = {reserved_account(f): f for f in Fund}


@dataclass(frozen=True)
class Line:
    """One posting: an account of the chart and a signed amount in fen (debit > 0 > credit)."""

    account: str
    amount: int


def check_balanced(lines: Sequence[Line]) -> None:
    """Refuse an entry that is not two or more non-zero postings on known accounts summing to zero."""
    if len(lines) < 2:
        raise Unbalanced("an entry needs at least two postings")
    for line in lines:
        if line.account not in CHART:
            raise Unbalanced(f"{line.account} is not an account of the chart")
        if type(line.amount) is not int or line.amount == 0:
            raise Unbalanced(f"posting to {line.account} must be a non-zero whole number of fen")
    if (total := sum(line.amount for line in lines)) != 0:
        raise Unbalanced(f"postings sum to {total} fen, not 0")


def check_within_campaign(starts_on: date, ends_on: date, received_on: date) -> None:
    """A gift counts toward a drive only if it is received (China day) while the drive runs."""
    if not starts_on <= received_on <= ends_on:
        raise Invalid(
            f"the campaign runs from {starts_on} to {ends_on}; a gift received on {received_on} "
            "cannot count toward it (record it without campaign_id)"
        )


def fund_for_donation(restricted_to: Purpose | None) -> Fund:
    return Fund.GENERAL if restricted_to is None else Fund(restricted_to.value)


def check_fund_fits_purpose(purpose: Purpose, fund: Fund) -> None:
    """Restricted money goes only to its own purpose; general money to any."""
    if fund not in (Fund.GENERAL, Fund(purpose.value)):
        raise Invalid(f"the {fund.value} fund cannot pay for {purpose.value}")


def donation_lines(channel: Channel, fund: Fund, amount: int) -> list[Line]:
    return [Line(ASSET_OF_CHANNEL[channel], amount), Line(income_account(fund), -amount)]


def payment_lines(fund: Fund, channel: Channel, amount: int) -> list[Line]:
    return [Line(expense_account(fund), amount), Line(ASSET_OF_CHANNEL[channel], -amount)]


def reservation_lines(fund: Fund, amount: int) -> list[Line]:
    """Set `amount` fen of a fund aside for a commitment; a negative amount releases it."""
    return [Line(reserved_account(fund), -amount), Line(unreserved_account(fund), amount)]


def reversal_lines(lines: Iterable[Line]) -> list[Line]:
    return [Line(line.account, -line.amount) for line in lines]


@dataclass(frozen=True)
class GuardedMove:
    """How one entry moves one guarded row: its balance and what of it is reserved."""

    balance: int = 0
    reserved: int = 0

    @property
    def available(self) -> int:
        return self.balance - self.reserved


def guarded_moves(lines: Iterable[Line]) -> dict[str, GuardedMove]:
    """How an entry moves each guarded row, sorted by name (the one order locks are taken in).

    Asset accounts move by their postings; a fund by minus its income and expense postings; a
    fund's reserve by minus its equity:reserved postings (a credit reserves); equity:unreserved
    moves nothing: it only balances the reservation.
    """
    balance: dict[str, int] = defaultdict(int)
    reserved: dict[str, int] = defaultdict(int)
    for line in lines:
        if CHART[line.account] is AccountType.ASSET:
            balance[line.account] += line.amount
        elif line.account in FUND_OF_ACCOUNT:
            balance[fund_key(FUND_OF_ACCOUNT[line.account])] -= line.amount
        elif line.account in FUND_OF_RESERVE:
            reserved[fund_key(FUND_OF_RESERVE[line.account])] -= line.amount
    moves = {name: GuardedMove(balance[name], reserved[name]) for name in sorted({*balance, *reserved})}
    return {name: move for name, move in moves.items() if move != GuardedMove()}


def guarded_deltas(lines: Iterable[Line]) -> dict[str, int]:
    """How an entry moves each guarded balance (not its reserve), sorted by name."""
    return {name: move.balance for name, move in guarded_moves(lines).items() if move.balance}


def approvals_needed(amount: int, second_approval_above: int) -> int:
    return 2 if amount > second_approval_above else 1


def falls_below(before: int, after: int, threshold: int) -> bool:
    """True once, when available money goes from at or above the threshold to below it, not while low."""
    return before >= threshold > after


def check_approver(requested_by: str, approved_by: Sequence[str], approver: str) -> None:
    """Nobody approves their own request, and the second approval must come from a third person."""
    if approver == requested_by:
        raise Forbidden("a requester cannot approve their own request")
    if approver in approved_by:
        raise Forbidden("the second approval must come from a different person")


def receipt_year(now: datetime) -> int:
    return now.astimezone(CHINA_TIME).year


def receipt_number(year: int, sequence: int) -> str:
    return f"{year}-{sequence:06d}"


def donor_display(name: str, anonymous: bool) -> str:
    return ANONYMOUS if anonymous else name


def mask_name(full_name: str) -> str:
    """Initials for a public page: 张小明 → 张**, John Smith → J. S.; never the whole name."""
    name = full_name.strip()
    if not name:
        return "*"
    if any(not char.isascii() for char in name) and " " not in name:
        return name[0] + "*" * max(len(name) - 1, 1)
    return " ".join(f"{part[0].upper()}." for part in name.split())


def allocate_first_in_first_out(
    gifts: Sequence[tuple[str, int]], payments: Sequence[tuple[str, int]]
) -> dict[str, list[tuple[str, int]]]:
    """Which payments of a restricted fund each gift paid for: the oldest unspent money goes first.

    `gifts` and `payments` are (id, fen) in the order they happened; a payment larger than what is
    left of the oldest gift is split across the following ones. Money not yet spent is not listed.
    """
    paid_for: dict[str, list[tuple[str, int]]] = {gift_id: [] for gift_id, _ in gifts}
    gift_ids = [gift_id for gift_id, _ in gifts]
    remaining = [amount for _, amount in gifts]  # fen left of each gift, by position
    current = 0
    for payment_id, amount in payments:
        due = amount
        while due and current < len(remaining):
            share = min(remaining[current], due)
            if share:
                paid_for[gift_ids[current]].append((payment_id, share))
            remaining[current] -= share
            due -= share
            if remaining[current] == 0:
                current += 1
    return paid_for


MAX_INSTALMENTS = 240


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day if it is shorter (31 Aug + 6 → 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def due_dates(first_due_on: date, months_between: int, until: date) -> list[date]:
    """When a commitment's instalments fall due: from the first, every few months, up to its last day."""
    if months_between < 1:
        raise Invalid("instalments must be at least a month apart")
    if first_due_on > until:
        raise Invalid("the first instalment must fall due before the commitment ends")
    dates: list[date] = []
    while (due := add_months(first_due_on, months_between * len(dates))) <= until:
        dates.append(due)
        if len(dates) > MAX_INSTALMENTS:
            raise Invalid(f"a commitment has at most {MAX_INSTALMENTS} instalments")
    return dates


def check_schedule(total_fen: int, instalment_fen: int, dates: Sequence[date]) -> None:
    """A schedule's instalments add up to exactly what the commitment reserves."""
    if instalment_fen * len(dates) != total_fen:
        raise Invalid(
            f"{len(dates)} instalments of {instalment_fen} fen make {instalment_fen * len(dates)} fen, "
            f"not the {total_fen} fen committed"
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
