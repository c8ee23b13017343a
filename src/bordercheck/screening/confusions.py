"""The OCR confusion graph screening works with, and the skeleton it induces on numbers.

An OCR variant of a number is the number with one or two characters each replaced by a
character it is confused with (one edge of the graph; a character changes once). The
skeleton maps every character to one representative of its connected component, so a
number and all its OCR variants share one skeleton: one probe on the skeleton key tells
whether any variant is recorded at all.

The look-alike graph is ``documents.ocr.CONFUSABLE_PAIRS`` (the table MRZ correction uses,
each letter paired with the digit it resembles) and ``LETTER_LOOK_ALIKES``, the letters that
resemble one another (O/Q, O/D, Q/D, I/L): without them O read for Q would be two
confusions, through 0, and a number holding such a misreading would not be found (a
character changes once). Counted as one, every misreading of that kind is found; MRZ
queries raise about as many false alarms (a check digit catches a letter read for a letter
alone), number-only queries more (0.0105 % of clean numbers at 10 M records instead of
0.0030 %, 0.030 % at 30 M instead of 0.005 %: docs/benchmarks.md, "Letters that look
alike"). They join no new component: the skeleton, and every array built from it, are the
same either way.

Besides the look-alikes, ``CHECK_DIGIT_BLIND_PAIRS`` (S/8, Z/5, A/K/0): substitutions a check
digit cannot catch, both characters having the same value modulo 10 (G/6 and L/1 are
look-alikes too). A misread the check digit catches comes with a failed check, repaired or
refused upstream; these pass it, so screening must find them itself. They are kept out of
the skeleton: they would join the digits 2/5/8 and 0/4 into one class each, and at 10 M
records 7 % of clean numbers would then share a skeleton with some record (0.1 % without),
each to be resolved one by one. Instead a query's blind variants (one or two such
substitutions) are probed under their own skeletons: a few more probes for a single
look-up, and in a batch only for the numbers that pass a coarse filter built over the
skeleton with the blind pairs joined. The graphs are parameters of the index for whoever
measures otherwise; the snapshot records them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

import numpy as np
from numpy.typing import NDArray

from bordercheck.documents.ocr import CONFUSABLE_PAIRS

ALPHABET: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Letters that look alike: in ``CONFUSABLE_PAIRS`` each is paired with a digit only (O/0,
# Q/0, D/0, I/1, L/1), which would make O read for Q two confusions.
LETTER_LOOK_ALIKES: Final[tuple[tuple[str, str], ...]] = (
    ("O", "Q"),
    ("O", "D"),
    ("Q", "D"),
    ("I", "L"),
)
LOOK_ALIKES: Final = (*CONFUSABLE_PAIRS, *LETTER_LOOK_ALIKES)
# Equal values modulo 10 in the check digit's arithmetic (S=28, Z=35, A=10, K=20): a number
# misread this way still passes its check digit.
CHECK_DIGIT_BLIND_PAIRS: Final[tuple[tuple[str, str], ...]] = (
    ("S", "8"),
    ("Z", "5"),
    ("A", "0"),
    ("K", "0"),
    ("A", "K"),
)


class Confusions:
    """A confusion graph over A-Z0-9: neighbours, skeleton tables and digit readings."""

    def __init__(
        self,
        pairs: Iterable[tuple[str, str]] = LOOK_ALIKES,
        blind: Iterable[tuple[str, str]] = CHECK_DIGIT_BLIND_PAIRS,
    ) -> None:
        self.pairs = _clean(pairs)
        self.blind = tuple(p for p in _clean(blind) if p not in self.pairs)
        self.neighbours = _neighbours(self.pairs)
        # The blind pairs' neighbours, probed one by one (see the module's docstring).
        self.blind_neighbours = _neighbours(self.blind)
        self.representative: dict[str, str] = _components(self.neighbours)
        for a, b in self.blind:
            if self.representative.get(a, a) == self.representative.get(b, b):
                raise ValueError(
                    f"confusion {a}/{b} is given as blind, but look-alikes already join"
                    f" {a} and {b}: list it as a look-alike"
                )
        self.skeleton_table: bytes = _table(self.representative)
        # The coarse skeleton: blind pairs joined too. Two numbers a blind variant apart
        # share it, so a filter over it tells which numbers need their blind variants probed.
        coarse = _components(_neighbours(self.pairs + self.blind)) if self.blind else {}
        self.coarse_table: bytes = _table(coarse)
        self.coarse_array: NDArray[np.uint8] = np.frombuffer(self.coarse_table, np.uint8)
        widest = max((len(n) for n in self.blind_neighbours.values()), default=1)
        alternatives = np.zeros((256, widest), np.uint8)  # each character's blind neighbours
        for char, others in self.blind_neighbours.items():
            for k, other in enumerate(others):
                alternatives[ord(char), k] = ord(other)
        self.blind_alternatives: NDArray[np.uint8] = alternatives
        self._str_table = {ord(c): ord(r) for c, r in self.representative.items() if c != r}
        self.skeleton_array: NDArray[np.uint8] = np.frombuffer(self.skeleton_table, np.uint8)
        # A letter read where a serial number's digit should be, and the one digit it
        # is confused with (letters confused with several digits have no single reading).
        self.digit_for: dict[str, str] = {
            c: digits[0]
            for c, n in self.neighbours.items()
            if c.isalpha() and len(digits := [d for d in n if d.isdigit()]) == 1
        }
        reading = np.zeros(256, np.uint8)  # 0: neither a digit nor a letter read as one
        for d in "0123456789":
            reading[ord(d)] = ord(d)
        for letter, digit in self.digit_for.items():
            reading[ord(letter)] = ord(digit)
        self.digit_reading: NDArray[np.uint8] = reading

    @classmethod
    def from_spec(cls, spec: str) -> Confusions:
        look_alikes, _, blind = spec.partition("/")
        pairs = [(p[0], p[1]) for p in look_alikes.split()]
        if _clean(pairs) == _clean(CONFUSABLE_PAIRS):
            # Saved before letters that look alike counted as one confusion: read with them
            # (they join no new component, so the arrays saved are the same either way).
            pairs += LETTER_LOOK_ALIKES
        return cls(pairs, ((p[0], p[1]) for p in blind.split()))

    @property
    def spec(self) -> str:
        """The pairs as text (``"0D 0O … / 0A 0K …"``): stored in snapshots, read on load."""
        look_alikes = " ".join(a + b for a, b in self.pairs)
        return (
            f"{look_alikes} / {' '.join(a + b for a, b in self.blind)}"
            if self.blind
            else look_alikes
        )

    def blind_variants(self, number: str, max_changes: int) -> list[tuple[str, tuple[int, ...]]]:
        """``number`` with one (or, if allowed, two) blind substitutions, and where they are."""
        if max_changes < 1 or not self.blind:
            return []
        get = self.blind_neighbours.get
        singles = [(p, other) for p, char in enumerate(number) for other in get(char, ())]
        out: list[tuple[str, tuple[int, ...]]] = [
            (f"{number[:p]}{c}{number[p + 1 :]}", (p,)) for p, c in singles
        ]
        if max_changes >= 2:
            for i, (p1, c1) in enumerate(singles):
                for p2, c2 in singles[i + 1 :]:
                    if p2 != p1:
                        chars = list(number)
                        chars[p1], chars[p2] = c1, c2
                        out.append(("".join(chars), (p1, p2)))
        return out

    def skeleton(self, number: str) -> str:
        return number.translate(self._str_table)

    def single_changes(self, number: str) -> list[tuple[int, str]]:
        """Every (position, replacement) that is one confusion away from ``number``."""
        return [
            (i, other) for i, char in enumerate(number) for other in self.neighbours.get(char, ())
        ]

    def changes_between(self, read: str, recorded: str) -> int | None:
        """How many confused characters turn ``recorded`` into ``read``; None if not a variant."""
        if len(read) != len(recorded):
            return None
        changes = 0
        for a, b in zip(read, recorded, strict=True):
            if a != b:
                if b not in self.neighbours.get(a, ()):
                    return None
                changes += 1
        return changes


def _clean(pairs: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    clean = sorted({tuple(sorted((a.upper(), b.upper()))) for a, b in pairs if a != b})
    for a, b in clean:
        if a not in ALPHABET or b not in ALPHABET:
            raise ValueError(f"confusion {a}/{b} is not between characters A-Z, 0-9")
    return tuple((a, b) for a, b in clean)


def _neighbours(pairs: Iterable[tuple[str, str]]) -> dict[str, tuple[str, ...]]:
    neighbours: dict[str, set[str]] = {}
    for a, b in pairs:
        neighbours.setdefault(a, set()).add(b)
        neighbours.setdefault(b, set()).add(a)
    return {c: tuple(sorted(n)) for c, n in neighbours.items()}


def _table(representative: dict[str, str]) -> bytes:
    table = bytearray(range(256))
    for char, rep in representative.items():
        table[ord(char)] = ord(rep)
    return bytes(table)


def _components(neighbours: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """Each character of the graph → the smallest character of its connected component."""
    representative: dict[str, str] = {}
    for start in sorted(neighbours):
        if start in representative:
            continue
        component, frontier = {start}, [start]
        while frontier:
            for other in neighbours[frontier.pop()]:
                if other not in component:
                    component.add(other)
                    frontier.append(other)
        for char in component:
            representative[char] = min(component)
    return representative


def translated(matrix: NDArray[np.uint8], table: bytes) -> NDArray[np.uint8]:
    """Every byte of ``matrix`` through ``table``: ``bytes.translate`` is twice as fast as
    indexing a numpy table, even with the copies."""
    out = np.frombuffer(matrix.tobytes().translate(table), np.uint8)
    return out.reshape(matrix.shape)


DEFAULT_CONFUSIONS: Final = Confusions()
