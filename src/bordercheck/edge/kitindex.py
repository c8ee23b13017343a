"""Screening on a kit: the centre's matcher over rows that hold no document number.

``SealedView`` is the centre's ``IndexView`` over a kit's rows; the only difference is how
a found row is read: its payload is opened with the number the matcher resolved (the query,
or the OCR variant whose fingerprint the row holds). ``KitSource`` joins the snapshot's rows
(minus those removed since) and the rows added since.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from bordercheck.edge.rows import KitKeys, Payload, Rows, unpack_payload, xor
from bordercheck.screening.confusions import DEFAULT_CONFUSIONS, Confusions
from bordercheck.screening.overlay import Overlay
from bordercheck.screening.probe import build_directory, build_filter, directory_bits, filter_bits
from bordercheck.screening.ranges import RangeTable
from bordercheck.screening.records import ALL_FAMILIES, Found
from bordercheck.screening.view import BaseArrays, Candidate, IndexView

_NO_META: Final = np.zeros(0, np.uint8)


class WithheldFound(Found):
    """A row of a record withheld from the kit's country. The kit does not know its type, so
    it answers a query for any type: "possible hit, restricted", as screening online does."""

    __slots__ = ()

    @property
    def family_bit(self) -> int:
        return ALL_FAMILIES


class SealedView(IndexView):
    """Rows sorted by skeleton hash; ``removed`` rows are skipped; ids are row + ``offset``
    (they mean nothing outside the kit)."""

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
        # No ranges (they are expanded into rows); the overlay only skips removed rows.
        ranges = RangeTable.build([], keys.scheme)
        overlay = Overlay(removed=removed, removed_from_base=len(removed))
        super().__init__(base, ranges, overlay, keys.scheme, confusions, 0)
        self.rows = len(base.skeletons)
        self.offset = offset
        self.keys = keys
        self.payloads = payloads
        self._sealed = payloads.reshape(-1).data

    @classmethod
    def of(
        cls, rows: Rows, keys: KitKeys, coarse: NDArray[np.uint8], *, offset: int = 0
    ) -> SealedView:
        skeletons = np.array(rows["skeleton"], np.uint64)  # a copy: aligned
        bits, presence = directory_bits(len(rows)), filter_bits(len(rows))
        base = BaseArrays(
            skeletons=skeletons,
            fingerprints=np.array(rows["fingerprint"], np.uint32),
            record_ids=np.arange(offset, offset + len(rows), dtype=np.uint32),
            meta=_NO_META,
            directory=build_directory(skeletons, bits),
            presence=build_filter(keys.scheme.skeleton_sums_of(skeletons), presence),
            present=_NO_META,
            coarse=coarse,  # built by the centre, which has the numbers
            mixed=_NO_META,  # not known: a query near a row probes its blind variants
            directory_bits=bits,
            presence_bits=presence,
        )
        return cls(base, np.array(rows["payload"], np.uint8), keys, offset=offset)

    def without(self, removed: frozenset[int]) -> SealedView:
        """The same rows with ``removed`` skipped (arrays shared, not copied)."""
        return SealedView(self.base, self.payloads, self.keys, offset=self.offset,
                          removed=removed, confusions=self.confusions)  # fmt: skip

    def payload(self, row: int, number: str) -> Payload:
        sealed = self._sealed[3 * row : 3 * row + 3]
        pad = self.keys.pad(number.encode("ascii"), self._skeletons[row])
        return unpack_payload(xor(bytes(sealed), pad))

    def _found(self, row: int, number: str) -> Found:
        p = self.payload(row, number)
        # A range member reports as a range match; the kit does not know the range's ends.
        end = number if p.in_range else None
        kind = WithheldFound if p.restricted else Found
        return kind(self._ids[row], number, p.document_type, p.status, p.blank, p.restricted,
                    end)  # fmt: skip


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
        found = self.snapshot.find(country, number, max_changes, blind=blind)
        if self.added.rows:
            found += self.added.find(country, number, max_changes, blind=blind)
        return found

    def find_numbers(self, country: str, numbers: Sequence[str]) -> list[tuple[int, Found]]:
        found = self.snapshot.find_numbers(country, numbers)
        if self.added.rows:
            found += self.added.find_numbers(country, numbers)
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
        result = self.snapshot.may_match(numbers, lengths, codes, max_changes)
        if self.added.rows:
            result |= self.added.may_match(numbers, lengths, codes, max_changes)
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
