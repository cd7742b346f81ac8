"""What the cluster tests count: residents registered over HTTP, events in a stream, rows in a database."""

from __future__ import annotations

import itertools
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

import asyncpg
import httpx
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from linli_shared.auth import Role
from linli_shared.testing.http import bearer

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_serial = itertools.count()


def id_number() -> str:
    """A valid national ID number, unique in this test run (GB 11643 check character)."""
    serial = next(_serial)
    first17 = f"110105{date(1940, 1, 1) + timedelta(days=serial // 900):%Y%m%d}{100 + serial % 900:03d}"
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True))
    return first17 + "10X98765432"[total % 11]


@dataclass
class Writes:
    """Writes sent to a service's replicas in turn; a write that fails on one replica (killed under it)
    is sent again with the same Idempotency-Key to the next, as a client would, so one key is one
    effect. Only 201s count as acknowledged."""

    urls: list[str]
    acknowledged: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    retried: int = 0  # writes answered only by another replica after the first failed

    def send(self, path: str, body: Mapping[str, object], headers: dict[str, str], first: int) -> None:
        headers = {**headers, "Idempotency-Key": str(uuid.uuid4())}
        errors: list[str] = []
        for attempt in range(20):
            url = self.urls[(first + attempt) % len(self.urls)]
            try:
                response = httpx.post(url + path, json=body, headers=headers, timeout=10)
            except httpx.HTTPError as error:
                errors.append(repr(error))
                time.sleep(0.1)  # pacing the retries of one request, not waiting on a condition
                continue
            if response.status_code == 201:
                self.acknowledged.append(response.json()["id"])
                self.retried += attempt > 0
            else:
                self.refused.append(f"{response.status_code} {response.text[:200]}")
            return
        self.refused.append("; ".join(errors[-3:]))


@dataclass
class Registrations(Writes):
    """Residents of one new district registered through the registry replicas."""

    district: str = field(default_factory=lambda: f"d{uuid.uuid4().hex[:8]}")
    community: str = "donglizhuang"

    def create_places(self) -> None:
        admin = bearer(Role.CITY_ADMIN, None)
        for path, body in (
            ("/v1/districts", {"code": self.district, "name": "高桥营街道"}),
            ("/v1/communities", {"district": self.district, "code": self.community, "name": "东李庄社区"}),
        ):
            response = httpx.post(self.urls[0] + path, json=body, headers=admin, timeout=10)
            assert response.status_code == 201, response.text

    def register(self, count: int) -> None:
        worker = bearer(Role.COMMUNITY_WORKER, self.district, self.community)
        for index in range(count):
            body = {
                "district": self.district,
                "community": self.community,
                "full_name": "李国昌",
                "gender": "male",
                "id_number": id_number(),
            }
            self.send("/v1/residents", body, worker, first=index)


async def stream_event_ids(js: JetStreamContext, stream: str) -> Counter[str]:
    """How many times each event (by event_id in its envelope) is stored in `stream`."""
    info = await js.stream_info(stream)
    seen: Counter[str] = Counter()
    for sequence in range(info.state.first_seq, info.state.last_seq + 1):
        try:
            message = await js.get_msg(stream, sequence)
        except NotFoundError:  # a gap: a deleted message
            continue
        assert message.data is not None
        seen[json.loads(message.data)["event_id"]] += 1
    return seen


async def column(database_url: str, sql: str, *args: object) -> list[object]:
    connection = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        return [row[0] for row in await connection.fetch(sql, *args)]
    finally:
        await connection.close()


async def count_rows(database_url: str, sql: str, *args: object) -> int:
    connection = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        return int(await connection.fetchval(sql, *args))
    finally:
        await connection.close()


class ReadinessLog:
    """Polls a service's /readyz from a thread: which statuses it answered, and when."""

    def __init__(self, url: str, every: float = 0.2) -> None:
        self.url = url
        self.every = every
        self.answers: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> ReadinessLog:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _poll(self) -> None:
        while not self._stop.wait(self.every):
            try:
                status = httpx.get(self.url + "/readyz", timeout=3).status_code
            except httpx.HTTPError:
                status = 0
            self.answers.append((time.monotonic(), status))

    def not_ready_seconds(self) -> float:
        """How long, in all, /readyz said anything but 200."""
        spans = zip(self.answers, self.answers[1:], strict=False)
        return sum(later[0] - earlier[0] for earlier, later in spans if earlier[1] != 200)
