"""A published report as people read it: a CSV table a spreadsheet opens, and the notice-board page.

Both are Jinja2 templates (templates/disclosure.csv, templates/disclosure.html) over the frozen
report's JSON: what a page says is decided when the period is published, never when it is read.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from linli_fund.api.publication_schemas import PublishedDisclosureOut
from linli_fund.domain import ANONYMOUS
from linli_fund.domain.labels import FUND_LABELS, PURPOSE_LABELS, SOURCE_LABELS
from linli_fund.models import PublishedDisclosure
from linli_shared.clock import CHINA_TIME
from linli_shared.qr import qr_svg
from linli_shared.tables import BOM, csv_templates
from linli_shared.words import day_words
from linli_shared.words import yuan as written_yuan

TEMPLATE_DIR = Path(__file__).parent / "templates"
PAGES = Environment(
    loader=FileSystemLoader(TEMPLATE_DIR),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
TABLES = csv_templates(TEMPLATE_DIR)


def yuan(fen: int) -> str:
    """A table's amount: 1,280.50 (the column says ¥)."""
    return written_yuan(fen, symbol=False)


TABLES.filters.update(yuan=yuan)


def moment_words(moment: str | datetime) -> str:
    """2026年12月2日 13:15, China time, whatever zone the moment was written in."""
    value = moment if isinstance(moment, datetime) else datetime.fromisoformat(str(moment))
    local = value.astimezone(CHINA_TIME) if value.tzinfo else value
    return f"{day_words(local.date())} {local.hour:02d}:{local.minute:02d}"


def place_words(report: dict[str, object]) -> str:
    """高桥营街道 · 东李庄社区 when the report carries the names; its codes until it does."""
    district = report.get("district_name") or report.get("district") or ""
    community = report.get("community_name") or report.get("community") or ""
    return f"{district} · {community}"


def as_csv(published: PublishedDisclosure) -> str:
    """One table a spreadsheet opens (UTF-8 with BOM): every line of the report, then its totals."""
    return BOM + TABLES.get_template("disclosure.csv").render(
        report=json.loads(published.report),
        sha256=published.sha256,
        previous_sha256=published.previous_sha256,
    )


def as_html(published: PublishedDisclosure, view: PublishedDisclosureOut, *, verify_url: str) -> str:
    """The notice-board page: the frozen report, its hash as a short code and a QR code leading to the
    verification of that hash, and the period's questions and answers (askers masked)."""
    report = json.loads(published.report)
    period_year = date.fromisoformat(str(report["last_day"])).year
    return PAGES.get_template("disclosure.html").render(
        report=report,
        place=place_words(report),
        day=lambda value: day_words(value, year=date.fromisoformat(str(value)[:10]).year != period_year),
        full_day=day_words,
        moment=moment_words,
        sha256=published.sha256,
        short_code=view.short_code,
        previous_sha256=published.previous_sha256,
        verify_url=verify_url,
        qr_svg=qr_svg(verify_url, label="校验二维码", scale=3),
        question_period=view.question_period,
        questions=view.questions,
        yuan=yuan,
        purpose_label=lambda purpose: PURPOSE_LABELS.get(purpose, purpose),
        fund_label=lambda fund: FUND_LABELS.get(fund, fund),
        source_label=lambda kind: SOURCE_LABELS.get(kind, kind),
        anonymous=ANONYMOUS,
    )
