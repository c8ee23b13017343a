"""Machine-readable zones: parse and validate ICAO Doc 9303 TD1, TD2, TD3, MRV-A, MRV-B (and
generate them), and France's national identity card (FRA-ID).

``parse`` raises NotAnMrz only for text that is not an MRZ at all (line count, line length,
characters), and its NotATravelDocument for the zones of other documents (driving licences).
An MRZ whose check digits or fields are wrong still parses, with ``valid`` False and the
failing ``checks`` and ``problems`` saying why; ``notes`` say what was read in a way Doc 9303
does not describe (a national variant, OCR text cleaned) without making it invalid.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

from bordercheck.documents.mrz_formats import (
    FILLER,
    FORMATS,
    LAYOUTS,
    LETTERS,
    CheckSpec,
    Layout,
    MrzFormat,
    NotAnMrz,
    NotATravelDocument,
    Position,
    char_value,
    check_digit,
    country_from_mrz,
    split_mrz,
)
from bordercheck.documents.mrz_generate import generate_mrz
from bordercheck.documents.types import DocumentType, type_from_mrz_code

__all__ = [
    "BLIND_SPOTS",
    "FORMATS",
    "LAYOUTS",
    "CheckResult",
    "Correction",
    "Mrz",
    "MrzFormat",
    "NotATravelDocument",
    "NotAnMrz",
    "char_value",
    "check_digit",
    "evaluate_checks",
    "generate_mrz",
    "parse",
    "printed_check_digit",
    "read_mrz",
    "split_mrz",
]

# Expiry dates are read as at most this many years ahead of today (passports run 10 years;
# some identity cards longer). Anything further is taken to be in the previous century.
EXPIRY_YEARS_AHEAD: Final = 20

_NAME_CHARACTERS: Final = frozenset(LETTERS + FILLER)
# Russia's internal passport writes Cyrillic letters that have no Latin one as digits
# (Ё 2, Ч 3, Ш 4, Э 6, Ю 7, Я 8, Ь 9): ANATOL9EVI3 is Анатольевич.
_DIGIT_LETTERS_NAMES: Final = frozenset(LETTERS + FILLER + "2346789")


def names_hold_digits(document_code: str, issuing_country: str) -> bool:
    """Whether this document writes letters of its names as digits (Russia's internal
    passport, code PN): they are neither an error nor an OCR confusion to repair."""
    return document_code == "PN" and issuing_country == "RUS"


BLIND_SPOTS: Final[dict[str, str]] = {
    "equal-value": (
        "In a field covered by a check digit (document number, dates, optional data, and the"
        " check digits themselves under the composite), replacing a character by one whose"
        " value is equal modulo 10 changes no check digit: 0 < A K U, 1 B L V, 2 C M W,"
        " 3 D N X, 4 E O Y, 5 F P Z, 6 G Q, 7 H R, 8 I S, 9 J T. It is caught only where the"
        " field takes digits alone (dates, check digits), so in practice in document numbers"
        " and optional data, e.g. G/6, S/8, L/1, Z/5 and A/K/</0. The check digit of a date"
        " left blank (<<<<<<) may be 0 or <, as it may be for empty optional data."
    ),
    "name": (
        "The name field has no check digit: a letter or < replaced by another letter or < is"
        " not caught (a digit is)."
    ),
    "sex": "Sex has no check digit: M, F, < and X may replace one another unnoticed.",
    "country": (
        "Issuing state and nationality have no check digit: a change is caught only when the"
        " result is not a known code (UTO→UTA is caught; GBR→GBD, XXA→XXB are not)."
    ),
    "document-code": (
        "The document code has no check digit: its second character may become any letter"
        " or < (P< → PD), and on TD1/TD2 the first letter may change among A, C and I."
    ),
    "format-switch": (
        "Changing the first character between V and another letter turns a TD3 into an MRV-A"
        " (a TD2 into an MRV-B) or back. From passport or card to visa it is never caught,"
        " because visas have no composite check digit; from visa to passport or card it is"
        " caught unless the visa's last optional data characters happen to be valid check"
        " digits."
    ),
    "visa-optional-data": (
        "MRV-A and MRV-B optional data has no check digit: any change within A-Z, 0-9, < is"
        " not caught."
    ),
}

# Formats whose numbers may run on into the optional data (Doc 9303 Parts 5 and 6).
LONG_NUMBERS: Final = frozenset({"TD1", "TD2"})
# How a long number was checked, when not as Doc 9303 says.
WITH_FILLER: Final = "with_filler"


@dataclass(frozen=True)
class Correction:
    """One character changed by OCR correction; line and column count from 1."""

    line: int
    column: int
    field: str
    from_char: str
    to_char: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "column": self.column,
            "field": self.field,
            "from": self.from_char,
            "to": self.to_char,
        }


@dataclass(frozen=True)
class CheckResult:
    """A check digit's outcome and the 0-based positions it was computed over."""

    name: str
    passed: bool
    digit: Position
    covers: tuple[Position, ...]
    # None: computed as Doc 9303 says; WITH_FILLER: a long number checked with its filler.
    reading: str | None = None


@dataclass(frozen=True)
class Mrz:
    """A parsed MRZ.

    ``sex`` is ``M``, ``F`` or ``X``: the MRZ filler ``<`` (unspecified) is reported as ``X``,
    the letter the visual zone uses. ``birth_date`` is None when the MRZ leaves day, month or
    year unknown (``<<``), ``expiry_date`` when the document has none (all fillers, or a
    format without one); ``*_raw`` fields keep what the MRZ holds.
    """

    format: MrzFormat
    lines: tuple[str, ...]
    document_code: str
    issuing_country: str
    issuing_country_raw: str
    document_number: str
    nationality: str
    nationality_raw: str
    birth_date: date | None
    birth_date_raw: str
    sex: str
    expiry_date: date | None
    expiry_date_raw: str
    surname: str
    given_names: str
    optional_data: str
    optional_data_2: str
    checks: Mapping[str, bool]
    problems: tuple[str, ...] = ()
    corrections: tuple[Correction, ...] = field(default=())
    notes: tuple[str, ...] = ()
    # How the number's check digit held: None as Doc 9303 says, else WITH_FILLER.
    number_check_reading: str | None = None

    @property
    def valid(self) -> bool:
        """Every check digit passes and every field is well formed."""
        return all(self.checks.values()) and not self.problems

    @property
    def document_type(self) -> DocumentType:
        return type_from_mrz_code(self.document_code)

    def as_dict(self) -> dict[str, Any]:
        """The fields ``bordercheck mrz parse`` prints, in its order (dates stay dates)."""
        return {
            "format": self.format,
            "document_code": self.document_code,
            "issuing_country": self.issuing_country,
            "document_number": self.document_number,
            "nationality": self.nationality,
            "birth_date": self.birth_date,
            "sex": self.sex,
            "expiry_date": self.expiry_date,
            "surname": self.surname,
            "given_names": self.given_names,
            "optional_data": self.optional_data,
            "valid": self.valid,
            "checks": dict(self.checks),
            "corrections": [c.as_dict() for c in self.corrections],
            # Why an MRZ is invalid when every check digit passes (bad country, bad date…).
            "problems": list(self.problems),
            # Read as a national variant of Doc 9303, or cleaned from OCR text (still valid).
            "notes": list(self.notes),
        }


def parse(text: str | Sequence[str], *, correct: bool = False, today: date | None = None) -> Mrz:
    """Parse an MRZ (lines separated by newlines, or a sequence of lines).

    With ``correct``, OCR confusions are repaired where that is certain (see ``ocr``).
    Two-digit years are read relative to ``today``: birth dates are never in the future,
    expiry dates at most 20 years ahead.
    """
    if correct:
        # ocr builds on this module, so it is imported here rather than at the top.
        from bordercheck.documents.ocr import correct_mrz

        return correct_mrz(text, today=today)
    lines, layout = split_mrz(text)
    return read_mrz(lines, layout, today=today)


def printed_check_digit(mrz: Mrz, check: str = "document_number") -> str | None:
    """A check digit as the MRZ holds it (after any repair), whether or not it passes.

    None for a long number whose digit holds only with its filler (Belgium's reading):
    that digit is not the number's Doc 9303 check digit, which screening compares it with.
    """
    for result in evaluate_checks(mrz.lines, LAYOUTS[mrz.format]):
        if result.name == check and result.reading is not None:
            return None
        if result.name == check:
            line, column = result.digit
            return mrz.lines[line][column]
    return None


def evaluate_checks(lines: Sequence[str], layout: Layout) -> tuple[CheckResult, ...]:
    """Every check digit of the layout, computed over ``lines``."""
    return tuple(_evaluate(spec, lines, layout) for spec in layout.checks)


def _evaluate(spec: CheckSpec, lines: Sequence[str], layout: Layout) -> CheckResult:
    covers = spec.positions
    digit = spec.digit_position
    found = lines[digit[0]][digit[1]]
    text = spec.read(lines)
    if spec.name == "document_number" and layout.format in LONG_NUMBERS and found == FILLER:
        continuation = _continuation(lines, layout)
        if continuation is None:
            return CheckResult(spec.name, False, digit, covers)
        extra, digit = continuation
        found = lines[digit[0]][digit[1]]
        tail = "".join(lines[line][column] for line, column in extra)
        if found == check_digit(text + tail):
            return CheckResult(spec.name, True, digit, covers + extra)
        # Belgium computes it over the number with the filler after its 9th character.
        with_filler = (*covers, spec.digit_position, *extra)
        if found == check_digit(text + FILLER + tail):
            return CheckResult(spec.name, True, digit, with_filler, WITH_FILLER)
        return CheckResult(spec.name, False, digit, covers + extra)
    if found == FILLER and (spec.name == "optional_data" or _is_date(spec)) and _blank(text):
        # Doc 9303 Part 4: an unused personal number field may have a filler check digit;
        # so has a date left blank (the expiry of a Russian internal passport, which has none).
        return CheckResult(spec.name, True, digit, covers)
    return CheckResult(spec.name, found == check_digit(text), digit, covers)


def _blank(text: str) -> bool:
    return text == FILLER * len(text)


def _is_date(spec: CheckSpec) -> bool:
    return len(spec.covers) == 1 and spec.covers[0].kind == "date"


def _continuation(
    lines: Sequence[str], layout: Layout
) -> tuple[tuple[Position, ...], Position] | None:
    """Where a number longer than 9 characters goes on, and its check digit, in optional data.

    Doc 9303 Parts 5 and 6 (TD1, TD2): the number's check digit position holds ``<``; the
    rest of the number and then its check digit open the optional data, ended by ``<``.
    """
    target = layout.field("optional_data")
    optional = target.read(lines)
    end = optional.find(FILLER)
    if end == -1:
        end = len(optional)
    if end < 2:
        return None
    extra = tuple((target.line, target.start + i) for i in range(end - 1))
    return extra, (target.line, target.start + end - 1)


def read_mrz(
    lines: Sequence[str],
    layout: Layout,
    *,
    today: date | None = None,
    corrections: Sequence[Correction] = (),
    problems_found: Sequence[str] = (),
) -> Mrz:
    """Read the fields of well-sized, upper-case MRZ lines (as ``split_mrz`` returns them)."""
    today = today or date.today()
    problems = list(problems_found)
    notes: list[str] = []

    def get(name: str) -> str:
        return layout.field(name).read(lines)

    code = get("document_code")
    if code[0] not in layout.document_letters:
        problems.append(
            f"document_code: {layout.format} document codes start with "
            f"{layout.document_letters_text}"
        )
    if code[1] not in LETTERS + FILLER:
        problems.append(f"document_code: {code!r} is not a document code")
    issuing_raw = get("issuing_country")
    issuing = _country(issuing_raw, "issuing_country", problems)
    if layout.has_field("nationality"):
        nationality_raw = get("nationality")
        nationality = _country(nationality_raw, "nationality", problems)
    else:  # France's card is issued to French nationals only, and says so nowhere else
        nationality_raw, nationality = "", issuing
    number, optional = _number_and_optional(lines, layout)
    if not number:
        problems.append("document_number: the document number is empty")
    birth_raw = get("birth_date")
    birth = _date(birth_raw, today, "birth_date", problems)
    expiry_raw = get("expiry_date") if layout.has_field("expiry_date") else ""
    expiry = None
    if expiry_raw.strip(FILLER):
        latest = _years_later(today, EXPIRY_YEARS_AHEAD)
        expiry = _date(expiry_raw, latest, "expiry_date", problems)
    elif expiry_raw:
        notes.append("expiry_date: none (the MRZ leaves it blank, as a Russian internal "
                     "passport's does)")  # fmt: skip
    sex = get("sex")
    if sex in (FILLER, "X"):
        sex = "X"
    elif sex not in ("M", "F"):
        problems.append(f"sex: {sex!r} is not M, F or < (unspecified)")
    if layout.has_field("surname"):
        surname, given_names = _separate_names(get("surname"), get("given_names"), problems)
    else:
        russian = names_hold_digits(code, issuing_raw)
        surname, given_names = _names(get("name"), problems, digits=russian)
        if russian and any(c.isdigit() for c in get("name")):
            notes.append("name: its digits stand for Cyrillic letters (Ё 2, Ч 3, Ш 4, Э 6, Ю 7, "
                         "Я 8, Ь 9), as Russia's internal passport writes them")  # fmt: skip
    if not surname:
        notes.append("name: no surname (primary identifier): the name is written as given "
                     "names only, as some countries write a single name")  # fmt: skip
    results = evaluate_checks(lines, layout)
    checks = {r.name: r.passed for r in results}
    reading = next((r.reading for r in results if r.name == "document_number" and r.passed), None)
    if reading == WITH_FILLER:
        notes.append(
            "document_number: its check digit holds over the number with the filler after "
            "its 9th character (Belgium's reading, Portugal's too), not over the number alone "
            "(Doc 9303's)"
        )
    if layout.format == "FRA-ID":
        notes.append(_french_card_note(number, optional))
        for part in (layout.field("issue_month"), layout.field("sequence")):
            if not part.read(lines).isdigit():
                problems.append(f"document_number: {part.name} {part.read(lines)!r} is not digits")
    return Mrz(
        format=layout.format,
        lines=tuple(lines),
        document_code=code.rstrip(FILLER),
        issuing_country=issuing,
        issuing_country_raw=issuing_raw,
        document_number=number,
        nationality=nationality,
        nationality_raw=nationality_raw,
        birth_date=birth,
        birth_date_raw=birth_raw,
        sex=sex,
        expiry_date=expiry,
        expiry_date_raw=expiry_raw,
        surname=surname,
        given_names=given_names,
        optional_data=optional,
        optional_data_2=get("optional_data_2").rstrip(FILLER)
        if layout.has_field("optional_data_2")
        else "",
        checks=checks,
        problems=tuple(problems),
        corrections=tuple(corrections),
        notes=tuple(notes),
        number_check_reading=reading,
    )


def _country(raw: str, name: str, problems: list[str]) -> str:
    code = country_from_mrz(raw)
    if code is None:
        problems.append(f"{name}: {raw!r} is not a country or ICAO code")
        return raw.rstrip(FILLER)
    return code


def _number_and_optional(lines: Sequence[str], layout: Layout) -> tuple[str, str]:
    if not layout.has_field("document_number"):  # France's card: a number in three parts
        spec = next(c for c in layout.checks if c.name == "document_number")
        return spec.read(lines).rstrip(FILLER), layout.field("optional_data").read(lines).rstrip(
            FILLER
        )
    number = layout.field("document_number").read(lines).rstrip(FILLER)
    optional = layout.field("optional_data").read(lines)
    line, column = layout.field("document_number_check").positions[0]
    if layout.format in LONG_NUMBERS and lines[line][column] == FILLER:
        continuation = _continuation(lines, layout)
        if continuation is not None:
            extra, _ = continuation
            number += "".join(lines[row][c] for row, c in extra)
            # Skip the continuation, its check digit and the < that ends them.
            optional = optional[len(extra) + 2 :]
    return number, optional.rstrip(FILLER)


def _date(raw: str, latest: date, name: str, problems: list[str]) -> date | None:
    """A YYMMDD date, taken in the century that puts it on or before ``latest``."""
    pairs = (raw[0:2], raw[2:4], raw[4:6])
    if any(p != FILLER * 2 and not (p.isascii() and p.isdigit()) for p in pairs):
        problems.append(f"{name}: {raw!r} is not a date (YYMMDD, << for an unknown part)")
        return None
    yy, mm, dd = (None if p == FILLER * 2 else int(p) for p in pairs)
    if (mm is not None and not 1 <= mm <= 12) or (dd is not None and not 1 <= dd <= 31):
        problems.append(f"{name}: {raw!r} is not a date")
        return None
    if yy is None or mm is None or dd is None:
        return None  # Doc 9303 writes an unknown part of a birth date as <<.
    year = latest.year // 100 * 100 + yy
    if (year, mm, dd) > (latest.year, latest.month, latest.day):
        year -= 100
    try:
        return date(year, mm, dd)
    except ValueError:
        problems.append(f"{name}: {raw!r} is not a date")
        return None


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year + years, day=28)


def _french_card_note(number: str, office: str) -> str:
    # Issued from 1988 to 2021: a two-digit year from 88 on is in the 1900s.
    issued = number[:4]
    if issued.isdigit():
        issued = f"{'19' if int(issued[:2]) >= 88 else '20'}{issued[:2]}-{issued[2:]}"
    return (
        f"France's national identity card: issued {issued} by office "
        f"{office or number[4:7]}; its MRZ holds no nationality (French) and no expiry date"
    )


def _separate_names(surname_raw: str, given_raw: str, problems: list[str]) -> tuple[str, str]:
    """Names in two fields of their own (France's card): ``<`` or ``<<`` divides words."""
    for raw in (surname_raw, given_raw):
        if not _NAME_CHARACTERS.issuperset(raw):
            problems.append(f"name: {raw.rstrip(FILLER)!r} holds characters other than letters")
    surname = " ".join(w for w in surname_raw.split(FILLER) if w)
    given_names = " ".join(w for w in given_raw.split(FILLER) if w)
    return surname, given_names


def _names(raw: str, problems: list[str], *, digits: bool = False) -> tuple[str, str]:
    """Surname and given names: ``<<`` divides them, ``<`` divides words within each. A name
    that begins with ``<<`` has no surname (India writes a single name so)."""
    allowed = _DIGIT_LETTERS_NAMES if digits else _NAME_CHARACTERS
    if not allowed.issuperset(raw):
        problems.append(f"name: {raw.rstrip(FILLER)!r} holds characters other than letters")
    primary, _, secondary = raw.rstrip(FILLER).partition(FILLER * 2)
    surname = " ".join(w for w in primary.split(FILLER) if w)
    given_names = " ".join(w for w in secondary.split(FILLER) if w)
    return surname, given_names
