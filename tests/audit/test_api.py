"""``GET /audit`` over HTTP: who may search what, and what changes leave behind."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from bordercheck.auth.models import Role
from tests.signin import PASSWORD, Api, open_api

AUDIT = "/api/v1/audit"


@pytest.fixture
def api(fresh_url: str) -> Iterator[Api]:
    with open_api(fresh_url, bureaus=("DEU", "FRA")) as api:
        yield api


def search(api: Api, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    response = api.client.get(AUDIT, headers=headers, params=params)
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()["entries"]
    return entries


def create_record(api: Api, headers: dict[str, str], country: str = "DEU") -> dict[str, Any]:
    body = {
        "document_number": "C01X00T47",
        "issuing_country": country,
        "document_type": "passport",
        "status": "stolen",
        "holder_surname": "MUSTERMANN",
    }
    response = api.client.post("/api/v1/records", headers=headers, json=body)
    assert response.status_code == 201, response.text
    record: dict[str, Any] = response.json()
    return record


def test_a_record_change_is_in_the_owning_bureaus_trail(api: Api) -> None:
    deu = api.bearer(Role.BUREAU_OFFICER, "DEU", name="officer.deu")
    record = create_record(api, deu)
    changed = api.client.patch(
        f"/api/v1/records/{record['id']}",
        headers=deu,
        json={"version": record["version"], "status": "lost"},
    )
    assert changed.status_code == 200, changed.text
    entries = search(api, deu, subject=f"record:{record['id']}")
    assert [e["action"] for e in entries] == ["record.updated", "record.created"]
    updated = entries[0]
    assert updated["actor"] == "officer.deu"
    assert updated["bureau"] == "DEU"
    assert updated["details"]["fields"] == ["status"]
    # Names of the fields changed, never holder details: the trail is kept for good.
    assert "MUSTERMANN" not in str(entries)


def test_a_bulk_import_leaves_one_entry_with_its_counts(api: Api) -> None:
    deu = api.bearer(Role.BUREAU_OFFICER, "DEU", name="officer.deu")
    records = [
        {
            "document_number": f"C01X00{n:03d}",
            "issuing_country": "DEU",
            "document_type": "passport",
            "status": "lost",
        }
        for n in range(50)
    ]
    response = api.client.post("/api/v1/records/bulk", headers=deu, json={"records": records})
    assert response.status_code == 200, response.text
    assert search(api, deu, action="record.created") == []
    [entry] = search(api, deu, action="records.imported")
    assert entry["details"]["created"] == 50
    assert entry["details"]["rows"] == 50


def test_sign_ins_and_failed_ones_are_recorded_without_the_password(api: Api) -> None:
    api.add_user("anna.k", Role.BUREAU_OFFICER, "DEU")
    api.sign_in("anna.k")
    failed = api.client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": "anna.k", "password": "guess-guess-guess"},
    )
    assert failed.status_code == 401
    admin = api.bearer(Role.ADMIN, "XPO", name="admin")
    [signed_in] = search(api, admin, action="auth.signed_in")
    assert signed_in["actor"] == "anna.k"
    assert signed_in["bureau"] == "DEU"
    assert signed_in["subject"] == "user:anna.k"
    [failure] = search(api, admin, action="auth.sign_in_failed")
    assert failure["actor"] == "anna.k"
    assert failure["details"]["address"] == "testclient"
    assert PASSWORD not in str(signed_in)
    assert "guess-guess-guess" not in str(failure)


def test_admin_changes_to_users_and_clients_are_recorded(api: Api) -> None:
    admin = api.bearer(Role.ADMIN, "XPO", name="root")
    new_user = {
        "username": "ben.f",
        "bureau": "FRA",
        "role": "border_officer",
        "password": PASSWORD,
    }
    assert api.client.post("/api/v1/users", headers=admin, json=new_user).status_code == 201
    deactivated = api.client.post("/api/v1/users/ben.f/deactivate", headers=admin)
    assert deactivated.status_code == 200
    new_client = {"name": "CDG gates", "bureau": "FRA", "role": "border_officer"}
    client = api.client.post("/api/v1/clients", headers=admin, json=new_client).json()
    api.client.post(f"/api/v1/clients/{client['client_id']}/deactivate", headers=admin)
    entries = search(api, admin, actor="root")
    assert [e["action"] for e in entries] == [
        "client.revoked",
        "client.added",
        "user.deactivated",
        "user.added",
    ]
    assert {e["bureau"] for e in entries} == {"FRA"}
    assert client["client_secret"] not in str(entries)


def test_admins_see_every_bureau_and_may_filter_by_one(api: Api) -> None:
    create_record(api, api.bearer(Role.BUREAU_OFFICER, "DEU"), "DEU")
    create_record(api, api.bearer(Role.BUREAU_OFFICER, "FRA"), "FRA")
    admin = api.bearer(Role.ADMIN, "XPO")
    assert {e["bureau"] for e in search(api, admin, action="record.created")} == {"DEU", "FRA"}
    assert {e["bureau"] for e in search(api, admin, bureau="fra")} == {"FRA"}


def test_a_bureau_sees_only_its_own_entries(api: Api) -> None:
    deu = api.bearer(Role.BUREAU_OFFICER, "DEU")
    create_record(api, deu, "DEU")
    create_record(api, api.bearer(Role.BUREAU_OFFICER, "FRA"), "FRA")
    entries = search(api, deu)
    assert entries
    assert {e["bureau"] for e in entries} == {"DEU"}
    other = api.client.get(AUDIT, headers=deu, params={"bureau": "FRA"})
    assert other.status_code == 403
    assert "may search only its own audit entries" in other.json()["message"]


@pytest.mark.parametrize("role", [Role.BORDER_OFFICER, Role.ANALYST, Role.TRAINER])
def test_other_roles_may_not_search(api: Api, role: Role) -> None:
    response = api.client.get(AUDIT, headers=api.bearer(role, "DEU"))
    assert response.status_code == 403
    assert "admin, bureau_officer" in response.json()["message"]


def test_searching_needs_a_signed_in_caller(api: Api) -> None:
    response = api.client.get(AUDIT)
    assert response.status_code == 401


def test_pages_follow_the_cursor_newest_first(api: Api) -> None:
    admin = api.bearer(Role.ADMIN, "XPO")
    api.add_bureaus("ITA", "ESP", "AUT")
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, "action": "bureau."}
        if cursor is not None:
            params["before"] = cursor
        page = api.client.get(AUDIT, headers=admin, params=params).json()
        seen += [entry["seq"] for entry in page["entries"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    # The secretariat and the five bureaus added.
    assert len(seen) == 6
    assert seen == sorted(seen, reverse=True)


def test_bad_filters_are_refused_naming_the_field(api: Api) -> None:
    admin = api.bearer(Role.ADMIN, "XPO")
    response = api.client.get(AUDIT, headers=admin, params={"since": "yesterday"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.since"
    response = api.client.get(AUDIT, headers=admin, params={"limit": 0})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.limit"


def test_since_and_until_bound_the_moment_of_the_entries(api: Api) -> None:
    admin = api.bearer(Role.ADMIN, "XPO")
    [added] = search(api, admin, action="bureau.added", subject="bureau:DEU")
    at = datetime.fromisoformat(added["at"])
    # The same moment in another zone means the same thing.
    paris = at.astimezone(timezone(timedelta(hours=1))).isoformat()
    assert [e["seq"] for e in search(api, admin, subject="bureau:DEU", since=paris)] == [
        added["seq"]
    ]
    assert search(api, admin, subject="bureau:DEU", until=paris) == []
    later = (at + timedelta(seconds=1)).isoformat()
    assert search(api, admin, subject="bureau:DEU", since=later) == []
