"""The OCR confusion graph screening works with, and the skeleton it induces on numbers.

An OCR variant of a number is the number with one or two characters each replaced by a
character it is confused with (one edge of the graph; ``O``→``Q`` is two confusions, via
``0``, and is not counted as one). The skeleton maps every character to one representative
of its connected component, so a number and all its OCR variants share one skeleton: one
probe on the skeleton key tells whether any variant is recorded at all.

The default graph is ``documents.ocr.CONFUSABLE_PAIRS`` (the table MRZ correction uses).
Of the pairs a check digit cannot catch (equal values modulo 10: G/6, S/8, L/1, Z/5,
A/K/0) it holds the two that are also look-alikes, G/6 and L/1. S/8, Z/5 and A/K/0 are
equal-value coincidences rather than shapes OCR mistakes; adding them would join the digit
components 2/5/8 and 0/4 and turn digit-for-digit swaps into variants, multiplying false
alarms on all-digit numbers. The graph is a parameter of the index for whoever measures
otherwise; the snapshot records it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

import numpy as np
from numpy.typing import NDArray

from bordercheck.documents.ocr import CONFUSABLE_PAIRS

ALPHABET: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class Confusions:
    """A confusion graph over A-Z0-9: neighbours, skeleton tables and digit readings."""

    def __init__(self, pairs: Iterable[tuple[str, str]] = CONFUSABLE_PAIRS) -> None:
        clean = sorted({tuple(sorted((a.upper(), b.upper()))) for a, b in pairs if a != b})
        for a, b in clean:
            if a not in ALPHABET or b not in ALPHABET:
                raise ValueError(f"confusion {a}/{b} is not between characters A-Z, 0-9")
        self.pairs: tuple[tuple[str, str], ...] = tuple((a, b) for a, b in clean)
        neighbours: dict[str, set[str]] = {}
        for a, b in self.pairs:
            neighbours.setdefault(a, set()).add(b)
            neighbours.setdefault(b, set()).add(a)
        self.neighbours: dict[str, tuple[str, ...]] = {
            c: tuple(sorted(n)) for c, n in neighbours.items()
        }
        self.representative: dict[str, str] = _components(self.neighbours)
        table = bytearray(range(256))
        for char, rep in self.representative.items():
            table[ord(char)] = ord(rep)
        self.skeleton_table: bytes = bytes(table)
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
        return cls((p[0], p[1]) for p in spec.split())

    @property
    def spec(self) -> str:
        """The pairs as text (``"0D 0O 0Q …"``): stored in snapshots and compared on load."""
        return " ".join(a + b for a, b in self.pairs)

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


DEFAULT_CONFUSIONS: Final = Confusions()
