"""A limit on the size of a request body, enforced before the body is read in full.

A declared Content-Length over the limit is refused at once, the app never called; a body without
one (chunked) is counted as it streams and cut off at the limit, so no more than the limit of it is
ever held. Either way the answer is a 413 problem+json, and what is left of the body is never
handed to the app.

A route that takes more (a batch) says so with FastAPI's own `max_body_size=` on its decorator;
the limit of the route a request is for is found before routing, from its method and path.
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi.routing import APIRoute
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from linli_shared.errors import problem
from linli_shared.language import language_of

STATUS = 413
TITLE = "Content too large"
BATCH_BODY_BYTES = 8 * 1024 * 1024
"""What a batch route (a collection box's 5,000 gifts, an activity's 10,000 attendees) takes: a
full batch with every field filled is 1.5 MB; one whose free text is all at its longest must be split."""


def refusal(limit: int, language: str = "en") -> str:
    if language == "zh":
        return f"提交的内容太大：这个接口最多接受 {limit} 字节"
    return f"the request body is larger than {limit} bytes, the most this route takes"


class BodyTooLarge(HTTPException):
    """Raised from `receive` when a streamed body passes the limit; a subclass of HTTPException,
    so FastAPI's body parsing lets it through rather than turning it into a 400."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=STATUS, detail=refusal(limit))


class BodyLimit:
    """Refuses request bodies over `max_bytes` (or over the route's own `max_body_size`) with 413."""

    def __init__(self, app: ASGIApp, max_bytes: int, routes: Iterable[BaseRoute] = ()) -> None:
        if max_bytes < 0:
            raise ValueError("max_bytes must not be negative")
        self.app = app
        self.max_bytes = max_bytes
        self.own_limits = [
            (route, route.max_body_size)
            for route in routes
            if isinstance(route, APIRoute) and route.max_body_size is not None
        ]

    def limit_for(self, scope: Scope) -> int:
        for route, limit in self.own_limits:
            if route.matches(scope)[0] is Match.FULL:
                return limit
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        declared = declared_length(scope)
        if declared is not None and declared > limit:
            await refuse(limit, scope, receive, send)
            return
        await LimitedRequest(self.app, limit)(scope, receive, send)


class LimitedRequest:
    """One request whose body is counted as the app receives it."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.received = 0
        self.exceeded = False
        self.response_started = False
        self.refused = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def receive_counted() -> Message:
            if self.exceeded:  # never take more of the body once it is over the limit
                raise BodyTooLarge(self.limit)
            message = await receive()
            if message["type"] == "http.request":
                self.received += len(message.get("body", b""))
                if self.received > self.limit:
                    self.exceeded = True
                    raise BodyTooLarge(self.limit)
            return message

        async def send_or_refuse(message: Message) -> None:
            if self.exceeded and not self.response_started:
                # whatever the app answers to the exception, the caller gets the one 413
                if not self.refused:
                    self.refused = True
                    await refuse(self.limit, scope, receive, send)
                return
            if message["type"] == "http.response.start":
                self.response_started = True
            await send(message)

        try:
            await self.app(scope, receive_counted, send_or_refuse)
        except BodyTooLarge:
            if self.response_started:
                raise
            if not self.refused:
                self.refused = True
                await refuse(self.limit, scope, receive, send)


def declared_length(scope: Scope) -> int | None:
    raw = Headers(scope=scope).get("content-length")
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        return None  # the server refuses a malformed length itself


async def refuse(limit: int, scope: Scope, receive: Receive, send: Send) -> None:
    """413 problem+json. The connection is kept: the server discards what still comes of the body
    as it arrives, never holding it, and the caller reads the answer. (Closing it instead resets a
    caller still sending, who then never sees the 413.)"""
    language = language_of(Headers(scope=scope).get("accept-language"))
    await problem(STATUS, TITLE, refusal(limit, language), max_bytes=limit)(scope, receive, send)
