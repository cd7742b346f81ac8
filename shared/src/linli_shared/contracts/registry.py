"""What the registry publishes: residents and their care."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from pydantic import Field

from linli_shared.events import Event


class RegistryEvent(Event):
    service: ClassVar[str] = "registry"


class ResidentFacts(RegistryEvent):
    """Who a resident is, as a registration states it and a correction states it again, whole."""

    resident_id: str
    community: str
    grid_code: str | None = None
    full_name: str
    birth_date: date
    id_number_masked: str = Field(description="e.g. 110105********123X; never the full number.")
    tags: list[str] = Field(description="Care attributes such as living_alone, dibao, orphan.")


class ResidentRegistered(ResidentFacts):
    """A resident was entered in the registry. The national ID appears only masked."""

    name: ClassVar[str] = "resident.registered"


class ResidentCorrected(ResidentFacts):
    """A worker corrected a resident's record (a misspelt name, the grid, the household, the ID
    number): the facts as they stand now, whole, and which of the record's fields changed."""

    name: ClassVar[str] = "resident.corrected"
    household_id: str | None = None
    version: int = Field(description="The record's version after this correction; each change raises it.")
    changed: list[str] = Field(description="The fields corrected, e.g. full_name, grid_code.")


class ResidentTagsChanged(RegistryEvent):
    """The care attributes of a resident changed."""

    name: ClassVar[str] = "resident.tags_changed"
    resident_id: str
    tags: list[str]


class ResidentMovedOut(RegistryEvent):
    """A resident moved out of the community."""

    name: ClassVar[str] = "resident.moved_out"
    resident_id: str
    on: date


class ResidentDied(RegistryEvent):
    """A resident died."""

    name: ClassVar[str] = "resident.died"
    resident_id: str
    on: date


class ResidentContactChanged(RegistryEvent):
    """How to reach a resident and their guardian: sent on registration and whenever it changes.

    Carries phone numbers, so only services that must reach people (notify) should consume it.
    A field that is None means "none on record", not "unchanged": the event states the whole contact.
    """

    name: ClassVar[str] = "resident.contact_changed"
    resident_id: str
    community: str
    grid_code: str | None = None
    full_name: str
    phone: str | None = None
    guardian_name: str | None = Field(default=None, description="Who answers for the resident, if anyone.")
    guardian_relation: str | None = Field(default=None, description="e.g. 儿子, 女儿, 监护人.")
    guardian_phone: str | None = None


class CareGroupFacts(RegistryEvent):
    """Who is in a care group and how often they look in: as formed, and again, whole, when it changes."""

    care_group_id: str
    resident_id: str
    community_worker: str
    grid_worker: str
    neighbour_name: str
    neighbour_phone: str | None = Field(
        default=None, description="The neighbour's phone, so an urgent alert can reach them (first rung)."
    )
    visit_every_hours: int
    call_every_days: int


class CareGroupFormed(CareGroupFacts):
    """A three-person care group was formed around an elder."""

    name: ClassVar[str] = "care.group.formed"


class CareGroupChanged(CareGroupFacts):
    """A care group's people or rhythm changed (a neighbour moved away, another grid worker took
    over): the group as it stands now, and which of its fields changed."""

    name: ClassVar[str] = "care.group.changed"
    version: int = Field(description="The group's version after this change; each change raises it.")
    changed: list[str]


class HouseholdCorrected(RegistryEvent):
    """A household's address, grid or head (户主) was corrected: the household as it stands now."""

    name: ClassVar[str] = "household.corrected"
    household_id: str
    community: str
    grid_code: str | None = None
    address: str
    head_resident_id: str | None = None
    version: int
    changed: list[str]


class VisitLogged(RegistryEvent):
    """Someone visited or phoned a resident and wrote down what they found."""

    name: ClassVar[str] = "care.visit.logged"
    visit_id: str
    resident_id: str
    care_group_id: str | None
    kind: str
    visitor: str
    visited_at: datetime


class VisitOverdue(RegistryEvent):
    """A care group missed a visit or call period; raised once per missed period."""

    name: ClassVar[str] = "care.visit.overdue"
    care_group_id: str
    resident_id: str
    kind: str = Field(description="visit or call")
    due_at: datetime = Field(description="End of the missed period.")
    grid_worker: str
    community_worker: str


class UrgentFindingReported(RegistryEvent):
    """A visit or call found something that cannot wait (a fall, no food, a fever): the care group's
    workers hear of it at once. Recorded with the visit's `care.visit.logged`, in its transaction."""

    name: ClassVar[str] = "care.visit.urgent_finding"
    care_group_id: str | None = Field(description="The elder's care group, if any.")
    resident_id: str
    visit_id: str
    visitor: str = Field(description="The token subject of who logged the visit.")
    findings: str = Field(description="What the visitor found, as written.")
    grid_worker: str | None = Field(description="The care group's grid worker (token subject), if any.")
    community_worker: str | None = Field(description="The care group's community worker, if any.")
    district: str
    community: str


class SignInCodeRequested(RegistryEvent):
    """Someone asked to sign in by SMS: notify sends the code to the phone. The code travels only
    encrypted (Fernet, under LINLI_SIGN_IN_CODE_KEY, which only the registry and notify hold)."""

    name: ClassVar[str] = "account.sign_in_code_requested"
    account_id: str
    phone: str
    community: str | None = Field(default=None, description="The account's community: its SMS gateway.")
    code_encrypted: str = Field(description="The six-digit code, Fernet-encrypted; never in plain text.")
    expires_at: datetime


class PlaceNamed(RegistryEvent):
    """A district or a community got its name (when created, and again if renamed), so services
    that head their pages with a place say 高桥营街道 · 东李庄社区, not its codes. A district's event
    has no community; a community's carries its district's name too."""

    name: ClassVar[str] = "place.named"
    district: str
    district_name: str = Field(description="e.g. 高桥营街道.")
    community: str | None = Field(default=None, description="None when the event names a district.")
    community_name: str | None = Field(default=None, description="e.g. 东李庄社区; None for a district.")
