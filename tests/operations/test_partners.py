"""Partner organisations: invited to operations by coordinators, their accounts see those
operations' figures, reports and thread, and nothing else; removed, they lose them at once."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bordercheck.auth import service as auth_service
from bordercheck.auth.models import Role
from bordercheck.errors import InvalidInput, NotFound
from tests.audit.test_every_write import flatten
from tests.signin import Api, open_api
from tests.web.conftest import Console

V1 = "/api/v1"
OPERATIONS = f"{V1}/operations"
STOLEN = "C01X00T47"

# What a partner's account may open: its own account, its operations and their thread.
ALLOWED_API = {
    "POST /api/v1/auth/token", "POST /api/v1/auth/password", "POST /api/v1/auth/revoke",
    "GET /api/v1/auth/me",
    "GET /api/v1/operations", "GET /api/v1/operations/{operation_id}",
    "GET /api/v1/operations/{operation_id}/figures",
    "GET /api/v1/operations/{operation_id}/report",
    "GET /api/v1/messages", "GET /api/v1/messages/{thread_id}",
    "POST /api/v1/messages/{thread_id}", "POST /api/v1/messages/{thread_id}/read",
    "GET /api/v1/messages/{thread_id}/messages/{message_id}",
    "GET /api/v1/messages/{thread_id}/messages/{message_id}/attachments/{attachment_id}",
}  # fmt: skip
# Pages that are no one's in particular (signing in, the account's own settings, errors).
OPEN_PATHS = re.compile(
    r"^/(|healthz|readyz|metrics|docs|redoc|openapi\.json|sign-in.*|sign-out|language|home|"
    r"account.*|enrol.*|docs/.*|static.*)$"
)
ALLOWED_CONSOLE = {
    "GET /operations", "GET /operations/{operation_id}", "GET /operations/{operation_id}/report",
    "GET /messages/{thread_id}", "POST /messages/{thread_id}", "POST /messages/{thread_id}/read",
    "GET /messages/{thread_id}/messages/{message_id}/attachments/{attachment_id}",
}  # fmt: skip


@pytest.fixture
def api(fresh_url: str) -> Iterator[Api]:
    with open_api(fresh_url, bureaus=("DEU", "FRA", "ITA")) as api:
        with api.database.session(write=True) as session:
            auth_service.add_partner(session, "EBA", "EUBA, European border agency")
            auth_service.add_partner(session, "UND", "Drugs and crime office")
        api.add_user("euba.liaison", Role.PARTNER, "EBA")
        api.add_user("und.liaison", Role.PARTNER, "UND")
        yield api


def coordinator(api: Api) -> dict[str, str]:
    return api.bearer(Role.ANALYST, "XPO")


def new_operation(api: Api) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    body = {
        "name": "Blue Gate", "purpose": "Two airports.",
        "starts_on": (today - timedelta(days=1)).isoformat(),
        "ends_on": (today + timedelta(days=2)).isoformat(),
        "locations": ["CDG"], "bureaus": ["FRA", "ITA"],
    }  # fmt: skip
    response = api.client.post(OPERATIONS, json=body, headers=coordinator(api))
    assert response.status_code == 201, response.text
    return dict(response.json())


def invite(api: Api, operation_id: int, partner: str = "EBA") -> dict[str, Any]:
    response = api.client.post(
        f"{OPERATIONS}/{operation_id}/partners", json={"partner": partner},
        headers=coordinator(api),
    )  # fmt: skip
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_an_invited_partner_sees_its_operation_figures_report_and_thread_until_removed(
    api: Api,
) -> None:
    record = {"document_number": STOLEN, "issuing_country": "DEU", "document_type": "passport",
              "status": "stolen", "holder_surname": "MUSTERMANN"}  # fmt: skip
    made = api.client.post(
        f"{V1}/records", json=record, headers=api.bearer(Role.BUREAU_OFFICER, "DEU")
    )
    assert made.status_code == 201, made.text
    operation = new_operation(api)
    other = new_operation(api)
    number = operation["id"]
    partner = api.sign_in("euba.liaison")
    stranger = api.sign_in("und.liaison")
    assert api.client.get(f"{OPERATIONS}/{number}", headers=partner).status_code == 404

    invited = invite(api, number)
    assert invited["partners"] == ["EBA"]
    thread_id = invited["thread_id"]
    assert thread_id is not None
    listed = api.client.get(OPERATIONS, headers=partner).json()["operations"]
    assert [o["id"] for o in listed] == [number]
    assert api.client.get(f"{OPERATIONS}/{other['id']}", headers=partner).status_code == 404
    assert api.client.get(f"{OPERATIONS}/{number}", headers=stranger).status_code == 404
    assert api.client.get(OPERATIONS, headers=stranger).json()["operations"] == []
    figures = api.client.get(f"{OPERATIONS}/{number}/figures", headers=partner)
    assert figures.status_code == 200, figures.text
    # A hit during the operation, so that the report has a case to tell of.
    border = api.bearer(Role.BORDER_OFFICER, "FRA")
    query = {"document_number": STOLEN, "issuing_country": "DEU", "document_type": "passport",
             "location": "CDG", "operation_id": number}  # fmt: skip
    deadline = time.monotonic() + 30
    while api.client.post(f"{V1}/screen", json=query, headers=border).json()["result"] != "hit":
        assert time.monotonic() < deadline, "the record never reached the screening index"
        time.sleep(0.05)
    while (
        api.client.get(f"{OPERATIONS}/{number}/figures", headers=partner).json()["cases"]["opened"]
        < 1
    ):
        assert time.monotonic() < deadline, "the hit case was never counted"
        time.sleep(0.05)
    html = api.client.get(f"{OPERATIONS}/{number}/report", headers=partner)
    assert html.status_code == 200, html.text
    assert "Blue Gate" in html.text
    # Neither the document nor its holder: the PDF is printed from this same HTML.
    assert STOLEN not in html.text
    assert "MUSTERMANN" not in html.text
    pdf = api.client.get(f"{OPERATIONS}/{number}/report?format=pdf", headers=partner)
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")

    # The thread: the partner writes, a participating bureau reads; another bureau does not.
    posted = api.client.post(
        f"{V1}/messages/{thread_id}", json={"body": "Our team lands at CDG on Monday."},
        headers=partner,
    )  # fmt: skip
    assert posted.status_code == 201, posted.text
    fra = api.bearer(Role.BUREAU_OFFICER, "FRA")
    read = api.client.get(f"{V1}/messages/{thread_id}", headers=fra).json()
    assert [m["body"] for m in read["messages"]] == ["Our team lands at CDG on Monday."]
    deu = api.bearer(Role.BUREAU_OFFICER, "DEU")
    assert api.client.get(f"{V1}/messages/{thread_id}", headers=deu).status_code == 404
    assert api.client.get(f"{V1}/messages/{thread_id}", headers=stranger).status_code == 404
    threads = api.client.get(f"{V1}/messages", headers=partner).json()["threads"]
    assert [t["id"] for t in threads] == [thread_id]
    # Partners start no thread of their own, and are no bureau one could write to.
    started = api.client.post(
        f"{V1}/messages", json={"subject": "x", "recipients": ["EBA"], "body": "x"}, headers=fra
    )
    assert started.status_code == 422, started.text
    refused = api.client.post(
        f"{V1}/messages",
        json={"subject": "x", "recipients": ["FRA"], "body": "x"},
        headers=partner,
    )
    assert refused.status_code == 403

    removed = api.client.delete(f"{OPERATIONS}/{number}/partners/EBA", headers=coordinator(api))
    assert removed.status_code == 200, removed.text
    assert removed.json()["partners"] == []
    for path in ("", "/figures", "/report"):
        assert api.client.get(f"{OPERATIONS}/{number}{path}", headers=partner).status_code == 404
    assert api.client.get(OPERATIONS, headers=partner).json()["operations"] == []
    assert api.client.get(f"{V1}/messages/{thread_id}", headers=partner).status_code == 404
    again = api.client.post(f"{V1}/messages/{thread_id}", json={"body": "?"}, headers=partner)
    assert again.status_code == 404
    assert api.client.get(f"{V1}/messages", headers=partner).json()["threads"] == []


def test_only_coordinators_invite_and_what_they_name_must_exist(api: Api) -> None:
    number = new_operation(api)["id"]
    fra = api.bearer(Role.BUREAU_OFFICER, "FRA")
    analyst = api.bearer(Role.ANALYST, "FRA")
    for caller in (fra, analyst, api.sign_in("euba.liaison")):
        response = api.client.post(
            f"{OPERATIONS}/{number}/partners", json={"partner": "EBA"}, headers=caller
        )
        assert response.status_code == 403, response.text
    missing = api.client.post(
        f"{OPERATIONS}/{number}/partners", json={"partner": "FRA"}, headers=coordinator(api)
    )
    assert missing.status_code == 404
    assert "no partner organisation FRA" in missing.json()["message"]
    gone = api.client.delete(f"{OPERATIONS}/{number}/partners/EBA", headers=coordinator(api))
    assert gone.status_code == 404
    # A partner is no participating bureau.
    today = datetime.now(UTC).date().isoformat()
    body = {"name": "x", "starts_on": today, "ends_on": today, "locations": ["CDG"],
            "bureaus": ["EBA"]}  # fmt: skip
    refused = api.client.post(OPERATIONS, json=body, headers=coordinator(api))
    assert refused.status_code == 422
    assert refused.json()["errors"] == [{"field": "bureaus", "reason": "no bureau EBA"}]


def test_partner_codes_are_never_a_country_and_partners_have_no_other_kind_of_account(
    api: Api,
) -> None:
    with api.database.session(write=True) as session:
        for code in ("FRA", "XPO", "EU", "EUROPOL", "E1A"):
            with pytest.raises(InvalidInput):
                auth_service.add_partner(session, code, "name")
        with pytest.raises(InvalidInput):
            auth_service.add_client(session, "gateway", bureau="FRA", role=Role.PARTNER)
        with pytest.raises(NotFound):  # a partner's account is in a partner organisation
            auth_service.add_user(session, "p.fra", bureau="FRA", role=Role.PARTNER,
                                  password="correct horse battery staple")  # fmt: skip
        with pytest.raises(InvalidInput):  # and an officer's never is
            auth_service.add_user(session, "o.eba", bureau="EBA", role=Role.BUREAU_OFFICER,
                                  password="correct horse battery staple")  # fmt: skip
    listed = api.client.get(f"{V1}/bureaus", headers=coordinator(api)).json()
    assert "EBA" not in {b["country_code"] for b in listed}
    partners = api.client.get(f"{V1}/partners", headers=api.bearer(Role.ADMIN, "XPO")).json()
    assert partners == [
        {"code": "EBA", "name": "EUBA, European border agency"},
        {"code": "UND", "name": "Drugs and crime office"},
    ]


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_other_route_refuses_a_partner_token_and_a_partner_console_session(
    api: Api,
) -> None:
    """Read from the app's routes: a route added later is refused unless it is listed."""
    number = new_operation(api)["id"]
    invite(api, number)
    token = api.sign_in("euba.liaison")
    browser = Console(api)
    assert browser.sign_in("euba.liaison").status_code == 303
    csrf = browser.csrf("/operations")
    routes = sorted(set(flatten(api.client.app.router.routes)))  # type: ignore[attr-defined]
    checked_api = checked_console = 0
    let_through: list[str] = []
    for method, path in routes:
        route = f"{method} {path}"
        if path.startswith(V1):
            if route in ALLOWED_API:
                continue
            response = api.client.request(method, _concrete(path), headers=token, json={})
            checked_api += 1
            if response.status_code != 403:
                let_through.append(f"{route}: {response.status_code} {response.text[:120]}")
        else:
            if route in ALLOWED_CONSOLE or OPEN_PATHS.match(path):
                continue
            data = {"csrf_token": csrf} if method != "GET" else None
            response = browser.client.request(method, _concrete(path), data=data)
            checked_console += 1
            if response.status_code != 403:
                let_through.append(f"{route}: {response.status_code} {response.text[:120]}")
    assert checked_api > 50, checked_api
    assert checked_console > 30, checked_console
    assert not let_through, "\n".join(let_through)
