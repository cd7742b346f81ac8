"""The fund's section of the street office's monthly report (linli_shared.monthly_report)."""

from __future__ import annotations

from pydantic import Field

from linli_fund.usecases import reports
from linli_shared.monthly_section import MonthRow, section_router


class FundMonthRow(MonthRow):
    donations: int = Field(description="Gifts received in the month, less those reversed by its end.")
    donations_fen: int
    disbursements: int = Field(description="Payments made in the month, less those reversed by its end.")
    disbursements_fen: int
    funds_at_end: dict[str, int] = Field(description="Each fund's balance in fen at the end of the last day.")
    balance_at_end_fen: int = Field(description="All funds together.")


router = section_router(FundMonthRow, reports.monthly_report)
