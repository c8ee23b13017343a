"""In a real browser: a bureau officer adds a record that a border officer's check then hits,
imports a file with a bad row and reads the report; a border officer is refused; every page
passes axe-core, and one is read in Arabic, right to left."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

from bordercheck.auth.models import Role
from tests.web.conftest import LiveConsole, Tab

_people = itertools.count(1)


def person(live: LiveConsole, role: Role, bureau: str) -> str:
    return live.add_user(f"records.{role.value}.{next(_people)}", role, bureau)


def test_a_record_added_in_the_console_is_a_hit_at_the_border(
    live: LiveConsole, tab_factory: Callable[..., Tab]
) -> None:
    officer = tab_factory("en")
    officer.sign_in(person(live, Role.BUREAU_OFFICER, "DEU"))
    officer.goto("/records")
    officer.assert_accessible()
    officer.page.click("a[href='/records/new']")
    officer.page.wait_for_selector("form.record-form")
    officer.assert_accessible()
    officer.page.fill("#document_number", "BR0WS3R01")
    officer.page.select_option("#status", "stolen")
    officer.page.fill("#event_place", "Köln")
    officer.page.click("form.record-form button[type=submit]")
    officer.page.wait_for_selector("[data-record-state='active']")
    assert "BR0WS3R01" in officer.page.inner_text("h1")
    officer.assert_accessible()
    # A second look: the form again, with an error summary, for a number already recorded.
    officer.goto("/records/new")
    officer.page.fill("#document_number", "BR0WS3R01")
    officer.page.click("form.record-form button[type=submit]")
    officer.page.wait_for_selector(".error-summary")
    officer.assert_accessible()

    border = tab_factory("en")
    border.sign_in(person(live, Role.BORDER_OFFICER, "FRA"))
    border.goto("/check")
    border.page.fill("#document_number", "BR0WS3R01")
    border.page.fill("#issuing_country", "DEU")
    border.page.keyboard.press("Enter")
    answer = border.page.wait_for_selector("[data-result]")
    assert answer.get_attribute("data-result") == "hit"
    # The border officer may not open the records pages.
    refused = border.goto("/records")
    assert refused.status == 403
    border.assert_accessible()


def test_an_import_with_a_bad_row_shows_the_report_naming_the_row(
    live: LiveConsole, tab: Tab, tmp_path: Path
) -> None:
    upload = tmp_path / "lot.csv"
    upload.write_text(
        "document_number,issuing_country,document_type,status\n"
        "BR0WS3R02,DEU,passport,stolen\n"
        "BR0WS3R03,DEU,passport,misplaced\n",
        encoding="utf-8",
    )
    tab.sign_in(person(live, Role.BUREAU_OFFICER, "DEU"))
    tab.goto("/records/import")
    tab.assert_accessible()
    tab.page.set_input_files("#file", str(upload))
    tab.page.click("form[action='/records/import'] button[type=submit]")
    tab.page.wait_for_selector("[data-import-state='rejected']")
    row = tab.page.locator("tr[data-line='3']")
    assert "status" in row.inner_text()
    assert "Nothing was imported" in tab.page.inner_text("#import-status")
    tab.assert_accessible()
    with tab.page.expect_download() as download:
        tab.page.click("a[href$='/rejected']")
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert "BR0WS3R03" in text
    assert "rejected_because" in text


def test_the_records_pages_in_arabic_read_right_to_left(
    live: LiveConsole, tab_factory: Callable[..., Tab]
) -> None:
    record = live.report("BR0WS3R04", "DEU")
    tab = tab_factory("ar")
    tab.sign_in(person(live, Role.BUREAU_OFFICER, "DEU"))
    tab.goto("/records")
    assert tab.page.get_attribute("html", "dir") == "rtl"
    assert tab.page.get_attribute("html", "lang") == "ar"
    assert "السجلات" in tab.page.inner_text("h1")
    tab.assert_accessible()
    tab.goto(f"/records/{record.id}")
    assert tab.page.get_attribute("html", "dir") == "rtl"
    tab.assert_accessible()
