"""In a real browser: a trainer starts an exercise for three trainees in a training sandbox;
one handles it right, one wrong, one slowly, and the trainer's open page shows their three
scores without a reload. The training pages are checked for accessibility in every language."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import pytest

from bordercheck.auth import service as auth_service
from bordercheck.auth.models import Role
from bordercheck.web.i18n import LANGUAGES
from tests.conftest import FreshDatabases
from tests.factories import sandboxed
from tests.training.helpers import time_passes
from tests.web.conftest import LiveConsole, Tab

_people = itertools.count(1)
WAIT = 30.0


@pytest.fixture(scope="module")
def live(
    backend: str, fresh_databases: FreshDatabases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveConsole]:
    """The console of a training sandbox, served for this module."""
    url = fresh_databases.url(backend)
    console = LiveConsole(
        url, tmp_path_factory.mktemp("edge-cache"), training_sandbox=sandboxed(url)
    )
    for bureau in ("BEL", "AUT", "CHE", "FRA"):
        with console.database.session(write=True) as session:
            auth_service.add_bureau(session, bureau, f"NCB {bureau}")
    yield console
    console.stop()


def person(live: LiveConsole, role: Role, bureau: str) -> str:
    return live.add_user(f"train.{role.value}.{next(_people)}", role, bureau)


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_the_training_pages_are_accessible_in_every_language(
    live: LiveConsole, tab_factory: Callable[..., Tab], language: str
) -> None:
    tab = tab_factory(language)
    tab.sign_in(person(live, Role.TRAINER, "FRA"))
    assert tab.page.get_attribute("html", "dir") == ("rtl" if language == "ar" else "ltr")
    for path in ("/training", "/training/scenarios/multi-part-manifest",
                 "/training/exercises/new"):  # fmt: skip
        tab.goto(path)
        tab.assert_accessible()
    # A file with a problem: the error summary and the problem's line, accessible too.
    tab.goto("/training")
    tab.page.set_input_files(
        "#file", files=[{"name": "bad.yaml", "mimeType": "application/yaml",
                         "buffer": b"id: drill\ntitle: {en: x}\nbriefing: {en: y}\nsteps: []\n"}],
    )  # fmt: skip
    tab.page.click("button[value='validate']")
    tab.page.wait_for_selector("[data-problems]")
    assert "bad.yaml" in tab.page.inner_text("[data-problems]")
    tab.assert_accessible()
    trainee = person(live, Role.BUREAU_OFFICER, "BEL")
    started = live_exercise(live, "kit-offline", [trainee])
    tab.goto(f"/training/exercises/{started}")
    tab.page.wait_for_selector(f"[data-trainee='{trainee}']")
    tab.assert_accessible()
    briefing = tab_factory(language)
    briefing.sign_in(trainee)
    briefing.goto("/training/briefing")
    briefing.page.wait_for_selector("[data-mrz]")
    briefing.assert_accessible()


def live_exercise(live: LiveConsole, scenario: str, trainees: list[str]) -> int:
    trainer = live.bearer(Role.TRAINER, "FRA", "trainer.api")
    answer = httpx2.post(f"{live.url}/api/v1/training/exercises", headers=trainer,
                         json={"scenario": scenario, "trainees": trainees})  # fmt: skip
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


def api_acts(live: LiveConsole, who: str, bureau: str, outcome: str) -> None:
    """A trainee who works through the API: checks the passport, records an outcome."""
    headers = live.bearer(Role.BUREAU_OFFICER, bureau, who)
    body = {"document_number": "NXC1R2PT4", "issuing_country": "NLD"}
    deadline = time.monotonic() + WAIT
    while True:
        answer = httpx2.post(f"{live.url}/api/v1/screen", headers=headers, json=body).json()
        if answer["result"] == "hit":
            break
        assert time.monotonic() < deadline, answer
        time.sleep(0.05)
    while True:  # the case is opened with the answer
        cases: Any = httpx2.get(f"{live.url}/api/v1/hits", headers=headers).json()["hits"]
        if cases:
            break
        assert time.monotonic() < deadline
        time.sleep(0.05)
    recorded = httpx2.post(f"{live.url}/api/v1/hits/{cases[0]['id']}/outcome",
                           headers=headers, json={"outcome": outcome})  # fmt: skip
    assert recorded.status_code == 200, recorded.text


def test_a_trainer_runs_an_exercise_for_three_trainees_and_reads_their_scores(
    live: LiveConsole, tab_factory: Callable[..., Tab]
) -> None:
    ana, ben, cleo = (person(live, Role.BUREAU_OFFICER, b) for b in ("BEL", "AUT", "CHE"))
    trainer = tab_factory()
    trainer.sign_in(person(live, Role.TRAINER, "FRA"))
    trainer.goto("/training")
    trainer.page.click("a[href='/training/exercises/new']")
    trainer.page.select_option("#scenario", "revoked-passport")
    trainer.page.fill("#trainees", f"{ana}, {ben}\n{cleo}")
    trainer.page.click("form[action='/training/exercises'] button[type=submit]")
    trainer.page.wait_for_selector("[data-state='running']")
    assert trainer.page.locator("[data-status='not_done']").count() == 6
    trainer.assert_accessible()
    live.catch_up()

    # Ana, right and quick, in the console: the briefing, the check, the outcome.
    desk = tab_factory()
    desk.sign_in(ana)
    desk.goto("/training/briefing")
    number = desk.page.inner_text("[data-exercise] dd[dir='ltr']")
    assert number == "NXC1R2PT4"
    desk.goto("/check")
    desk.page.fill("#document_number", number)
    desk.page.fill("#issuing_country", "NLD")
    desk.page.keyboard.press("Enter")
    assert desk.page.wait_for_selector("[data-result]").get_attribute("data-result") == "hit"
    desk.page.click("[data-result] a[href^='/hits/']")
    desk.page.wait_for_selector("button[value='seized']")
    desk.page.click("button[value='seized']")
    desk.page.wait_for_selector("[data-outcome='seized']")
    # Ben lets the traveller go on a revoked passport; Cleo is right, but long after.
    api_acts(live, ben, "AUT", "released")
    time_passes(live.database, 1000)
    api_acts(live, cleo, "CHE", "seized")

    # The trainer's page, open all along, shows the three scores by itself.
    trainer.page.wait_for_selector(f"[data-trainee='{ana}'][data-points='30']", timeout=20_000)
    trainer.page.wait_for_selector(f"[data-trainee='{ben}'][data-points='15']", timeout=20_000)
    trainer.page.wait_for_selector(f"[data-trainee='{cleo}'][data-points='14']", timeout=20_000)
    row = trainer.page.locator(f"[data-trainee='{ben}'] [data-step='seize']")
    assert row.get_attribute("data-status") == "wrong"
    late = trainer.page.locator(f"[data-trainee='{cleo}'] [data-step='check']")
    assert late.get_attribute("data-status") == "late"
    trainer.page.click("button:has-text('End the exercise')")
    trainer.page.wait_for_selector("[data-state='ended']")
    assert trainer.page.locator(f"[data-trainee='{ana}']").get_attribute("data-points") == "30"
    trainer.assert_accessible()
