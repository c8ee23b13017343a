"""Any file given to import as CSV: rows checked or refused line by line, or the whole file
refused saying why (InvalidInput), never another exception; time about linear in size."""

from __future__ import annotations

import codecs
import csv
import io
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bordercheck.errors import InvalidInput, ValidationFailed
from bordercheck.registry.files import REQUIRED_COLUMNS, read_rows
from bordercheck.registry.import_rows import NEW_RECORD_COLUMNS, FileChecks
from bordercheck.registry.schemas import RECORD_FIELDS
from tests.bounded import bounded
from tests.factories import officer

FIELD_LIMIT = csv.field_size_limit()  # longer fields are refused, per row, by the reader
# Each field's values, good and bad on purpose ("XXX" and "ZZZ" are not country codes, "D<<"
# is a zone's filler): a bad one must be refused with its row and field, never crash the reader.
VALUES = {
    "document_number": ["C01X00T47", "c01x00t47", "", " C01 X00 ", "<<<", "0" * 30],
    "issuing_country": ["DEU", "FRA", "deu", "D<<", "XXX", "ZZZ", "", "DE"],
    "document_type": ["passport", "P", "identity_card", "visa", "", "PASSPORT", "boat"],
    "status": ["stolen", "lost", "revoked", "invalidated", "", "found"],
    "blank": ["true", "false", "", "yes", "2"],
    "serial_end": ["C01X00T99", "", "C01X00T00", "A"],
    "issue_date": ["2020-01-01", "2020-13-40", "01/02/2020", "", "9999-12-31", "0001-01-01"],
}
TEXT = st.text(
    st.sampled_from("abcXYZ019 ,;\"'\n\r\t=+-@\\\x00\ufeff\u202eÄß€\U0001f600<"), max_size=40
)


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    columns = list(REQUIRED_COLUMNS) + draw(
        st.lists(st.sampled_from(RECORD_FIELDS), max_size=4, unique=True)
    )
    columns = list(dict.fromkeys(columns))
    if draw(st.integers(0, 9)) == 0:  # a header gone wrong: unknown, missing or twice
        columns[draw(st.integers(0, len(columns) - 1))] = draw(
            st.sampled_from(["Document Number", "issuing_country", "rejected_because", "", "x"])
        )
    columns = draw(st.permutations(columns))

    def value(column: str) -> str:
        known = VALUES.get(column)
        if known and draw(st.booleans()):
            return draw(st.sampled_from(known))
        return draw(TEXT)

    rows = [columns]
    for _ in range(draw(st.integers(0, 30))):
        row = [value(column) for column in columns]
        change = draw(st.integers(0, 9))
        if change == 0:
            row = row[: draw(st.integers(0, len(row)))]
        elif change == 1:
            row += [draw(TEXT)]
        elif change == 2:
            row[draw(st.integers(0, len(row) - 1))] = "x" * draw(
                st.sampled_from([1000, FIELD_LIMIT - 1, FIELD_LIMIT + 1])
            )
        rows.append(row)
    out = io.StringIO()
    csv.writer(out, quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))).writerows(
        rows
    )
    text = out.getvalue()
    if draw(st.integers(0, 5)) == 0:  # broken quoting, by hand
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(['"', '""', '"\n', "\r", "\x00"])) + text[at:]
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "utf-16", "cp1252"]))
    data = text.encode(encoding, errors="replace")
    if draw(st.integers(0, 5)) == 0:
        data = codecs.BOM_UTF8 + data
    return data


def read(path: Path) -> None:
    checks = FileChecks(officer("DEU"), {"DEU": 1, "FRA": 2}, (None,) * len(NEW_RECORD_COLUMNS))
    refused: InvalidInput | None = None
    try:
        for line, raw in read_rows(path):
            row, errors = checks.check(line, raw)
            assert (row is None) == bool(errors)
            for error in errors:
                assert error.line == line, error
                assert error.reason, error
    except InvalidInput as exc:
        refused = exc
    if isinstance(refused, ValidationFailed):  # the header: every error on line 1
        assert refused.errors
        assert all(error.line == 1 for error in refused.errors)
    elif refused is not None:  # the whole file, by name
        assert path.name in refused.message, refused.message


def check(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "records.csv"
    path.write_bytes(data)
    bounded(lambda: read(path), len(data), "reading an import file")


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.one_of(csv_files(), st.binary(max_size=500)))
def test_any_csv_file_reads_row_by_row_or_is_refused(tmp_path: Path, data: bytes) -> None:
    check(tmp_path, data)


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.one_of(csv_files(), st.binary(max_size=20_000)))
def test_any_csv_file_reads_row_by_row_or_is_refused_at_length(tmp_path: Path, data: bytes) -> None:
    check(tmp_path, data)


def _file(rows: int, row: str) -> bytes:
    header = "document_number,issuing_country,document_type,status,circumstances\n"
    return (header + row * rows).encode()


@pytest.mark.slow
@pytest.mark.parametrize(
    "row",
    [
        "C01X00T47,DEU,passport,stolen,\n",  # the same document again and again
        '"' + "a" * 1000 + '",DEU,passport,stolen,"' + '""' * 500 + '"\n',  # quotes
        "x,y,z\n",  # rows of the wrong width
        '"' + "\n" * 50 + '",FRA,visa,lost,\n',  # quoted line breaks
    ],
    ids=["duplicates", "quotes", "wrong-width", "line-breaks"],
)
def test_time_grows_about_linearly(tmp_path: Path, row: str) -> None:
    def seconds(rows: int) -> float:
        path = tmp_path / f"{rows}.csv"
        data = _file(rows, row)
        path.write_bytes(data)
        started = time.perf_counter()
        bounded(lambda: read(path), len(data), "reading an import file", per_mib=20)
        return time.perf_counter() - started

    size = (2 << 20) // len(row)
    small = min(seconds(size // 4) for _ in range(2))
    large = min(seconds(size) for _ in range(2))
    assert large <= 12 * small + 0.1, (small, large)


def test_a_field_past_the_reader_limit_is_refused_on_its_line(tmp_path: Path) -> None:
    data = _file(1, "C01X00T47,DEU,passport,stolen,ok\n")
    data += b'C02X00T47,DEU,passport,stolen,"' + b"x" * (FIELD_LIMIT + 1) + b'"\n'
    data += b"C03X00T47,DEU,passport,stolen,ok\n"
    path = tmp_path / "records.csv"
    path.write_bytes(data)
    found: list[tuple[int, Any]] = list(read_rows(path))
    assert [line for line, _ in found] == [2, 3, 4]
    assert "field larger than field limit" in found[1][1]["__error__"]


def test_a_header_past_the_reader_limit_is_refused_on_line_one(tmp_path: Path) -> None:
    path = tmp_path / "records.csv"
    path.write_bytes(b'document_number,"' + b"x" * (FIELD_LIMIT + 1) + b'"\nC01X00T47\n')
    with pytest.raises(ValidationFailed) as refused:
        list(read_rows(path))
    [error] = refused.value.errors
    assert (error.line, error.field) == (1, "header")
    assert "field larger than field limit" in error.reason
