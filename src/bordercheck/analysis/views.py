"""What each reader sees of the picture, as JSON: networks, one network with its evidence,
routes by week, shifts.

Analysts, administrators and the secretariat's bureau see every network. A bureau officer
sees the networks that touch its country's records; in them, a record another owner
withholds from that country is shown restricted (``auth.policy``), and so are the documents
that hit it, the travellers who carried them and the links' evidence about them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from bordercheck.analysis.graph import Document, LinkGraph, document_node
from bordercheck.analysis.networks import Network, Picture, week_of
from bordercheck.analysis.shifts import ALPHA, PERMUTATIONS, Shift
from bordercheck.auth.models import Role
from bordercheck.auth.policy import details_withheld, restricted_notice

# A route is said to appear (disappear) when first (last) seen this long after the data's
# first week (before its last).
EDGE_WEEKS = 2


@dataclass(frozen=True)
class Viewer:
    role: Role
    bureau: str
    secretariat: str

    @property
    def sees_all(self) -> bool:
        return self.role in (Role.ADMIN, Role.ANALYST) or self.bureau == self.secretariat


def visible(picture: Picture, viewer: Viewer | None) -> list[Network]:
    if viewer is None or viewer.sees_all:
        return picture.networks
    return [n for n in picture.networks if viewer.bureau in n.owners]


def _hidden(links: LinkGraph, network: Network, viewer: Viewer | None) -> dict[str, str]:
    """Nodes of ``network`` the viewer may not see, with the notice to show instead."""
    if viewer is None or viewer.sees_all:
        return {}
    graph = links.graph
    hidden: dict[str, str] = {}
    for record_id in network.records:
        record = links.records.get(record_id)
        if record is None or not details_withheld(
            viewer.bureau, record.issuing_country, record.withheld_from, viewer.secretariat
        ):
            continue
        notice = restricted_notice(record.issuing_country)
        node = f"record:{record_id}"
        hidden[node] = notice
        for document in graph.neighbors(node):
            if graph.nodes[document]["kind"] == "document":
                hidden[document] = notice
    for person in network.travellers:
        documents = [n for n in graph.neighbors(person) if graph.nodes[n]["kind"] == "document"]
        if documents and all(d in hidden for d in documents):
            hidden[person] = hidden[documents[0]]
    return hidden


def _document(document: Document, hidden: dict[str, str]) -> dict[str, Any]:
    notice = hidden.get(document_node(document))
    if notice:
        return {"document_number": None, "issuing_country": document[0], "restricted": notice}
    return {"document_number": document[1], "issuing_country": document[0]}


def _routes(network: Network) -> list[dict[str, Any]]:
    counted = Counter(t.label for t in network.trips)
    return [{"route": route, "trips": trips} for route, trips in counted.most_common()]


def network_summary(network: Network, hidden: dict[str, str]) -> dict[str, Any]:
    return {
        "id": network.id,
        "rank": network.rank,
        "score": network.score,
        "size": len(network.documents),
        "sizes": {
            "documents": len(network.documents),
            "travellers": len(network.travellers),
            "bookings": len(network.bookings),
            "flights": len(network.legs),
        },
        "documents": [_document(d, hidden) for d in network.documents],
        "thefts": network.incidents if not hidden else [],
        "first_seen": _iso(network.first_seen),
        "last_seen": _iso(network.last_seen),
        "hits": len(network.hits),
        "hits_confirmed": network.confirmed,
        "recent_trips": network.recent_trips,
        "growth": network.growth,
        "routes": _routes(network),
        "shifts": len(network.shifts),
    }


def networks_json(
    links: LinkGraph, picture: Picture, viewer: Viewer | None
) -> list[dict[str, Any]]:
    return [network_summary(n, _hidden(links, n, viewer)) for n in visible(picture, viewer)]


def network_detail(
    links: LinkGraph, picture: Picture, network: Network, viewer: Viewer | None
) -> dict[str, Any]:
    graph = links.graph
    hidden = _hidden(links, network, viewer)
    names: dict[str, str] = {}
    for number, node in enumerate(sorted(hidden), 1):
        names[node] = f"restricted:{number}"

    def name(node: str) -> str:
        return names.get(node, node)

    travellers: list[dict[str, Any]] = []
    for person in network.travellers:
        attributes = graph.nodes[person]
        if person in hidden:
            travellers.append({"id": name(person), "restricted": hidden[person]})
            continue
        travellers.append(
            {
                "id": person,
                "name": attributes["name"],
                "birth_date": attributes["birth_date"] or None,
                "nationality": attributes["nationality"] or None,
                "also_seen_as": list(attributes["aliases"]),
            }
        )
    records: list[dict[str, Any]] = []
    for record_id in network.records:
        node = f"record:{record_id}"
        if node in hidden:
            records.append({"id": name(node), "restricted": hidden[node]})
            continue
        r = links.records[record_id]
        records.append(
            {
                "id": node,
                "record_id": r.id,
                "document_number": r.document_number,
                "serial_end": r.serial_end,
                "issuing_country": r.issuing_country,
                "status": r.status,
                "blank": r.blank,
                "event_date": _iso(r.event_date),
                "event_place": r.event_place,
                "incident_ref": r.incident_ref,
            }
        )
    links_out = []
    for a, b, data in graph.subgraph(network.nodes).edges(data=True):
        notice = hidden.get(a) or hidden.get(b)
        links_out.append(
            {
                "source": name(a),
                "target": name(b),
                "kind": data["kind"],
                "evidence": [notice] if notice else list(data["evidence"]),
            }
        )
    links_out.sort(key=lambda link: (link["kind"], link["source"], link["target"]))
    flights = [
        {
            "manifest_id": leg.id,
            "flight": leg.flight,
            "departure": leg.departure,
            "arrival": leg.arrival,
            "departs": leg.departs.isoformat() if leg.departs else None,
        }
        for leg in (links.legs[i] for i in network.legs)
    ]
    bookings = []
    for booking in network.bookings:
        members = [name(p) for p in graph.neighbors(booking)]
        bookings.append(
            {
                "id": booking,
                "reference": graph.nodes[booking]["reference"],
                "travellers": sorted(members),
            }
        )
    return network_summary(network, hidden) | {
        "travellers": travellers,
        "bookings": bookings,
        "flights": flights,
        "records": records,
        "thefts": [] if hidden else network.incidents,
        "links": links_out,
        "trips": [
            {"date": t.day.isoformat(), "route": t.label, "trip": t.key, "flights": list(t.legs)}
            for t in network.trips
        ],
        "shifts": [shift_json(network, s) for s in network.shifts],
    }


def shift_json(network: Network, shift: Shift) -> dict[str, Any]:
    trips = network.trips
    around = trips[max(0, shift.at - 3) : shift.at + 3]
    return {
        "network_id": network.id,
        "detected_on": shift.detected_on.isoformat(),
        "week": week_of(shift.detected_on).isoformat(),
        "before": [{"route": r, "posts": r.split(" → "), "trips": n} for r, n in shift.before],
        "after": [{"route": r, "posts": r.split(" → "), "trips": n} for r, n in shift.after],
        "evidence": {
            "test": f"permutation test of the largest likelihood-ratio G over splits "
            f"({PERMUTATIONS} reorderings), shift when p ≤ {ALPHA} and the most used "
            "route differs",
            "statistic": round(shift.statistic, 2),
            "p_value": shift.p_value,
            "trips_before": shift.trips_before,
            "trips_after": shift.trips_after,
            "last_trips_before": [
                {"date": t.day.isoformat(), "route": t.label, "trip": t.key}
                for t in around
                if t.day < shift.detected_on
            ],
            "first_trips_after": [
                {"date": t.day.isoformat(), "route": t.label, "trip": t.key}
                for t in around
                if t.day >= shift.detected_on
            ],
        },
    }


def shifts_json(picture: Picture, viewer: Viewer | None) -> list[dict[str, Any]]:
    shifts = [shift_json(n, s) for n in visible(picture, viewer) for s in n.shifts]
    return sorted(shifts, key=lambda s: (s["detected_on"], s["network_id"]))


def _series(weekly: Counter[date], weeks: list[date]) -> dict[str, Any]:
    seen = sorted(weekly)
    first, last = seen[0], seen[-1]
    events = []
    if weeks and first > weeks[0] + timedelta(weeks=EDGE_WEEKS):
        events.append({"event": "appeared", "week": first.isoformat()})
    if weeks and last < weeks[-1] - timedelta(weeks=EDGE_WEEKS):
        events.append({"event": "disappeared", "week": (last + timedelta(weeks=1)).isoformat()})
    return {
        "first_week": first.isoformat(),
        "last_week": last.isoformat(),
        "total": sum(weekly.values()),
        "weekly": {w.isoformat(): weekly[w] for w in seen},
        "events": events,
    }


def routes_json(links: LinkGraph, picture: Picture, viewer: Viewer | None) -> dict[str, Any]:
    weeks = weeks_of(picture)
    hit_routes = picture.hit_routes
    if viewer is not None and not viewer.sees_all:
        hit_routes = picture.hit_routes_by_bureau.get(viewer.bureau, {})
    networks = []
    for network in visible(picture, viewer):
        by_route: dict[str, Counter[date]] = {}
        for trip in network.trips:
            by_route.setdefault(trip.label, Counter())[week_of(trip.day)] += 1
        networks.append(
            {
                "network_id": network.id,
                "routes": [
                    {"route": r, "posts": r.split(" → ")} | _series(c, weeks)
                    for r, c in sorted(by_route.items())
                ],
            }
        )
    return {
        "weeks": [w.isoformat() for w in weeks],
        "hits": sorted(
            (
                {"route": r, "posts": r.split(" → ")} | _series(c, weeks)
                for r, c in hit_routes.items()
            ),
            key=lambda x: -x["total"],
        ),
        "networks": networks,
    }


def weeks_of(picture: Picture) -> list[date]:
    if picture.first is None or picture.latest is None:
        return []
    week, last, weeks = week_of(picture.first), week_of(picture.latest), []
    while week <= last:
        weeks.append(week)
        week += timedelta(weeks=1)
    return weeks


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
