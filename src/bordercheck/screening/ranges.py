"""Serial ranges of blank documents: which recorded ranges contain a number.

A range ``X0001200``–``X0001699`` covers every number with the same prefix (``X``) and
serial width (7 digits) in between. Ranges are grouped by (country, prefix, width); within
a group they are sorted by first serial, with a running maximum of last serials (``reach``)
so that overlapping ranges are all found: the ranges containing v are among those starting
at or before v, and the scan back stops where the reach falls below v.

Serials wider than 18 digits keep their leading digits in the prefix, so every serial fits
an int64; a range whose first and last differ before the last 18 digits is refused.

A number read by OCR may have a letter where a serial digit is (``X000I250``): each width
recorded for the number's country and length is also tried with such letters read as the
digit they are confused with, up to the allowed number of confusions.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from bordercheck.documents.numbers import split_serial
from bordercheck.screening.confusions import Confusions
from bordercheck.screening.keys import WIDTH, KeyScheme
from bordercheck.screening.probe import lower_bound
from bordercheck.screening.records import Candidate, Found, unpack_meta

MAX_SERIAL_DIGITS: Final = 18
MARK: Final = 1  # stands for each serial digit in a group key
ARRAYS: Final = (
    "group_keys", "group_offsets", "group_countries", "group_prefixes", "group_widths",
    "starts", "ends", "reach", "record_ids", "meta",
)  # fmt: skip


# (record id, metadata byte, country code, first number, last number)
RangeRow = tuple[int, int, int, str, str]


@dataclass(frozen=True, slots=True)
class Serial:
    """A range entry split for lookup: (prefix, width) after the 18-digit rule, first, last."""

    prefix: str
    width: int
    first: int
    last: int

    @classmethod
    def of(cls, record_id: int, first: str, last: str) -> Serial:
        prefix, _, width = split_serial(first)
        first_tail, last_tail = first[len(prefix) :], last[len(prefix) :]
        keep = max(width - MAX_SERIAL_DIGITS, 0)
        if first_tail[:keep] != last_tail[:keep]:
            raise ValueError(
                f"record {record_id}: a range may vary in its last {MAX_SERIAL_DIGITS} digits only"
            )
        return cls(
            prefix + first_tail[:keep], width - keep, int(first_tail[keep:]), int(last_tail[keep:])
        )


class RangeTable:
    """Every range of the base index, as arrays (see the module doc) plus small lookup maps."""

    def __init__(self, arrays: dict[str, NDArray[Any]]) -> None:
        self.arrays = arrays
        a = arrays
        self.group_keys: NDArray[np.uint64] = a["group_keys"]
        self.offsets: NDArray[np.uint32] = a["group_offsets"]
        self.starts: NDArray[np.int64] = a["starts"]
        self.ends: NDArray[np.int64] = a["ends"]
        self.reach: NDArray[np.int64] = a["reach"]
        self.record_ids: NDArray[np.uint32] = a["record_ids"]
        self.meta: NDArray[np.uint8] = a["meta"]
        countries = a["group_countries"].tolist()
        prefixes = [p.decode("ascii") for p in a["group_prefixes"].tolist()]
        widths = a["group_widths"].tolist()
        self._groups: dict[tuple[int, str, int], int] = {}
        by_length: dict[tuple[int, int], set[int]] = {}
        for g, (code, prefix, width) in enumerate(zip(countries, prefixes, widths, strict=True)):
            self._groups[(code, prefix, width)] = g
            by_length.setdefault((code, len(prefix) + width), set()).add(width)
        self._widths = {k: tuple(sorted(v)) for k, v in by_length.items()}
        self.shapes = frozenset(self._widths)  # (country code, length) of some range
        self._serials = [(p, w) for p, w in zip(prefixes, widths, strict=True)]
        self._group_of_row = np.repeat(np.arange(len(widths)), np.diff(self.offsets))
        # (country, length) of some range, as a table: a batch tests it with one gather.
        self._shape_table = np.zeros(_LETTER_CODES * 32 + 1, bool)
        for code, length in self._widths:
            self._shape_table[_shape_index(np.array([code], np.uint32), np.array([length]))] = True
        self._shape_table[-1] = False
        self._widths_by_length: dict[int, tuple[int, ...]] = {}
        for (_, length), ws in self._widths.items():
            union = set(self._widths_by_length.get(length, ())) | set(ws)
            self._widths_by_length[length] = tuple(sorted(union))

    @property
    def size(self) -> int:
        return len(self.record_ids)

    @property
    def nbytes(self) -> int:
        return sum(int(v.nbytes) for v in self.arrays.values()) + self._shape_table.nbytes

    @classmethod
    def build(cls, ranges: Iterable[RangeRow], scheme: KeyScheme) -> RangeTable:
        rows = []
        for record_id, meta, code, first, last in ranges:
            serial = Serial.of(record_id, first, last)
            masked = serial.prefix.encode("ascii") + bytes([MARK]) * serial.width
            key = scheme.range_group_key(masked, code)
            rows.append((key, serial.first, serial.last, record_id, meta, code, serial))
        rows.sort(key=lambda r: (r[0], r[1]))
        keys = np.array([r[0] for r in rows], np.uint64)
        first_of_group: list[int] = (
            np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]).tolist() if rows else []
        )
        starts = np.array([r[1] for r in rows], np.int64)
        ends = np.array([r[2] for r in rows], np.int64)
        reach = ends.copy()
        bounds = [*first_of_group, len(rows)]
        for lo, hi in itertools.pairwise(bounds):
            reach[lo:hi] = np.maximum.accumulate(ends[lo:hi])
        heads = [rows[i] for i in first_of_group]
        return cls({
            "group_keys": keys[first_of_group] if rows else np.zeros(0, np.uint64),
            "group_offsets": np.array(bounds, np.uint32),
            "group_countries": np.array([r[5] for r in heads], np.uint32),
            "group_prefixes": np.array([r[6].prefix for r in heads], f"S{WIDTH}"),
            "group_widths": np.array([r[6].width for r in heads], np.uint8),
            "starts": starts,
            "ends": ends,
            "reach": reach,
            "record_ids": np.array([r[3] for r in rows], np.uint32),
            "meta": np.array([r[4] for r in rows], np.uint8),
        })  # fmt: skip

    def rows(self) -> Iterator[RangeRow]:
        """Every range as built from, for compaction."""
        ids, meta = self.record_ids.tolist(), self.meta.tolist()
        starts, ends = self.starts.tolist(), self.ends.tolist()
        countries = self.arrays["group_countries"].tolist()
        for row, group in enumerate(self._group_of_row.tolist()):
            prefix, width = self._serials[group]
            first, last = f"{prefix}{starts[row]:0{width}d}", f"{prefix}{ends[row]:0{width}d}"
            yield ids[row], meta[row], countries[group], first, last

    def find(
        self, code: int, number: str, confusions: Confusions, max_changes: int
    ) -> list[Candidate]:
        """(reading, confusions read through, record) for every range holding ``number``."""
        widths = self._widths.get((code, len(number)))
        if not widths:
            return []
        found = []
        for width, prefix, tail, changes in readings(number, widths, confusions, max_changes):
            group = self._groups.get((code, prefix, width))
            if group is None:
                continue
            for row in self._containing(group, int(tail)):
                found.append(Candidate(prefix + tail, changes, self._found(group, row)))
        return found

    def _containing(self, group: int, serial: int) -> Iterator[int]:
        lo, hi = int(self.offsets[group]), int(self.offsets[group + 1])
        row = bisect.bisect_right(self.starts.data[lo:hi], serial) + lo - 1
        while row >= lo and int(self.reach[row]) >= serial:
            if int(self.ends[row]) >= serial:
                yield row
            row -= 1

    def _found(self, group: int, row: int) -> Found:
        prefix, width = self._serials[group]
        document_type, status, blank, restricted = unpack_meta(int(self.meta[row]))
        return Found(
            int(self.record_ids[row]),
            f"{prefix}{int(self.starts[row]):0{width}d}",
            document_type, status, blank, restricted,
            f"{prefix}{int(self.ends[row]):0{width}d}",
        )  # fmt: skip

    def may_hold(
        self,
        numbers: NDArray[np.uint8],
        lengths: NDArray[np.intp],
        codes: NDArray[np.uint32],
        scheme: KeyScheme,
        confusions: Confusions,
        max_changes: int,
    ) -> NDArray[np.bool_]:
        """Vectorised ``find(...) != []`` for many numbers; cheap unless shapes match a group."""
        result = np.zeros(len(numbers), bool)
        if not len(self.group_keys):
            return result
        rows = np.flatnonzero(self._shape_table[_shape_index(codes, lengths)])
        for length, widths in self._widths_by_length.items():
            chosen = rows[lengths[rows] == length]
            if len(chosen):
                block = numbers[chosen]  # rows of one length: their serials share columns
                for width in widths:
                    held = self._holds(block, codes[chosen], length - width, width, scheme,
                                       confusions, max_changes)  # fmt: skip
                    result[chosen[held]] = True
        return result

    def _holds(
        self,
        block: NDArray[np.uint8],
        codes: NDArray[np.uint32],
        start: int,
        width: int,
        scheme: KeyScheme,
        confusions: Confusions,
        max_changes: int,
    ) -> NDArray[np.bool_]:
        """Which numbers (all of one length) a range holds when their serial is [start:]."""
        tail = block[:, start : start + width]
        reading = confusions.digit_reading[tail]
        ok: NDArray[np.bool_] = (reading != 0).all(axis=1)
        ok &= (reading != tail).sum(axis=1) <= max_changes
        masked = block.copy()
        masked[:, start : start + width] = MARK
        group_keys = scheme.range_group_keys(masked, codes)
        place = np.minimum(np.searchsorted(self.group_keys, group_keys), len(self.group_keys) - 1)
        ok &= self.group_keys[place] == group_keys
        rows = np.flatnonzero(ok)  # usually few: the serial search is for these only
        place = place[rows]
        digits = reading[rows].astype(np.int64) - ord("0")
        serials = digits @ 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
        lo = self.offsets[place].astype(np.intp)
        hi = self.offsets[place + 1].astype(np.intp)
        row = lower_bound(self.starts, lo, hi, serials + 1) - 1
        ok[rows] = (row >= lo) & (self.reach[np.maximum(row, 0)] >= serials)
        return ok


def readings(
    number: str, widths: Iterable[int], confusions: Confusions, max_changes: int
) -> Iterator[tuple[int, str, str, int]]:
    """(width, prefix, serial digits, letters read as digits) for each width that reads."""
    for width in widths:
        prefix, tail = number[: len(number) - width], number[len(number) - width :]
        if tail.isdigit():
            yield width, prefix, tail, 0
            continue
        digits = [c if c.isdigit() else confusions.digit_for.get(c, "") for c in tail]
        changes = sum(1 for c in tail if not c.isdigit())
        if all(digits) and changes <= max_changes:
            yield width, prefix, "".join(digits), changes


_LETTER_CODES: Final = 26**3


def _shape_index(codes: NDArray[np.uint32], lengths: NDArray[Any]) -> NDArray[np.intp]:
    """Index of (country, length) in a shape table; codes not of three letters go to the end."""
    letters = codes.astype(np.intp)
    first, second, third = letters & 0xFF, (letters >> 8) & 0xFF, letters >> 16
    index = ((first - 65) * 26 + (second - 65)) * 26 + (third - 65)
    fits = (index >= 0) & (index < _LETTER_CODES) & (lengths < 32)
    fits &= (first >= 65) & (first <= 90) & (second >= 65) & (second <= 90)
    return np.where(fits, index * 32 + lengths, _LETTER_CODES * 32)


def shape_codes(codes: NDArray[np.uint32], lengths: NDArray[Any]) -> NDArray[np.uint64]:
    """(country, length) as one integer, as ``Overlay.range_lengths`` holds them."""
    return (codes.astype(np.uint64) << np.uint64(5)) | lengths.astype(np.uint64)
