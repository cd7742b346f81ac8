"""Notification rules as plain functions: no database, no broker, no clock of their own."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from linli_shared.errors import DomainError

DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_QUIET_START = time(22, 0)
DEFAULT_QUIET_END = time(7, 0)
INBOX = "inbox"
APPRISE = "apprise"
SMS = "sms"  # one person's phone, through the community's SMS gateway webhook
FILE = "file"  # development and demos only: see linli_notify.channels
CHANNELS = (INBOX, APPRISE, SMS)
# People, reached one by one: never on a community's group bot or mailing list (the `apprise` channel)
PERSONAL = ("resident:", "volunteer:", "donor:", "guardian:", "neighbour:", "account:")
GROUP = "group:"  # a community's group channel itself (its Apprise URLs): public announcements
# People without a login, and the group channel: the in-app inbox never reaches them
NO_LOGIN = ("donor:", "guardian:", "neighbour:", GROUP)


class NotifyError(DomainError):
    """Base of the notify service's errors."""


class Urgency(enum.StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"
    UNREACHABLE = "unreachable"  # none of the recipient's channels can reach them: nothing was sent


class Language(enum.StrEnum):
    ZH = "zh"
    EN = "en"


def resident_recipient(resident_id: str) -> str:
    return f"resident:{resident_id}"


def volunteer_recipient(volunteer_id: str) -> str:
    return f"volunteer:{volunteer_id}"


def account_recipient(account_id: str) -> str:
    """A signed-in account (the token's `acc`; a development token's subject stands in for it)."""
    return f"account:{account_id}"


def donor_recipient(donation_id: str) -> str:
    """A donor has no account: their thanks is addressed by the donation that names them."""
    return f"donor:{donation_id}"


def guardian_recipient(resident_id: str) -> str:
    """The one guardian the registry has on record for a resident; reached by phone, no login."""
    return f"guardian:{resident_id}"


def neighbour_recipient(care_group_id: str) -> str:
    """The neighbour of a care group (first rung of the ladder); reached by phone, no login."""
    return f"neighbour:{care_group_id}"


def role_recipient(role: str, community: str | None) -> str:
    """A community's shared mailbox for one role (e.g. the supermarket keeper's desk)."""
    return f"role:{community}:{role}"


def group_recipient(community: str | None) -> str:
    """The community's group channel (its bots and mailing lists), for what everyone there may read."""
    return f"{GROUP}{community}"


def default_channels(recipient: str) -> list[str]:
    """A person's own channels (in-app, their phone); workers and role mailboxes also the community's
    outside channels (group bots, mailing lists); the group channel only those."""
    if recipient.startswith(GROUP):
        return [APPRISE]
    if recipient.startswith(PERSONAL):
        return [INBOX, SMS]
    return [INBOX, APPRISE, SMS]


def reads_the_inbox(recipient: str) -> bool:
    """Donors, guardians and neighbours have no login: a message only in the inbox never reaches them."""
    return not recipient.startswith(NO_LOGIN)


def local_time_text(value: object, timezone: str) -> str:
    """An instant as the recipient reads it, `YYYY-MM-DD HH:MM` in their zone (a naive one is UTC);
    anything that is not an instant stays as written."""
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")


def in_quiet_hours(local: time, start: time, end: time) -> bool:
    """Quiet hours may wrap midnight (22:00–07:00) or not (13:00–14:00); start == end means none."""
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def release_time(now: datetime, *, start: time, end: time, timezone: str, urgent: bool) -> datetime:
    """When a delivery may go: now if urgent or outside quiet hours, else at the end of quiet hours."""
    if urgent:
        return now
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    if not in_quiet_hours(local.time().replace(tzinfo=None), start, end):
        return now
    release = datetime.combine(local.date(), end, tzinfo=zone)
    if release <= local:
        release += timedelta(days=1)
    return release.astimezone(now.tzinfo)


def retry_delay(attempts: int, *, base_seconds: float, cap_seconds: float, jitter: float) -> timedelta:
    """Exponential backoff with jitter: base·2^(attempts−1), capped, scaled into [50 %, 100 %).

    `jitter` is a number in [0, 1) from the caller, so replicas that failed together spread out.
    """
    if not 0 <= jitter < 1:
        raise ValueError("jitter must be in [0, 1)")
    full = min(cap_seconds, base_seconds * 2 ** max(0, attempts - 1))
    return timedelta(seconds=full * (0.5 + jitter / 2))


def next_rung(ladder: list[str], current: str | None) -> list[str]:
    """The rungs above `current`, nearest first; the whole ladder if `current` is not on it."""
    if current in ladder:
        return ladder[ladder.index(current) + 1 :]
    return list(ladder)


def rungs_above(
    ladder: list[str], current: str | None, reachable: Mapping[str, str]
) -> list[tuple[str, str]]:
    """(rung, recipient) above `current` (from the bottom if None), nearest first, skipping rungs on
    which nobody can be reached."""
    return [(rung, reachable[rung]) for rung in next_rung(ladder, current) if rung in reachable]


def parse_clock(value: str) -> time:
    """'22:00' → time(22, 0); refuses anything else."""
    try:
        hours, minutes = value.split(":")
        return time(int(hours), int(minutes))
    except ValueError as error:
        raise NotifyError(
            f"{value!r} is not a time of day like 22:00", zh=f"{value!r} 不是有效的时刻，应写作 22:00 这样"
        ) from error
