"""Acknowledgement links: a signed, single-purpose token in an urgent message, usable without a login.

The token is `<notification id>.<HMAC-SHA256>` keyed with notify's link key (LINLI_NOTIFY_LINK_KEY)
over a purpose label, the notification id and its recipient; it acknowledges that one notification
and nothing else.
"""

from __future__ import annotations

import hashlib
import hmac

PURPOSE = "linli-notify-ack"
LABELS = {"zh": "无法登录应用时，点此链接确认", "en": "Or acknowledge with this link"}


def _mac(secret: str, notification_id: int, recipient: str) -> str:
    message = f"{PURPOSE}:{notification_id}:{recipient}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def ack_token(secret: str, notification_id: int, recipient: str) -> str:
    return f"{notification_id}.{_mac(secret, notification_id, recipient)}"


def token_notification_id(token: str) -> int | None:
    """The notification a token names, or None if it is not shaped like one (not yet verified)."""
    number, _, mac = token.partition(".")
    return int(number) if number.isdigit() and len(number) < 19 and mac else None


def token_is_valid(secret: str, token: str, notification_id: int, recipient: str) -> bool:
    return hmac.compare_digest(token, ack_token(secret, notification_id, recipient))


def ack_line(base_url: str, token: str, language: str) -> str:
    return f"{LABELS.get(language, LABELS['zh'])}: {base_url.rstrip('/')}/v1/acknowledgements/{token}"
