"""When a network moves to another route: a change point in the sequence of its trips.

The test, stated: the trips in date order, each labelled with its route; for every split
leaving at least ``MIN_SIDE`` trips on each side, the likelihood-ratio statistic G of "one
mix of routes before, another after" against "one mix throughout"; the largest G is
compared with the largest G of ``PERMUTATIONS`` random reorderings of the same trips (a
permutation test of the maximum, so the many splits tried are accounted for). A split with
p ≤ ``ALPHA`` whose most used route differs on the two sides is a shift; each side is then
searched again (binary segmentation). It is dated by the first trip after the split.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt

MIN_SIDE = 3
ALPHA = 0.01
PERMUTATIONS = 999


@dataclass(frozen=True)
class Shift:
    at: int  # index of the first trip after the change
    detected_on: date
    before: list[tuple[str, int]]  # routes and their trips, most used first
    after: list[tuple[str, int]]
    statistic: float
    p_value: float
    trips_before: int
    trips_after: int


def _g_statistics(onehot: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """G for each split k (trips[:k] against trips[k:]), k from MIN_SIDE to n - MIN_SIDE;
    ``onehot`` may hold several orderings stacked on a first axis."""
    n = onehot.shape[-2]
    left = np.cumsum(onehot, axis=-2)[..., MIN_SIDE - 1 : n - MIN_SIDE, :]
    total = onehot.sum(axis=-2, keepdims=True)
    right = total - left
    sizes = np.arange(MIN_SIDE, n - MIN_SIDE + 1, dtype=np.float64)[:, None]

    def loglik(counts: npt.NDArray[np.float64], size: npt.NDArray[np.float64]) -> Any:
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(counts > 0, counts * np.log(counts / size), 0.0)
        return terms.sum(axis=-1)

    whole = loglik(total, np.array([[float(n)]]))
    statistics: npt.NDArray[np.float64] = 2.0 * (
        loglik(left, sizes) + loglik(right, n - sizes) - whole
    )
    return statistics


def _best_split(labels: npt.NDArray[np.int64], routes: int, seed: int) -> tuple[int, float, float]:
    eye = np.eye(routes)
    observed = _g_statistics(eye[labels])
    k = int(np.argmax(observed))
    rng = np.random.default_rng(seed)
    shuffled = rng.permuted(np.tile(labels, (PERMUTATIONS, 1)), axis=1)
    maxima = _g_statistics(eye[shuffled]).max(axis=-1)
    p = (1 + int(np.sum(maxima >= observed[k] - 1e-9))) / (PERMUTATIONS + 1)
    return k + MIN_SIDE, float(observed[k]), p


def detect_shifts(days: Sequence[date], routes: Sequence[str], seed: int = 0) -> list[Shift]:
    """The shifts in a network's trips (``days`` sorted, ``routes`` the route of each).

    Remembered: a network whose trips did not change is not tested again."""
    return list(_detect(tuple(days), tuple(routes), seed))


@functools.lru_cache(maxsize=4096)
def _detect(days: tuple[date, ...], routes: tuple[str, ...], seed: int) -> tuple[Shift, ...]:
    names = sorted(set(routes))
    index = {name: i for i, name in enumerate(names)}
    labels = np.array([index[r] for r in routes], dtype=np.int64)
    found: list[Shift] = []

    def search(start: int, end: int) -> None:
        segment = labels[start:end]
        if end - start < 2 * MIN_SIDE or len(set(segment.tolist())) < 2:
            return
        split, statistic, p = _best_split(segment, len(names), seed + start)
        before = Counter(routes[start : start + split]).most_common()
        after = Counter(routes[start + split : end]).most_common()
        if p > ALPHA or before[0][0] == after[0][0]:
            return
        at = start + split
        found.append(Shift(at, days[at], before, after, statistic, p, split, end - at))
        search(start, at)
        search(at, end)

    search(0, len(labels))
    return tuple(sorted(found, key=lambda s: s.at))
