"""The header stays short on a phone: a role with many pages shows a few and folds the rest."""

from __future__ import annotations

from linli_console.navigation import HOME, MENUS, SHOWN, all_pages, landing_path, menu


def test_no_role_has_more_links_in_the_header_than_fit() -> None:
    for role in MENUS:
        assert len(menu(role)) <= SHOWN + 1, role  # and 我能做什么


def test_a_long_menu_folds_under_more_and_the_home_page_lists_every_page() -> None:
    pages = all_pages("community_worker")
    assert len(pages) > SHOWN
    header = menu("community_worker")
    assert header[:-1] == pages[: SHOWN - 1]
    assert (header[-1].path, header[-1].label) == (HOME, "更多")
    assert [link.label for link in menu("volunteer")][-1] == "我能做什么"  # five pages still fit


def test_a_short_menu_keeps_every_page_and_what_the_role_can_do() -> None:
    assert [link.label for link in menu("grid_worker")] == ["今天", "提醒", "登记心愿", "我能做什么"]
    assert landing_path("grid_worker") == "/today"
    assert menu("auditor")[0].path == HOME  # a role without pages lands on what it can do
