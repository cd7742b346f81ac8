"""What every correction request takes, in every service: the fields it changes, the version it
was made on (If-Match or `version`) and why (linli_shared.versions keeps and checks them)."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Self

from fastapi import Header
from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from linli_shared.schema_types import Strict

IfMatch = Annotated[str | None, Header(description='The ETag the record was read with, e.g. "3".')]
Version: Any = Field(
    default=None, ge=1, description="The version you last read, when the request has no If-Match."
)
Reason: Any = Field(default="", max_length=500, description="Why, for the record's history.")


class Correction(Strict):
    """Only the fields named change; a nullable field sent as null is cleared."""

    unclearable: ClassVar[tuple[str, ...]] = ()
    """Fields a correction may change but not clear."""
    version: int | None = Version
    reason: str = Reason

    @model_validator(mode="after")
    def not_cleared(self) -> Self:
        named = self.model_fields_set
        cleared = [name for name in self.unclearable if name in named and getattr(self, name) is None]
        if cleared:
            raise PydanticCustomError(
                "cannot_clear", "these fields cannot be cleared: {fields}", {"fields": ", ".join(cleared)}
            )
        return self
