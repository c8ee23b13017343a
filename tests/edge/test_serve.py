"""``edge serve``: the centre's screening endpoints, answered by the kit, for local systems."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from bordercheck.documents.mrz import generate_mrz
from bordercheck.edge import sync
from bordercheck.edge.local import create_kit_app
from tests.edge.conftest import STOLEN, Centre
from tests.edge.test_kit import kit_for


def test_the_kit_answers_border_systems_as_the_centre_does(centre: Centre, tmp_path: Path) -> None:
    kit = tmp_path / "kit"
    token = kit_for(centre, kit).local_token
    centre.stop()
    client = TestClient(create_kit_app(kit, max_age_hours=48))
    body = {"document_number": STOLEN[2], "issuing_country": "DEU", "document_type": "passport"}
    assert client.post("/api/v1/screen", json=body).status_code == 401
    wrong = client.post("/api/v1/screen", json=body, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    headers = {"Authorization": f"Bearer {token}"}
    answer = client.post("/api/v1/screen", json=body, headers=headers).json()
    assert answer["result"] == "possible_hit"
    assert answer["matches"][0]["status"] == "stolen"
    batch = client.post(
        "/api/v1/screen/batch",
        json={"documents": [body, {**body, "document_number": "Q12345678"}]},
        headers=headers,
    ).json()
    assert [r["result"] for r in batch["results"]] == ["possible_hit", "no_hit"]
    bad = client.post("/api/v1/screen", json={"document_number": "X"}, headers=headers)
    assert bad.status_code == 422
    assert bad.json()["error"] == "invalid"
    health = client.get("/healthz").json()
    assert health["queued"] == 3
    assert health["age_seconds"] >= 0


def test_an_mrz_is_screened_on_the_kit(centre: Centre, tmp_path: Path) -> None:
    kit = tmp_path / "kit"
    token = kit_for(centre, kit).local_token
    client = TestClient(create_kit_app(kit, max_age_hours=48))
    lines = generate_mrz(
        mrz_format="TD3", document_code="P", issuing_country="DEU", document_number=STOLEN[0],
        surname="MUSTERMANN", given_names="ERIKA", nationality="DEU", birth_date=None, sex="F",
        expiry_date=None,
    )  # fmt: skip
    answer = client.post(
        "/api/v1/screen",
        json={"mrz": "\n".join(lines)},
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    assert answer["result"] == "possible_hit", answer
    assert answer["mrz"]["checks"]["document_number"] is True


def test_the_served_kit_moves_to_a_synced_state_whole(centre: Centre, tmp_path: Path) -> None:
    kit = tmp_path / "kit"
    token = kit_for(centre, kit).local_token
    app = create_kit_app(kit, max_age_hours=48)
    client = TestClient(app)
    headers = {"Authorization": f"Bearer {token}"}
    body = {"document_number": "S3RV3D001", "issuing_country": "DEU"}
    before = client.post("/api/v1/screen", json=body, headers=headers).json()
    assert before["result"] == "no_hit"
    centre.report("S3RV3D001")
    sync.sync(kit)
    # The answer after the sync comes from the old state or the new one, never a mix.
    during = client.post("/api/v1/screen", json=body, headers=headers).json()
    assert (during["result"], during["kit"]["sequence"]) in {
        ("no_hit", before["kit"]["sequence"]),
        ("possible_hit", before["kit"]["sequence"] + 1),
    }
    app.state.screener.settled()
    after = client.post("/api/v1/screen", json=body, headers=headers).json()
    assert after["result"] == "possible_hit"
    assert after["kit"]["sequence"] == before["kit"]["sequence"] + 1
