"""The points service's tables. Every row carries its district and community."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from linli_shared.clock import UtcDateTime
from linli_shared.idempotency import IdempotencyRecord  # noqa: F401 - part of this database's schema
from linli_shared.inbox import InboxEntry  # noqa: F401 - part of this database's schema
from linli_shared.outbox import OutboxMessage  # noqa: F401 - part of this database's schema


class KnownResident(SQLModel, table=True):
    """Residents as the registry announced them: this service's read model, fed by its inbox."""

    __tablename__ = "known_resident"
    resident_id: str = Field(primary_key=True, max_length=36)
    district: str = Field(max_length=40, index=True)
    community: str = Field(max_length=40)
    full_name: str = Field(max_length=100)
    party_member: bool = False
    status: str = Field(default="active", max_length=20)
    updated_at: datetime = Field(sa_type=UtcDateTime)


class Team(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=36)
    district: str = Field(max_length=40, index=True)
    community: str = Field(max_length=40)
    name: str = Field(max_length=100)
    kind: str = Field(max_length=30)


class Volunteer(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("district", "subject"),)
    id: str = Field(primary_key=True, max_length=36)
    district: str = Field(max_length=40, index=True)
    community: str = Field(max_length=40)
    subject: str = Field(max_length=100, description="The subject of the volunteer's own token.")
    full_name: str = Field(max_length=100)
    resident_id: str | None = Field(default=None, max_length=36)
    team_id: str | None = Field(default=None, foreign_key="team.id", max_length=36)
    party_member: bool = False
    skills: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    enrolled_at: datetime = Field(sa_type=UtcDateTime)


class PointsAccount(SQLModel, table=True):
    """The spendable balance; the database refuses a negative one whatever the code does."""

    __tablename__ = "points_account"
    __table_args__ = (CheckConstraint("balance >= 0", name="balance_never_negative"),)
    volunteer_id: str = Field(primary_key=True, foreign_key="volunteer.id", max_length=36)
    district: str = Field(max_length=40)
    community: str = Field(max_length=40)
    balance: int = 0


class PointsEntry(SQLModel, table=True):
    """The append-only points ledger: one row per credit or debit, with the balance after it."""

    __tablename__ = "points_entry"
    id: int | None = Field(default=None, primary_key=True)
    district: str = Field(max_length=40)
    community: str = Field(max_length=40)
    volunteer_id: str = Field(foreign_key="volunteer.id", max_length=36, index=True)
    kind: str = Field(max_length=20)
    points: int
    balance_after: int
    reason: str = Field(max_length=500)
    actor: str = Field(max_length=100)
    reference: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(sa_type=UtcDateTime)


class Item(SQLModel, table=True):
    """A good in a community's love supermarket; stock can never go below zero."""

    __table_args__ = (
        CheckConstraint("stock >= 0", name="stock_never_negative"),
        CheckConstraint("points_price > 0", name="price_positive"),
    )
    id: str = Field(primary_key=True, max_length=36)
    district: str = Field(max_length=40, index=True)
    community: str = Field(max_length=40)
    name: str = Field(max_length=100)
    points_price: int
    stock: int = 0
    monthly_limit: int | None = None
    low_stock_threshold: int = 0
    active: bool = True


class StockIntake(SQLModel, table=True):
    __tablename__ = "stock_intake"
    id: str = Field(primary_key=True, max_length=36)
    district: str = Field(max_length=40)
    community: str = Field(max_length=40)
    item_id: str = Field(foreign_key="item.id", max_length=36, index=True)
    quantity: int
    source: str = Field(max_length=20)
    note: str = Field(default="", max_length=500)
    received_by: str = Field(max_length=100)
    received_at: datetime = Field(sa_type=UtcDateTime)


class Redemption(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=36)
    district: str = Field(max_length=40, index=True)
    community: str = Field(max_length=40)
    item_id: str = Field(foreign_key="item.id", max_length=36)
    volunteer_id: str = Field(foreign_key="volunteer.id", max_length=36, index=True)
    quantity: int
    points: int
    status: str = Field(default="reserved", max_length=20)
    pickup_code: str = Field(max_length=12)
    redeemed_at: datetime = Field(sa_type=UtcDateTime)
    settled_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
