"""MRZ layouts: where each field of ICAO Doc 9303's TD1, TD2, TD3, MRV-A and MRV-B sits, and of
France's national identity card (1988-2021), whose 2 x 36 zone is its own.

Positions here are 0-based (line, column); messages and corrections shown to people are
1-based, as Doc 9303 numbers them.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

from bordercheck.documents.countries import InvalidCountry, mrz_country, normalise_country

MrzFormat = Literal["TD1", "TD2", "TD3", "MRV-A", "MRV-B", "FRA-ID"]
# The ICAO formats (the ones ``generate_mrz`` writes); FRA-ID is read only.
FORMATS: Final[tuple[MrzFormat, ...]] = ("TD1", "TD2", "TD3", "MRV-A", "MRV-B")

# "digits": digits only, and not a date (the parts of France's card number that are numbers).
FieldKind = Literal[
    "code", "country", "name", "number", "check", "date", "sex", "optional", "digits"
]
Position = tuple[int, int]

FILLER: Final = "<"
DIGITS: Final = "0123456789"
LETTERS: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ALPHABET: Final = DIGITS + LETTERS + FILLER

_VALUES: Final[dict[str, int]] = {c: i for i, c in enumerate(DIGITS + LETTERS)} | {FILLER: 0}
_NOT_MRZ: Final = 255
_VALUE_BYTES: Final = bytes(_VALUES.get(chr(b), _NOT_MRZ) for b in range(256))

# The fictional state of the Doc 9303 specimens; not a country, so countries.py does not know it.
SPECIMEN_STATES: Final[dict[str, str]] = {"UTO": "Utopia (Doc 9303 specimen)"}


class NotAnMrz(ValueError):
    """Text that is not an MRZ at all: wrong line count or length, or a foreign character."""


class NotATravelDocument(NotAnMrz):
    """A machine-readable zone, but not a travel document's (a driving licence's, say)."""


# The first letters of ICAO Doc 9303 document codes: A, C, I (cards), P (passports), V (visas).
TRAVEL_DOCUMENT_LETTERS: Final = "ACIPV"


def char_value(char: str) -> int:
    """A character's value in a check digit: digits as themselves, A=10 … Z=35, ``<`` = 0."""
    try:
        return _VALUES[char]
    except KeyError:
        raise ValueError(f"{char!r} is not an MRZ character (A-Z, 0-9 and <)") from None


def check_digit(text: str) -> str:
    """The Doc 9303 check digit of ``text``: values weighted 7, 3, 1 repeating, modulo 10."""
    # Each character's value as a byte, then every third one summed (one weight each): the
    # loops run in C, which matters to screening (a check digit for every candidate).
    values = text.encode("ascii", "replace").translate(_VALUE_BYTES)
    if _NOT_MRZ in values:
        bad = next(c for c in text if c not in _VALUES)
        raise ValueError(f"{bad!r} is not an MRZ character (A-Z, 0-9 and <)")
    total = 7 * sum(values[::3]) + 3 * sum(values[1::3]) + sum(values[2::3])
    return str(total % 10)


def country_from_mrz(code: str) -> str | None:
    """The three-letter country an MRZ code field names (``D<<`` → ``DEU``), else None."""
    if code in SPECIMEN_STATES:
        return code
    if code != "D<<" and (len(code) != 3 or FILLER in code):
        return None  # normalise_country also takes alpha-2 codes, which an MRZ never holds
    try:
        return normalise_country(code)
    except InvalidCountry:
        return None


def country_to_mrz(code: str) -> str:
    """How a country is written in an MRZ (Germany as ``D<<``); InvalidCountry if unknown."""
    text = code.strip().upper()
    if text in SPECIMEN_STATES:
        return text
    return mrz_country(text)


@dataclass(frozen=True)
class Field:
    """A run of characters on one line holding one MRZ field."""

    name: str
    line: int
    start: int
    length: int
    kind: FieldKind

    @property
    def end(self) -> int:
        return self.start + self.length

    @functools.cached_property
    def positions(self) -> tuple[Position, ...]:
        return tuple((self.line, c) for c in range(self.start, self.end))

    def read(self, lines: Sequence[str]) -> str:
        return lines[self.line][self.start : self.end]


@dataclass(frozen=True)
class CheckSpec:
    """A check digit and the fields, in order, it is computed over."""

    name: str
    digit: Field
    covers: tuple[Field, ...]

    @functools.cached_property
    def positions(self) -> tuple[Position, ...]:
        return tuple(p for f in self.covers for p in f.positions)

    def read(self, lines: Sequence[str]) -> str:
        """The text the digit is computed over."""
        return "".join(f.read(lines) for f in self.covers)

    @property
    def digit_position(self) -> Position:
        return (self.digit.line, self.digit.start)


@dataclass(frozen=True)
class Layout:
    """One MRZ format: its size, fields, check digits and allowed first letters of the code."""

    format: MrzFormat
    line_count: int
    line_length: int
    fields: tuple[Field, ...]
    checks: tuple[CheckSpec, ...]
    document_letters: str
    _by_name: dict[str, Field] = field(init=False, repr=False, compare=False)
    _by_position: dict[Position, Field] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {f.name: f for f in self.fields})
        object.__setattr__(self, "_by_position", {p: f for f in self.fields for p in f.positions})

    @property
    def document_letters_text(self) -> str:
        """The allowed first letters for messages: ``P``, ``A, C or I``."""
        letters = self.document_letters
        return f"{', '.join(letters[:-1])} or {letters[-1]}" if len(letters) > 1 else letters

    def field(self, name: str) -> Field:
        return self._by_name[name]

    def has_field(self, name: str) -> bool:
        return name in self._by_name

    def field_at(self, position: Position) -> Field:
        return self._by_position[position]


def _check(name: str, digit: Field, *covers: Field) -> CheckSpec:
    return CheckSpec(name, digit, covers)


def _two_line(fmt: MrzFormat, length: int, optional_length: int, letters: str) -> Layout:
    """TD2, TD3, MRV-A and MRV-B share one plan and differ in width and what follows the dates."""
    code = Field("document_code", 0, 0, 2, "code")
    state = Field("issuing_country", 0, 2, 3, "country")
    name = Field("name", 0, 5, length - 5, "name")
    number = Field("document_number", 1, 0, 9, "number")
    number_cd = Field("document_number_check", 1, 9, 1, "check")
    nationality = Field("nationality", 1, 10, 3, "country")
    birth = Field("birth_date", 1, 13, 6, "date")
    birth_cd = Field("birth_date_check", 1, 19, 1, "check")
    sex = Field("sex", 1, 20, 1, "sex")
    expiry = Field("expiry_date", 1, 21, 6, "date")
    expiry_cd = Field("expiry_date_check", 1, 27, 1, "check")
    optional = Field("optional_data", 1, 28, optional_length, "optional")
    fields = [code, state, name, number, number_cd, nationality, birth, birth_cd, sex]
    fields += [expiry, expiry_cd, optional]
    checks = [
        _check("document_number", number_cd, number),
        _check("birth_date", birth_cd, birth),
        _check("expiry_date", expiry_cd, expiry),
    ]
    composite_covers = [number, number_cd, birth, birth_cd, expiry, expiry_cd, optional]
    if fmt == "TD3":
        optional_cd = Field("optional_data_check", 1, 42, 1, "check")
        fields.append(optional_cd)
        checks.append(_check("optional_data", optional_cd, optional))
        composite_covers.append(optional_cd)
    if fmt in ("TD2", "TD3"):
        composite = Field("composite_check", 1, length - 1, 1, "check")
        fields.append(composite)
        checks.append(_check("composite", composite, *composite_covers))
    return Layout(fmt, 2, length, tuple(fields), tuple(checks), letters)


def _french_identity_card() -> Layout:
    """France's national identity card, issued 1988-2021: 2 x 36, not ICAO's TD2.

    Line 1: ``IDFRA``, surname (25), issuing office (6). Line 2: the card number (issue year
    and month, office, sequence: 12), its check digit, given names (14), birth date and its
    check digit, sex, and a check digit over both lines. No nationality (the card is only
    issued to French nationals) and no expiry date.
    """
    code = Field("document_code", 0, 0, 2, "code")
    state = Field("issuing_country", 0, 2, 3, "country")
    surname = Field("surname", 0, 5, 25, "name")
    office = Field("optional_data", 0, 30, 6, "optional")
    # The number: issue year and month, issuing office (Corsica's hold a letter), sequence.
    issued = Field("issue_month", 1, 0, 4, "digits")
    number_office = Field("number_office", 1, 4, 3, "number")
    sequence = Field("sequence", 1, 7, 5, "digits")
    number_cd = Field("document_number_check", 1, 12, 1, "check")
    given = Field("given_names", 1, 13, 14, "name")
    birth = Field("birth_date", 1, 27, 6, "date")
    birth_cd = Field("birth_date_check", 1, 33, 1, "check")
    sex = Field("sex", 1, 34, 1, "sex")
    composite = Field("composite_check", 1, 35, 1, "check")
    number = (issued, number_office, sequence)
    fields = (code, state, surname, office, *number, number_cd, given, birth, birth_cd, sex)
    checks = (
        _check("document_number", number_cd, *number),
        _check("birth_date", birth_cd, birth),
        _check("composite", composite, *fields),
    )
    return Layout("FRA-ID", 2, 36, (*fields, composite), checks, "I")


def _td1() -> Layout:
    code = Field("document_code", 0, 0, 2, "code")
    state = Field("issuing_country", 0, 2, 3, "country")
    number = Field("document_number", 0, 5, 9, "number")
    number_cd = Field("document_number_check", 0, 14, 1, "check")
    optional = Field("optional_data", 0, 15, 15, "optional")
    birth = Field("birth_date", 1, 0, 6, "date")
    birth_cd = Field("birth_date_check", 1, 6, 1, "check")
    sex = Field("sex", 1, 7, 1, "sex")
    expiry = Field("expiry_date", 1, 8, 6, "date")
    expiry_cd = Field("expiry_date_check", 1, 14, 1, "check")
    nationality = Field("nationality", 1, 15, 3, "country")
    optional_2 = Field("optional_data_2", 1, 18, 11, "optional")
    composite = Field("composite_check", 1, 29, 1, "check")
    name = Field("name", 2, 0, 30, "name")
    line_1 = (code, state, number, number_cd, optional)
    line_2 = (birth, birth_cd, sex, expiry, expiry_cd, nationality, optional_2, composite)
    fields = (*line_1, *line_2, name)
    composite_covers = (number, number_cd, optional, birth, birth_cd, expiry, expiry_cd, optional_2)
    checks = (
        _check("document_number", number_cd, number),
        _check("birth_date", birth_cd, birth),
        _check("expiry_date", expiry_cd, expiry),
        _check("composite", composite, *composite_covers),
    )
    return Layout("TD1", 3, 30, fields, checks, "ACI")


LAYOUTS: Final[dict[MrzFormat, Layout]] = {
    "TD1": _td1(),
    "TD2": _two_line("TD2", 36, 7, "ACI"),
    "TD3": _two_line("TD3", 44, 14, "P"),
    "MRV-A": _two_line("MRV-A", 44, 16, "V"),
    "MRV-B": _two_line("MRV-B", 36, 8, "V"),
    "FRA-ID": _french_identity_card(),
}


def split_mrz(text: str | Sequence[str]) -> tuple[tuple[str, ...], Layout]:
    """The upper-cased lines of an MRZ and its layout; NotAnMrz saying what is wrong if none."""
    raw = text if isinstance(text, str) else "\n".join(text)
    # A byte order mark (a file saved by a Windows tool) is no character of the zone.
    raw = raw.replace("\ufeff", "")
    lines = [line.strip() for line in raw.splitlines() if line.strip()]
    if not lines:
        raise NotAnMrz("the text is empty; an MRZ has 2 or 3 lines")
    if len(lines) == 1 and len(lines[0]) in _RUN_TOGETHER:
        # Lines run together (pasted, or sent without line breaks): 2 x 36, 2 x 44, 3 x 30.
        count, width = _RUN_TOGETHER[len(lines[0])]
        lines = [lines[0][i * width : (i + 1) * width] for i in range(count)]
    refuse_other_zones(lines)
    if len(lines) not in (2, 3):
        raise NotAnMrz(f"an MRZ has 2 or 3 lines, this text has {len(lines)}")
    layout = _layout_for(lines)
    for number, line in enumerate(lines, 1):
        if len(line) != layout.line_length:
            raise NotAnMrz(
                f"line {number} is {len(line)} characters long; "
                f"{layout.format} lines are {layout.line_length}"
            )
    upper = tuple(line.upper() if line.isascii() else line for line in lines)
    for number, line in enumerate(upper, 1):
        for column, char in enumerate(line, 1):
            if char not in _VALUES:
                raise NotAnMrz(
                    f"line {number}, column {column}: {char!r} is not an MRZ character "
                    "(A-Z, 0-9 and <)"
                )
    return upper, layout


_RUN_TOGETHER: Final = {72: (2, 36), 88: (2, 44), 90: (3, 30)}


def _layout_for(lines: Sequence[str]) -> Layout:
    if len(lines) == 3:
        return LAYOUTS["TD1"]
    length = next((len(line) for line in lines if len(line) in (36, 44)), None)
    if length is None:
        raise NotAnMrz(
            f"line 1 is {len(lines[0])} characters long; a two-line MRZ has lines of "
            "36 (TD2, MRV-B) or 44 (TD3, MRV-A) characters"
        )
    visa = lines[0][:1].upper() == "V"
    if length == 44:
        return LAYOUTS["MRV-A" if visa else "TD3"]
    if _french_identity_card_shape(lines):
        return LAYOUTS["FRA-ID"]
    return LAYOUTS["MRV-B" if visa else "TD2"]


def _french_identity_card_shape(lines: Sequence[str]) -> bool:
    """``IDFRA`` opening 36 characters, and no nationality where a TD2 has one.

    A French TD2 identity document holds a nationality at line 2, columns 11-13; France's own
    card holds digits of its number there.
    """
    first, second = lines[0].upper(), lines[1].upper()
    # As OCR may give it: 1 for I, 0 for D (repaired later, once the layout is known).
    if first[:2].translate(_CODE_MISREADS) + first[2:5] != "IDFRA" or len(second) < 13:
        return False
    return country_from_mrz(second[10:13]) is None


_CODE_MISREADS: Final = str.maketrans({"1": "I", "0": "D"})


def refuse_other_zones(lines: Sequence[str]) -> None:
    """NotATravelDocument for the machine-readable zones of documents that are not for travel.

    Driving licences carry zones too (ISO/IEC 18013 and national ones): one line of 30
    beginning ``D``, three of 30 beginning ``D``, Switzerland's 9 + 30 + 30. They are
    refused by name rather than read as a broken passport or card.
    """
    if not lines:
        return
    first = lines[0].upper()
    lengths = [len(line) for line in lines]
    if len(lines) == 3 and lengths[0] == 9 and lengths[1:] == [30, 30]:
        raise NotATravelDocument(
            "not a travel document MRZ: three lines of 9, 30 and 30 characters are a Swiss "
            "driving licence's"
        )
    if first[:1] == "D":
        raise NotATravelDocument(
            f"not a travel document MRZ: document code {first[:2]!r} begins with D, a driving "
            f"licence's; travel documents' begin with {_LETTERS_TEXT}"
        )
    # One line alone (the second line of a zone, pasted without the first) is told by its
    # count of lines, not taken for another kind of document.
    if len(lines) in (2, 3) and first[:1] in LETTERS and first[:1] not in TRAVEL_DOCUMENT_LETTERS:
        raise NotATravelDocument(
            f"not a travel document MRZ: document code {first[:2]!r} begins with "
            f"{first[:1]!r}; ICAO Doc 9303 codes begin with {_LETTERS_TEXT}"
        )


_LETTERS_TEXT: Final = "A, C, I, P or V"
