"""Poll to a deadline instead of sleeping: tests wait for a condition, not for time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(check: Callable[[], Awaitable[T]], *, timeout: float = 20.0, every: float = 0.05) -> T:
    """Await `check` until it returns a truthy value or the deadline passes (then fail loudly)."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = await check()
        except AssertionError as error:
            last_error = error
        else:
            if result:
                return result
        await asyncio.sleep(every)
    raise AssertionError(f"condition not met within {timeout}s; last error: {last_error!r}")
