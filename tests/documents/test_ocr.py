"""OCR confusions and the repairs correct_mrz makes (or refuses to make)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bordercheck.documents.mrz import Correction, parse
from bordercheck.documents.ocr import (
    AS_DIGIT,
    AS_LETTERS,
    CONFUSABLE_PAIRS,
    CONFUSIONS,
    confusable_variants,
    correct_mrz,
)

TODAY = date(2025, 6, 15)
TD3 = (
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
)
TD1 = (
    "I<UTOD231458907<<<<<<<<<<<<<<<",
    "7408122F1204159UTO<<<<<<<<<<<6",
    "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
)
TD2 = ("I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "D231458907UTO7408122F1204159<<<<<<<6")


def replace(lines: tuple[str, ...], line: int, column: int, char: str) -> tuple[str, ...]:
    """``lines`` with one character replaced (1-based line and column, as corrections are)."""
    changed = list(lines)
    text = changed[line - 1]
    changed[line - 1] = text[: column - 1] + char + text[column:]
    return tuple(changed)


# --- the table -----------------------------------------------------------------------------


def test_table_holds_the_common_confusions() -> None:
    for letter, digit in ["O0", "I1", "B8", "S5", "Z2", "G6", "Q0", "D0"]:
        assert (letter, digit) in CONFUSABLE_PAIRS
        assert digit in CONFUSIONS[letter]
        assert letter in CONFUSIONS[digit]
        assert AS_DIGIT[letter] == digit
        assert letter in AS_LETTERS[digit]


def test_table_is_symmetric_and_letter_digit() -> None:
    for char, others in CONFUSIONS.items():
        for other in others:
            assert char in CONFUSIONS[other]
            assert char.isdigit() != other.isdigit()


def test_zero_reads_as_o_first() -> None:
    assert AS_LETTERS["0"][0] == "O"
    assert AS_LETTERS["1"][0] == "I"


def test_confusable_variants() -> None:
    assert confusable_variants("O1") == {"01", "OI", "OL"}
    assert confusable_variants("01") == {"O1", "Q1", "D1", "0I", "0L"}
    assert "0I" in confusable_variants("O1", max_changes=2)
    assert "O1" not in confusable_variants("O1", max_changes=2)
    assert confusable_variants("XYZ<") == {"XY2<"}
    assert confusable_variants("") == frozenset()


@settings(max_examples=50)
@given(st.text("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", max_size=9))
def test_variants_are_one_confusion_away_and_reversible(number: str) -> None:
    for variant in confusable_variants(number):
        differences = [(a, b) for a, b in zip(number, variant, strict=True) if a != b]
        assert len(differences) == 1
        (a, b) = differences[0]
        assert b in CONFUSIONS[a]
        assert number in confusable_variants(variant)


# --- character class repairs ------------------------------------------------------------------


def test_letter_o_in_dates_is_read_as_zero() -> None:
    misread = replace(TD3, 2, 16, "O")  # birth date 740812 → 74O812
    misread = replace(misread, 2, 24, "O")  # expiry date 120415 → 12O415
    assert not parse(misread, today=TODAY).valid

    mrz = correct_mrz(misread, today=TODAY)
    assert mrz.valid
    assert mrz.lines == TD3
    assert mrz.birth_date == date(1974, 8, 12)
    assert mrz.corrections == (
        Correction(line=2, column=16, field="birth_date", from_char="O", to_char="0"),
        Correction(line=2, column=24, field="expiry_date", from_char="O", to_char="0"),
    )
    assert mrz.corrections[0].as_dict() == {
        "line": 2,
        "column": 16,
        "field": "birth_date",
        "from": "O",
        "to": "0",
    }


def test_parse_with_correct_uses_the_ocr_repairs() -> None:
    misread = "\n".join(replace(TD3, 2, 20, "Z"))  # birth date check digit 2 → Z
    assert parse(misread, today=TODAY).checks["birth_date"] is False
    mrz = parse(misread, correct=True, today=TODAY)
    assert mrz.valid
    assert mrz.corrections == (Correction(2, 20, "birth_date_check", "Z", "2"),)


def test_digits_in_names_are_read_as_their_likeliest_letters() -> None:
    misread = replace(TD3, 1, 8, "1")  # ERIKSSON → ER1KSS0N
    misread = replace(misread, 1, 12, "0")
    mrz = correct_mrz(misread, today=TODAY)
    assert mrz.valid
    assert mrz.surname == "ERIKSSON"
    # Names have no check digit to confirm 1 → I (not L); the reading is reported.
    assert [(c.column, c.field, c.from_char, c.to_char) for c in mrz.corrections] == [
        (8, "name", "1", "I"),
        (12, "name", "0", "O"),
    ]


def test_digit_in_a_country_code_is_read_only_when_one_reading_is_a_country() -> None:
    misread = replace(TD3, 1, 5, "0")  # UTO → UT0; UTQ and UTD are not codes
    misread = replace(misread, 2, 13, "0")  # nationality too
    mrz = correct_mrz(misread, today=TODAY)
    assert mrz.valid
    assert (mrz.issuing_country, mrz.nationality) == ("UTO", "UTO")
    assert [c.field for c in mrz.corrections] == ["issuing_country", "nationality"]


def test_document_code_first_letter_is_read_when_the_format_allows_one() -> None:
    mrz = correct_mrz(replace(TD2, 1, 1, "1"), today=TODAY)
    assert mrz.valid
    assert mrz.corrections == (Correction(1, 1, "document_code", "1", "I"),)


# --- check digit repairs ---------------------------------------------------------------------


def test_a_confusion_in_the_number_is_repaired_by_its_check_digit() -> None:
    misread = replace(TD3, 2, 6, "O")  # L898902C3 → L898O02C3
    assert parse(misread, today=TODAY).checks["document_number"] is False
    mrz = correct_mrz(misread, today=TODAY)
    assert mrz.valid
    assert mrz.document_number == "L898902C3"
    assert mrz.corrections == (Correction(2, 6, "document_number", "O", "0"),)


def test_confusions_in_two_fields_are_repaired_together() -> None:
    misread = replace(TD3, 2, 6, "D")  # number 0 → D
    misread = replace(misread, 2, 33, "A")  # personal number 4 → A
    mrz = correct_mrz(misread, today=TODAY)
    assert mrz.valid
    assert [(c.column, c.field) for c in mrz.corrections] == [
        (6, "document_number"),
        (33, "optional_data"),
    ]


def test_a_misread_check_digit_is_repaired() -> None:
    misread = replace(TD3, 2, 10, "G")  # number check digit 6 → G (class repair)
    assert correct_mrz(misread, today=TODAY).valid
    td1 = replace(TD1, 2, 30, "G")  # TD1 composite 6 → G
    mrz = correct_mrz(td1, today=TODAY)
    assert mrz.valid
    assert mrz.corrections == (Correction(2, 30, "composite_check", "G", "6"),)


def test_an_ambiguous_repair_is_refused() -> None:
    # L898902C3 read as LB98902C3: turning B back into 8 mends the check digits, but so does
    # turning the other 8 (same weight) into B, or the 2 into Z. Nothing is guessed.
    misread = replace(TD3, 2, 2, "B")
    mrz = correct_mrz(misread, today=TODAY)
    assert not mrz.valid
    assert mrz.corrections == ()
    assert mrz.lines == misread
    assert mrz.document_number == "LB98902C3"
    assert mrz.checks["document_number"] is False
    assert len(mrz.problems) == 1
    assert mrz.problems[0].startswith("OCR repair refused as ambiguous: 3 different repairs")
    assert "line 2 column 2 B→8" in mrz.problems[0]


def test_no_repair_is_invented_when_no_confusion_explains_the_error() -> None:
    misread = replace(TD3, 2, 9, "5")  # 3 → 5 is not an OCR confusion we know
    mrz = correct_mrz(misread, today=TODAY)
    assert not mrz.valid
    assert mrz.corrections == ()
    assert mrz.problems == ()


def test_a_valid_mrz_is_left_alone() -> None:
    mrz = correct_mrz(TD3, today=TODAY)
    assert mrz.valid
    assert mrz.corrections == ()
    # G/6 cannot be told apart by a check digit, so a valid-looking G stays a G.
    g_for_6 = replace(TD3, 2, 36, "G")
    assert correct_mrz(g_for_6, today=TODAY).lines == g_for_6


def test_lower_case_input_is_not_a_correction() -> None:
    mrz = correct_mrz("\n".join(TD3).lower(), today=TODAY)
    assert mrz.valid
    assert mrz.corrections == ()


@pytest.mark.parametrize("column", [14, 15, 16, 17, 18, 19])
def test_every_confusion_in_a_date_is_repaired(column: int) -> None:
    digit = TD3[1][column - 1]
    for letter in (a for a, d in CONFUSABLE_PAIRS if d == digit):
        mrz = correct_mrz(replace(TD3, 2, column, letter), today=TODAY)
        assert mrz.valid
        assert mrz.lines == TD3
