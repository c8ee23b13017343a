"""``GET /records``: a bureau lists and searches its own records, page by page."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from bordercheck.auth.models import Role
from bordercheck.registry.models import Record
from tests.registry.test_api import RECORDS, create
from tests.signin import Api


def listing(api: Api, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = api.client.get(RECORDS, headers=headers, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def numbers(page: dict[str, Any]) -> list[str]:
    return [record["document_number"] for record in page["records"]]


def test_an_officer_lists_only_its_own_bureaus_records_newest_first(
    api: Api, deu: dict[str, str], fra: dict[str, str]
) -> None:
    for number in ("D0000001", "D0000002", "D0000003"):
        create(api, deu, document_number=number)
    create(api, fra, document_number="F0000001", issuing_country="FRA")
    page = listing(api, deu)
    assert numbers(page) == ["D0000003", "D0000002", "D0000001"]
    assert page["next_cursor"] is None
    assert page["records"][0]["holder_surname"] == "MUSTERMANN"  # its own: every field
    assert numbers(listing(api, fra)) == ["F0000001"]


def test_the_secretariats_analysts_and_admins_list_every_country(
    api: Api, deu: dict[str, str], fra: dict[str, str]
) -> None:
    create(api, deu, document_number="D0000001")
    create(api, fra, document_number="F0000001", issuing_country="FRA")
    for role in (Role.ANALYST, Role.ADMIN):
        reader = api.bearer(role, "XPO", name=f"{role.value}.xpo")
        assert sorted(numbers(listing(api, reader))) == ["D0000001", "F0000001"]
        assert numbers(listing(api, reader, issuing_country="fr")) == ["F0000001"]


def test_others_may_not_list_and_are_told_why(api: Api, deu: dict[str, str]) -> None:
    border = api.bearer(Role.BORDER_OFFICER, "DEU", name="border.deu")
    refused = api.client.get(RECORDS, headers=border)
    assert refused.status_code == 403
    assert "screen it" in refused.json()["message"]
    other = api.client.get(RECORDS, headers=deu, params={"issuing_country": "FRA"})
    assert other.status_code == 403
    assert "DEU" in other.json()["message"]
    analyst_elsewhere = api.bearer(Role.ANALYST, "DEU", name="analyst.deu")
    assert api.client.get(RECORDS, headers=analyst_elsewhere).status_code == 403


def test_search_by_number_exact_and_prefix(api: Api, deu: dict[str, str]) -> None:
    for number in ("C01X00T47", "C01X00T48", "C02Y00001", "X01X00T47"):
        create(api, deu, document_number=number)
    assert numbers(listing(api, deu, document_number="c01x-00t47")) == ["C01X00T47"]
    assert numbers(listing(api, deu, number_prefix="c01x")) == ["C01X00T48", "C01X00T47"]
    assert numbers(listing(api, deu, number_prefix="C0")) == ["C02Y00001", "C01X00T48",
                                                              "C01X00T47"]  # fmt: skip
    assert listing(api, deu, document_number="NOSUCH1")["records"] == []
    # A prefix is a prefix: the characters LIKE treats specially are not wildcards here.
    bad = api.client.get(RECORDS, headers=deu, params={"number_prefix": "C0%"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "query.number_prefix"


def test_filters_combine(api: Api, deu: dict[str, str]) -> None:
    create(api, deu, document_number="L0000001", status="lost", event_date="2023-05-01")
    create(api, deu, document_number="S0000001", status="stolen", event_date="2024-03-01",
           incident_ref="BER-2024-17")  # fmt: skip
    create(api, deu, document_number="B0000001", status="stolen", blank=True,
           holder_surname=None, holder_given_names=None, incident_ref="BER-2024-17")  # fmt: skip
    create(api, deu, document_number="I0000001", document_type="identity_card")
    assert numbers(listing(api, deu, status="lost")) == ["L0000001"]
    assert numbers(listing(api, deu, blank=True)) == ["B0000001"]
    assert numbers(listing(api, deu, incident_ref="BER-2024-17", blank=False)) == ["S0000001"]
    assert numbers(listing(api, deu, document_type="identity_card")) == ["I0000001"]
    assert numbers(listing(api, deu, event_from="2023-01-01", event_to="2023-12-31")) == [
        "L0000001"
    ]
    today = date.today().isoformat()
    assert len(listing(api, deu, created_from=today, created_to=today)["records"]) == 4
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    assert listing(api, deu, created_from=tomorrow)["records"] == []


def test_review_due_finds_the_records_to_review(api: Api, deu: dict[str, str]) -> None:
    old = create(api, deu, document_number="OLD00001")
    create(api, deu, document_number="NEW00001")
    with api.database.session(write=True) as session:
        session.execute(
            update(Record)
            .where(Record.id == old["id"])
            .values(review_due=date.today() - timedelta(days=3))
        )
    due = listing(api, deu, review_due_by=date.today().isoformat())
    assert numbers(due) == ["OLD00001"]
    assert due["records"][0]["review_overdue"] is True


def test_withdrawn_records_are_left_out_unless_asked_for(api: Api, deu: dict[str, str]) -> None:
    gone = create(api, deu, document_number="GONE0001")
    create(api, deu, document_number="KEPT0001")
    withdrawn = api.client.request(
        "DELETE", f"{RECORDS}/{gone['id']}", headers=deu,
        json={"version": gone["version"], "reason": "found by its holder"},
    )  # fmt: skip
    assert withdrawn.status_code == 200, withdrawn.text
    assert numbers(listing(api, deu)) == ["KEPT0001"]
    every = listing(api, deu, include_withdrawn=True)
    assert numbers(every) == ["KEPT0001", "GONE0001"]
    assert every["records"][1]["active"] is False


def test_pages_continue_where_they_stopped_while_records_are_added(
    api: Api, deu: dict[str, str]
) -> None:
    for i in range(7):
        create(api, deu, document_number=f"P000000{i}")
    first = listing(api, deu, limit=3)
    assert numbers(first) == ["P0000006", "P0000005", "P0000004"]
    create(api, deu, document_number="P0000099")  # newer: belongs before the first page
    second = listing(api, deu, limit=3, cursor=first["next_cursor"])
    assert numbers(second) == ["P0000003", "P0000002", "P0000001"]
    last = listing(api, deu, limit=3, cursor=second["next_cursor"])
    assert numbers(last) == ["P0000000"]
    assert last["next_cursor"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "cjE6OTk5OTk5OTk5OTk5OTk5"}, "cursor"),  # a cursor of an absurd id
        ({"limit": 0}, "limit"),
        ({"limit": 100_000}, "limit"),
        ({"status": "misplaced"}, "status"),
        ({"issuing_country": "XX"}, "issuing_country"),
        ({"document_number": "<<<"}, "document_number"),
        ({"event_from": "yesterday"}, "event_from"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_criteria_are_named(
    api: Api, deu: dict[str, str], params: dict[str, Any], field: str
) -> None:
    response = api.client.get(RECORDS, headers=deu, params=params)
    assert response.status_code == 422, response.text
    assert [error["field"] for error in response.json()["errors"]] == [f"query.{field}"]
