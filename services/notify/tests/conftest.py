from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlmodel import select

from linli_notify.app import create_app, subscriptions
from linli_notify.channels import AppriseSender
from linli_notify.models import Contact, Delivery, Notification
from linli_notify.settings import NotifySettings
from linli_notify.subscribers import applying
from linli_notify.usecases.digest import send_digests
from linli_notify.usecases.dispatch import dispatch_due
from linli_notify.usecases.escalation import escalate_unacknowledged
from linli_shared.contracts.registry import (
    CareGroupFormed,
    ResidentContactChanged,
    ResidentRegistered,
    VisitOverdue,
)
from linli_shared.events import Envelope, Event
from linli_shared.inbox import apply_once
from linli_shared.natsserver import free_port
from linli_shared.outbox import OutboxMessage
from linli_shared.testing.communities import Community
from linli_shared.testing.http import TEST_JWT_SECRET, running_app
from linli_shared.unit_of_work import Work


@pytest.fixture
def community() -> Community:
    return Community.new()


@dataclass
class Receiver:
    """A stand-in webhook: records what it is sent and answers with `status`."""

    url: str
    status: int = 200
    received: list[dict[str, object]] = field(default_factory=list)

    @property
    def sms_url(self) -> str:
        """The same server as an SMS gateway: its hits come in on /sms."""
        return self.url.replace("/hook", "/sms")

    def texts(self) -> list[dict[str, object]]:
        return [hit for hit in self.received if hit["path"] == "/sms"]

    def hooks(self) -> list[dict[str, object]]:
        return [hit for hit in self.received if hit["path"] == "/hook"]


class QuietHandler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """An HTTP server on a free local port in a thread of its own, for the block; its host:port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver(url="")

    class Handler(QuietHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server name
            length = int(self.headers.get("Content-Length", 0))
            found.received.append({"path": self.path, **json.loads(self.rfile.read(length) or b"{}")})
            self.send_response(found.status)
            self.end_headers()

    with serving(Handler) as address:
        found.url = f"json://{address}/hook"
        yield found


@dataclass
class Mailbox:
    url: str
    messages: list[bytes] = field(default_factory=list)

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
        self.messages.append(envelope.content)  # type: ignore[attr-defined]
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[Mailbox]:
    """A real local SMTP server (aiosmtpd) on a free port."""
    port = free_port()
    mailbox = Mailbox(
        url=f"mailto://127.0.0.1:{port}?from=linli@example.org&to=grid@example.org&mode=insecure"
    )
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield mailbox
    controller.stop()


TSA_CONFIG = """[ tsa ]
default_tsa = local
[ local ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
certs = $dir/tsa.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
other_policies = 1.2.3.4.1
digests = sha256
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


@dataclass
class LocalTsa:
    """An RFC 3161 authority on this machine: openssl ts -reply behind HTTP, with a throwaway CA."""

    url: str
    folder: Path
    status: int = 200
    requests: int = 0

    def verify(self, token: bytes, sha256: str) -> subprocess.CompletedProcess[str]:
        """openssl's own verdict on a token: signed by this TSA, chained to its CA, for this hash."""
        (self.folder / "token.der").write_bytes(token)
        return subprocess.run(
            [
                "openssl",
                "ts",
                "-verify",
                "-digest",
                sha256,
                "-in",
                str(self.folder / "token.der"),
                "-token_in",
            ]
            + ["-CAfile", str(self.folder / "ca.pem"), "-untrusted", str(self.folder / "tsa.pem")],
            capture_output=True,
            text=True,
            check=False,
        )


def make_tsa_certificates(folder: Path) -> None:
    def openssl(*arguments: str) -> None:
        subprocess.run(["openssl", *arguments], cwd=folder, check=True, capture_output=True)

    curve = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes")
    openssl(
        "req",
        "-x509",
        *curve,
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-subj",
        "/CN=Linli test CA",
        "-days",
        "2",
    )
    openssl("req", *curve, "-keyout", "tsa.key", "-out", "tsa.csr", "-subj", "/CN=Linli test TSA")
    (folder / "ext.cnf").write_text(
        "extendedKeyUsage=critical,timeStamping\nkeyUsage=critical,digitalSignature\n"
    )
    signed_by_ca = ("-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-extfile", "ext.cnf")
    openssl("x509", "-req", "-in", "tsa.csr", *signed_by_ca, "-days", "2", "-out", "tsa.pem")
    (folder / "serial").write_text("01\n")
    (folder / "tsa.cnf").write_text(TSA_CONFIG.format(dir=folder))


@pytest.fixture
def tsa(tmp_path: Path) -> Iterator[LocalTsa]:
    folder = tmp_path / "tsa"
    folder.mkdir()
    make_tsa_certificates(folder)
    found = LocalTsa(url="", folder=folder)
    lock = threading.Lock()  # openssl keeps the serial number in a file: one reply at a time

    class Handler(QuietHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server name
            query = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with lock:
                found.requests += 1
                reply = subprocess.run(
                    [
                        "openssl",
                        "ts",
                        "-reply",
                        "-config",
                        str(folder / "tsa.cnf"),
                        "-queryfile",
                        "/dev/stdin",
                    ],
                    input=query,
                    capture_output=True,
                    check=False,
                ).stdout
            self.send_response(found.status)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.end_headers()
            self.wfile.write(reply if found.status == 200 else b"")

    with serving(Handler) as address:
        found.url = f"http://{address}/tsa"
        yield found


@pytest.fixture
def notify_settings(
    database_url: str, community: Community, receiver: Receiver, smtp: Mailbox
) -> NotifySettings:
    """Events go in through the inbox by hand: no bus here, so no other test's events leak in."""
    return NotifySettings(
        database_url=database_url,
        nats_url=f"nats://127.0.0.1:{free_port()}",
        jwt_secret=TEST_JWT_SECRET,
        channels={community.community: [receiver.url, smtp.url]},
        background_jobs=False,
        max_attempts=3,
        retry_base_seconds=60,
        retry_cap_seconds=600,
    )


@pytest.fixture
async def client(notify_settings: NotifySettings) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(create_app(notify_settings)) as http:
        yield http


class Harness:
    """The service under test, driven from the inside: events in through the inbox, rows out."""

    def __init__(self, client: httpx.AsyncClient, community: Community) -> None:
        self.client = client
        self.community = community
        self.settings: NotifySettings = client.app.state.settings  # type: ignore[attr-defined]
        self.session_factory = client.app.state.session_factory  # type: ignore[attr-defined]

    def wrap(self, event: Event, *, event_id: str | None = None) -> Envelope:
        return Envelope.wrap(
            event,
            district=self.community.district,
            community=self.community.community,
            occurred_at=datetime.now(UTC),
            event_id=event_id,
        )

    def registered(self, resident_id: str, full_name: str = "王秀英") -> Event:
        return ResidentRegistered(
            resident_id=resident_id,
            community=self.community.community,
            full_name=full_name,
            birth_date=date(1944, 3, 8),
            id_number_masked="110105********002X",
            tags=["living_alone"],
        )

    def overdue(
        self, resident_id: str = "r-1", grid_worker: str = "grid-li", community_worker: str = "cw-zhang"
    ) -> Event:
        return VisitOverdue(
            care_group_id="cg-1",
            resident_id=resident_id,
            kind="visit",
            due_at=datetime(2026, 1, 1, 1, tzinfo=UTC),
            grid_worker=grid_worker,
            community_worker=community_worker,
        )

    def contact(
        self,
        resident_id: str,
        full_name: str = "王秀英",
        *,
        phone: str | None = None,
        guardian_name: str | None = None,
        guardian_phone: str | None = None,
    ) -> Event:
        return ResidentContactChanged(
            resident_id=resident_id,
            community=self.community.community,
            full_name=full_name,
            phone=phone,
            guardian_name=guardian_name,
            guardian_relation="儿子" if guardian_name else None,
            guardian_phone=guardian_phone,
        )

    def care_group(
        self, resident_id: str = "r-1", *, neighbour_phone: str | None = None, care_group_id: str = "cg-1"
    ) -> Event:
        return CareGroupFormed(
            care_group_id=care_group_id,
            resident_id=resident_id,
            community_worker="cw-zhang",
            grid_worker="grid-li",
            neighbour_name="张大妈",
            neighbour_phone=neighbour_phone,
            visit_every_hours=24,
            call_every_days=1,
        )

    def use_sms_gateway(self, url: str) -> None:
        self.settings.sms_gateway = {self.community.community: url}

    async def feed(self, envelope: Envelope, now: datetime) -> bool:
        """Apply an event through the real inbox and the app's handlers, with the clock the test chooses."""
        (subscription,) = [s for s in subscriptions(self.settings) if s.producer == envelope.producer]
        apply = applying(self.settings)

        async def apply_at_now(uow: Work, event: Envelope) -> None:
            uow.now = now  # the inbox's unit of work reads the real clock; the test sets its own
            await apply(uow, event)

        return await apply_once(self.session_factory, subscription.consumer.durable, envelope, apply_at_now)

    async def dispatch(self, now: datetime) -> int:
        sender = AppriseSender(self.settings)
        return await dispatch_due(
            self.session_factory, sender, settings=self.settings, now=now, jitter=lambda: 0.5
        )

    async def digest(self, now: datetime) -> int:
        return await send_digests(self.session_factory, settings=self.settings, now=now)

    async def escalate(self, now: datetime) -> int:
        return await escalate_unacknowledged(self.session_factory, settings=self.settings, now=now)

    async def deliveries(self, **where: object) -> list[Delivery]:
        async with self.session_factory() as session:
            statement = select(Delivery).filter_by(**where).order_by(Delivery.id)
            return list((await session.exec(statement)).all())

    async def contacts(self) -> list[Contact]:
        async with self.session_factory() as session:
            return list((await session.exec(select(Contact).order_by(Contact.recipient))).all())

    async def notifications(self, **where: object) -> list[Notification]:
        async with self.session_factory() as session:
            statement = select(Notification).filter_by(**where).order_by(Notification.id)
            return list((await session.exec(statement)).all())

    async def outbox_events(self, event_type: str) -> list[dict[str, object]]:
        async with self.session_factory() as session:
            rows = (await session.exec(select(OutboxMessage))).all()
        envelopes = [json.loads(row.envelope) for row in rows]
        return [e for e in envelopes if e["event_type"] == event_type]


@pytest.fixture
def notify(client: httpx.AsyncClient, community: Community) -> Harness:
    return Harness(client, community)
