"""Sign-in codes: decrypted and sent by SMS at once, kept nowhere in notify and never logged."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import text

from linli_notify.channels import DeliveryError
from linli_shared.contracts.registry import SignInCodeRequested
from linli_shared.inbox import PermanentEventError

from ..conftest import Harness, Receiver

KEY = Fernet.generate_key().decode()
CODE = "482915"


def requested(
    notify: Harness, *, key: str = KEY, expires_in: timedelta = timedelta(minutes=5)
) -> SignInCodeRequested:
    return SignInCodeRequested(
        account_id="acc-1",
        phone="13800138000",
        community=notify.community.community,
        code_encrypted=Fernet(key.encode()).encrypt(CODE.encode()).decode(),
        expires_at=datetime.now(UTC) + expires_in,
    )


async def everything_stored(notify: Harness) -> str:
    """Every row of every table of notify's database, as text."""
    async with notify.client.app.state.engine.connect() as connection:  # type: ignore[attr-defined]
        tables = await connection.run_sync(lambda sync: sync.dialect.get_table_names(sync))
        dumped = [str((await connection.execute(text(f'SELECT * FROM "{t}"'))).all()) for t in tables]
    return "\n".join(dumped)


async def test_the_code_is_sent_by_sms_and_kept_nowhere(
    notify: Harness, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    notify.use_sms_gateway(receiver.sms_url)
    notify.settings.sign_in_code_key = SecretStr(KEY)
    caplog.set_level(logging.DEBUG)
    assert await notify.feed(notify.wrap(requested(notify)), datetime.now(UTC))
    [sms] = receiver.texts()
    assert sms["phone"] == "13800138000" and CODE in str(sms["message"])
    assert await notify.notifications() == [] and await notify.deliveries() == []
    assert CODE not in await everything_stored(notify)
    assert CODE not in caplog.text


async def test_an_expired_code_is_not_sent(notify: Harness, receiver: Receiver) -> None:
    notify.use_sms_gateway(receiver.sms_url)
    notify.settings.sign_in_code_key = SecretStr(KEY)
    assert await notify.feed(
        notify.wrap(requested(notify, expires_in=timedelta(seconds=-1))), datetime.now(UTC)
    )
    assert receiver.texts() == []


async def test_a_code_under_another_key_is_dead_lettered_and_a_failed_send_retried(
    notify: Harness, receiver: Receiver
) -> None:
    notify.use_sms_gateway(receiver.sms_url)
    notify.settings.sign_in_code_key = SecretStr(KEY)
    with pytest.raises(PermanentEventError):
        await notify.feed(
            notify.wrap(requested(notify, key=Fernet.generate_key().decode())), datetime.now(UTC)
        )
    receiver.status = 500
    with pytest.raises(DeliveryError) as failed:  # the inbox naks it: sent on a later delivery
        await notify.feed(notify.wrap(requested(notify)), datetime.now(UTC))
    assert CODE not in str(failed.value)
