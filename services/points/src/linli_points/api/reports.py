"""The points service's section of the street office's monthly report (linli_shared.monthly_report)."""

from __future__ import annotations

from pydantic import Field

from linli_points.usecases import reports
from linli_shared.monthly_section import MonthRow, section_router


class PointsMonthRow(MonthRow):
    activities_held: int = Field(description="Activities starting in the month.")
    service_minutes: int = Field(description="Minutes of service on days of the month.")
    service_hours: float = Field(description="The same in hours, to one place.")
    volunteers_serving: int = Field(description="Distinct volunteers with service on days of the month.")
    wishes_fulfilled: int = Field(description="Wishes fulfilled in the month.")
    help_handed_over: int = Field(description="Neighbour-help matches handed over in the month.")
    residents_served: int = Field(description="Distinct residents of those wishes and help requests.")
    points_earned: int = Field(description="Points credited for service, wishes and visits in the month.")
    points_redeemed: int = Field(description="Points spent in the love supermarket in the month.")
    points_refunded: int = Field(description="Points given back for redemptions cancelled in the month.")


router = section_router(PointsMonthRow, reports.monthly_report)
