"""A batch's first pass: which numbers may match anything, and the recorded ones settled.

All vectorised over a batch's numbers as a (n, 24) uint8 matrix: nearly every number stops
at the sum filter or the skeleton probe, and only those that may match something are looked
up one by one (``lookup``). The matching rules stay in ``matcher``; this decides only who
needs them.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Final

import numpy as np
from numpy.typing import NDArray

from bordercheck.screening.alphabet import as_arrays, masks_of, shapes_of
from bordercheck.screening.base import encode
from bordercheck.screening.confusions import translated
from bordercheck.screening.deltas import blind_deltas, blind_table, delta_table
from bordercheck.screening.filters import in_filter
from bordercheck.screening.keys import WIDTH, country_code
from bordercheck.screening.probe import isin_sorted
from bordercheck.screening.ranges import shape_codes
from bordercheck.screening.records import BLIND, MAY_MATCH, Found

if TYPE_CHECKING:
    from bordercheck.screening.view import IndexView

# Rows of a skeleton group read in one vectorised step; a larger group (rare) is left to
# the look-up one by one.
_GROUP_ROWS: Final = 4


class Prefilter:
    """The batch pass of one ``IndexView``: ``may_match`` and ``settle``."""

    def __init__(self, view: IndexView) -> None:
        self.view, self.base, self.scheme = view, view.base, view.scheme
        self.confusions, self.ranges, self.overlay = view.confusions, view.ranges, view.overlay

    def may_match(
        self,
        numbers: NDArray[np.uint8],
        lengths: NDArray[np.intp],
        codes: NDArray[np.uint32],
        max_changes: int,
    ) -> NDArray[np.uint8]:
        """For each number, what ``find`` may find: 0 when surely nothing, ``MAY_MATCH``
        when something, with ``BLIND`` too when that may include blind variants.

        The common case (no record, no variant) costs one hash and one directory probe.
        """
        width = int(lengths.max()) if len(lengths) else 0
        skeleton_table = self.confusions.skeleton_table
        sums = self.scheme.skeleton_sums(translated(numbers, skeleton_table), codes)
        result = self._skeleton_recorded(sums).view(np.uint8)
        if max_changes and self.confusions.blind:
            blind = self._blind_may_match(numbers, width, codes, lengths, sums, max_changes)
            result |= blind * (MAY_MATCH | BLIND)
        result |= self.ranges.may_hold(
            numbers, lengths, codes, self.scheme, self.confusions, max_changes
        )
        if len(self.overlay.range_lengths):
            result |= isin_sorted(shape_codes(codes, lengths), self.overlay.range_lengths)
        return result

    def settle(
        self,
        numbers: NDArray[np.uint8],
        lengths: NDArray[np.intp],
        codes: NDArray[np.uint32],
        max_changes: int,
    ) -> list[list[Found] | None]:
        """For numbers ``may_match`` flagged ``MAY_MATCH`` without ``BLIND``: the records
        ``find`` would find, when they can be told at once, else None. They can when every
        base row under the number's skeleton holds the number itself (its fingerprint) and
        nothing else is in play: no range of its shape, no record applied since under its
        skeleton, a group of at most four rows. Recorded numbers, the most of a batch's
        candidates, are settled here in a few vectorised steps instead of one look-up each."""
        out: list[list[Found] | None] = [None] * len(numbers)
        if not len(numbers):
            return out
        skeleton_table = self.confusions.skeleton_table
        sums = self.scheme.skeleton_sums(translated(numbers, skeleton_table), codes)
        where, keys, at = self.base.probe_sums(self.scheme, sums)
        plain = ~self.ranges.may_hold(
            numbers, lengths, codes, self.scheme, self.confusions, max_changes
        )
        if len(self.overlay.range_lengths):
            plain &= ~isin_sorted(shape_codes(codes, lengths), self.overlay.range_lengths)
        keep = plain[where]
        if len(self.overlay.skeleton_keys):
            keep &= ~isin_sorted(keys, self.overlay.skeleton_keys)
        where, keys, at = where[keep], keys[keep], at[keep]
        tops = self.scheme.fingerprints(numbers[where], keys)
        skeletons, fingerprints = self.base.skeletons, self.base.fingerprints
        rows = np.minimum(at[:, None] + np.arange(_GROUP_ROWS + 1), len(skeletons) - 1)
        same = skeletons[rows] == keys[:, None]
        same[:, 1:] &= rows[:, 1:] > rows[:, :-1]  # not the last row again, at the end
        exact = (fingerprints[rows] == tops[:, None]) | ~same
        settled = exact.all(axis=1) & ~same[:, _GROUP_ROWS]
        removed = self.overlay.removed
        ids, read_row = self.base.record_ids.data, self.view.read_row
        texts = numbers[where].view(f"S{WIDTH}").ravel().tolist()
        for j in np.flatnonzero(settled).tolist():
            number = texts[j].decode("ascii")
            found = []
            for row in rows[j][same[j]].tolist():
                if not removed or ids[row] not in removed:
                    found.append(read_row(row, number))
            out[int(where[j])] = found
        return out

    def _skeleton_recorded(self, sums: NDArray[np.uint64]) -> NDArray[np.bool_]:
        """Whether some record (of the base, or applied since) has the skeleton of each sum."""
        if not len(self.overlay.skeleton_keys):
            return self.base.holds_skeletons(self.scheme, sums)
        keys = self.scheme.skeleton_keys_of(sums)
        in_base = self.base.holds_skeletons(self.scheme, sums, keys)
        return in_base | isin_sorted(keys, self.overlay.skeleton_keys)

    def _blind_may_match(
        self,
        numbers: NDArray[np.uint8],
        width: int,
        codes: NDArray[np.uint32],
        lengths: NDArray[np.intp],
        sums: NDArray[np.uint64],
        max_changes: int,
    ) -> NDArray[np.bool_]:
        """Whether a blind variant of each number may be recorded: the coarse filter first,
        then, for the few that pass it, the variants some record's alphabet allows, each a
        probe of its own skeleton key (the number's skeleton sum plus the substitutions'
        deltas) and fingerprints."""
        result = np.zeros(len(numbers), bool)
        coarse_table = self.confusions.coarse_table
        coarse = self.scheme.skeleton_sums(translated(numbers, coarse_table), codes)
        if self.base.coarse_filter is None:
            passing = np.ones(len(numbers), bool)  # not known: every number may
        else:
            passing = in_filter(coarse, self.base.coarse_filter)
        if self.overlay.live:
            passing |= isin_sorted(coarse, self.view.overlay_coarse_sums)
        rows = np.flatnonzero(passing)
        if not len(rows):
            return result
        matrix = numbers[rows]
        allowed = None
        if self._alphabet_table is not None:
            allowed = masks_of(*self._alphabet_table, shapes_of(codes[rows], lengths[rows]))
        owners, skeleton_deltas, number_deltas, left = blind_deltas(
            matrix,
            width,
            self.confusions.blind_alternatives,
            blind_table(self.scheme, self.confusions),
            max_changes,
            allowed,
        )
        if not len(owners):
            return result
        variant_sums = sums[rows][owners] + skeleton_deltas
        # The look-alikes still allowed are read off the number rather than the variant:
        # they differ only where the variant changed it, so this finds a superset.
        found = self._variant_in_base(variant_sums, matrix, owners, number_deltas, left, width)
        if len(self.overlay.skeleton_keys):
            keys = self.scheme.skeleton_keys_of(variant_sums)
            found |= isin_sorted(keys, self.overlay.skeleton_keys)
        result[rows[owners[found]]] = True
        return result

    def _variant_in_base(
        self,
        sums: NDArray[np.uint64],
        numbers: NDArray[np.uint8],
        owners: NDArray[np.intp],
        number_deltas: NDArray[np.uint64],
        left: NDArray[np.intp],
        width: int,
    ) -> NDArray[np.bool_]:
        """Whether a base record holds each variant (its skeleton sum; the number it comes
        from, a row of ``numbers``; what it adds to that number's sum), or one look-alike
        away from it when ``left`` allows: the sum filter, the skeleton probe, then the
        fingerprints, as ``find`` would resolve them (one at a time in Python, most skeleton
        collisions would end there)."""
        base = self.base
        result = np.zeros(len(sums), bool)
        where, keys, at = base.probe_sums(self.scheme, sums)
        if not len(where):
            return result
        left, owners = left[where], owners[where]
        chosen = numbers[owners]
        totals = self.scheme.fingerprint_bases(keys) + self.scheme.number_sums(chosen)
        totals += number_deltas[where]
        # The variant's own fingerprint sum, and with each look-alike of each character.
        if int(left.max()) >= 1:
            changes = delta_table(self.scheme, self.confusions)[:width]
            chosen = chosen[:, :width]
            steps = changes[np.arange(width)[None, :], chosen]  # (n, width, alternatives)
            usable = (left >= 1)[:, None, None] & (steps != 0)
            more = (totals[:, None, None] + steps)[usable]
            owner = np.broadcast_to(np.arange(len(where))[:, None, None], steps.shape)[usable]
        else:
            more, owner = np.zeros(0, np.uint64), np.zeros(0, np.intp)
        tops = np.concatenate([totals, more]) >> np.uint64(32)
        rows = np.concatenate([np.arange(len(where)), owner])
        in_base = np.zeros(len(where), bool)
        skeletons, fingerprints = base.skeletons, base.fingerprints
        for step in range(_GROUP_ROWS):
            row = np.minimum(at[rows] + step, len(skeletons) - 1)
            same = skeletons[row] == keys[rows]
            in_base[rows[same & (fingerprints[row] == tops)]] = True
            if step == _GROUP_ROWS - 1:  # a larger group: let the one-by-one look settle it
                in_base[rows[same]] = True
        result[where] = in_base
        return result

    @functools.cached_property
    def _alphabet_table(self) -> tuple[NDArray[np.uint64], NDArray[np.uint64]] | None:
        """The alphabets as arrays (None: not known)."""
        base, alphabets = self.base, self.view.alphabets
        if alphabets is None:
            return None
        if not self.overlay.alphabet and base.alphabet_shapes is not None:
            assert base.alphabet is not None
            return base.alphabet_shapes, base.alphabet
        return as_arrays(alphabets)


def overlay_coarse_sums(view: IndexView) -> NDArray[np.uint64]:
    """The sorted coarse skeleton sums of the records applied since the base was built."""
    live = [item.entry for item in view.overlay.live.values() if item.serial is None]
    if not live:
        return np.zeros(0, np.uint64)
    matrix = encode([entry.number for entry in live])
    codes = np.array([country_code(entry.country) for entry in live], np.uint32)
    return np.sort(view.scheme.skeleton_sums(view.confusions.coarse_array[matrix], codes))
