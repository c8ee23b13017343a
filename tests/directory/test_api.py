"""``/directory`` over HTTP: each bureau keeps its own entries, everyone signed in reads."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from bordercheck.auth.models import Role
from tests.signin import Api, open_api

DIRECTORY = "/api/v1/directory"


def today() -> date:
    return datetime.now(UTC).date()


def focal_point(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Anna Keller",
        "function": "Focal point, migrant smuggling",
        "unit": "Smuggling of migrants",
        "topics": ["migrant_smuggling", "document_fraud"],
        "languages": ["de", "en"],
        "phone": "+49 611 55-0",
        "email": "smuggling@bka.example",
        "hours": "Mon-Fri 08:00-17:00",
        "time_zone": "Europe/Berlin",
    }
    data.update(overrides)
    return data


@pytest.fixture
def api(fresh_url: str) -> Iterator[Api]:
    with open_api(fresh_url, bureaus=("DEU", "FRA")) as api:
        yield api


@pytest.fixture
def deu(api: Api) -> dict[str, str]:
    return api.bearer(Role.BUREAU_OFFICER, "DEU", name="officer.deu")


@pytest.fixture
def fra(api: Api) -> dict[str, str]:
    return api.bearer(Role.BUREAU_OFFICER, "FRA", name="officer.fra")


def add(api: Api, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    response = api.client.post(DIRECTORY, headers=headers, json=focal_point(**overrides))
    assert response.status_code == 201, response.text
    entry: dict[str, Any] = response.json()
    return entry


def listing(api: Api, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = api.client.get(DIRECTORY, headers=headers, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_bureau_adds_its_own_focal_point(api: Api, deu: dict[str, str]) -> None:
    entry = add(api, deu)
    assert entry["bureau"] == "DEU"
    assert entry["phone"] == "+49611550"
    assert entry["topics"] == ["migrant_smuggling", "document_fraud"]
    assert entry["last_confirmed"] == today().isoformat()
    assert entry["stale"] is False
    assert entry["updated_by"] == "officer.deu"


def test_only_the_bureau_itself_or_an_admin_changes_an_entry(
    api: Api, deu: dict[str, str], fra: dict[str, str]
) -> None:
    entry = add(api, deu)
    url = f"{DIRECTORY}/{entry['id']}"
    refused = api.client.patch(url, headers=fra, json={"hours": "never"})
    assert refused.status_code == 403
    assert "bureau FRA may not change directory entries of DEU" in refused.json()["message"]
    assert api.client.delete(url, headers=fra).status_code == 403
    assert api.client.post(f"{url}/confirm", headers=fra).status_code == 403
    for_other = api.client.post(DIRECTORY, headers=fra, json=focal_point(bureau="DEU"))
    assert for_other.status_code == 403
    admin = api.bearer(Role.ADMIN, "XPO")
    changed = api.client.patch(url, headers=admin, json={"hours": "24/7"})
    assert changed.status_code == 200
    assert changed.json()["hours"] == "24/7"
    by_admin = api.client.post(DIRECTORY, headers=admin, json=focal_point(bureau="FRA"))
    assert by_admin.status_code == 201
    assert by_admin.json()["bureau"] == "FRA"
    assert api.client.delete(url, headers=deu).status_code == 204
    assert api.client.get(url, headers=deu).status_code == 404


@pytest.mark.parametrize("role", [Role.BORDER_OFFICER, Role.ANALYST, Role.TRAINER])
def test_other_roles_read_but_do_not_write(api: Api, deu: dict[str, str], role: Role) -> None:
    entry = add(api, deu)
    reader = api.bearer(role, "FRA")
    assert [e["id"] for e in listing(api, reader)["entries"]] == [entry["id"]]
    refused = api.client.post(DIRECTORY, headers=reader, json=focal_point())
    assert refused.status_code == 403
    assert "admin, bureau_officer" in refused.json()["message"]


def test_reading_needs_a_person_signed_in(api: Api) -> None:
    for path in (DIRECTORY, f"{DIRECTORY}.vcf", f"{DIRECTORY}.csv", f"{DIRECTORY}/1"):
        assert api.client.get(path).status_code == 401
    machine = api.bearer(Role.BORDER_OFFICER, "DEU", name="gates", kind="client")
    refused = api.client.get(DIRECTORY, headers=machine)
    assert refused.status_code == 403
    assert "not by API clients" in refused.json()["message"]


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("phone", "0611 55-0", "not an international phone number"),
        ("phone", "+49 abc", "not an international phone number"),
        ("email", "anna.keller", "not an e-mail address"),
        ("languages", ["xx"], "not an ISO 639-1 language code"),
        ("languages", [], "at least 1 item"),
        ("topics", ["cooking"], "Input should be"),
        ("time_zone", "Mars/Olympus_Mons", "not an IANA time zone"),
        ("time_zone", "../../etc/passwd", "not an IANA time zone"),
        ("name", "", "at least 1 character"),
        ("name", "Anna\nBEGIN:VCARD", "one line of text"),
        ("hours", "x" * 101, "at most 100 characters"),
    ],
)
def test_invalid_fields_are_refused_by_name(
    api: Api, deu: dict[str, str], field: str, value: Any, reason: str
) -> None:
    response = api.client.post(DIRECTORY, headers=deu, json=focal_point(**{field: value}))
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["field"].split(".")[0] == field
    assert reason in error["reason"]


def test_a_future_confirmation_date_is_refused(api: Api, deu: dict[str, str]) -> None:
    tomorrow = (today() + timedelta(days=1)).isoformat()
    response = api.client.post(DIRECTORY, headers=deu, json=focal_point(last_confirmed=tomorrow))
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "last_confirmed", "reason": "cannot be in the future"}
    ]


def test_entries_unconfirmed_for_12_months_are_flagged_until_confirmed(
    api: Api, deu: dict[str, str]
) -> None:
    old = (today() - timedelta(days=400)).isoformat()
    stale = add(api, deu, name="Old Entry", last_confirmed=old)
    fresh = add(api, deu, name="New Entry")
    assert stale["stale"] is True
    body = listing(api, deu)
    assert body["stale"] == 1
    assert [e["id"] for e in listing(api, deu, stale="true")["entries"]] == [stale["id"]]
    assert [e["id"] for e in listing(api, deu, stale="false")["entries"]] == [fresh["id"]]
    confirmed = api.client.post(f"{DIRECTORY}/{stale['id']}/confirm", headers=deu)
    assert confirmed.status_code == 200
    assert confirmed.json()["stale"] is False
    assert listing(api, deu)["stale"] == 0


def test_search_by_country_topic_and_language(
    api: Api, deu: dict[str, str], fra: dict[str, str]
) -> None:
    german = add(api, deu)
    french = add(
        api, fra, name="Luc Martin", topics=["illegal_migration"], languages=["fr", "en"],
        phone="+33 1 00 00 00 00", time_zone="Europe/Paris",
    )  # fmt: skip

    def ids(**params: Any) -> list[int]:
        return [e["id"] for e in listing(api, deu, **params)["entries"]]

    assert ids(country="FRA") == [french["id"]]
    assert ids(country="fr") == [french["id"]]
    assert ids(topic="document_fraud") == [german["id"]]
    assert ids(language="EN") == [german["id"], french["id"]]
    assert ids(language="fr", topic="illegal_migration") == [french["id"]]
    assert ids(language="it") == []
    bad = api.client.get(DIRECTORY, headers=deu, params={"language": "xx", "country": "ZZZ"})
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["country", "language"]


def test_a_change_names_the_fields_changed_and_does_not_confirm(
    api: Api, deu: dict[str, str]
) -> None:
    old = (today() - timedelta(days=400)).isoformat()
    entry = add(api, deu, last_confirmed=old)
    response = api.client.patch(
        f"{DIRECTORY}/{entry['id']}", headers=deu, json={"languages": ["de", "en", "fr"]}
    )
    assert response.status_code == 200
    assert response.json()["languages"] == ["de", "en", "fr"]
    assert response.json()["stale"] is True
    refused = api.client.patch(f"{DIRECTORY}/{entry['id']}", headers=deu, json={"bureau": "FRA"})
    assert refused.status_code == 422


def test_every_change_is_in_the_bureaus_audit_trail(api: Api, deu: dict[str, str]) -> None:
    entry = add(api, deu)
    url = f"{DIRECTORY}/{entry['id']}"
    api.client.patch(url, headers=deu, json={"phone": "+49 611 55-1"})
    api.client.post(f"{url}/confirm", headers=deu)
    api.client.delete(url, headers=deu)
    audit = api.client.get(
        "/api/v1/audit", headers=deu, params={"subject": f"directory:{entry['id']}"}
    ).json()["entries"]
    assert [e["action"] for e in audit] == [
        "directory.deleted",
        "directory.confirmed",
        "directory.updated",
        "directory.added",
    ]
    assert audit[2]["details"] == {"fields": ["phone"]}
    assert {e["bureau"] for e in audit} == {"DEU"}


def test_exports_as_vcard_and_csv(api: Api, deu: dict[str, str]) -> None:
    add(api, deu, name="Keller, Anna; Dr.", unit="=HYPERLINK(1)")
    vcf = api.client.get(f"{DIRECTORY}.vcf", headers=deu, params={"country": "DEU"})
    assert vcf.status_code == 200
    assert vcf.headers["content-type"].startswith("text/vcard")
    lines = vcf.text.split("\r\n")
    assert lines[:2] == ["BEGIN:VCARD", "VERSION:4.0"]
    assert "FN:Keller\\, Anna\\; Dr." in lines
    assert "TEL;VALUE=uri;TYPE=work,voice:tel:+49611550" in lines
    assert "LANG;PREF=1:de" in lines
    assert "TZ;VALUE=text:Europe/Berlin" in lines
    assert "CATEGORIES:migrant_smuggling,document_fraud" in lines
    assert lines[-2:] == ["END:VCARD", ""]
    csv = api.client.get(f"{DIRECTORY}.csv", headers=deu)
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    header, row = csv.text.splitlines()
    assert header.startswith("id,country,bureau,name,function,unit,topics,languages,phone")
    assert '"Keller, Anna; Dr."' in row
    assert ",'=HYPERLINK(1)," in row
    assert row.endswith(f",{today().isoformat()},no")
