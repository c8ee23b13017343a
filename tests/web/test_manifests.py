"""Passenger lists in the console over HTTP: a PAXLST file uploaded through the API's own
intake, the flight read hits first, and each bureau reading only its own lists."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from bordercheck.auth.models import Role
from bordercheck.documents.types import DocumentType
from bordercheck.manifests.flight import TravelDocument
from bordercheck.manifests.writer import synthetic_flight, write_paxlst
from tests.signin import Api, open_api
from tests.web.conftest import Console

STOLEN = TravelDocument("P", DocumentType.PASSPORT, "C01X00T47", "DEU")


@pytest.fixture
def api(fresh_url: str) -> Iterator[Api]:
    with open_api(fresh_url, bureaus=("DEU", "FRA", "ITA"), manifest_max_bytes=100_000) as api:
        api.add_user("officer.deu", Role.BUREAU_OFFICER, "DEU")
        api.add_user("officer.fra", Role.BUREAU_OFFICER, "FRA")
        api.add_user("analyst.ita", Role.ANALYST, "ITA")
        api.add_user("admin.xpo", Role.ADMIN, "DEU")
        yield api


def report(api: Api, document: TravelDocument = STOLEN) -> None:
    body = {"document_number": document.number, "issuing_country": document.issuing_country,
            "document_type": "passport", "status": "stolen"}  # fmt: skip
    headers = api.bearer(Role.BUREAU_OFFICER, str(document.issuing_country))
    assert api.client.post("/api/v1/records", json=body, headers=headers).status_code == 201
    api.client.app.state.live_index.catch_up()  # type: ignore[attr-defined]


def upload(browser: Console, data: bytes | str, location: str = "") -> object:
    token = browser.csrf("/manifests")
    body = data.encode() if isinstance(data, str) else data
    return browser.client.post(
        "/manifests",
        data={"csrf_token": token, "location": location},
        files={"file": ("flight.edi", body, "application/edifact")},
    )


def signed_in(api: Api, username: str) -> Console:
    browser = Console(api)
    assert browser.sign_in(username).status_code == 303
    return browser


def test_an_uploaded_flight_shows_its_hit_first_with_its_case(api: Api) -> None:
    report(api)
    flight = synthetic_flight(150, seed=3, flight="XB1234", planted=[STOLEN])
    planted = next(t for t in flight.travellers if t.documents[0] is STOLEN)
    browser = signed_in(api, "officer.fra")
    response = upload(browser, write_paxlst(flight), location="CDG-T2")
    assert response.status_code == 303, response.text  # type: ignore[attr-defined]
    location = response.headers["location"]  # type: ignore[attr-defined]
    assert re.fullmatch(r"/manifests/\d+", location)
    page = browser.client.get(location).text
    assert "Flight XB1234" in page
    assert "IST → CDG" in page
    rows = re.findall(r'<tr data-result="([a-z_]+)">', page)
    assert rows[0] == "hit", "the hit comes before everyone else"
    assert rows.count("hit") == 1
    first_row = page[page.index('<tr data-result="hit">') :].split("</tr>")[0]
    assert planted.surname in first_row
    assert str(planted.seat) in first_row
    assert re.search(r'href="/hits/\d+"', first_row), "a hit links to its case"
    assert "C01X00T47" in first_row
    listed = browser.client.get("/manifests").text
    assert f'href="{location}"' in listed


def test_the_other_travellers_come_a_page_at_a_time(api: Api) -> None:
    browser = signed_in(api, "officer.fra")
    response = upload(browser, write_paxlst(synthetic_flight(230, seed=5)))
    location = response.headers["location"]  # type: ignore[attr-defined]
    first = browser.client.get(location).text
    assert first.count('<tr data-result="no_hit">') == 100
    assert "Page 1 of 3" in first
    last = browser.client.get(location, params={"page": 3}).text
    assert last.count('<tr data-result="no_hit">') == 30
    assert "Travellers 201 to 230 of 230" in last


def test_the_readers_warnings_are_shown_with_the_flight(api: Api) -> None:
    flight = synthetic_flight(5, seed=8)
    flight.reported_count = 9
    browser = signed_in(api, "officer.fra")
    response = upload(browser, write_paxlst(flight))
    page = browser.client.get(response.headers["location"]).text  # type: ignore[attr-defined]
    assert "What the reader noticed in the file" in page
    assert "the airline reported 9" in page


def test_a_malformed_file_is_refused_naming_what_is_wrong(api: Api) -> None:
    browser = signed_in(api, "officer.fra")
    response = upload(browser, "this is not an EDIFACT interchange at all")
    assert response.status_code == 422  # type: ignore[attr-defined]
    text = response.text  # type: ignore[attr-defined]
    assert "cannot be screened as a PAXLST passenger list" in text
    assert "this is not a passenger list: the file has no UNA, UNB or UNH segment" in text
    assert 'href="#file"' in text
    broken = write_paxlst(synthetic_flight(3, seed=1)).replace("UNH+", "UNX+")
    response = upload(browser, broken)
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert "no message" in response.text or "UNH" in response.text  # type: ignore[attr-defined]


def test_a_file_over_the_limit_or_no_file_is_refused(api: Api) -> None:
    browser = signed_in(api, "officer.fra")
    large = upload(browser, write_paxlst(synthetic_flight(900, seed=2)))
    assert large.status_code == 413  # type: ignore[attr-defined]
    assert "larger than 100,000 bytes" in large.text  # type: ignore[attr-defined]
    token = browser.csrf("/manifests")
    missing = browser.client.post("/manifests", data={"csrf_token": token})
    assert missing.status_code == 422
    assert "Choose the PAXLST file" in missing.text


def test_a_bad_border_post_code_is_named(api: Api) -> None:
    browser = signed_in(api, "officer.fra")
    response = upload(browser, write_paxlst(synthetic_flight(3, seed=1)), location="no spaces!")
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert 'href="#location"' in response.text  # type: ignore[attr-defined]


def test_another_bureaus_list_is_refused_and_not_listed(api: Api) -> None:
    fra = signed_in(api, "officer.fra")
    location = upload(fra, write_paxlst(synthetic_flight(4, seed=4, flight="AF1000")))
    path = location.headers["location"]  # type: ignore[attr-defined]
    deu = signed_in(api, "officer.deu")
    refused = deu.client.get(path)
    assert refused.status_code == 403
    assert "submitted by bureau FRA" in refused.text
    assert "AF1000" not in deu.client.get("/manifests").text
    admin = signed_in(api, "admin.xpo")
    assert admin.client.get(path).status_code == 200
    assert "AF1000" in admin.client.get("/manifests").text
    assert deu.client.get("/manifests/999999").status_code == 404


def test_an_analyst_outside_the_secretariat_may_neither_upload_nor_read(api: Api) -> None:
    analyst = signed_in(api, "analyst.ita")
    page = analyst.client.get("/manifests")
    assert page.status_code == 403, "as GET /api/v1/manifests"
    assert (
        "not by a bureau&#39;s analysts" in page.text or "not by a bureau's analysts" in page.text
    )
    refused = upload(analyst, write_paxlst(synthetic_flight(2, seed=1)))
    assert refused.status_code == 403  # type: ignore[attr-defined]


def test_an_upload_without_its_page_token_is_refused(api: Api) -> None:
    browser = signed_in(api, "officer.fra")
    response = browser.client.post(
        "/manifests", files={"file": ("f.edi", write_paxlst(synthetic_flight(2, seed=1)).encode())}
    )
    assert response.status_code == 403
    assert "/manifests/" not in response.headers.get("location", "")
