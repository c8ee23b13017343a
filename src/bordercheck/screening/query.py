"""Queries: what a border officer or system asks, normalised for matching, one or many."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import date
from typing import Final, NamedTuple

import numpy as np
from numpy.typing import NDArray

from bordercheck.documents.countries import InvalidCountry, all_codes, normalise_country
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


class Query(NamedTuple):
    """A document to screen. ``document_type`` may be a type, a family or None (any family).

    ``check_digit`` is the number's check digit as printed in the MRZ. ``birth_date`` and
    ``nationality`` are accepted and not used: the index holds no holder data. A tuple,
    as batches make them by the ten thousand (twice as fast as a frozen dataclass).
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


class Columns(NamedTuple):
    """Many documents as one sequence per field, in the order of ``Query``'s (what a caller
    holding a table, a file or a passenger list has): read without a ``Query`` object per
    document. ``document_types`` or ``check_digits`` None: none given for any document."""

    numbers: Sequence[str]
    countries: Sequence[str]
    document_types: Sequence[DocumentType | TypeFamily | str | None] | None = None
    check_digits: Sequence[str | None] | None = None

    @classmethod
    def of(cls, queries: Sequence[Query]) -> Columns:
        return cls(
            [q.number for q in queries],
            [q.country for q in queries],
            [q.document_type for q in queries],
            [q.check_digit for q in queries],
        )

    @property
    def size(self) -> int:
        """How many documents; InvalidQuery if the columns are not all as long."""
        n = len(self.numbers)
        for name in ("countries", "document_types", "check_digits"):
            column = getattr(self, name)
            if column is not None and len(column) != n:
                raise InvalidQuery(f"{name}: {len(column)} values for {n} numbers")
        return n

    def query(self, i: int) -> Query:
        types, checks = self.document_types, self.check_digits
        return Query(
            self.numbers[i],
            self.countries[i],
            None if types is None else types[i],
            None if checks is None else checks[i],
        )

    def take(self, rows: Sequence[int]) -> Columns:
        """The documents at ``rows``, in that order."""
        types, checks = self.document_types, self.check_digits
        return Columns(
            [self.numbers[i] for i in rows],
            [self.countries[i] for i in rows],
            None if types is None else [types[i] for i in rows],
            None if checks is None else [checks[i] for i in rows],
        )

    def slice(self, start: int, stop: int) -> Columns:
        types, checks = self.document_types, self.check_digits
        return Columns(
            self.numbers[start:stop],
            self.countries[start:stop],
            None if types is None else types[start:stop],
            None if checks is None else checks[start:stop],
        )


def prepare(query: Query, position: int | None = None) -> Prepared:
    """Normalise a query, or raise InvalidQuery saying what is wrong (and where in a batch)."""
    try:
        return _new_prepared((
            normalised_number(query.number),
            normalised_country(query.country),
            families_of(query.document_type),
            normalised_check_digit(query.check_digit),
        ))  # fmt: skip
    except (InvalidDocumentNumber, InvalidCountry, InvalidDocumentType) as error:
        where = "" if position is None else f"document {position}: "
        raise InvalidQuery(f"{where}{error}", position=position) from None


_new_prepared: Final[Callable[[tuple[object, ...]], Prepared]] = functools.partial(
    tuple.__new__, Prepared
)


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
_NORMAL_BYTES: Final = _NORMAL.tobytes()


_BYTE_ONES: Final = 0x0101010101010101
# Row ``n``: a number of ``n`` characters as a byte mask (ones, then zeros), in 64-bit lanes.
_PREFIXES: Final = (np.tri(WIDTH + 1, WIDTH, -1, np.uint8).view(np.uint64)).copy()


def encode_columns(
    columns: Columns,
) -> tuple[NDArray[np.uint8], NDArray[np.intp], NDArray[np.uint32]]:
    """Numbers (matrix and lengths) and country codes of many documents, each field checked
    for all at once; InvalidQuery names the first document that cannot be read."""
    n = columns.size
    try:
        validate_types_and_check_digits(columns)
        numbers, lengths = encode_numbers(columns)
        return numbers, lengths, encode_countries(columns)
    except InvalidQuery as error:
        # Fields are checked one after the other: an earlier document may fail another.
        for i in range(error.detail.get("position", n)):
            prepare(columns.query(i), i)
        raise


def encode_numbers(columns: Columns) -> tuple[NDArray[np.uint8], NDArray[np.intp]]:
    """Normalised numbers as a (n, 24) matrix and their lengths; odd ones normalised singly."""
    raw = columns.numbers
    n = len(raw)
    try:  # one byte wider than a number: a longer one shows there
        text = np.array(raw, dtype=f"S{WIDTH + 1}").view(np.uint8).reshape(n, WIDTH + 1)
    except (UnicodeEncodeError, TypeError, ValueError):
        ascii_only = [r if isinstance(r, str) and r.isascii() else "\0" for r in raw]
        text = np.array(ascii_only, dtype=f"S{WIDTH + 1}").view(np.uint8).reshape(n, WIDTH + 1)
    normal = text.tobytes().translate(_NORMAL_BYTES)  # twice as fast as indexing _NORMAL
    matrix = np.frombuffer(normal, np.uint8).reshape(n, WIDTH + 1)[:, :WIDTH].copy()
    # A row is fine when its bytes are characters up to its length and NUL after it: no
    # separator or other character (255 - 1 wraps to 254), no NUL inside, none too long.
    # Byte masks are read as three 64-bit lanes a row: comparisons and counts per lane.
    character = ((matrix - np.uint8(1)) < 254).view(np.uint64)
    occupied = (text[:, :WIDTH] != 0).view(np.uint64)
    counted = (character * np.uint64(_BYTE_ONES)) >> np.uint64(56)  # bytes set, per lane
    lengths = (counted[:, 0] + counted[:, 1] + counted[:, 2]).astype(np.intp)
    prefix = _PREFIXES[lengths]
    fine = (lengths > 0) & (text[:, WIDTH] == 0)
    for lane in range(WIDTH // 8):
        fine &= (character[:, lane] == prefix[:, lane]) & (occupied[:, lane] == prefix[:, lane])
    # numpy drops a string's trailing NULs, and writes other objects (None, 12) as text:
    # look for both here (joining refuses what is not a string).
    try:
        suspect = "\0" in "".join(raw)
    except TypeError:
        suspect = True
    if suspect:
        fine &= np.fromiter((isinstance(r, str) and "\0" not in r for r in raw), bool, n)
    for i in np.flatnonzero(~fine).tolist():
        number = prepare(columns.query(i), i).number  # the full rules, or an error naming it
        matrix[i] = 0
        matrix[i, : len(number)] = np.frombuffer(number.encode("ascii"), np.uint8)
        lengths[i] = len(number)
    return matrix, lengths


def encode_countries(columns: Columns) -> NDArray[np.uint32]:
    """Country codes of the documents; three capital letters looked up in a table at once,
    other spellings (``D``, ``fra``, ``FR``) normalised once each."""
    raws = columns.countries
    try:
        text = np.array(raws, dtype="S4").view(np.uint8).reshape(len(raws), 4)
    except (UnicodeEncodeError, TypeError, ValueError):
        return _countries_one_by_one(columns, range(len(raws)))
    letters = text[:, :3] - np.uint8(65)
    plain = (letters < 26).all(axis=1) & (text[:, 3] == 0)
    slot = letters.astype(np.intp) @ np.array([676, 26, 1])
    codes = _country_table()[np.where(plain, slot, 0)]
    odd = np.flatnonzero(~plain | (codes == 0))
    if len(odd):
        codes[odd] = _countries_one_by_one(columns, odd.tolist())
    return codes


def _countries_one_by_one(columns: Columns, positions: Sequence[int]) -> NDArray[np.uint32]:
    raws = [columns.countries[i] for i in positions]
    codes = {}
    for raw in set(raws):
        try:
            codes[raw] = country_code(normalised_country(raw))
        except InvalidCountry:
            at = positions[raws.index(raw)]
            prepare(columns.query(at), at)  # raises, naming the first document with this country
            raise
    return np.fromiter(map(codes.__getitem__, raws), np.uint32, len(raws))


@functools.cache
def _country_table() -> NDArray[np.uint32]:
    """Every three capital letters (AAA = 0 … ZZZ) → its country code if it is one, else 0
    (three capital letters are a code as they stand, or none: ``normalise_country``)."""
    table = np.zeros(26**3, np.uint32)
    for code in all_codes():
        a, b, c = (ord(letter) - 65 for letter in code)
        table[a * 676 + b * 26 + c] = country_code(code)
    return table


_VALID_NUMBER = "0"
_VALID_COUNTRY = "DEU"


def validate_types_and_check_digits(columns: Columns) -> None:
    """Read only for candidates when screening many: check each distinct value once."""
    try:
        for kind in set(columns.document_types or ()):
            families_of(kind)
        for check in set(columns.check_digits or ()):
            normalised_check_digit(check)
    except (InvalidDocumentType, InvalidDocumentNumber):
        for i in range(columns.size):  # find the first document at fault, and say so
            # Only the type and check digit are in question here: pair them with a number
            # and country known to be valid, so that the error names the right field.
            query = columns.query(i)
            prepare(Query(_VALID_NUMBER, _VALID_COUNTRY, query.document_type, query.check_digit), i)
        raise
