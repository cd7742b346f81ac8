"""One app factory for every service: database, migrations, bus, relay and inboxes in one lifespan."""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi_offline import FastAPIOffline
from faststream.nats import NatsBroker
from faststream.specification import AsyncAPI
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_shared import health
from linli_shared.body_limit import BodyLimit
from linli_shared.bus import Bus
from linli_shared.correlation import CorrelationMiddleware, configure_logging, correlated
from linli_shared.database import make_engine, make_session_factory
from linli_shared.errors import install_problem_handlers
from linli_shared.events import SUBJECT_ROOT, Event
from linli_shared.http_metrics import RequestMetrics
from linli_shared.inbox import ApplyEvent, Inbox, has_applied_anything, subscribe_inbox
from linli_shared.jetstream import (
    DurableConsumer,
    dead_letter_stream_config,
    event_stream_config,
)
from linli_shared.leadership import Leadership
from linli_shared.migrations import upgrade_to_head
from linli_shared.openapi import install_problem_openapi
from linli_shared.ops.gauges import keep_gauges_fresh
from linli_shared.outbox import OutboxRelay, relay_session_info
from linli_shared.routes import add_routes
from linli_shared.settings import ServiceSettings

log = logging.getLogger(__name__)

SHUTDOWN_SECONDS = 10
PeriodicJob = Callable[[async_sessionmaker[AsyncSession]], Awaitable[object]]


@dataclass
class Subscription:
    """A durable consumer of another service's events and what applies them here."""

    consumer: DurableConsumer
    producer: str
    apply: ApplyEvent
    description: str = ""

    @classmethod
    def to(cls, producer: str, *, service: str, apply: ApplyEvent, description: str = "") -> Subscription:
        """`service` reads every event of `producer` through its own durable consumer."""
        return cls(DurableConsumer.of_events(producer, consumer=service), producer, apply, description)


@dataclass
class ServiceSpec:
    name: str
    title: str
    settings: ServiceSettings
    migrations: Path
    routers: list[APIRouter]
    subscriptions: list[Subscription] = field(default_factory=list)
    periodic_jobs: list[tuple[PeriodicJob, float]] = field(default_factory=list)
    publishes: list[type[Event]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if district := self.settings.district:  # a district site reads its own district's events
            self.subscriptions = [
                replace(s, consumer=s.consumer.in_district(district)) for s in self.subscriptions
            ]


def document_events(broker: NatsBroker, events: list[type[Event]]) -> None:
    """Declare what the service publishes, for its AsyncAPI document; the relay does the sending."""
    for event in events:
        broker.publisher(
            f"{SUBJECT_ROOT}.{{district}}.{event.service}.{event.name}",
            title=f"{event.service}.{event.name}",
            description=f"{(event.__doc__ or '').strip()} Carried as the payload of an Envelope "
            f"(schema_version {event.schema_version}); Nats-Msg-Id is the envelope's event_id.",
            schema=event,
        )


def asyncapi_document(spec: ServiceSpec, broker: NatsBroker) -> dict[str, Any]:
    document = AsyncAPI(broker, title=f"{spec.title} events", version="1.0.0")
    return dict(document.to_specification().to_jsonable())


async def run_periodically(
    job: PeriodicJob, factory: async_sessionmaker[AsyncSession], every_seconds: float
) -> None:
    """Run a job forever at a fixed pace; a failed run is logged and the next one still runs.
    Of all the processes on one database, only the one that leads runs it."""
    name = getattr(job, "__name__", repr(job))
    leadership = Leadership(factory.kw["bind"], f"periodic job {name}")
    try:
        while True:
            try:
                if await leadership.held():
                    with correlated(uuid.uuid4().hex):  # each run's log lines and events together
                        await job(factory)
            except Exception:
                log.exception("periodic job %s failed", name)
            await asyncio.sleep(every_seconds)
    finally:
        await leadership.release()


async def build_bus(spec: ServiceSpec, session_factory: async_sessionmaker[AsyncSession]) -> Bus:
    """The bus with every stream this service touches, its durable consumers, and which of them
    must replay their stream from the start because this database has applied nothing yet."""
    producers = {spec.name} | {s.producer for s in spec.subscriptions}
    replicas = spec.settings.stream_replicas
    fresh = [
        s.consumer.durable
        for s in spec.subscriptions
        if not await has_applied_anything(session_factory, s.consumer.durable)
    ]
    return Bus(
        spec.settings.nats_url,
        service=spec.name,
        streams=[event_stream_config(p, replicas=replicas) for p in sorted(producers)]
        + [dead_letter_stream_config(replicas=replicas)],
        consumers=[s.consumer for s in spec.subscriptions],
        replay=frozenset(fresh),
    )


def subscribe_inboxes(spec: ServiceSpec, bus: Bus, session_factory: async_sessionmaker[AsyncSession]) -> None:
    for subscription in spec.subscriptions:
        inbox = Inbox(
            subscription.consumer,
            lambda: session_factory,
            subscription.apply,
            bus.publish_with_headers,
            batch_size=spec.settings.inbox_batch_size,
            district=spec.settings.district,
        )
        subscribe_inbox(bus, inbox, description=subscription.description)


async def stop_tasks(
    relay: OutboxRelay, jobs: list[asyncio.Task[None]], tasks: list[asyncio.Task[None]]
) -> None:
    """Let the relay end its pass (so what it published is marked sent), cancel the jobs, and
    cancel whatever has not stopped within SHUTDOWN_SECONDS."""
    relay.stop()
    for job_task in jobs:
        job_task.cancel()
    _, stuck = await asyncio.wait(tasks, timeout=SHUTDOWN_SECONDS) if tasks else ((), ())
    for task in stuck:
        log.error("task %s did not stop within %ss; cancelled", task.get_name(), SHUTDOWN_SECONDS)
        task.cancel()


@functools.cache
def freeze_start_up_objects() -> None:
    """Move what start-up made (modules, app, metadata: it lives as long as the process) out of the
    garbage collector's sight, once per process, so a full collection during a request does not
    walk it; it was a 130-160 ms p95 tail of the city's statistics at a million residents."""
    gc.collect()
    gc.freeze()


def service_lifespan(spec: ServiceSpec) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Database, migrations, bus, relay, inboxes and periodic jobs, started and stopped in order."""
    settings = spec.settings

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging()
        engine = make_engine(settings.database_url, pool_size=settings.database_pool_size)
        await upgrade_to_head(engine, spec.migrations)
        session_factory = make_session_factory(engine)
        bus = await build_bus(spec, session_factory)
        relay = OutboxRelay(
            session_factory,
            bus,
            service=spec.name,
            poll_seconds=settings.relay_poll_seconds,
            linger_seconds=settings.relay_linger_seconds,
        )
        session_factory.configure(info=relay_session_info(relay))
        document_events(bus.spec_broker, spec.publishes)
        subscribe_inboxes(spec, bus, session_factory)
        bus.on_reconnect(relay.wake)
        app.state.settings, app.state.engine, app.state.bus = settings, engine, bus
        app.state.session_factory, app.state.relay = session_factory, relay
        bus.start_in_background()
        jobs = [
            asyncio.create_task(run_periodically(job, session_factory, every))
            for job, every in spec.periodic_jobs
        ]
        jobs.append(
            asyncio.create_task(
                keep_gauges_fresh(
                    spec.name, session_factory, lambda: bus.js if bus.is_connected() else None, bus.consumers
                ),
                name="ops-gauges",
            )
        )
        relaying = [asyncio.create_task(relay.run(), name="outbox-relay")] if settings.relay_enabled else []
        freeze_start_up_objects()
        log.info("%s ready on port %s", spec.name, settings.http_port)
        try:
            yield
        finally:
            await stop_tasks(relay, jobs, [*jobs, *relaying])
            try:
                await bus.stop()
            finally:
                await engine.dispose()

    return lifespan


def create_service_app(spec: ServiceSpec) -> FastAPI:
    # FastAPIOffline serves Swagger UI's assets from the package: /docs works on a closed network
    app = FastAPIOffline(
        title=spec.title,
        version="1.0.0",
        lifespan=service_lifespan(spec),
        # Linli measures with Prometheus (/metrics) and logs its own lines; with OpenTelemetry's
        # API installed (FastAPI needs it), FastAPI would otherwise ask for providers every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    routes = [route for router in spec.routers for route in router.routes]  # a batch route may take more
    app.add_middleware(BodyLimit, max_bytes=spec.settings.max_body_bytes, routes=routes)
    app.add_middleware(RequestMetrics, service=spec.name)
    app.add_middleware(CorrelationMiddleware)
    install_problem_handlers(app)
    install_problem_openapi(app)
    for router in [health.router, *spec.routers]:
        add_routes(app, router)

    @app.get("/asyncapi.json", include_in_schema=False)
    async def asyncapi(request: Request) -> dict[str, Any]:
        """The AsyncAPI document of the events this service publishes and consumes."""
        return asyncapi_document(spec, request.app.state.bus.spec_broker)

    return app


async def session(request: Request) -> AsyncIterator[AsyncSession]:
    """A session per request; a use case commits it, anything uncommitted rolls back."""
    async with request.app.state.session_factory() as db_session:
        yield db_session


SessionDep = Annotated[AsyncSession, Depends(session)]
