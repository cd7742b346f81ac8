"""Console settings: LINLI_CONSOLE_*. The console keeps no data and holds no key that can mint a token."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SERVICE_NAMES = ("registry", "points", "fund", "notify")


class ConsoleSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LINLI_CONSOLE_", extra="ignore", populate_by_name=True)

    http_port: int = 8100
    registry_url: str = Field(default="http://127.0.0.1:8101", description="Where the registry answers.")
    points_url: str = "http://127.0.0.1:8102"
    fund_url: str = "http://127.0.0.1:8103"
    notify_url: str = "http://127.0.0.1:8104"
    service_timeout_seconds: float = Field(
        default=10, gt=0, le=60, description="How long a page waits for a service before saying it is down."
    )
    cookie_secure: bool = Field(
        default=True,
        description="Send the session cookies over HTTPS only; false only on a development machine "
        "served over plain HTTP (`linli run`, the browser tests).",
    )
    cookie_prefix: str = Field(default="linli", pattern=r"^[a-z][a-z0-9_]{0,20}$")
    refresh_cookie_days: int = Field(
        default=30,
        ge=1,
        le=365,
        description="How long the browser keeps the refresh token (the registry's own "
        "lifetime ends it sooner if shorter).",
    )
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="Origins a form may be posted from besides the console's own address (a reverse "
        "proxy's public address, e.g. https://linli.example.cn).",
    )

    @field_validator("registry_url", "points_url", "fund_url", "notify_url")
    @classmethod
    def check_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("a service address starts with http:// or https://")
        return value.rstrip("/")

    def url_of(self, service: str) -> str:
        urls = {
            "registry": self.registry_url,
            "points": self.points_url,
            "fund": self.fund_url,
            "notify": self.notify_url,
        }
        return urls[service]

    @property
    def access_cookie(self) -> str:
        return f"{self.cookie_prefix}_access"

    @property
    def refresh_cookie(self) -> str:
        return f"{self.cookie_prefix}_refresh"


@lru_cache
def get_settings() -> ConsoleSettings:
    return ConsoleSettings()
