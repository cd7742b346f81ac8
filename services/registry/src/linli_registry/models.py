"""The registry's tables. Every row carries its district and community."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from linli_shared.clock import UtcDateTime
from linli_shared.idempotency import IdempotencyRecord  # noqa: F401 - part of this database's schema
from linli_shared.inbox import InboxEntry  # noqa: F401 - part of this database's schema
from linli_shared.outbox import OutboxMessage  # noqa: F401 - part of this database's schema
from linli_shared.versions import RecordChange, Versioned  # noqa: F401 - part of this database's schema


class District(SQLModel, table=True):
    code: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=100)


class Community(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("district", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    district: str = Field(foreign_key="district.code", max_length=40)
    code: str = Field(max_length=40)
    name: str = Field(max_length=100)


class Grid(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("district", "community", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    district: str = Field(max_length=40, index=True)
    community: str = Field(max_length=40)
    code: str = Field(max_length=40)
    name: str = Field(max_length=100)
    grid_worker: str | None = Field(default=None, max_length=100)


RESIDENT_FIELD_LABELS = {
    "full_name": "姓名",
    "gender": "性别",
    "birth_date": "出生日期",
    "id_number_masked": "身份证号",
    "grid_code": "网格",
    "household_id": "所在户",
    "phone": "电话",
    "guardian_name": "监护人",
    "guardian_relation": "监护人关系",
    "guardian_phone": "监护人电话",
    "tags": "标签",
    "status": "状态",
    "status_on": "状态日期",
}


class Household(Versioned, table=True):
    record_type = "household"
    record_label = "这户的信息"
    field_labels = {"address": "住址", "grid_code": "网格", "head_resident_id": "户主"}
    id: str = Field(primary_key=True, max_length=36)
    district: str = Field(max_length=40, index=True)
    community: str = Field(max_length=40)
    grid_code: str | None = Field(default=None, max_length=40)
    address: str = Field(max_length=200)
    head_resident_id: str | None = Field(default=None, max_length=36)
    """The household's head (户主), one of its residents; set by a correction."""


class Resident(Versioned, table=True):
    """Searches page by id within the caller's scope and a status: the two scope indexes give that
    order directly, so no plan walks the whole table. Migration 0004 also adds a trigram index on
    full_name (PostgreSQL) for name searches."""

    record_type = "resident"
    record_label = "这位居民的信息"
    field_labels = RESIDENT_FIELD_LABELS
    __table_args__ = (
        UniqueConstraint("district", "id_number_hash"),
        Index("ix_resident_scope", "district", "community", "status", "id"),
        Index("ix_resident_district_status", "district", "status", "id"),
        Index("ix_resident_birth", "birth_date", "status", "district", "community", "grid_code"),
    )
    id: str = Field(primary_key=True, max_length=36)
    district: str = Field(max_length=40)
    community: str = Field(max_length=40)
    grid_code: str | None = Field(default=None, max_length=40, index=True)
    household_id: str | None = Field(default=None, foreign_key="household.id", max_length=36)
    full_name: str = Field(max_length=100)
    gender: str = Field(max_length=10)
    birth_date: date
    id_number_hash: str = Field(max_length=64)
    id_number_masked: str = Field(max_length=18)
    phone: str | None = Field(default=None, max_length=30)
    guardian_name: str | None = Field(default=None, max_length=100)
    guardian_relation: str | None = Field(default=None, max_length=20)
    guardian_phone: str | None = Field(default=None, max_length=30)
    living_alone: bool = False
    lonely: bool = False
    disabled: bool = False
    bedridden: bool = False
    dibao: bool = False
    poor_household: bool = False
    orphan: bool = False
    child_in_difficulty: bool = False
    veteran: bool = False
    party_member: bool = False
    status: str = Field(default="active", max_length=20)
    status_on: date | None = None
    registered_at: datetime = Field(sa_type=UtcDateTime)


class ResidentTally(SQLModel, table=True):
    """Active residents per grid and their tags, kept exact in the transaction of every write
    (linli_registry.tally); grid_code is "" for residents on no grid."""

    district: str = Field(primary_key=True, max_length=40)
    community: str = Field(primary_key=True, max_length=40)
    grid_code: str = Field(primary_key=True, max_length=40)
    population: int = 0
    living_alone: int = 0
    lonely: int = 0
    disabled: int = 0
    bedridden: int = 0
    dibao: int = 0
    poor_household: int = 0
    orphan: int = 0
    child_in_difficulty: int = 0
    veteran: int = 0
    party_member: int = 0


class ResidentBirthTally(SQLModel, table=True):
    """Active residents per grid and birth year, for the age counts; kept like ResidentTally.
    The age counts read the years before a birth year from the birth-year index alone."""

    __table_args__ = (
        Index(
            "ix_residentbirthtally_year",
            "birth_year",
            "district",
            "community",
            "grid_code",
            postgresql_include=["population"],
        ),
    )

    district: str = Field(primary_key=True, max_length=40)
    community: str = Field(primary_key=True, max_length=40)
    grid_code: str = Field(primary_key=True, max_length=40)
    birth_year: int = Field(primary_key=True)
    population: int = 0


class HealthRecord(SQLModel, table=True):
    resident_id: str = Field(primary_key=True, foreign_key="resident.id", max_length=36)
    district: str = Field(max_length=40)
    community: str = Field(max_length=40)
    address: str = Field(max_length=200)
    children_phones: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    past_illnesses: str = Field(default="", max_length=2000)
    regular_medicines: str = Field(default="", max_length=2000)
    notes: str = Field(default="", max_length=4000)
    updated_at: datetime = Field(sa_type=UtcDateTime)


class HealthRecordRead(SQLModel, table=True):
    """Who read which health record, and when: written in the same transaction as the read."""

    id: int | None = Field(default=None, primary_key=True)
    district: str = Field(max_length=40, index=True)
    community: str = Field(max_length=40)
    resident_id: str = Field(max_length=36, index=True)
    reader: str = Field(max_length=100)
    reader_role: str = Field(max_length=30)
    read_at: datetime = Field(sa_type=UtcDateTime)


class CareGroup(Versioned, table=True):
    record_type = "care_group"
    record_label = "这个关爱小组"
    field_labels = {
        "community_worker": "社区工作者",
        "grid_worker": "网格员",
        "neighbour_name": "邻居",
        "neighbour_phone": "邻居电话",
        "visit_every_hours": "探访间隔（小时）",
        "call_every_days": "电话间隔（天）",
    }
    id: str = Field(primary_key=True, max_length=36)
    district: str = Field(max_length=40, index=True)
    community: str = Field(max_length=40)
    resident_id: str = Field(foreign_key="resident.id", max_length=36, unique=True)
    community_worker: str = Field(max_length=100)
    grid_worker: str = Field(max_length=100, index=True)
    neighbour_name: str = Field(max_length=100)
    neighbour_phone: str | None = Field(default=None, max_length=30)
    visit_every_hours: int = 24
    call_every_days: int = 7
    active: bool = True
    formed_at: datetime = Field(sa_type=UtcDateTime)


class VisitLog(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=36)
    district: str = Field(max_length=40, index=True)
    community: str = Field(max_length=40)
    resident_id: str = Field(foreign_key="resident.id", max_length=36, index=True)
    care_group_id: str | None = Field(default=None, foreign_key="caregroup.id", max_length=36)
    kind: str = Field(max_length=10)
    visitor: str = Field(max_length=100)
    visited_at: datetime = Field(sa_type=UtcDateTime, index=True)
    findings: str = Field(default="", max_length=4000)
    follow_up: str = Field(default="", max_length=4000)


class OverdueAlert(SQLModel, table=True):
    """One row per missed period: the unique key is what stops a second alert."""

    __table_args__ = (UniqueConstraint("care_group_id", "kind", "due_at"),)
    id: int | None = Field(default=None, primary_key=True)
    district: str = Field(max_length=40)
    community: str = Field(max_length=40)
    care_group_id: str = Field(foreign_key="caregroup.id", max_length=36)
    kind: str = Field(max_length=10)
    due_at: datetime = Field(sa_type=UtcDateTime)
    raised_at: datetime = Field(sa_type=UtcDateTime)
