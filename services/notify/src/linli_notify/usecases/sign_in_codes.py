"""One-time sign-in codes: the registry raises `account.sign_in_code_requested` with the code
encrypted under LINLI_SIGN_IN_CODE_KEY; notify decrypts it and sends it at once by SMS.

The code is kept nowhere in notify (no notification, delivery, inbox message or file line), and
never logged: an error names what failed, never the code or the gateway URL. A send that fails
raises, so the inbox retries the event; a code that has expired meanwhile is not sent."""

from __future__ import annotations

import asyncio
import logging

from cryptography.fernet import Fernet, InvalidToken

from linli_notify.channels import DeliveryError, notify_blocking, with_phone
from linli_notify.settings import NotifySettings
from linli_shared.clock import utc_now
from linli_shared.contracts.registry import SignInCodeRequested
from linli_shared.inbox import PermanentEventError

log = logging.getLogger(__name__)

TITLE = "邻里登录验证码"
_sending: set[str] = set()
"""The codes being sent now: Apprise logs the JSON it posts (at DEBUG), and no record naming one
of them may leave the process."""


class HideCodes(logging.Filter):
    """Drops Apprise's log records that contain a code being sent."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not _sending:
            return True
        message = record.getMessage()
        return not any(code in message for code in tuple(_sending))


logging.getLogger("apprise").addFilter(HideCodes())


def code_message(code: str, minutes: int) -> str:
    return f"您的登录验证码是 {code}，{minutes} 分钟内有效。请勿告诉他人；如非本人操作，请忽略。"


async def send_sign_in_code(event: SignInCodeRequested, settings: NotifySettings) -> bool:
    """Send the code to the phone; False (and nothing sent) if it expired or sign-in codes are
    not configured here."""
    now = utc_now()
    if event.expires_at <= now:
        log.info("sign-in code for account %s expired before it could be sent", event.account_id)
        return False
    if settings.sign_in_code_key is None:
        log.warning(
            "sign-in code for account %s not sent: LINLI_SIGN_IN_CODE_KEY is not set", event.account_id
        )
        return False
    gateway = settings.sms_url(event.community) or settings.sms_url(None)
    if not gateway:
        raise DeliveryError(f"no SMS gateway is configured for community {event.community!r}")
    try:
        code = Fernet(settings.sign_in_code_key.get_secret_value().encode()).decrypt(
            event.code_encrypted.encode()
        )
    except InvalidToken as error:  # another key, or tampered with: no retry can help
        raise PermanentEventError(
            "the sign-in code cannot be decrypted with this LINLI_SIGN_IN_CODE_KEY"
        ) from error
    minutes = max(1, int((event.expires_at - now).total_seconds() // 60))
    url = with_phone(gateway, event.phone)
    _sending.add(code.decode())
    try:
        await asyncio.to_thread(notify_blocking, [url], TITLE, code_message(code.decode(), minutes))
    finally:
        _sending.discard(code.decode())
    return True
