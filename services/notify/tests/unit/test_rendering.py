"""Every template renders in Chinese and English from its sample; mistakes are caller errors."""

from __future__ import annotations

import pytest

from linli_notify.rendering import render, template_names, template_version
from linli_notify.rules import RULES, SAMPLES
from linli_shared.errors import Invalid, NotFound


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("name", template_names())
def test_each_template_renders_a_title_and_a_body(name: str, language: str) -> None:
    rendered = render(name, language, SAMPLES[name])
    assert rendered.title and rendered.body
    assert "{{" not in rendered.body


def test_every_rule_has_a_template_in_both_languages_and_a_sample() -> None:
    assert {rule.template for rule in RULES} <= set(template_names()) == set(SAMPLES)


def test_chinese_is_the_default_wording_and_english_is_available() -> None:
    assert "逾期" in render("visit_overdue", "zh", SAMPLES["visit_overdue"]).title
    assert "overdue" in render("visit_overdue", "en", SAMPLES["visit_overdue"]).title


def test_text_templates_are_not_html_escaped() -> None:
    rendered = render("stock_low", "en", {**SAMPLES["stock_low"], "item_name": "Rice & <oil>"})
    assert "Rice & <oil>" in rendered.title


def test_unknown_template_is_not_found_and_missing_data_is_invalid() -> None:
    with pytest.raises(NotFound):
        render("no_such", "zh", {})
    with pytest.raises(Invalid):
        render("stock_low", "zh", {"item_name": "米"})


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("name", template_names())
def test_every_template_declares_its_version_and_the_comment_is_not_rendered(
    name: str, language: str
) -> None:
    rendered = render(name, language, SAMPLES[name])
    assert rendered.version == template_version(name, language) >= 1
    assert "version" not in rendered.title


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("name", ["visit_overdue", "visit_overdue_guardian"])
def test_due_times_are_written_in_the_recipients_time_zone_not_as_iso_utc(name: str, language: str) -> None:
    data = {**SAMPLES[name], "due_at": "2026-03-10T01:00:00Z"}  # as the event's JSON payload carries it
    china = render(name, language, data).body
    assert "2026-03-10 09:00" in china and "T01:00" not in china and "Z" not in china
    assert "2026-03-10 01:00" in render(name, language, data, timezone="Europe/London").body


def test_text_that_is_not_an_instant_is_written_as_given() -> None:
    data = {**SAMPLES["visit_overdue"], "due_at": "今天上午"}
    assert "今天上午" in render("visit_overdue", "zh", data).body
