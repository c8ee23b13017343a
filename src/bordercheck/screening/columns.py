"""Batches sent as columns (one list per field): checked a column at a time, screened by the
matcher's vectorised pass, and their clean answers and log entries made as columns too.

The answers are those of the same documents sent as ``documents`` (the same normalisation,
rules and policy; ``tests/screening/test_columns.py`` compares them): what differs is the
work per document, which a batch of ten thousand pays ten thousand times.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, TypeVar

import numpy as np
import orjson

from bordercheck.documents.countries import InvalidCountry
from bordercheck.documents.numbers import (
    MAX_NUMBER_LENGTH,
    InvalidDocumentNumber,
    normalise_number,
)
from bordercheck.documents.types import InvalidDocumentType, parse_type_or_family
from bordercheck.errors import FieldError, ValidationFailed
from bordercheck.screening.matcher import Columns, Indexed, Query, screen_columns
from bordercheck.screening.query import normalised_country
from bordercheck.screening.querylog import (
    QUERY_ID_LENGTH,
    CleanQueries,
    LoggedQuery,
    new_query_ids,
)
from bordercheck.screening.schemas import ColumnBatchRequest, DocumentColumns
from bordercheck.screening.service import (
    MACHINE_POLICY,
    AnswerContext,
    Asker,
    PreparedRequest,
    Screened,
    answer_screening,
    no_restrictions,
)
from bordercheck.timestamps import utcnow

# Errors listed in a 422, at most: a file gone wrong would otherwise answer 10,000 of them.
MAX_ERRORS: Final = 100
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class NormalColumns:
    """The columns as the matcher and the log take them: numbers and countries normalised,
    types parsed (their names, as logged)."""

    numbers: list[str]
    countries: list[str]
    document_types: list[str | None] | None


def normalise_columns(columns: DocumentColumns) -> NormalColumns:
    """The columns normalised as ``service.prepare`` normalises each document's fields; or a
    422 naming every value at fault by column and position (up to ``MAX_ERRORS``)."""
    size = len(columns.document_number)
    errors = [
        FieldError(f"columns.{name}", f"{len(values)} values for {size} document numbers")
        for name, values in (
            ("issuing_country", columns.issuing_country),
            ("document_type", columns.document_type),
        )
        if values is not None and len(values) != size
    ]
    if errors:
        raise ValidationFailed(errors=errors)
    numbers = _numbers(columns.document_number, errors)
    countries = _by_value(columns.issuing_country, "issuing_country", normalised_country, errors)
    types = columns.document_type
    if types is not None:
        types = _by_value(types, "document_type", _type_name, errors)
    if errors:
        raise ValidationFailed(errors=errors[:MAX_ERRORS])
    return NormalColumns(numbers, countries, types)


def _numbers(raw: list[str], errors: list[FieldError]) -> list[str]:
    """Numbers normalised. Nearly every batch is already as numbers are compared (capital
    letters and digits): said of the whole column at once, by its values joined, so that no
    work is done per number unless one is not."""
    joined = "".join(raw)
    if (
        joined.isascii()
        and joined.isalnum()
        and joined == joined.upper()
        and min(map(len, raw)) > 0
        and max(map(len, raw)) <= MAX_NUMBER_LENGTH
    ):
        return raw
    numbers = list(raw)
    for position, number in enumerate(raw):
        if 0 < len(number) <= MAX_NUMBER_LENGTH and number.isascii() and number.isalnum():
            numbers[position] = number.upper()  # what normalise_number makes of it
            continue
        try:
            numbers[position] = normalise_number(number)
        except InvalidDocumentNumber as exc:
            if len(errors) < MAX_ERRORS:
                errors.append(FieldError(f"columns.document_number.{position}", str(exc)))
    return numbers


def _type_name(raw: str | None) -> str | None:
    return None if raw is None else parse_type_or_family(raw).value


_REFUSED: Final = (InvalidCountry, InvalidDocumentType)


def _by_value(
    raw: list[T], column: str, normalise: Callable[[T], T], errors: list[FieldError]
) -> list[T]:
    """A column of few distinct values (countries, types), each normalised once; the column
    itself when every value is as normal already (the common case: no work per document)."""
    normal: dict[T, T] = {}
    refused: dict[T, str] = {}
    for value in set(raw):
        try:
            normal[value] = normalise(value)
        except _REFUSED as exc:
            refused[value] = str(exc)
    if refused:
        for position, value in enumerate(raw):
            if value in refused and len(errors) < MAX_ERRORS:
                errors.append(FieldError(f"columns.{column}.{position}", refused[value]))
        return raw
    if all(value == normalised for value, normalised in normal.items()):
        return raw
    return [normal[value] for value in raw]


@dataclass(frozen=True, slots=True)
class ColumnAnswers:
    """A batch sent as columns, screened: the documents that matched answered one by one, the
    clean ones kept as columns (their answers are all alike but for the query id)."""

    size: int
    query_ids: bytes  # QUERY_ID_LENGTH hexadecimal characters a document, in order
    matched: dict[int, Screened]  # by position, in order
    clean: CleanQueries

    @property
    def logged(self) -> list[LoggedQuery]:
        """The log entries of the documents that matched (the clean ones: ``clean``)."""
        return [screened.logged for screened in self.matched.values()]

    def full_json(self) -> bytes:
        """``{"results": [...]}``, every document's answer in order, as ``orjson`` would
        write the answers' dicts: the clean ones stamped from one template at once."""
        rows = _clean_rows(self.query_ids, self.size)
        width = len(_CLEAN_PREFIX) + QUERY_ID_LENGTH + len(_CLEAN_SUFFIX)
        parts = [b'{"results":[']
        start = 0
        for position, screened in self.matched.items():
            parts += rows[start * width : position * width], orjson.dumps(screened.answer), b","
            start = position + 1
        parts.append(rows[start * width :])
        return b"".join(parts)[:-1] + b"]}"  # the last comma

    def matches_json(self) -> bytes:
        """``{"screened", "results"}``, the answers of the documents that matched only."""
        results = [
            {**screened.answer, "position": position} for position, screened in self.matched.items()
        ]
        return orjson.dumps({"screened": self.size, "results": results})


# A clean answer, as orjson writes {"query_id": ..., "result": "no_hit", "matches": []}
# (tests/screening/test_columns.py checks them against each other), and its comma.
_CLEAN_PREFIX: Final = b'{"query_id":"'
_CLEAN_SUFFIX: Final = b'","result":"no_hit","matches":[]},'


def _clean_rows(query_ids: bytes, size: int) -> bytes:
    """Every document's clean answer, each with its query id, end to end."""
    start, end = len(_CLEAN_PREFIX), len(_CLEAN_PREFIX) + QUERY_ID_LENGTH
    rows = np.empty((size, end + len(_CLEAN_SUFFIX)), np.uint8)
    rows[:, :start] = np.frombuffer(_CLEAN_PREFIX, np.uint8)
    rows[:, start:end] = np.frombuffer(query_ids, np.uint8).reshape(size, QUERY_ID_LENGTH)
    rows[:, end:] = np.frombuffer(_CLEAN_SUFFIX, np.uint8)
    return rows.tobytes()


def screen_column_batch(
    index: Indexed,
    body: ColumnBatchRequest,
    asker: Asker,
    *,
    source: str,
    withheld_from: Callable[[int], frozenset[str]] = no_restrictions,
) -> ColumnAnswers:
    """Screen a batch sent as columns: as ``screen_requests`` does the same documents."""
    columns = normalise_columns(body.columns)
    numbers, countries, types = columns.numbers, columns.countries, columns.document_types
    size = len(numbers)
    results = screen_columns(index, Columns(numbers, countries, types), MACHINE_POLICY)
    context = AnswerContext(asker, source, utcnow(), withheld_from, None)
    query_ids = new_query_ids(size).encode("ascii")
    matched = {}
    for position, screening in enumerate(results):
        if not screening.matches:
            continue
        kind = types[position] if types is not None else None
        query = Query(numbers[position], countries[position], kind)
        query_id = query_ids[position * QUERY_ID_LENGTH : (position + 1) * QUERY_ID_LENGTH]
        matched[position] = answer_screening(
            PreparedRequest(query, body, kind, None), screening, context, query_id.decode()
        )
    positions = list(matched)
    operation = None if body.operation_id is None else str(body.operation_id)
    clean = CleanQueries(
        _ids_without(query_ids, positions),
        context.now, asker.kind, asker.name, asker.bureau_code, body.location, operation, source,
        _without(numbers, positions), _without(countries, positions),
        None if types is None else _without(types, positions),
    )  # fmt: skip
    return ColumnAnswers(size, query_ids, matched, clean)


def _without(values: list[T], positions: list[int]) -> list[T]:
    """``values`` less the items at ``positions`` (ascending, a few)."""
    if not positions:
        return values
    kept: list[T] = []
    start = 0
    for position in positions:
        kept += values[start:position]
        start = position + 1
    return kept + values[start:]


def _ids_without(query_ids: bytes, positions: list[int]) -> str:
    """The query ids less those at ``positions`` (ascending, a few), as text."""
    step = QUERY_ID_LENGTH
    kept = []
    start = 0
    for position in positions:
        kept.append(query_ids[start * step : position * step])
        start = position + 1
    kept.append(query_ids[start * step :])
    return b"".join(kept).decode("ascii")
