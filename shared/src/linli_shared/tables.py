"""CSV that spreadsheets open, built by Jinja2 templates as the pages are: one environment for all.

A template writes one row per line with the `csv_row` filter (RFC 4180 quoting, CRLF line ends)
and passes text that people typed through `spreadsheet_safe`, so a name like '=HYPERLINK(…)' is
shown, not run. Prefix the result with BOM so spreadsheet programs read the Chinese right.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from jinja2 import Environment, FileSystemLoader

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """A cell a spreadsheet will not run as a formula (text only; numbers and blanks pass as they are)."""
    return f"'{value}" if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def csv_row(fields: Sequence[object]) -> str:
    """One CSV line, quoted where a field needs it, without its line end (the template adds it)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(fields)
    return out.getvalue()


def csv_templates(directory: Path) -> Environment:
    """Templates of CSV tables: no HTML escaping, block tags leave no blank lines, rows end in CRLF."""
    environment = Environment(
        loader=FileSystemLoader(directory),
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        newline_sequence="\r\n",
    )
    environment.filters.update(csv_row=csv_row, spreadsheet_safe=spreadsheet_safe)
    return environment
