"""Changes applied since the base arrays were built: small, immutable, replaced whole.

Each ``apply`` makes a new Overlay from the old one and the changes, and the index swaps
its reference in one assignment, so a lookup that took the old overlay keeps a consistent
view. Costs are in the overlay's size (copies of two dicts, one sort); compact the index
when it grows past some tens of thousands of records.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

import numpy as np
from numpy.typing import NDArray

from bordercheck.documents.types import DocumentType, Status
from bordercheck.screening.alphabet import with_numbers
from bordercheck.screening.confusions import Confusions
from bordercheck.screening.keys import KeyScheme, country_code
from bordercheck.screening.ranges import Serial, readings
from bordercheck.screening.records import Found, IndexChange, IndexEntry, pack_meta


@dataclass(frozen=True, slots=True)
class Live:
    """A record as it stands after the changes: the entry, its code and keys."""

    entry: IndexEntry
    code: int
    meta: int
    skeleton_key: int  # 0 for a range
    serial: Serial | None

    def found(self) -> Found:
        e = self.entry
        return Found(
            e.record_id, e.number, DocumentType(e.document_type), Status(e.status), e.blank,
            e.restricted, e.serial_end,
        )  # fmt: skip


@dataclass(frozen=True)
class Overlay:
    """Records superseding the base: ``removed`` base ids are skipped, ``live`` ones added."""

    removed: frozenset[int] = frozenset()
    removed_from_base: int = 0  # how many of ``removed`` the base holds (for ``size``)
    live: Mapping[int, Live] = field(default_factory=dict)
    by_skeleton: Mapping[int, tuple[Live, ...]] = field(default_factory=dict)
    skeleton_keys: NDArray[np.uint64] = field(default_factory=lambda: np.zeros(0, np.uint64))
    ranges: tuple[Live, ...] = ()
    range_lengths: NDArray[np.uint64] = field(default_factory=lambda: np.zeros(0, np.uint64))
    # The characters of the numbers added, by shape and position (``alphabet``); those of
    # records removed since stay: a few idle probes, no misses.
    alphabet: Mapping[int, tuple[int, ...]] = field(default_factory=dict)

    def __len__(self) -> int:
        """Records changed (every one touched is in ``removed``, for the base's sake)."""
        return len(self.removed)

    def with_changes(
        self,
        changes: Iterable[IndexChange],
        scheme: KeyScheme,
        confusions: Confusions,
        in_base: NDArray[np.uint8],
    ) -> Overlay:
        live = dict(self.live)
        removed = set(self.removed)
        removed_from_base = self.removed_from_base
        touched: set[int] = set()
        added: list[tuple[int, str]] = []
        for change in changes:
            record_id = change.record_id
            if record_id not in removed:
                removed.add(record_id)
                removed_from_base += _holds(in_base, record_id)
            old = live.pop(record_id, None)
            if old is not None:
                touched.add(old.skeleton_key)
            entry = change.entry()
            if entry is not None:
                new = _live(entry, scheme, confusions)
                live[record_id] = new
                touched.add(new.skeleton_key)
                if new.serial is None:
                    added.append((new.code, new.entry.number))
        by_skeleton = dict(self.by_skeleton)
        for key in touched - {0}:
            by_skeleton.pop(key, None)
        for item in live.values():
            if item.skeleton_key in touched and item.skeleton_key != 0:
                by_skeleton[item.skeleton_key] = (*by_skeleton.get(item.skeleton_key, ()), item)
        ranges = tuple(item for item in live.values() if item.serial is not None)
        lengths = {item.code << 5 | len(item.entry.number) for item in ranges}
        return Overlay(
            frozenset(removed),
            removed_from_base,
            live,
            by_skeleton,
            np.array(sorted(by_skeleton), np.uint64),
            ranges,
            np.array(sorted(lengths), np.uint64),
            with_numbers(self.alphabet, added),
        )

    def find(
        self, skeleton_key: int, number: str, confusions: Confusions, max_changes: int
    ) -> list[tuple[str, int, Found]]:
        found = []
        for item in self.by_skeleton.get(skeleton_key, ()):
            changes = confusions.changes_between(number, item.entry.number)
            if changes is not None and changes <= max_changes:
                found.append((item.entry.number, changes, item.found()))
        return found

    def find_ranges(
        self, code: int, number: str, confusions: Confusions, max_changes: int
    ) -> list[tuple[str, int, Found]]:
        found = []
        for item in self.ranges:
            serial = item.serial
            assert serial is not None
            if item.code != code or len(item.entry.number) != len(number):
                continue
            for _, prefix, tail, changes in readings(
                number, [serial.width], confusions, max_changes
            ):
                if prefix == serial.prefix and serial.first <= int(tail) <= serial.last:
                    found.append((prefix + tail, changes, item.found()))
        return found


EMPTY: Final = Overlay()


def _holds(bitmap: NDArray[np.uint8], record_id: int) -> int:
    byte = record_id >> 3
    return int(byte < len(bitmap) and (int(bitmap[byte]) >> (record_id & 7)) & 1)


def _live(entry: IndexEntry, scheme: KeyScheme, confusions: Confusions) -> Live:
    entry = entry.normalised()
    code = country_code(entry.country)
    meta = pack_meta(entry)
    if entry.serial_end is not None:
        serial = Serial.of(entry.record_id, entry.number, entry.serial_end)
        return Live(entry, code, meta, 0, serial)
    skeleton = entry.number.encode("ascii").translate(confusions.skeleton_table)
    return Live(entry, code, meta, scheme.skeleton_key(skeleton, code), None)
