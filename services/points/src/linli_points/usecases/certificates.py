"""A volunteer's certificates of service hours, for the volunteer and their community's organisers."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_points.access import ORGANISERS, load_volunteer
from linli_points.models import Certificate, Volunteer
from linli_shared.auth import Caller, Role
from linli_shared.paging import Page, page_of


async def list_certificates(
    session: AsyncSession, caller: Caller, volunteer_id: str, *, cursor: str | None, limit: int
) -> tuple[Volunteer, Page[Certificate]]:
    """The certificates issued to a volunteer, by serial: the volunteer sees their own, the workers
    who may issue one (community workers of their community, district admins) see any."""
    volunteer = await load_volunteer(session, caller, volunteer_id)
    if caller.role is not Role.VOLUNTEER:
        caller.check_role(*ORGANISERS)
    statement = select(Certificate).where(Certificate.volunteer_id == volunteer.id)
    page = await page_of(session, statement, col(Certificate.serial), cursor=cursor, limit=limit)
    return volunteer, page
