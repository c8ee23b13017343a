"""One number's look-up: the records it is, or is a few confusions from, and the ranges
holding it. Pure Python over memoryviews of the base arrays (a look-up costs microseconds;
numpy's fixed cost per call would be most of it), plus the overlay and the ranges.

How the base arrays are laid out: ``base``. What a look-up returns: ``Candidate``.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Final, NamedTuple

import numpy as np

from bordercheck.screening.alphabet import CHAR_BIT, NO_MASKS, shape_of
from bordercheck.screening.base import encode
from bordercheck.screening.deltas import (
    PAIRED,
    BlindStep,
    PairTable,
    blind_steps,
    by_top,
    look_alike_deltas,
    pair_table,
)
from bordercheck.screening.filters import filter_bits_of, filter_words
from bordercheck.screening.keys import MASK, country_code
from bordercheck.screening.records import Candidate, FoundAt, new_candidate

if TYPE_CHECKING:
    from bordercheck.screening.view import IndexView

_SPAN: Final = 1 << 32
_LOW: Final = _SPAN - 1
_SCALAR_UP_TO: Final = 48  # numbers: above this many, ``find_numbers`` goes vectorised


class Reading(NamedTuple):
    """A reading of the number asked (itself, or with ``changes`` look-alike confusions)
    whose fingerprint base ``row`` holds."""

    number: str
    changes: int
    row: int


class BlindVariant(NamedTuple):
    """One or two blind substitutions: what they add to the skeleton sum, and which."""

    delta: int
    changes: tuple[tuple[int, str], ...]  # (position, character)


# Made from a tuple of their fields, without NamedTuple's argument handling (a third of the
# cost).
_reading: Final[Callable[[tuple[str, int, int]], Reading]] = functools.partial(
    tuple.__new__, Reading
)
_blind_variant: Final[Callable[[tuple[int, tuple[tuple[int, str], ...]]], BlindVariant]] = (
    functools.partial(tuple.__new__, BlindVariant)
)


class Lookup:
    """The look-ups of one ``IndexView``: ``find`` and ``find_numbers``."""

    def __init__(self, view: IndexView) -> None:
        base, scheme, confusions = view.base, view.scheme, view.confusions
        self.view, self.scheme, self.confusions = view, scheme, confusions
        self.ranges, self.overlay, self.read_row = view.ranges, view.overlay, view.read_row
        # memoryviews index in ~50 ns where numpy scalars take ~100 ns and allocate.
        self._skeletons = base.skeletons.data
        self._fingerprints = base.fingerprints.data
        self._ids = base.record_ids.data
        self._directory = base.directory.data
        self._directory_shift = 64 - base.directory_bits
        self._sum_filter = base.sum_filter.data
        self._sum_filter_shift = 64 - base.sum_filter_bits
        self._skeleton_table = confusions.skeleton_table
        # No coarse filter (no blind pairs, or an index saved without it): every number
        # is near some record, as far as this look-up can tell.
        if base.coarse_filter is None:
            self._coarse_table: bytes | None = None
            self._coarse_words, self._coarse_shift = memoryview(b""), 64
        else:
            self._coarse_table = confusions.coarse_table
            self._coarse_words, self._coarse_shift = filter_words(base.coarse_filter)
        self._mixed_words: memoryview | None = None
        self._mixed_shift = 64
        if base.mixed_filter is not None:
            self._mixed_words, self._mixed_shift = filter_words(base.mixed_filter)
        self._deltas = look_alike_deltas(scheme, confusions)
        self._live = bool(view.overlay.live)
        self._by_top = by_top(scheme, confusions)
        self._blind_steps = blind_steps(scheme, confusions)

    def find(
        self, country: str, number: str, max_changes: int, *, blind: bool = True
    ) -> list[Candidate]:
        """Records whose number is ``number`` or up to ``max_changes`` confusions from it, and
        ranges holding it or a reading of it with letters read as the digits they resemble.
        ``blind=False``: leave out blind variants (``may_match`` said there are none)."""
        code = country_code(country)
        data = number.encode("ascii")
        # The coarse filter first: a record sharing the number's skeleton, or one of its
        # blind variants, shares its coarse skeleton. Most numbers screened have none in
        # the base (19 in 20 at 2 M records): no skeleton sum, no sum-filter bit, no variant.
        table = self._coarse_table
        if table is None:
            coarse = bits = None
            in_coarse = True
        else:
            coarse = self.scheme.skeleton_sum(data.translate(table), code)
            bits = filter_bits_of(coarse)
            in_coarse = self._coarse_words[coarse >> self._coarse_shift] & bits == bits
        near = in_coarse or self._live
        rows: list[int] = []
        found: list[Candidate] = []
        if near:
            total = self.scheme.skeleton_sum(data.translate(self._skeleton_table), code)
            top = total >> self._sum_filter_shift
            if (self._sum_filter[top >> 3] >> (top & 7)) & 1 or self._live:
                rows = self._group(key := self.scheme.skeleton_key_of(total))
                found = self._find(key, number, data, max_changes, rows)
        if (code, len(number)) in self.ranges.shapes:
            removed = self.overlay.removed
            found += [
                c
                for c in self.ranges.find(code, number, self.confusions, max_changes)
                if c.record.record_id not in removed
            ]
        if self.overlay.ranges:
            found += self.overlay.find_ranges(code, number, self.confusions, max_changes)
        if (
            blind
            and max_changes
            and near
            and self._may_have_blind_variant(coarse, bits, in_coarse, rows)
        ):
            steps = self._blind_steps_of(code, number)
            if steps:
                found += self._find_blind(total, number, max_changes, steps)
        return found

    def _find(
        self, key: int, number: str, data: bytes, max_changes: int, rows: list[int]
    ) -> list[Candidate]:
        """Records under skeleton ``key`` (``rows`` of the base, and the overlay's)
        ``max_changes`` look-alike confusions or fewer from ``number`` (``data``: its bytes)."""
        found = []
        if rows:
            total = self.scheme.fingerprint_sum(data, key)
            targets: dict[int, list[int]] = {}
            for row in rows:
                targets.setdefault(self._fingerprints[row], []).append(row)
            read_row = self.read_row
            for reading, changes, row in self._resolve(
                number, total, targets, max_changes, len(rows)
            ):
                found.append(new_candidate((reading, changes, read_row(row, reading))))
        if self._live:
            found += self.overlay.find(key, number, self.confusions, max_changes)
        return found

    def _blind_steps_of(self, code: int, number: str) -> list[BlindStep]:
        """The blind substitutions of ``number`` a record could hold: those putting a
        character where no record of the number's country and length has one are left out
        (``alphabet``)."""
        steps = self._blind_steps
        alphabets = self.view.alphabets
        masks = NO_MASKS if alphabets is None else alphabets.get(shape_of(code, len(number)))
        if masks is None:
            return []  # no record has this country and length
        return [
            step
            for p, char in enumerate(number)
            for step in steps[p].get(char, ())
            if alphabets is None or masks[p] >> CHAR_BIT[step.character] & 1
        ]

    def _find_blind(
        self, total: int, number: str, max_changes: int, steps: list[BlindStep]
    ) -> list[Candidate]:
        """What ``number``'s blind variants find (one or two of its blind ``steps``, and
        look-alikes up to ``max_changes`` in all; a character changes once). Each variant's
        skeleton key is the finaliser of the query's skeleton sum plus the steps' deltas,
        and the sum filter is indexed by sums: most variants cost an addition and one bit
        of the filter, and only those it lets by a key."""
        # The variants whose skeleton sum the sum filter lets by (few): singles, then
        # pairs at two positions, without building the others.
        shift, sum_filter, live = self._sum_filter_shift, self._sum_filter, self._live
        variants: list[BlindVariant] = []
        for i, (first, p1, c1) in enumerate(steps):
            once = (total + first) & MASK
            top = once >> shift
            if live or (sum_filter[top >> 3] >> (top & 7)) & 1:
                variants.append(_blind_variant((first, ((p1, c1),))))
            if max_changes < 2:
                continue
            for second, p2, c2 in steps[i + 1 :]:
                top = ((once + second) & MASK) >> shift
                # A character changes once: no pair at one position.
                if p2 != p1 and (live or (sum_filter[top >> 3] >> (top & 7)) & 1):
                    variants.append(_blind_variant((first + second, ((p1, c1), (p2, c2)))))
        overlay = self.overlay.by_skeleton if live else None
        found: list[Candidate] = []
        for delta, changes in variants:
            key = self.scheme.skeleton_key_of((total + delta) & MASK)
            rows = self._group(key)
            if not rows and (overlay is None or key not in overlay):
                continue
            chars = list(number)
            for p, c in changes:
                chars[p] = c
            variant = "".join(chars)
            left = max_changes - len(changes)
            found += [
                new_candidate((reading, n + len(changes), record))
                for reading, n, record in self._find(key, variant, variant.encode(), left, rows)
                if all(reading[p] == c for p, c in changes)
            ]
        return found

    def _may_have_blind_variant(
        self, coarse: int | None, bits: int | None, in_coarse: bool, rows: list[int]
    ) -> bool:
        """False when no record shares the number's coarse sum (``coarse``, its filter
        ``bits``, ``in_coarse``: whether the coarse filter holds it; None: there is no
        filter), or when those that do all share its skeleton too (the number's skeleton
        has base ``rows``, and the coarse sum is not in the mixed filter)."""
        if not self.confusions.blind:
            return False
        if coarse is None or bits is None:
            return True  # an index saved without the filter: probe every variant
        if self._live and coarse in self.view.overlay_coarse_set:
            return True
        if not in_coarse:
            return False
        mixed = self._mixed_words
        if mixed is None or mixed[coarse >> self._mixed_shift] & bits == bits:
            return True
        return not rows

    def find_numbers(self, country: str, numbers: Sequence[str]) -> list[FoundAt]:
        """Exact look-ups of many numbers at once."""
        code = country_code(country)
        view = self.view
        if len(numbers) <= _SCALAR_UP_TO:
            keys = [
                self.scheme.skeleton_key(n.encode("ascii").translate(self._skeleton_table), code)
                for n in numbers
            ]
            hit = [i for i, key in enumerate(keys) if self._group(key)]
        else:  # numpy's fixed cost per call pays off from a few dozen numbers
            matrix = encode(numbers)
            codes = np.full(len(numbers), code, np.uint32)
            sums = self.scheme.skeleton_sums(self.confusions.skeleton_array[matrix], codes)
            vector = self.scheme.skeleton_keys_of(sums)
            in_base = view.base.holds_skeletons(self.scheme, sums, vector)
            keys, hit = vector.tolist(), np.flatnonzero(in_base).tolist()
        out = []
        read_row = self.read_row
        for i in hit:
            fingerprint = self.scheme.fingerprint_sum(numbers[i].encode("ascii"), keys[i]) >> 32
            for row in self._group(keys[i]):
                if self._fingerprints[row] == fingerprint:
                    out.append(FoundAt(i, read_row(row, numbers[i])))
        if self._live:
            for i, key in enumerate(keys):
                for item in self.overlay.by_skeleton.get(key, ()):
                    if item.entry.number == numbers[i]:
                        out.append(FoundAt(i, item.found()))
        return out

    # Internals --------------------------------------------------------------------------

    def _group(self, skeleton_key: int) -> list[int]:
        """Rows of the base holding ``skeleton_key`` and not superseded by the overlay (the
        sum filter is the caller's to ask first, by the key's sum)."""
        bucket = skeleton_key >> self._directory_shift
        end = self._directory[bucket + 1]
        keys = self._skeletons
        row = bisect.bisect_left(keys, skeleton_key, self._directory[bucket], end)
        rows = []
        removed = self.overlay.removed
        while row < end and keys[row] == skeleton_key:
            if not removed or self._ids[row] not in removed:
                rows.append(row)
            row += 1
        return rows

    def _resolve(
        self,
        number: str,
        total: int,
        targets: dict[int, list[int]],
        max_changes: int,
        wanted: int,
    ) -> list[Reading]:
        """Readings of ``number`` (itself, one or two confusions) with a target fingerprint
        (``wanted``: how many rows the targets hold; once each has a reading, no more).

        A reading with one change at p matches target t when its delta d brings the sum
        into [t·2^32, (t+1)·2^32): d lies in [need, need + 2^32) for need = t·2^32 - sum, so
        the top half of d is one of two values, looked up in a table of every delta.
        """
        out = [_reading((number, 0, row)) for row in targets.get(total >> 32, ())]
        if max_changes < 1 or len(out) == wanted:
            return out
        get, length = self._by_top.get, len(number)
        for target, rows in targets.items():
            need = ((target << 32) - total) & MASK
            top = need >> 32
            for delta, p, old, new in (get(top) or ()) + (get((top + 1) & _LOW) or ()):
                if p < length and number[p] == old and (delta - need) & MASK < _SPAN:
                    reading = f"{number[:p]}{new}{number[p + 1 :]}"
                    out += [_reading((reading, 1, row)) for row in rows]
        if max_changes < 2 or len(out) == wanted:
            return out
        # Two changes: the same, with a table of every pair of changes by their sum's top
        # half (positions below PAIRED; longer numbers, rare, pair their own changes).
        if length > PAIRED:
            return out + self._resolve_pairs(number, total, targets)
        pairs = self._pairs
        first, after, seen = pairs.first.get, pairs.after, set()
        for target, rows in targets.items():
            need = ((target << 32) - total) & MASK
            top = need >> 32
            for k in (first(top, -1), first((top + 1) & _LOW, -1)):
                while k >= 0:
                    p1, p2 = pairs.p1[k], pairs.p2[k]
                    if (
                        p2 < length
                        and number[p1] == pairs.old1[k]
                        and number[p2] == pairs.old2[k]
                        and (pairs.delta[k] - need) & MASK < _SPAN
                        and (p1, p2, target) not in seen
                    ):
                        seen.add((p1, p2, target))
                        new1, new2 = pairs.new1[k], pairs.new2[k]
                        reading = (
                            f"{number[:p1]}{new1}{number[p1 + 1 : p2]}{new2}{number[p2 + 1 :]}"
                        )
                        out += [_reading((reading, 2, row)) for row in rows]
                    k = after[k]
        return out

    def _resolve_pairs(
        self, number: str, total: int, targets: dict[int, list[int]]
    ) -> list[Reading]:
        """Readings with two changes: the first one of the number's own, the second from
        the table of single changes."""
        get, length = self._by_top.get, len(number)
        singles = [
            (delta, p, c)
            for p, char in enumerate(number)
            for delta, c in self._deltas[p].get(char, ())
        ]
        out: list[Reading] = []
        seen: set[tuple[int, int, int]] = set()
        for target, rows in targets.items():
            need = ((target << 32) - total) & MASK
            for first, p1, c1 in singles:
                low = (need - first) & MASK
                top = low >> 32
                here, above = get(top), get((top + 1) & _LOW)
                if here is None and above is None:
                    continue  # the common case: no second change completes this one
                for second, p2, old, c2 in (here or ()) + (above or ()):
                    if p2 == p1 or p2 >= length or number[p2] != old:
                        continue
                    pair = (min(p1, p2), max(p1, p2), target)
                    if (second - low) & MASK < _SPAN and pair not in seen:
                        seen.add(pair)
                        chars = list(number)
                        chars[p1], chars[p2] = c1, c2
                        out += [_reading(("".join(chars), 2, row)) for row in rows]
        return out

    @functools.cached_property
    def _pairs(self) -> PairTable:
        return pair_table(self.scheme, self.confusions)
