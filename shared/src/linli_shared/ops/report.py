"""`linli report monthly`: fetch each service's section of a month's report and write the workbook
(and/or the JSON) the street office asks for. Imports httpx and openpyxl only when it runs."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from linli_shared.auth import Role, issue_token
from linli_shared.ops.targets import parse_pairs, service_urls

SECTIONS = ("registry", "notify", "points", "fund")
TIMEOUT_SECONDS = 60.0


class SectionFailed(Exception):
    """A service did not give its section; the message is one line for the operator."""


def register(verbs: Any, jwt_secret: Callable[[], str]) -> None:
    """Add `linli report monthly` to `linli`'s sub-commands."""
    report = verbs.add_parser("report", help="reports composed from every service")
    kinds = report.add_subparsers(dest="report_kind", required=True)
    monthly = kinds.add_parser("monthly", help="the monthly community report, as .xlsx and/or JSON")
    monthly.add_argument("--month", help="YYYY-MM, China time (default: the last whole month)")
    monthly.add_argument("--district", help="only this district (a city admin's token sees every one)")
    monthly.add_argument("--community", help="only this community (with --district for a city admin)")
    monthly.add_argument("--out", type=Path, help="write the workbook here (.xlsx)")
    monthly.add_argument(
        "--json", dest="json_out", help="write the composed report as JSON here ('-': stdout)"
    )
    monthly.add_argument(
        "--url",
        action="append",
        metavar="NAME=URL",
        help="a service's HTTP URL (repeat; default all four here)",
    )
    monthly.add_argument(
        "--token",
        help="bearer token (default LINLI_TOKEN; else, on a development machine, a city or district admin's "
        "HS256 token signed with LINLI_JWT_SECRET)",
    )
    monthly.set_defaults(handler=lambda args: command_monthly(args, jwt_secret))


def command_monthly(args: argparse.Namespace, jwt_secret: Callable[[], str]) -> int:
    from linli_shared.errors import Invalid
    from linli_shared.monthly_report import Month, compose, write_workbook

    if args.out is None and args.json_out is None:
        print("linli report monthly: give --out FILE.xlsx and/or --json FILE", file=sys.stderr)
        return 2
    try:
        urls = parse_pairs(args.url, "--url") or service_urls(os.environ)
        token = args.token or os.environ.get("LINLI_TOKEN") or development_token(jwt_secret, args.district)
        month = Month.asked(args.month).label  # asked of every service alike, even at midnight
        query = {"month": month, "district": args.district, "community": args.community}
        sections = asyncio.run(fetch_sections(urls, token, query))
    except Invalid as error:
        print(f"linli report monthly: {error.detail}", file=sys.stderr)
        return 2
    except (ValueError, SectionFailed) as error:
        print(f"linli report monthly: {error}", file=sys.stderr)
        return 1
    report = compose(sections)
    if args.out is not None:
        print(f"wrote {write_workbook(report, args.out)}", file=sys.stderr)
    if args.json_out == "-":
        print(json.dumps(report, ensure_ascii=False, indent=2))
    elif args.json_out is not None:
        Path(args.json_out).write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
        print(f"wrote {args.json_out}", file=sys.stderr)
    return 0


def development_token(jwt_secret: Callable[[], str], district: str | None) -> str:
    """A development token over the whole city, or one district: accepted only where LINLI_JWT_SECRET is."""
    role = Role.DISTRICT_ADMIN if district else Role.CITY_ADMIN
    return issue_token(jwt_secret(), role=role, district=district, subject="linli-report")


async def fetch_sections(
    urls: Mapping[str, str], token: str, query: Mapping[str, str | None], transport: Any = None
) -> dict[str, Any]:
    """Each service's section of the month, by service name; every one of the four must answer."""
    import httpx

    missing = [name for name in SECTIONS if name not in urls]
    if missing:
        raise SectionFailed(f"no URL for {', '.join(missing)} (give --url NAME=URL)")
    params = {key: value for key, value in query.items() if value}
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS, headers=headers, transport=transport) as client:

        async def fetch(name: str) -> Any:
            try:
                response = await client.get(f"{urls[name]}/v1/reports/monthly", params=params)
            except httpx.HTTPError as error:
                raise SectionFailed(
                    f"{name} at {urls[name]} did not answer ({type(error).__name__})"
                ) from error
            if response.status_code != 200:
                raise SectionFailed(f"{name} answered {response.status_code}: {problem_detail(response)}")
            return response.json()

        answers = await asyncio.gather(*(fetch(name) for name in SECTIONS))
    return dict(zip(SECTIONS, answers, strict=True))


def problem_detail(response: Any) -> str:
    try:
        body = response.json()
    except ValueError:
        return str(response.text)[:200]
    return str(body.get("detail", body)) if isinstance(body, dict) else str(body)[:200]
