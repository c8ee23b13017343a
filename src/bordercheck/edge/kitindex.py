"""Screening on a kit: the centre's matcher over rows that hold no document number.

A kit's rows are the centre's base arrays without ``meta``: each holds a sealed payload
instead, opened with the number the look-up resolved (the query, or the OCR variant whose
fingerprint the row holds). ``SealedRows`` is that reading, plugged into the centre's
``IndexView`` through its ``RowReader`` hook; ``SealedView`` is one set of rows (the
snapshot's, or those added since) and ``KitSource`` joins the two.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bordercheck.edge.rows import KitKeys, Payload, Rows, unpack_payload, xor
from bordercheck.screening.base import BaseArrays
from bordercheck.screening.confusions import DEFAULT_CONFUSIONS, Confusions
from bordercheck.screening.overlay import Overlay
from bordercheck.screening.probe import build_directory, build_filter, directory_bits, filter_bits
from bordercheck.screening.ranges import RangeTable
from bordercheck.screening.records import ALL_FAMILIES, Candidate, Found, FoundAt
from bordercheck.screening.view import IndexView


class WithheldFound(Found):
    """A row of a record withheld from the kit's country. The kit does not know its type, so
    it answers a query for any type: "possible hit, restricted", as screening online does."""

    __slots__ = ()

    @property
    def family_bit(self) -> int:
        return ALL_FAMILIES


class SealedRows:
    """The ``RowReader`` of a kit's rows: row ``r`` is record ``r + offset`` (ids mean
    nothing outside the kit), its payload sealed under a pad of the number and the row's
    skeleton key."""

    __slots__ = ("_keys", "_offset", "_sealed", "_skeletons")

    def __init__(
        self, skeletons: NDArray[np.uint64], payloads: NDArray[np.uint8], keys: KitKeys, offset: int
    ) -> None:
        self._skeletons, self._sealed = skeletons.data, payloads.reshape(-1).data
        self._keys, self._offset = keys, offset

    def payload(self, row: int, number: str) -> Payload:
        sealed = self._sealed[3 * row : 3 * row + 3]
        pad = self._keys.pad(number.encode("ascii"), self._skeletons[row])
        return unpack_payload(xor(bytes(sealed), pad))

    def __call__(self, row: int, number: str) -> Found:
        p = self.payload(row, number)
        # A range member reports as a range match; the kit does not know the range's ends.
        end = number if p.in_range else None
        kind = WithheldFound if p.restricted else Found
        return kind(row + self._offset, number, p.document_type, p.status, p.blank,
                    p.restricted, end)  # fmt: skip


class SealedView:
    """Rows sorted by skeleton hash, as the centre's index would hold them; ``removed`` rows
    are skipped; ids are row + ``offset``."""

    def __init__(
        self,
        base: BaseArrays,
        payloads: NDArray[np.uint8],
        keys: KitKeys,
        *,
        offset: int = 0,
        removed: frozenset[int] = frozenset(),
        confusions: Confusions = DEFAULT_CONFUSIONS,
    ) -> None:
        self.base, self.payloads, self.keys = base, payloads, keys
        self.rows, self.offset = len(base.skeletons), offset
        self.rows_read = SealedRows(base.skeletons, payloads, keys, offset)
        # No ranges (they are expanded into rows); the overlay only skips removed rows.
        self.index = IndexView(
            base,
            RangeTable.build([], keys.scheme),
            Overlay(removed=removed, removed_from_base=len(removed)),
            keys.scheme,
            confusions,
            0,
            read_row=self.rows_read,
        )

    @classmethod
    def of(
        cls, rows: Rows, keys: KitKeys, coarse: NDArray[np.uint8], *, offset: int = 0
    ) -> SealedView:
        skeletons = np.array(rows["skeleton"], np.uint64)  # a copy: aligned
        bits, sum_bits = directory_bits(len(rows)), filter_bits(len(rows))
        base = BaseArrays(
            skeletons=skeletons,
            fingerprints=np.array(rows["fingerprint"], np.uint32),
            record_ids=np.arange(offset, offset + len(rows), dtype=np.uint32),
            meta=None,  # each row's payload tells (``SealedRows``)
            directory=build_directory(skeletons, bits),
            directory_bits=bits,
            sum_filter=build_filter(keys.scheme.skeleton_sums_of(skeletons), sum_bits),
            sum_filter_bits=sum_bits,
            id_bitmap=None,  # changes come as rows added and removed, not applied
            coarse_filter=coarse if len(coarse) else None,  # built by the centre
            mixed_filter=None,  # not known: a query near a row probes its blind variants
        )
        return cls(base, np.array(rows["payload"], np.uint8), keys, offset=offset)

    @property
    def size(self) -> int:
        return self.index.size

    @property
    def confusions(self) -> Confusions:
        return self.index.confusions

    def without(self, removed: frozenset[int]) -> SealedView:
        """The same rows with ``removed`` skipped (arrays shared, not copied)."""
        return SealedView(self.base, self.payloads, self.keys, offset=self.offset,
                          removed=removed, confusions=self.confusions)  # fmt: skip

    def payload(self, row: int, number: str) -> Payload:
        return self.rows_read.payload(row, number)


class KitSource:
    """One consistent state of a kit: what ``screen`` and ``screen_batch`` read.

    The snapshot's rows (minus those removed since) and the rows added since, each a view:
    applying changes costs their number, not the kit's size, and a query the added rows'
    filters rule out costs a hash and a bit test more than on the centre.
    """

    def __init__(
        self, snapshot: SealedView, added: SealedView, *, sequence: int, data_as_of: datetime
    ) -> None:
        self.snapshot, self.added = snapshot, added
        self.sequence, self.data_as_of = sequence, data_as_of
        self.size = snapshot.size + added.size
        self.confusions = snapshot.confusions

    def view(self) -> KitSource:
        return self

    def find(
        self, country: str, number: str, max_changes: int, *, blind: bool = True
    ) -> list[Candidate]:
        found = self.snapshot.index.find(country, number, max_changes, blind=blind)
        if self.added.rows:
            found += self.added.index.find(country, number, max_changes, blind=blind)
        return found

    def find_numbers(self, country: str, numbers: Sequence[str]) -> list[FoundAt]:
        found = self.snapshot.index.find_numbers(country, numbers)
        if self.added.rows:
            found += self.added.index.find_numbers(country, numbers)
        return found

    def settle(
        self,
        numbers: NDArray[np.uint8],
        lengths: NDArray[np.intp],
        codes: NDArray[np.uint32],
        max_changes: int,
    ) -> list[list[Found] | None]:
        """Nothing settled at once: a kit opens each recorded row's sealed payload."""
        return [None] * len(numbers)

    def may_match(
        self,
        numbers: NDArray[np.uint8],
        lengths: NDArray[np.intp],
        codes: NDArray[np.uint32],
        max_changes: int,
    ) -> NDArray[np.uint8]:
        result = self.snapshot.index.may_match(numbers, lengths, codes, max_changes)
        if self.added.rows:
            result |= self.added.index.may_match(numbers, lengths, codes, max_changes)
        return result

    def details(self, record_id: int, number: str) -> Payload:
        """The payload of a match (its date reported is not in ``Match``)."""
        view = self.snapshot if record_id < self.added.offset else self.added
        return view.payload(record_id - view.offset, number)

    @property
    def nbytes(self) -> int:
        return sum(int(a.nbytes) for v in (self.snapshot, self.added) for a in _arrays(v))


def _arrays(view: SealedView) -> list[Any]:
    return [*view.base.arrays().values(), view.payloads]
