"""In a real browser the width of a phone: a bureau officer's pages keep to the screen in
every language of the console (Arabic right to left), wide tables scrolling on their own,
and stay accessible."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bordercheck.auth.models import Role
from bordercheck.web.i18n import LANGUAGES
from tests.web.conftest import LiveConsole, Tab

PHONE = {"width": 390, "height": 844}
PAGES = (
    "/home", "/records", "/records/new", "/directory", "/manifests", "/hits", "/messages",
    "/notifications",
)  # fmt: skip


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_a_bureau_officers_pages_keep_to_a_phones_screen(
    live: LiveConsole, tab_factory: Callable[..., Tab], language: str
) -> None:
    officer = tab_factory(language)
    officer.page.set_viewport_size(PHONE)
    officer.sign_in(live.add_user(f"phone.{language}", Role.BUREAU_OFFICER, "DEU"))
    officer.goto("/records/new")
    officer.page.fill("#document_number", f"PH0N3{language.upper()}01")
    officer.page.select_option("#status", "stolen")
    officer.page.fill("#event_place", "Frankfurt am Main, Terminal 1, Gate B44")
    officer.page.click("form.record-form button[type=submit]")
    officer.page.wait_for_selector("[data-record-state='active']")
    for path in PAGES:
        assert officer.goto(path).status == 200, path
        page_width, screen = officer.page.evaluate(
            "() => [document.documentElement.scrollWidth, window.innerWidth]"
        )
        assert page_width <= screen, f"{path} in {language}: {page_width} px on {screen}"
        officer.assert_accessible()
