"""The witness: notify's own copy of every hash the fund published, kept outside the fund's database.

The first hash seen for a community's period stands; another one for it is kept beside it as a
conflict (logged and counted), never in its place. What is witnessed is public, for anyone and for
the fund's own verification to compare with the fund's chain.
"""

from __future__ import annotations

import logging

from prometheus_client import Counter
from sqlalchemy import ColumnElement
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_notify.models import DisclosureTimestamp, WitnessConflict, WitnessedDisclosure
from linli_shared.contracts.fund import DisclosurePublished
from linli_shared.events import Envelope
from linli_shared.unit_of_work import Work

log = logging.getLogger(__name__)

WITNESSED = Counter("linli_notify_disclosures_witnessed_total", "公示 hashes witnessed for the first time.")
CONFLICTS = Counter(
    "linli_notify_witness_conflicts_total",
    "Another hash announced for a period already witnessed: kept as a conflict, the first one stands.",
)


async def witness_disclosure(uow: Work, event: DisclosurePublished, envelope: Envelope) -> bool:
    """Keep the published hash unless this period was witnessed already; True if it is new here."""
    if envelope.community is None:
        log.error("event %s: a disclosure without a community cannot be witnessed", envelope.event_id)
        return False
    session, district, community = uow.session, envelope.district, envelope.community
    first = await witnessed(session, district, community, event.sequence)
    if first is None:
        session.add(
            WitnessedDisclosure(
                district=district,
                community=community,
                sequence=event.sequence,
                first_day=event.first_day,
                last_day=event.last_day,
                sha256=event.sha256,
                previous_sha256=event.previous_sha256,
                published_at=envelope.occurred_at,
                witnessed_at=uow.now,
                source_event_id=envelope.event_id,
            )
        )
        await session.flush()  # two deliveries racing: the unique key speaks here, the inbox retries
        WITNESSED.inc()
        return True
    if first.sha256 != event.sha256:
        await keep_conflict(uow, first, event, envelope)
    return False


async def keep_conflict(
    uow: Work, first: WitnessedDisclosure, event: DisclosurePublished, envelope: Envelope
) -> None:
    """A second, different hash for a witnessed period: evidence of a rewrite, kept once."""
    known = await uow.session.exec(
        select(WitnessConflict).where(
            WitnessConflict.district == first.district,
            WitnessConflict.community == first.community,
            WitnessConflict.sequence == first.sequence,
            WitnessConflict.sha256 == event.sha256,
        )
    )
    if known.first() is not None:
        return
    uow.session.add(
        WitnessConflict(
            district=first.district,
            community=first.community,
            sequence=first.sequence,
            sha256=event.sha256,
            witnessed_sha256=first.sha256,
            published_at=envelope.occurred_at,
            witnessed_at=uow.now,
            source_event_id=envelope.event_id,
        )
    )
    CONFLICTS.inc()
    log.error(
        "witness conflict: %s/%s period %s was witnessed as %s, now announced as %s (event %s)",
        first.district,
        first.community,
        first.sequence,
        first.sha256,
        event.sha256,
        envelope.event_id,
    )


async def witnessed(
    session: AsyncSession, district: str, community: str, sequence: int
) -> WitnessedDisclosure | None:
    statement = select(WitnessedDisclosure).where(
        WitnessedDisclosure.district == district,
        WitnessedDisclosure.community == community,
        WitnessedDisclosure.sequence == sequence,
    )
    return (await session.exec(statement)).first()


async def witnessed_list(
    session: AsyncSession, district: str, community: str
) -> list[tuple[WitnessedDisclosure, DisclosureTimestamp | None]]:
    """A community's witnessed periods in order, each with its time-stamp if it has one."""
    statement = (
        select(WitnessedDisclosure, DisclosureTimestamp)
        .join(DisclosureTimestamp, its_timestamp(), isouter=True)
        .where(WitnessedDisclosure.district == district, WitnessedDisclosure.community == community)
        .order_by(col(WitnessedDisclosure.sequence))
    )
    return list((await session.exec(statement)).all())


def its_timestamp() -> ColumnElement[bool]:
    """How a witnessed hash meets its time-stamp (an outer join: most have none, or none yet)."""
    return col(DisclosureTimestamp.witness_id) == col(WitnessedDisclosure.id)


async def conflict_list(session: AsyncSession, district: str, community: str) -> list[WitnessConflict]:
    """The other hashes announced for a community's witnessed periods, in the order they came."""
    statement = (
        select(WitnessConflict)
        .where(WitnessConflict.district == district, WitnessConflict.community == community)
        .order_by(col(WitnessConflict.sequence), col(WitnessConflict.id))
    )
    return list((await session.exec(statement)).all())
