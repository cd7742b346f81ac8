"""What the HTTP API accepts and returns; secrets (the ID number, its hash) never leave."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from linli_registry.domain import Tag, VisitKind

Code = Field(pattern=r"^[a-z0-9_-]+$", min_length=1, max_length=40)
Name = Field(min_length=1, max_length=100)
# Digits in groups split by one space or hyphen, an optional leading +: 13800138000, 010-6512 3456.
PHONE_PATTERN = r"^\+?[0-9]+([ -][0-9]+)*$"
Phone = Field(default=None, pattern=PHONE_PATTERN, min_length=3, max_length=30)
GuardianName = Field(default=None, min_length=1, max_length=100, description="Who answers for the resident.")
GuardianRelation = Field(default=None, min_length=1, max_length=20, description="e.g. 儿子, 奶奶, 监护人.")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class DistrictIn(Strict):
    code: str = Code
    name: str = Name


class CommunityIn(Strict):
    district: str = Code
    code: str = Code
    name: str = Name


class GridIn(Strict):
    district: str = Code
    community: str = Code
    code: str = Code
    name: str = Name
    grid_worker: str | None = Field(default=None, max_length=100)


class PlaceOut(BaseModel):
    district: str
    community: str | None = None
    code: str
    name: str
    grid_worker: str | None = None


class HouseholdIn(Strict):
    district: str = Code
    community: str = Code
    grid_code: str | None = Field(default=None, pattern=r"^[a-z0-9_-]+$", max_length=40)
    address: str = Field(min_length=1, max_length=200)


class HouseholdOut(BaseModel):
    id: str
    district: str
    community: str
    grid_code: str | None
    address: str


class ResidentIn(Strict):
    district: str = Code
    community: str = Code
    grid_code: str | None = Field(default=None, pattern=r"^[a-z0-9_-]+$", max_length=40)
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


class HealthRecordIn(Strict):
    address: str = Field(min_length=1, max_length=200)
    children_phones: list[str] = Field(default_factory=list, max_length=10)
    past_illnesses: str = Field(default="", max_length=2000)
    regular_medicines: str = Field(default="", max_length=2000)
    notes: str = Field(default="", max_length=4000)


class HealthRecordOut(HealthRecordIn):
    model_config = ConfigDict(extra="ignore")
    resident_id: str
    updated_at: datetime


class HealthRecordReadOut(BaseModel):
    resident_id: str
    community: str
    reader: str
    reader_role: str
    read_at: datetime


class CareGroupIn(Strict):
    resident_id: str = Field(max_length=36)
    community_worker: str = Field(min_length=1, max_length=100)
    grid_worker: str = Field(min_length=1, max_length=100)
    neighbour_name: str = Name
    neighbour_phone: str | None = Phone
    visit_every_hours: int = Field(default=24, ge=1, le=24 * 31)
    call_every_days: int = Field(default=7, ge=1, le=366)


class CareGroupOut(BaseModel):
    id: str
    district: str
    community: str
    resident_id: str
    community_worker: str
    grid_worker: str
    neighbour_name: str
    neighbour_phone: str | None
    visit_every_hours: int
    call_every_days: int
    active: bool
    formed_at: datetime


class VisitIn(Strict):
    resident_id: str = Field(max_length=36)
    kind: VisitKind = VisitKind.VISIT
    visited_at: datetime | None = Field(default=None, description="Defaults to now; timezone required.")
    findings: str = Field(default="", max_length=4000)
    follow_up: str = Field(default="", max_length=4000)


class VisitOut(BaseModel):
    id: str
    district: str
    community: str
    resident_id: str
    care_group_id: str | None
    kind: str
    visitor: str
    visited_at: datetime
    findings: str
    follow_up: str


class StatisticsRow(BaseModel):
    district: str
    community: str
    grid_code: str | None = None
    population: int
    aged_60_plus: int
    aged_70_plus: int
    aged_80_plus: int
    living_alone: int
    lonely: int
    disabled: int
    bedridden: int
    dibao: int
    poor_household: int
    orphans: int
    children_in_difficulty: int
    veterans: int
    party_members: int
