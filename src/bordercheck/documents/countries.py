"""Issuing countries: ISO 3166-1 alpha-3 plus the codes ICAO Doc 9303 Part 3 adds.

Input is lenient (alpha-2 and Germany's one-letter MRZ code ``D`` are accepted);
what is stored and compared is always the three-letter code.
"""

from __future__ import annotations

import functools

import pycountry

# Codes that appear in MRZs and on documents but are not ISO 3166-1 alpha-3 countries.
ICAO_SPECIAL_CODES: dict[str, str] = {
    "GBD": "British Overseas Territories Citizen",
    "GBN": "British National (Overseas)",
    "GBO": "British Overseas Citizen",
    "GBP": "British Protected Person",
    "GBS": "British Subject",
    "RKS": "Kosovo",
    "EUE": "European Union",
    "UNO": "United Nations Organization",
    "UNA": "Specialized agency of the United Nations",
    "UNK": "United Nations Interim Administration Mission in Kosovo",
    "XBA": "African Development Bank",
    "XIM": "African Export-Import Bank",
    "XCC": "Caribbean Community",
    "XCE": "Council of Europe",
    "XCO": "Common Market for Eastern and Southern Africa",
    "XDC": "Southern African Development Community",
    "XEC": "Economic Community of West African States",
    "XES": "Organisation of Eastern Caribbean States",
    "XMP": "Parliamentary Assembly of the Mediterranean",
    "XOM": "Sovereign Military Order of Malta",
    "XPO": "International Criminal Police Organization",
    "XXA": "Stateless person",
    "XXB": "Refugee (1951 Convention)",
    "XXC": "Refugee (other)",
    "XXX": "Unspecified nationality",
    "ANT": "Netherlands Antilles",
    "NTZ": "Neutral Zone",
}

# Spellings people and MRZs use for a country that ISO spells otherwise.
_ALIASES: dict[str, str] = {"D": "DEU", "UK": "GBR"}


class InvalidCountry(ValueError):
    """A code that names no country or ICAO special code."""


@functools.cache
def _iso_names() -> dict[str, str]:
    return {c.alpha_3: c.name for c in pycountry.countries}


@functools.cache
def _alpha2_to_alpha3() -> dict[str, str]:
    return {c.alpha_2: c.alpha_3 for c in pycountry.countries}


def all_codes() -> frozenset[str]:
    """Every three-letter code bordercheck accepts as an issuing country or nationality."""
    return frozenset(_iso_names()) | frozenset(ICAO_SPECIAL_CODES)


def country_name(code: str) -> str:
    code = normalise_country(code)
    return _iso_names().get(code) or ICAO_SPECIAL_CODES[code]


def is_country(code: str) -> bool:
    try:
        normalise_country(code)
    except InvalidCountry:
        return False
    return True


def normalise_country(code: str) -> str:
    """The three-letter code for ``code`` (alpha-3, alpha-2, or MRZ ``D<<``).

    Raises InvalidCountry for anything else.
    """
    text = code.strip().upper().rstrip("<")
    if text in _ALIASES:
        return _ALIASES[text]
    if len(text) == 3 and (text in _iso_names() or text in ICAO_SPECIAL_CODES):
        return text
    if len(text) == 2 and text in _alpha2_to_alpha3():
        return _alpha2_to_alpha3()[text]
    raise InvalidCountry(f"{code.strip()!r} is not a country code")


def mrz_country(code: str) -> str:
    """How ``code`` is written in an MRZ: three characters, Germany as ``D<<``."""
    code = normalise_country(code)
    return "D<<" if code == "DEU" else code
