"""``POST /records/bulk`` (all or nothing, every bad item named) and ``GET /changes``."""

from __future__ import annotations

from typing import Any

import pytest

from bordercheck.auth.models import Role
from tests.signin import Api

BULK = "/api/v1/records/bulk"
CHANGES = "/api/v1/changes"


def passport(number: str, **overrides: Any) -> dict[str, Any]:
    return {
        "document_number": number,
        "issuing_country": "DEU",
        "document_type": "passport",
        "status": "stolen",
        **overrides,
    }


@pytest.fixture
def follower(api: Api) -> dict[str, str]:
    return api.bearer(Role.BUREAU_OFFICER, "XPO", name="bcc_node", kind="client")


def feed(api: Api, headers: dict[str, str], **params: int) -> dict[str, Any]:
    response = api.client.get(CHANGES, headers=headers, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_bulk_writes_every_record(api: Api, deu: dict[str, str], follower: dict[str, str]) -> None:
    items = [passport(f"C0000{i}") for i in range(5)]
    response = api.client.post(BULK, headers=deu, json={"records": items})
    assert response.status_code == 200, response.text
    assert response.json() == {
        "items": 5,
        "created": 5,
        "updated": 0,
        "unchanged": 0,
        "rejected": 0,
        "errors": [],
    }
    assert feed(api, follower)["last_seq"] == 5


def test_bulk_with_one_bad_item_writes_nothing_and_names_each_bad_item(
    api: Api, deu: dict[str, str], follower: dict[str, str]
) -> None:
    items = [
        passport("C00001"),
        passport("C00002", issuing_country="XX"),
        passport("C00003"),
        passport("C00004", issuing_country="FRA"),
        passport("C00001"),
    ]
    response = api.client.post(BULK, headers=deu, json={"records": items})
    assert response.status_code == 422
    body = response.json()
    fields = [error["field"] for error in body["errors"]]
    assert fields == [
        "records.1.issuing_country",
        "records.3.issuing_country",
        "records.4.document_number",
    ]
    assert "'XX' is not a country code" in body["errors"][0]["reason"]
    assert "only the FRA bureau" in body["errors"][1]["reason"]
    assert "nothing was imported" in body["message"]
    assert body["detail"] == {"items": 5, "invalid_items": 3}
    assert feed(api, follower) == {"changes": [], "next_since": 0, "last_seq": 0}


def test_bulk_may_skip_the_bad_items_and_report_them(api: Api, deu: dict[str, str]) -> None:
    items = [passport("C00001"), passport("C00002", status="misplaced"), passport("C00003")]
    response = api.client.post(BULK, headers=deu, json={"records": items, "skip_invalid": True})
    assert response.status_code == 200
    report = response.json()
    assert (report["created"], report["rejected"]) == (2, 1)
    assert [(e["index"], e["field"]) for e in report["errors"]] == [(1, "status")]


def test_bulk_merge_updates_what_is_already_recorded(api: Api, deu: dict[str, str]) -> None:
    api.client.post(BULK, headers=deu, json={"records": [passport("C00001")]})
    items = [passport("C00001", status="lost"), passport("C00002")]
    refused = api.client.post(BULK, headers=deu, json={"records": items})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "records.0.document_number"
    merged = api.client.post(BULK, headers=deu, json={"records": items, "merge": True})
    assert (merged.json()["created"], merged.json()["updated"]) == (1, 1)


def test_bulk_has_a_size_limit_and_a_role(api: Api, deu: dict[str, str]) -> None:
    too_many = api.client.post(BULK, headers=deu, json={"records": [{}] * 10_001})
    assert too_many.status_code == 422
    assert too_many.json()["errors"][0]["field"] == "records"
    border = api.bearer(Role.BORDER_OFFICER, "DEU")
    refused = api.client.post(BULK, headers=border, json={"records": [passport("C00001")]})
    assert refused.status_code == 403


def test_the_feed_is_numbered_without_gaps_and_pages_on(
    api: Api, deu: dict[str, str], follower: dict[str, str]
) -> None:
    ids = []
    for number in ("C00001", "C00002", "C00003"):
        created = api.client.post("/api/v1/records", headers=deu, json=passport(number))
        ids.append(created.json()["id"])
    api.client.patch(
        f"/api/v1/records/{ids[0]}", headers=deu, json={"version": 1, "status": "lost"}
    )
    api.client.delete(
        f"/api/v1/records/{ids[1]}", headers=deu, params={"version": 1, "reason": "x"}
    )

    everything = feed(api, follower)
    seqs = [change["seq"] for change in everything["changes"]]
    assert seqs == [1, 2, 3, 4, 5]
    assert everything["last_seq"] == everything["next_since"] == 5
    kinds = [(c["record_id"], c["kind"], c["active"]) for c in everything["changes"]]
    assert kinds[3:] == [(ids[0], "updated", True), (ids[1], "withdrawn", False)]

    first = feed(api, follower, since=0, limit=2)
    assert [c["seq"] for c in first["changes"]] == [1, 2]
    rest = feed(api, follower, since=first["next_since"], limit=10)
    assert [c["seq"] for c in rest["changes"]] == [3, 4, 5]
    assert feed(api, follower, since=5)["changes"] == []


@pytest.mark.parametrize(
    ("role", "bureau", "kind", "allowed"),
    [
        (Role.ADMIN, "XPO", "user", True),
        (Role.BUREAU_OFFICER, "XPO", "user", True),
        (Role.BUREAU_OFFICER, "XPO", "client", True),
        (Role.ADMIN, "XPO", "client", True),
        (Role.BORDER_OFFICER, "FRA", "client", False),
        (Role.BUREAU_OFFICER, "DEU", "client", False),
        (Role.BUREAU_OFFICER, "DEU", "user", False),
        (Role.BORDER_OFFICER, "FRA", "user", False),
        (Role.ANALYST, "XPO", "user", False),
    ],
)
def test_who_may_follow_the_feed(
    api: Api, role: Role, bureau: str, kind: Any, allowed: bool
) -> None:
    response = api.client.get(CHANGES, headers=api.bearer(role, bureau, kind=kind))
    assert response.status_code == (200 if allowed else 403)


def test_the_records_endpoints_are_documented(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    for path in (
        "/api/v1/records",
        "/api/v1/records/{record_id}",
        "/api/v1/records/{record_id}/history",
        "/api/v1/records/bulk",
        "/api/v1/changes",
        "/api/v1/auth/token",
    ):
        assert path in spec["paths"], path
    created = spec["paths"]["/api/v1/records"]["post"]["responses"]["201"]
    assert created["content"]["application/json"]["schema"]["$ref"].endswith("/RecordOut")
    assert "version" in spec["components"]["schemas"]["RecordChanges"]["required"]
