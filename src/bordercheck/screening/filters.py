"""The coarse and mixed filters: which numbers could have a recorded blind variant.

Both are blocked Bloom filters over coarse skeleton *sums* (``KeyScheme.skeleton_sums`` of
the skeleton with the blind pairs joined; docs/screening.md, "OCR variants"): the coarse
filter holds every record's; the mixed filter those shared by records whose skeletons
differ in one or two characters. Sums, not keys: a look-up then costs no finaliser (the
sums are keyed already, and the filter holds only bits of them).
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import NDArray

from bordercheck.screening.confusions import Confusions, translated
from bordercheck.screening.keys import MASK, KeyScheme
from bordercheck.screening.probe import filter_bits


def coarse_filters(
    numbers: NDArray[np.uint8],
    codes: NDArray[np.uint32],
    skeleton_keys: NDArray[np.uint64],
    scheme: KeyScheme,
    confusions: Confusions,
    bits: int,
) -> tuple[NDArray[np.uint8] | None, NDArray[np.uint8] | None]:
    """The coarse filter (``2^bits`` bits over the coarse skeleton sums of ``numbers``) and
    the mixed filter (over the coarse sums of records that are blind variants of one
    another); None when there are no blind pairs. Sizes are set here, once: compactions
    add to them."""
    if not confusions.blind:
        return None, None
    table = np.zeros(1 << (bits - 3), np.uint8)
    coarse = np.empty(len(numbers), np.uint64)
    chunk = 1 << 22
    for start in range(0, len(numbers), chunk):
        block = translated(numbers[start : start + chunk], confusions.coarse_table)
        coarse[start : start + chunk] = scheme.skeleton_sums(block, codes[start : start + chunk])
        add_to_filter(table, coarse[start : start + chunk])
    # Mixed: two records of one coarse sum whose skeletons differ in one or two characters
    # (blind variants of each other, give or take look-alikes). Neighbours in coarse order
    # are compared; a sum held by three records or more counts as mixed without looking.
    order = np.argsort(coarse)
    coarse = coarse[order]
    same = coarse[1:] == coarse[:-1]
    pairs = np.flatnonzero(same & (skeleton_keys[order[1:]] != skeleton_keys[order[:-1]]))
    first = confusions.skeleton_array[numbers[order[pairs]]]
    second = confusions.skeleton_array[numbers[order[pairs + 1]]]
    near = pairs[np.count_nonzero(first != second, axis=1) <= 2]
    crowded = np.flatnonzero(same[1:] & same[:-1])
    mixed_keys = np.concatenate([coarse[near], coarse[crowded]])
    mixed = np.zeros(1 << (filter_bits(len(mixed_keys)) - 3), np.uint8)
    add_to_filter(mixed, mixed_keys)
    return table, mixed


# A blocked Bloom filter: each sum sets three bits of one 64-bit word (the word chosen by
# its top bits, the three bits by the top bits of its product with an odd constant), so a
# look-up reads one word: one cache miss, not three.
FILTER_WORD: Final = np.dtype("<u8")
SPREAD: Final = 0x9E3779B97F4A7C15


def filter_slots(
    sums: NDArray[np.uint64], words: int
) -> tuple[NDArray[np.intp], NDArray[np.uint64]]:
    """Each sum's word in a filter of ``words`` words (a power of two), and its three bits
    (``filter_bits_of`` for one sum: keep them alike)."""
    shift = np.uint64(64 - (words.bit_length() - 1)) if words > 1 else np.uint64(63)
    index = (sums >> shift).astype(np.intp) if words > 1 else np.zeros(len(sums), np.intp)
    spread = sums * np.uint64(SPREAD)
    six, one = np.uint64(63), np.uint64(1)
    bits = one << (spread >> np.uint64(58))
    bits |= one << ((spread >> np.uint64(52)) & six)
    bits |= one << ((spread >> np.uint64(46)) & six)
    return index, bits


def filter_bits_of(total: int) -> int:
    """The three bits a sum sets in its word (``filter_slots`` for one sum)."""
    spread = (total * SPREAD) & MASK
    return (1 << (spread >> 58)) | (1 << ((spread >> 52) & 63)) | (1 << ((spread >> 46) & 63))


def filter_words(table: NDArray[np.uint8]) -> tuple[memoryview, int]:
    """A filter's words as a memoryview (fast to index one at a time) and the shift that
    takes a sum to its word."""
    words = table.view(FILTER_WORD).astype(np.uint64, copy=False)
    return words.data, 64 - (len(words).bit_length() - 1) if len(words) > 1 else 64


def add_to_filter(table: NDArray[np.uint8], sums: NDArray[np.uint64]) -> None:
    """Add ``sums`` to a filter (bytes, a whole number of 64-bit words)."""
    words = table.view(FILTER_WORD)
    index, bits = filter_slots(sums, len(words))
    np.bitwise_or.at(words, index, bits)


def in_filter(sums: NDArray[np.uint64], table: NDArray[np.uint8]) -> NDArray[np.bool_]:
    if not len(table):
        return np.zeros(len(sums), bool)
    words = table.view(FILTER_WORD)
    index, bits = filter_slots(sums, len(words))
    held: NDArray[np.bool_] = (words[index] & bits) == bits
    return held
