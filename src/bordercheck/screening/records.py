"""What the index holds about a record: the entry it is built from, and one metadata byte.

The byte packs status (2 bits), document type (4 bits), blank (1 bit) and whether the owner
restricted the record from some querying countries (1 bit). Holder data (birth date,
nationality) is not held: it stays in the registry, for the owner's hit verification.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, NamedTuple

import numpy as np
from numpy.typing import NDArray

from bordercheck.documents.countries import normalise_country
from bordercheck.documents.numbers import normalise_number, split_serial
from bordercheck.documents.types import DocumentType, Status, TypeFamily, family_of

DOCUMENT_TYPES: Final[tuple[DocumentType, ...]] = tuple(DocumentType)
STATUSES: Final[tuple[Status, ...]] = tuple(Status)
FAMILIES: Final[tuple[TypeFamily, ...]] = tuple(TypeFamily)
ALL_FAMILIES: Final = (1 << len(FAMILIES)) - 1

# What a batch's first pass says of a number (``may_match``): something may match it;
# blind variants (``confusions.CHECK_DIGIT_BLIND_PAIRS``) may be among what matches.
MAY_MATCH: Final = np.uint8(1)
BLIND: Final = np.uint8(2)

_BLANK: Final = 0x40
_RESTRICTED: Final = 0x80


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexEntry:
    """One active record as screening sees it; ``serial_end`` makes it a range of blanks.

    ``family`` may be left out: it follows from the type (and must agree with it if given).
    """

    record_id: int
    number: str
    serial_end: str | None = None
    country: str
    family: TypeFamily | str | None = None
    status: Status | str
    document_type: DocumentType | str
    blank: bool = False
    restricted: bool = False

    def normalised(self) -> IndexEntry:
        """The entry in canonical form (number, country, enums), or ValueError saying why."""
        number = normalise_number(self.number)
        end = None if self.serial_end is None else normalise_number(self.serial_end)
        if end is not None:
            prefix, first, width = split_serial(number)
            end_prefix, last, end_width = split_serial(end)
            if (end_prefix, end_width) != (prefix, width) or last < first:
                raise ValueError(
                    f"record {self.record_id}: {number}–{end} is not a serial range "
                    "(same prefix and width, first ≤ last)"
                )
        if not 0 <= self.record_id < 2**32:
            raise ValueError(f"record id {self.record_id} does not fit in 32 bits")
        document_type = DocumentType(self.document_type)
        family = family_of(document_type)
        if self.family is not None and TypeFamily(self.family) != family:
            raise ValueError(
                f"record {self.record_id}: a {document_type} is in family {family}, "
                f"not {self.family}"
            )
        return IndexEntry(
            record_id=self.record_id,
            number=number,
            serial_end=end,
            country=normalise_country(self.country),
            family=family,
            status=Status(self.status),
            document_type=document_type,
            blank=bool(self.blank),
            restricted=bool(self.restricted),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexChange:
    """One change from the feed: the record as it now stands; ``active`` False removes it."""

    record_id: int
    active: bool
    number: str = ""
    serial_end: str | None = None
    country: str = ""
    family: TypeFamily | str | None = None
    status: Status | str = Status.STOLEN
    document_type: DocumentType | str = DocumentType.OTHER
    blank: bool = False
    restricted: bool = False

    @classmethod
    def upsert(cls, entry: IndexEntry) -> IndexChange:
        return cls(
            record_id=entry.record_id, active=True, number=entry.number,
            serial_end=entry.serial_end, country=entry.country, family=entry.family,
            status=entry.status, document_type=entry.document_type, blank=entry.blank,
            restricted=entry.restricted,
        )  # fmt: skip

    @classmethod
    def removal(cls, record_id: int) -> IndexChange:
        return cls(record_id=record_id, active=False)

    def entry(self) -> IndexEntry | None:
        if not self.active:
            return None
        return IndexEntry(
            record_id=self.record_id, number=self.number, serial_end=self.serial_end,
            country=self.country, family=self.family, status=self.status,
            document_type=self.document_type, blank=self.blank, restricted=self.restricted,
        )  # fmt: skip


class Found(NamedTuple):
    """A record the index found: its number (the first of a range) and its metadata."""

    record_id: int
    document_number: str
    document_type: DocumentType
    status: Status
    blank: bool
    restricted: bool
    serial_end: str | None = None

    @property
    def family_bit(self) -> int:
        return _TYPE_BITS[self.document_type]


# A Found from a tuple of its fields, without NamedTuple's argument handling (a third of
# the cost): the index makes one for every record a look-up reaches.
new_found: Final[Callable[[tuple[object, ...]], Found]] = functools.partial(tuple.__new__, Found)


def family_bit(family: TypeFamily) -> int:
    return 1 << FAMILIES.index(family)


_TYPE_BITS: Final = {t: family_bit(family_of(t)) for t in DOCUMENT_TYPES}


def pack_meta(entry: IndexEntry) -> int:
    """The metadata byte of a normalised entry."""
    value = STATUSES.index(Status(entry.status))
    value |= DOCUMENT_TYPES.index(DocumentType(entry.document_type)) << 2
    blank, restricted = entry.blank, entry.restricted
    return value | (_BLANK if blank else 0) | (_RESTRICTED if restricted else 0)


def pack_meta_arrays(
    document_types: NDArray[np.uint8],
    statuses: NDArray[np.uint8],
    blank: NDArray[np.bool_],
    restricted: NDArray[np.bool_],
) -> NDArray[np.uint8]:
    """The metadata bytes of many records; types and statuses as positions in the tuples above."""
    if len(document_types) and int(document_types.max()) >= len(DOCUMENT_TYPES):
        raise ValueError("document type code out of range")
    if len(statuses) and int(statuses.max()) >= len(STATUSES):
        raise ValueError("status code out of range")
    meta = statuses.astype(np.uint8) | (document_types.astype(np.uint8) << np.uint8(2))
    meta |= blank.astype(np.uint8) << np.uint8(6)
    meta |= restricted.astype(np.uint8) << np.uint8(7)
    return meta


def unpack_meta(meta: int) -> tuple[DocumentType, Status, bool, bool]:
    return _UNPACKED[meta]


_UNPACKED: Final = {
    STATUSES.index(s) | DOCUMENT_TYPES.index(t) << 2 | _BLANK * b | _RESTRICTED * r: (t, s, b, r)
    for t in DOCUMENT_TYPES
    for s in STATUSES
    for b in (False, True)
    for r in (False, True)
}
