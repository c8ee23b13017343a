"""The screening index: every active record as compact arrays, kept current by the feed.

Thread safety: lookups take no lock. The index holds one reference to an immutable
``IndexView`` (base arrays, ranges, overlay, sequence); ``apply`` and ``compact`` build a new
view and replace the reference in one assignment, so every lookup sees one consistent state,
before or after a change, never half of one. ``apply``, ``compact`` and ``save`` serialise
on a writer lock; take ``view()`` once to screen a batch against one state.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bordercheck.documents.types import DocumentType, Status
from bordercheck.screening import snapshot
from bordercheck.screening.alphabet import Alphabets, as_arrays, build_alphabets, merged
from bordercheck.screening.confusions import DEFAULT_CONFUSIONS, Confusions
from bordercheck.screening.filters import add_to_filter, coarse_filters
from bordercheck.screening.keys import WIDTH, KeyScheme, country_codes
from bordercheck.screening.overlay import EMPTY, Overlay
from bordercheck.screening.probe import (
    build_directory,
    build_filter,
    directory_bits,
    filter_bits,
)
from bordercheck.screening.ranges import RangeRow, RangeTable
from bordercheck.screening.records import (
    DOCUMENT_TYPES,
    STATUSES,
    IndexChange,
    IndexEntry,
    pack_meta,
    pack_meta_arrays,
)
from bordercheck.screening.view import BaseArrays, IndexView

__all__ = ["IndexChange", "IndexEntry", "ScreeningIndex"]

_CHUNK = 1 << 22  # rows at a time: bounds the temporaries of a 100 M build
_COLUMN_TYPES: tuple[np.dtype[Any], ...] = tuple(
    np.dtype(t) for t in (np.uint32, f"S{WIDTH}", "S3", np.uint8, np.uint8, bool, bool)
)
_NO_SHAPES = np.zeros(0, np.uint64)
_NO_MASKS = np.zeros((0, WIDTH), np.uint64)
_VALID = np.zeros(256, bool)
_VALID[[ord(c) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"]] = True


class ScreeningIndex:
    """Build, load, save and update; lookups go through ``view()`` (see ``matcher.screen``)."""

    def __init__(self, view: IndexView) -> None:
        self._view = view
        self._writer = threading.Lock()

    # Reading ----------------------------------------------------------------------------

    def view(self) -> IndexView:
        return self._view

    @property
    def sequence(self) -> int:
        """The last feed sequence number applied."""
        return self._view.sequence

    @property
    def size(self) -> int:
        """Active records (a range counts once)."""
        return self._view.size

    @property
    def overlay_size(self) -> int:
        """Records changed since the base arrays were built (``compact`` folds them in)."""
        return len(self._view.overlay)

    @property
    def memory_bytes(self) -> int:
        """Bytes of the arrays, plus about 400 per overlay record (Python objects)."""
        view = self._view
        return view.base.nbytes + view.ranges.nbytes + 400 * len(view.overlay)

    # Building ---------------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        entries: Iterable[IndexEntry],
        *,
        key: bytes,
        sequence: int = 0,
        confusions: Confusions = DEFAULT_CONFUSIONS,
    ) -> ScreeningIndex:
        """From entries (normalised here); ranges are the entries with a ``serial_end``.

        Entries are turned into columns a million at a time, so a large registry costs its
        arrays, not a Python object per record.
        """
        ranges: list[IndexEntry] = []
        chunks: list[tuple[NDArray[Any], ...]] = []
        iterator = iter(entries)
        while chunk := list(itertools.islice(iterator, _CHUNK)):
            rows = []
            for raw in chunk:
                entry = raw.normalised()
                if entry.serial_end is not None:
                    ranges.append(entry)
                    continue
                rows.append((
                    entry.record_id, entry.number, entry.country,
                    DOCUMENT_TYPES.index(DocumentType(entry.document_type)),
                    STATUSES.index(Status(entry.status)), entry.blank, entry.restricted,
                ))  # fmt: skip
            columns = list(zip(*rows, strict=True)) or [()] * 7
            chunks.append(tuple(
                np.array(column, dtype)
                for column, dtype in zip(columns, _COLUMN_TYPES, strict=True)
            ))  # fmt: skip
        if not chunks:
            chunks.append(tuple(np.array([], dtype) for dtype in _COLUMN_TYPES))
        ids, numbers, countries, types, statuses, blank, restricted = (
            np.concatenate(column) for column in zip(*chunks, strict=True)
        )
        return cls.from_columns(
            ids, numbers, countries, types, statuses, blank, restricted,
            ranges=ranges, key=key, sequence=sequence, confusions=confusions,
        )  # fmt: skip

    @classmethod
    def from_columns(
        cls,
        record_ids: NDArray[Any],
        numbers: NDArray[Any],
        countries: NDArray[Any],
        document_types: NDArray[np.uint8],
        statuses: NDArray[np.uint8],
        blank: NDArray[np.bool_],
        restricted: NDArray[np.bool_],
        *,
        ranges: Iterable[IndexEntry] = (),
        key: bytes,
        sequence: int = 0,
        confusions: Confusions = DEFAULT_CONFUSIONS,
    ) -> ScreeningIndex:
        """From columns, vectorised (100 M records in about 80 s).

        ``numbers``: normalised, as ``S24`` bytes or a (n, 24) uint8 matrix; ``countries``:
        ``S3``; types and statuses as positions in ``records.DOCUMENT_TYPES``/``STATUSES``.
        """
        scheme = KeyScheme(key)
        matrix = _matrix(numbers)
        codes = country_codes(countries)
        meta = pack_meta_arrays(document_types, statuses, blank, restricted)
        range_rows = [_range_row(e.normalised()) for e in ranges]
        base = _base(np.asarray(record_ids, np.uint32), matrix, codes, meta, scheme, confusions,
                     [r[0] for r in range_rows])  # fmt: skip
        table = RangeTable.build(range_rows, scheme)
        return cls(IndexView(base, table, EMPTY, scheme, confusions, sequence))

    # Updating ---------------------------------------------------------------------------

    def apply(self, changes: Iterable[IndexChange], sequence: int) -> None:
        """Apply feed changes up to ``sequence``: upserts and removals by record id."""
        with self._writer:
            view = self._view
            overlay = view.overlay.with_changes(
                changes, view.scheme, view.confusions, view.base.present
            )
            self._view = _replace(view, overlay=overlay, sequence=sequence)

    def compact(self) -> None:
        """Fold the overlay into new base arrays (seconds at 100 M records; lookups go on)."""
        with self._writer:
            self._view = _compacted(self._view)

    # Files ------------------------------------------------------------------------------

    def save(self, path: str | Path) -> None:
        """Write a snapshot (atomically: a temporary file renamed); compacts first if needed."""
        with self._writer:
            if len(self._view.overlay):
                self._view = _compacted(self._view)
            view = self._view
            snapshot.write(
                Path(path),
                arrays={**view.base.arrays(), **_prefixed(view.ranges.arrays)},
                sequence=view.sequence,
                key_fingerprint=view.scheme.fingerprint,
                confusions=view.confusions.spec,
                directory_bits=view.base.directory_bits,
                presence_bits=view.base.presence_bits,
            )

    @classmethod
    def load(cls, path: str | Path, *, key: bytes, verify: bool = True) -> ScreeningIndex:
        """Map a snapshot (shared, read-only pages); ``verify`` checks every array's CRC."""
        scheme = KeyScheme(key)
        loaded = snapshot.read(Path(path), key_fingerprint=scheme.fingerprint, verify=verify)
        a = loaded.arrays
        base = BaseArrays(
            a["skeletons"],
            a["fingerprints"],
            a["record_ids"],
            a["meta"],
            a["directory"],
            a["presence"],
            a["present"],
            a.get("coarse", np.zeros(0, np.uint8)),
            a.get("mixed", np.zeros(0, np.uint8)),
            loaded.directory_bits,
            loaded.presence_bits,
            a.get("alphabet_shapes", _NO_SHAPES),
            a.get("alphabet", _NO_MASKS),
        )
        ranges = RangeTable(
            {k.removeprefix("range_"): v for k, v in a.items() if k.startswith("range_")}
        )
        confusions = Confusions.from_spec(loaded.confusions)
        return cls(IndexView(base, ranges, EMPTY, scheme, confusions, loaded.sequence))


def _prefixed(arrays: dict[str, NDArray[Any]]) -> dict[str, NDArray[Any]]:
    return {f"range_{name}": value for name, value in arrays.items()}


def _replace(view: IndexView, *, overlay: Overlay, sequence: int) -> IndexView:
    return IndexView(view.base, view.ranges, overlay, view.scheme, view.confusions, sequence)


def _range_row(entry: IndexEntry) -> RangeRow:
    assert entry.serial_end is not None
    code = int(country_codes([entry.country])[0])
    return entry.record_id, pack_meta(entry), code, entry.number, entry.serial_end


def _matrix(numbers: NDArray[Any]) -> NDArray[np.uint8]:
    """Numbers as a validated (n, 24) uint8 matrix: A-Z0-9, then NUL padding, not empty."""
    numbers = np.asarray(numbers)
    if numbers.dtype.kind == "S":
        if numbers.dtype.itemsize > WIDTH:
            raise ValueError(f"document numbers are at most {WIDTH} characters")
        matrix = np.zeros((len(numbers), WIDTH), np.uint8)
        size = numbers.dtype.itemsize
        matrix[:, :size] = numbers.view(np.uint8).reshape(len(numbers), size)
    else:
        matrix = np.ascontiguousarray(numbers, np.uint8)
    for start in range(0, len(matrix), _CHUNK):
        block = matrix[start : start + _CHUNK]
        valid = _VALID[block]
        ok = valid[:, 0] & ((block == 0) | valid).all(axis=1)
        ok &= (valid[:, 1:] <= valid[:, :-1]).all(axis=1)  # no character after padding
        if not ok.all():
            row = start + int(np.flatnonzero(~ok)[0])
            text = bytes(matrix[row]).rstrip(b"\0")
            raise ValueError(f"row {row}: {text!r} is not a normalised document number")
    return matrix


def _base(
    record_ids: NDArray[np.uint32],
    numbers: NDArray[np.uint8],
    codes: NDArray[np.uint32],
    meta: NDArray[np.uint8],
    scheme: KeyScheme,
    confusions: Confusions,
    range_ids: Sequence[int],
) -> BaseArrays:
    n = len(record_ids)
    sums = np.empty(n, np.uint64)
    skeletons = np.empty(n, np.uint64)
    fingerprints = np.empty(n, np.uint32)
    alphabets: Alphabets = {}
    for start in range(0, n, _CHUNK):
        block, block_codes = numbers[start : start + _CHUNK], codes[start : start + _CHUNK]
        chunk = scheme.skeleton_sums(confusions.skeleton_array[block], block_codes)
        keys = scheme.skeleton_keys_of(chunk)
        sums[start : start + _CHUNK], skeletons[start : start + _CHUNK] = chunk, keys
        fingerprints[start : start + _CHUNK] = scheme.fingerprints(block, keys)
        alphabets = merged(alphabets, build_alphabets(block, block_codes))
    presence = build_filter(sums, filter_bits(n))
    del sums
    coarse, mixed = coarse_filters(numbers, codes, skeletons, scheme, confusions, filter_bits(n))
    order = np.argsort(skeletons)
    return _sorted_base(
        skeletons[order],
        fingerprints[order],
        record_ids[order],
        meta[order],
        range_ids,
        (presence, coarse, mixed),
        alphabets,
    )


def _sorted_base(
    skeletons: NDArray[np.uint64],
    fingerprints: NDArray[np.uint32],
    record_ids: NDArray[np.uint32],
    meta: NDArray[np.uint8],
    range_ids: Sequence[int],
    filters: tuple[NDArray[np.uint8], NDArray[np.uint8], NDArray[np.uint8]],
    alphabets: Alphabets | None,
) -> BaseArrays:
    """The base arrays, given the filters (presence over skeleton sums, coarse, mixed) and
    the alphabets (None: not known)."""
    presence, coarse, mixed = filters
    bits = directory_bits(len(skeletons))
    shapes, masks = as_arrays(alphabets) if alphabets is not None else (_NO_SHAPES, _NO_MASKS)
    return BaseArrays(
        skeletons,
        fingerprints,
        record_ids,
        meta,
        build_directory(skeletons, bits),
        presence,
        _bitmap(record_ids, range_ids),
        coarse,
        mixed,
        bits,
        (len(presence) * 8).bit_length() - 1,
        shapes,
        masks,
    )


def _bitmap(record_ids: NDArray[np.uint32], range_ids: Sequence[int]) -> NDArray[np.uint8]:
    ranges = np.asarray(range_ids, np.uint32)
    top = max(
        int(record_ids.max()) if len(record_ids) else 0, int(ranges.max()) if len(ranges) else 0
    )
    bits = np.zeros(top + 1, bool)
    bits[record_ids] = True
    bits[ranges] = True
    if int(bits.sum()) != len(record_ids) + len(ranges):
        raise ValueError("a record id occurs twice")
    return np.packbits(bits, bitorder="little")


def _compacted(view: IndexView) -> IndexView:
    """A view whose base holds the overlay: kept rows, with the live ones merged in order."""
    overlay = view.overlay
    if not len(overlay):
        return view
    base = view.base
    removed = np.zeros(max(len(base.present) * 8, max(overlay.removed) + 1), bool)
    removed[np.fromiter(overlay.removed, np.int64, len(overlay.removed))] = True
    keep = ~removed[base.record_ids]
    live = sorted(
        (item for item in overlay.live.values() if item.serial is None),
        key=lambda item: item.skeleton_key,
    )
    keys = np.array([item.skeleton_key for item in live], np.uint64)
    matrix = _matrix(np.array([item.entry.number for item in live], f"S{WIDTH}"))
    kept = base.skeletons[keep]
    at = np.searchsorted(kept, keys)
    ranges = [r for r in view.ranges.rows() if r[0] not in overlay.removed]
    ranges += [
        (i.entry.record_id, i.meta, i.code, i.entry.number, i.entry.serial_end or "")
        for i in overlay.ranges
    ]
    codes = np.array([item.code for item in live], np.uint32)
    merged = np.insert(kept, at, keys)
    # The presence filter is made anew, sized for the rows now held, from their keys' sums.
    presence = build_filter(view.scheme.skeleton_sums_of(merged), filter_bits(len(merged)))
    filters = (presence, *_compacted_filters(view, matrix, codes))
    new_base = _sorted_base(
        merged,
        np.insert(base.fingerprints[keep], at, view.scheme.fingerprints(matrix, keys)),
        np.insert(
            base.record_ids[keep], at, np.array([i.entry.record_id for i in live], np.uint32)
        ),
        np.insert(base.meta[keep], at, np.array([i.meta for i in live], np.uint8)),
        [r[0] for r in ranges],
        filters,
        view.alphabets,  # the base's and the live rows' (removed rows keep their bits)
    )
    table = RangeTable.build(ranges, view.scheme)
    return IndexView(new_base, table, EMPTY, view.scheme, view.confusions, view.sequence)


def _compacted_filters(
    view: IndexView, matrix: NDArray[np.uint8], countries: NDArray[np.uint32]
) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
    """The coarse and mixed filters with the live rows added (removed rows keep their bits:
    harmless). A live row's coarse key is counted as mixed: knowing would take every
    record's skeleton, and a few idle probes cost less."""
    base = view.base
    if not view.confusions.blind:
        return np.zeros(0, np.uint8), np.zeros(0, np.uint8)
    if not len(base.coarse):  # a snapshot made without blind pairs: let every number by
        bits = filter_bits(len(base.record_ids) + len(matrix))
        return np.full(1 << (bits - 3), 0xFF, np.uint8), np.zeros(0, np.uint8)
    sums = view.scheme.skeleton_sums(view.confusions.coarse_array[matrix], countries)
    coarse, mixed = base.coarse.copy(), base.mixed.copy()
    add_to_filter(coarse, sums)
    if len(mixed):
        add_to_filter(mixed, sums)
    return coarse, mixed
