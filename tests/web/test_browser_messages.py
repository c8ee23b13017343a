"""In a real browser: a message with a file from one bureau appears on the other's open thread
page and is downloaded; the contact directory searched and saved as vCards; each page checked
for accessibility, one of them in Arabic."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

from bordercheck.auth.models import Role
from tests.web.conftest import LiveConsole, Tab

_people = itertools.count(1)
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


def officer(live: LiveConsole, bureau: str) -> str:
    return live.add_user(f"officer.{bureau.lower()}.{next(_people)}", Role.BUREAU_OFFICER, bureau)


def test_a_message_with_a_file_appears_live_and_is_downloaded(
    live: LiveConsole, tab_factory: Callable[..., Tab], tmp_path: Path
) -> None:
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(PDF)
    deu, fra = tab_factory("en"), tab_factory("en")
    deu.sign_in(officer(live, "DEU"))
    fra.sign_in(officer(live, "FRA"))

    deu.goto("/messages/new")
    deu.assert_accessible()
    deu.page.select_option("#recipients", "FRA")
    deu.page.fill("#subject", "Blank passports, series C01")
    deu.page.fill("#body", "Have you seen any of these?")
    deu.page.click("main form button[type=submit]")
    deu.page.wait_for_selector("[data-message]")
    deu.assert_accessible()
    thread = deu.page.url.split("/messages/")[1].split("#")[0]

    fra.goto("/messages")
    assert fra.page.locator(".thread-unread").count() >= 1
    fra.assert_accessible()
    fra.goto(f"/messages/{thread}")
    fra.page.wait_for_selector("text=Have you seen any of these?")
    fra.assert_accessible()

    deu.page.fill("#body", "Here is the scan of one.")
    deu.page.set_input_files("#attachments", str(scan))
    deu.page.click("form.message-form button[type=submit]")
    deu.page.wait_for_selector("text=Here is the scan of one.")

    # FRA's page, left open, shows the reply without a reload.
    fra.page.wait_for_selector("text=Here is the scan of one.", timeout=15_000)
    assert fra.page.locator("[data-thread-log][aria-live=polite]").count() == 1
    with fra.page.expect_download() as download:
        fra.page.click("a:has-text('scan.pdf')")
    saved = tmp_path / "downloaded.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes() == PDF
    fra.assert_accessible()


def test_the_directory_is_searched_kept_and_saved_as_vcards(
    live: LiveConsole, tab_factory: Callable[..., Tab], tmp_path: Path
) -> None:
    tab = tab_factory("en")
    tab.sign_in(officer(live, "DEU"))
    tab.goto("/directory/new")
    tab.assert_accessible()
    tab.page.fill("#name", "Anna Keller")
    tab.page.fill("#function", "Focal point, migrant smuggling")
    tab.page.fill("#unit", "Smuggling of migrants")
    tab.page.check("#topic-migrant_smuggling")
    tab.page.fill("#languages", "de en")
    tab.page.fill("#phone", "+49 611 55-0")
    tab.page.fill("#email", "smuggling@bka.example")
    tab.page.fill("#hours", "Mon-Fri 08:00-17:00")
    tab.page.fill("#time_zone", "Europe/Berlin")
    tab.page.click("main form button[type=submit]")
    tab.page.wait_for_selector("h1:has-text('Anna Keller')")
    tab.assert_accessible()

    tab.goto("/directory")
    tab.page.fill("#country", "DEU")
    tab.page.select_option("#topic", "migrant_smuggling")
    tab.page.click("form.directory-search button[type=submit]")
    tab.page.wait_for_selector("[data-entry]")
    tab.assert_accessible()
    with tab.page.expect_download() as download:
        tab.page.click("[data-vcards]")
    saved = tmp_path / "directory.vcf"
    download.value.save_as(saved)
    assert "FN:Anna Keller" in saved.read_text()


def test_messages_and_the_directory_in_arabic(
    live: LiveConsole, tab_factory: Callable[..., Tab]
) -> None:
    tab = tab_factory("ar")
    tab.sign_in(officer(live, "FRA"))
    tab.goto("/messages")
    assert tab.page.get_attribute("html", "dir") == "rtl"
    assert "الرسائل" in tab.page.inner_text("h1")
    tab.assert_accessible()
    tab.goto("/directory")
    assert "دليل جهات الاتصال" in tab.page.inner_text("h1")
    tab.assert_accessible()
