"""The tables of accounts and sign-in: who may sign in, with which roles, and what they hold."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from linli_shared.clock import UtcDateTime


class Account(SQLModel, table=True):
    """A person who signs in: a worker, an officer, a volunteer or a resident. `district` and
    `community` say which admins manage the account (None above that level)."""

    __tablename__ = "person_account"  # not account: table names are unique across services (fund's chart)
    id: str = Field(primary_key=True, max_length=36)
    phone: str = Field(max_length=30, unique=True)
    display_name: str = Field(max_length=100)
    password_hash: str | None = Field(default=None, max_length=300)
    resident_id: str | None = Field(default=None, foreign_key="resident.id", max_length=36)
    volunteer_id: str | None = Field(default=None, max_length=36)
    district: str | None = Field(default=None, max_length=40, index=True)
    community: str | None = Field(default=None, max_length=40)
    disabled: bool = False
    created_at: datetime = Field(sa_type=UtcDateTime)
    created_by: str = Field(max_length=100)


class RoleGrant(SQLModel, table=True):
    """A role an account holds over a scope. Never deleted: a withdrawal sets the withdrawn_*
    columns once, so the rows are the audit trail of every grant and withdrawal."""

    __table_args__ = (Index("ix_role_grant_scope", "district", "community", "id"),)
    id: str = Field(primary_key=True, max_length=36)
    account_id: str = Field(foreign_key="person_account.id", max_length=36, index=True)
    role: str = Field(max_length=30)
    district: str | None = Field(default=None, max_length=40)
    community: str | None = Field(default=None, max_length=40)
    granted_at: datetime = Field(sa_type=UtcDateTime)
    granted_by: str = Field(max_length=100)
    granted_by_role: str = Field(max_length=30)
    withdrawn_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    withdrawn_by: str | None = Field(default=None, max_length=100)
    withdrawn_by_role: str | None = Field(default=None, max_length=30)


class RefreshToken(SQLModel, table=True):
    """A refresh token, by the SHA-256 of its text only. Each use rotates it within its family;
    a rotated token used again revokes the whole family."""

    id: str = Field(primary_key=True, max_length=36)
    token_hash: str = Field(max_length=64, unique=True)
    family_id: str = Field(max_length=36, index=True)
    account_id: str = Field(foreign_key="person_account.id", max_length=36, index=True)
    grant_id: str = Field(foreign_key="rolegrant.id", max_length=36, index=True)
    issued_at: datetime = Field(sa_type=UtcDateTime)
    expires_at: datetime = Field(sa_type=UtcDateTime)
    rotated_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class SignInAttempt(SQLModel, table=True):
    """Every sign-in attempt, by phone and by client address: what the lock-out counts."""

    __table_args__ = (
        Index("ix_sign_in_attempt_phone", "phone", "at"),
        Index("ix_sign_in_attempt_address", "address", "at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    phone: str = Field(max_length=30)
    address: str = Field(max_length=64)
    at: datetime = Field(sa_type=UtcDateTime)
    ok: bool


class SignInCode(SQLModel, table=True):
    """A one-time code sent by SMS, by its keyed hash only."""

    __table_args__ = (
        Index("ix_sign_in_code_phone", "phone", "created_at"),
        Index("ix_sign_in_code_address", "address", "created_at"),
    )
    id: str = Field(primary_key=True, max_length=36)
    phone: str = Field(max_length=30)
    address: str = Field(default="", max_length=64, description="The client address that asked for it.")
    code_hash: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UtcDateTime)
    expires_at: datetime = Field(sa_type=UtcDateTime)
    tries: int = 0
    used_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
