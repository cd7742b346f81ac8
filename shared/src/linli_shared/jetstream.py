"""JetStream streams and durable consumers, declared once here and provisioned idempotently."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    DiscardPolicy,
    ExternalStream,
    RetentionPolicy,
    StorageType,
    StreamConfig,
    StreamSource,
)
from nats.js.errors import NotFoundError

from linli_shared.events import SUBJECT_ROOT, service_subjects

log = logging.getLogger(__name__)

DAY = 24 * 60 * 60
DUPLICATE_WINDOW_SECONDS = DAY
"""JetStream drops a repeated Nats-Msg-Id for a day; the consumers' inbox covers the rest."""

DEAD_LETTER_STREAM = "LINLI_DEAD_LETTER"
DEAD_LETTER_PREFIX = f"{SUBJECT_ROOT}_dead_letter"  # outside linli.> so no event stream overlaps it


def stream_name(service: str) -> str:
    return f"LINLI_{service.upper()}"


def dead_letter_subject(consumer: str) -> str:
    return f"{DEAD_LETTER_PREFIX}.{consumer}"


def event_stream_config(service: str, *, replicas: int = 1) -> StreamConfig:
    """One stream per producing service: file storage, limits retention, a day of dedup; on a
    cluster, `replicas` copies on as many servers (3 survives the loss of one)."""
    return StreamConfig(
        name=stream_name(service),
        num_replicas=replicas,
        subjects=[service_subjects(service)],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        discard=DiscardPolicy.OLD,
        max_age=365 * DAY,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
    )


def city_stream_name(service: str) -> str:
    return f"LINLI_CITY_{service.upper()}"


def city_stream_config(service: str, districts: list[str], *, replicas: int = 3) -> StreamConfig:
    """The hub's city-wide stream of one service: it sources that service's stream from every
    district's JetStream domain, keeping each event's subject and Nats-Msg-Id."""
    return StreamConfig(
        name=city_stream_name(service),
        num_replicas=replicas,
        sources=[
            StreamSource(name=stream_name(service), external=ExternalStream(api=f"$JS.{district}.API"))
            for district in districts
        ],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        max_age=365 * DAY,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
    )


def dead_letter_stream_config(*, replicas: int = 1) -> StreamConfig:
    return StreamConfig(
        name=DEAD_LETTER_STREAM,
        num_replicas=replicas,
        subjects=[f"{DEAD_LETTER_PREFIX}.>"],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        max_age=365 * DAY,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
    )


@dataclass(frozen=True)
class DurableConsumer:
    """A durable pull consumer shared by every replica of one consuming service."""

    stream: str
    durable: str
    filter_subject: str
    max_deliver: int = 5
    ack_wait_seconds: float = 30.0
    max_ack_pending: int = 1000

    @classmethod
    def of_events(cls, producer: str, *, consumer: str) -> DurableConsumer:
        """The durable through which the `consumer` service reads every event of `producer`."""
        return cls(
            stream=stream_name(producer),
            durable=f"{consumer}-{producer}",
            filter_subject=service_subjects(producer),
        )

    def in_district(self, district: str) -> DurableConsumer:
        """The same consumer for a service that serves one district: it reads that district's
        events only, through a durable of its own (districts may share a cluster)."""
        root, _, rest = self.filter_subject.split(".", 2)
        return replace(self, durable=f"{self.durable}-{district}", filter_subject=f"{root}.{district}.{rest}")

    def config(self) -> ConsumerConfig:
        return ConsumerConfig(
            durable_name=self.durable,
            filter_subject=self.filter_subject,
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self.ack_wait_seconds,
            max_deliver=self.max_deliver,
            max_ack_pending=self.max_ack_pending,
        )


async def ensure_stream(js: JetStreamContext, config: StreamConfig) -> None:
    """Create the stream, or bring an existing one to this configuration (its replica count too:
    the server adds or removes copies)."""
    assert config.name
    try:
        await js.stream_info(config.name)
    except NotFoundError:
        await js.add_stream(config)
        log.info("created stream %s", config.name)
        return
    await js.update_stream(config)


async def ensure_consumer(js: JetStreamContext, consumer: DurableConsumer) -> None:
    """Create the durable consumer, or update its mutable settings (ack wait, max deliver…)."""
    await js.add_consumer(consumer.stream, consumer.config())


async def replay_consumer(js: JetStreamContext, consumer: DurableConsumer) -> None:
    """Start the durable consumer again from the stream's first message.

    For a database that has applied nothing yet (new, or restored empty) behind a consumer that
    acknowledged events long ago: without this the new database would never see them.
    """
    try:
        await js.delete_consumer(consumer.stream, consumer.durable)
        log.warning(
            "consumer %s replays %s from the start for a fresh database", consumer.durable, consumer.stream
        )
    except NotFoundError:
        pass
    await ensure_consumer(js, consumer)
