"""``bordercheck training …``: the library listed, files checked and exchanged, an exercise
started, scored and ended from the command line of a sandbox's server."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner, Result

from bordercheck.auth import service as auth_service
from bordercheck.auth.models import Role
from bordercheck.cli import app
from bordercheck.screening.models import ScreeningQuery
from bordercheck.timestamps import utcnow
from bordercheck.training.models import Exercise
from tests.factories import keyed_database, sandboxed

DRILL = """\
id: drill
title: {en: Drill}
briefing: {en: Check the passport.}
documents:
  - {ref: held, document_number: X1234567, issuing_country: FRA, surname: DOE,
     nationality: FRA, birth_date: 1990-01-01, expiry_date: 2030-01-01}
steps:
  - {id: check, kind: screen, title: {en: Check}, document: held, expect: no_hit, points: 5}
"""


def run(url: str, *args: str, **env: str) -> Result:
    return CliRunner().invoke(app, list(args), env={"BORDERCHECK_DATABASE_URL": url} | env)


def test_scenarios_are_listed_checked_exported_and_imported(fresh_url: str, tmp_path: Path) -> None:
    listed = run(fresh_url, "training", "scenario", "list")
    assert listed.exit_code == 0, listed.output
    assert "kit-offline" in listed.output
    assert len(listed.output.splitlines()) >= 8

    bad = tmp_path / "bad.yaml"
    bad.write_text(DRILL.replace("expect: no_hit", "expect: nothing"))
    checked = run(fresh_url, "training", "scenario", "validate", str(bad))
    assert checked.exit_code == 1
    assert "bad.yaml: line 8: steps.0.expect.0:" in checked.output
    good = tmp_path / "drill.yaml"
    good.write_text(DRILL)
    assert "scenario drill is valid" in run(fresh_url, "training", "scenario", "validate",
                                            str(good)).output  # fmt: skip
    assert run(fresh_url, "training", "scenario", "import", str(bad)).exit_code == 1
    imported = run(fresh_url, "training", "scenario", "import", str(good))
    assert imported.exit_code == 0, imported.output
    assert "scenario drill imported" in imported.output
    out = tmp_path / "copy.yaml"
    exported = run(fresh_url, "training", "scenario", "export", "drill", "--out", str(out))
    assert exported.exit_code == 0, exported.output
    assert out.read_text() == DRILL
    missing = run(fresh_url, "training", "scenario", "export", "nope", "--out", str(out))
    assert missing.exit_code == 1
    assert "no scenario 'nope'" in missing.output


def test_an_exercise_runs_from_the_command_line_in_a_sandbox_only(
    fresh_url: str, tmp_path: Path
) -> None:
    database = keyed_database(fresh_url)
    with database.session(write=True) as session:
        auth_service.add_bureau(session, "BEL", "NCB Brussels")
        for name in ("ana", "ben", "cleo"):
            auth_service.add_user(session, name, bureau="BEL", role=Role.BORDER_OFFICER,
                                  password="correct horse battery staple")  # fmt: skip
    refused = run(fresh_url, "training", "exercise", "start", "clean-traveller",
                  "--trainees", "ana,ben,cleo")  # fmt: skip
    assert refused.exit_code == 1
    assert "training sandbox" in refused.output
    sandbox = {"BORDERCHECK_TRAINING_SANDBOX": sandboxed(fresh_url)}
    started = run(fresh_url, "training", "exercise", "start", "clean-traveller",
                  "--trainees", "ana,ben,cleo", **sandbox)  # fmt: skip
    assert started.exit_code == 0, started.output
    assert "exercise 1 started: clean-traveller for ana, ben, cleo" in started.output
    with database.session(write=True) as session:
        session.add(ScreeningQuery(
            id="a" * 32, at=utcnow(), principal_kind="user", principal_name="ana",
            bureau_code="BEL", location=None, operation_id=None, source="number",
            document_number="P7731054", issuing_country="AUT", document_type="passport",
            result="no_hit", match_count=0,
        ))  # fmt: skip
        assert session.scalar(select(Exercise.started_by)).startswith("cli:")
    scores = run(fresh_url, "training", "exercise", "scores", "1", "--json", **sandbox)
    assert scores.exit_code == 0, scores.output
    assert '"points": 10' in scores.output
    ended = run(fresh_url, "training", "exercise", "end", "1", **sandbox)
    assert ended.exit_code == 0, ended.output
    assert "ana 10/10, ben 0/10, cleo 0/10" in ended.output
    table = run(fresh_url, "training", "exercise", "scores", "1", **sandbox)
    assert "(ended)" in table.output
    assert run(fresh_url, "training", "exercise", "end", "1", **sandbox).exit_code == 1
    database.dispose()
