"""``/training`` over HTTP: a trainer runs an exercise for three trainees in a sandbox and
reads their scores, made from what each did; nobody else starts one or reads the scores."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from bordercheck.auth.models import Role
from bordercheck.registry.models import Record
from bordercheck.training.models import Exercise
from tests.factories import sandboxed
from tests.signin import Api, open_api
from tests.training.helpers import TRAINEES, time_passes

BASE = "/api/v1/training"
WAIT = 30.0


@pytest.fixture
def api(fresh_url: str) -> Iterator[Api]:
    with open_api(
        fresh_url, bureaus=(*TRAINEES.values(), "FRA"), training_sandbox=sandboxed(fresh_url)
    ) as api:
        for name, bureau in TRAINEES.items():
            api.add_user(name, Role.BUREAU_OFFICER, bureau)
        yield api


def trainer(api: Api) -> dict[str, str]:
    return api.bearer(Role.TRAINER, "XPO", "trainer.one")


def start(api: Api, scenario: str = "stolen-blank-forged-page") -> dict[str, Any]:
    response = api.client.post(
        f"{BASE}/exercises",
        json={"scenario": scenario, "trainees": list(TRAINEES)},
        headers=trainer(api),
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def screen_until(api: Api, who: str, body: dict[str, Any], result: str) -> None:
    """Screen until the planted record is in the index (it follows the changes feed)."""
    headers = api.bearer(Role.BUREAU_OFFICER, TRAINEES[who], who)
    deadline = time.monotonic() + WAIT
    while True:
        response = api.client.post("/api/v1/screen", json=body, headers=headers)
        assert response.status_code == 200, response.text
        if response.json()["result"] == result:
            return
        assert time.monotonic() < deadline, f"{who} never got {result}: {response.json()}"
        time.sleep(0.05)


def hit_of(api: Api, who: str) -> int:
    headers = api.bearer(Role.BUREAU_OFFICER, TRAINEES[who], who)
    hits = api.client.get("/api/v1/hits", headers=headers).json()
    rows = hits["hits"] if isinstance(hits, dict) else hits
    return int(rows[0]["id"])


def outcome(api: Api, who: str, value: str) -> None:
    headers = api.bearer(Role.BUREAU_OFFICER, TRAINEES[who], who)
    response = api.client.post(
        f"/api/v1/hits/{hit_of(api, who)}/outcome", json={"outcome": value}, headers=headers
    )
    assert response.status_code == 200, response.text


def write_to(api: Api, who: str, bureau: str) -> None:
    headers = api.bearer(Role.BUREAU_OFFICER, TRAINEES[who], who)
    response = api.client.post(
        "/api/v1/messages",
        json={"subject": "Passport 24FB10231", "recipients": [bureau],
              "body": "Seized at the desk: a blank from your stolen batch."},
        headers=headers,
    )  # fmt: skip
    assert response.status_code == 201, response.text


PASSPORT = {"document_number": "24FB10231", "issuing_country": "FRA", "document_type": "passport"}


def test_three_trainees_scored_from_what_they_did_right_wrong_and_slow(api: Api) -> None:
    exercise = start(api)
    assert exercise["state"] == "running"
    assert exercise["documents"][0]["mrz"][1].startswith("24FB10231")
    number = exercise["id"]

    screen_until(api, "ana", PASSPORT, "hit")  # right and quick
    outcome(api, "ana", "seized")
    write_to(api, "ana", "FRA")
    screen_until(api, "ben", PASSPORT, "hit")  # lets the traveller go on a stolen blank
    outcome(api, "ben", "released")
    time_passes(api.database, 1000)
    screen_until(api, "cleo", PASSPORT, "hit")  # right, but after every time target
    outcome(api, "cleo", "seized")

    response = api.client.get(f"{BASE}/exercises/{number}/scores", headers=trainer(api))
    assert response.status_code == 200, response.text
    scores = response.json()
    assert scores["frozen"] is False
    assert scores["possible"] == 50
    by_name = {row["username"]: row for row in scores["results"]}
    ana, ben, cleo = by_name["ana"], by_name["ben"], by_name["cleo"]
    assert [s["status"] for s in ana["steps"]] == ["right", "right", "right"]
    assert ana["points"] == 50
    assert ana["seconds"] < 300  # she acted before the clock moved on
    assert [s["status"] for s in ben["steps"]] == ["right", "wrong", "not_done"]
    assert ben["points"] == 20
    assert "released" in ben["steps"][1]["evidence"]
    assert [s["status"] for s in cleo["steps"]] == ["late", "late", "not_done"]
    assert cleo["points"] == 10 + 10
    assert cleo["seconds"] >= 1000

    ended = api.client.post(f"{BASE}/exercises/{number}/end", headers=trainer(api))
    assert ended.status_code == 200, ended.text
    assert ended.json()["frozen"] is True
    write_to(api, "ben", "FRA")  # too late: the scores are frozen
    after = api.client.get(f"{BASE}/exercises/{number}/scores", headers=trainer(api)).json()
    assert {r["username"]: r["points"] for r in after["results"]} == {
        "ana": 50, "ben": 20, "cleo": 20,
    }  # fmt: skip
    again = api.client.post(f"{BASE}/exercises/{number}/end", headers=trainer(api))
    assert again.status_code == 409


def test_trainees_read_their_briefing_not_the_scores_and_other_roles_are_refused(
    api: Api,
) -> None:
    exercise = start(api, "ocr-damaged-mrz")
    number = exercise["id"]
    ana = api.bearer(Role.BUREAU_OFFICER, "BEL", "ana")
    mine = api.client.get(f"{BASE}/briefings", headers=ana).json()["exercises"]
    assert [e["id"] for e in mine] == [number]
    assert mine[0]["documents"][0]["mrz"][1].startswith("C01XO0T47")
    assert api.client.get(f"{BASE}/exercises/{number}/briefing", headers=ana).status_code == 200
    outsider = api.bearer(Role.BUREAU_OFFICER, "FRA", "someone.else")
    refused = api.client.get(f"{BASE}/exercises/{number}/briefing", headers=outsider)
    assert refused.status_code == 403
    for path in (f"{BASE}/exercises/{number}/scores", f"{BASE}/exercises", f"{BASE}/scenarios"):
        assert api.client.get(path, headers=ana).status_code == 403, path
    body = {"scenario": "ocr-damaged-mrz", "trainees": ["ben"]}
    for headers in (ana, api.bearer(Role.ADMIN, "XPO"), api.bearer(Role.ANALYST, "XPO")):
        assert api.client.post(f"{BASE}/exercises", json=body, headers=headers).status_code == 403
        assert api.client.post(f"{BASE}/exercises/{number}/end", headers=headers).status_code == 403
    admin = api.bearer(Role.ADMIN, "XPO")
    assert api.client.get(f"{BASE}/exercises/{number}/scores", headers=admin).status_code == 200


def test_a_bad_group_is_refused_whole_naming_each_name(api: Api) -> None:
    response = api.client.post(
        f"{BASE}/exercises",
        json={"scenario": "revoked-passport", "trainees": ["ana", "nobody", "trainer.one"]},
        headers=trainer(api),
    )
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert errors[0] == {"field": "trainees.1", "reason": "no active account 'nobody'"}
    assert errors[1]["field"] == "trainees.2"
    assert api.client.get(f"{BASE}/exercises", headers=trainer(api)).json()["exercises"] == []


def test_a_group_that_could_not_earn_the_points_is_refused_saying_why(api: Api) -> None:
    api.add_user("dan", Role.BORDER_OFFICER, "AUT")  # sends no message
    api.add_user("eve", Role.ANALYST, "CHE")  # checks nothing
    api.add_user("fay", Role.BUREAU_OFFICER, "FRA")  # would write to her own bureau
    api.add_user("gus", Role.BUREAU_OFFICER, "BEL")  # ana's bureau: they would share cases
    response = api.client.post(
        f"{BASE}/exercises",
        json={"scenario": "stolen-blank-forged-page",
              "trainees": ["ana", "dan", "eve", "fay", "gus"]},
        headers=trainer(api),
    )  # fmt: skip
    assert response.status_code == 422, response.text
    reasons = {e["field"]: e["reason"] for e in response.json()["errors"]}
    assert "trainees.0" not in reasons
    assert (
        reasons["trainees.1"]
        == "dan is border_officer: that role cannot send messages (step report)"
    )
    assert reasons["trainees.2"].startswith("eve is analyst: that role cannot check documents")
    assert "asks for a message to FRA from another bureau" in reasons["trainees.3"]
    assert "gus acts for BEL, as ana does" in reasons["trainees.4"]
    assert api.client.get(f"{BASE}/exercises", headers=trainer(api)).json()["exercises"] == []
    # Without outcomes to record, trainees of one bureau may work side by side.
    together = api.client.post(
        f"{BASE}/exercises", json={"scenario": "clean-traveller", "trainees": ["ana", "gus"]},
        headers=trainer(api),
    )  # fmt: skip
    assert together.status_code == 201, together.text


SCENARIO = """\
id: my-drill
title: {en: My drill}
briefing: {en: Check the passport.}
records:
  - ref: stolen
    document_number: X1234567
    issuing_country: FRA
    document_type: passport
    status: stolen
documents:
  - {ref: held, document_number: X1234567, issuing_country: FRA, surname: DOE,
     nationality: FRA, birth_date: 1990-01-01, expiry_date: 2030-01-01}
steps:
  - {id: check, kind: screen, title: {en: Check}, document: held, expect: hit, points: 5}
"""


def test_scenarios_are_checked_imported_exported_and_replaced(api: Api) -> None:
    bad = SCENARIO.replace("expect: hit", "expect: hot")
    checked = api.client.post(
        f"{BASE}/scenarios/validate", json={"source": bad}, headers=trainer(api)
    ).json()
    assert checked["valid"] is False
    assert checked["errors"][0]["field"] == "steps.0.expect.0"
    assert checked["errors"][0]["line"] == 14
    refused = api.client.post(f"{BASE}/scenarios", json={"source": bad}, headers=trainer(api))
    assert refused.status_code == 422

    made = api.client.post(
        f"{BASE}/scenarios", json={"source": SCENARIO, "filename": "drill.yaml"},
        headers=trainer(api),
    )  # fmt: skip
    assert made.status_code == 201, made.text
    again = api.client.post(f"{BASE}/scenarios", json={"source": SCENARIO}, headers=trainer(api))
    assert again.status_code == 200
    listed = api.client.get(f"{BASE}/scenarios", headers=trainer(api)).json()["scenarios"]
    assert len([s for s in listed if s["shipped"]]) >= 8
    assert [s["id"] for s in listed if not s["shipped"]] == ["my-drill"]
    exported = api.client.get(f"{BASE}/scenarios/my-drill/export", headers=trainer(api))
    assert exported.text == SCENARIO
    library = SCENARIO.replace("id: my-drill", "id: kit-offline")
    clash = api.client.post(f"{BASE}/scenarios", json={"source": library}, headers=trainer(api))
    assert clash.status_code == 409


def test_nothing_is_planted_outside_a_sandbox(fresh_url: str) -> None:
    with open_api(fresh_url, bureaus=("BEL",)) as api:
        api.add_user("ana", Role.BUREAU_OFFICER, "BEL")
        response = api.client.post(
            f"{BASE}/exercises", json={"scenario": "kit-offline", "trainees": ["ana"]},
            headers=trainer(api),
        )  # fmt: skip
        assert response.status_code == 403
        assert "training sandbox" in response.json()["message"]
        with api.database.session() as session:
            assert session.scalar(select(func.count()).select_from(Record)) == 0
            assert session.scalar(select(func.count()).select_from(Exercise)) == 0


@pytest.mark.parametrize(
    "filename", ["تمرين-جواز.yaml", "a\"; filename*=UTF-8''evil.html; x=\".yaml", "drill two.yaml"]
)
def test_a_scenarios_file_name_cannot_break_or_bend_its_download(api: Api, filename: str) -> None:
    made = api.client.post(
        f"{BASE}/scenarios", json={"source": SCENARIO, "filename": filename}, headers=trainer(api)
    )
    assert made.status_code == 201, made.text
    exported = api.client.get(f"{BASE}/scenarios/my-drill/export", headers=trainer(api))
    assert exported.status_code == 200
    header = exported.headers["content-disposition"]
    assert header.count(";") == 2  # attachment, the plain name and the encoded one: no more
    assert '"' not in header.split('filename="', 1)[1].rstrip('"').split('"', 1)[0]
    assert header.endswith("filename*=UTF-8''" + quote(filename, safe=""))
    assert exported.text == SCENARIO


def test_a_file_name_with_control_characters_is_refused(api: Api) -> None:
    refused = api.client.post(
        f"{BASE}/scenarios", json={"source": SCENARIO, "filename": "a\r\nSet-Cookie: x=1.yaml"},
        headers=trainer(api),
    )  # fmt: skip
    assert refused.status_code == 422
    assert "control characters" in refused.text


@pytest.mark.parametrize(
    ("source", "filename", "says"),
    [
        ("id: " + "[" * 600 + "]" * 600, "deep.yaml", "nested too deeply"),
        ("[" * 3000 + "]" * 3000, "deep.json", "nested too deeply"),
        ("id: a\nid: b\n", "twice.yaml", "the key 'id' is given twice"),
    ],
)
def test_files_no_scenario_is_are_refused_not_a_server_error(
    api: Api, source: str, filename: str, says: str
) -> None:
    checked = api.client.post(
        f"{BASE}/scenarios/validate", json={"source": source, "filename": filename},
        headers=trainer(api),
    )  # fmt: skip
    assert checked.status_code == 200, checked.text
    assert checked.json()["valid"] is False
    assert says in checked.json()["errors"][0]["reason"]
