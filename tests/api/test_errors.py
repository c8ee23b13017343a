"""One error shape for every answer: ``{"error", "message", "errors": [{"field", "reason"}]}``."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from bordercheck.api.app import create_app
from bordercheck.auth.models import Role
from bordercheck.db import Database
from bordercheck.settings import Settings
from tests.signin import open_api

ALL_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=database_url, env="test"))

    @app.get("/api/v1/test-fault", include_in_schema=False)
    def fault() -> None:
        raise RuntimeError("secret internals: /srv/bordercheck/db password=hunter2")

    @app.get("/api/v1/test-database-gone", include_in_schema=False)
    def database_gone() -> None:
        # A PostgreSQL nobody listens for: the driver's own connection error.
        gone = Database("postgresql://nobody:hunter2@127.0.0.1:1/none")
        try:
            with gone.session() as session:
                session.execute(text("SELECT 1"))
        finally:
            gone.dispose()

    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def assert_error_shape(body: object, status: int) -> None:
    """The documented shape (docs/api.md, Errors)."""
    assert isinstance(body, dict), body
    assert set(body) >= {"error", "message", "errors"}, body
    assert isinstance(body["error"], str), body
    assert body["error"], body
    assert isinstance(body["message"], str), body
    assert body["message"], body
    assert isinstance(body["errors"], list), body
    for item in body["errors"]:
        assert set(item) == {"field", "reason"}, body
    assert "detail" not in body or isinstance(body["detail"], dict), (status, body)


def concrete(path: str) -> str:
    """A route's path with each parameter filled in (a number, as most ids are)."""
    return re.sub(r"\{[^}]+\}", "1", path)


def api_routes(client: TestClient) -> dict[str, set[str]]:
    """Every documented path, with the methods it takes."""
    paths = client.get("/openapi.json").json()["paths"]
    return {path: {method.upper() for method in item} for path, item in paths.items()}


def test_unknown_paths_answer_in_the_error_shape(client: TestClient) -> None:
    for path in ("/api/v1/nothing-here", "/nothing", "/api/v2/screen"):
        response = client.get(path)
        assert response.status_code == 404
        body = response.json()
        assert_error_shape(body, 404)
        assert body["error"] == "not_found"
        assert path in body["message"]
        assert "/docs" in body["message"]


def test_every_route_refuses_a_method_it_does_not_take_in_the_error_shape(
    client: TestClient,
) -> None:
    taken: dict[str, set[str]] = {}
    for path, methods in api_routes(client).items():
        taken.setdefault(concrete(path), set()).update(methods)
    checked = 0
    for path, methods in taken.items():
        for method in ALL_METHODS:
            if method in methods or (method == "HEAD" and "GET" in methods):
                continue
            response = client.request(method, path)
            if response.status_code != 405:
                continue  # another route with a parameter in this place takes it
            body = response.json()
            assert_error_shape(body, 405)
            assert body["error"] == "method_not_allowed"
            assert method in body["message"]
            assert response.headers["allow"]
            for allowed in response.headers["allow"].split(", "):
                assert allowed in body["message"]
            checked += 1
    assert checked > 50  # every route was tried, not one or two


def test_every_route_without_a_token_answers_in_the_error_shape(client: TestClient) -> None:
    public = {"/healthz", "/readyz", "/api/v1/auth/token"}
    routes = api_routes(client)
    assert len(routes) > 40
    for route, methods in routes.items():
        for method in methods:
            response = client.request(method, concrete(route), content=b"{", headers={
                "content-type": "application/json"})  # fmt: skip
            if response.status_code < 400:
                assert route in public, (method, route, response.status_code)
                continue
            content_type = response.headers.get("content-type", "")
            assert content_type.startswith("application/json"), (method, route, content_type)
            assert_error_shape(response.json(), response.status_code)


def test_malformed_json_names_the_body_and_the_character(
    client: TestClient, fresh_url: str
) -> None:
    response = client.post(
        "/api/v1/auth/token",
        content=b'{"grant_type": ',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422
    token_body = response.json()
    assert_error_shape(token_body, 422)
    # A JSON body at the token endpoint is told that it takes a form.
    assert "takes a form" in token_body["message"]
    assert "application/x-www-form-urlencoded" in token_body["message"]

    with open_api(fresh_url) as api:
        api.add_user("officer", role=Role.BUREAU_OFFICER, bureau="DEU")
        headers = {**api.sign_in("officer"), "content-type": "application/json"}
        response = api.client.post(
            "/api/v1/records", content=b'{"document_number": ', headers=headers
        )
    assert response.status_code == 422
    body = response.json()
    assert_error_shape(body, 422)
    assert body["errors"][0]["field"] == "body"
    assert "not valid JSON at character" in body["errors"][0]["reason"]
    assert not re.match(r"^\d+:", body["message"])  # a position is not shown as a field


def test_a_token_request_sent_as_json_is_told_to_send_a_form(client: TestClient) -> None:
    response = client.post("/api/v1/auth/token", json={"username": "a", "password": "b"})
    assert response.status_code == 422
    body = response.json()
    assert_error_shape(body, 422)
    assert "takes a form" in body["message"]
    assert "grant_type=password" in body["message"]


def test_an_unexpected_fault_answers_500_in_the_error_shape_without_internals(
    client: TestClient,
) -> None:
    response = client.get("/api/v1/test-fault")
    assert response.status_code == 500
    body = response.json()
    assert_error_shape(body, 500)
    assert body["error"] == "internal"
    assert body["incident"] in body["message"]
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text


def test_a_database_that_does_not_answer_is_503_with_retry_after_not_500(
    client: TestClient,
) -> None:
    response = client.get("/api/v1/test-database-gone")
    assert response.status_code == 503
    body = response.json()
    assert_error_shape(body, 503)
    assert body["error"] == "unavailable"
    assert int(response.headers["Retry-After"]) >= 1
    assert "hunter2" not in response.text
    assert "127.0.0.1" not in response.text


def test_a_field_error_raised_alone_is_listed_in_errors(fresh_url: str) -> None:
    with open_api(fresh_url) as api:
        api.add_user("admin.xpo", role=Role.ADMIN, bureau="XPO")
        headers = api.sign_in("admin.xpo")
        response = api.client.post(
            "/api/v1/users",
            json={"username": "short.pw", "bureau": "DEU", "role": "border_officer",
                  "password": "x"},
            headers=headers,
        )  # fmt: skip
    assert response.status_code == 422, response.text
    body = response.json()
    assert_error_shape(body, 422)
    assert [e["field"] for e in body["errors"]] == ["password"]


@pytest.mark.parametrize(
    ("role", "path", "body", "field", "item"),
    [
        (Role.ANALYST, "/api/v1/operations",
         {"name": "Blanks", "starts_on": "2026-12-07", "ends_on": "2026-12-10",
          "locations": ["FRA-T1"], "bureaus": ["DEU", "F\u0000RA"]}, "bureaus", "(item 1)"),
        (Role.BUREAU_OFFICER, "/api/v1/messages",
         {"subject": "Blanks\u0000", "recipients": ["FRA"], "body": "Seen?"}, "subject", ""),
    ],
)  # fmt: skip
def test_text_holding_a_nul_character_is_refused_naming_its_field(
    fresh_url: str, role: Role, path: str, body: dict[str, object], field: str, item: str
) -> None:
    # PostgreSQL cannot store the character, SQLite can: both refuse it where it enters.
    with open_api(fresh_url) as api:
        headers = api.bearer(role, "DEU", name="nul.sender")
        response = api.client.post(path, json=body, headers=headers)
    assert response.status_code == 422, response.text
    assert_error_shape(response.json(), 422)
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == [field], errors
    assert errors[0]["reason"].startswith("must not contain the NUL character"), errors
    assert errors[0]["reason"].endswith(item), errors


def test_a_sandboxs_fault_is_marked_training_too(fresh_url: str) -> None:
    from bordercheck.installation import TRAINING_HEADER
    from tests.factories import sandboxed

    name = sandboxed(fresh_url)
    app = create_app(Settings(database_url=fresh_url, env="test", training_sandbox=name))

    @app.get("/api/v1/test-fault", include_in_schema=False)
    def fault() -> None:
        raise RuntimeError("a fault")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/v1/test-fault")
    assert response.status_code == 500
    assert response.headers[TRAINING_HEADER] == name
