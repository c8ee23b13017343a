"""``/records`` and ``/changes`` over HTTP: who may do what, versions, history, bulk, feed."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from bordercheck.auth.models import Role
from bordercheck.registry.models import Record
from tests.signin import Api, open_api

RECORDS = "/api/v1/records"


def passport(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "document_number": "C01X00T47",
        "issuing_country": "DEU",
        "document_type": "passport",
        "status": "stolen",
        "event_date": "2024-03-01",
        "event_place": "BERLIN",
        "holder_surname": "MUSTERMANN",
        "holder_given_names": "ERIKA",
    }
    data.update(overrides)
    return data


def create(api: Api, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    response = api.client.post(RECORDS, headers=headers, json=passport(**overrides))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_the_issuing_bureau_records_a_document(api: Api, deu: dict[str, str]) -> None:
    record = create(api, deu, document_number="c01x-00t47")
    assert record["id"] > 0
    assert record["version"] == 1
    assert record["document_number"] == "C01X00T47"
    assert record["active"] is True
    assert record["review_overdue"] is False
    assert record["created_by"] == "officer.deu"
    read = api.client.get(f"{RECORDS}/{record['id']}", headers=deu)
    assert read.json() == record


def test_a_duplicate_is_refused_with_the_record_it_duplicates(
    api: Api, deu: dict[str, str]
) -> None:
    first = create(api, deu)
    again = api.client.post(RECORDS, headers=deu, json=passport(status="lost"))
    assert again.status_code == 409
    assert again.json()["error"] == "duplicate"
    assert again.json()["detail"]["record_id"] == first["id"]
    merged = api.client.post(f"{RECORDS}?merge=true", headers=deu, json=passport(status="lost"))
    assert merged.status_code == 200
    assert merged.json()["id"] == first["id"]
    assert (merged.json()["version"], merged.json()["status"]) == (2, "lost")


@pytest.mark.parametrize(
    ("role", "kind"),
    [
        (Role.BORDER_OFFICER, "user"),
        (Role.BORDER_OFFICER, "client"),
        (Role.ANALYST, "user"),
        (Role.TRAINER, "user"),
    ],
)
def test_only_bureau_officers_and_administrators_write_records(
    api: Api, role: Role, kind: Any
) -> None:
    headers = api.bearer(role, "DEU", kind=kind)
    response = api.client.post(RECORDS, headers=headers, json=passport())
    assert response.status_code == 403
    assert "bureau_officer" in response.json()["message"]
    admin = api.bearer(Role.ADMIN, "XPO")
    assert api.client.post(RECORDS, headers=admin, json=passport()).status_code == 201


def test_a_client_of_a_bureau_may_keep_its_records(api: Api) -> None:
    system = api.bearer(Role.BUREAU_OFFICER, "DEU", name="bcc_bka", kind="client")
    record = create(api, system)
    assert record["created_by"] == "client:bcc_bka"


def test_a_bureau_cannot_create_or_change_another_countrys_records(
    api: Api, deu: dict[str, str], fra: dict[str, str]
) -> None:
    refused = api.client.post(RECORDS, headers=fra, json=passport())
    assert refused.status_code == 403
    record = create(api, deu)
    path = f"{RECORDS}/{record['id']}"
    patch = api.client.patch(path, headers=fra, json={"version": 1, "status": "lost"})
    assert patch.status_code == 403
    assert "only the DEU bureau" in patch.json()["message"]
    withdraw = api.client.request(
        "DELETE", path, headers=fra, json={"version": 1, "reason": "found"}
    )
    assert withdraw.status_code == 403
    assert api.client.get(path, headers=deu).json() == record


def test_a_patch_changes_only_the_fields_sent(api: Api, deu: dict[str, str]) -> None:
    record = create(api, deu)
    path = f"{RECORDS}/{record['id']}"
    response = api.client.patch(
        path, headers=deu, json={"version": 1, "status": "lost", "event_place": None}
    )
    assert response.status_code == 200, response.text
    changed = response.json()
    assert (changed["version"], changed["status"], changed["event_place"]) == (2, "lost", None)
    assert changed["holder_surname"] == "MUSTERMANN"


def test_a_stale_version_is_refused_and_nothing_changes(api: Api, deu: dict[str, str]) -> None:
    record = create(api, deu)
    path = f"{RECORDS}/{record['id']}"
    api.client.patch(path, headers=deu, json={"version": 1, "status": "lost"})
    stale = api.client.patch(path, headers=deu, json={"version": 1, "event_place": "BONN"})
    assert stale.status_code == 409
    assert stale.json()["error"] == "stale_version"
    assert stale.json()["detail"]["current_version"] == 2
    current = api.client.get(path, headers=deu).json()
    assert (current["version"], current["event_place"]) == (2, "BERLIN")
    history = api.client.get(f"{path}/history", headers=deu).json()
    assert [v["version"] for v in history["versions"]] == [1, 2]


def test_of_two_officers_who_read_the_same_version_the_second_is_refused(api: Api) -> None:
    anna = api.bearer(Role.BUREAU_OFFICER, "DEU", name="anna")
    ben = api.bearer(Role.BUREAU_OFFICER, "DEU", name="ben")
    record = create(api, anna)
    path = f"{RECORDS}/{record['id']}"
    read_by_anna = api.client.get(path, headers=anna).json()["version"]
    read_by_ben = api.client.get(path, headers=ben).json()["version"]
    first = api.client.patch(path, headers=anna, json={"version": read_by_anna, "status": "lost"})
    second = api.client.patch(path, headers=ben, json={"version": read_by_ben, "status": "revoked"})
    assert first.status_code == 200
    assert second.status_code == 409
    final = api.client.get(path, headers=ben).json()
    assert (final["status"], final["updated_by"]) == ("lost", "anna")


def test_withdrawing_keeps_the_record_and_its_history(api: Api, deu: dict[str, str]) -> None:
    record = create(api, deu)
    path = f"{RECORDS}/{record['id']}"
    api.client.patch(path, headers=deu, json={"version": 1, "status": "lost"})
    withdrawn = api.client.request(
        "DELETE", path, headers=deu, json={"version": 2, "reason": "document recovered"}
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["active"] is False
    assert withdrawn.json()["withdrawal_reason"] == "document recovered"
    history = api.client.get(f"{path}/history", headers=deu).json()["versions"]
    assert [(v["version"], v["kind"]) for v in history] == [
        (1, "created"),
        (2, "updated"),
        (3, "withdrawn"),
    ]
    assert history[0]["data"]["status"] == "stolen"
    assert history[0]["by"] == "officer.deu"
    # The same document can be recorded again once the old record is withdrawn.
    assert create(api, deu)["id"] != record["id"]


def test_a_withdrawal_takes_its_version_and_reason_from_the_query_too(
    api: Api, deu: dict[str, str]
) -> None:
    record = create(api, deu)
    path = f"{RECORDS}/{record['id']}"
    missing = api.client.delete(path, headers=deu, params={"version": 1})
    assert missing.status_code == 422
    assert missing.json()["errors"] == [{"field": "reason", "reason": "is required"}]
    done = api.client.delete(path, headers=deu, params={"version": 1, "reason": "error"})
    assert done.status_code == 200
    again = api.client.delete(path, headers=deu, params={"version": 2, "reason": "error"})
    assert again.status_code == 409


@pytest.mark.parametrize(
    ("role", "bureau", "allowed"),
    [
        (Role.BUREAU_OFFICER, "DEU", True),
        (Role.ADMIN, "XPO", True),
        (Role.ANALYST, "XPO", True),
        (Role.BUREAU_OFFICER, "FRA", False),
        (Role.BUREAU_OFFICER, "XPO", False),
        (Role.ANALYST, "DEU", False),
        (Role.BORDER_OFFICER, "DEU", False),
        (Role.TRAINER, "XPO", False),
    ],
)
def test_a_records_details_are_for_its_bureau_and_the_secretariats_analysts(
    api: Api, deu: dict[str, str], role: Role, bureau: str, allowed: bool
) -> None:
    record = create(api, deu)
    headers = api.bearer(role, bureau)
    for path in (f"{RECORDS}/{record['id']}", f"{RECORDS}/{record['id']}/history"):
        response = api.client.get(path, headers=headers)
        assert response.status_code == (200 if allowed else 403), path
        if not allowed:
            assert "MUSTERMANN" not in response.text


def test_an_unknown_record_is_404(api: Api, deu: dict[str, str]) -> None:
    response = api.client.get(f"{RECORDS}/999", headers=deu)
    assert response.status_code == 404


def test_a_record_whose_review_date_has_passed_is_flagged(api: Api, deu: dict[str, str]) -> None:
    record = create(api, deu)
    with api.database.session(write=True) as session:
        session.execute(
            update(Record)
            .where(Record.id == record["id"])
            .values(review_due=date.today() - timedelta(days=1))
        )
    read = api.client.get(f"{RECORDS}/{record['id']}", headers=deu).json()
    assert read["review_overdue"] is True


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("issuing_country", "XX", "'XX' is not a country code"),
        ("document_number", "A" * 25, "25 characters long (at most 24)"),
        ("document_number", "C01X00T4€", "only letters A-Z and digits, not '€'"),
        ("document_type", "scroll", "'passport'"),
        ("colour", "red", "xtra"),
    ],
)
def test_an_invalid_field_is_named_with_the_reason(
    api: Api, deu: dict[str, str], field: str, value: str, reason: str
) -> None:
    response = api.client.post(RECORDS, headers=deu, json=passport(**{field: value}))
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["field"] == field
    assert reason in error["reason"]
    assert not error["reason"].startswith("Value error")
    assert response.json()["message"].startswith(f"{field}: ")


def test_a_patch_that_makes_a_record_invalid_names_the_field(api: Api, deu: dict[str, str]) -> None:
    record = create(api, deu)
    path = f"{RECORDS}/{record['id']}"
    response = api.client.patch(path, headers=deu, json={"version": 1, "issuing_country": "XX"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "issuing_country"
    assert api.client.get(path, headers=deu).json()["version"] == 1


def test_a_change_is_screened_by_the_process_that_made_it_before_it_answers(
    fresh_url: str,
) -> None:
    # The feed is followed once a minute here: only reading one's own writes explains a
    # change screened at once.
    with open_api(fresh_url, feed_poll_seconds=60) as api:
        deu = api.bearer(Role.BUREAU_OFFICER, "DEU", name="officer.deu")
        border = api.bearer(Role.BORDER_OFFICER, "FRA", name="border.fra")

        def result(number: str) -> str:
            response = api.client.post(
                "/api/v1/screen", headers=border,
                json={"document_number": number, "issuing_country": "DEU"},
            )  # fmt: skip
            assert response.status_code == 200, response.text
            answer: str = response.json()["result"]
            return answer

        record = create(api, deu)
        assert result("C01X00T47") == "hit"
        changed = api.client.patch(
            f"{RECORDS}/{record['id']}", headers=deu,
            json={"version": record["version"], "document_number": "C01X00T99"},
        )  # fmt: skip
        assert changed.status_code == 200, changed.text
        assert result("C01X00T99") == "hit"
        assert result("C01X00T47") == "no_hit"
        withdrawn = api.client.request(
            "DELETE", f"{RECORDS}/{record['id']}", headers=deu,
            json={"version": changed.json()["version"], "reason": "found by its holder"},
        )  # fmt: skip
        assert withdrawn.status_code == 200, withdrawn.text
        assert result("C01X00T99") == "no_hit"
