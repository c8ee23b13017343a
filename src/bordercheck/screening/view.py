"""One consistent view of the index (base arrays, ranges, overlay): the lookups matching needs.

Base arrays, one row per record, sorted by skeleton key (17 bytes a record):
``skeletons`` uint64 (the keyed hash of the number's OCR skeleton and the country),
``fingerprints`` uint32 (tells apart numbers sharing a skeleton), ``record_ids`` uint32,
``meta`` uint8. Besides them: ``directory`` (uint32 per bucket of about four keys, for
probing), ``presence`` (8 to 16 bits a key: a batch probes only the one query in ten or so
whose bit is set) and ``present`` (a bitmap of record ids, so that applying a change knows
in O(1) whether the base holds the record).

The fingerprint of a number is the top half of a 64-bit sum that is linear in each byte, so
the fingerprint of an OCR variant is the query's sum plus a delta per changed character:
recognising which variant a recorded fingerprint stands for costs additions, not hashes.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from bordercheck.screening.confusions import Confusions
from bordercheck.screening.keys import MASK, WIDTH, KeyScheme, country_code
from bordercheck.screening.overlay import Overlay
from bordercheck.screening.probe import isin_sorted, probe
from bordercheck.screening.ranges import RangeTable, shape_codes
from bordercheck.screening.records import Found, unpack_meta

BASE_ARRAYS: Final = (
    "skeletons", "fingerprints", "record_ids", "meta", "directory", "presence", "present",
    "coarse",
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
    directory_bits: int
    presence_bits: int

    def arrays(self) -> dict[str, NDArray[Any]]:
        return {name: getattr(self, name) for name in BASE_ARRAYS}

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
        self._coarse = base.coarse.data
        self._coarse_bits = (len(base.coarse) * 8).bit_length() - 1 if len(base.coarse) else 0
        self._deltas = _deltas(scheme, confusions)

    def view(self) -> IndexView:
        return self

    # One number -------------------------------------------------------------------------

    def find(self, country: str, number: str, max_changes: int) -> list[Candidate]:
        """Records whose number is ``number`` or up to ``max_changes`` confusions from it, and
        ranges holding it or a reading of it with letters read as the digits they resemble."""
        code = country_code(country)
        found = self._find(code, number, max_changes)
        if (code, len(number)) in self.ranges.shapes:
            removed = self.overlay.removed
            found += [
                c
                for c in self.ranges.find(code, number, self.confusions, max_changes)
                if c[2].record_id not in removed
            ]
        if self.overlay.ranges:
            found += self.overlay.find_ranges(code, number, self.confusions, max_changes)
        if not self._may_have_blind_variant(code, number):
            return found
        for variant, at in self.confusions.blind_variants(number, max_changes):
            # A character changes once: 8 read as 5 (via S) is no confusion of either table.
            found += [
                (reading, changes + len(at), record)
                for reading, changes, record in self._find(code, variant, max_changes - len(at))
                if all(reading[p] == variant[p] for p in at)
            ]
        return found

    def _find(self, code: int, number: str, max_changes: int) -> list[Candidate]:
        """Records ``max_changes`` look-alike confusions or fewer from ``number``."""
        data = number.encode("ascii")
        skeleton_key = self.scheme.skeleton_key(data.translate(self._skeleton_table), code)
        found = []
        rows = self._group(skeleton_key)
        if rows:
            total = self.scheme.fingerprint_sum(data, skeleton_key)
            targets: dict[int, list[int]] = {}
            for row in rows:
                targets.setdefault(self._fingerprints[row], []).append(row)
            for reading, changes, row in self._resolve(number, total, targets, max_changes):
                found.append((reading, changes, self._found(row, reading)))
        if self.overlay.live:
            found += self.overlay.find(skeleton_key, number, self.confusions, max_changes)
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
            vector = self.scheme.skeleton_keys(self.confusions.skeleton_array[matrix], codes)
            base = self.base
            _, found = probe(base.skeletons, base.directory, base.directory_bits, vector)
            keys, hit = vector.tolist(), np.flatnonzero(found).tolist()
        out = []
        for i in hit:
            fingerprint = self.scheme.fingerprint_sum(numbers[i].encode("ascii"), keys[i]) >> 32
            for row in self._group(keys[i]):
                if self._fingerprints[row] == fingerprint:
                    out.append((i, self._found(row, numbers[i])))
        if self.overlay.live:
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
    ) -> NDArray[np.bool_]:
        """For each number, False when ``find`` would surely find nothing.

        The common case (no record, no variant) costs one hash and one directory probe.
        """
        width = int(lengths.max()) if len(lengths) else 0
        keys = self.scheme.skeleton_keys(translated(numbers, self._skeleton_table), codes)
        result = self._present(keys)
        if max_changes and self.confusions.blind:
            result |= self._blind_may_match(numbers, width, codes, max_changes)
        result |= self.ranges.may_hold(
            numbers, lengths, codes, self.scheme, self.confusions, max_changes
        )
        if len(self.overlay.range_lengths):
            result |= isin_sorted(shape_codes(codes, lengths), self.overlay.range_lengths)
        return result

    def _present(self, keys: NDArray[np.uint64]) -> NDArray[np.bool_]:
        """Whether each skeleton key is held by some record (base or overlay)."""
        base = self.base
        presence = (base.presence, base.presence_bits)
        _, result = probe(base.skeletons, base.directory, base.directory_bits, keys, presence)
        if len(self.overlay.skeleton_keys):
            result |= isin_sorted(keys, self.overlay.skeleton_keys)
        return result

    def _blind_may_match(
        self, numbers: NDArray[np.uint8], width: int, codes: NDArray[np.uint32], max_changes: int
    ) -> NDArray[np.bool_]:
        """Whether a blind variant of each number may be recorded: the coarse filter first,
        then, for the few that pass it, a probe of each variant's own skeleton key."""
        result = np.zeros(len(numbers), bool)
        keys = self.scheme.skeleton_keys(translated(numbers, self.confusions.coarse_table), codes)
        passing = _in_filter(keys, self.base.coarse)
        if self.overlay.live:
            passing |= isin_sorted(keys, self._overlay_coarse_keys)
        rows = np.flatnonzero(passing)
        variants, owners, columns = _blind_substituted(
            numbers[rows], self.confusions.blind_alternatives, width
        )
        left = np.full(len(variants), max_changes - 1, np.intp)  # look-alikes still allowed
        if max_changes >= 2 and len(variants):
            twice, second_owners, _ = _blind_substituted(
                variants, self.confusions.blind_alternatives, width, after=columns
            )
            variants = np.concatenate([variants, twice])
            owners = np.concatenate([owners, owners[second_owners]])
            left = np.concatenate([left, np.full(len(twice), max_changes - 2, np.intp)])
        if not len(variants):
            return result
        keys = self.scheme.skeleton_keys(
            translated(variants, self._skeleton_table), codes[rows][owners]
        )
        found = self._held(keys, variants, left, width)
        if len(self.overlay.skeleton_keys):
            found |= isin_sorted(keys, self.overlay.skeleton_keys)
        result[rows[owners[found]]] = True
        return result

    def _held(
        self,
        keys: NDArray[np.uint64],
        variants: NDArray[np.uint8],
        left: NDArray[np.intp],
        width: int,
    ) -> NDArray[np.bool_]:
        """Whether a base record holds each variant, or one look-alike away when ``left``
        allows it: the skeleton probe, then the fingerprints, as ``find`` would resolve them
        (one at a time in Python, most skeleton collisions would end there)."""
        base = self.base
        presence = (base.presence, base.presence_bits)
        at, found = probe(base.skeletons, base.directory, base.directory_bits, keys, presence)
        where = np.flatnonzero(found)
        if not len(where):
            return found
        keys, at, left = keys[where], at[where], left[where]
        sums = self.scheme.fingerprint_sums(variants[where], keys)
        # The variant's own sum, and its sum with each look-alike of each character.
        if int(left.max()) >= 1:
            deltas = _delta_table(self.scheme, self.confusions)[:width]
            chosen = variants[where][:, :width]
            steps = deltas[np.arange(width)[None, :], chosen]  # (n, width, alternatives)
            usable = (left >= 1)[:, None, None] & (steps != 0)
            more = (sums[:, None, None] + steps)[usable]
            owner = np.broadcast_to(np.arange(len(where))[:, None, None], steps.shape)[usable]
        else:
            more, owner = np.zeros(0, np.uint64), np.zeros(0, np.intp)
        tops = np.concatenate([sums, more]) >> np.uint64(32)
        rows = np.concatenate([np.arange(len(where)), owner])
        held = np.zeros(len(where), bool)
        skeletons, fingerprints = base.skeletons, base.fingerprints
        for step in range(_GROUP_ROWS):
            row = np.minimum(at[rows] + step, len(skeletons) - 1)
            same = skeletons[row] == keys[rows]
            held[rows[same & (fingerprints[row] == tops)]] = True
            if step == _GROUP_ROWS - 1:  # a larger group: let the one-by-one look settle it
                held[rows[same]] = True
        result = np.zeros(len(found), bool)
        result[where] = held
        return result

    def _may_have_blind_variant(self, code: int, number: str) -> bool:
        """False when no record shares the number's coarse skeleton (the Bloom filter)."""
        if not self.confusions.blind:
            return False
        table, bits = self._coarse, self._coarse_bits
        if not bits:
            return True  # an index saved without the filter: probe every variant
        coarse = number.encode("ascii").translate(self.confusions.coarse_table)
        key = self.scheme.skeleton_key(coarse, code)
        if self.overlay.live and key in self._overlay_coarse_set:
            return True
        mask = (1 << bits) - 1
        first, step = key >> (64 - bits), (key & mask) | 1
        for i in range(_BLOOM_HASHES):
            position = (first + i * step) & mask
            if not (table[position >> 3] >> (position & 7)) & 1:
                return False
        return True

    @functools.cached_property
    def _overlay_coarse_set(self) -> frozenset[int]:
        return frozenset(self._overlay_coarse_keys.tolist())

    @functools.cached_property
    def _overlay_coarse_keys(self) -> NDArray[np.uint64]:
        live = [item.entry for item in self.overlay.live.values() if item.serial is None]
        if not live:
            return np.zeros(0, np.uint64)
        matrix = encode([entry.number for entry in live])
        codes = np.array([country_code(entry.country) for entry in live], np.uint32)
        keys = self.scheme.skeleton_keys(self.confusions.coarse_array[matrix], codes)
        return np.sort(keys)

    # Internals --------------------------------------------------------------------------

    def _group(self, skeleton_key: int) -> list[int]:
        """Rows of the base holding ``skeleton_key`` and not superseded by the overlay."""
        top = skeleton_key >> self._presence_shift
        if not (self._presence[top >> 3] >> (top & 7)) & 1:
            return []  # nine probes in ten end here
        bucket = skeleton_key >> self._shift
        row, end = self._directory[bucket], self._directory[bucket + 1]
        keys = self._skeletons
        while row < end and keys[row] < skeleton_key:
            row += 1
        rows = []
        removed = self.overlay.removed
        while row < end and keys[row] == skeleton_key:
            if not removed or self._ids[row] not in removed:
                rows.append(row)
            row += 1
        return rows

    def _found(self, row: int, number: str) -> Found:
        document_type, status, blank, restricted = unpack_meta(self._meta[row])
        return Found(self._ids[row], number, document_type, status, blank, restricted)

    def _resolve(
        self, number: str, total: int, targets: dict[int, list[int]], max_changes: int
    ) -> list[tuple[str, int, int]]:
        """Readings of ``number`` (itself, one or two confusions) with a target fingerprint."""
        out = [(number, 0, row) for row in targets.get(total >> 32, ())]
        wanted = sum(len(rows) for rows in targets.values())
        if max_changes < 1 or len(out) == wanted:
            return out
        singles = [
            (delta, p, c)
            for p, char in enumerate(number)
            for delta, c in self._deltas[p].get(char, ())
        ]
        for delta, p, c in singles:
            for row in targets.get(((total + delta) & MASK) >> 32, ()):
                out.append((f"{number[:p]}{c}{number[p + 1 :]}", 1, row))
        if max_changes < 2 or len(out) == wanted:
            return out
        # Two confusions: the second delta must bring the sum into [t·2^32, (t+1)·2^32) for
        # a target t, so its top half is one of two values: a dict look-up, not a loop.
        by_top: dict[int, list[tuple[int, int, str]]] = {}
        for single in singles:
            by_top.setdefault(single[0] >> 32, []).append(single)
        get = by_top.get
        seen: set[tuple[int, int, int]] = set()
        for target, rows in targets.items():
            need = ((target << 32) - total) & MASK
            for first, p1, c1 in singles:
                low = (need - first) & MASK
                here, above = get(low >> 32), get(((low >> 32) + 1) & _LOW)
                if here is None and above is None:
                    continue  # the common case: no second change completes this one
                for second, p2, c2 in (here or []) + (above or []):
                    pair = (min(p1, p2), max(p1, p2), target)
                    if p2 != p1 and (second - low) & MASK < _SPAN and pair not in seen:
                        seen.add(pair)
                        chars = list(number)
                        chars[p1], chars[p2] = c1, c2
                        out += [("".join(chars), 2, row) for row in rows]
        return out


def translated(matrix: NDArray[np.uint8], table: bytes) -> NDArray[np.uint8]:
    """Every byte of ``matrix`` through ``table``: ``bytes.translate`` is twice as fast as
    indexing a numpy table, even with the copies."""
    out = np.frombuffer(matrix.tobytes().translate(table), np.uint8)
    return out.reshape(matrix.shape)


def coarse_filter(
    numbers: NDArray[np.uint8],
    codes: NDArray[np.uint32],
    scheme: KeyScheme,
    confusions: Confusions,
    bits: int,
) -> NDArray[np.uint8]:
    """A Bloom filter of ``2^bits`` bits over the coarse skeleton keys of ``numbers``; empty
    when there are no blind pairs. Its size is set here, once: compactions add to it."""
    if not confusions.blind:
        return np.zeros(0, np.uint8)
    table = np.zeros(1 << (bits - 3), np.uint8)
    chunk = 1 << 22
    for start in range(0, len(numbers), chunk):
        block = translated(numbers[start : start + chunk], confusions.coarse_table)
        add_to_filter(table, scheme.skeleton_keys(block, codes[start : start + chunk]))
    return table


_BLOOM_HASHES: Final = 3


def _bloom_positions(keys: NDArray[np.uint64], table: NDArray[np.uint8]) -> list[NDArray[np.intp]]:
    """The filter's bits for each key: double hashing over the key's top and low bits."""
    bits = (len(table) * 8).bit_length() - 1
    mask = np.uint64((1 << bits) - 1)
    first = keys >> np.uint64(64 - bits)
    step = (keys & mask) | np.uint64(1)
    return [((first + np.uint64(i) * step) & mask).astype(np.intp) for i in range(_BLOOM_HASHES)]


def add_to_filter(table: NDArray[np.uint8], keys: NDArray[np.uint64]) -> None:
    """Add ``keys`` to a coarse filter."""
    for position in _bloom_positions(keys, table):
        np.bitwise_or.at(table, position >> 3, np.left_shift(1, position & 7).astype(np.uint8))


def _in_filter(keys: NDArray[np.uint64], table: NDArray[np.uint8]) -> NDArray[np.bool_]:
    if not len(table):
        return np.zeros(len(keys), bool)
    result = np.ones(len(keys), bool)
    for position in _bloom_positions(keys, table):
        result &= ((table[position >> 3] >> (position & 7).astype(np.uint8)) & 1).astype(bool)
    return result


def _blind_substituted(
    numbers: NDArray[np.uint8],
    alternatives: NDArray[np.uint8],
    width: int,
    after: NDArray[np.intp] | None = None,
) -> tuple[NDArray[np.uint8], NDArray[np.intp], NDArray[np.intp]]:
    """Each number with one blind substitution (right of column ``after``, if given): the
    variants, the row of ``numbers`` each comes from, and the column substituted."""
    variants, owners, columns = [], [], []
    for k in range(alternatives.shape[1]):
        replacement = alternatives[numbers[:, :width], k]
        if after is not None:
            replacement[np.arange(width)[None, :] <= after[:, None]] = 0
        row, column = np.nonzero(replacement)
        changed = numbers[row]
        changed[np.arange(len(row)), column] = replacement[row, column]
        variants.append(changed)
        owners.append(row)
        columns.append(column)
    return np.concatenate(variants), np.concatenate(owners), np.concatenate(columns)


_GROUP_ROWS: Final = 4


@functools.lru_cache(maxsize=8)
def _delta_table(scheme: KeyScheme, confusions: Confusions) -> NDArray[np.uint64]:
    """``[position, character, k]``: what the k-th look-alike of the character at the
    position adds to a fingerprint sum (0: no such look-alike)."""
    widest = max((len(n) for n in confusions.neighbours.values()), default=0)
    table = np.zeros((WIDTH, 256, max(widest, 1)), np.uint64)
    for position, weight in enumerate(scheme.weights):
        for char, others in confusions.neighbours.items():
            for k, other in enumerate(others):
                table[position, ord(char), k] = ((ord(other) - ord(char)) * weight) & MASK
    return table


@functools.lru_cache(maxsize=8)
def _deltas(
    scheme: KeyScheme, confusions: Confusions
) -> list[dict[str, tuple[tuple[int, str], ...]]]:
    """Per position, each confusable character → (fingerprint delta, replacement) pairs."""
    return [
        {
            char: tuple((((ord(other) - ord(char)) * weight) & MASK, other) for other in others)
            for char, others in confusions.neighbours.items()
        }
        for weight in scheme.weights
    ]


def encode(numbers: Sequence[str]) -> NDArray[np.uint8]:
    """Normalised numbers as a (n, 24) uint8 matrix, NUL-padded."""
    raw = np.array(numbers, dtype=f"S{WIDTH}")
    return raw.view(np.uint8).reshape(len(numbers), WIDTH)
