"""In a real browser: signing in, checking documents by number and by MRZ, the keyboard-wedge
reader, languages, and accessibility of each page on the way."""

from __future__ import annotations

import itertools
from collections.abc import Callable

from bordercheck.auth.models import Role
from tests.web.conftest import LiveConsole, Tab
from tests.web.test_console import passport_mrz

_people = itertools.count(1)


def person(live: LiveConsole, role: Role = Role.BORDER_OFFICER, bureau: str = "FRA") -> str:
    return live.add_user(f"{role.value.split('_')[0]}.{next(_people)}", role, bureau)


def test_a_border_officer_signs_in_and_checks_by_number(live: LiveConsole, tab: Tab) -> None:
    record = live.report("B0RD3R001", "DEU")
    live.catch_up()
    tab.sign_in(person(live))
    tab.assert_accessible()
    tab.goto("/check")
    tab.assert_accessible()
    tab.page.fill("#document_number", record.document_number)
    tab.page.fill("#issuing_country", "DEU")
    tab.page.keyboard.press("Enter")
    answer = tab.page.wait_for_selector("[data-result]")
    assert answer.get_attribute("data-result") == "hit"
    assert "HIT" in answer.inner_text()
    assert tab.page.locator("a[href^='/hits/']").count() >= 1
    tab.assert_accessible()
    # The next document: the number field is ready, the answer is replaced.
    tab.page.keyboard.type("ABSENT123")
    tab.page.keyboard.press("Enter")
    tab.page.wait_for_selector("[data-result='no_hit']")


def test_a_keyboard_wedge_reader_checks_on_the_last_line(live: LiveConsole, tab: Tab) -> None:
    live.report("W3DG30001", "DEU")
    live.catch_up()
    tab.sign_in(person(live))
    tab.goto("/check?mode=mrz")
    first, second = passport_mrz("W3DG30001", "DEU").split("\n")
    # A reader types each line followed by Enter, as a keyboard would.
    tab.page.focus("#mrz")
    tab.page.keyboard.type(first)
    tab.page.keyboard.press("Enter")
    assert tab.page.locator("[data-result]").count() == 0, "one line is not a whole MRZ"
    tab.page.keyboard.type(second)
    tab.page.keyboard.press("Enter")
    answer = tab.page.wait_for_selector("[data-result]")
    assert answer.get_attribute("data-result") == "hit"
    tab.assert_accessible()


def test_a_second_factor_is_asked_when_the_person_has_one(live: LiveConsole, tab: Tab) -> None:
    import pyotp

    username = person(live)
    tab.sign_in(username)
    tab.goto("/account/second-factor")
    tab.assert_accessible()
    secret = tab.page.get_attribute("input[name=secret]", "value")
    assert secret
    tab.page.fill("#code", pyotp.TOTP(secret).now())
    tab.page.click("main form button[type=submit]")
    assert tab.page.locator("[data-recovery-codes] li").count() == 10
    tab.page.click("form.sign-out button")
    tab.page.wait_for_url(live.url + "/")
    tab.sign_in(username)
    assert tab.page.url.endswith("/sign-in/second-factor")
    tab.assert_accessible()
    totp = pyotp.TOTP(secret)
    import time

    tab.page.fill("#code", totp.at(time.time() + totp.interval))
    tab.page.click("main form button[type=submit]")
    tab.page.wait_for_url(live.url + "/home")


def test_each_language_and_arabic_right_to_left(
    live: LiveConsole, tab_factory: Callable[..., Tab]
) -> None:
    for language in ("fr", "es", "ar"):
        tab = tab_factory(language)
        tab.goto("/")
        html = tab.page.locator("html")
        assert html.get_attribute("lang") == language
        assert html.get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
        tab.assert_accessible()
        tab.sign_in(person(live))
        tab.goto("/check")
        direction = tab.page.evaluate("getComputedStyle(document.querySelector('main')).direction")
        assert direction == ("rtl" if language == "ar" else "ltr")
        tab.assert_accessible()


def test_the_language_switch_works_from_the_page(live: LiveConsole, tab: Tab) -> None:
    tab.sign_in(person(live))
    tab.goto("/check")
    tab.page.select_option("#language-switch", "ar")
    tab.page.wait_for_function("document.documentElement.dir === 'rtl'")
    assert tab.page.url.endswith("/check")


def test_the_accessibility_check_finds_what_it_should(live: LiveConsole, tab: Tab) -> None:
    tab.goto("/")
    tab.page.evaluate(
        "document.querySelector('main').insertAdjacentHTML('beforeend', '<input id=bare>')"
    )
    assert any(v.startswith("label") for v in tab.accessibility_violations())
