"""Operations in the console over HTTP: coordinators create them, participants watch the
figures (the fragment htmx polls), download the report; others are refused."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta

from bordercheck.auth.models import Role
from tests.signin import Api
from tests.web.conftest import Console


def _form(**overrides: str) -> dict[str, str]:
    today = datetime.now(UTC).date()
    return {
        "name": "Blue Gate",
        "purpose": "Every document at two airports.",
        "starts_on": (today - timedelta(days=1)).isoformat(),
        "ends_on": (today + timedelta(days=2)).isoformat(),
        "locations": "CDG, FCO",
        "bureaus": "FRA, ITA",
        **overrides,
    }


def _create(browser: Console) -> str:
    assert browser.sign_in("admin.xpo").status_code == 303
    created = browser.post("/operations", _form(), page="/operations/new")
    assert created.status_code == 303, created.text
    return str(created.headers["location"])


def test_a_coordinator_creates_an_operation_and_a_participant_watches_it(
    api: Api, browser: Console
) -> None:
    path = _create(browser)
    page = browser.client.get(path)
    assert page.status_code == 200
    assert "Operation Blue Gate" in page.text
    assert 'hx-trigger="every 3s"' in page.text
    assert "data:image/svg+xml;base64," in page.text
    assert f'href="{path}/report?format=pdf"' in page.text

    screened = api.client.post(
        "/api/v1/screen",
        json={"document_number": "X1000001", "issuing_country": "DEU", "location": "CDG"},
        headers=api.bearer(Role.BORDER_OFFICER, "FRA"),
    )
    assert screened.status_code == 200
    watcher = Console(api)
    assert watcher.sign_in("border.fra").status_code == 303
    listed = watcher.client.get("/operations")
    assert f'href="{path}"' in listed.text
    assert 'href="/operations/new"' not in listed.text
    for _ in range(200):  # the clean query reaches the log a moment after its answer
        fragment = watcher.client.get(path, headers={"HX-Request": "true"})
        if 'data-checked="1"' in fragment.text:
            break
    assert 'data-checked="1"' in fragment.text
    assert "<html" not in fragment.text
    downloaded = watcher.client.get(f"{path}/report", params={"format": "pdf"})
    assert downloaded.status_code == 200
    assert downloaded.content.startswith(b"%PDF")

    # In French, the page's charts and the report downloaded from it are in French.
    assert watcher.post("/language", {"language": "fr", "next": path}, page=path)
    page = watcher.client.get(path).text
    charts = [
        base64.b64decode(uri).decode()
        for uri in re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', page)
    ]
    assert any("Documents contrôlés par jour" in chart for chart in charts)
    report = watcher.client.get(f"{path}/report").text
    assert "Opération Blue Gate" in report
    assert 'lang="fr"' in report


def test_the_form_says_what_is_wrong_by_each_field(browser: Console) -> None:
    assert browser.sign_in("admin.xpo").status_code == 303
    refused = browser.post(
        "/operations", _form(name="", starts_on="soon", bureaus="FRA, ZZZ"),
        page="/operations/new",
    )  # fmt: skip
    assert refused.status_code == 422
    assert 'href="#name"' in refused.text
    assert 'href="#starts_on"' in refused.text
    refused = browser.post("/operations", _form(bureaus="FRA, ZZZ"), page="/operations/new")
    assert refused.status_code == 422
    assert "no bureau ZZZ" in refused.text


def test_others_are_refused(api: Api, browser: Console) -> None:
    path = _create(browser)
    officer = Console(api)
    assert officer.sign_in("officer.deu").status_code == 303  # DEU does not take part
    assert officer.client.get(path).status_code == 404
    assert officer.client.get(f"{path}/report").status_code == 404
    assert officer.client.get("/operations/new").status_code == 403
    refused = officer.post("/operations", _form(), page="/operations")
    assert refused.status_code == 403
    border = Console(api)
    assert border.sign_in("border.fra").status_code == 303
    assert border.post("/operations", _form(), page="/operations").status_code == 403
    no_csrf = browser.client.post("/operations", data=_form())
    assert no_csrf.status_code == 403


def test_codes_may_be_separated_by_spaces_as_on_the_consoles_other_forms(
    browser: Console,
) -> None:
    assert browser.sign_in("admin.xpo").status_code == 303
    created = browser.post(
        "/operations", _form(locations="CDG-T2 FCO\nLIS", bureaus="FRA ITA"),
        page="/operations/new",
    )  # fmt: skip
    assert created.status_code == 303, created.text
    page = browser.client.get(created.headers["location"]).text
    for code in ("CDG-T2", "FCO", "LIS"):
        assert code in page


def test_with_commas_a_space_inside_an_entry_is_refused_not_split(browser: Console) -> None:
    assert browser.sign_in("admin.xpo").status_code == 303
    refused = browser.post(
        "/operations", _form(locations="CDG T2, FCO Terminal 3", bureaus="FRA, ITA"),
        page="/operations/new",
    )  # fmt: skip
    assert refused.status_code == 422
    assert "CDG T2" in refused.text  # named as the entry it is, not made five posts
    many = browser.post(
        "/operations", _form(locations=" ".join(f"P{n}" for n in range(101)), bureaus="FRA"),
        page="/operations/new",
    )  # fmt: skip
    assert many.status_code == 422
    assert "at most 100 entries" in many.text
