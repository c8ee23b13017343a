"""Whether a key is too weak to protect a production deployment.

A key that a person typed, copied from documentation or made by repeating a pattern can be
guessed; a generated one (``bordercheck keys init``) passes easily. Kept free of other
bordercheck imports: the settings module uses it when it loads.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter

MIN_SECRET_CHARACTERS = 32
# Estimated from the characters' frequencies: a generated 43-character URL-safe key carries
# about 200 bits by this measure, 64 hexadecimal digits about 250; 128 is the floor.
MIN_ENTROPY_BITS = 128
MIN_DISTINCT = 10
MIN_DISTINCT_BYTES = 16
# Words of the example values published for this and similar software; a key containing one
# was copied, not generated. Compared with letters and digits only, lower case.
EXAMPLE_WORDS = (
    "changeme",
    "devsecret",
    "secretkey",
    "example",
    "yoursecret",
    "notsecret",
    "password",
    "insecure",
    "bordercheck",
)


def secret_weakness(key: str) -> str | None:
    """Why ``key`` is too weak (one phrase, never quoting it), or None."""
    if len(key) < MIN_SECRET_CHARACTERS:
        return f"is shorter than {MIN_SECRET_CHARACTERS} characters"
    letters = "".join(c for c in key.lower() if c.isalnum())
    if any(word in letters for word in EXAMPLE_WORDS):
        return "is an example value, not a generated key"
    return _pattern_weakness(key, MIN_DISTINCT, "characters")


def key_bytes_weakness(key: bytes) -> str | None:
    """Why a binary key (32 bytes of a message or signing key) is not random, or None."""
    return _pattern_weakness(key, MIN_DISTINCT_BYTES, "bytes")


def _pattern_weakness(key: str | bytes, min_distinct: int, unit: str) -> str | None:
    codes = tuple(key) if isinstance(key, bytes) else tuple(map(ord, key))
    counts = Counter(codes)
    if len(counts) < min_distinct:
        return f"has fewer than {min_distinct} distinct {unit}"
    if _repeats(codes):
        return "repeats a pattern"
    if _runs(codes):
        return f"is a run of consecutive {unit}"
    if unit == "characters" and _entropy_bits(counts, len(codes)) < MIN_ENTROPY_BITS:
        return f"carries less than {MIN_ENTROPY_BITS} bits of entropy"
    return None


def _repeats(codes: tuple[int, ...]) -> bool:
    # "abcabcab": the key shifted by a period of at most half its length is itself.
    return any(codes[period:] == codes[:-period] for period in range(1, len(codes) // 2 + 1))


def _runs(codes: tuple[int, ...]) -> bool:
    # "abcdef…", "0123…": half the key or more stepping by one.
    longest = run = 1
    for before, after in itertools.pairwise(codes):
        run = run + 1 if abs(after - before) == 1 else 1
        longest = max(longest, run)
    return longest * 2 >= len(codes)


def _entropy_bits(counts: Counter[int], length: int) -> float:
    per_unit = -sum(n / length * math.log2(n / length) for n in counts.values())
    return per_unit * length
