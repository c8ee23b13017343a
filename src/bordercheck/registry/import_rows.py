"""Checking the rows of an import file on their own, without the database.

Rows become compact tuples. A pydantic model per row costs more than writing the row does, so
rows whose values are already in their normal form (nearly all of them) are checked with plain
string tests. Whatever this fast path is not sure of goes to ``RecordFields``, which decides
and words the errors; the fast path only ever accepts what the model accepts, with the same
values. ``FileChecks`` adds the rules that span rows: no document twice, no overlapping ranges.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from pydantic import ValidationError

from bordercheck.auth.actors import Actor
from bordercheck.documents.countries import normalise_country
from bordercheck.documents.numbers import normalise_number, split_serial
from bordercheck.documents.types import DocumentType, Status, family_of
from bordercheck.errors import BordercheckError, FieldError
from bordercheck.registry.schemas import RECORD_FIELDS, RecordFields, check_range, field_errors

# The values a file gives a record, in the records table's column order. Dates are ISO text,
# which is what SQLite stores and what PostgreSQL's COPY reads.
VALUE_COLUMNS: tuple[str, ...] = (*RECORD_FIELDS[:3], "type_family", *RECORD_FIELDS[3:])
# The same for every record an import creates (see import_writer.new_record_values).
NEW_RECORD_COLUMNS: tuple[str, ...] = (
    "withdrawn_key",
    "version",
    "last_change",
    "review_due",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
)
# A checked row is a list in the order of these columns, ready to insert; its first item
# holds the row's line until the writer puts the record's id there.
ROW_COLUMNS: tuple[str, ...] = ("id", "bureau_id", *VALUE_COLUMNS, *NEW_RECORD_COLUMNS)
Row = list[Any]
Values = tuple[Any, ...]
Key = tuple[str, str, str]

_INDEX = {name: index for index, name in enumerate(ROW_COLUMNS)}
NUMBER = _INDEX["document_number"]
COUNTRY = _INDEX["issuing_country"]
FAMILY = _INDEX["type_family"]
BLANK = _INDEX["blank"]
SERIAL_END = _INDEX["serial_end"]
VALUES = slice(NUMBER, NUMBER + len(VALUE_COLUMNS))
_VALUE_INDEX = {name: index for index, name in enumerate(VALUE_COLUMNS)}
VALUE_DATES = tuple(_VALUE_INDEX[name] for name in VALUE_COLUMNS if name.endswith("_date"))
VALUE_BLANK = _VALUE_INDEX["blank"]
_FIELDS = frozenset(RECORD_FIELDS)

_PLAIN_NUMBER = re.compile(r"[A-Z0-9]{1,24}").fullmatch
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}").fullmatch
# Only spellings the model certainly reads the same way; it judges the others.
_BOOLS: dict[object, bool] = {"true": True, "false": False, "True": True, "False": False}
# Caches of spellings already judged; bounded, as a hostile file could hold many.
_CACHE_LIMIT = 10_000
_DATE_CACHE_LIMIT = 200_000


class _Unsure(Exception):
    """The fast path cannot vouch for a value; the model decides."""


def row_key(row: Row) -> Key:
    """What makes two records the same document: number, issuing country, type family."""
    return (row[NUMBER], row[COUNTRY], row[FAMILY])


def values_key(values: Values) -> Key:
    return (values[0], values[1], values[3])


def values_fields(values: Values) -> dict[str, Any]:
    """The values as record fields (``RecordFields`` input)."""
    return {name: values[_VALUE_INDEX[name]] for name in RECORD_FIELDS}


def values_from_fields(fields: RecordFields) -> Values:
    columns = fields.as_row()
    return tuple(
        value.isoformat() if isinstance(value, date) else value
        for value in (columns[name] for name in VALUE_COLUMNS)
    )


class RowParser:
    """Turns raw rows into ``Values``; raises pydantic's ValidationError for invalid ones."""

    def __init__(self) -> None:
        # Dates after this are checked by the model, whose "tomorrow" is always as late.
        self._tomorrow = (date.today() + timedelta(days=1)).isoformat()
        self._countries: dict[object, str] = {}
        self._types: dict[object, tuple[str, str]] = {}
        self._statuses: dict[object, str] = {}
        self._dates: set[str] = set()

    def parse(self, raw: dict[str, Any]) -> Values:
        try:
            return self._fast(raw)
        except _Unsure:
            return values_from_fields(RecordFields.model_validate(raw))

    def _fast(self, raw: dict[str, Any]) -> Values:
        if not raw.keys() <= _FIELDS:
            raise _Unsure
        get = raw.get
        number = _number(get("document_number"))
        if number is None:
            raise _Unsure
        country = self._country(get("issuing_country"))
        if country is None:
            raise _Unsure
        document_type, family = self._type(get("document_type"))
        status = self._status(get("status"))
        blank = get("blank")
        if blank is None or blank == "":
            blank = False
        elif type(blank) is str:
            blank = _BOOLS.get(blank)
            if blank is None:
                raise _Unsure
        elif type(blank) is not bool:
            raise _Unsure
        serial_end = _number(get("serial_end"))
        issue_date = self._date(get("issue_date"))
        expiry_date = self._date(get("expiry_date"))
        event_date = self._date(get("event_date"))
        event_place = _text(get("event_place"), 200)
        event_country = self._country(get("event_country"))
        circumstances = _text(get("circumstances"), 2000)
        holder_surname = _text(get("holder_surname"), 200)
        holder_given_names = _text(get("holder_given_names"), 200)
        holder_birth_date = self._date(get("holder_birth_date"))
        holder_nationality = self._country(get("holder_nationality"))
        incident_ref = _text(get("incident_ref"), 100)
        # RecordFields._consistent, for rows that pass it; the model words the failures.
        if serial_end is not None:
            try:
                check_range(number, serial_end, blank=blank)
            except ValueError:
                raise _Unsure from None
        if blank and (
            holder_surname or holder_given_names or holder_birth_date or holder_nationality
        ):
            raise _Unsure
        if issue_date and expiry_date and expiry_date < issue_date:
            raise _Unsure
        tomorrow = self._tomorrow
        # ISO dates with four-digit years compare as text just as they do as dates.
        for value in (event_date, issue_date, holder_birth_date):
            if value is not None and value > tomorrow:
                raise _Unsure
        return (
            number,
            country,
            document_type,
            family,
            status,
            blank,
            serial_end,
            issue_date,
            expiry_date,
            event_date,
            event_place,
            event_country,
            circumstances,
            holder_surname,
            holder_given_names,
            holder_birth_date,
            holder_nationality,
            incident_ref,
        )

    def _country(self, value: object) -> str | None:
        """The code, None when absent; _Unsure when the model must judge it."""
        if value is None or value == "":
            return None
        if type(value) is not str:
            raise _Unsure
        code = self._countries.get(value)
        if code is not None:
            return code
        if value.strip() != value:
            raise _Unsure
        try:
            code = normalise_country(value)
        except ValueError:
            raise _Unsure from None
        if len(self._countries) < _CACHE_LIMIT:
            self._countries[value] = code
        return code

    def _type(self, value: object) -> tuple[str, str]:
        if type(value) is not str:
            raise _Unsure
        known = self._types.get(value)
        if known is not None:
            return known
        try:
            # As the model's before-validator reads it.
            document_type = DocumentType(value.strip().lower())
        except ValueError:
            raise _Unsure from None
        known = (document_type.value, family_of(document_type).value)
        if len(self._types) < _CACHE_LIMIT:
            self._types[value] = known
        return known

    def _date(self, value: object) -> str | None:
        if type(value) is str:
            if value in self._dates:
                return value
            if value == "":
                return None
            if not _ISO_DATE(value):
                raise _Unsure
            try:
                date.fromisoformat(value)
            except ValueError:
                raise _Unsure from None
            if len(self._dates) < _DATE_CACHE_LIMIT:
                self._dates.add(value)
            return value
        if value is None:
            return None
        if type(value) is date:
            return value.isoformat()
        raise _Unsure

    def _status(self, value: object) -> str:
        if type(value) is not str:
            raise _Unsure
        known = self._statuses.get(value)
        if known is not None:
            return known
        try:
            status = Status(value.strip().lower()).value
        except ValueError:
            raise _Unsure from None
        if len(self._statuses) < _CACHE_LIMIT:
            self._statuses[value] = status
        return status


def _number(value: object) -> str | None:
    if value is None or value == "":
        return None
    if type(value) is not str:
        raise _Unsure
    if _PLAIN_NUMBER(value):
        return value
    if value.strip() != value:
        raise _Unsure
    try:
        return normalise_number(value)
    except ValueError:
        raise _Unsure from None


def _text(value: object, max_length: int) -> str | None:
    if value is None or value == "":
        return None
    if type(value) is not str or len(value) > max_length or value.strip() != value:
        raise _Unsure
    return value


class FileChecks:
    """Everything one file's rows must satisfy before the database is asked anything."""

    def __init__(self, actor: Actor, bureaus: dict[str, int], new_record: Values) -> None:
        """``bureaus``: bureau id by country; ``new_record``: the NEW_RECORD_COLUMNS values."""
        self.actor = actor
        self.bureaus = bureaus
        self.new_record = new_record
        self._parser = RowParser()
        self._refusals: dict[str, str | None] = {}
        # (country, family) → number → first line: cheaper in memory than a tuple per key.
        self._seen: dict[tuple[str, str], dict[str, int]] = {}
        self._ranges: dict[tuple[str, str, str, int], list[tuple[int, int, int]]] = {}

    def check(self, line: int, raw: dict[str, Any]) -> tuple[Row | None, list[FieldError]]:
        """The row ready to insert, or None and the reasons it is refused."""
        if "__error__" in raw:
            return None, [FieldError(field="row", reason=str(raw["__error__"]), line=line)]
        try:
            values = self._parser.parse(raw)
        except ValidationError as exc:
            return None, field_errors(exc, line)
        row = [line, 0, *values, *self.new_record]
        country = row[COUNTRY]
        refusal = self._refusal(country)
        if refusal is not None:
            return None, [FieldError(field="issuing_country", reason=refusal, line=line)]
        row[1] = self.bureaus[country]
        group = (country, row[FAMILY])
        seen = self._seen.get(group)
        if seen is None:
            seen = self._seen[group] = {}
        first = seen.setdefault(row[NUMBER], line)
        if first != line:
            reason = f"the same document as line {first} (number, country and type family)"
            return None, [FieldError(field="document_number", reason=reason, line=line)]
        if row[SERIAL_END] is not None:
            clash = self._range_clash(row, line)
            if clash is not None:
                reason = f"this range overlaps the range on line {clash}"
                return None, [FieldError(field="serial_end", reason=reason, line=line)]
        return row, []

    def _refusal(self, country: str) -> str | None:
        if country not in self._refusals:
            reason = None
            try:
                self.actor.ensure_may_write_records_of(country)
            except BordercheckError as exc:
                reason = exc.message
            if reason is None and country not in self.bureaus:
                reason = (
                    f"there is no bureau for {country}; "
                    f"add it with `bordercheck bureaus add {country}`"
                )
            self._refusals[country] = reason
        return self._refusals[country]

    def _range_clash(self, row: Row, line: int) -> int | None:
        prefix, start, width = split_serial(row[NUMBER])
        end = split_serial(row[SERIAL_END])[1]
        ranges = self._ranges.setdefault((row[COUNTRY], row[FAMILY], prefix, width), [])
        for other_start, other_end, other_line in ranges:
            if other_start <= end and start <= other_end:
                return other_line
        ranges.append((start, end, line))
        return None
