"""Registry settings: LINLI_REGISTRY_* plus the deployment-wide LINLI_* values."""

from functools import lru_cache

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from linli_shared.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="LINLI_REGISTRY_", extra="ignore", populate_by_name=True)

    database_url: str = "sqlite+aiosqlite:///./var/registry.db"
    http_port: int = 8101
    id_hash_key: SecretStr = Field(
        min_length=32, description="Key of the HMAC that stands in for national ID numbers."
    )
    care_check_seconds: float = Field(default=60, gt=0)


@lru_cache
def get_settings() -> RegistrySettings:
    return RegistrySettings()  # type: ignore[call-arg]  # values come from the environment
