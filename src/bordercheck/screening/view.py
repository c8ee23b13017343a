"""One consistent state of the index (base arrays, ranges, overlay), and what matching asks
of it (``matcher.RecordSource``).

Three parts: the base arrays (``base``: how they are laid out, and the ``RowReader`` hook
that turns a row into a record), one number's look-up (``lookup``: ``find``,
``find_numbers``) and a batch's first pass (``prefilter``: ``may_match``, ``settle``).
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from bordercheck.screening.alphabet import Alphabets, merged
from bordercheck.screening.base import BaseArrays, MetaReader, RowReader
from bordercheck.screening.confusions import Confusions
from bordercheck.screening.keys import KeyScheme
from bordercheck.screening.lookup import Lookup
from bordercheck.screening.overlay import Overlay
from bordercheck.screening.prefilter import Prefilter, overlay_coarse_sums
from bordercheck.screening.ranges import RangeTable
from bordercheck.screening.records import Candidate, Found, FoundAt


class IndexView:
    """Immutable: lookups on one state of the index. Obtained from ``ScreeningIndex.view()``.

    ``read_row``: how a row of the base becomes a record (``base.RowReader``); by default
    its record id and metadata byte (``MetaReader``).
    """

    def __init__(
        self,
        base: BaseArrays,
        ranges: RangeTable,
        overlay: Overlay,
        scheme: KeyScheme,
        confusions: Confusions,
        sequence: int,
        *,
        read_row: RowReader | None = None,
    ) -> None:
        self.base, self.ranges, self.overlay = base, ranges, overlay
        self.scheme, self.confusions, self.sequence = scheme, confusions, sequence
        self.read_row: RowReader = MetaReader(base) if read_row is None else read_row
        self.size = (
            len(base.record_ids) + ranges.size - overlay.removed_from_base + len(overlay.live)
        )
        # The parts see this view through a weak reference: with a strong one each view
        # would be a reference cycle, and the view a change replaces (about one a second
        # while records change, each holding its own copy of the overlay) would wait for
        # the garbage collector's full collections, which run seldom (``live.GC_THRESHOLD``),
        # instead of going when its last look-up does.
        self._lookup = Lookup(weakref.proxy(self))

    def view(self) -> IndexView:
        return self

    def replaced(self, *, overlay: Overlay, sequence: int) -> IndexView:
        """The same base and ranges with another overlay, at another sequence."""
        return IndexView(self.base, self.ranges, overlay, self.scheme, self.confusions,
                         sequence, read_row=self.read_row)  # fmt: skip

    # One number (``lookup``) ------------------------------------------------------------

    def find(
        self, country: str, number: str, max_changes: int, *, blind: bool = True
    ) -> list[Candidate]:
        """Records whose number is ``number`` or up to ``max_changes`` confusions from it, and
        ranges holding it or a reading of it with letters read as the digits they resemble.
        ``blind=False``: leave out blind variants (``may_match`` said there are none)."""
        return self._lookup.find(country, number, max_changes, blind=blind)

    def find_numbers(self, country: str, numbers: Sequence[str]) -> list[FoundAt]:
        """Exact look-ups of many numbers at once."""
        return self._lookup.find_numbers(country, numbers)

    # Many numbers (``prefilter``) -------------------------------------------------------

    def may_match(
        self,
        numbers: NDArray[np.uint8],
        lengths: NDArray[np.intp],
        codes: NDArray[np.uint32],
        max_changes: int,
    ) -> NDArray[np.uint8]:
        """Per number: 0 when ``find`` would surely find nothing, else ``MAY_MATCH``, with
        ``BLIND`` when blind variants may be among what it finds."""
        return self._prefilter.may_match(numbers, lengths, codes, max_changes)

    def settle(
        self,
        numbers: NDArray[np.uint8],
        lengths: NDArray[np.intp],
        codes: NDArray[np.uint32],
        max_changes: int,
    ) -> list[list[Found] | None]:
        """For numbers flagged ``MAY_MATCH`` alone: their records when all are exact and
        known at once, else None (look them up)."""
        return self._prefilter.settle(numbers, lengths, codes, max_changes)

    # What both read ---------------------------------------------------------------------

    @functools.cached_property
    def alphabets(self) -> Alphabets | None:
        """Each shape's masks, the base's and the overlay's (None: the base has none)."""
        alphabets = self.base.alphabets
        if alphabets is None or not self.overlay.alphabet:
            return alphabets
        return merged(alphabets, self.overlay.alphabet)

    @functools.cached_property
    def overlay_coarse_sums(self) -> NDArray[np.uint64]:
        """The coarse skeleton sums of the records applied since the build, sorted."""
        return overlay_coarse_sums(self)

    @functools.cached_property
    def overlay_coarse_set(self) -> frozenset[int]:
        return frozenset(self.overlay_coarse_sums.tolist())

    @functools.cached_property
    def _prefilter(self) -> Prefilter:
        return Prefilter(weakref.proxy(self))
