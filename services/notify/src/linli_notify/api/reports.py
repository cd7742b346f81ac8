"""Notify's section of the street office's monthly report (linli_shared.monthly_report)."""

from __future__ import annotations

from pydantic import Field

from linli_notify.usecases import reports
from linli_shared.monthly_section import MonthRow, section_router


class NotifyMonthRow(MonthRow):
    alerts: int = Field(description="Urgent alerts (missed visits) first sent in the month.")
    alerts_acknowledged: int = Field(description="Of them, acknowledged on any rung (by now).")
    acknowledgement_rate: float | None = Field(description="alerts_acknowledged / alerts; null for none.")
    median_seconds_to_acknowledge: float | None = Field(
        description="From the first notification to the first acknowledgement; null for none."
    )
    mean_seconds_to_acknowledge: float | None
    alerts_escalated: int = Field(description="Of them, those that climbed at least one rung.")


router = section_router(NotifyMonthRow, reports.monthly_report)
