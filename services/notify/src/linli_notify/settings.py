"""Notify settings: LINLI_NOTIFY_* plus the deployment-wide LINLI_* values."""

import logging
from functools import lru_cache
from pathlib import Path
from typing import Self

import apprise
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from linli_shared.settings import ServiceSettings

CLOCK = r"^([01]\d|2[0-3]):[0-5]\d$"
RUNGS = ("neighbour", "grid_worker", "community_worker")
DEFAULT_LADDER = list(RUNGS)
SMS_SCHEMES = ("json://", "jsons://")


class NotifySettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="LINLI_NOTIFY_",
        extra="ignore",
        populate_by_name=True,
        hide_input_in_errors=True,  # channel URLs carry secrets: an error names the field, not the value
    )

    database_url: str = "sqlite+aiosqlite:///./var/notify.db"
    http_port: int = 8104
    link_key: SecretStr | None = Field(
        default=None,
        min_length=32,
        description="Key of the acknowledgement links' signatures (LINLI_NOTIFY_LINK_KEY); where it is "
        "unset, LINLI_JWT_SECRET (a development machine) signs them.",
    )
    sign_in_code_key: SecretStr | None = Field(
        default=None,
        validation_alias="LINLI_SIGN_IN_CODE_KEY",
        description="Fernet key shared with the registry only: SMS sign-in codes arrive encrypted with it.",
    )
    channels: dict[str, list[str]] = Field(
        default_factory=dict,
        description="JSON: community code → Apprise URLs (json://…, mailtos://…, wecombot://…, "
        "dingtalk://…), each checked with Apprise at start-up. Secrets live in the environment only, "
        "never in the repository.",
    )
    sms_gateway: dict[str, str] = Field(
        default_factory=dict,
        description="JSON: community code → the SMS gateway's webhook as an Apprise json:// or jsons:// URL. "
        "A message to a person with a phone on record is posted there with `phone` in the JSON body.",
    )
    outbox_file: Path | None = Field(
        default=None,
        description="Development and demos: every notification is also appended here as a JSON line.",
    )
    public_url: str = Field(
        default="http://localhost:8104",
        description="This service's address as recipients reach it: acknowledgement links start with it.",
    )
    escalation_ladders: dict[str, list[str]] = Field(
        default_factory=dict,
        description="JSON: community code → rungs, lowest first (neighbour, grid_worker, community_worker).",
    )
    quiet_start: str = Field(
        default="22:00", pattern=CLOCK, description="Quiet hours of new contacts start (local, HH:MM)."
    )
    quiet_end: str = Field(
        default="07:00", pattern=CLOCK, description="…and end; equal to quiet_start means no quiet hours."
    )
    escalate_after_seconds: float = Field(default=900, gt=0, description="Unacknowledged urgent → next rung.")
    escalate_after_by_community: dict[str, float] = Field(
        default_factory=dict,
        description="JSON: community code → seconds before an unacknowledged alert climbs (default above), "
        'e.g. {"donglizhuang": 120} for a demo community whose ladder should climb within minutes.',
    )
    max_attempts: int = Field(default=6, ge=1, le=50, description="Tries per delivery before it fails.")
    retry_base_seconds: float = Field(default=30, gt=0, description="First retry delay; doubles each try.")
    retry_cap_seconds: float = Field(default=3600, gt=0)
    claim_seconds: float = Field(default=300, gt=0, description="A claimed delivery is retried after this.")
    dispatch_seconds: float = Field(default=5, gt=0, description="Pace of the dispatcher.")
    escalation_check_seconds: float = Field(default=60, gt=0, description="Pace of the escalation check.")
    digest_enabled: bool = Field(default=True, description="Send each grid worker a daily digest.")
    digest_hour: int = Field(
        default=7, ge=0, le=23, description="China-time hour from which each grid worker's daily digest goes."
    )
    digest_check_seconds: float = Field(default=300, gt=0, description="Pace of the daily digest check.")
    fund_public_url: str = Field(
        default="http://localhost:8103",
        description="The fund's address as the public reaches it: announcements link to its verification.",
    )
    tsa_url: str | None = Field(
        default=None,
        description="An RFC 3161 time-stamping authority (http or https); unset: hashes are witnessed "
        "without time-stamps. Each witnessed 公示 hash is sent there as the message imprint.",
    )
    tsa_timeout_seconds: float = Field(default=10, gt=0, description="One time-stamp request's limit.")
    timestamp_seconds: float = Field(default=30, gt=0, description="Pace of the time-stamping pass.")
    background_jobs: bool = Field(default=True, description="Run dispatcher and escalation (off in tests).")

    @field_validator("channels")
    @classmethod
    def apprise_urls_only(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for community, urls in value.items():
            for number, url in enumerate(urls, start=1):
                if not apprise_accepts(url):  # never echo the URL: it holds the bot's key or a password
                    raise ValueError(
                        f"channel URL number {number} of {community!r} is not one Apprise can use"
                    )
        return value

    @field_validator("sms_gateway")
    @classmethod
    def json_webhooks_only(cls, value: dict[str, str]) -> dict[str, str]:
        for community, url in value.items():
            if not url.startswith(SMS_SCHEMES):
                raise ValueError(f"the SMS gateway of {community!r} must be a json:// or jsons:// URL")
        return value

    @field_validator("tsa_url")
    @classmethod
    def http_tsa(cls, value: str | None) -> str | None:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("the time-stamping authority must be an http:// or https:// URL")
        return value or None

    @field_validator("escalation_ladders")
    @classmethod
    def known_rungs(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for community, ladder in value.items():
            if not ladder or set(ladder) - set(RUNGS) or len(set(ladder)) != len(ladder):
                raise ValueError(f"the ladder of {community!r} must list distinct rungs among {list(RUNGS)}")
        return value

    @field_validator("escalate_after_by_community")
    @classmethod
    def positive_waits(cls, value: dict[str, float]) -> dict[str, float]:
        for community, seconds in value.items():
            if not seconds > 0:
                raise ValueError(f"the escalation wait of {community!r} must be a positive number of seconds")
        return value

    @model_validator(mode="after")
    def links_can_be_signed(self) -> Self:
        if self.link_key is None and self.jwt_secret is None:
            raise ValueError("set LINLI_NOTIFY_LINK_KEY (32+ characters): it signs the acknowledgement links")
        return self

    def ack_key(self) -> str:
        """The key acknowledgement links are signed with."""
        key = self.link_key or self.jwt_secret
        assert key is not None  # links_can_be_signed
        return key.get_secret_value()

    def ladder(self, community: str | None) -> list[str]:
        return self.escalation_ladders.get(community or "", DEFAULT_LADDER)

    def escalate_after(self, community: str | None) -> float:
        return self.escalate_after_by_community.get(community or "", self.escalate_after_seconds)

    def apprise_urls(self, community: str | None) -> list[str]:
        return self.channels.get(community or "", [])

    def sms_url(self, community: str | None) -> str | None:
        return self.sms_gateway.get(community or "")

    def verification_url(self, district: str, community: str | None, sha256: str) -> str:
        """Where anyone checks a saved hash against the fund's chain and its witness."""
        base = self.fund_public_url.rstrip("/")
        return f"{base}/v1/public/funds/{district}/{community}/disclosures/verification?sha256={sha256}"


def apprise_accepts(url: str) -> bool:
    """Whether Apprise can send to the URL; its log, which would echo the URL's secrets, is muted."""
    logger = logging.getLogger("apprise")
    muted, logger.disabled = logger.disabled, True
    try:
        return apprise.Apprise.instantiate(url) is not None
    finally:
        logger.disabled = muted


@lru_cache
def get_settings() -> NotifySettings:
    return NotifySettings()  # values come from the environment
