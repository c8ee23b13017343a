"""Queries: what a border officer or system asks, normalised for matching, one or many."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final, NamedTuple

import numpy as np
from numpy.typing import NDArray

from bordercheck.documents.countries import InvalidCountry, normalise_country
from bordercheck.documents.numbers import (
    MAX_NUMBER_LENGTH,
    InvalidDocumentNumber,
    normalise_number,
)
from bordercheck.documents.types import (
    DocumentType,
    InvalidDocumentType,
    TypeFamily,
    family_of,
    parse_type_or_family,
)
from bordercheck.errors import InvalidInput
from bordercheck.screening.keys import WIDTH, country_code
from bordercheck.screening.records import ALL_FAMILIES, family_bit


class InvalidQuery(InvalidInput):
    """A query whose number, country, type or check digit cannot be read."""


@dataclass(frozen=True, slots=True)
class Query:
    """A document to screen. ``document_type`` may be a type, a family or None (any family).

    ``check_digit`` is the number's check digit as printed in the MRZ. ``birth_date`` and
    ``nationality`` are accepted and not used: the index holds no holder data.
    """

    number: str
    country: str
    document_type: DocumentType | TypeFamily | str | None = None
    check_digit: str | None = None
    birth_date: date | None = None
    nationality: str | None = None


class Prepared(NamedTuple):
    """A query normalised: number, country, family bits, check digit (a tuple: built fast)."""

    number: str
    country: str
    families: int
    check_digit: str | None


def prepare(query: Query, position: int | None = None) -> Prepared:
    """Normalise a query, or raise InvalidQuery saying what is wrong (and where in a batch)."""
    try:
        return Prepared(
            normalised_number(query.number),
            normalised_country(query.country),
            families_of(query.document_type),
            normalised_check_digit(query.check_digit),
        )
    except (InvalidDocumentNumber, InvalidCountry, InvalidDocumentType) as error:
        where = "" if position is None else f"document {position}: "
        raise InvalidQuery(f"{where}{error}", position=position) from None


def normalised_number(raw: str) -> str:
    text = raw.upper() if isinstance(raw, str) else ""
    if len(text) <= MAX_NUMBER_LENGTH and text.isascii() and text.isalnum():
        return text  # the common case, without the regular expressions
    return normalise_number(raw if isinstance(raw, str) else "")


_COUNTRIES: dict[str, str] = {}
_FAMILIES: dict[object, int] = {None: ALL_FAMILIES}
_CACHE_LIMIT: Final = 4096  # callers choose the spellings: keep the caches bounded


def normalised_country(raw: str) -> str:
    country = _COUNTRIES.get(raw)
    if country is None:
        if not isinstance(raw, str):
            raise InvalidCountry(f"{raw!r} is not a country code")
        country = normalise_country(raw)
        if len(_COUNTRIES) > _CACHE_LIMIT:
            _COUNTRIES.clear()
        _COUNTRIES[raw] = country
    return country


def families_of(kind: DocumentType | TypeFamily | str | None) -> int:
    """The family bits a query's type, family or None matches (a type matches its family)."""
    bits = _FAMILIES.get(kind)
    if bits is None:
        if not isinstance(kind, str):
            raise InvalidDocumentType(f"{kind!r} is not a document type or family")
        parsed = parse_type_or_family(kind)
        bits = family_bit(family_of(parsed) if isinstance(parsed, DocumentType) else parsed)
        if len(_FAMILIES) <= _CACHE_LIMIT:
            _FAMILIES[kind] = bits
    return bits


def normalised_check_digit(raw: str | None) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or len(raw) != 1 or raw not in "0123456789":
        raise InvalidDocumentNumber(f"{raw!r} is not a check digit (0-9)")
    return raw


# Many queries at once ---------------------------------------------------------------------

# Each byte as a normalised number holds it: A-Z and 0-9 as they are, a-z upper-cased, NUL
# (padding) as 0, anything else 255 (the document takes the full rules, or is refused).
_NORMAL: Final = np.full(256, 255, np.uint8)
_NORMAL[0] = 0
for _c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ":
    _NORMAL[ord(_c)] = _NORMAL[ord(_c.lower())] = ord(_c)


def encode_numbers(queries: Sequence[Query]) -> tuple[NDArray[np.uint8], NDArray[np.intp]]:
    """Normalised numbers as a (n, 24) matrix and their lengths; odd ones normalised singly."""
    raw = [q.number for q in queries]
    n = len(raw)
    try:
        text = np.array(raw, dtype="S")
    except (UnicodeEncodeError, TypeError, ValueError):
        text = np.array([r if isinstance(r, str) and r.isascii() else "" for r in raw], dtype="S")
    take = min(text.dtype.itemsize, WIDTH)
    normal = _NORMAL[text.view(np.uint8).reshape(n, text.dtype.itemsize)[:, :take]]
    lengths = np.char.str_len(text).astype(np.intp)
    # A row is fine when every byte up to its length is a character (255 - 1 and 0 - 1 wrap
    # to 254 and 255): that rules out separators, other characters and NUL inside alike.
    fine = ((normal - np.uint8(1)) < 254).sum(axis=1) == lengths
    fine &= (lengths > 0) & (lengths <= WIDTH)
    matrix = np.zeros((n, WIDTH), np.uint8)
    matrix[:, :take] = normal
    for i in np.flatnonzero(~fine).tolist():
        number = prepare(queries[i], i).number  # the full rules, or an error naming the document
        matrix[i] = 0
        matrix[i, : len(number)] = np.frombuffer(number.encode("ascii"), np.uint8)
        lengths[i] = len(number)
    return matrix, lengths


def encode_countries(queries: Sequence[Query]) -> NDArray[np.uint32]:
    raws = [q.country for q in queries]
    codes = {}
    for raw in set(raws):
        try:
            codes[raw] = country_code(normalised_country(raw))
        except InvalidCountry:
            i = raws.index(raw)
            prepare(queries[i], i)  # raises, naming the first document with this country
            raise
    return np.fromiter(map(codes.__getitem__, raws), np.uint32, len(raws))


_VALID_NUMBER = "0"
_VALID_COUNTRY = "DEU"


def validate_types_and_check_digits(queries: Sequence[Query]) -> None:
    """Read only for candidates when screening many: check each distinct value once."""
    try:
        for kind in {q.document_type for q in queries}:
            families_of(kind)
        for check in {q.check_digit for q in queries}:
            normalised_check_digit(check)
    except (InvalidDocumentType, InvalidDocumentNumber):
        for i, query in enumerate(queries):  # find the first document at fault, and say so
            # Only the type and check digit are in question here: pair them with a number
            # and country known to be valid, so that the error names the right field.
            prepare(Query(_VALID_NUMBER, _VALID_COUNTRY, query.document_type, query.check_digit), i)
        raise
