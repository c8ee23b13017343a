"""/metrics: only the scraper's token or an administrator reads it, and never hits by result."""

from __future__ import annotations

from bordercheck.auth.models import Role
from tests.signin import Api, open_api

SCRAPE_TOKEN = "scrape-" + "k" * 40
SCREEN = "/api/v1/screen"


def _screen_once(api: Api) -> None:
    body = {"document_number": "C01X00T47", "issuing_country": "DEU"}
    response = api.client.post(SCREEN, json=body, headers=api.bearer(Role.BORDER_OFFICER, "FRA"))
    assert response.status_code == 200, response.text


def test_without_a_metrics_token_only_an_administrator_reads_the_metrics(fresh_url: str) -> None:
    with open_api(fresh_url) as api:
        assert api.client.get("/metrics").status_code == 404
        wrong = {"Authorization": "Bearer " + SCRAPE_TOKEN}
        assert api.client.get("/metrics", headers=wrong).status_code == 404
        officer = api.bearer(Role.BUREAU_OFFICER, "DEU")
        assert api.client.get("/metrics", headers=officer).status_code == 403
        admin = api.client.get("/metrics", headers=api.bearer(Role.ADMIN, "XPO"))
        assert admin.status_code == 200
        assert "bordercheck_index_records" in admin.text


def test_the_scraper_needs_the_exact_token(fresh_url: str) -> None:
    with open_api(fresh_url, metrics_token=SCRAPE_TOKEN) as api:
        assert api.client.get("/metrics").status_code == 401
        near = {"Authorization": "Bearer " + SCRAPE_TOKEN[:-1] + "x"}
        assert api.client.get("/metrics", headers=near).status_code == 401
        right = api.client.get("/metrics", headers={"Authorization": "Bearer " + SCRAPE_TOKEN})
        assert right.status_code == 200
        assert "bordercheck_http_requests_total" in right.text


def test_screenings_are_counted_without_their_result(fresh_url: str) -> None:
    with open_api(fresh_url, metrics_token=SCRAPE_TOKEN) as api:
        _screen_once(api)
        text = api.client.get("/metrics", headers={"Authorization": "Bearer " + SCRAPE_TOKEN}).text
    assert "bordercheck_screenings_total 1.0" in text
    assert "result=" not in text
