"""One consistent view of the index (base arrays, ranges, overlay): the lookups matching needs.

Base arrays, one row per record, sorted by skeleton key (17 bytes a record):
``skeletons`` uint64 (the keyed hash of the number's OCR skeleton and the country),
``fingerprints`` uint32 (tells apart numbers sharing a skeleton), ``record_ids`` uint32,
``meta`` uint8. Besides them: ``directory`` (uint32 per bucket of about four keys, for
probing), ``presence`` (8 to 16 bits a key, indexed by skeleton sums: a look-up probes
only the one number in ten or so whose bit is set), ``present`` (a bitmap of record ids,
so that applying a change knows in O(1) whether the base holds the record), ``coarse`` and
``mixed`` (``filters``: which numbers may have a recorded blind variant).

The fingerprint of a number is the top half of a 64-bit sum that is linear in each byte, so
the fingerprint of an OCR variant is the query's sum plus a delta per changed character:
recognising which variant a recorded fingerprint stands for costs additions, not hashes.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from bordercheck.screening.alphabet import (
    CHAR_BIT,
    NO_MASKS,
    Alphabets,
    as_arrays,
    from_arrays,
    masks_of,
    merged,
    shape_of,
    shapes_of,
)
from bordercheck.screening.confusions import Confusions, translated
from bordercheck.screening.deltas import (
    PAIRED,
    PairTable,
    blind_deltas,
    blind_steps,
    blind_table,
    by_top,
    delta_table,
    look_alike_deltas,
    pair_table,
)
from bordercheck.screening.filters import filter_bits_of, filter_words, in_filter
from bordercheck.screening.keys import MASK, WIDTH, KeyScheme, country_code
from bordercheck.screening.overlay import Overlay
from bordercheck.screening.probe import in_presence, isin_sorted, probe
from bordercheck.screening.ranges import RangeTable, shape_codes
from bordercheck.screening.records import BLIND, MAY_MATCH, Found, new_found, unpack_meta

BASE_ARRAYS: Final = (
    "skeletons", "fingerprints", "record_ids", "meta", "directory", "presence", "present",
    "coarse", "mixed", "alphabet_shapes", "alphabet",
)  # fmt: skip
_SPAN: Final = 1 << 32
_LOW: Final = _SPAN - 1
_SCALAR_UP_TO: Final = 48

# (the number as the record holds it, confusions read through, the record)
Candidate = tuple[str, int, Found]


@dataclass(frozen=True)
class BaseArrays:
    skeletons: NDArray[np.uint64]
    fingerprints: NDArray[np.uint32]
    record_ids: NDArray[np.uint32]
    meta: NDArray[np.uint8]
    directory: NDArray[np.uint32]
    presence: NDArray[np.uint8]
    present: NDArray[np.uint8]
    # A Bloom filter over the coarse skeleton keys; empty without blind pairs. Removed
    # records leave their bits set until the next build: a few idle probes, no misses.
    coarse: NDArray[np.uint8]
    # The same kind of filter over the coarse keys of records whose skeletons differ in
    # one or two characters. A query's blind variants differ from its skeleton in one or
    # two characters: where its own skeleton is recorded and its coarse key is not in
    # here, no record is one of them, and they need no probe. Empty: not known (every
    # coarse key counts as mixed).
    mixed: NDArray[np.uint8]
    directory_bits: int
    presence_bits: int
    # Which characters the records of each shape hold at each position (``alphabet``):
    # sorted shape keys and their masks. Empty: not known (every blind variant is probed).
    alphabet_shapes: NDArray[np.uint64] = field(default_factory=lambda: np.zeros(0, np.uint64))
    alphabet: NDArray[np.uint64] = field(default_factory=lambda: np.zeros((0, WIDTH), np.uint64))

    def arrays(self) -> dict[str, NDArray[Any]]:
        return {name: getattr(self, name) for name in BASE_ARRAYS}

    @functools.cached_property
    def alphabets(self) -> Alphabets | None:
        """The alphabets as a dictionary, made once per base (None: not known)."""
        if not len(self.alphabet_shapes):
            return None
        return from_arrays(self.alphabet_shapes, self.alphabet)

    @property
    def nbytes(self) -> int:
        return sum(int(a.nbytes) for a in self.arrays().values())


class IndexView:
    """Immutable: lookups on one state of the index. Obtained from ``ScreeningIndex.view()``."""

    def __init__(
        self,
        base: BaseArrays,
        ranges: RangeTable,
        overlay: Overlay,
        scheme: KeyScheme,
        confusions: Confusions,
        sequence: int,
    ) -> None:
        self.base, self.ranges, self.overlay = base, ranges, overlay
        self.scheme, self.confusions, self.sequence = scheme, confusions, sequence
        self.size = (
            len(base.record_ids) + ranges.size - overlay.removed_from_base + len(overlay.live)
        )
        # memoryviews index in ~50 ns where numpy scalars take ~100 ns and allocate.
        self._skeletons = base.skeletons.data
        self._fingerprints = base.fingerprints.data
        self._ids = base.record_ids.data
        self._meta = base.meta.data
        self._directory = base.directory.data
        self._shift = 64 - base.directory_bits
        self._presence = base.presence.data
        self._presence_shift = 64 - base.presence_bits
        self._skeleton_table = confusions.skeleton_table
        self._coarse_words, self._coarse_shift = filter_words(base.coarse)
        # None without a coarse filter (no blind pairs, or an index saved without it).
        self._coarse_table = confusions.coarse_table if len(self._coarse_words) else None
        self._mixed_words, self._mixed_shift = filter_words(base.mixed)
        self._deltas = look_alike_deltas(scheme, confusions)
        self._live = bool(overlay.live)
        self._by_top = by_top(scheme, confusions)
        self._blind_steps = blind_steps(scheme, confusions)

    def view(self) -> IndexView:
        return self

    # One number -------------------------------------------------------------------------

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
        # the base (19 in 20 at 2 M records): no skeleton sum, no presence bit, no variant.
        table = self._coarse_table
        if table is None:
            coarse = bits = None
            held = True
        else:
            coarse = self.scheme.skeleton_sum(data.translate(table), code)
            bits = filter_bits_of(coarse)
            held = self._coarse_words[coarse >> self._coarse_shift] & bits == bits
        near = held or self._live
        rows: list[int] = []
        found: list[Candidate] = []
        if near:
            total = self.scheme.skeleton_sum(data.translate(self._skeleton_table), code)
            top = total >> self._presence_shift
            if (self._presence[top >> 3] >> (top & 7)) & 1 or self._live:
                rows = self._group(key := self.scheme.skeleton_key_of(total))
                found = self._find(key, number, data, max_changes, rows)
        if (code, len(number)) in self.ranges.shapes:
            removed = self.overlay.removed
            found += [
                c
                for c in self.ranges.find(code, number, self.confusions, max_changes)
                if c[2].record_id not in removed
            ]
        if self.overlay.ranges:
            found += self.overlay.find_ranges(code, number, self.confusions, max_changes)
        if (
            blind
            and max_changes
            and near
            and self._may_have_blind_variant(coarse, bits, held, rows)
        ):
            singles = self._blind_singles(code, number)
            if singles:
                found += self._find_blind(total, number, max_changes, singles)
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
            for reading, changes, row in self._resolve(
                number, total, targets, max_changes, len(rows)
            ):
                found.append((reading, changes, self._found(row, reading)))
        if self._live:
            found += self.overlay.find(key, number, self.confusions, max_changes)
        return found

    def _blind_singles(self, code: int, number: str) -> list[tuple[int, int, str]]:
        """The blind substitutions of ``number`` a record could hold, as (skeleton-sum delta,
        position, character): those putting a character where no record of the number's
        country and length has one are left out (``alphabet``)."""
        steps = self._blind_steps
        alphabets = self.alphabets
        masks = NO_MASKS if alphabets is None else alphabets.get(shape_of(code, len(number)))
        if masks is None:
            return []  # no record has this country and length
        return [
            (delta, p, other)
            for p, char in enumerate(number)
            for delta, other in steps[p].get(char, ())
            if alphabets is None or masks[p] >> CHAR_BIT[other] & 1
        ]

    def _find_blind(
        self, total: int, number: str, max_changes: int, singles: list[tuple[int, int, str]]
    ) -> list[Candidate]:
        """What ``number``'s blind variants find (one or two of its blind substitutions,
        ``singles``, and look-alikes up to ``max_changes`` in all; a character changes once).
        Each variant's skeleton key is the finaliser of the query's skeleton sum plus the
        substitutions' deltas, and the presence filter is indexed by sums: most variants
        cost an addition and one bit of the filter, and only those it lets by a key."""
        # The variants whose skeleton sum the presence filter lets by (few): singles, then
        # pairs at two positions, without building the others.
        shift, presence, live = self._presence_shift, self._presence, self._live
        variants: list[tuple[int, tuple[tuple[int, str], ...]]] = []
        for i, (first, p1, c1) in enumerate(singles):
            once = (total + first) & MASK
            top = once >> shift
            if live or (presence[top >> 3] >> (top & 7)) & 1:
                variants.append((first, ((p1, c1),)))
            if max_changes < 2:
                continue
            for second, p2, c2 in singles[i + 1 :]:
                top = ((once + second) & MASK) >> shift
                # A character changes once: no pair at one position.
                if p2 != p1 and (live or (presence[top >> 3] >> (top & 7)) & 1):
                    variants.append((first + second, ((p1, c1), (p2, c2))))
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
                (reading, n + len(changes), record)
                for reading, n, record in self._find(key, variant, variant.encode(), left, rows)
                if all(reading[p] == c for p, c in changes)
            ]
        return found

    def find_numbers(self, country: str, numbers: Sequence[str]) -> list[tuple[int, Found]]:
        """Exact look-ups of many numbers at once: (position in ``numbers``, record)."""
        code = country_code(country)
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
            keys, hit = vector.tolist(), np.flatnonzero(self._held_keys(sums, vector)).tolist()
        out = []
        for i in hit:
            fingerprint = self.scheme.fingerprint_sum(numbers[i].encode("ascii"), keys[i]) >> 32
            for row in self._group(keys[i]):
                if self._fingerprints[row] == fingerprint:
                    out.append((i, self._found(row, numbers[i])))
        if self._live:
            for i, key in enumerate(keys):
                for item in self.overlay.by_skeleton.get(key, ()):
                    if item.entry.number == numbers[i]:
                        out.append((i, item.found()))
        return out

    # Many numbers -----------------------------------------------------------------------

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
        sums = self.scheme.skeleton_sums(translated(numbers, self._skeleton_table), codes)
        result = self._present(sums).view(np.uint8)
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
        sums = self.scheme.skeleton_sums(translated(numbers, self._skeleton_table), codes)
        where, keys, at = self._probe_sums(sums)
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
        texts = numbers[where].view(f"S{WIDTH}").ravel().tolist()
        for j in np.flatnonzero(settled).tolist():
            number = texts[j].decode("ascii")
            found = []
            for row in rows[j][same[j]].tolist():
                if not removed or self._ids[row] not in removed:
                    found.append(self._found(row, number))
            out[int(where[j])] = found
        return out

    def _present(self, sums: NDArray[np.uint64]) -> NDArray[np.bool_]:
        """Whether the skeleton of each sum is held by some record (base or overlay)."""
        if not len(self.overlay.skeleton_keys):
            return self._held_keys(sums)
        keys = self.scheme.skeleton_keys_of(sums)
        return self._held_keys(sums, keys) | isin_sorted(keys, self.overlay.skeleton_keys)

    def _held_keys(
        self, sums: NDArray[np.uint64], keys: NDArray[np.uint64] | None = None
    ) -> NDArray[np.bool_]:
        """Whether the base holds the skeleton of each sum (``keys``: theirs, if known)."""
        result = np.zeros(len(sums), bool)
        result[self._probe_sums(sums, keys)[0]] = True
        return result

    def _probe_sums(
        self, sums: NDArray[np.uint64], keys: NDArray[np.uint64] | None = None
    ) -> tuple[NDArray[np.intp], NDArray[np.uint64], NDArray[np.intp]]:
        """The positions in ``sums`` of the skeletons the base holds, their keys and where
        their groups start: the presence filter by sum, then the keys of those it lets by
        (``keys``: all of them, if known), probed."""
        base = self.base
        maybe = np.flatnonzero(in_presence(base.presence, sums))
        wanted = keys[maybe] if keys is not None else self.scheme.skeleton_keys_of(sums[maybe])
        at, found = probe(base.skeletons, base.directory, base.directory_bits, wanted)
        return maybe[found], wanted[found], at[found]

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
        coarse = self.scheme.skeleton_sums(translated(numbers, self.confusions.coarse_table), codes)
        passing = in_filter(coarse, self.base.coarse)
        if self._live:
            passing |= isin_sorted(coarse, self._overlay_coarse_sums)
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
        found = self._held(variant_sums, matrix, owners, number_deltas, left, width)
        if len(self.overlay.skeleton_keys):
            keys = self.scheme.skeleton_keys_of(variant_sums)
            found |= isin_sorted(keys, self.overlay.skeleton_keys)
        result[rows[owners[found]]] = True
        return result

    def _held(
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
        away from it when ``left`` allows: the presence filter, the skeleton probe, then the
        fingerprints, as ``find`` would resolve them (one at a time in Python, most skeleton
        collisions would end there)."""
        base = self.base
        result = np.zeros(len(sums), bool)
        where, keys, at = self._probe_sums(sums)
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
        held = np.zeros(len(where), bool)
        skeletons, fingerprints = base.skeletons, base.fingerprints
        for step in range(_GROUP_ROWS):
            row = np.minimum(at[rows] + step, len(skeletons) - 1)
            same = skeletons[row] == keys[rows]
            held[rows[same & (fingerprints[row] == tops)]] = True
            if step == _GROUP_ROWS - 1:  # a larger group: let the one-by-one look settle it
                held[rows[same]] = True
        result[where] = held
        return result

    def _may_have_blind_variant(
        self, coarse: int | None, bits: int | None, held: bool, rows: list[int]
    ) -> bool:
        """False when no record shares the number's coarse sum (``coarse``, its filter
        ``bits``, ``held`` by the coarse filter; None: there is no filter), or when those
        that do all share its skeleton too (the number's skeleton has base ``rows``, and
        the coarse sum is not ``mixed``)."""
        if not self.confusions.blind:
            return False
        if coarse is None or bits is None:
            return True  # an index saved without the filter: probe every variant
        if self._live and coarse in self._overlay_coarse_set:
            return True
        if not held:
            return False
        mixed = self._mixed_words
        if not len(mixed) or mixed[coarse >> self._mixed_shift] & bits == bits:
            return True
        return not rows

    @functools.cached_property
    def alphabets(self) -> Alphabets | None:
        """Each shape's masks, the base's and the overlay's (None: the base has none)."""
        alphabets = self.base.alphabets
        if alphabets is None or not self.overlay.alphabet:
            return alphabets
        return merged(alphabets, self.overlay.alphabet)

    @functools.cached_property
    def _alphabet_table(self) -> tuple[NDArray[np.uint64], NDArray[np.uint64]] | None:
        base, alphabets = self.base, self.alphabets
        if alphabets is None or not self.overlay.alphabet:
            return None if alphabets is None else (base.alphabet_shapes, base.alphabet)
        return as_arrays(alphabets)

    @functools.cached_property
    def _pairs(self) -> PairTable:
        return pair_table(self.scheme, self.confusions)

    @functools.cached_property
    def _overlay_coarse_set(self) -> frozenset[int]:
        return frozenset(self._overlay_coarse_sums.tolist())

    @functools.cached_property
    def _overlay_coarse_sums(self) -> NDArray[np.uint64]:
        live = [item.entry for item in self.overlay.live.values() if item.serial is None]
        if not live:
            return np.zeros(0, np.uint64)
        matrix = encode([entry.number for entry in live])
        codes = np.array([country_code(entry.country) for entry in live], np.uint32)
        return np.sort(self.scheme.skeleton_sums(self.confusions.coarse_array[matrix], codes))

    # Internals --------------------------------------------------------------------------

    def _group(self, skeleton_key: int) -> list[int]:
        """Rows of the base holding ``skeleton_key`` and not superseded by the overlay (the
        presence filter is the caller's to ask first, by the key's sum)."""
        bucket = skeleton_key >> self._shift
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

    def _found(self, row: int, number: str) -> Found:
        return new_found((self._ids[row], number, *unpack_meta(self._meta[row]), None))

    def _resolve(
        self,
        number: str,
        total: int,
        targets: dict[int, list[int]],
        max_changes: int,
        wanted: int,
    ) -> list[tuple[str, int, int]]:
        """Readings of ``number`` (itself, one or two confusions) with a target fingerprint
        (``wanted``: how many rows the targets hold; once each has a reading, no more).

        A reading with one change at p matches target t when its delta d brings the sum
        into [t·2^32, (t+1)·2^32): d lies in [need, need + 2^32) for need = t·2^32 - sum, so
        the top half of d is one of two values, looked up in a table of every delta.
        """
        out = [(number, 0, row) for row in targets.get(total >> 32, ())]
        if max_changes < 1 or len(out) == wanted:
            return out
        get, length = self._by_top.get, len(number)
        for target, rows in targets.items():
            need = ((target << 32) - total) & MASK
            top = need >> 32
            for delta, p, old, new in (get(top) or ()) + (get((top + 1) & _LOW) or ()):
                if p < length and number[p] == old and (delta - need) & MASK < _SPAN:
                    reading = f"{number[:p]}{new}{number[p + 1 :]}"
                    out += [(reading, 1, row) for row in rows]
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
                        out += [(reading, 2, row) for row in rows]
                    k = after[k]
        return out

    def _resolve_pairs(
        self, number: str, total: int, targets: dict[int, list[int]]
    ) -> list[tuple[str, int, int]]:
        """Readings with two changes: the first one of the number's own, the second from
        the table of single changes."""
        get, length = self._by_top.get, len(number)
        singles = [
            (delta, p, c)
            for p, char in enumerate(number)
            for delta, c in self._deltas[p].get(char, ())
        ]
        out: list[tuple[str, int, int]] = []
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
                        out += [("".join(chars), 2, row) for row in rows]
        return out


_GROUP_ROWS: Final = 4


def encode(numbers: Sequence[str]) -> NDArray[np.uint8]:
    """Normalised numbers as a (n, 24) uint8 matrix, NUL-padded."""
    raw = np.array(numbers, dtype=f"S{WIDTH}")
    return raw.view(np.uint8).reshape(len(numbers), WIDTH)
