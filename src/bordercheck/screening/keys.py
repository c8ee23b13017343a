"""Keyed 64-bit hashes of document numbers, computed over many numbers at once with numpy.

Why keyed: a snapshot file holds hashes of every recorded number. With a public hash anyone
holding the file could test guesses ("is my passport listed?", or every number of a
country's range) offline. With a secret key mixed into every step, the file alone answers
nothing; the key lives with the API nodes and edge kits, not with the file.

What it is not: a MAC or a cryptographic PRF. It is sums and multiply/xorshift mixes with
key-derived constants, chosen for speed (about 10 ns a number in numpy). Someone who
holds the file and many known (number, hash) pairs might recover enough of the key to test
guesses; it raises the bar for a stolen file, it does not replace protecting the key.

Numbers are fixed-width uint8 matrices (ASCII, NUL-padded to at most 24 bytes), read as
three little-endian 64-bit lanes; the issuing country is a fourth lane. NUL padding keeps
the lanes injective: a normalised number never contains NUL.

Skeleton keys are a keyed finaliser over a sum linear in each byte of the skeleton (and in
the country), so the key of a number with one character replaced is the finaliser of the old
sum plus a known delta: probing a query's variants costs an addition and a few multiplies
each, not a hash of the whole number. Fingerprints, which tell apart numbers sharing a
skeleton key, are a keyed mix of the skeleton key plus a second sum, linear in each byte of
the number itself, for the same reason.
"""

from __future__ import annotations

import functools
import hashlib
import struct
from collections.abc import Sequence
from typing import Final

import numpy as np
from numpy.typing import NDArray

from bordercheck.documents.numbers import MAX_NUMBER_LENGTH

# The version of these hashes and of the coarse filter's layout: files holding them (index
# snapshots, kit snapshots and bundles) say which they were made with.
HASHES: Final = 2
WIDTH: Final = MAX_NUMBER_LENGTH  # bytes of a number matrix row: three 64-bit lanes
LANES: Final = WIDTH // 8
MASK: Final = (1 << 64) - 1
MIN_KEY_BYTES: Final = 16

# The final avalanche of MurmurHash3 (fmix64): spreads every input bit over the top bits,
# which the bucket directory and sorted probes rely on.
_F1: Final = 0xFF51AFD7ED558CCD
_F2: Final = 0xC4CEB9FE1A85EC53

_LANE_STRUCT: Final = struct.Struct("<3Q")
_FINGERPRINT_LANES: Final = struct.Struct("<6I")

U64 = NDArray[np.uint64]
U32 = NDArray[np.uint32]
U8 = NDArray[np.uint8]


@functools.lru_cache(maxsize=1024)
def country_code(country: str) -> int:
    """A three-letter country as an integer lane (its ASCII bytes, little-endian)."""
    return int.from_bytes(country.encode("ascii"), "little")


def country_codes(countries: Sequence[str] | NDArray[np.bytes_]) -> U32:
    raw = np.asarray(countries, dtype="S3")
    padded = np.zeros((len(raw), 4), np.uint8)
    padded[:, :3] = raw.view(np.uint8).reshape(len(raw), 3)
    return padded.view("<u4").reshape(len(raw)).astype(np.uint32)


def country_text(code: int) -> str:
    return code.to_bytes(3, "little").decode("ascii")


def as_lanes(numbers: U8) -> U64:
    """A (n, 24) uint8 matrix (C-contiguous) seen as (n, 3) uint64 lanes, without copying."""
    if numbers.shape[1:] != (WIDTH,):
        raise ValueError(f"number matrices are {WIDTH} bytes wide, not {numbers.shape[1:]}")
    return np.ascontiguousarray(numbers).view("<u8")


class KeyScheme:
    """The keyed hashes of one secret key: skeleton keys, fingerprints and range-group keys."""

    def __init__(self, key: bytes) -> None:
        if len(key) < MIN_KEY_BYTES:
            raise ValueError(f"the screening key must be at least {MIN_KEY_BYTES} bytes long")
        if len(key) > 64:  # blake2b takes keys of up to 64 bytes
            key = hashlib.blake2b(key, digest_size=64).digest()
        self.fingerprint: bytes = _derive(key, b"key-fingerprint")[:16]
        self._skeleton = _words(key, b"skeleton")
        # Skeleton sums: six 32-bit lanes and the country, each times an odd 64-bit word.
        lanes = tuple(w | 1 for w in _words(key, b"skeleton-linear"))
        self._skeleton_lanes = lanes[:6]
        self._skeleton_country = lanes[6]
        self.skeleton_weights = tuple((lanes[p // 4] << (8 * (p % 4))) & MASK for p in range(WIDTH))
        self._range = _words(key, b"range-group")
        self._mixer = _words(key, b"fingerprint")
        # Fingerprints sum 32-bit lanes times 64-bit constants: position p weighs
        # 256^(p % 4) * C[p // 4]. With 64-bit lanes the top byte of a lane would weigh
        # C * 2^56, whose top half keeps 8 bits of C; here it keeps 40.
        linear = tuple(w | 1 for w in _words(key, b"linear-1") + _words(key, b"linear-2"))
        self.weights = tuple((linear[p // 4] << (8 * (p % 4))) & MASK for p in range(WIDTH))
        self._linear = tuple(np.uint64(w) for w in linear[: WIDTH // 4])
        w = self.weights
        self._lane_weights = (w[0], w[4], w[8], w[12], w[16], w[20])

    # Vectorised -------------------------------------------------------------------------

    def skeleton_keys(self, skeletons: U8, countries: U32) -> U64:
        """The probe key of each number's OCR skeleton (see ``Confusions.skeleton``)."""
        return self.skeleton_keys_of(self.skeleton_sums(skeletons, countries))

    def skeleton_sums(self, skeletons: U8, countries: U32) -> U64:
        """The linear sums the skeleton keys finalise (``skeleton_keys_of``)."""
        total = countries.astype(np.uint64) * np.uint64(self._skeleton_country)
        return _add_lanes(total, as_lanes(skeletons).view("<u4"), self._skeleton_lanes)

    def skeleton_keys_of(self, sums: U64) -> U64:
        k = self._skeleton
        h = sums ^ np.uint64(k[0])
        h ^= h >> np.uint64(32)
        h *= np.uint64(k[4])
        h ^= h >> np.uint64(29)
        h *= np.uint64(k[5])
        h ^= h >> np.uint64(32)
        return h

    def range_group_keys(self, masked: U8, countries: U32) -> U64:
        """The key of each (country, prefix, serial width): digits of the serial masked."""
        return _mix(as_lanes(masked), countries, self._range)

    def skeleton_sums_of(self, keys: U64) -> U64:
        """The sums whose keys these are: ``skeleton_keys_of`` undone, step by step (each
        step is a bijection: xor-shifts by half or more of the word, odd multipliers)."""
        k = self._skeleton
        h = keys ^ (keys >> np.uint64(32))
        h *= np.uint64(pow(k[5], -1, 1 << 64))
        h ^= (h >> np.uint64(29)) ^ (h >> np.uint64(58))
        h *= np.uint64(pow(k[4], -1, 1 << 64))
        h ^= h >> np.uint64(32)
        return h ^ np.uint64(k[0])

    def fingerprints(self, numbers: U8, skeleton_keys: U64) -> U32:
        """32 bits that tell apart the numbers sharing one skeleton key."""
        return (self.fingerprint_sums(numbers, skeleton_keys) >> np.uint64(32)).astype(np.uint32)

    def fingerprint_sums(self, numbers: U8, skeleton_keys: U64) -> U64:
        return self.fingerprint_bases(skeleton_keys) + self.number_sums(numbers)

    def fingerprint_bases(self, skeleton_keys: U64) -> U64:
        """The keyed part of fingerprint sums: a mix of the skeleton key."""
        return _finish((skeleton_keys ^ np.uint64(self._mixer[0])) * np.uint64(self._mixer[4]))

    def number_sums(self, numbers: U8) -> U64:
        """The linear part of fingerprint sums: each byte of the number times its weight."""
        total = np.zeros(len(numbers), np.uint64)
        return _add_lanes(total, as_lanes(numbers).view("<u4"), self._linear)

    # Scalar, for one number at a time (a few hundred ns) --------------------------------

    def skeleton_key(self, skeleton: bytes, country: int) -> int:
        return self.skeleton_key_of(self.skeleton_sum(skeleton, country))

    def skeleton_sum(self, skeleton: bytes, country: int) -> int:
        lanes: tuple[int, int, int, int, int, int] = _FINGERPRINT_LANES.unpack(
            skeleton.ljust(WIDTH, b"\0")
        )
        a, b, c, d, e, f = lanes
        w0, w1, w2, w3, w4, w5 = self._skeleton_lanes
        total = a * w0 + b * w1 + c * w2 + d * w3 + e * w4 + f * w5
        return (total + country * self._skeleton_country) & MASK

    def skeleton_key_of(self, total: int) -> int:
        """``skeleton_keys_of`` for one sum."""
        k = self._skeleton
        h = total ^ k[0]
        h ^= h >> 32
        h = (h * k[4]) & MASK
        h ^= h >> 29
        h = (h * k[5]) & MASK
        return h ^ (h >> 32)

    def range_group_key(self, masked: bytes, country: int) -> int:
        return _mix_one(masked, country, self._range)

    def fingerprint_sum(self, number: bytes, skeleton_key: int) -> int:
        """The 64-bit sum whose top 32 bits are the fingerprint; linear in each byte."""
        return (self.fingerprint_base(skeleton_key) + self.number_sum(number)) & MASK

    def fingerprint_base(self, skeleton_key: int) -> int:
        return _finish_one(((skeleton_key ^ self._mixer[0]) * self._mixer[4]) & MASK)

    def number_sum(self, number: bytes) -> int:
        lanes: tuple[int, int, int, int, int, int] = _FINGERPRINT_LANES.unpack(
            number.ljust(WIDTH, b"\0")
        )
        a, b, c, d, e, f = lanes
        w0, w1, w2, w3, w4, w5 = self._lane_weights
        return (a * w0 + b * w1 + c * w2 + d * w3 + e * w4 + f * w5) & MASK

    def delta(self, position: int, old: str, new: str) -> int:
        """What replacing ``old`` by ``new`` at ``position`` adds to a fingerprint sum."""
        return ((ord(new) - ord(old)) * self.weights[position]) & MASK


def _derive(key: bytes, purpose: bytes) -> bytes:
    return hashlib.blake2b(purpose, key=key, digest_size=64, person=b"bordercheck-scr").digest()


def _words(key: bytes, purpose: bytes) -> tuple[int, ...]:
    """Eight 64-bit words for one purpose; multipliers are made odd, hence invertible."""
    words = struct.unpack("<8Q", _derive(key, purpose))
    return tuple(w | 1 if i >= 4 else w for i, w in enumerate(words))


def _add_lanes(total: U64, lanes: U32, weights: Sequence[int | np.uint64]) -> U64:
    """``total`` plus each 32-bit lane times its weight; lanes that are zero throughout (the
    numbers are shorter) are skipped."""
    for i, weight in enumerate(weights):
        lane = lanes[:, i]
        if i >= 2 and not lane.any():
            break  # numbers are left-aligned: if this lane is empty, so are the next
        total += lane.astype(np.uint64) * np.uint64(weight)
    return total


def _mix(lanes: U64, countries: U32, k: tuple[int, ...]) -> U64:
    h = np.full(len(lanes), k[0], np.uint64)
    shift = np.uint64(31)
    for i in range(LANES):
        h ^= lanes[:, i]
        h ^= np.uint64(k[1 + i])
        h *= np.uint64(k[4 + i])
        h ^= h >> shift
    h ^= countries.astype(np.uint64)
    h *= np.uint64(k[7])
    return _finish(h)


def _finish(h: U64) -> U64:
    h = h ^ (h >> np.uint64(33))
    h *= np.uint64(_F1)
    h ^= h >> np.uint64(33)
    h *= np.uint64(_F2)
    h ^= h >> np.uint64(33)
    return h


def _mix_one(data: bytes, country: int, k: tuple[int, ...]) -> int:
    """``_mix`` for one number, unrolled: Python pays for every loop step and attribute."""
    a: int
    b: int
    c: int
    a, b, c = _LANE_STRUCT.unpack(data.ljust(WIDTH, b"\0"))
    h = ((k[0] ^ a ^ k[1]) * k[4]) & MASK
    h ^= h >> 31
    h = ((h ^ b ^ k[2]) * k[5]) & MASK
    h ^= h >> 31
    h = ((h ^ c ^ k[3]) * k[6]) & MASK
    h ^= h >> 31
    h = ((h ^ country) * k[7]) & MASK
    h ^= h >> 33
    h = (h * _F1) & MASK
    h ^= h >> 33
    h = (h * _F2) & MASK
    return h ^ (h >> 33)


def _finish_one(h: int) -> int:
    h ^= h >> 33
    h = (h * _F1) & MASK
    h ^= h >> 33
    h = (h * _F2) & MASK
    return h ^ (h >> 33)
