"""Countries and ICAO codes, document types and families, document number normalisation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bordercheck.documents.countries import (
    ICAO_SPECIAL_CODES,
    InvalidCountry,
    all_codes,
    country_name,
    is_country,
    mrz_country,
    normalise_country,
)
from bordercheck.documents.numbers import (
    MAX_NUMBER_LENGTH,
    InvalidDocumentNumber,
    normalise_number,
    split_serial,
)
from bordercheck.documents.types import (
    DocumentType,
    InvalidDocumentType,
    TypeFamily,
    family_from_mrz_code,
    family_of,
    parse_document_type,
    parse_type_or_family,
    type_from_mrz_code,
)

# --- countries -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_code", "code"),
    [
        ("DEU", "DEU"),
        ("deu", "DEU"),
        (" FRA ", "FRA"),
        ("D", "DEU"),
        ("D<<", "DEU"),
        ("DE", "DEU"),
        ("fr", "FRA"),
        ("UK", "GBR"),
        ("GB", "GBR"),
        ("XXA", "XXA"),
        ("XPO", "XPO"),
        ("GBD", "GBD"),
        ("RKS", "RKS"),
    ],
)
def test_normalise_country(given_code: str, code: str) -> None:
    assert normalise_country(given_code) == code


@pytest.mark.parametrize("code", ["", "ZZZ", "ZZ", "Germany", "DEUT", "UTO"])
def test_unknown_countries_are_refused(code: str) -> None:
    with pytest.raises(InvalidCountry, match="is not a country code"):
        normalise_country(code)
    assert not is_country(code)


def test_the_special_codes_of_doc_9303_are_known() -> None:
    for code in ["XXA", "XXB", "XXC", "XXX", "UNO", "UNA", "UNK", "EUE", "XPO"]:
        assert code in ICAO_SPECIAL_CODES
        assert code in all_codes()
        assert is_country(code)
    assert country_name("XXA") == "Stateless person"
    assert country_name("xpo") == "International Criminal Police Organization"


def test_all_codes_are_three_letters_and_include_iso() -> None:
    codes = all_codes()
    assert {"DEU", "FRA", "USA", "JPN"} <= codes
    assert all(len(c) == 3 and c.isalpha() and c.isupper() for c in codes)


def test_country_name_from_iso() -> None:
    assert country_name("D") == "Germany"


@pytest.mark.parametrize(
    ("code", "written"),
    [("DEU", "D<<"), ("D", "D<<"), ("de", "D<<"), ("FRA", "FRA"), ("XXB", "XXB")],
)
def test_mrz_country(code: str, written: str) -> None:
    assert mrz_country(code) == written


# --- document types --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "document_type"),
    [
        ("P<", DocumentType.PASSPORT),
        ("P", DocumentType.PASSPORT),
        ("PD", DocumentType.DIPLOMATIC_PASSPORT),
        ("PS", DocumentType.SERVICE_PASSPORT),
        ("PO", DocumentType.SERVICE_PASSPORT),
        ("PE", DocumentType.EMERGENCY_PASSPORT),
        ("PT", DocumentType.REFUGEE_TRAVEL_DOCUMENT),
        ("PM", DocumentType.PASSPORT),
        ("ID", DocumentType.IDENTITY_CARD),
        ("I<", DocumentType.IDENTITY_CARD),
        ("IR", DocumentType.RESIDENCE_PERMIT),
        ("ac", DocumentType.CREW_CERTIFICATE),
        ("IS", DocumentType.SEAFARER_DOCUMENT),
        ("C<", DocumentType.IDENTITY_CARD),
        ("V<", DocumentType.VISA),
        ("VB", DocumentType.VISA),
        ("X<", DocumentType.OTHER),
        ("", DocumentType.OTHER),
    ],
)
def test_type_from_mrz_code(code: str, document_type: DocumentType) -> None:
    assert type_from_mrz_code(code) is document_type


def test_families() -> None:
    assert family_of(DocumentType.DIPLOMATIC_PASSPORT) is TypeFamily.PASSPORT
    assert family_of(DocumentType.REFUGEE_TRAVEL_DOCUMENT) is TypeFamily.PASSPORT
    assert family_of(DocumentType.RESIDENCE_PERMIT) is TypeFamily.IDENTITY
    assert family_of(DocumentType.VISA) is TypeFamily.VISA
    assert family_from_mrz_code("ID") is TypeFamily.IDENTITY
    assert all(family_of(t) in TypeFamily for t in DocumentType)


def test_parse_document_type() -> None:
    assert parse_document_type(" Passport ") is DocumentType.PASSPORT
    with pytest.raises(InvalidDocumentType, match="'pass' is not a document type"):
        parse_document_type("pass")


def test_parse_type_or_family() -> None:
    assert parse_type_or_family("passport") is DocumentType.PASSPORT  # the type wins
    assert parse_type_or_family("identity") is TypeFamily.IDENTITY
    assert parse_type_or_family("VISA") is DocumentType.VISA
    with pytest.raises(InvalidDocumentType, match="not a document type or family"):
        parse_type_or_family("ticket")


# --- document numbers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "normalised"),
    [
        ("L898902C3", "L898902C3"),
        ("l898902c3", "L898902C3"),
        (" C01X 00T47 ", "C01X00T47"),
        ("AB-123.456/7", "AB1234567"),
        ("D23145890<<<", "D23145890"),
    ],
)
def test_normalise_number(number: str, normalised: str) -> None:
    assert normalise_number(number) == normalised


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("", "document number is empty"),
        (" - ", "document number is empty"),
        ("A" * (MAX_NUMBER_LENGTH + 1), "25 characters long"),
        ("AB#12", "not '#'"),
        ("ÄB12", "not 'Ä'"),
    ],
)
def test_bad_numbers_are_refused(number: str, message: str) -> None:
    with pytest.raises(InvalidDocumentNumber, match=message):
        normalise_number(number)


@given(st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -<", min_size=1, max_size=20))
def test_normalise_number_is_idempotent(number: str) -> None:
    try:
        once = normalise_number(number)
    except InvalidDocumentNumber:
        return
    assert normalise_number(once) == once


def test_split_serial() -> None:
    assert split_serial("X0001200") == ("X", 1200, 7)
    assert split_serial("12345") == ("", 12345, 5)
    with pytest.raises(InvalidDocumentNumber, match="does not end in digits"):
        split_serial("AB12C")
