"""PAXLST as departure control systems and older dialects send it: no envelope, split lists,
PDT travellers, several flights on one line; and files that name nobody refused by name."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bordercheck.documents.types import DocumentType
from bordercheck.manifests.edifact import ManifestUnreadable
from bordercheck.manifests.flight import Manifest, TravelDocument, Traveller
from bordercheck.manifests.paxlst import parse_paxlst
from bordercheck.manifests.writer import Envelope, write_paxlst

DATA = Path(__file__).parent / "data"
NO_ENVELOPE = (
    "no interchange envelope (UNA or UNB): the messages are read from the first UNH, "
    "with the default separators"
)


def names(manifest: Manifest) -> list[tuple[str, str]]:
    return [(t.surname, t.given_names) for t in manifest.travellers]


def test_three_parts_without_an_envelope_are_one_flight_with_a_warning() -> None:
    interchange = parse_paxlst((DATA / "dcs_three_parts.edi").read_bytes())
    assert [str(w) for w in interchange.warnings] == [NO_ENVELOPE]
    (manifest,) = interchange.manifests
    assert (manifest.flight, manifest.departure, manifest.arrival) == ("KL1234", "AMS", "JFK")
    assert names(manifest) == [("DE VRIES", "JAN"), ("O'NEILL", "SIOBHAN"), ("MUELLER", "ERIKA")]
    assert [t.position for t in manifest.travellers] == [1, 2, 3]
    assert manifest.message_refs == ["1", "2", "3"]
    assert manifest.reported_count == 3
    assert manifest.warnings == []  # parts 1 to 3, the last marked F, counts right


def test_parts_arriving_out_of_order_without_an_envelope_are_put_in_order() -> None:
    text = (DATA / "dcs_three_parts.edi").read_text()
    first, second, third = (f"UNH{m}" for m in text.split("UNH")[1:])
    (manifest,) = parse_paxlst(third + first + second).manifests
    assert [t.surname for t in manifest.travellers] == ["DE VRIES", "O'NEILL", "MUELLER"]


def test_a_missing_middle_part_is_reported() -> None:
    text = (DATA / "dcs_three_parts.edi").read_text()
    first, _, third = (f"UNH{m}" for m in text.split("UNH")[1:])
    (manifest,) = parse_paxlst(first + third).manifests
    assert "part(s) 2 of the flight's list are missing" in map(str, manifest.warnings)
    assert "the airline counts 3 passengers (CNT); the list has 2" in map(str, manifest.warnings)


def test_a_service_string_without_interchange_header_reads_the_messages() -> None:
    body = (DATA / "dcs_three_parts.edi").read_text()
    interchange = parse_paxlst("UNA:+.? '\r\n" + body)
    assert [str(w) for w in interchange.warnings] == [
        "segment 1 (UNH, line 2): no interchange envelope (UNB): the messages are read as sent"
    ]
    assert len(interchange.manifests[0].travellers) == 3


def test_the_older_us_dialect_reads_its_pdt_travellers() -> None:
    interchange = parse_paxlst((DATA / "us_pdt_dialect.edi").read_bytes())
    assert [str(w) for w in interchange.warnings] == [
        "segment 2 (UNH, line 2): the older US dialect (PAXLST:001:000): travellers are read "
        "from PDT segments"
    ]
    (manifest,) = interchange.manifests
    assert (manifest.flight, manifest.departure, manifest.arrival) == ("NZ2", "AKL", "LAX")
    mangus, te_whatu, holloway = manifest.travellers
    assert (mangus.surname, mangus.given_names, mangus.sex) == ("MANGUS", "SIMON P", "M")
    assert mangus.birth_date == date(1959, 4, 29)
    assert (mangus.embarkation, mangus.debarkation) == ("AKL", "LAX")
    (passport,) = mangus.documents
    assert (passport.number, passport.issuing_country) == ("182345345", "USA")
    assert passport.document_type is DocumentType.PASSPORT
    assert passport.expiry_date == date(1999, 9, 9)
    assert (te_whatu.surname, te_whatu.given_names) == ("TE WHATU", "ARONA")
    assert te_whatu.documents[0].issuing_country == "NZL"
    assert (holloway.role, holloway.documents[0].issuing_country) == ("crew", "GBR")
    assert all(t.problems == [] for t in manifest.travellers)


def test_the_issue_s_pdt_line_without_an_envelope() -> None:
    text = (
        "UNH+1+PAXLST:001:000:01+ABC'TDT+20+UA863'"
        "PDT+P/182345345:990909:US+MANGUS:SIMON:P:590429:M+PAX+NZAKL:USLAX'UNT+4+1'"
    )
    interchange = parse_paxlst(text)
    (traveller,) = interchange.manifests[0].travellers
    assert traveller.documents[0].number == "182345345"
    warnings = [str(w) for w in interchange.warnings]
    assert warnings[0] == NO_ENVELOPE
    assert "older US dialect" in warnings[1]


def test_a_bad_pdt_date_is_a_problem_of_the_traveller_who_is_still_screened() -> None:
    text = "UNH+1+PAXLST:001:000+X'TDT+20+UA1'PDT+P/X1234567:991399:US+DOE:J::5904:F+PAX'UNT+4+1'"
    (traveller,) = parse_paxlst(text).manifests[0].travellers
    assert traveller.documents[0].number == "X1234567"
    assert traveller.documents[0].expiry_date is None
    assert traveller.birth_date is None
    assert len(traveller.problems) == 2


def test_two_flights_on_one_line_without_una_with_released_separators() -> None:
    interchange = parse_paxlst((DATA / "two_flights_one_line.edi").read_bytes())
    assert interchange.warnings == []
    first, second = interchange.manifests
    assert (first.flight, second.flight) == ("XQ101", "XQ202")
    assert names(first) == [("SMITH+JONES", "ANNE")]
    assert names(second) == [("D:ANGELO", "MARCO"), ("SILVA", "RUI")]
    assert first.warnings == second.warnings == []


@pytest.mark.parametrize(
    "text",
    [
        "UNH+1+PAXLST:001:000+X'TDT+20+UA1'UNT+3+1'",
        "UNB+UNOA:4+A+B+261205:0700+1'UNH+1+PAXLST:D:05B:UN:IATA+R'BGM+745'TDT+20+XB1'"
        "NAD+MS+++AIRLINE'UNT+5+1'UNZ+1+1'",
        "UNH+1+PAXLST:D:02B:UN:IATA'BGM+745'TDT+20+XB1'FTX+AAI+++PASSENGERS TO FOLLOW'UNT+5+1'",
    ],
)
def test_a_file_that_names_no_traveller_is_refused_not_screened_as_an_empty_flight(
    text: str,
) -> None:
    with pytest.raises(ManifestUnreadable) as refused:
        parse_paxlst(text)
    assert "refused rather than screened as an empty flight" in refused.value.message


def test_an_empty_flight_beside_a_full_one_is_left_out_with_a_warning() -> None:
    full = (DATA / "two_flights_one_line.edi").read_text()
    empty = "UNH+Z+PAXLST:D:05B:UN:IATA+X3'BGM+745'TDT+20+XQ303+++XQ'UNT+4+Z'"
    interchange = parse_paxlst(full.replace("UNZ+2+77'", empty + "UNZ+3+77'"))
    assert [m.flight for m in interchange.manifests] == ["XQ101", "XQ202"]
    assert "the list of flight XQ303 names no traveller; it is not screened or stored" in map(
        str, interchange.warnings
    )


# --- properties ----------------------------------------------------------------------------


def passenger(surname: str, number: str) -> Traveller:
    document = TravelDocument("P", DocumentType.PASSPORT, number, "DEU")
    return Traveller(0, "passenger", surname=surname, nationality="DEU", documents=[document])


people = st.lists(
    st.builds(
        passenger,
        st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ'+:?", min_size=1, max_size=12).filter(
            lambda s: s.strip() == s
        ),
        st.text("ABCDEFGHJKLMNPRTUVWXYZ0123456789", min_size=5, max_size=9),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=80, deadline=None)
@given(people, st.integers(1, 4), st.sampled_from(["", "\n", "\r\n"]))
def test_messages_without_their_envelope_read_back(
    travellers: list[Traveller], per_part: int, line_end: str
) -> None:
    manifest = Manifest(flight="XB1", carrier="XB", departure="IST", arrival="CDG")
    manifest.travellers = travellers
    written = write_paxlst(manifest, Envelope(una=False, groups=False), per_part=per_part)
    start, end = written.index("UNH+"), written.rindex("UNZ+")
    bare = written[start:end].replace("\n", "").replace("\r", "")
    bare = bare.replace("'UN", "'" + line_end + "UN")  # terminators followed by a line break
    interchange = parse_paxlst(bare)
    assert [str(w) for w in interchange.warnings] == [NO_ENVELOPE]
    (read,) = interchange.manifests
    assert read.warnings == []
    assert [(t.surname, t.documents[0].number) for t in read.travellers] == [
        (t.surname, t.documents[0].number) for t in travellers
    ]


@settings(max_examples=200, deadline=None)
@given(st.text("PDT+:/'ABC019<? \n", max_size=120))
def test_any_pdt_text_is_read_or_refused_with_a_reason(noise: str) -> None:
    try:
        parse_paxlst("UNH+1+PAXLST:001:000+X'" + noise)
    except ManifestUnreadable as exc:
        refused = exc.message
    else:
        refused = "read"
    assert refused  # never another exception, never an empty reason


@pytest.mark.parametrize("joint", ["", "\n", "\r\nUNA:+.? '"])
def test_interchanges_one_after_another_in_one_file_are_all_read(joint: str) -> None:
    first = (DATA / "two_flights_one_line.edi").read_text()
    second = first.replace("+77'", "+78'").replace("XQ101", "XQ111").replace("XQ202", "XQ222")
    interchange = parse_paxlst("UNA:+.? '" + first + joint + second)
    assert [m.flight for m in interchange.manifests] == ["XQ101", "XQ202", "XQ111", "XQ222"]
    assert [str(w) for w in interchange.warnings] == [
        f"segment 27 (UNB, line {1 + joint.count(chr(10))}): a further interchange in the same "
        "file; its messages are read too"
    ]
    assert all(m.warnings == [] for m in interchange.manifests)


def test_text_after_the_last_interchange_is_still_a_footer() -> None:
    text = (DATA / "two_flights_one_line.edi").read_text() + "\nNNNN\n"
    interchange = parse_paxlst(text)
    assert len(interchange.manifests) == 2
    assert [str(w) for w in interchange.warnings] == [
        "ignored text after the interchange's last segment (teletype footer)"
    ]
