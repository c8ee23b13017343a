"""Any bytes as a PAXLST interchange: manifests, or an InvalidInput that says what is wrong,
never another exception; time about linear in size, up to the upload limit."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bordercheck.errors import InvalidInput
from bordercheck.manifests.edifact import ManifestUnreadable
from bordercheck.manifests.paxlst import parse_paxlst
from bordercheck.manifests.writer import synthetic_flight, write_paxlst
from bordercheck.settings import Settings
from tests.bounded import bounded

LIMIT = Settings(env="test").manifest_max_bytes  # what the API and console take at most
FLIGHT = write_paxlst(synthetic_flight(6, seed=7, flight="XB77"))
SEGMENTS = [segment + "'" for segment in FLIGHT.replace("\n", "").split("'") if segment]
TRAVELLER = SEGMENTS[11:22]  # one NAD+FL group: NAD, ATT, DTM … LOC+91
HEAD, TAIL = SEGMENTS[:11], SEGMENTS[-5:]
SPECIALS = ":+.? '*\n\r\x00\x1c\x1d\x1f\ufffd"
# Envelope segments, well and badly formed on purpose (an unknown syntax "XXXX:9", counts that
# are absurd or negative, segments cut short): the reader must refuse each by name, not crash.
ENVELOPE = ["UNA:+.? '", "UNA", "UNB+UNOA:4+A+B+261129:0900+1'", "UNB+UNOC:3'", "UNB+XXXX:9'",
            "UNG+PAXLST'", "UNH+1+PAXLST:D:05B:UN:IATA'", "UNH+1+CUSRES:D:05B:UN'",
            "UNT+999999999999+1'", "UNE+99999999+1'", "UNZ+-1+1'", "CNT+42:999999999'",
            "CNT+42:-3'", "BGM+745'", "BGM+266+CLOSE'", "UNH'", "UNT'", "UNZ'"]  # fmt: skip


def segment_text() -> st.SearchStrategy[str]:
    tag = st.sampled_from(["UNB", "UNH", "NAD", "DOC", "DTM", "LOC", "NAT", "RFF", "CNT",
                           "UNT", "ATT", "TDT", "BGM", "XYZ", "un", "U"])  # fmt: skip
    element = st.text(st.sampled_from("ABCXYZ0123456789" + SPECIALS), max_size=12)
    return st.builds(lambda t, e: t + "+" + "+".join(e) + "'", tag, st.lists(element, max_size=6))


@st.composite
def interchanges(draw: st.DrawFn) -> bytes:
    """A real interchange cut, repeated, reordered and salted with envelopes and escapes."""
    pieces = list(HEAD)
    pieces += TRAVELLER * draw(st.integers(0, 40))
    pieces += TAIL
    for _ in range(draw(st.integers(0, 12))):
        at = draw(st.integers(0, len(pieces)))
        what = draw(st.sampled_from(["drop", "repeat", "envelope", "segment", "escape", "cut"]))
        if what == "drop" and pieces:
            del pieces[min(at, len(pieces) - 1)]
        elif what == "repeat" and pieces:
            piece = pieces[min(at, len(pieces) - 1)]
            pieces[at:at] = [piece] * draw(st.integers(1, 200))
        elif what == "envelope":
            pieces.insert(at, draw(st.sampled_from(ENVELOPE)))
        elif what == "segment":
            pieces.insert(at, draw(segment_text()))
        elif what == "escape" and pieces:
            at = min(at, len(pieces) - 1)
            text = pieces[at]
            cut = draw(st.integers(0, len(text)))
            pieces[at] = (
                text[:cut] + draw(st.sampled_from(["?", "??", "?'", "?+", "?:"])) + text[cut:]
            )
        elif what == "cut" and pieces:
            pieces = pieces[: max(at, 1)]
    text = draw(st.sampled_from(["", "\n", "\r\n"])).join(pieces)
    encoding = draw(st.sampled_from(["utf-8", "latin-1", "utf-16"]))
    data = text.encode(encoding, errors="replace")
    if draw(st.booleans()):  # a byte-order mark, or a Type B teletype header before the UNA
        data = draw(st.sampled_from([b"", b"\xef\xbb\xbf", b"QU XXX\r\n.ABC 010101\r\n"])) + data
    return data


def read(data: bytes) -> None:
    try:
        interchange = parse_paxlst(data)
    except InvalidInput as exc:
        refused: InvalidInput | None = exc
    else:
        refused = None
    if refused is not None:
        assert refused.message, "a refusal says why"
        if isinstance(refused, ManifestUnreadable) and refused.detail.get("segment") is not None:
            assert refused.message.startswith("segment "), refused.message
        return
    for manifest in interchange.manifests:
        for traveller in manifest.travellers:
            assert isinstance(traveller.surname, str)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(interchanges(), st.binary(max_size=2000)))
def test_any_interchange_reads_or_is_refused(data: bytes) -> None:
    bounded(lambda: read(data), len(data), "reading a PAXLST interchange")


@pytest.mark.slow
@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(interchanges(), st.binary(max_size=50_000), st.text(max_size=20_000).map(str.encode))
)
def test_any_interchange_reads_or_is_refused_at_length(data: bytes) -> None:
    bounded(lambda: read(data), len(data), "reading a PAXLST interchange")


def seconds_to_read(data: bytes) -> float:
    started = time.perf_counter()
    read(data)
    return time.perf_counter() - started


@pytest.mark.slow
@pytest.mark.parametrize(
    "unit",
    [
        "".join(TRAVELLER),  # a full flight
        "UNH+1+PAXLST:D:05B:UN:IATA'BGM+745'",  # message after message, none closed
        "DOC+P+" + "?" * 60 + "'",  # escapes upon escapes
        "FTX+AAH+" + "x" * 200 + "'",  # long unknown segments
    ],
    ids=["travellers", "open-messages", "escapes", "unknown-segments"],
)
def test_time_grows_about_linearly_up_to_the_upload_limit(unit: str) -> None:
    """The largest file the API takes reads within a generous budget, and about linearly:
    four times the data may take up to twelve times as long (not sixteen, or a hang)."""

    def interchange(size: int) -> bytes:
        return ("".join(HEAD) + unit * ((size - 600) // len(unit)) + "".join(TAIL)).encode()

    largest = interchange(LIMIT)
    assert LIMIT - 1000 < len(largest) <= LIMIT
    bounded(lambda: read(largest), LIMIT, "reading the largest interchange", per_mib=15)
    small_time = min(seconds_to_read(interchange(LIMIT // 16)) for _ in range(2))
    large_time = min(seconds_to_read(interchange(LIMIT // 4)) for _ in range(2))
    assert large_time <= 12 * small_time + 0.1, (small_time, large_time)
