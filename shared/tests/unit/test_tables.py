from __future__ import annotations

from pathlib import Path

from linli_shared.tables import csv_templates, spreadsheet_safe


def test_text_that_a_spreadsheet_would_run_is_quoted_and_numbers_pass() -> None:
    assert spreadsheet_safe("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert spreadsheet_safe("-1+1") == "'-1+1"
    assert spreadsheet_safe("磨刀 sharpening") == "磨刀 sharpening"
    assert spreadsheet_safe(-100) == -100 and spreadsheet_safe(None) is None


def test_a_csv_template_writes_quoted_rows_ending_in_crlf(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text(
        '{{ ["a", "b,c"] | csv_row }}\n{% for n in names %}\n{{ [n] | csv_row }}\n{% endfor %}\n'
    )
    rendered = csv_templates(tmp_path).get_template("t.csv").render(names=['say "hi"', "<b>"])
    assert rendered == 'a,"b,c"\r\n"say ""hi"""\r\n<b>\r\n'
