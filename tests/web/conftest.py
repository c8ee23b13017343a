"""The console on a database of the test's own, and people signed in to it with a browser's
cookies (``Console``): the pages are driven as a browser drives them, forms and all."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bordercheck.auth import service as auth_service
from bordercheck.auth.models import Bureau, Role, User
from tests.conftest import FreshDatabases
from tests.edge.conftest import Centre
from tests.signin import PASSWORD, Api, mint_bearer, open_api

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
SIGN_IN_TOKEN = re.compile(r'name="sign_in_token" value="([^"]+)"')


class Console:
    """One browser: its own cookies, signing in through the sign-in form."""

    def __init__(self, api: Api) -> None:
        self.api = api
        app = api.client.app
        self.client = TestClient(app, follow_redirects=False)
        self.client.headers["accept"] = "text/html"

    def sign_in(self, username: str, password: str = PASSWORD, next_page: str = "") -> Any:
        page = self.client.get("/")
        token = SIGN_IN_TOKEN.search(page.text)
        assert token is not None, page.text
        return self.client.post(
            "/sign-in",
            data={
                "username": username,
                "password": password,
                "sign_in_token": token.group(1),
                "next": next_page,
            },
        )

    def csrf(self, path: str = "/home") -> str:
        page = self.client.get(path)
        found = CSRF.search(page.text)
        assert found is not None, f"{path} has no CSRF token: {page.status_code} {page.text[:500]}"
        return found.group(1)

    def post(self, path: str, data: dict[str, Any], *, page: str | None = None, **kw: Any) -> Any:
        data = {"csrf_token": self.csrf(page or path), **data}
        return self.client.post(path, data=data, **kw)


@pytest.fixture
def api(fresh_url: str) -> Iterator[Api]:
    with open_api(fresh_url, bureaus=("DEU", "FRA", "ITA")) as api:
        api.add_user("officer.deu", Role.BUREAU_OFFICER, "DEU")
        api.add_user("border.fra", Role.BORDER_OFFICER, "FRA")
        api.add_user("admin.xpo", Role.ADMIN, "DEU")
        yield api


@pytest.fixture
def browser(api: Api) -> Console:
    return Console(api)


# The browser tests: the console served for real (uvicorn in a thread), driven by Debian's
# Chromium through Playwright. Playwright never downloads a browser here.
CHROMIUM = Path(os.environ.get("BORDERCHECK_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
AXE_SERIOUS = """async () => {
  const found = await axe.run(document, {resultTypes: ["violations"]});
  return found.violations
    .filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => `${v.id}: ${v.help} (${v.nodes.slice(0, 3).map(n => n.target).join(", ")})`);
}"""


class LiveConsole(Centre):
    """The app served on a free port, with ways to set up the people and records a test needs."""

    def add_user(self, username: str, role: Role, bureau: str) -> str:
        with self.database.session(write=True) as session:
            office = session.scalar(select(Bureau).where(Bureau.country_code == bureau))
            if office is None:
                auth_service.add_bureau(session, bureau, f"NCB {bureau}")
            if session.scalar(select(User).where(User.username == username)) is None:
                auth_service.add_user(
                    session, username, bureau=bureau, role=role, password=PASSWORD
                )
        return username

    def bearer(self, role: Role, bureau: str, name: str | None = None) -> dict[str, str]:
        return mint_bearer(self.app.state.tokens, self.database, role, bureau, name)


@pytest.fixture(scope="module")
def live(
    backend: str, fresh_databases: FreshDatabases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveConsole]:
    """One served console per test module and backend; tests make users of their own."""
    console = LiveConsole(fresh_databases.url(backend), tmp_path_factory.mktemp("edge-cache"))
    for bureau in ("DEU", "FRA", "ITA"):
        with console.database.session(write=True) as session:
            auth_service.add_bureau(session, bureau, f"NCB {bureau}")
    yield console
    console.stop()


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        if os.environ.get("BORDERCHECK_TEST_BROWSER") == "required":
            pytest.fail(f"no Chromium at {CHROMIUM}: install Debian's chromium package")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Tab:
    """One page of a browser context, which fails its test on a refused script or style."""

    def __init__(self, live: LiveConsole, page: Any) -> None:
        self.live = live
        self.page = page
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))

    def _console(self, message: Any) -> None:
        text = message.text
        if message.type == "error" and (
            "Content Security Policy" in text or "Refused to" in text or "Uncaught" in text
        ):
            self.problems.append(text)

    def goto(self, path: str) -> Any:
        return self.page.goto(self.live.url + path)

    def sign_in(self, username: str, password: str = PASSWORD) -> None:
        self.goto("/")
        self.page.fill("#username", username)
        self.page.fill("#password", password)
        self.page.click("form[action='/sign-in'] button[type=submit]")
        self.page.wait_for_load_state()

    def accessibility_violations(self) -> list[str]:
        """Serious and critical axe-core violations of the page as it is now."""
        if not self.page.evaluate("() => typeof window.axe !== 'undefined'"):
            # Evaluated through the browser's debugging protocol, which the page's content
            # security policy does not govern: the page itself still loads no such script.
            self.page.evaluate(AXE.read_text())
        found = self.page.evaluate(AXE_SERIOUS)
        return list(found)

    def assert_accessible(self) -> None:
        violations = self.accessibility_violations()
        assert violations == [], f"{self.page.url}: {violations}"


@pytest.fixture
def tab_factory(chromium: Any, live: LiveConsole) -> Iterator[Callable[..., Tab]]:
    """New browser contexts (each its own cookies), in a language: ``tab_factory("ar")``."""
    contexts: list[Any] = []
    tabs: list[Tab] = []

    def make(language: str = "en") -> Tab:
        context = chromium.new_context(
            locale=language, extra_http_headers={"Accept-Language": language}
        )
        contexts.append(context)
        tab = Tab(live, context.new_page())
        tabs.append(tab)
        return tab

    yield make
    problems = [problem for tab in tabs for problem in tab.problems]
    for context in contexts:
        context.close()
    assert problems == [], f"the browser refused or failed: {problems}"


@pytest.fixture
def tab(tab_factory: Callable[..., Tab]) -> Tab:
    return tab_factory("en")
