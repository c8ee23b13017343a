"""Screening a list in process: one bad document does not hold up the flight."""

from __future__ import annotations

import pytest

from bordercheck.documents.types import DocumentType
from bordercheck.errors import ValidationFailed
from bordercheck.manifests.flight import TravelDocument
from bordercheck.manifests.service import screen_manifest
from bordercheck.manifests.writer import synthetic_flight
from bordercheck.screening.index import IndexEntry, ScreeningIndex
from bordercheck.screening.service import Asker

ASKER = Asker(kind="user", name="border.fra", bureau_code="FRA")


def index_of(*numbers: str) -> ScreeningIndex:
    entries = [
        IndexEntry(record_id=i, number=n, serial_end=None, country="DEU", family="passport",
                   status="stolen", document_type="passport", blank=False, restricted=False)
        for i, n in enumerate(numbers, start=1)
    ]  # fmt: skip
    return ScreeningIndex.build(iter(entries), key=b"manifest tests screening key", sequence=0)


def test_an_unscreenable_number_is_reported_and_the_rest_screened() -> None:
    stolen = TravelDocument("P", DocumentType.PASSPORT, "C01X00T47", "DEU")
    odd = TravelDocument("P", DocumentType.PASSPORT, "!!!", "DEU")
    long = TravelDocument("P", DocumentType.PASSPORT, "9" * 41, "DEU")
    unknown = TravelDocument("ZZ", None, "C01X00T47", "DEU")
    flight = synthetic_flight(12, seed=9, planted=[stolen, odd, long, unknown])
    outcome = screen_manifest(index_of("C01X00T47"), flight, ASKER, location="CDG-T2")
    assert outcome.documents_screened == 10
    hits = outcome.with_result("hit")
    assert [r.document for r in hits] == [stolen, unknown]  # an unknown code: any type
    reasons = {r.document.number: r.reason for r in outcome.with_result("not_screened")
               if r.document}  # fmt: skip
    assert set(reasons) == {"!!!", "9" * 41}
    assert "longer than 40 characters" in (reasons["9" * 41] or "")
    assert all(r.screened.logged.source == "manifest" for r in outcome.results if r.screened)
    assert all(r.screened.logged.location == "CDG-T2" for r in outcome.results if r.screened)


def test_a_bad_location_is_refused_by_name() -> None:
    with pytest.raises(ValidationFailed) as refused:
        screen_manifest(index_of(), synthetic_flight(1), ASKER, location="no spaces please")
    assert refused.value.errors[0].field == "location"
