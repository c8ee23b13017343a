"""Matching rules: exact, families, ranges, OCR variants, check digits, typing slips."""

from __future__ import annotations

import pytest

from bordercheck.documents.mrz import check_digit
from bordercheck.documents.types import DocumentType, TypeFamily
from bordercheck.screening.index import IndexChange, ScreeningIndex
from bordercheck.screening.matcher import (
    PARALLEL_FROM,
    SETTLE_FROM,
    Columns,
    InvalidQuery,
    Match,
    MatchPolicy,
    Query,
    screen,
    screen_batch,
    screen_columns,
)
from bordercheck.screening.query import encode_columns

from .conftest import Build, entry

NO_SLIPS = MatchPolicy(transpositions_up_to=0, substitutions_up_to=0)


def kinds(matches: tuple[Match, ...]) -> list[tuple[int, str]]:
    return [(m.record_id, m.match) for m in matches]


def test_an_exact_number_is_a_hit_with_the_record_metadata(build: Build) -> None:
    index = build(entry(7, "C01X00T47", status="lost", document_type="diplomatic_passport"))
    answer = screen(index, Query("c01x-00t47", "D"))
    assert answer.result == "hit"
    (match,) = answer.matches
    assert (match.record_id, match.document_number, match.issuing_country) == (
        7,
        "C01X00T47",
        "DEU",
    )
    assert (match.document_type, match.status, match.match, match.score) == (
        "diplomatic_passport", "lost", "exact", 1.0,
    )  # fmt: skip
    assert screen(index, Query("C01X00T47", "AUT")).result == "no_hit"
    assert screen(index, Query("C01X00T4", "DEU"), NO_SLIPS).result == "no_hit"


def test_the_restricted_flag_is_carried(build: Build) -> None:
    index = build(entry(1, "AB123456", restricted=True), entry(2, "AB123457"))
    assert screen(index, Query("AB123456", "DEU"), NO_SLIPS).matches[0].restricted
    assert not screen(index, Query("AB123457", "DEU"), NO_SLIPS).matches[0].restricted


def test_a_type_matches_its_family_only(build: Build) -> None:
    index = build(entry(1, "X4711", document_type="passport"))
    assert screen(index, Query("X4711", "DEU", DocumentType.IDENTITY_CARD)).result == "no_hit"
    assert screen(index, Query("X4711", "DEU", "identity")).result == "no_hit"
    assert screen(index, Query("X4711", "DEU", DocumentType.SERVICE_PASSPORT)).result == "hit"
    assert screen(index, Query("X4711", "DEU", TypeFamily.PASSPORT)).result == "hit"
    assert screen(index, Query("X4711", "DEU", "passport")).result == "hit"


def test_no_type_looks_in_every_family(build: Build) -> None:
    index = build(
        entry(1, "X4711", document_type="passport"),
        entry(2, "X4711", document_type="residence_permit"),
        entry(3, "X4711", document_type="visa"),
    )
    assert sorted(kinds(screen(index, Query("X4711", "DEU")).matches)) == [
        (1, "exact"), (2, "exact"), (3, "exact"),
    ]  # fmt: skip
    assert kinds(screen(index, Query("X4711", "DEU", "identity")).matches) == [(2, "exact")]


RANGE = entry(9, "X0001200", "FRA", serial_end="X0001699", blank=True)


@pytest.mark.parametrize("number", ["X0001200", "X0001450", "X0001699"])
def test_a_number_inside_a_range_is_a_hit(build: Build, number: str) -> None:
    answer = screen(build(RANGE), Query(number, "FRA", "passport"))
    assert answer.result == "hit"
    (match,) = answer.matches
    assert (match.match, match.document_number, match.serial_end, match.blank) == (
        "range", "X0001200", "X0001699", True,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("number", "country", "kind"),
    [
        ("X0001199", "FRA", None),  # before the first
        ("X0001700", "FRA", None),  # after the last
        ("Y0001450", "FRA", None),  # another prefix
        ("X001450", "FRA", None),  # another width
        ("X00001450", "FRA", None),
        ("X0001450", "DEU", None),  # another country
        ("X0001450", "FRA", "identity_card"),  # another family
    ],
)
def test_a_number_outside_a_range_is_not(
    build: Build, number: str, country: str, kind: str | None
) -> None:
    assert screen(build(RANGE), Query(number, country, kind), NO_SLIPS).result == "no_hit"


def test_overlapping_ranges_are_all_found(build: Build) -> None:
    index = build(
        entry(1, "A100", serial_end="A900"),
        entry(2, "A200", serial_end="A300"),
        entry(3, "A250", serial_end="A260"),
        entry(4, "A400", serial_end="A500"),
    )
    found = sorted(m.record_id for m in screen(index, Query("A255", "DEU")).matches)
    assert found == [1, 2, 3]
    assert sorted(m.record_id for m in screen(index, Query("A450", "DEU")).matches) == [1, 4]


def test_a_letter_read_into_a_serial_is_a_possible_range_hit(build: Build) -> None:
    answer = screen(build(RANGE), Query("X000I45O", "FRA"), NO_SLIPS)
    assert answer.result == "possible_hit"
    assert kinds(answer.matches) == [(9, "ocr_variant")]
    assert answer.matches[0].score == 0.6


@pytest.mark.parametrize(
    ("read", "changes"),
    [("CO1X00T47", 1), ("C01X00747", 1), ("C0IX0OT47", 2), ("G01X00T47", None)],
)
def test_ocr_variants_are_possible_hits(build: Build, read: str, changes: int | None) -> None:
    index = build(entry(1, "C01X00T47"))
    answer = screen(index, Query(read, "DEU"), NO_SLIPS)
    if changes is None:  # C and G are not confused
        assert answer.result == "no_hit"
        return
    assert answer.result == "possible_hit"
    (match,) = answer.matches
    assert (match.match, match.document_number) == ("ocr_variant", "C01X00T47")
    assert match.score == {1: 0.8, 2: 0.6}[changes]


def test_three_confusions_are_too_many(build: Build) -> None:
    index = build(entry(1, "C01X00T47"))
    assert screen(index, Query("COIXO0T47", "DEU"), NO_SLIPS).result == "no_hit"
    one = MatchPolicy(ocr_changes=1, transpositions_up_to=0, substitutions_up_to=0)
    assert screen(index, Query("C0IX0OT47", "DEU"), one).result == "no_hit"


@pytest.mark.parametrize(
    "recorded",
    ["C01X00T47", "0123456789ABCDE1", "X1234567890123456780", "1" * 24],
)
def test_two_confusions_are_found_anywhere_in_numbers_of_any_length(
    build: Build, recorded: str
) -> None:
    # Numbers up to 16 characters look pairs of changes up in a table; longer ones pair
    # their own changes: both ways find the same readings, the last characters included.
    index = build(entry(1, recorded), entry(2, "Y" + recorded[1:]))
    swap = {"0": "O", "1": "I", "8": "B", "5": "S", "7": "T", "2": "Z"}
    positions = [i for i, c in enumerate(recorded) if c in swap]
    for first, second in [(positions[0], positions[-1]), (positions[-2], positions[-1])]:
        chars = list(recorded)
        chars[first], chars[second] = swap[chars[first]], swap[chars[second]]
        read = "".join(chars)
        answer = screen(index, Query(read, "DEU"), NO_SLIPS)
        found = [(m.record_id, m.match, m.document_number) for m in answer.matches]
        assert (1, "ocr_variant", recorded) in found, (read, found)
        batch = screen_batch(index, [Query(read, "DEU")] * 60, NO_SLIPS)[0]
        assert batch == answer


def test_an_exact_hit_comes_before_variants_of_other_records(build: Build) -> None:
    index = build(entry(1, "AB10", document_type="passport"), entry(2, "AB1O"))
    answer = screen(index, Query("AB10", "DEU"), NO_SLIPS)
    assert answer.result == "hit"
    assert kinds(answer.matches) == [(1, "exact"), (2, "ocr_variant")]


def test_with_a_check_digit_only_consistent_variants_count(build: Build) -> None:
    index = build(entry(1, "12340678"))
    consistent = check_digit("12340678")
    wrong = str((int(consistent) + 1) % 10)
    answer = screen(index, Query("1234O678", "DEU", check_digit=consistent))
    assert kinds(answer.matches) == [(1, "ocr_variant")]
    # The printed number fails its check digit and the variant passes: a likely misreading.
    assert answer.matches[0].score == 0.9
    assert screen(index, Query("1234O678", "DEU", check_digit=wrong)).result == "no_hit"


def test_a_variant_the_check_digit_cannot_see_scores_lower(build: Build) -> None:
    # G and 6 have equal values modulo 10: the misread number passes its check digit.
    index = build(entry(1, "AB654321"))
    printed = check_digit("ABG54321")
    assert printed == check_digit("AB654321")
    answer = screen(index, Query("ABG54321", "DEU", check_digit=printed))
    assert kinds(answer.matches) == [(1, "ocr_variant")]
    assert answer.matches[0].score == 0.7


@pytest.mark.parametrize(
    ("recorded", "read", "changes"),
    [
        ("C81X25T47", "CS1X25T47", 1),  # S/8
        ("C81X25T47", "C81X2ZT47", 1),  # Z/5
        ("C01X25T47", "CA1X25T47", 1),  # A/0
        ("C01X25T47", "CK1X25T47", 1),  # K/0
        ("CA1X25T47", "CK1X25T47", 1),  # A/K
        ("C81X25T47", "CS1X2ZT47", 2),  # two of them
        ("C81X25T47", "CS1X25747", 2),  # one of them and a look-alike (T/7)
        ("C81X25T47", "CS1X2ZT4T", None),  # three: too many
        ("C81X25T47", "C51X25T47", None),  # 8 read as 5 (via S) is no confusion of either
    ],
)
def test_confusions_the_check_digit_cannot_see_are_found(
    build: Build, recorded: str, read: str, changes: int | None
) -> None:
    index = build(entry(1, recorded), entry(2, "Q99999999"))
    printed = check_digit(recorded)
    for cd in (None, printed):
        answer = screen(index, Query(read, "DEU", check_digit=cd), NO_SLIPS)
        assert screen_batch(index, [Query(read, "DEU", check_digit=cd)], NO_SLIPS) == [answer]
        if changes is None:
            assert answer.result == "no_hit"
            continue
        assert answer.result == "possible_hit"
        (match,) = answer.matches
        assert (match.match, match.document_number) == ("ocr_variant", recorded)
    if changes == 1:  # the misread number passes the check digit printed for the recorded one
        assert check_digit(read) == printed


def test_blind_variants_are_found_in_changes_applied_since_the_build(build: Build) -> None:
    index = build(entry(1, "X0000001"))
    index.apply([IndexChange.upsert(entry(2, "C81X25T47"))], sequence=1)
    for asked in ("CS1X25T47", "CS1X2ZT47"):
        assert screen(index, Query(asked, "DEU"), NO_SLIPS).result == "possible_hit"
        assert screen_batch(index, [Query(asked, "DEU")] * 60, NO_SLIPS)[0].result == (
            "possible_hit"
        )
    index.compact()
    assert screen_batch(index, [Query("CS1X2ZT47", "DEU")] * 60, NO_SLIPS)[0].result == (
        "possible_hit"
    )


def test_a_recorded_number_s_blind_neighbour_is_found_beside_it(build: Build) -> None:
    # 8 and S have other skeletons: the two records share only the coarse key, which the
    # mixed filter marks; a query for either must still probe its blind variants.
    one, other = entry(1, "X1238567"), entry(2, "X123S567")

    def answers(index: ScreeningIndex) -> list[list[tuple[int, str]]]:
        asked = [Query("X1238567", "DEU"), Query("X123S567", "DEU")]
        single = [kinds(screen(index, q, NO_SLIPS).matches) for q in asked]
        batch = [kinds(a.matches) for a in screen_batch(index, asked * 40, NO_SLIPS)[:2]]
        assert single == batch
        return single

    expected = [[(1, "exact"), (2, "ocr_variant")], [(2, "exact"), (1, "ocr_variant")]]
    assert answers(build(one, other)) == expected
    alone = build(one, entry(3, "Y7777777"))
    assert answers(alone) == [[(1, "exact")], [(1, "ocr_variant")]]
    alone.apply([IndexChange.upsert(other)], sequence=1)  # the neighbour arrives later
    assert answers(alone) == expected
    alone.compact()
    assert answers(alone) == expected


def test_a_batch_large_enough_to_be_split_over_cores_answers_in_order(build: Build) -> None:
    index = build(entry(1, "C01X00T47"), entry(2, "C81X25T47"), entry(3, "P1234567"))
    asked = [Query("QQ0000000", "DEU")] * (2 * PARALLEL_FROM + 11)
    probes = {
        0: Query("C01X00T47", "DEU"),
        PARALLEL_FROM - 1: Query("C0IX00T47", "DEU"),
        PARALLEL_FROM: Query("CS1X25T47", "DEU"),
        PARALLEL_FROM + 1: Query("P1234567", "DEU"),
        len(asked) - 1: Query("C81X25T47", "DEU"),
    }
    for position, query in probes.items():
        asked[position] = query
    answers = screen_batch(index, asked, NO_SLIPS)
    assert {i for i, a in enumerate(answers) if a.result != "no_hit"} == set(probes)
    for position, query in probes.items():
        assert answers[position] == screen(index, query, NO_SLIPS)


def test_a_large_batch_names_its_first_bad_document_wherever_it_is(build: Build) -> None:
    index = build(entry(1, "C01X00T47"))
    asked = [Query("QQ0000000", "DEU")] * (2 * PARALLEL_FROM + 5)
    asked[PARALLEL_FROM + 3] = Query("QQ0000000", "XXY")
    asked[2 * PARALLEL_FROM + 1] = Query("QQ-?", "DEU")
    with pytest.raises(InvalidQuery, match=f"document {PARALLEL_FROM + 3}: 'XXY'") as refused:
        screen_batch(index, asked)
    assert refused.value.detail["position"] == PARALLEL_FROM + 3


def test_typing_slips_only_for_number_only_queries(build: Build) -> None:
    index = build(entry(1, "123456789"))
    answer = screen(index, Query("123456798", "DEU"))
    assert (answer.result, kinds(answer.matches)) == ("possible_hit", [(1, "transposition")])
    assert answer.matches[0].score == 0.5
    answer = screen(index, Query("123450789", "DEU"))
    assert kinds(answer.matches) == [(1, "substitution")]
    assert answer.matches[0].score == 0.4
    with_check = Query("123456798", "DEU", check_digit=check_digit("123456798"))
    assert screen(index, with_check).result == "no_hit"


def test_typing_slips_stop_above_the_configured_registry_size(build: Build) -> None:
    index = build(entry(1, "123456789"))
    assert (
        screen(index, Query("123456798", "DEU"), MatchPolicy(transpositions_up_to=0)).result
        == "no_hit"
    )
    assert (
        screen(index, Query("123450789", "DEU"), MatchPolicy(substitutions_up_to=0)).result
        == "no_hit"
    )


def test_queries_that_cannot_be_read_are_refused(build: Build) -> None:
    index = build(entry(1, "123456789"))
    with pytest.raises(InvalidQuery, match="empty"):
        screen(index, Query("--", "DEU"))
    with pytest.raises(InvalidQuery, match="country"):
        screen(index, Query("123", "QQQ"))
    with pytest.raises(InvalidQuery, match="document type"):
        screen(index, Query("123", "DEU", "spaceship"))
    with pytest.raises(InvalidQuery, match="check digit"):
        screen(index, Query("123", "DEU", check_digit="X"))
    with pytest.raises(InvalidQuery, match="document 2: ") as caught:
        screen_batch(index, [Query("1", "DEU"), Query("2", "FRA"), Query("3", "ZZZ")])
    assert caught.value.detail == {"position": 2}


def test_a_batch_answers_as_single_screens_do(build: Build) -> None:
    index = build(
        entry(1, "C01X00T47"),
        entry(2, "123456789", "GBR", document_type="identity_card"),
        RANGE,
    )
    queries = [
        Query("C01X00T47", "DEU"),
        Query("co1x 00t47", "de"),
        Query("123456789", "GBR", "passport"),
        Query("I23456789", "GBR", check_digit=check_digit("123456789")),
        Query("X0001450", "FRA"),
        Query("X000I450", "FRA"),
        Query("000000000", "GBR"),
        Query("123456798", "GBR"),
    ]
    for policy in (MatchPolicy(), NO_SLIPS):
        assert screen_batch(index, queries, policy) == [screen(index, q, policy) for q in queries]
    assert screen_batch(index, []) == []


def test_columns_answer_as_queries_do(build: Build) -> None:
    index = build(
        entry(1, "C01X00T47"), entry(2, "123456789", "GBR", document_type="identity_card"), RANGE
    )
    queries = [
        Query("C01X00T47", "DEU"),
        Query("co1x 00t47", "de", "passport"),
        Query("I23456789", "GBR", check_digit=check_digit("123456789")),
        Query("X000I450", "FRA", TypeFamily.PASSPORT),
        Query("123456798", "GBR"),
    ]
    columns = Columns.of(queries)
    for policy in (MatchPolicy(), NO_SLIPS):
        assert screen_columns(index, columns, policy) == screen_batch(index, queries, policy)
    # No type or check digit given for any document: the columns may be left out.
    bare = [Query(q.number, q.country) for q in queries]
    numbers, countries = [q.number for q in bare], [q.country for q in bare]
    assert screen_columns(index, Columns(numbers, countries)) == screen_batch(index, bare)
    large = Columns(numbers * PARALLEL_FROM, countries * PARALLEL_FROM)
    answers = screen_columns(index, large, NO_SLIPS)
    assert answers[-len(bare) :] == screen_batch(index, bare, NO_SLIPS)
    assert screen_columns(index, Columns([], [])) == []


def test_columns_that_cannot_be_read_are_refused_by_document(build: Build) -> None:
    index = build(entry(1, "C01X00T47"))
    with pytest.raises(InvalidQuery, match="countries: 1 values for 2 numbers"):
        screen_columns(index, Columns(["C01X00T47", "C01X00T48"], ["DEU"]))
    with pytest.raises(InvalidQuery, match=r"document 1: .*document type"):
        screen_columns(index, Columns(["1", "2"], ["DEU", "DEU"], [None, "spaceship"]))
    with pytest.raises(InvalidQuery, match=r"document 2: .*check digit"):
        screen_columns(index, Columns(["1", "2", "3"], ["DEU"] * 3, None, [None, "1", "X"]))
    with pytest.raises(InvalidQuery, match="document 1: ") as caught:
        screen_columns(index, Columns(["1", "--"], ["DEU", "DEU"]))
    assert caught.value.detail == {"position": 1}


def test_a_batch_settles_recorded_numbers_at_once_and_only_those(build: Build) -> None:
    index = build(
        entry(1, "P0000005"),
        entry(2, "P0000005", document_type="visa"),  # same number, another family
        entry(3, "P0000007"),
        entry(4, "C01X00T47"),
        entry(5, "CO1X00T47"),  # a look-alike reading of record 4: its group is not plain
        RANGE,
    )
    index.apply([IndexChange.removal(3)], sequence=1)
    asked = [
        Query("P0000005", "DEU"),
        Query("P0000007", "DEU"),
        Query("C01X00T47", "DEU"),
        Query("X0001450", "FRA"),
        Query("P0000005", "DEU", "visa"),
    ]
    settled = index.view().settle(*encode_columns(Columns.of(asked)), 2)
    assert [None if s is None else sorted(f.record_id for f in s) for s in settled] == [
        [1, 2], [], None, None, [1, 2],
    ]  # fmt: skip
    answers = screen_batch(index, asked * SETTLE_FROM, NO_SLIPS)[: len(asked)]
    assert answers == [screen(index, q, NO_SLIPS) for q in asked]
    assert [kinds(a.matches) for a in answers] == [
        [(1, "exact"), (2, "exact")], [], [(4, "exact"), (5, "ocr_variant")], [(9, "range")],
        [(2, "exact")],
    ]  # fmt: skip
