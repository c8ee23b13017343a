"""Numbers a caller sends are bounded where they enter: too large is a 422 naming the field."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bordercheck.api.app import create_app
from bordercheck.auth.models import Role
from bordercheck.settings import Settings
from tests.signin import Api, open_api

# The largest integer SQLite and PostgreSQL hold (BIGINT); one more is a database error.
BIGINT_MAX = 2**63 - 1
HUGE = "99999999999999999999"


@pytest.fixture
def api(fresh_url: str) -> Iterator[Api]:
    with open_api(fresh_url, bureaus=("DEU", "FRA")) as api:
        yield api


def _unbounded(
    schema: dict[str, Any], where: str, parts: dict[str, Any], seen: frozenset[str]
) -> Iterator[str]:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name not in seen:
            yield from _unbounded(parts[name], where, parts, seen | {name})
        return
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, []):
            yield from _unbounded(option, where, parts, seen)
    limit = min(
        schema.get("maximum", BIGINT_MAX + 1), schema.get("exclusiveMaximum", BIGINT_MAX + 2) - 1
    )
    if schema.get("type") == "integer" and limit > BIGINT_MAX:
        yield where
    if "items" in schema:
        yield from _unbounded(schema["items"], f"{where}[]", parts, seen)
    for name, value in schema.get("properties", {}).items():
        yield from _unbounded(value, f"{where}.{name}", parts, seen)


def test_every_integer_of_every_request_has_a_maximum_the_database_holds() -> None:
    spec = create_app(Settings(database_url="sqlite://", env="test")).openapi()
    parts = spec["components"]["schemas"]
    found = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                where = f"{method.upper()} {path} {parameter['in']} {parameter['name']}"
                found += _unbounded(parameter["schema"], where, parts, frozenset())
            for content in operation.get("requestBody", {}).get("content", {}).values():
                found += _unbounded(
                    content["schema"], f"{method.upper()} {path} body", parts, frozenset()
                )
    assert found == []


def _refused(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    fields = [error["field"] for error in response.json()["errors"]]
    assert any(name == field or name.endswith(f".{field}") for name in fields), response.text


def test_a_huge_before_on_the_message_list_is_refused(api: Api) -> None:
    officer = api.bearer(Role.BUREAU_OFFICER, "DEU")
    response = api.client.get("/api/v1/messages", params={"before": HUGE}, headers=officer)
    _refused(response, "before")


def test_a_huge_notification_id_is_refused(api: Api) -> None:
    officer = api.bearer(Role.BUREAU_OFFICER, "DEU")
    response = api.client.post("/api/v1/notifications/read", json={"ids": [2**63]}, headers=officer)
    _refused(response, "ids.0")


def test_a_huge_last_event_id_on_the_message_stream_is_refused(api: Api) -> None:
    officer = api.bearer(Role.BUREAU_OFFICER, "DEU")
    for sent in (HUGE, "²".encode()):
        response = api.client.get(
            "/api/v1/messages/stream",
            headers={**officer, "Last-Event-ID": sent},  # type: ignore[dict-item]
        )
        _refused(response, "Last-Event-ID")


def test_huge_versions_and_sequence_numbers_are_refused(api: Api) -> None:
    officer = api.bearer(Role.BUREAU_OFFICER, "DEU")
    _refused(api.client.patch("/api/v1/records/1", json={"version": 2**63}, headers=officer),
             "version")  # fmt: skip
    _refused(api.client.delete("/api/v1/records/1", params={"version": HUGE, "reason": "x"},
                               headers=officer), "version")  # fmt: skip
    _refused(api.client.post("/api/v1/records/1/review", json={"version": 2**63},
                             headers=officer), "version")  # fmt: skip
    _refused(api.client.post("/api/v1/messages/1/read", json={"up_to": 2**63},
                             headers=officer), "up_to")  # fmt: skip
    _refused(api.client.post("/api/v1/hits/1/answer",
                             json={"answer": "no_match", "record_version": 2**63},
                             headers=officer), "record_version")  # fmt: skip
    admin = api.bearer(Role.ADMIN, "XPO")
    _refused(api.client.get("/api/v1/edge/changes", params={"since": HUGE}, headers=admin),
             "since")  # fmt: skip
