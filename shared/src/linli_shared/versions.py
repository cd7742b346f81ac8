"""Records workers correct: versioned, every change kept, a stale correction told what changed.

A model that subclasses `Versioned` has a `version` raised by every change (SQLAlchemy's version
counter: an update of a version another write has moved on from changes no row), and names itself
for its history (`record_type`) and for people (`record_label`, `field_labels`, in Chinese). A
correction is made on the version the worker read — the If-Match header or `version` in the body:

    made = await check_version(uow.session, item, seen)  # 428 without one, 409 if stale
    before = snapshot(item, FIELDS)
    ...set the fields...
    keep_change(uow, caller, item, "corrected", differences(before, snapshot(item, FIELDS)), version=made)

Each service's database has its own `record_change` table (`create_record_change_table`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from pydantic import BaseModel
from sqlalchemy import JSON, Column, Index
from sqlalchemy.orm import declared_attr
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_shared.auth import Caller
from linli_shared.clock import UtcDateTime
from linli_shared.errors import Conflict, DomainError, Invalid
from linli_shared.unit_of_work import Work


class Versioned(SQLModel):
    """A record workers correct; subclasses name it for its history and for people."""

    record_type: ClassVar[str]
    record_label: ClassVar[str]
    """How a message names the record, e.g. 这位居民的信息."""
    field_labels: ClassVar[dict[str, str]] = {}
    """The fields' names for people, e.g. {"full_name": "姓名"}."""

    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:  # noqa: N805 - SQLAlchemy calls it on the class
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]


class RecordChange(SQLModel, table=True):
    """One change of a record, as a worker can read it back: who, when, which version it made,
    and each field's value before and after. Written in the transaction of the change."""

    __tablename__ = "record_change"
    __table_args__ = (Index("ix_record_change_record", "record_type", "record_id", "version"),)
    id: int | None = Field(default=None, primary_key=True)
    record_type: str = Field(max_length=20)
    record_id: str = Field(max_length=36)
    district: str = Field(max_length=40)
    community: str = Field(max_length=40)
    version: int
    kind: str = Field(max_length=20)
    changes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    reason: str = Field(default="", max_length=500)
    changed_by: str = Field(max_length=100)
    changed_by_role: str = Field(max_length=30)
    changed_at: datetime = Field(sa_type=UtcDateTime)


class ChangeOut(BaseModel):
    version: int
    kind: str
    changes: dict[str, list[Any]] = Field(description="Each field changed, as [before, after].")
    reason: str
    changed_by: str
    changed_by_role: str
    changed_at: datetime


class VersionRequired(DomainError):
    status = 428
    title = "Precondition required"


def snapshot(record: Versioned, fields: tuple[str, ...]) -> dict[str, Any]:
    """The fields' values as they can be kept in JSON (dates and times as ISO text)."""
    values = {name: getattr(record, name) for name in fields}
    return {name: v.isoformat() if isinstance(v, date | datetime) else v for name, v in values.items()}


def differences(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """Each field whose value changed, as [before, after]."""
    return {name: [before[name], value] for name, value in after.items() if before.get(name) != value}


def place_of(record: Versioned) -> tuple[str, str, str]:
    """The record's id, district and community (every versioned record has them)."""
    values = record.model_dump(include={"id", "district", "community"})
    return str(values["id"]), str(values["district"]), str(values["community"])


def keep_change(
    uow: Work,
    caller: Caller,
    record: Versioned,
    kind: str,
    changes: dict[str, list[Any]],
    *,
    version: int | None = None,
    reason: str = "",
) -> None:
    """Add the change to the record's history, under the version it makes: `version`, or if not
    given the next one (so call it before a flush sends the change and raises the version)."""
    record_id, district, community = place_of(record)
    uow.session.add(
        RecordChange(
            record_type=record.record_type,
            record_id=record_id,
            district=district,
            community=community,
            version=version or record.version + 1,
            kind=kind,
            changes=changes,
            reason=reason,
            changed_by=caller.subject,
            changed_by_role=caller.role.value,
            changed_at=uow.now,
        )
    )


async def changes_since(
    session: AsyncSession, model: type[Versioned], record_id: str, version: int = 0
) -> list[RecordChange]:
    """The record's changes after `version`, oldest first."""
    statement = (
        select(RecordChange)
        .where(
            RecordChange.record_type == model.record_type,
            RecordChange.record_id == record_id,
            col(RecordChange.version) > version,
        )
        .order_by(col(RecordChange.version))
    )
    return list((await session.exec(statement)).all())


async def check_version(session: AsyncSession, record: Versioned, seen: int | None) -> int:
    """The version the change will make, if the record (read under lock) is still at the version
    the worker saw; a 428 if they sent none; otherwise the 409 that says what changed since."""
    if seen is None:
        raise VersionRequired(
            "请带上您看到的记录版本（If-Match 头，或请求里的 version），以免覆盖别人的修改。"
        )
    if record.version != seen:
        raise await stale(session, record, seen)
    return seen + 1


async def stale(session: AsyncSession, record: Versioned, seen: int) -> Conflict:
    """The 409 for a change made on a version someone has moved on from: what changed, by whom."""
    await session.refresh(record)
    since = await changes_since(session, type(record), place_of(record)[0], seen)
    labels = record.field_labels
    order = list(labels)
    fields = sorted(
        {name for change in since for name in change.changes},
        key=lambda name: (order.index(name) if name in order else len(order), name),
    )
    changed = "、".join(labels.get(name, name) for name in fields) or "记录"
    return Conflict(
        f"{record.record_label}已被他人修改（您看到的是第 {seen} 版，现在是第 {record.version} 版，"
        f"改动了：{changed}），请刷新后再改。",
        current_version=record.version,
        changes_since=[change_out(change) for change in since],
    )


def change_out(change: RecordChange) -> dict[str, Any]:
    return change.model_dump(mode="json", exclude={"id", "record_type", "record_id", "district", "community"})


def parse_if_match(if_match: str | None, fallback: int | None) -> int | None:
    """The version an If-Match header names (an ETag this API gave: "3" or W/"3"), else `fallback`."""
    if if_match is None:
        return fallback
    value = if_match.strip().removeprefix("W/").strip('"')
    if not value.isdigit() or len(value) > 9:
        raise Invalid(f'If-Match 应是本接口给出的 ETag，例如 "3"，收到的是 {if_match!r}')
    return int(value)


def etag(record: Versioned) -> str:
    return f'"{record.version}"'
