"""Health and readiness: what a load balancer and an orchestrator ask."""

from __future__ import annotations

from fastapi.testclient import TestClient

from bordercheck.api.app import create_app
from bordercheck.settings import Settings


def client_for(url: str) -> TestClient:
    return TestClient(create_app(Settings(database_url=url, env="test")))


def test_healthz_answers_while_the_process_is_up(database_url: str) -> None:
    with client_for(database_url) as client:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_readyz_is_ready_once_the_screening_index_is_loaded(database_url: str) -> None:
    with client_for(database_url) as client:
        assert client.app.state.live_index.wait_ready(30)  # type: ignore[attr-defined]
        assert client.get("/readyz").json() == {"status": "ready"}


def test_readyz_is_unavailable_until_the_schema_is_upgraded(backend: str, fresh_databases) -> None:  # type: ignore[no-untyped-def]
    url = fresh_databases.url(backend, migrate=False)
    with client_for(url) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


def test_unknown_paths_get_json_404(database_url: str) -> None:
    with client_for(database_url) as client:
        response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404


def test_openapi_document_is_served(database_url: str) -> None:
    with client_for(database_url) as client:
        spec = client.get("/openapi.json").json()
    assert spec["info"]["title"] == "bordercheck"
    assert "/healthz" in spec["paths"]
