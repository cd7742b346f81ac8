"""What JetStream knows: each durable consumer's lag and each consumer's dead letters."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import nats
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from linli_shared.jetstream import DEAD_LETTER_PREFIX, DEAD_LETTER_STREAM
from linli_shared.ops.targets import Unreachable

CONNECT_SECONDS = 3.0
"""nats-py retries a refused connection for minutes whatever its options say: the tool stops sooner."""
REQUEST_SECONDS = 3.0


async def _quiet(*_: object) -> None:
    """nats-py prints every connection error itself; the tool says it once, in one line."""


@asynccontextmanager
async def jetstream(url: str) -> AsyncIterator[JetStreamContext]:
    """A JetStream context on `url`, or Unreachable within CONNECT_SECONDS."""
    try:
        client = await asyncio.wait_for(
            nats.connect(
                url,
                connect_timeout=CONNECT_SECONDS,
                allow_reconnect=False,
                max_reconnect_attempts=0,
                error_cb=_quiet,
            ),
            CONNECT_SECONDS,
        )
    except TimeoutError:
        raise Unreachable(f"NATS at {url} does not answer within {CONNECT_SECONDS:g} s") from None
    except Exception as error:
        raise Unreachable(f"NATS at {url} does not answer ({type(error).__name__})") from None
    try:
        yield client.jetstream(timeout=REQUEST_SECONDS)
    finally:
        await client.close()


@dataclass(frozen=True)
class ConsumerLag:
    stream: str
    durable: str
    pending: int
    """messages in the stream not yet delivered to this consumer"""
    ack_pending: int
    """delivered and not yet acknowledged"""
    redelivered: int


async def consumer_lags(js: JetStreamContext) -> list[ConsumerLag]:
    """Every durable consumer of every Linli event stream, by stream then name."""
    lags = []
    for stream in await js.streams_info():
        name = stream.config.name or ""
        if not name.startswith("LINLI_") or name == DEAD_LETTER_STREAM:
            continue
        for info in await js.consumers_info(name):
            lags.append(
                ConsumerLag(
                    stream=name,
                    durable=info.config.durable_name or info.name,
                    pending=info.num_pending or 0,
                    ack_pending=info.num_ack_pending or 0,
                    redelivered=info.num_redelivered or 0,
                )
            )
    return sorted(lags, key=lambda lag: (lag.stream, lag.durable))


async def dead_letter_counts(js: JetStreamContext) -> dict[str, int]:
    """Dead letters held per consumer (durable name); none at all if the stream was never made."""
    try:
        info = await js.stream_info(DEAD_LETTER_STREAM, subjects_filter=f"{DEAD_LETTER_PREFIX}.>")
    except NotFoundError:
        return {}
    subjects = info.state.subjects or {}
    return {
        subject.removeprefix(f"{DEAD_LETTER_PREFIX}."): count for subject, count in sorted(subjects.items())
    }
