"""Document numbers as they are compared: upper case, no spaces, dashes or ``<`` filler."""

from __future__ import annotations

import re

MAX_NUMBER_LENGTH = 24
_SEPARATORS = re.compile(r"[\s\-<./]+")
_VALID = re.compile(r"[A-Z0-9]+")


class InvalidDocumentNumber(ValueError):
    """A document number that cannot be normalised (empty, too long, bad characters)."""


def normalise_number(number: str) -> str:
    text = _SEPARATORS.sub("", number.upper())
    if not text:
        raise InvalidDocumentNumber("document number is empty")
    if len(text) > MAX_NUMBER_LENGTH:
        raise InvalidDocumentNumber(
            f"document number is {len(text)} characters long (at most {MAX_NUMBER_LENGTH})"
        )
    if not _VALID.fullmatch(text):
        bad = sorted({c for c in text if not ("A" <= c <= "Z" or "0" <= c <= "9")})
        raise InvalidDocumentNumber(
            "document number may hold only letters A-Z and digits, not " + " ".join(map(repr, bad))
        )
    return text


def split_serial(number: str) -> tuple[str, int, int]:
    """Split a number into (prefix, numeric tail, tail width): ``X0001200`` → (``X``, 1200, 7).

    Serial ranges of blank documents share a prefix and count up in their numeric tail.
    """
    match = re.fullmatch(r"(.*?)(\d+)", number)
    if match is None:
        raise InvalidDocumentNumber(
            f"{number!r} does not end in digits, so it cannot start a range"
        )
    prefix, digits = match.groups()
    return prefix, int(digits), len(digits)
