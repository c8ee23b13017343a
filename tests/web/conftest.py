"""The console on a database of the test's own, and people signed in to it with a browser's
cookies (``Console``): the pages are driven as a browser drives them, forms and all."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bordercheck.auth.models import Role
from tests.signin import PASSWORD, Api, open_api

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
