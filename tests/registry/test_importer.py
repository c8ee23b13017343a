"""Bulk import: all or nothing, every bad row reported, idempotent, export round trip."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bordercheck.errors import FieldError, InvalidInput, ValidationFailed
from bordercheck.registry.feed import last_sequence
from bordercheck.registry.files import read_rows, write_rows
from bordercheck.registry.importer import Importer, ImportRejected, export_rows
from bordercheck.registry.models import Record
from bordercheck.training.synthetic import SyntheticRegistry
from tests.factories import ADMIN, make_bureau, officer

HEADER = "document_number,issuing_country,document_type,status,blank,serial_end,event_date\n"


@pytest.fixture(autouse=True)
def bureaus(session: Session) -> None:
    for code in SyntheticRegistry().countries:
        make_bureau(session, code)


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Record)) or 0


def run_import(session: Session, path: Path, **options: Any) -> Any:
    importer = Importer(session, options.pop("actor", ADMIN), batch_size=3, **options)
    importer.add_rows(read_rows(path))
    return importer.finish()


def test_a_file_with_invalid_rows_writes_nothing_and_lists_every_bad_row(
    session: Session, tmp_path: Path
) -> None:
    path = tmp_path / "records.csv"
    path.write_text(
        HEADER
        + "C01X00T47,DEU,passport,stolen,false,,2024-01-02\n"
        + "12AB34567,XX,passport,lost,false,,2024-01-02\n"
        + "C01X00T48,DEU,passport,stolen,false,,2024-01-02\n"
        + "C01X00T49,DEU,spaceship,gone,false,,2024-13-02\n"
        + "C01X00T47,D,passport,lost,false,,\n"
        + "X0001200,FRA,passport,stolen,true,X0001100,\n"
    )
    before = last_sequence(session)
    with pytest.raises(ImportRejected) as caught:
        run_import(session, path)
    errors = {(e.line, e.field) for e in caught.value.report.errors}
    assert errors == {
        (3, "issuing_country"),
        (5, "document_type"),
        (5, "status"),
        (5, "event_date"),
        (6, "document_number"),  # the same document as line 2 (D is Germany)
        (7, "record"),  # the range ends before it starts
    }
    reasons = {e.line: e.reason for e in caught.value.report.errors}
    assert reasons[3] == "'XX' is not a country code"
    assert reasons[6] == "the same document as line 2 (number, country and type family)"
    session.rollback()
    assert count(session) == 0
    assert last_sequence(session) == before


def test_skip_invalid_imports_the_good_rows_and_hands_back_the_bad(
    session: Session, tmp_path: Path
) -> None:
    path = tmp_path / "records.csv"
    path.write_text(
        HEADER
        + "C01X00T47,DEU,passport,stolen,false,,2024-01-02\n"
        + "12AB34567,XX,passport,lost,false,,2024-01-02\n"
        + "12AB34568,FRA,passport,lost,false,,2024-01-02\n"
    )
    rejected: list[tuple[int, list[FieldError]]] = []
    report = run_import(
        session,
        path,
        skip_invalid=True,
        on_rejected=lambda line, _raw, errs: rejected.append((line, errs)),
    )
    assert (report.created, report.rejected_rows) == (2, 1)
    assert [line for line, _ in rejected] == [3]
    assert count(session) == 2


def test_importing_the_same_file_again_changes_nothing(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    write_rows(path, SyntheticRegistry(seed=7).records(40, ranges=2))
    first = run_import(session, path)
    seq = last_sequence(session)
    second = run_import(session, path)
    assert (first.created, first.unchanged) == (40, 0)
    assert (second.created, second.unchanged, second.updated) == (0, 40, 0)
    assert last_sequence(session) == seq


def test_a_changed_row_is_a_duplicate_unless_merged(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "records.csv"
    path.write_text(HEADER + "C01X00T47,DEU,passport,stolen,false,,2024-01-02\n")
    run_import(session, path)
    path.write_text(HEADER + "C01X00T47,DEU,passport,lost,false,,2024-01-02\n")
    with pytest.raises(ImportRejected) as caught:
        run_import(session, path)
    assert "use --merge" in caught.value.report.errors[0].reason
    report = run_import(session, path, merge=True)
    assert report.updated == 1
    record = session.scalars(select(Record)).one()
    assert (record.status, record.version) == ("lost", 2)


def test_a_bureau_imports_only_its_own_countrys_documents(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "records.csv"
    path.write_text(
        HEADER
        + "C01X00T47,DEU,passport,stolen,false,,2024-01-02\n"
        + "12AB34567,FRA,passport,lost,false,,2024-01-02\n"
    )
    with pytest.raises(ImportRejected) as caught:
        run_import(session, path, actor=officer("DEU"))
    (error,) = caught.value.report.errors
    assert (error.line, error.field) == (3, "issuing_country")
    assert "may not change records issued by FRA" in error.reason


@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
def test_export_then_import_reproduces_the_file_exactly(
    session: Session, tmp_path: Path, suffix: str
) -> None:
    source = tmp_path / f"source.{suffix}"
    write_rows(source, SyntheticRegistry(seed=11).records(60, ranges=3))
    run_import(session, source)
    exported = tmp_path / f"exported.{suffix}"
    write_rows(exported, export_rows(session))
    assert exported.read_text() == source.read_text()


def test_bad_header_and_bad_json_are_reported_with_their_lines(tmp_path: Path) -> None:
    csv_path = tmp_path / "records.csv"
    csv_path.write_text("document_number,issuing_country,colour\nA1,DEU,red\n")
    with pytest.raises(ValidationFailed) as caught:
        list(read_rows(csv_path))
    fields = {(e.line, e.field) for e in caught.value.errors}
    assert fields == {(1, "colour"), (1, "document_type"), (1, "status")}
    jsonl = tmp_path / "records.jsonl"
    jsonl.write_text('{"document_number": "A1"}\n\nnot json\n[1, 2]\n')
    rows = list(read_rows(jsonl))
    assert [line for line, _ in rows] == [1, 3, 4]
    assert "not valid JSON" in rows[1][1]["__error__"]


def test_a_file_that_is_not_utf8_or_of_unknown_kind_is_refused(tmp_path: Path) -> None:
    latin = tmp_path / "records.csv"
    latin.write_bytes(
        HEADER.encode() + "C01X00T47,DEU,passport,stolen,false,,,M\xfcnchen\n".encode("latin-1")
    )
    with pytest.raises(InvalidInput, match="not UTF-8"):
        list(read_rows(latin))
    with pytest.raises(InvalidInput, match=r"use \.csv or \.jsonl"):
        list(read_rows(tmp_path / "records.xlsx"))
