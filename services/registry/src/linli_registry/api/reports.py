"""The registry's section of the street office's monthly report (linli_shared.monthly_report)."""

from __future__ import annotations

from pydantic import Field

from linli_registry.usecases import reports
from linli_shared.monthly_section import MonthRow, section_router


class RegistryMonthRow(MonthRow):
    community_name: str
    residents: int = Field(description="Residents on record at the month's end (registered, not gone).")
    residents_by_tag: dict[str, int] = Field(description="Of them, per tag (tags as they are now).")
    residents_by_age_band: dict[str, int] = Field(description="Of them, per age band on the last day.")
    households: int
    visits: int = Field(description="Care visits logged as made in the month.")
    calls: int = Field(description="Care calls logged as made in the month.")
    overdue_alerts: int = Field(description="Overdue alerts (visit or call) raised in the month.")
    overdue_visit_alerts: int = Field(description="Of them, for a missed visit.")
    visit_completion_rate: float | None = Field(
        description="visits / (visits + overdue_visit_alerts); null when both are 0."
    )


router = section_router(RegistryMonthRow, reports.monthly_report)
