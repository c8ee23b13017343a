"""The fields of a record as users send them (API, import files, command line), validated."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StringConstraints,
    ValidationError,
    model_validator,
)

from bordercheck.documents.countries import normalise_country
from bordercheck.documents.numbers import normalise_number, split_serial
from bordercheck.documents.types import DocumentType, TypeFamily, family_of
from bordercheck.errors import FieldError
from bordercheck.registry.models import Status

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
HOLDER_FIELDS = ("holder_surname", "holder_given_names", "holder_birth_date", "holder_nationality")
MAX_RANGE_SIZE = 100_000


def _empty_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _empty_to_false(value: Any) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        return False
    return value


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


DocumentNumber = Annotated[str, AfterValidator(normalise_number)]
Country = Annotated[str, AfterValidator(normalise_country)]
OptionalCountry = Annotated[Country | None, BeforeValidator(_empty_to_none)]
OptionalDate = Annotated[date | None, BeforeValidator(_empty_to_none)]
OptionalNumber = Annotated[DocumentNumber | None, BeforeValidator(_empty_to_none)]


def _text(max_length: int) -> Any:
    bounded = Annotated[str, StringConstraints(max_length=max_length)]
    return Annotated[bounded | None, BeforeValidator(_empty_to_none)]


class RecordFields(BaseModel):
    """Everything a bureau reports about one document or one range of blank documents."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    document_number: DocumentNumber
    issuing_country: Country
    document_type: Annotated[DocumentType, BeforeValidator(_lower)]
    status: Annotated[Status, BeforeValidator(_lower)]
    blank: Annotated[bool, BeforeValidator(_empty_to_false)] = False
    serial_end: OptionalNumber = None
    issue_date: OptionalDate = None
    expiry_date: OptionalDate = None
    event_date: OptionalDate = None
    event_place: _text(200) = None
    event_country: OptionalCountry = None
    circumstances: _text(2000) = None
    holder_surname: _text(200) = None
    holder_given_names: _text(200) = None
    holder_birth_date: OptionalDate = None
    holder_nationality: OptionalCountry = None
    incident_ref: _text(100) = None

    @model_validator(mode="after")
    def _consistent(self) -> RecordFields:
        if self.serial_end is not None:
            _check_range(self.document_number, self.serial_end, blank=self.blank)
        if self.blank and any(getattr(self, name) is not None for name in HOLDER_FIELDS):
            raise ValueError("a blank document has no holder; leave the holder_ fields empty")
        if self.issue_date and self.expiry_date and self.expiry_date < self.issue_date:
            raise ValueError("expiry_date is before issue_date")
        tomorrow = date.today() + timedelta(days=1)
        for name in ("event_date", "issue_date", "holder_birth_date"):
            value = getattr(self, name)
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
        row = self.model_dump()
        row["document_type"] = self.document_type.value
        row["status"] = self.status.value
        row["type_family"] = self.type_family.value
        return row


def _check_range(first: str, last: str, *, blank: bool) -> None:
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
            f"a range holds at most {MAX_RANGE_SIZE:,} documents; this one holds {end - start + 1:,}"
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
