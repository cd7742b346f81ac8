"""Dead letters: list them, show one, and replay them to the subject they were first published on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from nats.js import JetStreamContext
from nats.js.api import RawStreamMsg
from nats.js.errors import NotFoundError

from linli_shared.jetstream import DEAD_LETTER_PREFIX, DEAD_LETTER_STREAM, dead_letter_subject

ORIGINAL_SUBJECT = "Linli-Original-Subject"
REPLAYED_FROM = "Linli-Replayed-From"


class NoSuchDeadLetter(LookupError):
    """No dead letter at that sequence."""


@dataclass(frozen=True)
class DeadLetter:
    sequence: int
    consumer: str
    original_subject: str
    stored_at: datetime | None
    deliveries: int | None
    error: str
    data: bytes = field(repr=False)
    headers: dict[str, str] = field(repr=False)

    @classmethod
    def of(cls, message: RawStreamMsg) -> DeadLetter:
        headers = {key: str(value) for key, value in (message.headers or {}).items()}
        deliveries = headers.get("Linli-Deliveries", "")
        return cls(
            sequence=message.seq or 0,
            consumer=(message.subject or "").removeprefix(f"{DEAD_LETTER_PREFIX}."),
            original_subject=headers.get(ORIGINAL_SUBJECT, ""),
            stored_at=message.time,
            deliveries=int(deliveries) if deliveries.isdigit() else None,
            error=headers.get("Linli-Error", ""),
            data=message.data or b"",
            headers=headers,
        )


def letters_of(consumer: str | None) -> str:
    """The dead-letter subject of one consumer, or of all."""
    return dead_letter_subject(consumer) if consumer else f"{DEAD_LETTER_PREFIX}.>"


async def list_dead_letters(
    js: JetStreamContext, *, consumer: str | None = None, limit: int = 100
) -> list[DeadLetter]:
    """The oldest `limit` dead letters (of one consumer, if named), oldest first."""
    letters: list[DeadLetter] = []
    sequence = 1
    while len(letters) < limit:
        try:
            message = await js.get_msg(
                DEAD_LETTER_STREAM, seq=sequence, subject=letters_of(consumer), next=True
            )
        except NotFoundError:  # past the last one, or no dead-letter stream at all
            break
        letters.append(DeadLetter.of(message))
        sequence = (message.seq or sequence) + 1
    return letters


async def show_dead_letter(js: JetStreamContext, sequence: int) -> DeadLetter:
    try:
        message = await js.get_msg(DEAD_LETTER_STREAM, seq=sequence)
    except NotFoundError:
        raise NoSuchDeadLetter(f"no dead letter at sequence {sequence}") from None
    if not (message.subject or "").startswith(f"{DEAD_LETTER_PREFIX}."):
        raise NoSuchDeadLetter(f"sequence {sequence} holds no dead letter")
    return DeadLetter.of(message)


@dataclass(frozen=True)
class Replayed:
    sequence: int
    consumer: str
    subject: str
    stream: str
    stream_sequence: int


async def replay_dead_letter(js: JetStreamContext, sequence: int) -> Replayed:
    """Publish the letter's body again on its original subject, then delete the letter.

    Published without a Nats-Msg-Id, since JetStream would drop the event's own id as a duplicate
    for a day; every consumer of that subject receives it again and its inbox applies it at most
    once (the one that failed applies it now, the others see a duplicate). A replay cut short
    before the delete leaves the letter to be replayed again, harmlessly for the same reason."""
    letter = await show_dead_letter(js, sequence)
    if not letter.original_subject:
        raise NoSuchDeadLetter(f"dead letter {sequence} has no {ORIGINAL_SUBJECT} header to replay to")
    ack = await js.publish(
        letter.original_subject, letter.data, headers={REPLAYED_FROM: f"{DEAD_LETTER_STREAM}:{sequence}"}
    )
    await js.delete_msg(DEAD_LETTER_STREAM, sequence)
    return Replayed(sequence, letter.consumer, letter.original_subject, ack.stream, ack.seq)


async def replay_consumer_letters(
    js: JetStreamContext, consumer: str, *, limit: int = 10_000
) -> list[Replayed]:
    """Replay every dead letter of one consumer, oldest first."""
    return [
        await replay_dead_letter(js, letter.sequence)
        for letter in await list_dead_letters(js, consumer=consumer, limit=limit)
    ]
