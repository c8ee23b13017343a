"""The directory's rules on a session: the stale boundary, and the synthetic entries."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from bordercheck.directory import service
from bordercheck.directory.schemas import EntryFields
from bordercheck.directory.synthetic import add_demo_entries
from bordercheck.errors import Forbidden
from tests.factories import ADMIN, make_bureau, officer


def fields(confirmed: date) -> EntryFields:
    return EntryFields(
        name="Anna Keller",
        function="Focal point",
        unit="Smuggling of migrants",
        topics=["migrant_smuggling"],
        languages=["de"],
        phone="+49611550",
        email="a@bka.example",
        hours="24/7",
        time_zone="Europe/Berlin",
        last_confirmed=confirmed,
    )


def test_an_entry_is_stale_from_twelve_months_after_its_confirmation(session: Session) -> None:
    make_bureau(session, "DEU")
    today = date(2026, 11, 29)
    entry = service.add_entry(session, officer("DEU"), fields(date(2025, 11, 30)), today=today)
    assert not service.is_stale(entry, today)
    assert service.is_stale(entry, date(2026, 11, 30))
    leap = service.add_entry(session, officer("DEU"), fields(date(2024, 2, 28)), today=today)
    assert service.is_stale(leap, date(2025, 2, 28))
    assert not service.is_stale(leap, date(2025, 2, 27))
    found = service.search_entries(session, today=date(2026, 11, 30), stale=True)
    assert entry in found


def test_only_bureau_officers_of_the_bureau_and_admins_keep_entries(session: Session) -> None:
    make_bureau(session, "DEU")
    make_bureau(session, "FRA")
    entry = service.add_entry(session, officer("DEU"), fields(date(2026, 1, 1)))
    with pytest.raises(Forbidden, match="only the DEU bureau may"):
        service.update_entry(session, officer("FRA"), entry.id, {"hours": "never"})
    service.confirm_entry(session, ADMIN, entry.id)


def test_the_demo_world_has_valid_entries_for_every_bureau(session: Session) -> None:
    countries = ["DEU", "FRA", "ERI", "AUT"]
    for country in countries:
        make_bureau(session, country)
    assert add_demo_entries(session, ADMIN, countries) == 8
    entries = service.search_entries(session, today=date.today(), limit=1000)
    assert {e.bureau_code for e in entries} >= set(countries)
    assert {e.time_zone for e in entries if e.bureau_code == "ERI"} == {"Africa/Asmara"}
