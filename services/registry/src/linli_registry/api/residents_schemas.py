"""What the residents API accepts and returns; secrets (the ID number, its hash) never leave."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from linli_registry.api.fields import Code, GuardianName, GuardianRelation, Name, OptionalCode, Phone
from linli_registry.domain import Tag
from linli_shared.schema_types import Strict


class HouseholdIn(Strict):
    district: str = Code
    community: str = Code
    grid_code: str | None = OptionalCode
    address: str = Field(min_length=1, max_length=200)


class HouseholdOut(BaseModel):
    id: str
    district: str
    community: str
    grid_code: str | None
    address: str
    head_resident_id: str | None = Field(
        default=None, description="The household's head (户主), one of its members."
    )
    version: int = Field(default=1, description="Send it back (If-Match) to correct the household.")


class MemberOut(BaseModel):
    id: str
    full_name: str
    status: str


class HouseholdWithMembersOut(HouseholdOut):
    members: list[MemberOut]


class ResidentIn(Strict):
    district: str = Code
    community: str = Code
    grid_code: str | None = OptionalCode
    household_id: str | None = Field(default=None, max_length=36)
    full_name: str = Name
    gender: str = Field(pattern=r"^(female|male|other)$")
    birth_date: date | None = Field(default=None, description="Defaults to the one in the ID number.")
    id_number: str = Field(min_length=18, max_length=18, description="Stored only hashed and masked.")
    phone: str | None = Phone
    guardian_name: str | None = GuardianName
    guardian_relation: str | None = GuardianRelation
    guardian_phone: str | None = Phone
    tags: set[Tag] = Field(default_factory=set)


class IdNumberLookupIn(Strict):
    id_number: str = Field(min_length=18, max_length=18)


class TagsIn(Strict):
    tags: set[Tag]


class StatusChangeIn(Strict):
    on: date


class ContactIn(Strict):
    """The whole contact: a field left out or null means none on record, not unchanged."""

    phone: str | None = Phone
    guardian_name: str | None = GuardianName
    guardian_relation: str | None = GuardianRelation
    guardian_phone: str | None = Phone


class ContactOut(BaseModel):
    resident_id: str
    full_name: str
    phone: str | None
    guardian_name: str | None
    guardian_relation: str | None
    guardian_phone: str | None


class ResidentBriefOut(BaseModel):
    """A resident as a fund officer sees them, choosing a beneficiary: who they are and why they may
    be helped, not how to reach them or their family (no phone, no guardian). No birth date either:
    the masked ID number hides exactly the birth date, so the two together give the number back."""

    id: str
    district: str
    community: str
    grid_code: str | None
    household_id: str | None
    full_name: str
    gender: str
    age: int
    age_band: str
    id_number_masked: str
    tags: list[Tag]
    status: str
    status_on: date | None


class ResidentOut(BaseModel):
    id: str
    district: str
    community: str
    grid_code: str | None
    household_id: str | None
    full_name: str
    gender: str
    birth_date: date
    age: int
    age_band: str
    id_number_masked: str
    phone: str | None
    guardian_name: str | None
    guardian_relation: str | None
    guardian_phone: str | None
    tags: list[Tag]
    status: str
    status_on: date | None
    registered_at: datetime
    version: int = Field(description="Raised by every change; send it back (If-Match) to correct the record.")
