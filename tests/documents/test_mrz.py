"""MRZ parsing, validation and generation against the ICAO Doc 9303 specimens and properties."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bordercheck.documents.countries import all_codes
from bordercheck.documents.mrz import (
    BLIND_SPOTS,
    FORMATS,
    LAYOUTS,
    MrzFormat,
    NotAnMrz,
    char_value,
    check_digit,
    generate_mrz,
    parse,
)
from bordercheck.documents.mrz_formats import ALPHABET, DIGITS, LETTERS, Layout, country_from_mrz
from bordercheck.documents.transliteration import name_field, transliterate
from bordercheck.documents.types import DocumentType

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
MRV_A = (
    "V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L8988901C4XXX4009078F96121096ZE184226B<<<<<<",
)
MRV_B = ("V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "L8988901C4XXX4009078F9612109<<<<<<<<")
TD1_LONG = (
    "I<UTOD23145890<7349<<<<<<<<<<<",
    "3407127M9507122UTO<<<<<<<<<<<2",
    "STEVENSON<<PETER<JOHN<<<<<<<<<",
)
# France's national identity card (1988-2021), written from its layout with computed digits.
FRENCH_CARD = ("IDFRABERTHIER<<<<<<<<<<<<<<<<<923012", "8806923102858CORINNE<<MARIE6512068F6")
SPECIMENS: dict[str, tuple[str, ...]] = {
    "TD3": TD3,
    "TD1": TD1,
    "TD2": TD2,
    "MRV-A": MRV_A,
    "MRV-B": MRV_B,
    "TD1-long": TD1_LONG,
}


def replace(lines: tuple[str, ...], line: int, column: int, char: str) -> tuple[str, ...]:
    """``lines`` with one character replaced (0-based line and column)."""
    changed = list(lines)
    changed[line] = changed[line][:column] + char + changed[line][column + 1 :]
    return tuple(changed)


# --- check digits -----------------------------------------------------------------------


def test_check_digit_values_and_weights() -> None:
    assert [char_value(c) for c in "09AZ<"] == [0, 9, 10, 35, 0]
    assert check_digit("") == "0"
    assert check_digit("1") == "7"  # weight 7
    assert check_digit("01") == "3"  # weight 3
    assert check_digit("001") == "1"  # weight 1
    assert check_digit("0001") == "7"  # weights repeat


@pytest.mark.parametrize(
    ("text", "digit"),
    [
        ("L898902C3", "6"),  # TD3 specimen: document number
        ("740812", "2"),  # birth date
        ("120415", "9"),  # expiry date
        ("ZE184226B<<<<<", "1"),  # personal number
        ("L898902C36" + "7408122" + "1204159ZE184226B<<<<<1", "0"),  # TD3 composite
        ("D23145890", "7"),  # TD1/TD2 specimen number
        ("D23145890" + "7" + "<" * 15 + "7408122" + "1204159" + "<" * 11, "6"),  # TD1 composite
        ("D23145890" + "7" + "7408122" + "1204159" + "<" * 7, "6"),  # TD2 composite
        ("L8988901C", "4"),  # MRV specimens
        ("400907", "8"),
        ("961210", "9"),
        ("D23145890734", "9"),  # TD1 long number, whole
        ("340712", "7"),
        ("950712", "2"),
        ("D23145890<7349<<<<<<<<<<<" + "3407127" + "9507122" + "<" * 11, "2"),
    ],
)
def test_check_digits_of_the_specimens(text: str, digit: str) -> None:
    assert check_digit(text) == digit


def test_check_digit_refuses_foreign_characters() -> None:
    with pytest.raises(ValueError, match="'!' is not an MRZ character"):
        check_digit("AB!")


# --- the Doc 9303 specimens -------------------------------------------------------------

ANNA = {"surname": "ERIKSSON", "given_names": "ANNA MARIA", "sex": "F"}


@pytest.mark.parametrize(
    ("specimen", "expected"),
    [
        (
            "TD3",
            {
                "format": "TD3",
                "document_code": "P",
                "document_number": "L898902C3",
                "nationality": "UTO",
                "birth_date": date(1974, 8, 12),
                "expiry_date": date(2012, 4, 15),
                "optional_data": "ZE184226B",
                **ANNA,
            },
        ),
        (
            "TD1",
            {
                "format": "TD1",
                "document_code": "I",
                "document_number": "D23145890",
                "birth_date": date(1974, 8, 12),
                "expiry_date": date(2012, 4, 15),
                "optional_data": "",
                "optional_data_2": "",
                **ANNA,
            },
        ),
        (
            "TD2",
            {
                "format": "TD2",
                "document_code": "I",
                "document_number": "D23145890",
                "birth_date": date(1974, 8, 12),
                **ANNA,
            },
        ),
        (
            "MRV-A",
            {
                "format": "MRV-A",
                "document_code": "V",
                "document_number": "L8988901C",
                "nationality": "XXX",
                "birth_date": date(1940, 9, 7),
                "expiry_date": date(1996, 12, 10),
                "optional_data": "6ZE184226B",
                **ANNA,
            },
        ),
        (
            "MRV-B",
            {
                "format": "MRV-B",
                "document_number": "L8988901C",
                "nationality": "XXX",
                "optional_data": "",
                **ANNA,
            },
        ),
        (
            "TD1-long",
            {
                "format": "TD1",
                "document_number": "D23145890734",
                "surname": "STEVENSON",
                "given_names": "PETER JOHN",
                "sex": "M",
                "birth_date": date(1934, 7, 12),
                "expiry_date": date(1995, 7, 12),
                "optional_data": "",
            },
        ),
    ],
)
def test_specimens_parse_and_validate(specimen: str, expected: dict[str, Any]) -> None:
    mrz = parse("\n".join(SPECIMENS[specimen]), today=TODAY)
    assert mrz.valid, (mrz.checks, mrz.problems)
    assert mrz.issuing_country == "UTO"
    assert mrz.corrections == ()
    for name, value in expected.items():
        assert getattr(mrz, name) == value, name


def test_specimen_checks_are_named_per_format() -> None:
    names = {name: set(parse("\n".join(SPECIMENS[name]), today=TODAY).checks) for name in FORMATS}
    names["FRA-ID"] = set(parse(FRENCH_CARD, today=TODAY).checks)
    assert set(names) == set(LAYOUTS)
    fields = {"document_number", "birth_date", "expiry_date"}
    assert names["TD3"] == fields | {"optional_data", "composite"}
    assert names["TD1"] == names["TD2"] == fields | {"composite"}
    assert names["MRV-A"] == names["MRV-B"] == fields
    assert names["FRA-ID"] == {"document_number", "birth_date", "composite"}


@pytest.mark.parametrize("specimen", list(SPECIMENS))
def test_generate_reproduces_the_specimens(specimen: str) -> None:
    mrz = parse("\n".join(SPECIMENS[specimen]), today=TODAY)
    lines = generate_mrz(
        mrz_format=mrz.format,
        document_code=mrz.document_code,
        issuing_country=mrz.issuing_country,
        document_number=mrz.document_number,
        surname=mrz.surname,
        given_names=mrz.given_names,
        nationality=mrz.nationality,
        birth_date=mrz.birth_date,
        sex=mrz.sex,
        expiry_date=mrz.expiry_date,
        optional_data=mrz.optional_data,
    )
    assert lines == SPECIMENS[specimen]


def test_td1_long_number_is_written_into_the_optional_data() -> None:
    lines = generate_mrz(
        mrz_format="TD1",
        document_code="I",
        issuing_country="UTO",
        document_number="D23145890734",
        surname="Stevenson",
        given_names="Peter John",
        nationality="UTO",
        birth_date=date(1934, 7, 12),
        sex="M",
        expiry_date=date(1995, 7, 12),
        optional_data="AB12",
    )
    assert lines[0] == "I<UTOD23145890<7349<AB12<<<<<<"
    mrz = parse(lines, today=TODAY)
    assert mrz.valid
    assert (mrz.document_number, mrz.optional_data) == ("D23145890734", "AB12")


def test_td1_number_continuation_missing_fails_the_number_check() -> None:
    lines = replace(TD1, 0, 14, "<")  # says "continued", but optional data is empty
    mrz = parse(lines, today=TODAY)
    assert not mrz.valid
    assert mrz.checks["document_number"] is False


# --- countries, sex, names ---------------------------------------------------------------


def _passport(**changes: Any) -> tuple[str, ...]:
    fields: dict[str, Any] = {
        "mrz_format": "TD3",
        "document_code": "P",
        "issuing_country": "DEU",
        "document_number": "C01X00T47",
        "surname": "Mustermann",
        "given_names": "Erika",
        "nationality": "DEU",
        "birth_date": date(1964, 8, 12),
        "sex": "F",
        "expiry_date": date(2027, 10, 31),
    }
    return generate_mrz(**(fields | changes))


def test_germany_is_d_filler_filler_and_reads_as_deu() -> None:
    lines = _passport()
    assert lines[0].startswith("P<D<<MUSTERMANN<<ERIKA<")
    assert lines[1][10:13] == "D<<"
    mrz = parse(lines, today=TODAY)
    assert mrz.valid
    assert (mrz.issuing_country, mrz.issuing_country_raw) == ("DEU", "D<<")
    assert (mrz.nationality, mrz.nationality_raw) == ("DEU", "D<<")


def test_deu_spelt_out_in_an_mrz_is_also_read() -> None:
    lines = replace(_passport(), 0, 2, "D")
    lines = replace(lines, 0, 3, "E")
    lines = replace(lines, 0, 4, "U")
    assert parse(lines, today=TODAY).issuing_country == "DEU"


@pytest.mark.parametrize(
    "code", ["XXA", "XXB", "XXC", "XXX", "UNO", "UNA", "UNK", "EUE", "XPO", "GBD", "RKS"]
)
def test_icao_special_codes_are_accepted(code: str) -> None:
    issuer = code if code not in ("XXA", "XXB", "XXC", "XXX") else "DEU"
    mrz = parse(_passport(issuing_country=issuer, nationality=code), today=TODAY)
    assert mrz.valid
    assert mrz.nationality == code


def test_unknown_country_code_is_a_problem_not_an_exception() -> None:
    lines = replace(TD3, 0, 4, "A")  # UTO → UTA
    mrz = parse(lines, today=TODAY)
    assert not mrz.valid
    assert all(mrz.checks.values())
    assert mrz.problems == ("issuing_country: 'UTA' is not a country or ICAO code",)


def test_alpha_2_codes_are_not_mrz_country_codes() -> None:
    assert country_from_mrz("FR<") is None
    assert country_from_mrz("D<<") == "DEU"
    assert country_from_mrz("UTO") == "UTO"


@pytest.mark.parametrize(("written", "read"), [("<", "X"), ("X", "X"), ("M", "M"), ("F", "F")])
def test_sex(written: str, read: str) -> None:
    mrz = parse(replace(TD3, 1, 20, written), today=TODAY)
    assert mrz.valid
    assert mrz.sex == read


def test_unspecified_sex_is_generated_as_filler() -> None:
    assert _passport(sex="X")[1][20] == "<"
    assert parse(_passport(sex="X"), today=TODAY).sex == "X"


def test_invalid_sex_is_a_problem() -> None:
    mrz = parse(replace(TD3, 1, 20, "Q"), today=TODAY)
    assert not mrz.valid
    assert mrz.problems == ("sex: 'Q' is not M, F or < (unspecified)",)


def test_several_surnames_and_given_names() -> None:
    lines = _passport(surname="van der Berg", given_names="Anna Maria Luise Sophie")
    assert lines[0][5:].startswith("VAN<DER<BERG<<ANNA<MARIA<LUISE<SOPHIE<")
    mrz = parse(lines, today=TODAY)
    assert (mrz.surname, mrz.given_names) == ("VAN DER BERG", "ANNA MARIA LUISE SOPHIE")


def test_a_name_with_no_given_names() -> None:
    mrz = parse(_passport(surname="Suharto", given_names=""), today=TODAY)
    assert (mrz.surname, mrz.given_names) == ("SUHARTO", "")
    assert mrz.lines[0] == "P<D<<SUHARTO" + "<" * 32


@pytest.mark.parametrize(
    ("name", "mrz"),
    [
        ("Müller", "MUELLER"),
        ("Jürgen Öztürk", "JUERGEN<OEZTUERK"),
        ("Øre", "OERE"),
        ("Strauß", "STRAUSS"),
        ("STRAUẞ", "STRAUSS"),
        ("Ångström", "AANGSTROEM"),
        ("Bjørnæs", "BJOERNAES"),
        ("Þórður", "THORDUR"),
        ("Peña", "PENA"),
        ("José-María", "JOSE<MARIA"),
        ("O'Brien", "OBRIEN"),
        ("D’Artagnan", "DARTAGNAN"),
        ("Łukasz Żółć", "LUKASZ<ZOLC"),
        ("Çelik", "CELIK"),
        ("Горбачёв", "GORBACHEV"),
        ("Щукин", "SHCHUKIN"),
    ],
)
def test_transliteration(name: str, mrz: str) -> None:
    assert transliterate(name) == mrz


@pytest.mark.parametrize("name", ["李", "Ab1", "Smith&Co"])
def test_names_that_cannot_be_written_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="cannot be written in an MRZ"):
        transliterate(name)


def test_long_names_are_cut_at_the_field_and_end_in_a_letter() -> None:
    field = name_field("Wolfeschlegelsteinhausen Bergerdorff", "Hubert Blaine Aaron", 30)
    assert field == "WOLFESCHLEGELSTEINHAUSEN<BERGE"
    assert name_field("Abcdefghijklmnopqrstuvwxyz", "Bc", 30) == "ABCDEFGHIJKLMNOPQRSTUVWXYZ<<BC"
    # A cut that would leave a separator at the end drops it rather than end in <.
    assert name_field("Abcdefghijklmnopqrstuvwxyzab", "Cde", 30) == "ABCDEFGHIJKLMNOPQRSTUVWXYZAB<<"


def test_generated_mrz_transliterates_the_holder() -> None:
    mrz = parse(_passport(surname="Müller-Lüdenscheidt", given_names="Søren"), today=TODAY)
    assert (mrz.surname, mrz.given_names) == ("MUELLER LUEDENSCHEIDT", "SOEREN")


# --- dates ---------------------------------------------------------------------------------


def _with_dates(birth: str, expiry: str) -> tuple[str, ...]:
    line = TD3[1][:13] + birth + check_digit(birth) + "F" + expiry + check_digit(expiry)
    line += "ZE184226B<<<<<1"
    line += check_digit(line[0:10] + line[13:20] + line[21:43])
    return (TD3[0], line)


@pytest.mark.parametrize(
    ("today", "birth", "expected"),
    [
        (date(2025, 6, 15), "250615", date(2025, 6, 15)),  # born today
        (date(2025, 6, 15), "250616", date(1925, 6, 16)),  # tomorrow is the future
        (date(2025, 6, 15), "000101", date(2000, 1, 1)),
        (date(2025, 6, 15), "991231", date(1999, 12, 31)),
        (date(2000, 1, 1), "000101", date(2000, 1, 1)),
        (date(1999, 12, 31), "000101", date(1900, 1, 1)),
    ],
)
def test_birth_dates_are_never_in_the_future(today: date, birth: str, expected: date) -> None:
    mrz = parse(_with_dates(birth, "300101"), today=today)
    assert mrz.valid
    assert mrz.birth_date == expected


@pytest.mark.parametrize(
    ("today", "expiry", "expected"),
    [
        (date(2025, 6, 15), "450615", date(2045, 6, 15)),  # exactly 20 years ahead
        (date(2025, 6, 15), "450616", date(1945, 6, 16)),  # one day more: last century
        (date(2025, 6, 15), "120415", date(2012, 4, 15)),  # expired
        (date(2090, 1, 1), "050101", date(2105, 1, 1)),  # the window crosses centuries
        (date(2024, 2, 29), "440229", date(2044, 2, 29)),
        (date(2023, 2, 28), "430301", date(1943, 3, 1)),
    ],
)
def test_expiry_dates_reach_20_years_ahead(today: date, expiry: str, expected: date) -> None:
    mrz = parse(_with_dates("740812", expiry), today=today)
    assert mrz.valid
    assert mrz.expiry_date == expected


@pytest.mark.parametrize("birth", ["74<<<<", "<<<<<<", "7408<<", "<<0812"])
def test_unknown_parts_of_a_birth_date(birth: str) -> None:
    mrz = parse(_with_dates(birth, "300101"), today=TODAY)
    assert mrz.valid
    assert mrz.birth_date is None
    assert mrz.birth_date_raw == birth


@pytest.mark.parametrize("birth", ["741312", "740230", "74<812", "7408A2"])
def test_impossible_dates_are_problems(birth: str) -> None:
    mrz = parse(_with_dates(birth, "300101"), today=TODAY)
    assert not mrz.valid
    assert mrz.birth_date is None
    assert mrz.problems[0].startswith(f"birth_date: '{birth}' is not a date")


def test_default_today_is_the_real_today() -> None:
    born = date.today() - timedelta(days=1)
    lines = _passport(birth_date=born, expiry_date=date.today() + timedelta(days=3650))
    assert parse(lines).birth_date == born


# --- what is not an MRZ, and what is an invalid one ------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the text is empty; an MRZ has 2 or 3 lines"),
        (TD3[0], "an MRZ has 2 or 3 lines, this text has 1"),
        ("\n".join([*TD1, TD1[0]]), "an MRZ has 2 or 3 lines, this text has 4"),
        (TD3[0] + "\n" + TD3[1][:43], "line 2 is 43 characters long; TD3 lines are 44"),
        (MRV_B[0] + "\n" + MRV_B[1] + "<", "line 2 is 37 characters long; MRV-B lines are 36"),
        (TD1[0] + "\n" + TD1[1] + "\n" + TD1[2][:29], "line 3 is 29 characters long; TD1 lines"),
        ("P<UTO\nL898902C3", "line 1 is 5 characters long; a two-line MRZ has lines of 36"),
        (TD3[0] + "\n" + TD3[1][:5] + "!" + TD3[1][6:], "line 2, column 6: '!' is not an MRZ"),
        (TD3[0] + "\n" + TD3[1][:5] + " " + TD3[1][6:], "line 2, column 6: ' ' is not an MRZ"),
    ],
)
def test_text_that_is_not_an_mrz(text: str, message: str) -> None:
    with pytest.raises(NotAnMrz, match=re.escape(message)):
        parse(text, today=TODAY)


def test_not_an_mrz_is_a_value_error() -> None:
    assert issubclass(NotAnMrz, ValueError)


def test_surrounding_whitespace_and_lower_case_are_accepted_silently() -> None:
    text = "\n  " + TD3[0].lower() + "  \r\n\n" + TD3[1].lower() + "\t\n"
    mrz = parse(text, today=TODAY)
    assert mrz.valid
    assert mrz.lines == TD3
    assert mrz.corrections == ()


def test_lines_may_be_given_as_a_sequence() -> None:
    assert parse(list(TD1), today=TODAY).valid


def test_failing_check_digit_is_reported_not_raised() -> None:
    mrz = parse(replace(TD3, 1, 9, "7"), today=TODAY)
    assert not mrz.valid
    assert mrz.checks == {
        "document_number": False,
        "birth_date": True,
        "expiry_date": True,
        "optional_data": True,
        "composite": False,
    }
    assert mrz.problems == ()
    assert mrz.document_number == "L898902C3"


def test_letter_in_a_check_digit_fails_that_check() -> None:
    mrz = parse(replace(TD3, 1, 19, "Z"), today=TODAY)
    assert mrz.checks["birth_date"] is False


def test_td3_personal_number_check_digit_may_be_filler_only_when_unused() -> None:
    empty = _passport()
    assert empty[1][28:43] == "<" * 15
    assert parse(empty, today=TODAY).valid
    assert parse(replace(empty, 1, 42, "0"), today=TODAY).valid  # < and 0 are both allowed
    used = replace(TD3, 1, 42, "<")
    assert parse(used, today=TODAY).checks["optional_data"] is False


def test_document_code_must_suit_the_format() -> None:
    mrz = parse(replace(TD3, 0, 0, "I"), today=TODAY)
    assert not mrz.valid
    assert mrz.problems == ("document_code: TD3 document codes start with P",)
    mrz = parse(replace(TD1, 0, 0, "P"), today=TODAY)
    assert mrz.problems == ("document_code: TD1 document codes start with A, C or I",)


def test_document_type_from_the_code() -> None:
    assert parse(TD3, today=TODAY).document_type is DocumentType.PASSPORT
    assert parse(replace(TD3, 0, 1, "D"), today=TODAY).document_type is (
        DocumentType.DIPLOMATIC_PASSPORT
    )
    assert parse(MRV_A, today=TODAY).document_type is DocumentType.VISA


def test_digits_in_a_name_are_a_problem() -> None:
    mrz = parse(replace(TD3, 0, 6, "8"), today=TODAY)
    assert mrz.problems == ("name: 'E8IKSSON<<ANNA<MARIA' holds characters other than letters",)


def test_as_dict_has_the_cli_fields() -> None:
    from tests.documents.test_mrz_cli import FIELDS

    assert list(parse(TD3, today=TODAY).as_dict()) == FIELDS


# --- generation errors -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"document_number": "C01X00T47A"}, "TD3 has room for 9"),
        ({"document_number": ""}, "document number is empty"),
        ({"document_number": "AB#1"}, "may hold only letters"),
        ({"document_code": "I"}, "TD3 document codes start with P, not 'I'"),
        ({"document_code": "P1"}, "one or two letters"),
        ({"issuing_country": "ZZZ"}, "issuing_country: 'ZZZ' is not a country code"),
        ({"nationality": "Atlantis"}, "nationality:"),
        ({"sex": "W"}, "sex must be M, F or X"),
        ({"surname": "''"}, "surname .* is empty"),
        ({"surname": "李"}, "cannot be written"),
        ({"optional_data": "123456789012345"}, "optional_data is 15 characters long"),
        ({"optional_data": "AB-1"}, "optional_data may hold only A-Z"),
        ({"optional_data_2": "X"}, "TD3 has no second optional data field"),
        ({"mrz_format": "TD4"}, "'TD4' is not an MRZ format"),
        ({"mrz_format": "MRV-A"}, "MRV-A document codes start with V"),
    ],
)
def test_impossible_inputs_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _passport(**changes)


def test_td1_number_too_long_for_its_optional_data() -> None:
    with pytest.raises(ValueError, match="do not fit together"):
        _passport(
            mrz_format="TD1",
            document_code="ID",
            document_number="ABCDEFGHIJKLMNOPQRST",
            optional_data="123",
        )
    # 9 + 14 characters is the most TD1 holds.
    lines = _passport(mrz_format="TD1", document_code="ID", document_number="A" * 23)
    assert parse(lines, today=TODAY).document_number == "A" * 23


# --- properties ----------------------------------------------------------------------------

COUNTRIES = sorted(all_codes() | {"UTO"})
WORDS = st.text(LETTERS, min_size=1, max_size=8)


@st.composite
def documents(draw: st.DrawFn, mrz_format: MrzFormat) -> dict[str, Any]:
    """Random fields that fit ``mrz_format`` and whose dates read back unchanged at TODAY."""
    layout = LAYOUTS[mrz_format]
    code = draw(st.sampled_from(layout.document_letters)) + draw(st.sampled_from(LETTERS + "<"))
    longest_number = {"TD1": 23, "TD2": 14}.get(mrz_format, 9)
    number = draw(st.text(DIGITS + LETTERS, min_size=1, max_size=longest_number))
    room = layout.field("optional_data").length
    if len(number) > 9:
        room -= len(number) - 9 + 2  # the continuation, its check digit and a <
    optional = draw(st.text(DIGITS + LETTERS + "<", max_size=max(room, 0)))
    name_room = layout.field("name").length
    surname = draw(st.lists(WORDS, min_size=1, max_size=3))
    given = draw(st.lists(WORDS, max_size=3))
    while len("<".join(surname)) + (len("<<" + "<".join(given)) if given else 0) > name_room:
        (given or surname).pop()
    surname = surname or ["X"]
    return {
        "mrz_format": mrz_format,
        "document_code": code,
        "issuing_country": draw(st.sampled_from(COUNTRIES)),
        "document_number": number,
        "surname": " ".join(surname),
        "given_names": " ".join(given),
        "nationality": draw(st.sampled_from(COUNTRIES)),
        "birth_date": draw(st.dates(min_value=date(1925, 6, 16), max_value=TODAY) | st.none()),
        "sex": draw(st.sampled_from("MFX")),
        "expiry_date": draw(st.dates(min_value=date(1945, 6, 16), max_value=date(2045, 6, 15))),
        "optional_data": optional,
        "optional_data_2": draw(st.text(DIGITS + LETTERS + "<", max_size=11))
        if mrz_format == "TD1"
        else "",
    }


@pytest.mark.parametrize("mrz_format", FORMATS)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_generate_then_parse_round_trips(mrz_format: MrzFormat, data: st.DataObject) -> None:
    fields = data.draw(documents(mrz_format))
    lines = generate_mrz(**fields)
    assert [len(line) for line in lines] == [LAYOUTS[mrz_format].line_length] * len(lines)
    mrz = parse(lines, today=TODAY)
    assert mrz.valid, (lines, mrz.checks, mrz.problems)
    assert mrz.format == mrz_format
    assert mrz.document_code == fields["document_code"].rstrip("<")
    assert mrz.issuing_country == fields["issuing_country"]
    assert mrz.nationality == fields["nationality"]
    assert mrz.document_number == fields["document_number"]
    assert (mrz.surname, mrz.given_names) == (fields["surname"], fields["given_names"])
    assert (mrz.birth_date, mrz.expiry_date) == (fields["birth_date"], fields["expiry_date"])
    assert mrz.sex == fields["sex"]
    assert mrz.optional_data == fields["optional_data"].rstrip("<")
    assert mrz.optional_data_2 == fields["optional_data_2"].rstrip("<")


def blind_spot(
    layout: Layout, lines: tuple[str, ...], line: int, column: int, new: str
) -> str | None:
    """The documented blind spot (a key of BLIND_SPOTS) that explains an unnoticed change."""
    old = lines[line][column]
    field = layout.field_at((line, column))
    checked = {p for spec in layout.checks for p in spec.positions}
    if (line, column) in checked and char_value(old) % 10 == char_value(new) % 10:
        return "equal-value"
    if field.kind == "check" and {old, new} == {"0", "<"}:
        return "equal-value"  # the check digit of a blank date or optional data
    if field.kind == "name" and {old, new} <= set(LETTERS + "<"):
        return "name"
    if field.name == "sex" and {old, new} <= set("MF<X"):
        return "sex"
    if field.kind == "country":
        code = field.read(replace(lines, line, column, new))
        return "country" if country_from_mrz(code) else None
    if (line, column) == (0, 0) and layout.line_count == 2 and "V" in (old, new):
        return "format-switch"
    if (line, column) == (0, 1) and {old, new} <= set(LETTERS + "<"):
        return "document-code"
    if (line, column) == (0, 0) and {old, new} <= set(layout.document_letters) <= set("ACI"):
        return "document-code"
    if layout.format.startswith("MRV") and field.name == "optional_data":
        return "visa-optional-data"
    return None


def assert_corruptions_caught_or_blind(lines: tuple[str, ...]) -> set[str]:
    """Try every single-character change; each unnoticed one must be a documented blind spot."""
    original = parse(lines, today=TODAY)
    assert original.valid
    layout = LAYOUTS[original.format]
    seen: set[str] = set()
    for line, text in enumerate(lines):
        for column, old in enumerate(text):
            for new in ALPHABET:
                if new == old:
                    continue
                changed = replace(lines, line, column, new)
                try:
                    if not parse(changed, today=TODAY).valid:
                        continue
                except NotAnMrz:
                    continue  # refused outright (a code of a driving licence, say): caught
                rule = blind_spot(layout, lines, line, column, new)
                assert rule is not None, f"line {line + 1} column {column + 1} {old}→{new}"
                assert rule in BLIND_SPOTS
                seen.add(rule)
    return seen


def test_every_corruption_of_the_specimens_is_caught_or_a_documented_blind_spot() -> None:
    seen: set[str] = set()
    for lines in [*SPECIMENS.values(), FRENCH_CARD]:
        seen |= assert_corruptions_caught_or_blind(lines)
    assert seen == set(BLIND_SPOTS), "a documented blind spot the specimens never show"


@pytest.mark.parametrize("mrz_format", FORMATS)
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_corruption_is_caught_or_a_documented_blind_spot(
    mrz_format: MrzFormat, data: st.DataObject
) -> None:
    assert_corruptions_caught_or_blind(generate_mrz(**data.draw(documents(mrz_format))))


def test_known_blind_spots_really_are_blind() -> None:
    """The documented weaknesses, shown on the TD3 specimen, so the docs stay honest."""
    assert parse(replace(TD3, 1, 5, "6"), today=TODAY).checks["document_number"] is False
    g_for_6 = replace(TD3, 1, 35, "G")  # ZE184226B: 6 → G, both worth 6 modulo 10
    assert parse(g_for_6, today=TODAY).valid
    as_visa = replace(TD3, 0, 0, "V")
    assert parse(as_visa, today=TODAY).format == "MRV-A"
    assert parse(as_visa, today=TODAY).valid


def test_blind_spots_are_in_the_user_documentation() -> None:
    page = (Path(__file__).parents[2] / "docs" / "mrz.md").read_text(encoding="utf-8")
    for rule in BLIND_SPOTS:
        assert f"`{rule}`" in page


def test_the_printed_check_digit_is_reported_even_when_it_fails() -> None:
    from bordercheck.documents.mrz import printed_check_digit

    assert printed_check_digit(parse(TD3, today=TODAY)) == "6"
    broken = (TD3[0], TD3[1][:9] + "5" + TD3[1][10:])
    mrz = parse(broken, today=TODAY)
    assert (mrz.checks["document_number"], printed_check_digit(mrz)) == (False, "5")
