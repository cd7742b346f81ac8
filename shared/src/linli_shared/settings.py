"""Settings common to every service, read from the environment by pydantic-settings."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Deployment-wide values use LINLI_*; a service's own values use LINLI_<SERVICE>_*.

    There is no default secret: a service refuses to start without one.
    """

    model_config = SettingsConfigDict(env_prefix="LINLI_", extra="ignore", populate_by_name=True)

    database_url: str
    database_pool_size: int = Field(
        default=10,
        ge=1,
        le=200,
        validation_alias="LINLI_DATABASE_POOL_SIZE",
        description="PostgreSQL connections each process keeps open, and as many again for a burst"
        " (workers x replicas x twice this must stay under the server's max_connections). The pool must"
        " cover the requests usually in flight: a connection opened beyond it is closed when given back"
        " (measured: 79 sessions opened for 160 donations at 8 in flight with a pool of 5).",
    )
    http_port: int
    nats_url: str = Field(default="nats://127.0.0.1:4222", validation_alias="LINLI_NATS_URL")
    jwt_secret: Annotated[SecretStr, Field(min_length=32)] | None = Field(
        default=None,
        validation_alias="LINLI_JWT_SECRET",
        description="Key of HS256 development and test tokens (`linli token`); unset in production, "
        "where only the registry's signing key can mint a token.",
    )
    jwks: dict[str, list[dict[str, str]]] | None = Field(
        default=None,
        validation_alias="LINLI_JWKS",
        description="Trusted public keys as an inline JWKS document (tests, compose).",
    )
    jwks_url: str | None = Field(
        default=None,
        validation_alias="LINLI_JWKS_URL",
        description="The registry's /.well-known/jwks.json: fetched when needed, cached.",
    )
    jwks_refetch_seconds: float = Field(
        default=30,
        gt=0,
        validation_alias="LINLI_JWKS_REFETCH_SECONDS",
        description="Least time between two fetches of LINLI_JWKS_URL on a token with an unknown key.",
    )
    district: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9_-]+$",
        validation_alias="LINLI_DISTRICT",
        description="The one district this service serves (a district site); unset, it serves all.",
    )
    stream_replicas: int = Field(
        default=1,
        ge=1,
        le=5,
        validation_alias="LINLI_STREAM_REPLICAS",
        description="Copies of each stream in the NATS cluster: 1 on one server, 3 on a 3-node cluster.",
    )
    relay_enabled: bool = Field(
        default=True, description="Publish the outbox; off only to run the relay elsewhere."
    )
    relay_poll_seconds: float = Field(default=0.5, gt=0)
    relay_linger_seconds: float = Field(
        default=0.02,
        ge=0,
        le=1,
        description="How long the relay lets commits gather before a pass: one pass (three round trips)"
        " publishes them all, at the cost of this much more latency.",
    )
    max_body_bytes: int = Field(
        default=1_048_576,
        ge=1024,
        validation_alias="LINLI_MAX_BODY_BYTES",
        description="The largest request body taken (413 beyond it), unless a route declares its own.",
    )
    inbox_batch_size: int = Field(
        default=250, ge=1, le=1000, description="Events a consumer fetches and applies in one transaction."
    )

    def trusted_jwks(self) -> dict[str, Any] | None:
        """The public keys this service trusts without fetching them."""
        return self.jwks
