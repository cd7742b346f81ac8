"""Fund settings: LINLI_FUND_* plus the deployment-wide LINLI_* values."""

from functools import lru_cache

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from linli_fund.domain import BACKDATE_DAYS
from linli_shared.settings import ServiceSettings


class FundSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="LINLI_FUND_", extra="ignore", populate_by_name=True)

    database_url: str = "sqlite+aiosqlite:///./var/fund.db"
    http_port: int = 8103
    second_approval_above_fen: int = Field(
        default=200_000, ge=0, description="Disbursements above this many fen need two distinct approvals."
    )
    balance_low_below_fen: int = Field(
        default=100_000,
        ge=0,
        description="A payment taking a fund's available money below this many fen: fund.balance_low.",
    )
    request_instalments: bool = Field(
        default=True,
        description="Request scheduled instalments as they fall due (tests run the job themselves).",
    )
    donation_backdate_days: int = Field(
        default=BACKDATE_DAYS,
        ge=0,
        le=366,
        description="Days back a donation may be booked (received_on); never into a published period.",
    )
    instalment_check_seconds: float = Field(
        default=3600, gt=0, description="Pace of the check that requests scheduled instalments falling due."
    )
    witness_url: str = Field(
        default="",
        description="Base URL of the service keeping a witness copy of published hashes (notify, e.g. "
        "http://127.0.0.1:8104); empty: the public verification checks the chain only.",
    )
    witness_timeout_seconds: float = Field(
        default=2.0, gt=0, le=30, description="How long the public verification waits for the witness."
    )


@lru_cache
def get_settings() -> FundSettings:
    return FundSettings()  # values come from the environment
