"""The notify service's tables. Every row carries its district and community."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from linli_shared.clock import UtcDateTime
from linli_shared.idempotency import IdempotencyRecord  # noqa: F401 - part of this database's schema
from linli_shared.inbox import InboxEntry  # noqa: F401 - part of this database's schema
from linli_shared.outbox import OutboxMessage  # noqa: F401 - part of this database's schema


class Contact(SQLModel, table=True):
    """Someone notifications go to, and how they like to get them: a read model plus their choices.

    `recipient` is a token subject (workers), resident:<id>, volunteer:<id>, guardian:<resident id>,
    neighbour:<care group id>, donor:<donation id> or role:<community>:<role>.
    """

    district: str = Field(primary_key=True, max_length=40)
    recipient: str = Field(primary_key=True, max_length=120)
    community: str | None = Field(default=None, max_length=40, index=True)
    display_name: str = Field(max_length=100)
    channels: list[str] = Field(
        default_factory=lambda: ["inbox", "sms"],
        sa_column=Column(JSON, nullable=False),
        description="Chosen channels; see linli_notify.domain.default_channels for the defaults.",
    )
    phone: str | None = Field(
        default=None, max_length=30, description="From the registry, for the SMS gateway; never shown."
    )
    contact_as_of: datetime | None = Field(
        default=None,
        sa_type=UtcDateTime,
        description="When the registry stated the phone and guardian applied here (events may come late).",
    )
    language: str = Field(default="zh", max_length=5)
    quiet_start: str = Field(default="22:00", max_length=5)
    quiet_end: str = Field(default="07:00", max_length=5)
    timezone: str = Field(default="Asia/Shanghai", max_length=60)
    token_subject: str | None = Field(
        default=None, max_length=100, index=True, description="A volunteer's own token subject, if known."
    )
    announcements: bool = Field(
        default=False, description="They asked for the community's public announcements (each 公示's hash)."
    )
    updated_at: datetime = Field(sa_type=UtcDateTime)


class CareGroup(SQLModel, table=True):
    """A three-person care group as the registry announced it: who to escalate to."""

    __tablename__ = "care_group"
    care_group_id: str = Field(primary_key=True, max_length=36)
    district: str = Field(max_length=40)
    community: str | None = Field(default=None, max_length=40)
    resident_id: str = Field(max_length=36)
    community_worker: str = Field(max_length=100)
    grid_worker: str = Field(max_length=100)
    neighbour_name: str = Field(max_length=100)


class KnownWish(SQLModel, table=True):
    """A wish as points announced it: its title, which later wish events do not repeat."""

    __tablename__ = "known_wish"
    wish_id: str = Field(primary_key=True, max_length=36)
    district: str = Field(max_length=40)
    community: str | None = Field(default=None, max_length=40)
    resident_id: str = Field(max_length=36)
    title: str = Field(max_length=200)


class Notification(SQLModel, table=True):
    """One message about one event to one recipient, rendered once in their language."""

    __table_args__ = (UniqueConstraint("source_event_id", "recipient"),)
    id: int | None = Field(default=None, primary_key=True)
    district: str = Field(max_length=40, index=True)
    community: str | None = Field(default=None, max_length=40)
    source_event_id: str = Field(max_length=64)
    event_type: str = Field(max_length=100)
    recipient: str = Field(max_length=120, index=True)
    template: str = Field(max_length=60)
    template_version: int | None = Field(default=None, description="The template's declared version.")
    language: str = Field(max_length=5)
    urgency: str = Field(max_length=10)
    rung: str | None = Field(default=None, max_length=40)
    title: str = Field(max_length=300)
    body: str = Field(sa_column=Column(Text, nullable=False))
    data: dict[str, object] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(sa_type=UtcDateTime)
    read_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    acknowledged_by: str | None = Field(default=None, max_length=100)
    escalated_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    escalation_of: int | None = Field(default=None, foreign_key="notification.id")


class Delivery(SQLModel, table=True):
    """One notification on one channel; the unique key makes each (event, recipient, channel) once."""

    __table_args__ = (UniqueConstraint("source_event_id", "recipient", "channel"),)
    id: int | None = Field(default=None, primary_key=True)
    district: str = Field(max_length=40, index=True)
    community: str | None = Field(default=None, max_length=40)
    notification_id: int = Field(foreign_key="notification.id", index=True)
    source_event_id: str = Field(max_length=64)
    recipient: str = Field(max_length=120)
    channel: str = Field(max_length=20)
    urgent: bool = False
    status: str = Field(default="pending", max_length=20, index=True)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UtcDateTime, index=True)
    last_error: str | None = Field(default=None, max_length=1000)
    created_at: datetime = Field(sa_type=UtcDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class WitnessedDisclosure(SQLModel, table=True):
    """The fund's published hash for a period, as first seen on the bus: a copy outside the fund's
    database. Append-only (the database refuses updates and deletes)."""

    __tablename__ = "witnessed_disclosure"
    __table_args__ = (UniqueConstraint("district", "community", "sequence"),)
    id: int | None = Field(default=None, primary_key=True)
    district: str = Field(max_length=40)
    community: str = Field(max_length=40)
    sequence: int
    first_day: date
    last_day: date
    sha256: str = Field(max_length=64)
    previous_sha256: str | None = Field(default=None, max_length=64)
    published_at: datetime = Field(sa_type=UtcDateTime, description="The event's occurred_at.")
    witnessed_at: datetime = Field(sa_type=UtcDateTime)
    source_event_id: str = Field(max_length=64)


class WitnessConflict(SQLModel, table=True):
    """Another hash announced for a period already witnessed: kept as evidence, never replacing the
    first. Append-only."""

    __tablename__ = "witness_conflict"
    __table_args__ = (UniqueConstraint("district", "community", "sequence", "sha256"),)
    id: int | None = Field(default=None, primary_key=True)
    district: str = Field(max_length=40)
    community: str = Field(max_length=40)
    sequence: int
    sha256: str = Field(max_length=64)
    witnessed_sha256: str = Field(max_length=64, description="The hash witnessed first, which stands.")
    published_at: datetime = Field(sa_type=UtcDateTime)
    witnessed_at: datetime = Field(sa_type=UtcDateTime)
    source_event_id: str = Field(max_length=64)


class DisclosureTimestamp(SQLModel, table=True):
    """An RFC 3161 time-stamp of a witnessed hash from the operator's authority, or the tries so far."""

    __tablename__ = "disclosure_timestamp"
    witness_id: int = Field(primary_key=True, foreign_key="witnessed_disclosure.id")
    token: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    timestamped_at: datetime | None = Field(
        default=None, sa_type=UtcDateTime, description="The token's time."
    )
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UtcDateTime)
    last_error: str | None = Field(default=None, max_length=1000)
