"""The hits pages over HTTP, as a browser uses them: each side's inbox, a case, the owner's
answer and the querying side's outcome, the thread, notifications, and the refusals."""

from __future__ import annotations

import re

from bordercheck.auth.models import Role
from tests.signin import Api
from tests.web.conftest import Console


def _record(api: Api, number: str, withheld_from: list[str] | None = None) -> int:
    deu = api.bearer(Role.BUREAU_OFFICER, "DEU")
    response = api.client.post(
        "/api/v1/records",
        headers=deu,
        json={
            "document_number": number,
            "issuing_country": "DEU",
            "document_type": "passport",
            "status": "stolen",
        },
    )
    assert response.status_code == 201, response.text
    record = response.json()
    if withheld_from:
        response = api.client.put(
            f"/api/v1/records/{record['id']}/withheld-from",
            headers=deu,
            json={"version": record["version"], "countries": withheld_from},
        )
        assert response.status_code == 200, response.text
    return int(record["id"])


def _check(browser: Console, number: str) -> int:
    """A check on /check that hits: the case it opened."""
    answer = browser.post(
        "/check",
        {"mode": "number", "document_number": number, "issuing_country": "DEU"},
        page="/check",
    )
    assert answer.status_code == 200, answer.text
    found = re.search(r'href="/hits/(\d+)"', answer.text)
    assert found, answer.text
    return int(found.group(1))


def _version(html: str) -> str:
    found = re.search(r'/status\?v=([0-9a-f]+)"', html)
    assert found, html
    return found.group(1)


def _live(browser: Console, path: str) -> object:
    return browser.client.get(path, headers={"HX-Request": "true"})


def test_the_owner_answers_and_the_querying_side_sees_it_then_records_the_outcome(
    api: Api, browser: Console
) -> None:
    _record(api, "C01X00T47")
    browser.sign_in("border.fra")
    hit_id = _check(browser, "C01X00T47")
    case = browser.client.get(f"/hits/{hit_id}")
    assert case.status_code == 200
    assert "C01X00T47" in case.text
    assert f'action="/hits/{hit_id}/outcome"' in case.text, "the querying side records outcomes"
    assert f'action="/hits/{hit_id}/answer"' not in case.text, "only the owner answers"
    assert 'data-answer=""' in case.text
    seen = _version(case.text)
    assert _live(browser, f"/hits/{hit_id}/status?v={seen}").status_code == 204

    owner = Console(api)
    owner.sign_in("officer.deu")
    inbox = owner.client.get("/hits")
    assert inbox.status_code == 200
    assert f'href="/hits/{hit_id}"' in inbox.text
    assert "left" in inbox.text, "the time left to answer, in words"
    page = owner.client.get(f"/hits/{hit_id}")
    assert f'action="/hits/{hit_id}/answer"' in page.text
    assert f'action="/hits/{hit_id}/outcome"' not in page.text
    answered = owner.post(
        f"/hits/{hit_id}/answer",
        {"answer": "confirmed", "action": "seize_document", "note": "Stolen in Bonn."},
        page=f"/hits/{hit_id}",
    )
    assert answered.status_code == 303
    assert answered.headers["location"] == f"/hits/{hit_id}"
    assert 'data-answer="confirmed"' in owner.client.get(f"/hits/{hit_id}").text

    # The querying side's open page asks for news: the answer, without a reload.
    news = _live(browser, f"/hits/{hit_id}/status?v={seen}")
    assert news.status_code == 200
    assert "<html" not in news.text
    assert 'data-answer="confirmed"' in news.text
    assert "Seize the document" in news.text
    assert "Stolen in Bonn." in news.text

    done = browser.post(f"/hits/{hit_id}/outcome", {"outcome": "seized"}, page=f"/hits/{hit_id}")
    assert done.status_code == 303
    closed = browser.client.get(f"/hits/{hit_id}").text
    assert 'data-outcome="seized"' in closed
    assert f'action="/hits/{hit_id}/outcome"' not in closed
    assert "Closed" in closed
