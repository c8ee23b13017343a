"""The API's pages work on a closed network: everything they load is served here."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from bordercheck.api.app import create_app
from bordercheck.api.docs_pages import STATIC_DIR
from bordercheck.settings import Settings

ADDRESS = re.compile(r"""(?:src|href)=["']([^"']+)["']|url:\s*["']([^"']+)["']""")


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=database_url, env="test"))) as client:
        yield client


@pytest.mark.parametrize("page", ["/docs", "/redoc", "/docs/oauth2-redirect"])
def test_the_api_pages_load_nothing_from_elsewhere(client: TestClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200
    assert "default-src 'self'" in response.headers["content-security-policy"]
    html = response.text
    assert "http://" not in html.replace("http://www.w3.org", "")
    assert "https://" not in html
    for found in ADDRESS.findall(html):
        address = next(part for part in found if part)
        assert address.startswith("/"), address
        loaded = client.get(address)
        assert loaded.status_code == 200, address
        assert len(loaded.content) > 100, address


def test_the_vendored_files_carry_their_licences_and_versions() -> None:
    for folder in ("swagger-ui", "redoc"):
        names = {path.name for path in (STATIC_DIR / folder).iterdir()}
        assert {"LICENSE", "VERSION"} <= names, folder
        assert any(name.endswith(".LICENSE.txt") for name in names), folder


def test_the_address_people_open_signs_in_and_points_programs_to_the_api(
    client: TestClient,
) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert 'action="/sign-in"' in response.text
    for link in ("/docs", "/redoc", "/openapi.json"):
        assert f'href="{link}"' in response.text
