"""In a real browser: the analysts' pages with their diagram and charts, accessible, with no
script or style the content security policy refuses, in English and in Arabic."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from bordercheck.auth.models import Role
from bordercheck.training.load import load_world
from bordercheck.training.world import WorldSpec, write_world
from tests.web.conftest import LiveConsole, Tab

WORLD = WorldSpec(
    seed=4,
    start=date(2026, 1, 5),
    weeks=10,
    networks=2,
    lone_impostors=2,
    background_records=50,
    passengers=4,
    scheduled_legs=3,
)


@pytest.fixture(scope="module")
def analysed(live: LiveConsole, tmp_path_factory: pytest.TempPathFactory) -> LiveConsole:
    directory: Path = tmp_path_factory.mktemp("world")
    write_world(WORLD, directory)
    settings = live.app.state.settings
    load_world(live.database, settings, directory)
    return live


@pytest.mark.parametrize("language", ["en", "ar"])
def test_an_analyst_explores_a_network(
    analysed: LiveConsole, tab_factory: Callable[..., Tab], language: str
) -> None:
    tab = tab_factory(language)
    tab.sign_in(analysed.add_user(f"analyst.{language}", Role.ANALYST, "DEU"))
    tab.goto("/analysis")
    tab.page.wait_for_selector("[data-networks]")
    tab.assert_accessible()
    tab.page.click("[data-networks] tbody tr:first-child a")
    tab.page.wait_for_selector("[data-diagram] svg circle")
    assert tab.page.locator("[data-routes-chart] svg rect").count() > 0
    assert tab.page.locator("[data-links] tbody tr").count() > 0
    tab.assert_accessible()
