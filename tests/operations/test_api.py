"""``/operations`` over HTTP: coordinators create them, screens count towards them, the
participating bureaus read the figures and the report, others never see them."""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bordercheck.auth.models import Role
from bordercheck.screening.models import ScreeningQuery
from tests.signin import Api, open_api

OPERATIONS = "/api/v1/operations"
SCREEN = "/api/v1/screen"
STOLEN = "C01X00T47"
WAIT = 30.0  # seconds for journalled queries to reach the database, even on a loaded machine


@pytest.fixture
def api(fresh_url: str) -> Iterator[Api]:
    with open_api(fresh_url, bureaus=("DEU", "FRA", "ITA", "ESP", "GBR")) as api:
        yield api


def coordinator(api: Api) -> dict[str, str]:
    return api.bearer(Role.ANALYST, "XPO")


def new_operation(api: Api, **overrides: Any) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    body = {
        "name": "Blue Gate",
        "purpose": "Check every travel document at two airports.",
        "starts_on": (today - timedelta(days=1)).isoformat(),
        "ends_on": (today + timedelta(days=2)).isoformat(),
        "locations": ["CDG", "FCO"],
        "bureaus": ["FRA", "ITA", "ESP", "DEU"],
        **overrides,
    }
    response = api.client.post(OPERATIONS, json=body, headers=coordinator(api))
    assert response.status_code == 201, response.text
    return dict(response.json())


def screen(api: Api, number: str, bureau: str = "FRA", **where: Any) -> str:
    body = {"document_number": number, "issuing_country": "DEU", "document_type": "passport"}
    response = api.client.post(
        SCREEN, json=body | where, headers=api.bearer(Role.BORDER_OFFICER, bureau)
    )
    assert response.status_code == 200, response.text
    return str(response.json()["result"])


def figures_once_checked(api: Api, operation_id: int, checked: int) -> dict[str, Any]:
    """Poll the figures until ``checked`` documents are counted (clean queries reach the
    database a moment after their answer)."""
    deadline = time.monotonic() + WAIT
    while True:
        response = api.client.get(f"{OPERATIONS}/{operation_id}/figures", headers=coordinator(api))
        assert response.status_code == 200, response.text
        figures = dict(response.json())
        if figures["total"]["checked"] >= checked:
            return figures
        assert time.monotonic() < deadline, f"still {figures['total']} after {WAIT} s"
        time.sleep(0.05)


def report_stolen(api: Api) -> None:
    body = {"document_number": STOLEN, "issuing_country": "DEU", "document_type": "passport",
            "status": "stolen"}  # fmt: skip
    response = api.client.post(
        "/api/v1/records", json=body, headers=api.bearer(Role.BUREAU_OFFICER, "DEU")
    )
    assert response.status_code == 201, response.text


def operation_with_a_hit(api: Api) -> dict[str, Any]:
    """An operation whose one check, at CDG, hit a stolen passport."""
    report_stolen(api)
    operation = new_operation(api)
    deadline = time.monotonic() + 5
    while screen(api, STOLEN, location="CDG") != "hit":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    figures_once_checked(api, operation["id"], 1)
    return operation


def test_screens_by_id_or_at_its_border_posts_count_and_the_hit_is_followed_to_its_outcome(
    api: Api,
) -> None:
    report_stolen(api)
    operation = new_operation(api)
    assert operation["state"] == "running"
    number = operation["id"]
    assert screen(api, "X1000001", operation_id=number) == "no_hit"
    assert screen(api, "X1000002", operation_id=str(number), location="CDG") == "no_hit"
    assert screen(api, "X1000003", location="CDG") == "no_hit"
    assert screen(api, "X1000004", bureau="ITA", location="FCO") == "no_hit"
    assert screen(api, "X1000005", location="ORY") == "no_hit"  # elsewhere, no operation
    deadline = time.monotonic() + 5
    while screen(api, STOLEN, bureau="ITA", location="FCO") != "hit":
        assert time.monotonic() < deadline, "the reported record is never found"
        time.sleep(0.05)

    figures = figures_once_checked(api, number, 5)
    assert figures["total"]["hits"] == 1
    by_location = {row["location"]: row for row in figures["by_location"]}
    assert by_location["CDG"]["checked"] == 2
    assert by_location["FCO"] == {"location": "FCO", "checked": 2, "hits": 1, "possible_hits": 0}
    assert "ORY" not in by_location
    today = datetime.now(UTC).date().isoformat()
    by_day = {row["day"]: row["checked"] for row in figures["by_day"]}
    assert len(by_day) == 4
    assert by_day[today] >= 5
    assert figures["cases"]["opened"] == 1
    assert figures["cases"]["outcomes"]["pending"] == 1

    hits = api.client.get("/api/v1/hits", headers=api.bearer(Role.BUREAU_OFFICER, "DEU")).json()
    hit_id = hits["hits"][0]["id"] if isinstance(hits, dict) else hits[0]["id"]
    answered = api.client.post(
        f"/api/v1/hits/{hit_id}/answer",
        json={"answer": "confirmed", "action": "seize_document"},
        headers=api.bearer(Role.BUREAU_OFFICER, "DEU"),
    )
    assert answered.status_code == 200, answered.text
    outcome = api.client.post(
        f"/api/v1/hits/{hit_id}/outcome", json={"outcome": "seized"},
        headers=api.bearer(Role.BUREAU_OFFICER, "ITA"),
    )  # fmt: skip
    assert outcome.status_code == 200, outcome.text

    figures = figures_once_checked(api, number, 5)
    assert figures["cases"]["answers"]["confirmed"] == 1
    assert figures["cases"]["outcomes"]["seized"] == 1
    assert figures["cases"]["answer_times"]["median_seconds"] is not None


def test_only_coordinators_create_and_only_participants_see(api: Api) -> None:
    operation = new_operation(api, bureaus=["FRA", "ITA"])
    path = f"{OPERATIONS}/{operation['id']}"
    body = {"name": "x", "starts_on": "2026-01-01", "ends_on": "2026-01-02",
            "locations": ["CDG"], "bureaus": ["GBR"]}  # fmt: skip
    for role, bureau in ((Role.ANALYST, "FRA"), (Role.BUREAU_OFFICER, "XPO")):
        refused = api.client.post(OPERATIONS, json=body, headers=api.bearer(role, bureau))
        assert refused.status_code == 403, (role, bureau, refused.text)
    refused = api.client.post(OPERATIONS, json=body, headers=api.bearer(Role.BORDER_OFFICER, "FRA"))
    assert refused.status_code == 403
    assert api.client.post(
        OPERATIONS, json=body, headers=api.bearer(Role.ADMIN, "GBR")
    ).status_code == 201  # fmt: skip

    for bureau in ("FRA", "ITA"):
        headers = api.bearer(Role.BORDER_OFFICER, bureau)
        assert api.client.get(f"{path}/figures", headers=headers).status_code == 200
        listed = api.client.get(OPERATIONS, headers=headers).json()["operations"]
        assert [o["id"] for o in listed] == [operation["id"]]
    outsider = api.bearer(Role.BUREAU_OFFICER, "DEU")
    for suffix in ("", "/figures", "/report"):
        assert api.client.get(path + suffix, headers=outsider).status_code == 404
    assert api.client.get(OPERATIONS, headers=outsider).json() == {"operations": []}
    assert len(api.client.get(OPERATIONS, headers=coordinator(api)).json()["operations"]) == 2


def test_a_bad_operation_is_refused_field_by_field(api: Api) -> None:
    body = {"name": "Late", "starts_on": "2026-03-05", "ends_on": "2026-03-01",
            "locations": ["CDG"], "bureaus": ["FRA", "ZZZ"], "kits": ["no-such-kit"]}  # fmt: skip
    refused = api.client.post(OPERATIONS, json=body, headers=coordinator(api))
    assert refused.status_code == 422
    fields = {(e["field"], e["reason"]) for e in refused.json()["errors"]}
    assert ("ends_on", "the last day comes before the first") in fields
    assert ("bureaus", "no bureau ZZZ") in fields
    assert ("kits", "no offline kit no-such-kit") in fields
    missing = api.client.post(OPERATIONS, json={"name": "x"}, headers=coordinator(api))
    assert missing.status_code == 422


def test_outside_its_dates_only_screens_sent_with_its_id_count(api: Api) -> None:
    """Screens at its border posts or by its clients count during its dates only; a kit's
    uploads count on the day each query was made offline."""
    client_id, _ = api.add_client("gate-scanner", Role.BORDER_OFFICER, "FRA")
    operation = new_operation(
        api, starts_on="2026-03-01", ends_on="2026-03-04", clients=[client_id]
    )
    number = str(operation["id"])
    rows = [
        # (day, location, who, operation_id, result): counted?
        ("2026-02-28", "CDG", "user", None, "no_hit"),  # before: no
        ("2026-03-01", "CDG", "user", None, "no_hit"),  # yes
        ("2026-03-02", "ORY", "client", None, "hit"),  # its client, elsewhere: yes
        ("2026-03-04", "FCO", "user", None, "possible_hit"),  # yes
        ("2026-03-05", "FCO", "user", None, "no_hit"),  # after: no
        ("2026-03-09", "ORY", "user", number, "no_hit"),  # its id, any day: yes
        ("2026-03-02", "ORY", "user", None, "no_hit"),  # elsewhere, someone else: no
    ]
    with api.database.session(write=True) as session:
        for n, (day, location, kind, tag, result) in enumerate(rows):
            session.add(
                ScreeningQuery(
                    id=f"{n:032x}", at=datetime.fromisoformat(day + "T23:30:00+00:00"),
                    principal_kind=kind, principal_name="gate-scanner" if kind == "client"
                    else "border.fra", bureau_code="FRA", location=location, operation_id=tag,
                    source="kit" if kind == "client" else "number", document_number="X1",
                    issuing_country="DEU", document_type="passport", result=result,
                    match_count=0,
                )
            )  # fmt: skip
    figures = figures_once_checked(api, operation["id"], 4)
    assert figures["total"] == {"checked": 4, "hits": 1, "possible_hits": 1}
    by_day = {row["day"]: row["checked"] for row in figures["by_day"]}
    assert by_day == {"2026-03-01": 1, "2026-03-02": 1, "2026-03-03": 0, "2026-03-04": 1,
                      "2026-03-09": 1}  # fmt: skip
    assert figures["state"] == "ended"
    assert figures["by_source"] == {"desk": 3, "kit": 1}


def test_the_report_names_no_document_and_comes_as_html_and_pdf(api: Api) -> None:
    path = f"{OPERATIONS}/{operation_with_a_hit(api)['id']}/report"
    html = api.client.get(path, headers=api.bearer(Role.BUREAU_OFFICER, "ESP"))
    assert html.status_code == 200
    assert html.headers["content-type"].startswith("text/html")
    assert "attachment" in html.headers["content-disposition"]
    text = html.text
    assert "Operation Blue Gate" in text
    assert "NCB ESP (ESP)" in text
    assert "data:image/svg+xml;base64," in text
    assert STOLEN not in text
    assert "border.fra" not in text
    pdf = api.client.get(path, params={"format": "pdf"}, headers=coordinator(api))
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert STOLEN.encode() not in pdf.content
    assert (
        api.client.get(path, params={"format": "doc"}, headers=coordinator(api)).status_code == 422
    )


@pytest.mark.parametrize(
    ("language", "says"),
    [("fr", "Opération Blue Gate"), ("es", "Operación Blue Gate"), ("ar", "العملية Blue Gate")],
)
def test_the_report_comes_in_each_language_of_the_console(
    api: Api, language: str, says: str
) -> None:
    path = f"{OPERATIONS}/{operation_with_a_hit(api)['id']}/report"
    html = api.client.get(path, params={"language": language}, headers=coordinator(api))
    assert html.status_code == 200
    text = html.text
    assert says in text
    assert f'lang="{language}"' in text
    assert ('dir="rtl"' in text) == (language == "ar")
    assert "Documents checked" not in text  # nothing left in English
    assert STOLEN not in text
    # The PDF renderer draws an SVG's text letter by letter, which joined letters cannot be:
    # the charts' titles and legends are the page's, and no Arabic is drawn in a chart.
    images = re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', text)
    assert len(images) == 2
    for uri in images:
        drawn = " ".join(re.findall(r"<text[^>]*>([^<]*)</text>", base64.b64decode(uri).decode()))
        assert not re.search("[\u0600-\u06ff]", drawn), drawn
    assert text.count("<figcaption>") == 4
    pdf = api.client.get(
        path, params={"format": "pdf", "language": language}, headers=coordinator(api)
    )
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    refused = api.client.get(path, params={"language": "de"}, headers=coordinator(api))
    assert refused.status_code == 422
    assert "language" in refused.text
