"""Message templates: their names, and a preview of each in either language."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from linli_notify.domain import Language
from linli_notify.rendering import template_names
from linli_notify.usecases.templates import preview
from linli_shared.auth import CallerDep
from linli_shared.schema_types import Strict

router = APIRouter(prefix="/v1", tags=["templates"])

TemplateName = Annotated[str, Path(pattern=r"^[a-z_]{1,60}$")]


class PreviewIn(Strict):
    language: Language = Language.ZH
    data: dict[str, object] = Field(default_factory=dict, description="Overrides the template's sample data.")


class PreviewOut(BaseModel):
    template: str
    version: int
    language: str
    title: str
    body: str


@router.get("/templates", response_model=list[str])
async def list_templates(caller: CallerDep) -> object:
    return template_names()


@router.post("/templates/{name}/preview", response_model=PreviewOut)
async def preview_template(name: TemplateName, data: PreviewIn, caller: CallerDep) -> object:
    rendered = preview(name, data.language, data.data)
    return PreviewOut(
        template=name,
        version=rendered.version,
        language=data.language.value,
        title=rendered.title,
        body=rendered.body,
    )
