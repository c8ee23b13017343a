"""Properties over random records: damaged numbers are found, clean absent ones never hit."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from bordercheck.documents.mrz import check_digit
from bordercheck.screening.confusions import DEFAULT_CONFUSIONS
from bordercheck.screening.index import IndexChange, ScreeningIndex
from bordercheck.screening.matcher import (
    SETTLE_FROM,
    MatchPolicy,
    Query,
    screen,
    screen_batch,
)
from bordercheck.screening.view import IndexView

from .conftest import KEY, entry

# Numbers rich in confusable characters, so that records are often OCR variants of one another.
CHARACTERS = "0O1IL2Z5S6G8B4A7TQDCXK9"
numbers = st.text(CHARACTERS, min_size=3, max_size=12)
countries = st.sampled_from(["DEU", "FRA"])
records = st.lists(st.tuples(numbers, countries), min_size=1, max_size=30, unique=True)


def build(pairs: list[tuple[str, str]]) -> ScreeningIndex:
    entries = [entry(i + 1, number, country) for i, (number, country) in enumerate(pairs)]
    return ScreeningIndex.build(entries, key=KEY)


# Look-alikes and the pairs a check digit cannot see alike.
CONFUSED = {
    c: (*DEFAULT_CONFUSIONS.neighbours.get(c, ()), *DEFAULT_CONFUSIONS.blind_neighbours.get(c, ()))
    for c in {*DEFAULT_CONFUSIONS.neighbours, *DEFAULT_CONFUSIONS.blind_neighbours}
}


def corrupt(number: str, data: st.DataObject) -> str:
    """The number with one or two characters replaced by characters OCR confuses them with."""
    positions = [i for i, c in enumerate(number) if c in CONFUSED]
    if not positions:
        return number
    count = data.draw(st.integers(1, min(2, len(positions))))
    chosen = data.draw(
        st.lists(st.sampled_from(positions), min_size=count, max_size=count, unique=True)
    )
    chars = list(number)
    for i in chosen:
        chars[i] = data.draw(st.sampled_from(CONFUSED[chars[i]]))
    return "".join(chars)


@settings(max_examples=150, deadline=None)
@given(records, st.data())
def test_a_record_read_with_one_or_two_confusions_is_found(
    pairs: list[tuple[str, str]], data: st.DataObject
) -> None:
    index = build(pairs)
    target = data.draw(st.integers(0, len(pairs) - 1))
    number, country = pairs[target]
    read = corrupt(number, data)
    for printed in (None, check_digit(number)):  # number only; MRZ with the true check digit
        matches = screen(index, Query(read, country, check_digit=printed)).matches
        found = {m.record_id: m.match for m in matches}
        assert found.get(target + 1) == ("exact" if read == number else "ocr_variant")


@settings(max_examples=150, deadline=None)
@given(records, numbers, countries)
def test_a_clean_number_that_is_not_recorded_is_never_a_hit(
    pairs: list[tuple[str, str]], number: str, country: str
) -> None:
    index = build(pairs)
    answer = screen(index, Query(number, country))
    assert (answer.result == "hit") == ((number, country) in pairs)
    for match in answer.matches:
        assert match.match == "exact" or match.document_number != number


@settings(max_examples=60, deadline=None)
@given(records, st.lists(st.tuples(numbers, countries, st.booleans()), max_size=20), st.data())
def test_a_batch_answers_as_single_screens_do(
    pairs: list[tuple[str, str]], asked: list[tuple[str, str, bool]], data: st.DataObject
) -> None:
    index = build(pairs)
    queries = [Query(n, c, check_digit=check_digit(n) if mrz else None) for n, c, mrz in asked]
    queries += [Query(corrupt(n, data), c) for n, c in pairs[:10]]
    for policy in (MatchPolicy(), MatchPolicy(transpositions_up_to=0, substitutions_up_to=0)):
        expected = [screen(index, q, policy) for q in queries]
        assert screen_batch(index, queries, policy) == expected
        # Large enough for the batch to settle its recorded numbers at once.
        assert screen_batch(index, queries * SETTLE_FROM, policy)[: len(queries)] == expected


def stripped(index: ScreeningIndex, **unknown: None) -> ScreeningIndex:
    """The same index with some of its base's tables not known, as in an index saved before
    it held them."""
    view = index.view()
    base = dataclasses.replace(view.base, **unknown)
    return ScreeningIndex(
        IndexView(base, view.ranges, view.overlay, view.scheme, view.confusions, view.sequence)
    )


def without_alphabets(index: ScreeningIndex) -> ScreeningIndex:
    """Every blind variant probed, whatever characters the records hold."""
    return stripped(index, alphabet_shapes=None, alphabet=None)


def without_filters(index: ScreeningIndex) -> ScreeningIndex:
    """No coarse or mixed filter: every number's skeleton and blind variants probed."""
    return stripped(index, coarse_filter=None, mixed_filter=None)


@settings(max_examples=150, deadline=None)
@given(records, records, st.lists(st.tuples(numbers, countries), max_size=20), st.data())
def test_filters_and_alphabets_leave_out_only_what_no_record_could_be(
    pairs: list[tuple[str, str]],
    later: list[tuple[str, str]],
    asked: list[tuple[str, str]],
    data: st.DataObject,
) -> None:
    index = build(pairs)
    # Records added since the build are in no filter of the base, and bring characters its
    # alphabets lack.
    index.apply(
        [IndexChange.upsert(entry(1000 + i, n, c)) for i, (n, c) in enumerate(later)], sequence=1
    )
    queries = [Query(n, c) for n, c in [*asked, *pairs[:5]]]
    queries += [Query(corrupt(n, data), c) for n, c in [*pairs[:10], *later[:10]]]
    queries += [Query(q.number, q.country, check_digit=check_digit(q.number)) for q in queries]
    policy = MatchPolicy(transpositions_up_to=0, substitutions_up_to=0)
    for state in ("overlay", "compacted"):
        if state == "compacted":
            index.compact()
        expected = [screen(without_alphabets(index), q, policy) for q in queries]
        assert [screen(without_filters(index), q, policy) for q in queries] == expected
        assert [screen(index, q, policy) for q in queries] == expected
        assert screen_batch(index, queries * SETTLE_FROM, policy)[: len(queries)] == expected
