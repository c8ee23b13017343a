"""Record files: CSV (with the contract's header) and JSON Lines, chosen by extension."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import IO, Any

import orjson

from bordercheck.errors import FieldError, InvalidInput, ValidationFailed
from bordercheck.registry.schemas import RECORD_FIELDS
from bordercheck.spreadsheets import protect, unprotect

CSV_SUFFIXES = {".csv"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
REQUIRED_COLUMNS = ("document_number", "issuing_country", "document_type", "status")
# The column a rejects file adds to say why each row was refused. Import skips it by name, so
# that a corrected rejects file imports as it is.
REJECTED_BECAUSE = "rejected_because"


def file_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return "csv"
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
    raise InvalidInput(
        f"{path.name}: cannot tell the format from the extension {suffix or '(none)'}; "
        "use .csv or .jsonl"
    )


def count_lines(path: Path) -> int:
    """Lines in the file, to size a progress bar (quoted line breaks make it an estimate)."""
    count = 0
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            count += chunk.count(b"\n")
    return count


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Each row of the file as (line number, field → value); values are strings or JSON values."""
    kind = file_format(path)
    with path.open("r", encoding="utf-8-sig", newline="") as file:
        try:
            rows = _read_csv(file) if kind == "csv" else _read_jsonl(file)
            yield from rows
        except UnicodeDecodeError as exc:
            raise InvalidInput(
                f"{path.name} is not UTF-8 text (byte 0x{exc.object[exc.start]:02x}); "
                "save it as UTF-8 and import it again"
            ) from None


def _read_csv(file: IO[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.reader(file)
    try:
        header = next(reader, None)
    except csv.Error as exc:  # a header no file of records has (a field of over 128 KiB)
        error = FieldError(field="header", reason=f"is not valid CSV: {exc}", line=1)
        raise ValidationFailed(errors=[error]) from None
    if header is None:
        return
    columns = [name.strip() for name in header]
    _check_header([name for name in columns if name != REJECTED_BECAUSE])
    width = len(columns)
    line = reader.line_num + 1  # where the next row starts; a quoted value may span lines
    while True:
        try:
            for values in reader:
                if len(values) == width:
                    row = dict(zip(columns, map(unprotect, values), strict=True))
                    row.pop(REJECTED_BECAUSE, None)
                    yield line, row
                elif values:
                    yield line, {"__error__": f"has {len(values)} columns; the header has {width}"}
                line = reader.line_num + 1
            return
        except csv.Error as exc:
            yield line, {"__error__": f"not valid CSV: {exc}"}
            line = reader.line_num + 1


def _check_header(columns: list[str]) -> None:
    errors = [
        FieldError(field=name, reason="is not a record field", line=1)
        for name in columns
        if name not in RECORD_FIELDS
    ]
    errors += [
        FieldError(field=name, reason="column is missing from the header", line=1)
        for name in REQUIRED_COLUMNS
        if name not in columns
    ]
    duplicated = {name for name in columns if columns.count(name) > 1}
    errors += [
        FieldError(field=name, reason="column appears twice", line=1) for name in sorted(duplicated)
    ]
    if errors:
        raise ValidationFailed(errors=errors)


def _read_jsonl(file: IO[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    for line, text in enumerate(file, start=1):
        if not text.strip():
            continue
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            yield line, {"__error__": f"not valid JSON: {exc}"}
            continue
        if not isinstance(value, dict):
            yield line, {"__error__": "is not a JSON object"}
            continue
        value.pop(REJECTED_BECAUSE, None)
        yield line, value


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    # Places, circumstances and names are free text a bureau typed: opened in a sheet,
    # none may run as a formula. Import takes the protecting apostrophe away again.
    return protect(str(value))


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def rejection_reasons(errors: Iterable[FieldError]) -> str:
    """A rejected row's errors as one cell: ``field: reason; field: reason``."""
    return "; ".join(f"{error.field}: {error.reason}" for error in errors)


class RowWriter:
    """Writes records in the format the path's extension names; import reads back exactly this.

    ``with_reasons`` adds the ``rejected_because`` column (last) that rejects files carry.
    """

    def __init__(self, path: Path, *, with_reasons: bool = False) -> None:
        self.kind = file_format(path)
        self.count = 0
        self.fields = (*RECORD_FIELDS, REJECTED_BECAUSE) if with_reasons else tuple(RECORD_FIELDS)
        self._file = path.open("w", encoding="utf-8", newline="")
        self._csv = csv.writer(self._file, lineterminator="\n")
        if self.kind == "csv":
            self._csv.writerow(self.fields)

    def write(self, row: dict[str, Any]) -> None:
        if self.kind == "csv":
            self._csv.writerow([_csv_value(row.get(name)) for name in self.fields])
        else:
            data = {name: _json_value(row.get(name)) for name in self.fields}
            self._file.write(orjson.dumps(data).decode() + "\n")
        self.count += 1

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> RowWriter:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def write_rows(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    with RowWriter(path) as writer:
        for row in rows:
            writer.write(row)
    return writer.count
