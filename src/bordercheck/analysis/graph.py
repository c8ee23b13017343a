"""The link graph: documents, records and their thefts, travellers and bookings, tied by the
evidence that ties them; kept current as flights, hits and records arrive.

Only what a hit makes suspect enters the graph: a document that hit a record (and that its
owner has not refuted), the record and the theft it was reported in, every traveller who
carried it, the bookings they travelled on and everyone else on those bookings. One
traveller seen on several flights, under several spellings, is one person node
(``people``). Flights and border posts stay on the travellers' seats, not in the graph:
every flight carries hundreds of strangers, so a flight is no link.

Each edge keeps its evidence: a list of short sentences a person can check against the
hit cases, the records and the stored passenger lists.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import networkx as nx

from bordercheck.analysis.people import People
from bordercheck.analysis.rows import HitRow, Leg, RecordRow, Seat

# Two seats under one booking reference are one booking when they fly within this of each
# other: references are reused by airlines after a while, and by chance across airlines.
BOOKING_WINDOW = timedelta(days=3)
Document = tuple[str, str]  # (issuing country, number)


def document_node(document: Document) -> str:
    return f"document:{document[0]}:{document[1]}"


@dataclass
class _Booking:
    node: str
    first: datetime | None
    last: datetime | None


@dataclass
class LinkGraph:
    graph: nx.Graph = field(default_factory=nx.Graph)
    legs: dict[int, Leg] = field(default_factory=dict)
    seats: dict[int, Seat] = field(default_factory=dict)
    records: dict[int, RecordRow] = field(default_factory=dict)
    hits: dict[int, HitRow] = field(default_factory=dict)
    people: People = field(default_factory=People)
    by_booking: defaultdict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    # A document's seat, or seats once seen twice: most documents fly once, and a list for
    # each of a million would cost more than the rest of the index.
    by_document: dict[Document, int | list[int]] = field(default_factory=dict)
    by_query: dict[str, int] = field(default_factory=dict)
    hits_of: dict[Document, list[int]] = field(default_factory=dict)
    seat_person: dict[int, int] = field(default_factory=dict)
    seat_booking: dict[int, str] = field(default_factory=dict)
    bookings: dict[str, list[_Booking]] = field(default_factory=dict)
    person_seats: dict[str, list[int]] = field(default_factory=dict)
    hit_node: dict[int, str] = field(default_factory=dict)
    first_day: date | None = None
    last_day: date | None = None
    # Nodes changed since the networks were last described: only their networks are again.
    touched: set[str] = field(default_factory=set)
    # A hit refuted after its document entered the graph: the next read rebuilds.
    stale: bool = False
    version: int = 0

    # -- arrivals ------------------------------------------------------------------------

    def add_legs(self, legs: Iterable[Leg]) -> None:
        for leg in legs:
            self.legs[leg.id] = leg
            if leg.departs is not None:
                day = leg.departs.date()
                if self.first_day is None or day < self.first_day:
                    self.first_day = day
                if self.last_day is None or day > self.last_day:
                    self.last_day = day

    def add_records(self, records: Iterable[RecordRow]) -> None:
        for record in records:
            known = self.records.get(record.id)
            self.records[record.id] = record
            node = f"record:{record.id}"
            if known is not None and node in self.graph:
                self.graph.nodes[node].update(_record_attributes(record))
                self.touched.add(node)
                if known.incident != record.incident:
                    self.stale = True

    def add_seats(self, seats: Iterable[Seat]) -> None:
        arrived = []
        known, by_booking, by_document = self.seats, self.by_booking, self.by_document
        for seat in seats:
            if seat.id in known:
                continue
            known[seat.id] = seat
            arrived.append(seat)
            if seat.booking:
                by_booking[seat.booking].append(seat.id)
            if seat.document_number:
                document = (seat.issuing_country or "", seat.document_number)
                seen = by_document.get(document)
                if seen is None:
                    by_document[document] = seat.id
                elif isinstance(seen, int):
                    by_document[document] = [seen, seat.id]
                else:
                    seen.append(seat.id)
            if seat.query_id:
                self.by_query[seat.query_id] = seat.id
        if not self.hits_of:
            return  # nothing is suspect yet: nothing to place
        for seat in arrived:
            if seat.document in self.hits_of or self._in_suspect_booking(seat):
                self._place(seat)

    def seats_with(self, document: Document) -> list[int]:
        seen = self.by_document.get(document)
        if seen is None:
            return []
        return [seen] if isinstance(seen, int) else seen

    def add_hits(self, hits: Iterable[HitRow]) -> None:
        for hit in hits:
            known = self.hits.get(hit.id)
            self.hits[hit.id] = hit
            if known is not None:
                if hit.refuted and not known.refuted:
                    self.stale = True
                if (hit.answer, hit.outcome) != (known.answer, known.outcome):
                    self.version += 1
                    if hit.id in self.hit_node:
                        self.touched.add(self.hit_node[hit.id])
                continue
            if hit.refuted:
                continue
            self._suspect(hit)

    # -- placing what a hit makes suspect -----------------------------------------------

    def _suspect(self, hit: HitRow) -> None:
        seat = self.seats.get(self.by_query.get(hit.query_id, -1))
        document = seat.document if seat is not None else None
        if document is None:
            if not hit.document_number:
                return
            document = (hit.issuing_country or "", hit.document_number)
        record = self.records.get(hit.record_id)
        if record is None:
            return
        self.version += 1
        node = document_node(document)
        self.hit_node[hit.id] = node
        self.touched.add(node)
        first = document not in self.hits_of
        self.hits_of.setdefault(document, []).append(hit.id)
        graph = self.graph
        if first:
            graph.add_node(
                node, kind="document", document_number=document[1], issuing_country=document[0]
            )
        record_node = f"record:{record.id}"
        if record_node not in graph:
            graph.add_node(record_node, kind="record", **_record_attributes(record))
            if record.incident:
                incident = f"incident:{record.incident}"
                graph.add_node(incident, kind="incident", reference=record.incident)
                self._link(record_node, incident, "reported_in", _reported(record))
        where = hit.location or (
            self.legs[hit.manifest_id].flight if hit.manifest_id in self.legs else None
        )
        said = f"; owner answered {hit.answer.replace('_', ' ')}" if hit.answer else ""
        self._link(
            node,
            record_node,
            "hit_record",
            f"hit {hit.id}: {hit.match} match on {record.label} "
            f"({hit.at:%Y-%m-%d}{', ' + where if where else ''}){said}",
        )
        if first:
            for seat_id in self.seats_with(document):
                seat = self.seats[seat_id]
                if seat.id in self.seat_person:
                    # Placed before, beside someone else's suspect document: now it is one.
                    self._carried(seat)
                else:
                    self._place(seat)

    def _place(self, seat: Seat) -> None:
        if seat.id in self.seat_person:
            return
        self.version += 1
        leg = self.legs.get(seat.leg)
        when = leg.departs if leg else None
        resolved = self.people.resolve(seat.id, seat.name, seat.birth_date, seat.nationality)
        person = f"person:{resolved.person.id}"
        self.seat_person[seat.id] = resolved.person.id
        self.person_seats.setdefault(person, []).append(seat.id)
        self.touched.add(person)
        graph = self.graph
        if resolved.new:
            graph.add_node(
                person,
                kind="traveller",
                name=seat.name,
                birth_date=_iso(seat.birth_date),
                nationality=seat.nationality or "",
                aliases=[],
            )
        elif resolved.matched_name and resolved.matched_name != seat.name:
            aliases = graph.nodes[person]["aliases"]
            alias = (
                f"{seat.name} (seat {seat.id}) is {resolved.matched_name}: name score "
                f"{resolved.score:.0f}, born {_iso(seat.birth_date)}, {seat.nationality}"
            )
            if alias not in aliases:
                aliases.append(alias)
        self._carried(seat)
        if seat.booking:
            booking = self._booking(seat.booking, when)
            self.seat_booking[seat.id] = booking
            self._link(person, booking, "booked", f"booked {seat.booking} {_trip(seat, leg)}")
            for other in self.by_booking.get(seat.booking, []):
                if other not in self.seat_person and self._same_booking(other, when):
                    self._place(self.seats[other])

    def _carried(self, seat: Seat) -> None:
        if seat.document is None or seat.document not in self.hits_of:
            return
        person = f"person:{self.seat_person[seat.id]}"
        trip = _trip(seat, self.legs.get(seat.leg))
        self._link(person, document_node(seat.document), "carried", f"carried {trip}")

    def _booking(self, reference: str, when: datetime | None) -> str:
        clusters = self.bookings.setdefault(reference, [])
        for booking in clusters:
            if when is None or booking.first is None or booking.last is None:
                if when is None and booking.first is None:
                    return booking.node
                continue
            if booking.first - BOOKING_WINDOW <= when <= booking.last + BOOKING_WINDOW:
                booking.first, booking.last = min(booking.first, when), max(booking.last, when)
                return booking.node
        node = f"booking:{reference}:{len(clusters) + 1}"
        clusters.append(_Booking(node, when, when))
        self.graph.add_node(node, kind="booking", reference=reference)
        return node

    def _same_booking(self, seat_id: int, when: datetime | None) -> bool:
        leg = self.legs.get(self.seats[seat_id].leg)
        other = leg.departs if leg else None
        if when is None or other is None:
            return when is None and other is None
        return abs(other - when) <= BOOKING_WINDOW

    def _in_suspect_booking(self, seat: Seat) -> bool:
        if not seat.booking or seat.booking not in self.bookings:
            return False
        leg = self.legs.get(seat.leg)
        when = leg.departs if leg else None
        for booking in self.bookings[seat.booking]:
            if when is None or booking.first is None or booking.last is None:
                continue
            if booking.first - BOOKING_WINDOW <= when <= booking.last + BOOKING_WINDOW:
                return True
        return False

    def _link(self, a: str, b: str, kind: str, evidence: str) -> None:
        self.touched.update((a, b))
        if self.graph.has_edge(a, b):
            said: list[str] = self.graph.edges[a, b]["evidence"]
            if evidence not in said:
                said.append(evidence)
        else:
            self.graph.add_edge(a, b, kind=kind, evidence=[evidence])


def _record_attributes(record: RecordRow) -> dict[str, Any]:
    return {
        "document_number": record.document_number,
        "serial_end": record.serial_end or "",
        "issuing_country": record.issuing_country,
        "status": record.status,
        "blank": record.blank,
        "event_date": _iso(record.event_date),
        "event_place": record.event_place or "",
        "incident_ref": record.incident_ref or "",
        "active": record.active,
    }


def _reported(record: RecordRow) -> str:
    what = "blank range" if record.serial_end else "record"
    when = f" on {record.event_date.isoformat()}" if record.event_date else ""
    where = f" at {record.event_place}" if record.event_place else ""
    if record.incident_ref:
        return (
            f"{what} {record.label} reported {record.status}{when}{where} in incident "
            f"{record.incident_ref}"
        )
    return (
        f"{what} {record.label} reported {record.status}{when}{where} (no incident reference: "
        "same country, day and place)"
    )


def _trip(seat: Seat, leg: Leg | None) -> str:
    if leg is None:
        return f"(seat {seat.id})"
    when = f" on {leg.departs:%Y-%m-%d}" if leg.departs else ""
    return (
        f"on flight {leg.flight or '?'} {leg.departure or '?'}→{leg.arrival or '?'}{when}"
        f"{', seat ' + seat.seat if seat.seat else ''}"
    )


def _iso(day: Any) -> str:
    return day.isoformat() if day is not None else ""
