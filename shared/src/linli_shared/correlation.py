"""The correlation id: one per piece of work, from the HTTP request that started it, through every
event it causes and the work those events cause in other services, into every log line on the way.

A request brings its own in X-Correlation-ID (a gateway, a retrying client) or is given a new one,
which the response sends back. The unit of work puts the current id in each event's envelope; the
inbox makes an event's id current while it applies it.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Correlation-ID"
ACCEPTED = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
"""What a caller's id may look like; anything else (too long, odd characters) is replaced."""
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(correlation_id)s] %(message)s"

_current: ContextVar[str | None] = ContextVar("linli_correlation_id", default=None)


def current_correlation_id() -> str | None:
    return _current.get()


@contextmanager
def correlated(correlation_id: str | None) -> Iterator[None]:
    """Make `correlation_id` current for the work inside (an event being applied)."""
    token = _current.set(correlation_id)
    try:
        yield
    finally:
        _current.reset(token)


class CorrelationMiddleware:
    """Gives every HTTP request its correlation id and sends it back on the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(HEADER.lower().encode(), b"").decode("latin-1")
        correlation_id = given if ACCEPTED.match(given) else uuid.uuid4().hex

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((HEADER.lower().encode(), correlation_id.encode()))
            await send(message)

        with correlated(correlation_id):
            await self.app(scope, receive, send_with_id)


class CorrelationFilter(logging.Filter):
    """Adds `correlation_id` to every record ("-" outside any piece of work)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = _current.get() or "-"
        return True


def configure_logging(level: int = logging.INFO) -> None:
    """Log lines with their correlation id, on the root logger's handlers (once per process)."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=level, format=LOG_FORMAT)
    for handler in root.handlers:
        if not any(isinstance(f, CorrelationFilter) for f in handler.filters):
            handler.addFilter(CorrelationFilter())
