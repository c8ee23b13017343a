"""The training pages over HTTP: who may open them, the scenario file checked with each
problem and its line, an exercise started from the form, scores and briefing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bordercheck.auth.models import Role
from tests.factories import sandboxed
from tests.signin import Api, open_api
from tests.training.helpers import TRAINEES
from tests.web.conftest import Console


@pytest.fixture
def api(fresh_url: str) -> Iterator[Api]:
    with open_api(
        fresh_url, bureaus=(*TRAINEES.values(), "FRA"), training_sandbox=sandboxed(fresh_url)
    ) as api:
        api.add_user("tina.t", Role.TRAINER, "FRA")
        api.add_user("olga.a", Role.ADMIN, "FRA")
        api.add_user("bob.b", Role.BORDER_OFFICER, "FRA")
        for name, bureau in TRAINEES.items():
            api.add_user(name, Role.BUREAU_OFFICER, bureau)
        yield api


def signed_in(api: Api, username: str) -> Console:
    browser = Console(api)
    assert browser.sign_in(username).status_code == 303
    return browser


def test_trainers_and_admins_open_training_others_are_refused(api: Api) -> None:
    trainer = signed_in(api, "tina.t")
    page = trainer.client.get("/training")
    assert page.status_code == 200
    assert "A stolen blank passport with a forged data page" in page.text
    assert 'href="/training"' in trainer.client.get("/home").text
    admin = signed_in(api, "olga.a")
    assert admin.client.get("/training").status_code == 200
    assert admin.client.get("/training/exercises/new").status_code == 403
    for name in ("bob.b", "ana"):
        other = signed_in(api, name)
        assert other.client.get("/training").status_code == 403
        assert other.client.get("/training/scenarios/kit-offline").status_code == 403
        refused = other.post(
            "/training/exercises", {"scenario": "kit-offline", "trainees": "ana"}, page="/home"
        )
        assert refused.status_code == 403


def test_a_scenario_file_is_checked_with_its_lines_then_imported_and_downloaded(api: Api) -> None:
    trainer = signed_in(api, "tina.t")
    bad = b"id: Bad Id\ntitle: {en: x}\nbriefing: {en: y}\nsteps: []\n"
    response = trainer.client.post(
        "/training/scenarios",
        data={"csrf_token": trainer.csrf("/training"), "action": "validate"},
        files={"file": ("drill.yaml", bad)},
    )
    assert response.status_code == 422
    assert "drill.yaml, line 1: id:" in response.text
    assert "drill.yaml, line 4: steps:" in response.text
    good = (
        b"id: drill\ntitle: {en: Drill, fr: Exercice}\nbriefing: {en: Check it.}\n"
        b"documents:\n  - {ref: held, document_number: X1234567, issuing_country: FRA,\n"
        b"     surname: DOE, nationality: FRA, birth_date: 1990-01-01, expiry_date: 2030-01-01}\n"
        b"steps:\n  - {id: check, kind: screen, title: {en: Check}, document: held,\n"
        b"     expect: no_hit, points: 5}\n"
    )
    checked = trainer.client.post(
        "/training/scenarios",
        data={"csrf_token": trainer.csrf("/training"), "action": "validate"},
        files={"file": ("drill.yaml", good)},
    )
    assert checked.status_code == 200
    assert "The file is valid: scenario drill." in checked.text
    assert "/training/scenarios/drill" not in checked.text  # checked, not stored
    imported = trainer.client.post(
        "/training/scenarios",
        data={"csrf_token": trainer.csrf("/training"), "action": "import"},
        files={"file": ("drill.yaml", good)},
    )
    assert imported.status_code == 303
    assert imported.headers["location"] == "/training/scenarios/drill?imported=1"
    assert (
        "Exercice"
        in trainer.client.get("/training/scenarios/drill", headers={"accept-language": "fr"}).text
    )
    download = trainer.client.get("/training/scenarios/drill/export")
    assert download.content == good
    assert 'filename="drill.yaml"' in download.headers["content-disposition"]


def test_an_exercise_is_started_from_the_form_and_trainees_read_their_briefing(
    api: Api,
) -> None:
    trainer = signed_in(api, "tina.t")
    empty = trainer.post("/training/exercises", {"scenario": "", "trainees": ""},
                         page="/training/exercises/new")  # fmt: skip
    assert empty.status_code == 422
    assert 'href="#scenario"' in empty.text
    assert 'href="#trainees"' in empty.text
    unknown = trainer.post(
        "/training/exercises", {"scenario": "ocr-damaged-mrz", "trainees": "ana, nobody"},
        page="/training/exercises/new",
    )  # fmt: skip
    assert unknown.status_code == 422
    assert "no active account &#39;nobody&#39;" in unknown.text
    started = trainer.post(
        "/training/exercises",
        {"scenario": "ocr-damaged-mrz", "trainees": "ana\nben, cleo"},
        page="/training/exercises/new",
    )
    assert started.status_code == 303, started.text
    page = trainer.client.get(started.headers["location"])
    assert page.status_code == 200
    assert 'hx-trigger="every 3s"' in page.text
    assert page.text.count('data-status="not_done"') == 6
    fragment = trainer.client.get(started.headers["location"], headers={"HX-Request": "true"})
    assert "<html" not in fragment.text
    assert 'data-trainee="ben"' in fragment.text

    ana = signed_in(api, "ana")
    briefing = ana.client.get("/training/briefing")
    assert briefing.status_code == 200
    assert "C01XO0T478D" in briefing.text  # the zone as the worn reader got it
    assert ana.client.get(started.headers["location"]).status_code == 403
    assert signed_in(api, "bob.b").client.get("/training/briefing").text.count("data-mrz") == 0

    exercise = started.headers["location"].rsplit("/", 1)[1]
    ended = trainer.post(f"/training/exercises/{exercise}/end", {},
                         page=f"/training/exercises/{exercise}")  # fmt: skip
    assert ended.status_code == 303
    final = trainer.client.get(f"/training/exercises/{exercise}").text
    assert 'data-state="ended"' in final
    assert "every 3s" not in final
    assert "You take part in no running exercise." in ana.client.get("/training/briefing").text


def test_on_live_data_the_trainer_is_told_where_exercises_start_and_offered_no_start(
    fresh_url: str,
) -> None:
    with open_api(fresh_url, bureaus=("FRA",)) as live:
        live.add_user("tina.t", Role.TRAINER, "FRA")
        trainer = signed_in(live, "tina.t")
        page = trainer.client.get("/training/exercises/new")
        assert page.status_code == 200
        assert "data-live-database" in page.text
        assert 'action="/training/exercises"' not in page.text
        assert 'href="/training/exercises/new' not in trainer.client.get("/training").text
        french = trainer.client.get(
            "/training/exercises/new", headers={"accept-language": "fr"}
        ).text
        assert "jamais sur des données réelles" in french
