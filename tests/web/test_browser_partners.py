"""In a real browser, in every language: a partner organisation's account sees the operation
it is invited to, its figures and its thread, and only those in its menu; removed from the
operation, it loses it at once. Every page is checked for accessibility."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from bordercheck.auth import service as auth_service
from bordercheck.auth.models import Role
from bordercheck.auth.tokens import Principal
from bordercheck.operations import service, thread
from bordercheck.operations.service import NewOperation
from bordercheck.web.i18n import LANGUAGES
from tests.web.conftest import LiveConsole, Tab

_numbers = itertools.count(1)


def partner_and_operation(live: LiveConsole) -> tuple[str, str, int]:
    """A partner organisation of its own with one account, and an operation not yet theirs."""
    n = next(_numbers)
    code = f"Q{chr(ord('A') + n)}Z"
    today = datetime.now(UTC).date()
    admin = Principal(kind="user", id="0", name="root", role=Role.ADMIN, bureau_code="DEU")
    with live.database.session(write=True) as session:
        auth_service.add_partner(session, code, f"Partner agency {n}")
        new = NewOperation(
            name=f"Blue Gate {n}", purpose="Two airports.", starts_on=today - timedelta(days=1),
            ends_on=today + timedelta(days=2), locations=["CDG"], bureaus=["FRA"],
        )  # fmt: skip
        operation = service.create(session, admin, "XPO", new)
        thread.ensure(session, live.app.state.settings, admin.actor(), operation)
    username = live.add_user(f"partner.{n}", Role.PARTNER, code)
    return code, username, operation.id


def menu(tab: Tab) -> list[str]:
    links = tab.page.locator("nav.menu a").evaluate_all("(links) => links.map(a => a.pathname)")
    return [str(link) for link in links]


def test_a_coordinator_invites_a_partner_and_removes_it(
    live: LiveConsole, tab_factory: Callable[..., Tab]
) -> None:
    code, username, number = partner_and_operation(live)
    coordinator = tab_factory()
    coordinator.sign_in(live.add_user("ops.coordinator", Role.ADMIN, "DEU"))
    coordinator.goto(f"/operations/{number}")
    coordinator.page.click("form[action$='/partners'] button[type=submit]")  # none chosen
    coordinator.page.wait_for_selector("#partner-error")
    coordinator.assert_accessible()
    coordinator.page.select_option("#partner", code)
    coordinator.page.click("form[action$='/partners'] button[type=submit]")
    coordinator.page.wait_for_selector(f"form[action$='/partners/{code}/remove']")
    coordinator.assert_accessible()

    partner = tab_factory()
    partner.sign_in(username)
    partner.goto(f"/operations/{number}")
    assert "Blue Gate" in partner.page.inner_text("h1")
    coordinator.page.click(f"form[action$='/partners/{code}/remove'] button[type=submit]")
    coordinator.page.wait_for_load_state()
    assert partner.goto(f"/operations/{number}").status == 404
    partner.goto("/operations")
    assert f"/operations/{number}" not in partner.page.content()


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_a_partner_sees_its_operation_and_thread_and_nothing_else(
    live: LiveConsole, tab_factory: Callable[..., Tab], language: str
) -> None:
    code, username, number = partner_and_operation(live)
    with live.database.session(write=True) as session:
        coordinator = Principal(kind="user", id="0", name="root", role=Role.ADMIN,
                                bureau_code="DEU")  # fmt: skip
        invited = service.invite(session, coordinator.actor(), number, code)
        thread_id = thread.ensure(session, live.app.state.settings, coordinator.actor(), invited)
    tab = tab_factory(language)
    tab.sign_in(username)
    tab.goto("/home")
    assert menu(tab) == ["/home", "/operations", "/account"]
    tab.assert_accessible()
    tab.goto("/operations")
    assert tab.page.get_attribute("html", "dir") == ("rtl" if language == "ar" else "ltr")
    tab.page.wait_for_selector(f"a[href='/operations/{number}']")
    tab.assert_accessible()
    tab.goto(f"/operations/{number}")
    tab.page.wait_for_selector("[data-checked='0']")
    assert tab.page.locator("#partner").count() == 0  # invitations are the coordinators'
    tab.assert_accessible()
    tab.page.click(f"a[href='/messages/{thread_id}']")
    tab.page.wait_for_selector("#body")
    tab.page.fill("#body", f"Our team lands at CDG ({language}).")
    tab.page.click(f"form[action='/messages/{thread_id}'] button[type=submit]")
    tab.page.wait_for_selector(f"text=Our team lands at CDG ({language}).")
    tab.assert_accessible()
    for elsewhere in ("/directory", "/messages", "/check", "/records", "/hits", "/analysis"):
        assert tab.goto(elsewhere).status == 403, elsewhere
