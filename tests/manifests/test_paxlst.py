"""Reading PAXLST: the guides' examples, parts, odd service strings, wrong counts, broken files."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bordercheck.documents.types import DocumentType
from bordercheck.manifests.edifact import Delimiters, ManifestUnreadable
from bordercheck.manifests.flight import Manifest
from bordercheck.manifests.paxlst import parse_paxlst
from bordercheck.manifests.writer import Envelope, synthetic_flight, write_paxlst

DATA = Path(__file__).parent / "data"


def read(name: str) -> Manifest:
    interchange = parse_paxlst((DATA / name).read_bytes())
    (manifest,) = interchange.manifests
    return manifest


def messages(manifest: Manifest) -> list[str]:
    return [str(w) for w in manifest.warnings]


def test_the_implementation_guide_example_reads_whole() -> None:
    interchange = parse_paxlst((DATA / "guide_example.edi").read_bytes())
    assert (interchange.sender, interchange.syntax, interchange.warnings) == (
        "AIRLINE1",
        "UNOA:4",
        [],
    )
    (manifest,) = interchange.manifests
    assert (manifest.list_type, manifest.flight, manifest.carrier) == ("passengers", "XB123", "XB")
    assert (manifest.departure, manifest.arrival) == ("YVR", "CDG")
    assert manifest.departure_at == datetime(2026, 6, 28, 10, 0, tzinfo=UTC)
    assert manifest.arrival_at == datetime(2026, 6, 28, 18, 30, tzinfo=UTC)
    assert manifest.reported_count == 2
    assert manifest.warnings == []
    doe, obrien = manifest.travellers
    assert (doe.name, doe.sex, doe.birth_date, doe.nationality) == (
        "DOE, JOHN WAYNE", "M", date(1972, 9, 7), "CAN"
    )  # fmt: skip
    assert (doe.embarkation, doe.debarkation, doe.transit) == ("YVR", "CDG", "YYZ")
    assert (doe.booking_reference, doe.seat) == ("ABC123", "23C")
    (passport,) = doe.documents
    assert (passport.document_type, passport.number, passport.issuing_country) == (
        DocumentType.PASSPORT, "MB140241", "CAN"
    )  # fmt: skip
    assert passport.expiry_date == date(2029, 10, 21)
    # A released apostrophe is part of the name, not the end of the segment.
    assert obrien.name == "O'BRIEN, MARY ANN"
    assert obrien.birth_date == date(1985, 3, 14)  # format 102: a four-digit year
    assert obrien.nationality == "IRL"  # sent as IE
    assert [(d.document_type, d.issuing_country) for d in obrien.documents] == [
        (DocumentType.PASSPORT, "IRL"), (DocumentType.VISA, "FRA")
    ]  # fmt: skip


def test_a_crew_list_with_numeric_and_crew_document_codes() -> None:
    manifest = read("crew_list.edi")
    assert manifest.list_type == "crew"
    assert manifest.warnings == []
    pilot, purser = manifest.travellers
    assert (pilot.role, purser.role) == ("crew", "transit_crew")
    assert [(d.code, d.document_type) for d in pilot.documents] == [
        ("AC", DocumentType.CREW_CERTIFICATE), ("39", DocumentType.IDENTITY_CARD)
    ]  # fmt: skip
    assert pilot.documents[1].issuing_country == "DEU"  # sent as the MRZ's D
    assert purser.documents[0].document_type == DocumentType.PASSPORT  # 40


def test_parts_of_one_flight_are_joined_in_their_order() -> None:
    manifest = read("multipart.edi")  # part 2 comes first in the file
    assert manifest.message_refs == ["M0", "M1"]
    assert [t.seat for t in manifest.travellers] == ["1A", "1B", "30A"]
    assert [t.position for t in manifest.travellers] == [1, 2, 3]
    assert manifest.reported_count == 3  # CNT counts the flight, not its part
    assert manifest.warnings == []


def test_a_missing_part_and_a_wrong_flight_total_are_reported() -> None:
    flight = synthetic_flight(30, seed=3)
    text = write_paxlst(flight, per_part=10)
    parts = text.split("UNH+")
    without_second = "UNH+".join([parts[0], parts[1], parts[3]])
    manifest = parse_paxlst(without_second).manifests[0]
    assert len(manifest.travellers) == 20
    assert any("part(s) 2 of the flight's list are missing" in w for w in messages(manifest))
    assert any("counts 30 passengers (CNT); the list has 20" in w for w in messages(manifest))


def test_teletype_delivery_with_wrapped_lines_wrong_counts_and_empty_elements() -> None:
    interchange = parse_paxlst((DATA / "teletype.edi").read_bytes())
    assert interchange.syntax == "UNOB:3"
    assert [str(w) for w in interchange.warnings] == [
        "skipped 3 line(s) before the interchange (teletype header)",
        "ignored text after the interchange's last segment (teletype footer)",
    ]
    (manifest,) = interchange.manifests
    assert manifest.flight == "XB900"  # wrapped in the middle of UNH's reference
    assert manifest.arrival == "CDG"  # wrapped between the element separator and the code
    assert messages(manifest) == [
        "segment 27 (UNT, line 9): says the message has 99 segments; it has 26",
        "the airline counts 5 passengers (CNT); the list has 3",
    ]
    muller, empty, wrong = manifest.travellers
    assert muller.documents[0].number == "C01X00T48"  # wrapped inside the number
    assert muller.surname == "MÜLLER"
    problems = [str(p) for p in muller.problems]
    assert "segment 10 (DTM, line 6): the date is empty" in problems
    assert any("characters outside UNOB: Ü" in p for p in problems)
    assert empty.documents == []
    assert [str(p) for p in empty.problems] == [
        "segment 19 (DOC, line 7): the document number is empty; the P is not screened"
    ]
    assert [str(p) for p in wrong.problems] == [
        "segment 21 (DTM, line 8): '721399' is not a date (format not given)",
        "segment 22 (NAT, line 8): 'XX' is not a country code",
    ]
    assert wrong.documents[0].issuing_country == "ESP"  # the bad nationality does not matter


def test_unusual_separators_and_every_separator_released() -> None:
    manifest = read("unusual_separators.edi")
    (traveller,) = manifest.travellers
    assert traveller.surname == "D'ANGELO|*~"
    assert traveller.given_names == "HASH# ANNA"
    assert traveller.booking_reference == "Q~7X"
    assert traveller.documents[0].expiry_date == date(2030, 1, 1)
    assert manifest.warnings == []


def test_wrong_message_and_interchange_counts_are_reported() -> None:
    text = write_paxlst(synthetic_flight(3, seed=1), Envelope(groups=False))
    text = text.replace("UNZ+1+", "UNZ+4+").replace("CNT+42:3", "CNT+42:7")
    unt = next(line for line in text.splitlines() if line.startswith("UNT"))
    text = text.replace(unt, "UNT+5+PAX001'")
    interchange = parse_paxlst(text)
    assert any("says 4 messages, the file has 1" in str(w) for w in interchange.warnings)
    warnings = messages(interchange.manifests[0])
    assert any("says the message has 5 segments; it has" in w for w in warnings)
    assert any("counts 7 passengers (CNT); the list has 3" in w for w in warnings)


def test_a_group_count_that_disagrees_is_reported() -> None:
    text = write_paxlst(synthetic_flight(3, seed=1), per_part=1).replace("UNE+3+1", "UNE+2+9")
    warnings = [str(w) for w in parse_paxlst(text).warnings]
    assert any("says 2 messages in the group, the file has 3" in w for w in warnings)
    assert any("reference '9' is not UNG's '1'" in w for w in warnings)


def test_a_file_cut_short_is_read_as_far_as_it_goes() -> None:
    text = write_paxlst(synthetic_flight(10, seed=2))
    cut = text[: text.index("NAD+FL", text.index("NAD+FL") + 300)]
    interchange = parse_paxlst(cut)
    assert "the interchange has no UNZ: the file may be cut short" in map(str, interchange.warnings)
    assert 1 <= len(interchange.manifests[0].travellers) < 10


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("hello, this is not edifact", "no EDIFACT interchange found"),
        ("UNA:+.? 'BGM+745'UNT+2+1'",
         "segment 1 (BGM, line 1): an interchange begins with UNB (or, without an envelope, "
         "a message with UNH)"),
        ("UNA:+.? 'UNH+1+PAXLST:D:05B:UN:IATA'UNT+2+1'",
         "no traveller could be read from the file's 1 PAXLST list(s) (message version D:05B"),
        ("UNB+UNOA:4+A+B+260101:0000+1'UNZ+0+1'", "holds no message"),
        ("UNB+UNOA:4+A+B+260101:0000+1'UNH+1+CUSCAR:D:05B:UN'UNT+2+1'UNZ+1+1'",
         "no PAXLST message"),
        ("UNA:+.? +UNB+UNOA:4+", "uses one character for two separators"),
    ],
)  # fmt: skip
def test_a_file_that_cannot_be_read_says_where_and_why(text: str, message: str) -> None:
    with pytest.raises(ManifestUnreadable) as raised:
        parse_paxlst(text)
    assert message in raised.value.message


def test_broken_segments_are_skipped_and_named() -> None:
    text = write_paxlst(synthetic_flight(2, seed=4))
    text = text.replace("BGM+745'", "BGM+745'%%+GARBAGE'ZZZ+1'", 1)
    interchange = parse_paxlst(text)
    assert any("'%%+GARBAGE' is not a segment; skipped" in str(w) for w in interchange.warnings)
    assert any("(ZZZ, line" in str(w) and "not a PAXLST segment" in str(w)
               for w in interchange.manifests[0].warnings)  # fmt: skip
    assert len(interchange.manifests[0].travellers) == 2


def test_character_sets_decode_as_unb_says() -> None:
    flight = synthetic_flight(1, seed=5)
    flight.travellers[0].surname = "ŁUKASZEWSKI"
    for charset, encoding in (("UNOD", "iso8859-2"), ("UNOW", "utf-8"), ("UNOY", "utf-8")):
        data = write_paxlst(flight, Envelope(charset=charset)).encode(encoding)
        traveller = parse_paxlst(data).manifests[0].travellers[0]
        assert traveller.surname == "ŁUKASZEWSKI"
        assert traveller.problems == []  # only UNOA and UNOB limit names
    broken = (
        write_paxlst(flight, Envelope(charset="UNOW")).encode("utf-8").replace(b"\xc5\x81", b"\xc5")
    )
    interchange = parse_paxlst(broken)
    assert any("is not valid UNOW" in str(w) for w in interchange.warnings)


def test_a_segment_terminator_that_is_a_line_break() -> None:
    flight = synthetic_flight(4, seed=6)
    text = write_paxlst(flight, Envelope(delimiters=Delimiters(segment="\n")), newline=False)
    manifest = parse_paxlst(text).manifests[0]
    assert [t.seat for t in manifest.travellers] == [t.seat for t in flight.travellers]
    assert manifest.warnings == []


def test_syntax_version_3_without_una_and_without_groups() -> None:
    flight = synthetic_flight(5, seed=7)
    text = write_paxlst(flight, Envelope(una=False, groups=False, syntax_version=3))
    interchange = parse_paxlst(text)
    assert interchange.syntax == "UNOA:3"
    assert [t.name for t in interchange.manifests[0].travellers] == [
        t.name for t in flight.travellers
    ]
    assert interchange.warnings == []


@pytest.mark.parametrize(("directory", "old"), [("99B", True), ("01C", True), ("02B", False),
                                                ("05B", False), ("21A", False)])  # fmt: skip
def test_directories_older_than_d02b_are_read_with_a_warning(directory: str, old: bool) -> None:
    text = write_paxlst(synthetic_flight(2, seed=8), Envelope(directory=directory))
    interchange = parse_paxlst(text)
    assert len(interchange.manifests[0].travellers) == 2
    warned = any(
        f"directory D:{directory} is older than D:02B" in str(w) for w in interchange.warnings
    )
    assert warned is old
