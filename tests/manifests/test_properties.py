"""Property tests: whatever the service string and the data, what is written reads back."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from bordercheck.documents.types import DocumentType
from bordercheck.manifests.edifact import Delimiters, split_segments
from bordercheck.manifests.flight import Manifest, TravelDocument, Traveller
from bordercheck.manifests.paxlst import parse_paxlst
from bordercheck.manifests.writer import Envelope, write_paxlst

SEPARATORS = "'+:?*|~#^!\"%&;<>="
name_text = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ '+:?*|~#^-.", min_size=1, max_size=30)


@st.composite
def delimiters(draw: st.DrawFn) -> Delimiters:
    component, element, release, segment = draw(
        st.lists(st.sampled_from(SEPARATORS), min_size=4, max_size=4, unique=True)
    )
    return Delimiters(component, element, ".", release, " ", segment)


@st.composite
def travellers(draw: st.DrawFn) -> Traveller:
    surname = draw(name_text.filter(lambda s: s.strip() == s and s.strip()))
    number = draw(st.text(alphabet="ABCDEFGHJKLMNPRTUVWXYZ0123456789", min_size=5, max_size=12))
    return Traveller(
        position=0,
        role=draw(st.sampled_from(["passenger", "transit_passenger"])),
        surname=surname,
        given_names=draw(st.sampled_from(["", "ANNA", "JEAN PAUL"])),
        sex=draw(st.sampled_from(["M", "F", None])),
        birth_date=draw(st.dates(date(1930, 1, 1), date(2020, 12, 31))),
        nationality="FRA",
        seat=draw(st.sampled_from(["1A", "33K", None])),
        booking_reference=draw(st.text(alphabet="ABC123'+:?", min_size=6, max_size=6)),
        documents=[TravelDocument("P", DocumentType.PASSPORT, number, "DEU")],
    )


@settings(max_examples=150, deadline=None)
@given(
    delimiters(),
    st.lists(travellers(), min_size=1, max_size=12),
    st.integers(1, 5),
    st.sampled_from([None, 17, 64, 69]),
    st.booleans(),
    st.sampled_from([3, 4]),
)
def test_what_is_written_reads_back(
    delims: Delimiters, people: list[Traveller], per_part: int, wrap: int | None, groups: bool,
    version: int,
) -> None:  # fmt: skip
    manifest = Manifest(flight="XB1", carrier="XB", departure="IST", arrival="CDG")
    manifest.travellers = people
    text = write_paxlst(manifest, Envelope(delimiters=delims, groups=groups,
                        syntax_version=version), per_part=per_part, wrap=wrap)  # fmt: skip
    interchange = parse_paxlst(text)
    (read,) = interchange.manifests
    assert interchange.warnings == []
    assert read.warnings == []
    assert len(read.travellers) == len(people)
    for got, sent in zip(read.travellers, people, strict=True):
        assert (got.surname, got.given_names, got.sex, got.birth_date, got.seat) == (
            sent.surname, sent.given_names, sent.sex, sent.birth_date, sent.seat
        )  # fmt: skip
        assert got.booking_reference == sent.booking_reference
        assert [d.number for d in got.documents] == [d.number for d in sent.documents]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300), st.sampled_from(["", "UNA:+.? '", "UNB+UNOA:4+A+B+1+1'UNH+1+"]))
def test_any_text_is_read_or_refused_with_a_reason(noise: str, prefix: str) -> None:
    from bordercheck.manifests.edifact import ManifestUnreadable

    try:
        parse_paxlst(prefix + noise)
    except ManifestUnreadable as exc:
        refused = exc.message
    else:
        refused = "read"
    assert refused  # never another exception, never an empty reason


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="AB+:?'\n", max_size=80))
def test_every_segment_knows_its_line(text: str) -> None:
    tokens = split_segments("UNB+UNOA:4'" + text)
    for segment in tokens.segments:
        assert 1 <= segment.line <= text.count("\n") + 1


@given(st.dates(date(1931, 1, 1), date(2025, 12, 31)), st.booleans())
def test_birth_dates_read_back_in_every_format(day: date, long_year: bool) -> None:
    from bordercheck.manifests.codes import parse_date

    if long_year:
        assert parse_date(day.strftime("%Y%m%d"), "102", past=True) == day
        assert parse_date(day.strftime("%Y%m%d1200"), "203", past=True) == day
    else:  # two digits: the century is the one that puts the birth in the past
        assert parse_date(day.strftime("%y%m%d"), past=True) == day
        assert parse_date(day.strftime("%y%m%d"), "101", past=True) == day


def test_a_line_break_between_a_release_character_and_what_it_releases() -> None:
    tokens = split_segments("UNB+UNOA:4'NAD+FL+++O?\n'BRIEN?\r\n:X:Y'UNZ+1'")
    nad = tokens.segments[1]
    assert nad.components(4) == ("O'BRIEN:X", "Y")
    assert (nad.number, nad.line, tokens.segments[2].line) == (2, 1, 3)
