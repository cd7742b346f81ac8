"""What the notify API accepts and returns."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from linli_notify.domain import Language

ClockTime = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="Local time of day, HH:MM.")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PreferencesIn(Strict):
    display_name: str | None = Field(default=None, min_length=1, max_length=100)
    channels: list[Literal["inbox", "apprise", "sms"]] = Field(min_length=1, max_length=3)
    language: Language = Language.ZH
    quiet_start: str = ClockTime
    quiet_end: str = ClockTime
    timezone: str = Field(default="Asia/Shanghai", max_length=60)

    @field_validator("timezone")
    @classmethod
    def known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {value!r}") from error
        return value


class PreferencesOut(BaseModel):
    district: str
    community: str | None
    recipient: str
    display_name: str
    channels: list[str]
    language: str
    quiet_start: str
    quiet_end: str
    timezone: str
    updated_at: datetime


class PreviewIn(Strict):
    language: Language = Language.ZH
    data: dict[str, object] = Field(default_factory=dict, description="Overrides the template's sample data.")


class PreviewOut(BaseModel):
    template: str
    version: int
    language: str
    title: str
    body: str


class NotificationOut(BaseModel):
    id: int
    district: str
    community: str | None
    source_event_id: str
    event_type: str
    recipient: str
    template: str
    template_version: int | None
    language: str
    urgency: str
    rung: str | None
    title: str
    body: str
    created_at: datetime
    read_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    escalated_at: datetime | None
    escalation_of: int | None


class AcknowledgedOut(BaseModel):
    notification_id: int
    title: str
    acknowledged_at: datetime


class DeliveryOut(BaseModel):
    id: int
    district: str
    community: str | None
    notification_id: int
    source_event_id: str
    recipient: str
    template: str = Field(description="The template the message was rendered from…")
    template_version: int | None = Field(description="…and the version that template declared then.")
    channel: str
    urgent: bool
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
