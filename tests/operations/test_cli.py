"""``bordercheck operations list|show|report`` on the server's own database."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

from typer.testing import CliRunner, Result

from bordercheck.auth.models import Role
from bordercheck.auth.tokens import Principal
from bordercheck.cli import app
from bordercheck.operations import service
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
