"""Any text given as an MRZ: an answer or NotAnMrz saying why, never another exception, and
quickly (the API takes up to 200 characters; the command line any length)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bordercheck.documents.mrz import NotAnMrz, parse
from bordercheck.documents.mrz_formats import ALPHABET
from tests.bounded import bounded

TODAY = date(2025, 6, 15)
API_LIMIT = 200  # screening's ``mrz`` field (screening.schemas)
# What OCR and people put in an MRZ besides its own characters.
NOISE = "<< \t\r\n0O1IlB8S5Z2G6abcxyzÄÖÜçéß«»‹›-_.,:;/\\|*'\"\u00a0\u2028\u0660\ufeff"


@st.composite
def near_mrz(draw: st.DrawFn) -> str:
    """Lines of the lengths an MRZ has (30, 36, 44; run together or not), mostly its alphabet."""
    width = draw(st.sampled_from([30, 36, 44, 9, 29, 31, 43, 45]))
    count = draw(st.sampled_from([1, 2, 3, 4]))
    letter = draw(st.sampled_from("PIACVDX<"))
    alphabet = st.sampled_from(ALPHABET + NOISE[: draw(st.integers(0, len(NOISE)))])
    lines = [draw(st.text(alphabet, min_size=width - 2, max_size=width + 1)) for _ in range(count)]
    lines[0] = letter + draw(st.sampled_from(["<", "D", "1", ""])) + lines[0]
    separator = draw(st.sampled_from(["\n", "\r\n", "", " ", "\n\n"]))
    return separator.join(lines)


def read(text: str, correct: bool) -> None:
    try:
        mrz = parse(text, correct=correct, today=TODAY)
    except NotAnMrz as refused:
        reason = str(refused)
        mrz = None
    if mrz is None:
        assert reason, "a refusal says why"
        return
    answer = mrz.as_dict()
    assert answer["format"] in ("TD1", "TD2", "TD3", "MRV-A", "MRV-B", "FRA-ID")
    assert isinstance(answer["valid"], bool)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=API_LIMIT), near_mrz()), st.booleans())
def test_any_text_up_to_the_api_limit_reads_or_is_refused(text: str, correct: bool) -> None:
    bounded(lambda: read(text, correct), len(text.encode()), "parsing an MRZ", base=0.5)


@pytest.mark.slow
@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.text(max_size=API_LIMIT),
        near_mrz(),
        st.text(st.sampled_from(ALPHABET + "\n"), min_size=100, max_size=20_000),
    ),
    st.booleans(),
)
def test_any_text_at_length_reads_or_is_refused(text: str, correct: bool) -> None:
    bounded(lambda: read(text, correct), len(text.encode()), "parsing an MRZ", base=0.5)
