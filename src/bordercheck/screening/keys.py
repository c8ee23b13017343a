"""Keyed 64-bit hashes of document numbers, computed over many numbers at once with numpy.

Why keyed: a snapshot file holds hashes of every recorded number. With a public hash anyone
holding the file could test guesses ("is my passport listed?", or every number of a
country's range) offline. With a secret key mixed into every step, the file alone answers
nothing; the key lives with the API nodes and edge kits, not with the file.

What it is not: a MAC or a cryptographic PRF. It is a multiply/xorshift mix over 64-bit lanes
with key-derived constants, chosen for speed (about 12 ns a number in numpy). Someone who
holds the file and many known (number, hash) pairs might recover enough of the key to test
guesses; it raises the bar for a stolen file, it does not replace protecting the key.

Numbers are fixed-width uint8 matrices (ASCII, NUL-padded to at most 24 bytes), read as
three little-endian 64-bit lanes; the issuing country is a fourth lane. NUL padding keeps
the lanes injective: a normalised number never contains NUL.

Fingerprints, which tell apart numbers sharing a skeleton key, are different on purpose: a
keyed mix of the skeleton key plus a sum linear in each byte of the number, so that the
fingerprint of a number with a character replaced is the old one plus a known delta.
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
        return _mix(as_lanes(skeletons), countries, self._skeleton)

    def range_group_keys(self, masked: U8, countries: U32) -> U64:
        """The key of each (country, prefix, serial width): digits of the serial masked."""
        return _mix(as_lanes(masked), countries, self._range)

    def fingerprints(self, numbers: U8, skeleton_keys: U64) -> U32:
        """32 bits that tell apart the numbers sharing one skeleton key."""
        return (self.fingerprint_sums(numbers, skeleton_keys) >> np.uint64(32)).astype(np.uint32)

    def fingerprint_sums(self, numbers: U8, skeleton_keys: U64) -> U64:
        lanes = as_lanes(numbers).view("<u4")
        total = _finish((skeleton_keys ^ np.uint64(self._mixer[0])) * np.uint64(self._mixer[4]))
        for i, weight in enumerate(self._linear):
            total += lanes[:, i].astype(np.uint64) * weight
        return total

    # Scalar, for one number at a time (a few hundred ns) --------------------------------

    def skeleton_key(self, skeleton: bytes, country: int) -> int:
        return _mix_one(skeleton, country, self._skeleton)

    def range_group_key(self, masked: bytes, country: int) -> int:
        return _mix_one(masked, country, self._range)

    def fingerprint_sum(self, number: bytes, skeleton_key: int) -> int:
        """The 64-bit sum whose top 32 bits are the fingerprint; linear in each byte."""
        lanes: tuple[int, int, int, int, int, int] = _FINGERPRINT_LANES.unpack(
            number.ljust(WIDTH, b"\0")
        )
        a, b, c, d, e, f = lanes
        w0, w1, w2, w3, w4, w5 = self._lane_weights
        total = _finish_one(((skeleton_key ^ self._mixer[0]) * self._mixer[4]) & MASK)
        return (total + a * w0 + b * w1 + c * w2 + d * w3 + e * w4 + f * w5) & MASK

    def delta(self, position: int, old: str, new: str) -> int:
        """What replacing ``old`` by ``new`` at ``position`` adds to a fingerprint sum."""
        return ((ord(new) - ord(old)) * self.weights[position]) & MASK


def _derive(key: bytes, purpose: bytes) -> bytes:
    return hashlib.blake2b(purpose, key=key, digest_size=64, person=b"bordercheck-scr").digest()


def _words(key: bytes, purpose: bytes) -> tuple[int, ...]:
    """Eight 64-bit words for one purpose; multipliers are made odd, hence invertible."""
    words = struct.unpack("<8Q", _derive(key, purpose))
    return tuple(w | 1 if i >= 4 else w for i, w in enumerate(words))


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
