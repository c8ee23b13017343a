"""MRZs as real documents and OCR engines give them: national variants of Doc 9303, France's
own card, driving licences refused by name, and noisy copies repaired."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bordercheck.auth.models import Role
from bordercheck.documents.mrz import (
    FORMATS,
    LAYOUTS,
    MrzFormat,
    NotAnMrz,
    NotATravelDocument,
    check_digit,
    evaluate_checks,
    generate_mrz,
    parse,
    printed_check_digit,
)
from bordercheck.documents.types import DocumentType
from tests.documents.test_mrz import TD1_LONG, documents
from tests.documents.test_mrz_cli import run
from tests.signin import Api, open_api

TODAY = date(2025, 6, 15)


def with_digits(*parts: str) -> str:
    """``parts`` joined, each part ending in ``#`` given its check digit (over that part)."""
    return "".join(p[:-1] + check_digit(p[:-1]) if p.endswith("#") else p for p in parts)


# --- Belgium's long card number --------------------------------------------------------------

BELGIAN = (
    "IDBEL000590240<6013<<<<<<<<<<<",
    "8512017F1311048BEL851201002007",
    "REINARTZ<<ULRIKE<KATIA<E<<<<<<",
)


def test_a_belgian_long_number_checked_with_its_filler_is_valid_and_says_so() -> None:
    mrz = parse(BELGIAN, today=TODAY)
    assert mrz.valid, (mrz.checks, mrz.problems)
    assert mrz.document_number == "000590240601"
    assert mrz.number_check_reading == "with_filler"
    assert any("Belgium's reading" in note for note in mrz.notes)
    assert (mrz.surname, mrz.given_names) == ("REINARTZ", "ULRIKE KATIA E")
    # Its digit is not the number's Doc 9303 digit: screening must not compare the two.
    assert printed_check_digit(mrz) is None


def test_a_doc_9303_long_number_is_read_as_before_with_no_note() -> None:
    mrz = parse(TD1_LONG, today=TODAY)
    assert (mrz.valid, mrz.number_check_reading, mrz.notes) == (True, None, ())
    assert printed_check_digit(mrz) == "9"


def test_a_long_number_whose_digit_fits_neither_reading_fails() -> None:
    broken = (BELGIAN[0][:18] + "4" + BELGIAN[0][19:], *BELGIAN[1:])
    mrz = parse(broken, today=TODAY)
    assert mrz.checks["document_number"] is False
    assert mrz.number_check_reading is None


@pytest.mark.parametrize("number", ["AB1234567C", "12345678901", "X00000000123"])
@pytest.mark.parametrize("belgian", [False, True])
def test_own_long_numbers_read_under_either_reading(number: str, belgian: bool) -> None:
    head, tail = number[:9], number[9:]
    digit = check_digit(f"{head}<{tail}" if belgian else number)
    line_1 = f"I<BEL{head}<{tail}{digit}".ljust(30, "<")
    line_2 = with_digits("900101#", "M", "300101#", "BEL").ljust(29, "<")
    line_2 += check_digit(line_1[5:30] + line_2[0:7] + line_2[8:15] + line_2[18:29])
    mrz = parse((line_1, line_2, "PEETERS<<JAN".ljust(30, "<")), today=TODAY)
    assert mrz.valid, (line_1, line_2, mrz.checks, mrz.problems)
    assert mrz.document_number == number
    expected = "with_filler" if belgian and digit != check_digit(number) else None
    assert mrz.number_check_reading == expected


# --- a date left blank: the Russian internal passport's expiry --------------------------------


def russian_internal(expiry_check: str = "<") -> tuple[str, str]:
    line_1 = "PNRUSIVANOVA<<MARIIA<SERGEEVNA".ljust(44, "<")
    line_2 = with_digits("452198765#", "RUS", "850312#", "F", "<<<<<<", expiry_check)
    line_2 += with_digits("4151218910003<#")
    composite = line_2[0:10] + line_2[13:20] + line_2[21:43]
    return line_1, line_2 + check_digit(composite)


def test_a_russian_internal_passport_has_no_expiry_and_its_check_passes() -> None:
    lines = russian_internal()
    assert lines[1].endswith("M<<<<<<<4151218910003<54") or lines[1][20:28] == "F<<<<<<<"
    mrz = parse(lines, today=TODAY)
    assert mrz.valid, (mrz.checks, mrz.problems)
    assert mrz.expiry_date is None
    assert mrz.checks["expiry_date"] is True
    assert any("expiry_date: none" in note for note in mrz.notes)
    assert mrz.optional_data == "4151218910003"


def test_the_issue_s_russian_line_reads_with_no_expiry() -> None:
    line_2 = "4512345671RUS8001014M<<<<<<<4151218910003<54"
    mrz = parse(("PNRUSIVANOV<<IVAN<IVANOVICH".ljust(44, "<"), line_2), today=TODAY)
    assert (mrz.valid, mrz.expiry_date, mrz.sex) == (True, None, "M")


def test_a_blank_date_with_digit_0_passes_too_and_a_digit_under_a_real_date_must_be_one() -> None:
    assert parse(russian_internal("0"), today=TODAY).valid
    line_1, line_2 = russian_internal()
    dated = line_2[:21] + "300101<" + line_2[28:]
    assert parse((line_1, dated), today=TODAY).checks["expiry_date"] is False


# --- France's national identity card (1988-2021) ---------------------------------------------


def french_card(
    surname: str, given: str, number: str, birth: str, sex: str, office: str = "750123"
) -> tuple[str, str]:
    line_1 = "IDFRA" + surname.ljust(25, "<") + office
    line_2 = with_digits(number + "#", given.ljust(14, "<"), birth + "#", sex)
    return line_1, line_2 + check_digit(line_1 + line_2)


LEGRAND = french_card("LEGRAND", "AMELIE<<ROSE", "190775012345", "900215", "F")
DUPONT = french_card("DU<PONT<DE<NEMOURS", "JEAN<<PIERRE", "0302913456789"[:12], "610730", "M")


def test_france_s_card_is_read_as_its_own_format() -> None:
    mrz = parse(LEGRAND, today=TODAY)
    assert mrz.valid, (mrz.checks, mrz.problems)
    assert mrz.format == "FRA-ID"
    assert (mrz.document_code, mrz.issuing_country, mrz.nationality) == ("ID", "FRA", "FRA")
    assert mrz.document_number == "190775012345"
    assert mrz.document_type is DocumentType.IDENTITY_CARD
    assert (mrz.surname, mrz.given_names) == ("LEGRAND", "AMELIE ROSE")
    assert (mrz.birth_date, mrz.sex, mrz.expiry_date) == (date(1990, 2, 15), "F", None)
    assert mrz.optional_data == "750123"
    assert set(mrz.checks) == {"document_number", "birth_date", "composite"}
    assert any("issued 2019-07 by office 750123" in note for note in mrz.notes)
    assert printed_check_digit(mrz) == LEGRAND[1][12]


def test_france_s_card_checks_fail_where_they_should() -> None:
    surname_changed = ("IDFRALEGRANT" + LEGRAND[0][12:], LEGRAND[1])
    assert parse(surname_changed, today=TODAY).checks == {
        "document_number": True, "birth_date": True, "composite": False,
    }  # fmt: skip
    number_changed = (LEGRAND[0], "2" + LEGRAND[1][1:])
    assert parse(number_changed, today=TODAY).checks["document_number"] is False


def test_a_french_td2_identity_document_stays_a_td2() -> None:
    lines = generate_mrz(
        mrz_format="TD2", document_code="ID", issuing_country="FRA", document_number="X4RTBPFW4",
        surname="MARTIN", given_names="CLAIRE", nationality="FRA", birth_date=date(1985, 3, 1),
        sex="F", expiry_date=date(2030, 1, 1),
    )  # fmt: skip
    mrz = parse(lines, today=TODAY)
    assert (mrz.format, mrz.valid, mrz.document_number) == ("TD2", True, "X4RTBPFW4")


def test_france_s_card_from_the_command_line_with_and_without_a_fault() -> None:
    code, (obj,), _ = run("parse", *DUPONT)
    assert code == 0
    assert (obj["format"], obj["document_number"], obj["surname"]) == (
        "FRA-ID", "030291345678", "DU PONT DE NEMOURS",
    )  # fmt: skip
    assert obj["expiry_date"] is None
    broken = (DUPONT[0], DUPONT[1][:30] + "9" + DUPONT[1][31:])  # a birth date digit
    code, (obj,), _ = run("parse", *broken)
    assert code == 1
    assert obj["checks"]["birth_date"] is False


def test_france_s_card_code_misread_as_digits_is_still_france_s_card() -> None:
    mrz = parse(("10" + LEGRAND[0][2:], LEGRAND[1]), correct=True, today=TODAY)
    assert (mrz.format, mrz.valid, mrz.document_code) == ("FRA-ID", True, "ID")
    assert [(c.from_char, c.to_char) for c in mrz.corrections] == [("1", "I"), ("0", "D")]


def test_france_s_card_with_ocr_noise_is_repaired() -> None:
    noisy = (LEGRAND[0].lower(), LEGRAND[1].replace("0", "O", 1).replace("9", "9 ", 1))
    mrz = parse(noisy, correct=True, today=TODAY)
    assert mrz.valid, (mrz.checks, mrz.problems)
    assert mrz.document_number == "190775012345"


@pytest.fixture
def api(fresh_url: str) -> Iterator[Api]:
    with open_api(fresh_url, bureaus=("FRA", "BEL", "DEU")) as api:
        yield api


def stolen(api: Api, number: str, country: str) -> None:
    body = {"document_number": number, "issuing_country": country,
            "document_type": "identity_card", "status": "stolen"}  # fmt: skip
    headers = api.bearer(Role.BUREAU_OFFICER, country)
    response = api.client.post("/api/v1/records", json=body, headers=headers)
    assert response.status_code == 201, response.text


def screen(api: Api, lines: tuple[str, ...]) -> dict[str, Any]:
    headers = api.bearer(Role.BORDER_OFFICER, "DEU")
    response = api.client.post("/api/v1/screen", json={"mrz": "\n".join(lines)}, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_a_stolen_french_card_and_belgian_card_are_hits_from_their_mrz(api: Api) -> None:
    stolen(api, "190775012345", "FRA")
    stolen(api, "000590240601", "BEL")
    api.client.app.state.live_index.catch_up()  # type: ignore[attr-defined]
    french = screen(api, LEGRAND)
    assert (french["result"], french["mrz"]["format"], french["mrz"]["valid"]) == (
        "hit", "FRA-ID", True,
    )  # fmt: skip
    assert french["matches"][0]["document_number"] == "190775012345"
    belgian = screen(api, BELGIAN)
    assert (belgian["result"], belgian["mrz"]["valid"]) == ("hit", True)
    # A letter read for a digit of the number's sequence, repaired before screening.
    misread = screen(api, (LEGRAND[0], LEGRAND[1][:7] + "I" + LEGRAND[1][8:]))
    assert misread["result"] == "hit"
    assert misread["mrz"]["corrections"] == [
        {"line": 2, "column": 8, "field": "sequence", "from": "I", "to": "1"}
    ]


# --- zones that are not travel documents' ---------------------------------------------------

DRIVING_LICENCES = {
    "one line, EU model": ("D1FRA13AA000026181231MARTIN<<9",),
    "three lines beginning D": (
        "DLNLD1234567890<<<<<<<<<<<<<<<",
        "8001014M3001012NLD<<<<<<<<<<<8",
        "JANSEN<<PIETER<<<<<<<<<<<<<<<<",
    ),
    "Swiss, 9 + 30 + 30": (
        "AAA001D<<",
        "FACHEHE062324GDLEG<<<<<<<<<<<<",
        "MEIER<<BEAT<<<<<<<<<<<<<<<<<<<",
    ),
}


@pytest.mark.parametrize("kind", list(DRIVING_LICENCES))
def test_driving_licences_are_refused_as_not_travel_documents(kind: str) -> None:
    lines = DRIVING_LICENCES[kind]
    for correct in (False, True):
        with pytest.raises(NotATravelDocument, match="not a travel document MRZ"):
            parse(lines, correct=correct, today=TODAY)
    code, (obj,), _ = run("parse", *lines)
    assert code == 2
    assert obj["error"].startswith("not a travel document MRZ")


def test_an_unknown_document_letter_is_refused_and_a_known_one_misplaced_is_invalid() -> None:
    td3 = generate_mrz(
        mrz_format="TD3", document_code="P", issuing_country="UTO", document_number="L898902C3",
        surname="ERIKSSON", nationality="UTO", birth_date=date(1974, 8, 12), sex="F",
        expiry_date=date(2032, 4, 15),
    )  # fmt: skip
    with pytest.raises(NotATravelDocument, match="'R<' begins with 'R'"):
        parse(("R" + td3[0][1:], td3[1]), today=TODAY)
    misplaced = parse(("I" + td3[0][1:], td3[1]), today=TODAY)
    assert not misplaced.valid


def test_screening_refuses_a_driving_licence_naming_the_field(api: Api) -> None:
    headers = api.bearer(Role.BORDER_OFFICER, "DEU")
    text = "\n".join(DRIVING_LICENCES["three lines beginning D"])
    response = api.client.post("/api/v1/screen", json={"mrz": text}, headers=headers)
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["field"] == "mrz"
    assert "not a travel document MRZ" in error["reason"]


# --- OCR-noisy copies -----------------------------------------------------------------------

SPECIMEN = (
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
)


def test_every_filler_read_as_k_is_repaired_where_a_filler_must_be() -> None:
    mrz = parse(tuple(line.replace("<", "K") for line in SPECIMEN), correct=True, today=TODAY)
    assert mrz.valid
    assert (mrz.document_code, mrz.surname, mrz.optional_data) == ("P", "ERIKSSON", "ZE184226B")
    # ANNA<MARIA: one K between words cannot be told from a letter K; said, not guessed.
    assert mrz.given_names == "ANNAKMARIA"
    assert any("a single K between words" in note for note in mrz.notes)


def test_a_k_among_fillers_is_a_filler_but_a_name_s_own_k_stays() -> None:
    line_1 = "P<UTONOVAK<<ERIK<<<<K<<<<<<<<K<<<<<<<<<<<<<<"
    mrz = parse((line_1[:44], SPECIMEN[1][:37] + "<K<<<10"), correct=True, today=TODAY)
    assert mrz.valid, (mrz.checks, mrz.problems)
    assert (mrz.surname, mrz.given_names, mrz.optional_data) == ("NOVAK", "ERIK", "ZE184226B")
    assert {c.field for c in mrz.corrections} == {"name", "optional_data"}
    # A one-letter word K after a separator is a name, not a filler.
    initial = parse(("P<UTONOVAK<<ERIK<K".ljust(44, "<"), SPECIMEN[1]), correct=True, today=TODAY)
    assert (initial.given_names, initial.corrections) == ("ERIK K", ())


def test_german_d_and_a_blank_date_with_k() -> None:
    line_1, line_2 = russian_internal()
    mrz = parse((line_1, line_2[:21] + "KKKKKKK" + line_2[28:]), correct=True, today=TODAY)
    assert (mrz.valid, mrz.expiry_date) == (True, None)
    german = generate_mrz(
        mrz_format="TD1", document_code="ID", issuing_country="DEU", document_number="T22000129",
        surname="MUSTERMANN", given_names="ERIKA", nationality="DEU",
        birth_date=date(1983, 8, 12), sex="F", expiry_date=date(2031, 10, 31),
    )  # fmt: skip
    noisy = (german[0].replace("D<<", "DKK", 1), german[1].replace("D<<", "D<K", 1), german[2])
    mrz = parse(noisy, correct=True, today=TODAY)
    assert (mrz.valid, mrz.issuing_country, mrz.nationality) == (True, "DEU", "DEU")


def test_spaces_stray_marks_and_look_alikes_of_the_filler_are_cleaned() -> None:
    text = (
        "  p<uto eriksson«anna‹maria<<<<<<<<<<<<<<<<<<<.\n"
        "| L898902C3 6UTO74O8122F12O4159ZE184226B<<<<<1O ,\n\n"
    )
    mrz = parse(text, correct=True, today=TODAY)
    assert mrz.valid, (mrz.checks, mrz.problems)
    assert mrz.lines == SPECIMEN
    assert "line 1: removed 1 space(s)" in mrz.notes
    assert "line 2: removed 1 space(s)" in mrz.notes
    assert any("stray character" in note for note in mrz.notes)
    with pytest.raises(NotAnMrz):
        parse(text, today=TODAY)  # without --correct, noise is not an MRZ


def test_spaces_read_by_ocr_for_fillers_become_fillers() -> None:
    text = SPECIMEN[0].replace("<<<<<<<<", "        ") + "\n" + SPECIMEN[1]
    mrz = parse(text, correct=True, today=TODAY)
    assert mrz.valid
    assert mrz.lines == SPECIMEN


FILLED = ("name", "number", "optional")


def noisy(lines: tuple[str, ...], mrz_format: MrzFormat, data: st.DataObject) -> str:
    """``lines`` as OCR might give them: letters in digit fields, K for some fillers among
    fillers, spaces and stray marks, lower case."""
    layout = LAYOUTS[mrz_format]
    grid = [list(line) for line in lines]
    as_letter = {"0": "O", "1": "I", "8": "B", "5": "S", "2": "Z", "6": "G"}
    for target in layout.fields:
        text = target.read(lines)
        if target.kind in ("date", "check"):
            for i, char in enumerate(text):
                if char in as_letter and data.draw(st.booleans()):
                    grid[target.line][target.start + i] = as_letter[char]
        if target.kind in ("name", "optional"):
            body = text.rstrip("<")
            needed = 3 if target.kind == "name" else 1  # fillers before a K (see ocr)
            for i in range(len(body) + needed, len(text)):
                if data.draw(st.integers(0, 4)) == 0:
                    grid[target.line][target.start + i] = "K"
    out = []
    for row in grid:
        line = "".join(row)
        for _ in range(data.draw(st.integers(0, 3))):
            at = data.draw(st.integers(1, len(line) - 1))
            line = line[:at] + data.draw(st.sampled_from([" ", ".", "|", ","])) + line[at:]
        out.append(line.lower() if data.draw(st.booleans()) else line)
    return "\n".join(out)


@pytest.mark.parametrize("mrz_format", FORMATS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_noisy_copies_of_valid_mrzs_read_as_the_clean_ones(
    mrz_format: MrzFormat, data: st.DataObject
) -> None:
    lines = generate_mrz(**data.draw(documents(mrz_format)))
    clean = parse(lines, today=TODAY)
    assume(clean.valid)
    # A K of the data's own among trailing fillers (NOVAK<<, 123<K<<) cannot be told from a
    # filler read as K: the documented limit of the repair, left out here.
    texts = [f.read(lines) for f in LAYOUTS[mrz_format].fields if f.kind in FILLED]
    assume(all("K" not in t[len(t.rstrip("K<")) :] for t in texts))
    repaired = parse(noisy(lines, mrz_format, data), correct=True, today=TODAY)
    assert repaired.lines == clean.lines, repaired.problems
    assert repaired.valid
    assert (repaired.document_number, repaired.birth_date, repaired.expiry_date) == (
        clean.document_number, clean.birth_date, clean.expiry_date,
    )  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120), st.booleans())
def test_any_text_parses_or_is_refused_as_not_an_mrz(text: str, correct: bool) -> None:
    read: str
    try:
        read = parse(text, correct=correct, today=TODAY).format
    except NotAnMrz as exc:
        read = str(exc)
    assert read  # a format, or a reason: never another exception


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([(30, 30, 30), (36, 36), (44, 44), (9, 30, 30), (30,)]),
    st.data(),
)
def test_any_mrz_shaped_text_parses_or_is_refused(
    shape: tuple[int, ...], data: st.DataObject
) -> None:
    alphabet = "ABCDEFGHIKLMOPSUVXZ0123456789<<<<< «.|"
    lines = [data.draw(st.text(alphabet, min_size=n, max_size=n)) for n in shape]
    for correct in (False, True):
        try:
            read = len(parse(lines, correct=correct, today=TODAY).lines) == len(shape)
        except NotAnMrz as exc:
            read = bool(str(exc))
        assert read


def test_lines_run_together_are_split_by_their_length() -> None:
    assert parse("".join(SPECIMEN), today=TODAY).lines == SPECIMEN
    assert parse(" ".join(SPECIMEN), correct=True, today=TODAY).lines == SPECIMEN
    assert parse("".join(TD1_LONG), today=TODAY).lines == TD1_LONG
    with pytest.raises(NotAnMrz):
        parse(" ".join(SPECIMEN), today=TODAY)  # spaces are OCR noise: --correct only


@pytest.mark.parametrize("change", [-2, -1, 1, 2])
def test_a_name_line_a_filler_or_two_short_or_long_is_fitted(change: int) -> None:
    name = SPECIMEN[0][:change] if change < 0 else SPECIMEN[0] + "<" * change
    mrz = parse((name, SPECIMEN[1]), correct=True, today=TODAY)
    assert (mrz.valid, mrz.lines) == (True, SPECIMEN)
    assert any("trailing filler" in note for note in mrz.notes)
    with pytest.raises(NotAnMrz, match="line 1 is"):
        parse((name, SPECIMEN[1]), today=TODAY)


def test_a_line_ending_in_digits_is_not_fitted() -> None:
    with pytest.raises(NotAnMrz, match="line 2 is 43 characters long"):
        parse((SPECIMEN[0], SPECIMEN[1][:-1]), correct=True, today=TODAY)


@pytest.mark.parametrize("belgian", [False, True])
def test_a_td2_number_longer_than_9_runs_on_into_the_optional_data(belgian: bool) -> None:
    number = "AB12345678901"
    head, tail = number[:9], number[9:]
    digit = check_digit(f"{head}<{tail}" if belgian else number)
    line_2 = with_digits(head, "<", "NLD", "880304#", "F", "310101#", (tail + digit).ljust(7, "<"))
    composite = line_2[0:10] + line_2[13:20] + line_2[21:35]
    lines = ("IRNLDBAKKER<<SANNE".ljust(36, "<"), line_2 + check_digit(composite))
    mrz = parse(lines, today=TODAY)
    assert mrz.valid, (lines, mrz.checks, mrz.problems)
    assert (mrz.format, mrz.document_number, mrz.optional_data) == ("TD2", number, "")
    assert mrz.number_check_reading == ("with_filler" if belgian else None)
    written = generate_mrz(
        mrz_format="TD2", document_code="IR", issuing_country="NLD", document_number=number,
        surname="BAKKER", given_names="SANNE", nationality="NLD", birth_date=date(1988, 3, 4),
        sex="F", expiry_date=date(2031, 1, 1),
    )  # fmt: skip
    assert parse(written, today=TODAY).document_number == number


WORD = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=6)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(WORD, min_size=1, max_size=3),
    st.lists(WORD, max_size=2),
    st.dates(date(1988, 1, 1), date(2021, 12, 31)),
    st.from_regex(r"[0-9]{2}[0-9AB][0-9]{5}", fullmatch=True),
    st.dates(date(1925, 6, 16), date(2021, 12, 31)),  # two-digit years: within 100 years
    st.sampled_from("MF"),
)
def test_france_s_cards_written_from_their_layout_read_back(
    surname: list[str], given: list[str], issued: date, office_sequence: str, born: date, sex: str
) -> None:
    assume(len("<".join(surname)) <= 25 and len("<<".join(given)) <= 14)
    number = f"{issued:%y%m}{office_sequence[:3]}{office_sequence[3:]}"
    lines = french_card("<".join(surname), "<<".join(given), number, f"{born:%y%m%d}", sex)
    mrz = parse(lines, today=TODAY)
    assert mrz.valid, (lines, mrz.checks, mrz.problems)
    assert (mrz.format, mrz.document_number, mrz.sex) == ("FRA-ID", number, sex)
    assert (mrz.surname, mrz.given_names) == (" ".join(surname), " ".join(given))
    assert mrz.birth_date == born
    assert parse(lines[0] + lines[1], today=TODAY).lines == lines


# --- repairs that only the checks they mend would confirm --------------------------------------


def misread(lines: Sequence[str], line: int, column: int, char: str) -> tuple[str, ...]:
    changed = list(lines)
    changed[line] = changed[line][:column] + char + changed[line][column + 1 :]
    return tuple(changed)


def with_composite(second: str) -> str:
    """A TD3 second line (43 characters) with its composite check digit."""
    return second + check_digit(second[0:10] + second[13:20] + second[21:43])


# Documents of our own. A visa (MRV-B) has no composite: its number's check digit is all that
# covers the number.
VISA = (
    "V<NORHAWKE<<LENA<MARIT<<<<<<<<<<<<<<",
    with_digits("KR5518204#", "NOR", "880214#", "F", "310830#", "<<<<<<<<"),
)
PASSPORT = (
    "P<NORHAWKE<<LENA<MARIT<<<<<<<<<<<<<<<<<<<<<<",
    with_composite(with_digits("KR5518204#", "NOR", "880214#", "F", "310830#", "<" * 14, "<")),
)


def every_misread_check_digit(lines: tuple[str, ...]) -> Iterator[tuple[str, tuple[str, ...]]]:
    layout = LAYOUTS[parse(lines, today=TODAY).format]
    for result in evaluate_checks(lines, layout):
        line, column = result.digit
        for digit in "0123456789":
            if digit != lines[line][column]:
                yield result.name, misread(lines, line, column, digit)


@pytest.mark.parametrize("lines", [VISA, PASSPORT, TD1_LONG], ids=["MRV-B", "TD3", "TD1 long"])
def test_a_misread_check_digit_never_becomes_a_valid_invented_number(
    lines: tuple[str, ...],
) -> None:
    assert parse(lines, today=TODAY).valid
    for check, damaged in every_misread_check_digit(lines):
        mrz = parse(damaged, correct=True, today=TODAY)
        assert not (mrz.valid and mrz.corrections), (check, damaged, mrz.corrections)


def test_an_unconfirmed_repair_is_named_and_not_made() -> None:
    # The number's check digit read 2 for 0: O for its 0 would make that check pass, and
    # nothing else covers the number to confirm it.
    mrz = parse(misread(VISA, 1, 9, "2"), correct=True, today=TODAY)
    assert (mrz.document_number, mrz.valid, mrz.corrections) == ("KR5518204", False, ())
    assert mrz.problems == (
        "OCR repair not made: no check digit but the ones it would mend confirms it (line 2 "
        "column 8 0→O); the zone is read as given",
    )


def test_a_letter_read_as_a_digit_in_a_passport_number_is_still_repaired() -> None:
    noisy = misread(PASSPORT, 1, 2, "S")  # the number's first 5 read as S
    mrz = parse(noisy, correct=True, today=TODAY)
    assert mrz.valid, mrz.problems
    assert mrz.document_number == "KR5518204"
    assert [(c.field, c.from_char, c.to_char) for c in mrz.corrections] == [
        ("document_number", "S", "5")
    ]


# --- names ---------------------------------------------------------------------------------------

RUSSIAN_INTERNAL = (
    "PNRUSKOVAL7K<<ARTEM<SERGEEVI3<<<<<<<<<<<<<<<",
    with_composite(with_digits("450712345#", "RUS", "810115#", "M", "<<<<<<<", "4150115310007<#")),
)


def test_a_russian_internal_passport_writes_letters_as_digits_and_is_valid() -> None:
    mrz = parse(RUSSIAN_INTERNAL, today=TODAY)
    assert mrz.valid, (mrz.checks, mrz.problems)
    assert (mrz.surname, mrz.given_names) == ("KOVAL7K", "ARTEM SERGEEVI3")
    assert any("digits stand for Cyrillic letters" in note for note in mrz.notes)
    repaired = parse(RUSSIAN_INTERNAL, correct=True, today=TODAY)
    assert (repaired.surname, repaired.corrections) == ("KOVAL7K", ())
    # Any other passport with a digit in its name is still not valid.
    other = (RUSSIAN_INTERNAL[0].replace("PNRUS", "P<RUS"), RUSSIAN_INTERNAL[1])
    assert not parse(other, today=TODAY).valid


SINGLE_NAME = (
    "P<IND<<PRIYANKA<<<<<<<<<<<<<<<<<<<<<<<<<<<<<",
    with_composite(with_digits("Z4471902<#", "IND", "950311#", "F", "330409#", "<" * 14, "<")),
)


def test_a_passport_with_a_single_name_and_no_surname_is_valid_with_a_note() -> None:
    mrz = parse(SINGLE_NAME, today=TODAY)
    assert mrz.valid, mrz.problems
    assert (mrz.surname, mrz.given_names) == ("", "PRIYANKA")
    assert any(note.startswith("name: no surname (primary identifier)") for note in mrz.notes)


def test_a_byte_order_mark_before_the_zone_is_not_counted_as_a_character() -> None:
    assert parse("\ufeff" + "\r\n".join(SINGLE_NAME), today=TODAY).valid


# --- what OCR reads around a zone ----------------------------------------------------------------


def test_a_line_of_other_text_read_with_the_zone_is_dropped_when_repairing() -> None:
    page = "\n".join(("  Passport / Passeport ", *PASSPORT, " REPUBLIC "))
    with pytest.raises(NotAnMrz, match="an MRZ has 2 or 3 lines, this text has 4"):
        parse(page, today=TODAY)
    mrz = parse(page, correct=True, today=TODAY)
    assert mrz.valid, mrz.problems
    assert mrz.lines == PASSPORT
    assert "dropped the line 'PASSPORT  PASSEPORT': too short for a line of an MRZ" in (mrz.notes)


def test_a_second_line_alone_is_told_by_its_count_of_lines() -> None:
    with pytest.raises(NotAnMrz) as refused:
        parse(PASSPORT[1], today=TODAY)
    assert str(refused.value) == "an MRZ has 2 or 3 lines, this text has 1"
    assert not isinstance(refused.value, NotATravelDocument)
