"""The engine answers as the brute-force reference does (``reference``: the rules of
docs/screening.md over plain records), on random registries, changes and damaged queries.

Registries are small and rich in confusable characters, so that records are often OCR
variants of one another and of the numbers asked; every state of the index is held to the
reference: built, with changes applied, compacted, saved and loaded, and with the tables an
older snapshot may lack (alphabets, coarse and mixed filters) not known.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from tempfile import TemporaryDirectory

from hypothesis import given, settings
from hypothesis import strategies as st

from bordercheck.screening.index import IndexChange, IndexEntry, ScreeningIndex
from bordercheck.screening.matcher import (
    SETTLE_FROM,
    MatchPolicy,
    Query,
    screen,
    screen_batch,
)
from bordercheck.screening.view import IndexView

from .conftest import KEY
from .reference import DIGIT_READ_FOR, Record, Reference, check_digit

CHARACTERS = "0O1IL2Z5S6G8B4A7TQDCXK93"
TYPES = ("passport", "service_passport", "identity_card", "visa")
COUNTRIES = ("DEU", "FRA")
NO_SLIPS = MatchPolicy(transpositions_up_to=0, substitutions_up_to=0)
POLICIES = (MatchPolicy(), NO_SLIPS, MatchPolicy(ocr_changes=1, substitutions_up_to=0))

numbers = st.text(CHARACTERS, min_size=3, max_size=12)


@st.composite
def plain_records(draw: st.DrawFn, record_id: int) -> Record:
    return Record(
        record_id,
        draw(numbers),
        draw(st.sampled_from(COUNTRIES)),
        draw(st.sampled_from(TYPES)),
        draw(st.sampled_from(("stolen", "lost", "revoked"))),
        blank=draw(st.booleans()),
        restricted=draw(st.booleans()),
    )


@st.composite
def ranges(draw: st.DrawFn, record_id: int) -> Record:
    prefix = draw(st.text("CXOB", max_size=2))
    width = draw(st.integers(2, 6))
    first = draw(st.integers(0, 10**width - 1))
    last = draw(st.integers(first, min(first + 300, 10**width - 1)))
    return Record(
        record_id,
        f"{prefix}{first:0{width}d}",
        draw(st.sampled_from(COUNTRIES)),
        "passport",
        serial_end=f"{prefix}{last:0{width}d}",
        blank=True,
    )


@st.composite
def registries(draw: st.DrawFn, first_id: int = 1, max_size: int = 30) -> list[Record]:
    count = draw(st.integers(1, max_size))
    return [
        draw(ranges(first_id + i) if draw(st.integers(0, 5)) == 0 else plain_records(first_id + i))
        for i in range(count)
    ]


# What a reader may read for what: the confusions screening searches, and a few it does not
# (C/G, 8/3, K/X), drawn independently of the reference's tables.
MISREADS = (
    "O0", "Q0", "D0", "I1", "L1", "B8", "S5", "Z2", "G6", "A4", "T7", "OQ", "OD", "QD", "IL",
    "S8", "Z5", "A0", "K0", "AK", "CG", "83", "KX",
)  # fmt: skip


def misread(number: str, draw: st.DrawFn) -> str:
    """The number with one, two or three characters misread."""
    positions = [i for i, c in enumerate(number) if any(c in pair for pair in MISREADS)]
    if not positions:
        return number
    chosen = draw(st.lists(st.sampled_from(positions), min_size=1, max_size=3, unique=True))
    chars = list(number)
    for i in chosen:
        others = sorted({c for pair in MISREADS if chars[i] in pair for c in pair} - {chars[i]})
        chars[i] = draw(st.sampled_from(others))
    return "".join(chars)


@st.composite
def asked(draw: st.DrawFn, records: list[Record]) -> Query:
    """A query near the records: one of their numbers, misread, mistyped, a member of a
    range (with letters where digits are), or any number; with or without a check digit
    (the true one, or another), a type or family, in the record's country or another."""
    record = draw(st.sampled_from(records))
    number = record.number
    if record.serial_end is not None and draw(st.booleans()):
        prefix = number.rstrip("0123456789")
        width = len(number) - len(prefix)
        serial = draw(
            st.integers(int(number[len(prefix) :]), int(record.serial_end[len(prefix) :]))
        )
        number = f"{prefix}{serial:0{width}d}"
    true_number = number
    how = draw(
        st.sampled_from(("as recorded", "misread", "misread", "transposed", "mistyped", "any"))
    )
    if how == "misread":
        number = misread(number, draw)
    elif how == "transposed" and len(number) > 1:
        i = draw(st.integers(0, len(number) - 2))
        number = number[:i] + number[i + 1] + number[i] + number[i + 2 :]
    elif how == "mistyped":
        i = draw(st.integers(0, len(number) - 1))
        number = number[:i] + draw(st.sampled_from(CHARACTERS)) + number[i + 1 :]
    elif how == "any":
        number = draw(numbers)
    if record.serial_end is not None and draw(st.booleans()):  # a letter read for a digit
        letters = {d: letter for letter, d in sorted(DIGIT_READ_FOR.items())}
        spots = [i for i, c in enumerate(number) if c in letters]
        if spots:
            i = draw(st.sampled_from(spots))
            number = number[:i] + letters[number[i]] + number[i + 1 :]
    printed = draw(st.sampled_from((None, check_digit(true_number), str(draw(st.integers(0, 9))))))
    kind = draw(st.sampled_from((None, record.document_type, "identity", "passport", "visa")))
    country = draw(st.sampled_from((record.country, record.country, "FRA")))
    return Query(number, country, kind, printed)


def built(records: list[Record]) -> ScreeningIndex:
    return ScreeningIndex.build((entry(r) for r in records), key=KEY)


def entry(record: Record) -> IndexEntry:
    fields = dataclasses.asdict(record)
    return IndexEntry(**fields)


def expected(reference: Reference, queries: list[Query], policy: MatchPolicy) -> list[object]:
    return [
        reference.screen(q.number, q.country, q.document_type, q.check_digit, policy)  # type: ignore[arg-type]
        for q in queries
    ]


def agrees(index: ScreeningIndex, reference: Reference, queries: list[Query]) -> None:
    """Single screens and batches answer as the reference, under each policy."""
    for policy in POLICIES:
        want = expected(reference, queries, policy)
        for query, answer in zip(queries, want, strict=True):
            assert screen(index, query, policy) == answer, query
        assert screen_batch(index, queries, policy) == want
    # Large enough for the batch to settle its recorded numbers at once.
    want = expected(reference, queries, POLICIES[0])
    assert screen_batch(index, queries * SETTLE_FROM)[: len(queries)] == want


def query_lists(records: list[Record]) -> st.SearchStrategy[list[Query]]:
    return st.lists(asked(records), min_size=1, max_size=25)


@settings(max_examples=120, deadline=None)
@given(st.data())
def test_screening_answers_as_the_reference(data: st.DataObject) -> None:
    records = data.draw(registries())
    agrees(built(records), Reference(records), data.draw(query_lists(records)))


@settings(max_examples=50, deadline=None)
@given(st.data())
def test_changes_answer_as_the_reference_applied_compacted_and_saved(data: st.DataObject) -> None:
    records = data.draw(registries())
    index, reference = built(records), Reference(records)
    later = data.draw(registries(first_id=1000, max_size=10))
    # Records changed since: some numbers change (same id), some records go.
    changed = [
        dataclasses.replace(r, number=data.draw(numbers), serial_end=None)
        for r in data.draw(st.lists(st.sampled_from(records), max_size=5, unique=True))
    ]
    gone = data.draw(st.lists(st.sampled_from([r.record_id for r in records]), max_size=5))
    changes = [IndexChange.upsert(entry(r)) for r in [*later, *changed]]
    changes += [IndexChange.removal(i) for i in gone]
    for r in [*later, *changed]:
        reference.upsert(r)
    for i in gone:
        reference.remove(i)
    index.apply(changes, sequence=1)
    everyone = list(reference.records.values()) or records
    queries = data.draw(query_lists([*everyone, *records]))
    agrees(index, reference, queries)
    index.compact()
    agrees(index, reference, queries)
    with TemporaryDirectory() as directory:
        index.save(Path(directory) / "index.snapshot")
        agrees(ScreeningIndex.load(Path(directory) / "index.snapshot", key=KEY), reference, queries)


def not_known(index: ScreeningIndex, *names: str) -> ScreeningIndex:
    """The same index with some of its base's tables not known, as in a snapshot saved
    before it held them."""
    view = index.view()
    base = dataclasses.replace(view.base, **dict.fromkeys(names))
    return ScreeningIndex(
        IndexView(base, view.ranges, view.overlay, view.scheme, view.confusions, view.sequence)
    )


@settings(max_examples=50, deadline=None)
@given(st.data())
def test_an_index_without_its_filters_or_alphabets_answers_as_the_reference(
    data: st.DataObject,
) -> None:
    records = data.draw(registries())
    later = data.draw(registries(first_id=1000, max_size=8))
    index, reference = built(records), Reference([*records, *later])
    # Records added since the build are in no filter of the base, and bring characters its
    # alphabets lack.
    index.apply([IndexChange.upsert(entry(r)) for r in later], sequence=1)
    queries = data.draw(query_lists([*records, *later]))
    for names in (("alphabet_shapes", "alphabet"), ("coarse_filter", "mixed_filter")):
        agrees(not_known(index, *names), reference, queries)
    index.compact()
    for names in (("alphabet_shapes", "alphabet"), ("mixed_filter",)):
        agrees(not_known(index, *names), reference, queries)
