"""What confusions add to the sums screening compares, as tables built once per key.

Skeleton sums and fingerprint sums are linear in each character (``keys``), so replacing a
character adds a known delta: these tables hold the deltas of look-alike changes (one at a
time, by top half, and in pairs) and of blind substitutions, and ``blind_deltas`` computes
every blind variant of many numbers at once from them.
"""

from __future__ import annotations

import functools
from typing import Final, NamedTuple

import numpy as np
from numpy.typing import NDArray

from bordercheck.screening.alphabet import CHAR_BITS
from bordercheck.screening.confusions import Confusions
from bordercheck.screening.keys import MASK, WIDTH, KeyScheme


def blind_deltas(
    numbers: NDArray[np.uint8],
    width: int,
    alternatives: NDArray[np.uint8],
    table: NDArray[np.uint64],
    max_changes: int,
    allowed: NDArray[np.uint64] | None = None,
) -> tuple[NDArray[np.intp], NDArray[np.uint64], NDArray[np.uint64], NDArray[np.intp]]:
    """Every blind variant of each number (one substitution, or two at different columns
    when ``max_changes`` allows), as the row it comes from, what it adds to the skeleton
    sum and to the number sum, and how many look-alikes it leaves allowed.
    ``alternatives``: ``Confusions.blind_alternatives``; ``table``: ``blind_table``;
    ``allowed``: per number and column, the characters a substitution may put there
    (``alphabet`` masks; None: any)."""
    options = alternatives.shape[1]
    owners, rest = np.divmod(np.flatnonzero(alternatives[numbers[:, :width]]), width * options)
    column, k = np.divmod(rest, options)
    if allowed is not None:
        put = CHAR_BITS[alternatives[numbers[owners, column], k]].astype(np.uint64)
        keep = (allowed[owners, column] >> put) & np.uint64(1) != 0
        owners, column, k = owners[keep], column[keep], k[keep]
    skeleton, number = table[column, numbers[owners, column], k].T
    left = np.full(len(owners), max_changes - 1, np.intp)
    if max_changes >= 2 and len(owners) > 1:
        # Each pair of one number's substitutions at different columns, once. A number's
        # substitutions are adjacent, by column: pair each with those after it.
        single = np.arange(len(owners))
        after = np.searchsorted(owners, owners, side="right") - single - 1
        first = np.repeat(single, after)
        second = first + 1 + np.arange(len(first)) - np.repeat(np.cumsum(after) - after, after)
        apart = column[first] != column[second]
        first, second = first[apart], second[apart]
        owners = np.concatenate([owners, owners[first]])
        skeleton = np.concatenate([skeleton, skeleton[first] + skeleton[second]])
        number = np.concatenate([number, number[first] + number[second]])
        left = np.concatenate([left, np.full(len(first), max_changes - 2, np.intp)])
    return owners, skeleton, number, left


@functools.lru_cache(maxsize=8)
def blind_table(scheme: KeyScheme, confusions: Confusions) -> NDArray[np.uint64]:
    """``[column, character, k]`` → (skeleton-sum delta, number-sum delta) of replacing the
    character by its k-th blind neighbour (``Confusions.blind_alternatives``' order)."""
    table = np.zeros((WIDTH, 256, confusions.blind_alternatives.shape[1], 2), np.uint64)
    steps = blind_steps(scheme, confusions)
    for column, weight in enumerate(scheme.weights):
        for char, options in steps[column].items():
            for k, (delta, _, other) in enumerate(options):
                table[column, ord(char), k] = delta, ((ord(other) - ord(char)) * weight) & MASK
    return table


@functools.lru_cache(maxsize=8)
def delta_table(scheme: KeyScheme, confusions: Confusions) -> NDArray[np.uint64]:
    """``[position, character, k]``: what the k-th look-alike of the character at the
    position adds to a fingerprint sum (0: no such look-alike)."""
    widest = max((len(n) for n in confusions.neighbours.values()), default=0)
    table = np.zeros((WIDTH, 256, max(widest, 1)), np.uint64)
    for position, weight in enumerate(scheme.weights):
        for char, others in confusions.neighbours.items():
            for k, other in enumerate(others):
                table[position, ord(char), k] = ((ord(other) - ord(char)) * weight) & MASK
    return table


class BlindStep(NamedTuple):
    """One blind substitution: ``character`` at ``position``, which adds ``delta`` to the
    number's skeleton sum."""

    delta: int
    position: int
    character: str


@functools.lru_cache(maxsize=8)
def blind_steps(
    scheme: KeyScheme, confusions: Confusions
) -> list[dict[str, tuple[BlindStep, ...]]]:
    """Per position, each character with blind neighbours → its blind steps there (made
    once: a look-up picks them, it does not build them)."""
    skeleton = confusions.skeleton_table
    return [
        {
            char: tuple(
                BlindStep(((skeleton[ord(other)] - skeleton[ord(char)]) * weight) & MASK, p, other)
                for other in others
            )
            for char, others in confusions.blind_neighbours.items()
        }
        for p, weight in enumerate(scheme.skeleton_weights)
    ]


@functools.lru_cache(maxsize=8)
def by_top(
    scheme: KeyScheme, confusions: Confusions
) -> dict[int, tuple[tuple[int, int, str, str], ...]]:
    """Every look-alike change (position, character, replacement) by the top half of what
    it adds to a fingerprint sum: (delta, position, character, replacement)."""
    table: dict[int, tuple[tuple[int, int, str, str], ...]] = {}
    for position, steps in enumerate(look_alike_deltas(scheme, confusions)):
        for char, options in steps.items():
            for delta, other in options:
                table[delta >> 32] = (*table.get(delta >> 32, ()), (delta, position, char, other))
    return table


# Numbers up to this long find two-change readings in one look-up (``pair_table``).
PAIRED: Final = 16


class PairTable(NamedTuple):
    """Every pair of look-alike changes at two positions p1 < p2 < PAIRED, sorted by the
    top half of what they add to a fingerprint sum: ``first[top]`` is the first such pair,
    ``after[k]`` the next one with the same top half (-1: none); the other lists hold each
    pair's delta, positions, characters and replacements."""

    first: dict[int, int]
    after: list[int]
    delta: list[int]
    p1: list[int]
    old1: list[str]
    new1: list[str]
    p2: list[int]
    old2: list[str]
    new2: list[str]


_PAIR_TABLES: dict[tuple[bytes, str], PairTable] = {}


def pair_table(scheme: KeyScheme, confusions: Confusions) -> PairTable:
    """The pair table of a key and confusion table (about 58,000 pairs for the default
    table, made with numpy in some milliseconds on first need, whichever objects hold them)."""
    cached = (scheme.fingerprint, confusions.spec)
    if cached in _PAIR_TABLES:
        return _PAIR_TABLES[cached]
    singles = [
        (delta, position, char, other)
        for position, by_char in enumerate(look_alike_deltas(scheme, confusions)[:PAIRED])
        for char, options in by_char.items()
        for delta, other in options
    ]
    deltas = np.array([s[0] for s in singles], np.uint64)
    positions = np.array([s[1] for s in singles], np.intp)
    olds = np.array([s[2] for s in singles])
    news = np.array([s[3] for s in singles])
    i, j = np.triu_indices(len(singles), 1)  # singles come by position: p1 <= p2
    apart = positions[i] != positions[j]
    i, j = i[apart], j[apart]
    delta = deltas[i] + deltas[j]
    top = delta >> np.uint64(32)
    order = np.argsort(top, kind="stable")
    i, j, delta, top = i[order], j[order], delta[order], top[order]
    tops, starts = np.unique(top, return_index=True)
    after = np.arange(1, len(top) + 1)
    after[np.r_[top[1:] != top[:-1], True]] = -1
    table = PairTable(
        dict(zip(tops.tolist(), starts.tolist(), strict=True)),
        after.tolist(),
        delta.tolist(),
        positions[i].tolist(),
        olds[i].tolist(),
        news[i].tolist(),
        positions[j].tolist(),
        olds[j].tolist(),
        news[j].tolist(),
    )
    if len(_PAIR_TABLES) >= 4:  # a process uses one key and table; tests use a few
        _PAIR_TABLES.clear()
    _PAIR_TABLES[cached] = table
    return table


@functools.lru_cache(maxsize=8)
def look_alike_deltas(
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
