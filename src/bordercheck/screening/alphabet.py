"""Which characters the records of each shape (issuing country, number length) hold at each
position: what lets screening skip blind variants no record could be.

A blind variant substitutes a character by one a check digit cannot tell from it (S for 8,
Z for 5, A or K for 0), and a record is that variant only if it holds that very character
there. Issuers number their documents in patterns (digits here, letters there), so most
substitutions put a character where no record of that country and length has one: a
look-up or a batch drops those variants before computing or probing them. A mask per
(shape, position) is a 64-bit word, one bit per character; a shape no record has is all
zeros (nothing to find), and an index without the table (``None``) lets every variant by.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

import numpy as np
from numpy.typing import NDArray

from bordercheck.screening.keys import WIDTH

# A character's bit in a mask: 0-9 for digits, 10-35 for A-Z, 63 for anything else (the
# padding of a number shorter than the matrix).
CHAR_BITS: Final = np.full(256, 63, np.uint8)
for _i, _c in enumerate("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"):
    CHAR_BITS[ord(_c)] = _i
CHAR_BIT: Final[dict[str, int]] = {chr(b): int(CHAR_BITS[b]) for b in range(128) if b}
NO_MASKS: Final = (0,) * WIDTH

Alphabets = dict[int, tuple[int, ...]]


def shape_of(code: int, length: int) -> int:
    """A shape's key: the country code and the number's length (below 32)."""
    return code << 5 | length


def shapes_of(codes: NDArray[np.uint32], lengths: NDArray[np.intp]) -> NDArray[np.uint64]:
    return codes.astype(np.uint64) << np.uint64(5) | lengths.astype(np.uint64)


def build_alphabets(numbers: NDArray[np.uint8], codes: NDArray[np.uint32]) -> Alphabets:
    """The masks of every shape among ``numbers`` (a (n, 24) matrix) and their countries."""
    lengths = (numbers != 0).sum(axis=1)
    shapes, inverse = np.unique(shapes_of(codes, lengths), return_inverse=True)
    if not len(shapes):
        return {}
    width = int(lengths.max())
    columns = CHAR_BITS[np.ascontiguousarray(numbers[:, :width].T)]  # (width, n), each a bit
    base = inverse.astype(np.intp) * 64
    seen = np.zeros((len(shapes), width, 64), bool)
    for column in range(width):  # one count per (shape, character) of the column
        counts = np.bincount(base + columns[column], minlength=len(shapes) * 64)
        seen[:, column] = counts.reshape(len(shapes), 64) > 0
    seen[:, :, 63] = False  # padding is no character
    masks = np.zeros((len(shapes), WIDTH), np.uint64)
    masks[:, :width] = (seen * (np.uint64(1) << np.arange(64, dtype=np.uint64))).sum(
        axis=2, dtype=np.uint64
    )
    return {s: tuple(m) for s, m in zip(shapes.tolist(), masks.tolist(), strict=True)}


def merged(*parts: Mapping[int, tuple[int, ...]]) -> Alphabets:
    """The union of several shapes' masks."""
    out: Alphabets = {}
    for part in parts:
        for shape, masks in part.items():
            old = out.get(shape)
            if old is not None:
                masks = tuple(a | b for a, b in zip(old, masks, strict=True))
            out[shape] = masks
    return out


def with_numbers(
    alphabets: Mapping[int, tuple[int, ...]], items: Iterable[tuple[int, str]]
) -> Alphabets:
    """A copy of ``alphabets`` with the characters of more numbers, as (country code, number)."""
    out = dict(alphabets)
    for code, number in items:
        shape = shape_of(code, len(number))
        masks = list(out.get(shape, NO_MASKS))
        for position, char in enumerate(number):
            masks[position] |= 1 << CHAR_BIT[char]
        out[shape] = tuple(masks)
    return out


def as_arrays(alphabets: Alphabets) -> tuple[NDArray[np.uint64], NDArray[np.uint64]]:
    """Sorted shape keys and their masks, (shapes, WIDTH): how a snapshot holds them."""
    shapes = sorted(alphabets)
    table = np.array([alphabets[s] for s in shapes], np.uint64).reshape(len(shapes), WIDTH)
    return np.array(shapes, np.uint64), table


def from_arrays(shapes: NDArray[np.uint64], table: NDArray[np.uint64]) -> Alphabets:
    return {s: tuple(m) for s, m in zip(shapes.tolist(), table.tolist(), strict=True)}


def masks_of(
    shapes: NDArray[np.uint64], table: NDArray[np.uint64], wanted: NDArray[np.uint64]
) -> NDArray[np.uint64]:
    """The masks of each wanted shape, (n, WIDTH); zeros for a shape no record has."""
    if not len(shapes):
        return np.zeros((len(wanted), WIDTH), np.uint64)
    at = np.minimum(np.searchsorted(shapes, wanted), len(shapes) - 1)
    out = table[at]
    out[shapes[at] != wanted] = 0
    return out
