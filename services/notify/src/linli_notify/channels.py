"""The channels a delivery goes out on, and the sender that speaks to them (the dispatcher that
claims due deliveries is linli_notify.usecases.dispatch).

Channels:

- ``inbox``: the in-app inbox (GET /v1/inbox); the notification row is the message, nothing is sent.
- ``apprise``: the community's outside channels, Apprise URLs from LINLI_NOTIFY_CHANNELS (json://,
  mailto://, …), sent from a worker thread.
- ``sms``: one person's phone, through the community's SMS gateway (LINLI_NOTIFY_SMS_GATEWAY, an
  Apprise json:// URL): the JSON body Apprise posts (title, message, …) gains ``phone``, read from
  the contact when the delivery is sent, so a changed number is used by the next try.
- ``file``: a built-in channel for development and demos, on only when LINLI_NOTIFY_OUTBOX_FILE names
  a path. Every notification then also gets a ``file`` delivery, whatever the recipient chose, which
  appends one JSON object per line (delivery_id, district, community, recipient, event_id, urgent,
  title, body, written_at) to that file; its directory is made if missing. ``tail -f`` the file to
  watch messages flow (meant for ``make run`` with the demo community). Each line is one delivery,
  so like every channel it is written once per (event, recipient); a crash between the write and
  the commit can, as with any channel, repeat a line after the claim period.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

import apprise

from linli_notify.domain import APPRISE, FILE, INBOX, SMS
from linli_notify.settings import NotifySettings
from linli_shared.clock import utc_now


class DeliveryError(Exception):
    """A channel refused or could not take the message."""


@dataclass(frozen=True)
class Claimed:
    """A delivery taken for sending, with what its channel needs to know."""

    delivery_id: int
    channel: str
    district: str
    community: str | None
    recipient: str
    source_event_id: str
    urgent: bool
    title: str
    body: str
    attempt: int  # the attempt this claim made: its outcome is recorded only while it is still the latest
    due_at: datetime  # when it was due before the claim, to hand it back unsent
    phone: str | None = None  # sms only


class Sender(Protocol):
    async def send(self, message: Claimed) -> None: ...


class AppriseSender:
    """The in-app inbox needs no sending; outside channels go through Apprise, in a worker thread;
    the file channel appends a JSON line (see the module docstring)."""

    def __init__(self, settings: NotifySettings) -> None:
        self._settings = settings

    async def send(self, message: Claimed) -> None:
        if message.channel == INBOX:
            return  # the notification row is the in-app message
        if message.channel == FILE:
            if self._settings.outbox_file is None:
                raise DeliveryError("no outbox file is configured (LINLI_NOTIFY_OUTBOX_FILE)")
            await asyncio.to_thread(append_line, self._settings.outbox_file, file_line(message))
            return
        if message.channel == SMS:
            await self.send_sms(message)
            return
        if message.channel != APPRISE:
            raise DeliveryError(f"unknown channel {message.channel!r}")
        urls = self._settings.apprise_urls(message.community)
        if not urls:
            raise DeliveryError(f"no outside channel is configured for community {message.community!r}")
        await asyncio.to_thread(notify_blocking, urls, message.title, message.body)

    async def send_sms(self, message: Claimed) -> None:
        gateway = self._settings.sms_url(message.community)
        if not gateway:
            raise DeliveryError(f"no SMS gateway is configured for community {message.community!r}")
        if not message.phone:
            raise DeliveryError("no phone number is on record for this recipient")
        await asyncio.to_thread(
            notify_blocking, [with_phone(gateway, message.phone)], message.title, message.body
        )


def with_phone(gateway: str, phone: str) -> str:
    """Apprise's json:// adds each `:key=value` query parameter to the JSON body it posts."""
    return f"{gateway}{'&' if '?' in gateway else '?'}:phone={quote(phone, safe='')}"


def file_line(message: Claimed) -> str:
    return json.dumps(
        {
            "delivery_id": message.delivery_id,
            "district": message.district,
            "community": message.community,
            "recipient": message.recipient,
            "event_id": message.source_event_id,
            "urgent": message.urgent,
            "title": message.title,
            "body": message.body,
            "written_at": utc_now().isoformat(),
        },
        ensure_ascii=False,
    )


def append_line(path: Path, line: str) -> None:
    """Blocking: one write of one line in append mode, so lines of replicas do not interleave."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as file:
            file.write(line + "\n")
    except OSError as error:
        raise DeliveryError(f"cannot append to the outbox file: {error.strerror}") from error


def notify_blocking(urls: list[str], title: str, body: str) -> None:
    """Apprise's notify blocks on the network: call this only from a worker thread."""
    target = apprise.Apprise()
    for url in urls:
        if not target.add(url):
            raise DeliveryError("an Apprise URL of this community is not valid")  # never echo the URL
    # apprise ships py.typed but leaves LogCapture.__init__ unannotated
    with apprise.LogCapture(level=logging.WARNING) as captured:  # type: ignore[no-untyped-call]
        delivered = target.notify(title=title, body=body)
    if not delivered:
        raise DeliveryError(captured.getvalue().strip()[-900:] or "apprise could not deliver")
