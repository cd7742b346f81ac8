"""Points for the visits the registry logged: the community's visit points, once per visit."""

from __future__ import annotations

from sqlmodel import select

from linli_points.domain import EntryKind
from linli_points.ledger import earn_points
from linli_points.models import CommunityRules, PointsEntry, Volunteer
from linli_shared.contracts.registry import VisitLogged
from linli_shared.unit_of_work import Work


async def credit_visit(uow: Work, visit: VisitLogged, district: str, community: str | None) -> None:
    """Credit the community's visit points to the volunteer who visited, once per visit; never commits."""
    session = uow.session
    volunteer = (
        await session.exec(
            select(Volunteer).where(Volunteer.district == district, Volunteer.subject == visit.visitor)
        )
    ).first()
    if volunteer is None or not volunteer.active:
        return  # the visitor is not (or no longer) a volunteer here: visits earn points only for volunteers
    rules = await session.get(CommunityRules, (district, community or volunteer.community))
    if rules is None or rules.visit_points <= 0:
        return
    credited = (
        await session.exec(
            select(PointsEntry.id).where(
                PointsEntry.volunteer_id == volunteer.id,
                PointsEntry.kind == EntryKind.EARNED.value,
                PointsEntry.reference == visit.visit_id,
            )
        )
    ).first()
    if credited is not None:
        return  # the inbox dedupes by event id; this catches the same visit under a new one
    reason = f"{visit.kind} to a resident"
    await earn_points(
        uow, volunteer, rules.visit_points, reason=reason, actor=visit.visitor, reference=visit.visit_id
    )
