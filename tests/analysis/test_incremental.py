"""The analysis is kept current as data arrives, and arriving in pieces changes nothing."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from bordercheck.analysis.graph import LinkGraph
from bordercheck.analysis.networks import picture
from bordercheck.analysis.sources import Marks, catch_up
from bordercheck.auth.models import Role
from bordercheck.db import Database
from bordercheck.documents.types import DocumentType
from bordercheck.manifests.flight import Manifest, TravelDocument, Traveller
from bordercheck.manifests.writer import write_paxlst
from tests.analysis.conftest import KEY, LoadedWorld
from tests.signin import open_api

V1 = "/api/v1/analysis"


def _unused_number(detail: dict[str, object]) -> tuple[str, str]:
    used = {d["document_number"] for d in detail["documents"]}  # type: ignore[attr-defined]
    for record in detail["records"]:  # type: ignore[attr-defined]
        if record.get("serial_end"):
            prefix, first = record["document_number"][0], int(record["document_number"][1:])
            last = int(record["serial_end"][1:])
            for n in range(first, last + 1):
                number = f"{prefix}{n:07d}"
                if number not in used:
                    return record["issuing_country"], number
    raise AssertionError("no blank range in the network")


def test_a_new_flight_joins_its_network_without_a_rebuild(own_world: LoadedWorld) -> None:
    with open_api(own_world.url, bureaus=(), secret_key=KEY) as api:
        analyst = api.bearer(Role.ANALYST, "XPO")
        networks = api.client.get(f"{V1}/networks", headers=analyst).json()["networks"]
        ranged = [
            api.client.get(f"{V1}/networks/{n['id']}", headers=analyst).json() for n in networks
        ]
        detail = next(d for d in ranged if any(r.get("serial_end") for r in d["records"]))
        country, number = _unused_number(detail)
        state = api.client.app.state.analysis  # type: ignore[attr-defined]
        links_before = state.links
        leaving = datetime(2026, 6, 30, 9, 0, tzinfo=UTC)
        flight = Manifest(
            flight="ZV901",
            carrier="ZV",
            departure="ZTN",
            arrival="HNW",
            departure_at=leaving,
            arrival_at=leaving + timedelta(hours=3),
        )
        flight.travellers = [
            Traveller(
                position=1,
                role="passenger",
                surname="NOVAREK",
                given_names="TAMIR",
                birth_date=date(1990, 3, 4),
                nationality=country,
                booking_reference="QQ7KLM",
                seat="12A",
                documents=[TravelDocument("P", DocumentType.PASSPORT, number, country)],
            ),
        ]
        border = api.bearer(Role.BORDER_OFFICER, "DEU")
        sent = api.client.post("/api/v1/manifests", content=write_paxlst(flight), headers=border)
        assert sent.status_code == 200, sent.text
        after = api.client.get(f"{V1}/networks/{detail['id']}", headers=analyst)
        assert after.status_code == 200
        documents = {
            (d["issuing_country"], d["document_number"]) for d in after.json()["documents"]
        }
        assert (country, number) in documents
        assert after.json()["size"] == detail["size"] + 1
        assert state.links is links_before, "caught up, not rebuilt"
        evidence = [
            e
            for link in after.json()["links"]
            if link["kind"] == "carried"
            for e in link["evidence"]
            if "ZV901" in e
        ]
        assert evidence


def test_arriving_flight_by_flight_finds_what_a_rebuild_finds(loaded_world: LoadedWorld) -> None:
    database = Database(loaded_world.url, secret_key=KEY)
    try:
        with database.session() as session:
            whole = LinkGraph()
            catch_up(session, whole, Marks())
    finally:
        database.dispose()
    # The same rows again, a flight at a time in a shuffled order of arrival: each flight's
    # travellers, then its hits (with their records), as a catch-up would see them.
    pieces = LinkGraph()
    pieces.add_legs(whole.legs.values())
    by_leg: dict[int, list[object]] = {}
    for seat in whole.seats.values():
        by_leg.setdefault(seat.leg, []).append(seat)
    hits_by_query = {hit.query_id: hit for hit in whole.hits.values()}
    legs = list(by_leg)
    random.Random(5).shuffle(legs)
    pieces.add_records(whole.records.values())
    for leg in legs:
        seats = by_leg[leg]
        pieces.add_seats(seats)  # type: ignore[arg-type]
        pieces.add_hits(
            hits_by_query[s.query_id]
            for s in seats  # type: ignore[attr-defined]
            if s.query_id in hits_by_query
        )  # type: ignore[attr-defined]
    desk = [h for h in whole.hits.values() if h.manifest_id is None]
    pieces.add_hits(desk)

    def networks(links: LinkGraph) -> set[frozenset[tuple[str, str]]]:
        return {frozenset(n.documents) for n in picture(links).networks}

    assert networks(pieces) == networks(whole)
    assert len(networks(whole)) == len(loaded_world.truth["networks"])
