"""A kit's records: 15 bytes each, none of them a document number.

A row is the keyed skeleton hash (8 bytes) and fingerprint (4 bytes) the centre's index uses,
computed under the kit's own key, and a 3-byte sealed payload: the metadata byte (status,
type, blank, restricted; see ``screening.records``) and the date the record was reported
(15 bits of days since 2000) with one bit saying the number belongs to a range of blanks.

The payload is XORed with a pad that is a keyed BLAKE2b of the document number and its row's
skeleton hash (hence of its country) under a second key of the kit. Only someone holding the
number can compute the pad; the lookup hashes alone do not give it. There is no per-row tag:
a snapshot or bundle is signed as a whole, and a wrong number never reaches a row (the
skeleton hash and fingerprint must both match first).

The restricted bit is set only in the kits of countries the record's owner withholds its
details from, and those rows carry nothing else (``withheld_entry``): the kit's own keys open
no status, type or date of a withheld record. Other kits hold the details, as screening
online shows them.
"""

from __future__ import annotations

import hashlib
import math
import struct
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final, NamedTuple

import numpy as np
from numpy.typing import NDArray

from bordercheck.documents.numbers import split_serial
from bordercheck.documents.types import DocumentType, Status
from bordercheck.screening.confusions import DEFAULT_CONFUSIONS, Confusions
from bordercheck.screening.filters import add_to_filter
from bordercheck.screening.keys import WIDTH, KeyScheme, country_codes
from bordercheck.screening.records import DOCUMENT_TYPES, STATUSES, unpack_meta

ROW: Final = np.dtype([("skeleton", "<u8"), ("fingerprint", "<u4"), ("payload", "u1", (3,))])
ROW_BYTES: Final = ROW.itemsize  # 15
EPOCH: Final = date(2000, 1, 1)
_MAX_DAYS: Final = 0x7FFF
_RANGE_BIT: Final = 0x8000
# A blank range is expanded into one row per number: a kit cannot hold a range's bounds
# without giving them away. Wider ranges are left to screening when connected (docs/edge.md).
MAX_RANGE_MEMBERS: Final = 100_000

Rows = NDArray[np.void]
U64 = NDArray[np.uint64]


class KitKeys:
    """The keys a kit secret yields: one for lookups, one for payloads (kept apart)."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 32:
            raise ValueError("a kit secret is at least 32 bytes")
        self.lookup = hashlib.blake2b(secret, person=b"bc-kit-lookup", digest_size=32).digest()
        self.payload = hashlib.blake2b(secret, person=b"bc-kit-payload", digest_size=32).digest()
        self.scheme = KeyScheme(self.lookup)

    def pad(self, number: bytes, skeleton_key: int) -> bytes:
        message = number + skeleton_key.to_bytes(8, "little")
        return hashlib.blake2b(message, key=self.payload, digest_size=3).digest()


class KitEntry(NamedTuple):
    """One number as a kit holds it (a range member is one entry per number)."""

    number: str  # normalised
    country: str
    document_type: str
    status: str
    blank: bool
    restricted: bool
    reported: date
    in_range: bool = False


@dataclass(frozen=True, slots=True)
class Payload:
    document_type: DocumentType
    status: Status
    blank: bool
    restricted: bool
    reported: date
    in_range: bool


def withheld_entry(entry: KitEntry) -> KitEntry:
    """The row of a record withheld from the kit's country: the number (to look it up) and
    "restricted"; its status, type, dates and range are the same for every such row, so
    opening the payload tells nothing but that a record exists and whom to ask."""
    return KitEntry(
        entry.number, entry.country, DOCUMENT_TYPES[0].value, STATUSES[0].value, False, True, EPOCH
    )


def pack_payload(entry: KitEntry) -> bytes:
    meta = (
        STATUSES.index(Status(entry.status))
        | DOCUMENT_TYPES.index(DocumentType(entry.document_type)) << 2
    )
    meta |= (0x40 if entry.blank else 0) | (0x80 if entry.restricted else 0)
    days = min(max((entry.reported - EPOCH).days, 0), _MAX_DAYS)
    return struct.pack("<BH", meta, days | (_RANGE_BIT if entry.in_range else 0))


def unpack_payload(plain: bytes) -> Payload:
    meta, word = struct.unpack("<BH", plain)
    document_type, status, blank, restricted = unpack_meta(meta)
    reported = date.fromordinal(EPOCH.toordinal() + (word & _MAX_DAYS))
    return Payload(document_type, status, blank, restricted, reported, bool(word & _RANGE_BIT))


def xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


def coarse_bits(count: int) -> int:
    """Bits of a kit's coarse filter: at most 7 a row, so a kit stays under 16 bytes a row."""
    return max(10, math.floor(math.log2(max(7 * count, 1024))))


def build_rows(
    entries: Sequence[KitEntry], keys: KitKeys, confusions: Confusions = DEFAULT_CONFUSIONS
) -> tuple[Rows, U64]:
    """The rows of ``entries`` (unsorted, in their order), and their coarse keys."""
    if not entries:
        return np.zeros(0, ROW), np.zeros(0, np.uint64)
    raw = np.array([e.number for e in entries], f"S{WIDTH}")
    plain = np.frombuffer(b"".join(pack_payload(e) for e in entries), np.uint8)
    return seal_columns(
        raw.view(np.uint8).reshape(len(entries), WIDTH),
        country_codes([e.country for e in entries]),
        plain.reshape(len(entries), 3),
        keys,
        confusions,
    )


def seal_columns(
    numbers: NDArray[np.uint8],
    codes: NDArray[np.uint32],
    plain: NDArray[np.uint8],
    keys: KitKeys,
    confusions: Confusions = DEFAULT_CONFUSIONS,
) -> tuple[Rows, U64]:
    """Rows from columns: (n, 24) normalised numbers, country codes, (n, 3) payloads; and
    the numbers' coarse skeleton keys, for the filter that spares a query its blind
    variants (see ``screening.confusions``) when no record is near it."""
    rows = np.zeros(len(numbers), ROW)
    skeletons = keys.scheme.skeleton_keys(confusions.skeleton_array[numbers], codes)
    rows["skeleton"] = skeletons
    rows["fingerprint"] = keys.scheme.fingerprints(numbers, skeletons)
    texts = np.ascontiguousarray(numbers).view(f"S{WIDTH}").ravel().tolist()
    pad = keys.pad
    pads = b"".join(map(pad, texts, skeletons.tolist()))  # about 1 µs a row: the centre's cost
    rows["payload"] = plain ^ np.frombuffer(pads, np.uint8).reshape(len(numbers), 3)
    coarse = keys.scheme.skeleton_keys(confusions.coarse_array[numbers], codes)
    return rows, coarse


def coarse_table(keys: U64, bits: int, scheme: KeyScheme) -> NDArray[np.uint8]:
    """A kit's coarse filter over rows' coarse keys. Files carry the keys (finalised, as the
    skeleton keys are); the filter is indexed by their sums, which the kit's key recovers."""
    table = np.zeros(1 << (bits - 3), np.uint8)
    add_to_filter(table, scheme.skeleton_sums_of(keys))
    return table


def range_members(first: str, last: str) -> Iterator[str]:
    """Every number of the range ``first``–``last`` (same prefix and width)."""
    prefix, start, width = split_serial(first)
    _, end, _ = split_serial(last)
    for serial in range(start, end + 1):
        yield f"{prefix}{serial:0{width}d}"


def range_size(first: str, last: str) -> int:
    return split_serial(last)[1] - split_serial(first)[1] + 1


def sort_rows(rows: Rows) -> Rows:
    return rows[np.argsort(rows["skeleton"], kind="stable")]


def chunked(items: Iterable[KitEntry], size: int) -> Iterator[list[KitEntry]]:
    batch: list[KitEntry] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
