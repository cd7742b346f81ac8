"""RFC 3161 time-stamps of witnessed hashes, from a local authority (openssl ts behind HTTP, a throwaway
CA made by the test): the token verifies with openssl, and an outage delays stamps, never events."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from sqlmodel import select

from linli_notify.models import DisclosureTimestamp
from linli_notify.timestamping import TimestampAuthority, TimestampError, stamp_from_reply, timestamp_request
from linli_notify.usecases.timestamps import timestamp_witnessed
from linli_shared.contracts.fund import DisclosurePublished
from linli_shared.natsserver import free_port

pytestmark = [pytest.mark.integration]

NOON = datetime(2026, 11, 3, 4, 0, tzinfo=UTC)
HASH = hashlib.sha256(b"period 1").hexdigest()


def published(sha256: str = HASH) -> DisclosurePublished:
    return DisclosurePublished(
        sequence=1,
        first_day=date(2026, 10, 1),
        last_day=date(2026, 10, 31),
        sha256=sha256,
        previous_sha256=None,
    )


def stamping(notify, url: str):  # noqa: ANN001, ANN201
    settings = notify.settings.model_copy(update={"tsa_url": url, "tsa_timeout_seconds": 5})

    async def run(now: datetime) -> int:
        authority = TimestampAuthority(settings)
        return await timestamp_witnessed(
            notify.session_factory, authority, settings=settings, now=now, jitter=lambda: 0.5
        )

    return run


async def stamps(notify) -> list[DisclosureTimestamp]:  # noqa: ANN001
    async with notify.session_factory() as session:
        return list((await session.exec(select(DisclosureTimestamp))).all())


async def test_witnessed_hash_is_time_stamped_and_openssl_verifies_the_public_token(
    notify, client, community, tsa
) -> None:
    await notify.feed(notify.wrap(published()), NOON)
    before = datetime.now(UTC).replace(microsecond=0)

    assert await stamping(notify, tsa.url)(NOON) == 1
    assert await stamping(notify, tsa.url)(NOON + timedelta(hours=1)) == 0  # stamped once

    path = f"/v1/public/witness/{community.district}/{community.community}/disclosures"
    (row,) = (await client.get(path)).json()
    token = base64.b64decode(row["timestamp_token"])
    verdict = tsa.verify(token, HASH)
    assert verdict.returncode == 0 and "Verification: OK" in verdict.stdout, verdict.stderr
    assert tsa.verify(token, hashlib.sha256(b"rewritten").hexdigest()).returncode != 0
    assert before <= datetime.fromisoformat(row["timestamped_at"]) <= datetime.now(UTC)
    assert tsa.requests == 1


async def test_an_authority_outage_delays_the_stamp_and_never_the_event(notify, tsa) -> None:
    tsa.status = 503
    assert await notify.feed(notify.wrap(published()), NOON)  # witnessed and announced all the same
    assert len(await notify.notifications(template="disclosure_published")) == 1

    assert await stamping(notify, tsa.url)(NOON) == 0
    (failed,) = await stamps(notify)
    assert (failed.token, failed.attempts) == (None, 1)
    assert failed.last_error and "cannot be reached" in failed.last_error
    assert failed.next_attempt_at > NOON
    assert await stamping(notify, tsa.url)(NOON + timedelta(seconds=1)) == 0  # not due yet: not asked
    assert tsa.requests == 1

    tsa.status = 200
    assert await stamping(notify, tsa.url)(failed.next_attempt_at) == 1
    (stamped,) = await stamps(notify)
    assert stamped.token is not None and stamped.attempts == 2 and stamped.last_error is None


async def test_an_unreachable_authority_is_a_timestamp_error() -> None:
    authority_url = f"http://127.0.0.1:{free_port()}/tsa"

    class Settings:
        tsa_url, tsa_timeout_seconds = authority_url, 2.0

    with pytest.raises(TimestampError, match="cannot be reached"):
        await TimestampAuthority(Settings())(HASH)  # type: ignore[arg-type]


async def test_a_reply_for_another_hash_or_another_request_is_refused(tsa) -> None:
    async with httpx.AsyncClient() as http:
        reply = (await http.post(tsa.url, content=timestamp_request(HASH, 7))).content
    assert stamp_from_reply(reply, HASH, 7).token
    with pytest.raises(TimestampError, match="another hash"):
        stamp_from_reply(reply, hashlib.sha256(b"forged").hexdigest(), 7)
    with pytest.raises(TimestampError, match="nonce"):
        stamp_from_reply(reply, HASH, 8)  # a reply replayed for a later request
    with pytest.raises(TimestampError, match="cannot be read"):
        stamp_from_reply(reply[:40], HASH, 7)
