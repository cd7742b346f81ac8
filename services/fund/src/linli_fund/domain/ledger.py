"""The journal's rules: the chart of accounts, balanced entries and how they move guarded balances.

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

import enum
import functools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from linli_shared.errors import Conflict, DomainError, Invalid


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


class EntryKind(enum.StrEnum):
    DONATION = "donation"
    DISBURSEMENT = "disbursement"
    RESERVATION = "reservation"
    REVERSAL = "reversal"


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
        raise Unbalanced("an entry needs at least two postings", zh="一笔分录至少要有两条记账行")
    for line in lines:
        if line.account not in CHART:
            raise Unbalanced(
                f"{line.account} is not an account of the chart", zh=f"{line.account} 不是科目表里的科目"
            )
        if type(line.amount) is not int or line.amount == 0:
            raise Unbalanced(
                f"posting to {line.account} must be a non-zero whole number of fen",
                zh=f"记入 {line.account} 的金额必须是不为零的整数（单位：分）",
            )
    if (total := sum(line.amount for line in lines)) != 0:
        raise Unbalanced(f"postings sum to {total} fen, not 0", zh=f"借贷不平：各行合计 {total} 分，应为 0")


@functools.lru_cache(maxsize=1024)
def donation_lines(channel: Channel, fund: Fund, amount: int) -> tuple[Line, ...]:
    """A gift's postings; one tuple for every gift alike (a batch's gifts share it)."""
    return (Line(ASSET_OF_CHANNEL[channel], amount), Line(income_account(fund), -amount))


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


MAX_FEN = 10_000_000_000
"""The largest amount of one request: 100 million yuan, far above any community fund, inside 64 bits."""
