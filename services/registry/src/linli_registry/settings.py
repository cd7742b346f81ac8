"""Registry settings: LINLI_REGISTRY_* plus the deployment-wide LINLI_* values."""

from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from linli_registry.signing import private_key
from linli_shared.settings import ServiceSettings
from linli_shared.token_keys import public_jwk


class RegistrySettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="LINLI_REGISTRY_",
        extra="ignore",
        populate_by_name=True,
        hide_input_in_errors=True,  # a refused key is named, never shown
    )

    database_url: str = "sqlite+aiosqlite:///./var/registry.db"
    http_port: int = 8101
    id_hash_key: SecretStr = Field(
        min_length=32, description="Key of the HMAC that stands in for national ID numbers."
    )
    care_check_seconds: float = Field(default=60, gt=0)
    signing_key: SecretStr | None = Field(
        default=None,
        description="Ed25519 private key (PEM) that signs access tokens; needed for sign-in. "
        "Its public key is served at /.well-known/jwks.json. Never in the repository.",
    )
    access_token_seconds: int = Field(default=900, ge=30, le=86400, description="Access token lifetime.")
    refresh_token_days: int = Field(default=30, ge=1, le=365, description="Refresh token lifetime.")
    sign_in_window_seconds: int = Field(default=900, ge=1, description="Window the lock-out counts in.")
    sign_in_failures_per_phone: int = Field(default=5, ge=1, description="Failures per phone in a window.")
    sign_in_failures_per_address: int = Field(
        default=30, ge=1, description="Failures per client address in a window."
    )
    sign_in_codes_per_address: int = Field(
        default=10, ge=1, description="SMS codes sent at one client address's asking in a window."
    )
    sign_in_code_key: SecretStr | None = Field(
        default=None,
        validation_alias="LINLI_SIGN_IN_CODE_KEY",
        description="Fernet key shared with notify only: SMS sign-in codes travel encrypted with it.",
    )
    sign_in_code_seconds: int = Field(default=300, ge=30, le=3600, description="How long a code holds.")

    @field_validator("signing_key")
    @classmethod
    def check_signing_key(cls, value: SecretStr | None) -> SecretStr | None:
        """A key that cannot sign is refused at start-up, not at the first sign-in."""
        if value is not None:
            private_key(value.get_secret_value())  # ValueError: not an Ed25519 private key in PEM
        return value

    @field_validator("sign_in_code_key")
    @classmethod
    def check_code_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            Fernet(value.get_secret_value().encode())  # ValueError: not a Fernet key
        return value

    def trusted_jwks(self) -> dict[str, Any] | None:
        """The configured keys and the registry's own public key: it verifies what it signs."""
        keys = list((self.jwks or {}).get("keys", []))
        if self.signing_key is not None:
            keys.append(public_jwk(private_key(self.signing_key.get_secret_value()).public_key()))
        return {"keys": keys}


@lru_cache
def get_settings() -> RegistrySettings:
    return RegistrySettings()  # type: ignore[call-arg]  # values come from the environment
