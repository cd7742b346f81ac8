"""The fund demo: 东李庄社区's love fund, from demo_data.toml, loaded through the fund's HTTP API.

The registry's demo makes the community and its residents; this one makes what the love fund
keeps for it: last month's everyday gifts, booked on the days they came in, and that month
published (公示), so the public page shows a frozen period with money in it; this quarter's
donation drive (about 30,000 yuan from some twenty donors); a school-fee commitment for the
community's orphan until the child turns 18 with its first term paid out of it; and a
medical-help payment requested, approved twice and paid.

It resumes where an earlier, interrupted load stopped: every write carries a deterministic
Idempotency-Key, so sending it again answers with what the first made, and the commitment is
looked up before it is made. The publication comes last: once it is there, the demo is whole.
Beneficiaries are given by their registry resident id, which the fund learns from the registry's
events a little later: a request answered 422 "not known" is retried until `timeout` passes.
"""

from linli_fund.demo.loader import Loader, Tokens, load_demo
from linli_fund.demo.plan import (
    COMMUNITY,
    COMMUNITY_NAME,
    DATA,
    DISTRICT,
    MEDICAL_HELP_FEN,
    PARTY_DONORS,
    TERM_FEE_FEN,
    TERM_MONTHS,
    DemoGift,
    drive_name,
    last_month_of,
    plan_gifts,
    quarter_of,
    school_terms,
)
from linli_shared.demo_api import RETRY_PAUSE, DemoLoadError

__all__ = [
    "COMMUNITY",
    "COMMUNITY_NAME",
    "DATA",
    "DISTRICT",
    "MEDICAL_HELP_FEN",
    "PARTY_DONORS",
    "RETRY_PAUSE",
    "TERM_FEE_FEN",
    "TERM_MONTHS",
    "DemoGift",
    "DemoLoadError",
    "Loader",
    "Tokens",
    "drive_name",
    "last_month_of",
    "load_demo",
    "plan_gifts",
    "quarter_of",
    "school_terms",
]
