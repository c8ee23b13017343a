"""Names written in MRZ characters, per ICAO Doc 9303 Part 3 (transliteration and truncation)."""

from __future__ import annotations

import unicodedata
from typing import Final

# Doc 9303 Part 3 gives these for Latin letters that do not decompose into A-Z plus accents;
# for Ä, Ö and Ü it allows A, O, U too but recommends the German AE, OE, UE used here.
_LATIN: Final[dict[str, str]] = {
    "Ä": "AE",
    "Å": "AA",
    "Æ": "AE",
    "Ö": "OE",
    "Ø": "OE",
    "Œ": "OE",
    "Ü": "UE",
    "ẞ": "SS",
    "Þ": "TH",
    "Ð": "D",
    "Đ": "D",
    "Ħ": "H",
    "Ĳ": "IJ",
    "Ł": "L",
    "Ŀ": "L",
    "Ŋ": "N",
    "Ŧ": "T",
}

# Doc 9303 Part 3's table for Cyrillic; issuers may follow national rules instead
# (Ukraine writes Г as H), which a reader of their MRZs must not assume to match.
_CYRILLIC: Final[dict[str, str]] = {
    "А": "A",
    "Б": "B",
    "В": "V",
    "Г": "G",
    "Ґ": "G",
    "Д": "D",
    "Ђ": "D",
    "Ѓ": "G",
    "Е": "E",
    "Ё": "E",
    "Є": "IE",
    "Ж": "ZH",
    "З": "Z",
    "Ѕ": "DZ",
    "И": "I",
    "І": "I",
    "Ї": "I",
    "Й": "I",
    "Ј": "J",
    "К": "K",
    "Л": "L",
    "Љ": "LJ",
    "М": "M",
    "Н": "N",
    "Њ": "NJ",
    "О": "O",
    "П": "P",
    "Р": "R",
    "С": "S",
    "Т": "T",
    "Ћ": "C",
    "Ќ": "K",
    "У": "U",
    "Ў": "U",
    "Ф": "F",
    "Х": "KH",
    "Ц": "TS",
    "Ч": "CH",
    "Џ": "DZ",
    "Ш": "SH",
    "Щ": "SHCH",
    "Ъ": "IE",
    "Ы": "Y",
    "Ь": "",
    "Э": "E",
    "Ю": "IU",
    "Я": "IA",
}

_SEPARATORS: Final = frozenset(" -\u2010\u2011\u2013")
# Apostrophes are omitted (O'BRIEN → OBRIEN); so are other marks Doc 9303 leaves out.
_OMITTED: Final = frozenset("'\u2019\u2018\u02bc`´.,")


def transliterate(text: str) -> str:
    """``text`` in MRZ characters (A-Z; spaces and hyphens as ``<``); ValueError if impossible."""
    out: list[str] = []
    for char in unicodedata.normalize("NFC", text).upper():
        if "A" <= char <= "Z":
            out.append(char)
        elif char in _LATIN:
            out.append(_LATIN[char])
        elif char in _CYRILLIC:
            out.append(_CYRILLIC[char])
        elif char in _SEPARATORS:
            out.append("<")
        elif char in _OMITTED:
            continue
        else:
            out.append(_strip_accents(char))
    return "".join(out)


def _strip_accents(char: str) -> str:
    base = "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c))
    if not base or not all("A" <= c <= "Z" for c in base):
        raise ValueError(
            f"{char!r} cannot be written in an MRZ; give the name in Latin or Cyrillic letters"
        )
    return base


def name_components(name: str) -> list[str]:
    """The MRZ words of a surname or of given names (``Anna-Maria von Müller`` → 4 words)."""
    return [word for word in transliterate(name).split("<") if word]


def name_field(surname: str, given_names: str, length: int) -> str:
    """The MRZ name field: SURNAME<<GIVEN<NAMES padded with ``<`` to ``length``.

    A name longer than the field is cut at the field length (and any ``<`` left at the cut
    removed, so the field ends in a letter as Doc 9303 asks of truncated names). Doc 9303's
    finer rule, which shortens given names before the surname, is not applied.
    """
    primary = name_components(surname)
    if not primary:
        raise ValueError("the surname (primary identifier) is empty")
    secondary = name_components(given_names)
    text = "<".join(primary)
    if secondary:
        text += "<<" + "<".join(secondary)
    if len(text) > length:
        text = text[:length].rstrip("<")
    return text.ljust(length, "<")
