"""In a real browser, a training sandbox's console: the TRAINING banner with the sandbox's
name on every page, in each language; nothing of it on the live console (other modules)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import pytest

from bordercheck.auth import service as auth_service
from bordercheck.auth.models import Role
from bordercheck.installation import mark_sandbox
from bordercheck.web import i18n
from tests.conftest import FreshDatabases
from tests.factories import keyed_database
from tests.web.conftest import LiveConsole, Tab

NAME = "class-a"
MESSAGE = "TRAINING: nothing done here reaches live data."
_people = itertools.count(1)


@pytest.fixture(scope="module")
def live(
    backend: str, fresh_databases: FreshDatabases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveConsole]:
    """This module's console is a sandbox's (the tab fixtures use it)."""
    url = fresh_databases.url(backend)
    database = keyed_database(url)
    with database.session(write=True) as session:
        mark_sandbox(session, NAME)
        for bureau in ("DEU", "FRA"):
            auth_service.add_bureau(session, bureau, f"NCB {bureau}")
    database.dispose()
    console = LiveConsole(url, tmp_path_factory.mktemp("edge-cache"), training_sandbox=NAME)
    yield console
    console.stop()


def test_every_language_shows_the_banner(
    live: LiveConsole, tab_factory: Callable[..., Tab]
) -> None:
    for language in i18n.LANGUAGES:
        catalog = i18n.translations(language)
        text = catalog.gettext(MESSAGE)
        sandbox = catalog.gettext("Sandbox %(name)s") % {"name": NAME}
        assert (text == MESSAGE) == (language == "en")
        tab = tab_factory(language)
        tab.goto("/")  # before signing in too
        banner = tab.page.locator(".training-banner")
        assert text in banner.inner_text()
        user = live.add_user(f"trainee.{next(_people)}", Role.BORDER_OFFICER, "FRA")
        tab.sign_in(user)
        for path in ("/home", "/check"):
            response = tab.goto(path)
            assert response.status == 200
            assert response.headers["x-bordercheck-training"] == NAME
            banner = tab.page.locator(".training-banner")
            assert banner.is_visible()
            assert banner.get_attribute("data-training") == NAME
            assert text in banner.inner_text()
            assert sandbox in banner.inner_text()
        tab.assert_accessible()
