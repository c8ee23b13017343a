"""``bordercheck manifests screen`` and ``purge`` on the server's own database."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner, Result

from bordercheck.auth.actors import Actor
from bordercheck.auth.models import Role
from bordercheck.cli import app
from bordercheck.documents.types import DocumentType
from bordercheck.hits.models import Hit
from bordercheck.manifests.flight import TravelDocument
from bordercheck.manifests.writer import synthetic_flight, write_paxlst
from bordercheck.registry import service as registry_service
from tests.factories import fields, keyed_database, make_bureau

DATA = Path(__file__).parent / "data"


def run(url: str, *args: str) -> Result:
    env = {"BORDERCHECK_DATABASE_URL": url, "COLUMNS": "200"}
    return CliRunner().invoke(app, list(args), env=env)


def test_screen_files_print_the_hits_and_open_tagged_cases(fresh_url: str, tmp_path: Path) -> None:
    database = keyed_database(fresh_url)
    with database.session(write=True) as session:
        make_bureau(session, "DEU")
        actor = Actor(name="officer.deu", role=Role.BUREAU_OFFICER, bureau_code="DEU")
        registry_service.create_record(session, actor, fields(document_number="C01X00T47"))
    stolen = TravelDocument("P", DocumentType.PASSPORT, "C01X00T47", "DEU")
    flight = synthetic_flight(40, seed=2, flight="XB77", planted=[stolen])
    seat = next(t.seat for t in flight.travellers if t.documents[0] is stolen)
    good = tmp_path / "xb77.edi"
    good.write_text(write_paxlst(flight))
    bad = tmp_path / "bad.edi"
    bad.write_text("not a manifest")

    printed = run(fresh_url, "manifests", "screen", str(good))
    assert printed.exit_code == 0, printed.output
    assert "flight XB77 IST → CDG, 40 passengers read" in printed.output
    assert seat is not None
    assert seat in printed.output
    assert "C01X00T47" in printed.output

    answered = run(fresh_url, "manifests", "screen", str(good), str(bad), "--json")
    assert answered.exit_code == 1
    files = json.loads(answered.stdout)["files"]
    assert files[0]["manifests"][0]["hits"][0]["seat"] == seat
    assert "no EDIFACT interchange found" in files[1]["error"]
    with database.session() as session:
        cases = list(session.scalars(select(Hit)))
    # The same list screened twice: the traveller's case, open still, seen twice.
    assert [(c.flight, c.sightings) for c in cases] == [("XB77", 2)]
    assert all(c.manifest_id is not None for c in cases)

    purged = run(fresh_url, "manifests", "purge", "--older-than-days", "0")
    assert purged.exit_code == 0, purged.output
    assert "2 manifest(s) older than 0 days deleted" in purged.output
    database.dispose()


def test_screen_reads_an_older_dialect_and_refuses_a_list_naming_nobody(
    fresh_url: str, tmp_path: Path
) -> None:
    nobody = tmp_path / "nobody.edi"
    nobody.write_text("UNH+1+PAXLST:001:000+X'TDT+20+UA1'UNT+3+1'")
    answered = run(
        fresh_url, "manifests", "screen", str(DATA / "us_pdt_dialect.edi"), str(nobody), "--json"
    )
    assert answered.exit_code == 1
    read, refused = json.loads(answered.stdout)["files"]
    assert read["manifests"][0]["travellers"] == 3
    assert any("older US dialect" in w for w in read["warnings"])
    assert "refused rather than screened as an empty flight" in refused["error"]
    printed = run(fresh_url, "manifests", "screen", str(DATA / "dcs_three_parts.edi"))
    assert printed.exit_code == 0, printed.output
    assert "flight KL1234 AMS → JFK, 3 passengers read" in printed.output
    assert "no interchange envelope" in printed.output
