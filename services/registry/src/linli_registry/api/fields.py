"""Field types the registry's request and response models share."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query
from pydantic import Field

from linli_shared.schema_types import Code

__all__ = [
    "PHONE_PATTERN",
    "Code",
    "CodeQuery",
    "GuardianName",
    "GuardianRelation",
    "Name",
    "OptionalCode",
    "Phone",
]

Name: Any = Field(min_length=1, max_length=100)
# Digits in groups split by one space or hyphen, an optional leading +: 13800138000, 010-6512 3456.
PHONE_PATTERN = r"^\+?[0-9]+([ -][0-9]+)*$"
Phone: Any = Field(default=None, pattern=PHONE_PATTERN, min_length=3, max_length=30)
GuardianName: Any = Field(
    default=None, min_length=1, max_length=100, description="Who answers for the resident."
)
GuardianRelation: Any = Field(
    default=None, min_length=1, max_length=20, description="e.g. 儿子, 奶奶, 监护人."
)
OptionalCode: Any = Field(default=None, pattern=r"^[a-z0-9_-]+$", max_length=40)

CodeQuery = Annotated[str, Query(pattern=r"^[a-z0-9_-]+$", max_length=40)]
"""A district or community code in a query string."""
