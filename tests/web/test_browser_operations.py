"""In a real browser: a coordinator creates an operation and watches its figures change
without reloading; a participating bureau's officer reads it in Arabic. Every page is checked
for accessibility."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bordercheck.auth.models import Role
from bordercheck.screening.models import ScreeningQuery
from tests.web.conftest import LiveConsole, Tab

_people = itertools.count(1)


def person(live: LiveConsole, role: Role, bureau: str) -> str:
    return live.add_user(f"ops.{role.value}.{next(_people)}", role, bureau)


def logged(live: LiveConsole, operation_id: str, count: int, start: int) -> None:
    """Checks made for the operation, as the query log holds them."""
    with live.database.session(write=True) as session:
        for n in range(start, start + count):
            session.add(
                ScreeningQuery(
                    id=f"op{n:030x}", at=datetime.now(UTC), principal_kind="user",
                    principal_name="border.fra", bureau_code="FRA", location="CDG",
                    operation_id=operation_id, source="number", document_number="X1",
                    issuing_country="DEU", document_type="passport", result="no_hit",
                    match_count=0,
                )
            )  # fmt: skip


def test_a_coordinator_creates_an_operation_and_its_figures_update_by_themselves(
    live: LiveConsole, tab_factory: Callable[..., Tab]
) -> None:
    tab = tab_factory()
    tab.sign_in(person(live, Role.ADMIN, "DEU"))
    tab.goto("/operations")
    tab.assert_accessible()
    tab.goto("/operations/new")
    tab.assert_accessible()
    today = datetime.now(UTC).date()
    tab.page.fill("#name", "Blue Gate")
    tab.page.fill("#purpose", "Every document at two airports.")
    tab.page.fill("#starts_on", (today - timedelta(days=1)).isoformat())
    tab.page.fill("#ends_on", (today + timedelta(days=2)).isoformat())
    tab.page.fill("#locations", "CDG, FCO")
    tab.page.fill("#bureaus", "FRA, ITA")
    tab.page.click("form[action='/operations'] button[type=submit]")
    tab.page.wait_for_selector("[data-checked='0']")
    tab.assert_accessible()
    operation_id = tab.page.url.rstrip("/").rsplit("/", 1)[1]

    logged(live, operation_id, 3, start=0)
    tab.page.wait_for_selector("[data-checked='3']", timeout=15_000)  # no reload
    assert "Operation Blue Gate" in tab.page.inner_text("h1")

    arabic = tab_factory("ar")
    arabic.sign_in(person(live, Role.BORDER_OFFICER, "FRA"))
    arabic.goto("/operations")
    assert arabic.page.get_attribute("html", "dir") == "rtl"
    arabic.assert_accessible()
    arabic.goto(f"/operations/{operation_id}")
    arabic.page.wait_for_selector("[data-checked='3']")
    assert "العملية" in arabic.page.inner_text("h1")
    arabic.assert_accessible()
