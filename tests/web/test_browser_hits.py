"""In a real browser, two bureaus at once: a border officer's check opens a case, the owning
bureau answers it with the keyboard alone, and the open case page of the querying side shows
the answer without a reload; accessibility of each page, and the pages in Arabic."""

from __future__ import annotations

import itertools
from collections.abc import Callable

from bordercheck.auth.models import Role
from tests.web.conftest import LiveConsole, Tab

_people = itertools.count(1)


def person(live: LiveConsole, role: Role, bureau: str) -> str:
    return live.add_user(f"hits.{role.value.split('_')[0]}.{next(_people)}", role, bureau)


def check(tab: Tab, number: str) -> str:
    """Check a DEU document on /check; the address of the case the hit opened."""
    tab.goto("/check")
    tab.page.fill("#document_number", number)
    tab.page.fill("#issuing_country", "DEU")
    tab.page.keyboard.press("Enter")
    tab.page.wait_for_selector("[data-result='hit']")
    link = tab.page.locator("a[href^='/hits/']").first
    href = link.get_attribute("href")
    assert href
    return href


def tab_to(tab: Tab, selector: str, limit: int = 60) -> None:
    """Press Tab until ``selector`` has the focus, as a keyboard user does."""
    for _ in range(limit):
        tab.page.keyboard.press("Tab")
        if tab.page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} cannot be reached with the Tab key")


def test_the_owner_answers_with_the_keyboard_and_the_querying_side_sees_it_live(
    live: LiveConsole, tab_factory: Callable[..., Tab]
) -> None:
    live.report("L1V3H1T01", "DEU")
    live.catch_up()
    querying = tab_factory()
    querying.sign_in(person(live, Role.BORDER_OFFICER, "FRA"))
    case = check(querying, "L1V3H1T01")
    querying.page.click(f"a[href='{case}']")
    querying.page.wait_for_url(live.url + case)
    assert querying.page.locator("[data-answer='']").count() == 1
    querying.assert_accessible()

    owner = tab_factory()
    owner.sign_in(person(live, Role.BUREAU_OFFICER, "DEU"))
    owner.goto("/hits")
    owner.page.wait_for_selector(f"#inbox a[href='{case}']")
    # The menu counts the cases waiting for the bureau's answer.
    owner.page.wait_for_selector("nav.menu .badge")
    owner.assert_accessible()
    owner.page.click(f"#inbox a[href='{case}']")
    owner.page.wait_for_url(live.url + case)
    owner.assert_accessible()
    # Keyboard only: Tab to the note, type it, Tab to "Confirmed", Enter.
    tab_to(owner, "#answer_note")
    owner.page.keyboard.type("Passport stolen in Bonn; keep it.")
    tab_to(owner, "button[value='confirmed']")
    owner.page.keyboard.press("Enter")
    owner.page.wait_for_selector("[data-answer='confirmed']")
    assert owner.page.locator("#answer-area form").count() == 0

    # The querying side's page, open all along, shows the answer by itself.
    querying.page.wait_for_selector("[data-answer='confirmed']", timeout=15_000)
    assert "Passport stolen in Bonn; keep it." in querying.page.inner_text("#case-status")
    querying.assert_accessible()
    tab_to(querying, "button[value='seized']")
    querying.page.keyboard.press("Enter")
    querying.page.wait_for_selector("[data-outcome='seized']")
    querying.assert_accessible()

    # The owner's open page hears of the outcome as well.
    owner.page.wait_for_selector("[data-outcome='seized']", timeout=15_000)
    owner.goto("/notifications")
    assert owner.page.locator(f".notification a[href='{case}']").count() >= 2
    owner.assert_accessible()
    owner.page.click("form.mark-all button")
    owner.page.wait_for_load_state()
    assert owner.page.locator(".notification-unread").count() == 0


def test_a_message_in_the_case_thread_shows_on_the_other_side_without_reload(
    live: LiveConsole, tab_factory: Callable[..., Tab]
) -> None:
    live.report("L1V3H1T02", "DEU")
    live.catch_up()
    border = tab_factory()
    border.sign_in(person(live, Role.BORDER_OFFICER, "FRA"))
    case = check(border, "L1V3H1T02")
    querying = tab_factory()
    querying.sign_in(person(live, Role.BUREAU_OFFICER, "FRA"))
    querying.goto(case)
    owner = tab_factory()
    owner.sign_in(person(live, Role.BUREAU_OFFICER, "DEU"))
    owner.goto(case)
    owner.page.fill("#body", "Is the traveller still at the desk?")
    owner.page.click("#reply button[type=submit]")
    owner.page.wait_for_selector("#thread-messages >> text=Is the traveller still at the desk?")
    assert owner.page.input_value("#body") == "", "the form is ready for the next message"
    querying.page.wait_for_selector(
        "#thread-messages >> text=Is the traveller still at the desk?", timeout=15_000
    )
    querying.assert_accessible()


def test_the_hits_pages_in_arabic_read_right_to_left(
    live: LiveConsole, tab_factory: Callable[..., Tab]
) -> None:
    live.report("L1V3H1T03", "DEU")
    live.catch_up()
    querying = tab_factory()
    querying.sign_in(person(live, Role.BORDER_OFFICER, "FRA"))
    case = check(querying, "L1V3H1T03")
    owner = tab_factory("ar")
    owner.sign_in(person(live, Role.BUREAU_OFFICER, "DEU"))
    for path in ("/hits", case, "/notifications"):
        owner.goto(path)
        assert owner.page.locator("html").get_attribute("dir") == "rtl"
        direction = owner.page.evaluate(
            "getComputedStyle(document.querySelector('main')).direction"
        )
        assert direction == "rtl"
        owner.assert_accessible()
