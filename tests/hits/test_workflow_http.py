"""The hit workflow over HTTP: a search by one bureau hits another's record, both are told,
the owner answers, the querying side records the outcome, and a third bureau sees nothing."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from bordercheck.api.app import create_app
from bordercheck.audit.service import AuditFilter, search, verify
from bordercheck.auth.models import Role
from bordercheck.errors import ConfigurationError
from bordercheck.migrations import upgrade
from bordercheck.settings import Settings
from tests.conftest import FreshDatabases
from tests.factories import keyed_database, secret_key
from tests.signin import Api, open_api

SCREEN = "/api/v1/screen"
RECORDS = "/api/v1/records"
HITS = "/api/v1/hits"
NOTIFICATIONS = "/api/v1/notifications"
DOCUMENTS = ("C01X00T47", "C01X00T84", "C01X00T92")  # one case each


@pytest.fixture
def api(fresh_url: str) -> Iterator[Api]:
    with open_api(fresh_url, bureaus=("DEU", "FRA", "ITA")) as api:
        yield api


def deu(api: Api) -> dict[str, str]:
    return api.bearer(Role.BUREAU_OFFICER, "DEU", name="officer.deu")


def fra_border(api: Api) -> dict[str, str]:
    return api.bearer(Role.BORDER_OFFICER, "FRA", name="border.fra")


def report(api: Api, number: str = "C01X00T47") -> dict[str, Any]:
    body = {"document_number": number, "issuing_country": "DEU", "document_type": "passport",
            "status": "stolen"}  # fmt: skip
    response = api.client.post(RECORDS, json=body, headers=deu(api))
    assert response.status_code == 201, response.text
    return dict(response.json())


def screen(api: Api, number: str = "C01X00T47", **extra: Any) -> dict[str, Any]:
    """Screen as FRA's border officer once the index has the latest records; write the log."""
    api.client.app.state.live_index.catch_up()  # type: ignore[attr-defined]
    body = {"document_number": number, "issuing_country": "DEU", "location": "CDG-T2", **extra}
    response = api.client.post(SCREEN, json=body, headers=fra_border(api))
    assert response.status_code == 200, response.text
    return dict(response.json())


def only_case(api: Api, headers: dict[str, str]) -> dict[str, Any]:
    page = api.client.get(HITS, headers=headers)
    assert page.status_code == 200, page.text
    (case,) = page.json()["hits"]
    return dict(case)


def test_the_full_path_of_a_hit(api: Api) -> None:
    record = report(api)
    assert screen(api)["result"] == "hit"
    fra, ita = api.bearer(Role.BUREAU_OFFICER, "FRA"), api.bearer(Role.BUREAU_OFFICER, "ITA")

    case = only_case(api, deu(api))
    assert case == only_case(api, fra_border(api))
    assert (case["owner_bureau"], case["querying_bureau"], case["state"]) == ("DEU", "FRA", "open")
    assert (case["record_id"], case["location"], case["source"]) == (record["id"], "CDG-T2", "desk")
    assert case["record"]["document_number"] == "C01X00T47"
    assert case["queried_by"] == "border.fra"
    hit_id = case["id"]

    for headers in (deu(api), fra):
        told = api.client.get(NOTIFICATIONS, headers=headers).json()
        assert told["unread"] == 1
        assert [(n["kind"], n["hit_id"]) for n in told["notifications"]] == [("hit.opened", hit_id)]

    answered = api.client.post(
        f"{HITS}/{hit_id}/answer",
        json={"answer": "confirmed", "action": "seize_document", "note": "stolen in Berlin"},
        headers=deu(api),
    )
    assert answered.status_code == 200, answered.text
    assert answered.json()["state"] == "answered"
    assert answered.json()["answered_by"] == "officer.deu"

    closed = api.client.post(
        f"{HITS}/{hit_id}/outcome", json={"outcome": "seized", "note": "held at the desk"},
        headers=fra_border(api),
    )  # fmt: skip
    assert closed.status_code == 200, closed.text

    case = api.client.get(f"{HITS}/{hit_id}", headers=fra).json()
    assert (case["state"], case["answer"], case["action"]) == ("closed", "confirmed",
                                                               "seize_document")  # fmt: skip
    assert (case["outcome"], case["outcome_by"], case["outcome_note"]) == (
        "seized", "border.fra", "held at the desk"
    )  # fmt: skip
    kinds = [n["kind"] for n in api.client.get(NOTIFICATIONS, headers=deu(api)).json()
             ["notifications"]]  # fmt: skip
    assert kinds == ["hit.outcome", "hit.answered", "hit.opened"]

    thread = api.client.get(f"{HITS}/{hit_id}/messages", headers=fra)
    assert thread.status_code == 200, thread.text
    assert thread.json()["participants"] == ["DEU", "FRA"]
    assert thread.json()["message_count"] == 3  # opened, answered, outcome

    # A third bureau sees none of it.
    assert api.client.get(f"{HITS}/{hit_id}", headers=ita).status_code == 404
    assert api.client.get(HITS, headers=ita).json()["hits"] == []
    assert api.client.get(NOTIFICATIONS, headers=ita).json() == {
        "notifications": [], "unread": 0, "next_before": None
    }  # fmt: skip
    refused = api.client.post(f"{HITS}/{hit_id}/answer", json={"answer": "no_match"}, headers=ita)
    assert refused.status_code == 404

    with api.database.session() as session:
        page = search(session, AuditFilter(subject=f"hit:{hit_id}"))
        assert [e.action for e in page.entries] == ["hit.outcome", "hit.answered", "hit.opened"]


def test_only_the_owner_answers_and_only_once(api: Api) -> None:
    report(api)
    screen(api)
    hit_id = only_case(api, deu(api))["id"]
    wrong_side = api.client.post(
        f"{HITS}/{hit_id}/answer", json={"answer": "confirmed"},
        headers=api.bearer(Role.BUREAU_OFFICER, "FRA"),
    )  # fmt: skip
    assert wrong_side.status_code == 403
    assert "only the DEU bureau" in wrong_side.json()["message"]
    outcome_by_owner = api.client.post(
        f"{HITS}/{hit_id}/outcome", json={"outcome": "released"}, headers=deu(api)
    )
    assert outcome_by_owner.status_code == 403

    first = api.client.post(
        f"{HITS}/{hit_id}/answer", json={"answer": "no_match"}, headers=deu(api)
    )
    assert first.status_code == 200, first.text
    again = api.client.post(
        f"{HITS}/{hit_id}/answer", json={"answer": "confirmed"}, headers=deu(api)
    )
    assert again.status_code == 409
    assert again.json()["detail"]["answer"] == "no_match"

    outcome = {"outcome": "released"}
    assert api.client.post(f"{HITS}/{hit_id}/outcome", json=outcome,
                           headers=fra_border(api)).status_code == 200  # fmt: skip
    assert api.client.post(f"{HITS}/{hit_id}/outcome", json=outcome,
                           headers=fra_border(api)).status_code == 409  # fmt: skip


def test_bad_answers_name_the_field(api: Api) -> None:
    report(api)
    screen(api)
    hit_id = only_case(api, deu(api))["id"]
    cases = [
        ({"answer": "maybe"}, "answer"),
        ({"answer": "no_match", "action": "seize_document"}, "action"),
        ({"answer": "confirmed", "correction": {"status": "lost"}}, "correction"),
        ({"answer": "confirmed", "action": "shoot"}, "action"),
        ({"answer": "confirmed", "note": "x" * 2001}, "note"),
    ]
    for body, field in cases:
        response = api.client.post(f"{HITS}/{hit_id}/answer", json=body, headers=deu(api))
        assert response.status_code == 422, body
        assert response.json()["errors"][0]["field"] == field, response.json()
    assert api.client.get(f"{HITS}/0", headers=deu(api)).status_code == 422
    assert api.client.get(f"{HITS}/999", headers=deu(api)).status_code == 404
    assert api.client.get(HITS, headers={}).status_code == 401
    trainer = api.bearer(Role.TRAINER, "DEU")
    assert api.client.get(HITS, headers=trainer).status_code == 403


def test_not_confirmed_withdraws_the_record_in_the_same_step(api: Api) -> None:
    record = report(api)
    screen(api)
    hit_id = only_case(api, deu(api))["id"]
    response = api.client.post(
        f"{HITS}/{hit_id}/answer",
        json={"answer": "not_confirmed", "note": "found again in 2025"},
        headers=deu(api),
    )
    assert response.status_code == 200, response.text
    assert response.json()["record"]["active"] is False
    withdrawn = api.client.get(f"{RECORDS}/{record['id']}", headers=deu(api)).json()
    assert withdrawn["withdrawal_reason"] == f"hit {hit_id} not confirmed: found again in 2025"
    assert screen(api)["result"] == "no_hit"


def test_not_confirmed_may_correct_the_record_instead(api: Api) -> None:
    record = report(api)
    screen(api)
    hit_id = only_case(api, deu(api))["id"]
    bad = api.client.post(
        f"{HITS}/{hit_id}/answer",
        json={"answer": "not_confirmed", "correction": {"status": "mislaid"}},
        headers=deu(api),
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "correction.status"
    stale = api.client.post(
        f"{HITS}/{hit_id}/answer",
        json={"answer": "not_confirmed", "correction": {"status": "lost"}, "record_version": 7},
        headers=deu(api),
    )
    assert stale.status_code == 409
    assert stale.json()["error"] == "stale_version"
    corrected = api.client.post(
        f"{HITS}/{hit_id}/answer",
        json={"answer": "not_confirmed", "correction": {"document_number": "C01X00T84"},
              "record_version": 1},
        headers=deu(api),
    )  # fmt: skip
    assert corrected.status_code == 200, corrected.text
    now = api.client.get(f"{RECORDS}/{record['id']}", headers=deu(api)).json()
    assert (now["document_number"], now["version"], now["active"]) == ("C01X00T84", 2, True)
    assert screen(api)["result"] != "hit"
    assert screen(api, "C01X00T84")["result"] == "hit"


def test_lists_filter_by_side_and_state_and_page(api: Api) -> None:
    for number in DOCUMENTS:
        report(api, number)
        screen(api, number)
    fra = api.bearer(Role.BUREAU_OFFICER, "FRA")
    ids = [c["id"] for c in api.client.get(HITS, headers=fra).json()["hits"]]
    assert len(ids) == 3
    assert ids == sorted(ids, reverse=True)
    assert api.client.get(HITS, params={"role": "owner"}, headers=fra).json()["hits"] == []
    assert len(api.client.get(HITS, params={"role": "owner"}, headers=deu(api)).json()["hits"]) == 3
    api.client.post(f"{HITS}/{ids[0]}/answer", json={"answer": "confirmed"}, headers=deu(api))
    answered = api.client.get(HITS, params={"state": "answered"}, headers=fra).json()["hits"]
    assert [c["id"] for c in answered] == [ids[0]]
    page = api.client.get(HITS, params={"limit": 2}, headers=fra).json()
    assert [c["id"] for c in page["hits"]] == ids[:2]
    rest = api.client.get(HITS, params={"limit": 2, "before": page["next_before"]}, headers=fra)
    assert [c["id"] for c in rest.json()["hits"]] == ids[2:]
    bad = api.client.get(HITS, params={"state": "lost"}, headers=fra)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "query.state"


def test_notifications_are_marked_read_by_the_bureau_only(api: Api) -> None:
    for number in DOCUMENTS[:2]:
        report(api, number)
        screen(api, number)
    mine = api.client.get(NOTIFICATIONS, headers=deu(api)).json()
    assert mine["unread"] == 2
    first = mine["notifications"][-1]["id"]
    fra = api.bearer(Role.BUREAU_OFFICER, "FRA")
    # Another bureau's id is ignored, not refused: nothing says the notification exists.
    other = api.client.post(f"{NOTIFICATIONS}/read", json={"ids": [first]}, headers=fra).json()
    assert other["marked"] == 0
    marked = api.client.post(f"{NOTIFICATIONS}/read", json={"ids": [first]}, headers=deu(api))
    assert marked.json() == {"marked": 1, "unread": 1}
    unread = api.client.get(NOTIFICATIONS, params={"unread": True}, headers=deu(api)).json()
    assert len(unread["notifications"]) == 1
    assert api.client.post(f"{NOTIFICATIONS}/read", json={}, headers=deu(api)).json() == {
        "marked": 1, "unread": 0
    }  # fmt: skip
    border = api.client.get(NOTIFICATIONS, headers=fra_border(api))
    assert border.status_code == 403


def test_a_withheld_record_stays_hidden_in_the_case(api: Api) -> None:
    record = report(api)
    withheld = api.client.put(
        f"{RECORDS}/{record['id']}/withheld-from",
        json={"version": 1, "countries": ["FRA"]},
        headers=deu(api),
    )
    assert withheld.status_code == 200, withheld.text
    screen(api)
    seen_by_fra = only_case(api, fra_border(api))
    assert (seen_by_fra["record_id"], seen_by_fra["record"]) == (None, None)
    assert only_case(api, deu(api))["record_id"] == record["id"]


def test_a_batch_opens_its_cases_at_once_with_their_notices(api: Api) -> None:
    for n in range(5):
        report(api, f"C01X00T4{n}")
    api.client.app.state.live_index.catch_up()  # type: ignore[attr-defined]
    documents = [{"document_number": f"C01X00T4{n}", "issuing_country": "DEU"} for n in range(50)]
    response = api.client.post(
        f"{SCREEN}/batch", json={"documents": documents}, headers=fra_border(api)
    )
    assert response.status_code == 200, response.text
    found = api.client.get(HITS, headers=deu(api)).json()["hits"]
    assert len(found) == 5
    assert {c["source"] for c in found} == {"batch"}
    # A batch hit leaves the owner the full 12 hours, not the half-hour of a desk.
    created, due = found[0]["created_at"], found[0]["due_at"]
    hours = (datetime.fromisoformat(due) - datetime.fromisoformat(created)).total_seconds() / 3600
    assert hours == 12
    assert api.client.get(NOTIFICATIONS, headers=deu(api)).json()["unread"] == 5


def test_an_app_with_a_key_of_its_own_writes_under_that_key(
    backend: str, fresh_databases: FreshDatabases
) -> None:
    """Nothing falls back on the process's settings: the audit chain, the hit's opening and
    the centre's note in its thread are all under the app's key, not the environment's."""
    own_key = secrets.token_urlsafe(32)
    url = fresh_databases.url(backend, migrate=False)
    upgrade(url, secret_key=own_key)
    with open_api(url, bureaus=("DEU", "FRA"), secret_key=own_key) as api:
        report(api)
        assert screen(api)["result"] == "hit"
        case = only_case(api, deu(api))
        thread = api.client.get(f"{HITS}/{case['id']}/messages", headers=deu(api)).json()
        (note,) = thread["messages"]
        assert (note["system"], note["verified"]) == (True, True)
        assert note["body"].startswith(f"Hit {case['id']} opened")
        with api.database.session() as session:
            assert verify(session).whole
            assert verify(session, own_key).whole
            assert not verify(session, secret_key()).whole
            actions = {e.action for e in search(session, AuditFilter(), limit=100).entries}
    assert {"hit.opened", "messages.note_posted"} <= actions


def test_an_app_refuses_a_database_opened_with_another_key(fresh_url: str) -> None:
    settings = Settings(database_url=fresh_url, env="test", secret_key=secrets.token_urlsafe(32))
    with pytest.raises(ConfigurationError, match="another secret key"):
        create_app(settings, keyed_database(fresh_url))
