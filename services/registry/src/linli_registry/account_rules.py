"""Pure rules of accounts and sign-in: who may grant which role where, and when a lock-out ends.
No database, web or broker imports."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from linli_shared.auth import COMMUNITY_LEVEL, Caller, Role, check_scope
from linli_shared.clock import CHINA_TIME
from linli_shared.language import language_of as language_of  # the one negotiation, shared

GRANTABLE: dict[Role, frozenset[Role]] = {
    Role.CITY_ADMIN: frozenset(Role),
    Role.DISTRICT_ADMIN: frozenset(COMMUNITY_LEVEL),
    Role.COMMUNITY_WORKER: frozenset({Role.GRID_WORKER, Role.VOLUNTEER, Role.RESIDENT}),
}
"""Who may grant (and withdraw) which roles, the one place it is said. A city admin: any role
anywhere; a district admin: the community-level roles in their own district; a community worker:
grid workers, volunteers and residents of their own community; everyone else: none."""

ACCOUNT_MANAGERS = (Role.CITY_ADMIN, Role.DISTRICT_ADMIN, Role.COMMUNITY_WORKER)
GRANT_AUDITORS = (Role.CITY_ADMIN, Role.DISTRICT_ADMIN, Role.COMMUNITY_WORKER, Role.AUDITOR)

PHONE = re.compile(r"^\+?[0-9]{5,20}$")


def normalise_phone(phone: str) -> str:
    """The phone as it is stored and looked up: digits (and a leading +), no spaces or hyphens."""
    return re.sub(r"[\s-]", "", phone)


def may_grant(caller: Caller, role: Role, district: str | None, community: str | None) -> bool:
    """Whether the caller may grant (or withdraw) this role over this scope."""
    if role not in GRANTABLE.get(caller.role, frozenset()):
        return False
    if caller.role is Role.CITY_ADMIN:
        return True
    if district != caller.district:
        return False
    return caller.role is Role.DISTRICT_ADMIN or community == caller.community


def grant_scope(role: Role, district: str | None, community: str | None) -> tuple[str | None, str | None]:
    """The scope a grant of this role holds: a city admin none, district roles no community.
    ValueError if the role needs more than given."""
    if role is Role.CITY_ADMIN:
        return None, None
    if role not in COMMUNITY_LEVEL:
        community = None
    check_scope(role, district, community)
    return district, community


def subject_of(role: Role, account_id: str, resident_id: str | None, volunteer_id: str | None) -> str:
    """The token subject: services read a resident's and a volunteer's own id from it."""
    if role is Role.RESIDENT:
        if resident_id is None:
            raise ValueError("a resident's account must be linked to the resident")
        return resident_id
    if role is Role.VOLUNTEER:
        if volunteer_id is None:
            raise ValueError("a volunteer's account must be linked to the volunteer")
        return volunteer_id
    return account_id


def lock_ends(failures: Sequence[datetime], limit: int, window: timedelta) -> datetime | None:
    """When a lock-out ends, given the failures counted in the window (oldest first), or None if
    there is none: it holds while `limit` or more failures lie within one window."""
    if len(failures) < limit:
        return None
    return failures[len(failures) - limit] + window


def lock_message(ends: datetime, now: datetime, language: str) -> str:
    """What a person is told when a lock-out holds: when it ends, in their time."""
    at = ends.astimezone(CHINA_TIME).strftime("%H:%M")
    minutes = max(1, -(-int((ends - now).total_seconds()) // 60))
    if language == "en":
        return f"Too many failed sign-ins. Try again after {at} (in about {minutes} min)."
    return f"登录失败次数过多，请在 {at}（约 {minutes} 分钟后）再试。"


MESSAGES = {
    "bad_credentials": ("手机号或密码不正确。", "Wrong phone number or password."),
    "bad_code": ("验证码不正确或已过期。", "The code is wrong or has expired."),
    "no_role": (
        "该账户没有可用的角色，请联系社区管理员。",
        "This account holds no role; ask your community admin.",
    ),
    "unknown_grant": ("该账户没有这个角色。", "This account holds no such role."),
    "signed_out": ("登录已失效，请重新登录。", "Signed out or expired; please sign in again."),
    "code_too_soon": ("验证码已发送，请稍后再试。", "A code was sent just now; please wait a moment."),
    "codes_per_address": (
        "从这个网络请求的验证码太多了，请稍后再试。",
        "Too many codes were asked for from this address; please try again later.",
    ),
    "codes_off": ("暂不支持短信验证码登录。", "Sign-in by SMS code is not available."),
    "signing_off": (
        "暂不支持登录，签名密钥未配置。",
        "Sign-in is not available: no signing key is configured.",
    ),
}


def message(name: str, language: str) -> str:
    chinese, english = MESSAGES[name]
    return english if language == "en" else chinese
