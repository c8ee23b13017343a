"""Write an MRZ from document fields, computing every check digit (ICAO Doc 9303)."""

from __future__ import annotations

from datetime import date

from bordercheck.documents.countries import InvalidCountry
from bordercheck.documents.mrz_formats import (
    ALPHABET,
    FILLER,
    LAYOUTS,
    LETTERS,
    Layout,
    MrzFormat,
    check_digit,
    country_to_mrz,
)
from bordercheck.documents.numbers import normalise_number
from bordercheck.documents.transliteration import name_field

_SEXES = {"M": "M", "F": "F", "X": FILLER, FILLER: FILLER}


def generate_mrz(
    *,
    mrz_format: MrzFormat,
    document_code: str,
    issuing_country: str,
    document_number: str,
    surname: str,
    given_names: str = "",
    nationality: str,
    birth_date: date | None,
    sex: str,
    expiry_date: date | None,
    optional_data: str = "",
    optional_data_2: str = "",
) -> tuple[str, ...]:
    """The lines of an MRZ; ValueError saying which field is impossible.

    Names are transliterated and cut to the field (see ``transliteration``); a TD1 or TD2
    number longer than 9 characters continues in the optional data as Doc 9303 Parts 5 and
    6 prescribe.
    A None date is written as ``<<<<<<`` (unknown). Sex is M, F or X (written ``<``).
    """
    if mrz_format not in LAYOUTS:
        raise ValueError(f"{mrz_format!r} is not an MRZ format (one of {', '.join(LAYOUTS)})")
    layout = LAYOUTS[mrz_format]
    grid = [[FILLER] * layout.line_length for _ in range(layout.line_count)]

    def put(name: str, value: str) -> None:
        target = layout.field(name)
        if len(value) > target.length:
            raise ValueError(
                f"{name} is {len(value)} characters long; {mrz_format} has room for {target.length}"
            )
        grid[target.line][target.start : target.start + len(value)] = value

    put("document_code", _document_code(document_code, layout))
    put("issuing_country", _country(issuing_country, "issuing_country"))
    put("nationality", _country(nationality, "nationality"))
    put("name", name_field(surname, given_names, layout.field("name").length))
    put("birth_date", _yymmdd(birth_date))
    put("expiry_date", _yymmdd(expiry_date))
    if sex.strip().upper() not in _SEXES:
        raise ValueError(f"sex must be M, F or X, not {sex!r}")
    put("sex", _SEXES[sex.strip().upper()])

    number = normalise_number(document_number)
    optional = _optional(optional_data, "optional_data")
    if len(number) > 9 and mrz_format not in ("TD1", "TD2"):
        raise ValueError(
            f"document_number is {len(number)} characters long; {mrz_format} has room for 9 "
            "(only TD1 and TD2 continue longer numbers in the optional data)"
        )
    if len(number) > 9:
        put("document_number", number[:9])
        put("document_number_check", FILLER)
        continuation = number[9:] + check_digit(number)
        optional = continuation + (FILLER + optional if optional else "")
        room = layout.field("optional_data").length
        if len(optional) > room:
            raise ValueError(
                f"document_number of {len(number)} characters and optional_data do not fit "
                f"together in {mrz_format} optional data ({room} characters)"
            )
    else:
        put("document_number", number)
    put("optional_data", optional)
    if optional_data_2:
        if not layout.has_field("optional_data_2"):
            raise ValueError(f"{mrz_format} has no second optional data field (only TD1 has)")
        put("optional_data_2", _optional(optional_data_2, "optional_data_2"))

    lines = ["".join(row) for row in grid]
    for spec in layout.checks:
        if spec.name == "document_number" and len(number) > 9:
            continue  # written above, inside the optional data
        text = "".join(lines[line][column] for line, column in spec.positions)
        digit = check_digit(text)
        if spec.name == "optional_data" and set(text) == {FILLER}:
            digit = FILLER  # Doc 9303 Part 4 allows < here when the field is unused
        line, column = spec.digit_position
        lines[line] = lines[line][:column] + digit + lines[line][column + 1 :]
    return tuple(lines)


def _document_code(code: str, layout: Layout) -> str:
    text = code.strip().upper().rstrip(FILLER)
    if not 1 <= len(text) <= 2 or any(c not in LETTERS for c in text):
        raise ValueError(f"document_code must be one or two letters, not {code!r}")
    if text[0] not in layout.document_letters:
        raise ValueError(
            f"{layout.format} document codes start with {layout.document_letters_text}, "
            f"not {text[0]!r}"
        )
    return text


def _country(code: str, name: str) -> str:
    try:
        return country_to_mrz(code)
    except InvalidCountry as error:
        raise ValueError(f"{name}: {error}") from None


def _yymmdd(day: date | None) -> str:
    return FILLER * 6 if day is None else f"{day.year % 100:02d}{day.month:02d}{day.day:02d}"


def _optional(value: str, name: str) -> str:
    text = value.strip().upper().replace(" ", FILLER)
    bad = sorted({c for c in text if c not in ALPHABET})
    if bad:
        raise ValueError(f"{name} may hold only A-Z, 0-9 and <, not {' '.join(map(repr, bad))}")
    return text
