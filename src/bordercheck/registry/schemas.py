"""The fields of a record as users send them (API, import files, command line), validated."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    StringConstraints,
    ValidationError,
    model_validator,
)

from bordercheck.documents.countries import normalise_country
from bordercheck.documents.numbers import normalise_number, split_serial
from bordercheck.documents.types import DocumentType, Status, TypeFamily, family_of
from bordercheck.errors import FieldError
from bordercheck.inputs import Input

# The contract's field order: CSV header, JSON Lines keys and exports all follow it.
RECORD_FIELDS: tuple[str, ...] = (
    "document_number",
    "issuing_country",
    "document_type",
    "status",
    "blank",
    "serial_end",
    "issue_date",
    "expiry_date",
    "event_date",
    "event_place",
    "event_country",
    "circumstances",
    "holder_surname",
    "holder_given_names",
    "holder_birth_date",
    "holder_nationality",
    "incident_ref",
)
_FIELD_SET = frozenset(RECORD_FIELDS)
HOLDER_FIELDS = ("holder_surname", "holder_given_names", "holder_birth_date", "holder_nationality")
MAX_RANGE_SIZE = 100_000


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


DocumentNumber = Annotated[str, AfterValidator(normalise_number)]
Country = Annotated[str, AfterValidator(normalise_country)]
Text100 = Annotated[str, StringConstraints(max_length=100)]
Text200 = Annotated[str, StringConstraints(max_length=200)]
Text2000 = Annotated[str, StringConstraints(max_length=2000)]


class RecordFields(Input):
    """Everything a bureau reports about one document or one range of blank documents."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    document_number: DocumentNumber
    issuing_country: Country
    document_type: Annotated[DocumentType, BeforeValidator(_lower)]
    status: Annotated[Status, BeforeValidator(_lower)]
    blank: bool = False
    serial_end: DocumentNumber | None = None
    issue_date: date | None = None
    expiry_date: date | None = None
    event_date: date | None = None
    event_place: Text200 | None = None
    event_country: Country | None = None
    circumstances: Text2000 | None = None
    holder_surname: Text200 | None = None
    holder_given_names: Text200 | None = None
    holder_birth_date: date | None = None
    holder_nationality: Country | None = None
    incident_ref: Text100 | None = None

    @model_validator(mode="before")
    @classmethod
    def _empty_means_absent(cls, data: Any) -> Any:
        # Files leave fields empty rather than omit them; an empty field is an absent one.
        if not isinstance(data, dict):
            return data
        return {
            name: value
            for name, value in data.items()
            if name not in _FIELD_SET
            or (value is not None and not (isinstance(value, str) and not value.strip()))
        }

    @model_validator(mode="after")
    def _consistent(self) -> RecordFields:
        if self.serial_end is not None:
            check_range(self.document_number, self.serial_end, blank=self.blank)
        holder = (
            self.holder_surname,
            self.holder_given_names,
            self.holder_birth_date,
            self.holder_nationality,
        )
        if self.blank and any(value is not None for value in holder):
            raise ValueError("a blank document has no holder; leave the holder_ fields empty")
        if self.issue_date and self.expiry_date and self.expiry_date < self.issue_date:
            raise ValueError("expiry_date is before issue_date")
        tomorrow = _tomorrow()
        for name, value in (
            ("event_date", self.event_date),
            ("issue_date", self.issue_date),
            ("holder_birth_date", self.holder_birth_date),
        ):
            if value is not None and value > tomorrow:
                raise ValueError(f"{name} {value.isoformat()} is in the future")
        return self

    @property
    def type_family(self) -> TypeFamily:
        return family_of(self.document_type)

    @property
    def key(self) -> tuple[str, str, str]:
        """What makes two records the same document: number, issuing country, type family."""
        return (self.document_number, self.issuing_country, self.type_family.value)

    def as_row(self) -> dict[str, Any]:
        """The fields as database columns (enums as their values)."""
        row = {name: getattr(self, name) for name in RECORD_FIELDS}
        row["document_type"] = self.document_type.value
        row["status"] = self.status.value
        row["type_family"] = family_of(self.document_type).value
        return row


def _tomorrow() -> date:
    return date.today() + timedelta(days=1)


def check_range(first: str, last: str, *, blank: bool) -> None:
    if not blank:
        raise ValueError("serial_end is only for a range of blank documents (blank=true)")
    prefix, start, width = split_serial(first)
    end_prefix, end, end_width = split_serial(last)
    if (end_prefix, end_width) != (prefix, width):
        raise ValueError(
            f"serial_end {last} must have the same prefix and length as {first} "
            f"(e.g. {prefix}{str(start + 1).zfill(width)})"
        )
    if end < start:
        raise ValueError(f"serial_end {last} comes before document_number {first}")
    if end - start + 1 > MAX_RANGE_SIZE:
        raise ValueError(
            f"a range holds at most {MAX_RANGE_SIZE:,} documents; "
            f"this one holds {end - start + 1:,}"
        )


def field_errors(error: ValidationError, line: int | None = None) -> list[FieldError]:
    """Pydantic's errors as (field, reason) pairs a person can act on."""
    result = []
    for item in error.errors(include_url=False):
        loc = item["loc"]
        name = str(loc[0]) if loc else "record"
        reason = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            reason = "is not a record field"
        elif item["type"] == "missing":
            reason = "is required"
        elif item["type"] in {"enum", "literal_error"}:
            reason = f"{item.get('input')!r} is not one of: " + reason.split("Input should be ")[-1]
        result.append(FieldError(field=name, reason=reason, line=line))
    return result
