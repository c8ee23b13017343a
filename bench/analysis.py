"""The network analysis at scale: a world of 1 M travellers, 100,000 flights and 10,000 hits
analysed from scratch, then one new flight taken in.

The world is generated directly as the analysis's input rows (flights, travellers, hits,
records), as the database would hand them over; neither HTTP nor the database is timed.
``--database`` also writes them to a fresh SQLite file and times the read from it, the
from-scratch path of a new API process.

    .venv/bin/python bench/analysis.py                  # 1 M travellers, 100,000 flights
    .venv/bin/python bench/analysis.py --database       # the same, read from SQLite too
"""

from __future__ import annotations

import argparse
import itertools
import random
import resource
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bordercheck.analysis.graph import LinkGraph
from bordercheck.analysis.networks import Picture, picture
from bordercheck.analysis.rows import HitRow, Leg, RecordRow, Seat
from bordercheck.training.world import SYLLABLES

START = datetime(2025, 1, 6, tzinfo=UTC)


class World:
    def __init__(self, flights: int, per_flight: int, networks: int, lone: int, seed: int):
        self.rng = random.Random(seed)
        self.airports = [f"{a}{b}{c}" for a in "QXZ" for b in "ABCDEFGH" for c in "KLMNPRST"]
        self.legs: list[Leg] = []
        self.seats: list[Seat] = []
        self.hits: list[HitRow] = []
        self.records: list[RecordRow] = []
        self.next_seat = 0
        self.next_hit = 0
        self.days = 365
        self.flights_by_day: dict[tuple[str, str, int], Leg] = {}
        self._flights(flights, per_flight)
        for number in range(networks):
            self._network(number)
        for number in range(lone):
            self._lone(number)

    def name(self) -> str:
        rng = self.rng
        return "".join(rng.choice(SYLLABLES) for _ in range(rng.randrange(2, 4)))

    def born(self) -> date:
        return date(1950, 1, 1) + timedelta(days=self.rng.randrange(20_000))

    def booking(self) -> str:
        return "".join(self.rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(6))

    def seat(
        self,
        leg: Leg,
        surname: str,
        given: str,
        born: date,
        nationality: str,
        booking: str,
        number: str,
        country: str,
        query: str | None,
    ) -> Seat:
        self.next_seat += 1
        seat = Seat(
            self.next_seat,
            leg.id,
            surname,
            given,
            born,
            nationality,
            booking,
            "1A",
            number,
            country,
            query,
        )
        self.seats.append(seat)
        return seat

    def leg(self, departure: str, arrival: str, day: int) -> Leg:
        key = (departure, arrival, day)
        if key not in self.flights_by_day:
            leaving = START + timedelta(days=day, hours=self.rng.randrange(5, 22))
            leg = Leg(
                len(self.legs) + 1,
                f"XB{len(self.legs) % 9000 + 100}",
                departure,
                arrival,
                leaving,
                "XPO",
            )
            self.legs.append(leg)
            self.flights_by_day[key] = leg
        return self.flights_by_day[key]

    def _flights(self, flights: int, per_flight: int) -> None:
        rng = self.rng
        for n in range(flights):
            departure, arrival = rng.sample(self.airports, 2)
            leg = self.leg(departure, arrival, n * self.days // flights)
            filled = 0
            while filled < per_flight:
                family = min(per_flight - filled, rng.choice((1, 1, 1, 2, 3)))
                ref, surname, country = (
                    self.booking(),
                    self.name(),
                    rng.choice(("FRA", "DEU", "NGA", "PAK")),
                )
                for _ in range(family):
                    number = f"P{rng.randrange(10**8):08d}"
                    self.seat(
                        leg, surname, self.name(), self.born(), country, ref, number, country, None
                    )
                filled += family

    def _hit(self, seat: Seat, leg: Leg, record: RecordRow, match: str) -> None:
        self.next_hit += 1
        assert leg.departs is not None
        self.hits.append(
            HitRow(
                self.next_hit,
                seat.query_id or "",
                record.id,
                record.issuing_country,
                "XPO",
                match,
                leg.arrival,
                leg.id,
                leg.departs,
                "confirmed",
                "seized",
                seat.document_number,
                seat.issuing_country,
            )
        )

    def _network(self, number: int) -> None:
        rng = self.rng
        country = rng.choice(("FRA", "ITA", "ESP", "ROU"))
        first = rng.randrange(10**6, 9 * 10**6)
        record = RecordRow(
            len(self.records) + 1,
            f"K{first:07d}",
            f"K{first + 199:07d}",
            country,
            "stolen",
            True,
            date(2024, 11, 1),
            "CONSULATE",
            f"{country}-T{number}",
            frozenset(),
            True,
        )
        self.records.append(record)
        used = 0
        route = rng.sample(self.airports, 3)
        day = rng.randrange(0, 200)
        while used < 16 and day < self.days - 2:
            ref = self.booking()
            group = [(self.name(), self.name(), self.born()) for _ in range(rng.randrange(2, 5))]
            documents = [f"K{first + used + i:07d}" for i in range(len(group))]
            used += len(group)
            for a, b in itertools.pairwise(route):
                leg = self.leg(a, b, day)
                for (surname, given, born), number_ in zip(group, documents, strict=True):
                    query = f"q{self.next_seat + 1:031d}"
                    seat = self.seat(leg, surname, given, born, "NGA", ref, number_, country, query)
                    self._hit(seat, leg, record, "range")
            day += rng.randrange(4, 12)

    def _lone(self, number: int) -> None:
        rng = self.rng
        leg = self.legs[rng.randrange(len(self.legs))]
        record = RecordRow(
            len(self.records) + 1,
            f"L{number:08d}",
            None,
            "DEU",
            "lost",
            False,
            date(2024, 6, 1),
            "BERLIN",
            None,
            frozenset(),
            True,
        )
        self.records.append(record)
        query = f"q{self.next_seat + 1:031d}"
        seat = self.seat(
            leg,
            self.name(),
            self.name(),
            self.born(),
            "DEU",
            self.booking(),
            record.document_number,
            "DEU",
            query,
        )
        self._hit(seat, leg, record, "exact")


def analyse(world: World) -> tuple[LinkGraph, Picture, float, float]:
    started = time.perf_counter()
    links = LinkGraph()
    links.add_legs(world.legs)
    links.add_records(world.records)
    links.add_seats(world.seats)
    links.add_hits(world.hits)
    built = time.perf_counter() - started
    found = picture(links)
    return links, found, built, time.perf_counter() - started


def new_flight(world: World, links: LinkGraph, before: Picture) -> float:
    """One more flight: ordinary travellers and a group of a known network's documents."""
    record = world.records[0]
    prefix, first = record.document_number[0], int(record.document_number[1:])
    leg = Leg(len(world.legs) + 1, "ZV999", "QAK", "ZHT", START + timedelta(days=364), "XPO")
    seats = []
    for i in range(200):
        world.next_seat += 1
        number = f"{prefix}{first + 150 + i:07d}" if i < 3 else f"P{i:08d}"
        query = f"n{world.next_seat:031d}" if i < 3 else None
        seats.append(
            Seat(
                world.next_seat,
                leg.id,
                world.name(),
                world.name(),
                world.born(),
                "NGA",
                "NEWREF" if i < 3 else world.booking(),
                "2C",
                number,
                record.issuing_country,
                query,
            )
        )
    hits = [
        HitRow(
            10**7 + i,
            s.query_id or "",
            record.id,
            record.issuing_country,
            "XPO",
            "range",
            "ZHT",
            leg.id,
            START + timedelta(days=364),
            None,
            None,
            s.document_number,
            s.issuing_country,
        )
        for i, s in enumerate(seats[:3])
    ]
    started = time.perf_counter()
    links.add_legs([leg])
    links.add_seats(seats)
    links.add_hits(hits)
    after = picture(links, before)
    took = time.perf_counter() - started
    grown = [
        n
        for n in after.networks
        if (record.issuing_country, seats[0].document_number) in set(n.documents)
    ]
    assert grown, "the new flight's documents joined their network"
    return took


def through_sqlite(world: World) -> float:
    """Write the rows as the system stores them, then time a new process's catch-up."""
    from sqlalchemy import insert

    from bordercheck.analysis.state import AnalysisState
    from bordercheck.db import Database
    from bordercheck.hits.models import Hit
    from bordercheck.manifests.models import ManifestTraveller, StoredManifest
    from bordercheck.migrations import upgrade
    from bordercheck.registry.models import Record
    from bordercheck.screening.models import ScreeningQuery

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url, secret_key="b" * 48)
        database = Database(url, secret_key="b" * 48)
        now = datetime.now(UTC)
        with database.session(write=True) as session:
            session.execute(
                insert(StoredManifest),
                [
                    {
                        "id": leg.id,
                        "received_at": now,
                        "submitted_by": "bench",
                        "bureau_code": "XPO",
                        "source": "cli",
                        "list_type": "passengers",
                        "flight": leg.flight,
                        "departure": leg.departure,
                        "arrival": leg.arrival,
                        "departure_at": leg.departs,
                        "travellers": 0,
                        "documents_screened": 0,
                        "hits": 0,
                        "possible_hits": 0,
                        "unscreened": 0,
                        "warnings": "[]",
                    }
                    for leg in world.legs
                ],
            )
            for start in range(0, len(world.seats), 100_000):
                session.execute(
                    insert(ManifestTraveller),
                    [
                        {
                            "id": s.id,
                            "manifest_id": s.leg,
                            "position": 1,
                            "role": "passenger",
                            "surname": s.surname,
                            "given_names": s.given_names,
                            "birth_date": s.birth_date,
                            "nationality": s.nationality,
                            "booking_reference": s.booking,
                            "seat": s.seat,
                            "document_number": s.document_number,
                            "issuing_country": s.issuing_country,
                            "result": "hit" if s.query_id else "no_hit",
                            "query_id": s.query_id,
                        }
                        for s in world.seats[start : start + 100_000]
                    ],
                )
            session.execute(
                insert(Record),
                [
                    {
                        "id": r.id,
                        "bureau_id": 1,
                        "document_number": r.document_number,
                        "issuing_country": r.issuing_country,
                        "document_type": "passport",
                        "type_family": "passport",
                        "status": r.status,
                        "blank": r.blank,
                        "serial_end": r.serial_end,
                        "event_date": r.event_date,
                        "event_place": r.event_place,
                        "incident_ref": r.incident_ref,
                        "withdrawn_key": 0,
                        "version": 1,
                        "last_change": "created",
                        "review_due": date(2035, 1, 1),
                        "created_at": now,
                        "created_by": "bench",
                        "updated_at": now,
                        "updated_by": "bench",
                    }
                    for r in world.records
                ],
            )
            session.execute(
                insert(ScreeningQuery),
                [
                    {
                        "id": h.query_id,
                        "at": h.at,
                        "principal_kind": "user",
                        "principal_name": "bench",
                        "bureau_code": "XPO",
                        "location": h.location,
                        "source": "manifest",
                        "document_number": h.document_number,
                        "issuing_country": h.issuing_country,
                        "result": "hit",
                        "match_count": 1,
                    }
                    for h in world.hits
                ],
            )
            session.execute(
                insert(Hit),
                [
                    {
                        "id": h.id,
                        "query_id": h.query_id,
                        "record_id": h.record_id,
                        "owner_bureau": h.owner,
                        "querying_bureau": h.querying,
                        "queried_by": "bench",
                        "match": h.match,
                        "score": 1.0,
                        "location": h.location,
                        "state": "closed",
                        "created_at": h.at,
                        "source": "manifest",
                        "manifest_id": h.manifest_id,
                        "due_at": h.at,
                        "remind_at": h.at,
                        "answer": h.answer,
                        "outcome": h.outcome,
                        "answered_at": h.at,
                        "outcome_at": h.at,
                    }
                    for h in world.hits
                ],
            )
        state = AnalysisState()
        started = time.perf_counter()
        with database.session() as session:
            state.current(session)
        took = time.perf_counter() - started
        database.dispose()
        return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flights", type=int, default=100_000)
    parser.add_argument("--per-flight", type=int, default=10)
    parser.add_argument("--networks", type=int, default=280)
    parser.add_argument("--lone", type=int, default=1_000)
    parser.add_argument("--database", action="store_true", help="also read it from SQLite")
    args = parser.parse_args()
    started = time.perf_counter()
    world = World(args.flights, args.per_flight, args.networks, args.lone, seed=1)
    print(
        f"world: {len(world.seats):,} travellers, {len(world.legs):,} flights, "
        f"{len(world.hits):,} hits, {len(world.records):,} records "
        f"(generated in {time.perf_counter() - started:.1f} s)",
        flush=True,
    )
    links, found, built, total = analyse(world)
    print(
        f"from scratch: graph {built:.1f} s, networks ranked with routes and shifts "
        f"{total:.1f} s in all; {len(found.networks)} networks, "
        f"{links.graph.number_of_nodes():,} nodes",
        flush=True,
    )
    took = new_flight(world, links, found)
    print(
        f"a new flight (200 travellers, 3 of a network's documents): networks updated in "
        f"{took * 1000:.0f} ms",
        flush=True,
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory {peak:,.0f} MB")
    if args.database:
        print(f"from scratch out of SQLite (a new API process): {through_sqlite(world):.1f} s")


if __name__ == "__main__":
    main()
