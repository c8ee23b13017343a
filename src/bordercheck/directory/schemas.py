"""What a directory entry may hold, checked field by field (each error names its field)."""

from __future__ import annotations

import functools
import re
import zoneinfo
from datetime import date
from typing import Annotated, TypeVar

import pycountry
from pydantic import AfterValidator, ConfigDict, Field, StringConstraints

from bordercheck.directory.models import Topic
from bordercheck.inputs import Input

T = TypeVar("T")

# A name, a function: printable text on one line (it goes into vCards and CSV files).
_LINE = re.compile(r"[^\x00-\x1f\x7f]+")
# E.164: a "+", the country calling code and the number, 8 to 15 digits in all. Spaces,
# dashes, dots and brackets are allowed when typing it and dropped when storing it.
_PHONE_SEPARATORS = re.compile(r"[\s\-.()/]")
_PHONE = re.compile(r"\+[1-9][0-9]{7,14}")
# Deliberately plain: one "@", no spaces, a dot in the domain. Whether it reaches someone
# is for the bureau to confirm, not for a pattern.
_EMAIL = re.compile(
    r"[^@\s\"<>(),;:]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+"
)


@functools.cache
def language_codes() -> frozenset[str]:
    """ISO 639-1: the two-letter language codes."""
    return frozenset(lang.alpha_2 for lang in pycountry.languages if hasattr(lang, "alpha_2"))


@functools.cache
def time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _one_line(value: str) -> str:
    if not _LINE.fullmatch(value):
        raise ValueError("must be one line of text without control characters")
    return value


def _phone(value: str) -> str:
    number = _PHONE_SEPARATORS.sub("", value)
    if number.startswith("00"):
        number = "+" + number[2:]
    if not _PHONE.fullmatch(number):
        raise ValueError(
            f"{value!r} is not an international phone number: '+', the country code, "
            "then the number (8 to 15 digits in all), e.g. +49 611 55-0"
        )
    return number


def _email(value: str) -> str:
    if len(value) > 254 or not _EMAIL.fullmatch(value):
        raise ValueError(f"{value!r} is not an e-mail address")
    local, domain = value.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


def _language(value: str) -> str:
    code = value.strip().lower()
    if code not in language_codes():
        raise ValueError(f"{value!r} is not an ISO 639-1 language code (two letters, e.g. en)")
    return code


def _time_zone(value: str) -> str:
    if value not in time_zones():
        raise ValueError(f"{value!r} is not an IANA time zone, e.g. Europe/Berlin")
    return value


def _distinct(values: list[T]) -> list[T]:
    return list(dict.fromkeys(values))


Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_one_line),
]
Hours = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(_one_line),
]
Phone = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=40), AfterValidator(_phone)
]
Email = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_email)]
Language = Annotated[str, AfterValidator(_language)]
TimeZone = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_time_zone)]
Topics = Annotated[
    list[Topic], Field(min_length=1, max_length=len(Topic)), AfterValidator(_distinct)
]
Languages = Annotated[list[Language], Field(min_length=1, max_length=20), AfterValidator(_distinct)]


class EntryFields(Input):
    """A focal point, as a bureau enters it."""

    model_config = ConfigDict(extra="forbid")

    name: Text = Field(examples=["Anna Keller"])
    function: Text = Field(examples=["Focal point, migrant smuggling"])
    unit: Text = Field(examples=["Unit for smuggling of migrants, BKA"])
    topics: Topics = Field(examples=[["migrant_smuggling", "document_fraud"]])
    languages: Languages = Field(
        description="ISO 639-1 codes, the first the preferred one.", examples=[["de", "en"]]
    )
    phone: Phone = Field(
        description="International format, stored as E.164.", examples=["+49 611 55-0"]
    )
    email: Email = Field(examples=["smuggling@bka.example"])
    hours: Hours = Field(
        description="When the focal point answers.", examples=["Mon-Fri 08:00-17:00"]
    )
    time_zone: TimeZone = Field(
        description="IANA time zone of the hours.", examples=["Europe/Berlin"]
    )
    last_confirmed: date | None = Field(
        default=None, description="When the bureau last confirmed the entry; default today."
    )


class EntryChanges(Input):
    """The fields to change; those left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    name: Text | None = None
    function: Text | None = None
    unit: Text | None = None
    topics: Topics | None = None
    languages: Languages | None = None
    phone: Phone | None = None
    email: Email | None = None
    hours: Hours | None = None
    time_zone: TimeZone | None = None
