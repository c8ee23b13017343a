"""The analysts' console pages: the networks ranked with their charts, one network with its
diagram and evidence, by role, in every language, with nothing inline that the page's
content security policy would refuse."""

from __future__ import annotations

import re

import pytest

from bordercheck.auth.models import Role
from tests.analysis.conftest import KEY, LoadedWorld
from tests.signin import open_api
from tests.web.conftest import Console


def _signed_in(api: object, username: str, role: Role, bureau: str) -> Console:
    api.add_user(username, role, bureau)  # type: ignore[attr-defined]
    browser = Console(api)  # type: ignore[arg-type]
    assert browser.sign_in(username).status_code == 303
    return browser


def _no_inline_style_or_script(html: str) -> None:
    assert not re.search(r"\sstyle=", html)
    assert not re.search(r"<script(?![^>]*\ssrc=)", html)


def test_an_analyst_reads_the_networks_and_one_network(loaded_world: LoadedWorld) -> None:
    with open_api(loaded_world.url, bureaus=(), secret_key=KEY) as api:
        browser = _signed_in(api, "analyst.pages", Role.ANALYST, "XPO")
        home = browser.client.get("/home")
        assert 'href="/analysis"' in home.text
        page = browser.client.get("/analysis")
        assert page.status_code == 200, page.text
        _no_inline_style_or_script(page.text)
        ids = re.findall(r'href="/analysis/networks/(N-[0-9A-F]{8})"', page.text)
        assert ids
        assert "<svg" in page.text
        one = browser.client.get(f"/analysis/networks/{ids[0]}")
        assert one.status_code == 200
        _no_inline_style_or_script(one.text)
        assert "data-diagram" in one.text
        assert "<circle" in one.text
        assert "data-routes-chart" in one.text
        assert "hit the record" in one.text
        gephi = browser.client.get(f"/analysis/networks/{ids[0]}/export?format=gexf")
        assert gephi.status_code == 200
        assert gephi.headers["content-type"].startswith("application/gexf+xml")


@pytest.mark.parametrize(
    ("code", "title"),
    [
        ("fr", "Réseaux derrière les documents volés"),
        ("es", "Redes detrás de los documentos robados"),
        ("ar", "الشبكات وراء الوثائق المسروقة"),
    ],
)
def test_the_pages_speak_the_viewers_language(
    loaded_world: LoadedWorld, code: str, title: str
) -> None:
    with open_api(loaded_world.url, bureaus=(), secret_key=KEY) as api:
        browser = _signed_in(api, f"analyst.pages.{code}", Role.ANALYST, "XPO")
        page = browser.client.get("/analysis", headers={"accept-language": code})
        assert title in page.text
        assert "Networks behind stolen documents" not in page.text


def test_a_border_officer_may_not_open_the_analysis(loaded_world: LoadedWorld) -> None:
    with open_api(loaded_world.url, bureaus=(), secret_key=KEY) as api:
        browser = _signed_in(api, "border.pages", Role.BORDER_OFFICER, "DEU")
        assert browser.client.get("/analysis").status_code == 403
        assert 'href="/analysis"' not in browser.client.get("/home").text


def test_a_bureau_officer_sees_only_networks_touching_its_records(
    loaded_world: LoadedWorld,
) -> None:
    with open_api(loaded_world.url, bureaus=(), secret_key=KEY) as api:
        analyst = api.bearer(Role.ANALYST, "XPO")
        networks = api.client.get("/api/v1/analysis/networks", headers=analyst).json()["networks"]
        country = networks[0]["documents"][0]["issuing_country"]
        mine = {
            n["id"]
            for n in networks
            if any(d["issuing_country"] == country for d in n["documents"])
        }
        browser = _signed_in(api, "officer.pages", Role.BUREAU_OFFICER, country)
        page = browser.client.get("/analysis")
        shown = set(re.findall(r'<td><a href="/analysis/networks/(N-[0-9A-F]{8})"', page.text))
        assert shown == mine
        others = {n["id"] for n in networks} - mine
        for other in others:
            assert browser.client.get(f"/analysis/networks/{other}").status_code == 404
