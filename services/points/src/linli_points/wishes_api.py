"""HTTP routes of wishes: translate requests to use cases and results to responses."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1")
