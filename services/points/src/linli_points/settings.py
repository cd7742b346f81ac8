"""Points settings: LINLI_POINTS_* plus the deployment-wide LINLI_* values."""

from functools import lru_cache

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from linli_shared.settings import ServiceSettings


class PointsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="LINLI_POINTS_", extra="ignore", populate_by_name=True)

    database_url: str = "sqlite+aiosqlite:///./var/points.db"
    http_port: int = 8102
    points_expiry_check_seconds: float = Field(default=3600, gt=0, description="Pace of the expiry run.")
    wish_check_seconds: float = Field(default=60, gt=0, description="Pace of the wish-claim deadline check.")


@lru_cache
def get_settings() -> PointsSettings:
    return PointsSettings()  # values come from the environment
