"""The witness, public: the 公示 hashes notify saw the fund publish, for anyone to compare. No token."""

from __future__ import annotations

import base64
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from linli_notify.models import DisclosureTimestamp, WitnessConflict, WitnessedDisclosure
from linli_notify.usecases import witness
from linli_shared.service import SessionDep

router = APIRouter(prefix="/v1/public/witness/{district}/{community}", tags=["public"])
PlacePath = Annotated[str, Path(pattern=r"^[a-z0-9_-]+$", min_length=1, max_length=40)]


class WitnessedOut(BaseModel):
    sequence: int
    first_day: date
    last_day: date
    sha256: str = Field(description="The hash as first announced; a later different one is a conflict.")
    previous_sha256: str | None
    published_at: datetime = Field(description="When the fund published it (the event's time).")
    witnessed_at: datetime = Field(description="When notify first saw it.")
    timestamp_token: str | None = Field(
        description="The RFC 3161 TimeStampToken (DER, base64) of the hash, if an authority stamped it."
    )
    timestamped_at: datetime | None = Field(description="The token's time (genTime).")


class ConflictOut(BaseModel):
    sequence: int
    sha256: str = Field(description="The other hash announced for the period.")
    witnessed_sha256: str = Field(description="The hash witnessed first, which stands.")
    published_at: datetime
    witnessed_at: datetime


def witnessed_out(row: WitnessedDisclosure, stamp: DisclosureTimestamp | None) -> WitnessedOut:
    token = stamp.token if stamp is not None else None
    return WitnessedOut(
        **row.model_dump(include=set(WitnessedOut.model_fields) - {"timestamp_token", "timestamped_at"}),
        timestamp_token=base64.b64encode(token).decode() if token else None,
        timestamped_at=stamp.timestamped_at if token and stamp is not None else None,
    )


@router.get("/disclosures", response_model=list[WitnessedOut])
async def list_witnessed(district: PlacePath, community: PlacePath, session: SessionDep) -> object:
    """Every witnessed period of the community, by sequence: what the fund's chain must agree with."""
    rows = await witness.witnessed_list(session, district, community)
    return [witnessed_out(row, stamp) for row, stamp in rows]


@router.get("/conflicts", response_model=list[ConflictOut])
async def list_conflicts(district: PlacePath, community: PlacePath, session: SessionDep) -> object:
    """Other hashes announced later for periods already witnessed: evidence, never the witness."""
    conflicts: list[WitnessConflict] = await witness.conflict_list(session, district, community)
    return [conflict.model_dump() for conflict in conflicts]
