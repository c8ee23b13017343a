"""Schemathesis against the app's own OpenAPI schema, on a real database (SQLite and
PostgreSQL): no answer is a server error, and every answer matches the schema it documents
(status code and body, the screening answers included).

The fuzzing of every operation runs in ``make slow`` (one example each, then ten): it takes
minutes. The unit run checks each kind of screening answer against its schema and that every
operation documents its errors in the one shape.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from bordercheck.api.app import create_app
from bordercheck.auth.models import Role
from bordercheck.documents.mrz import generate_mrz
from bordercheck.settings import Settings
from tests.conftest import FreshDatabases
from tests.signin import Api, open_api

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]
# Not fuzzed, and why: each is proven by tests of its own.
LEFT_OUT = {
    "/api/v1/auth/revoke": "revokes the caller's own token: every later case would be 401",
    "/api/v1/auth/password": "changes a password by the current one, which the fuzzer cannot know",
    "/api/v1/messages/stream": "a server-sent event stream that stays open (tests/messaging)",
}


def served_by(app: Any) -> Any:
    """``app`` for Schemathesis's calls, its lifespan left to the module's test client.

    Schemathesis starts an app's lifespan at its first call and ends it after each test: each
    test would load a new screening index (its first screens meeting it still loading, 503)
    and start another query log, and leave the app's state naming the ended ones."""

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return
        while (await receive())["type"] != "lifespan.shutdown":  # startup, then shutdown
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})

    return wrapped


class Fuzzed:
    """The app on a database of its own, an administrator's token, a few things to find."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.app = served_by(api.client.app)
        self.headers = api.bearer(Role.ADMIN, "XPO", name="fuzz.admin")
        officer = api.bearer(Role.BUREAU_OFFICER, "DEU", name="fuzz.deu")
        client = api.client
        for number in ("F01X00T47", "F02X00T47"):
            record = {"document_number": number, "issuing_country": "DEU",
                      "document_type": "passport", "status": "stolen"}  # fmt: skip
            made = client.post("/api/v1/records", headers=officer, json=record)
            assert made.status_code == 201, made.text
        withheld = {"version": 1, "countries": ["FRA"]}
        made = client.put(f"/api/v1/records/{made.json()['id']}/withheld-from", headers=officer,
                          json=withheld)  # fmt: skip
        assert made.status_code == 200, made.text
        api.client.app.state.live_index.catch_up()  # type: ignore[attr-defined]
        thread = {"subject": "Blanks", "recipients": ["FRA"], "body": "Seen any?"}
        assert client.post("/api/v1/messages", headers=officer, json=thread).status_code < 300


@pytest.fixture(scope="module")
def fuzzed(
    backend: str, fresh_databases: FreshDatabases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Fuzzed]:
    url = fresh_databases.url(backend)
    cache = tmp_path_factory.mktemp("edge-cache")
    # No rate limit: the fuzzer is one caller asking fast, not what is being tested.
    with open_api(url, edge_cache_dir=cache, rate_limit_per_second=0) as api:
        assert api.client.app.state.live_index.wait_ready(timeout=60)
        yield Fuzzed(api)


# The schema as the app publishes it (it does not depend on the database); the cases are sent
# to the app of the module's fixture, on its database.
schema = schemathesis.openapi.from_dict(create_app(Settings(env="test")).openapi()).exclude(
    path=list(LEFT_OUT)
)


def call(case: Any, fuzzed: Fuzzed) -> None:
    case.call_and_validate(app=fuzzed.app, headers=fuzzed.headers, checks=CHECKS)


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=1, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))  # fmt: skip
def test_every_operation_answers_as_documented(case: Any, fuzzed: Fuzzed) -> None:
    call(case, fuzzed)


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=10, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))  # fmt: skip
def test_every_operation_answers_as_documented_at_length(case: Any, fuzzed: Fuzzed) -> None:
    call(case, fuzzed)


def screenings(fuzzed: Fuzzed, series: str) -> list[dict[str, Any]]:
    """Every kind of screening answer: hit, OCR variant, restricted, no hit, MRZ (good and
    broken). The records are made here: the fuzzing, as an administrator, may have changed
    or withdrawn any made before."""
    officer = fuzzed.api.bearer(Role.BUREAU_OFFICER, "DEU", name="fuzz.deu")
    client = fuzzed.api.client
    numbers = [f"{series}01X00T47", f"{series}02X00T47"]
    for number in numbers:
        record = {"document_number": number, "issuing_country": "DEU",
                  "document_type": "passport", "status": "stolen"}  # fmt: skip
        made = client.post("/api/v1/records", headers=officer, json=record)
        assert made.status_code == 201, made.text
    withheld = {"version": 1, "countries": ["FRA"]}
    made = client.put(f"/api/v1/records/{made.json()['id']}/withheld-from", headers=officer,
                      json=withheld)  # fmt: skip
    assert made.status_code == 200, made.text
    client.app.state.live_index.catch_up()  # type: ignore[attr-defined]
    mrz = "\n".join(
        generate_mrz(
            mrz_format="TD3", document_code="P", issuing_country="DEU",
            document_number=numbers[0], surname="MUSTERMANN", given_names="ERIKA",
            nationality="DEU", birth_date=None, sex="F", expiry_date=None,
        )
    )  # fmt: skip
    return [
        {"document_number": numbers[0], "issuing_country": "DEU"},
        {
            "document_number": numbers[0].replace("00", "OO"),
            "issuing_country": "DEU",
            "document_type": "passport",
        },
        {"document_number": numbers[1], "issuing_country": "DEU", "location": "CDG"},
        {"document_number": f"{series}09X00T47", "issuing_country": "FRA"},
        {"mrz": mrz},
        {"mrz": mrz[:50] + ("1" if mrz[50] != "1" else "2") + mrz[51:]},
    ]


@pytest.mark.parametrize(("caller", "series"), [("DEU", "S"), ("FRA", "T")])
def test_every_kind_of_screening_answer_matches_its_schema(
    fuzzed: Fuzzed, caller: str, series: str
) -> None:
    """The screening answers are written as bytes, not through their models: the schema
    (ScreenResponse, BatchResponse) is checked against each kind of answer here."""
    documents = screenings(fuzzed, series)
    headers = fuzzed.api.bearer(Role.BORDER_OFFICER, caller, name=f"fuzz.border.{caller}")
    one = schema["/api/v1/screen"]["POST"]
    results = set()
    for document in documents:
        answer = one.Case(body=document).call_and_validate(
            app=fuzzed.app, headers=headers, checks=CHECKS
        )
        assert answer.status_code == 200, answer.text
        results.add(answer.json()["result"])
    assert results == {"hit", "possible_hit", "no_hit"}
    batch = schema["/api/v1/screen/batch"]["POST"].Case(body={"documents": documents})
    answer = batch.call_and_validate(app=fuzzed.app, headers=headers, checks=CHECKS)
    assert len(answer.json()["results"]) == len(documents)


def test_what_is_left_out_is_in_the_schema(fuzzed: Fuzzed, tmp_path: Path) -> None:
    paths = fuzzed.api.client.get("/openapi.json").json()["paths"]
    assert set(LEFT_OUT) <= set(paths)


def test_every_operation_documents_its_errors_in_the_one_shape() -> None:
    spec = create_app(Settings(env="test")).openapi()
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    wrong = [
        f"{method.upper()} {path} {status}"
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        for status, response in operation["responses"].items()
        if (status == "default" or status.startswith(("4", "5"))) and response["content"] != error
    ]
    assert wrong == []
    undocumented = [
        f"{method.upper()} {path}"
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if "default" not in operation["responses"]
    ]
    assert undocumented == []
    assert "HTTPValidationError" not in spec["components"]["schemas"]
