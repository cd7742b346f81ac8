"""The community's statistics as charts a person would rather look at than read: residents by grid,
by tag and by age band, drawn on the server as inline SVG bars (no script, nothing from elsewhere),
each with its numbers in a table beside it for screen readers and for those who want the figures."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request, Response

from linli_console.places import signed_in
from linli_console.rendering import render
from linli_console.session import Desk, Person
from linli_console.words import TAG_NAMES

router = APIRouter(include_in_schema=False)

TAG_FIELDS = {
    "living_alone": "living_alone",
    "lonely": "lonely",
    "disabled": "disabled",
    "bedridden": "bedridden",
    "dibao": "dibao",
    "poor_household": "poor_household",
    "orphans": "orphan",
    "children_in_difficulty": "child_in_difficulty",
    "veterans": "veteran",
    "party_members": "party_member",
}
"""The statistics' count of each tag, and the tag it counts (for its Chinese name)."""
NO_GRID = "未分网格"
LABEL_WIDTH = 96
BAR_WIDTH = 200
ROW_HEIGHT = 30
LABEL_CHARACTERS = 6


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    y: int
    width: int

    @property
    def short_label(self) -> str:
        """The label as the chart has room for it (the table beside it gives it whole)."""
        return self.label if len(self.label) <= LABEL_CHARACTERS else self.label[: LABEL_CHARACTERS - 1] + "…"


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    bars: list[Bar]
    total_label: str
    total: int

    @property
    def height(self) -> int:
        return max(1, len(self.bars)) * ROW_HEIGHT

    label_width = LABEL_WIDTH
    bar_width = BAR_WIDTH
    view_width = LABEL_WIDTH + BAR_WIDTH + 48


def chart_of(
    key: str, title: str, counts: Iterable[tuple[str, int]], *, total: int, total_label: str
) -> Chart:
    """Bars scaled to the largest count; a count above zero always shows at least a sliver."""
    pairs = list(counts)
    largest = max((value for _, value in pairs), default=0)
    bars = [
        Bar(
            label,
            value,
            index * ROW_HEIGHT,
            0 if value <= 0 or largest <= 0 else max(2, round(BAR_WIDTH * value / largest)),
        )
        for index, (label, value) in enumerate(pairs)
    ]
    return Chart(key, title, bars, total_label, total)


def summed(rows: list[dict[str, Any]], field: str) -> int:
    return sum(int(row.get(field) or 0) for row in rows)


def by_grid(rows: list[dict[str, Any]], grid_names: dict[str, str]) -> Chart:
    counts = [
        (grid_names.get(str(row.get("grid_code") or ""), row.get("grid_code") or NO_GRID), row)
        for row in rows
    ]
    counts.sort(key=lambda pair: (pair[0] == NO_GRID, pair[0]))
    return chart_of(
        "grid",
        "各网格居民人数",
        [(str(name), int(row["population"])) for name, row in counts],
        total=summed(rows, "population"),
        total_label="社区在册居民",
    )


def by_tag(rows: list[dict[str, Any]]) -> Chart:
    counts = [(TAG_NAMES[tag], summed(rows, field)) for field, tag in TAG_FIELDS.items()]
    return chart_of(
        "tag",
        "各类关爱对象人数",
        counts,
        total=sum(value for _, value in counts),
        total_label="标签合计（一人可有多个标签）",
    )


def by_age_band(rows: list[dict[str, Any]]) -> Chart:
    """Under 60, 60-69, 70-79, 80 and over, from the counts of 60+, 70+ and 80+."""
    population, sixty, seventy, eighty = (
        summed(rows, field) for field in ("population", "aged_60_plus", "aged_70_plus", "aged_80_plus")
    )
    return chart_of(
        "age",
        "各年龄段居民人数",
        [
            ("60岁以下", population - sixty),
            ("60–69岁", sixty - seventy),
            ("70–79岁", seventy - eighty),
            ("80岁及以上", eighty),
        ],
        total=population,
        total_label="社区在册居民",
    )


async def grid_names_of(desk: Desk, person: Person) -> dict[str, str]:
    if not person.district or not person.community:
        return {}
    places = {"district": person.district, "community": person.community}
    grids = await desk.call("registry", "GET", "/v1/grids", params=places)
    return {str(grid["code"]): str(grid["name"]) for grid in grids}


@router.get("/statistics")
async def statistics_page(request: Request) -> Response:
    """The person's community as the registry counts it (the registry decides what the role reads)."""
    desk, person = await signed_in(request)
    rows, grid_names = await asyncio.gather(
        desk.call("registry", "GET", "/v1/statistics", params={"by": "grid"}),
        grid_names_of(desk, person),
    )
    if person.community:
        rows = [row for row in rows if row.get("community") == person.community]
    charts = [by_grid(rows, grid_names), by_tag(rows), by_age_band(rows)] if rows else []
    return render(request, "statistics.html", {"charts": charts})
