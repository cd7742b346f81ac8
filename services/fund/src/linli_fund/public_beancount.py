"""A published period's public lines as a Beancount file, masked as on the page, so a donor can re-add
the books with their own tools: Income:Donations sums to minus the page's income, Expenses to its
spending, to the fen. A line reversed by the period's end is followed by its reversal on the last
day; corrections of earlier periods go against Equity:CorrectionsOfEarlierPeriods.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from linli_fund.beancount_export import CURRENCY, quoted, yuan

CORRECTIONS = "Equity:CorrectionsOfEarlierPeriods"
KIND_WORDS = {"donation": "捐赠", "payment": "支出"}


@dataclass(frozen=True)
class Transaction:
    day: str
    payee: str
    narration: str
    postings: tuple[tuple[str, int], ...]
    meta: dict[str, str] = field(default_factory=dict)

    def reversal(self, day: str) -> Transaction:
        return Transaction(
            day, self.payee, f"冲正 {self.narration}", tuple((a, -fen) for a, fen in self.postings), self.meta
        )

    def lines(self) -> list[str]:
        return [
            f"{self.day} * {quoted(self.payee)} {quoted(self.narration)}",
            *(f"  {key}: {quoted(value)}" for key, value in self.meta.items()),
            *(f"  {account}  {yuan(fen)} {CURRENCY}" for account, fen in self.postings),
        ]


def component(code: str) -> str:
    """A code as one Beancount account component: party_member → PartyMember."""
    return "".join(word.capitalize() for word in code.replace("-", "_").split("_") if word) or "Unknown"


def fund_account(fund: str) -> str:
    return f"Assets:Funds:{component(fund)}"


def with_reversal(transaction: Transaction, reversed_: bool, last_day: str) -> list[Transaction]:
    return [transaction, transaction.reversal(last_day)] if reversed_ else [transaction]


def transactions(report: dict[str, Any]) -> list[Transaction]:
    last_day = str(report["last_day"])
    made: list[Transaction] = []
    for d in report.get("donations", []):
        gift = Transaction(
            str(d["received_on"]),
            str(d["donor"]),
            f"捐赠 No.{d['receipt_number']}",
            (
                (fund_account(d["fund"]), d["amount_fen"]),
                (f"Income:Donations:{component(d['donor_kind'])}", -d["amount_fen"]),
            ),
            {"receipt": str(d["receipt_number"])},
        )
        made += with_reversal(gift, bool(d["reversed"]), last_day)
    for number, p in enumerate(report.get("disbursements", []), start=1):
        payment = Transaction(
            str(p["paid_on"]),
            str(p["beneficiary"]),
            f"支出第 {number} 笔",
            (
                (f"Expenses:{component(p['purpose'])}", p["amount_fen"]),
                (fund_account(p["fund"]), -p["amount_fen"]),
            ),
            {"payment": str(number)},
        )
        made += with_reversal(payment, bool(p["reversed"]), last_day)
    for c in report.get("corrections", []):
        back = (
            -c["amount_fen"] if c["kind"] == "donation" else c["amount_fen"]
        )  # a gift undone leaves the fund
        made.append(
            Transaction(
                str(c["corrected_on"]),
                str(c["beneficiary"] or c["reference"]),
                f"更正往期{KIND_WORDS.get(c['kind'], '')} {c['reference']}（原记录 {c['original_on']}）",
                ((fund_account(c["fund"]), back), (CORRECTIONS, -back)),
            )
        )
    return sorted(made, key=lambda t: t.day)


def public_period(report: dict[str, Any], sha256: str) -> str:
    """The Beancount file of one published period: its public lines and nothing else."""
    made = transactions(report)
    accounts = sorted({account for t in made for account, _ in t.postings})
    first_day = str(report["first_day"])
    title = f"Linli love fund {report['district']}/{report['community']} period {report.get('sequence')}"
    lines = [
        f'option "title" {quoted(title)}',
        f'option "operating_currency" "{CURRENCY}"',
        f"; {first_day} to {report['last_day']}, sha256 {sha256}",
        f"; income {yuan(report['income']['total_fen'])} {CURRENCY}, "
        f"spending {yuan(report['spending']['total_fen'])} {CURRENCY}",
        "",
        *(f"{first_day} open {account} {CURRENCY}" for account in accounts),
    ]
    for transaction in made:
        lines += ["", *transaction.lines()]
    return "\n".join(lines) + "\n"
