"""vCard text escaping and line folding, and phone numbers, for any input."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from pydantic import ValidationError

from bordercheck.directory.export import escape_text, fold, vcard
from bordercheck.directory.models import DirectoryEntry
from bordercheck.directory.schemas import EntryChanges

TODAY = date(2026, 11, 29)


def unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def unfold(text: str) -> str:
    return text.replace("\r\n ", "")


@given(st.text())
def test_escaped_text_reads_back_and_has_no_bare_separators(value: str) -> None:
    escaped = escape_text(value)
    expected = value.replace("\r\n", "\n").replace("\r", "\n")
    assert unescape(escaped) == expected
    assert "\n" not in escaped
    assert "\r" not in escaped
    assert re.search(r"(?<!\\)(?:\\\\)*[,;]", escaped) is None


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=400))
def test_folded_lines_are_at_most_75_octets_and_unfold_to_the_line(line: str) -> None:
    line = line.replace("\r", "").replace("\n", "")
    folded = fold(line)
    assert unfold(folded) == line
    assert all(len(part.encode()) <= 75 for part in folded.split("\r\n"))


def entry(**overrides: object) -> DirectoryEntry:
    values: dict[str, object] = {
        "id": 7,
        "bureau_code": "DEU",
        "name": "Anna Keller",
        "function": "Focal point",
        "unit": "Smuggling of migrants",
        "topics": "migrant_smuggling",
        "languages": "de en",
        "phone": "+49611550",
        "email": "a@bka.example",
        "hours": "Mon-Fri 08:00-17:00",
        "time_zone": "Europe/Berlin",
        "last_confirmed": TODAY,
        "updated_at": datetime(2026, 11, 1, 9, 30, tzinfo=UTC),
    }
    values.update(overrides)
    return DirectoryEntry(**values)


def test_a_vcard_names_its_bureau_and_flags_a_stale_entry() -> None:
    card = unfold(vcard(entry(last_confirmed=date(2025, 11, 29)), "NCB Wiesbaden", TODAY))
    lines = card.split("\r\n")
    assert "ORG:NCB Wiesbaden;Smuggling of migrants" in lines
    assert "REV:20261101T093000Z" in lines
    assert "UID:urn:bordercheck:directory:7" in lines
    assert any(line.endswith("Not confirmed since 2025-11-29.") for line in lines)
    current = unfold(vcard(entry(), "NCB Wiesbaden", TODAY))
    assert "Not confirmed" not in current


@given(
    country=st.from_regex(r"[1-9][0-9]{0,2}", fullmatch=True),
    rest=st.from_regex(r"[0-9]{7,11}", fullmatch=True),
    separator=st.sampled_from(["", " ", "-", ".", " / "]),
    prefix=st.sampled_from(["+", "00"]),
)
def test_phone_numbers_are_stored_as_e164_however_typed(
    country: str, rest: str, separator: str, prefix: str
) -> None:
    digits = country + rest
    assume(len(digits) <= 15)
    typed = prefix + country + separator + separator.join([rest[:3], rest[3:]])
    assert EntryChanges(phone=typed).phone == "+" + digits


@pytest.mark.parametrize("typed", ["+0611550", "+4961", "49611550", "+49 611 55 0 ext 12", "+"])
def test_numbers_that_are_not_international_are_refused(typed: str) -> None:
    with pytest.raises(ValidationError, match="not an international phone number"):
        EntryChanges(phone=typed)
