"""``bordercheck operations create|list|show|report`` on the server's own database."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

from typer.testing import CliRunner, Result

from bordercheck.audit.service import AuditFilter, search
from bordercheck.auth.models import Role
from bordercheck.auth.tokens import Principal
from bordercheck.cli import app
from bordercheck.operations import service
from bordercheck.operations import thread as operation_thread
from bordercheck.screening.models import ScreeningQuery
from tests.factories import keyed_database, make_bureau


def run(url: str, *args: str) -> Result:
    env = {"BORDERCHECK_DATABASE_URL": url, "COLUMNS": "200"}
    return CliRunner().invoke(app, list(args), env=env)


def test_show_prints_the_figures_and_report_writes_html_and_pdf(
    fresh_url: str, tmp_path: Path
) -> None:
    database = keyed_database(fresh_url)
    coordinator = Principal(kind="user", id="1", name="ana", role=Role.ADMIN, bureau_code="XPO")
    with database.session(write=True) as session:
        for code in ("FRA", "ITA"):
            make_bureau(session, code)
        new = service.NewOperation(
            name="Blue Gate", purpose="Two airports, four days.", starts_on=date(2026, 3, 1),
            ends_on=date(2026, 3, 4), locations=["CDG", "FCO"], bureaus=["FRA", "ITA"],
        )  # fmt: skip
        operation = service.create(session, coordinator, "XPO", new)
        for n, (location, result) in enumerate(
            [("CDG", "no_hit"), ("CDG", "no_hit"), ("FCO", "hit"), ("FCO", "possible_hit")]
        ):
            session.add(
                ScreeningQuery(
                    id=f"{n:032x}", at=datetime(2026, 3, 2, 9, n, tzinfo=UTC),
                    principal_kind="user", principal_name="border.fra", bureau_code="FRA",
                    location=location, operation_id=None, source="number",
                    document_number="P1234567", issuing_country="DEU",
                    document_type="passport", result=result, match_count=0,
                )
            )  # fmt: skip

    listed = run(fresh_url, "operations", "list")
    assert listed.exit_code == 0, listed.output
    assert "2026-03-01 … 2026-03-04" in listed.output
    assert "ended" in listed.output

    shown = run(fresh_url, "operations", "show", str(operation.id))
    assert shown.exit_code == 0, shown.output
    assert "4 documents checked, 1 hit(s), 1 possible hit(s)" in shown.output
    assert "2026-03-02" in shown.output
    assert "FCO" in shown.output
    figures = json.loads(run(fresh_url, "operations", "show", str(operation.id), "--json").output)
    assert figures["total"] == {"checked": 4, "hits": 1, "possible_hits": 1}

    for format in ("html", "pdf"):
        target = tmp_path / f"report.{format}"
        written = run(
            fresh_url, "operations", "report", str(operation.id), "--format", format,
            "--out", str(target),
        )  # fmt: skip
        assert written.exit_code == 0, written.output
        assert b"P1234567" not in target.read_bytes()
    assert (tmp_path / "report.pdf").read_bytes().startswith(b"%PDF")
    assert "Operation Blue Gate" in (tmp_path / "report.html").read_text()
    french = tmp_path / "rapport.html"
    written = run(fresh_url, "operations", "report", str(operation.id), "--language", "fr",
                  "--out", str(french))  # fmt: skip
    assert written.exit_code == 0, written.output
    assert "Opération Blue Gate" in french.read_text()
    unknown = run(fresh_url, "operations", "report", str(operation.id), "--language", "de")
    assert unknown.exit_code != 0
    assert "language: one of en, fr, es, ar, not 'de'" in unknown.output

    missing = run(fresh_url, "operations", "show", "999")
    assert missing.exit_code != 0
    assert "no operation 999" in missing.output
    wrong = run(fresh_url, "operations", "report", str(operation.id), "--format", "doc")
    assert wrong.exit_code != 0
    assert "html, pdf" in wrong.output


def test_create_makes_the_operation_the_api_would_and_refuses_by_option(fresh_url: str) -> None:
    database = keyed_database(fresh_url)
    with database.session(write=True) as session:
        for code in ("FRA", "ITA"):
            make_bureau(session, code)
    made = run(
        fresh_url, "operations", "create", "Blue Harbour", "--from", "2026-05-04",
        "--to", "2026-05-07", "--post", "CDG", "--post", "fco", "--bureau", "FRA",
        "--bureau", "ita", "--purpose", "Two airports, four days.",
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    assert "2026-05-04 … 2026-05-07" in made.output
    assert "posts CDG, FCO, bureaus FRA, ITA" in made.output
    with database.session() as session:
        [operation] = service.everything(session)
        thread = operation_thread.thread_id_of(session, operation.id)
        [entry] = search(session, AuditFilter(action="operation.created")).entries
    assert (operation.name, operation.purpose) == ("Blue Harbour", "Two airports, four days.")
    assert (operation.starts_on, operation.ends_on) == (date(2026, 5, 4), date(2026, 5, 7))
    assert (operation.locations, operation.bureaus) == (("CDG", "FCO"), ("FRA", "ITA"))
    assert operation.coordinator_bureau == "XPO"
    assert thread is not None  # the participants' thread, as from the API
    assert entry.actor.startswith("cli")

    refused = run(
        fresh_url, "operations", "create", " ", "--from", "2026-05-04", "--to", "2026-05-01",
        "--bureau", "POL", "--kit", "nope",
    )  # fmt: skip
    assert refused.exit_code == 1
    assert refused.output.splitlines() == [
        "error: NAME: give the operation a name",
        "error: --to: the last day comes before the first",
        "error: --post: name at least one border post",
        "error: --bureau: no bureau POL",
        "error: --kit: no offline kit nope",
    ]
    bad_day = run(fresh_url, "operations", "create", "X", "--from", "2026-13-01", "--to", "x")
    assert bad_day.exit_code == 2
    assert "Invalid value for '--from'" in bad_day.output
    with database.session() as session:
        assert len(service.everything(session)) == 1
    database.dispose()
