"""A batch sent as columns is answered and logged as the same documents sent as a list:
random batches both ways, compared position by position (the query ids aside)."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlalchemy import select

from bordercheck.auth.models import Role
from bordercheck.errors import ValidationFailed
from bordercheck.registry import service as registry_service
from bordercheck.screening.columns import MAX_ERRORS, normalise_columns
from bordercheck.screening.models import ScreeningQuery
from bordercheck.screening.schemas import (
    BatchMatchesResponse,
    BatchResponse,
    DocumentColumns,
    ScreenRequest,
)
from bordercheck.screening.service import prepare
from tests.factories import fields, officer
from tests.signin import Api, open_api

BATCH = "/api/v1/screen/batch"
LOGGED_WITHIN = 30.0  # seconds for journalled queries to reach the database, even loaded
OCR = {"0": "O", "O": "0", "1": "I", "I": "1", "8": "B", "5": "S"}


@pytest.fixture
def api(fresh_url: str) -> Iterator[Api]:
    with open_api(fresh_url, bureaus=("DEU", "FRA", "ITA")) as api:
        yield api


def recorded(api: Api) -> dict[str, list[str]]:
    """Records of every kind a batch may meet: passports and identity cards, a range of blank
    passports, a record withheld from France (the asking bureau)."""
    rng = random.Random(7)
    made: dict[str, list[str]] = {"passport": [], "identity_card": [], "withheld": []}
    with api.database.session(write=True) as session:
        for kind in ("passport", "identity_card", "withheld"):
            for _ in range(12):
                number = "C" + "".join(rng.choice("0123456789ABIO85") for _ in range(8))
                document_type = "passport" if kind == "withheld" else kind
                record = registry_service.create_record(
                    session, officer("DEU"), fields(document_number=number,
                                                    document_type=document_type)
                )  # fmt: skip
                if kind == "withheld":
                    registry_service.withhold(
                        session, officer("DEU"), record.id, record.version, ["FRA"]
                    )
                made[kind].append(number)
        range_fields = fields(
            document_number="R0001000", serial_end="R0001099", blank=True, status="stolen",
            holder_surname=None, holder_given_names=None, holder_birth_date=None,
            holder_nationality=None,
        )  # fmt: skip
        registry_service.create_record(session, officer("DEU"), range_fields)
    api.client.app.state.live_index.catch_up()  # type: ignore[attr-defined]
    return made


def ocr_variant(number: str, rng: random.Random) -> str:
    places = [i for i, c in enumerate(number) if c in OCR]
    if not places:
        return number
    i = rng.choice(places)
    return number[:i] + OCR[number[i]] + number[i + 1 :]


def spelled(number: str, rng: random.Random) -> str:
    """The number as a caller might send it: lower case, with separators, or as it is."""
    return rng.choice([number, number.lower(), f"{number[:3]}-{number[3:]}", f" {number} "])


def random_batch(made: dict[str, list[str]], size: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    documents = []
    for _ in range(size):
        draw = rng.random()
        if draw < 0.55:  # clean
            number = "Z" + "".join(rng.choice("0123456789") for _ in range(8))
        elif draw < 0.7:
            number = spelled(rng.choice(made["passport"] + made["identity_card"]), rng)
        elif draw < 0.8:
            number = ocr_variant(rng.choice(made["passport"] + made["identity_card"]), rng)
        elif draw < 0.9:
            number = f"R0001{rng.randrange(0, 200):03d}"  # in the range, or just past it
        else:
            number = rng.choice(made["withheld"])
        country = rng.choice(["DEU", "DEU", "deu", "DE", "D", "FRA", "ITA"])
        kind = rng.choice([None, None, "passport", "identity", "identity_card", "visa",
                           "Passport", "other"])  # fmt: skip
        documents.append(
            {"document_number": number, "issuing_country": country, "document_type": kind}
        )
    return documents


def as_columns(documents: list[dict[str, Any]], **top: Any) -> dict[str, Any]:
    columns = {
        name: [document[name] for document in documents]
        for name in ("document_number", "issuing_country", "document_type")
    }
    return {"columns": columns, **top}


def without_ids(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in result.items() if k != "query_id"} for result in results]


def logged_rows(api: Api, query_ids: list[str]) -> list[tuple[Any, ...]]:
    """The log's rows of ``query_ids``, in that order, once they are all in the database."""
    deadline = time.monotonic() + LOGGED_WITHIN
    while True:
        with api.database.session() as session:
            rows = session.execute(
                select(ScreeningQuery).where(ScreeningQuery.id.in_(query_ids))
            ).scalars()
            found = {
                row.id: (row.principal_name, row.bureau_code, row.location, row.operation_id,
                         row.source, row.document_number, row.issuing_country,
                         row.document_type, row.result, row.match_count)
                for row in rows
            }  # fmt: skip
        if len(found) == len(query_ids):
            return [found[query_id] for query_id in query_ids]
        assert time.monotonic() < deadline, f"{len(query_ids) - len(found)} answered, not logged"
        time.sleep(0.05)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_columns_are_answered_and_logged_as_the_same_documents(api: Api, seed: int) -> None:
    made = recorded(api)
    headers = api.bearer(Role.BORDER_OFFICER, "FRA")
    documents = random_batch(made, 400, seed)
    where = {"location": "CDG-T2", "operation_id": "OP-7"}
    listed = api.client.post(
        BATCH, json={"documents": [d | where for d in documents]}, headers=headers
    )
    assert listed.status_code == 200, listed.text
    sent = api.client.post(BATCH, json=as_columns(documents, **where), headers=headers)
    assert sent.status_code == 200, sent.text
    BatchResponse.model_validate(sent.json())
    expected, answered = listed.json()["results"], sent.json()["results"]
    assert without_ids(answered) == without_ids(expected)
    assert {r["result"] for r in answered} == {"hit", "possible_hit", "no_hit"}
    assert any(m["match"] == "restricted" for r in answered for m in r["matches"])
    assert any(m["match"] == "range" for r in answered for m in r["matches"])
    assert any(m["match"] == "ocr_variant" for r in answered for m in r["matches"])
    ids = [r["query_id"] for r in answered]
    assert len(set(ids)) == len(ids)
    # Logged alike: the clean ones (journalled as columns) as the others.
    assert logged_rows(api, ids) == logged_rows(api, [r["query_id"] for r in expected])

    compact = api.client.post(
        BATCH, json=as_columns(documents, answer="matches", **where), headers=headers
    )
    assert compact.status_code == 200, compact.text
    BatchMatchesResponse.model_validate(compact.json())
    listed_compact = api.client.post(
        BATCH, json={"documents": [d | where for d in documents], "answer": "matches"},
        headers=headers,
    )  # fmt: skip
    assert compact.json()["screened"] == len(documents)
    assert without_ids(compact.json()["results"]) == without_ids(listed_compact.json()["results"])


def test_a_clean_batch_of_columns_is_what_orjson_would_write(api: Api) -> None:
    headers = api.bearer(Role.BORDER_OFFICER, "FRA")
    numbers = [f"Z{n:08d}" for n in range(50)]
    body = {"columns": {"document_number": numbers, "issuing_country": ["DEU"] * 50}}
    sent = api.client.post(BATCH, json=body, headers=headers)
    assert sent.status_code == 200, sent.text
    results = sent.json()["results"]
    assert sent.content == orjson.dumps({"results": results})
    assert [r["result"] for r in results] == ["no_hit"] * 50
    assert logged_rows(api, [r["query_id"] for r in results])[0][5:9] == (
        "Z00000000", "DEU", None, "no_hit"
    )  # fmt: skip


def errors_of(response: Any) -> list[tuple[str, str]]:
    assert response.status_code == 422, response.text
    return [(error["field"], error["reason"]) for error in response.json()["errors"]]


def test_bad_values_are_named_by_column_and_position(api: Api) -> None:
    headers = api.bearer(Role.BORDER_OFFICER, "FRA")
    size = 2000
    numbers = [f"Z{n:08d}" for n in range(size)]
    countries = ["DEU"] * size
    types: list[str | None] = [None] * size
    numbers[5] = "C01X/0*T47"
    countries[1204] = "XX"
    countries[1500] = "XX"
    types[17] = "car"
    body = {"columns": {"document_number": numbers, "issuing_country": countries,
                        "document_type": types}}  # fmt: skip
    errors = errors_of(api.client.post(BATCH, json=body, headers=headers))
    assert [field for field, _ in errors] == [
        "columns.document_number.5", "columns.issuing_country.1204",
        "columns.issuing_country.1500", "columns.document_type.17",
    ]  # fmt: skip
    assert errors[1][1] == "'XX' is not a country code"
    # The same reasons as the same documents sent as a list give.
    for field, reason in errors:
        _, column, position = field.split(".")
        documents = [
            {"document_number": n, "issuing_country": c, "document_type": t}
            for n, c, t in zip(numbers, countries, types, strict=True)
        ]
        good = {"document_number": "A1", "issuing_country": "DEU"}
        one = {"documents": [documents[int(position)], good]}  # two: a batch
        assert errors_of(api.client.post(BATCH, json=one, headers=headers)) == [
            (f"documents.0.{column}", reason)
        ]
    # Every value at fault is named, up to a bound.
    body["columns"]["issuing_country"] = ["XX"] * size
    assert len(errors_of(api.client.post(BATCH, json=body, headers=headers))) == MAX_ERRORS


def test_columns_of_different_lengths_or_shapes_are_refused(api: Api) -> None:
    headers = api.bearer(Role.BORDER_OFFICER, "FRA")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"document_number": ["A1", "A2"], "issuing_country": ["DEU"]},
         "columns.issuing_country"),
        ({"document_number": ["A1"], "issuing_country": ["DEU"], "document_type": [None, None]},
         "columns.document_type"),
        ({"document_number": [], "issuing_country": []}, "columns.document_number"),
        ({"document_number": ["A1", 7], "issuing_country": ["DEU", "DEU"]},
         "columns.document_number.1"),
        ({"document_number": ["A1", "X" * 41], "issuing_country": ["DEU", "DEU"]},
         "columns.document_number.1"),
        ({"document_number": ["A1"]}, "columns.issuing_country"),
        ({"document_number": ["A1"], "issuing_country": ["DEU"], "mrz": ["P<"]}, "columns.mrz"),
    ]  # fmt: skip
    for columns, field in cases:
        response = api.client.post(BATCH, json={"columns": columns}, headers=headers)
        assert field in [f for f, _ in errors_of(response)], response.text
    too_many = {"document_number": ["A1"] * 10_001, "issuing_country": ["DEU"] * 10_001}
    over = api.client.post(BATCH, json={"columns": too_many}, headers=headers)
    assert over.status_code in {413, 422}
    both = {"documents": [{"document_number": "A1", "issuing_country": "DEU"}],
            "columns": {"document_number": ["A1"], "issuing_country": ["DEU"]}}  # fmt: skip
    refused = api.client.post(BATCH, json=both, headers=headers)
    assert "columns" in [field for field, _ in errors_of(refused)]


def test_a_list_of_documents_naming_columns_is_still_a_list(api: Api) -> None:
    headers = api.bearer(Role.BORDER_OFFICER, "FRA")
    documents = [{"document_number": "columns", "issuing_country": "DEU", "location": "columns"}]
    response = api.client.post(BATCH, json={"documents": documents}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["results"][0]["result"] == "no_hit"


def test_the_columns_form_is_in_the_openapi_description(api: Api) -> None:
    schema = api.client.get("/openapi.json").json()
    body = schema["paths"]["/api/v1/screen/batch"]["post"]["requestBody"]
    documents, columns = body["content"]["application/json"]["schema"]["oneOf"]
    assert documents["properties"]["documents"]["items"] == {
        "$ref": "#/components/schemas/ScreenRequest"
    }
    assert set(columns["properties"]["columns"]["properties"]) == {
        "document_number", "issuing_country", "document_type"
    }  # fmt: skip


# Numbers, countries and types as callers spell them, right or wrong on purpose: lower case,
# separators, characters no number holds, letters beyond ASCII, too long.
NUMBERS = st.text(alphabet="AZ09az -/<.*\u00e9\t", min_size=1, max_size=30)
COUNTRIES = st.sampled_from(["DEU", "deu", "DE", "D", "D<<", "XX", "FRA", "fr", "QQQ", " ita"])
TYPES = st.none() | st.sampled_from(["passport", "Passport ", "identity", "visa", "car", ""])


@given(st.lists(st.tuples(NUMBERS, COUNTRIES, TYPES), min_size=1, max_size=30))
def test_columns_are_read_as_each_document_of_a_list_is(
    documents: list[tuple[str, str, str | None]],
) -> None:
    try:
        requests = [
            ScreenRequest(document_number=n, issuing_country=c, document_type=t)
            for n, c, t in documents
        ]
    except ValidationError:
        assume(False)  # refused by the schema, as the columns' schema refuses it (above)
    expected_errors = set()
    prepared = []
    for position, request in enumerate(requests):
        try:
            prepared.append(prepare(request))
        except ValidationFailed as exc:
            expected_errors |= {
                (f"columns.{error.field}.{position}", error.reason) for error in exc.errors
            }
    columns = DocumentColumns(
        document_number=[n for n, _, _ in documents],
        issuing_country=[c for _, c, _ in documents],
        document_type=[t for _, _, t in documents],
    )
    if expected_errors:
        with pytest.raises(ValidationFailed) as refused:
            normalise_columns(columns)
        assert {(error.field, error.reason) for error in refused.value.errors} == expected_errors
        return
    normal = normalise_columns(columns)
    assert normal.numbers == [p.query.number for p in prepared]
    assert normal.countries == [p.query.country for p in prepared]
    assert normal.document_types == [p.document_type for p in prepared]
