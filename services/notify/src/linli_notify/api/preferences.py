"""Preferences: each contact's channels, language, quiet hours and time zone."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field, field_validator
from pydantic_core import PydanticCustomError

from linli_notify.domain import Language
from linli_notify.usecases import preferences
from linli_shared.auth import CallerDep
from linli_shared.clock import utc_now
from linli_shared.schema_types import Strict
from linli_shared.service import SessionDep
from linli_shared.unit_of_work import UnitOfWorkDep

router = APIRouter(prefix="/v1", tags=["preferences"])

ClockTime = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="Local time of day, HH:MM.")
RecipientPath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=120,
        description="A token subject, or resident:<id>, volunteer:<id>, role:<community>:<role>.",
    ),
]


class PreferencesIn(Strict):
    display_name: str | None = Field(default=None, min_length=1, max_length=100)
    channels: list[Literal["inbox", "apprise", "sms"]] = Field(min_length=1, max_length=3)
    language: Language = Language.ZH
    quiet_start: str = ClockTime
    quiet_end: str = ClockTime
    timezone: str = Field(default="Asia/Shanghai", max_length=60)
    announcements: bool = Field(
        default=False, description="Also send the community's public announcements: each 公示's hash."
    )

    @field_validator("timezone")
    @classmethod
    def known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise PydanticCustomError(
                "unknown_time_zone", "unknown time zone {zone}", {"zone": value}
            ) from error
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
    announcements: bool
    updated_at: datetime


@router.get("/contacts/{recipient}/preferences", response_model=PreferencesOut)
async def get_preferences(
    recipient: RecipientPath, session: SessionDep, caller: CallerDep, request: Request
) -> object:
    settings = request.app.state.settings
    contact = await preferences.get_preferences(session, caller, recipient, settings=settings, now=utc_now())
    return contact.model_dump()


@router.put("/contacts/{recipient}/preferences", response_model=PreferencesOut)
async def set_preferences(
    recipient: RecipientPath, data: PreferencesIn, uow: UnitOfWorkDep, caller: CallerDep, request: Request
) -> object:
    settings = request.app.state.settings
    contact = await preferences.set_preferences(uow, caller, recipient, data, settings=settings)
    return contact.model_dump()
