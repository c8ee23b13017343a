"""The library shipped with bordercheck: each scenario loads, plants, and its planted
situation answers as its steps expect when a trainee checks what they were handed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bordercheck.auth.models import Role
from bordercheck.edge.models import EdgeKit
from bordercheck.hits.models import Hit
from bordercheck.manifests.paxlst import parse_paxlst
from bordercheck.registry.models import Record
from bordercheck.settings import load_settings
from bordercheck.training import library
from bordercheck.training.models import Exercise
from bordercheck.training.planting import plant
from bordercheck.training.scenario import ManifestStep, MessageStep, OutcomeStep, ScreenStep
from tests.factories import sandboxed
from tests.signin import Api, open_api

SHIPPED = [item.id for item in library.shipped()]
SITUATIONS = {
    "stolen-blank-forged-page", "ocr-damaged-mrz", "possible-hit-not-confirmed", "hit-withheld",
    "multi-part-manifest", "kit-offline",
}  # fmt: skip
WAIT = 30.0


def test_the_library_holds_the_six_situations_and_more() -> None:
    assert len(SHIPPED) >= 8
    assert set(SHIPPED) >= SITUATIONS
    for item in library.shipped():
        for language in ("fr", "es", "ar"):
            assert getattr(item.scenario.title, language), (item.id, language)
            assert getattr(item.scenario.briefing, language), (item.id, language)


@pytest.mark.parametrize("scenario_id", SHIPPED)
def test_each_scenario_plants_its_records_materials_and_kits(
    session: Session, scenario_id: str
) -> None:
    scenario = library.find(session, scenario_id).scenario
    planted = plant(session, scenario, by="trainer.one", trainee_bureaus={"BEL"},
                    secret_key=load_settings().secret_key)  # fmt: skip
    for record in scenario.records:
        row = session.get(Record, planted.records[record.ref])
        assert row is not None
        assert row.document_number == record.record_fields().document_number
        if record.withheld_from:
            assert row.withheld_from == "BEL"
    for document in scenario.documents:
        materials = planted.documents[document.ref]
        assert document.document_number in materials["numbers"]
        assert len(materials["numbers"]) == 1 + bool(document.mrz_damage)
    for manifest in scenario.manifests:
        text = planted.manifests[manifest.ref]["paxlst"]
        (parsed,) = parse_paxlst(text).manifests
        assert len(parsed.travellers) == manifest.ordinary_travellers + len(manifest.travellers)
        assert text.count("UNH+") == manifest.parts
    for kit in scenario.kits:
        row = session.scalar(
            select(EdgeKit).where(EdgeKit.kit_id == planted.kits[kit.ref]["kit_id"])
        )
        assert row is not None
        assert row.last_sync_at is not None
    # Planted again (a second exercise): the same records, not duplicates.
    again = plant(session, scenario, by="trainer.two", trainee_bureaus={"BEL"},
                  secret_key=load_settings().secret_key)  # fmt: skip
    assert again.records == planted.records


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    url = f"sqlite:///{tmp_path_factory.mktemp('library')}/sandbox.db"
    from bordercheck.migrations import upgrade

    upgrade(url, secret_key=load_settings().secret_key)
    with open_api(url, bureaus=("BEL",), training_sandbox=sandboxed(url)) as api:
        api.add_user("trainee.bel", Role.BUREAU_OFFICER, "BEL")
        yield api


def _answer(api: Api, body: dict[str, Any], expect: list[str]) -> str:
    headers = api.bearer(Role.BUREAU_OFFICER, "BEL", "trainee.bel")
    deadline = time.monotonic() + WAIT  # the index follows the planted records' feed
    while True:
        response = api.client.post("/api/v1/screen", json=body, headers=headers)
        assert response.status_code == 200, response.text
        result = str(response.json()["result"])
        if result in expect or time.monotonic() > deadline:
            return result
        time.sleep(0.05)


@pytest.mark.parametrize(
    "scenario_id",
    [
        *SHIPPED,
        # Each again, after the first runs: the earlier exercise's cases and withholding must
        # not stand in the way of full points.
        *(pytest.param(scenario_id, id=f"{scenario_id}-again") for scenario_id in SHIPPED),
    ],
)
def test_what_a_trainee_is_handed_answers_as_the_steps_expect(
    sandbox: Api, scenario_id: str
) -> None:
    trainer = sandbox.bearer(Role.TRAINER, "XPO", "trainer.lib")
    started = sandbox.client.post(
        "/api/v1/training/exercises",
        json={"scenario": scenario_id, "trainees": ["trainee.bel"]}, headers=trainer,
    )  # fmt: skip
    assert started.status_code == 201, started.text
    scenario = next(i for i in library.shipped() if i.id == scenario_id).scenario
    documents = {d["document_number"]: d for d in started.json()["documents"]}
    held = {d.ref: documents[d.document_number] for d in scenario.documents}
    for step in scenario.steps:
        if isinstance(step, ScreenStep):
            document = held[step.document]
            body = {key: document[key] for key in ("document_number", "issuing_country",
                                                   "document_type")}  # fmt: skip
            assert _answer(sandbox, body, step.expect) in step.expect, (scenario_id, step.id)
            if document["mrz"] and len(document["numbers"]) == 1:  # read as printed
                by_zone = _answer(sandbox, {"mrz": "\n".join(document["mrz"])}, step.expect)
                assert by_zone in step.expect, (scenario_id, step.id, "mrz")
        if isinstance(step, ManifestStep):
            planted = next(m for m in scenario.manifests if m.ref == step.manifest)
            recorded = {r.record_fields().document_number for r in scenario.records}
            expected = sorted(t.document_number for t in planted.travellers
                              if t.document_number in recorded)  # fmt: skip
            for traveller in planted.travellers:
                if traveller.document_number in recorded:  # the index has the record first
                    body = {"document_number": traveller.document_number,
                            "issuing_country": traveller.issuing_country}  # fmt: skip
                    assert _answer(sandbox, body, ["hit"]) == "hit"
            paxlst = next(m for m in started.json()["manifests"] if m["flight"] == planted.flight)[
                "paxlst"
            ]
            response = sandbox.client.post(
                "/api/v1/manifests", content=paxlst,
                headers=sandbox.bearer(Role.BUREAU_OFFICER, "BEL", "trainee.bel"),
            )  # fmt: skip
            assert response.status_code in (200, 201), response.text
            (flight,) = response.json()["manifests"]  # the parts joined: one flight
            assert flight["travellers"] == planted.ordinary_travellers + len(planted.travellers)
            assert sorted(hit["document_number"] for hit in flight["hits"]) == expected
    # The rest of the right handling: then the trainee has every point.
    officer = sandbox.bearer(Role.BUREAU_OFFICER, "BEL", "trainee.bel")
    with sandbox.database.session() as session:
        row = session.get(Exercise, started.json()["id"])
        assert row is not None
        records = orjson.loads(row.planted)["records"]
    for step in scenario.steps:
        if isinstance(step, OutcomeStep):
            with sandbox.database.session() as session:
                case = session.scalar(
                    select(Hit.id).where(Hit.record_id == records[step.record],
                                         Hit.queried_by == "trainee.bel", Hit.outcome.is_(None))
                )  # fmt: skip
            assert case is not None, (scenario_id, step.id, "no case to record an outcome on")
            recorded = sandbox.client.post(
                f"/api/v1/hits/{case}/outcome", json={"outcome": step.expect[0]}, headers=officer
            )
            assert recorded.status_code == 200, (scenario_id, step.id, recorded.text)
        if isinstance(step, MessageStep):
            sent = sandbox.client.post(
                "/api/v1/messages",
                json={"subject": "Training", "recipients": [step.to], "body": "As briefed."},
                headers=officer,
            )
            assert sent.status_code == 201, (scenario_id, step.id, sent.text)
    deadline = time.monotonic() + WAIT  # clean checks reach the query log a moment later
    while True:
        scores = sandbox.client.get(
            f"/api/v1/training/exercises/{started.json()['id']}/scores", headers=trainer
        ).json()
        (mine,) = scores["results"]
        statuses = [s["status"] for s in mine["steps"]]
        if "not_done" not in statuses or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert statuses == ["right"] * len(scenario.steps), (scenario_id, mine["steps"])
    assert mine["points"] == scores["possible"] == scenario.total_points
