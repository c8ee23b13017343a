"""Networks, their trips and routes, ranked: what the link graph says, computed on demand.

A network is a connected part of the link graph holding at least two suspect documents:
documents tied by a shared theft (record, range or incident), by a shared booking, or by
one traveller carrying both. A document alone in its part (a lone impostor) is no network.

Ranking, stated: score = documents + 2 × hits confirmed by the owner + 3 × trips in the
last 28 days of the data + growth (documents first seen in those 28 days, less those of
the 28 before, when more); ties go to the most recently seen.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

import networkx as nx

from bordercheck.analysis.graph import Document, LinkGraph
from bordercheck.analysis.rows import Leg
from bordercheck.analysis.shifts import Shift, detect_shifts

RECENT = timedelta(days=28)
CONNECTION = timedelta(days=2)


@dataclass(frozen=True)
class Trip:
    key: str  # the booking node, or seat:ID for a traveller without a booking
    day: date
    route: tuple[str, ...]
    legs: tuple[int, ...]

    @property
    def label(self) -> str:
        return route_label(self.route)


@dataclass
class Network:
    id: str
    nodes: set[str]
    documents: list[Document]
    travellers: list[str]
    bookings: list[str]
    records: list[int]
    incidents: list[str]
    hits: list[int]
    confirmed: int
    owners: set[str]
    trips: list[Trip] = field(default_factory=list)
    shifts: list[Shift] = field(default_factory=list)
    first_seen_of: dict[Document, date] = field(default_factory=dict)
    first_seen: date | None = None
    last_seen: date | None = None
    recent_trips: int = 0
    growth: int = 0
    score: float = 0.0
    rank: int = 0

    @property
    def legs(self) -> list[int]:
        return sorted({leg for trip in self.trips for leg in trip.legs})


class Picture:
    """Everything the API and the report show, from one version of the graph. The networks
    are described at once; the routes of all hits when first asked for."""

    def __init__(self, links: LinkGraph, networks: list[Network]) -> None:
        self.links = links
        self.networks = networks
        self.by_id = {n.id: n for n in networks}
        self.first, self.latest = links.first_day, links.last_day
        self.version = links.version

    @functools.cached_property
    def _hits(
        self,
    ) -> tuple[dict[str, Counter[date]], dict[str, dict[str, Counter[date]]], Counter[str]]:
        return _hit_routes(self.links, all_trips(self.links, self.links.seat_person))

    @property
    def hit_routes(self) -> dict[str, Counter[date]]:
        """Route → Monday of the week → hits."""
        return self._hits[0]

    @property
    def hit_routes_by_bureau(self) -> dict[str, dict[str, Counter[date]]]:
        """The same, for each bureau that owns the record hit or made the hit."""
        return self._hits[1]

    @property
    def hits_by_post(self) -> Counter[str]:
        return self._hits[2]


def route_label(route: tuple[str, ...]) -> str:
    return " → ".join(route)


def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def route_of(legs: list[Leg]) -> tuple[str, ...]:
    ordered = sorted(legs, key=lambda leg: (leg.departs is None, leg.departs, leg.id))
    codes: list[str] = []
    for leg in ordered:
        if leg.departure and (not codes or codes[-1] != leg.departure):
            codes.append(leg.departure)
        if leg.arrival:
            codes.append(leg.arrival)
    return tuple(codes)


def _trip(links: LinkGraph, key: str, seat_ids: list[int]) -> Trip | None:
    legs = {links.seats[s].leg for s in seat_ids}
    known = [links.legs[leg] for leg in legs if leg in links.legs]
    days = [leg.departs.date() for leg in known if leg.departs is not None]
    if not known or not days:
        return None
    ordered = sorted(leg.id for leg in known)
    return Trip(key, min(days), route_of(known), tuple(ordered))


def all_trips(links: LinkGraph, placed: Iterable[int]) -> dict[int, Trip]:
    """Each placed seat's trip: the seats of one booking, and a person's connecting flights
    booked apart (landing where the next leaves, within ``CONNECTION``), together."""
    parent = {seat: seat for seat in placed}

    def find(seat: int) -> int:
        while parent[seat] != seat:
            parent[seat] = parent[parent[seat]]
            seat = parent[seat]
        return seat

    first_seat: dict[str, int] = {}
    persons: dict[int, list[int]] = {}
    for seat in parent:
        persons.setdefault(links.seat_person[seat], []).append(seat)
        booking = links.seat_booking.get(seat)
        if booking is None:
            continue
        if booking in first_seat:
            parent[find(seat)] = find(first_seat[booking])
        else:
            first_seat[booking] = seat
    for seats in persons.values():
        flown = [
            (links.legs[links.seats[s].leg], s) for s in seats if links.seats[s].leg in links.legs
        ]
        flown = [(leg, s) for leg, s in flown if leg.departs is not None]
        flown.sort(key=lambda pair: (pair[0].departs, pair[1]))
        for (before, a), (after, b) in itertools.pairwise(flown):
            gap = after.departs - before.departs  # type: ignore[operator]  # None filtered
            if before.arrival == after.departure and timedelta(0) < gap <= CONNECTION:
                parent[find(b)] = find(a)
    groups: dict[int, list[int]] = {}
    for seat in parent:
        groups.setdefault(find(seat), []).append(seat)
    trips: dict[int, Trip] = {}
    for seats in groups.values():
        bookings = sorted({links.seat_booking[s] for s in seats if s in links.seat_booking})
        key = bookings[0] if bookings else f"seat:{min(seats)}"
        trip = _trip(links, key, seats)
        if trip is not None:
            for seat in seats:
                trips[seat] = trip
    return trips


def _network_id(documents: list[Document]) -> str:
    first = min(documents)
    return "N-" + hashlib.sha256(f"{first[0]}:{first[1]}".encode()).hexdigest()[:8].upper()


def picture(links: LinkGraph, previous: Picture | None = None) -> Picture:
    """The networks, ranked. A network of ``previous`` none of whose nodes changed since is
    taken as it was: a flight that arrives costs the networks it touches, not all of them."""
    graph = links.graph
    touched, links.touched = links.touched, set()
    reusable = {} if previous is None else {frozenset(n.nodes): n for n in previous.networks}
    networks: list[Network] = []
    for component in nx.connected_components(graph):
        documents = [n for n in component if graph.nodes[n]["kind"] == "document"]
        if len(documents) < 2:
            continue
        old = reusable.get(frozenset(component))
        if old is not None and touched.isdisjoint(component):
            networks.append(old)
            continue
        networks.append(_describe(links, component))
    latest = links.last_day
    for network in networks:
        _score(network, latest)
    networks.sort(key=lambda n: (-n.score, -(n.last_seen or date.min).toordinal(), n.id))
    for rank, network in enumerate(networks, 1):
        network.rank = rank
    return Picture(links, networks)


def _describe(links: LinkGraph, component: set[str]) -> Network:
    graph = links.graph
    documents = sorted(
        (graph.nodes[n]["issuing_country"], graph.nodes[n]["document_number"])
        for n in component
        if graph.nodes[n]["kind"] == "document"
    )
    hits = sorted(h for d in documents for h in links.hits_of.get(d, []))
    records = sorted(int(n.split(":")[1]) for n in component if n.startswith("record:"))
    travellers = sorted(n for n in component if n.startswith("person:"))
    network = Network(
        id=_network_id(documents),
        nodes=set(component),
        documents=documents,
        travellers=travellers,
        bookings=sorted(n for n in component if n.startswith("booking:")),
        records=records,
        incidents=sorted(
            graph.nodes[n]["reference"] for n in component if n.startswith("incident:")
        ),
        hits=hits,
        confirmed=sum(1 for h in hits if links.hits[h].confirmed),
        owners={links.records[r].issuing_country for r in records if r in links.records},
    )
    seats = [s for person in travellers for s in links.person_seats.get(person, [])]
    network.trips = sorted(set(all_trips(links, seats).values()), key=lambda t: (t.day, t.key))
    if network.trips:
        network.first_seen, network.last_seen = network.trips[0].day, network.trips[-1].day
        network.shifts = detect_shifts(
            [t.day for t in network.trips],
            [t.label for t in network.trips],
            seed=int(network.id[2:], 16),
        )
    wanted = set(documents)
    for seat_id in seats:
        seat = links.seats[seat_id]
        leg = links.legs.get(seat.leg)
        if seat.document not in wanted or leg is None or leg.departs is None:
            continue
        assert seat.document is not None
        day = leg.departs.date()
        if seat.document not in network.first_seen_of or day < network.first_seen_of[seat.document]:
            network.first_seen_of[seat.document] = day
    return network


def _score(network: Network, latest: date | None) -> None:
    if latest is not None:
        seen = network.first_seen_of.values()
        recent = sum(1 for d in seen if d > latest - RECENT)
        before = sum(1 for d in seen if latest - 2 * RECENT < d <= latest - RECENT)
        network.growth = max(0, recent - before)
        network.recent_trips = sum(1 for t in network.trips if t.day > latest - RECENT)
    network.score = (
        len(network.documents) + 2 * network.confirmed + 3 * network.recent_trips + network.growth
    )


def _hit_routes(
    links: LinkGraph, trips: dict[int, Trip]
) -> tuple[dict[str, Counter[date]], dict[str, dict[str, Counter[date]]], Counter[str]]:
    routes: dict[str, Counter[date]] = {}
    by_bureau: dict[str, dict[str, Counter[date]]] = {}
    posts: Counter[str] = Counter()
    for hit in links.hits.values():
        if hit.refuted:
            continue
        seat_id = links.by_query.get(hit.query_id)
        trip = trips.get(seat_id) if seat_id is not None else None
        post = hit.location
        if seat_id is not None:
            leg = links.legs.get(links.seats[seat_id].leg)
            post = leg.arrival if leg else post
        if post:
            posts[post] += 1
        if trip is not None:
            label, day = trip.label, trip.day
        elif hit.location:
            label, day = hit.location, hit.at.date()
        else:
            continue
        routes.setdefault(label, Counter())[week_of(day)] += 1
        for bureau in {hit.owner, hit.querying}:
            by_bureau.setdefault(bureau, {}).setdefault(label, Counter())[week_of(day)] += 1
    return routes, by_bureau, posts
