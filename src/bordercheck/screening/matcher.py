"""Screening documents against the records: exact, range, OCR variants, typing slips.

How matching works, what the scores mean and how to threshold them: docs/screening.md.
The matcher works on any ``RecordSource`` (the index's ``IndexView``; the edge kit's own
storage), so the rules live here once.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Final, Literal, NamedTuple, Protocol

import numpy as np
from numpy.typing import NDArray

from bordercheck.documents.mrz import check_digit as mrz_check_digit
from bordercheck.documents.types import DocumentType, Status
from bordercheck.screening.confusions import ALPHABET, Confusions
from bordercheck.screening.keys import country_text
from bordercheck.screening.query import (
    Columns,
    InvalidQuery,
    Prepared,
    Query,
    encode_columns,
    families_of,
    prepare,
)
from bordercheck.screening.records import BLIND, MAY_MATCH, Found

__all__ = [
    "DEFAULT_POLICY",
    "Columns",
    "InvalidQuery",
    "Match",
    "MatchPolicy",
    "Query",
    "RecordSource",
    "Screening",
    "screen",
    "screen_batch",
    "screen_columns",
]

MatchKind = Literal["exact", "range", "ocr_variant", "transposition", "substitution"]
Result = Literal["hit", "possible_hit", "no_hit"]

EXACT_SCORE: Final = 1.0
# An OCR variant: one or two confused characters. A check digit moves the score: the
# printed number failing it while the variant passes is evidence of a misreading (+0.1);
# both passing means the misreading is one a check digit cannot see (-0.1).
OCR_SCORES: Final = {1: 0.8, 2: 0.6}
CHECK_DIGIT_CONFIRMS: Final = 0.1
# (changes, None without a check digit, else whether the number as read passes it) → score
_OCR_SCORE: Final = {
    (changes, passes): round(
        score + {None: 0.0, True: -CHECK_DIGIT_CONFIRMS, False: CHECK_DIGIT_CONFIRMS}[passes], 2
    )
    for changes, score in OCR_SCORES.items()
    for passes in (None, True, False)
}
TRANSPOSITION_SCORE: Final = 0.5
SUBSTITUTION_SCORE: Final = 0.4
_KIND_ORDER: Final = {
    "exact": 0,
    "range": 1,
    "ocr_variant": 2,
    "transposition": 3,
    "substitution": 4,
}


class Match(NamedTuple):
    """One record a screening found; a tuple, as thousands are made a second."""

    record_id: int
    document_number: str
    issuing_country: str
    document_type: DocumentType
    status: Status
    blank: bool
    restricted: bool
    match: MatchKind
    score: float
    serial_end: str | None = None


class Screening(NamedTuple):
    """A document's answer: the result and the records matched, best first."""

    result: Result
    matches: tuple[Match, ...] = ()


NO_HIT: Final = Screening("no_hit")


@dataclass(frozen=True)
class MatchPolicy:
    """How far matching reaches. Transpositions and substitutions are tried only for queries
    without a check digit, and only while the index is small enough that they seldom raise a
    false alarm (limits measured: docs/benchmarks.md, "Screening index")."""

    ocr_changes: int = 2
    transpositions_up_to: int = 1_500_000  # measured: 0.05 % false alarms at 1 M, 0.12 % at 2 M
    substitutions_up_to: int = 100_000  # measured: 0.07 % at 100 k, 0.17 % at 200 k


DEFAULT_POLICY: Final = MatchPolicy()

Candidate = tuple[str, int, Found]


class RecordSource(Protocol):
    """What matching needs from storage; ``view()`` pins one consistent state."""

    @property
    def size(self) -> int: ...

    @property
    def confusions(self) -> Confusions: ...

    def view(self) -> RecordSource: ...

    def find(
        self, country: str, number: str, max_changes: int, *, blind: bool = True
    ) -> list[Candidate]:
        """(number as recorded or as a range reads it, confusions, record) for every record
        whose number is ``number`` or up to ``max_changes`` confusions from it, or whose
        range holds it (possibly with letters read as the digits they are confused with).
        ``blind=False`` leaves out blind variants, when ``may_match`` ruled them out."""
        ...

    def find_numbers(self, country: str, numbers: Sequence[str]) -> list[tuple[int, Found]]: ...

    def may_match(
        self,
        numbers: NDArray[np.uint8],
        lengths: NDArray[np.intp],
        codes: NDArray[np.uint32],
        max_changes: int,
    ) -> NDArray[np.uint8]:
        """Per number: 0 when ``find`` would surely find nothing, else ``MAY_MATCH``, with
        ``BLIND`` when blind variants may be among what it finds."""
        ...

    def settle(
        self,
        numbers: NDArray[np.uint8],
        lengths: NDArray[np.intp],
        codes: NDArray[np.uint32],
        max_changes: int,
    ) -> list[list[Found] | None]:
        """For numbers flagged ``MAY_MATCH`` alone: the records ``find(..., blind=False)``
        would find, where they are all exact and known at once, else None (find them)."""
        ...


class Indexed(Protocol):
    def view(self) -> RecordSource: ...


def screen(index: Indexed, query: Query, policy: MatchPolicy = DEFAULT_POLICY) -> Screening:
    """Screen one document; raises InvalidQuery when it cannot be read."""
    return screen_prepared(index.view(), prepare(query), policy)


def screen_batch(
    index: Indexed, queries: Sequence[Query], policy: MatchPolicy = DEFAULT_POLICY
) -> list[Screening]:
    """Screen documents against one state of the index; answers in order, as ``screen``'s.

    All numbers are hashed together and probed once; only documents that may match (a
    record or OCR variant shares their skeleton, or a recorded range has their shape) are
    screened one by one. InvalidQuery names the first document that cannot be read.
    """
    return screen_columns(index, Columns.of(queries), policy)


def screen_columns(
    index: Indexed, columns: Columns, policy: MatchPolicy = DEFAULT_POLICY
) -> list[Screening]:
    """``screen_batch`` of documents given as columns (no ``Query`` object each: for a
    caller holding a table, a third of the cost of a batch)."""
    source = index.view()
    n = columns.size
    if n == 0:
        return []
    flags = _first_pass(source, columns, policy.ocr_changes)
    if source.size <= max(policy.transpositions_up_to, policy.substitutions_up_to):
        # Typing slips are looked up for number-only queries: no cheap filter for those.
        checks = columns.check_digits
        flags |= BLIND * (
            np.fromiter((c is None for c in checks), bool, n) if checks is not None else True
        )
    results = [NO_HIT] * n
    _settle(source, columns, flags, results, policy.ocr_changes)
    blind = (flags & BLIND).astype(bool)
    for i in np.flatnonzero(flags).tolist():
        query = prepare(columns.query(i), i)
        results[i] = screen_prepared(source, query, policy, blind=blind[i])
    return results


# Settling costs some vectorised steps whatever the count (about 0.3 ms), and saves a
# look-up (15-60 µs) per document: worth it from a few dozen candidates.
SETTLE_FROM: Final = 64


def _settle(
    source: RecordSource,
    columns: Columns,
    flags: NDArray[np.uint8],
    results: list[Screening],
    max_changes: int,
) -> None:
    """Answer the documents whose records the source settles at once (recorded numbers,
    exact), and clear their flags; the others stay to be screened one by one."""
    quick = np.flatnonzero(flags == MAY_MATCH).tolist()
    if len(quick) < SETTLE_FROM:
        return
    chosen = columns.take(quick)
    numbers, lengths, codes = encode_columns(chosen)
    types = chosen.document_types
    for j, found in enumerate(source.settle(numbers, lengths, codes, max_changes)):
        if found is None:
            continue
        i = quick[j]
        families = families_of(types[j] if types is not None else None)
        country = country_text(int(codes[j]))
        best: dict[int, Match] = {}
        for record in found:
            if record.family_bit & families:
                _keep(best, _match(record, country, "exact", EXACT_SCORE))
        results[i] = _answer(best)
        flags[i] = 0


# Batches this large are read in slices: while one thread encodes a slice (Python objects,
# under the interpreter's lock), others pass over the slices before it (numpy work, outside
# the lock), so that on two cores the first pass costs little more than the encoding.
PARALLEL_FROM: Final = 1 << 16
_SLICE: Final = 1 << 15


def _first_pass(source: RecordSource, columns: Columns, max_changes: int) -> NDArray[np.uint8]:
    """``may_match`` of every document."""
    n = columns.size
    workers = min(os.cpu_count() or 1, n // PARALLEL_FROM)
    if workers < 2:
        return source.may_match(*encode_columns(columns), max_changes)
    with ThreadPoolExecutor(workers, thread_name_prefix="screen-batch") as pool:
        passes = []
        for start in range(0, n, _SLICE):
            try:
                encoded = encode_columns(columns.slice(start, start + _SLICE))
            except InvalidQuery:
                encode_columns(columns)  # raises again, naming the document in the batch
                raise
            passes.append(pool.submit(source.may_match, *encoded, max_changes))
        return np.concatenate([done.result() for done in passes])


def screen_prepared(
    source: RecordSource, query: Prepared, policy: MatchPolicy, *, blind: bool = True
) -> Screening:
    """Screen one normalised query; ``blind=False`` when blind variants are known absent."""
    number, country, cd = query.number, query.country, query.check_digit
    best: dict[int, Match] = {}
    candidates = source.find(country, number, policy.ocr_changes, blind=blind)
    passes = cd is None or not candidates or mrz_check_digit(number) == cd
    for reading, changes, found in candidates:
        if not found.family_bit & query.families:
            continue
        if changes == 0:
            kind: MatchKind = "range" if found.serial_end is not None else "exact"
            score = EXACT_SCORE
        else:
            if cd is not None and mrz_check_digit(reading) != cd:
                continue  # the OCR would have had to misread the check digit too
            kind, score = "ocr_variant", _OCR_SCORE[changes, None if cd is None else passes]
        _keep(best, _match(found, country, kind, score))
    transpositions = source.size <= policy.transpositions_up_to
    substitutions = source.size <= policy.substitutions_up_to
    if cd is None and (transpositions or substitutions):
        slips = typing_slips(
            number, source.confusions, transpositions=transpositions, substitutions=substitutions
        )
        readings = list(slips)
        for i, found in source.find_numbers(country, readings):
            if found.family_bit & query.families:
                kind = slips[readings[i]]
                score = TRANSPOSITION_SCORE if kind == "transposition" else SUBSTITUTION_SCORE
                _keep(best, _match(found, country, kind, score))
    return _answer(best)


def _answer(best: dict[int, Match]) -> Screening:
    """The answer of the matches kept (one per record), best first."""
    if not best:
        return NO_HIT
    if len(best) == 1:
        matches: Sequence[Match] = tuple(best.values())
    else:
        matches = sorted(best.values(), key=_best_first)
    result: Result = "hit" if matches[0].match in ("exact", "range") else "possible_hit"
    return _new_screening((result, tuple(matches)))


def typing_slips(
    number: str, confusions: Confusions, *, transpositions: bool, substitutions: bool
) -> dict[str, MatchKind]:
    """Numbers one adjacent transposition or one non-OCR substitution from ``number``."""
    slips: dict[str, MatchKind] = {}
    if transpositions:
        for i in range(len(number) - 1):
            a, b = number[i], number[i + 1]
            if a != b:
                slips[f"{number[:i]}{b}{a}{number[i + 2 :]}"] = "transposition"
    if substitutions:
        for i, char in enumerate(number):
            skip = {char, *confusions.neighbours.get(char, ())}  # those are OCR variants
            for other in ALPHABET:
                if other not in skip:
                    slips.setdefault(f"{number[:i]}{other}{number[i + 1 :]}", "substitution")
    return slips


def _match(found: Found, country: str, kind: MatchKind, score: float) -> Match:
    return _new_match((
        found.record_id, found.document_number, country, found.document_type, found.status,
        found.blank, found.restricted, kind, score, found.serial_end,
    ))  # fmt: skip


def _best_first(match: Match) -> tuple[float, int, int]:
    return -match.score, _KIND_ORDER[match.match], match.record_id


# Thousands of matches and answers are made a second: built as plain tuples of their class
# (what ``_make`` does, without its checks), at a third of a NamedTuple call's cost.
_new_match: Final[Callable[[tuple[object, ...]], Match]] = functools.partial(tuple.__new__, Match)
_new_screening: Final[Callable[[tuple[object, ...]], Screening]] = functools.partial(
    tuple.__new__, Screening
)


def _keep(best: dict[int, Match], match: Match) -> None:
    """One match per record: the best-scored (a record may be reached by several readings)."""
    old = best.get(match.record_id)
    if old is None or (match.score, -_KIND_ORDER[match.match]) > (
        old.score,
        -_KIND_ORDER[old.match],
    ):
        best[match.record_id] = match
