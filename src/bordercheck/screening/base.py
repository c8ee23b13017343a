"""The base arrays of the index: every record as of the last build or compaction.

One row per record, sorted by skeleton key (17 bytes a record): ``skeletons`` uint64 (the
keyed hash of the number's OCR skeleton and the country), ``fingerprints`` uint32 (tells
apart numbers sharing a skeleton), ``record_ids`` uint32, ``meta`` uint8. Beside them:

- ``directory``: where each bucket of about four keys starts (uint32), for probing;
- ``sum_filter``: one bit per value of the top ``sum_filter_bits`` bits of skeleton *sums*
  (8 to 16 bits a record), set when some record's sum has it: a look-up computes a key only
  for the one number in ten or so whose bit is set;
- ``id_bitmap``: one bit per record id the base holds, so that applying a change knows in
  O(1) whether it removes a row of the base;
- ``coarse_filter`` and ``mixed_filter`` (``filters``): which numbers may have a recorded
  blind variant;
- ``alphabet_shapes`` and ``alphabet`` (``alphabet``): which characters the records of each
  issuing country and number length hold at each position.

The fingerprint of a number is the top half of a 64-bit sum that is linear in each byte, so
the fingerprint of an OCR variant is the query's sum plus a delta per changed character:
recognising which variant a recorded fingerprint stands for costs additions, not hashes.

How a row becomes a record is a hook (``RowReader``): the centre's rows carry ``meta``; the
edge kit's carry a sealed payload instead, opened with the number the look-up resolved.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, NamedTuple, Protocol

import numpy as np
from numpy.typing import NDArray

from bordercheck.screening.alphabet import Alphabets, from_arrays
from bordercheck.screening.keys import WIDTH, KeyScheme
from bordercheck.screening.probe import in_sum_filter, probe
from bordercheck.screening.records import Found, new_found, unpack_meta

# The arrays a snapshot holds, by the name it stores each under (the names files have had
# since the first format: ``presence`` is the sum filter, ``present`` the id bitmap).
STORED_AS: Final = {
    "skeletons": "skeletons",
    "fingerprints": "fingerprints",
    "record_ids": "record_ids",
    "meta": "meta",
    "directory": "directory",
    "sum_filter": "presence",
    "id_bitmap": "present",
    "coarse_filter": "coarse",
    "mixed_filter": "mixed",
    "alphabet_shapes": "alphabet_shapes",
    "alphabet": "alphabet",
}


@dataclass(frozen=True)
class BaseArrays:
    """The arrays described in the module's docstring. ``None``: not known (an index saved
    before it held them, or the kit's rows), which costs idle probes, never a miss."""

    skeletons: NDArray[np.uint64]
    fingerprints: NDArray[np.uint32]
    record_ids: NDArray[np.uint32]
    meta: NDArray[np.uint8] | None  # None: the rows are read by another ``RowReader``
    directory: NDArray[np.uint32]
    directory_bits: int
    sum_filter: NDArray[np.uint8]
    sum_filter_bits: int
    id_bitmap: NDArray[np.uint8] | None  # None: changes are not applied to these rows
    # A Bloom filter over the coarse skeleton keys (blind pairs joined); None: not known
    # (every number may have a blind variant). Removed records leave their bits set until
    # the next build: a few idle probes, no misses.
    coarse_filter: NDArray[np.uint8] | None = None
    # The same kind of filter over the coarse keys of records whose skeletons differ in
    # one or two characters. A query's blind variants differ from its skeleton in one or
    # two characters: where its own skeleton is recorded and its coarse key is not in
    # here, no record is one of them, and they need no probe. None: not known (every
    # coarse key counts as mixed).
    mixed_filter: NDArray[np.uint8] | None = None
    # Sorted shape keys and each one's masks; None: not known (every blind variant probed).
    alphabet_shapes: NDArray[np.uint64] | None = None
    alphabet: NDArray[np.uint64] | None = None

    def arrays(self) -> dict[str, NDArray[Any]]:
        """The arrays held, by the name a snapshot stores them under."""
        return {
            stored: array
            for name, stored in STORED_AS.items()
            if (array := getattr(self, name)) is not None
        }

    @classmethod
    def of_stored(
        cls, arrays: dict[str, NDArray[Any]], directory_bits: int, sum_filter_bits: int
    ) -> BaseArrays:
        """From a snapshot's arrays (those it lacks are not known)."""

        def stored(name: str) -> NDArray[Any]:
            return arrays[STORED_AS[name]]

        def known(name: str) -> NDArray[Any] | None:
            # Releases before None meant "not known" saved empty arrays for it.
            array = arrays.get(STORED_AS[name])
            return array if array is not None and len(array) else None

        shapes, alphabet = known("alphabet_shapes"), known("alphabet")
        return cls(
            skeletons=stored("skeletons"),
            fingerprints=stored("fingerprints"),
            record_ids=stored("record_ids"),
            meta=stored("meta"),
            directory=stored("directory"),
            directory_bits=directory_bits,
            sum_filter=stored("sum_filter"),
            sum_filter_bits=sum_filter_bits,
            id_bitmap=stored("id_bitmap"),
            coarse_filter=known("coarse_filter"),
            mixed_filter=known("mixed_filter"),
            alphabet_shapes=shapes if alphabet is not None else None,
            alphabet=alphabet if shapes is not None else None,
        )

    @functools.cached_property
    def alphabets(self) -> Alphabets | None:
        """The alphabets as a dictionary, made once per base (None: not known)."""
        if self.alphabet_shapes is None or self.alphabet is None:
            return None
        return from_arrays(self.alphabet_shapes, self.alphabet)

    @property
    def nbytes(self) -> int:
        return sum(int(a.nbytes) for a in self.arrays().values())

    def probe_sums(
        self, scheme: KeyScheme, sums: NDArray[np.uint64], keys: NDArray[np.uint64] | None = None
    ) -> Probed:
        """The skeletons of ``sums`` the base holds: the sum filter first, then the keys of
        the sums it lets by (``keys``: those of all ``sums``, if known), probed."""
        maybe = np.flatnonzero(in_sum_filter(self.sum_filter, sums))
        wanted = keys[maybe] if keys is not None else scheme.skeleton_keys_of(sums[maybe])
        at, found = probe(self.skeletons, self.directory, self.directory_bits, wanted)
        return Probed(maybe[found], wanted[found], at[found])

    def holds_skeletons(
        self, scheme: KeyScheme, sums: NDArray[np.uint64], keys: NDArray[np.uint64] | None = None
    ) -> NDArray[np.bool_]:
        """Whether the base holds the skeleton of each sum (``keys``: theirs, if known)."""
        result = np.zeros(len(sums), bool)
        result[self.probe_sums(scheme, sums, keys).positions] = True
        return result


class Probed(NamedTuple):
    """What ``probe_sums`` found: ``positions`` in the sums probed whose skeleton the base
    holds, their skeleton ``keys``, and the row where each one's group ``starts``."""

    positions: NDArray[np.intp]
    keys: NDArray[np.uint64]
    starts: NDArray[np.intp]


class RowReader(Protocol):
    """The hook by which a look-up turns a row of the base into a record.

    Called with the row and the number the look-up resolved for it (the number asked, or
    the OCR variant whose fingerprint the row holds). The index reads ``record_ids`` and
    ``meta`` (``MetaReader``); the edge kit opens the row's sealed payload with the number.
    """

    def __call__(self, row: int, number: str) -> Found: ...


class MetaReader:
    """The index's rows: the record id and the metadata byte."""

    __slots__ = ("_ids", "_meta")

    def __init__(self, base: BaseArrays) -> None:
        if base.meta is None:
            raise ValueError("rows without metadata need a RowReader of their own")
        # memoryviews index in ~50 ns where numpy scalars take ~100 ns and allocate.
        self._ids, self._meta = base.record_ids.data, base.meta.data

    def __call__(self, row: int, number: str) -> Found:
        return new_found((self._ids[row], number, *unpack_meta(self._meta[row]), None))


def encode(numbers: Sequence[str]) -> NDArray[np.uint8]:
    """Normalised numbers as a (n, 24) uint8 matrix, NUL-padded."""
    raw = np.array(numbers, dtype=f"S{WIDTH}")
    return raw.view(np.uint8).reshape(len(numbers), WIDTH)
