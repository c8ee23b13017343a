"""A synthetic world for the network analysis: posts, records, months of flights, planted
networks, lone impostors, and the ground truth beside them.

Reproducible from a seed. Networks steal blank passports in serial ranges (and sometimes
issued ones in one burglary), send travellers in booked groups hidden inside ordinary
flights (origin → transit → destination), and move to another route at some week. Lone
impostors travel on individually lost documents and belong to no network. Nothing here is
read by the analysis: it finds the networks in what the system stores after ``load``.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import orjson

from bordercheck.documents.types import DocumentType
from bordercheck.manifests.flight import Manifest, TravelDocument, Traveller
from bordercheck.manifests.writer import Envelope, write_paxlst
from bordercheck.training.posts import AIRPORTS, CARRIERS, OTHER_POSTS, BorderPost, airports
from bordercheck.training.synthetic import ISSUERS, Issuer, SyntheticRegistry

_BOOKING = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
SYLLABLES = (
    "KA",
    "DO",
    "RI",
    "MA",
    "NE",
    "LU",
    "SA",
    "TO",
    "BE",
    "FA",
    "HI",
    "ZO",
    "RA",
    "MI",
    "NO",
    "DA",
    "LE",
    "VO",
    "TA",
    "SU",
    "KE",
    "BO",
    "NA",
    "YE",
    "GU",
    "SHA",
    "KHA",
    "OU",
    "AM",
    "EL",
)
_ENDINGS = ("", "", "N", "R", "L", "D", "M", "S", "H")
_BY_COUNTRY = {issuer.country: issuer for issuer in ISSUERS}
# Where the planted networks recruit, and whose blank documents they steal.
_SOURCE_NATIONALITIES = ("NGA", "PAK", "IRQ", "AFG", "SYR", "ERI", "MAR")
_STOLEN_FROM = ("FRA", "ITA", "ESP", "DEU", "NLD", "POL", "ROU", "GBR", "BRA", "IND")


@dataclass(frozen=True)
class WorldSpec:
    """The size of a world; the defaults make one a laptop loads in about a minute."""

    seed: int = 2026
    start: date = date(2026, 1, 5)  # a Monday
    weeks: int = 26
    networks: int = 4
    lone_impostors: int = 8
    background_records: int = 2000
    flights_per_leg_week: int = 2
    passengers: int = 30  # ordinary passengers on a flight, about
    scheduled_legs: int | None = None  # legs with ordinary flights every week (None: all)


@dataclass
class Person:
    surname: str
    given_names: str
    birth_date: date
    nationality: str
    sex: str


@dataclass
class Flight:
    manifest: Manifest
    leg: tuple[str, str]


@dataclass
class PlantedNetwork:
    id: str
    thefts: list[str] = field(default_factory=list)
    documents: list[tuple[str, str]] = field(default_factory=list)
    travellers: list[str] = field(default_factory=list)
    bookings: list[str] = field(default_factory=list)
    routes: list[dict[str, Any]] = field(default_factory=list)
    shifts: list[dict[str, Any]] = field(default_factory=list)
    trips: int = 0


class WorldBuilder:
    def __init__(self, spec: WorldSpec) -> None:
        self.spec = spec
        self.rng = random.Random(spec.seed)
        self.registry = SyntheticRegistry(spec.seed, today=spec.start)
        self.records: list[dict[str, Any]] = []
        self.flights: dict[tuple[str, str, date], Flight] = {}
        self.flight_numbers: dict[tuple[str, str], str] = {}
        self.networks: list[PlantedNetwork] = []
        self.lone: list[dict[str, Any]] = []
        self.screenings: list[dict[str, Any]] = []
        self.bookings: set[str] = set()
        self.legs = self._legs()

    # -- people, names, documents ------------------------------------------------------

    def name(self, syllables: int) -> str:
        rng = self.rng
        parts = [rng.choice(SYLLABLES) for _ in range(syllables)]
        return "".join(parts) + rng.choice(_ENDINGS)

    def person(self, nationality: str) -> Person:
        rng = self.rng
        given = self.name(rng.choice((2, 2, 3)))
        if rng.random() < 0.3:
            given += " " + self.name(2)
        born = date(rng.randrange(1958, 2006), rng.randrange(1, 13), rng.randrange(1, 29))
        return Person(self.name(rng.choice((2, 3, 3))), given, born, nationality, rng.choice("MF"))

    def spelling(self, text: str) -> str:
        """The same name as another clerk or alphabet would write it."""
        rng = self.rng
        swaps = [
            ("OU", "U"),
            ("U", "OU"),
            ("I", "Y"),
            ("K", "Q"),
            ("KH", "H"),
            ("E", "A"),
            ("SH", "CH"),
            ("A", "AA"),
            ("Y", "I"),
        ]
        rng.shuffle(swaps)
        for old, new in swaps:
            if old in text:
                at = text.index(old)
                return text[:at] + new + text[at + len(old) :]
        return text + "E"

    def booking(self) -> str:
        while True:
            ref = "".join(self.rng.choice(_BOOKING) for _ in range(6))
            if ref not in self.bookings:
                self.bookings.add(ref)
                return ref

    def genuine_document(self, nationality: str) -> TravelDocument:
        issuer = _BY_COUNTRY[nationality]
        number = self.registry.unique_number(issuer)
        expiry = date(2028 + self.rng.randrange(8), self.rng.randrange(1, 13), 15)
        return TravelDocument("P", DocumentType.PASSPORT, number, nationality, expiry)

    # -- flights -----------------------------------------------------------------------

    def _legs(self) -> list[tuple[str, str]]:
        origins, transits, destinations = (
            airports(r) for r in ("origin", "transit", "destination")
        )
        legs = {(o.code, t.code) for o in origins for t in transits}
        legs |= {(t.code, d.code) for t in transits for d in destinations}
        legs |= {(o.code, d.code) for o in origins for d in destinations if self.rng.random() < 0.3}
        return sorted(legs)

    def flight(self, leg: tuple[str, str], day: date) -> Flight:
        """The flight on ``leg`` that day: scheduled, or added, full of ordinary passengers."""
        key = (*leg, day)
        if key in self.flights:
            return self.flights[key]
        if leg not in self.flight_numbers:
            carrier = self.rng.choice(CARRIERS)
            self.flight_numbers[leg] = f"{carrier}{100 + len(self.flight_numbers) * 7}"
        number = self.flight_numbers[leg]
        hour = 6 + (sum(map(ord, number)) % 14)
        leaving = datetime.combine(day, time(hour, 5 * self.rng.randrange(12)), UTC)
        manifest = Manifest(
            list_type="passengers",
            flight=number,
            carrier=number[:2],
            departure=leg[0],
            arrival=leg[1],
            departure_at=leaving,
            arrival_at=leaving + timedelta(hours=2, minutes=10 * self.rng.randrange(2, 20)),
        )
        flight = Flight(manifest, leg)
        self.flights[key] = flight
        self._fill(flight)
        return flight

    def _fill(self, flight: Flight) -> None:
        rng = self.rng
        wanted = max(4, int(rng.gauss(self.spec.passengers, self.spec.passengers / 5)))
        posts = {p.code: p for p in AIRPORTS}
        countries = [posts[flight.leg[0]].country, posts[flight.leg[1]].country]
        while len(flight.manifest.travellers) < wanted:
            nationality = (
                rng.choice(countries) if rng.random() < 0.7 else rng.choice(ISSUERS).country
            )
            family = rng.choices((1, 2, 3, 4), (60, 20, 12, 8))[0]
            ref = self.booking()
            head = self.person(nationality)
            for member in range(family):
                person = head if member == 0 else self.person(nationality)
                if member:
                    person.surname = head.surname  # families travel under one name
                self.board(flight, person, self.genuine_document(nationality), ref)

    def board(self, flight: Flight, person: Person, document: TravelDocument, ref: str) -> None:
        travellers = flight.manifest.travellers
        position = len(travellers) + 1
        row, seat = divmod(position - 1, 6)
        travellers.append(
            Traveller(
                position=position,
                role="passenger",
                surname=person.surname,
                given_names=person.given_names,
                sex=person.sex,
                birth_date=person.birth_date,
                nationality=person.nationality,
                embarkation=flight.leg[0],
                debarkation=flight.leg[1],
                booking_reference=ref,
                seat=f"{row + 1}{'ABCDEF'[seat]}",
                documents=[document],
            )
        )

    def schedule(self) -> None:
        """Ordinary flights: each leg a few days a week, every week."""
        legs = self.legs
        if self.spec.scheduled_legs is not None:
            legs = sorted(self.rng.sample(legs, min(len(legs), self.spec.scheduled_legs)))
        for leg in legs:
            days = sorted(self.rng.sample(range(7), self.spec.flights_per_leg_week))
            for week in range(self.spec.weeks):
                for weekday in days:
                    self.flight(leg, self.spec.start + timedelta(weeks=week, days=weekday))

    # -- networks ----------------------------------------------------------------------

    def theft(self, network: PlantedNetwork, when: date, issued: bool) -> list[TravelDocument]:
        """A theft: blank passports in one or two serial ranges, or issued ones in a burglary."""
        rng = self.rng
        issuer = _BY_COUNTRY[rng.choice(_STOLEN_FROM)]
        incident = f"{issuer.country}-{when.year}-T{rng.randrange(10_000, 99_999)}"
        network.thefts.append(incident)
        documents: list[TravelDocument] = []
        if issued:
            for _ in range(rng.randrange(20, 40)):
                number = self.registry.unique_number(issuer)
                self.records.append(self._issued_record(issuer, number, when, incident))
                documents.append(self._document(issuer, number))
            return documents
        for _ in range(rng.choice((1, 1, 2))):
            size = rng.randrange(60, 160)
            row = self.registry.blank_range(issuer, size=size, event=when, incident_ref=incident)
            row["circumstances"] = rng.choice(
                ("stolen in transit from the printing works", "theft from a consulate")
            )
            self.records.append(row)
            prefix, first = row["document_number"][0], int(row["document_number"][1:])
            documents += [self._document(issuer, f"{prefix}{first + i:07d}") for i in range(size)]
        rng.shuffle(documents)
        return documents

    def _document(self, issuer: Issuer, number: str) -> TravelDocument:
        expiry = date(2030 + self.rng.randrange(5), self.rng.randrange(1, 13), 20)
        return TravelDocument("P", DocumentType.PASSPORT, number, issuer.country, expiry)

    def _issued_record(
        self, issuer: Issuer, number: str, when: date, incident: str | None, status: str = "stolen"
    ) -> dict[str, Any]:
        rng = self.rng
        issued = when - timedelta(days=rng.randrange(200, 3000))
        holder = self.person(issuer.country)
        return {
            "document_number": number,
            "issuing_country": issuer.country,
            "document_type": "passport",
            "status": status,
            "blank": False,
            "issue_date": issued,
            "expiry_date": issued + timedelta(days=3652),
            "event_date": when,
            "event_place": rng.choice(issuer.cities),
            "event_country": issuer.country,
            "circumstances": "burglary at a visa agency" if incident else "lost while travelling",
            "incident_ref": incident,
            "holder_surname": holder.surname,
            "holder_given_names": holder.given_names,
            "holder_birth_date": holder.birth_date,
            "holder_nationality": issuer.country,
        }

    def route(self, avoid: list[str] | None = None) -> list[str]:
        rng = self.rng
        while True:
            origin = rng.choice(airports("origin")).code
            transit = rng.choice(airports("transit")).code
            destination = rng.choice(airports("destination")).code
            route = [origin, transit, destination]
            if not avoid or route != avoid:
                return route

    def network(self, number: int) -> None:
        rng, spec = self.rng, self.spec
        network = PlantedNetwork(id=f"NET-{number + 1}")
        first_week = rng.randrange(0, max(1, spec.weeks // 5))
        last_week = spec.weeks - 1 - rng.randrange(0, max(1, spec.weeks // 8))
        span = last_week - first_week
        shift_week = (
            first_week + int(span * rng.uniform(0.35, 0.7)) if rng.random() < 0.75 else None
        )
        before = self.route()
        after = before
        if shift_week is not None:
            after = list(before)
            changed = rng.choice((1, 2, 1))  # a new transit, more often than a new destination
            pool = airports("transit" if changed == 1 else "destination")
            after[changed] = rng.choice([p.code for p in pool if p.code != before[changed]])
        theft_day = (
            spec.start + timedelta(weeks=first_week) - timedelta(days=rng.randrange(20, 200))
        )
        stock = self.theft(network, theft_day, issued=rng.random() < 0.25)
        second_theft_week = first_week + span // 2 if rng.random() < 0.5 else None
        escort = self.person(rng.choice(_SOURCE_NATIONALITIES)) if rng.random() < 0.5 else None
        escort_document = self.genuine_document(escort.nationality) if escort else None
        recruits = rng.choice(_SOURCE_NATIONALITIES)
        day = spec.start + timedelta(weeks=first_week, days=rng.randrange(7))
        end = spec.start + timedelta(weeks=last_week + 1)
        cadence = rng.uniform(3, 8)
        mixing_trip = False
        while day < end:
            week = (day - spec.start).days // 7
            planned = second_theft_week is not None and week >= second_theft_week
            if planned or len(stock) < 6:
                # The batch runs out, or is burnt: the network moves to a new theft, and one
                # group (or the escort) still carries the last of the old one.
                leftover = stock[:2]
                stock = self.theft(
                    network, day - timedelta(days=rng.randrange(10, 40)), issued=rng.random() < 0.3
                )
                second_theft_week = None
                mixing_trip = escort is None or rng.random() < 0.5
                if mixing_trip:
                    stock = stock + leftover  # popped first: one group carries both batches
            shifted = shift_week is not None and week >= shift_week
            route = after if shifted else before
            if not shifted and rng.random() < 0.08:
                route = self.route(avoid=before)  # now and then a one-off detour
            size = rng.randrange(4 if mixing_trip else 2, 6)
            mixing_trip = False
            group = [stock.pop() for _ in range(min(size, len(stock)))]
            if len(group) < 2:
                break
            self.trip(network, route, day, group, recruits, escort, escort_document)
            day += timedelta(days=max(1, round(rng.gauss(cadence, 1.5))))
        network.routes = [{"route": before}, *([{"route": after}] if after != before else [])]
        if shift_week is not None and after != before:
            network.shifts.append(
                {
                    "week": shift_week,
                    "date": (spec.start + timedelta(weeks=shift_week)).isoformat(),
                    "before": before,
                    "after": after,
                }
            )
        self.networks.append(network)

    def trip(
        self,
        network: PlantedNetwork,
        route: list[str],
        day: date,
        group: list[TravelDocument],
        recruits: str,
        escort: Person | None,
        escort_document: TravelDocument | None,
    ) -> None:
        rng = self.rng
        ref = self.booking()
        network.bookings.append(ref)
        network.trips += 1
        travellers: list[tuple[Person, TravelDocument]] = []
        for document in group:
            person = self.person(document.issuing_country or recruits)
            travellers.append((person, document))
            network.documents.append((document.number, document.issuing_country or ""))
            network.travellers.append(f"{person.surname}, {person.given_names}")
        if escort is not None and escort_document is not None and rng.random() < 0.7:
            seen = Person(
                self.spelling(escort.surname) if rng.random() < 0.4 else escort.surname,
                escort.given_names,
                escort.birth_date,
                escort.nationality,
                escort.sex,
            )
            travellers.append((seen, escort_document))
        arrived: datetime | None = None
        leg_day = day
        for leg in itertools.pairwise(route):
            flight = self.flight(leg, leg_day)
            # A connection leaves after the inbound flight lands (next day if need be).
            while arrived is not None and _departure(flight) < arrived + timedelta(hours=1):
                leg_day += timedelta(days=1)
                flight = self.flight(leg, leg_day)
            for person, document in travellers:
                self.board(flight, person, document, ref)
            arrived = flight.manifest.arrival_at
            leg_day += timedelta(days=rng.choice((0, 0, 1)))

    # -- lone impostors ----------------------------------------------------------------

    def impostor(self, number: int) -> None:
        rng, spec = self.rng, self.spec
        issuer = _BY_COUNTRY[rng.choice(_STOLEN_FROM)]
        document_number = self.registry.unique_number(issuer)
        lost_on = spec.start - timedelta(days=rng.randrange(30, 400))
        record = self._issued_record(issuer, document_number, lost_on, None, status="lost")
        if rng.random() < 0.5:
            record["incident_ref"] = (
                f"{issuer.country}-{lost_on.year}-L{rng.randrange(10**5, 10**6)}"
            )
        self.records.append(record)
        holder = Person(
            record["holder_surname"],
            record["holder_given_names"],
            record["holder_birth_date"],
            issuer.country,
            rng.choice("MF"),
        )
        document = self._document(issuer, document_number)
        self.lone.append({"document_number": document_number, "issuing_country": issuer.country})
        day = spec.start + timedelta(days=rng.randrange(spec.weeks * 7))
        if number % 4 == 3:
            post = rng.choice(OTHER_POSTS)
            at = datetime.combine(day, time(rng.randrange(6, 22)), UTC)
            self.screenings.append(
                {
                    "document_number": document_number,
                    "issuing_country": issuer.country,
                    "location": post.code,
                    "at": at.isoformat(),
                }
            )
            return
        leg = rng.choice(self.legs)
        for _ in range(rng.choice((1, 1, 2))):
            self.board(self.flight(leg, day), holder, document, self.booking())
            day += timedelta(days=rng.randrange(9, 40))
            if day >= spec.start + timedelta(weeks=spec.weeks):
                break
            leg = (leg[1], leg[0])

    def build(self) -> None:
        self.records.extend(
            self.registry.records(
                self.spec.background_records, ranges=self.spec.background_records // 200
            )
        )
        self.schedule()
        for number in range(self.spec.networks):
            self.network(number)
        for number in range(self.spec.lone_impostors):
            self.impostor(number)

    # -- files -------------------------------------------------------------------------

    def truth(self) -> dict[str, Any]:
        return {
            "seed": self.spec.seed,
            "start": self.spec.start.isoformat(),
            "weeks": self.spec.weeks,
            "networks": [
                {
                    "id": n.id,
                    "thefts": n.thefts,
                    "trips": n.trips,
                    "bookings": n.bookings,
                    "documents": [
                        {"document_number": d, "issuing_country": c} for d, c in n.documents
                    ],
                    "travellers": n.travellers,
                    "routes": n.routes,
                    "shifts": n.shifts,
                }
                for n in self.networks
            ],
            "lone_impostors": self.lone,
        }

    def write(self, out: Path) -> dict[str, int]:
        out.mkdir(parents=True, exist_ok=True)
        manifests = out / "manifests"
        manifests.mkdir(exist_ok=True)
        for old in manifests.glob("*.edi"):
            old.unlink()
        with (out / "records.jsonl").open("wb") as file:
            for row in self.records:
                file.write(orjson.dumps(row) + b"\n")
        flights = sorted(self.flights.values(), key=_departure)
        for number, flight in enumerate(flights, 1):
            leaving = _departure(flight)
            name = f"{leaving:%Y%m%dT%H%M}-{flight.manifest.flight}-{flight.leg[0]}-{flight.leg[1]}"
            envelope = Envelope(
                sender=f"{flight.manifest.carrier}AIR",
                control_ref=f"{number:09d}",
                prepared_at=leaving - timedelta(hours=1),
            )
            (manifests / f"{name}.edi").write_text(write_paxlst(flight.manifest, envelope))
        with (out / "screenings.jsonl").open("wb") as file:
            for screening in sorted(self.screenings, key=lambda s: str(s["at"])):
                file.write(orjson.dumps(screening) + b"\n")
        posts = [post.as_json() for post in (*AIRPORTS, *OTHER_POSTS)]
        countries = sorted({issuer.country for issuer in ISSUERS} | {p["country"] for p in posts})
        world = {
            "seed": self.spec.seed,
            "start": self.spec.start.isoformat(),
            "weeks": self.spec.weeks,
            "posts": posts,
            "bureaus": countries,
        }
        (out / "world.json").write_bytes(orjson.dumps(world, option=orjson.OPT_INDENT_2))
        (out / "truth.json").write_bytes(orjson.dumps(self.truth(), option=orjson.OPT_INDENT_2))
        travellers = sum(len(f.manifest.travellers) for f in flights)
        return {
            "records": len(self.records),
            "flights": len(flights),
            "travellers": travellers,
            "networks": len(self.networks),
            "lone_impostors": len(self.lone),
        }


def _departure(flight: Flight) -> datetime:
    assert flight.manifest.departure_at is not None
    return flight.manifest.departure_at


def write_world(spec: WorldSpec, out: Path) -> dict[str, int]:
    """Generate the world of ``spec`` into ``out``; returns what was written, counted."""
    builder = WorldBuilder(spec)
    builder.build()
    return builder.write(out)


def border_posts() -> tuple[BorderPost, ...]:
    return (*AIRPORTS, *OTHER_POSTS)
