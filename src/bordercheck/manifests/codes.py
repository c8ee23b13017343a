"""PAXLST codes: document names (DOC), dates (DTM formats), and the characters of UNOA."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from bordercheck.documents.types import DocumentType
from bordercheck.timestamps import utcnow

# DOC document name codes: the WCO/IATA guide's letters, the MRZ document codes carriers copy
# from the passport, and the numeric UN/EDIFACT 1001 codes some carriers still send.
DOCUMENT_CODES: dict[str, DocumentType] = {
    "P": DocumentType.PASSPORT,
    "PP": DocumentType.PASSPORT,
    "PN": DocumentType.PASSPORT,
    "40": DocumentType.PASSPORT,
    "PD": DocumentType.DIPLOMATIC_PASSPORT,
    "PS": DocumentType.SERVICE_PASSPORT,
    "PO": DocumentType.SERVICE_PASSPORT,
    "PE": DocumentType.EMERGENCY_PASSPORT,
    "PT": DocumentType.REFUGEE_TRAVEL_DOCUMENT,
    "I": DocumentType.IDENTITY_CARD,
    "ID": DocumentType.IDENTITY_CARD,
    "IP": DocumentType.IDENTITY_CARD,  # passport card: a TD1 card, as its MRZ code says
    "39": DocumentType.IDENTITY_CARD,
    "A": DocumentType.RESIDENCE_PERMIT,  # resident alien card
    "C": DocumentType.RESIDENCE_PERMIT,  # permanent resident card
    "IR": DocumentType.RESIDENCE_PERMIT,
    "V": DocumentType.VISA,
    "AC": DocumentType.CREW_CERTIFICATE,
    "IS": DocumentType.SEAFARER_DOCUMENT,
    "S": DocumentType.SEAFARER_DOCUMENT,
    "F": DocumentType.OTHER,  # approved non-standard travel document
    "M": DocumentType.OTHER,  # military identification
    "L": DocumentType.OTHER,  # pilot's licence
    "T": DocumentType.OTHER,  # re-entry permit
}

# DTM format codes (2379): how many digits the year has, and whether a time follows.
_FORMATS = {"101": (2, 6), "102": (4, 8), "201": (2, 10), "203": (4, 12), "204": (4, 14)}
_BY_LENGTH = {6: (2, 6), 8: (4, 8), 10: (2, 10), 12: (4, 12), 14: (4, 14)}


class BadDate(ValueError):
    pass


def parse_moment(value: str, format_code: str = "") -> datetime:
    """A DTM value as a datetime (UTC: PAXLST times are local, but no zone is sent)."""
    value = value.strip()
    # By hand, not strptime: a 400-traveller list has 1,000 dates and strptime is slow.
    layout = _FORMATS.get(format_code) or _BY_LENGTH.get(len(value))
    if layout is None or len(value) != layout[1] or not (value.isascii() and value.isdigit()):
        raise BadDate(f"{value!r} is not a date (format {format_code or 'not given'})")
    y = layout[0]
    year = int(value[:y]) + (2000 if y == 2 else 0)
    rest = [int(value[i : i + 2]) for i in range(y, len(value), 2)] + [0, 0, 0]
    try:
        return datetime(year, rest[0], rest[1], rest[2], rest[3], rest[4], tzinfo=UTC)
    except ValueError:
        raise BadDate(f"{value!r} is not a date (format {format_code or 'not given'})") from None


def parse_date(value: str, format_code: str = "", *, past: bool, today: date | None = None) -> date:
    """A date; a two-digit year is in the past (birth) or the coming century (expiry), as
    seen on ``today`` (by default the day it is read: a server runs past midnight)."""
    if (
        len(value) == 6 and not format_code and value.isascii() and value.isdigit()
    ):  # the usual YYMMDD: quickly
        try:
            day = date(2000 + int(value[:2]), int(value[2:4]), int(value[4:]))
        except ValueError:
            raise BadDate(f"{value!r} is not a date (format not given)") from None
    else:
        day = parse_moment(value, format_code).date()
    two_digit_year = len(value.strip()) in (6, 10) and format_code not in ("102", "203", "204")
    if not two_digit_year:
        return day
    # Asked only for two-digit years, and then each time: the day changes under a server.
    today = today or utcnow().date()
    if (past and day > today) or (not past and day.year > today.year + 50):
        day = _hundred_years_back(day)
    return day


def _hundred_years_back(day: date) -> date:
    try:
        return day.replace(year=day.year - 100)
    except ValueError:  # 29 February of a year that was not a leap year
        return day.replace(year=day.year - 100, day=28)


# Level A: upper-case letters, digits, space and . , - ( ) / = ' + : ? ! " % & * ; < >
_OUTSIDE_UNOA = re.compile(r"[^A-Z0-9 .,\-()/='+:?!\"%&*;<>]")


def outside_unoa(text: str) -> str:
    """The characters of ``text`` that character set UNOA does not have (e.g. lower case, ü)."""
    return "".join(dict.fromkeys(_OUTSIDE_UNOA.findall(text)))
