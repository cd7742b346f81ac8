"""What the service-hours routes accept and return."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field, model_validator
from pydantic_core import PydanticCustomError

from linli_points.domain import hours
from linli_points.domain.hours import Rounding
from linli_shared.schema_types import Strict

MAX_ATTENDEES = 10_000
"""As many as an activity can take."""


class AttendanceIn(Strict):
    volunteer_id: str = Field(max_length=36)
    minutes: int = Field(gt=0, le=hours.MAX_ACTIVITY_MINUTES, description="At most the activity's window.")
    note: str = Field(default="", max_length=500)


class AttendanceBatchIn(Strict):
    """Everyone who served at an activity, confirmed together: all or none."""

    attendees: list[AttendanceIn] = Field(
        min_length=1, max_length=MAX_ATTENDEES, description="Each volunteer at most once."
    )

    @model_validator(mode="after")
    def each_once(self) -> AttendanceBatchIn:
        seen: set[str] = set()
        for index, line in enumerate(self.attendees):
            if line.volunteer_id in seen:
                raise PydanticCustomError(
                    "listed_twice",
                    "attendee {position}: volunteer {volunteer} is listed twice",
                    {"position": index + 1, "volunteer": line.volunteer_id},
                )
            seen.add(line.volunteer_id)
        return self


class LateServiceIn(Strict):
    """Hours served outside any activity, entered afterwards by an administrator."""

    volunteer_id: str = Field(max_length=36)
    served_on: date = Field(description="The day served, not in the future (China time).")
    minutes: int = Field(gt=0, le=hours.MAX_ACTIVITY_MINUTES)
    earns_points: bool = Field(default=True, description="False records the hours without points.")
    points_per_hour: int = Field(default=10, ge=0, le=1000)
    rounding: Rounding = Rounding.DOWN
    daily_points_cap: int | None = Field(default=None, ge=0, le=100_000)
    note: str = Field(default="", max_length=500)


class ServiceRecordOut(BaseModel):
    id: str
    district: str
    community: str
    volunteer_id: str
    activity_id: str | None
    served_on: date
    minutes: int
    hours: float
    earns_points: bool
    points_awarded: int
    note: str
    recorded_by: str
    recorded_at: datetime


class AttendanceBatchOut(BaseModel):
    id: str = Field(description="The batch's id; a repeated Idempotency-Key answers with the same batch.")
    activity_id: str
    count: int
    points_awarded: int = Field(description="All the batch's records together.")
    records: list[ServiceRecordOut] = Field(description="One per attendee, by volunteer id.")


class ServiceLineOut(BaseModel):
    record_id: str
    served_on: date
    activity_id: str | None
    activity_title: str | None
    activity_kind: str | None
    minutes: int
    hours: float
    earns_points: bool
    points_awarded: int


class ServiceSummaryOut(BaseModel):
    volunteer_id: str
    full_name: str
    district: str
    community: str
    total_minutes: int
    total_hours: float
    points_from_service: int
    activity_count: int
    records: list[ServiceLineOut]


class CertificateOut(BaseModel):
    serial: str
    district: str
    community: str
    volunteer_id: str
    volunteer_name: str
    total_minutes: int
    total_hours: float
    issued_by: str
    issued_at: datetime
    verify_path: str
    print_path: str


class CertificateCheckOut(BaseModel):
    """What anyone holding a serial may learn: enough to check a paper, nothing more."""

    serial: str
    volunteer_name: str
    community: str
    total_hours: float
    issued_at: datetime
